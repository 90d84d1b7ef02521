"""nn.utils: clip_grad_norm_ and clip_grad_value_, as torch.nn.utils; nn.utils.rnn packs and pads
batches of sequences of different lengths.

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
"""

import math
import warnings

import numpy as np

from ... import backend
from ...autograd import no_grad
from ...tensor import Tensor
from . import rnn  # noqa: F401  (nn.utils.rnn, as torch.nn.utils.rnn)


def _with_grads(parameters):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together, in place, so that their joint norm is at most max_norm.

    total = the norm_type-norm of all gradients as one vector (norm_type may be inf: the largest |g|);
    every gradient is multiplied by min(1, max_norm / (total + 1e-6)). Returns total (a 0-d tensor).
    """
    norm_type = float(norm_type)
    params = _with_grads(parameters)
    if not params:
        return Tensor._wrap(np.asarray(0.0, dtype=np.float32), False)
    xp = backend.array_module(params[0].grad.array)
    grads = [p.grad.array for p in params]
    if norm_type == math.inf:
        total = max(xp.abs(g).max() for g in grads)
    else:  # the norm of the per-gradient norms, as PyTorch (one pass over each gradient)
        norms = xp.stack([xp.linalg.norm(g.reshape(-1), ord=norm_type) for g in grads])
        total = xp.linalg.norm(norms, ord=norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is non-finite ({float(total)}), "
                           f"so they cannot be clipped; pass error_if_nonfinite=False to clip anyway")
    scale = min(max_norm / (float(total) + 1e-6), 1.0)
    with no_grad():
        for p in params:
            p.grad.mul_(scale)
    return Tensor._wrap(xp.asarray(total, dtype=grads[0].dtype), False)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    with no_grad():
        for p in _with_grads(parameters):
            p.grad.clamp_(-clip_value, clip_value)


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """The old name of clip_grad_norm_, deprecated in PyTorch with this FutureWarning."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)
