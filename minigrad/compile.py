"""Capturing a training step: run it through the engine, then replay what ran (mg.compile).

    step = mg.compile(train_step)       # a function of tensors (and plain values)
    for x, y in batches:
        loss = step(x, y)               # calls 1-3 run the engine; later calls replay a tape

An eager, define-by-run engine pays for its bookkeeping on every call: each op makes a Tensor,
records itself in the graph, and backward sorts the graph and dispatches op by op. At batch size
1 that bookkeeping costs more than the arithmetic. A training step does the same thing every
time, so `compile` records it once as a tape, a list of array operations, and later calls run
the tape: each recorded op's `forward` on the same arrays, in the same order, with no Tensor, no
graph and no sort (the idea of CUDA graphs and of tinygrad's TinyJit).

1. Call 1 runs eagerly: optimisers and layers make their state.
2. Calls 2 and 3 run eagerly while a Recording watches the engine: every op (Function.apply), every
   closed-form gradient (FusedFunction), every gradient added into a leaf's .grad. Each array an
   op reads is named: made by an earlier op (a place on the tape), an argument of the step, an
   array from outside (a parameter: read as it is at replay time), or a leaf's .grad (read as it
   is at that point of the replay). Optimiser steps, zero_grad, p.grad = None, tensor creation
   (mg.randn, mg.ones, ...), random fills, in-place changes (p.grad.mul_(s)), gradient clipping
   and F.one_hot are recorded as calls, replayed by calling them again (on that call's .grad):
   random numbers are drawn as eagerly, in the same order. A constant (mg.ones_like(x) as a
   target, say) that only ops read afterwards, and that the step does not return, is made once:
   its recorded array keeps the values.
3. The two tapes must agree (the same ops with the same arguments, reading the same outside
   arrays); then the second is kept. Of the first, only what it did is kept while the second is
   recorded, not its arrays: a capture holds one call's arrays at a time. A step the tape cannot
   replay faithfully runs eagerly for good, with one warning saying why: it reads a value on the
   host (.item(), bool(), ...), writes into a tensor outside an op, reads an array made outside
   minigrad's ops, or does different things on the two calls.
4. Later calls check guards (the arguments' shapes, dtypes and devices; plain arguments' values;
   the grad mode; the parameters still their arrays); a change records a new tape for the new
   case. Then the arguments are copied into the tape's argument arrays and the tape runs: each op's
   forward on the arrays it read when recorded. An array that only the tape's entries read is
   handed from op to op in a cell, each call's new one, as eager hands it on (a fused op's closed
   form takes what its forward saved from the cells too); an array something else holds (a view
   of it, a call's tensor argument, the result) keeps its identity, the new values copied into
   it, so that whatever holds it sees them. A cell lets go of its array after its last reader, and
   no Function keeps it: between calls a tape holds only those arrays, as eager frees its graph.
   What `together` ran at once (a layer's dL/dx and dL/dW) runs as in backward(): dL/dx here,
   dL/dW on the pool as a Later, waited for before its first reader (_schedule).

What a replayed step returns are new tensors holding the values, without a graph.
"""

import functools
import importlib
import warnings
from collections.abc import Iterator

import numpy as np

import minigrad
from . import autograd, backend, kernels, optim, parallel
from .autograd import FusedFunction, IntoLeaves
from .nn import functional
from .nn import utils as nn_utils
from .nn.module import Module
from .optim import lr_scheduler
from .tensor import Tensor

norm_ops = importlib.import_module(".ops.norm", __package__)  # the module: minigrad.ops.norm is the function
_GRAD = Tensor.__dict__["grad"]  # the .grad slot itself: while a Recording watches, Tensor.grad tells it of reads
RECORDINGS = 2  # eager calls recorded (and compared) before the tape is replayed
CREATION = ("tensor", "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "full_like", "empty_like",
            "arange", "linspace", "eye", "rand", "randn", "randint", "rand_like", "randn_like", "randint_like",
            "normal", "bernoulli", "randperm")
CONSTANT = ("zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "linspace", "eye")  # (made once)
FUNCTIONAL = ("one_hot",)  # nn.functional's functions without a gradient, replayed as calls
UTILS = ("clip_grad_norm_", "clip_grad_value_")  # nn.utils' functions that change .grad in place
RANDOM_FILLS = ("normal_", "uniform_", "bernoulli_", "random_", "exponential_", "geometric_", "cauchy_",
                "log_normal_")
IN_PLACE = ("__setitem__", "fill_", "zero_", "copy_", "add_", "sub_", "mul_", "div_", "clamp_")
HOST_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__", "__array__")


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None, options=None, disable=False):
    """mg.compile(step): the step captured (see the module docstring); as a decorator too.

    PyTorch's arguments are accepted; `disable=True` returns the function itself. A Module is
    returned as it is: minigrad captures whole training steps (forward, backward and optimiser
    together), not a model's forward alone (docs/differences.md)."""
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable)
    if disable or isinstance(model, Module):
        return model
    if not callable(model):
        raise TypeError(f"mg.compile expects a function (a training step), got {type(model).__name__}")
    return CapturedStep(model)


class Refused(Exception):
    """The step does something a tape cannot replay faithfully; it runs eagerly."""


class CapturedStep:
    """A function run eagerly for its first call, recorded on the next two, then replayed from a
    tape (one tape per guard key)."""

    def __init__(self, step):
        functools.update_wrapper(self, step)
        self.step = step
        self.cases = {}        # guard key -> a Tape, or the recordings made so far (a list)
        self.refused = None    # why the step runs eagerly for good (None while it does not)

    def __call__(self, *args, **kwargs):
        if self.refused is not None or autograd._recorder is not None:  # refused, or inside another capture
            return self.step(*args, **kwargs)
        key = _guard_key(args, kwargs)
        case = self.cases.get(key)
        if isinstance(case, Tape):
            if case.still_valid():
                try:
                    return case.replay(args)
                except BaseException:  # half replayed (an op refused its values, Ctrl-C): record afresh
                    del self.cases[key]
                    raise
            case = None  # a parameter's array was replaced (load_state_dict, .to(), ...): record again
        if case is None:  # the first call runs eagerly: optimisers and layers make their state
            self.cases[key] = []
            return self.step(*args, **kwargs)
        wanting = [k for k, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if wanting:  # recorded on copies of the arguments, their gradients would go to the copies
            return self._refuse(f"its argument {wanting[0]} requires grad (its .grad would be the tape's); "
                                f"capture a step whose tensors that learn are parameters", *args, **kwargs)
        result, recording = _record(self.step, args, kwargs)
        try:
            if recording.refused is not None:
                raise Refused(recording.refused)
            if len(case) + 1 < RECORDINGS:  # kept for the comparison only: what it did, not its arrays
                case.append(_signature(recording))
            else:
                self.cases[key] = Tape(case[-1], recording)
        except Refused as reason:
            self._refuse(str(reason))
            return recording.result  # as the step returned it (a graph it returns stays usable)
        return result

    def _refuse(self, reason, *args, **kwargs):
        """Run eagerly from now on, saying why once; with arguments, run this call eagerly too."""
        self.refused = reason
        self.cases.clear()
        name = getattr(self.step, "__qualname__", "the step")
        warnings.warn(f"mg.compile: {name} runs eagerly: {reason}", RuntimeWarning, stacklevel=3)
        return self.step(*args, **kwargs) if args or kwargs else None


def _guard_key(args, kwargs):
    """What a tape is valid for: tensors' shapes, dtypes, devices and requires_grad; other values
    themselves; the grad mode."""
    return (tuple(_guard_part(a) for a in args), tuple(sorted((k, _guard_part(v)) for k, v in kwargs.items())),
            autograd.is_grad_enabled())


def _guard_part(value):
    if isinstance(value, Tensor):
        return ("tensor", value.array.shape, value.array.dtype.str, backend.device_of(value.array),
                value.requires_grad)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(_guard_part(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return ("value", type(value).__name__, value)


# --- recording -----------------------------------------------------------------------------

class Recording:
    """What one eager call did: its entries in order, and what each array an entry read was.

    An entry is a tuple (kind, what, reads, ...): kind "op" (a Function's forward), "closed_form"
    (a FusedFunction's first derivative), "accumulate" (a gradient added into a leaf's .grad) or
    "call" (a call replayed by calling it again); `reads` names each array read."""

    def __init__(self):
        self.entries = []
        self.origin = {}        # id(array) -> its name: ("op", i), ("op", i, k), ("saved", i, attribute), ("arg", k)
        self.keep = []          # every array named, kept alive so that ids stay unique
        self.outside = {}       # id(array) -> (tensor, array): read from outside, with the tensor that held it
        self.quiet = 0          # > 0 inside a recorded call (optimizer.step, ...): its inner ops are its own
        self.refused = None     # why the step cannot be replayed
        self.together = []      # (work, [(first, end) entries of each call]): calls run at once (kernels.together)
        self.grad_leaves = []   # the leaves whose .grad the step read or backward added into: ("grad", k) names
        #                         leaf k's .grad
        self.grad_of = {}       # id(leaf k, its .grad, or the .grad's array) -> k, as the gradients arrived
        self.grads_seen = []    # those .grad tensors, kept alive so that ids stay unique

    def refuse(self, reason):
        if self.refused is None:
            self.refused = reason

    def listening(self):
        return not self.quiet and self.refused is None

    def name(self, array):
        k = self.grad_of.get(id(array))
        grad = None if k is None else _GRAD.__get__(self.grad_leaves[k], Tensor)
        if grad is not None and grad.array is array:
            return ("grad", k)  # whatever .grad holds when replayed: a new array each call, or the same one
        known = self.origin.get(id(array))
        return known if known is not None else ("outside", array)

    def grad_known(self, leaf):
        """leaf.grad was read by the step, or backward() added into it: what reads that .grad (or its
        array) from now on reads the leaf's .grad."""
        k = self.grad_of.setdefault(id(leaf), len(self.grad_leaves))
        if k == len(self.grad_leaves):
            self.grad_leaves.append(leaf)
        grad = _GRAD.__get__(leaf, Tensor)
        self.grad_of[id(grad)] = self.grad_of[id(grad.array)] = k
        self.grads_seen.append(grad)

    def place(self, array, name):
        if id(array) not in self.origin:
            self.origin[id(array)] = name
            self.keep.append(array)

    def op(self, fn, inputs, arrays, params, out):
        """Function.apply ran fn.forward(*arrays, **params) and got out."""
        if not self.listening():
            return
        for tensor, array in zip(inputs, arrays):
            if id(array) not in self.origin and tensor.array is array:
                self.outside[id(array)] = (tensor, array)
        saved = {}
        for attribute, value in vars(fn).items():
            if backend.is_array(value):
                saved[attribute] = value
            elif isinstance(value, (tuple, list)) and any(backend.is_array(v) for v in value):
                self.refuse(f"{type(fn).__name__} keeps arrays in a {type(value).__name__}, which a tape does not "
                            f"follow")
        i = len(self.entries)
        read = list(arrays) + [v for v in params.values() if backend.is_array(v)]  # Scale(g, factor=mask)
        plain = {k: v for k, v in params.items() if not backend.is_array(v)}
        self.entries.append(("op", fn, [self.name(a) for a in read], arrays, plain, out, saved, params))
        self.place(out, ("op", i))
        for attribute, value in saved.items():
            if not any(value is a for a in arrays):  # an input it keeps (BCE's target) is not its own
                self.place(value, ("saved", i, attribute))

    def closed_form(self, fn, state, grad, grads):
        """A FusedFunction's closed-form gradient ran: fn.closed_form(grad) gave grads."""
        i = len(self.entries)
        self.entries.append(("closed_form", fn, [self.name(grad)], [grad], state, grads))
        for k, g in enumerate(grads):
            if g is not None:
                self.place(g, ("op", i, k))

    def accumulate(self, leaf, grad, copied):
        """backward() added grad into leaf.grad (copying it, if it was new and not the leaf's own)."""
        grad_now = _GRAD.__get__(leaf, Tensor)
        if grad_now is not None and grad_now.grad_fn is not None:
            self.refuse("backward adds into a .grad recorded by backward(create_graph=True)")
        self.entries.append(("accumulate", leaf, [self.name(grad)], [grad], copied))

    def call(self, function, args, kwargs, result):
        """A call replayed by calling it again: an optimiser's step, mg.randn, x.normal_(), ...; a leaf's
        .grad among its arguments (p.grad.mul_(s), p.grad.data.zero_()) is the leaf's .grad when replayed."""
        i = len(self.entries)
        tensors = [(position, a) for position, a in enumerate(args) if isinstance(a, Tensor)]
        arrays = [a.array for _, a in tensors]
        names = [self.name(array) for array in arrays]
        others = [a for a in args if not isinstance(a, Tensor)]
        # position -> (k, whether it is leaf k's .grad itself rather than a tensor on its memory)
        grads = {position: (name[1], _GRAD.__get__(self.grad_leaves[name[1]], Tensor) is a)
                 for (position, a), name in zip(tensors, names) if name[0] == "grad"}
        self.entries.append(("call", function, names, arrays, args, kwargs, others, result, grads))
        if isinstance(result, Tensor) and not any(result.array is a for a in arrays):  # (not x.add_(1), x itself)
            self.place(result.array, ("op", i))


def _record(step, args, kwargs):
    """Run step eagerly on copies of its tensor arguments while a Recording watches."""
    recording = Recording()
    own_args = []
    for k, value in enumerate(args):
        if isinstance(value, Tensor):
            value = Tensor._wrap(value.array.copy(), value.requires_grad)
            recording.place(value.array, ("arg", k))
        own_args.append(value)
    recording.args = own_args
    with _watching(recording):
        result = step(*own_args, **kwargs)
    for tensor in _tensors_in(result):
        fn = tensor.grad_fn
        if fn is not None and fn.inputs is not None:
            recording.refuse("it returns a tensor whose graph is still there, for a backward outside the step; "
                             "capture the whole step, backward and optimiser included")
    recording.result = result
    return _values_of(result), recording


def _tensors_in(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _tensors_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors_in(v)


def _values_of(value):
    """The step's result with each tensor replaced by a new one holding a copy of its values
    (without a graph): the tape's arrays are written again by the next call."""
    if isinstance(value, Tensor):
        return Tensor._wrap(value.array.copy(), False)
    if isinstance(value, (tuple, list)):
        values = [_values_of(v) for v in value]
        return type(value)(*values) if hasattr(value, "_fields") else type(value)(values)
    if isinstance(value, dict):
        return {k: _values_of(v) for k, v in value.items()}
    return value


class _watching:
    """While a Recording watches: the engine reports to it (autograd._recorder), and the calls that
    are replayed whole, or that a tape cannot replay, are wrapped to tell it."""

    def __init__(self, recording):
        self.recording = recording
        self.patched = []

    def patch(self, owner, name, replacement):
        self.patched.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, replacement)

    def __enter__(self):
        rec = self.recording
        autograd._recorder = rec
        original_backward, original_add_into, original_takes = (FusedFunction.backward, IntoLeaves.add_into,
                                                                IntoLeaves.takes)

        def backward(fn, grad):
            if autograd.is_grad_enabled() or not rec.listening():
                return original_backward(fn, grad)
            state = dict(vars(fn))
            rec.quiet += 1
            try:
                grads = original_backward(fn, grad)
            finally:
                rec.quiet -= 1
            rec.closed_form(fn, state, grad.array, [None if g is None else g.array for g in grads])
            return grads

        def add_into(sink, tensor, grad):
            listening = rec.listening()
            if listening:
                rec.accumulate(tensor, grad, copied=_GRAD.__get__(tensor, Tensor) is None and (
                    not grad.flags.owndata or id(grad) in sink.given))
                listening = rec.listening()  # (unless accumulate refused)
            rec.quiet += 1
            try:
                original_add_into(sink, tensor, grad)
            finally:
                rec.quiet -= 1
            if listening:
                rec.grad_known(tensor)

        def takes(sink, tensor, grad):
            if sink.create_graph and tensor.grad_fn is None and rec.listening():
                rec.refuse("backward(create_graph=True) puts recorded gradients into .grad")
            return original_takes(sink, tensor, grad)

        def together(work, *calls):  # recorded one call after the other; the tape runs them at once
            if not rec.listening():
                return original_together(work, *calls)
            results, spans = [], []
            for call in calls:
                first = len(rec.entries)
                results.append(None if call is None else call())
                spans.append((first, len(rec.entries)))
            rec.together.append((work, spans))
            return results

        def get_grad(tensor):  # the step reads p.grad: what reads it reads each call's own
            value = _GRAD.__get__(tensor, Tensor)
            if value is not None and rec.listening():
                rec.grad_known(tensor)
            return value

        def set_grad(tensor, value):  # p.grad = None in the step: replayed; p.grad = a tensor: refused
            try:
                old = _GRAD.__get__(tensor, Tensor)
            except AttributeError:  # a new tensor (Tensor._wrap)
                old = None
            _GRAD.__set__(tensor, value)
            if (old is not None or value is not None) and rec.listening():
                if value is None:
                    rec.call(_set_grad_to_none, [tensor], {}, None)
                else:
                    rec.refuse("it sets a .grad to a tensor (p.grad = ...), which a tape does not replay; "
                               "zero_grad() or p.grad = None replay")

        original_together = kernels.together
        self.patch(Tensor, "grad", property(get_grad, set_grad))
        self.patch(kernels, "together", together)
        self.patch(FusedFunction, "backward", backward)
        self.patch(IntoLeaves, "add_into", add_into)
        self.patch(IntoLeaves, "takes", takes)
        self.patch_calls(rec)
        self.patch_refusals(rec)
        return rec

    def patch_calls(self, rec):
        """Calls replayed whole: optimisers' and schedulers' steps, zero_grad, creation, random fills."""
        owners = [optim.Optimizer, lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau]
        for owner in _with_subclasses(owners):
            for name in ("step", "zero_grad"):
                if name in owner.__dict__:
                    self.patch(owner, name, _replayed_call(rec, owner.__dict__[name]))
        self.patch(Module, "zero_grad", _replayed_call(rec, Module.__dict__["zero_grad"]))
        for name in CREATION:
            if name in vars(minigrad):
                self.patch(minigrad, name, _replayed_call(rec, vars(minigrad)[name]))
        for name in FUNCTIONAL:
            self.patch(functional, name, _replayed_call(rec, vars(functional)[name]))
        for name in UTILS:
            self.patch(nn_utils, name, _replayed_call(rec, vars(nn_utils)[name]))
        for name in RANDOM_FILLS + IN_PLACE:
            for owner in type.mro(Tensor):
                if name in owner.__dict__:
                    self.patch(owner, name, _replayed_call(rec, owner.__dict__[name], in_place=name in IN_PLACE))
                    break

    def patch_refusals(self, rec):
        """What a tape cannot replay: reading values on the host, writing into tensors outside ops."""
        for name in HOST_READS:
            for owner in type.mro(Tensor):
                if name in owner.__dict__:
                    self.patch(owner, name, _refusing(rec, owner.__dict__[name],
                                                      f"it reads a tensor's value on the host (Tensor.{name}) and may act "
                                                      f"on it; return the tensor from the step and read it outside"))
                    break
        hooks = "a tensor it uses has a gradient hook (or keeps its gradient: retain_grad), which a tape would not call"
        for name in ("run_on_gradient", "run_after_accumulate", "retain"):
            self.patch(autograd.TensorHooks, name, _refusing(rec, autograd.TensorHooks.__dict__[name], hooks))
        self.patch(autograd, "queue_callback", _refusing(rec, autograd.queue_callback, hooks))
        writes = "it writes into a tensor outside an op ({}); a tape replays ops only"
        for owner, name in ((Tensor, "_begin_in_place"), (Tensor, "_apply_in_place"), (norm_ops, "_move_towards")):
            self.patch(owner, name, _refusing(rec, vars(owner)[name], writes.format(name.strip("_"))))

    def __exit__(self, *exc_info):
        autograd._recorder = None
        for owner, name, original in reversed(self.patched):
            setattr(owner, name, original)


def _with_subclasses(classes):
    seen, stack = [], list(classes)
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    return seen


def _replayed_call(rec, function, in_place=False):
    """function, recorded as one call (the ops inside it are its own). An in-place change that
    autograd records (a gradient flows through it) is part of the graph, which a call is not."""
    @functools.wraps(function)
    def call(*args, **kwargs):
        # model.parameters() is a generator: kept as a list, each replay calls again with the same one
        args = [list(a) if isinstance(a, Iterator) else a for a in args]
        listening = rec.listening()
        if listening and in_place and args[0]._gradient_flows_through(*args[1:], *kwargs.values()):
            rec.refuse(f"Tensor.{function.__name__} changes a tensor in place under autograd; a tape replays "
                       f"such a change only as part of an op")
            listening = False
        rec.quiet += 1
        try:
            result = function(*args, **kwargs)
        finally:
            rec.quiet -= 1
        if listening:
            rec.call(function, args, kwargs, result)
        return result
    return call


def _set_grad_to_none(tensor):
    """p.grad = None, as a step did it (a call of the tape)."""
    tensor.grad = None


def _refusing(rec, function, reason):
    @functools.wraps(function)
    def refused(*args, **kwargs):
        if rec.listening():
            rec.refuse(reason)
        return function(*args, **kwargs)
    return refused


# --- the tape ------------------------------------------------------------------------------

class Tape:
    """The step as a list of array operations, checked against an earlier recording's signature,
    and replayed."""

    def __init__(self, first, second):
        _compare(first, _signature(second))
        self.result = second.result
        self.arg_buffers = [(k, a.array) for k, a in enumerate(second.args) if isinstance(a, Tensor)]
        self.outside = [(tensor, array) for tensor, array in second.outside.values()]
        cells = {key: [None] for key in _private(second)}
        self.buffers = [a for a in second.keep if id(a) not in cells]  # the arrays a replay writes into
        buffers = {id(a) for a in self.buffers}
        leaves = {id(entry[1]): entry[1] for entry in second.entries if entry[0] == "accumulate"}
        self.leaves = [(leaf, buffers) for leaf in leaves.values()]  # (each once, in order)
        runs = [_runner(entry, cells, second.grad_leaves) for entry in second.entries]
        for k in _constants(second):  # its recorded array already holds what the call makes
            runs[k] = None
        self.program, self.slots = _schedule(second, runs, cells)  # slots: each group's Laters while they run

    def still_valid(self):
        """Whether every array read from outside is still its tensor's (not replaced by load_state_dict, .to())."""
        for tensor, array in self.outside:
            if tensor.array is not array:
                return False
        return True

    def replay(self, args):
        for k, buffer in self.arg_buffers:
            backend.array_module(buffer).copyto(buffer, args[k].array)
        for leaf, buffers in self.leaves:  # a .grad that is a tape's array gets its own memory first
            grad = leaf.grad
            if grad is not None and id(grad.array) in buffers:
                grad.array = grad.array.copy()
        with autograd.no_grad():
            try:
                for run in self.program:
                    run()
            finally:  # after an error, no Later is left running (those no thread has begun are dropped)
                for slot in self.slots:
                    for later in slot:
                        later.cancel()
                    slot.clear()
        return _values_of(self.result)


def _schedule(recording, runs, cells):
    """The tape's program (the entries' runs in order, with what ran at once eagerly run at once,
    and each cell let go after its last reader) and the slots its Laters wait in.

    Calls that `together` ran at once eagerly (a layer's dL/dx and dL/dW) run as it does in a
    backward pass: the first here, the others handed to the pool as Laters while the tape goes on.
    A join waits for them just before the first entry that reads what they make, or a call that
    may read anything (an optimiser's step); the gradients a stretch between two such calls adds
    into leaves' .grad are added at its end, in their recorded order, as backward adds a Later's
    at the end of its pass, with the ops that only feed them (unless something in the stretch
    reads a gradient)."""
    entries, n = recording.entries, len(runs)
    views = {k for k, run in enumerate(runs) if run is None and entries[k][0] == "op"}
    calls = _barrier_calls(entries)
    last = list(range(n))  # where each entry is done (what it read may be let go after it)
    joins, moved = [[] for _ in range(n + 1)], [[] for _ in range(n + 1)]  # run before entry i (n: the end)
    slots = []
    moved_from = set()
    for k, e in _to_stretch_ends(entries, calls, recording, views, n):
        moved[e].append(runs[k])
        runs[k], last[k] = None, e
        moved_from.add(k)
    spans_of = [spans for _, spans in recording.together]
    group_of = {k: spans[0][0] for spans in spans_of for k in range(spans[0][0], spans[-1][1])}  # where it runs
    for work, spans in recording.together:
        if work < min(parallel.LATER_MIN, parallel.MATMUL_BLOCK):  # together runs them one after the other
            continue
        start, end = spans[0][0], spans[-1][1]
        parts = [[run for run in runs[first:stop] if run is not None] for first, stop in spans]
        runs[start:end] = [None] * (end - start)
        last[start:end] = [end - 1] * (end - start)
        inner = any(s[0][0] <= start and end <= s[-1][1] and s is not spans for s in spans_of)
        handed_on = [] if inner else [(first, stop) for first, stop in spans if first < stop][1:]
        if not handed_on or any(entries[k][0] in ("call", "accumulate") for a, b in handed_on for k in range(a, b)):
            runs[start] = functools.partial(parallel.together, work, *[_in_order(p) for p in parts if p])
            continue
        slot = []
        slots.append(slot)
        runs[start] = functools.partial(_start_laters, work, [_in_order(p) for p in parts if p], slot)
        made = {id(array) for first, stop in handed_on for k in range(first, stop) for array in _made(entries[k])}
        j = _first_reader(entries, made, end, calls | moved_from, views, group_of)
        joins[j].append(functools.partial(_join, slot))
        for first, stop in handed_on:
            last[first:stop] = [j] * (stop - first)
    done = _last_reads(recording, cells, last)
    program = []
    for i in range(n + 1):
        program += joins[i] + moved[i]
        if i < n and runs[i] is not None:
            program.append(runs[i])
        if done.get(i):  # as eager frees what backward has used, a cell lets go of its array
            program.append(functools.partial(_release, done[i]))
    return program, slots


def _constants(recording):
    """The calls that make the same values every time (mg.ones_like(x), mg.zeros(3), ...), by entry
    index, whose arrays the step neither returns nor hands to anything that may write into them
    (only ops and closed forms read them later): the recorded array keeps the values, and the
    replay need not make them again."""
    entries = recording.entries
    makers = {vars(minigrad)[name]: int(name.endswith("_like")) for name in CONSTANT}  # -> tensor arguments
    returned = list(_arrays_in(recording.result))
    found = []
    for k, entry in enumerate(entries):
        if entry[0] != "call" or makers.get(entry[1]) != len(entry[3]):
            continue
        result = entry[7]
        if not isinstance(result, Tensor) or result.requires_grad or not _plain(entry[6] + list(entry[5].values())):
            continue
        xp = backend.array_module(result.array)
        writers = [e[3] for e in entries[k + 1:] if e[0] == "accumulate" or e[0] == "call" and e[1] not in makers]
        if not any(xp.may_share_memory(result.array, a) for arrays in writers + [returned] for a in arrays):
            found.append(k)
    return found


def _plain(values):
    """Whether values are Python numbers, strings, dtypes and devices, or lists of them: no array."""
    for v in values:
        if isinstance(v, (list, tuple)):
            if not _plain(v):
                return False
        elif not (v is None or isinstance(v, (bool, int, float, str, np.generic, np.dtype, type, backend.Device))):
            return False
    return True


def _barrier_calls(entries):
    """The calls that may read or write anything (an optimiser's step, zero_grad, a fill in place),
    by entry index; creating a tensor only reads its tensor arguments."""
    plain = {vars(minigrad)[name] for name in CREATION if name in vars(minigrad)}
    plain |= {vars(functional)[name] for name in FUNCTIONAL}
    return {k for k, entry in enumerate(entries) if entry[0] == "call" and entry[1] not in plain}


def _reads(entry):
    """The ids of the arrays an entry reads."""
    kind = entry[0]
    if kind == "op":
        return {id(a) for a in entry[3]} | {id(v) for v in entry[7].values() if backend.is_array(v)}
    if kind == "closed_form":
        return {id(a) for a in entry[3]} | {id(a) for a in _arrays_in(list(entry[4].values()))}
    return {id(a) for a in entry[3]}


def _made(entry):
    """The arrays an entry makes: an op's output and what it saved (not its inputs), a closed form's
    gradients."""
    if entry[0] == "op":
        return [entry[5]] + [v for v in entry[6].values() if not any(v is a for a in entry[3])]
    if entry[0] == "closed_form":
        return [g for g in entry[5] if g is not None]
    return []


def _first_reader(entries, made, start, skipped, views, group_of):
    """Where the tape must wait for Laters that make `made`: before the first entry from `start`
    on that reads one of them (before the group it runs in, for an entry of calls run at once);
    else at the end. A view of what they make is what they make. At a call that may read anything
    (`skipped` holds them, and the accumulations moved to the end of their stretch, which is such
    a call or the end) it waits in any case. `group_of`: where an entry of calls run at once runs."""
    for k in range(start, len(entries)):
        entry = entries[k]
        if k in skipped:
            if entry[0] == "call":
                return k
            continue
        if _reads(entry) & made:
            if k in views:
                made.add(id(entry[5]))
                continue
            return group_of.get(k, k)
    return len(entries)


def _to_stretch_ends(entries, calls, recording, views, n):
    """(k, e): entry k runs at e instead, the end of its stretch between calls that may read
    anything, in the recorded order: each gradient added into a leaf's .grad, and each op whose
    results only those additions (or other such ops) read (the sum of a weight's gradients from two
    uses). A stretch whose gradients something reads (or that adds one inside calls run at once)
    keeps its entries where they are."""
    inside = {k for _, spans in recording.together for k in range(spans[0][0], spans[-1][1])}
    returned = {id(a) for a in _arrays_in(recording.result)}
    readers = {}
    for k, entry in enumerate(entries):
        for key in _reads(entry):
            readers.setdefault(key, []).append(k)
    ends = sorted(calls) + [n]
    moves, begin = [], 0
    for e in ends:
        stretch = [k for k in range(begin, e) if entries[k][0] == "accumulate"]
        if stretch and not inside.intersection(stretch):
            grads = set().union(*(_reads(entries[k]) for k in stretch))
            grads |= {id(entries[k][1].grad.array) for k in stretch if entries[k][1].grad is not None}
            if not any(entries[k][0] != "accumulate" and (_reads(entries[k]) & grads or _reads_grads(entries[k]))
                       for k in range(stretch[0], e)):
                moving = set(stretch)
                for k in range(e - 1, begin - 1, -1):  # last first: an op's readers are decided before it
                    if entries[k][0] == "op" and k not in inside and not entries[k][1].draws_random and all(
                            id(a) not in returned and set(readers.get(id(a), ())) <= moving
                            for a in _made(entries[k])):
                        moving.add(k)  # (a view is moved with what it views: it runs nowhere)
                moves += [(k, e) for k in sorted(moving) if k not in views]
        begin = e + 1
    return moves


def _start_laters(work, calls, slot):
    """The first of calls here; the others on the pool as Laters (parallel.together in a backward
    pass), kept in slot until a join waits for them."""
    with parallel.later_results(True):
        results = parallel.together(work, *calls)
    slot.extend(result for result in results if result is not None)


def _join(slot):
    for later in slot:
        later.result()
    slot.clear()


def _last_reads(recording, cells, last):
    """{entry index: the cells read for the last time there (or made there and never read)}."""
    at = {}
    for i, entry in enumerate(recording.entries):
        for key in [id(a) for a in _arrays_in(entry[5])] if entry[0] in ("op", "closed_form") else ():
            if key in cells:
                at[key] = max(at.get(key, last[i]), last[i])
        if entry[0] == "op":
            for key in [id(a) for a in entry[6].values()] + [id(v) for v in entry[7].values() if backend.is_array(v)]:
                if key in cells:
                    at[key] = max(at.get(key, last[i]), last[i])
        if entry[0] == "closed_form":  # its state: what the op's forward saved, its inputs
            for key in [id(a) for a in _arrays_in(list(entry[4].values()))]:
                if key in cells:
                    at[key] = max(at.get(key, last[i]), last[i])
        for key in [id(a) for a in entry[3]]:
            if key in cells:
                at[key] = max(at.get(key, last[i]), last[i])
    done = {}
    for key, i in at.items():
        done.setdefault(i, []).append(cells[key])
    return done


def _release(cells):
    for cell in cells:
        cell[0] = None


def _in_order(runs):
    def run():
        for r in runs:
            r()
    return run


def _signature(recording):
    """What _compare needs of a recording, without the arrays the call made: (together, entries),
    each entry (kind, what, names, details). The first recording is kept as this while the second
    is made, so that a capture does not hold every array of two calls at once."""
    entries = []
    for entry in recording.entries:
        kind, what, names = entry[:3]
        if kind == "op":  # its Function's type, plain arguments and output shape
            what, details = type(what), (entry[4], entry[5].shape)
        elif kind == "call":  # the function called, its keyword and other arguments
            details = (entry[5], entry[6])
        else:  # a closed form: its Function's type; an accumulation: its leaf
            what, details = (type(what) if kind == "closed_form" else what), None
        entries.append((kind, what, names, details))
    return recording.together, entries


def _compare(first, second):
    """Raise Refused unless the two recordings (their signatures) did the same thing."""
    (together_a, first), (together_b, second) = first, second
    if together_a != together_b:
        raise Refused("its two recorded calls ran different gradients at once")
    if len(first) != len(second):
        raise Refused(f"its two recorded calls ran {len(first)} and {len(second)} operations")
    for i, (a, b) in enumerate(zip(first, second)):
        what = type(a[1]) if a[0] == "accumulate" else a[1]
        same_what = a[1] == b[1] if a[0] == "call" else a[1] is b[1]
        if a[0] == b[0] == "accumulate" and not same_what:
            raise Refused(f"backward adds into the .grad of a tensor of shape {tuple(a[1].shape)} made in the step "
                          f"(requires_grad_() on a new tensor each call), which a tape cannot follow; differentiate "
                          f"it with autograd.grad, or make it outside the step")
        if a[0] != b[0] or not same_what or len(a[2]) != len(b[2]):
            raise Refused(f"its two recorded calls differ at operation {i} ({getattr(what, '__qualname__', what)})")
        for name_a, name_b in zip(a[2], b[2]):
            _compare_names(name_a, name_b, what)
        if a[0] == "op" and (not _same(a[3][0], b[3][0]) or a[3][1] != b[3][1]):
            raise Refused(f"{what.__name__} had other arguments or shapes in its two recorded calls")
        if a[0] == "call" and not _same(a[3], b[3]):
            raise Refused(f"{what.__qualname__} was called with other arguments in its two recorded calls (values "
                          f"made on the host, from data?)")


def _compare_names(a, b, what):
    if a[0] != "outside" or b[0] != "outside":
        if a != b:
            raise Refused(f"{getattr(what, '__name__', what)} read other arrays in its two recorded calls")
        return
    x, y = a[1], b[1]
    if x is y:
        return  # the same array from outside (a parameter), read as it is when replayed
    if x.size <= 1 and x.shape == y.shape and x.dtype == y.dtype and bool((x == y).all()):
        return  # a constant made in the step (a scalar operand, backward's seed of ones)
    raise Refused(f"{getattr(what, '__name__', what)} reads an array of shape {tuple(x.shape)} made outside "
                  f"minigrad's ops (by NumPy, mg.tensor(...), or an op's own arithmetic), new in each call; "
                  f"pass it to the step as an argument")


def _same(a, b):
    """Equality of recorded arguments, arrays included."""
    if backend.is_array(a) or backend.is_array(b):
        return a is b or (backend.is_array(a) and backend.is_array(b) and a.shape == b.shape and a.dtype == b.dtype
                and bool((a == b).all()))
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return a is b
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:
        return a is b


def _private(recording):
    """The arrays only the tape's own entries read, by name: an op's output or a value it saved,
    not returned, not viewed, not read through a Tensor by a call (its tensor arguments). Each
    call's new array for one of them is handed on in a cell, as eager hands it on, instead of
    being copied into the recorded array (copies are the cost of a tape at larger batches: a
    weight gradient, an activation). A fused op's closed form reads its state (what its forward
    saved, its input tensors) from the cells too (`_closed_form_runner`); an array in that state
    that the tape did not make by name (a view made in forward) holds whatever recorded array it
    shares memory with."""
    held = {id(a) for a in _arrays_in(recording.result)}
    for entry in recording.entries:
        if entry[0] == "op" and _shares(entry[5], entry[3]) and not _reads_grads(entry):
            held.update(id(a) for a in entry[3])  # a view reads its input's recorded array
            held.add(id(entry[5]))
        elif entry[0] == "closed_form":
            for value in entry[4].values():
                for a in _arrays_in(value):
                    if not _follows_cells(value) or id(a) not in recording.origin:
                        xp = backend.array_module(a)
                        held.update(id(k) for k in recording.keep if k is a or xp.may_share_memory(a, k))
        elif entry[0] == "call":
            held.update(id(a) for a in entry[3])
            held.update(id(a) for a in _arrays_in(entry[7]))
    return {key for key, name in recording.origin.items() if name[0] in ("op", "saved") and key not in held}


def _reads_grads(entry):
    """Whether an entry reads a leaf's .grad (a name ("grad", k)): what adds into it must have added
    (_to_stretch_ends); a view of it is made again from the .grad of each call, into a cell."""
    return any(name[0] == "grad" for name in entry[2])


def _arrays_in(value):
    """The arrays in value (an array, a Tensor, or lists, tuples and dicts of them)."""
    if backend.is_array(value):
        yield value
    elif isinstance(value, Tensor):
        yield value.array
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _arrays_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _arrays_in(v)


def _runner(entry, cells, grad_leaves):
    """The replay of one entry: a function of no arguments. An array in `cells` is not copied into
    its recorded place: the op that makes it puts it in its cell, where the next entry takes it. A
    leaf's .grad read (name ("grad", k)) is read as it is then: grad_leaves[k].grad."""
    kind = entry[0]
    if kind == "op":
        live = {k: _LiveGrad(grad_leaves[name[1]]) for k, name in enumerate(entry[2]) if name[0] == "grad"}
        return _op_runner(*entry[1:], cells, live)
    if kind == "closed_form":
        return _closed_form_runner(*entry[1:], cells)
    if kind == "accumulate":
        leaf, _, (grad,), copied = entry[1:]
        sink = IntoLeaves.__new__(IntoLeaves)
        sink.given = {id(grad)} if copied else set()
        if id(grad) not in cells:
            return functools.partial(IntoLeaves.add_into, sink, leaf, grad)
        cell = cells[id(grad)]

        def run():
            new = cell[0]
            if leaf.grad is None and not copied and new.flags.owndata:
                leaf.grad = Tensor._wrap(new, False)  # a new gradient, adopted as add_into adopts it
            else:
                sink.given = {id(new)} if copied else set()  # (as add_into's caller gives it, each call)
                IntoLeaves.add_into(sink, leaf, new)
        return run
    function, _, arrays, args, kwargs, others, result, grads = entry[1:]
    if grads:  # p.grad.mul_(s): the .grad of this call (p.grad.data.zero_(): a tensor on its memory)
        fixed = list(args)
        live = [(position, grad_leaves[k], itself, args[position].requires_grad)
                for position, (k, itself) in grads.items()]

        def call(*_, **kwargs):
            for position, leaf, itself, requires_grad in live:
                fixed[position] = leaf.grad if itself else Tensor._wrap(leaf.grad.array, requires_grad)
            try:
                return function(*fixed, **kwargs)
            finally:
                for position, *_ in live:
                    fixed[position] = None
    else:
        call = function
    if not isinstance(result, Tensor) or any(result.array is a for a in arrays):  # (an in-place call's self)
        return functools.partial(call, *args, **kwargs)
    out = result.array
    copyto = backend.array_module(out).copyto

    def run():
        copyto(out, call(*args, **kwargs).array)
    return run


class _LiveGrad:
    """A leaf's .grad array as it is when read (cell[0], as a cell hands on its array)."""

    def __init__(self, leaf):
        self.leaf = leaf

    def __getitem__(self, _):
        return self.leaf.grad.array


def _shares(out, arrays):
    """Whether an op's output is one of its inputs (an identity) or a view of one: then it sees the
    input's new values by itself, and the op needs no replay."""
    if any(out is a for a in arrays):
        return True
    xp = backend.array_module(out)
    return out.base is not None and any(xp.may_share_memory(out, a) for a in arrays)


def _op_runner(fn, names, arrays, plain, out, saved, params, cells, live):
    if _shares(out, arrays) and not live:
        return None
    if live and id(out) not in cells and _shares(out, arrays):
        raise Refused(f"it reads a .grad through a view ({type(fn).__name__}) that something else holds or views "
                      f"again, which a tape would not see change")
    xp = backend.array_module(out)
    forward, copyto, shape = fn.forward, xp.copyto, out.shape
    array_params = [key for key, v in params.items() if backend.is_array(v)]  # (read after the inputs)
    sources = {k: live.get(k, cells.get(id(a))) for k, a in enumerate(arrays)}
    sources.update({key: live.get(len(arrays) + j, cells.get(id(params[key]))) for j, key in enumerate(array_params)})
    cell_inputs = [(k, sources[k]) for k in range(len(arrays)) if sources[k] is not None]
    cell_params = [(key, sources[key]) for key in array_params if sources[key] is not None]
    inputs = [None if sources[k] is not None else a for k, a in enumerate(arrays)]  # (cells' arrays are let go)
    params = {key: None if key in array_params and sources[key] is not None else v for key, v in params.items()}
    out_cell = cells.get(id(out))
    if out_cell is not None:
        out = None
    cell_state = [(attribute, cells[id(a)]) for attribute, a in saved.items() if id(a) in cells]
    copied_state = [(attribute, a) for attribute, a in saved.items() if id(a) not in cells]
    saved = None
    kept = fn.__dict__
    for attribute, _ in cell_state:  # the recorded call's value: the cell hands on each call's own
        kept[attribute] = None

    def run():
        for k, cell in cell_inputs:
            inputs[k] = cell[0]
        for key, cell in cell_params:
            params[key] = cell[0]
        new = forward(*inputs, **params)
        for k, _ in cell_inputs:  # the cells hold them until their last readers, not this runner
            inputs[k] = None
        for key, _ in cell_params:
            params[key] = None
        if new.shape != shape:
            raise RuntimeError(f"mg.compile: {type(fn).__name__} gave shape {tuple(new.shape)} where the recorded step "
                               f"had {tuple(shape)}; its output's shape depends on the data, which a tape cannot "
                               f"replay")
        if out_cell is None:
            copyto(out, new)
        else:
            out_cell[0] = backend.as_array(new)
        for attribute, cell in cell_state:  # the cell holds it until its last reader, not the Function
            cell[0], kept[attribute] = kept[attribute], None
        for attribute, buffer in copied_state:  # what backward reads keeps its recorded array
            value = kept[attribute]
            if value is not buffer:
                copyto(buffer, value)
                kept[attribute] = buffer
    return run


def _follows_cells(value):
    """Whether a closed form's state value can be read from the cells at replay (`_from_cells`): an
    array, a Tensor, or a list or tuple of them (the op's inputs); not a dict or a nested list."""
    if isinstance(value, dict):
        return False
    if isinstance(value, (tuple, list)):
        return all(backend.is_array(v) or isinstance(v, Tensor) or not list(_arrays_in(v)) for v in value)
    return True


def _from_cells(value, cells):
    """A function giving `value` (a closed form's state) with each array in it that is in a cell
    replaced by the cell's array of this call; None when nothing in it is in a cell."""
    if backend.is_array(value):
        cell = cells.get(id(value))
        return None if cell is None else (lambda: cell[0])
    if isinstance(value, Tensor):
        cell, grad = cells.get(id(value.array)), value.requires_grad
        return None if cell is None else (lambda: Tensor._wrap(cell[0], grad))
    if isinstance(value, (tuple, list)) and any(_from_cells(v, cells) for v in value):
        readers, kind = [_from_cells(v, cells) or (lambda v=v: v) for v in value], type(value)
        return lambda: kind(read() for read in readers)
    return None


def _closed_form_runner(fn, names, arrays, state, grads, cells):
    grad, = arrays
    grad_cell = cells.get(id(grad))
    grad = None if grad_cell is not None else grad
    targets = [(k, None if id(g) in cells else g, backend.array_module(g).copyto, cells.get(id(g)))
               for k, g in enumerate(grads) if g is not None]
    celled = [(attribute, read) for attribute, read in
              ((attribute, _from_cells(value, cells)) for attribute, value in state.items()) if read is not None]
    celled_names = {attribute for attribute, _ in celled}
    state = {attribute: value for attribute, value in state.items() if attribute not in celled_names}
    kept = fn.__dict__
    for attribute, _ in celled:  # the recorded call's arrays: the cells hand on each call's own
        kept[attribute] = None

    def run():
        kept.update(state)
        for attribute, read in celled:  # what this call's forward saved
            kept[attribute] = read()
        new = fn.closed_form(grad if grad_cell is None else grad_cell[0])
        for attribute, _ in celled:  # held until the cells' last readers, not by the Function
            kept[attribute] = None
        new = new if type(new) is tuple else (new,)
        for k, buffer, copyto, cell in targets:
            if cell is None:
                copyto(buffer, new[k])
            else:
                cell[0] = backend.as_array(new[k])
    return run
