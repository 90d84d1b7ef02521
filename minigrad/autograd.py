"""Define-by-run reverse-mode autodiff: the graph, and the backward pass over it.

Every op is a `Function`. Calling `SomeOp.apply(x, y)` runs `forward` on the raw
arrays, wraps the result in a new Tensor, and - when gradients are wanted -
records the op as that tensor's `grad_fn`, remembering the input tensors. The
tensors and their grad_fns form a graph that points from each result back to
what it was computed from.

`backward(root)` walks that graph once, in topological order (every tensor before
the tensors it was computed from), calling each op's `backward` with the gradient
of the root with respect to the op's output, and passing the results on to the
inputs. Gradients of tensors used several times add up. Broadcasting is undone in
exactly one place, `unbroadcast`, so no op has to think about it.
"""

import functools

OPS = {}  # every differentiable op by name: Function subclasses and composite functions

_grad_enabled = True


# --- switching the graph off --------------------------------------------------------

def is_grad_enabled():
    return _grad_enabled


class set_grad_enabled:
    """Turn graph building on or off; works as a context manager and as a decorator."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        global _grad_enabled
        self.previous = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc_info):
        global _grad_enabled
        _grad_enabled = self.previous

    def __call__(self, func):
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)
        return wrapper


class no_grad(set_grad_enabled):
    """`with mg.no_grad():` (or `@mg.no_grad()`) runs code without recording a graph."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Turn graph building back on inside a no_grad block."""

    def __init__(self):
        super().__init__(True)


# --- ops ------------------------------------------------------------------------------

class Function:
    """One op: `forward` on raw arrays, `backward` giving the vector-Jacobian product.

    A subclass writes both side by side:

        class Exp(Function):
            '''y = e^x.   dy/dx = e^x = y.'''
            saves_inputs = False
            def forward(self, x):
                self.out = np.exp(x)      # saved for backward, named for what it is
                return self.out
            def backward(self, grad):
                return grad * self.out    # one gradient per input

    `backward` receives the gradient with respect to the output (same shape as the
    output) and returns one gradient per input, or None for an input that needs
    none (`self.needs_input_grad[i]` says which do). It must never modify `grad` in
    place, and it may return gradients of the broadcast shape: the engine sums
    them back to each input's shape.

    `saves_inputs` / `saves_output` say whether backward reads the input or output
    values. The engine then refuses to run backward if one of them was modified
    in place since the forward pass (see Tensor._version). `is_view` marks ops
    whose output may share memory with the first input (reshape, transpose, ...).
    """

    saves_inputs = True
    saves_output = False
    is_view = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__:  # a shared base class without forward is not an op
            OPS[cls.__name__] = cls

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors, returning a Tensor that remembers how it was made."""
        fn = cls()
        needs_input_grad = tuple(t.requires_grad for t in inputs)
        track = _grad_enabled and any(needs_input_grad)
        fn.needs_input_grad = needs_input_grad
        arrays = [t.array for t in inputs]
        if len(arrays) > 1:
            backend.check_same_device(arrays, cls.__name__)
        try:
            data = fn.forward(*arrays, **params)
        except ValueError as error:
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
            raise ValueError(f"{cls.__name__}: {error} (input shapes: {shapes})") from None
        out = Tensor._wrap(backend.as_array(data), track)
        if fn.is_view:  # a view shares memory, so it shares the in-place version counter
            out._version = inputs[0]._version
        if track:
            fn.inputs = inputs
            if cls.saves_inputs:
                fn.input_versions = [t._version[0] for t in inputs]
            out.grad_fn = fn
        else:
            fn.__dict__.clear()  # nothing will call backward: drop what forward saved
        return out

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def check_saved_versions(self, out):
        """Raise if a tensor that backward needs was modified in place after forward."""
        if self.saves_output and out._version[0] != 0:
            raise RuntimeError(_in_place_message(self, out, out._version[0], 0))
        if self.saves_inputs:
            for tensor, version in zip(self.inputs, self.input_versions):
                if tensor._version[0] != version:
                    raise RuntimeError(_in_place_message(self, tensor, tensor._version[0], version))

    def free(self):
        """Drop the saved arrays and the links to the inputs (the graph is spent)."""
        self.__dict__.clear()
        self.inputs = None


def _in_place_message(fn, tensor, version, expected):
    return (
        f"one of the tensors needed for gradient computation has been modified by an "
        f"in-place operation: a tensor of shape {tuple(tensor.shape)}, needed by "
        f"{type(fn).__name__}, is at version {version}; expected version {expected}. "
        f"Modify a .clone() instead, or make the change after calling backward().")


def composite(func):
    """Register a differentiable op written in terms of other ops (no backward of its own)."""
    OPS[func.__name__] = func
    return func


# --- the backward pass ----------------------------------------------------------------

def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`, undoing NumPy broadcasting.

    An input of shape (3, 1) added to one of shape (2, 3, 4) was broadcast to
    (2, 3, 4); each of its elements was used 2*4 times, so its gradient is the
    sum over the new leading axis and over the stretched axis: (2, 3, 4) -> (3, 1).
    """
    if grad.shape == shape:
        return grad
    leading = grad.ndim - len(shape)  # axes broadcasting added in front
    stretched = tuple(leading + i for i, n in enumerate(shape) if n == 1 and grad.shape[leading + i] != 1)
    # keepdims, then reshape: a plain sum down to shape () would give a NumPy scalar, not an array
    return grad.sum(axis=tuple(range(leading)) + stretched, keepdims=True).reshape(shape)


def topological_order(root):
    """Every tensor that `root` was computed from (needing grad), root first.

    An iterative depth-first search: each tensor appears after every tensor that
    was computed from it, so by the time backward reaches a tensor, all gradient
    contributions to it have arrived. No recursion, so a 100,000-op chain is fine.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        fn = tensor.grad_fn
        if fn is not None:
            if fn.inputs is None:
                raise RuntimeError(
                    "Trying to backward through the graph a second time: its saved values "
                    "were freed by the first backward(). Pass retain_graph=True to the first "
                    "backward() call if you need to call it twice.")
            for parent in fn.inputs:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    order.reverse()
    return order


def zero_grad(tensors, set_to_none=True):
    """Forget each tensor's .grad (None), or zero it in place: Module's and Optimizer's zero_grad."""
    for tensor in tensors:
        if set_to_none:
            tensor.grad = None
        elif tensor.grad is not None:
            tensor.grad.zero_()


def backward(root, gradient=None, retain_graph=False):
    """Accumulate d(root)/d(leaf) into `.grad` of every leaf that requires grad."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward() on a tensor that does not require grad: no input of the "
            "computation had requires_grad=True (or it ran under mg.no_grad()).")
    xp = backend.array_module(root.array)
    if gradient is None:
        if root.array.size != 1:
            raise RuntimeError(
                f"backward() without a `gradient` works only for a scalar, but this tensor has "
                f"shape {tuple(root.shape)}. Reduce it first (e.g. .sum() or .mean()), or pass "
                f"gradient=<tensor of shape {tuple(root.shape)}>.")
        seed = xp.ones_like(root.array)
    else:
        seed = gradient.array if isinstance(gradient, Tensor) else xp.asarray(gradient, dtype=root.dtype)
        if seed.shape != root.array.shape:
            raise RuntimeError(
                f"backward(): gradient has shape {tuple(seed.shape)} but the tensor has shape "
                f"{tuple(root.shape)}; they must match.")
        if seed.dtype != root.dtype:  # a grad has its tensor's dtype, also when the root is a leaf
            seed = seed.astype(root.dtype)

    grads = {id(root): seed}
    given_to_leaves = {id(seed)}  # arrays already stored as some .grad (or owned by the caller)
    for tensor in topological_order(root):
        grad = grads.pop(id(tensor), None)
        if grad is None:
            continue
        fn = tensor.grad_fn
        if fn is None:
            _accumulate_into_leaf(tensor, grad, given_to_leaves)
            continue
        fn.check_saved_versions(tensor)
        input_grads = fn.backward(grad)
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        for parent, parent_grad in zip(fn.inputs, input_grads):
            if parent_grad is None or not parent.requires_grad:
                continue
            if parent_grad.shape != parent.array.shape:
                parent_grad = unbroadcast(parent_grad, parent.array.shape)
            if parent_grad.dtype != parent.array.dtype:
                parent_grad = parent_grad.astype(parent.array.dtype)
            parent_grad = backend.as_array(parent_grad)
            key = id(parent)
            if key in grads:
                grads[key] = grads[key] + parent_grad
            else:
                grads[key] = parent_grad
        if not retain_graph:
            fn.free()


def _accumulate_into_leaf(tensor, grad, given_to_leaves):
    """tensor.grad += grad, as PyTorch does across backward calls."""
    if tensor.grad is None:
        # Store our own array: never a view (e.g. a broadcast of the seed), and never
        # one that another leaf already holds, so later in-place edits stay private.
        if not grad.flags.owndata or id(grad) in given_to_leaves:
            grad = grad.copy()
        given_to_leaves.add(id(grad))
        tensor.grad = Tensor._wrap(grad, False)
    elif tensor.grad.array.flags.owndata and tensor.grad.array.shape == grad.shape:
        tensor.grad.array += grad  # in place, as PyTorch: no new array per accumulation
    else:  # a .grad the user set to a view (or of another shape): leave that memory alone
        tensor.grad.array = tensor.grad.array + grad


from . import backend  # noqa: E402  (backend has no dependencies; Tensor imports this module)
from .tensor import Tensor  # noqa: E402
