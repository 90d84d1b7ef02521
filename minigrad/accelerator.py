"""mg.accelerator, as torch.accelerator: is there a GPU to run on, and which.

    device = mg.accelerator.current_accelerator() or mg.device("cpu")

minigrad's only accelerator is an NVIDIA GPU through CuPy, so these ask mg.cuda.
"""

from . import backend, cuda


def is_available():
    """True when a GPU can be used (CuPy installed and a GPU seen)."""
    return backend.cuda_available()


def current_accelerator(check_available=False):
    """mg.device('cuda') when minigrad can use a GPU, else None (as torch on a CPU-only machine).
    PyTorch's check_available is accepted: here the answer is always checked."""
    return backend.Device("cuda") if backend.cuda_available() else None


def device_count():
    """How many GPUs CuPy sees (0 without CuPy or a GPU)."""
    return backend.gpu_count()


def current_device_index():
    """The index of the GPU in use (0), or -1 without one, as torch.accelerator."""
    return backend.current_gpu() if backend.cuda_available() else -1


def set_device_index(device):
    """Make GPU `device` (an index, 'cuda:1', an mg.device) current, as torch.accelerator; needs a GPU."""
    cuda.set_device(device)


def synchronize(device=None):
    """Wait for the GPU's queued work to finish (nothing to wait for without one)."""
    if backend.cuda_available():
        backend.synchronize("cuda")
