"""minigrad: a small, readable, define-by-run autograd engine on NumPy (and CuPy), shaped like PyTorch.

    import minigrad as mg
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (x * x).sum().backward()
    x.grad          # tensor([[2., 4.], [6., 8.]])

Where to read: tensor.py (the Tensor; its op methods in tensor_methods.py), autograd.py (the graph and backward),
ops/ (every op, forward and backward side by side), backend.py (NumPy or CuPy).
"""

import numpy as _np

from . import memory  # noqa: F401  (importing it keeps freed host memory for reuse: see memory.py)
# The engine first, each module on the ones before it: the Tensor, the graph, the ops, making tensors.
# (Tensor's methods read ops and autograd from this package when they run: tensor.py says why.)
from . import tensor, autograd, ops, creation, legacy  # noqa: F401
from .tensor import Tensor, get_default_dtype, set_default_dtype
from .printing import set_printoptions
from . import accelerator, backends, cuda, data, nn, optim, parallel, utils
from . import distributions
from . import distributed  # torch.distributed; MPI (mpi4py) is imported only by init_process_group
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import Device as device
from .backend import get_default_device, set_default_device
from .creation import (arange, empty, from_numpy, full, full_like, linspace, manual_seed, ones, ones_like,
                       rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .legacy import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor,
                     LongTensor, ShortTensor, Size)
from .parallel import get_num_threads, set_num_threads
from .ops import (abs, argmax, argmin, cat, clamp, erf, exp, flatten, log, matmul, max, maximum, mean, min,
                  minimum, mul, norm, permute, prod, relu, reshape, sigmoid, softmax, log_softmax, sqrt, squeeze,
                  stack, std, sum, tanh, transpose, unsqueeze, var, where)
from .ops import (acos, addmm, addmv, all, allclose, amax, amin, any, argsort, argwhere, asin, atan, atan2,
                  baddbmm, bitwise_not, bmm, broadcast_tensors, broadcast_to, cdist, ceil, chunk, clip, cos, cosh,
                  count_nonzero, cumprod, cumsum, diag, diag_embed, diagonal, div, dot, einsum, eq, equal, exp2, expm1,
                  fix, flip, fliplr, flipud, floor, floor_divide, fmod, frac, gather, ge, ger, greater, greater_equal,
                  gt, index_select, is_floating_point, is_tensor, isclose, isfinite, isinf, isnan, kthvalue, le, lerp,
                  less, less_equal, log10, log1p, log2, logical_and, logical_not, logical_or, logical_xor, logsumexp,
                  lt, masked_fill, masked_select, median, meshgrid, mm, moveaxis, movedim, msort, mv, narrow, ne, neg,
                  nonzero, not_equal, numel, outer, promote_types, reciprocal, remainder, repeat_interleave,
                  result_type, roll, rot90, round, rsqrt, scatter, scatter_add, select, sign, sin, sinh, sort, split,
                  square, std_mean, sub, add, take_along_dim, tan, tensor_split, tile, topk, trace, tril, triu,
                  true_divide, trunc, unbind, unique, unique_consecutive, var_mean, vdot)
from .ops import pow  # noqa: A004  (mg.pow, as torch.pow)
from .ops import (addcdiv, addcmul, cross, cummax, diff, hypot, index_fill, inner, kron, logaddexp, logcumsumexp,
                  nan_to_num, unflatten, xlogy)
from .creation import (bernoulli, empty_like, eye, logspace, multinomial, normal, randint_like)
from .creation import inclusive_range as range  # noqa: A001  (torch.range, deprecated there too)
from .serialization import load, save
from .compile import compile  # noqa: A004  (mg.compile, as torch.compile: a captured step)

# mg.autograd.Variable, as torch.autograd.Variable: it lives in legacy.py so that autograd.py
# holds the engine and nothing else.
autograd.Variable = legacy.Variable

float32 = _np.dtype("float32")
float64 = _np.dtype("float64")
float16 = _np.dtype("float16")
int8 = _np.dtype("int8")
int16 = _np.dtype("int16")
int32 = _np.dtype("int32")
int64 = _np.dtype("int64")
uint8 = _np.dtype("uint8")
bool = _np.dtype("bool")  # noqa: A001  (mg.bool, as torch.bool)
float = float32  # noqa: A001
double = float64
half = float16
short = int16
int = int32  # noqa: A001  (mg.int, as torch.int)
long = int64

__version__ = "0.1.0"
