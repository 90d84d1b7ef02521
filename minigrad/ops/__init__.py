"""Every differentiable op, in one namespace. Tensor methods and nn.functional call these.

Modules, by kind:  elementwise, linalg, reduce, shape, activation, conv, norm, loss.
`minigrad.autograd.OPS` lists them all by name (the registry the tests check).
"""

from .activation import (dropout, dropout2d, elu, gelu, leaky_relu, log_softmax, prelu, relu, sigmoid, softmax,
                         softplus, tanh)
from .conv import adaptive_avg_pool2d, avg_pool2d, conv2d, conv_transpose2d, max_pool2d
from .elementwise import (abs, add, argmax, argmin, cast, clamp, clone, compare, div, exp, log, maximum,
                          minimum, mul, neg, pow, sqrt, sub, to_device, where)
from .linalg import linear, matmul
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, l1_loss, mse_loss,
                   nll_loss)
from .norm import batch_norm, instance_norm, layer_norm
from .special import erf
from .reduce import max, mean, min, norm, prod, std, sum, var
from .shape import (cat, index_put, embedding, expand, flatten, index, interpolate, one_hot, pad, pad_by_index,
                    permute, pixel_shuffle, reshape, squeeze, stack, transpose, unsqueeze, view)
