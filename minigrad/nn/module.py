"""Module, Parameter, Sequential, ModuleList: the bookkeeping behind every network.

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

from collections import OrderedDict, namedtuple

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


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


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
        object.__setattr__(self, "training", True)

    # --- registration by attribute assignment -------------------------------------------

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"call super().__init__() in {type(self).__name__}.__init__ "
                                 f"before assigning attributes")
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
                raise TypeError(f"cannot assign a {type(value).__name__} to buffer {name!r} (a Tensor or None is expected)")
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
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    # --- running it -------------------------------------------------------------------

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- walking the tree -------------------------------------------------------------

    def named_modules(self, prefix=""):
        """(name, module) for this module and all inside it, depth first, each once."""
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) for every parameter, each once even if shared."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True):
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

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

    # --- saving and loading -------------------------------------------------------------

    def state_dict(self):
        """name -> Tensor for every parameter and persistent buffer (sharing their memory)."""
        state = OrderedDict()
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    state[prefix + name] = param.detach()
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    state[prefix + name] = buffer.detach()
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into this module's parameters and buffers, in place.

        strict=True: every key must match; missing and unexpected keys are named in the error.
        A value of the wrong shape or kind is always an error naming the key. Everything is
        checked before anything is written, so a load that fails leaves the module unchanged.
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
            raise KeyError(f"error(s) loading state_dict for {type(self).__name__}: " + "; ".join(problems))
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
            raise TypeError("load_state_dict: " + "; ".join(wrong_kind) + ". Nothing was loaded.")
        if wrong_shape:
            raise ValueError("load_state_dict: " + "; ".join(wrong_shape) + ". Nothing was loaded.")
        with no_grad():
            for key, value in values.items():
                target = own[key]
                target.copy_(backend.to_device(value, target.device).astype(target.dtype, copy=False))
        return IncompatibleKeys(missing, unexpected)

    # --- printing -----------------------------------------------------------------------

    def extra_repr(self):
        """What goes inside the parentheses of this module's repr (layers override it)."""
        return ""

    def __repr__(self):
        lines = [f"({name}): " + _indent(repr(module)) for name, module in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _indent(text):
    return text.replace("\n", "\n  ")


class Sequential(Module):
    """Modules applied one after another: Sequential(a, b, c)(x) = c(b(a(x))). Indexable."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):  # keeps the names, so state_dict keys stay those of the whole
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain list would hide them)."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index):
        modules = list(self._modules.values())
        return ModuleList(modules[index]) if isinstance(index, slice) else modules[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())
