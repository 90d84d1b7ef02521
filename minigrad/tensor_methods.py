"""TensorMethods: the part of the Tensor (tensor.py) that calls an op. Tensor inherits it.

    x + y, x @ w, x[key], x == y           the operators
    x.exp(), x.sum(dim), x.view(2, -1)     one method per op in minigrad.ops, as on PyTorch's Tensor
    x.to("cuda"), x.float(), x.tolist()    conversions (to other dtypes and devices through the ops cast
                                           and to_device; float(x), bool(x), np.asarray(x) too)
    x.relu_(), x.scatter_(...), x.normal_() in place: the op's result written into x's memory
                                           (Tensor._apply_in_place keeps autograd right)
    x.stride(), x.data_ptr(), x.is_xpu     how the array lies in memory, and PyTorch's other queries

Each method is a thin wrapper: the op holds the math and its derivative. The ops build on Tensor,
so this module reads them through the package when a method runs (`mg.ops.add`); importing
minigrad.ops here would need Tensor before it exists.
"""

import math

import numpy as np

import minigrad as mg

from . import backend
from .legacy import check_sizes


class TensorMethods:
    __slots__ = ()  # adds no instance state: a Tensor keeps no __dict__

    # --- arithmetic -------------------------------------------------------------------

    def __add__(self, other):
        return mg.ops.add(self, other)

    def __radd__(self, other):
        return mg.ops.add(other, self)

    def __sub__(self, other):
        return mg.ops.sub(self, other)

    def __rsub__(self, other):
        return mg.ops.sub(other, self)

    def __mul__(self, other):
        return mg.ops.mul(self, other)

    def __rmul__(self, other):
        return mg.ops.mul(other, self)

    def __truediv__(self, other):
        return mg.ops.div(self, other)

    def __rtruediv__(self, other):
        return mg.ops.div(other, self)

    def __pow__(self, other):
        return mg.ops.pow(self, other)

    def __rpow__(self, other):
        return mg.ops.pow(other, self)

    def __matmul__(self, other):
        return mg.ops.matmul(self, other)

    def __rmatmul__(self, other):
        return mg.ops.matmul(other, self)

    def __neg__(self):
        return mg.ops.neg(self)

    def __getitem__(self, key):
        return mg.ops.index(self, key)

    # Comparisons give boolean tensors that are not part of the graph.
    def __eq__(self, other):
        return mg.ops.compare(self, other, "equal")

    def __ne__(self, other):
        return mg.ops.compare(self, other, "not_equal")

    def __lt__(self, other):
        return mg.ops.compare(self, other, "less")

    def __le__(self, other):
        return mg.ops.compare(self, other, "less_equal")

    def __gt__(self, other):
        return mg.ops.compare(self, other, "greater")

    def __ge__(self, other):
        return mg.ops.compare(self, other, "greater_equal")

    # the same comparisons by PyTorch's method names: pred.eq(labels).sum()
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    __hash__ = object.__hash__  # == is elementwise, as in PyTorch; identity keeps tensors hashable

    # --- math ---------------------------------------------------------------------------

    def add(self, other, alpha=1):
        return mg.ops.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        return mg.ops.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        return mg.ops.mul(self, other)

    multiply = mul

    def div(self, other, rounding_mode=None):
        return mg.ops.div(self, other, rounding_mode=rounding_mode)

    divide = div

    def true_divide(self, other):
        return mg.ops.div(self, other)

    def floor_divide(self, other):
        return mg.ops.floor_divide(self, other)

    def remainder(self, other):
        return mg.ops.remainder(self, other)

    def fmod(self, other):
        return mg.ops.fmod(self, other)

    def __floordiv__(self, other):
        return mg.ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return mg.ops.floor_divide(other, self)

    def __mod__(self, other):
        return mg.ops.remainder(self, other)

    def __rmod__(self, other):
        return mg.ops.remainder(other, self)

    def __abs__(self):
        return mg.ops.abs(self)

    def __pos__(self):
        return self

    # & | ^ ~: logical on bool tensors, bitwise on integer ones
    def __and__(self, other):
        return mg.ops.bitwise_and(self, other)

    def __rand__(self, other):
        return mg.ops.bitwise_and(other, self)

    def __or__(self, other):
        return mg.ops.bitwise_or(self, other)

    def __ror__(self, other):
        return mg.ops.bitwise_or(other, self)

    def __xor__(self, other):
        return mg.ops.bitwise_xor(self, other)

    def __rxor__(self, other):
        return mg.ops.bitwise_xor(other, self)

    def __invert__(self):
        return mg.ops.bitwise_not(self)

    def pow(self, exponent):
        return mg.ops.pow(self, exponent)

    def matmul(self, other):
        return mg.ops.matmul(self, other)

    def mm(self, mat2):
        return mg.ops.mm(self, mat2)

    def bmm(self, mat2):
        return mg.ops.bmm(self, mat2)

    def mv(self, vec):
        return mg.ops.mv(self, vec)

    def dot(self, other):
        return mg.ops.dot(self, other)

    def outer(self, vec2):
        return mg.ops.outer(self, vec2)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return mg.ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return mg.ops.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return mg.ops.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return mg.ops.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return mg.ops.addcdiv(self, tensor1, tensor2, value=value)

    def inner(self, other):
        return mg.ops.inner(self, other)

    def kron(self, other):
        return mg.ops.kron(self, other)

    def cross(self, other, dim=None):
        return mg.ops.cross(self, other, dim)

    def hypot(self, other):
        return mg.ops.hypot(self, other)

    def xlogy(self, other):
        return mg.ops.xlogy(self, other)

    def logaddexp(self, other):
        return mg.ops.logaddexp(self, other)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return mg.ops.nan_to_num(self, nan, posinf, neginf)

    def neg(self):
        return mg.ops.neg(self)

    negative = neg

    def exp(self):
        return mg.ops.exp(self)

    def log(self):
        return mg.ops.log(self)

    def sqrt(self):
        return mg.ops.sqrt(self)

    def rsqrt(self):
        return mg.ops.rsqrt(self)

    def reciprocal(self):
        return mg.ops.reciprocal(self)

    def square(self):
        return mg.ops.square(self)

    def log1p(self):
        return mg.ops.log1p(self)

    def expm1(self):
        return mg.ops.expm1(self)

    def log2(self):
        return mg.ops.log2(self)

    def log10(self):
        return mg.ops.log10(self)

    def exp2(self):
        return mg.ops.exp2(self)

    def sin(self):
        return mg.ops.sin(self)

    def cos(self):
        return mg.ops.cos(self)

    def tan(self):
        return mg.ops.tan(self)

    def asin(self):
        return mg.ops.asin(self)

    def acos(self):
        return mg.ops.acos(self)

    def atan(self):
        return mg.ops.atan(self)

    arcsin, arccos, arctan = asin, acos, atan

    def atan2(self, other):
        return mg.ops.atan2(self, other)

    arctan2 = atan2

    def sinh(self):
        return mg.ops.sinh(self)

    def cosh(self):
        return mg.ops.cosh(self)

    def floor(self):
        return mg.ops.floor(self)

    def ceil(self):
        return mg.ops.ceil(self)

    def round(self, decimals=0):
        return mg.ops.round(self, decimals=decimals)

    def trunc(self):
        return mg.ops.trunc(self)

    fix = trunc

    def frac(self):
        return mg.ops.frac(self)

    def sign(self):
        return mg.ops.sign(self)

    def abs(self):
        return mg.ops.abs(self)

    absolute = abs

    def clamp(self, min=None, max=None):
        return mg.ops.clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min):
        return mg.ops.clamp(self, min=min)

    def clamp_max(self, max):
        return mg.ops.clamp(self, max=max)

    def maximum(self, other):
        return mg.ops.maximum(self, other)

    def minimum(self, other):
        return mg.ops.minimum(self, other)

    def lerp(self, end, weight):
        return mg.ops.lerp(self, end, weight)

    def where(self, condition, other):
        """self where condition is true, else other (torch.where(condition, self, other))."""
        return mg.ops.where(condition, self, other)

    def masked_fill(self, mask, value):
        return mg.ops.masked_fill(self, mask, value)

    def masked_select(self, mask):
        return mg.ops.masked_select(self, mask)

    def isnan(self):
        return mg.ops.isnan(self)

    def isinf(self):
        return mg.ops.isinf(self)

    def isfinite(self):
        return mg.ops.isfinite(self)

    def logical_and(self, other):
        return mg.ops.logical_and(self, other)

    def logical_or(self, other):
        return mg.ops.logical_or(self, other)

    def logical_xor(self, other):
        return mg.ops.logical_xor(self, other)

    def logical_not(self):
        return mg.ops.logical_not(self)

    def bitwise_not(self):
        return mg.ops.bitwise_not(self)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return mg.ops.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return mg.ops.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other):
        return mg.ops.equal(self, other)

    def clone(self):
        return mg.ops.clone(self)

    def norm(self, p="fro", dim=None, keepdim=False):
        return mg.ops.norm(self, p, dim, keepdim)

    # --- reductions -------------------------------------------------------------------

    def sum(self, dim=None, keepdim=False, dtype=None):
        return mg.ops.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        return mg.ops.mean(self, dim, keepdim, dtype=dtype)

    def prod(self, dim=None, keepdim=False, dtype=None):
        return mg.ops.prod(self, dim, keepdim, dtype)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return mg.ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return mg.ops.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim=None, keepdim=False):
        return mg.ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return mg.ops.min(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        return mg.ops.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return mg.ops.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return mg.ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return mg.ops.argmin(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return mg.ops.any(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return mg.ops.all(self, dim, keepdim)

    def count_nonzero(self, dim=None):
        return mg.ops.count_nonzero(self, dim)

    def logsumexp(self, dim, keepdim=False):
        return mg.ops.logsumexp(self, dim, keepdim)

    def cumsum(self, dim, dtype=None):
        return mg.ops.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, dtype=None):
        return mg.ops.cumprod(self, dim, dtype=dtype)

    def cummax(self, dim):
        return mg.ops.cummax(self, dim)

    def logcumsumexp(self, dim):
        return mg.ops.logcumsumexp(self, dim)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return mg.ops.diff(self, n, dim, prepend, append)

    def median(self, dim=None, keepdim=False):
        return mg.ops.median(self, dim, keepdim)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return mg.ops.kthvalue(self, k, dim, keepdim)

    def sort(self, dim=-1, descending=False, stable=False):
        return mg.ops.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return mg.ops.argsort(self, dim, descending, stable)

    def msort(self):
        return mg.ops.msort(self)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return mg.ops.topk(self, k, dim, largest, sorted)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return mg.ops.unique(self, sorted, return_inverse, return_counts, dim)

    def trace(self):
        return mg.ops.trace(self)

    # --- shapes -----------------------------------------------------------------------

    def reshape(self, *shape):
        return mg.ops.reshape(self, *shape)

    def view(self, *shape):
        return mg.ops.view(self, *shape)

    def view_as(self, other):
        return mg.ops.view(self, other.shape)

    def reshape_as(self, other):
        return mg.ops.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return mg.ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return mg.ops.unflatten(self, dim, sizes)

    def unfold(self, dimension, size, step):
        """Sliding windows of `size` along `dimension`, every `step` elements (a new last dim)."""
        return mg.ops.unfold(self, dimension, size, step)

    def ravel(self):
        return mg.ops.reshape(self, -1)

    def transpose(self, dim0, dim1):
        return mg.ops.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def permute(self, *dims):
        return mg.ops.permute(self, *dims)

    def movedim(self, source, destination):
        return mg.ops.movedim(self, source, destination)

    moveaxis = movedim

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t() expects a tensor with at most 2 dims, but this one has shape {self.shape}")
        return mg.ops.permute(self, *reversed(range(self.ndim)))

    @property
    def T(self):
        return mg.ops.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):
        """The last two dims swapped (a batch of matrices transposed)."""
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self.ndim}-D tensor.")
        return mg.ops.transpose(self, -2, -1)

    def squeeze(self, dim=None):
        return mg.ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return mg.ops.unsqueeze(self, dim)

    def expand(self, *sizes):
        return mg.ops.expand(self, *sizes)

    def expand_as(self, other):
        """Broadcast to other's shape (a view): expand(*other.shape)."""
        return mg.ops.expand(self, *other.shape)

    def broadcast_to(self, shape):
        return mg.ops.broadcast_to(self, shape)

    def repeat(self, *sizes):
        return mg.ops.repeat(self, *sizes)

    def tile(self, *dims):
        return mg.ops.tile(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return mg.ops.repeat_interleave(self, repeats, dim)

    def flip(self, *dims):
        return mg.ops.flip(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)

    def fliplr(self):
        return mg.ops.fliplr(self)

    def flipud(self):
        return mg.ops.flipud(self)

    def roll(self, shifts, dims=None):
        return mg.ops.roll(self, shifts, dims)

    def rot90(self, k=1, dims=(0, 1)):
        return mg.ops.rot90(self, k, dims)

    def narrow(self, dim, start, length):
        return mg.ops.narrow(self, dim, start, length)

    def select(self, dim, index):
        return mg.ops.select(self, dim, index)

    def split(self, split_size, dim=0):
        return mg.ops.split(self, split_size, dim)

    def tensor_split(self, indices_or_sections, dim=0):
        return mg.ops.tensor_split(self, indices_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return mg.ops.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return mg.ops.unbind(self, dim)

    def gather(self, dim, index):
        return mg.ops.gather(self, dim, index)

    def take_along_dim(self, indices, dim=None):
        return mg.ops.take_along_dim(self, indices, dim)

    def scatter(self, dim, index, src=None, value=None, *, reduce=None):
        return mg.ops.scatter(self, dim, index, src, value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return mg.ops.scatter_add(self, dim, index, src)

    def index_select(self, dim, index):
        return mg.ops.index_select(self, dim, index)

    def index_fill(self, dim, index, value):
        return mg.ops.index_fill(self, dim, index, value)

    def nonzero(self, *, as_tuple=False):
        return mg.ops.nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        return mg.ops.argwhere(self)

    def diag(self, diagonal=0):
        return mg.ops.diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return mg.ops.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return mg.ops.diag_embed(self, offset, dim1, dim2)

    def tril(self, diagonal=0):
        return mg.ops.tril(self, diagonal)

    def triu(self, diagonal=0):
        return mg.ops.triu(self, diagonal)

    def contiguous(self):
        """Returns self: NumPy and CuPy handle any memory layout (a deliberate difference)."""
        return self

    def is_contiguous(self, memory_format=None):
        """True: minigrad's ops accept any memory layout, so every tensor counts as contiguous here."""
        return True

    # --- activations (also in minigrad.nn.functional) ---------------------------------

    def sigmoid(self):
        return mg.ops.sigmoid(self)

    def tanh(self):
        return mg.ops.tanh(self)

    def relu(self):
        return mg.ops.relu(self)

    def softmax(self, dim, dtype=None):
        return mg.ops.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim, dtype=None):
        return mg.ops.log_softmax(self, dim, dtype=dtype)

    # --- conversions: Python numbers, NumPy, other dtypes and devices ---------------------

    def tolist(self):
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.array.dtype.kind not in "iu":
            raise TypeError("only integer tensors of one element can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.array.size} elements is ambiguous; "
                f"use .any() or .all()")
        return bool(self.array.item())

    def to(self, *args, **kwargs):
        """to(device), to(dtype), to(device, dtype) or to(other_tensor), like PyTorch; also its
        keywords non_blocking (nothing to wait for here), copy (a new tensor even when nothing
        changes) and memory_format (NumPy keeps its own layout)."""
        if len(args) == 1 and not kwargs:  # to(device) or to(dtype), the common calls, at once
            if isinstance(args[0], str):
                if backend.normalize_device(args[0]) == backend.device_of(self.array):
                    return self
            elif args[0] is not None and not isinstance(args[0], (bool, mg.Tensor)):
                dtype = np.dtype(args[0])
                return self if dtype == self.dtype else mg.ops.cast(self, dtype)
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None), kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
        flags = [arg for arg in args if isinstance(arg, bool)]  # to(device, dtype, non_blocking, copy)
        copy = copy or (len(flags) > 1 and flags[1])
        for arg in args:
            if isinstance(arg, mg.Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, (str, backend.Device)):
                device = arg
            elif not isinstance(arg, bool):
                dtype = arg
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = mg.ops.cast(out, np.dtype(dtype))
        if device is not None and backend.normalize_device(device) != self.device:
            out = mg.ops.to_device(out, backend.normalize_device(device))
        if copy and out is self:
            out = mg.ops.clone(self)
        return out

    def cpu(self, memory_format=None):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """To the GPU (`device`: an index, 'cuda:1' or an mg.device; default the current one)."""
        return self.to(f"cuda:{device}" if isinstance(device, int) else (device or "cuda"))

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    # --- in place: random fills and resizing (tensor.py holds the machinery, and add_, copy_ ...) --

    def normal_(self, mean=0.0, std=1.0):
        self._begin_in_place()
        rng = backend.generator(self.device)
        self.array[...] = rng.standard_normal(self.array.shape, dtype=self.array.dtype) * std + mean
        return self

    def uniform_(self, a=0.0, b=1.0):
        self._begin_in_place()
        rng = backend.generator(self.device)
        self.array[...] = rng.random(self.array.shape, dtype=self.array.dtype) * (b - a) + a
        return self

    def resize_(self, *sizes):
        """Give the tensor a new shape in place (old GAN code: `label.resize_(n).fill_(1)`), as
        PyTorch: the first elements keep their values and their memory; new ones start at zero."""
        if self.requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        sizes = check_sizes(tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], int) else sizes)
        count = math.prod(sizes)
        if not (self.array.flags.c_contiguous or self.array.flags.f_contiguous):
            raise RuntimeError(f"resize_ of a tensor of shape {self.shape} that is not contiguous in memory: "
                               f"resize a .clone() instead")
        flat = self.array.reshape(-1, order="A")  # in memory order, as PyTorch's storage
        if count <= flat.size:
            self.array = flat[:count].reshape(sizes)
        else:
            grown = backend.array_module(self.array).zeros(count, dtype=self.dtype)
            grown[:flat.size] = flat
            self.array = grown.reshape(sizes)
        self._version[0] += 1
        return self

    def resize_as_(self, other):
        return self.resize_(other.shape)

    # --- more in place: x = function(x, ...) written into x's memory (_apply_in_place) ----------

    def abs_(self):
        return self._apply_in_place(mg.ops.abs)

    def neg_(self):
        return self._apply_in_place(mg.ops.neg)

    def exp_(self):
        return self._apply_in_place(mg.ops.exp)

    def log_(self):
        return self._apply_in_place(mg.ops.log)

    def sqrt_(self):
        return self._apply_in_place(mg.ops.sqrt)

    def rsqrt_(self):
        return self._apply_in_place(mg.ops.rsqrt)

    def reciprocal_(self):
        return self._apply_in_place(mg.ops.reciprocal)

    def square_(self):
        return self._apply_in_place(mg.ops.square)

    def pow_(self, exponent):
        return self._apply_in_place(mg.ops.pow, exponent)

    def log1p_(self):
        return self._apply_in_place(mg.ops.log1p)

    def expm1_(self):
        return self._apply_in_place(mg.ops.expm1)

    def sin_(self):
        return self._apply_in_place(mg.ops.sin)

    def cos_(self):
        return self._apply_in_place(mg.ops.cos)

    def floor_(self):
        return self._apply_in_place(mg.ops.floor)

    def ceil_(self):
        return self._apply_in_place(mg.ops.ceil)

    def round_(self, decimals=0):
        return self._apply_in_place(mg.ops.round, decimals=decimals)

    def trunc_(self):
        return self._apply_in_place(mg.ops.trunc)

    def frac_(self):
        return self._apply_in_place(mg.ops.frac)

    def sign_(self):
        return self._apply_in_place(mg.ops.sign)

    def sigmoid_(self):
        return self._apply_in_place(mg.ops.sigmoid)

    def tanh_(self):
        return self._apply_in_place(mg.ops.tanh)

    def relu_(self):
        return self._apply_in_place(mg.ops.relu)

    def clamp_min_(self, min):
        return self._apply_in_place(mg.ops.clamp, min=min)

    def clamp_max_(self, max):
        return self._apply_in_place(mg.ops.clamp, max=max)

    def remainder_(self, other):
        return self._apply_in_place(mg.ops.remainder, other)

    def fmod_(self, other):
        return self._apply_in_place(mg.ops.fmod, other)

    def floor_divide_(self, other):
        return self._apply_in_place(mg.ops.floor_divide, other)

    def lerp_(self, end, weight):
        return self._apply_in_place(mg.ops.lerp, end, weight)

    def addcmul_(self, tensor1, tensor2, *, value=1):
        return self._apply_in_place(mg.ops.addcmul, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return self._apply_in_place(mg.ops.addcdiv, tensor1, tensor2, value=value)

    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
        return self._apply_in_place(mg.ops.nan_to_num, nan, posinf, neginf)

    def masked_fill_(self, mask, value):
        return self._apply_in_place(mg.ops.masked_fill, mask, value)

    def index_fill_(self, dim, index, value):
        """Fill the slices at `index` along `dim` with value."""
        return self._apply_in_place(mg.ops.index_fill, dim, index, value)

    def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
        return self._apply_in_place(mg.ops.scatter, dim, index, src, value, reduce=reduce)

    def scatter_add_(self, dim, index, src):
        return self._apply_in_place(mg.ops.scatter_add, dim, index, src)

    def tril_(self, diagonal=0):
        return self._apply_in_place(mg.ops.tril, diagonal)

    def triu_(self, diagonal=0):
        return self._apply_in_place(mg.ops.triu, diagonal)

    def fill_diagonal_(self, fill_value, wrap=False):
        """Put fill_value on the main diagonal (of a 2-D tensor, or of equal-sized dims)."""
        return self._apply_in_place(_diagonal_filled, fill_value, wrap)

    def random_(self, from_=0, to=None):
        """Integers drawn uniformly from [from_, to - 1] (to defaults to 2^mantissa bits + 1 for floats,
        the dtype's maximum + 1 for integers), as PyTorch's random_. random_(to) means [0, to - 1]."""
        return self._apply_in_place(_random_integers, from_, to)

    def multinomial(self, num_samples, replacement=False, generator=None):
        return mg.creation.multinomial(self, num_samples, replacement, generator)

    def bernoulli_(self, p=0.5):
        """1 with probability p (a number, or a tensor of probabilities), else 0."""
        return self._apply_in_place(_bernoulli_draws, p)

    def exponential_(self, lambd=1.0):
        """Draws from the exponential distribution with rate lambd."""
        return self._apply_in_place(_exponential_draws, lambd)

    # --- how the array lies in memory, and PyTorch's other queries ----------------------

    # PyTorch's other device predicates: minigrad has only the CPU and CUDA (code asks
    # `x.is_cuda or x.is_xpu` before choosing a path)
    is_xpu = is_mps = is_meta = is_mkldnn = is_sparse = is_quantized = is_nested = property(lambda self: False)

    def ndimension(self):
        return self.array.ndim

    def element_size(self):
        """Bytes per element."""
        return self.array.dtype.itemsize

    @property
    def itemsize(self):
        return self.array.dtype.itemsize

    @property
    def nbytes(self):
        return int(self.array.nbytes)

    def stride(self, dim=None):
        """Steps in elements (not bytes, as NumPy's strides) from one element to the next along each dim."""
        steps = tuple(s // self.array.dtype.itemsize for s in self.array.strides)
        return steps if dim is None else steps[dim]

    def data_ptr(self):
        """The address of the first element."""
        return self.array.__array_interface__["data"][0] if self.is_cpu else int(self.array.data.ptr)

    def get_device(self):
        """The GPU's index for a CUDA tensor, -1 on the CPU, as PyTorch."""
        if not self.is_cuda:
            return -1
        return self.device.index or 0


# --- what fill_diagonal_, random_, bernoulli_ and exponential_ hand to _apply_in_place -----

def _diagonal_filled(x, fill_value, wrap):
    """fill_diagonal_'s function: x with fill_value at [i, i, ..., i] (every dim of one size, or 2-D)."""
    if x.ndim < 2 or (x.ndim > 2 and len(set(x.shape)) != 1):
        raise RuntimeError(f"fill_diagonal_: all dimensions of input must be of equal length (or 2-D), got {x.shape}")
    xp = backend.array_module(x.array)
    mask = xp.zeros(x.shape, dtype=bool)
    if x.ndim == 2 and wrap:  # a tall matrix: the diagonal starts again every columns + 1 rows
        flat = mask.reshape(-1)
        flat[::x.shape[1] + 1] = True
    else:
        positions = xp.arange(min(x.shape))
        mask[(positions,) * x.ndim] = True
    return mg.ops.masked_fill(x, mg.Tensor._wrap(mask, False), fill_value)


def _random_integers(x, low, high):
    """random_'s function: integers uniform on [low, high) in x's dtype."""
    if high is None and low != 0:  # random_(to)
        low, high = 0, low
    if high is None:
        high = (2 ** (np.finfo(x.dtype).nmant + 1) + 1 if x.dtype.kind == "f"
                else 2 if x.dtype == np.bool_ else int(np.iinfo(x.dtype).max) + 1)
    draws = backend.generator(x.device).integers(low, high, size=x.shape)
    return mg.Tensor._wrap(draws.astype(x.dtype), False)


def _bernoulli_draws(x, p):
    probabilities = p.array if isinstance(p, mg.Tensor) else p
    draws = backend.generator(x.device).random(x.shape) < probabilities
    return mg.Tensor._wrap(draws.astype(x.dtype), False)


def _exponential_draws(x, lambd):
    draws = backend.generator(x.device).exponential(1.0 / lambd, size=x.shape)
    return mg.Tensor._wrap(draws.astype(x.dtype), False)

