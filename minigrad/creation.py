"""Making tensors: mg.tensor, zeros, ones, full, arange, rand, randn, ... shaped like PyTorch's.

Floating-point factories give float32 unless `dtype` says otherwise, on the default
device (mg.set_default_device) unless `device` says otherwise.
"""

import math
import warnings

import numpy as np

from . import backend
from .tensor import Tensor, get_default_dtype, make_array


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
    return Tensor._wrap(np.asarray(array), False)


def _require_size(size, name):
    """As PyTorch: a factory called with no size at all is a TypeError (a 0-d tensor is zeros(()))."""
    if not size:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size" (for a 0-dim tensor, '
                        f'give the empty size: {name}(()))')


def zeros(*size, dtype=None, device=None, requires_grad=False):
    _require_size(size, "zeros")
    xp = backend.array_module(backend.normalize_device(device))
    return _make(xp.zeros(_size(size), dtype=dtype or get_default_dtype()), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    _require_size(size, "ones")
    xp = backend.array_module(backend.normalize_device(device))
    return _make(xp.ones(_size(size), dtype=dtype or get_default_dtype()), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """torch.empty: a tensor to be filled in. PyTorch leaves its values uninitialised; here they
    are zeros, so that a forgotten fill shows up as zeros rather than as leftover memory."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    xp = backend.array_module(backend.normalize_device(device))
    if dtype is None:  # as torch.full: the fill value's kind decides
        dtype = (np.bool_ if isinstance(fill_value, (bool, np.bool_)) else
                 np.int64 if isinstance(fill_value, (int, np.integer)) else get_default_dtype())
    return _make(xp.full(_size((size,)), fill_value, dtype=dtype), requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    return zeros(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    return ones(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def _number(value):
    """A 0-d tensor given as a bound (arange(t)) as the Python number it holds."""
    return value.item() if isinstance(value, Tensor) else value


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Integers give int64 and any float gives float32, as torch.arange."""
    start, end, step = _number(start), _number(end), _number(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign (start {start}, "
                           f"end {end}, step {step})")
    if dtype is None:
        dtype = np.int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step)) else get_default_dtype()
    xp = backend.array_module(backend.normalize_device(device))
    return _make(xp.arange(start, end, step, dtype=dtype), requires_grad)


def inclusive_range(start=0, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """mg.range, deprecated in PyTorch, as there: start to end *inclusive*, float of the default dtype."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    count = int(math.floor((_number(end) - _number(start)) / _number(step))) + 1
    values = _number(start) + _number(step) * arange(max(count, 0), dtype=np.float64, device=device).array
    return _make(values.astype(dtype or get_default_dtype()), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end inclusive; float32 unless `dtype` says otherwise
    (an integer dtype rounds toward zero, as torch.linspace)."""
    xp = backend.array_module(backend.normalize_device(device))
    values = xp.linspace(_number(start), _number(end), steps, dtype=np.float64)
    return _make(values.astype(dtype or get_default_dtype()), requires_grad)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """base ** linspace(start, end, steps): float32 unless `dtype` says otherwise."""
    xp = backend.array_module(backend.normalize_device(device))
    values = xp.power(float(base), xp.linspace(_number(start), _number(end), steps, dtype=np.float64))
    if dtype is not None and np.dtype(dtype).kind in "iu":
        values = xp.round(values)  # 10.0 ** 2 may come out as 99.99999999999999
    return _make(values.astype(dtype or get_default_dtype()), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The n x m (n x n) matrix with ones on its diagonal."""
    xp = backend.array_module(backend.normalize_device(device))
    return _make(xp.eye(n, n if m is None else m, dtype=dtype or get_default_dtype()), requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    """A tensor of input's shape to be filled in (zeros here; see empty)."""
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    _require_size(size, "rand")
    rng = backend.generator(device)
    return _make(rng.random(_size(size), dtype=dtype or get_default_dtype()), requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    rng = backend.generator(device)
    return _make(rng.standard_normal(_size(size), dtype=dtype or get_default_dtype()), requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform on [low, high), as torch.randint(low, high, size) or torch.randint(high, size);
    int64 unless `dtype` says otherwise."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint() takes (high, size) or (low, high, size), e.g. mg.randint(0, 10, (3,))")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    rng = backend.generator(device) if generator is None else generator
    draws = rng.integers(low, high, size=_size((size,)), dtype=np.int64)
    return _make(draws.astype(dtype or np.int64, copy=False), requires_grad)


def rand_like(input, dtype=None, requires_grad=False):
    return rand(input.shape, dtype=dtype or input.dtype, device=input.device, requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False):
    return randn(input.shape, dtype=dtype or input.dtype, device=input.device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, dtype=None, device=None):
    """randint with input's shape (and dtype unless `dtype` says otherwise)."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, device=device or input.device)


def bernoulli(input, p=None, generator=None):
    """1 with probability p (input's values, or the number p), else 0, in input's dtype."""
    rng = backend.generator(input.device)
    probabilities = input.array if p is None else p
    draws = rng.random(input.shape, dtype=np.float64) < probabilities
    return _make(draws.astype(input.dtype), False)


def multinomial(input, num_samples, replacement=False, generator=None):
    """Draw `num_samples` category indices (int64) per row of the non-negative weights `input`
    ((k,) or (n, k)), with probability proportional to the weights.

    With replacement: inverse transform sampling (a uniform draw located in the cumulative
    weights). Without: the Gumbel top-k trick, which draws the categories one after another
    without putting them back: the k largest of log w_i + Gumbel noise."""
    weights = backend.to_numpy(input.array).astype(np.float64)
    if weights.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {input.shape}")
    rows = weights.reshape(-1, weights.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > (rows > 0).sum(axis=1).min():
        raise RuntimeError("multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rng = backend.generator("cpu")
    if replacement:
        cumulative = np.cumsum(rows, axis=1)
        cumulative /= cumulative[:, -1:]
        draws = rng.random((rows.shape[0], num_samples))
        samples = np.stack([np.searchsorted(c, d, side="right") for c, d in zip(cumulative, draws)])
        samples = np.minimum(samples, rows.shape[1] - 1)
    else:
        with np.errstate(divide="ignore"):
            keys = np.log(rows) - np.log(-np.log(rng.random(rows.shape)))
        samples = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    samples = samples.astype(np.int64).reshape(weights.shape[:-1] + (num_samples,))
    return _make(backend.to_device(samples, input.device), False)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Normal draws with the given mean and standard deviation: tensors (broadcast together, the
    result in their dtype) or numbers with a `size`, as torch.normal."""
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal(mean, std) of two numbers needs a size")
        draws = randn(*_size((size,)), dtype=dtype, device=device).array
        return _make((draws * std + mean).astype(draws.dtype), requires_grad)
    like = tensors[0]
    shape = np.broadcast_shapes(*(t.shape for t in tensors))
    rng = backend.generator(like.device)
    out_dtype = np.result_type(*(t.dtype for t in tensors))
    mean_array = mean.array if isinstance(mean, Tensor) else mean
    std_array = std.array if isinstance(std, Tensor) else std
    if (np.asarray(backend.to_numpy(std_array)) < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    draws = rng.standard_normal(shape, dtype=out_dtype) * std_array + mean_array
    return _make(draws.astype(out_dtype), False)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random ordering of 0..n-1 (int64 unless `dtype` says otherwise): the order that sorts n uniform
    draws (CuPy's Generator has no permutation)."""
    rng = backend.generator(device) if generator is None else generator
    return _make(rng.random(n).argsort().astype(dtype or np.int64), requires_grad)


def manual_seed(seed):
    """Seed every device's random generator (rand, randn, dropout, init, DataLoader shuffles)."""
    backend.manual_seed(seed)
