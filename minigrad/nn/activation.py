"""Activation modules: thin wrappers that call minigrad.nn.functional in forward.

`inplace=True` (ReLU, LeakyReLU, ELU, Hardtanh, ReLU6, SELU, CELU, SiLU, Mish, Hardsigmoid,
Hardswish, Threshold) writes the result into the input, as PyTorch, and returns the input.
"""

import warnings

from .. import ops
from ..ops.activation import implicit_softmax_dim as _implicit_dim
from . import functional as F
from .module import Module


def implicit_softmax_dim(ndim, name="softmax"):
    """PyTorch's rule for a softmax module built without `dim` (deprecated there, with a warning):
    dim 0 for 0-, 1- and 3-D input (a 3-D input is taken as one unbatched (C, H, W) image), else dim 1."""
    return _implicit_dim(ndim, name, stacklevel=5)


class _InPlace(Module):
    """An activation with PyTorch's `inplace` flag, shown in its repr as PyTorch shows it."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_InPlace):
    """max(x, 0)."""

    def forward(self, x):
        return F.relu(x, self.inplace)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x if x > 0 else alpha * (e^x - 1)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1))."""

    def forward(self, x):
        return F.celu(x, self.alpha, self.inplace)


class SELU(_InPlace):
    """scale * elu(x, alpha), with the self-normalising constants."""

    def forward(self, x):
        return F.selu(x, self.inplace)


class Hardtanh(Module):
    """min(max(x, min_val), max_val)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and rename to `min_val`", FutureWarning,
                          stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and rename to `max_val`", FutureWarning,
                          stacklevel=2)
            max_val = max_value
        if not max_val > min_val:  # as PyTorch (an assert there)
            raise AssertionError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class SiLU(_InPlace):
    """x * sigmoid(x)."""

    def forward(self, x):
        return F.silu(x, self.inplace)


class Mish(_InPlace):
    """x * tanh(softplus(x))."""

    def forward(self, x):
        return F.mish(x, self.inplace)


class Hardsigmoid(_InPlace):
    """relu6(x + 3) / 6."""

    def forward(self, x):
        return F.hardsigmoid(x, self.inplace)


class Hardswish(_InPlace):
    """x * relu6(x + 3) / 6."""

    def forward(self, x):
        return F.hardswish(x, self.inplace)


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x):
        return F.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + e^-x)."""

    def forward(self, x):
        return ops.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return ops.tanh(x)


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, x):
        return ops.softsign(x)


class LogSigmoid(Module):
    """ln sigmoid(x)."""

    def forward(self, x):
        return ops.logsigmoid(x)


class Tanhshrink(Module):
    """x - tanh(x)."""

    def forward(self, x):
        return ops.tanhshrink(x)


class Softshrink(Module):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return ops.softshrink(x, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x where |x| > lambd, else 0."""

    def forward(self, x):
        return ops.hardshrink(x, self.lambd)


class GLU(Module):
    """a * sigmoid(b), a and b the halves of the input along `dim`."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return ops.glu(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class GELU(Module):
    """x * Phi(x) (approximate='none', with erf) or its tanh approximation (approximate='tanh')."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return ops.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """(1/beta) ln(1 + e^(beta x)), linear above the threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return ops.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """e^x / sum e^x along `dim` (without a dim, PyTorch's implicit choice, with its warning)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        dim = self.dim if self.dim is not None else implicit_softmax_dim(x.ndim)
        return ops.softmax(x, dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """x - ln sum e^x along `dim` (without a dim, PyTorch's implicit choice, with its warning)."""

    def forward(self, x):
        dim = self.dim if self.dim is not None else implicit_softmax_dim(x.ndim, "log_softmax")
        return ops.log_softmax(x, dim)


class Softmin(Softmax):
    """softmax(-x) along `dim` (without a dim, PyTorch's implicit choice, with its warning)."""

    def forward(self, x):
        dim = self.dim if self.dim is not None else implicit_softmax_dim(x.ndim, "softmin")
        return ops.softmin(x, dim)


class Softmax2d(Module):
    """Softmax over the channels of each pixel of (N, C, H, W) or (C, H, W) input."""

    def forward(self, x):
        return ops.softmax2d(x)
