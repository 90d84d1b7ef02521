"""Define-by-run reverse-mode autodiff: the graph, and the backward pass over it.

Every op is a `Function`. `SomeOp.apply(x, y)` runs `forward` on the raw arrays, wraps the
result in a new Tensor and, when a gradient is wanted, records the op as that tensor's
`grad_fn`, remembering the input tensors. The tensors and their grad_fns form a graph that
points from each result back to what it was computed from.

`run_backward` walks that graph once, in topological order (every tensor before the tensors
it was computed from), calling each op's `backward` with the gradient of the root with respect
to the op's output and handing the results on to the inputs. Gradients of a tensor used several
times add up. Broadcasting is undone in one place, `unbroadcast`. What differs between
`loss.backward()` (gradients into the leaves' .grad) and `mg.autograd.grad` (gradients of chosen
tensors, returned) is only where the walk stops and what it keeps: a small `Sink`.

One formula per derivative. Each op's `backward` is written with minigrad's own ops, on Tensors.
With `create_graph=True` the pass runs with the graph on, so the gradients are graph nodes that
can be differentiated again (a gradient penalty does this); without it the same formula runs
with the graph off. Where a derivative is on the hot path it is a Function of its own, as in
Chainer: SigmoidBackward's forward computes g s (1 - s) on raw arrays, and its backward is the
next derivative. A `FusedFunction` (LayerNorm, BCE, ...) is the exception, and says so: it
computes in one pass what its `definition` states in simpler ops, its first derivative is a
closed form, and its higher derivatives are those of the definition.
"""

import functools
import warnings
import weakref

from . import backend, parallel
from .parallel import Later
from .tensor import Tensor

OPS = {}  # every differentiable op by name: Function subclasses and composite functions

_grad_enabled = True
_recorder = None  # while mg.compile records a step, what every op reports to (minigrad/compile.py)


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
                xp = backend.array_module(x)           # numpy, or cupy on the GPU
                return xp.exp(x)

            def backward(self, grad):                  # Tensors in, Tensors out
                return grad * self.output              # one gradient per input

    `backward` receives the gradient with respect to the output (a Tensor of the output's
    shape) and returns one gradient per input: a Tensor, or None for an input that needs none
    (`self.needs_input_grad[i]` says which do: in a pass of `grad()` or `backward(inputs=...)`,
    only those that lead to a wanted tensor, so no unwanted gradient is computed; PyTorch's own ops
    skip them alike). It is written with minigrad's ops, so that with
    `create_graph=True` the engine records it and can differentiate it again. It reads the
    inputs as `self.inputs` (Tensors) and the output as `self.output`, and may return gradients
    of the broadcast shape: the engine sums them back to each input's shape.

    `saves_inputs` / `saves_output` declare whether backward reads the input or output values;
    backward is refused if one of them was changed in place since (see Tensor._version).
    `is_view` marks ops whose output may share memory with the first input, `draws_random` ops
    whose forward draws from the random generator (dropout: a captured step keeps it in its place
    among the draws).
    """

    saves_inputs = True
    saves_output = False
    is_view = False
    draws_random = False
    assigned_in_place = False  # set by mark_assigned_in_place
    view_changed_at = None     # set by mark_view_changed

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__:  # a shared base class without forward is not an op
            OPS[cls.__name__] = cls

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors, returning a Tensor that remembers how it was made."""
        fn = cls()
        arrays = [t.array for t in inputs]
        if len(arrays) > 1:
            arrays = backend.on_one_device(arrays, cls.__name__)
        try:
            data = fn.forward(*arrays, **params)
        except ValueError as error:
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
            raise ValueError(f"{cls.__name__}: {error} (input shapes: {shapes})") from error
        out = Tensor._wrap(backend.as_array(data), False)
        if _recorder is not None:
            _recorder.op(fn, inputs, arrays, params, out.array)
        if fn.is_view:  # a view shares memory, so it shares the in-place version counter
            out._version = inputs[0]._version
        if _grad_enabled:
            fn.needs_input_grad = tuple([t.requires_grad for t in inputs])
            if True in fn.needs_input_grad:
                fn.record(inputs, out)
        return out

    def record(self, inputs, out):
        """Put `out` in the graph, as made by this op from `inputs` (`self.needs_input_grad[i]`
        says which of them want a gradient)."""
        self.inputs = inputs
        self.input_versions = [t._version[0] for t in inputs]
        if self.saves_output:
            self.save_output(out)
        out.requires_grad, out.grad_fn = True, self

    def save_output(self, out):
        """Remember `out` as the output backward reads, at its present version; weakly: the
        output holds its grad_fn, not the other way round."""
        self.output_ref, self.output_version = weakref.ref(out), out._version[0]

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    @property
    def output(self):
        """The output Tensor (for backward of an op with saves_output = True)."""
        return self.output_ref()

    def input_gradients(self, grad, needed):
        """What backward gives, checked: one Tensor (or None) per input. `needed` says which
        inputs this pass wants a gradient for (no more than needs_input_grad): backward sees it
        as needs_input_grad, so it computes no others."""
        recorded, self.needs_input_grad = self.needs_input_grad, needed
        try:
            grads = self.backward(grad)
        finally:
            self.needs_input_grad = recorded
        if type(grads) is not tuple:
            grads = (grads,)
        if len(grads) != len(self.inputs):
            raise RuntimeError(f"{type(self).__name__}.backward returned {len(grads)} gradients "
                               f"for {len(self.inputs)} inputs")
        for i, g in enumerate(grads):
            if g is not None and not isinstance(g, (Tensor, Later)):  # a Later: see run_backward
                raise RuntimeError(f"{type(self).__name__}.backward returned a {type(g).__name__} for "
                                   f"input {i}; expected a Tensor or None")
        return grads

    def check_saved_versions(self, out):
        """Raise if a tensor that backward needs was modified in place after forward."""
        output = self.output if self.saves_output else None  # x itself after x.sigmoid_()
        if output is not None and output._version[0] != self.output_version:
            raise RuntimeError(_in_place_message(self, output, output._version[0], self.output_version))
        for tensor, version in zip(self.inputs, self.input_versions):
            made_by = tensor.grad_fn  # None for a leaf
            if made_by is not None and made_by.view_changed_at is not None and version >= made_by.view_changed_at:
                raise RuntimeError(
                    f"{type(self).__name__} used a tensor of shape {tuple(tensor.shape)} after a view of it was "
                    f"changed in place; minigrad recorded that change on the view only, so this gradient would "
                    f"miss it (docs/differences.md). Change the tensor itself (base[key] = value) instead.")
            # An op that reads no input values minds only a recorded item assignment
            # (x[key] = y): it gave x a new place in the graph that this op must not follow.
            reassigned = made_by is not None and made_by.assigned_in_place
            if tensor._version[0] != version and (self.saves_inputs or reassigned):
                raise RuntimeError(_in_place_message(self, tensor, tensor._version[0], version))

    def mark_assigned_in_place(self):
        """This op's output was written into an existing tensor x (x.add_(y), x[key] = y): ops that
        used x before must not follow x's new place in the graph (see check_saved_versions)."""
        self.assigned_in_place = True

    def mark_view_changed(self, version):
        """A view of this op's output was changed in place, bringing it to `version`: an op that
        read the output from then on would miss the change (see check_saved_versions)."""
        self.view_changed_at = version

    def free(self):
        """Drop the saved arrays and the links to the inputs (the graph is spent). What in-place
        changes did to its tensor is kept: the ops that used that tensor still check it."""
        assigned, changed_at = self.assigned_in_place, self.view_changed_at
        self.__dict__.clear()
        self.inputs = None
        if assigned:
            self.assigned_in_place = True
        if changed_at is not None:
            self.view_changed_at = changed_at


class FusedFunction(Function):
    """An op computed in one pass for speed, whose meaning is its `definition` in simpler ops.

    It states each thing once:
    - `forward`: the fused computation, on raw arrays;
    - `definition(*inputs)`: the same function in minigrad ops, on Tensors: what the op means;
    - `closed_form(grad)`: its first derivative, worked out by hand, on raw arrays (one raw
      gradient or None per input): what the first-order pass runs.
    Gradients of gradients differentiate the definition, so the op is differentiable to any
    order; gradgradcheck checks that the closed form and the definition's gradient agree.
    """

    def definition(self, *inputs):
        raise NotImplementedError

    def closed_form(self, grad):
        raise NotImplementedError

    def backward(self, grad):
        if _grad_enabled:  # recorded: the definition's gradient, itself differentiable
            return self.gradient_of_definition(grad)
        grads = self.closed_form(grad.array)
        grads = grads if type(grads) is tuple else (grads,)
        return tuple([None if g is None else Tensor._wrap(backend.as_array(g), False) for g in grads])

    def gradient_of_definition(self, grad):
        """d(definition)/d(inputs) . grad: the definition run again, recorded, and differentiated
        back to this op's inputs (and no further)."""
        out = self.definition(*self.inputs)
        # A tensor given in two slots (bce(z, z)) gets its whole gradient once, in its first slot.
        wanted = list({id(t): t for t, needed in zip(self.inputs, self.needs_input_grad) if needed}.values())
        sink = Wanted(wanted, stop_at=wanted)
        run_backward([out], [grad], sink, create_graph=True, retain_graph=True)
        xp = backend.array_module(out.array)
        grads = {id(t): sink.found.get(id(t), Tensor._wrap(xp.zeros(t.shape, dtype=t.dtype), False))
                 for t in wanted}
        return tuple(grads.pop(id(t), None) if needed else None
                     for t, needed in zip(self.inputs, self.needs_input_grad))


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
    """Sum the Tensor `grad` down to `shape`, undoing NumPy broadcasting.

    An input of shape (3, 1) added to one of shape (2, 3, 4) was broadcast to (2, 3, 4); each
    of its elements was used 2*4 times, so its gradient is the sum over the new leading axis and
    over the stretched axis: (2, 3, 4) -> (3, 1).
    """
    if grad.array.shape == tuple(shape):
        return grad
    leading = grad.ndim - len(shape)  # axes broadcasting added in front
    stretched = tuple(leading + i for i, n in enumerate(shape) if n == 1 and grad.shape[leading + i] != 1)
    return grad.sum(dim=tuple(range(leading)) + stretched, keepdim=True).reshape(shape)


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
            # Leaves are pushed first, so searched last: each leaf then comes right after its op, and
            # its hooks (DDP's all-reduce) run as soon as its gradient is complete.
            parents = [parent for parent, needed in zip(fn.inputs, fn.needs_input_grad) if needed]
            for parent in sorted(parents, key=lambda parent: parent.grad_fn is not None):
                if id(parent) not in visited:
                    stack.append((parent, False))
    order.reverse()
    return order


def run_backward(roots, seeds, sink, create_graph, retain_graph):
    """The backward pass: from `roots`, whose gradients are `seeds` (Tensors), back through the
    graph. `sink` says where the pass stops and keeps what arrives there.

    Each tensor is reached after every tensor computed from it, so its gradient is complete
    when its op's backward runs; its hooks (Tensor.register_hook) see it then and may replace it.
    With create_graph the pass itself is recorded.

    A backward may give a gradient that another core is still computing (a parallel.Later: a
    layer's dL/dW, while the pass goes on with its dL/dx). The pass waits for it where it is
    needed: added to another gradient, seen by a hook, passed on; a leaf's goes into .grad at the
    end of the pass, so the layers below are worked on meanwhile."""
    grads = {}  # id(tensor) -> the gradient of the roots with respect to it, so far
    for root, seed in zip(roots, seeds):
        _add_gradient(grads, root, seed)
    laters, waiting = [], []  # every Later given; (leaf, Later) for the sink at the end
    to_free = []  # ops whose Laters read what they saved: freed at the end
    takes_laters = not create_graph and sink.waits and _recorder is None
    with set_grad_enabled(create_graph), EndOfPass(), parallel.later_results(takes_laters):
        try:
            for tensor in sink.order(roots):
                grad = grads.pop(id(tensor), None)
                if grad is None:
                    continue
                if type(grad) is Later:
                    if tensor.grad_fn is None and tensor._hooks is None:
                        waiting.append((tensor, grad))
                        continue
                    grad = _fitted(tensor, grad.result())
                # A pass inside an op's backward (FusedFunction's) stops at the op's inputs, whose
                # gradient is not complete there: their hooks wait for the outer pass.
                hooks = tensor._hooks
                if hooks is not None and id(tensor) not in sink.stop_at:
                    if hooks.on_gradient:
                        for later in laters:  # a hook may do anything (switch the graph on): nothing runs beside it
                            later.finish()
                        grad = hooks.run_on_gradient(grad)
                    if hooks.retains and tensor.grad_fn is not None:
                        hooks.retain(tensor, grad)
                if sink.takes(tensor, grad):
                    continue
                fn = tensor.grad_fn
                if fn.inputs is None:
                    raise RuntimeError(
                        "Trying to backward through the graph a second time: its saved values "
                        "were freed by the first backward(). Pass retain_graph=True to the first "
                        "backward() call if you need to call it twice.")
                fn.check_saved_versions(tensor)
                needed = sink.needed(fn)
                input_grads = fn.input_gradients(grad, needed)
                for parent, wanted, parent_grad in zip(fn.inputs, needed, input_grads):
                    if wanted and parent_grad is not None:
                        _add_gradient(grads, parent, parent_grad)
                given_later = [g for g in input_grads if type(g) is Later]
                laters += given_later
                if not retain_graph:
                    if given_later:  # they still read what the op saved
                        to_free.append(fn)
                    else:
                        fn.free()
            ready = [(tensor, _fitted(tensor, grad.result())) for tensor, grad in waiting]
            for tensor, grad in ready:  # (after every Later is done: a leaf's hooks run in takes)
                sink.takes(tensor, grad)
        finally:  # nothing is left running (after an error, what no thread has begun is dropped)
            for later in laters:
                later.cancel()
            for fn in to_free:
                fn.free()


class TensorHooks:
    """A tensor's gradient hooks, each kind in the order registered (Tensor.register_hook and
    Tensor.register_post_accumulate_grad_hook add them; a handle's remove() takes one away)."""

    def __init__(self):
        self.on_gradient = {}       # handle id -> hook(grad): a Tensor to use instead, or None
        self.after_accumulate = {}  # handle id -> hook(tensor), once backward() added into its .grad
        self.retains = False        # a non-leaf keeps its gradient in .grad (Tensor.retain_grad), after its hooks

    def run_on_gradient(self, grad):
        for hook in list(self.on_gradient.values()):
            result = hook(grad)
            if result is not None:
                if result.shape != grad.shape or result.dtype != grad.dtype:
                    raise RuntimeError(f"hook {getattr(hook, '__name__', hook)!r} has changed the size or type of "
                                       f"value: {tuple(grad.shape)} {grad.dtype} became {tuple(result.shape)} "
                                       f"{result.dtype}")
                grad = result
        return grad

    def run_after_accumulate(self, tensor):
        for hook in list(self.after_accumulate.values()):
            hook(tensor)

    def retain(self, tensor, grad):
        """Tensor.retain_grad: the non-leaf's gradient kept in its .grad (a copy, then sums)."""
        tensor.grad = grad.clone() if tensor.grad is None else tensor.grad + grad


_end_of_pass = []  # for each backward pass under way (they nest), the callbacks queued to run at its end


class EndOfPass:
    """The backward pass's queue of callbacks (queue_callback): run in the order queued when the
    pass ends without an error, inside it (with its grad mode)."""

    def __enter__(self):
        _end_of_pass.append([])

    def __exit__(self, kind, value, trace):
        try:
            for callback in _end_of_pass[-1] if kind is None else ():
                callback()
        finally:
            _end_of_pass.pop()


def queue_callback(callback):
    """callback() runs once the backward pass under way has ended (PyTorch's
    Variable._execution_engine.queue_callback); only during backward, from a gradient hook."""
    if not _end_of_pass:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _end_of_pass[-1].append(callback)


def _add_gradient(grads, tensor, grad):
    """grads[tensor] += grad, summed back to the tensor's shape and cast to its dtype. A Later
    (a gradient still being computed) is kept as it is while it is the only one."""
    key = id(tensor)
    if type(grad) is Later:
        if key not in grads:
            grads[key] = grad
            return
        grad = grad.result()
    grad = _fitted(tensor, grad)
    if key in grads:
        so_far = grads[key]
        grads[key] = (_fitted(tensor, so_far.result()) if type(so_far) is Later else so_far) + grad
    else:
        grads[key] = grad


def _fitted(tensor, grad):
    """The gradient grad of tensor, summed back to its shape, of its dtype and on its device."""
    if grad.array.shape != tensor.array.shape:
        grad = unbroadcast(grad, tensor.shape)
    if grad.array.dtype != tensor.array.dtype:  # a float32 input of a float64 op gets a float32 grad
        grad = grad.to(tensor.array.dtype)
    if type(grad.array) is not type(tensor.array):  # a 0-dim CPU tensor used beside GPU tensors
        grad = grad.to(tensor.device)
    return grad


class IntoLeaves:
    """The sink of `backward()`: the pass stops at the leaves, adding into each one's .grad."""

    stop_at = frozenset()
    waits = True  # for a gradient still being computed (run_backward): it goes into .grad at the end

    def __init__(self, seeds, create_graph):
        self.create_graph = create_graph
        self.given = {id(seed.array) for seed in seeds}  # arrays the caller owns, or a leaf holds

    @staticmethod
    def order(roots):
        """The tensors the pass visits, roots first: all of them."""
        return topological_order(roots)

    @staticmethod
    def needed(fn):
        """Which of fn's inputs get a gradient: those that needed one when fn ran (as recorded:
        `x[key] = y` may have changed them since)."""
        return fn.needs_input_grad

    def takes(self, tensor, grad):
        if tensor.grad_fn is not None:
            return False
        self.accumulate(tensor, grad)
        return True

    def accumulate(self, tensor, grad):
        """tensor.grad += grad, then the tensor's post-accumulate hooks."""
        if self.create_graph:  # a recorded gradient: .grad is a graph node
            tensor.grad = grad if tensor.grad is None else tensor.grad + grad
        else:
            self.add_into(tensor, grad.array)
        if tensor._hooks is not None:
            tensor._hooks.run_after_accumulate(tensor)

    def add_into(self, tensor, grad):
        """tensor.grad += grad (a raw array), as PyTorch does across backward calls: in place, in
        an array of the leaf's own (never a view, never one another leaf or the caller holds)."""
        if tensor.grad is None:
            if not grad.flags.owndata or id(grad) in self.given:
                grad = grad.copy()
            self.given.add(id(grad))
            tensor.grad = Tensor._wrap(grad, False)
        elif tensor.grad.grad_fn is not None:  # a recorded .grad from an earlier create_graph pass
            tensor.grad = Tensor._wrap(tensor.grad.array + grad, False)
        elif tensor.grad.array.flags.owndata and tensor.grad.array.shape == grad.shape:
            tensor.grad.array += grad
        else:  # a .grad the user set to a view (or of another shape): leave that memory alone
            tensor.grad.array = tensor.grad.array + grad


class Wanted:
    """The sink of `grad()`: keeps the gradients of the `wanted` tensors (leaves or not), does
    not go past those in `stop_at`, and skips every part of the graph that leads to none."""

    waits = False  # a gradient still being computed is waited for where it arrives

    def __init__(self, wanted, stop_at=()):
        self.wanted = {id(t) for t in wanted}
        self.stop_at = {id(t) for t in stop_at}
        self.found = {}

    def order(self, roots):
        """The tensors the pass visits, roots first: those from which a wanted one is reached
        further down (the others' gradients are not computed, so their hooks do not run). Those
        it passes through, not only stops at, are `through`. (A tensor whose graph was freed is
        passed through unless wanted, so that the pass says so.)"""
        leads_to_wanted, self.through = set(), set()
        everything = topological_order(roots, self.stop_at)
        for tensor in reversed(everything):  # inputs first
            fn = tensor.grad_fn
            if fn is not None and id(tensor) not in self.stop_at:
                if fn.inputs is None:
                    if id(tensor) not in self.wanted:
                        self.through.add(id(tensor))
                elif any(id(parent) in leads_to_wanted for parent in fn.inputs):
                    self.through.add(id(tensor))
            if id(tensor) in self.wanted or id(tensor) in self.through:
                leads_to_wanted.add(id(tensor))
        self.leads = leads_to_wanted
        return [tensor for tensor in everything if id(tensor) in leads_to_wanted]

    def needed(self, fn):
        """Which of fn's inputs get a gradient: of those that needed one when fn ran, the ones
        that lead to a wanted tensor (a layer's weight gradient, in grad() of its input, is
        not computed)."""
        return tuple([needed and id(parent) in self.leads for parent, needed in zip(fn.inputs, fn.needs_input_grad)])

    def takes(self, tensor, grad):
        if id(tensor) in self.wanted:
            self.found[id(tensor)] = grad
        return id(tensor) not in self.through


class IntoInputs(Wanted):
    """The sink of `backward(inputs=...)`: adds into the .grad of the given leaves only, as
    IntoLeaves adds, and skips every part of the graph that leads to none of the inputs. A given
    non-leaf keeps its gradient as Tensor.retain_grad keeps it (backward marks it so, as PyTorch does)."""

    waits = True  # as IntoLeaves: a leaf's gradient still being computed goes into .grad at the end

    def __init__(self, inputs, seeds, create_graph):
        super().__init__(inputs)
        self.into = IntoLeaves(seeds, create_graph)

    def takes(self, tensor, grad):
        if id(tensor) in self.wanted and tensor.grad_fn is None:
            self.into.accumulate(tensor, grad)
        return id(tensor) not in self.through


def zero_grad(tensors, set_to_none=True):
    """Forget each tensor's .grad (None), or zero it in place: Module's and Optimizer's zero_grad."""
    for tensor in tensors:
        if set_to_none:
            tensor.grad = None
        elif tensor.grad is not None:
            tensor.grad.zero_()


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into `.grad` of every leaf that requires grad
    (torch.autograd.backward; `t.backward()` is backward(t)).

    tensors        a Tensor, or a sequence of them: their gradients add up in the leaves
    grad_tensors   the starting gradient of each (None: ones, for a scalar)
    inputs         a Tensor or a sequence of them (leaves or not): only their .grad is added into;
                   None: every leaf's
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
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        for i, t in enumerate(inputs):
            if not isinstance(t, Tensor) or not t.requires_grad:
                raise RuntimeError(f"backward: inputs[{i}] does not require grad, so it has no gradient")
    seeds = [_seed(root, gradient, "backward()", create_graph) for root, gradient in zip(roots, grad_tensors)]
    for t in inputs or ():
        t.retain_grad()  # (a leaf's does nothing)
    retain_graph = create_graph if retain_graph is None else retain_graph
    sink = IntoLeaves(seeds, create_graph) if inputs is None else IntoInputs(inputs, seeds, create_graph)
    run_backward(roots, seeds, sink, create_graph, retain_graph)


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
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad and has no grad_fn")
    seeds = [_seed(out, given, "grad()", create_graph) for out, given in zip(outputs, grad_outputs)]
    retain_graph = create_graph if retain_graph is None else retain_graph
    sink = Wanted(inputs)
    run_backward(outputs, seeds, sink, create_graph, retain_graph)
    result = []
    for i, t in enumerate(inputs):
        g = sink.found.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                               f"pass allow_unused=True to get None for it")
        result.append(g)
    return tuple(result)


def _seed(root, gradient, caller, create_graph):
    """The starting gradient d(root)/d(root), a Tensor: ones for a scalar, else the one given."""
    xp = backend.array_module(root.array)
    if gradient is None:
        if root.array.size != 1:
            raise RuntimeError(
                f"{caller} without a gradient works only for a scalar, but this tensor has shape "
                f"{tuple(root.shape)}. Reduce it first (e.g. .sum() or .mean()), or pass a "
                f"gradient of shape {tuple(root.shape)}.")
        return Tensor._wrap(xp.ones_like(root.array), False)
    if isinstance(gradient, Tensor):
        if gradient.requires_grad and create_graph:  # a grad_outputs that is itself differentiated
            return gradient if gradient.dtype == root.dtype else gradient.to(root.dtype)
        gradient = gradient.array
    seed = xp.asarray(gradient, dtype=root.dtype)
    if seed.shape != root.array.shape:
        raise RuntimeError(
            f"{caller}: gradient has shape {tuple(seed.shape)} but the tensor has shape "
            f"{tuple(root.shape)}; they must match.")
    return Tensor._wrap(seed, False)
