"""The optimiser base class: parameter groups, flat buffers, zero_grad, state_dict.

Speed comes from doing each update as a handful of vectorised, in-place array
operations over ALL parameters of a group at once, instead of a Python loop of
small temporaries per parameter. For that, each group keeps

    values   one contiguous array holding every parameter, back to back; each
             parameter's .data becomes a view into it, so updating `values`
             updates the parameters
    grads    a same-sized array the gradients are gathered into (on a GPU, and for the
             parameter-by-parameter path below)
    state    same-sized arrays for the optimiser's state (Adam's moments, ...)
    scratch  one same-sized array for temporaries

On the CPU a step runs the update block by block over these buffers, on every core
(FlatGroup.update_in_blocks). Where a compiled loop does an optimiser's update in one pass
(minigrad.kernels, with numba), it runs on each parameter's views instead (FlatGroup.update_each).

If a parameter's .data is replaced (module.to(device), .double(), p.array = ...),
the next step notices and re-gathers the group. A parameter with no .grad is
skipped, as in PyTorch; the group is then updated parameter by parameter, on
views of the same buffers.
"""

import bisect
import math
import numbers
import warnings

import numpy as np

from .. import autograd, backend, kernels, parallel
from ..tensor import Tensor


# Flags that state dicts saved before they existed lack: filled in from the defaults when loading.
# (foreach, capturable and fused choose how PyTorch runs an update, multi-tensor or fused kernels or
# CUDA-graph capture, not what it computes: minigrad accepts and stores them, as PyTorch, and ignores them.)
OPTIONAL_FLAGS = ("amsgrad", "maximize", "foreach", "capturable", "differentiable", "fused", "decoupled_weight_decay")


def check_flags(optimizer, group):
    """Refuse what minigrad does not do: differentiable=True (a graph through the update itself)."""
    if group.get("differentiable"):
        raise NotImplementedError(f"{optimizer}: differentiable=True (recording the update itself for autograd) is "
                                  f"not supported; see docs/differences.md")


def check_number(optimizer, name, value, minimum=0.0, below=None):
    """Refuse a hyper-parameter that is not a real number, is nan, or is out of range, naming it.

    (Without this, lr="0.1" fails much later with "'<' not supported", and lr=nan trains to nan.)"""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{optimizer}: {name} must be a number, got {type(value).__name__} {value!r}")
    if math.isnan(value):
        raise ValueError(f"{optimizer}: {name} must be a number, got nan")
    if value < minimum or (below is not None and value >= below):
        expected = f">= {minimum:g}" if below is None else f"in [{minimum:g}, {below:g})"
        raise ValueError(f"{optimizer}: {name} must be {expected}, got {value}")


class FlatGroup:
    """One parameter group's parameters and state, each stored in one flat array."""

    def __init__(self, params, state_names, initial=None):
        self.params = params
        self.state_names = tuple(state_names)
        self.initial = dict(initial or {})  # a state's starting value, where it is not 0
        self.steps = [0] * len(params)  # per parameter: how often it was updated
        self.state = None
        self.gather()

    def gather(self):
        """(Re)build `values` from the parameters and point every parameter at its slice."""
        arrays = [p.array for p in self.params]
        xp = backend.array_module(arrays[0])
        dtypes = {a.dtype for a in arrays}
        devices = {backend.device_of(a) for a in arrays}
        if len(dtypes) > 1 or len(devices) > 1:
            raise TypeError(f"an optimizer parameter group needs one dtype and device, got {sorted(map(str, dtypes))} "
                            f"on {sorted(devices)}; put differing parameters in separate groups")
        self.sizes = [a.size for a in arrays]
        self.offsets = [sum(self.sizes[:i]) for i in range(len(arrays))]
        total = sum(self.sizes)
        self.values = xp.empty(total, dtype=arrays[0].dtype)
        for p, array, start, size in zip(self.params, arrays, self.offsets, self.sizes):
            self.values[start:start + size] = array.reshape(-1)
            p.array = self.values[start:start + size].reshape(array.shape)
        self.views = [p.array for p in self.params]
        self.grads = xp.empty_like(self.values)
        self.scratch = xp.empty_like(self.values)
        if self.state is None:
            self.state = {name: xp.full_like(self.values, self.initial.get(name, 0)) for name in self.state_names}
        else:  # keep the state, moved and cast like the parameters
            self.state = {name: backend.to_device(a, backend.device_of(self.values)).astype(self.values.dtype)
                          for name, a in self.state.items()}
        self.own_parts()

    def ensure_state(self, names):
        """Add the state arrays in `names` that are missing (a group switched on amsgrad, say)."""
        xp = backend.array_module(self.values)
        for name in names:
            if name not in self.state:
                self.state[name] = xp.full_like(self.values, self.initial.get(name, 0))
                self.state_names += (name,)
                self.own_parts()

    def own_parts(self):
        """Each parameter's views of `values` and of each state array, made once (update_each reads them)."""
        self.parts = [(self.values[start:start + size], {name: a[start:start + size] for name, a in self.state.items()})
                      for start, size in zip(self.offsets, self.sizes)]

    def check_in_place(self):
        """Re-gather if some parameter's .data no longer is our view of it."""
        for p, view in zip(self.params, self.views):
            if p.array is not view:
                self.gather()
                return

    def count_versions(self):
        """The parameters changed in place: graphs that saved their old values must notice."""
        for p in self.params:
            p._version[0] += 1

    def update_in_blocks(self, update):
        """Run update(values, grads, scratch, state) over the whole group, one cache-sized block
        at a time, spread over the cores (minigrad.parallel).

        Why blocks: an update is a dozen array operations; run over the whole 12 MB buffers each
        one would stream them through memory again, while on a block that stays in the cache every
        element is read from memory and written back about once per step. The block's gradient is
        gathered straight from the parameters' .grad into a small buffer, so the full-size `grads`
        is neither written nor read. On a GPU: one call on the whole buffers.
        """
        flat_grads = [p.grad.array.reshape(-1) for p in self.params]
        for p, grad, size in zip(self.params, flat_grads, self.sizes):
            if grad.size != size:
                raise RuntimeError(f"a parameter of shape {tuple(p.shape)} has a .grad of shape "
                                   f"{tuple(p.grad.shape)}; they must match")
        if backend.array_module(self.values) is not np:
            backend.array_module(self.values).concatenate(flat_grads, out=self.grads)
            update(self.values, self.grads, self.scratch, self.state)
            return

        def update_block(start, stop):
            grads = np.empty(stop - start, dtype=self.values.dtype)
            self.gather_block(flat_grads, start, stop, grads)
            update(self.values[start:stop], grads, np.empty_like(grads),
                   {name: a[start:stop] for name, a in self.state.items()})

        parallel.for_blocks(self.values.size, update_block)

    def update_each(self, update):
        """Run update(values, grad, state, step) on each parameter that has a gradient, on its views
        of the buffers, with its own step count. For a compiled one-pass update: it reads each
        parameter's .grad where it is (only reads it), so nothing is gathered or copied. An update
        that takes parts (update.takes_parts) gets a small group whose parameters all have gradients
        and one step count in one call: the whole buffers, and the tuple of gradients."""
        steps = self.steps
        grads = [None if p.grad is None else p.grad.array for p in self.params]
        whole = getattr(update, "takes_parts", False) and self.values.size < parallel.THREADED_MIN
        for p, grad, size in zip(self.params, grads, self.sizes):
            if grad is None:
                whole = False
            elif grad.size != size:
                raise RuntimeError(f"a parameter of shape {tuple(p.shape)} has a .grad of shape "
                                   f"{tuple(p.grad.shape)}; they must match")
        if whole and steps.count(steps[0]) == len(steps):
            step = steps[0] + 1
            dtype = self.values.dtype
            update(self.values, tuple(np.ascontiguousarray(g, dtype=dtype).reshape(-1) for g in grads), self.state, step)
            self.steps = [step] * len(steps)
            return
        for i, (grad, (values, state)) in enumerate(zip(grads, self.parts)):
            if grad is None:
                continue
            steps[i] += 1
            update(values, grad.reshape(-1).astype(values.dtype, copy=False), state, steps[i])

    def gather_block(self, flat_grads, start, stop, out):
        """Copy elements start..stop of the concatenated gradients into `out`."""
        i = bisect.bisect_right(self.offsets, start) - 1  # the parameter that holds element `start`
        position = start
        while position < stop:
            end = min(stop, self.offsets[i] + self.sizes[i])
            out[position - start:end - start] = flat_grads[i][position - self.offsets[i]:end - self.offsets[i]]
            position, i = end, i + 1

    def slices(self, i):
        """Parameter i's views of values, grads, scratch and each state array."""
        part = slice(self.offsets[i], self.offsets[i] + self.sizes[i])
        values, state = self.parts[i]
        return values, self.grads[part], self.scratch[part], dict(state)


class Optimizer:
    """Base class. Subclasses set `state_names` and define `update(...)` on flat arrays."""

    state_names = ()

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self._flat = []
        if isinstance(params, Tensor):
            raise TypeError(f"params argument given to the optimizer should be an iterable of Tensors or dicts, but "
                            f"got a Tensor of shape {tuple(params.shape)} (pass [tensor] or model.parameters())")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a group of parameters (a dict with "params" and any hyper-parameters to override).

        As PyTorch: a parameter listed twice in the group gives a warning and is kept once; a parameter
        that already is in another group is an error."""
        group = dict(group)
        params = group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("optimizer can't optimize a non-leaf Tensor (one computed from others)")
        unique = list({id(p): p for p in params}.values())
        if len(unique) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will cause "
                          "an error; see github.com/pytorch/pytorch/issues/40967 for more information", UserWarning,
                          stacklevel=3)
            params = unique
        known = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in known for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.check_hyper_parameters(group)
        check_flags(type(self).__name__, group)
        group["params"] = params
        self.param_groups.append(group)
        self._flat.append(FlatGroup(params, self.group_state_names(group), self.initial_state(group)))

    def group_state_names(self, group):
        """The state arrays a group keeps (Adam keeps max_exp_avg_sq only with amsgrad)."""
        return self.state_names

    def initial_state(self, group):
        """{state name: starting value} for states that do not start at 0 (Adagrad's sum)."""
        return {}

    def check_hyper_parameters(self, group):
        """Raise TypeError / ValueError for a bad value in `group` (subclasses check their own)."""

    def zero_grad(self, set_to_none=True):
        autograd.zero_grad((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        """One update of every parameter that has a gradient. `closure`, if given, re-computes the loss
        (and gradients) first and its loss is returned, as PyTorch."""
        loss = None
        if closure is not None:
            with autograd.enable_grad():
                loss = closure()
        for group, flat in zip(self.param_groups, self._flat):
            flat.check_in_place()
            flat.ensure_state(self.group_state_names(group))
            one_pass = self.one_pass_update(group) if kernels.compiles(flat.values) else None
            if one_pass is not None:
                flat.update_each(one_pass)
                flat.count_versions()
                continue

            def update(values, grads, scratch, state, step, group=group):
                if group.get("maximize"):  # ascend: the update of -grad
                    backend.array_module(grads).negative(grads, out=grads)
                self.update(values, grads, scratch, state, step, group)

            if all(p.grad is not None for p in flat.params) and len(set(flat.steps)) == 1:
                step = flat.steps[0] + 1
                flat.update_in_blocks(lambda values, grads, scratch, state: update(values, grads, scratch, state, step))
                flat.steps = [step] * len(flat.params)
            else:  # some parameters have no grad, or differ in step count: one at a time
                for i, p in enumerate(flat.params):
                    if p.grad is None:
                        continue
                    values, grads, scratch, state = flat.slices(i)
                    grads[...] = p.grad.array.reshape(-1)
                    flat.steps[i] += 1
                    update(values, grads, scratch, state, flat.steps[i])
            flat.count_versions()
        return loss

    def update(self, values, grads, scratch, state, step, group):
        """Update `values` in place from `grads`; all are flat arrays of the same size.
        `grads` and `scratch` are the optimiser's own and may be overwritten."""
        raise NotImplementedError

    def one_pass_update(self, group):
        """update()'s work as one compiled loop (minigrad.kernels), called as
        update(values, grad, state, step) on one parameter, reading `grad` only and handling
        maximize itself; or None, where the optimiser has none for this group (the default)."""
        return None

    # --- saving and loading -------------------------------------------------------------

    def state_dict(self):
        """{"state": {index: {"step": n, name: array, ...}}, "param_groups": [{hyper-parameters, "params": [indices]}]},
        laid out as PyTorch's, with one entry per parameter that has been updated."""
        state, groups, index = {}, [], 0
        for group, flat in zip(self.param_groups, self._flat):
            indices = []
            for i, p in enumerate(flat.params):
                if flat.steps[i] > 0:
                    _, _, _, slices = flat.slices(i)
                    entry = {"step": flat.steps[i]}
                    entry.update({name: Tensor._wrap(a.reshape(p.shape), False) for name, a in slices.items()})
                    state[index] = entry
                indices.append(index)
                index += 1
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": indices})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state saved by state_dict() (copied into our buffers).

        Everything is checked before anything is written, so a state dict that does not fit (another
        optimiser's, another model's, not a state dict at all) raises and changes nothing."""
        groups, state = self._checked_state_dict(state_dict)
        for saved, group, flat in zip(groups, self.param_groups, self._flat):
            group.update({k: v for k, v in saved.items() if k != "params"})
            flat.check_in_place()
            flat.ensure_state(self.group_state_names(group))
            for i, index in enumerate(saved["params"]):
                entry = state.get(int(index))
                flat.steps[i] = int(entry["step"]) if entry else 0
                _, _, _, slices = flat.slices(i)
                for name, target in slices.items():
                    value = entry.get(name) if entry else None
                    if value is None:
                        target[...] = flat.initial.get(name, 0)
                    else:
                        target[...] = backend.to_device(value, backend.device_of(target)).reshape(-1)

    def _checked_state_dict(self, state_dict):
        """(groups, {index: entry}) from a state dict, each value checked; raise on the first problem."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            what = type(state_dict).__name__ if not isinstance(state_dict, dict) else f"a dict with keys {sorted(state_dict)}"
            raise TypeError(f"{name}.load_state_dict expects what state_dict() returns, a dict with keys 'state' and "
                            f"'param_groups'; got {what}")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not all(isinstance(g, dict) and "params" in g
                                                                  for g in saved_groups):
            raise TypeError(f"{name}.load_state_dict: 'param_groups' must be a list of dicts with 'params'")
        if not isinstance(saved_state, dict):
            raise TypeError(f"{name}.load_state_dict: 'state' must be a dict, got {type(saved_state).__name__}")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, this optimizer has "
                             f"{len(self.param_groups)}")
        groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"loaded state dict has a group of {len(saved['params'])} parameters where this "
                                 f"optimizer has {len(group['params'])}")
            missing = sorted(set(self.defaults) - set(OPTIONAL_FLAGS) - set(saved))
            if missing:
                raise ValueError(f"{name}.load_state_dict: the saved parameter group has no {', '.join(missing)}: "
                                 f"it holds {', '.join(sorted(k for k in saved if k != 'params'))}, so it was saved "
                                 f"by another kind of optimizer")
            saved = {k: (tuple(v) if isinstance(v, list) and k != "params" else v) for k, v in saved.items()}
            saved = {**{k: v for k, v in self.defaults.items() if k in OPTIONAL_FLAGS}, **saved}
            self.check_hyper_parameters(saved)
            check_flags(name, saved)
            groups.append(saved)
        state = {}
        for key, entry in saved_state.items():
            if not isinstance(entry, dict) or "step" not in entry:
                raise TypeError(f"{name}.load_state_dict: state of parameter {key} must be a dict with a 'step'")
            unknown = sorted(set(entry) - {"step"} - set(self.state_names))
            if unknown:
                raise ValueError(f"{name}.load_state_dict: state of parameter {key} holds {', '.join(unknown)}, "
                                 f"which {name} does not keep (it keeps {', '.join(self.state_names)}): it was "
                                 f"saved by another kind of optimizer")
            state[int(key)] = {k: (v.array if isinstance(v, Tensor) else v) for k, v in entry.items()}
        for saved, flat in zip(groups, self._flat):
            for i, index in enumerate(saved["params"]):
                for state_name, value in state.get(int(index), {}).items():
                    if state_name != "step" and value is not None and value.size != flat.sizes[i]:
                        raise ValueError(f"state {state_name!r} of parameter {index} has {value.size} elements, "
                                         f"the parameter has {flat.sizes[i]}")
        return groups, state

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"
