"""Compiled loops (numba) for minigrad/kernels.py: each is one pass over its arrays that gives what
the NumPy formula named in its docstring gives, to float32 rounding or better (tests/test_kernels.py
and tests/test_optim.py compare them). Only kernels.py imports this module, when a kernel first asks
for it, and only where numba is installed and MINIGRAD_KERNELS is not "numpy".

Why one loop: the NumPy formulas are chains of a dozen array operations. On the small arrays of
batch-size-1 training each operation costs more in call overhead than in arithmetic, and on large
arrays each one streams its operands through memory again; a loop reads each element once.

How they are compiled (numba.njit):
- error_model="numpy": a division by zero gives inf or nan, as in NumPy, instead of raising; without
  it numba checks every division, and the check keeps the loop from being vectorised (Adam on
  157 K float32 elements: 415 us with the check, 92 us without).
- no fastmath: it would let the compiler reorder and contract (fused multiply-adds) the arithmetic,
  and the results would differ from NumPy's.
- the constants are passed as scalars of the arrays' dtype, so float32 arrays are computed in
  float32 throughout, as NumPy does (a Python float would promote each element to float64).
- nogil=True, and no parallel=True: large arrays are cut into blocks over minigrad's own pool
  (minigrad.parallel.for_blocks, inline below a million elements). numba's threads (OpenMP) spin
  after each loop and share the cores badly with the pool and with other processes (measured: the
  book's Adam steps 2.4 ms instead of 0.4 ms while another process was busy).
- cache=True: the machine code is kept in __pycache__, so only a process with an empty cache
  pays for compiling.
"""

import functools
import math

import numba
import numpy as np

from . import parallel

# float16 and the integer types stay on NumPy.
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def compiles(array):
    """Whether the loops here run on `array`: a NumPy array of float32 or float64."""
    return type(array) is np.ndarray and array.dtype in DTYPES


def in_blocks(loop, arrays, constants):
    """loop(*arrays, *constants) on the whole of the 1-d `arrays` where they are small; on blocks
    of them over minigrad's pool where they are large (each element depends on nothing else)."""
    if arrays[0].size < parallel.THREADED_MIN:
        loop(*arrays, *constants)
        return
    parallel.for_blocks(arrays[0].size, lambda start, stop: loop(*(a[start:stop] for a in arrays), *constants))


# --- optimisers: one pass per parameter ------------------------------------------------------

def adam(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay, decoupled, maximize):
    """Adam's (or AdamW's) step t = `step` on one flat parameter, in place: Adam.update's formula
    (minigrad/optim/adam.py) in its arithmetic order, with g = grad (-grad with maximize):

        decoupled:  p <- p (1 - lr weight_decay)       otherwise:  g <- g + weight_decay p
        m <- m + (g - m)(1 - beta1)
        v <- v beta2 + g^2 (1 - beta2)
        p <- p - m / (sqrt(v) / sqrt(1 - beta2^t) + eps) * (lr / (1 - beta1^t))

    `grad` is only read. Without amsgrad (Adam.update keeps that on NumPy). `grad` may also be a
    tuple of flat gradients, each for its part of the flat `param` in order (a parameter group under
    a million elements, all at one step): one call for them all, since at batch size 1 a call costs
    more than a small parameter's arithmetic.

    A gradient below about 1e-17 (float32) makes g^2 (1 - beta2) a denormal number, which the CPU
    computes in microcode, many times slower: late in a long batch-1 run, thousands of elements a
    step. Where v beta2 is large enough that the term is below half its last bit (`_small_terms`),
    adding it changes nothing, so the loop adds 0^2 (1 - beta2) instead: the same numbers.
    """
    constants = _adam_constants(param.dtype, step, lr, *betas, eps, weight_decay, decoupled, maximize)
    if type(grad) is tuple:
        _adam_parts(param, grad, exp_avg, exp_avg_sq, *constants)
    else:
        in_blocks(_adam, (param, grad, exp_avg, exp_avg_sq), constants)


@functools.lru_cache(maxsize=64)
def _adam_constants(dtype, step, lr, beta1, beta2, eps, weight_decay, decoupled, maximize):
    """_adam's scalars, of the arrays' dtype (the same for every parameter of a step: made once)."""
    real = dtype.type
    decay = 1 - lr * weight_decay if decoupled else 1.0
    coupled = 0.0 if decoupled else weight_decay
    return (real(lr / (1 - beta1 ** step)), real(1 - beta1), real(beta2), real(1 - beta2),
            real(math.sqrt(1 - beta2 ** step)), real(eps), real(coupled), real(decay), maximize) + _small_terms(dtype)


@functools.lru_cache(maxsize=8)
def _small_terms(dtype):
    """(T, V): for |g| < T = 2^t, g^2 (1 - beta2) is at most T^2 = 2^2t (rounding cannot pass a power
    of two), and where v beta2 >= V = 2^(2t + p + 1) (p the mantissa's bits) half of v beta2's last
    bit is 2^(2t + 1) or more: the sum rounds to v beta2 itself (v alpha alike, for RMSprop). t is
    chosen so that g^2 (1 - beta2) stays a normal number for |g| >= T with beta2 = 0.999 (float32:
    T = 2^-58, V = 2^-91)."""
    info = np.finfo(dtype)
    t = (info.minexp + 10) // 2
    return dtype.type(2.0 ** t), dtype.type(2.0 ** (2 * t + info.nmant + 2))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _adam(param, grad, exp_avg, exp_avg_sq, step_size, one_minus_beta1, beta2, one_minus_beta2, bias2_sqrt,
          eps, weight_decay, decay, maximize, small_grad, large_v):
    zero = small_grad - small_grad  # (of the dtype: small_grad * 0 would be a float64)
    for i in range(param.size):
        p = param[i]
        if decay != 1:
            p = p * decay
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + p * weight_decay
        m = exp_avg[i] + (g - exp_avg[i]) * one_minus_beta1
        kept = exp_avg_sq[i] * beta2
        squared = zero if abs(g) < small_grad and kept >= large_v else g  # (adds nothing: see _small_terms)
        v = kept + (squared * squared) * one_minus_beta2
        exp_avg[i] = m
        exp_avg_sq[i] = v
        param[i] = p - (m / (np.sqrt(v) / bias2_sqrt + eps)) * step_size


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _adam_parts(param, grads, exp_avg, exp_avg_sq, step_size, one_minus_beta1, beta2, one_minus_beta2, bias2_sqrt,
                eps, weight_decay, decay, maximize, small_grad, large_v):
    """_adam on each part of the flat arrays, with its own gradient from the tuple `grads`."""
    start = 0
    for grad in grads:
        stop = start + grad.size
        _adam(param[start:stop], grad, exp_avg[start:stop], exp_avg_sq[start:stop], step_size, one_minus_beta1,
              beta2, one_minus_beta2, bias2_sqrt, eps, weight_decay, decay, maximize, small_grad, large_v)
        start = stop


def rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps, weight_decay, momentum, centered,
            maximize):
    """RMSprop's step on one flat parameter, in place: RMSprop.update's formula
    (minigrad/optim/rmsprop.py) in its arithmetic order, with g = grad (-grad with maximize):

        g <- g + weight_decay p
        v <- v alpha + g^2 (1 - alpha)
        centered:  a <- a + (g - a)(1 - alpha),  d = sqrt(v - a^2) + eps;   otherwise d = sqrt(v) + eps
        momentum:  b <- b momentum + g / d,  p <- p - b lr;                 otherwise p <- p - (g / d) lr

    `grad` is only read. A gradient so small that g^2 (1 - alpha) cannot change v alpha adds 0^2
    (1 - alpha) instead, as in adam above: the same numbers, without denormal arithmetic.
    """
    real = param.dtype.type
    constants = (real(lr), real(alpha), real(1 - alpha), real(eps), real(weight_decay), real(momentum), centered,
                 maximize) + _small_terms(param.dtype)
    in_blocks(_rmsprop, (param, grad, square_avg, grad_avg, momentum_buffer), constants)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, one_minus_alpha, eps, weight_decay,
             momentum, centered, maximize, small_grad, large_v):
    zero = small_grad - small_grad  # (of the dtype, as in _adam)
    for i in range(param.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + param[i] * weight_decay
        kept = square_avg[i] * alpha
        squared = zero if abs(g) < small_grad and kept >= large_v else g  # (adds nothing: see _small_terms)
        v = kept + (squared * squared) * one_minus_alpha
        square_avg[i] = v
        if centered:
            a = grad_avg[i] + (g - grad_avg[i]) * one_minus_alpha
            grad_avg[i] = a
            d = np.sqrt(v - a * a) + eps
        else:
            d = np.sqrt(v) + eps
        s = g / d
        if momentum > 0:
            b = momentum_buffer[i] * momentum + s
            momentum_buffer[i] = b
            param[i] = param[i] - b * lr
        else:
            param[i] = param[i] - s * lr


# --- activations ----------------------------------------------------------------------------------

def outer(a, b):
    """a[:, None] * b[None, :] for 1-d a and b of one dtype: each element one product, as NumPy's."""
    out = np.empty((a.size, b.size), dtype=a.dtype)
    _outer(a, b, out)
    return out


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _outer(a, b, out):
    for i in range(a.size):
        ai = a[i]
        for j in range(b.size):
            out[i, j] = ai * b[j]


def leaky_relu(x, slope):
    """kernels.leaky_relu in one pass: out = x m, m = (x > 0) (1 - slope) + slope (the same
    arithmetic, so the same numbers), laid out as x."""
    out = np.empty_like(x)  # laid out as x is
    if x.flags.c_contiguous and x.size < parallel.THREADED_MIN:  # (the batch-size-1 case, at once)
        _leaky_relu(x.reshape(-1), out.reshape(-1), *_slopes(x.dtype, slope))
        return out
    if not _dense(x):
        x = np.ascontiguousarray(x)
        out = np.empty_like(x)
    in_blocks(_leaky_relu, _in_memory_order(x, out), _slopes(x.dtype, slope))
    return out


def leaky_relu_backward(grad, x, slope):
    """kernels.leaky_relu_backward in one pass, grad m with m built from x as leaky_relu builds it,
    laid out as grad; None where grad and x are not laid out alike (one block of memory each, their
    axes in the same order), for the NumPy formula."""
    if grad.shape != x.shape:
        return None
    if not (grad.flags.c_contiguous and x.flags.c_contiguous) and (  # (the common case, at once)
            not _dense(grad) or not _dense(x) or _by_stride(grad) != _by_stride(x)):
        return None
    result = np.empty_like(grad)
    if grad.flags.c_contiguous and x.flags.c_contiguous and grad.size < parallel.THREADED_MIN:  # (at once)
        _leaky_relu_backward(grad.reshape(-1), x.reshape(-1), result.reshape(-1), *_slopes(x.dtype, slope))
        return result
    in_blocks(_leaky_relu_backward, _in_memory_order(grad, x, result), _slopes(x.dtype, slope))
    return result


@functools.lru_cache(maxsize=64)
def _slopes(dtype, slope):
    """m's two values, of the arrays' dtype: slope, and (1 - slope) + slope as kernels.leaky_relu's
    NumPy formula computes it (1, or 1 rounded)."""
    real = dtype.type
    return real(slope), real(1 - slope) + real(slope)


def _dense(x):
    """Whether x's elements fill one block of memory in some order of its axes: an NCHW view of
    channels-last memory (what a convolution returns) is, a slice with gaps is not."""
    return x.flags.c_contiguous or x.transpose(_by_stride(x)).flags.c_contiguous


def _by_stride(x):
    return sorted(range(x.ndim), key=lambda axis: -abs(x.strides[axis]))


def _in_memory_order(x, *like):
    """x and arrays laid out as x (np.empty_like(x)), each as a 1-d view of its memory, in the same
    order: an elementwise loop then walks memory in order whatever the axes' order, and writes
    results laid out as its input (a copy to C order would cost a strided pass, and undo the
    channels-last layout the next convolution wants)."""
    if x.flags.c_contiguous:
        return (x.reshape(-1),) + tuple(a.reshape(-1) for a in like)
    order = _by_stride(x)
    return tuple(a.transpose(order).reshape(-1) for a in (x,) + like)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _leaky_relu(x, out, slope, above):
    for i in range(x.size):
        out[i] = x[i] * (above if x[i] > 0 else slope)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _leaky_relu_backward(grad, x, result, slope, above):
    for i in range(grad.size):
        result[i] = grad[i] * (above if x[i] > 0 else slope)


def sigmoid_from(x, e):
    """kernels.sigmoid's last steps, given e = e^-|x|: max(e, x >= 0) / (1 + e), as (x >= 0 ? 1 : e)
    / (1 + e) (the same numbers: e <= 1, and a NaN x gives a NaN e); x and e C-contiguous."""
    out = np.empty_like(x)
    _sigmoid_from(x.reshape(-1), e.reshape(-1), out.reshape(-1), _one(x.dtype))
    return out


@functools.lru_cache(maxsize=8)
def _one(dtype):
    return dtype.type(1)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _sigmoid_from(x, e, out, one):
    for i in range(x.size):
        out[i] = (one if x[i] >= 0 else e[i]) / (one + e[i])


# --- the convolution's fold -----------------------------------------------------------------------

# With fewer channels the innermost loop is too short to pay (windows (60, 14, 14, 4, 4, 1):
# 0.35 ms compiled, 0.27 ms by NumPy's strided adds; with 112 channels, 0.93 and 3.0 ms).
FOLD_MIN_CHANNELS = 8


def folds(windows, axis):
    """Whether fold below takes these windows: (N, OH, OW, KH, KW, C), C >= FOLD_MIN_CHANNELS."""
    return axis == 1 and windows.ndim == 6 and windows.shape[5] >= FOLD_MIN_CHANNELS


def fold(windows, size, stride, dilation, first, count):
    """kernels.fold by loops, for windows (N, OH, OW, KH, KW, C) and size = (H, W):

        out[n, i dh + sh oh, j dw + sw ow, c] += windows[n, oh, ow, i, j, c]

    tap by tap in (i, j) order as there, so each sum is the same bit for bit; blocks of samples
    over minigrad's pool. Only rows and columns first <= r < first + count are made (a transposed
    convolution cuts its padding off): the adds that land outside are skipped, and the result
    (N, count..., C) is contiguous, where a cut view of the whole would make the next op read a
    strided array. Each block zeroes its own samples, which it then adds into while they are in
    the cache (np.zeros of the whole is a serial pass over memory)."""
    windows = np.ascontiguousarray(windows)
    out = np.empty((len(windows),) + tuple(count) + windows.shape[5:], dtype=windows.dtype)
    (sh, sw), (dh, dw), (fh, fw) = stride, dilation, first
    parallel.spread_rows(windows, lambda samples: _fold(windows[samples], sh, sw, dh, dw, fh, fw, out[samples]),
                         block=CONV_BLOCK)
    return out


# The fold's and im2col's blocks: about a million window elements, fewer and larger calls than
# parallel.BLOCK (measured on the fold of windows (60, 7, 7, 4, 4, 112): 0.93 ms, against 1.19 ms
# in blocks of 128 K).
CONV_BLOCK = 1024 * 1024
# im2col's loop pays for a second thread from fewer elements than NumPy's passes do
# (parallel.THREADED_MIN). Waking the helper costs about 85 us; the loop copies an element in
# about 0.6 ns with many channels, and in 2.6 ns with one (each window tap costs alike whatever
# its channels). So from 256 K elements with 4 channels or more, and from a quarter of that per
# channel below (an MNIST critic's first layer, one channel, 188 K elements: 0.50 ms on one
# thread, 0.34 ms on two).
CONV_THREADED_MIN = 256 * 1024


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _fold(windows, sh, sw, dh, dw, fh, fw, out):
    samples, out_h, out_w, kh, kw, channels = windows.shape
    height, width = out.shape[1], out.shape[2]
    for n in range(samples):
        out[n] = 0
        for i in range(kh):
            for j in range(kw):
                for oh in range(out_h):
                    row = i * dh + sh * oh - fh
                    if row < 0 or row >= height:
                        continue
                    for ow in range(out_w):
                        col = j * dw + sw * ow - fw
                        if col < 0 or col >= width:
                            continue
                        for c in range(channels):
                            out[n, row, col, c] += windows[n, oh, ow, i, j, c]


# --- the convolution's columns --------------------------------------------------------------------

def im2col(x, placed_at, kernel, stride, dilation, first, count):
    """kernels.im2col of the windows of x (N, H, W, C) placed at `placed_at` (rows, cols) in zeros:

        cols[n, oh, ow, i, j, c] = x[n, (fh + oh) sh + i dh - ph, (fw + ow) sw + j dw - pw, c]
                                   (0 where that falls outside x)

    for the `count` (OH, OW) windows from window `first` on, as the matrix (N*OH*OW, KH*KW*C): one
    loop reads x and writes the zeros itself, where NumPy copies x into a zero-padded array first
    and then copies its windows. Blocks of samples (or, for one sample, of window rows) over the
    pool."""
    (oh, ow), (kh, kw) = count, kernel
    cols = np.empty((len(x), oh, ow, kh, kw, x.shape[3]), dtype=x.dtype)
    (ph, pw), (sh, sw), (dh, dw), (fh, fw) = placed_at, stride, dilation, first
    block = min(CONV_BLOCK, -(-cols.size // parallel.get_num_threads()))  # (each core a share of a small one)
    least = min(CONV_THREADED_MIN * min(x.shape[3], 4) // 4, parallel.THREADED_MIN)
    if len(x) >= 2:
        parallel.spread_rows(cols, lambda samples: _im2col(x[samples], ph, pw, sh, sw, dh, dw, fh, fw, cols[samples]),
                             block=block, least=least)
    else:
        parallel.spread_rows(cols, lambda rows: _im2col(x, ph, pw, sh, sw, dh, dw, fh + rows.start, fw, cols[:, rows]),
                             axis=1, block=block, least=least)
    return cols.reshape(len(x) * oh * ow, kh * kw * x.shape[3])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _im2col(x, ph, pw, sh, sw, dh, dw, fh, fw, cols):
    samples, height, width, channels = x.shape
    out_h, out_w, kh, kw = cols.shape[1:5]
    for n in range(samples):
        for oh in range(out_h):
            for ow in range(out_w):
                for i in range(kh):
                    row = (fh + oh) * sh + i * dh - ph
                    for j in range(kw):
                        col = (fw + ow) * sw + j * dw - pw
                        if row < 0 or row >= height or col < 0 or col >= width:
                            for c in range(channels):
                                cols[n, oh, ow, i, j, c] = 0
                        else:
                            for c in range(channels):
                                cols[n, oh, ow, i, j, c] = x[n, row, col, c]


# --- LayerNorm: one pass per row ------------------------------------------------------------------

def normalize_rows(rows, weight, bias, eps):
    """kernels.normalize_rows by rows: per row of rows (R, M), with weight and bias (M,),

        mean = sum(x) / M,   var = sum((x - mean)^2) / M,   s = 1 / sqrt(var + eps)
        x_hat = (x - mean) s,   out = x_hat weight + bias

    Returns out, x_hat (R, M) and s (R, 1). The sums add the elements in order (NumPy adds them
    pairwise), so they agree with NumPy's to the dtype's rounding, not bit for bit.
    """
    rows, weight, bias = _contiguous(rows, weight, bias)
    out, x_hat = np.empty_like(rows), np.empty_like(rows)
    inv_std = np.empty((len(rows), 1), dtype=rows.dtype)
    _normalize_rows(rows, weight, bias, *_row_constants(rows.dtype, eps, rows.shape[1]), out, x_hat, inv_std)
    return out, x_hat, inv_std


@functools.lru_cache(maxsize=64)
def _row_constants(dtype, eps, count):
    """eps, 1 / M and 1 as scalars of the rows' dtype (the same for every call of a layer: made once;
    normalize_rows_grads takes 1 / M)."""
    real = dtype.type
    return real(eps), real(1.0 / count), real(1)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _normalize_rows(rows, weight, bias, eps, inv_count, one, out, x_hat, inv_std):
    count = rows.shape[1]
    for r in range(rows.shape[0]):
        total = rows[r, 0]
        for j in range(1, count):
            total += rows[r, j]
        mean = total * inv_count
        first = rows[r, 0] - mean
        squares = first * first
        for j in range(1, count):
            centered = rows[r, j] - mean
            squares += centered * centered
        s = one / np.sqrt(squares * inv_count + eps)
        inv_std[r, 0] = s
        for j in range(count):
            normalized = (rows[r, j] - mean) * s
            x_hat[r, j] = normalized
            out[r, j] = normalized * weight[j] + bias[j]


def normalize_rows_grads(grad, x_hat, inv_std, weight, need_input, need_affine):
    """kernels.normalize_rows_grads by rows: per row, with g = dL/dout * weight,

        dL/drows = (g - sum(g) / M - x_hat * (sum(g x_hat) / M)) * s

    (s = 1 / sqrt(var + eps) from normalize_rows; the sums in order, as there), and dL/dweight and
    dL/dbias added row after row from 0, as NumPy adds the rows of a sum over leading axes (the
    same numbers). With one column (M = 1) NumPy adds the column pairwise instead: the sums are
    then NumPy's."""
    grad, x_hat, inv_std, weight = _contiguous(grad, x_hat, inv_std, weight)
    count = grad.shape[1]
    summed = need_affine and count > 1
    dx = np.empty_like(grad) if need_input else np.empty((0, count), dtype=grad.dtype)
    sums = count if summed else 0  # (empty where the loop leaves them to NumPy)
    dweight, dbias = np.zeros(sums, dtype=grad.dtype), np.zeros(sums, dtype=grad.dtype)
    _normalize_rows_grads(grad, x_hat, inv_std, weight, _row_constants(grad.dtype, 0.0, count)[1], dx, dweight, dbias,
                          need_input, summed)
    if need_affine and not summed:
        dweight, dbias = (grad * x_hat).sum(axis=0), grad.sum(axis=0)
    return (dx if need_input else None), (dweight if need_affine else None), (dbias if need_affine else None)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _normalize_rows_grads(grad, x_hat, inv_std, weight, inv_count, dx, dweight, dbias, need_input, summed):
    count = grad.shape[1]
    for r in range(grad.shape[0]):
        if need_input:
            g = grad[r, 0] * weight[0]
            total, total_x_hat = g, g * x_hat[r, 0]
            for j in range(1, count):
                g = grad[r, j] * weight[j]
                total += g
                total_x_hat += g * x_hat[r, j]
            mean, mean_x_hat, s = total * inv_count, total_x_hat * inv_count, inv_std[r, 0]
            for j in range(count):
                dx[r, j] = (grad[r, j] * weight[j] - mean - x_hat[r, j] * mean_x_hat) * s
        if summed:
            for j in range(count):
                dweight[j] += grad[r, j] * x_hat[r, j]
                dbias[j] += grad[r, j]


def _contiguous(*arrays):
    """The arrays C-contiguous (copied where not), so that each loop compiles once per dtype."""
    return [np.ascontiguousarray(a) for a in arrays]


# --- BatchNorm and InstanceNorm: the columns of (G, R, C) -----------------------------------------
# The same three passes (two backward) over blocks of rows on the pool as kernels.normalize_columns
# and columns_backward, each one loop instead of a few array operations; the blocks' sums are added
# in block order. The sums add rows in order (NumPy's by a product with a row of ones): the same
# to the dtype's rounding, not bit for bit. Measured on rows (1, 11760, 112), float32, 2 threads:
# the forward 1.10 ms, against 2.11 ms.

def normalize_columns(rows, weight, bias, eps):
    """kernels.normalize_columns by loops: per group g and column c of rows (G, R, C),

        mean = sum_r x / R,   centered = x - mean,   var = sum_r centered^2 / R
        out = centered * (weight / sqrt(var + eps)) + bias

    Returns out, centered, mean, var and 1/sqrt(var + eps), the last three (G, 1, C).
    """
    rows, weight, bias = _contiguous(rows, weight, bias)
    real = rows.dtype.type
    inv_count = real(1.0 / rows.shape[1])
    centered, out = np.empty_like(rows), np.empty_like(rows)
    mean = _column_sums_in_blocks(rows, lambda r, sums: _column_sums(rows[:, r], sums)) * inv_count
    var = _column_sums_in_blocks(rows, lambda r, sums: _center(rows[:, r], mean, centered[:, r], sums)) * inv_count
    inv_std = 1 / np.sqrt(var + real(eps))
    scale = weight * inv_std
    parallel.spread_rows(rows, lambda r: _scale_and_shift(centered[:, r], scale, bias, out[:, r]), axis=1)
    return out, centered, mean[:, None], var[:, None], inv_std[:, None]


def columns_backward(grad, centered, inv_std, weight, need_input_grad):
    """kernels.columns_backward by loops: per group and column, S1 = sum dL/dout,
    S2 = sum(dL/dout centered) / sqrt(var + eps), and

        dL/drows = (dL/dout - centered * (S2 / R / sqrt(var + eps)) - S1 / R) * (weight / sqrt(var + eps))

    Returns dL/drows (None unless need_input_grad), S2 and S1, each (G, 1, C).
    """
    grad, centered, weight = _contiguous(grad, centered, weight)
    inv_std = np.ascontiguousarray(inv_std.reshape(len(grad), -1))
    real = grad.dtype.type
    inv_count = real(1.0 / grad.shape[1])
    both = _column_sums_in_blocks(grad, lambda r, sums: _grad_sums(grad[:, r], centered[:, r], sums), 2)
    sum_grad, sum_grad_x_hat = both[0], both[1] * inv_std
    if not need_input_grad:
        return None, sum_grad_x_hat[:, None], sum_grad[:, None]
    dx = np.empty_like(grad)
    mean_grad, factor, scale = sum_grad * inv_count, sum_grad_x_hat * inv_count * inv_std, weight * inv_std
    parallel.spread_rows(grad, lambda r: _input_grad(grad[:, r], centered[:, r], factor, mean_grad, scale, dx[:, r]),
                         axis=1)
    return dx, sum_grad_x_hat[:, None], sum_grad[:, None]


def _column_sums_in_blocks(rows, add_block, count=1):
    """add_block(r, sums) for fixed blocks r of the rows (axis 1) of rows (G, R, C) over the pool,
    each adding into its own zeroed sums (count, G, C) (or (G, C)); the blocks' sums added in block
    order."""
    shape = (count, rows.shape[0], rows.shape[2]) if count > 1 else (rows.shape[0], rows.shape[2])

    def block(r):
        sums = np.zeros(shape, dtype=rows.dtype)
        add_block(r, sums)
        return sums
    return parallel.add_in_order(parallel.for_rows(rows, block, axis=1))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _column_sums(rows, sums):
    for g in range(rows.shape[0]):
        for r in range(rows.shape[1]):
            for c in range(rows.shape[2]):
                sums[g, c] += rows[g, r, c]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _center(rows, mean, centered, squares):
    for g in range(rows.shape[0]):
        for r in range(rows.shape[1]):
            for c in range(rows.shape[2]):
                d = rows[g, r, c] - mean[g, c]
                centered[g, r, c] = d
                squares[g, c] += d * d


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _scale_and_shift(centered, scale, bias, out):
    for g in range(centered.shape[0]):
        for r in range(centered.shape[1]):
            for c in range(centered.shape[2]):
                out[g, r, c] = centered[g, r, c] * scale[g, c] + bias[c]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _grad_sums(grad, centered, sums):
    for g in range(grad.shape[0]):
        for r in range(grad.shape[1]):
            for c in range(grad.shape[2]):
                sums[0, g, c] += grad[g, r, c]
                sums[1, g, c] += grad[g, r, c] * centered[g, r, c]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _input_grad(grad, centered, factor, mean_grad, scale, dx):
    for g in range(grad.shape[0]):
        for r in range(grad.shape[1]):
            for c in range(grad.shape[2]):
                dx[g, r, c] = (grad[g, r, c] - centered[g, r, c] * factor[g, c] - mean_grad[g, c]) * scale[g, c]


# --- binary cross-entropy -------------------------------------------------------------------------

def binary_cross_entropy_sum(p, y):
    """kernels.binary_cross_entropy_sum in one pass: libm's logs (NumPy has its own, which differ in
    the last bit for about one value in five) and the losses summed in float64, in order."""
    log_p, log_1mp = np.empty_like(p), np.empty_like(p)
    real = p.dtype.type
    total = _binary_cross_entropy_sum(p.reshape(-1), y.reshape(-1), log_p.reshape(-1), log_1mp.reshape(-1),
                                      real(-100), real(1))
    return real(total), log_p, log_1mp


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _binary_cross_entropy_sum(p, y, log_p, log_1mp, floor, one):
    total = 0.0
    for i in range(p.size):
        a, b = np.log(p[i]), np.log1p(-p[i])
        a = floor if a < floor else a  # np.maximum's clamp: a NaN stays NaN
        b = floor if b < floor else b
        log_p[i], log_1mp[i] = a, b
        total += -(y[i] * a + (one - y[i]) * b)
    return total
