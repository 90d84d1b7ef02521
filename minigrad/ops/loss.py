"""Losses: mse_loss, binary_cross_entropy (+ with logits), nll_loss, cross_entropy.

Each takes `reduction` = "mean" (default), "sum" or "none", as in PyTorch. The
fused ones apply the reduction inside the op, so backward starts from one number.
Unlike PyTorch, an input and target of different shapes is an error here, never a
silent broadcast (an (N, 1) output against an (N,) target would compare all pairs).
"""

import math

import numpy as np

from .. import backend
from ..autograd import Function, composite
from ..tensor import Tensor, as_tensor
from .activation import log_softmax, stable_sigmoid
from .elementwise import log, where

REDUCTIONS = ("mean", "sum", "none")


def _check(name, input, target, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    target = as_tensor(target, like=input)
    if target.shape != input.shape:
        raise ValueError(
            f"{name}: target shape {target.shape} differs from input shape {input.shape}; "
            f"reshape one of them (e.g. output.view(-1) or target.view(-1, 1))")
    return target


def _softplus_of_negative(x):
    """ln(1 + e^-x) in ops, stable and smooth to any order: each branch sees only the inputs
    on which its exp cannot overflow (so no 0 * inf reaches a gradient either)."""
    positive = x.array >= 0
    x_pos, x_neg = where(positive, x, 0.0), where(positive, 0.0, x)
    return where(positive, log(1 + (-x_pos).exp()), log(1 + x_neg.exp()) - x_neg)


def _reduce_tensor(losses, reduction):
    return losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" else losses


def _reduce(losses, reduction):
    """Elementwise losses -> the requested reduction, and the per-element backward scale."""
    if reduction == "mean":
        return losses.mean(), 1.0 / max(losses.size, 1)
    if reduction == "sum":
        return losses.sum(), 1.0
    return losses, 1.0


class BinaryCrossEntropy(Function):
    """L = -w [y ln p + (1 - y) ln(1 - p)], each log clamped at -100 as PyTorch does.

    dL/dp = w (p - y) / max(p (1 - p), 1e-12),   dL/dy = w [ln(1 - p) - ln p].
    """

    def forward(self, p, y, weight=None, reduction="mean"):
        xp = backend.array_module(p)
        self.p, self.y, self.weight, self.reduction = p, y, weight, reduction
        with backend.quiet_float_errors(p):  # log(0) = -inf is expected: it is clamped to -100
            self.log_p = xp.maximum(xp.log(p), -100)
            self.log_1mp = xp.maximum(xp.log1p(-p), -100)
        losses = -(y * self.log_p + (1 - y) * self.log_1mp)
        if weight is not None:
            losses = losses * weight
        out, self.scale = _reduce(losses, reduction)
        return out

    def definition(self, p, y):
        with backend.quiet_float_errors(p.array):
            log_p, log_1mp = log(p).clamp(min=-100), log(1 - p).clamp(min=-100)
        losses = -(y * log_p + (1 - y) * log_1mp)
        return _reduce_tensor(losses if self.weight is None else losses * self.weight, self.reduction)

    def fast_backward(self, grad):
        xp = backend.array_module(grad)
        g = grad * self.scale if self.weight is None else grad * self.scale * self.weight
        dp = dy = None
        if self.needs_input_grad[0]:
            p = self.p
            dp = g * (p - self.y) / xp.maximum(p * (1 - p), 1e-12)
        if self.needs_input_grad[1]:
            dy = g * (self.log_1mp - self.log_p)
        return dp, dy


class BinaryCrossEntropyWithLogits(Function):
    """BCE of sigmoid(x) computed from the logit x, stable for any x:

    L = w [(1 - y) x + c softplus(-x)],  c = 1 + (pos_weight - 1) y,  softplus(-x) = ln(1 + e^-|x|) + max(-x, 0).
    dL/dx = w [(1 - y) - c (1 - sigmoid(x))]   (= w (sigmoid(x) - y) without pos_weight),
    dL/dy = w [-x + (pos_weight - 1) softplus(-x)].
    """

    def forward(self, x, y, weight=None, pos_weight=None, reduction="mean"):
        xp = backend.array_module(x)
        self.x, self.y, self.weight, self.pos_weight, self.reduction = x, y, weight, pos_weight, reduction
        self.softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)
        self.c = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        losses = (1 - y) * x + self.c * self.softplus_neg
        if weight is not None:
            losses = losses * weight
        out, self.scale = _reduce(losses, reduction)
        return out

    def definition(self, x, y):
        softplus_neg = _softplus_of_negative(x)
        c = 1 if self.pos_weight is None else 1 + (self.pos_weight - 1) * y
        losses = (1 - y) * x + c * softplus_neg
        return _reduce_tensor(losses if self.weight is None else losses * self.weight, self.reduction)

    def fast_backward(self, grad):
        g = grad * self.scale if self.weight is None else grad * self.scale * self.weight
        dx = dy = None
        if self.needs_input_grad[0]:
            dx = g * ((1 - self.y) - self.c * (1 - stable_sigmoid(self.x)))
        if self.needs_input_grad[1]:
            extra = 0 if self.pos_weight is None else (self.pos_weight - 1) * self.softplus_neg
            dy = g * (extra - self.x)
        return dx, dy


class NLLLoss(Function):
    """L_n = -w[t_n] logp[n, t_n] for class-index targets t (targets equal to ignore_index give 0).

    "mean" divides by the sum of the weights of the counted targets, as PyTorch.
    dL/dlogp[n, c] = -w[t_n] where c = t_n, else 0.
    """
    saves_inputs = False

    def forward(self, logp, target, weight=None, ignore_index=-100, reduction="mean"):
        xp = backend.array_module(logp)
        classes = logp.shape[1] if logp.ndim > 1 else logp.shape[0]
        self.shape = logp.shape
        moved = xp.moveaxis(logp, 1, -1) if logp.ndim > 2 else logp
        rows = moved.reshape(-1, classes)
        targets = target.reshape(-1)
        counted = targets != ignore_index
        safe = xp.where(counted, targets, 0)
        if safe.size and (safe.min() < 0 or safe.max() >= classes):
            bad = int(safe[(safe < 0) | (safe >= classes)][0])
            raise IndexError(f"nll_loss: target {bad} is out of bounds for {classes} classes")
        w = counted.astype(logp.dtype) if weight is None else weight[safe] * counted
        self.rows, self.safe, self.w = xp.arange(rows.shape[0]), safe, w
        self.moved_shape, self.target_shape = moved.shape, target.shape
        losses = -w * rows[self.rows, safe]
        self.reduction = reduction
        if reduction == "none":
            return losses.reshape(target.shape)
        if reduction == "sum":
            self.scale = 1
            return losses.sum()
        with backend.quiet_float_errors(w):  # every target ignored: 0/0 = nan, as PyTorch
            self.scale = 1 / w.sum()
            return losses.sum() * self.scale

    def definition(self, logp):
        moved = logp.permute(0, *range(2, logp.ndim), 1) if logp.ndim > 2 else logp
        losses = -self.w * moved.reshape(-1, self.moved_shape[-1])[self.rows, self.safe]
        if self.reduction == "none":
            return losses.reshape(self.target_shape)
        return losses.sum() * self.scale

    def fast_backward(self, grad):
        xp = backend.array_module(grad)
        classes = self.moved_shape[-1]
        per_row = -self.w * (grad.reshape(-1) if self.reduction == "none" else grad * self.scale)
        drows = xp.zeros((self.rows.shape[0], classes), dtype=per_row.dtype)
        drows[self.rows, self.safe] = per_row
        dmoved = drows.reshape(self.moved_shape)
        return xp.moveaxis(dmoved, -1, 1) if len(self.shape) > 2 else dmoved


# --- the functions users call (exported by minigrad.nn.functional) ------------------------

@composite
def mse_loss(input, target, reduction="mean"):
    """mean((input - target)^2)."""
    target = _check("mse_loss", input, target, reduction)
    diff = input - target
    losses = diff * diff
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    target = _check("binary_cross_entropy", input, target, reduction)
    _check_probabilities("binary_cross_entropy", input)
    return BinaryCrossEntropy.apply(input, target, weight=_constant(weight, input), reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    target = _check("binary_cross_entropy_with_logits", input, target, reduction)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight=_constant(weight, input),
                                              pos_weight=_constant(pos_weight, input), reduction=reduction)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class-index targets; input holds log-probabilities (N, C, ...)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"nll_loss: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target), device=input.device)
    if target.dtype.kind not in "iu":
        raise TypeError(f"nll_loss/cross_entropy: expected class-index targets (integers), got {target.dtype}; "
                        f"use target.long() (probability targets are not supported)")
    expected = (input.shape[0],) + input.shape[2:] if input.ndim > 1 else ()
    if target.shape != expected:
        raise ValueError(f"nll_loss/cross_entropy: input {input.shape} needs target of shape {expected}, "
                         f"got {target.shape}")
    return NLLLoss.apply(input, weight=_constant(weight, input), target=target.array,
                         ignore_index=ignore_index, reduction=reduction)


@composite
def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """nll_loss(log_softmax(input, dim=1), target): class-index targets, logits in (N, C, ...)."""
    return nll_loss(log_softmax(input, dim=1 if input.ndim > 1 else 0), target, weight, ignore_index, reduction)


def _check_probabilities(name, input):
    """Raise unless every element of input lies in [0, 1], as PyTorch (NaN fails too).

    min() and max() are two cheap passes, without the temporaries of a masked test;
    written as `not (low >= 0 ...)` so that a NaN, which compares False, is caught.
    """
    array = input.array
    if array.size == 0:
        return
    low = array.min()
    if low >= 0 and array.max() <= 1:
        return
    found = "NaN" if math.isnan(float(low)) else f"values from {float(low):g} to {float(array.max()):g}"
    raise RuntimeError(f"{name}: all elements of input should be between 0 and 1, but input of shape "
                       f"{tuple(input.shape)} holds {found} (apply sigmoid first, or use "
                       f"binary_cross_entropy_with_logits)")


def _constant(value, like):
    """An optional weight as a raw array on `like`'s device (it is not differentiated)."""
    if value is None:
        return None
    return as_tensor(value, like=like).array


# --- more losses (composites) ----------------------------------------------------------------

@composite
def l1_loss(input, target, reduction="mean"):
    """mean(|input - target|) (or the sum, or each element): pix2pix's reconstruction term.
    Made of sub, abs and mean/sum; d/dinput = sign(input - target) (0 where they are equal)."""
    target = _check("l1_loss", input, target, reduction)
    losses = (input - target).abs()
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses
