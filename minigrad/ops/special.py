"""Special functions: erf, the error function (NumPy has none), and its op.

GELU's exact form is x Phi(x), with the normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2.
"""

import math

import numpy as np

from .. import backend
from ..autograd import Function


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) * integral from 0 to x of e^(-t^2) dt.   dy/dx = 2/sqrt(pi) e^(-x^2)."""

    def forward(self, x):
        return erf_array(x)

    def backward(self, grad):
        x = self.inputs[0]
        return grad * (-(x * x)).exp() * (2 / math.sqrt(math.pi))


def erf(x):
    return Erf.apply(x)


def erf_array(x):
    """The error function of a raw array, elementwise, accurate to about 1e-15 in float64."""
    if backend.device_of(x) == "cuda":
        return backend.gpu_special("erf")(x)
    return _erf_numpy(x)


# Terms that bring each expansion below the dtype's rounding error (checked in tests/test_backend.py).
_ERF_TERMS = {np.dtype(np.float32): (26, 30), np.dtype(np.float64): (60, 80)}


def _erf_numpy(x):
    # NumPy has no erf. For |x| < 2.5 we sum the series
    #   erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n (2x^2)^n x / (1*3*...*(2n+1)),
    # whose terms are all positive (no cancellation). For |x| >= 2.5 we use the
    # continued fraction of erfc, evaluated bottom-up with a fixed depth. float32
    # inputs are computed in float32 with fewer terms (enough for float32).
    dtype = x.dtype if x.dtype in _ERF_TERMS else np.dtype(np.float64)
    a = np.abs(x.astype(dtype, copy=False)).reshape(-1)
    out = np.empty_like(a)
    block = 32768  # the ~100 passes per block then run in cache instead of through memory
    for start in range(0, a.size, block):
        out[start:start + block] = _erf_of_magnitude(a[start:start + block], dtype)
    return np.copysign(out.reshape(x.shape), x).astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


def _erf_of_magnitude(a, dtype):
    """erf(a) for a >= 0 (a 1-D block)."""
    series_terms, fraction_depth = _ERF_TERMS[dtype]
    out = np.empty_like(a)
    small = a < 2.5
    s = a[small]
    two_s2 = 2 * s * s
    term, total = s.copy(), s.copy()
    for n in range(1, series_terms):
        term *= two_s2
        term *= dtype.type(1 / (2 * n + 1))
        total += term
    out[small] = dtype.type(2 / math.sqrt(math.pi)) * np.exp(-s * s) * total

    b = a[~small]
    fraction = np.zeros_like(b)
    for k in range(fraction_depth, 0, -1):  # erfc(b) = exp(-b^2)/sqrt(pi) / (b + (1/2)/(b + 1/(b + (3/2)/(b + ...))))
        fraction += b
        np.divide(dtype.type(k / 2), fraction, out=fraction)
    out[~small] = 1 - np.exp(-b * b) * dtype.type(1 / math.sqrt(math.pi)) / (b + fraction)
    return out


