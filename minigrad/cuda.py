"""mg.cuda: ask whether a GPU can be used (through CuPy)."""

from . import backend


def is_available():
    """True when CuPy is installed and sees a GPU."""
    return backend.cuda_available()


def max_memory_allocated():
    """Bytes held by CuPy's memory pool (the pool keeps freed blocks, so this is its peak)."""
    return backend.gpu_memory_peak() or 0
