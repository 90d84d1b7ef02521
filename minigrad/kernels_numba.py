"""Compiled loops (numba) for minigrad/kernels.py: each is one pass over its arrays that gives what
the NumPy formula named in its docstring gives, to float32 rounding or better (tests/test_kernels.py
and tests/test_optim.py compare them). Only kernels.py imports this module, and only when numba is
importable and MINIGRAD_KERNELS is not "numpy".

Why one loop: the NumPy formulas are chains of a dozen array operations. On the small arrays of
batch-size-1 training each operation costs more in call overhead than in arithmetic, and on large
arrays each one streams its operands through memory again; a loop reads each element once.

How they are compiled:
- parallel=True with numba.prange: the loop is split over numba's threads, and it is what makes
  numba vectorise these loops (the same loop without it ran 8x slower, one element at a time).
- no fastmath: it would let the compiler reorder and contract (fused multiply-adds) the arithmetic,
  and the results would differ from NumPy's.
- the constants are passed as scalars of the arrays' dtype, so float32 arrays are computed in
  float32 throughout, as NumPy does (a Python float would promote each element to float64).
- cache=True: the machine code is kept in __pycache__, so only a process with an empty cache
  pays for compiling (about a second a kernel).
"""

import math

import numba
import numpy as np

from . import parallel

# float16 and the integer types stay on NumPy.
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def compiles(array):
    """Whether the loops here run on `array`: a NumPy array of float32 or float64."""
    return type(array) is np.ndarray and array.dtype in DTYPES


def use_threads():
    """Run numba's loops on as many threads as minigrad's pool (minigrad.set_num_threads)."""
    n = min(parallel.get_num_threads(), numba.config.NUMBA_NUM_THREADS)
    if numba.get_num_threads() != n:
        numba.set_num_threads(n)


# --- optimisers: one pass per parameter ------------------------------------------------------

def adam(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay, decoupled, maximize):
    """Adam's (or AdamW's) step t = `step` on one flat parameter, in place: Adam.update's formula
    (minigrad/optim/adam.py) in its arithmetic order, with g = grad (-grad with maximize):

        decoupled:  p <- p (1 - lr weight_decay)       otherwise:  g <- g + weight_decay p
        m <- m + (g - m)(1 - beta1)
        v <- v beta2 + g^2 (1 - beta2)
        p <- p - m / (sqrt(v) / sqrt(1 - beta2^t) + eps) * (lr / (1 - beta1^t))

    `grad` is only read. Without amsgrad (Adam.update keeps that on NumPy).
    """
    beta1, beta2 = betas
    real = param.dtype.type
    decay = 1 - lr * weight_decay if decoupled else 1.0
    coupled = 0.0 if decoupled else weight_decay
    use_threads()
    _adam(param, grad, exp_avg, exp_avg_sq, real(lr / (1 - beta1 ** step)), real(1 - beta1), real(beta2),
          real(1 - beta2), real(math.sqrt(1 - beta2 ** step)), real(eps), real(coupled), real(decay), maximize)


@numba.njit(parallel=True, cache=True)
def _adam(param, grad, exp_avg, exp_avg_sq, step_size, one_minus_beta1, beta2, one_minus_beta2, bias2_sqrt,
          eps, weight_decay, decay, maximize):
    for i in numba.prange(param.size):
        p = param[i]
        if decay != 1:
            p = p * decay
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + p * weight_decay
        m = exp_avg[i] + (g - exp_avg[i]) * one_minus_beta1
        v = exp_avg_sq[i] * beta2 + (g * g) * one_minus_beta2
        exp_avg[i] = m
        exp_avg_sq[i] = v
        param[i] = p - (m / (np.sqrt(v) / bias2_sqrt + eps)) * step_size


def rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps, weight_decay, momentum, centered,
            maximize):
    """RMSprop's step on one flat parameter, in place: RMSprop.update's formula
    (minigrad/optim/rmsprop.py) in its arithmetic order, with g = grad (-grad with maximize):

        g <- g + weight_decay p
        v <- v alpha + g^2 (1 - alpha)
        centered:  a <- a + (g - a)(1 - alpha),  d = sqrt(v - a^2) + eps;   otherwise d = sqrt(v) + eps
        momentum:  b <- b momentum + g / d,  p <- p - b lr;                 otherwise p <- p - (g / d) lr

    `grad` is only read.
    """
    real = param.dtype.type
    use_threads()
    _rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, real(lr), real(alpha), real(1 - alpha), real(eps),
             real(weight_decay), real(momentum), centered, maximize)


@numba.njit(parallel=True, cache=True)
def _rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, one_minus_alpha, eps, weight_decay,
             momentum, centered, maximize):
    for i in numba.prange(param.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + param[i] * weight_decay
        v = square_avg[i] * alpha + (g * g) * one_minus_alpha
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
