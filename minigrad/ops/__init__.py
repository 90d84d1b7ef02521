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
from .activation import (celu, glu, hardshrink, hardsigmoid, hardswish, hardtanh, logsigmoid, mish, relu6, selu,
                         silu, softmax2d, softmin, softshrink, softsign, tanhshrink, threshold)
from .conv import adaptive_max_pool2d, avg_pool1d, max_pool1d
from .distance import cosine_similarity, pairwise_distance
from .loss import (cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div,
                   margin_ranking_loss, poisson_nll_loss, smooth_l1_loss, soft_margin_loss)
from .elementwise import (acos, allclose, asin, atan, atan2, bitwise_and, bitwise_not, bitwise_or, bitwise_xor,
                          ceil, clamp_max, clamp_min, clip, cos, cosh, eq, equal, exp2, expm1, fix, floor,
                          floor_divide, fmod, frac, ge, greater, greater_equal, gt, is_floating_point, is_tensor,
                          isclose, isfinite, isinf, isnan, le, lerp, less, less_equal, log10, log1p, log2,
                          logical_and, logical_not, logical_or, logical_xor, lt, ne, not_equal, numel, reciprocal,
                          remainder, round, rsqrt, sign, sin, sinh, square, tan, trunc, true_divide)
from .indexing import (argwhere, gather, index_select, masked_fill, masked_select, nonzero, repeat_interleave,
                       scatter, scatter_add, take_along_dim)
from .linalg import (addmm, addmv, baddbmm, bmm, cdist, diag, diag_embed, diagonal, dot, einsum, ger, mm, mv,
                     outer, trace, tril, triu, vdot)
from .promotion import promote_types, result_type
from .reduce import (all, amax, amin, any, count_nonzero, cumprod, cumsum, logsumexp, std_mean, var_mean)
from .shape import (broadcast_tensors, broadcast_to, chunk, flip, fliplr, flipud, meshgrid, moveaxis, movedim,
                    narrow, repeat, roll, rot90, select, split, tensor_split, tile, unbind)
from .sorting import argsort, kthvalue, median, msort, sort, topk, unique, unique_consecutive
from .elementwise import addcdiv, addcmul, hypot, logaddexp, nan_to_num, xlogy
from .indexing import index_fill
from .linalg import cross, inner, kron
from .reduce import cummax, diff, logcumsumexp
from .shape import unflatten, unfold
