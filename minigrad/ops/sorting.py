"""Ordering: sort, argsort, topk, median, kthvalue, unique.

The values of sort, topk, median and kthvalue are gathered from the input at the positions the
ordering picks, so their gradient flows back through those positions (gather's backward);
the positions themselves (indices) are integers and have no gradient.
"""

from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd import composite
from ..tensor import Tensor
from .indexing import gather
from .shape import wrap_dim

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])
MedianResult = namedtuple("median", ["values", "indices"])
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])


def _order(array, axis, descending):
    """The positions that sort `array` along `axis`, ties in their original order (stable).
    NaN counts as larger than every number, as in PyTorch: last ascending, first descending."""
    xp = backend.array_module(array)
    if not descending:
        return xp.argsort(array, axis=axis, kind="stable")
    # descending and stable: sort the reversed array ascending, read that order backwards,
    # and translate the positions back (ties keep their original order)
    n = array.shape[axis]
    reversed_order = xp.argsort(xp.flip(array, axis), axis=axis, kind="stable")
    return n - 1 - xp.flip(reversed_order, axis)


def argsort(x, dim=-1, descending=False, stable=False):
    """The int64 positions that sort x along `dim` (always stable here)."""
    if x.ndim == 0:
        return Tensor._wrap(backend.array_module(x.array).zeros((), dtype=np.int64), False)
    dim = wrap_dim(dim, x.shape, "argsort")
    return Tensor._wrap(_order(x.array, dim, descending).astype(np.int64), False)


def sort(x, dim=-1, descending=False, stable=False):
    """(values, indices): x sorted along `dim`, and where each value came from, as torch.sort."""
    indices = argsort(x, dim, descending)
    if x.ndim == 0:
        return SortResult(x.clone(), indices)
    return SortResult(gather(x, dim, indices), indices)


def msort(x):
    """x sorted along its first dim."""
    return sort(x, 0).values


def topk(x, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (or smallest) elements along `dim`, largest first
    (smallest first with largest=False)."""
    n = x.shape[wrap_dim(dim, x.shape, "topk")] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k ({k}) out of range for a dim of size {n}")
    values, indices = sort(x, dim, descending=largest)
    if x.ndim == 0:
        return TopkResult(values, indices)
    first_k = (slice(None),) * wrap_dim(dim, x.shape, "topk") + (slice(0, k),)
    return TopkResult(values[first_k], indices[first_k])


def kthvalue(x, k, dim=-1, keepdim=False):
    """(values, indices) of the k-th smallest element along `dim` (k counts from 1)."""
    return _pick(x, dim, keepdim, lambda n: k - 1, KthvalueResult, "kthvalue")


@composite
def median(x, dim=None, keepdim=False):
    """The median: the lower of the two middle values for an even count, as torch.median (nan
    when there is a nan). Without dim, of all elements (a 0-d tensor); with dim, (values, indices)."""
    if dim is None:
        flat = x.reshape(-1)
        if flat.numel() == 0:
            return Tensor._wrap(backend.array_module(x.array).asarray(np.nan, dtype=x.dtype), False)
        return _pick(flat, 0, False, lambda n: (n - 1) // 2, MedianResult, "median").values
    return _pick(x, dim, keepdim, lambda n: (n - 1) // 2, MedianResult, "median")


def _pick(x, dim, keepdim, position, result, op):
    """The element at sorted position `position(n)` along dim (the first nan where there is one)."""
    if x.ndim == 0:
        return result(x.clone(), Tensor._wrap(backend.array_module(x.array).zeros((), dtype=np.int64), False))
    dim = wrap_dim(dim, x.shape, op)
    n = x.shape[dim]
    k = position(n)
    if not 0 <= k < n:
        raise IndexError(f"{op}(): selected number k out of range for dimension {dim} of size {n}")
    indices = argsort(x, dim)
    xp = backend.array_module(x.array)
    chosen = xp.take(indices.array, [k], axis=dim)
    if x.dtype.kind == "f":  # a slice holding a nan has the nan as its answer (sorted last)
        first_nan = xp.take(indices.array, [n - 1], axis=dim)
        has_nan = xp.isnan(x.array).any(axis=dim, keepdims=True)
        chosen = xp.where(has_nan, first_nan, chosen)
    chosen = Tensor._wrap(chosen, False)
    values = gather(x, dim, chosen)
    if not keepdim:
        values, chosen = values.squeeze(dim), chosen.squeeze(dim)
    return result(values, chosen)


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of x in ascending order (of its slices along `dim`), and optionally
    where each element of x went (inverse) and how often each value occurs (counts). No gradient."""
    array = backend.to_numpy(x.array)
    if dim is None:
        values, inverse, counts = np.unique(array, return_inverse=True, return_counts=True)
        inverse = inverse.reshape(array.shape)
    else:
        dim = wrap_dim(dim, x.shape, "unique")
        values, inverse, counts = np.unique(array, return_inverse=True, return_counts=True, axis=dim)
        inverse = inverse.reshape(-1)

    def wrap(a, dtype=None):
        return Tensor._wrap(backend.to_device(np.asarray(a, dtype=dtype), x.device), False)

    out = [wrap(values, x.dtype)]
    if return_inverse:
        out.append(wrap(inverse, np.int64))
    if return_counts:
        out.append(wrap(counts, np.int64))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(x, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal consecutive elements of (flattened) x as one element."""
    if dim is not None:
        raise NotImplementedError("unique_consecutive: only dim=None")
    array = backend.to_numpy(x.array).reshape(-1)
    starts = np.ones(array.size, dtype=bool)
    starts[1:] = array[1:] != array[:-1]
    values = array[starts]
    out = [Tensor._wrap(backend.to_device(values, x.device), False)]
    if return_inverse:
        inverse = (np.cumsum(starts) - 1).reshape(x.shape).astype(np.int64)
        out.append(Tensor._wrap(backend.to_device(inverse, x.device), False))
    if return_counts:
        counts = np.diff(np.append(np.flatnonzero(starts), array.size)).astype(np.int64)
        out.append(Tensor._wrap(backend.to_device(counts, x.device), False))
    return out[0] if len(out) == 1 else tuple(out)
