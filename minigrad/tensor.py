"""The Tensor: an array, plus what autograd needs to know about it.

    array          the raw array: numpy.ndarray on the CPU, cupy.ndarray on the GPU
    data           PyTorch's .data: a Tensor sharing `array`'s memory, outside the graph
    requires_grad  whether gradients should flow back into this tensor
    grad           after backward(), d(root)/d(this tensor) - a Tensor, or None
    grad_fn        the Function that produced this tensor (None for leaves)
    _version       a counter bumped by every in-place change, shared with views
    _hooks         its gradient hooks (register_hook), an autograd.TensorHooks, or None

This file is the core: that state, making a Tensor from data, what it is (shape, dtype, device),
leaving the graph (detach, .data, item), backward, and the in-place machinery that keeps autograd
right when values change in place. The rest of the class is inherited, one job per module:

    tensor_methods.py  TensorMethods: the operators and one method per op (x + y, x.exp(), x.sum(dim),
                       x.relu_(), x.to(...)): thin wrappers over minigrad.ops, which holds the math
    legacy.py          LegacyTensorMethods: PyTorch's old spellings (Tensor(2, 3), t.type(), t.new(...),
                       t.size()), beside mg.FloatTensor, mg.Size and Variable
    printing.py        TensorPrinting: repr(t) and f"{t:.4f}"; mg.set_printoptions

The ops (minigrad.ops) and the graph (minigrad.autograd) build on Tensor, so they load after this
module. Tensor's methods reach them through the package when they run, `mg.ops.add(self, other)`,
as PyTorch's Tensor reaches `torch.*`.
"""

import numpy as np

import minigrad as mg

from . import backend
from .legacy import LegacyTensorMethods
from .printing import TensorPrinting
from .tensor_methods import TensorMethods


class Tensor(TensorMethods, LegacyTensorMethods, TensorPrinting):
    __slots__ = ("array", "grad", "requires_grad", "grad_fn", "_version", "_hooks", "__weakref__")

    # NumPy must hand `ndarray + Tensor` to Tensor.__radd__ instead of converting us.
    __array_ufunc__ = None

    def __init__(self, *args, device=None, size=None, requires_grad=None, dtype=None):
        """mg.Tensor(...), as torch.Tensor(...), the legacy constructor (legacy.py):

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
        self._hooks = None
        self.requires_grad = False
        if requires_grad is None and dtype is None:  # PyTorch's forms: legacy.py
            self._init_legacy(args, size, device)
            return
        # minigrad's form (nn.Parameter uses it)
        if len(args) != 1 or size is not None:
            raise TypeError("Tensor(data, dtype=..., requires_grad=...) takes one data argument; "
                            "for sizes use mg.zeros(*sizes, dtype=..., requires_grad=...)")
        self.array = make_array(args[0], dtype, device)
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data, requires_grad):
        """Fast constructor for arrays that ops produce (no conversion, no checks)."""
        t = object.__new__(cls)
        t.array = data
        t.grad = None
        t.grad_fn = None
        t._version = [0]
        t._hooks = None
        t.requires_grad = requires_grad
        return t

    def __getstate__(self):
        """What pickle and copy.deepcopy keep: everything but the gradient hooks (a copy has none)."""
        attributes, slots = super().__getstate__()  # attributes: a subclass's __dict__ (nn.Parameter's)
        return attributes, dict(slots, _hooks=None)

    # --- what it is -------------------------------------------------------------------

    @property
    def shape(self):
        return tuple(self.array.shape)

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

    @property
    def ndim(self):
        return self.array.ndim

    def dim(self):
        return self.array.ndim

    def numel(self):
        return int(self.array.size)

    nelement = numel

    def is_floating_point(self):
        return self.array.dtype.kind == "f"

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

    def detach(self):
        """The same values, cut off from the graph (shares memory and version counter)."""
        t = Tensor._wrap(self.array, False)
        t._version = self._version
        return t

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute d(self)/d(leaf) for every leaf that requires grad, adding it to leaf.grad
        (with `inputs`, to the .grad of those tensors only).

        create_graph=True records the backward pass, so the gradients can be differentiated again."""
        mg.autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in .grad during backward (a leaf keeps it anyway)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self._gradient_hooks().retains = True

    @property
    def retains_grad(self):
        """Whether retain_grad() was called on this non-leaf tensor."""
        return self._hooks is not None and self._hooks.retains and self.grad_fn is not None

    def register_hook(self, hook):
        """hook(grad) runs each time the gradient with respect to this tensor (leaf or not) has been
        computed, before it is used; it may return a Tensor of the same shape to use instead. Returns a
        handle whose remove() takes the hook away."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        return self._add_hook(self._gradient_hooks().on_gradient, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) runs after backward() has added into this leaf's .grad. Returns a handle whose
        remove() takes the hook away."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        return self._add_hook(self._gradient_hooks().after_accumulate, hook)

    def _gradient_hooks(self):
        if self._hooks is None:
            self._hooks = mg.autograd.TensorHooks()
        return self._hooks

    @staticmethod
    def _add_hook(hooks, hook):
        handle = mg.nn.module.RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.array.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, but this one is {self.dtype}")
        self.requires_grad = requires_grad
        return self

    # --- in place ------------------------------------------------------------------------

    def _begin_in_place(self):
        """Before a raw in-place write that the graph need not see: refuse to change a leaf
        that requires grad (as PyTorch), then bump the version counter."""
        if mg.autograd.is_grad_enabled() and self.requires_grad and self.is_leaf:
            self._refuse_leaf_in_place()
        self._version[0] += 1

    def _refuse_leaf_in_place(self):
        raise RuntimeError(
            f"a leaf tensor of shape {self.shape} that requires grad is used in an in-place "
            f"operation. Wrap it in `with mg.no_grad():` (e.g. to initialise a parameter), or "
            f"change a .detach()ed copy.")

    def _gradient_flows_through(self, *others):
        """Whether an in-place change of self by `others` must be recorded in the graph."""
        return mg.autograd.is_grad_enabled() and (
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
                base.grad_fn.mark_view_changed(self._version[0])
        fn = result.grad_fn
        if recorded and fn is not None:
            fn.mark_assigned_in_place()
            if fn.saves_output:  # the output that backward reads is x now
                fn.save_output(self)
            self.grad_fn, self.requires_grad = fn, True
        elif recorded:  # an op with no gradient (a random fill): x stays in the graph, with a zero gradient
            replaced = _replacing(before, result)
            self.grad_fn, self.requires_grad = replaced.grad_fn, replaced.requires_grad
            replaced.grad_fn.mark_assigned_in_place()
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
            self._apply_in_place(mg.ops.index_put, key, as_tensor(value, like=self))
            return
        self._begin_in_place()
        self.array[mg.ops.shape.index_key(self, key)] = _value_for(self, value)

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
            return self._apply_in_place(mg.ops.add, other if alpha == 1 else other * alpha)
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
            return self._apply_in_place(mg.ops.mul, other)
        other = _operand_for(self, other)
        self._begin_in_place()
        self.array *= other
        return self

    def div_(self, other):
        if self._gradient_flows_through(other):
            return self._apply_in_place(mg.ops.div, other)
        other = _operand_for(self, other)
        self._begin_in_place()
        self.array /= other
        return self

    def clamp_(self, min=None, max=None):
        """Clamp in place (e.g. WGAN's weight clipping: `p.data.clamp_(-0.01, 0.01)`)."""
        if min is None and max is None:
            raise ValueError("clamp_() needs at least one of min and max")
        if self._gradient_flows_through(min, max):
            return self._apply_in_place(mg.ops.clamp, min, max)
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


# --- the default dtype, and turning Python data into arrays -------------------------------

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


# --- the in-place machinery's helpers ---------------------------------------------------

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
    copied = mg.ops.clone(mg.ops.expand(as_tensor(source, like=target), *target.shape))
    copied = copied if copied.dtype == target.dtype else mg.ops.cast(copied, target.dtype)
    return _replacing(target, copied)


def _replacing(target, values):
    """`values` in target's place, with target in the graph: its old values get a zero gradient, as
    PyTorch gives the tensor an in-place fill or copy overwrote (not None, and not a pass-through)."""
    nowhere = Tensor._wrap(backend.array_module(target.array).zeros((), dtype=bool), False)
    return mg.ops.where(nowhere, target, values)


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
