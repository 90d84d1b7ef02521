"""Reductions: sum, mean, var, max, amax, cumsum (and min, std, amin, logsumexp, cumprod, prod,
norm built from them), and the tests any, all and count_nonzero; the running cummax and
logcumsumexp, and diff.

Each takes `dim` (None for all dims, an int, or a tuple) and `keepdim`, as in
PyTorch. Backward spreads the output gradient back over the reduced axes.
"""

from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd import Function, composite
from ..tensor import Tensor, get_default_dtype
from .elementwise import cast, exp, isfinite, log, logical_xor, maximum, minimum, where
from .indexing import gather
from .shape import cat, flip, narrow, wrap_dim


def reduced_axes(dim, ndim):
    """`dim` as a sorted tuple of non-negative axes (None means every axis)."""
    if dim is None:
        return tuple(range(ndim))
    if type(dim) is int and 0 <= dim < ndim:  # the common case, at once
        return (dim,)
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


def _mean_dtype(x):
    """The dtype of NumPy's mean of x: x's own when floating, else float64."""
    return x.dtype if x.dtype.kind == "f" else np.float64


class Mean(Function):
    """y = (1/n) sum of x over dims.   dy/dx = 1/n."""
    saves_inputs = False

    def forward(self, x, dim=None, keepdim=False):
        self.shape, self.axes, self.keepdim = x.shape, reduced_axes(dim, x.ndim), keepdim
        self.count = reduced_count(x.shape, self.axes)
        if self.count == 0:  # the mean of nothing is nan, as PyTorch (NumPy would warn "Mean of empty slice")
            total = x.sum(axis=self.axes, keepdims=keepdim)
            return backend.array_module(x).full_like(total, float("nan"), dtype=_mean_dtype(x))
        if x.dtype.kind != "f":
            return x.mean(axis=self.axes, keepdims=keepdim)
        # sum * (1/n): the value of .mean(), without ~10 us of NumPy's Python-level overhead per call.
        return x.sum(axis=self.axes, keepdims=keepdim) * x.dtype.type(1 / self.count)

    def backward(self, grad):
        return spread_back(grad / self.count, self.shape, self.axes, self.keepdim)


class Var(Function):
    """y = sum (x - mean)^2 / (n - correction), correction 1 (unbiased) by default.
    dy/dx = 2 (x - mean) / (n - correction)."""

    def forward(self, x, dim=None, correction=1, keepdim=False):
        self.shape, self.axes, self.keepdim = x.shape, reduced_axes(dim, x.ndim), keepdim
        count = reduced_count(x.shape, self.axes)
        # As PyTorch, a divisor below zero counts as zero: with too few elements (a 0-dim or empty
        # input) the variance is 0/0 = nan, without NumPy's warnings.
        self.divisor = count - correction if count > correction else 0
        with backend.quiet_float_errors(x):
            mean = x.sum(axis=self.axes, keepdims=True) / x.dtype.type(count)
            self.centered = x - mean
            return (self.centered * self.centered).sum(axis=self.axes, keepdims=keepdim) / x.dtype.type(self.divisor)

    def backward(self, grad):
        x = self.inputs[0]
        centered = x - x.mean(dim=self.axes, keepdim=True)
        # the slope first: with divisor 0 it is 0/0 = nan, which times an infinite grad (std's) stays
        # nan quietly, where inf * 0 would warn
        slope = centered * 2.0 / self.divisor
        return slope * spread_back(grad, self.shape, self.axes, self.keepdim)


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


class AMax(Function):
    """y = the largest element over dims (the smallest, with smallest=True), as torch.amax / amin.

    dy/dx = 1/k at each of the k elements equal to the extreme, 0 elsewhere: tied elements
    share the gradient equally (max along a dim gives it all to one index instead).
    """
    saves_inputs = False

    def forward(self, x, dim=None, keepdim=False, smallest=False):
        self.shape, self.axes, self.keepdim = x.shape, reduced_axes(dim, x.ndim), keepdim
        if x.size == 0 and reduced_count(x.shape, self.axes) == 0:
            raise RuntimeError(f"amax/amin: expected a non-empty reduced dim, got shape {tuple(x.shape)}")
        extreme = x.min(axis=self.axes, keepdims=True) if smallest else x.max(axis=self.axes, keepdims=True)
        winners = (x == extreme).astype(x.dtype)
        self.share = winners / winners.sum(axis=self.axes, keepdims=True)
        return extreme if keepdim else extreme.reshape([n for i, n in enumerate(x.shape) if i not in self.axes])

    def backward(self, grad):
        return spread_back(grad, self.shape, self.axes, self.keepdim) * self.share


class CumSum(Function):
    """y_i = x_1 + ... + x_i along `dim`.
    dL/dx_i = sum over j >= i of dL/dy_j: the gradient's cumsum taken from the end (flip, cumsum, flip)."""
    saves_inputs = False

    def forward(self, x, dim):
        self.dim = dim
        return backend.array_module(x).cumsum(x, axis=dim)

    def backward(self, grad):
        return flip(cumsum(flip(grad, self.dim), self.dim), self.dim)


MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])
CummaxResult = namedtuple("cummax", ["values", "indices"])


def _dims(dim):
    """dim as reduced_axes takes it: a list (as PyTorch accepts) becomes a tuple."""
    return tuple(dim) if isinstance(dim, list) else dim


def sum(x, dim=None, keepdim=False, dtype=None):
    """The sum over `dim` (all dims when None). Integers and bools sum to int64, as PyTorch;
    `dtype` casts the input first."""
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "biu" and x.dtype != np.int64:
        x = cast(x, np.int64)
    return Sum.apply(x, dim=_dims(dim), keepdim=keepdim)


def mean(x, dim=None, keepdim=False, dtype=None):
    """The mean over `dim` (all dims when None), of a floating tensor (or with a floating `dtype`)."""
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point "
                           f"or complex dtype. Got: {x.dtype}")
    return Mean.apply(x, dim=_dims(dim), keepdim=keepdim)


def _correction(unbiased, correction):
    """PyTorch's two spellings of the divisor n - correction: unbiased=True is correction=1."""
    if correction is not None:
        if unbiased is not None:
            raise TypeError("var/std take unbiased or correction, not both")
        return correction
    return 0 if unbiased is False else 1


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """sum (x - mean)^2 / (n - correction) over `dim`: unbiased (correction=1) by default.
    var(x, False) is the biased variance over all dims, as torch.var(input, unbiased)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if x.dtype.kind != "f":
        raise RuntimeError(f"std and var only support floating point and complex dtypes, got {x.dtype} "
                           f"(a tensor of shape {tuple(x.shape)}); convert it with .float()")
    return Var.apply(x, dim=_dims(dim), correction=_correction(unbiased, correction), keepdim=keepdim)


@composite
def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """sqrt(var)."""
    return var(x, dim, unbiased, keepdim, correction=correction).sqrt()


def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over `dim`, as torch.var_mean."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over `dim`, as torch.std_mean."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def max(x, dim=None, keepdim=False):
    """The largest value; with `dim`, a (values, indices) pair as in PyTorch; with a tensor in
    place of dim, the elementwise maximum (torch.max(x, other))."""
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    if dim is None:
        return Max.apply(x)
    return MaxResult(Max.apply(x, dim=dim, keepdim=keepdim), x.argmax(dim, keepdim))


@composite
def min(x, dim=None, keepdim=False):
    """min(x) = -max(-x); with a tensor in place of dim, the elementwise minimum."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    if x.dtype.kind != "f":  # -x would wrap around for unsigned integers (and they have no gradient)
        values = amin(x, () if dim is None else dim, keepdim)
        return values if dim is None else MinResult(values, x.argmin(dim, keepdim))
    if dim is None:
        return -Max.apply(-x)
    return MinResult(-Max.apply(-x, dim=dim, keepdim=keepdim), x.argmin(dim, keepdim))


def amax(x, dim=(), keepdim=False):
    """The largest value over `dim` (every dim when () or None); ties share the gradient."""
    return AMax.apply(x, dim=_dims(dim) or None, keepdim=keepdim)


def amin(x, dim=(), keepdim=False):
    """The smallest value over `dim` (every dim when () or None); ties share the gradient."""
    return AMax.apply(x, dim=_dims(dim) or None, keepdim=keepdim, smallest=True)


@composite
def logsumexp(x, dim, keepdim=False):
    """log sum exp(x) over `dim`, computed as m + log sum exp(x - m) with m the largest
    element (so nothing overflows).   d/dx = softmax(x) over dim."""
    if x.dtype.kind != "f":
        x = cast(x, get_default_dtype())
    axes = reduced_axes(_dims(dim), x.ndim)
    if x.numel() == 0:
        return log(sum(exp(x), axes, keepdim))
    peak = amax(x.detach(), axes, keepdim=True)
    peak = where(isfinite(peak), peak, 0.0)  # all -inf (or an inf): exp(x - inf) would be nan
    out = log(sum(exp(x - peak), axes, keepdim=True)) + peak
    return out if keepdim else out.reshape([n for i, n in enumerate(x.shape) if i not in axes])


def cumsum(x, dim, dtype=None):
    """Running sums along `dim`, as torch.cumsum (integers and bools give int64)."""
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "biu" and x.dtype != np.int64:
        x = cast(x, np.int64)
    dim = wrap_dim(dim, x.shape, "cumsum")
    if x.ndim == 0:
        return x.clone()
    return CumSum.apply(x, dim=dim)


@composite
def cumprod(x, dim, dtype=None):
    """Running products along `dim`, as torch.cumprod: y_j = prod over i <= j of x_i.

    Made of prod: x is repeated along a new last axis, ones put where i > j, and each row's product
    taken. That costs n^2 products but its gradient is exact at zeros, where the shorter formula
    (reversed cumsum of grad y, divided by x) divides by zero.
    """
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "biu":
        x = cast(x, np.int64)
    dim = wrap_dim(dim, x.shape, "cumprod")
    if x.ndim == 0:
        return x.clone()
    n = x.shape[dim]
    moved = x.transpose(dim, -1) if dim != x.ndim - 1 else x     # (..., n): i along the last axis
    xp = backend.array_module(x.array)
    later = Tensor._wrap(xp.triu(xp.ones((n, n), dtype=bool), 1), False)  # row j, column i: i > j
    rows = where(later, 1, moved.unsqueeze(-2).expand(*moved.shape[:-1], n, n))
    out = prod(rows, dim=-1)
    return out.transpose(dim, -1) if dim != x.ndim - 1 else out


def _boolean_reduction(x, dim, keepdim, name):
    xp = backend.array_module(x.array)
    axes = None if dim is None else reduced_axes(_dims(dim), x.ndim)
    result = getattr(xp, name)(x.array, axis=axes, keepdims=keepdim if axes is not None else False)
    # as PyTorch: uint8 in gives uint8 out, anything else bool
    return Tensor._wrap(xp.asarray(result, dtype=np.uint8 if x.dtype == np.uint8 else np.bool_), False)


def any(x, dim=None, keepdim=False):
    """Whether any element (over `dim`) is non-zero."""
    return _boolean_reduction(x, dim, keepdim, "any")


def all(x, dim=None, keepdim=False):
    """Whether every element (over `dim`) is non-zero."""
    return _boolean_reduction(x, dim, keepdim, "all")


def count_nonzero(x, dim=None):
    """How many elements (over `dim`) are non-zero, as int64."""
    xp = backend.array_module(x.array)
    axes = None if dim is None else reduced_axes(_dims(dim), x.ndim)
    return Tensor._wrap(xp.asarray(xp.count_nonzero(x.array, axis=axes), dtype=np.int64), False)


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
    if x.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{x.dtype} (a tensor of shape {tuple(x.shape)}); convert it with .float()")
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


# --- running reductions and differences ------------------------------------------------------

def _running_max_positions(array, axis):
    """For each position j along `axis`, the position i <= j of the largest of x_0..x_j: the last
    one where several tie, and the last nan once a nan has appeared (as torch.cummax)."""
    xp = backend.array_module(array)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    running = backend.running_maximum(array, axis)  # nan stays nan from where it appears
    record = array == running
    if array.dtype.kind == "f":
        record |= xp.isnan(array)
    positions = xp.arange(array.shape[axis]).reshape([-1 if d == axis else 1 for d in range(array.ndim)])
    return backend.running_maximum(xp.where(record, positions, 0), axis).astype(np.int64)


@composite
def cummax(x, dim):
    """The running maximum along `dim` and where it was found, a (values, indices) pair as torch.cummax:
        values[j] = max(x[0], ..., x[j]),   indices[j] = the (last) position of that maximum
    values is gather(x, dim, indices), so the gradient of each goes to the element it was read from."""
    dim = wrap_dim(dim, x.shape, "cummax")
    if x.ndim == 0:
        return CummaxResult(x.clone(), Tensor._wrap(backend.array_module(x.array).zeros((), dtype=np.int64), False))
    indices = Tensor._wrap(_running_max_positions(x.array, dim), False)
    return CummaxResult(gather(x, dim, indices), indices)


@composite
def logcumsumexp(x, dim):
    """Running log-sum-exps along `dim`, as torch.logcumsumexp: y_j = log(e^x_0 + ... + e^x_j).

    Made of logsumexp, as cumprod is made of prod: x is repeated along a new last axis, -inf put
    where i > j, and each row's logsumexp taken. That costs n^2 elements, but each row keeps
    logsumexp's precision (log(cumsum(exp(x - max))) would underflow to -inf for elements far
    below the maximum).   dy_j/dx_i = e^(x_i - y_j) for i <= j: the softmax of row j.
    """
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"logcumsumexp" not implemented for {x.dtype} tensors: use floating ones')
    dim = wrap_dim(dim, x.shape, "logcumsumexp")
    if x.ndim == 0 or x.shape[dim] == 0:
        return x.clone()
    n = x.shape[dim]
    moved = x.transpose(dim, -1) if dim != x.ndim - 1 else x     # (..., n): i along the last axis
    xp = backend.array_module(x.array)
    later = Tensor._wrap(xp.triu(xp.ones((n, n), dtype=bool), 1), False)  # row j, column i: i > j
    rows = where(later, float("-inf"), moved.unsqueeze(-2).expand(*moved.shape[:-1], n, n))
    out = logsumexp(rows, dim=-1)
    return out.transpose(dim, -1) if dim != x.ndim - 1 else out


@composite
def diff(x, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along `dim`, as torch.diff: out[i] = x[i + 1] - x[i], n times
    (for bool tensors x[i + 1] != x[i]). prepend and append are concatenated to x along dim first;
    they must match x's shape except along dim. Made of cat, narrow and sub."""
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = wrap_dim(dim, x.shape, "diff")
    parts = []
    for extra in (prepend, x, append):
        if extra is None:
            continue
        if extra.ndim != x.ndim:
            raise RuntimeError(f"diff expects prepend or append to be the same dimension as input (got shapes "
                               f"{tuple(extra.shape)} and {tuple(x.shape)})")
        for d, (a, b) in enumerate(zip(x.shape, extra.shape)):
            if d != dim and a != b:
                raise RuntimeError(f"diff expects the shape of tensor to prepend or append to match that of input "
                                   f"except along the differencing dimension; input.size({d}) = {a}, but got "
                                   f"tensor.size({d}) = {b}")
        parts.append(extra)
    out = cat(parts, dim) if len(parts) > 1 else x
    for _ in range(n):
        length = out.shape[dim]
        if length == 0:
            break
        later, earlier = narrow(out, dim, 1, length - 1), narrow(out, dim, 0, length - 1)
        out = logical_xor(later, earlier) if out.dtype == np.bool_ else later - earlier
    return out
