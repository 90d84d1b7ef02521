"""Activations: relu, leaky_relu, sigmoid, tanh, gelu, softplus, softmax, log_softmax; and dropout.
Composites (made of other ops, with no backward of their own): prelu, elu, dropout2d.

The ones that involve exp are written so that no input up to |x| = 1e4 gives an
overflow, a NaN or an inf.
"""

import math

from .. import backend, parallel
from ..autograd import Function
from .elementwise import clamp, where
from .special import erf, erf_array
from .shape import wrap_dim


class ReLU(Function):
    """y = max(x, 0).   dy/dx = 1 where x > 0, else 0."""
    saves_inputs = False

    def forward(self, x):
        xp = backend.array_module(x)
        out, self.positive = xp.empty_like(x), xp.empty_like(x, dtype=bool)

        def block(rows):  # blocks of samples over the pool (minigrad.parallel)
            xp.greater(x[rows], 0, out=self.positive[rows])
            xp.maximum(x[rows], 0, out=out[rows])

        parallel.spread_rows(x, block)
        return out

    def backward(self, grad):
        return grad * self.positive

    def fast_backward(self, grad):
        return times(grad, self.positive)


def times(grad, factor):
    """grad * factor (an array of grad's shape), in blocks of samples over the pool."""
    xp = backend.array_module(grad)
    out = xp.empty_like(grad)

    def block(rows):
        xp.multiply(grad[rows], factor[rows], out=out[rows])

    parallel.spread_rows(grad, block)
    return out


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x.   dy/dx = 1 where x > 0, else slope.

    The slope map (1 or slope per element) is built once in forward and serves both
    directions; np.where would be an order of magnitude slower on large arrays.
    """
    saves_inputs = False

    def forward(self, x, slope=0.01):
        xp = backend.array_module(x)
        out, slope_map = xp.empty_like(x), xp.empty_like(x)  # dy/dx: 1 or slope, and y = x * dy/dx

        def block(rows):  # blocks of samples over the pool (minigrad.parallel)
            xp.greater(x[rows], 0, out=slope_map[rows])      # 1.0 or 0.0
            slope_map[rows] *= 1 - slope
            slope_map[rows] += slope
            xp.multiply(x[rows], slope_map[rows], out=out[rows])

        parallel.spread_rows(x, block)
        self.slope_map = slope_map
        return out

    def backward(self, grad):
        return grad * self.slope_map

    def fast_backward(self, grad):
        return times(grad, self.slope_map)


class Sigmoid(Function):
    """s = 1 / (1 + e^-x).   ds/dx = s (1 - s)."""
    saves_inputs, saves_output = False, True

    def forward(self, x):
        self.out = stable_sigmoid(x)
        return self.out

    def backward(self, grad):
        s = self.output
        return grad * s * (1 - s)

    def fast_backward(self, grad):
        return grad * self.out * (1 - self.out)


def stable_sigmoid(x):
    """1/(1+e^-x) without overflow: with e = e^-|x| <= 1, it is 1/(1+e) for x >= 0 and e/(1+e) below.

    The numerator, 1 or e, is max(e, x >= 0) (as e <= 1): no np.where, which is slow.
    """
    xp = backend.array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.maximum(e, x >= 0) / (1 + e)


class Tanh(Function):
    """t = tanh(x).   dt/dx = 1 - t^2."""
    saves_inputs, saves_output = False, True

    def forward(self, x):
        self.out = backend.array_module(x).tanh(x)
        return self.out

    def backward(self, grad):
        t = self.output
        return grad * (1 - t * t)

    def fast_backward(self, grad):
        return grad * (1 - self.out * self.out)


class GELU(Function):
    """y = x Phi(x), Phi the standard normal CDF.   dy/dx = Phi(x) + x phi(x).

    approximate="tanh":  y = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3),
                         dy/dx = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """

    def forward(self, x, approximate="none"):
        xp = backend.array_module(x)
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            self.tanh_u = xp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))
            return 0.5 * x * (1 + self.tanh_u)
        if approximate != "none":
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.cdf = 0.5 * (1 + erf_array(x * (1 / math.sqrt(2))))
        return x * self.cdf

    def backward(self, grad):
        x = self.inputs[0]
        if self.approximate == "tanh":
            tanh_u = tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))
            du_dx = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + tanh_u) + 0.5 * x * (1 - tanh_u * tanh_u) * du_dx)
        cdf = 0.5 * (1 + erf(x * (1 / math.sqrt(2))))
        pdf = (-0.5 * x * x).exp() * (1 / math.sqrt(2 * math.pi))
        return grad * (cdf + x * pdf)

    def fast_backward(self, grad):
        """backward on raw arrays, reusing forward's erf (about 100 passes over x)."""
        xp = backend.array_module(grad)
        x = self.x
        if self.approximate == "tanh":
            du_dx = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + self.tanh_u) + 0.5 * x * (1 - self.tanh_u ** 2) * du_dx)
        pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return grad * (self.cdf + x * pdf)


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
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        self.dim = dim
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
        shifted = x - x.max(axis=dim, keepdims=True)
        self.dim = dim
        self.out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        return self.out

    def backward(self, grad):
        return grad - self.output.exp() * grad.sum(dim=self.dim, keepdim=True)

    def fast_backward(self, grad):
        xp = backend.array_module(grad)
        return grad - xp.exp(self.out) * grad.sum(axis=self.dim, keepdims=True)


class Dropout(Function):
    """y = x * mask / (1 - p), mask ~ Bernoulli(1 - p).   dy/dx = mask / (1 - p)."""
    saves_inputs = False

    def forward(self, x, p):
        rng = backend.generator(backend.device_of(x))
        keep = rng.random(x.shape, dtype=x.dtype if x.dtype.kind == "f" else "float32") >= p
        self.scale = keep * x.dtype.type(1 / (1 - p))
        return x * self.scale

    def backward(self, grad):
        return grad * self.scale

    def fast_backward(self, grad):
        return grad * self.scale


# --- the functions users call (also exported by minigrad.nn.functional) -------------------

def relu(x):
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU.apply(x, slope=negative_slope)


def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


def gelu(x, approximate="none"):
    return GELU.apply(x, approximate=approximate)


def elu(input, alpha=1.0):
    return ELU.apply(input, alpha=alpha)


def softplus(x, beta=1.0, threshold=20.0):
    return Softplus.apply(x, beta=beta, threshold=threshold)


def softmax(x, dim):
    return Softmax.apply(x, dim=wrap_dim(dim, x.shape, "softmax"))


def log_softmax(x, dim):
    return LogSoftmax.apply(x, dim=wrap_dim(dim, x.shape, "log_softmax"))


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

import warnings  # noqa: E402

from ..autograd import composite  # noqa: E402
from ..tensor import Tensor  # noqa: E402


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
def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels: y = x * mask / (1 - p), one Bernoulli(1 - p) draw per (sample, channel).

    For (N, C, H, W) input (or (N, C, L), as PyTorch, with its warning). A mul by a constant mask,
    so dy/dx = mask / (1 - p). `inplace` is accepted and ignored (the result is a new tensor).
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected (N, C, H, W) input, got shape {input.shape}")
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
