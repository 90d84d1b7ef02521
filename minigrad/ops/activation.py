"""Activations: relu, leaky_relu, sigmoid, tanh, gelu, softplus, softmax, log_softmax; and dropout.
Composites (made of other ops, with no backward of their own): prelu, elu, dropout2d, and the rest
of torch.nn.functional's activations: hardtanh, relu6, hardsigmoid, hardswish, silu, mish, selu,
celu, softsign, logsigmoid, tanhshrink, softshrink, hardshrink, threshold, glu, softmin.

The ones that involve exp are written so that no input up to |x| = 1e4 gives an
overflow, a NaN or an inf.
"""

import math
import warnings

import numpy as np

from .. import backend, kernels
from ..autograd import Function, composite
from ..tensor import Tensor
from .elementwise import _floating, cast, clamp, exp, log, where
from .special import erf, erf_array
from .shape import wrap_dim


class ReLU(Function):
    """y = max(x, 0).   dy/dx = 1 where x > 0, else 0."""
    saves_inputs = False

    def forward(self, x):
        out, self.positive = kernels.relu(x)
        return out

    def backward(self, grad):
        return Scale.apply(grad, factor=self.positive)


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x.   dy/dx = 1 where x > 0, else slope (LeakyReLUBackward, from x)."""

    def forward(self, x, slope=0.01):
        self.slope = slope
        return kernels.leaky_relu(x, slope)

    def backward(self, grad):
        return LeakyReLUBackward.apply(grad, x=self.inputs[0].array, slope=self.slope)


class LeakyReLUBackward(Function):
    """y = g m, with m = 1 where x > 0, else slope: the gradient of leaky_relu(x), given the
    gradient g of its output. m is built from x in the same pass, as forward built it.

    dy/dg = m (y is linear in g; x is a constant here: m is piecewise constant in x, its
    gradient 0 almost everywhere).
    """
    saves_inputs = False

    def forward(self, grad, x, slope):
        self.x, self.slope = x, slope
        return kernels.leaky_relu_backward(grad, x, slope)

    def backward(self, grad):
        return LeakyReLUBackward.apply(grad, x=self.x, slope=self.slope)


class Scale(Function):
    """y = g * m, m a constant array of g's shape: the gradient of an op whose derivative is a
    fixed factor per element (ReLU's 0/1 mask, dropout's 0 or 1/(1-p)).

    dy/dg = m (y is linear in g; m has no gradient: it is constant, or piecewise so).
    """
    saves_inputs = False

    def forward(self, grad, factor):
        self.factor = factor
        return kernels.multiply(grad, factor)

    def backward(self, grad):
        return Scale.apply(grad, factor=self.factor)


class Sigmoid(Function):
    """s = 1 / (1 + e^-x).   ds/dx = s (1 - s)."""
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return stable_sigmoid(x)

    def backward(self, grad):
        return SigmoidBackward.apply(grad, self.output)


class SigmoidBackward(Function):
    """y = g s (1 - s): the gradient of the sigmoid s, given the gradient g of its output.

    dy/dg = s (1 - s),   dy/ds = g (1 - 2 s).
    """

    def forward(self, grad, s):
        return grad * s * (1 - s)

    def backward(self, grad):
        g, s = self.inputs
        dg = SigmoidBackward.apply(grad, s) if self.needs_input_grad[0] else None
        ds = grad * g * (1 - 2 * s) if self.needs_input_grad[1] else None
        return dg, ds


def stable_sigmoid(x):
    """1/(1+e^-x) without overflow: with e = e^-|x| <= 1, it is 1/(1+e) for x >= 0 and e/(1+e) below.

    The numerator, 1 or e, is max(e, x >= 0) (as e <= 1): no np.where, which is slow (kernels.sigmoid).
    """
    return kernels.sigmoid(x)


class Tanh(Function):
    """t = tanh(x).   dt/dx = 1 - t^2."""
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return backend.array_module(x).tanh(x)

    def backward(self, grad):
        return TanhBackward.apply(grad, self.output)


class TanhBackward(Function):
    """y = g (1 - t^2): the gradient of t = tanh(x), given the gradient g of its output.

    dy/dg = 1 - t^2,   dy/dt = -2 g t.
    """

    def forward(self, grad, t):
        return grad * (1 - t * t)

    def backward(self, grad):
        g, t = self.inputs
        dg = TanhBackward.apply(grad, t) if self.needs_input_grad[0] else None
        dt = -2 * grad * g * t if self.needs_input_grad[1] else None
        return dg, dt


class GELU(Function):
    """y = x Phi(x), Phi the standard normal CDF.   dy/dx = Phi(x) + x phi(x).

    approximate="tanh":  y = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3),
                         dy/dx = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """

    def forward(self, x, approximate="none"):
        xp = backend.array_module(x)
        self.approximate = approximate
        if approximate == "tanh":
            return 0.5 * x * (1 + xp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
        if approximate != "none":
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return x * (0.5 * (1 + erf_array(x * (1 / math.sqrt(2)))))

    def backward(self, grad):
        x = self.inputs[0]
        if self.approximate == "tanh":
            tanh_u = tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))
            du_dx = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + tanh_u) + 0.5 * x * (1 - tanh_u * tanh_u) * du_dx)
        cdf = 0.5 * (1 + erf(x * (1 / math.sqrt(2))))
        pdf = (-0.5 * x * x).exp() * (1 / math.sqrt(2 * math.pi))
        return grad * (cdf + x * pdf)


class ELU(Function):
    """y = x where x > 0, else alpha (e^x - 1)   (Clevert et al. 2016; BEGAN's activation).
    dy/dx = 1 where x > 0, else alpha e^x (alpha at x = 0, as PyTorch).

    The exponential only ever sees min(x, 0), so a large x cannot overflow it. One op rather than
    a composite of relu, exp and four arithmetic ops: a graph keeps every tensor given to its ops,
    and those six intermediate arrays per ELU took 0.9 GB of a BEGAN step (batch 16); this keeps
    its input only.
    """

    def forward(self, x, alpha=1.0):
        xp = backend.array_module(x)
        self.alpha = alpha
        out = xp.expm1(xp.minimum(x, 0))
        out *= alpha
        out += xp.maximum(x, 0)
        return out

    def backward(self, grad):
        x = self.inputs[0]
        return grad * where(x > 0, 1.0, self.alpha * clamp(x, max=0).exp())


class Softplus(Function):
    """y = (1/beta) ln(1 + e^(beta x)), and y = x where beta x > threshold.

    dy/dx = sigmoid(beta x) (1 above the threshold). Computed as
    max(bx, 0) + ln(1 + e^-|bx|) so that no exp overflows.
    """

    def forward(self, x, beta=1.0, threshold=20.0):
        xp = backend.array_module(x)
        bx = x * beta
        self.beta, self.linear = beta, bx > threshold
        smooth = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
        return xp.where(self.linear, x, smooth)

    def backward(self, grad):
        x = self.inputs[0]
        return grad * where(self.linear, 1.0, sigmoid(x * self.beta))


class Softmax(Function):
    """s_i = e^(x_i) / sum_j e^(x_j) along `dim`.   dL/dx = s * (g - sum(g * s))."""
    saves_inputs, saves_output = False, True

    def forward(self, x, dim):
        xp = backend.array_module(x)
        self.dim = dim
        if x.size == 0:  # nothing to normalise (and max over an empty dim would fail)
            self.out = x.copy()
            return self.out
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        self.out = e / e.sum(axis=dim, keepdims=True)
        return self.out

    def backward(self, grad):
        s = self.output
        return s * (grad - (grad * s).sum(dim=self.dim, keepdim=True))


class LogSoftmax(Function):
    """y_i = x_i - ln sum_j e^(x_j) along `dim`.   dL/dx = g - softmax(x) * sum(g)."""
    saves_inputs, saves_output = False, True

    def forward(self, x, dim):
        xp = backend.array_module(x)
        self.dim = dim
        if x.size == 0:
            self.out = x.copy()
            return self.out
        shifted = x - x.max(axis=dim, keepdims=True)
        self.out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        return self.out

    def backward(self, grad):
        return grad - self.output.exp() * grad.sum(dim=self.dim, keepdim=True)


class Dropout(Function):
    """y = x * mask / (1 - p), mask ~ Bernoulli(1 - p).   dy/dx = mask / (1 - p)."""
    saves_inputs, draws_random = False, True

    def forward(self, x, p):
        rng = backend.generator(backend.device_of(x))
        keep = rng.random(x.shape, dtype=x.dtype if x.dtype.kind == "f" else "float32") >= p
        self.scale = keep * x.dtype.type(1 / (1 - p))
        return x * self.scale

    def backward(self, grad):
        return Scale.apply(grad, factor=self.scale)


# --- the functions users call (also exported by minigrad.nn.functional) -------------------

def relu(x):
    if x.dtype == bool:
        raise RuntimeError("Boolean inputs not supported for relu")
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU.apply(x, slope=negative_slope)


def sigmoid(x):
    return Sigmoid.apply(_floating(x))  # of integers: the default float dtype, as PyTorch


def tanh(x):
    return Tanh.apply(_floating(x))


def gelu(x, approximate="none"):
    return GELU.apply(x, approximate=approximate)


TORCH_DTYPE_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
                     "int64": "Long"}


def _refuse_non_floating(name, x):
    """As PyTorch: these activations have no integer or bool kernels (convert with .float())."""
    if x.dtype.kind != "f":
        dtype = TORCH_DTYPE_NAMES.get(str(x.dtype), str(x.dtype))
        raise NotImplementedError(f'"{name}" not implemented for \'{dtype}\' (a {x.dtype} tensor of shape '
                                  f'{tuple(x.shape)}); convert it with .float()')


def elu(input, alpha=1.0):
    _refuse_non_floating("elu", input)
    return ELU.apply(input, alpha=alpha)


def softplus(x, beta=1.0, threshold=20.0):
    _refuse_non_floating("softplus", x)
    return Softplus.apply(x, beta=beta, threshold=threshold)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """e^x / sum e^x along `dim`; `dtype` casts the input first (as PyTorch, to compute in float64).
    Without a dim, PyTorch's implicit choice, with its warning (_stacklevel places the warning)."""
    input, dim = _softmax_args(input, dim, _stacklevel, dtype, "softmax")
    return Softmax.apply(input, dim=wrap_dim(dim, input.shape, "softmax"))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - ln sum e^x along `dim`; `dtype` and the implicit dim as softmax."""
    input, dim = _softmax_args(input, dim, _stacklevel, dtype, "log_softmax")
    return LogSoftmax.apply(input, dim=wrap_dim(dim, input.shape, "log_softmax"))


def _softmax_args(input, dim, stacklevel, dtype, name):
    if dim is None:
        dim = implicit_softmax_dim(input.ndim, name, stacklevel + 1)
    if dtype is not None and input.dtype != np.dtype(dtype):
        input = cast(input, dtype)
    _refuse_non_floating(name, input)
    return input, dim


def implicit_softmax_dim(ndim, name="softmax", stacklevel=4):
    """PyTorch's rule for a softmax called without `dim` (deprecated there, with a warning):
    dim 0 for 0-, 1- and 3-D input (a 3-D input is taken as one unbatched (C, H, W) image), else dim 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  f"as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1-p); identity when not training."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    return Dropout.apply(x, p=p)


# --- composites: prelu, channel dropout ----------------------------------------------------------


@composite
def prelu(input, weight):
    """y = x where x > 0, else w x; w is one number or one per channel (dim 1).
    Made of relu: y = relu(x) - w relu(-x), so dy/dx = 1 or w, and dy/dw = min(x, 0)."""
    if weight.numel() != 1:
        if input.ndim < 2 or input.shape[1] != weight.numel():
            raise ValueError(f"prelu: {weight.numel()} weights need input with {weight.numel()} channels "
                             f"in dim 1, got shape {input.shape}")
        weight = weight.reshape((-1,) + (1,) * (input.ndim - 2))
    return relu(input) - weight * relu(-input)


@composite
def dropout2d(input, p=0.5, training=True):
    """Zero whole channels: y = x * mask / (1 - p), one Bernoulli(1 - p) draw per (sample, channel).

    For (N, C, H, W) input (or (N, C, L); other ranks of 2 or more as PyTorch, with its warning:
    a 2-D input drops single elements). A mul by a constant mask,
    so dy/dx = mask / (1 - p). (F.dropout2d adds PyTorch's `inplace` flag.)
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim < 2:
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input, got shape {input.shape}")
    if input.ndim not in (3, 4):  # PyTorch still drops whole (sample, channel) slices, and warns
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                      f"result in an error in a future release. To retain the behavior and silence this warning, "
                      f"please use dropout instead. Note that dropout2d exists to provide channel-wise dropout on "
                      f"inputs with 2 spatial dimensions, a channel dimension, and an optional batch dimension "
                      f"(i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim.",
                      UserWarning, stacklevel=2)
    if not training or p == 0:
        return input
    xp = backend.array_module(input.array)
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    draws = backend.generator(input.device).random(mask_shape)
    scale = 0.0 if p == 1 else 1.0 / (1 - p)
    mask = xp.asarray(draws >= p, dtype=input.dtype) * input.dtype.type(scale)
    return input * Tensor._wrap(mask, False)


# --- more activations, as composites of the ops above ------------------------------------------
#
# Each reads as its formula. Where PyTorch's derivative at a kink differs from what the product
# and chain rules would give, the kink is stated in the docstring and a `where` keeps PyTorch's.

@composite
def hardtanh(input, min_val=-1.0, max_val=1.0):
    """y = min(max(x, min_val), max_val).   dy/dx = 1 strictly between the bounds, else 0
    (0 at both bounds, as PyTorch; clamp's slope there is 1)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    xp = backend.array_module(input.array)
    inside = (input.array > min_val) & (input.array < max_val)
    return where(inside, input, Tensor._wrap(xp.clip(input.array, min_val, max_val), False))


@composite
def relu6(input):
    """y = min(max(x, 0), 6) = hardtanh(x, 0, 6).   dy/dx = 1 for 0 < x < 6, else 0."""
    return hardtanh(input, 0.0, 6.0)


@composite
def hardsigmoid(input):
    """y = relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between.   dy/dx = 1/6 for -3 < x < 3, else 0."""
    return hardtanh(input + 3, 0.0, 6.0) / 6


@composite
def hardswish(input):
    """y = x hardsigmoid(x) (MobileNetV3).   dy/dx = 0 for x <= -3, x/3 + 1/2 for -3 < x < 3, 1 for x >= 3."""
    return input * hardsigmoid(input)


@composite
def silu(input):
    """y = x sigmoid(x) (also called swish).   dy/dx = s (1 + x (1 - s)), s = sigmoid(x)."""
    return input * sigmoid(input)


@composite
def mish(input):
    """y = x tanh(softplus(x)) (Misra 2019).   dy/dx = tanh(sp) + x sigmoid(x) (1 - tanh^2(sp)), sp = softplus(x)."""
    return input * tanh(softplus(input))


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@composite
def selu(input):
    """y = scale elu(x, alpha), with PyTorch's constants (Klambauer et al. 2017, self-normalising).
    dy/dx = scale for x > 0, else scale alpha e^x."""
    return SELU_SCALE * elu(input, SELU_ALPHA)


@composite
def celu(input, alpha=1.0):
    """y = max(0, x) + min(0, alpha (e^(x/alpha) - 1)).   dy/dx = 1 for x > 0, else e^(x/alpha) (1 at 0).

    As elu: the exponential sees only m = min(x, 0) = x - relu(x), so it cannot overflow."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    _refuse_non_floating("celu", input)
    positive_part = relu(input)
    negative_part = input - positive_part
    return positive_part + alpha * (exp(negative_part / alpha) - 1)


@composite
def softsign(input):
    """y = x / (1 + |x|).   dy/dx = 1 / (1 + |x|)^2."""
    return input / (1 + input.abs())


@composite
def logsigmoid(input):
    """y = ln sigmoid(x) = -ln(1 + e^-x), computed without overflow.   dy/dx = 1 - sigmoid(x)."""
    return -softplus_of_negative(input)


def softplus_of_negative(x):
    """ln(1 + e^-x) in ops, stable and smooth to any order: each branch sees only the inputs
    on which its exp cannot overflow (so no 0 * inf reaches a gradient either)."""
    positive = x.array >= 0
    x_pos, x_neg = where(positive, x, 0.0), where(positive, 0.0, x)
    return where(positive, log(1 + exp(-x_pos)), log(1 + exp(x_neg)) - x_neg)


@composite
def tanhshrink(input):
    """y = x - tanh(x).   dy/dx = tanh(x)^2."""
    return input - tanh(input)


@composite
def softshrink(input, lambd=0.5):
    """y = x - lambd above lambd, x + lambd below -lambd, 0 between.   dy/dx = 1 where |x| > lambd, else 0."""
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be at least 0, but found {lambd}")
    above, below = input.array > lambd, input.array < -lambd
    return where(above, input - lambd, where(below, input + lambd, 0.0))


@composite
def hardshrink(input, lambd=0.5):
    """y = x where |x| > lambd (x < -lambd or x > lambd), else 0.   dy/dx = 1 there, else 0."""
    outside = (input.array > lambd) | (input.array < -lambd)
    return where(outside, input, 0.0)


@composite
def threshold(input, threshold, value):
    """y = x where x > threshold, else value.   dy/dx = 1 where x > threshold, else 0."""
    return where(input.array > threshold, input, value)


@composite
def glu(input, dim=-1):
    """Gated linear unit: split x in halves a, b along `dim`; y = a sigmoid(b) (Dauphin et al. 2017).
    dy/da = sigmoid(b),  dy/db = a s (1 - s)."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = wrap_dim(dim, input.shape, "glu")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {size}")
    before = (slice(None),) * dim
    first, second = input[before + (slice(0, size // 2),)], input[before + (slice(size // 2, size),)]
    return first * sigmoid(second)


@composite
def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along `dim`: the smallest entries get the largest weights."""
    input, dim = _softmax_args(input, dim, _stacklevel, dtype, "softmin")
    return softmax(-input, dim)


def softmax2d(input):
    """Softmax over the channels of each pixel: dim -3 of (N, C, H, W) or (C, H, W) input (nn.Softmax2d)."""
    if input.ndim not in (3, 4):
        raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
    return softmax(input, -3)
