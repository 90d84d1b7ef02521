"""Helpers the distributions share: broadcasting parameters, and probabilities <-> logits."""

import numbers

import numpy as np

from .. import creation, ops
from ..tensor import Tensor, get_default_dtype

__all__ = ["broadcast_all", "clamp_probs", "logits_to_probs", "probs_to_logits"]


def broadcast_all(*values):
    """Numbers and tensors -> tensors of one broadcast shape. Numbers become tensors of the first
    tensor's dtype and device (of the default dtype when all are numbers)."""
    for value in values:
        if not isinstance(value, (Tensor, numbers.Number)):
            raise ValueError("Input arguments must all be instances of numbers.Number, torch.Tensor or objects "
                             "implementing __torch_function__.")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    options = dict(dtype=get_default_dtype()) if like is None else dict(dtype=like.dtype, device=like.device)
    tensors = [v if isinstance(v, Tensor) else creation.tensor(v, **options) for v in values]
    return ops.broadcast_tensors(*tensors)


def clamp_probs(probs):
    """probs kept within [eps, 1 - eps] (eps: the dtype's machine epsilon), so that log stays finite."""
    eps = float(np.finfo(probs.dtype).eps)
    return ops.clamp(probs, eps, 1 - eps)


def probs_to_logits(probs, is_binary=False):
    """log p (a categorical's logits), or log p - log(1 - p) for a binary event."""
    clamped = clamp_probs(probs)
    if is_binary:
        return ops.log(clamped) - ops.log1p(-clamped)
    return ops.log(clamped)


def logits_to_probs(logits, is_binary=False):
    """softmax over the last dim (a categorical's probabilities), or sigmoid for a binary event."""
    if is_binary:
        return ops.sigmoid(logits)
    return ops.softmax(logits, dim=-1)


def sum_rightmost(value, dim):
    """value summed over its last `dim` dims."""
    if dim == 0:
        return value
    return value.reshape(value.shape[:-dim] + (-1,)).sum(-1)
