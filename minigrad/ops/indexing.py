"""Indexing by tensors of positions: gather, scatter, scatter_add, index_select, index_fill,
masked_fill, masked_select, nonzero, repeat_interleave, take_along_dim.

The differentiable ones are composites of shape.py's Index (read elements at positions; its
backward adds the gradient back at the positions), ScatterAdd (its adjoint) and IndexPut
(write elements at positions; the overwritten elements get no gradient).
"""

import numpy as np

from .. import backend
from ..autograd import composite
from ..tensor import Tensor
from .elementwise import where
from .shape import IndexPut, ScatterAdd, _take, expand, index, reshape, wrap_dim


def _positions_key(x, dim, positions, op):
    """The index key that reads x[..., positions[i, j, k], ...] at dim for every element of the
    integer tensor `positions` (x's number of dims): along the other dims, the element's own position.

        dim = 0:   out[i][j][k] = x[positions[i][j][k]][j][k]
    """
    if positions.dtype != np.int64:
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {positions.dtype}")
    if positions.ndim != max(x.ndim, 1) and not (positions.ndim == 0 and x.ndim == 0):
        raise RuntimeError(f"{op}: Index tensor must have the same number of dimensions as input tensor "
                           f"(index shape {positions.shape}, input shape {x.shape})")
    if x.ndim == 0:
        return ()
    dim = wrap_dim(dim, x.shape, op)
    for d, (n, m) in enumerate(zip(positions.shape, x.shape)):
        if d != dim and n > m:
            raise RuntimeError(f"{op}: Size does not match at dimension {d} expected index {positions.shape} to be "
                               f"smaller than self {x.shape} apart from dimension {dim}")
    array = backend.to_device(positions.array, x.device)
    if array.size and (array.min() < -x.shape[dim] or array.max() >= x.shape[dim]):
        raise RuntimeError(f"{op}: index {int(array.max())} is out of bounds for dimension {dim} "
                           f"with size {x.shape[dim]}")
    xp = backend.array_module(array)
    key = []
    for d, n in enumerate(positions.shape):
        if d == dim:
            key.append(array % x.shape[dim])
        else:
            key.append(xp.arange(n).reshape([-1 if e == d else 1 for e in range(positions.ndim)]))
    return tuple(key)


def _first_of(src, shape):
    """src[:shape[0], :shape[1], ...]: the elements of src that an index of `shape` pairs with."""
    if src.shape == tuple(shape):
        return src
    return index(src, tuple(slice(0, n) for n in shape))


@composite
def gather(x, dim, index_, *, sparse_grad=False):
    """out[i][j][k] = x[index[i][j][k]][j][k] (for dim = 0), out of index's shape (torch.gather).
    An Index op: the gradient of each read element adds up at the place it was read from."""
    return index(x, _positions_key(x, dim, index_, "gather"))


def take_along_dim(x, indices, dim=None):
    """gather, with indices broadcast against x (as numpy.take_along_axis); without dim, both are
    flattened first (as torch.take_along_dim)."""
    if dim is None:
        return gather(reshape(x, -1), 0, reshape(indices, -1))
    dim = wrap_dim(dim, x.shape, "take_along_dim")
    shape = list(np.broadcast_shapes(tuple(n if d != dim else 1 for d, n in enumerate(x.shape)),
                                     tuple(n if d != dim else 1 for d, n in enumerate(indices.shape))))
    x_shape, i_shape = list(shape), list(shape)
    x_shape[dim], i_shape[dim] = x.shape[dim], indices.shape[dim]
    return gather(expand(x, *x_shape), dim, expand(indices, *i_shape))


def _scatter_source(x, index_, src, value):
    """The values that scatter writes: src's leading block of index's shape, or `value` everywhere
    (src may also be a number, as torch.scatter(input, dim, index, value))."""
    if src is not None and value is not None:
        raise TypeError("scatter takes src or value, not both")
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter needs src (a tensor) or value (a number)")
    if not isinstance(src, Tensor):
        xp = backend.array_module(x.array)
        return Tensor._wrap(xp.full(index_.shape, src, dtype=x.dtype), False)
    if src.dtype != x.dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype, got {x.dtype} and {src.dtype}")
    return _first_of(src, index_.shape)


@composite
def scatter(x, dim, index_, src=None, value=None, *, reduce=None):
    """x with x[index[i][j][k]][j][k] = src[i][j][k] (for dim = 0), out of place (torch.scatter).

    reduce="add" adds the values instead (as scatter_add); reduce="multiply" multiplies them in
    (not differentiated). Where index repeats a position, which write wins is not defined (as in
    PyTorch). The gradient of x is zero where it was overwritten; src's is the gradient read at
    the positions it was written to.
    """
    values = _scatter_source(x, index_, src, value)
    key = _positions_key(x, dim, index_, "scatter")
    if reduce is None:
        return IndexPut.apply(x, values, key=key)
    if reduce == "add":
        return x + ScatterAdd.apply(values, shape=x.shape, key=key)
    if reduce == "multiply":
        if x.requires_grad or values.requires_grad:
            raise NotImplementedError("scatter with reduce='multiply' is not differentiable in minigrad")
        out = backend.to_numpy(x.array).copy()
        np.multiply.at(out, tuple(backend.to_numpy(k) for k in key), backend.to_numpy(values.array))
        return Tensor._wrap(backend.to_device(out, x.device), False)
    raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce!r}")


@composite
def scatter_add(x, dim, index_, src):
    """x plus src[i][j][k] added at [index[i][j][k]][j][k] (for dim = 0); repeated positions add up.
    d/dx = 1,  d/dsrc = the gradient read at the positions (ScatterAdd's adjoint, Index)."""
    return scatter(x, dim, index_, src, reduce="add")


@composite
def index_select(x, dim, index_):
    """The slices of x at `index` (1-D int64) along `dim`: an Index op (repeats add up in the gradient)."""
    if index_.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got shape {index_.shape}")
    if index_.dtype.kind not in "iu":
        raise IndexError(f"index_select(): Expected dtype int32/int64 for index, got {index_.dtype}")
    if x.ndim == 0:
        return index(reshape(x, 1), backend.to_device(index_.array.reshape(-1), x.device)).reshape(())
    dim = wrap_dim(dim, x.shape, "index_select")
    positions = backend.to_numpy(index_.array).reshape(-1)
    if positions.size and (positions.min() < 0 or positions.max() >= x.shape[dim]):
        raise IndexError(f"index_select(): index out of range in self (size {x.shape[dim]} at dim {dim})")
    return _take(x, dim, positions)


@composite
def index_fill(x, dim, index_, value):
    """x with the slices at `index` (int64, 0-d or 1-D, negative counting from the end) along `dim`
    set to value, as torch.index_fill: a masked_fill with a mask that is true at those slices.
    The gradient goes to x outside them, to a tensor value (0-d) from every filled element."""
    if index_.dtype != np.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index_.ndim > 1:
        raise RuntimeError(f"index_fill: Index has to be a vector/scalar (got shape {tuple(index_.shape)})")
    dim = wrap_dim(dim, x.shape, "index_fill")
    n = x.shape[dim] if x.ndim else 1
    positions = backend.to_numpy(index_.array).reshape(-1)
    if positions.size and (positions.min() < -n or positions.max() >= n):
        bad = positions[(positions < -n) | (positions >= n)][0]
        raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {n}")
    chosen = np.zeros(n, dtype=bool)
    chosen[positions] = True
    mask_shape = [-1 if d == dim else 1 for d in range(x.ndim)]
    mask = Tensor._wrap(backend.to_device(chosen.reshape(mask_shape), x.device), False)
    if not isinstance(value, Tensor) and x.dtype.kind in "iu":
        value = int(value)  # an integer tensor takes the value rounded toward zero, as PyTorch
    return masked_fill(x, mask, value)


@composite
def masked_fill(x, mask, value):
    """x with `value` where mask is true (x's dtype kept; mask broadcasts to x's shape).
    The gradient goes to x where mask is false, to a tensor value (0-d) where it is true."""
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        value = value if value.dtype == x.dtype else value.to(x.dtype)
    else:
        value = Tensor._wrap(backend.array_module(x.array).asarray(np.asarray(value).astype(x.dtype)), False)
    if np.broadcast_shapes(x.shape, mask.shape) != x.shape:
        raise RuntimeError(f"masked_fill: the mask of shape {mask.shape} does not broadcast to the input's "
                           f"shape {x.shape}")
    return where(mask, value, x)


@composite
def masked_select(x, mask):
    """The elements of x where mask is true, as a 1-D tensor (x and mask broadcast together)."""
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype}")
    shape = np.broadcast_shapes(x.shape, mask.shape)
    if x.shape != shape:
        x = expand(x, *shape)
    xp = backend.array_module(x.array)
    return index(x, backend.to_device(xp.broadcast_to(mask.array, shape), x.device))


def nonzero(x, *, as_tuple=False):
    """The positions of the non-zero elements: an int64 (count, dims) tensor, or with as_tuple
    one 1-D tensor per dim (as x[x.nonzero(as_tuple=True)] reads them)."""
    xp = backend.array_module(x.array)
    if as_tuple:
        array = x.array.reshape(1) if x.ndim == 0 else x.array
        return tuple(Tensor._wrap(p.astype(np.int64), False) for p in xp.nonzero(array))
    return Tensor._wrap(xp.argwhere(x.array).astype(np.int64), False)


def argwhere(x):
    """nonzero(x): the positions of the non-zero elements, (count, dims)."""
    return nonzero(x)


@composite
def repeat_interleave(x, repeats=None, dim=None, *, output_size=None):
    """Each element (each slice along `dim`) repeated `repeats` times in place: [a, b] -> [a, a, b, b].
    `repeats` is a number or a 1-D tensor of counts, one per slice. Without dim, x is flattened.
    repeat_interleave(counts) alone gives the positions 0, 1, ... each repeated counts[i] times."""
    if repeats is None:  # repeat_interleave(repeats): the positions 0, 1, 2, ... repeated
        counts = backend.to_numpy(x.array)
        return Tensor._wrap(backend.to_device(np.repeat(np.arange(counts.size), counts), x.device), False)
    if dim is None:
        x, dim = reshape(x, -1), 0
    dim = wrap_dim(dim, x.shape, "repeat_interleave")
    counts = backend.to_numpy(repeats.array) if isinstance(repeats, Tensor) else repeats
    n = x.shape[dim] if x.ndim else 1
    if x.ndim == 0:
        x, dim = reshape(x, 1), 0
    positions = np.repeat(np.arange(n), counts)
    return _take(x, dim, positions)
