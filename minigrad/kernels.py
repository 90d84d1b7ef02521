"""The speed layer: formulas computed the fastest way this machine allows.

An op's body states its math. Where a formula pays for being run in blocks of rows over the
thread pool (minigrad.parallel), the op calls a function here instead, named for what it
computes; each gives exactly what the plain NumPy formula in its docstring gives, and
tests/test_kernels.py checks each against that formula. Nothing here knows about autograd.

Where numba is importable, chains of elementwise steps run as compiled loops instead
(minigrad/kernels_numba.py); MINIGRAD_KERNELS=numpy keeps everything on NumPy. The switch is at the
end of this file, and `COMPILED` says which path is live.
"""

import importlib
import importlib.util
import math
import os

import numpy as np

from . import backend, parallel
from .parallel import together  # noqa: F401  (independent gradients at once, when they are large)

# The switch (see the end of this file): minigrad/kernels_numba.py where numba is installed, unless
# MINIGRAD_KERNELS=numpy. numba is optional: NumPy computes everything without it. The module is
# imported when a kernel first asks for it (compiles): numba takes about 0.2 s to import, which a
# process that runs no op (`python -m gans list`, a mistake on the command line) does not pay.
COMPILED = (os.environ.get("MINIGRAD_KERNELS", "").strip().lower() != "numpy"
            and importlib.util.find_spec("numba") is not None)
compiled = None  # kernels_numba, once imported


def loops():
    """The module kernels_numba, imported now if it was not; None on the NumPy path. Where numba is
    installed but does not import (one built for another NumPy), the NumPy path runs, as without
    numba: COMPILED turns False."""
    global compiled, COMPILED
    if COMPILED and compiled is None:
        try:  # (by name: the one import of this package made on first use, not at the top)
            compiled = importlib.import_module(f"{__package__}.kernels_numba")
        except ImportError:
            COMPILED = False
        # From now on kernels.adam and the others are plain names here, not looked up each time
        globals().update({name: getattr(compiled, loop) if COMPILED else None for name, loop in LOOPS.items()})
    return compiled if COMPILED else None


def _one_block(*arrays):
    """Whether the pool would run this work as one block on this thread anyway: then the plain
    NumPy expression is the kernel, without the blocks' bookkeeping (the batch-size-1 case)."""
    return arrays[0].size < parallel.THREADED_MIN or type(arrays[0]) is not np.ndarray


def _alike(a, b):
    """Whether a and b have one shape and dtype, both C-contiguous: what the one-pass loops take."""
    return a.shape == b.shape and a.dtype == b.dtype and a.flags.c_contiguous and b.flags.c_contiguous


def relu(x):
    """max(x, 0), and the mask x > 0 (ReLU's derivative)."""
    xp = backend.array_module(x)
    if _one_block(x):
        return xp.maximum(x, 0), x > 0
    out, positive = xp.empty_like(x), xp.empty_like(x, dtype=bool)

    def block(rows):
        xp.greater(x[rows], 0, out=positive[rows])
        xp.maximum(x[rows], 0, out=out[rows])

    parallel.spread_rows(x, block)
    return out, positive


def leaky_relu(x, slope):
    """x m, with m = where(x > 0, 1, slope), LeakyReLU's derivative, which its backward builds again
    from x (leaky_relu_backward). With numba, one pass (kernels_numba.leaky_relu)."""
    if compiles(x):
        return compiled.leaky_relu(x, slope)
    return _times_slope_map(x, x, slope)


def leaky_relu_backward(grad, x, slope):
    """grad m, m built from x as leaky_relu builds it: the same numbers as grad times the map forward
    used. With numba, one pass where grad and x are laid out alike."""
    if compiles(grad) and grad.dtype == x.dtype:
        result = compiled.leaky_relu_backward(grad, x, slope)
        if result is not None:
            return result
    return _times_slope_map(grad, x, slope)


def sigmoid(x):
    """1 / (1 + e^-x) without overflow: with e = e^-|x| (<= 1), 1 / (1 + e) where x >= 0 and
    e / (1 + e) below, the numerator max(e, x >= 0). With numba, e by NumPy's exp (so the same
    numbers) and the rest in one pass (kernels_numba.sigmoid_from) instead of four array operations."""
    xp = backend.array_module(x)
    e = xp.exp(-xp.abs(x))
    if compiles(x) and x.flags.c_contiguous:
        return compiled.sigmoid_from(x, e)
    return xp.maximum(e, x >= 0) / (1 + e)


def _times_slope_map(a, x, slope):
    """a m, m = where(x > 0, 1, slope) of x's dtype, built by arithmetic, (x > 0)(1 - slope) + slope
    (np.where is an order of magnitude slower on large arrays), block by block."""
    xp = backend.array_module(x)
    if _one_block(x) or a.shape != x.shape:
        m = (x > 0).astype(x.dtype)
        m *= 1 - slope
        m += slope
        return a * m
    out, m = xp.empty_like(a, dtype=xp.result_type(a, x)), xp.empty_like(x)

    def block(rows):
        xp.greater(x[rows], 0, out=m[rows])      # 1.0 or 0.0
        m[rows] *= 1 - slope
        m[rows] += slope
        xp.multiply(a[rows], m[rows], out=out[rows])

    parallel.spread_rows(x, block)
    return out


def matmul(a, b):
    """a @ b: a large product cut into pieces over the pool (parallel.matmul). An outer product
    (a of shape (m, 1), b of shape (1, n): a batch-1 weight gradient) is a[i] * b[j] for each
    element, a broadcast multiply in NumPy, one loop where the compiled loops run (the book's
    200 x 784 weight gradient: 13 us against NumPy's 61 us)."""
    if a.ndim == 2 and b.ndim == 2 and a.shape[1] == 1 and b.shape[0] == 1 and a.dtype == b.dtype and compiles(a):
        return compiled.outer(a[:, 0], b[0])
    return parallel.matmul(a, b)


def multiply(a, b):
    """a * b, for b of a's shape (or broadcastable to it)."""
    if _one_block(a) or b.shape != a.shape:
        return a * b
    xp = backend.array_module(a)
    out = xp.empty_like(a, dtype=xp.result_type(a, b))

    def block(rows):
        xp.multiply(a[rows], b[rows], out=out[rows])

    parallel.spread_rows(a, block)
    return out


# --- convolution: the windows as columns, and back -------------------------------------------

# One sample (pix2pix and CycleGAN train at batch 1) is cut into blocks of rows, the spatial H
# axis; a batch, into blocks of samples. Rows cost a little more (each add strides across every
# sample of its block), which pays only when there are too few samples to share out. Measured on
# 2 cores, by samples and by rows, on CycleGAN's last layer (7x7 kernel, 32 channels, 64x64):
#   batch 1: fold 8.7 and 5.1 ms, im2col 1.41 and 0.86 ms
#   batch 2: fold 8.9 and 9.4 ms, im2col 3.8 and 4.6 ms;  batch 4: fold 17.8 and 19.4 ms
ROWS_BELOW = 2
# Each of fold's strided adds (one per kernel tap and block) costs ~1.5 us of NumPy's call
# overhead, with the GIL held: a block is made big enough that each add covers about this many
# elements. The fold above (one 64-row image) then makes 2 blocks of 32 rows: 8.5 ms in one
# piece; 9.1, 6.7, 5.8 and 4.9 ms with adds of 8 K, 16 K, 32 K and 64 K elements.
FOLD_ADD_MIN = 64 * 1024
# im2col's blocks of rows, in elements. The im2col above: 1.33 ms in one piece, 0.92 ms in
# blocks of 128 K elements (parallel.BLOCK), 0.83 ms in blocks of 512 K to 2 M.
IM2COL_BLOCK = 1024 * 1024
def fold(windows, size, stride, dilation, axis, first=(0, 0), count=None):
    """The adjoint of sliding_windows: add every window element back where it was read.

    `windows` has shape (N, ..., OH, OW, KH, KW, ...) with OH at `axis` (> 0); the result
    has the spatial size `size` = (H, W) there, of which the `count` (rows, cols) from `first`
    on are returned (all of it by default; a transposed convolution cuts its padding off).
    One strided add per kernel tap (KH*KW of them), each covering every window of a block of
    samples (or, for one sample, every window that reaches a block of rows); the blocks run
    over the pool. Every element receives its additions in tap order (i, j) whatever the
    blocks, so the sums are the same bit for bit.
    """
    xp = backend.array_module(windows)
    out_h, out_w, kh, kw = windows.shape[axis:axis + 4]
    (sh, sw), (dh, dw) = stride, dilation
    count = tuple(size) if count is None else tuple(count)
    cut = (slice(None),) * axis + tuple(slice(f, f + c) for f, c in zip(first, count))
    if (out_h, out_w) == (1, 1) and (dh, dw) == (1, 1) and tuple(size) == (kh, kw):
        # One window covering everything (e.g. a 7x7 kernel on a 7x7 image): nothing overlaps,
        # so adding the windows back is a reshape.
        return windows.reshape(windows.shape[:axis] + (kh, kw) + windows.shape[axis + 4:])[cut]
    if compiles(windows) and compiled.folds(windows, axis):
        return compiled.fold(windows, size, stride, dilation, first, count)
    out = xp.zeros(windows.shape[:axis] + tuple(size) + windows.shape[axis + 4:], dtype=windows.dtype)
    middle = (slice(None),) * (axis - 1)

    def add_windows(samples, first_row, end_row):
        """Add the windows of `samples` into the rows first_row <= r < end_row of out, tap by tap
        in (i, j) order. Through tap row i, window row oh reaches row r = i*dh + sh*oh: tap row i
        adds the window rows oh with first_row <= i*dh + sh*oh < end_row."""
        batch = (samples,) + middle
        for i in range(kh):
            first = max(0, _ceil_div(first_row - i * dh, sh))
            end = min(out_h, _ceil_div(end_row - i * dh, sh))
            if first >= end:
                continue
            rows = slice(i * dh + sh * first, i * dh + sh * (end - 1) + 1, sh)
            for j in range(kw):
                cols = slice(j * dw, j * dw + sw * (out_w - 1) + 1, sw)
                out[batch + (rows, cols)] += windows[batch + (slice(first, end), slice(None), i, j)]

    # The work is the windows (KH*KW adds per output element): the blocks, and whether to use
    # the pool at all, are measured on them.
    block = kh * kw * FOLD_ADD_MIN
    if windows.shape[0] >= ROWS_BELOW:
        parallel.spread_rows(windows, lambda samples: add_windows(samples, 0, size[0]), block=block)
    else:
        # A block of window rows [a, b) stands for the block of output rows [a*sh, b*sh) (the
        # last one to the end): blocks of about the same work, which together cover out once.
        def add_rows(rows):
            add_windows(slice(None), rows.start * sh, size[0] if rows.stop == out_h else rows.stop * sh)
        parallel.spread_rows(windows, add_rows, axis=axis, block=block)
    return out[cut]


def _ceil_div(a, b):
    return -(-a // b)


def im2col(windows):
    """The windows (N, OH, OW, KH, KW, C) copied into a matrix (N*OH*OW, KH*KW*C), one row per
    window; the samples (or, for one sample, the rows OH) are copied in blocks over the pool."""
    cols = backend.array_module(windows).empty(windows.shape, dtype=windows.dtype)

    def copy_samples(samples):
        cols[samples] = windows[samples]

    def copy_rows(rows):
        cols[:, rows] = windows[:, rows]

    if windows.shape[0] >= ROWS_BELOW:
        parallel.spread_rows(cols, copy_samples)
    else:
        parallel.spread_rows(cols, copy_rows, axis=1, block=IM2COL_BLOCK)
    return cols.reshape(math.prod(windows.shape[:3]), math.prod(windows.shape[3:]))


# --- normalising the columns of matrices, over the pool -------------------------------------------

def normalize_columns(rows, weight, bias, eps):
    """Normalise each column c of each group g of rows (G, R, C) over its R values, then scale and
    shift it (BatchNorm: one group of every row; InstanceNorm: a group per sample):

        out = (rows - mean) / sqrt(var + eps) * weight + bias,   mean and var (biased) per (g, c).

    Returns out, centered = rows - mean (what backward needs), mean, var and 1/sqrt(var + eps),
    the last three (G, 1, C). Three passes over blocks of rows (axis 1) on the pool
    (minigrad.parallel): sum the rows; centre them and sum their squares; scale and shift
    (weight / sqrt(var + eps) folded into one factor). The blocks' sums are added in block order,
    so the result is the same at any thread count. With numba, each pass is one compiled loop
    (kernels_numba.normalize_columns).
    """
    if compiles(rows):
        return compiled.normalize_columns(rows, weight, bias, eps)
    xp = backend.array_module(rows)
    out, centered = xp.empty_like(rows), xp.empty_like(rows)
    inv_count = 1.0 / rows.shape[1]
    mean = _add_blocks(rows, lambda r: column_sums(rows[:, r])) * inv_count

    def center(r):
        xp.subtract(rows[:, r], mean, out=centered[:, r])
        return column_sums(centered[:, r] * centered[:, r])

    var = _add_blocks(rows, center) * inv_count
    inv_std = 1 / xp.sqrt(var + eps)
    scale = weight * inv_std

    def scale_and_shift(r):
        xp.multiply(centered[:, r], scale, out=out[:, r])
        out[:, r] += bias

    parallel.spread_rows(rows, scale_and_shift, axis=1)
    return out, centered, mean, var, inv_std


def columns_backward(grad, centered, inv_std, weight, need_input_grad):
    """The backward of normalize_columns, on grad = dL/dout (G, R, C). Per group and column, with
    M = R, x_hat = centered / sqrt(var + eps), S1 = sum(dL/dout) = dL/dbias and
    S2 = sum(dL/dout x_hat) = dL/dweight:

        dL/drows = w / sqrt(var + eps) * (dL/dout - S1 / M - centered * (S2 / M / sqrt(var + eps)))

    (the two mean terms are the paths through mean and var). Two passes over blocks of rows on
    the pool: both sums, then dL/drows. Returns dL/drows (None unless need_input_grad), and S2 and
    S1, each (G, 1, C). With numba, each pass is one compiled loop (kernels_numba.columns_backward).
    """
    if compiles(grad):
        return compiled.columns_backward(grad, centered, inv_std, weight, need_input_grad)
    xp = backend.array_module(grad)
    inv_count = 1.0 / grad.shape[1]
    sums = parallel.for_rows(grad, lambda r: (column_sums(grad[:, r]), column_sums(grad[:, r] * centered[:, r])),
                             axis=1)  # both sums from one read of each block
    sum_grad = parallel.add_in_order([s for s, _ in sums])
    sum_grad_x_hat = parallel.add_in_order([s for _, s in sums]) * inv_std
    if not need_input_grad:
        return None, sum_grad_x_hat, sum_grad
    dx = xp.empty_like(grad)
    mean_grad, factor, scale = sum_grad * inv_count, sum_grad_x_hat * inv_count * inv_std, weight * inv_std

    def input_grad(r):
        xp.multiply(centered[:, r], factor, out=dx[:, r])
        xp.subtract(grad[:, r], dx[:, r], out=dx[:, r])
        dx[:, r] -= mean_grad
        dx[:, r] *= scale

    parallel.spread_rows(grad, input_grad, axis=1)
    return dx, sum_grad_x_hat, sum_grad


def _add_blocks(rows, sums):
    """sums(r) for fixed blocks r of the rows (axis 1) of rows (G, R, C), over the pool, added up
    in block order (the same total at any thread count)."""
    return parallel.add_in_order(parallel.for_rows(rows, sums, axis=1))


def column_sums(rows):
    """The column sums of each matrix of rows (G, R, C), kept as (G, 1, C): a product with a row
    of ones, which one-threaded BLAS runs ~3x faster than NumPy's sum down the rows (measured: 82
    vs 277 us on 11760 x 112)."""
    ones = backend.array_module(rows).ones((1, rows.shape[1]), dtype=rows.dtype)
    if len(rows) == 1:
        return parallel.matmul(ones, rows[0])[None]
    return ones @ rows  # one product per group


# --- normalising the rows of a matrix (LayerNorm) ---------------------------------------------------

def normalize_rows(rows, weight, bias, eps):
    """Normalise each row of rows (R, M) over its M values, then scale and shift it (LayerNorm):

        x_hat = (rows - mean) / sqrt(var + eps),   out = x_hat * weight + bias,   mean and var (biased) per row

    with weight and bias (M,). Returns out, x_hat and 1/sqrt(var + eps) (R, 1). With numba, one
    pass per row (kernels_numba.normalize_rows) instead of a dozen array operations.
    """
    if compiles(rows):
        return compiled.normalize_rows(rows, weight, bias, eps)
    xp = backend.array_module(rows)
    inv_count = 1.0 / rows.shape[1]
    mean = rows.sum(axis=1, keepdims=True) * inv_count
    centered = rows - mean
    var = (centered * centered).sum(axis=1, keepdims=True) * inv_count
    inv_std = 1 / xp.sqrt(var + eps)
    x_hat = centered * inv_std
    out = x_hat * weight
    out += bias
    return out, x_hat, inv_std


def normalize_rows_grads(grad, x_hat, inv_std, weight, need_input=True, need_affine=True):
    """normalize_rows' gradients from grad = dL/dout (R, M), per row (the two mean terms are the
    paths through mean and var), and summed over the rows for weight and bias:

        g = dL/dout * weight,   dL/drows = (g - mean(g) - x_hat * mean(g * x_hat)) * inv_std
        dL/dweight = sum over rows of dL/dout * x_hat,   dL/dbias = sum over rows of dL/dout

    Returns dL/drows (None unless need_input), dL/dweight and dL/dbias (M,) (None unless
    need_affine). The sums add the rows in order, as NumPy's sum over leading axes does: the same
    numbers as the full-size products summed by the engine's unbroadcast. With numba, all of it
    one pass per row (kernels_numba.normalize_rows_grads).
    """
    if compiles(grad):
        return compiled.normalize_rows_grads(grad, x_hat, inv_std, weight, need_input, need_affine)
    dx = dweight = dbias = None
    if need_input:
        inv_count = 1.0 / grad.shape[1]
        g = grad * weight
        g = g - g.sum(axis=1, keepdims=True) * inv_count - x_hat * ((g * x_hat).sum(axis=1, keepdims=True) * inv_count)
        dx = g * inv_std
    if need_affine:
        dweight, dbias = (grad * x_hat).sum(axis=0), grad.sum(axis=0)
    return dx, dweight, dbias


# --- binary cross-entropy -------------------------------------------------------------------------

def binary_cross_entropy_losses(p, y):
    """The binary cross-entropy of each probability p against its target y, each log clamped at
    -100 as PyTorch does:

        log_p = max(ln p, -100),   log_1mp = max(ln(1 - p), -100),   losses = -(y log_p + (1 - y) log_1mp)

    Returns losses, log_p and log_1mp."""
    xp = backend.array_module(p)
    with backend.quiet_float_errors(p):  # log(0) = -inf is expected: it is clamped to -100
        log_p = xp.maximum(xp.log(p), -100)
        log_1mp = xp.maximum(xp.log1p(-p), -100)
    return -(y * log_p + (1 - y) * log_1mp), log_p, log_1mp


def binary_cross_entropy_sum(p, y):
    """The sum of binary_cross_entropy_losses(p, y), with its log_p and log_1mp. With numba, one pass
    where p and y have one shape, dtype and C layout (kernels_numba.binary_cross_entropy_sum): its
    logs and its sum (in float64, in order) agree with NumPy's to the dtype's rounding, not bit for
    bit. None of it reaches dL/dp (BinaryCrossEntropy.closed_form)."""
    if compiles(p) and _alike(p, y):
        return compiled.binary_cross_entropy_sum(p, y)
    losses, log_p, log_1mp = binary_cross_entropy_losses(p, y)
    return losses.sum(), log_p, log_1mp


# --- the switch: compiled loops (numba) or NumPy ---------------------------------------------------
# `COMPILED` is chosen at the top of this file; `compiled` (the module kernels_numba) is imported on
# first use.

# Each of these names is a compiled loop, or None: the caller then runs its NumPy formula.
# adam(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay, decoupled, maximize) and
# rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps, weight_decay, momentum,
# centered, maximize): one parameter's whole update in one pass (Adam.update, RMSprop.update).
# window_columns(x, placed_at, kernel, stride, dilation, first, count): a convolution's columns of
# x (N, H, W, C) zero-padded, in one loop that writes the zeros itself (ops/conv.py's window_columns).
LOOPS = {"adam": "adam", "rmsprop": "rmsprop", "window_columns": "im2col"}
if not COMPILED:  # the NumPy path from the start: plain names, None
    globals().update(dict.fromkeys(LOOPS))


def __getattr__(name):
    """kernels.adam, kernels.rmsprop, kernels.window_columns before the first kernel: the compiled
    loop (numba imported now), or None."""
    if name not in LOOPS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = loops()
    return None if module is None else getattr(module, LOOPS[name])


# The kernels above that have a compiled loop ask compiles(array) on each call, and run their NumPy
# formula where it says no (no numba, MINIGRAD_KERNELS=numpy, a CuPy array, float16).


def compiles(array):
    """Whether the compiled loops are live and run on `array` (a NumPy float32 or float64 array)."""
    if compiled is None:
        loops()
    return COMPILED and compiled.compiles(array)
