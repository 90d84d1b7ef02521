"""Elementwise arithmetic: + - * / // % **, exp, log, sqrt, abs, the trigonometric and hyperbolic
functions, rounding, clamp, maximum, where, casts; comparisons and logical ops (outside the graph).

Binary ops promote their operands' dtypes as PyTorch (promotion.py) and broadcast like NumPy.
Their backward returns gradients of the broadcast shape; the engine's `unbroadcast` sums them
back to each input's shape.
"""

import math

import numpy as np

from .. import backend
from ..autograd import Function, composite, is_grad_enabled
from ..tensor import Tensor, get_default_dtype
from .promotion import as_operand, promote, result_type
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
        with backend.quiet_float_errors(x):  # x/0 is inf or nan, as PyTorch, without NumPy's warning
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
        with backend.quiet_float_errors(x):  # log 0 = -inf, log of x < 0 is nan, as PyTorch
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


class Remainder(Function):
    """z = x - y floor(x / y)  (the sign of y, as Python's %).   dz/dx = 1,  dz/dy = -floor(x / y)."""

    def forward(self, x, y):
        _refuse_integer_division_by_zero(x, y)
        return backend.array_module(x).remainder(x, y)

    def backward(self, grad):
        x, y = self.inputs
        dy = -grad * div(x, y, rounding_mode="floor") if self.needs_input_grad[1] else None
        return grad, dy


class Fmod(Function):
    """z = x - y trunc(x / y)  (the sign of x, as C's fmod).   dz/dx = 1,  dz/dy = -trunc(x / y)."""

    def forward(self, x, y):
        _refuse_integer_division_by_zero(x, y)
        return backend.array_module(x).fmod(x, y)

    def backward(self, grad):
        x, y = self.inputs
        dy = -grad * div(x, y, rounding_mode="trunc") if self.needs_input_grad[1] else None
        return grad, dy


class Atan2(Function):
    """z = atan2(y, x), the angle of the point (x, y).   dz/dy = x / (x^2 + y^2),  dz/dx = -y / (x^2 + y^2)."""

    def forward(self, y, x):
        return backend.array_module(y).arctan2(y, x)

    def backward(self, grad):
        y, x = self.inputs
        radius2 = x * x + y * y
        scale = grad / where(radius2.array == 0, 1.0, radius2)  # 0 at the origin (x = y = 0), as PyTorch
        return (scale * x if self.needs_input_grad[0] else None,
                -scale * y if self.needs_input_grad[1] else None)


# --- unary functions of one float -----------------------------------------------------

class Log1p(Function):
    """y = ln(1 + x), accurate for small x.   dy/dx = 1 / (1 + x)."""

    def forward(self, x):
        return backend.array_module(x).log1p(x)

    def backward(self, grad):
        return grad / (self.inputs[0] + 1)


class Expm1(Function):
    """y = e^x - 1, accurate for small x.   dy/dx = e^x = y + 1."""
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return backend.array_module(x).expm1(x)

    def backward(self, grad):
        return grad * (self.output + 1)


class Log2(Function):
    """y = log2 x.   dy/dx = 1 / (x ln 2)."""

    def forward(self, x):
        return backend.array_module(x).log2(x)

    def backward(self, grad):
        return grad / (self.inputs[0] * math.log(2))


class Log10(Function):
    """y = log10 x.   dy/dx = 1 / (x ln 10)."""

    def forward(self, x):
        return backend.array_module(x).log10(x)

    def backward(self, grad):
        return grad / (self.inputs[0] * math.log(10))


class Exp2(Function):
    """y = 2^x.   dy/dx = 2^x ln 2 = y ln 2."""
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return backend.array_module(x).exp2(x)

    def backward(self, grad):
        return grad * self.output * math.log(2)


class Sin(Function):
    """y = sin x.   dy/dx = cos x."""

    def forward(self, x):
        return backend.array_module(x).sin(x)

    def backward(self, grad):
        return grad * cos(self.inputs[0])


class Cos(Function):
    """y = cos x.   dy/dx = -sin x."""

    def forward(self, x):
        return backend.array_module(x).cos(x)

    def backward(self, grad):
        return -grad * sin(self.inputs[0])


class Tan(Function):
    """y = tan x.   dy/dx = 1 / cos^2 x = 1 + y^2."""
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return backend.array_module(x).tan(x)

    def backward(self, grad):
        return grad * (self.output * self.output + 1)


class Asin(Function):
    """y = arcsin x.   dy/dx = 1 / sqrt(1 - x^2)."""

    def forward(self, x):
        return backend.array_module(x).arcsin(x)

    def backward(self, grad):
        x = self.inputs[0]
        return grad / sqrt(1 - x * x)


class Acos(Function):
    """y = arccos x.   dy/dx = -1 / sqrt(1 - x^2)."""

    def forward(self, x):
        return backend.array_module(x).arccos(x)

    def backward(self, grad):
        x = self.inputs[0]
        return -grad / sqrt(1 - x * x)


class Atan(Function):
    """y = arctan x.   dy/dx = 1 / (1 + x^2)."""

    def forward(self, x):
        return backend.array_module(x).arctan(x)

    def backward(self, grad):
        x = self.inputs[0]
        return grad / (x * x + 1)


class Sinh(Function):
    """y = sinh x.   dy/dx = cosh x."""

    def forward(self, x):
        return backend.array_module(x).sinh(x)

    def backward(self, grad):
        return grad * cosh(self.inputs[0])


class Cosh(Function):
    """y = cosh x.   dy/dx = sinh x."""

    def forward(self, x):
        return backend.array_module(x).cosh(x)

    def backward(self, grad):
        return grad * sinh(self.inputs[0])


class Rsqrt(Function):
    """y = 1 / sqrt(x).   dy/dx = -1/2 x^(-3/2) = -y^3 / 2."""
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return 1 / backend.array_module(x).sqrt(x)

    def backward(self, grad):
        y = self.output
        return grad * y * y * y * -0.5


class Reciprocal(Function):
    """y = 1 / x.   dy/dx = -1 / x^2 = -y^2."""
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return 1 / x

    def backward(self, grad):
        y = self.output
        return -grad * y * y


# --- step functions: piecewise constant, so their derivative is 0 (PyTorch returns zeros) -------

class StepFunction(Function):
    """A function that is constant between its jumps.   dy/dx = 0 (almost everywhere; PyTorch
    also gives 0 at the jumps)."""
    saves_inputs = False

    def backward(self, grad):
        return grad * 0


class Floor(StepFunction):
    """y = the largest integer <= x."""

    def forward(self, x):
        return backend.array_module(x).floor(x)


class Ceil(StepFunction):
    """y = the smallest integer >= x."""

    def forward(self, x):
        return backend.array_module(x).ceil(x)


class Trunc(StepFunction):
    """y = x rounded toward zero."""

    def forward(self, x):
        return backend.array_module(x).trunc(x)


class Round(StepFunction):
    """y = x rounded to `decimals` decimal places, halves to even (as PyTorch and NumPy)."""

    def forward(self, x, decimals=0):
        return backend.array_module(x).round(x, decimals)


class Sign(StepFunction):
    """y = -1, 0 or 1: the sign of x."""

    def forward(self, x):
        return backend.array_module(x).sign(x)


class RoundedDivide(StepFunction):
    """z = x / y rounded toward zero ("trunc") or down ("floor"): a step function of both."""

    def forward(self, x, y, rounding_mode):
        xp = backend.array_module(x)
        _refuse_integer_division_by_zero(x, y)
        if rounding_mode == "floor":
            return xp.floor_divide(x, y)
        if x.dtype.kind == "f":
            return xp.trunc(x / y)
        # integers: floor division, one up where it rounded a negative inexact quotient down
        quotient = xp.floor_divide(x, y)
        return quotient + ((xp.remainder(x, y) != 0) & ((x < 0) != (y < 0)))

    def backward(self, grad):
        return grad * 0, grad * 0


def _refuse_bool(op, x):
    """// % and fmod of bool tensors: not implemented in PyTorch (NumPy would give int8)."""
    if x.dtype == np.bool_:
        raise RuntimeError(f"{op} is not implemented for bool tensors")


def _refuse_integer_division_by_zero(x, y):
    """Integer division by zero is an error in PyTorch (NumPy would warn and give 0)."""
    if x.dtype.kind in "biu" and y.dtype.kind in "biu" and not y.all():
        raise RuntimeError("ZeroDivisionError: integer division by zero")


# --- the functions users call ---------------------------------------------------------

def _pair(x, y):
    """Both operands as Tensors of their common dtype, PyTorch's type promotion (promotion.py):
    a Python number takes the tensor's dtype unless it is of a higher category (int64 * 2.5 is
    float32), and an integer tensor meeting a float tensor takes the float's dtype."""
    if isinstance(x, Tensor) and isinstance(y, Tensor) and x.array.dtype == y.array.dtype:
        return x, y
    if isinstance(x, Tensor) and _keeps_dtype(x, y):
        return x, _number_as(y, x)
    if isinstance(y, Tensor) and _keeps_dtype(y, x):
        return _number_as(x, y), y
    return promote(x, y)


def _keeps_dtype(tensor, number):
    """The common case that needs no promotion: a Python float or int meeting a float tensor."""
    return type(number) in (float, int) and tensor.array.dtype.kind == "f"


def _number_as(number, like):
    """A Python number as a 0-d tensor of `like`'s dtype, on its device."""
    return Tensor._wrap(backend.array_module(like.array).asarray(number, dtype=like.array.dtype), False)


def _floating(x):
    """x as a float tensor: functions such as exp and sin of integers give the default float dtype."""
    return x if x.dtype.kind == "f" else cast(x, get_default_dtype())


def add(x, y, alpha=1):
    """x + alpha y, as torch.add."""
    x, y = _pair(x, y)
    _check_alpha(x, alpha)
    if alpha != 1:
        y = mul(y, alpha)
    return Add.apply(x, y)


def sub(x, y, alpha=1):
    """x - alpha y, as torch.sub (not for bool tensors: use logical_xor or logical_not)."""
    if any(isinstance(t, (bool, np.bool_)) or (isinstance(t, Tensor) and t.dtype == np.bool_) for t in (x, y)):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
                           "to invert a mask, use the `~` or `logical_not()` operator instead.")
    x, y = _pair(x, y)
    _check_alpha(x, alpha)
    if alpha != 1:
        y = mul(y, alpha)
    return Sub.apply(x, y)


def _check_alpha(x, alpha):
    """As PyTorch: an integer sum cannot be scaled by a float (it would silently become float64)."""
    if isinstance(alpha, float) and x.array.dtype.kind in "biu":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")


def mul(x, y):
    return Mul.apply(*_pair(x, y))


def div(x, y, rounding_mode=None):
    """x / y, as torch.div. rounding_mode None: true division (integers give float32);
    "trunc": rounded toward zero; "floor": rounded down (both keep the promoted dtype)."""
    x, y = _pair(x, y)
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                             f"but found {rounding_mode!r}")
        _refuse_bool(f"division with rounding_mode={rounding_mode!r}", x)
        return RoundedDivide.apply(x, y, rounding_mode=rounding_mode)
    if x.array.dtype.kind in "biu":  # true division gives the default float dtype, as PyTorch
        x, y = cast(x, get_default_dtype()), cast(y, get_default_dtype())
    return Div.apply(x, y)


def true_divide(x, y):
    """x / y (torch.true_divide, an alias of div)."""
    return div(x, y)


def floor_divide(x, y):
    """x / y rounded down, as torch.floor_divide and `//`. Its gradient is zero (PyTorch has none)."""
    return div(x, y, rounding_mode="floor")


def remainder(x, y):
    """x - y floor(x / y): the remainder with the sign of y, as torch.remainder and `%`."""
    x, y = _pair(x, y)
    _refuse_bool("remainder", x)
    return Remainder.apply(x, y)


def fmod(x, y):
    """x - y trunc(x / y): the remainder with the sign of x, as torch.fmod."""
    x, y = _pair(x, y)
    _refuse_bool("fmod", x)
    return Fmod.apply(x, y)


def neg(x):
    if x.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return Neg.apply(x)


def pow(x, y):
    """x ** y, as torch.pow. An integer tensor to a negative integer number is refused (as there);
    to a tensor of exponents, a negative exponent gives 1 / x^|y| rounded toward zero (as there)."""
    exponent_is_number = not isinstance(y, Tensor)
    x, y = _pair(x, y)
    _refuse_bool("pow", x)
    if x.dtype.kind in "biu" and (y.array < 0).any():
        if exponent_is_number:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return _integer_power(x, y)
    return Pow.apply(x, y)


def _integer_power(x, y):
    """Integer x ** y with some y < 0: 1 / x^|y| rounded toward zero (1 for x = 1, +-1 for x = -1,
    else 0). Integers have no gradient, so raw arrays."""
    xp = backend.array_module(x.array)
    base, exponent = xp.broadcast_arrays(x.array, y.array)
    negative = exponent < 0
    out = base ** xp.where(negative, 0, exponent)
    odd = exponent % 2 == 1
    inverse = xp.where(base == 1, 1, xp.where(base == -1, xp.where(odd, -1, 1), 0)).astype(out.dtype)
    return Tensor._wrap(xp.where(negative, inverse, out), False)


def exp(x):
    return Exp.apply(_floating(x))


def log(x):
    return Log.apply(_floating(x))


def sqrt(x):
    return Sqrt.apply(_floating(x))


def log1p(x):
    return Log1p.apply(_floating(x))


def expm1(x):
    return Expm1.apply(_floating(x))


def log2(x):
    return Log2.apply(_floating(x))


def log10(x):
    return Log10.apply(_floating(x))


def exp2(x):
    return Exp2.apply(_floating(x))


def sin(x):
    return Sin.apply(_floating(x))


def cos(x):
    return Cos.apply(_floating(x))


def tan(x):
    return Tan.apply(_floating(x))


def asin(x):
    return Asin.apply(_floating(x))


def acos(x):
    return Acos.apply(_floating(x))


def atan(x):
    return Atan.apply(_floating(x))


def atan2(input, other):
    """The angle of the point (other, input), elementwise, as torch.atan2(y, x)."""
    y, x = _pair(input, other)
    return Atan2.apply(_floating(y), _floating(x))


def sinh(x):
    return Sinh.apply(_floating(x))


def cosh(x):
    return Cosh.apply(_floating(x))


def rsqrt(x):
    return Rsqrt.apply(_floating(x))


def reciprocal(x):
    return Reciprocal.apply(_floating(x))


@composite
def square(x):
    """x * x (integers stay integers and bools become int64, as torch.square)."""
    if x.dtype == np.bool_:
        x = cast(x, np.int64)
    return mul(x, x)


def _step(op, x, **params):
    """A step function; integers are already whole numbers and come back as a copy, as PyTorch."""
    if x.dtype == np.bool_:
        raise RuntimeError(f"{op.__name__.lower()} is not implemented for bool tensors")
    if x.dtype.kind in "iu":
        return clone(x)
    return op.apply(x, **params)


def floor(x):
    return _step(Floor, x)


def ceil(x):
    return _step(Ceil, x)


def trunc(x):
    return _step(Trunc, x)


fix = trunc


def round(x, decimals=0):
    """Round halves to even; `decimals` places after the point (negative: before it)."""
    if decimals != 0 and x.dtype.kind in "biu":
        raise RuntimeError("round_cpu not implemented for integer inputs with decimals != 0")
    return _step(Round, x, decimals=decimals)


def sign(x):
    if x.dtype == np.bool_:
        return clone(x)
    return Sign.apply(x)


@composite
def frac(x):
    """x - trunc(x): the fractional part, with x's sign.   d/dx = 1."""
    if x.dtype.kind != "f":
        raise RuntimeError(f"frac is only implemented for floating-point tensors, got {x.dtype}")
    return x - trunc(x).detach()


def abs(x):
    return Abs.apply(x)


def clamp(x, min=None, max=None):
    """min(max(x, min), max), as torch.clamp. Bounds are numbers or tensors (broadcasting against x);
    with min > max every element is max. The dtype is promoted as x + min + max."""
    if min is None and max is None:
        raise ValueError("clamp() needs at least one of min and max")
    bounds = [b for b in (min, max) if b is not None]
    dtype = result_type(x, *bounds)
    if dtype != x.dtype:
        x = cast(x, dtype)
    if not any(isinstance(b, Tensor) for b in bounds):
        return Clamp.apply(x, low=min, high=max)
    return clamp_by_tensors(x, min, max)


@composite
def clamp_by_tensors(x, min=None, max=None):
    """clamp with tensor bounds: where(x < min, min, x), then where(y > max, max, y).
    The gradient goes to x where min <= x <= max, to min where x < min, to max where it is exceeded."""
    out = x
    if min is not None:
        out = where(out < min, min, out)
    if max is not None:
        out = where(out > max, max, out)
    return out


clip = clamp


def clamp_min(x, min):
    return clamp(x, min=min)


def clamp_max(x, max):
    return clamp(x, max=max)


def maximum(x, y):
    return Maximum.apply(*_pair(x, y))


@composite
def minimum(x, y):
    """min(x, y) = -max(-x, -y)."""
    x, y = _pair(x, y)
    return -Maximum.apply(-x, -y)


def where(condition, x=None, y=None):
    """x where condition is true, else y (condition is not differentiated), as torch.where.
    where(condition) alone is nonzero(condition, as_tuple=True)."""
    if x is None and y is None:
        xp = backend.array_module(condition.array)
        return tuple(Tensor._wrap(i.astype(np.int64), False) for i in xp.nonzero(condition.array))
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):  # two numbers: where(mask, 1.0, 0.0)
        x = as_operand(x, result_type(x, y), like=condition)
    x, y = _pair(x, y)
    if isinstance(condition, Tensor):
        if condition.dtype not in (np.bool_, np.uint8):  # uint8: PyTorch's old masks, still accepted
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{condition.dtype} (shape {tuple(condition.shape)}); compare it, e.g. "
                               f"condition != 0")
        # Kept for backward, so a private copy: changing the condition tensor in place before
        # backward must not change the gradient. No graph, no backward, no copy.
        tracking = is_grad_enabled() and (x.requires_grad or y.requires_grad)
        condition = condition.array.copy() if tracking else condition.array
    return Where.apply(x, y, condition=condition)


@composite
def lerp(input, end, weight):
    """input + weight (end - input), as torch.lerp (weight a number or a tensor)."""
    return input + weight * (end - input)


def cast(x, dtype):
    return Cast.apply(x, dtype=dtype)


def to_device(x, device):
    return ToDevice.apply(x, device=device)


def clone(x):
    return Clone.apply(x)


# --- comparisons and tests: boolean tensors outside the graph -----------------------------

def _arrays(x, y):
    """The raw arrays of x and y in their promoted dtype (for results that are not differentiated)."""
    x, y = _pair(x.detach() if isinstance(x, Tensor) else x, y.detach() if isinstance(y, Tensor) else y)
    return x.array, y.array


def compare(x, y, ufunc_name):
    """An elementwise comparison as a boolean tensor outside the graph."""
    x, y = _arrays(x, y)
    xp = backend.array_module(x)
    return Tensor._wrap(getattr(xp, ufunc_name)(x, y), False)


def eq(x, y):
    return compare(x, y, "equal")


def ne(x, y):
    return compare(x, y, "not_equal")


def lt(x, y):
    return compare(x, y, "less")


def le(x, y):
    return compare(x, y, "less_equal")


def gt(x, y):
    return compare(x, y, "greater")


def ge(x, y):
    return compare(x, y, "greater_equal")


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def bitwise_and(x, y):
    """x & y: logical and of bool tensors, bitwise and of integer ones."""
    return _bitwise(x, y, "bitwise_and")


def bitwise_or(x, y):
    """x | y: logical or of bool tensors, bitwise or of integer ones."""
    return _bitwise(x, y, "bitwise_or")


def bitwise_xor(x, y):
    """x ^ y: logical xor of bool tensors, bitwise xor of integer ones."""
    return _bitwise(x, y, "bitwise_xor")


def _bitwise(x, y, name):
    x, y = _arrays(x, y)
    if x.dtype.kind == "f":
        raise TypeError(f"{name} is only for bool and integer tensors, got {x.dtype}")
    return Tensor._wrap(getattr(backend.array_module(x), name)(x, y), False)


def logical_and(x, y):
    return compare(x, y, "logical_and")


def logical_or(x, y):
    return compare(x, y, "logical_or")


def logical_xor(x, y):
    return compare(x, y, "logical_xor")


def logical_not(x):
    return Tensor._wrap(backend.array_module(x.array).logical_not(x.array), False)


def bitwise_not(x):
    """~x: logical not of a bool tensor, bitwise not of an integer one."""
    if x.dtype.kind == "f":
        raise TypeError(f"bitwise_not is only for bool and integer tensors, got {x.dtype}")
    return Tensor._wrap(~x.array, False)


def _test(x, name):
    return Tensor._wrap(getattr(backend.array_module(x.array), name)(x.array), False)


def isnan(x):
    return _test(x, "isnan")


def isinf(x):
    return _test(x, "isinf")


def isfinite(x):
    return _test(x, "isfinite")


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol |other|, elementwise, as torch.isclose."""
    x, y = _arrays(input, other)
    return Tensor._wrap(backend.array_module(x).isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan), False)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element is close (isclose), as a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan).array.all())


def equal(input, other):
    """True when both have the same shape and the same values, as torch.equal."""
    if input.shape != other.shape:
        return False
    return bool(eq(input, other).array.all())


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(x):
    return x.dtype.kind == "f"


def numel(x):
    return x.numel()


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


# --- hypot, xlogy, logaddexp: binary functions of floats with an op of their own ----------------
# Each has a Function, not a composite, for its forward value: NumPy's hypot does not overflow
# where x^2 + y^2 would, xlogy is 0 at x = 0 even where log y is -inf, and logaddexp keeps its
# precision where exp(x) or exp(y) would over- or underflow. Each backward is PyTorch's formula.

class Hypot(Function):
    """z = sqrt(x^2 + y^2), without overflow.   dz/dx = x / z,  dz/dy = y / z  (nan at x = y = 0, as PyTorch)."""
    saves_output = True

    def forward(self, x, y):
        return backend.array_module(x).hypot(x, y)

    def backward(self, grad):
        x, y = self.inputs
        scale = grad / self.output
        return (scale * x if self.needs_input_grad[0] else None,
                scale * y if self.needs_input_grad[1] else None)


class Xlogy(Function):
    """z = x log y, and 0 where x = 0 (unless y is nan), as torch.xlogy.

        dz/dx = log y  (0 where x = 0 and y <= 0)    = xlogy(grad, y), masked
        dz/dy = x / y
    """

    def forward(self, x, y):
        xp = backend.array_module(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            product = x * xp.log(y)
        return xp.where((x == 0) & ~xp.isnan(y), xp.zeros((), dtype=product.dtype), product)

    def backward(self, grad):
        x, y = self.inputs
        grad_x = grad_y = None
        if self.needs_input_grad[0]:
            nowhere = ((x.array == 0) & (y.array <= 0))
            grad_x = where(nowhere, 0.0, xlogy(grad, y))
        if self.needs_input_grad[1]:
            grad_y = grad * x / y
        return grad_x, grad_y


class LogAddExp(Function):
    """z = log(e^x + e^y), computed as max + log1p(e^-|x - y|) (NumPy's logaddexp).

        dz/dx = 1 / (1 + e^(y - x)) = sigmoid(x - y),   dz/dy = sigmoid(y - x)   (the softmax of (x, y))

    (PyTorch's formula; sigmoid computes it without overflowing e^(y - x).)
    """

    def forward(self, x, y):
        return backend.array_module(x).logaddexp(x, y)

    def backward(self, grad):
        x, y = self.inputs
        return (grad * (x - y).sigmoid() if self.needs_input_grad[0] else None,
                grad * (y - x).sigmoid() if self.needs_input_grad[1] else None)


def _floating_pair(op, input, other):
    """Both operands in their common dtype, which must be floating (PyTorch has no integer kernel)."""
    x, y = _pair(input, other)
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"{op}" not implemented for {x.dtype} tensors: use floating ones')
    return x, y


def hypot(input, other):
    """sqrt(input^2 + other^2), elementwise, as torch.hypot (floating tensors)."""
    return Hypot.apply(*_floating_pair("hypot", input, other))


def xlogy(input, other):
    """input * log(other), 0 where input = 0 (unless other is nan), as torch.xlogy.
    Integers give the default float dtype; either operand may be a number."""
    x, y = _pair(input, other)
    return Xlogy.apply(_floating(x), _floating(y))


def logaddexp(input, other):
    """log(exp(input) + exp(other)) without overflow, as torch.logaddexp (floating tensors)."""
    return LogAddExp.apply(*_floating_pair("logaddexp", input, other))


@composite
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """input with nan, +inf and -inf replaced by `nan`, `posinf` and `neginf`; the infinities
    default to the dtype's largest and lowest finite values, as torch.nan_to_num.
    A where: the gradient is 1 at finite elements and 0 at replaced ones. Integers come back as a copy."""
    if input.dtype.kind != "f":
        return clone(input)
    xp = backend.array_module(input.array)
    finfo = np.finfo(input.dtype)
    nan = 0.0 if nan is None else nan
    values = input.array
    replacement = xp.where(xp.isnan(values), nan, xp.where(values > 0, finfo.max if posinf is None else posinf,
                                                             finfo.min if neginf is None else neginf))
    replacement = Tensor._wrap(replacement.astype(input.dtype), False)
    return where(isfinite(input), input, replacement)


# --- addcmul, addcdiv ---------------------------------------------------------------------------

def _scaled_term(input, term, value):
    """input + value * term; where input and term are integers, value is taken as int(value), as PyTorch."""
    if result_type(input, term).kind in "biu":
        value = int(value)
    if value != 1:
        term = term * value
    return add(input, term)


@composite
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2, all three broadcasting together (torch.addcmul).
    d/dinput = 1,  d/dtensor1 = value tensor2,  d/dtensor2 = value tensor1."""
    return _scaled_term(input, mul(tensor1, tensor2), value)


@composite
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2, all three broadcasting together (torch.addcdiv).
    d/dinput = 1,  d/dtensor1 = value / tensor2,  d/dtensor2 = -value tensor1 / tensor2^2.
    Two integer tensors are refused, as in PyTorch (their quotient was once an integer division)."""
    if tensor1.dtype.kind in "biu" and tensor2.dtype.kind in "biu":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                           "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
                           "tensor2), for all dtypes.")
    return _scaled_term(input, div(tensor1, tensor2), value)
