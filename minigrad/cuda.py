"""mg.cuda, as torch.cuda: ask whether a GPU can be used (through CuPy), seed it, wait for it;
and the old mg.cuda.FloatTensor & co.

Without a GPU, the questions answer (is_available() False, device_count() 0), seeding and
emptying the cache do nothing, and what needs a GPU (current_device, get_device_name,
synchronize) raises the error that says how to get one, as torch does.
"""

from . import backend
from .legacy import CUDA_TYPES

FloatTensor, DoubleTensor, HalfTensor = CUDA_TYPES["FloatTensor"], CUDA_TYPES["DoubleTensor"], CUDA_TYPES["HalfTensor"]
LongTensor, IntTensor, ShortTensor = CUDA_TYPES["LongTensor"], CUDA_TYPES["IntTensor"], CUDA_TYPES["ShortTensor"]
CharTensor, ByteTensor, BoolTensor = CUDA_TYPES["CharTensor"], CUDA_TYPES["ByteTensor"], CUDA_TYPES["BoolTensor"]


def is_available():
    """True when CuPy is installed and sees a GPU."""
    return backend.cuda_available()


def device_count():
    """How many GPUs CuPy sees (0 without CuPy or a GPU)."""
    return backend.gpu_count()


def current_device():
    """The index of the GPU in use."""
    return backend.current_gpu()


def set_device(device):
    """Make `device` (an index, 'cuda:1' or an mg.device) the GPU CuPy works on; as PyTorch, a
    negative index does nothing. Without a GPU: the CUDA help, as an error."""
    index = device if isinstance(device, int) else backend.Device(device).index or 0
    if index < 0:
        return
    backend.use_gpu(index)


def get_device_name(device=None):
    """The GPU's name; `device` is an index, 'cuda:1' or an mg.device (default: the current GPU)."""
    if device is not None and not isinstance(device, int):
        device = backend.Device(device).index
    return backend.gpu_name(device)


def manual_seed(seed):
    """Seed the GPU's random generator (nothing to seed without a GPU, as torch)."""
    if backend.cuda_available():
        backend.seed_device("cuda", seed)


manual_seed_all = manual_seed  # minigrad uses one GPU


def synchronize(device=None):
    """Wait until the GPU has finished all queued work (needed for timing)."""
    if not backend.cuda_available():
        raise RuntimeError(backend._CUDA_HELP)
    backend.synchronize("cuda")


def empty_cache():
    """Give the GPU memory CuPy keeps for reuse back to the driver."""
    backend.free_gpu_cache()


def is_initialized():
    return backend.cuda_available()


def max_memory_allocated(device=None):
    """Bytes held by CuPy's memory pool (the pool keeps freed blocks, so this is its peak)."""
    return backend.gpu_memory_peak() or 0
