"""Host memory: how minigrad asks the C allocator to keep freed memory for reuse.

A speed setting, not array logic, so it lives here rather than in backend.py.
"""

import ctypes
import os
import sys


def keep_freed_memory():
    """Ask glibc to keep freed memory for reuse instead of handing it back to the OS at once.

    Every training step frees and re-allocates arrays of the same sizes (activations,
    gradients). With glibc's defaults, large blocks are mapped and unmapped, and freed heap
    memory is trimmed, so each step page-faults its memory in again: that was a third of a
    batch-size-1 GAN step here. Like the caching allocators of deep-learning frameworks, we
    keep it: blocks up to 32 MB come from the heap, and up to 256 MB of free heap is kept.
    Done once, when minigrad is imported, on Linux with glibc; MINIGRAD_KEEP_FREED_MEMORY=0
    leaves the allocator alone. Returns True when the settings were applied.
    """
    if os.environ.get("MINIGRAD_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl): nothing to tune
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    return bool(libc.mallopt(m_mmap_threshold, 32 * 2**20)) and bool(libc.mallopt(m_trim_threshold, 256 * 2**20))


keep_freed_memory()

