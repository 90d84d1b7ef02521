"""Elementwise arithmetic: + - * / **, exp, log, sqrt, abs, clamp, maximum, where, casts.

Binary ops broadcast like NumPy. Their backward returns gradients of the
broadcast shape; the engine's `unbroadcast` sums them back to each input's shape.
"""

import numpy as np

from .. import backend
from ..autograd import Function, composite, is_grad_enabled
from ..tensor import DEFAULT_FLOAT, Tensor, as_tensor
from .shape import wrap_dim


class Add(Function):
    """z = x + y.   dz/dx = 1,  dz/dy = 1."""
    saves_inputs = False

    def forward(self, x, y):
        return x + y

    def backward(self, grad):
        return grad, grad


class Sub(Function):
    """z = x - y.   dz/dx = 1,  dz/dy = -1."""
    saves_inputs = False

    def forward(self, x, y):
        return x - y

    def backward(self, grad):
        return grad, (-grad if self.needs_input_grad[1] else None)


class Mul(Function):
    """z = x * y.   dz/dx = y,  dz/dy = x."""

    def forward(self, x, y):
        return x * y

    def backward(self, grad):
        x, y = self.inputs
        dx = grad * y if self.needs_input_grad[0] else None
        dy = grad * x if self.needs_input_grad[1] else None
        return dx, dy


class Div(Function):
    """z = x / y.   dz/dx = 1/y,  dz/dy = -x/y^2."""

    def forward(self, x, y):
        return x / y

    def backward(self, grad):
        x, y = self.inputs
        dx = grad / y if self.needs_input_grad[0] else None
        dy = -grad * x / (y * y) if self.needs_input_grad[1] else None
        return dx, dy


class Neg(Function):
    """z = -x.   dz/dx = -1."""
    saves_inputs = False

    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class Pow(Function):
    """z = x ** y.   dz/dx = y x^(y-1)  (0 where y = 0),
    dz/dy = x^y ln x  (0 at x = 0; only needed when y requires grad)."""
    saves_output = True

    def forward(self, x, y):
        return x ** y

    def backward(self, grad):
        x, y = self.inputs
        dx = dy = None
        if self.needs_input_grad[0]:
            # x^0 = 1 has slope 0, but 0 * x^-1 is NaN at x = 0 (and overflows for tiny x): take
            # exponent 1 where y = 0. A y that requires grad keeps y - 1 (d/dy needs it) but at x = 0.
            flat = y.array == 0 if not y.requires_grad else (y.array == 0) & (x.array == 0)
            exponent = where(flat, 1.0, y - 1)
            dx = grad * y * x ** exponent
        if self.needs_input_grad[1]:
            # x^y ln x -> 0 as x -> 0 (for y >= 0, as PyTorch), but 0 * ln 0 is NaN: take ln 1 there
            dy = grad * self.output * log(where(x.array == 0, 1.0, x))
        return dx, dy


class Exp(Function):
    """y = e^x.   dy/dx = e^x = y."""
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return backend.array_module(x).exp(x)

    def backward(self, grad):
        return grad * self.output


class Log(Function):
    """y = ln x.   dy/dx = 1/x."""

    def forward(self, x):
        return backend.array_module(x).log(x)

    def backward(self, grad):
        return grad / self.inputs[0]


class Sqrt(Function):
    """y = sqrt(x).   dy/dx = 1 / (2 sqrt(x)) = 1 / (2y)."""
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return backend.array_module(x).sqrt(x)

    def backward(self, grad):
        return grad / (2 * self.output)


class Abs(Function):
    """y = |x|.   dy/dx = sign(x)  (0 at x = 0, as PyTorch)."""

    def forward(self, x):
        xp = backend.array_module(x)
        self.sign = xp.sign(x)
        return xp.abs(x)

    def backward(self, grad):
        return grad * self.sign


class Clamp(Function):
    """y = min(max(x, low), high).   dy/dx = 1 where low <= x <= high, else 0."""

    def forward(self, x, low=None, high=None):
        xp = backend.array_module(x)
        self.inside = xp.ones(x.shape, dtype=bool)
        if low is not None:
            self.inside &= x >= low
        if high is not None:
            self.inside &= x <= high
        return xp.clip(x, low, high)

    def backward(self, grad):
        return grad * self.inside


class Maximum(Function):
    """z = max(x, y), elementwise.   dz/dx = 1 where x > y, 1/2 on ties, else 0 (dz/dy likewise)."""

    def forward(self, x, y):
        dtype = np.result_type(x.dtype, y.dtype)
        self.x_share = (x > y).astype(dtype) + (x == y).astype(dtype) / 2
        return backend.array_module(x).maximum(x, y)

    def backward(self, grad):
        dx = grad * self.x_share if self.needs_input_grad[0] else None
        dy = grad * (1 - self.x_share) if self.needs_input_grad[1] else None
        return dx, dy


class Where(Function):
    """z = x where condition else y.   dz/dx = condition,  dz/dy = not condition."""
    saves_inputs = False

    def forward(self, x, y, condition):
        self.condition = condition
        return backend.array_module(x).where(condition, x, y)

    def backward(self, grad):
        dx = where(self.condition, grad, 0.0) if self.needs_input_grad[0] else None
        dy = where(self.condition, 0.0, grad) if self.needs_input_grad[1] else None
        return dx, dy


class Cast(Function):
    """y = x as another dtype.   dy/dx = 1 (the gradient is cast back by the engine)."""
    saves_inputs = False

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, grad):
        return grad  # the engine casts it back to the input's dtype (a Cast, so it is recorded too)


class ToDevice(Function):
    """y = x on another device.   dy/dx = 1 (the gradient goes back to x's device)."""
    saves_inputs = False

    def forward(self, x, device):
        self.source = backend.device_of(x)
        return backend.to_device(x, device)

    def backward(self, grad):
        return to_device(grad, self.source)


class Clone(Function):
    """y = a copy of x.   dy/dx = 1."""
    saves_inputs = False

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return grad

# --- the functions users call ---------------------------------------------------------

def _pair(x, y):
    """Both operands as Tensors; a Python number takes the other operand's dtype.

    As in PyTorch, an integer tensor meeting a float tensor takes the float's dtype
    (NumPy alone would turn int64 * float32 into float64).
    """
    if not isinstance(x, Tensor):
        x = as_tensor(x, like=y)
    elif not isinstance(y, Tensor):
        y = as_tensor(y, like=x)
    x_kind, y_kind = x.array.dtype.kind, y.array.dtype.kind
    if x_kind in "biu" and y_kind == "f":
        x = Tensor._wrap(x.array.astype(y.array.dtype), False)
    elif y_kind in "biu" and x_kind == "f":
        y = Tensor._wrap(y.array.astype(x.array.dtype), False)
    return x, y


def add(x, y):
    return Add.apply(*_pair(x, y))


def sub(x, y):
    return Sub.apply(*_pair(x, y))


def mul(x, y):
    return Mul.apply(*_pair(x, y))


def div(x, y):
    x, y = _pair(x, y)
    if x.array.dtype.kind in "biu" and y.array.dtype.kind in "biu":  # true division gives float32, as PyTorch
        x, y = cast(x, DEFAULT_FLOAT), cast(y, DEFAULT_FLOAT)
    return Div.apply(x, y)


def neg(x):
    return Neg.apply(x)


def pow(x, y):
    return Pow.apply(*_pair(x, y))


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def abs(x):
    return Abs.apply(x)


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp() needs at least one of min and max")
    return Clamp.apply(x, low=min, high=max)


def maximum(x, y):
    return Maximum.apply(*_pair(x, y))


@composite
def minimum(x, y):
    """min(x, y) = -max(-x, -y)."""
    x, y = _pair(x, y)
    return -Maximum.apply(-x, -y)


def where(condition, x, y):
    """x where condition is true, else y (condition is not differentiated)."""
    x, y = _pair(x, y)
    if isinstance(condition, Tensor):
        # Kept for backward, so a private copy: changing the condition tensor in place before
        # backward must not change the gradient. No graph, no backward, no copy.
        tracking = is_grad_enabled() and (x.requires_grad or y.requires_grad)
        condition = condition.array.copy() if tracking else condition.array
    return Where.apply(x, y, condition=condition)


def cast(x, dtype):
    return Cast.apply(x, dtype=dtype)


def to_device(x, device):
    return ToDevice.apply(x, device=device)


def clone(x):
    return Clone.apply(x)


def compare(x, y, ufunc_name):
    """An elementwise comparison as a boolean tensor outside the graph."""
    x, y = _pair(x, y)
    xp = backend.array_module(x.array)
    return Tensor._wrap(getattr(xp, ufunc_name)(x.array, y.array), False)


def argmax(x, dim=None, keepdim=False):
    return _arg(x, dim, keepdim, "argmax")


def argmin(x, dim=None, keepdim=False):
    return _arg(x, dim, keepdim, "argmin")


def _arg(x, dim, keepdim, name):
    xp = backend.array_module(x.array)
    if dim is not None:
        dim = wrap_dim(dim, x.shape, name)
    result = getattr(xp, name)(x.array, axis=dim, keepdims=keepdim if dim is not None else False)
    return Tensor._wrap(xp.asarray(result, dtype=np.int64), False)
