"""minigrad.nn.functional: the stateless ops, with torch.nn.functional's names and arguments.

    import minigrad.nn.functional as F
    y = F.leaky_relu(F.linear(x, w, b), 0.2)

Each name is defined once, in minigrad.ops; this module only gathers them. The exceptions are the
functions that take PyTorch's `inplace=` flag (relu, leaky_relu, elu, hardtanh, relu6, selu, celu,
silu, mish, hardsigmoid, hardswish, threshold, dropout, dropout2d): with inplace=True the result is
written into the input's own memory and the input itself is returned, as in PyTorch
(Tensor._apply_in_place records it in the graph, and backward refuses if a value it saved was
overwritten).
"""

from .. import ops
from .attention import multi_head_attention_forward, scaled_dot_product_attention
from ..ops import (adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool1d, avg_pool2d, batch_norm,
                   binary_cross_entropy, binary_cross_entropy_with_logits, conv2d, conv_transpose2d,
                   cosine_embedding_loss, cosine_similarity, cross_entropy, embedding, gaussian_nll_loss, gelu, glu,
                   hardshrink, hinge_embedding_loss, huber_loss, instance_norm, interpolate, kl_div, l1_loss,
                   layer_norm, linear, log_softmax, logsigmoid, margin_ranking_loss, max_pool1d, max_pool2d,
                   mse_loss, nll_loss, one_hot, pad, pairwise_distance, pixel_shuffle, poisson_nll_loss, prelu,
                   sigmoid, smooth_l1_loss, soft_margin_loss, softmax, softmin, softplus, softshrink, softsign,
                   tanh, tanhshrink)

__all__ = [
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "celu", "conv2d", "conv_transpose2d", "cosine_embedding_loss",
    "cosine_similarity", "cross_entropy", "dropout", "dropout2d", "elu", "embedding", "gaussian_nll_loss", "gelu",
    "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "hinge_embedding_loss", "huber_loss",
    "instance_norm", "interpolate", "kl_div", "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax",
    "logsigmoid", "margin_ranking_loss", "max_pool1d", "max_pool2d", "mish", "mse_loss", "nll_loss", "one_hot",
    "pad", "pairwise_distance", "pixel_shuffle", "poisson_nll_loss", "prelu", "relu", "relu6", "selu", "sigmoid",
    "silu", "smooth_l1_loss", "soft_margin_loss", "softmax", "softmin", "softplus", "softshrink", "softsign",
    "tanh", "tanhshrink", "threshold",
]


def _maybe_in_place(function, input, inplace, *args):
    """function(input, *args): a new tensor, or with inplace=True written into input (returned)."""
    if inplace:
        return input._apply_in_place(function, *args)
    return function(input, *args)


def relu(input, inplace=False):
    """max(x, 0)."""
    return _maybe_in_place(ops.relu, input, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    return _maybe_in_place(ops.leaky_relu, input, inplace, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (e^x - 1)."""
    return _maybe_in_place(ops.elu, input, inplace, alpha)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """min(max(x, min_val), max_val)."""
    return _maybe_in_place(ops.hardtanh, input, inplace, min_val, max_val)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return _maybe_in_place(ops.relu6, input, inplace)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _maybe_in_place(ops.selu, input, inplace)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1))."""
    return _maybe_in_place(ops.celu, input, inplace, alpha)


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    return _maybe_in_place(ops.silu, input, inplace)


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return _maybe_in_place(ops.mish, input, inplace)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    return _maybe_in_place(ops.hardsigmoid, input, inplace)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    return _maybe_in_place(ops.hardswish, input, inplace)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    return _maybe_in_place(ops.threshold, input, inplace, threshold, value)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero elements with probability p, scale the rest by 1/(1-p); identity when not training."""
    if not inplace or not training or p == 0:
        return ops.dropout(input, p, training)  # the input itself when nothing is dropped
    return input._apply_in_place(ops.dropout, p, training)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels with probability p, scale the rest by 1/(1-p); identity when not training."""
    if not inplace or not training or p == 0:
        return ops.dropout2d(input, p, training)  # the input itself when nothing is dropped
    return input._apply_in_place(ops.dropout2d, p, training)


# PyTorch's in-place spellings: F.relu_(x) is F.relu(x, inplace=True).

def relu_(input):
    return relu(input, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def selu_(input):
    return selu(input, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold, value):
    return input._apply_in_place(ops.threshold, threshold, value)


__all__ += ["celu_", "elu_", "hardtanh_", "leaky_relu_", "relu_", "selu_", "threshold_",
            "multi_head_attention_forward", "scaled_dot_product_attention"]
