"""Module, Parameter and the containers (Sequential, ModuleList, ModuleDict, ParameterList,
ParameterDict): the bookkeeping behind every network.

A Module keeps three registries, filled automatically when you assign attributes:

    self.fc = nn.Linear(3, 4)          -> _modules["fc"]
    self.w = nn.Parameter(...)         -> _parameters["w"]
    self.register_buffer("mean", t)    -> _buffers["mean"]  (state that is not trained)

and walks them for parameters(), state_dict(), to(device), train()/eval(), ...

The book's models define their own `train(self, inputs, targets)` method. That is
fine here: minigrad never calls `train()` on your modules to switch modes; it
uses `set_training_mode(module, mode)`, which `Module.train(mode)` and `eval()`
also use.
"""

import itertools
import numbers
from collections import OrderedDict, namedtuple
from collections.abc import Iterable, Mapping

import numpy as np

from .. import autograd, backend
from ..autograd import no_grad
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module's trainable weight: requires grad, and is registered
    in parameters() when assigned to a Module attribute."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data.array if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns, as PyTorch: (missing_keys, unexpected_keys)."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


IncompatibleKeys = _IncompatibleKeys


class RemovableHandle:
    """What register_*_hook returns: handle.remove() takes the hook away (also as a `with` block)."""

    _ids = itertools.count()

    def __init__(self, hooks):
        self.hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self):
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def set_training_mode(module, mode=True):
    """Put `module` and everything inside it in training (True) or evaluation (False) mode.

    Dropout and BatchNorm read `.training`. This never calls a module's own train().
    """
    for m in module.modules():
        object.__setattr__(m, "training", bool(mode))
    return module


class Module:
    """Base class of every layer and network. Subclasses define forward()."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_hooks_with_kwargs", set())  # ids of hooks that take and give kwargs
        object.__setattr__(self, "training", True)

    # --- registration by attribute assignment -------------------------------------------

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:  # before Module.__init__: plain values are fine, as PyTorch
            if isinstance(value, (Parameter, Module)):
                raise AttributeError(f"call super().__init__() in {type(self).__name__}.__init__ "
                                     f"before assigning {'parameters' if isinstance(value, Parameter) else 'submodules'}")
            object.__setattr__(self, name, value)
            return
        if isinstance(value, (Parameter, Module)):
            registry = self._parameters if isinstance(value, Parameter) else self._modules
            self._forget(name, keep=registry)
            registry[name] = value
        elif name in self._parameters or name in self._modules:
            if value is not None:  # as PyTorch: silently un-registering a weight would hide it
                kind = "parameter" if name in self._parameters else "submodule"
                raise TypeError(f"cannot assign a {type(value).__name__} to {kind} {name!r} of "
                                f"{type(self).__name__} (a {'Parameter' if kind == 'parameter' else 'Module'} "
                                f"or None is expected)")
            (self._parameters if name in self._parameters else self._modules)[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign a {type(value).__name__} to buffer {name!r} "
                                f"(a Tensor or None is expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep=None):
        """Drop `name` from every registry but `keep` (where a replaced entry keeps its place, so
        the order of parameters(), which optimiser state dicts rely on, does not change)."""
        for registry in (self._parameters, self._buffers, self._modules, self.__dict__):
            if registry is not keep:
                registry.pop(name, None)

    def __getattr__(self, name):  # only called when normal lookup fails
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}")
        self._forget(name, keep=self._parameters)  # else an attribute `self.bias = None` would hide it
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """State that belongs to the module but is not trained (e.g. BatchNorm's running mean)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if persistent:  # re-registering a name may make a non-persistent buffer persistent again
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Register `module` (a Module or None) as the submodule `name`."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at a dotted path ("encoder.layers.0"); "" is the module itself."""
        module = self
        if target == "":
            return module
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def get_parameter(self, target):
        """The parameter at a dotted path ("encoder.layers.0.weight")."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target):
        """The buffer at a dotted path ("bn.running_mean")."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    def __dir__(self):
        """Attributes, plus the names of parameters, buffers and submodules (for tab completion)."""
        return sorted(set(object.__dir__(self)) | set(self._parameters) | set(self._buffers) | set(self._modules))

    # --- running it -------------------------------------------------------------------

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args, kwargs):
        """forward, with each pre-hook before it (it may replace the arguments) and each forward
        hook after it (it may replace the output), in the order registered, as PyTorch."""
        for key, hook in list(self._forward_pre_hooks.items()):
            if key in self._hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {result}.")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for key, hook in list(self._forward_hooks.items()):
            result = hook(self, args, kwargs, output) if key in self._hooks_with_kwargs else hook(self, args, output)
            if result is not None:
                output = result
        return output

    def _add_hook(self, hooks, hook, prepend, with_kwargs):
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        if with_kwargs:
            self._hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) runs before forward and may return new args (a tuple, or one value);
        with_kwargs=True: hook(module, args, kwargs) may return (args, kwargs). Returns a handle
        whose remove() takes the hook away."""
        return self._add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args, output) runs after forward and may return a new output;
        with_kwargs=True: hook(module, args, kwargs, output). Returns a handle with remove().

            activations = {}
            model.fc.register_forward_hook(lambda m, args, out: activations.update(fc=out.detach()))
        """
        return self._add_hook(self._forward_hooks, hook, prepend, with_kwargs)

    def register_full_backward_hook(self, hook, prepend=False):
        """Not supported: a hook on the gradients of a module's inputs needs the module's inputs and
        outputs wrapped in graph nodes of their own, which minigrad does not make."""
        raise NotImplementedError("register_full_backward_hook is not supported in minigrad; keep the module's "
                                  "output with a forward hook and take its gradient with mg.autograd.grad; see "
                                  "docs/differences.md")

    register_backward_hook = register_full_backward_hook

    # --- walking the tree -------------------------------------------------------------

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and all inside it, depth first; a module reached twice
        (shared) is listed once unless remove_duplicate=False. `memo`: a set of modules to skip
        (it is added to, as PyTorch)."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if module in memo:
                continue
            if remove_duplicate:
                memo.add(module)
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """(name, module) for each direct submodule, each once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) for every parameter, each once even if shared (unless
        remove_duplicate=False); recurse=False: this module's own only."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call fn(m) on every submodule, then on self (children first, as PyTorch); returns self.

            def weights_init(m):                     # the DCGAN tutorial's initialisation
                if isinstance(m, nn.Conv2d):
                    nn.init.normal_(m.weight, 0.0, 0.02)
            netG.apply(weights_init)
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes, gradients, devices ------------------------------------------------------

    def train(self, mode=True):
        """Training mode (Dropout active, BatchNorm uses batch statistics). Returns self."""
        return set_training_mode(self, mode)

    def eval(self):
        """Evaluation mode: same as set_training_mode(self, False); never calls a subclass's train()."""
        return set_training_mode(self, False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        autograd.zero_grad(self.parameters(), set_to_none)

    def _apply(self, convert):
        """Replace every parameter's and buffer's array by convert(array) (the same objects stay)."""
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None:
                    param.array = convert(param.array)
                    if param.grad is not None:
                        param.grad.array = convert(param.grad.array)
            for buffer in module._buffers.values():
                if buffer is not None:
                    buffer.array = convert(buffer.array)
        return self

    def to(self, device=None, dtype=None):
        """Move parameters and buffers to a device and/or floating dtype, in place. Returns self."""
        if isinstance(device, (type, np.dtype)):
            device, dtype = None, device
        if device is not None:
            device = backend.normalize_device(device)
            self._apply(lambda a: backend.to_device(a, device))
        if dtype is not None:
            self._apply(lambda a: a.astype(dtype) if a.dtype.kind == "f" else a)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(dtype=np.float32)

    def double(self):
        return self.to(dtype=np.float64)

    def half(self):
        """Floating parameters and buffers to float16 (NumPy's half: slow, for storage and tests)."""
        return self.to(dtype=np.float16)

    def type(self, dst_type):
        """Every parameter and buffer, floating or not, cast to `dst_type`, as PyTorch's Module.type."""
        dtype = np.dtype(dst_type)
        return self._apply(lambda a: a.astype(dtype))

    def share_memory(self):
        """PyTorch moves tensors to shared memory for multiprocessing; minigrad's arrays stay where they
        are (a no-op that returns self)."""
        return self

    # --- saving and loading -------------------------------------------------------------

    def state_dict(self, *, destination=None, prefix="", keep_vars=False):
        """name -> Tensor for every parameter and persistent buffer, sharing their memory (detached;
        keep_vars=True: the Parameters themselves). As PyTorch, a submodule reached under two names
        appears under both; keys start with `prefix`; entries are added to `destination` if given."""
        state = OrderedDict() if destination is None else destination
        for module_name, module in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            start = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    state[start + name] = param if keep_vars else param.detach()
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    state[start + name] = buffer if keep_vars else buffer.detach()
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into this module's parameters and buffers, in place.

        strict=True: every key must match; missing and unexpected keys are named in the error.
        A value of the wrong shape or kind is always an error naming the key. Everything is
        checked before anything is written, so a load that fails leaves the module unchanged.
        Each of these is a RuntimeError ("Error(s) in loading state_dict for ..."), as in PyTorch.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"load_state_dict expects a dict of name -> Tensor (e.g. from model.state_dict() "
                            f"or mg.load), got a {type(state_dict).__name__}")
        own = self.state_dict()
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        if strict and (missing or unexpected):
            problems = []
            if missing:
                problems.append("missing key(s): " + ", ".join(missing))
            if unexpected:
                problems.append("unexpected key(s): " + ", ".join(unexpected))
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}: " + "; ".join(problems))
        values, wrong_kind, wrong_shape = {}, [], []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.array if isinstance(value, Tensor) else value
            if isinstance(value, np.generic):
                value = np.asarray(value)
            if not backend.is_array(value) or value.dtype.kind not in "biuf":  # bool, int, float
                kind = f"dtype {value.dtype}" if backend.is_array(value) else type(value).__name__
                wrong_kind.append(f"{key} is a {kind}, not numbers that convert to {target.dtype}")
            elif tuple(value.shape) != target.shape:
                wrong_shape.append(f"{key} has shape {tuple(value.shape)} in the state_dict but {target.shape} "
                                   f"in {type(self).__name__}")
            values[key] = value
        if wrong_kind:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}: load_state_dict: "
                               + "; ".join(wrong_kind) + ". Nothing was loaded.")
        if wrong_shape:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}: load_state_dict: "
                               + "; ".join(wrong_shape) + ". Nothing was loaded.")
        with no_grad():
            for key, value in values.items():
                target = own[key]
                target.copy_(backend.to_device(value, target.device).astype(target.dtype, copy=False))
        return _IncompatibleKeys(missing, unexpected)

    # --- printing -----------------------------------------------------------------------

    def extra_repr(self):
        """What goes inside the parentheses of this module's repr (layers override it)."""
        return ""

    def __repr__(self):
        """As PyTorch: a one-line extra_repr() inside the parentheses; otherwise extra_repr()'s lines and
        then each submodule, indented on lines of their own."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _indent(repr(module)) for name, module in self._modules.items()]
        if len(extra_lines) == 1 and not child_lines:
            return f"{type(self).__name__}({extra})"
        if not extra_lines and not child_lines:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(" + "\n  " + "\n  ".join(extra_lines + child_lines) + "\n)"


def _indent(text):
    return text.replace("\n", "\n  ")


def _index_name(container, index):
    """The registered name "k" of list position `index` (negative counts from the end), as PyTorch."""
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise TypeError(f"{type(container).__name__} indices must be integers or slices, not {type(index).__name__}")
    index = int(index)
    if not -len(container) <= index < len(container):
        raise IndexError(f"index {index} is out of range")
    return str(index % len(container))


class _NumberedModules(Module):
    """What Sequential and ModuleList share: modules registered as "0", "1", ..., used like a list."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):  # keeps the names (Sequential), so state_dict keys stay those of the whole
            return self._from_items(list(self._modules.items())[index])
        return self._modules[_index_name(self, index)]

    def __setitem__(self, index, module):
        self.add_module(_index_name(self, index), module)

    def __delitem__(self, index):
        if isinstance(index, slice):
            for name in [str(i) for i in range(len(self))[index]]:
                del self._modules[name]
        else:
            del self._modules[_index_name(self, index)]
        self._renumber()

    def _renumber(self):
        modules = list(self._modules.values())
        self._modules.clear()
        self._modules.update((str(i), module) for i, module in enumerate(modules))

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        if not isinstance(modules, Iterable):
            raise TypeError(f"{type(self).__name__}.extend should be called with an iterable, but got "
                            f"{type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Put `module` before position `index` (as list.insert; negative counts from the end)."""
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        index = index + n if index < 0 else index
        self.add_module(str(n), module)  # checks the module, then the names move up by one
        for i in range(n, index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module
        return self

    def pop(self, index=-1):
        module = self[index]
        del self[index]
        return module

    def __iadd__(self, modules):
        return self.extend(modules)

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]


class Sequential(_NumberedModules):
    """Modules applied one after another: Sequential(a, b, c)(x) = c(b(a(x))). Indexable and sliceable
    like a list; Sequential(OrderedDict(name=module, ...)) names its modules."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    @classmethod
    def _from_items(cls, items):
        return cls(OrderedDict(items))

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return Sequential().extend(itertools.chain(self, other))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._from_items(list(self._modules.items())[index])
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"Sequential indices must be integers or slices, not {type(index).__name__}")
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range")
        return list(self._modules.values())[index]  # by position: an OrderedDict's names are not numbers

    def __setitem__(self, index, module):
        self[index]  # checks the index
        self.add_module(list(self._modules)[index], module)

    def __delitem__(self, index):
        names = list(self._modules)
        for name in (names[index] if isinstance(index, slice) else [names[index]]):
            del self._modules[name]
        self._renumber()  # as PyTorch: deleting renumbers, named or not


class ModuleList(_NumberedModules):
    """A list of modules whose parameters are registered (a plain list would hide them)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    @classmethod
    def _from_items(cls, items):
        return cls([module for _, module in items])

    def __add__(self, other):
        return ModuleList(itertools.chain(self, other))


class ModuleDict(Module):
    """An ordered dict of named modules whose parameters are registered."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        """Add (or replace) from a mapping or from (name, module) pairs, in their order."""
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = modules.items()
        elif isinstance(modules, Iterable):
            pairs = []
            for i, pair in enumerate(modules):
                if not isinstance(pair, Iterable) or isinstance(pair, (str, Module)):
                    raise TypeError(f"ModuleDict update sequence element #{i} should be Iterable; is "
                                    f"{type(pair).__name__}")
                pair = list(pair)
                if len(pair) != 2:
                    raise ValueError(f"ModuleDict update sequence element #{i} has length {len(pair)}; 2 is required")
                pairs.append(pair)
        else:
            raise TypeError(f"ModuleDict.update should be called with an iterable of key/value pairs, but got "
                            f"{type(modules).__name__}")
        for key, module in pairs:
            self[key] = module


def _as_parameter(value):
    """As PyTorch's ParameterList and ParameterDict: a plain Tensor becomes a Parameter."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _describe(value):
    if isinstance(value, Tensor):
        kind = "Parameter containing" if isinstance(value, Parameter) else "Tensor"
        size = "x".join(str(n) for n in value.shape)
        device = "" if value.device == "cpu" else f" ({value.device})"
        return f"{kind}: [{value.dtype} of size {size}{device}]"
    return f"Object of type: {type(value).__name__}"


class ParameterList(Module):
    """A list of parameters, registered as "0", "1", ... (a plain list would hide them from
    parameters() and the optimiser). Tensors put in become Parameters."""

    def __init__(self, values=None):
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def __len__(self):
        return self._size

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList([self[i] for i in range(len(self))[index]])
        return getattr(self, _index_name(self, index))

    def __setitem__(self, index, value):
        name = _index_name(self, index)
        value = _as_parameter(value)
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        else:
            self._forget(name)
            object.__setattr__(self, name, value)

    def __iter__(self):
        return iter(self[i] for i in range(len(self)))

    def append(self, value):
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values):
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def extra_repr(self):
        return "\n".join(f"({i}): {_describe(value)}" for i, value in enumerate(self))


class ParameterDict(Module):
    """An ordered dict of named parameters, registered under their keys. Tensors put in become
    Parameters."""

    def __init__(self, parameters=None):
        super().__init__()
        object.__setattr__(self, "_keys", {})  # insertion order (a dict with no values)
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return getattr(self, key)

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings, got {type(key).__name__}")
        self._keys[key] = None
        value = _as_parameter(value)
        if isinstance(value, Parameter):
            self.register_parameter(key, value)
        else:
            self._forget(key)
            object.__setattr__(self, key, value)

    def __delitem__(self, key):
        del self._keys[key]
        self._forget(key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((key, self[key]) for key in self._keys)

    def values(self):
        return (self[key] for key in self._keys)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def update(self, values):
        """Add (or replace) from a mapping or from (key, value) pairs, in their order."""
        if isinstance(values, (Mapping, ParameterDict)):
            pairs = list(values.items())
        elif isinstance(values, Iterable):
            pairs = []
            for i, pair in enumerate(values):
                pair = list(pair) if isinstance(pair, Iterable) and not isinstance(pair, (str, Tensor)) else None
                if pair is None or len(pair) != 2:
                    raise ValueError(f"ParameterDict update sequence element #{i} should be a (key, value) pair")
                pairs.append(pair)
        else:
            raise TypeError(f"ParameterDict.update should be called with an iterable of key/value pairs, but got "
                            f"{type(values).__name__}")
        for key, value in pairs:
            self[key] = value

    def extra_repr(self):
        return "\n".join(f"({key}): {_describe(value)}" for key, value in self.items())
