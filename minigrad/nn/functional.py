"""minigrad.nn.functional: the stateless ops, with torch.nn.functional's names and arguments.

    import minigrad.nn.functional as F
    y = F.leaky_relu(F.linear(x, w, b), 0.2)

Each name is defined once, in minigrad.ops; this module only gathers them. The exceptions are
relu, leaky_relu, elu and dropout, which here also take PyTorch's `inplace=` flag: it is
accepted and ignored, since minigrad never records in-place ops (the result is always a new tensor).
"""

from .. import ops
from ..ops import (adaptive_avg_pool2d, avg_pool2d, batch_norm, binary_cross_entropy,
                   binary_cross_entropy_with_logits, conv2d, conv_transpose2d, cross_entropy, dropout2d,
                   embedding, gelu, instance_norm, interpolate, l1_loss, layer_norm, linear, log_softmax,
                   max_pool2d, mse_loss, nll_loss, one_hot, pad, pixel_shuffle, prelu, sigmoid, softmax, softplus, tanh)

__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "conv2d", "conv_transpose2d", "cross_entropy", "dropout", "dropout2d", "elu", "embedding", "gelu", "instance_norm",
    "interpolate", "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax", "max_pool2d", "mse_loss",
    "nll_loss", "one_hot", "pad", "pixel_shuffle", "prelu", "relu", "sigmoid", "softmax", "softplus", "tanh",
]


def relu(input, inplace=False):
    """max(x, 0); `inplace` is accepted and ignored (a new tensor is returned)."""
    return ops.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x; `inplace` is accepted and ignored."""
    return ops.leaky_relu(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (e^x - 1); `inplace` is accepted and ignored."""
    return ops.elu(input, alpha)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero elements with probability p, scale the rest by 1/(1-p); `inplace` is accepted and ignored."""
    return ops.dropout(input, p, training)


from .attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: E402

__all__ += ["multi_head_attention_forward", "scaled_dot_product_attention"]
