"""mg.cuda: ask whether a GPU can be used (through CuPy); and the old mg.cuda.FloatTensor & co."""

from . import backend
from .legacy import CUDA_TYPES

FloatTensor, DoubleTensor, HalfTensor = CUDA_TYPES["FloatTensor"], CUDA_TYPES["DoubleTensor"], CUDA_TYPES["HalfTensor"]
LongTensor, IntTensor = CUDA_TYPES["LongTensor"], CUDA_TYPES["IntTensor"]
ByteTensor, BoolTensor = CUDA_TYPES["ByteTensor"], CUDA_TYPES["BoolTensor"]


def is_available():
    """True when CuPy is installed and sees a GPU."""
    return backend.cuda_available()


def max_memory_allocated():
    """Bytes held by CuPy's memory pool (the pool keeps freed blocks, so this is its peak)."""
    return backend.gpu_memory_peak() or 0
