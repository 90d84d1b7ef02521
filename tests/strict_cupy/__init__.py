"""A strict stand-in for CuPy, backed by NumPy, so that the "cuda" half of the tests runs without a GPU.

It behaves like CuPy where bugs hide (the rules are in array.py): device arrays are their own type;
NumPy refuses them (implicit conversion is a TypeError) and they refuse NumPy arrays (host and
device do not mix); reductions and integer indices give 0-d device arrays; only CuPy's names exist
(np.errstate has no cupy.errstate). Around them: asnumpy/asarray/get_array_module, cupy.cuda (one
pretend GPU and a memory pool), cupy.random (CuPy's generator API, other numbers than NumPy's for
the same seed), ElementwiseKernel (its CUDA C compiled by g++ for the CPU) and the parts of cupyx
minigrad uses.

`install()` puts it into sys.modules as cupy and cupyx; tests/conftest.py calls it before minigrad
is imported when MINIGRAD_TEST_CUPY=standin (`make test-device`). Where real CuPy and a GPU exist,
nothing here is used.
"""

import sys
import types

import numpy as np

from . import cuda, random
from .array import call, check_sort_kind, device, host, ndarray, ufunc
from .kernel import ElementwiseKernel
from .names import NAMES

# Functions that take host data: they copy it to the device, as CuPy's do.
_FROM_HOST = {"array", "asarray", "asanyarray", "ascontiguousarray"}


def _lend(numpy_namespace, name, cupy_name):
    """NumPy's `name` as the stand-in's: ufuncs and functions on device arrays; types and constants
    as they are (cupy.float32 is numpy.float32)."""
    value = getattr(numpy_namespace, name)
    if isinstance(value, np.ufunc):
        return ufunc(value)
    if isinstance(value, (type, np.dtype, int, float)) or value is None:
        return value
    if callable(value):
        return call(value)
    raise AttributeError(f"module {cupy_name!r} has no attribute {name!r} in the CuPy stand-in")


def _namespace(cupy_name, numpy_namespace, names=None):
    """A module named `cupy_name` lending `numpy_namespace`'s functions (only `names` if given)."""
    module = types.ModuleType(cupy_name)
    cache = module.__dict__

    def __getattr__(name):
        if name.startswith("__") or (names is not None and name not in names) or not hasattr(numpy_namespace, name):
            raise AttributeError(f"module {cupy_name!r} has no attribute {name!r}")
        cache[name] = _lend(numpy_namespace, name, cupy_name)
        return cache[name]
    module.__getattr__ = __getattr__
    return module


def asarray(a, dtype=None, order=None, *, blocking=False):
    """A device array of `a`: the same array when it is one already (of that dtype), else a copy."""
    if isinstance(a, ndarray):
        return a if dtype is None or np.dtype(dtype) == a.dtype else a.astype(dtype)
    return device(np.array(host(a, allow_host_arrays=True), dtype=dtype, order=order or "K"))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if isinstance(obj, ndarray) and copy is False:
        return asarray(obj, dtype)
    return device(np.array(host(obj, allow_host_arrays=True), dtype=dtype, order=order, ndmin=ndmin))


def ascontiguousarray(a, dtype=None):
    if not isinstance(a, ndarray):
        raise TypeError(f"Argument 'a' has incorrect type (expected cupy.ndarray, got {type(a).__name__})")
    return device(np.ascontiguousarray(a._a, dtype=dtype))


def _sorting(name):
    numpy_function = call(getattr(np, name))

    def sorting(a, axis=-1, kind=None, **kwargs):
        check_sort_kind(kind)
        return numpy_function(a, axis=axis, **kwargs)
    sorting.__name__ = name
    return sorting


def take(a, indices, axis=None, out=None):
    """cupy.take: indices out of bounds wrap around, as every integer index on CuPy."""
    return call(np.take)(a, indices, axis=axis, out=out, mode="wrap")


def take_along_axis(a, indices, axis):
    size = a.shape[-1 if axis is None else axis]
    return call(np.take_along_axis)(a, indices % size if size else indices, axis=axis)


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    """A NumPy array of `a`: a copy to the host for a device array."""
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args):
    return cupy if any(isinstance(a, ndarray) for a in args) else np


def as_strided(x, shape=None, strides=None):
    return device(np.lib.stride_tricks.as_strided(host(x), shape=shape, strides=strides))


def scatter_add(a, slices, value):
    """cupyx.scatter_add: a[slices] += value, repeated indices adding up."""
    if not isinstance(a, ndarray):
        raise TypeError("cupyx.scatter_add: the target must be a CuPy array")
    a.scatter_add(slices, value)


def _special():
    """cupyx.scipy.special: the functions of SciPy's special that minigrad asks the GPU for."""
    module = types.ModuleType("cupyx.scipy.special")
    import math
    erf = np.vectorize(math.erf, otypes=[float])
    erfc = np.vectorize(math.erfc, otypes=[float])
    lgamma = np.vectorize(math.lgamma, otypes=[float])

    def typed(function):
        def on_device(x):
            x = host(x)
            return device(function(x).astype(x.dtype if x.dtype.kind == "f" else np.float64))
        return on_device
    module.erf, module.erfc, module.gammaln = typed(erf), typed(erfc), typed(lgamma)
    return module


def _build():
    cupy = _namespace("cupy", np, NAMES)
    cupy.__file__ = __file__
    cupy.__version__ = "14.0.0-stand-in"
    cupy.STAND_IN = True
    cupy.ndarray, cupy.ufunc, cupy.ElementwiseKernel = ndarray, ufunc, ElementwiseKernel
    cupy.asarray, cupy.array, cupy.ascontiguousarray, cupy.asnumpy = asarray, array, ascontiguousarray, asnumpy
    cupy.sort, cupy.argsort = _sorting("sort"), _sorting("argsort")
    cupy.take, cupy.take_along_axis = take, take_along_axis
    cupy.get_array_module, cupy.get_default_memory_pool = get_array_module, cuda.get_default_memory_pool
    cupy.get_default_pinned_memory_pool = cuda.get_default_pinned_memory_pool
    cupy.cuda, cupy.random = cuda, random
    cupy.linalg = _namespace("cupy.linalg", np.linalg)
    cupy.fft = _namespace("cupy.fft", np.fft)
    cupy.lib = types.ModuleType("cupy.lib")
    cupy.lib.stride_tricks = types.ModuleType("cupy.lib.stride_tricks")
    cupy.lib.stride_tricks.as_strided = as_strided

    cupyx = types.ModuleType("cupyx")
    cupyx.scatter_add = scatter_add
    cupyx.scipy = types.ModuleType("cupyx.scipy")
    cupyx.scipy.special = _special()
    return cupy, cupyx


cupy, cupyx = _build()


def install():
    """Make `import cupy` (and cupyx) give the stand-in. Call it before minigrad is imported."""
    sys.modules.update({"cupy": cupy, "cupy.cuda": cuda, "cupy.random": random, "cupy.linalg": cupy.linalg,
                        "cupy.fft": cupy.fft, "cupy.lib": cupy.lib, "cupy.lib.stride_tricks": cupy.lib.stride_tricks,
                        "cupyx": cupyx, "cupyx.scipy": cupyx.scipy, "cupyx.scipy.special": cupyx.scipy.special})
    return cupy
