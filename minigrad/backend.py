"""The array backend: the one module that knows NumPy from CuPy.

Every other part of minigrad works on raw arrays through `xp`, the array module
that `array_module(...)` returns, so one code path serves the CPU (NumPy) and the
GPU (CuPy). Only this file imports CuPy, and it does so lazily and optionally:

    pip install "minigrad[gpu]"     # adds CuPy

Devices are plain strings, "cpu" and "cuda" ("cuda:0" is accepted and means "cuda");
`Device` (mg.device) is PyTorch's spelling of the same names.
"""

import contextlib
import functools

import numpy as np

try:  # CuPy is an optional extra; a broken CUDA install counts as "not there".
    import cupy
    import cupyx
    import cupyx.scipy.special
except Exception:  # pragma: no cover - depends on the machine
    cupy = None

def nccl():
    """CuPy's NCCL bindings (cupy.cuda.nccl), for the distributed backend; None without them."""
    if cupy is None:
        return None
    try:
        from cupy.cuda import nccl as bindings
    except ImportError:
        return None
    return bindings


_CUDA_HELP = (
    "CUDA is not available: minigrad runs on the GPU through CuPy. Install it with "
    "`pip install \"minigrad[gpu]\"` (or the cupy-cudaXXx wheel matching your CUDA "
    "toolkit) on a machine with an NVIDIA GPU, or use device='cpu'."
)

_default_device = "cpu"


# --- devices ---------------------------------------------------------------------

def cuda_available():
    """True when CuPy is installed and sees at least one GPU."""
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # pragma: no cover - driver problems
        return False


def gpu_count():
    """How many GPUs CuPy sees: 0 without CuPy or a working driver."""
    if cupy is None:
        return 0
    try:
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # pragma: no cover - driver problems
        return 0


def current_gpu():
    """The index of the GPU that CuPy works on (raises the CUDA help without one)."""
    if not cuda_available():
        raise RuntimeError(_CUDA_HELP)
    return cupy.cuda.runtime.getDevice()


def use_gpu(index):
    """Make GPU `index` the one CuPy works on (raises the CUDA help without a GPU)."""
    current_gpu()
    cupy.cuda.Device(index).use()


def gpu_name(index=None):
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3' (raises the CUDA help without one)."""
    index = current_gpu() if index is None else index
    name = cupy.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else name


def free_gpu_cache():
    """Hand the blocks CuPy's memory pools keep back to the driver (nothing to do without a GPU)."""
    if cuda_available():
        cupy.get_default_memory_pool().free_all_blocks()
        cupy.get_default_pinned_memory_pool().free_all_blocks()


def normalize_device(device):
    """Turn 'cpu', 'cuda', 'cuda:0' or None into 'cpu' / 'cuda', checking CUDA exists."""
    if device is None:
        return _default_device
    name = str(device).split(":")[0]
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")
    if name == "cuda" and not cuda_available():
        raise RuntimeError(_CUDA_HELP)
    return name


class Device(str):
    """mg.device("cuda:0"), as torch.device: `.type` ('cpu' or 'cuda') and `.index` (an int or None).

    It is also the device's name as a string, so it goes wherever a device string goes and
    compares with one: mg.device("cpu") == "cpu", and Tensor.device is one (t.device.type).
    Making one does not check that the device exists; using it does."""

    def __new__(cls, type, index=None):
        if isinstance(type, Device):
            type, index = type.type, type.index
        name, _, number = str(type).partition(":")
        if name not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {type!r}: expected 'cpu', 'cuda' or 'cuda:<index>'")
        if number:
            if index is not None:
                raise ValueError(f"device {type!r} already names an index; do not pass index={index} as well")
            index = int(number)
        if index is not None and int(index) < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self = super().__new__(cls, name if index is None else f"{name}:{int(index)}")
        self.type, self.index = name, None if index is None else int(index)
        return self

    def __repr__(self):
        return f"device(type={self.type!r})" if self.index is None else \
            f"device(type={self.type!r}, index={self.index})"

    def __eq__(self, other):
        if isinstance(other, str):
            return str.__eq__(self, str(Device(other)) if isinstance(other, Device) else other)
        return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__

    def __reduce__(self):
        return (Device, (self.type, self.index))


# the Device a tensor's .device gives for each array kind (made once: t.device is asked often)
DEVICES = {"cpu": Device("cpu"), "cuda": Device("cuda")}


def set_default_device(device):
    """Make `device` the one that factories such as mg.zeros use when none is given."""
    global _default_device
    _default_device = normalize_device(device)


def get_default_device():
    return _default_device


def device_of(array):
    """'cuda' for a CuPy array, 'cpu' for anything else."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return "cuda"
    return "cpu"


def array_module(device_or_array):
    """The array module (numpy or cupy) for a device name or for an array."""
    if isinstance(device_or_array, str):
        return cupy if normalize_device(device_or_array) == "cuda" else np
    return cupy if device_of(device_or_array) == "cuda" else np


def to_device(array, device):
    """Move (or keep) an array on `device`; a no-op when it is already there."""
    device = normalize_device(device)
    if device_of(array) == device:
        return array
    if device == "cuda":
        return cupy.asarray(array)
    return cupy.asnumpy(array)


def to_numpy(array):
    """A NumPy array for any array: a copy to the host when it lives on the GPU."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy.asnumpy(array)
    return np.asarray(array)


def as_array(value):
    """NumPy returns scalars (np.float32, ...) from 0-d math; turn them back into 0-d arrays."""
    return np.asarray(value) if isinstance(value, np.generic) else value


ARRAY_TYPES = (np.ndarray,) if cupy is None else (np.ndarray, cupy.ndarray)


def is_array(value):
    return isinstance(value, np.ndarray) or (cupy is not None and isinstance(value, cupy.ndarray))


def on_one_device(arrays, op_name):
    """An op's input arrays, on one device. As in PyTorch, a 0-dim CPU tensor beside GPU tensors is a
    scalar, and moves to the GPU; any other mix raises a clear error."""
    first = type(arrays[0])
    for a in arrays:
        if type(a) is not first:
            break
    else:
        return arrays
    devices = [device_of(a) for a in arrays]
    if len(set(devices)) == 1:
        return arrays
    if all(d == "cuda" or a.ndim == 0 for d, a in zip(devices, arrays)):
        return [to_device(a, "cuda") for a in arrays]
    if len(set(devices)) > 1:
        listed = ", ".join(f"{d} (shape {tuple(a.shape)})" for d, a in zip(devices, arrays))
        raise RuntimeError(
            f"{op_name}: expected all tensors on the same device, but found {listed}. "
            f"Move them with .to(device) first.")


# --- array helpers that differ between NumPy and CuPy -----------------------------

def scatter_add(target, indices, values):
    """target[indices] += values, where repeated indices accumulate (unlike `+=`)."""
    if device_of(target) == "cuda":
        cupyx.scatter_add(target, indices, values)
    elif _along_one_dim(indices):
        _add_along(target, len(indices) - 1, indices[-1], values)
    else:
        np.add.at(target, indices, values)


def _along_one_dim(indices):
    """Whether indices is (:, ..., :, positions), positions a 1-D integer array: the elements at
    `positions` along one dim, as reflect/replicate padding and nearest upsampling read them."""
    if not isinstance(indices, tuple) or not indices:
        return False
    *whole, positions = indices
    every = all(isinstance(k, slice) and k == slice(None) for k in whole)
    return every and isinstance(positions, np.ndarray) and positions.ndim == 1 and positions.dtype.kind in "iu"


def _add_along(target, dim, positions, values):
    """target[(:,) * dim + (positions,)] += values, positions 1-D along `dim`, repeats adding up.

    In rounds: first every position's first occurrence, then the second occurrences, and so on;
    within a round no position repeats, so it is one take and one add (a plain add of the whole
    target when the round covers every position, as padding's first round does). The additions
    come in the order of the occurrences, as np.add.at's, so the sums are the same bits; np.add.at
    adds one element at a time (reflection padding's backward: 93 ms of a CycleGAN step with it,
    15 ms with this and ScatterAdd's memory order).
    """
    size = target.shape[dim]
    outside = (positions < -size) | (positions >= size)
    if outside.any():  # as np.add.at
        raise IndexError(f"index {positions[outside][0]} is out of bounds for axis {dim} with size {size}")
    positions = np.where(positions < 0, positions + size, positions)
    values = np.broadcast_to(values, target.shape[:dim] + (len(positions),) + target.shape[dim + 1:])
    occurrence = np.arange(len(positions))
    # Work on views with the axes in target's memory order (a channels-last gradient is NHWC):
    # take and add then run along memory, not across it.
    axes = tuple(int(a) for a in np.argsort([-abs(s) for s in target.strides], kind="stable"))
    target, values, dim = target.transpose(axes), values.transpose(axes), axes.index(dim)
    while len(positions):
        order = np.argsort(positions, kind="stable")
        ordered = positions[order]
        first = np.concatenate(([True], ordered[1:] != ordered[:-1]))
        taken = np.take(values, occurrence[order[first]], axis=dim)
        if len(ordered[first]) == size:  # every position, in order
            target += taken
        else:
            target[(slice(None),) * dim + (ordered[first],)] += taken
        positions, occurrence = ordered[~first], occurrence[order[~first]]


def running_maximum(array, axis):
    """max(x_0, ..., x_j) at each position j along `axis`; a nan spreads forward (as np.maximum).

    NumPy has it as maximum.accumulate. CuPy's ufuncs accumulate only add and multiply, so on the
    GPU it is a scan by doubling: after the step with shift s, each position holds the maximum of
    the 2s positions ending there, so log2(n) steps cover the whole axis."""
    if device_of(array) != "cuda":
        return np.maximum.accumulate(array, axis=axis)
    running, size, shift = array.copy(), array.shape[axis], 1
    while shift < size:
        later = (slice(None),) * axis + (slice(shift, None),)
        earlier = (slice(None),) * axis + (slice(None, size - shift),)
        running[later] = cupy.maximum(running[later], running[earlier])
        shift *= 2
    return running


def quiet_float_errors(array):
    """A context that silences NumPy's divide-by-zero / overflow warnings (CuPy never warns)."""
    if device_of(array) == "cuda":
        return contextlib.nullcontext()
    return np.errstate(divide="ignore", over="ignore", invalid="ignore")


def as_strided(array, shape, strides):
    """A strided view on the same memory (NumPy's or CuPy's `as_strided`)."""
    if device_of(array) == "cuda":
        return cupy.lib.stride_tricks.as_strided(array, shape=shape, strides=strides)
    return np.lib.stride_tricks.as_strided(array, shape=shape, strides=strides, writeable=False)


def gpu_special(name):
    """A function of cupyx.scipy.special (e.g. "erf"): what CuPy has and NumPy lacks."""
    return getattr(cupyx.scipy.special, name)


@functools.cache
def elementwise_kernel(in_params, out_params, operation, name):
    """One GPU kernel for an elementwise formula written in CUDA C (CuPy's ElementwiseKernel),
    made once per formula and compiled on its first call. Each element of every array is read and
    written once, where the same formula as array operations reads and writes whole arrays once per
    operation. The kernel updates the arrays given for out_params in place; `T` stands for their
    dtype, and scalars are passed as NumPy scalars of it (see Adam's update)."""
    return cupy.ElementwiseKernel(in_params, out_params, operation, name)


# --- random numbers ---------------------------------------------------------------

_generators = {}


def generator(device):
    """The random generator for a device (created on first use, seeded by manual_seed)."""
    device = normalize_device(device)
    if device not in _generators:
        seed = np.random.SeedSequence().entropy % (2**32)
        _generators[device] = _new_generator(device, seed)
    return _generators[device]


def _new_generator(device, seed):
    if device == "cuda":
        return cupy.random.default_rng(seed)
    return np.random.default_rng(seed)


def manual_seed(seed):
    """Seed the generators of every device, as torch.manual_seed does."""
    _generators["cpu"] = _new_generator("cpu", seed)
    if cuda_available():
        _generators["cuda"] = _new_generator("cuda", seed)


def seed_device(device, seed):
    """Seed one device's generator (torch.cuda.manual_seed seeds the GPU's alone)."""
    device = normalize_device(device)
    _generators[device] = _new_generator(device, seed)


def get_rng_state():
    """The CPU generator's state, as a plain dict (JSON-serialisable)."""
    return generator("cpu").bit_generator.state


def set_rng_state(state):
    generator("cpu").bit_generator.state = state


# --- memory -----------------------------------------------------------------------

def gpu_memory_peak():
    """Bytes the CuPy memory pool holds at most so far (its total_bytes), or None on CPU-only machines."""
    if not cuda_available():
        return None
    return cupy.get_default_memory_pool().total_bytes()


def synchronize(device="cuda"):
    """Wait until the GPU has finished all queued work (a no-op on the CPU); needed for timing."""
    if normalize_device(device) == "cuda":
        cupy.cuda.Device().synchronize()
