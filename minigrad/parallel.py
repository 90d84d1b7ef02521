"""Every core: the one thread pool, and the few calls through which ops use it.

NumPy releases the GIL inside its ufuncs and its BLAS calls, so Python threads that each work
on their own slice of an array run on different cores at the same time. Ops never manage
threads themselves; they call one of these:

    matmul(a, b)          a large product cut into pieces of output rows (or columns)
    matmuls(pair, pair)   several independent products (a backward pass's two) at once
    together(work, f, g)  independent calls at once (a layer's dL/dx and dL/dW); in a backward
                          pass, g's result is a Later, computed while the pass goes on
    for_blocks(n, fn)     fn(start, stop) over fixed, cache-sized blocks of range(n)
    for_rows(x, fn)       fn(rows) over fixed blocks of whole rows (samples) of x, or of
                          the indices of another axis (for_rows(x, fn, axis=1))
    spread_rows(x, fn)    the same for exact work: one call when it would run on one thread

    from minigrad import parallel
    parallel.spread_rows(x, lambda rows: np.tanh(x[rows], out=y[rows]))

Deterministic: the blocks and pieces depend only on the shapes (never on the number of
threads), each is computed the same way whichever thread runs it, and the blocks' results come
back in block order, so a reduction that adds them up in that order (add_in_order) gives
bit-identical results with 1 thread or 16. Work that would run on one thread anyway (a small
array, the batch-size-1 case) runs inline on the calling thread, with no threading cost.

The number of threads: MINIGRAD_NUM_THREADS, else OMP_NUM_THREADS (as PyTorch), else the
cores this process may run on; `set_num_threads(n)` changes it. From minigrad's first product
(or set_num_threads) on, NumPy's BLAS runs one thread per call, so the pool's threads are the
only ones competing for the cores.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

# 128 K elements: 512 KB of float32 per operand. An update touching five arrays (Adam: value,
# gradient, two moments, a temporary) then keeps a block in the L3 cache, not the 1 MB L2; but
# each block costs a dozen NumPy calls of Python overhead, and with 4x fewer blocks the threads
# spend less of their time holding the GIL. Measured on the tutorial GAN's 2.9 M parameters (both
# Adam steps, idle 2-core machine): 32 K blocks 7.5 ms on 1 thread, 5.5 ms on 2; 128 K 6.5 and
# 3.8 ms; 512 K 6.5 and 4.7 ms (docs/performance.md).
BLOCK = 128 * 1024
# Below this many elements the blocks run in the calling thread: waking a helper thread costs more
# than the work (the book's batch-1 Adam steps, ~170 K parameters: 2.7 ms an iteration through the pool,
# 1.9 ms inline).
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
_blas_held = False                # whether NumPy's BLAS has been held to one thread yet
_pool_lock = threading.Lock()
_inside = threading.local()       # set while a thread runs a block: nested calls run inline


def get_num_threads():
    """How many threads minigrad's work is spread over (torch.get_num_threads)."""
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
    _own_the_cores()


def _own_the_cores():
    """Hold NumPy's BLAS to one thread: the pool spreads the products over the cores (matmul).

    Left alone, OpenBLAS runs its own threads, which spin on the other cores for a while after
    each product; the pool's threads then share those cores with them (measured: the tutorial
    GAN's two Adam steps take 3.8 ms alone, but 10.5 ms inside a training step at 2 threads,
    and 5.2 ms with BLAS held to one thread). threadpoolctl is the portable way to reach the
    BLAS library NumPy loaded, whichever it is.
    """
    global _blas_held
    threadpool_limits(limits=1, user_api="blas")
    _blas_held = True


def _forget_the_pool():
    """In a child made by fork: the parent's pool threads do not exist here, so make a new pool
    on first use (waiting on the inherited one would hang)."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_the_pool)


def _get_pool():
    global _pool
    with _pool_lock:
        if _pool is None:
            _own_the_cores()
            _pool = ThreadPoolExecutor(max_workers=_num_threads - 1, thread_name_prefix="minigrad")
        return _pool


# A matrix product is cut into pieces of at least this many multiply-adds (~100 us on one core),
# and into at most MATMUL_PIECES pieces (shared among the products computed together): a piece's
# BLAS call repeats the packing of the operand that is not cut, so fewer, bigger pieces waste
# less, while an even count shares two cores evenly. Smaller products run whole.
MATMUL_BLOCK = 8 * 1024 * 1024
MATMUL_PIECES = 4
# In a backward pass that takes Laters (together), the caller does not wait for the other
# thread: handing a gradient over pays from far smaller products (the tutorial GAN's step: the same
# time from 1 M to 3 M multiply-adds, 4-6 % faster than at MATMUL_BLOCK).
LATER_MIN = 2 * 1024 * 1024


def together(work, *calls):
    """The calls' results, in order (None for a call that is None), the calls run at the same time
    over the pool (each whole, on one thread; work nested in them runs inline there) when there are
    several and `work` (their multiply-adds, say) is at least MATMUL_BLOCK each; else one after the
    other here, each free to use the pool itself. A backward pass's independent gradients (dL/dx
    and dL/dW) then share the cores as one job, as matmuls' products do.

    Inside a backward pass that takes gradients still being computed (later_results), only the
    first call runs here, and the others' results are Laters, computed on the pool's threads while
    the pass goes on: the first call (dL/dx) is what the pass needs next, and dL/dW is only added
    into .grad, which the pass does at its end."""
    wanted = [call for call in calls if call is not None]
    later = getattr(_later, "taken", False)
    if (len(wanted) < 2 or _num_threads == 1 or work < (LATER_MIN if later else MATMUL_BLOCK)
            or getattr(_inside, "active", False)):
        return [None if call is None else call() for call in calls]
    if not _blas_held:
        _own_the_cores()
    if later:
        first = calls.index(wanted[0])
        results = [None if call is None or i == first else Later(call) for i, call in enumerate(calls)]
        laters = [result for result in results if result is not None]
        for result in laters:
            _get_pool().submit(result.compute_on_the_pool)
        try:
            results[first] = calls[first]()
        except BaseException:
            for result in laters:
                result.cancel()
            raise
        return results
    return _run([(i, i + 1) for i in range(len(calls))], lambda i, _: None if calls[i] is None else calls[i]())


_later = threading.local()  # `taken` is set while this thread's backward pass takes Laters


class later_results:
    """`with later_results(True):` lets `together` hand back Laters on this thread (the backward
    pass does this when it can wait for them at its end); False leaves it as it is."""

    def __init__(self, taken):
        self.taken = taken

    def __enter__(self):
        self.outer = getattr(_later, "taken", False)
        _later.taken = self.taken

    def __exit__(self, *exc_info):
        _later.taken = self.outer


class Later:
    """call()'s result, computed on a thread of the pool while the caller goes on (together).
    result() waits for it, or computes it on the calling thread when no thread has begun it."""

    def __init__(self, call):
        self.call, self.value, self.error = call, None, None
        self._claim_lock, self._claimed, self._done = threading.Lock(), False, threading.Event()

    def _claim(self):
        with self._claim_lock:
            claimed, self._claimed = self._claimed, True
        return not claimed

    def _compute(self):
        try:
            self.value = self.call()
        except BaseException as error:  # raised by result(), on the thread that wants it
            self.error = error
        finally:
            self.call = None
            self._done.set()

    def compute_on_the_pool(self):
        if self._claim():
            outer, _inside.active = getattr(_inside, "active", False), True  # its products run whole, here
            try:
                self._compute()
            finally:
                _inside.active = outer

    def finish(self):
        """Compute it here if no thread has begun it, else wait until it is done."""
        if self._claim():
            self._compute()
        else:
            self._done.wait()

    def result(self):
        self.finish()
        if self.error is not None:
            raise self.error
        return self.value

    def cancel(self):
        """Make sure nothing computes it any more (after an error): drop it if no thread has begun
        it, else wait until it is done. Its result is then never asked for."""
        if not self._claim():
            self._done.wait()


def matmul(a, b):
    """a @ b, its pieces spread over the pool (see matmuls)."""
    if not _blas_held:
        _own_the_cores()
    if a.ndim == 1 or b.ndim == 1:  # a vector (one sample): nothing to cut
        return _for_blas(a) @ _for_blas(b)
    if (type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2 and a.shape[1] > 1
            and a.size * b.shape[-1] < 2 * MATMUL_BLOCK):
        return _for_blas(a) @ _for_blas(b)  # what matmuls does with a small product, without its bookkeeping
    return matmuls((a, b))[0]


def matmuls(*products):
    """Independent products, each a pair (a, b) or None, computed at the same time: the results
    in order (None for None). A backward pass has two: dL/dx = dL/dy W and dL/dW = dL/dy^T x.

    C = A B splits into independent pieces: C[rows] = A[rows] B, and C[:, cols] = A B[:, cols].
    The longer side of C is cut, so each piece repeats the packing of only the smaller operand,
    into pieces of whole multiples of 16 rows (or columns) and at least MATMUL_BLOCK
    multiply-adds, at most MATMUL_PIECES shared among the products. All the pieces go to the
    pool at once, each one single-threaded BLAS call: the pool owns the cores, and BLAS's own
    threads (which spin on a core after each product, slowing whatever runs there next) are
    held to one (`_own_the_cores`). The pieces depend only on the shapes, so the products are
    bit-identical whatever the thread count.
    What is not two 2-D NumPy arrays (CuPy, batched or 1-D operands) and small products are
    plain `a @ b`; an outer product (inner dimension 1) is a broadcast multiply.
    """
    if not _blas_held:
        _own_the_cores()
    most = MATMUL_PIECES // max(1, sum(pair is not None for pair in products))
    results, pieces = [], []
    for pair in products:
        out, cut = (None, []) if pair is None else _cut(_for_blas(pair[0]), _for_blas(pair[1]), most)
        results.append(out)
        pieces += cut
    if pieces:
        _run([(i, i + 1) for i in range(len(pieces))], lambda i, _: np.matmul(*pieces[i][:2], out=pieces[i][2]))
    return results


def _for_blas(x):
    """x, or a copy of it where a matrix's stride is 0: a broadcast view, such as the gradient of
    a mean. NumPy's matmul hands BLAS no such matrix and multiplies it in a loop of its own, about
    ten times slower than copying it first (a critic's last weight gradient, 10976 x 60 by 60 x 1:
    0.55 against 0.05 ms). A broadcast batch axis is left alone: NumPy loops over it anyway."""
    return np.ascontiguousarray(x) if type(x) is np.ndarray and 0 in x.strides[-2:] else x


def _cut(a, b, most):
    """The array for a @ b, and its pieces (a part, b part, out part) still to compute; no
    pieces when a @ b was computed here, whole."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != 2 or b.ndim != 2:
        return a @ b, []
    (m, k), n = a.shape, b.shape[-1]
    if k == 1 and b.shape[0] == 1:
        # An outer product (a batch-1 weight gradient, a 1-channel conv's input gradient): BLAS's
        # gemm runs it ~10x slower than this broadcast multiply (an inner dimension of 1 defeats
        # its blocking), and the result is the same: each element is one product.
        return a * b, []
    count = min(m * n * k // MATMUL_BLOCK, most) // 2 * 2  # an even number (two cores), or fewer
    if count < 2 or k != b.shape[0]:
        return a @ b, []
    out = np.empty((m, n), dtype=np.result_type(a, b))
    size = -(-max(m, n) // (count * 16)) * 16  # whole multiples of 16 rows (or columns)
    if m >= n:  # C[rows] = A[rows] B
        return out, [(a[start:stop], b, out[start:stop]) for start, stop in blocks(m, size)]
    return out, [(a, b[:, start:stop], out[:, start:stop]) for start, stop in blocks(n, size)]


def blocks(n, block=None):
    """The fixed partition of range(n): [(0, block), (block, 2 block), ..., (., n)]; block defaults to BLOCK."""
    block = block or BLOCK
    return [(start, min(start + block, n)) for start in range(0, n, block)]


def for_blocks(n, fn, block=None, least=None):
    """Call fn(start, stop) for every block of range(n), over the pool (in this thread below `least`
    elements, THREADED_MIN by default); return the results in block order.

    `block` is a number of elements (default BLOCK); a caller may pass a multiple of its row length
    to keep rows whole.
    """
    parts = blocks(n, block)
    if n < (THREADED_MIN if least is None else least):
        return [fn(start, stop) for start, stop in parts]
    return _run(parts, fn)


def for_rows(array, fn, axis=0, block=None, least=None):
    """Call fn(rows) for blocks of whole rows of `array` (the indices of its first axis: e.g. the
    samples of a batch; or of `axis`), `rows` a slice, over the pool as for_blocks; return the
    results in block order. `block` is a number of elements (default BLOCK), as for for_blocks.

    The function indexes its arrays with it (x[rows], out[rows]; out[:, rows] for axis 1): one
    function serves every block. The blocks depend only on the array's shape, so per-block sums
    added in block order (add_in_order) are the same at any thread count. An array that is not
    NumPy's (CuPy) is one block, and a 0-d array is one block with rows = ... (which indexes it
    whole)."""
    if array.ndim == 0:
        return [fn(...)]
    n = array.shape[axis]
    if type(array) is not np.ndarray or array.size == 0:
        return [fn(slice(0, n))]
    row_size = array.size // n
    per_block = max(1, (block or BLOCK) // row_size) * row_size
    return for_blocks(array.size, lambda start, stop: fn(slice(start // row_size, stop // row_size)), per_block, least)


def spread_rows(array, fn, axis=0, block=None, least=None):
    """for_rows for work whose result does not depend on where the rows are cut (copies,
    elementwise arithmetic): when it would run on one thread anyway (one thread, or an array
    under `least` elements, THREADED_MIN by default), fn gets all the rows in one call, with no
    per-block cost."""
    least = THREADED_MIN if least is None else least
    if _num_threads == 1 or array.size < least or getattr(_inside, "active", False):
        fn(slice(0, array.shape[axis]) if array.ndim else ...)
    else:
        for_rows(array, fn, axis, block, least)


def add_in_order(parts):
    """The blocks' partial results (e.g. sums) added up in block order, never in the order the
    threads finished them: the total is the same at any thread count."""
    total = parts[0].copy()
    for part in parts[1:]:
        total += part
    return total


def _run(parts, fn):
    """Call fn(start, stop) for each (start, stop) in parts, over the pool; the results in order.

    Inside that work (on any thread, or inline with one thread) `_inside.active` is set: work
    nested in it runs inline, in the same blocks. The caller waits for the blocks, not for the
    helpers: a helper still busy with something else (a Later) when every block is claimed is not
    waited for.
    """
    if not parts:
        return []
    results, errors = [None] * len(parts), []
    threads = 1 if getattr(_inside, "active", False) else min(_num_threads, len(parts))
    claim_lock, next_block, left, finished = threading.Lock(), [0], [len(parts)], threading.Event()

    def work():
        # Each thread claims the next unclaimed block until none are left: a core that another
        # process slows down simply does fewer blocks.
        outer, _inside.active = getattr(_inside, "active", False), True
        try:
            while True:
                with claim_lock:
                    i = next_block[0]
                    next_block[0] += 1
                if i >= len(parts):
                    return
                try:
                    results[i] = fn(*parts[i])
                except BaseException as error:  # raised on the calling thread
                    errors.append(error)
                with claim_lock:
                    left[0] -= 1
                    if not left[0]:
                        finished.set()
        finally:
            _inside.active = outer

    for _ in range(threads - 1):
        _get_pool().submit(work)
    work()
    finished.wait()
    if errors:
        raise errors[0]
    return results
