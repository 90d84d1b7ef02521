"""The device array of the stand-in: a NumPy array kept behind a wall, with CuPy's rules at the wall.

- `ndarray` is its own type, not a subclass of numpy.ndarray. NumPy cannot read it: np.asarray(d),
  np.array(d), a NumPy ufunc or function given one, raise CuPy's TypeError about implicit conversion.
- Host and device arrays do not mix: a numpy.ndarray (even a 0-d one) in an operation with a device
  array is a TypeError, as CuPy's "Unsupported type <class 'numpy.ndarray'>". Python scalars and
  NumPy scalars (np.float32(2)) mix, as in CuPy.
- Results are device arrays, never NumPy scalars: a reduction or an integer index gives a 0-d array.
- Only CuPy's ndarray methods and attributes are there (no .ctypes, no __index__, ...); ufuncs
  have only CuPy's methods (add.at, add.accumulate; no maximum.accumulate, no multiply.at), take
  no lists, and sorts are stable only (kind None or "stable").
- Integer array indices wrap around out of bounds (a GPU checks no bounds), where NumPy raises.
- No float warnings (divide by zero, overflow): CuPy never warns.

`device(numpy_array)` puts an array behind the wall, `host(value)` takes arguments out of it for
NumPy (refusing host arrays); `call(numpy_function)` makes a NumPy function a device function.
"""

import numpy as np

from .cuda import get_default_memory_pool

IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly.")

# CuPy never warns about division by zero, overflow or invalid values.
def quiet():
    return np.errstate(all="ignore")

# CuPy's dtypes: booleans, integers, floats and complex numbers (no objects, strings, dates).
SUPPORTED_KINDS = "biufc"


def device(value):
    """Results of NumPy, as CuPy gives them: arrays (and NumPy scalars) become device arrays."""
    if isinstance(value, np.ndarray):
        return ndarray._of(value)
    if isinstance(value, np.generic):
        return ndarray._of(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(device(v) for v in value)
    if isinstance(value, list):
        return [device(v) for v in value]
    return value


def host(value, allow_host_arrays=False):
    """Arguments for NumPy: device arrays unwrapped; a host array refused unless allowed."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, np.ndarray) and not allow_host_arrays:
        raise TypeError(f"Unsupported type {type(value)}: a NumPy (host) array given to a CuPy "
                        f"operation; host and device arrays do not mix (move it with cupy.asarray)")
    if isinstance(value, (tuple, list)):
        return type(value)(host(v, allow_host_arrays) for v in value)
    if isinstance(value, dict):
        return {k: host(v, allow_host_arrays) for k, v in value.items()}
    return value


def call(function, allow_host_arrays=False):
    """`function` (a NumPy one) taking and giving device arrays; `out=` gives back the same object."""
    def on_device(*args, **kwargs):
        out = kwargs.get("out")
        with quiet():
            result = function(*host(args, allow_host_arrays), **host(kwargs, allow_host_arrays))
        if isinstance(out, ndarray) and result is out._a:
            return out
        return device(result)
    on_device.__name__ = getattr(function, "__name__", "function")
    on_device.__doc__ = f"CuPy's {on_device.__name__}, run by NumPy on the stand-in's device arrays."
    return on_device


# The ufunc methods CuPy has beyond calls and outer, and for which ufuncs (the rest raise
# NotImplementedError there: e.g. cupy.maximum.accumulate does not exist).
UFUNC_METHODS = {"reduce": {"add", "multiply"}, "accumulate": {"add", "multiply"}, "reduceat": {"add"},
                 "at": {"add", "subtract", "maximum", "minimum", "bitwise_and", "bitwise_or", "bitwise_xor"}}


class ufunc:
    """A NumPy ufunc on device arrays, with the methods CuPy's ufuncs have. Its operands are device
    arrays or scalars: a list is refused, as CuPy's "Unsupported type <class 'list'>"."""

    def __init__(self, numpy_ufunc):
        self._ufunc = numpy_ufunc
        self.__name__ = numpy_ufunc.__name__
        self.nin, self.nout, self.nargs = numpy_ufunc.nin, numpy_ufunc.nout, numpy_ufunc.nargs
        self._call = call(numpy_ufunc)
        self.outer = call(numpy_ufunc.outer)
        for method, names in UFUNC_METHODS.items():
            if self.__name__ in names:
                setattr(self, method, call(getattr(numpy_ufunc, method)))
            else:
                setattr(self, method, self._unsupported(method))

    def _unsupported(self, method):
        def unsupported(*args, **kwargs):
            raise NotImplementedError(f"`cupy_{self.__name__}.{method}` is not supported yet")
        return unsupported

    def __call__(self, *args, **kwargs):
        for arg in args:
            if isinstance(arg, (list, tuple)):
                raise TypeError(f"Unsupported type {type(arg)}")
        return self._call(*args, **kwargs)

    def __repr__(self):
        return f"<ufunc '{self.__name__}' (strict CuPy stand-in)>"


class Flags:
    """CuPy's ndarray.flags: c_contiguous, f_contiguous and owndata, read-only."""

    def __init__(self, array):
        self.c_contiguous = bool(array.flags.c_contiguous)
        self.f_contiguous = bool(array.flags.f_contiguous)
        self.owndata = bool(array.flags.owndata)

    def __getitem__(self, name):
        return {"C_CONTIGUOUS": self.c_contiguous, "F_CONTIGUOUS": self.f_contiguous,
                "OWNDATA": self.owndata}[name]

    def __repr__(self):
        return f"  C_CONTIGUOUS : {self.c_contiguous}\n  F_CONTIGUOUS : {self.f_contiguous}\n" \
               f"  OWNDATA : {self.owndata}"


class MemoryPointer:
    """ndarray.data: where the elements start (`ptr`), as CuPy's MemoryPointer."""

    def __init__(self, array):
        self.ptr = array.__array_interface__["data"][0]


def _index(key, shape):
    """An index for a device array: device arrays unwrapped; NumPy arrays and lists are allowed
    (CuPy copies them to the device), Python and NumPy integers and slices as they are.

    Integer arrays in it wrap around out of bounds, as on CuPy (a GPU checks no bounds: index 5
    of 3 elements is element 2, and no IndexError is raised as NumPy does)."""
    keys = list(key) if isinstance(key, tuple) else [key]
    keys = [host(k, allow_host_arrays=True) for k in keys]
    consumed = sum(1 if not isinstance(k, np.ndarray) or k.dtype != np.bool_ else k.ndim
                   for k in keys if k is not None and k is not Ellipsis)
    dim = 0
    for i, k in enumerate(keys):
        if k is Ellipsis:
            dim += len(shape) - consumed
            continue
        if k is None:
            continue
        if isinstance(k, list):
            k = keys[i] = np.asarray(k)
        if isinstance(k, np.ndarray) and k.dtype == np.bool_:
            dim += k.ndim
            continue
        if isinstance(k, np.ndarray) and k.dtype.kind in "iu" and dim < len(shape) and shape[dim] > 0:
            keys[i] = k % shape[dim]
        dim += 1
    return tuple(keys) if isinstance(key, tuple) else keys[0]


def _has_array_index(key):
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (ndarray, np.ndarray, list)) for k in keys)


# the methods of cupy.ndarray that NumPy's ndarray has under the same name and meaning
METHODS = ("all any argmax argmin argpartition argsort astype byteswap choose clip compress conj conjugate "
           "copy cumprod cumsum diagonal dot dump dumps fill flatten max mean min nonzero partition prod "
           "ptp put ravel repeat reshape round searchsorted sort squeeze std sum swapaxes tobytes "
           "tofile trace transpose var view").split()
ATTRIBUTES = "shape strides ndim size itemsize nbytes dtype".split()


class ndarray:
    """A device array of the stand-in (see the module's docstring for its rules)."""

    __slots__ = ("_a", "__weakref__")
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("the CuPy stand-in makes arrays from a shape and a dtype only")
        self._a = np.empty(shape, dtype=dtype, order=order)
        get_default_memory_pool()._track(self)

    @classmethod
    def _of(cls, array):
        if array.dtype.kind not in SUPPORTED_KINDS:
            raise TypeError(f"Unsupported dtype {array.dtype}: CuPy arrays hold numbers and booleans only")
        self = object.__new__(cls)
        self._a = array
        get_default_memory_pool()._track(self)
        return self

    # --- the wall: NumPy may not read a device array ----------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise TypeError(f"numpy.{ufunc.__name__} was given a CuPy array: {IMPLICIT} "
                        f"(call cupy.{ufunc.__name__}, e.g. through backend.array_module)")

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"numpy.{func.__name__} was given a CuPy array: {IMPLICIT} "
                        f"(call cupy.{func.__name__}, e.g. through backend.array_module)")

    # --- the way out -----------------------------------------------------------------
    def get(self, stream=None, order="C", out=None):
        """A NumPy copy of the array (the explicit copy to the host)."""
        if out is not None:
            out[...] = self._a
            return out
        return np.array(self._a, order=order)

    def set(self, array, stream=None):
        """Copy a NumPy array of the same shape into this one."""
        self._a[...] = np.asarray(array)

    def item(self):
        return self._a.item()

    def tolist(self):
        return self._a.tolist()

    def __int__(self):
        return int(self._a)

    def __float__(self):
        return float(self._a)

    def __complex__(self):
        return complex(self._a)

    def __bool__(self):
        return bool(self._a)

    def __len__(self):
        if self._a.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __repr__(self):
        return repr(self._a)

    def __str__(self):
        return str(self._a)

    def __format__(self, spec):
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):  # pickling copies to the host and back, as CuPy's
        return _from_host, (self.get(),)

    # --- attributes --------------------------------------------------------------------
    @property
    def T(self):
        return device(self._a.T)

    @property
    def mT(self):
        return device(self._a.mT)

    @property
    def real(self):
        return device(self._a.real)

    @property
    def imag(self):
        return device(self._a.imag)

    @property
    def base(self):
        return None if self._a.base is None else device(self._a.base)

    @property
    def flags(self):
        return Flags(self._a)

    @property
    def data(self):
        return MemoryPointer(self._a)

    @property
    def device(self):
        from . import cuda
        return cuda.Device(0)

    @property
    def flat(self):
        return device(self._a.ravel())

    # --- indexing ------------------------------------------------------------------------
    def __getitem__(self, key):
        return device(self._a[_index(key, self._a.shape)])

    def __setitem__(self, key, value):
        if isinstance(value, np.ndarray) and value.ndim > 0 and not _has_array_index(key):
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        self._a[_index(key, self._a.shape)] = host(value, allow_host_arrays=True)

    def take(self, indices, axis=None, out=None):
        from . import take
        return take(self, indices, axis, out)

    def scatter_add(self, slices, value):
        np.add.at(self._a, _index(slices, self._a.shape), host(value))


def _from_host(array):
    return ndarray._of(np.array(array))


def check_sort_kind(kind):
    """CuPy sorts stably and knows no other kind."""
    if kind is not None and kind != "stable":
        raise ValueError("kind can only be None or 'stable'")


def _method(name):
    def method(self, *args, **kwargs):
        if name in ("sort", "argsort"):
            check_sort_kind(kwargs.get("kind", args[1] if len(args) > 1 else None))
        out = kwargs.get("out")
        with quiet():
            result = getattr(self._a, name)(*host(args), **host(kwargs))
        if isinstance(out, ndarray) and result is out._a:
            return out
        return device(result)
    method.__name__ = name
    return method


def _attribute(name):
    return property(lambda self: getattr(self._a, name))


def _operator(name):
    def operator(self, *args):
        with quiet():
            result = getattr(self._a, name)(*host(args))
        if result is NotImplemented:
            return result
        return device(result)
    operator.__name__ = name
    return operator


def _in_place(name):
    def operator(self, other):
        with quiet():
            getattr(self._a, name)(host(other))
        return self
    operator.__name__ = name
    return operator


for _name in METHODS:
    setattr(ndarray, _name, _method(_name))
for _name in ATTRIBUTES:
    setattr(ndarray, _name, _attribute(_name))
for _name in ("add sub mul matmul truediv floordiv mod divmod pow lshift rshift and or xor").split():
    setattr(ndarray, f"__{_name}__", _operator(f"__{_name}__"))
    setattr(ndarray, f"__r{_name}__", _operator(f"__r{_name}__"))
    if _name != "divmod":
        setattr(ndarray, f"__i{_name}__", _in_place(f"__i{_name}__"))
for _name in ("lt le gt ge eq ne neg pos abs invert").split():
    setattr(ndarray, f"__{_name}__", _operator(f"__{_name}__"))
