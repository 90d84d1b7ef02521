"""Multi-core elementwise work: the one thread pool, and `for_blocks`, which ops call to use it.

NumPy releases the GIL inside its ufuncs, so Python threads that each run ufuncs on their
own slice of an array run on different cores at the same time. `for_blocks(n, fn)` cuts the
range 0..n into fixed, cache-sized blocks and calls `fn(start, stop)` once per block, on the
pool's threads and on the calling thread together; ops never manage threads themselves.

    from minigrad import parallel
    parallel.for_blocks(x.size, lambda start, stop: np.tanh(x[start:stop], out=y[start:stop]))

Deterministic: the blocks depend only on n (never on the number of threads), each block is
computed the same way whichever thread runs it, and `for_blocks` returns the blocks' results in
block order, so a reduction that adds them up in that order gives bit-identical results with
1 thread or 16. An array of one block runs inline on the calling thread, with no threading
cost at all (the batch-size-1 case).

The number of threads: MINIGRAD_NUM_THREADS, else OMP_NUM_THREADS (as PyTorch), else the
cores this process may run on; `set_num_threads(n)` changes it (and, as torch.set_num_threads
does for its own matmuls, limits NumPy's BLAS threads when threadpoolctl is installed).
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

# 128 K elements: 512 KB of float32 per operand. An update touching five arrays (Adam: value,
# gradient, two moments, a temporary) then keeps a block in the L3 cache, not the 1 MB L2; but
# each block costs a dozen NumPy calls of Python overhead, and with 4x fewer blocks the threads
# spend less of their time holding the GIL. Measured on the tutorial GAN's 2.9 M parameters (both
# Adam steps, idle 2-core machine): 32 K blocks 7.5 ms on 1 thread, 5.5 ms on 2; 128 K 6.5 and
# 3.8 ms; 512 K 6.5 and 4.7 ms (docs/performance.md).
BLOCK = 128 * 1024
# Below this many elements the blocks run in the calling thread: waking a helper thread costs more
# than the work (the book's batch-1 Adam steps, ~170 K parameters, went 1.9 -> 2.7 ms per iteration).
# The blocks are the same either way, so the results are too.
THREADED_MIN = 1024 * 1024


def _default_num_threads():
    for name in ("MINIGRAD_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value:
            try:
                return max(1, int(value))
            except ValueError:
                raise ValueError(f"{name} must be a whole number of threads, got {value!r}") from None
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_num_threads = _default_num_threads()
_pool = None                      # made on first use, with _num_threads - 1 workers
_pool_lock = threading.Lock()
_inside = threading.local()       # set while a thread runs a block: nested calls run inline


def get_num_threads():
    """How many threads elementwise work is spread over (torch.get_num_threads)."""
    return _num_threads


def set_num_threads(n):
    """Use n threads from now on (torch.set_num_threads); n = 1 runs everything inline."""
    global _num_threads, _pool
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive whole number, got {n!r}")
    with _pool_lock:
        old, _pool, _num_threads = _pool, None, n
    if old is not None:
        old.shutdown(wait=True)
    _limit_blas_threads(n)


def _limit_blas_threads(n):
    """NumPy's BLAS has its own threads; threadpoolctl (optional) is the portable way to set them."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=n, user_api="blas")


def _get_pool():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_num_threads - 1, thread_name_prefix="minigrad")
        return _pool


def blocks(n, block=None):
    """The fixed partition of range(n): [(0, block), (block, 2 block), ..., (., n)]; block defaults to BLOCK."""
    block = block or BLOCK
    return [(start, min(start + block, n)) for start in range(0, n, block)]


def for_blocks(n, fn, block=None):
    """Call fn(start, stop) for every block of range(n), over the pool; return the results in block order.

    `block` is a number of elements (default BLOCK); a caller may pass a multiple of its row length
    to keep rows whole.
    """
    parts = blocks(n, block)
    results = [None] * len(parts)
    threads = min(_num_threads, len(parts))
    if threads <= 1 or n < THREADED_MIN or getattr(_inside, "active", False):
        for i, (start, stop) in enumerate(parts):
            results[i] = fn(start, stop)
        return results

    claim_lock, next_block = threading.Lock(), [0]

    def work():
        # Each thread claims the next unclaimed block until none are left: a core that another
        # process slows down simply does fewer blocks.
        _inside.active = True
        try:
            while True:
                with claim_lock:
                    i = next_block[0]
                    next_block[0] += 1
                if i >= len(parts):
                    return
                results[i] = fn(*parts[i])
        finally:
            _inside.active = False

    pool = _get_pool()
    helpers = [pool.submit(work) for _ in range(threads - 1)]
    try:
        work()
    finally:
        for helper in helpers:
            helper.result()  # wait for all, and raise a helper's error here
    return results
