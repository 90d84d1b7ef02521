"""The Tensor: an array, plus what autograd needs to know about it.

    array          the raw array: numpy.ndarray on the CPU, cupy.ndarray on the GPU
    data           PyTorch's .data: a Tensor sharing `array`'s memory, outside the graph
    requires_grad  whether gradients should flow back into this tensor
    grad           after backward(), d(root)/d(this tensor) - a Tensor, or None
    grad_fn        the Function that produced this tensor (None for leaves)
    _version       a counter bumped by every in-place change, shared with views

Arithmetic and the other methods are thin wrappers over the ops in `minigrad.ops`;
the graph machinery lives in `minigrad.autograd`.
"""

import math
import weakref

import sys

import numpy as np

from . import backend


class Tensor:
    __slots__ = ("array", "grad", "requires_grad", "grad_fn", "_version", "__weakref__")

    # NumPy must hand `ndarray + Tensor` to Tensor.__radd__ instead of converting us.
    __array_ufunc__ = None

    def __init__(self, *args, device=None, size=None, requires_grad=None, dtype=None):
        """mg.Tensor(...), as torch.Tensor(...), the legacy constructor:

            Tensor()                    an empty tensor of the default dtype, shape (0,)
            Tensor(2, 3)                a (2, 3) tensor of the default dtype (zeros here; PyTorch
                                        leaves it uninitialised); also Tensor(mg.Size([2, 3])), Tensor(size=(2, 3))
            Tensor(other_tensor)        other's memory and dtype, outside the graph
            Tensor(data)                the data: nested lists, a tuple, an array

        Tensor(data, dtype=..., requires_grad=...), keywords that PyTorch refuses, is minigrad's own
        form: `data` as it is (its memory, its dtype unless `dtype` says otherwise). Prefer mg.tensor.
        """
        self.grad = None
        self.grad_fn = None
        self._version = [0]
        self.requires_grad = False
        if requires_grad is not None or dtype is not None:  # minigrad's form (nn.Parameter uses it)
            if len(args) != 1 or size is not None:
                raise TypeError("Tensor(data, dtype=..., requires_grad=...) takes one data argument; "
                                "for sizes use mg.zeros(*sizes, dtype=..., requires_grad=...)")
            self.array = make_array(args[0], dtype, device)
            if requires_grad:
                self.requires_grad_(True)
            return
        if size is not None:
            if args:
                raise TypeError("Tensor() takes sizes or size=..., not both")
            args = (legacy.Size(size),)
        if legacy.is_sizes(args):  # also Tensor(): no sizes
            sizes = tuple(args[0]) if len(args) == 1 and isinstance(args[0], legacy.Size) else args
            xp = backend.array_module(backend.normalize_device(device))
            self.array = xp.zeros(legacy.check_sizes(sizes) if args else (0,), dtype=_default_dtype)
        elif len(args) == 1 and isinstance(args[0], Tensor):
            self.array = make_array(args[0], None, device)  # an alias, as PyTorch's
            self._version = args[0]._version if self.array is args[0].array else [0]
        elif len(args) == 1:  # data: float of the default dtype, whatever its own dtype (as PyTorch)
            if not isinstance(args[0], (list, tuple)) and not backend.is_array(args[0]):
                raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
            self.array = make_array(args[0], _default_dtype, device)
        else:
            raise TypeError(f"Tensor() takes sizes (ints) or one sequence of data, got "
                            f"{', '.join(type(a).__name__ for a in args)}")

    @classmethod
    def _wrap(cls, data, requires_grad):
        """Fast constructor for arrays that ops produce (no conversion, no checks)."""
        t = object.__new__(cls)
        t.array = data
        t.grad = None
        t.grad_fn = None
        t._version = [0]
        t.requires_grad = requires_grad
        return t

    # --- what it is -------------------------------------------------------------------

    @property
    def shape(self):
        return tuple(self.array.shape)

    def size(self, dim=None):
        """The shape as an mg.Size (torch.Size), so that `x.new(x.size())` reads it as sizes; or one
        dim's length. (`.shape` is a plain tuple: docs/differences.md.)"""
        return legacy.Size(self.array.shape) if dim is None else self.shape[dim]

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self):
        """An mg.device, which is also the string 'cpu' or 'cuda' (t.device == "cuda", t.device.type)."""
        return backend.DEVICES[backend.device_of(self.array)]

    @property
    def is_cuda(self):
        return backend.device_of(self.array) == "cuda"

    @property
    def is_cpu(self):
        return backend.device_of(self.array) == "cpu"

    # PyTorch's other device predicates: minigrad has only the CPU and CUDA (code asks
    # `x.is_cuda or x.is_xpu` before choosing a path)
    is_xpu = is_mps = is_meta = is_mkldnn = is_sparse = is_quantized = is_nested = property(lambda self: False)

    @property
    def ndim(self):
        return self.array.ndim

    def dim(self):
        return self.array.ndim

    def numel(self):
        return int(self.array.size)

    nelement = numel

    def ndimension(self):
        return self.array.ndim

    def is_floating_point(self):
        return self.array.dtype.kind == "f"

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

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        options = PRINT_OPTIONS
        values = backend.to_numpy(self.array)
        formatter = {"float_kind": _float_formatter(values)} if values.dtype.kind == "f" else None
        body = np.array2string(values, separator=", ", prefix="tensor(", formatter=formatter,
                               precision=options["precision"], threshold=options["threshold"],
                               edgeitems=options["edgeitems"], max_line_width=options["linewidth"])
        extras = []
        if self.dtype not in (_default_dtype, np.int64, np.bool_):  # as PyTorch: the default dtypes go unsaid
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    def __format__(self, spec):
        """f"{loss:.4f}": a 0-dim tensor formats its Python number (item()), as PyTorch; any other
        tensor takes only the empty spec, which gives str(t)."""
        if self.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    __hash__ = object.__hash__  # == is elementwise, as in PyTorch; identity keeps tensors hashable

    # --- leaving the graph, and getting values out -------------------------------------

    @property
    def data(self):
        """As PyTorch's .data: the same memory as a Tensor that does not require grad.

        In-place changes through it change this tensor (`p.data.clamp_(-c, c)`) and are not
        checked by autograd: unlike detach(), it has a version counter of its own.
        """
        return Tensor._wrap(self.array, False)

    @data.setter
    def data(self, value):
        """`t.data = other` makes t use other's memory (shape and dtype may change), as PyTorch."""
        if not isinstance(value, Tensor):
            raise TypeError(f"t.data = ... takes a Tensor, got {type(value).__name__}; "
                            f"to set the raw array, assign to t.array")
        self.array = value.array

    def item(self):
        if self.array.size != 1:
            raise RuntimeError(f"item() needs a tensor with one element, but this one has shape {self.shape}")
        return self.array.item()

    def numpy(self):
        """The values as a NumPy array (the same memory on the CPU, a host copy on the GPU)."""
        return backend.to_numpy(self.array)

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

    def detach(self):
        """The same values, cut off from the graph (shares memory and version counter)."""
        t = Tensor._wrap(self.array, False)
        t._version = self._version
        return t

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Compute d(self)/d(leaf) for every leaf that requires grad, adding it to leaf.grad.

        create_graph=True records the backward pass, so the gradients can be differentiated again."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.array.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, but this one is {self.dtype}")
        self.requires_grad = requires_grad
        return self

    # --- devices and dtypes -------------------------------------------------------------

    def to(self, *args, **kwargs):
        """to(device), to(dtype), to(device, dtype) or to(other_tensor), like PyTorch; also its
        keywords non_blocking (nothing to wait for here), copy (a new tensor even when nothing
        changes) and memory_format (NumPy keeps its own layout)."""
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None), kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
        flags = [arg for arg in args if isinstance(arg, bool)]  # to(device, dtype, non_blocking, copy)
        copy = copy or (len(flags) > 1 and flags[1])
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, (str, backend.Device)):
                device = arg
            elif not isinstance(arg, bool):
                dtype = arg
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = ops.cast(out, np.dtype(dtype))
        if device is not None and backend.normalize_device(device) != self.device:
            out = ops.to_device(out, backend.normalize_device(device))
        if copy and out is self:
            out = ops.clone(self)
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

    def type(self, dtype=None, non_blocking=False):
        """t.type() -> 'torch.FloatTensor' (or 'torch.cuda.FloatTensor', ...), as PyTorch;
        t.type(mg.FloatTensor), t.type(mg.cuda.FloatTensor), t.type('torch.DoubleTensor'),
        t.type(mg.Tensor) (the default dtype) or t.type(mg.float64) -> the tensor converted
        (to that device too, for the tensor types); itself when nothing changes."""
        if dtype is None:
            return legacy.type_name(self)
        return legacy.convert(self, dtype, non_blocking)

    def type_as(self, other):
        """This tensor in other's dtype (and on its device), as t.type(other.type())."""
        return self.to(other.device, other.dtype)

    # --- new tensors like this one (its dtype and device unless told otherwise) ----------

    def new(self, *args, device=None):
        """t.new(2, 3) (sizes) or t.new(data): a new tensor of t's dtype, on t's device."""
        device = self.device if device is None else device
        if legacy.is_sizes(args):
            sizes = tuple(args[0]) if len(args) == 1 and isinstance(args[0], legacy.Size) else args
            return creation.zeros(legacy.check_sizes(sizes) if args else (0,), dtype=self.dtype, device=device)
        if len(args) != 1:
            raise TypeError(f"new() takes sizes (ints) or one sequence of data, got "
                            f"{', '.join(type(a).__name__ for a in args)}")
        if isinstance(args[0], Tensor) and args[0].dtype != self.dtype:
            raise TypeError(f"new(): expected a tensor of dtype {self.dtype}, got {args[0].dtype}")
        return creation.tensor(args[0], dtype=self.dtype, device=device)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A copy of `data` as a tensor of t's dtype and device (unless given)."""
        return creation.tensor(data, dtype=self.dtype if dtype is None else dtype,
                               device=self.device if device is None else device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """new_zeros(2, 3) or new_zeros((2, 3)): zeros of t's dtype and device (unless given)."""
        return creation.zeros(*size, dtype=self.dtype if dtype is None else dtype,
                              device=self.device if device is None else device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return creation.ones(*size, dtype=self.dtype if dtype is None else dtype,
                             device=self.device if device is None else device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        """As new_zeros (PyTorch leaves the values uninitialised)."""
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        """A tensor of shape `size` (a tuple or list) filled with fill_value, of t's dtype and device."""
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, "
                            f"not {type(size).__name__}")
        return creation.full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                             device=self.device if device is None else device, requires_grad=requires_grad)

    # --- in place ------------------------------------------------------------------------

    def _begin_in_place(self):
        """Before a raw in-place write that the graph need not see: refuse to change a leaf
        that requires grad (as PyTorch), then bump the version counter."""
        if autograd.is_grad_enabled() and self.requires_grad and self.is_leaf:
            self._refuse_leaf_in_place()
        self._version[0] += 1

    def _refuse_leaf_in_place(self):
        raise RuntimeError(
            f"a leaf tensor of shape {self.shape} that requires grad is used in an in-place "
            f"operation. Wrap it in `with mg.no_grad():` (e.g. to initialise a parameter), or "
            f"change a .detach()ed copy.")

    def _gradient_flows_through(self, *others):
        """Whether an in-place change of self by `others` must be recorded in the graph."""
        return autograd.is_grad_enabled() and (
            self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others))

    def _apply_in_place(self, function, *args, **kwargs):
        """x = function(x, *args, **kwargs), written into x's own memory: x.relu_(),
        F.relu(x, inplace=True), x.add_(y) or x[key] = y when a gradient flows through them.

        As in PyTorch, every reference to x and every view of it sees the new values, and
        autograd follows: x becomes the result's node in the graph, and a copy of x's old value
        takes the place x had. An op that saved x (or x's old value as its output) for
        backward then refuses to run: the version counter says x changed."""
        recorded = self._gradient_flows_through(*args, *kwargs.values())
        if recorded and self.requires_grad and self.is_leaf:
            self._refuse_leaf_in_place()
        bases = self._view_bases() if recorded else []
        if recorded and self.grad_fn is None and self.array.base is not None:
            raise RuntimeError(
                f"in-place change, under autograd, of a view of shape {self.shape} into a tensor that is "
                f"not part of the graph: its gradient would miss the change (docs/differences.md). "
                f"Change that tensor itself (base[key] = value), or change a .clone() of the view.")
        if any(base.requires_grad and base.is_leaf for base in bases):
            raise RuntimeError(f"a view of a leaf tensor that requires grad is being used in an in-place "
                               f"operation (a view of shape {self.shape})")
        before = self
        if recorded:
            before = Tensor._wrap(self.array.copy(), self.requires_grad)
            before.grad_fn = self.grad_fn
        result = function(before, *args, **kwargs)
        _check_in_place_result(self, result.shape, result.dtype)
        self._version[0] += 1
        self.array[...] = result.array
        for base in bases:  # ops that use a base from now on would miss the change: refused at backward
            if base.grad_fn is not None:
                base.grad_fn.view_changed_at = self._version[0]
        fn = result.grad_fn
        if recorded and fn is not None:
            fn.assigned_in_place = True  # ops that used x before must not follow its new place
            if fn.saves_output:  # the output that backward reads is x now
                fn.output_ref, fn.output_version = weakref.ref(self), self._version[0]
            self.grad_fn, self.requires_grad = fn, True
        elif recorded:  # an op with no gradient (a random fill): x stays in the graph, with a zero gradient
            replaced = _replacing(before, result)
            self.grad_fn, self.requires_grad = replaced.grad_fn, replaced.requires_grad
            replaced.grad_fn.assigned_in_place = True
        return self

    def _view_bases(self):
        """The tensors whose memory this one is a view of, through the view ops of the graph."""
        bases, fn = [], self.grad_fn
        while fn is not None and fn.is_view and fn.inputs:
            bases.append(fn.inputs[0])
            fn = fn.inputs[0].grad_fn
        return bases

    def __setitem__(self, key, value):
        """x[key] = value. Recorded in the graph when a gradient must flow through it (value, or a
        non-leaf x, requires grad), as PyTorch records index_put_; otherwise a plain in-place write."""
        if self._gradient_flows_through(value) and not (self.requires_grad and self.is_leaf):
            self._apply_in_place(ops.index_put, key, as_tensor(value, like=self))
            return
        self._begin_in_place()
        self.array[_index_key(key)] = _value_for(self, value)

    def resize_(self, *sizes):
        """Give the tensor a new shape in place (old GAN code: `label.resize_(n).fill_(1)`), as
        PyTorch: the first elements keep their values and their memory; new ones start at zero."""
        if self.requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        sizes = legacy.check_sizes(tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], int) else sizes)
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

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        if self._gradient_flows_through(value):  # a non-leaf: its old values get a zero gradient
            return self._apply_in_place(_copy_of, value)  # value broadcast everywhere
        self._begin_in_place()
        self.array.fill(value.item() if isinstance(value, Tensor) else value)
        return self

    def copy_(self, source):
        if self._gradient_flows_through(source):
            return self._apply_in_place(_copy_of, source)
        self._begin_in_place()
        self.array[...] = _value_for(self, source)
        return self

    def add_(self, other, alpha=1):
        if self._gradient_flows_through(other):
            return self._apply_in_place(ops.add, other if alpha == 1 else other * alpha)
        other = _operand_for(self, other)
        self._begin_in_place()
        if alpha == 1:
            self.array += other
        elif alpha == -1:
            self.array -= other
        else:
            self.array += alpha * other
        return self

    def sub_(self, other, alpha=1):
        return self.add_(other, alpha=-alpha)

    def mul_(self, other):
        if self._gradient_flows_through(other):
            return self._apply_in_place(ops.mul, other)
        other = _operand_for(self, other)
        self._begin_in_place()
        self.array *= other
        return self

    def div_(self, other):
        if self._gradient_flows_through(other):
            return self._apply_in_place(ops.div, other)
        other = _operand_for(self, other)
        self._begin_in_place()
        self.array /= other
        return self

    def clamp_(self, min=None, max=None):
        """Clamp in place (e.g. WGAN's weight clipping: `p.data.clamp_(-0.01, 0.01)`)."""
        if min is None and max is None:
            raise ValueError("clamp_() needs at least one of min and max")
        if self._gradient_flows_through(min, max):
            return self._apply_in_place(ops.clamp, min, max)
        self._begin_in_place()
        low, high = _value_for(self, min), _value_for(self, max)
        backend.array_module(self.array).clip(self.array, low, high, out=self.array)
        return self

    clip_ = clamp_

    # x += y is x.add_(y), as in PyTorch: in place, and recorded when a gradient flows through it
    # (so `total += loss` accumulates a loss correctly). A leaf that requires grad refuses.
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

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

    # --- arithmetic -------------------------------------------------------------------

    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __getitem__(self, key):
        return ops.index(self, key)

    # Comparisons give boolean tensors that are not part of the graph.
    def __eq__(self, other):
        return ops.compare(self, other, "equal")

    def __ne__(self, other):
        return ops.compare(self, other, "not_equal")

    def __lt__(self, other):
        return ops.compare(self, other, "less")

    def __le__(self, other):
        return ops.compare(self, other, "less_equal")

    def __gt__(self, other):
        return ops.compare(self, other, "greater")

    def __ge__(self, other):
        return ops.compare(self, other, "greater_equal")

    # the same comparisons by PyTorch's method names: pred.eq(labels).sum()
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def add(self, other, alpha=1):
        return ops.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        return ops.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        return ops.mul(self, other)

    multiply = mul

    def div(self, other, rounding_mode=None):
        return ops.div(self, other, rounding_mode=rounding_mode)

    divide = div

    def true_divide(self, other):
        return ops.div(self, other)

    def floor_divide(self, other):
        return ops.floor_divide(self, other)

    def remainder(self, other):
        return ops.remainder(self, other)

    def fmod(self, other):
        return ops.fmod(self, other)

    def __floordiv__(self, other):
        return ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return ops.floor_divide(other, self)

    def __mod__(self, other):
        return ops.remainder(self, other)

    def __rmod__(self, other):
        return ops.remainder(other, self)

    def __abs__(self):
        return ops.abs(self)

    def __pos__(self):
        return self

    # & | ^ ~: logical on bool tensors, bitwise on integer ones
    def __and__(self, other):
        return ops.bitwise_and(self, other)

    def __rand__(self, other):
        return ops.bitwise_and(other, self)

    def __or__(self, other):
        return ops.bitwise_or(self, other)

    def __ror__(self, other):
        return ops.bitwise_or(other, self)

    def __xor__(self, other):
        return ops.bitwise_xor(self, other)

    def __rxor__(self, other):
        return ops.bitwise_xor(other, self)

    def __invert__(self):
        return ops.bitwise_not(self)

    def pow(self, exponent):
        return ops.pow(self, exponent)

    def matmul(self, other):
        return ops.matmul(self, other)

    def mm(self, mat2):
        return ops.mm(self, mat2)

    def bmm(self, mat2):
        return ops.bmm(self, mat2)

    def mv(self, vec):
        return ops.mv(self, vec)

    def dot(self, other):
        return ops.dot(self, other)

    def outer(self, vec2):
        return ops.outer(self, vec2)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return ops.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return ops.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return ops.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return ops.addcdiv(self, tensor1, tensor2, value=value)

    def inner(self, other):
        return ops.inner(self, other)

    def kron(self, other):
        return ops.kron(self, other)

    def cross(self, other, dim=None):
        return ops.cross(self, other, dim)

    def hypot(self, other):
        return ops.hypot(self, other)

    def xlogy(self, other):
        return ops.xlogy(self, other)

    def logaddexp(self, other):
        return ops.logaddexp(self, other)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return ops.nan_to_num(self, nan, posinf, neginf)

    def neg(self):
        return ops.neg(self)

    negative = neg

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def rsqrt(self):
        return ops.rsqrt(self)

    def reciprocal(self):
        return ops.reciprocal(self)

    def square(self):
        return ops.square(self)

    def log1p(self):
        return ops.log1p(self)

    def expm1(self):
        return ops.expm1(self)

    def log2(self):
        return ops.log2(self)

    def log10(self):
        return ops.log10(self)

    def exp2(self):
        return ops.exp2(self)

    def sin(self):
        return ops.sin(self)

    def cos(self):
        return ops.cos(self)

    def tan(self):
        return ops.tan(self)

    def asin(self):
        return ops.asin(self)

    def acos(self):
        return ops.acos(self)

    def atan(self):
        return ops.atan(self)

    arcsin, arccos, arctan = asin, acos, atan

    def atan2(self, other):
        return ops.atan2(self, other)

    arctan2 = atan2

    def sinh(self):
        return ops.sinh(self)

    def cosh(self):
        return ops.cosh(self)

    def floor(self):
        return ops.floor(self)

    def ceil(self):
        return ops.ceil(self)

    def round(self, decimals=0):
        return ops.round(self, decimals=decimals)

    def trunc(self):
        return ops.trunc(self)

    fix = trunc

    def frac(self):
        return ops.frac(self)

    def sign(self):
        return ops.sign(self)

    def abs(self):
        return ops.abs(self)

    absolute = abs

    def clamp(self, min=None, max=None):
        return ops.clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min):
        return ops.clamp(self, min=min)

    def clamp_max(self, max):
        return ops.clamp(self, max=max)

    def maximum(self, other):
        return ops.maximum(self, other)

    def minimum(self, other):
        return ops.minimum(self, other)

    def lerp(self, end, weight):
        return ops.lerp(self, end, weight)

    def where(self, condition, other):
        """self where condition is true, else other (torch.where(condition, self, other))."""
        return ops.where(condition, self, other)

    def masked_fill(self, mask, value):
        return ops.masked_fill(self, mask, value)

    def masked_select(self, mask):
        return ops.masked_select(self, mask)

    def isnan(self):
        return ops.isnan(self)

    def isinf(self):
        return ops.isinf(self)

    def isfinite(self):
        return ops.isfinite(self)

    def logical_and(self, other):
        return ops.logical_and(self, other)

    def logical_or(self, other):
        return ops.logical_or(self, other)

    def logical_xor(self, other):
        return ops.logical_xor(self, other)

    def logical_not(self):
        return ops.logical_not(self)

    def bitwise_not(self):
        return ops.bitwise_not(self)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return ops.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return ops.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other):
        return ops.equal(self, other)

    def clone(self):
        return ops.clone(self)

    def norm(self, p="fro", dim=None, keepdim=False):
        return ops.norm(self, p, dim, keepdim)

    # --- reductions -------------------------------------------------------------------

    def sum(self, dim=None, keepdim=False, dtype=None):
        return ops.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        return ops.mean(self, dim, keepdim, dtype=dtype)

    def prod(self, dim=None, keepdim=False, dtype=None):
        return ops.prod(self, dim, keepdim, dtype)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return ops.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim=None, keepdim=False):
        return ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return ops.min(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        return ops.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return ops.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return ops.argmin(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return ops.any(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return ops.all(self, dim, keepdim)

    def count_nonzero(self, dim=None):
        return ops.count_nonzero(self, dim)

    def logsumexp(self, dim, keepdim=False):
        return ops.logsumexp(self, dim, keepdim)

    def cumsum(self, dim, dtype=None):
        return ops.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, dtype=None):
        return ops.cumprod(self, dim, dtype=dtype)

    def cummax(self, dim):
        return ops.cummax(self, dim)

    def logcumsumexp(self, dim):
        return ops.logcumsumexp(self, dim)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return ops.diff(self, n, dim, prepend, append)

    def median(self, dim=None, keepdim=False):
        return ops.median(self, dim, keepdim)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return ops.kthvalue(self, k, dim, keepdim)

    def sort(self, dim=-1, descending=False, stable=False):
        return ops.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return ops.argsort(self, dim, descending, stable)

    def msort(self):
        return ops.msort(self)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return ops.topk(self, k, dim, largest, sorted)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return ops.unique(self, sorted, return_inverse, return_counts, dim)

    def trace(self):
        return ops.trace(self)

    # --- shapes -----------------------------------------------------------------------

    def reshape(self, *shape):
        return ops.reshape(self, *shape)

    def view(self, *shape):
        return ops.view(self, *shape)

    def view_as(self, other):
        return ops.view(self, other.shape)

    def reshape_as(self, other):
        return ops.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return ops.unflatten(self, dim, sizes)

    def unfold(self, dimension, size, step):
        """Sliding windows of `size` along `dimension`, every `step` elements (a new last dim)."""
        return ops.unfold(self, dimension, size, step)

    def ravel(self):
        return ops.reshape(self, -1)

    def transpose(self, dim0, dim1):
        return ops.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def permute(self, *dims):
        return ops.permute(self, *dims)

    def movedim(self, source, destination):
        return ops.movedim(self, source, destination)

    moveaxis = movedim

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t() expects a tensor with at most 2 dims, but this one has shape {self.shape}")
        return ops.permute(self, *reversed(range(self.ndim)))

    @property
    def T(self):
        return ops.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):
        """The last two dims swapped (a batch of matrices transposed)."""
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor.")
        return ops.transpose(self, -2, -1)

    def squeeze(self, dim=None):
        return ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return ops.unsqueeze(self, dim)

    def expand(self, *sizes):
        return ops.expand(self, *sizes)

    def expand_as(self, other):
        """Broadcast to other's shape (a view): expand(*other.shape)."""
        return ops.expand(self, *other.shape)

    def broadcast_to(self, shape):
        return ops.broadcast_to(self, shape)

    def repeat(self, *sizes):
        return ops.repeat(self, *sizes)

    def tile(self, *dims):
        return ops.tile(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return ops.repeat_interleave(self, repeats, dim)

    def flip(self, *dims):
        return ops.flip(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)

    def fliplr(self):
        return ops.fliplr(self)

    def flipud(self):
        return ops.flipud(self)

    def roll(self, shifts, dims=None):
        return ops.roll(self, shifts, dims)

    def rot90(self, k=1, dims=(0, 1)):
        return ops.rot90(self, k, dims)

    def narrow(self, dim, start, length):
        return ops.narrow(self, dim, start, length)

    def select(self, dim, index):
        return ops.select(self, dim, index)

    def split(self, split_size, dim=0):
        return ops.split(self, split_size, dim)

    def tensor_split(self, indices_or_sections, dim=0):
        return ops.tensor_split(self, indices_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return ops.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return ops.unbind(self, dim)

    def gather(self, dim, index):
        return ops.gather(self, dim, index)

    def take_along_dim(self, indices, dim=None):
        return ops.take_along_dim(self, indices, dim)

    def scatter(self, dim, index, src=None, value=None, *, reduce=None):
        return ops.scatter(self, dim, index, src, value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return ops.scatter_add(self, dim, index, src)

    def index_select(self, dim, index):
        return ops.index_select(self, dim, index)

    def index_fill(self, dim, index, value):
        return ops.index_fill(self, dim, index, value)

    def nonzero(self, *, as_tuple=False):
        return ops.nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        return ops.argwhere(self)

    def diag(self, diagonal=0):
        return ops.diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return ops.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return ops.diag_embed(self, offset, dim1, dim2)

    def tril(self, diagonal=0):
        return ops.tril(self, diagonal)

    def triu(self, diagonal=0):
        return ops.triu(self, diagonal)

    def contiguous(self):
        """Returns self: NumPy and CuPy handle any memory layout (a deliberate difference)."""
        return self

    def is_contiguous(self, memory_format=None):
        """True: minigrad's ops accept any memory layout, so every tensor counts as contiguous here."""
        return True

    # --- more in place: x = function(x, ...) written into x's memory (_apply_in_place) ----------

    def abs_(self):
        return self._apply_in_place(ops.abs)

    def neg_(self):
        return self._apply_in_place(ops.neg)

    def exp_(self):
        return self._apply_in_place(ops.exp)

    def log_(self):
        return self._apply_in_place(ops.log)

    def sqrt_(self):
        return self._apply_in_place(ops.sqrt)

    def rsqrt_(self):
        return self._apply_in_place(ops.rsqrt)

    def reciprocal_(self):
        return self._apply_in_place(ops.reciprocal)

    def square_(self):
        return self._apply_in_place(ops.square)

    def pow_(self, exponent):
        return self._apply_in_place(ops.pow, exponent)

    def log1p_(self):
        return self._apply_in_place(ops.log1p)

    def expm1_(self):
        return self._apply_in_place(ops.expm1)

    def sin_(self):
        return self._apply_in_place(ops.sin)

    def cos_(self):
        return self._apply_in_place(ops.cos)

    def floor_(self):
        return self._apply_in_place(ops.floor)

    def ceil_(self):
        return self._apply_in_place(ops.ceil)

    def round_(self, decimals=0):
        return self._apply_in_place(ops.round, decimals=decimals)

    def trunc_(self):
        return self._apply_in_place(ops.trunc)

    def frac_(self):
        return self._apply_in_place(ops.frac)

    def sign_(self):
        return self._apply_in_place(ops.sign)

    def sigmoid_(self):
        return self._apply_in_place(ops.sigmoid)

    def tanh_(self):
        return self._apply_in_place(ops.tanh)

    def relu_(self):
        return self._apply_in_place(ops.relu)

    def clamp_min_(self, min):
        return self._apply_in_place(ops.clamp, min=min)

    def clamp_max_(self, max):
        return self._apply_in_place(ops.clamp, max=max)

    def remainder_(self, other):
        return self._apply_in_place(ops.remainder, other)

    def fmod_(self, other):
        return self._apply_in_place(ops.fmod, other)

    def floor_divide_(self, other):
        return self._apply_in_place(ops.floor_divide, other)

    def lerp_(self, end, weight):
        return self._apply_in_place(ops.lerp, end, weight)

    def addcmul_(self, tensor1, tensor2, *, value=1):
        return self._apply_in_place(ops.addcmul, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return self._apply_in_place(ops.addcdiv, tensor1, tensor2, value=value)

    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
        return self._apply_in_place(ops.nan_to_num, nan, posinf, neginf)

    def masked_fill_(self, mask, value):
        return self._apply_in_place(ops.masked_fill, mask, value)

    def index_fill_(self, dim, index, value):
        """Fill the slices at `index` along `dim` with value."""
        return self._apply_in_place(ops.index_fill, dim, index, value)

    def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
        return self._apply_in_place(ops.scatter, dim, index, src, value, reduce=reduce)

    def scatter_add_(self, dim, index, src):
        return self._apply_in_place(ops.scatter_add, dim, index, src)

    def tril_(self, diagonal=0):
        return self._apply_in_place(ops.tril, diagonal)

    def triu_(self, diagonal=0):
        return self._apply_in_place(ops.triu, diagonal)

    def fill_diagonal_(self, fill_value, wrap=False):
        """Put fill_value on the main diagonal (of a 2-D tensor, or of equal-sized dims)."""
        return self._apply_in_place(_diagonal_filled, fill_value, wrap)

    def random_(self, from_=0, to=None):
        """Integers drawn uniformly from [from_, to - 1] (to defaults to 2^mantissa bits + 1 for floats,
        the dtype's maximum + 1 for integers), as PyTorch's random_. random_(to) means [0, to - 1]."""
        return self._apply_in_place(_random_integers, from_, to)

    def multinomial(self, num_samples, replacement=False, generator=None):
        return creation.multinomial(self, num_samples, replacement, generator)

    def get_device(self):
        """The GPU's index for a CUDA tensor, -1 on the CPU, as PyTorch."""
        if not self.is_cuda:
            return -1
        return self.device.index or 0

    def bernoulli_(self, p=0.5):
        """1 with probability p (a number, or a tensor of probabilities), else 0."""
        return self._apply_in_place(_bernoulli_draws, p)

    def exponential_(self, lambd=1.0):
        """Draws from the exponential distribution with rate lambd."""
        return self._apply_in_place(_exponential_draws, lambd)

    # --- activations (also in minigrad.nn.functional) ---------------------------------

    def sigmoid(self):
        return ops.sigmoid(self)

    def tanh(self):
        return ops.tanh(self)

    def relu(self):
        return ops.relu(self)

    def softmax(self, dim, dtype=None):
        return ops.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim, dtype=None):
        return ops.log_softmax(self, dim, dtype=dtype)


# --- turning Python data into arrays ---------------------------------------------------

# how tensors print (mg.set_printoptions); PyTorch's defaults
PRINT_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
                  "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
                  "full": dict(precision=4, threshold=sys.maxsize, edgeitems=3, linewidth=80)}
PRINT_OPTIONS = dict(PRINT_PROFILES["default"])


def _float_formatter(values):
    """PyTorch's way of writing floats: '1.' when every value is whole, else a fixed number of
    decimals, or scientific notation when the magnitudes span more than 1000x (or pass 1e8, or a
    fraction is below 1e-4); each value right-aligned to the widest."""
    finite = values[np.isfinite(values)]
    magnitudes = np.abs(finite[finite != 0]).astype(np.float64)
    whole, scientific = True, False
    if magnitudes.size:
        largest, smallest = magnitudes.max(), magnitudes.min()
        whole = bool((np.ceil(magnitudes) == magnitudes).all())
        scientific = largest / smallest > 1000 or largest > 1e8 or (not whole and smallest < 1e-4)
    if PRINT_OPTIONS.get("sci_mode") is not None:
        scientific = PRINT_OPTIONS["sci_mode"]
    precision = PRINT_OPTIONS["precision"]

    def write(value):
        if scientific:
            return f"{value:.{precision}e}"
        if whole:
            return f"{value:.0f}" + ("" if np.isnan(value) or np.isinf(value) else ".")
        return f"{value:.{precision}f}"

    extremes = [finite.max(), finite.min()] if finite.size else []
    extremes += [v for v in (np.inf, -np.inf) if (values == v).any()] + ([np.nan] if np.isnan(values).any() else [])
    width = max((len(write(float(v))) for v in extremes), default=0)
    return lambda value: write(float(value)).rjust(width)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """As torch.set_printoptions: digits after the point, how many elements before a summary with
    '...', how many at each end of it, and the line width; profile 'default', 'short' or 'full'.
    sci_mode True or False forces scientific notation on or off (None: chosen from the values)."""
    if profile is not None:
        PRINT_OPTIONS.update(PRINT_PROFILES[profile])
    given = dict(precision=precision, threshold=threshold, edgeitems=edgeitems, linewidth=linewidth)
    PRINT_OPTIONS.update({name: value for name, value in given.items() if value is not None})
    PRINT_OPTIONS["sci_mode"] = sci_mode
_default_dtype = np.dtype(np.float32)


def get_default_dtype():
    """The dtype that mg.Tensor(...) and Python floats turn into (float32 unless set), as torch."""
    return _default_dtype


def set_default_dtype(dtype):
    """Set the default floating-point dtype (float16, float32 or float64), as torch.set_default_dtype."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError("only floating-point types are supported as the default type")
    _default_dtype = dtype


def make_array(data, dtype=None, device=None):
    """An array for `data`: Python floats and lists become float32, ints int64, bools bool;
    arrays keep their dtype. `dtype` and `device` override."""
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, np.generic):  # a NumPy scalar (e.g. array.mean()) keeps its dtype, as an array does
        data = np.asarray(data)
    if backend.is_array(data):
        array = data if device is None else backend.to_device(data, device)
    else:
        array = np.asarray(data)
        if array.dtype.kind == "f" and dtype is None:
            array = array.astype(_default_dtype)
        elif array.dtype.kind in "iu" and dtype is None:
            array = array.astype(np.int64)
        elif array.dtype.kind not in "fiub":
            raise TypeError(f"cannot make a tensor from {type(data).__name__} data of dtype {array.dtype}")
        array = backend.to_device(array, device if device is not None else backend.get_default_device())
    if dtype is not None and array.dtype != np.dtype(dtype):
        array = array.astype(dtype)
    return array


def as_tensor(value, like):
    """`value` as a Tensor on `like`'s device; a Python number takes `like`'s float dtype."""
    if isinstance(value, Tensor):
        return value
    if backend.is_array(value):
        return Tensor._wrap(backend.to_device(value, like.device), False)
    xp = backend.array_module(like.array)
    dtype = like.dtype if like.dtype.kind == "f" or isinstance(value, (bool, int)) else _default_dtype
    return Tensor._wrap(xp.asarray(value, dtype=dtype), False)


def _value_for(target, value):
    """The raw value to write into `target` in place (same device required)."""
    if isinstance(value, Tensor):
        value = value.array
    if backend.is_array(value) and backend.device_of(value) != target.device:
        raise RuntimeError(
            f"cannot write a {backend.device_of(value)} array of shape {tuple(value.shape)} "
            f"into a {target.device} tensor of shape {target.shape}; move it with .to() first")
    return value


def _copy_of(target, source):
    """copy_'s (and fill_'s) function for _apply_in_place: source's values, broadcast to target's
    shape and cast to its dtype (the gradient flows to source only)."""
    copied = ops.clone(ops.expand(as_tensor(source, like=target), *target.shape))
    copied = copied if copied.dtype == target.dtype else ops.cast(copied, target.dtype)
    return _replacing(target, copied)


def _replacing(target, values):
    """`values` in target's place, with target in the graph: its old values get a zero gradient, as
    PyTorch gives the tensor an in-place fill or copy overwrote (not None, and not a pass-through)."""
    nowhere = Tensor._wrap(backend.array_module(target.array).zeros((), dtype=bool), False)
    return ops.where(nowhere, target, values)


def _operand_for(target, value):
    """The raw operand of an unrecorded target.add_(value) (mul_, div_): checked as PyTorch checks
    the result of an in-place op, before anything is written."""
    value = _value_for(target, value)
    if backend.is_array(value):
        _check_in_place_result(target, np.broadcast_shapes(target.shape, value.shape), value.dtype)
    elif isinstance(value, float) and target.dtype.kind in "iub":
        _check_in_place_result(target, target.shape, _default_dtype)
    elif isinstance(value, int) and not isinstance(value, bool) and target.dtype == np.bool_:
        _check_in_place_result(target, target.shape, np.dtype(np.int64))
    return value


def _check_in_place_result(target, shape, dtype):
    """An in-place result must fit the tensor it is written into, as PyTorch requires."""
    if tuple(shape) != target.shape:
        raise RuntimeError(f"output with shape {list(target.shape)} doesn't match the broadcast shape "
                           f"{list(shape)}")
    if not np.can_cast(dtype, target.dtype, casting="same_kind"):
        raise RuntimeError(f"result type {dtype} can't be cast to the desired output type {target.dtype}")


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
    return ops.masked_fill(x, Tensor._wrap(mask, False), fill_value)


def _random_integers(x, low, high):
    """random_'s function: integers uniform on [low, high) in x's dtype."""
    if high is None and low != 0:  # random_(to)
        low, high = 0, low
    if high is None:
        high = (2 ** (np.finfo(x.dtype).nmant + 1) + 1 if x.dtype.kind == "f"
                else 2 if x.dtype == np.bool_ else int(np.iinfo(x.dtype).max) + 1)
    draws = backend.generator(x.device).integers(low, high, size=x.shape)
    return Tensor._wrap(draws.astype(x.dtype), False)


def _bernoulli_draws(x, p):
    probabilities = p.array if isinstance(p, Tensor) else p
    draws = backend.generator(x.device).random(x.shape) < probabilities
    return Tensor._wrap(draws.astype(x.dtype), False)


def _exponential_draws(x, lambd):
    draws = backend.generator(x.device).exponential(1.0 / lambd, size=x.shape)
    return Tensor._wrap(draws.astype(x.dtype), False)


def _index_key(key):
    """Replace Tensors inside an index by their arrays."""
    if isinstance(key, tuple):
        return tuple(k.array if isinstance(k, Tensor) else k for k in key)
    return key.array if isinstance(key, Tensor) else key


# Imported last: both build on Tensor, and Tensor's methods call them.
from . import autograd, creation, legacy, ops  # noqa: E402
