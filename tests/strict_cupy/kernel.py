"""CuPy's ElementwiseKernel run on the CPU: its CUDA C compiled by g++ into the loop CuPy wraps it in.

`compile_for_the_cpu` is the compiler (tests/test_optim.py uses it directly on NumPy arrays);
`ElementwiseKernel` is cupy.ElementwiseKernel of the stand-in, which compiles its operation with
it for the arrays' C type on the first call. Without g++ the kernel raises NoCompiler when called;
tests that need one skip with `needs_gxx`.
"""

import ctypes
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from .array import host, ndarray

C_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}

needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++ to compile the GPU kernel for the CPU")


class NoCompiler(RuntimeError):
    """No g++ on this machine: the stand-in cannot run an ElementwiseKernel."""


def _names(params):
    """'T x, T y' -> ['x', 'y']; only the form `T name` is supported (the one minigrad writes)."""
    names = []
    for param in params.split(","):
        words = param.split()
        if len(words) != 2 or words[0] != "T":
            raise NotImplementedError(f"the CuPy stand-in's ElementwiseKernel takes parameters `T name` only, "
                                      f"got {param.strip()!r}")
        names.append(words[1])
    return names


def compile_for_the_cpu(in_params, out_params, operation, name, c_type, directory):
    """An ElementwiseKernel's operation compiled by g++ into the loop CuPy wraps it in: for each
    element i, every input by value and every output by reference (their i-th elements), T the
    given C type. Returns a function of NumPy arrays in the kernel's argument order (an input may
    be a scalar) that updates the output arrays in place, as the kernel does."""
    if shutil.which("g++") is None:
        raise NoCompiler(f"the ElementwiseKernel {name!r} needs g++ to run on the CuPy stand-in")
    inputs, outputs = _names(in_params), _names(out_params)
    arguments = [f"const T* _{a}" for a in inputs] + [f"T* _{a}" for a in outputs]
    source = Path(directory) / f"{name}_{c_type}.cpp"
    source.write_text("#include <cmath>\nusing std::sqrt;\n"
                      f"typedef {c_type} T;\n"
                      f'extern "C" void {name}(long n, {", ".join(arguments)}) {{\n'
                      "  for (long i = 0; i < n; ++i) {\n"
                      + "".join(f"    const T {a} = _{a}[i];\n" for a in inputs)
                      + "".join(f"    T& {a} = _{a}[i];\n" for a in outputs)
                      + operation + "\n  }\n}\n")
    library = source.with_suffix(".so")
    subprocess.run(["g++", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)], check=True,
                   capture_output=True)
    function = getattr(ctypes.CDLL(str(library)), name)

    def run(*arrays):
        given_out = arrays[len(inputs):]
        size, dtype = given_out[0].size, given_out[0].dtype
        assert all(a.flags.c_contiguous and a.dtype == dtype for a in given_out)
        given_in = [np.ascontiguousarray(np.broadcast_to(np.asarray(a, dtype), (size,))) for a in arrays[:len(inputs)]]
        function(ctypes.c_long(size), *[a.ctypes.data_as(ctypes.c_void_p) for a in given_in + list(given_out)])
    return run


class ElementwiseKernel:
    """cupy.ElementwiseKernel(in_params, out_params, operation, name) for parameters `T name`.

    Called with the inputs and the outputs (device arrays; inputs may be scalars), it updates the
    outputs in place and returns them, as CuPy's kernel does when the outputs are given. A host
    array among the arguments is a TypeError, as on CuPy."""

    _directory = None

    def __init__(self, in_params, out_params, operation, name="kernel", **options):
        self.in_params, self.out_params, self.operation, self.name = in_params, out_params, operation, name
        self._inputs, self._outputs = _names(in_params), _names(out_params)
        self._compiled = {}

    def __call__(self, *args):
        if len(args) != len(self._inputs) + len(self._outputs):
            raise TypeError(f"{self.name}: expected {len(self._inputs)} inputs and {len(self._outputs)} outputs "
                            f"(the stand-in does not allocate outputs), got {len(args)} arguments")
        outputs = args[len(self._inputs):]
        if not all(isinstance(out, ndarray) for out in outputs):
            raise TypeError(f"{self.name}: the outputs must be CuPy arrays")
        dtype = outputs[0].dtype
        if dtype not in C_TYPES:
            raise TypeError(f"{self.name}: the CuPy stand-in compiles kernels for float32 and float64, got {dtype}")
        shape = outputs[0].shape
        for value in args:
            if isinstance(value, ndarray) and (value.dtype != dtype or value.shape != shape):
                raise TypeError(f"{self.name}: every array must be {dtype} of shape {shape}, "
                                f"got {value.dtype} of shape {value.shape}")
            if isinstance(value, np.generic) and value.dtype != dtype:
                raise TypeError(f"{self.name}: Type is mismatched: a {value.dtype} scalar where T is {dtype}")
        if dtype not in self._compiled:
            if ElementwiseKernel._directory is None:
                ElementwiseKernel._directory = tempfile.TemporaryDirectory(prefix="strict_cupy_")
            self._compiled[dtype] = compile_for_the_cpu(self.in_params, self.out_params, self.operation, self.name,
                                                        C_TYPES[dtype], ElementwiseKernel._directory.name)
        self._compiled[dtype](*host(args))
        return outputs[0] if len(outputs) == 1 else tuple(outputs)
