"""minigrad.nn.functional: the stateless ops, with torch.nn.functional's names and arguments.

    import minigrad.nn.functional as F
    y = F.leaky_relu(F.linear(x, w, b), 0.2)

Each name is defined once, in minigrad.ops; this module only gathers them.
"""

from ..ops import (avg_pool2d, batch_norm, binary_cross_entropy, binary_cross_entropy_with_logits,
                   conv2d, conv_transpose2d, cross_entropy, dropout, embedding, gelu, layer_norm,
                   leaky_relu, linear, log_softmax, max_pool2d, mse_loss, nll_loss, pad, relu, sigmoid,
                   softmax, softplus, tanh)

__all__ = [
    "avg_pool2d", "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv2d",
    "conv_transpose2d", "cross_entropy", "dropout", "embedding", "gelu", "layer_norm", "leaky_relu",
    "linear", "log_softmax", "max_pool2d", "mse_loss", "nll_loss", "pad", "relu", "sigmoid", "softmax",
    "softplus", "tanh",
]
