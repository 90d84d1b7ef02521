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

Gradients of gradients: each op's `backward` is written with minigrad's own ops on
Tensors. With `create_graph=True` the backward pass runs with the graph switched
on, so the gradients it returns are themselves graph nodes and can be
differentiated again (a gradient penalty does exactly that). Without it, the same
formulas run with the graph off, or through an op's optional `fast_backward` on
raw arrays where the benchmark showed that the Tensor wrapping costs time.
"""

import functools
import warnings
import weakref

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

    A subclass writes both side by side, the math in its docstring:

        class Exp(Function):
            '''y = e^x.   dy/dx = e^x = y.'''
            saves_inputs, saves_output = False, True   # backward reads y, not x

            def forward(self, x):                      # raw arrays in, a raw array out
                return np.exp(x)

            def backward(self, grad):                  # Tensors in, Tensors out
                return grad * self.output              # one gradient per input

    `backward` receives the gradient with respect to the output (a Tensor of the
    output's shape) and returns one gradient per input: a Tensor, or None for an
    input that needs none (`self.needs_input_grad[i]` says which do). It is written
    with minigrad's ops, so that with `create_graph=True` the engine can record it
    and differentiate it again. It reads the inputs as `self.inputs` (Tensors) and
    the output as `self.output`, and may return gradients of the broadcast shape:
    the engine sums them back to each input's shape.

    `saves_inputs` / `saves_output` declare whether backward reads the input or
    output values. The engine then refuses to run backward if one of them was
    modified in place since the forward pass (see Tensor._version). `is_view`
    marks ops whose output may share memory with the first input.

    Two optional extras:
    - `fast_backward(grad)`: the same formula on raw arrays, for the first-order
      backward pass of ops on the hot path (see docs/performance.md for why).
    - `definition(*inputs)`: for a fused op (LayerNorm, BCE...), the op written in
      simpler minigrad ops. Without a `backward` of its own, the op's gradient is
      the gradient of its definition, so the fused op is differentiable to any order.
    """

    saves_inputs = True
    saves_output = False
    is_view = False
    fast_backward = None  # an optional raw-array version of backward (see above)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__:  # a shared base class without forward is not an op
            OPS[cls.__name__] = cls

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors, returning a Tensor that remembers how it was made."""
        fn = cls()
        fn.needs_input_grad = tuple(t.requires_grad for t in inputs)
        arrays = [t.array for t in inputs]
        if len(arrays) > 1:
            backend.check_same_device(arrays, cls.__name__)
        try:
            data = fn.forward(*arrays, **params)
        except ValueError as error:
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
            raise ValueError(f"{cls.__name__}: {error} (input shapes: {shapes})") from error
        track = _grad_enabled and any(fn.needs_input_grad)
        out = Tensor._wrap(backend.as_array(data), track)
        if fn.is_view:  # a view shares memory, so it shares the in-place version counter
            out._version = inputs[0]._version
        if track:
            fn.inputs = inputs
            fn.input_versions = [t._version[0] for t in inputs]
            if cls.saves_output:  # weakly: the output holds its grad_fn, not the other way round
                fn.output_ref, fn.output_version = weakref.ref(out), out._version[0]
            out.grad_fn = fn
        return out

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad):
        """The gradient of `definition`: a fused op's vector-Jacobian product in simpler ops."""
        if self.definition is None:
            raise NotImplementedError(f"{type(self).__name__} has neither a backward nor a definition")
        out = self.definition(*self.inputs)
        # A tensor given in two slots (bce(z, z)) gets its whole gradient once, in its first slot.
        wanted = list({id(t): t for t, needed in zip(self.inputs, self.needs_input_grad) if needed}.values())
        grads = dict(zip([id(t) for t in wanted], _local_gradients(out, wanted, grad)))
        return tuple(grads.pop(id(t), None) if needed else None
                     for t, needed in zip(self.inputs, self.needs_input_grad))

    definition = None  # see the class docstring

    @property
    def output(self):
        """The output Tensor (for backward of an op with saves_output = True)."""
        return self.output_ref()

    def check_saved_versions(self, out):
        """Raise if a tensor that backward needs was modified in place after forward."""
        output = self.output if self.saves_output else None  # x itself after x.sigmoid_()
        if output is not None and output._version[0] != self.output_version:
            raise RuntimeError(_in_place_message(self, output, output._version[0], self.output_version))
        for tensor, version in zip(self.inputs, self.input_versions):
            changed_at = getattr(tensor.grad_fn, "view_changed_at", None)
            if changed_at is not None and version >= changed_at:
                raise RuntimeError(
                    f"{type(self).__name__} used a tensor of shape {tuple(tensor.shape)} after a view of it was "
                    f"changed in place; minigrad recorded that change on the view only, so this gradient would "
                    f"miss it (docs/differences.md). Change the tensor itself (base[key] = value) instead.")
            # An op that reads no input values minds only a recorded item assignment
            # (x[key] = y): it gave x a new place in the graph that this op must not follow.
            reassigned = getattr(tensor.grad_fn, "assigned_in_place", False)
            if tensor._version[0] != version and (self.saves_inputs or reassigned):
                raise RuntimeError(_in_place_message(self, tensor, tensor._version[0], version))

    def free(self):
        """Drop the saved arrays and the links to the inputs (the graph is spent). What in-place
        changes did to its tensor is kept: the ops that used that tensor still check it."""
        kept = {name: self.__dict__[name] for name in ("assigned_in_place", "view_changed_at") if name in self.__dict__}
        self.__dict__.clear()
        self.inputs = None
        self.__dict__.update(kept)


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
    `grad` is a raw array (first-order pass) or a Tensor (a recorded one).
    """
    if tuple(grad.shape) == tuple(shape):
        return grad
    leading = grad.ndim - len(shape)  # axes broadcasting added in front
    stretched = tuple(leading + i for i, n in enumerate(shape) if n == 1 and grad.shape[leading + i] != 1)
    axes = tuple(range(leading)) + stretched
    # keepdims, then reshape: a plain sum down to shape () would give a NumPy scalar, not an array
    if isinstance(grad, Tensor):
        return grad.sum(dim=axes, keepdim=True).reshape(shape)
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


def topological_order(roots, stop_at=()):
    """Every tensor that `roots` were computed from (needing grad), roots first.

    An iterative depth-first search: each tensor appears after every tensor that
    was computed from it, so by the time backward reaches a tensor, all gradient
    contributions to it have arrived. No recursion, so a 100,000-op chain is fine.
    The search does not go past the tensors whose ids are in `stop_at`.
    """
    if isinstance(roots, Tensor):
        roots = [roots]
    order, visited = [], set()
    stack = [(root, False) for root in reversed(roots)]
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
        if fn is not None and id(tensor) not in stop_at and fn.inputs is not None:  # None: freed
            for parent, needed in zip(fn.inputs, fn.needs_input_grad):
                if needed and id(parent) not in visited:
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


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulate d(tensors)/d(leaf) into `.grad` of every leaf that requires grad
    (torch.autograd.backward; `t.backward()` is backward(t)).

    tensors        a Tensor, or a sequence of them: their gradients add up in the leaves
    grad_tensors   the starting gradient of each (None: ones, for a scalar)
    With create_graph=True the gradients are recorded in the graph (so .grad can be
    differentiated again); retain_graph defaults to create_graph, as in PyTorch.
    """
    if isinstance(tensors, Tensor):  # one tensor: grad_tensors is its gradient (a Tensor, array or list)
        roots, grad_tensors = [tensors], [grad_tensors]
    else:
        roots = list(tensors)
        if grad_tensors is None or isinstance(grad_tensors, Tensor):
            grad_tensors = [grad_tensors] * len(roots)
    if len(grad_tensors) != len(roots):
        raise RuntimeError(f"backward: {len(roots)} tensors but {len(grad_tensors)} grad_tensors")
    for root in roots:
        if not root.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under mg.no_grad()).")
    seeds = [_seed(root, gradient, "backward()") for root, gradient in zip(roots, grad_tensors)]
    retain_graph = create_graph if retain_graph is None else retain_graph
    _run_backward(roots, seeds, retain_graph, create_graph, wanted=None)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=False):
    """d(outputs)/d(inputs) as a tuple of Tensors, leaving every .grad alone (torch.autograd.grad).

    outputs        a Tensor or a sequence of them (each scalar, unless grad_outputs is given)
    inputs         a Tensor or a sequence of tensors that require grad (leaves or not)
    grad_outputs   the vectors of the vector-Jacobian products, one per output
    create_graph   record the computation, so the gradients can be differentiated again
    only_inputs    deprecated in PyTorch and ignored, as there: only `inputs` get gradients
                   (False warns; accumulating into other leaves is what backward() is for)
    allow_unused   give None for an input that outputs do not depend on, instead of raising
    """
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
                      "gradient for other parts of the graph, please use backward().", FutureWarning, stacklevel=2)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so it has no gradient")
    roots, seeds = [], []
    for i, (out, given) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad and has no grad_fn")
        roots.append(out)
        seeds.append(_seed(out, given, "grad()"))
    retain_graph = create_graph if retain_graph is None else retain_graph
    found = _run_backward(roots, seeds, retain_graph, create_graph, wanted=inputs)
    result = []
    for i, t in enumerate(inputs):
        g = found.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                               f"pass allow_unused=True to get None for it")
        result.append(g if g is None or isinstance(g, Tensor) else Tensor._wrap(g, False))
    return tuple(result)


def _seed(root, gradient, caller):
    """The starting gradient d(root)/d(root): ones for a scalar, else the one given."""
    xp = backend.array_module(root.array)
    if gradient is None:
        if root.array.size != 1:
            raise RuntimeError(
                f"{caller} without a gradient works only for a scalar, but this tensor has shape "
                f"{tuple(root.shape)}. Reduce it first (e.g. .sum() or .mean()), or pass a "
                f"gradient of shape {tuple(root.shape)}.")
        return xp.ones_like(root.array)
    if isinstance(gradient, Tensor):
        if gradient.requires_grad:  # a grad_outputs that is itself differentiated (double backward)
            return gradient if gradient.dtype == root.dtype else gradient.to(root.dtype)
        gradient = gradient.array
    seed = xp.asarray(gradient, dtype=root.dtype)
    if seed.shape != root.array.shape:
        raise RuntimeError(
            f"{caller}: gradient has shape {tuple(seed.shape)} but the tensor has shape "
            f"{tuple(root.shape)}; they must match.")
    return seed


def _run_backward(roots, seeds, retain_graph, create_graph, wanted, stop_at=()):
    """The backward pass from `roots` with starting gradients `seeds`.

    wanted=None: accumulate into the .grad of leaves. Else return {id: gradient} for
    the tensors in `wanted` (leaves or not), and skip the parts of the graph that
    cannot reach them. Gradients are raw arrays, or Tensors when create_graph is set.
    """
    order = topological_order(roots, stop_at)
    wanted_ids = None if wanted is None else {id(t) for t in wanted}
    relevant = None if wanted is None else _leading_to(order, wanted_ids, stop_at)
    grads, found = {}, {}
    given_to_leaves = set()  # arrays the caller owns, or some leaf already holds
    for root, seed in zip(roots, seeds):
        if create_graph and not isinstance(seed, Tensor):
            seed = Tensor._wrap(seed, False)
        elif not create_graph and isinstance(seed, Tensor):
            seed = seed.array
        given_to_leaves.add(id(seed))
        grads[id(root)] = grads[id(root)] + seed if id(root) in grads else seed
    with set_grad_enabled(create_graph):
        for tensor in order:
            grad = grads.pop(id(tensor), None)
            if grad is None:
                continue
            is_wanted = wanted_ids is not None and id(tensor) in wanted_ids
            fn = tensor.grad_fn
            if fn is not None and fn.inputs is None and not is_wanted and id(tensor) not in stop_at:
                raise RuntimeError(  # freed by an earlier backward (a wanted tensor needs nothing below it)
                    "Trying to backward through the graph a second time: its saved values "
                    "were freed by the first backward(). Pass retain_graph=True to the first "
                    "backward() call if you need to call it twice.")
            if relevant is not None and id(tensor) not in relevant:
                continue
            if is_wanted:
                found[id(tensor)] = grad
            if fn is None or id(tensor) in stop_at:
                if wanted is None:
                    _accumulate_into_leaf(tensor, grad, given_to_leaves)
                continue
            if fn.inputs is None:
                continue
            if wanted_ids is not None and id(tensor) in wanted_ids and not any(
                    id(parent) in relevant for parent in fn.inputs):
                continue  # a wanted tensor from which no other wanted one can be reached
            fn.check_saved_versions(tensor)
            input_grads = _call_backward(fn, grad, create_graph)
            for parent, needed, parent_grad in zip(fn.inputs, fn.needs_input_grad, input_grads):
                if parent_grad is None or not needed:  # as recorded: x[key] = y may have changed it since
                    continue
                if parent_grad.shape != parent.shape:
                    parent_grad = unbroadcast(parent_grad, parent.shape)
                parent_grad = _as_dtype(parent_grad, parent.dtype)
                key = id(parent)
                grads[key] = grads[key] + parent_grad if key in grads else parent_grad
            if not retain_graph:
                fn.free()
    return found


def _call_backward(fn, grad, create_graph):
    """Run one op's backward: raw arrays through fast_backward when it has one and nothing is
    recorded; else the Tensor formula (recorded when create_graph is set)."""
    if fn.fast_backward is not None and not create_graph:
        return _checked(fn, fn.fast_backward(grad), backend.ARRAY_TYPES, "fast_backward")
    grads = _checked(fn, fn.backward(grad if isinstance(grad, Tensor) else Tensor._wrap(grad, False)),
                     Tensor, "backward")
    return grads if create_graph else tuple(None if g is None else g.array for g in grads)


def _checked(fn, grads, kind, method):
    """What an op's backward gave, checked: one gradient of `kind` (or None) per input."""
    if type(grads) is not tuple:
        grads = (grads,)
    if len(grads) != len(fn.inputs):
        raise RuntimeError(f"{type(fn).__name__}.{method} returned {len(grads)} gradients "
                           f"for {len(fn.inputs)} inputs")
    for i, g in enumerate(grads):
        if g is not None and not isinstance(g, kind):
            array = backend.as_array(g)  # NumPy turns 0-d results into scalars: fine, made arrays again
            if not isinstance(array, kind):
                raise RuntimeError(f"{type(fn).__name__}.{method} returned a {type(g).__name__} for "
                                   f"input {i}; expected {'a Tensor' if kind is Tensor else 'an array'} or None")
            grads = grads[:i] + (array,) + grads[i + 1:]
    return grads


def _as_dtype(grad, dtype):
    """A gradient has its tensor's dtype (a float32 input of a float64 op gets a float32 grad)."""
    if grad.dtype == dtype:
        return grad
    return grad.to(dtype) if isinstance(grad, Tensor) else grad.astype(dtype)


def _leading_to(order, wanted_ids, stop_at):
    """The ids of the tensors in `order` from which some wanted tensor can be reached."""
    relevant = set()
    for tensor in reversed(order):  # inputs before the tensors computed from them
        fn = tensor.grad_fn
        if id(tensor) in wanted_ids or (
                fn is not None and id(tensor) not in stop_at and fn.inputs is not None
                and any(id(parent) in relevant for parent in fn.inputs)):
            relevant.add(id(tensor))
    return relevant


def _local_gradients(out, inputs, grad):
    """d(out)/d(inputs) . grad, stopping at `inputs`: one op's own vector-Jacobian product
    (how a fused op's `definition` is differentiated). Recorded when the graph is on."""
    seed = grad if isinstance(grad, Tensor) else Tensor._wrap(grad, False)
    # When recorded, the gradients are built on the definition's graph: keep it.
    found = _run_backward([out], [seed], retain_graph=_grad_enabled, create_graph=_grad_enabled,
                          wanted=inputs, stop_at={id(t) for t in inputs})
    xp = backend.array_module(out.array)
    return [found.get(id(t), Tensor._wrap(xp.zeros(t.shape, dtype=t.dtype), False)) for t in inputs]


def _accumulate_into_leaf(tensor, grad, given_to_leaves):
    """tensor.grad += grad, as PyTorch does across backward calls."""
    if isinstance(grad, Tensor):  # a recorded gradient (create_graph=True): .grad is a graph node
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad
        return
    if tensor.grad is None:
        # Store our own array: never a view (e.g. a broadcast of the seed), and never
        # one that another leaf already holds, so later in-place edits stay private.
        if not grad.flags.owndata or id(grad) in given_to_leaves:
            grad = grad.copy()
        given_to_leaves.add(id(grad))
        tensor.grad = Tensor._wrap(grad, False)
    elif tensor.grad.array.flags.owndata and tensor.grad.array.shape == grad.shape and tensor.grad.grad_fn is None:
        tensor.grad.array += grad  # in place, as PyTorch: no new array per accumulation
    elif tensor.grad.grad_fn is not None:  # a recorded .grad from an earlier create_graph pass
        tensor.grad = Tensor._wrap(tensor.grad.array + grad, False)
    else:  # a .grad the user set to a view (or of another shape): leave that memory alone
        tensor.grad.array = tensor.grad.array + grad


from . import backend  # noqa: E402  (backend has no dependencies; Tensor imports this module)
from .tensor import Tensor  # noqa: E402
