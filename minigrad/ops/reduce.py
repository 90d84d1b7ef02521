"""Reductions: sum, mean, var, max (and min, std built from them).

Each takes `dim` (None for all dims, an int, or a tuple) and `keepdim`, as in
PyTorch. Backward spreads the output gradient back over the reduced axes.
"""

from collections import namedtuple

from .. import backend
from ..autograd import Function, composite
from .shape import cat, wrap_dim


def reduced_axes(dim, ndim):
    """`dim` as a sorted tuple of non-negative axes (None means every axis)."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    rank = ndim if ndim else 1  # a 0-d tensor accepts dim 0 or -1, as in PyTorch
    for d in dims:
        if not -rank <= d < rank:
            raise IndexError(f"dim {d} is out of range for a tensor with {ndim} dims")
    return tuple(sorted(d % rank for d in dims)) if ndim else ()


def spread_back(grad, shape, axes, keepdim):
    """Broadcast a reduced gradient (a Tensor) back to the input's shape."""
    if not keepdim:
        grad = grad.reshape([1 if i in axes else n for i, n in enumerate(shape)])
    return grad.expand(shape)


def reduced_count(shape, axes):
    """How many elements each reduction over `axes` combines."""
    count = 1
    for axis in axes:
        count *= shape[axis]
    return count


class Sum(Function):
    """y = sum of x over dims.   dy/dx = 1 for every summed element."""
    saves_inputs = False

    def forward(self, x, dim=None, keepdim=False):
        self.shape, self.axes, self.keepdim = x.shape, reduced_axes(dim, x.ndim), keepdim
        return x.sum(axis=self.axes, keepdims=keepdim)

    def backward(self, grad):
        return spread_back(grad, self.shape, self.axes, self.keepdim)


class Mean(Function):
    """y = (1/n) sum of x over dims.   dy/dx = 1/n."""
    saves_inputs = False

    def forward(self, x, dim=None, keepdim=False):
        self.shape, self.axes, self.keepdim = x.shape, reduced_axes(dim, x.ndim), keepdim
        self.count = reduced_count(x.shape, self.axes)
        if x.dtype.kind != "f" or self.count == 0:
            return x.mean(axis=self.axes, keepdims=keepdim)
        # sum * (1/n): the value of .mean(), without ~10 us of NumPy's Python-level overhead per call.
        return x.sum(axis=self.axes, keepdims=keepdim) * x.dtype.type(1 / self.count)

    def backward(self, grad):
        return spread_back(grad / self.count, self.shape, self.axes, self.keepdim)


class Var(Function):
    """y = sum (x - mean)^2 / (n - ddof), ddof = 1 when unbiased.   dy/dx = 2 (x - mean) / (n - ddof)."""

    def forward(self, x, dim=None, unbiased=True, keepdim=False):
        self.shape, self.axes, self.keepdim = x.shape, reduced_axes(dim, x.ndim), keepdim
        self.divisor = reduced_count(x.shape, self.axes) - (1 if unbiased else 0)
        self.centered = x - x.mean(axis=self.axes, keepdims=True)
        return (self.centered * self.centered).sum(axis=self.axes, keepdims=keepdim) / self.divisor

    def backward(self, grad):
        x = self.inputs[0]
        centered = x - x.mean(dim=self.axes, keepdim=True)
        return spread_back(grad, self.shape, self.axes, self.keepdim) * centered * (2.0 / self.divisor)


class Max(Function):
    """y = the largest element (over all dims, or along one dim).

    dy/dx = 1 at the chosen element and 0 elsewhere. Along a dim, the chosen element
    is the one `argmax` picks; over all dims, tied maxima share the gradient equally.
    """
    saves_inputs = False

    def forward(self, x, dim=None, keepdim=False):
        xp = backend.array_module(x)
        self.shape, self.keepdim = x.shape, keepdim
        if dim is None or x.ndim == 0:  # a 0-d tensor accepts dim 0 or -1: its one element is the max
            self.axes = reduced_axes(dim, x.ndim)
            out = x.max()
            winners = (x == out).astype(x.dtype)
            self.share = winners / winners.sum()
            return out
        (axis,) = self.axes = reduced_axes(dim, x.ndim)
        index = xp.argmax(x, axis=axis, keepdims=True)
        positions = xp.arange(x.shape[axis]).reshape([-1 if i == axis else 1 for i in range(x.ndim)])
        self.share = (positions == index).astype(x.dtype)
        out = xp.take_along_axis(x, index, axis=axis)
        return out if keepdim else out.squeeze(axis)

    def backward(self, grad):
        return spread_back(grad, self.shape, self.axes, self.keepdim) * self.share


MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


def sum(x, dim=None, keepdim=False):
    return Sum.apply(x, dim=dim, keepdim=keepdim)


def mean(x, dim=None, keepdim=False):
    return Mean.apply(x, dim=dim, keepdim=keepdim)


def var(x, dim=None, unbiased=True, keepdim=False):
    return Var.apply(x, dim=dim, unbiased=unbiased, keepdim=keepdim)


@composite
def std(x, dim=None, unbiased=True, keepdim=False):
    """sqrt(var)."""
    return var(x, dim, unbiased, keepdim).sqrt()


def max(x, dim=None, keepdim=False):
    """The largest value; with `dim`, a (values, indices) pair as in PyTorch."""
    if dim is None:
        return Max.apply(x)
    return MaxResult(Max.apply(x, dim=dim, keepdim=keepdim), x.argmax(dim, keepdim))


@composite
def min(x, dim=None, keepdim=False):
    """min(x) = -max(-x)."""
    if dim is None:
        return -Max.apply(-x)
    return MinResult(-Max.apply(-x, dim=dim, keepdim=keepdim), x.argmin(dim, keepdim))


@composite
def prod(x, dim=None, keepdim=False, dtype=None):
    """The product of the elements (of all, or along `dim`), as torch.prod / Tensor.prod.

        d/dx_i prod(x) = the product of all the other elements   (exact at zeros too)

    Made of mul by halving: the first half of the slices along `dim` times the second half,
    again and again, until one slice is left (log2(n) multiplications, an odd slice carried
    along). Dividing prod(x) by x_i would be shorter, and wrong wherever an element is 0.
    Integer and bool inputs give int64, as in PyTorch; `dtype` casts the input first.
    """
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "biu":
        x = x.long()
    if dim is None:
        if keepdim:
            raise TypeError("prod() without dim takes no keepdim (as torch.prod); give a dim")
        x, dim = x.reshape(-1), 0
    dim = wrap_dim(dim, x.shape, "prod")
    if x.ndim == 0:
        return x
    n = x.shape[dim]
    if n == 0:  # the empty product is 1: the empty sum (0) plus 1 keeps it in the graph
        return x.sum(dim, keepdim) + 1

    def part(start, stop):
        return x[(slice(None),) * dim + (slice(start, stop),)]

    while n > 1:
        half = n // 2
        paired = part(0, half) * part(half, 2 * half)
        x = cat([paired, part(2 * half, n)], dim) if n % 2 else paired
        n = half + n % 2
    return x if keepdim else x.squeeze(dim)


# --- norms (composites of the reductions above) ------------------------------------------

@composite
def norm(x, p="fro", dim=None, keepdim=False):
    """The p-norm over `dim` (all dims when None), as torch.norm / Tensor.norm:

        p = 2 or "fro":   sqrt(sum x^2)             d/dx = x / norm
        p = 1:            sum |x|                   d/dx = sign(x)
        p = inf / -inf:   max |x| / min |x|          the gradient goes to the extreme element(s)
        p = 0:            the number of non-zeros    (a count: no gradient)
        other p > 0:      (sum |x|^p)^(1/p)

    Made of abs, pow, sum, sqrt and max. At x = 0 the 2-norm's gradient is nan (sqrt'(0) is
    infinite); PyTorch returns 0 there.
    """
    if p == "fro":
        p = 2
    if isinstance(p, str) or not isinstance(p, (int, float)):
        raise ValueError(f"norm: p must be a number, 'fro' or inf, got {p!r} (nuclear norms are not supported)")
    if p == float("inf") or p == float("-inf"):
        magnitude = x.abs() if p > 0 else -x.abs()
        axes = reduced_axes(dim, x.ndim)
        for axis in reversed(axes):  # one dim at a time: Max reduces over one dim or all
            magnitude = max(magnitude, dim=axis, keepdim=True).values
        if not keepdim:
            magnitude = magnitude.reshape([n for i, n in enumerate(magnitude.shape) if i not in axes])
        return magnitude if p > 0 else -magnitude
    if p == 0:
        return (x != 0).to(x.dtype).sum(dim, keepdim)
    if p < 0:
        raise ValueError(f"norm: p must be positive, 0 or inf, got {p}")
    if p == 2:
        return (x * x).sum(dim, keepdim).sqrt()
    if p == 1:
        return x.abs().sum(dim, keepdim)
    return (x.abs() ** p).sum(dim, keepdim) ** (1.0 / p)
