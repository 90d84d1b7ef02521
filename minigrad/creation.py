"""Making tensors: mg.tensor, zeros, ones, full, arange, rand, randn, ... shaped like PyTorch's.

Floating-point factories give float32 unless `dtype` says otherwise, on the default
device (mg.set_default_device) unless `device` says otherwise.
"""

import numpy as np

from . import backend
from .tensor import DEFAULT_FLOAT, Tensor, make_array


def _size(size):
    """Accept zeros(2, 3), zeros((2, 3)) and zeros([2, 3])."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _make(array, requires_grad):
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data` (a number, nested lists, an array or a Tensor).

    It goes to `device`; without one, a Tensor stays where it is and anything else
    (a NumPy array too) goes to the default device, as in torch.tensor."""
    source = data.array if isinstance(data, Tensor) else data
    if device is None and not isinstance(data, Tensor):
        device = backend.get_default_device()
    array = make_array(source, dtype, device)
    if array is source:
        array = array.copy()
    return _make(array, requires_grad)


def from_numpy(array):
    """A tensor sharing memory with a NumPy array (no copy), as torch.from_numpy."""
    return Tensor(np.asarray(array))


def zeros(*size, dtype=None, device=None, requires_grad=False):
    xp = backend.array_module(backend.normalize_device(device))
    return _make(xp.zeros(_size(size), dtype=dtype or DEFAULT_FLOAT), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    xp = backend.array_module(backend.normalize_device(device))
    return _make(xp.ones(_size(size), dtype=dtype or DEFAULT_FLOAT), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """torch.empty: a tensor to be filled in. PyTorch leaves its values uninitialised; here they
    are zeros, so that a forgotten fill shows up as zeros rather than as leftover memory."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    xp = backend.array_module(backend.normalize_device(device))
    if dtype is None:  # as torch.full: the fill value's kind decides
        dtype = (np.bool_ if isinstance(fill_value, (bool, np.bool_)) else
                 np.int64 if isinstance(fill_value, (int, np.integer)) else DEFAULT_FLOAT)
    return _make(xp.full(_size((size,)), fill_value, dtype=dtype), requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    return zeros(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    return ones(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Integers give int64 and any float gives float32, as torch.arange."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = np.int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step)) else DEFAULT_FLOAT
    xp = backend.array_module(backend.normalize_device(device))
    return _make(xp.arange(start, end, step, dtype=dtype), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    xp = backend.array_module(backend.normalize_device(device))
    return _make(xp.linspace(start, end, steps, dtype=dtype or DEFAULT_FLOAT), requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    rng = backend.generator(device)
    return _make(rng.random(_size(size), dtype=dtype or DEFAULT_FLOAT), requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    rng = backend.generator(device)
    return _make(rng.standard_normal(_size(size), dtype=dtype or DEFAULT_FLOAT), requires_grad)


def randint(low, high=None, size=(1,), dtype=None, device=None):
    """Integers uniform on [low, high), as torch.randint(low, high, size)."""
    if high is None:
        low, high = 0, low
    rng = backend.generator(device)
    return _make(rng.integers(low, high, size=_size((size,)), dtype=dtype or np.int64), False)


def rand_like(input, dtype=None, requires_grad=False):
    return rand(input.shape, dtype=dtype or input.dtype, device=input.device, requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False):
    return randn(input.shape, dtype=dtype or input.dtype, device=input.device, requires_grad=requires_grad)


def randperm(n, device=None):
    """A random ordering of 0..n-1: the order that sorts n uniform draws (CuPy's Generator has no permutation)."""
    return _make(backend.generator(device).random(n).argsort().astype(np.int64), False)


def manual_seed(seed):
    """Seed every device's random generator (rand, randn, dropout, init, DataLoader shuffles)."""
    backend.manual_seed(seed)
