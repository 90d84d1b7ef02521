"""Distances between vectors: cosine_similarity and pairwise_distance (composites).

Both compare x1 and x2 along one dim (they broadcast, as in PyTorch) and remove that dim.
"""

from .. import backend
from ..autograd import composite
from ..tensor import Tensor
from .reduce import norm
from .shape import wrap_dim


@composite
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """cos = sum(x1 x2) / (max(|x1|, eps) max(|x2|, eps)) along `dim`, the norms Euclidean.

    Computed as PyTorch does, each input divided by its own norm first (the result stays in
    [-1, 1]). The clamp at eps is not differentiated, as in PyTorch: below eps, the gradient is
    that of x1 / |x1| although the value divides by eps.
    """
    ndim = max(x1.ndim, x2.ndim)
    dim = wrap_dim(dim, (0,) * ndim, "cosine_similarity")
    if x1.ndim < ndim:
        x1 = x1.reshape((1,) * (ndim - x1.ndim) + x1.shape)
    if x2.ndim < ndim:
        x2 = x2.reshape((1,) * (ndim - x2.ndim) + x2.shape)
    unit1 = x1 / _at_least(norm(x1, 2, dim, keepdim=True), eps)
    unit2 = x2 / _at_least(norm(x2, 2, dim, keepdim=True), eps)
    return (unit1 * unit2).sum(dim)


def _at_least(length, eps):
    """max(length, eps) in value, with the gradient of `length` (the clamp is a constant shift)."""
    xp = backend.array_module(length.array)
    return length + Tensor._wrap(xp.maximum(length.array, eps) - length.array, False)


@composite
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """|x1 - x2 + eps|_p along the last dim (eps keeps the norm away from its kink at 0)."""
    last = max(x1.ndim, x2.ndim) - 1
    return norm(x1 - x2 + eps, p, max(last, 0), keepdim)
