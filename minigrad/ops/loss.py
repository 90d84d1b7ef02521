"""Losses: mse_loss, l1_loss, binary_cross_entropy (+ with logits), nll_loss, cross_entropy, and the
rest of torch.nn.functional's: smooth_l1_loss, huber_loss, kl_div, cosine_embedding_loss,
margin_ranking_loss, hinge_embedding_loss, soft_margin_loss, poisson_nll_loss, gaussian_nll_loss.

Each takes `reduction` = "mean" (default), "sum" or "none", as in PyTorch, and, where PyTorch does,
the legacy `size_average` and `reduce` flags, mapped to a reduction as PyTorch maps them (with its
warning). The fused ones apply the reduction inside the op, so backward starts from one number.
Unlike PyTorch, an input and target of different shapes is an error here, never a
silent broadcast (an (N, 1) output against an (N,) target would compare all pairs).
"""

import math
import warnings

import numpy as np

from .. import backend, kernels
from ..autograd import FusedFunction, composite
from ..tensor import Tensor, as_tensor
from .activation import log_softmax, softplus_of_negative, stable_sigmoid
from .elementwise import clamp, exp, log, where

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


def legacy_reduction(size_average=None, reduce=None, emit_warning=True):
    """The reduction that PyTorch's deprecated flags stand for (its _Reduction.legacy_get_string):
    each flag defaults to True; reduce=False gives "none", else size_average=False gives "sum",
    else "mean". With PyTorch's warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                      f"instead.", UserWarning, stacklevel=3)
    return reduction


def _reduction(name, size_average, reduce, reduction, allowed=REDUCTIONS):
    """The reduction a loss was asked for: from the legacy flags when either is given, as PyTorch."""
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    if reduction not in allowed:
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction; use one of {allowed}")
    return reduction


def _reduce_tensor(losses, reduction):
    return losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" else losses


def _reduce(losses, reduction):
    """Elementwise losses -> the requested reduction, and the per-element backward scale."""
    if reduction == "mean":  # sum / n: NumPy's mean, without its ~5 us of Python per call
        return (losses.sum() / losses.size if losses.size else losses.mean()), 1.0 / max(losses.size, 1)
    if reduction == "sum":
        return losses.sum(), 1.0
    return losses, 1.0


class BinaryCrossEntropy(FusedFunction):
    """L = -w [y ln p + (1 - y) ln(1 - p)], each log clamped at -100 as PyTorch does.

    dL/dp = w (p - y) / max(p (1 - p), 1e-12),   dL/dy = w [ln(1 - p) - ln p].
    """

    def forward(self, p, y, weight=None, reduction="mean"):
        self.p, self.y, self.weight, self.reduction = p, y, weight, reduction
        if weight is None and reduction != "none" and p.size:  # the losses summed as they are made
            total, self.log_p, self.log_1mp = kernels.binary_cross_entropy_sum(p, y)
            self.scale = 1.0 / p.size if reduction == "mean" else 1.0
            return total / p.size if reduction == "mean" else total
        losses, self.log_p, self.log_1mp = kernels.binary_cross_entropy_losses(p, y)
        if weight is not None:
            losses = losses * weight
        out, self.scale = _reduce(losses, reduction)
        return out

    def definition(self, p, y):
        with backend.quiet_float_errors(p.array):
            log_p, log_1mp = log(p).clamp(min=-100), log(1 - p).clamp(min=-100)
        losses = -(y * log_p + (1 - y) * log_1mp)
        return _reduce_tensor(losses if self.weight is None else losses * self.weight, self.reduction)

    def closed_form(self, grad):
        xp = backend.array_module(grad)
        g = grad * self.scale if self.weight is None else grad * self.scale * self.weight
        dp = dy = None
        if self.needs_input_grad[0]:
            p = self.p
            dp = g * (p - self.y) / xp.maximum(p * (1 - p), 1e-12)
        if self.needs_input_grad[1]:
            dy = g * (self.log_1mp - self.log_p)
        return dp, dy


class BinaryCrossEntropyWithLogits(FusedFunction):
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
        softplus_neg = softplus_of_negative(x)
        c = 1 if self.pos_weight is None else 1 + (self.pos_weight - 1) * y
        losses = (1 - y) * x + c * softplus_neg
        return _reduce_tensor(losses if self.weight is None else losses * self.weight, self.reduction)

    def closed_form(self, grad):
        g = grad * self.scale if self.weight is None else grad * self.scale * self.weight
        dx = dy = None
        if self.needs_input_grad[0]:
            dx = g * ((1 - self.y) - self.c * (1 - stable_sigmoid(self.x)))
        if self.needs_input_grad[1]:
            extra = 0 if self.pos_weight is None else (self.pos_weight - 1) * self.softplus_neg
            dy = g * (extra - self.x)
        return dx, dy


class NLLLoss(FusedFunction):
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

    def closed_form(self, grad):
        xp = backend.array_module(grad)
        classes = self.moved_shape[-1]
        per_row = -self.w * (grad.reshape(-1) if self.reduction == "none" else grad * self.scale)
        drows = xp.zeros((self.rows.shape[0], classes), dtype=per_row.dtype)
        drows[self.rows, self.safe] = per_row
        dmoved = drows.reshape(self.moved_shape)
        return xp.moveaxis(dmoved, -1, 1) if len(self.shape) > 2 else dmoved


# --- the functions users call (exported by minigrad.nn.functional) ------------------------
#
# Signatures are PyTorch's, argument for argument: the legacy size_average and reduce sit where
# PyTorch has them, before `reduction`, so pass `reduction` by name.

def _reduce_weighted(losses, weight, reduction, mean_by_weight):
    """Apply an optional per-element weight and the reduction. mse_loss and l1_loss divide a
    weighted mean by sum(weight), huber_loss by the number of elements, as PyTorch."""
    if weight is not None:
        weight = as_tensor(weight, like=losses)
        if weight.shape != losses.shape:
            raise ValueError(f"Weights and input must have the same size (weight {weight.shape}, "
                             f"input {losses.shape}).")
        losses = losses * weight
        if reduction == "mean" and mean_by_weight:
            return losses.sum() / weight.sum()
    return _reduce_tensor(losses, reduction)


@composite
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean((input - target)^2) (or the sum, or each element; weighted: sum(w l) / sum(w))."""
    reduction = _reduction("mse_loss", size_average, reduce, reduction)
    target = _check("mse_loss", input, target, reduction)
    diff = input - target
    return _reduce_weighted(diff * diff, weight, reduction, mean_by_weight=True)


@composite
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean(|input - target|) (or the sum, or each element): pix2pix's reconstruction term.
    Made of sub, abs and mean/sum; d/dinput = sign(input - target) (0 where they are equal)."""
    reduction = _reduction("l1_loss", size_average, reduce, reduction)
    target = _check("l1_loss", input, target, reduction)
    return _reduce_weighted((input - target).abs(), weight, reduction, mean_by_weight=True)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w [y ln p + (1 - y) ln(1 - p)] for probabilities p; both p and y must lie in [0, 1]."""
    reduction = _reduction("binary_cross_entropy", size_average, reduce, reduction)
    if isinstance(target, Tensor) and target.dtype.kind != "f":  # as PyTorch (NumPy would promote)
        raise RuntimeError(f"binary_cross_entropy: Found dtype {target.dtype} but expected {input.dtype}: the "
                           f"target (shape {tuple(target.shape)}) must be a float tensor like the input; "
                           f"convert it with .to(input.dtype)")
    target = _check("binary_cross_entropy", input, target, reduction)
    _check_probabilities("binary_cross_entropy", input, "input")
    _check_probabilities("binary_cross_entropy", target, "target")
    return BinaryCrossEntropy.apply(input, target, weight=_constant(weight, input), reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    reduction = _reduction("binary_cross_entropy_with_logits", size_average, reduce, reduction)
    target = _check("binary_cross_entropy_with_logits", input, target, reduction)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight=_constant(weight, input),
                                              pos_weight=_constant(pos_weight, input), reduction=reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class-index targets; input holds log-probabilities (N, C, ...)."""
    reduction = _reduction("nll_loss", size_average, reduce, reduction)
    target = _class_targets(input, target)
    expected = (input.shape[0],) + input.shape[2:] if input.ndim > 1 else ()
    if target.shape != expected:
        raise ValueError(f"nll_loss/cross_entropy: input {input.shape} needs target of shape {expected}, "
                         f"got {target.shape}")
    return NLLLoss.apply(input, weight=_constant(weight, input), target=target.array,
                         ignore_index=ignore_index, reduction=reduction)


def _class_targets(input, target):
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target), device=input.device)
    if target.dtype.kind not in "iu":
        raise TypeError(f"nll_loss/cross_entropy: expected class-index targets (integers), got {target.dtype}; "
                        f"use target.long(), or give class probabilities of the input's shape {input.shape}")
    return target


@composite
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits in (N, C, ...) (or (C,)) against class indices (N, ...) or class
    probabilities of the input's shape.

    Class indices:   nll_loss(log_softmax(x, 1), t, weight, ignore_index); with label smoothing e,
                     (1 - e) nll + e/C sum_c -w_c log p_c  (the smoothing term reduced as nll:
                     its mean divides by the summed weights of the counted targets).
    Probabilities:   -sum_c w_c q_c log p_c  with q = (1 - e) t + e/C; the mean divides by N (the
                     number of distributions), not by the weights; ignore_index is refused.
    """
    reduction = _reduction("cross_entropy", size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 1 if input.ndim > 1 else 0
    classes = input.shape[class_dim]
    logp = log_softmax(input, class_dim)
    class_weight = None if weight is None else _class_weight(weight, input, class_dim)
    if isinstance(target, Tensor) and target.shape == input.shape:
        return _cross_entropy_probabilities(logp, target, class_weight, ignore_index, reduction,
                                            label_smoothing, class_dim)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return nll
    target = _class_targets(input, target)
    ignored = target.array == ignore_index
    per_class = logp if class_weight is None else logp * class_weight
    smooth = where(ignored, 0.0, -per_class.sum(class_dim))
    if reduction == "mean":
        counted = target.array[~ignored]
        total = counted.size if weight is None else as_tensor(weight, like=input).array[counted].sum()
        with backend.quiet_float_errors(smooth.array):  # every target ignored: 0/0 = nan, as PyTorch
            smooth = smooth.sum() / float(total)
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / classes)


def _class_weight(weight, input, class_dim):
    """A (C,) class weight, shaped to broadcast along the class dim of `input`."""
    weight = as_tensor(weight, like=input)
    classes = input.shape[class_dim]
    if weight.shape != (classes,):
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or no classes "
                           f"but got weight tensor of shape: {list(weight.shape)}")
    return weight.reshape((classes,) + (1,) * (input.ndim - class_dim - 1))


def _cross_entropy_probabilities(logp, target, class_weight, ignore_index, reduction, label_smoothing,
                                 class_dim):
    if target.dtype.kind != "f":
        raise RuntimeError(f"Expected floating point type for target with class probabilities, got {target.dtype}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    classes = logp.shape[class_dim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    per_class = logp * target if class_weight is None else logp * target * class_weight
    if reduction == "none":
        return -per_class.sum(class_dim)
    if reduction == "sum":
        return -per_class.sum()
    distributions = logp.numel() // classes if classes else 0
    return -per_class.sum() * (1 / distributions if distributions else float("nan"))


def _check_probabilities(name, tensor, what):
    """Raise unless every element lies in [0, 1], as PyTorch (NaN fails too).

    min() and max() are two cheap passes, without the temporaries of a masked test;
    written as `not (low >= 0 ...)` so that a NaN, which compares False, is caught.
    """
    array = tensor.array
    if array.size == 0:
        return
    low = array.min()
    if low >= 0 and array.max() <= 1:
        return
    found = "NaN" if math.isnan(float(low)) else f"values from {float(low):g} to {float(array.max()):g}"
    hint = " (apply sigmoid first, or use binary_cross_entropy_with_logits)" if what == "input" else ""
    raise RuntimeError(f"{name}: all elements of {what} should be between 0 and 1, but {what} of shape "
                       f"{tuple(tensor.shape)} holds {found}{hint}")


def _constant(value, like):
    """An optional weight as a raw array on `like`'s device (it is not differentiated)."""
    if value is None:
        return None
    return as_tensor(value, like=like).array


# --- more losses (composites) ----------------------------------------------------------------

@composite
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """l = 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta  (d = input - target; l1 at beta = 0).
    dl/dd = d / beta inside, sign(d) outside: the two agree at |d| = beta."""
    reduction = _reduction("smooth_l1_loss", size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    target = _check("smooth_l1_loss", input, target, reduction)
    diff = input - target
    if beta == 0:
        return _reduce_tensor(diff.abs(), reduction)
    inside = backend.array_module(diff.array).abs(diff.array) < beta
    losses = where(inside, 0.5 * diff * diff / beta, diff.abs() - 0.5 * beta)
    return _reduce_tensor(losses, reduction)


@composite
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """l = 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): delta * smooth_l1 with beta = delta.
    A weighted mean divides by the number of elements, as PyTorch."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    target = _check("huber_loss", input, target, reduction)
    diff = input - target
    inside = backend.array_module(diff.array).abs(diff.array) < delta
    losses = where(inside, 0.5 * diff * diff, delta * (diff.abs() - 0.5 * delta))
    return _reduce_weighted(losses, weight, reduction, mean_by_weight=False)


@composite
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence, input holding log-probabilities log q:

        l = t (ln t - input)        (0 where t = 0), or with log_target:  l = e^t (t - input).

    reduction "batchmean" is sum / N (the divergence per sample, as the math defines it); "mean"
    divides by every element, with PyTorch's warning.
    dl/dinput = -t,  dl/dt = ln t + 1 - input (0 where t = 0, as PyTorch).
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    if reduction not in REDUCTIONS + ("batchmean",):
        raise ValueError(f"kl_div: {reduction!r} is not a valid value for reduction")
    target = _check("kl_div", input, target, "none")
    if log_target:
        losses = exp(target) * (target - input)
    else:
        zero = target.array == 0
        losses = where(zero, 0.0, target * (log(where(zero, 1.0, target)) - input))
    if reduction == "batchmean":
        total = losses.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce_tensor(losses, reduction)


@composite
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """l = 1 - cos(x1, x2) where y = 1;  max(0, cos(x1, x2) - margin) where y = -1 (0 for other y).

    Rows of (N, D) inputs with (N,) targets, or one (D,) pair with a 0-d target. The cosine is
    PyTorch's: x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)).
    """
    reduction = _reduction("cosine_embedding_loss", size_average, reduce, reduction)
    target = as_tensor(target, like=input1)
    if target.ndim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    wanted = 2 if target.ndim == 1 else 1
    if input1.ndim != wanted or input2.ndim != wanted:
        raise RuntimeError(f"{target.ndim}D target tensor expects {wanted}D input tensors, but found inputs "
                           f"with sizes {list(input1.shape)} and {list(input2.shape)}.")
    dim = target.ndim
    products = (input1 * input2).sum(dim)
    squares1 = (input1 * input1).sum(dim) + 1e-12
    squares2 = (input2 * input2).sum(dim) + 1e-12
    cos = products / (squares1 * squares2).sqrt()
    losses = (where(target.array == 1, 1 - cos, 0.0)
              + where(target.array == -1, clamp(cos - margin, min=0), 0.0))
    return _reduce_tensor(losses, reduction)


@composite
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """l = max(0, -y (x1 - x2) + margin): x1 should rank above x2 where y = 1, below where y = -1."""
    reduction = _reduction("margin_ranking_loss", size_average, reduce, reduction)
    target = as_tensor(target, like=input1)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {list(input1.shape)}, input2: {list(input2.shape)}, "
                           f"target: {list(target.shape)} ")
    return _reduce_tensor(clamp(-target * (input1 - input2) + margin, min=0), reduction)


@composite
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """l = x where y = 1,  max(0, margin - x) where y = -1 (for other y, PyTorch adds both terms)."""
    reduction = _reduction("hinge_embedding_loss", size_average, reduce, reduction)
    target = _check("hinge_embedding_loss", input, target, reduction)
    losses = (where(target.array != 1, clamp(margin - input, min=0), 0.0)
              + where(target.array != -1, input, 0.0))
    return _reduce_tensor(losses, reduction)


@composite
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """l = ln(1 + e^(-y x)) (two-class logistic loss, y = 1 or -1), computed without overflow.
    dl/dx = -y sigmoid(-y x)."""
    reduction = _reduction("soft_margin_loss", size_average, reduce, reduction)
    target = _check("soft_margin_loss", input, target, reduction)
    return _reduce_tensor(softplus_of_negative(input * target), reduction)


@composite
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Negative log-likelihood of a Poisson target t with rate r (dropping the constant ln t!):

        log_input:  l = e^x - t x        (x = ln r),      dl/dx = e^x - t
        otherwise:  l = x - t ln(x + eps)  (x = r),       dl/dx = 1 - t / (x + eps)

    full adds Stirling's ln t! ~ t ln t - t + 0.5 ln(2 pi t), where t > 1.
    """
    reduction = _reduction("poisson_nll_loss", size_average, reduce, reduction)
    target = _check("poisson_nll_loss", input, target, reduction)
    losses = exp(input) - target * input if log_input else input - target * log(input + eps)
    if full:
        counted = target.array > 1
        safe = where(counted, target, 2.0)
        stirling = safe * log(safe) - safe + 0.5 * log(2 * math.pi * safe)
        losses = losses + where(counted, stirling, 0.0)
    return _reduce_tensor(losses, reduction)


@composite
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of target under N(input, var):  l = 0.5 (ln v + (x - t)^2 / v)  (+ 0.5 ln 2 pi
    when full), v = max(var, eps).

    var has the input's shape, or one fewer trailing dim, or a single dim of size 1 (one variance
    shared along it), or is a float. As PyTorch, the clamp at eps is not differentiated: the gradient
    of var is that of v, also where var < eps.
    """
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = Tensor._wrap(backend.array_module(input.array).full(input.shape, float(var), dtype=input.dtype), False)
    elif (var.array < 0).any():
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim
                  and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    target = _check("gaussian_nll_loss", input, target, reduction)
    floor = Tensor._wrap(backend.array_module(var.array).maximum(var.array, eps) - var.array, False)
    var = var + floor  # = max(var, eps), with the gradient of var
    losses = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return _reduce_tensor(losses, reduction)
