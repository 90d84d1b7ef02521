"""Weight initialisation, in place, as torch.nn.init (all run without recording a graph).

The defaults of Linear and Conv layers follow PyTorch so that results compare with
the book: weights kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)). DCGAN re-initialises with N(0, 0.02).
"""

import math
import warnings

import numpy as np

from .. import backend
from ..autograd import no_grad


def calculate_fan_in_and_fan_out(tensor):
    """fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (PyTorch's rule;
    note that for ConvTranspose2d weights (Cin, Cout, KH, KW) this makes fan_in = Cout*KH*KW)."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dims, got shape {tensor.shape}")
    receptive = 1
    for n in tensor.shape[2:]:
        receptive *= n
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out  # the name PyTorch code calls

LINEAR_FUNCTIONS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The recommended scale for an activation, as torch.nn.init: 1 for linear layers, convolutions and
    sigmoid, 5/3 tanh, sqrt(2) relu, sqrt(2 / (1 + slope^2)) leaky_relu (slope = param, default 0.01),
    3/4 selu."""
    if nonlinearity in LINEAR_FUNCTIONS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4  # found empirically by PyTorch (pytorch/pytorch#50664)
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _checked(generator):
    """A generator= argument: minigrad has no Generator class; a NumPy (or CuPy) one plays its part."""
    if not hasattr(generator, "standard_normal"):
        raise TypeError(f"generator must be a numpy.random.Generator (np.random.default_rng(seed)) or None, "
                        f"got {type(generator).__name__}")
    return generator


def _fill_from(tensor, generator, draw):
    """Fill `tensor` with draw(generator) from a NumPy (or CuPy) Generator the caller passed, in
    place of minigrad's seeded one; `draw` returns an array of the tensor's shape."""
    values = draw(_checked(generator))
    return tensor.copy_(backend.to_device(values, backend.device_of(tensor.array)).astype(tensor.dtype, copy=False))


@no_grad()
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """U(a, b)."""
    if generator is None:
        return tensor.uniform_(a, b)
    return _fill_from(tensor, generator, lambda rng: rng.random(tensor.shape) * (b - a) + a)


@no_grad()
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """N(mean, std^2)."""
    if generator is None:
        return tensor.normal_(mean, std)
    return _fill_from(tensor, generator, lambda rng: rng.standard_normal(tensor.shape) * std + mean)


@no_grad()
def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std^2) truncated to [a, b]: values outside are drawn again (where [a, b] holds more than
    30% of the normal), else drawn uniformly in [a, b] and kept with the normal's relative density."""
    def cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=3)
    if generator is None:  # a NumPy generator seeded from minigrad's, so that mg.manual_seed decides the values
        rng = np.random.default_rng(backend.generator("cpu").integers(2 ** 63))
    else:
        rng = _checked(generator)
    shape = tensor.shape
    if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
        values = rng.standard_normal(shape) * std + mean
        outside = (values < a) | (values > b)
        while outside.any():
            values[outside] = rng.standard_normal(int(outside.sum())) * std + mean
            outside = (values < a) | (values > b)
    else:
        peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2  # the log density's highest point in [a, b]
        values = rng.uniform(a, b, shape)
        pending = np.log(rng.random(shape)) > -0.5 * ((values - mean) / std) ** 2 - peak
        while pending.any():
            values[pending] = rng.uniform(a, b, int(pending.sum()))
            log_density = -0.5 * ((values[pending] - mean) / std) ** 2 - peak
            pending[pending] = np.log(rng.random(int(pending.sum()))) > log_density
    return _fill_from(tensor, rng, lambda _: values)


@no_grad()
def constant_(tensor, value):
    return tensor.fill_(value)


@no_grad()
def zeros_(tensor):
    return tensor.zero_()


@no_grad()
def ones_(tensor):
    return tensor.fill_(1.0)


@no_grad()
def eye_(tensor):
    """The identity matrix (ones on the diagonal of a 2-D tensor, rectangular allowed)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    xp = backend.array_module(tensor.array)
    return tensor.copy_(xp.eye(*tensor.shape, dtype=tensor.dtype))


@no_grad()
def dirac_(tensor, groups=1):
    """A convolution weight (3-, 4- or 5-D) that passes its input through: in each of `groups`, output
    channel d takes input channel d at the kernel's centre; the rest is zero."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if tensor.shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = tensor.shape[0] // groups
    centre = tuple(n // 2 for n in tensor.shape[2:])
    values = np.zeros(tensor.shape, dtype=tensor.dtype)
    for g in range(groups):
        for d in range(min(per_group, tensor.shape[1])):
            values[(g * per_group + d, d) + centre] = 1
    return tensor.copy_(backend.to_device(values, backend.device_of(tensor.array)))


@no_grad()
def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix times gain (Saxe et al.), the tensor seen as rows = size(0) by
    cols = the rest: orthonormal rows if rows <= cols, else orthonormal columns. From the QR
    decomposition of a standard normal matrix, with Q's columns signed by diag(R) so that Q is
    uniformly (Haar) distributed."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    if generator is None:
        flattened = backend.generator(tensor.device).standard_normal((rows, cols), dtype=tensor.dtype)
    else:
        flattened = _checked(generator).standard_normal((rows, cols)).astype(tensor.dtype)
        flattened = backend.to_device(flattened, tensor.device)
    xp = backend.array_module(flattened)
    if rows < cols:
        flattened = flattened.T
    q, r = xp.linalg.qr(flattened)
    q *= xp.sign(xp.diag(r))
    if rows < cols:
        q = q.T
    return tensor.copy_(q.reshape(tensor.shape) * gain)


@no_grad()
def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator=generator)


@no_grad()
def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator=generator)


def _calculate_correct_fan(tensor, mode):
    """fan_in or fan_out, as `mode` says (either case)."""
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _kaiming_std(tensor, a, mode, nonlinearity):
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def _is_empty(tensor):
    """As PyTorch: initialising a tensor with no elements (Linear(0, 3)'s weight) does nothing,
    with a warning, rather than divide by a fan of 0."""
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=4)
        return True
    return False


@no_grad()
def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-b, b) with b = gain * sqrt(3 / fan); with a = sqrt(5) this is b = 1/sqrt(fan_in)."""
    if _is_empty(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator=generator)


@no_grad()
def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    if _is_empty(tensor):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator=generator)


# --- the old names without the trailing underscore, deprecated in PyTorch (still in old GAN code) --

def _deprecated(new):
    """nn.init.xavier_uniform (old) -> xavier_uniform_, with PyTorch's FutureWarning."""
    old = new.__name__[:-1]

    def initialise(*args, **kwargs):
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new.__name__}`.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    initialise.__name__ = old
    initialise.__doc__ = f"Deprecated: {new.__name__}, under its old name."
    return initialise


uniform, normal, constant = _deprecated(uniform_), _deprecated(normal_), _deprecated(constant_)
eye, dirac, orthogonal = _deprecated(eye_), _deprecated(dirac_), _deprecated(orthogonal_)
xavier_uniform, xavier_normal = _deprecated(xavier_uniform_), _deprecated(xavier_normal_)
kaiming_uniform, kaiming_normal = _deprecated(kaiming_uniform_), _deprecated(kaiming_normal_)
