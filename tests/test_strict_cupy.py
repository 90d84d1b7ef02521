"""The CuPy stand-in (tests/strict_cupy) keeps CuPy's rules: these tests check that it does.

It is used as a module here, not installed in place of cupy (that is `make test-device`), except
in the one test that runs minigrad on it in a fresh interpreter.
"""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import strict_cupy
from strict_cupy.kernel import needs_gxx

cp = strict_cupy.cupy
TESTS = Path(__file__).resolve().parent


@pytest.fixture
def d():
    return cp.asarray(np.array([1.0, 2.0, 3.0], dtype=np.float32))


# --- implicit conversion to NumPy is refused -----------------------------------------------------

@pytest.mark.parametrize("convert", [np.asarray, np.array, np.exp, np.sum, lambda a: np.concatenate([a, a]),
                                     lambda a: np.where(a > 1, a, 0), lambda a: np.add(a, 1)],
                         ids=["asarray", "array", "ufunc", "sum", "concatenate", "where", "add"])
def test_numpy_refuses_a_device_array(d, convert):
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        convert(d)


def test_the_explicit_ways_to_the_host(d):
    for host in (d.get(), cp.asnumpy(d)):
        assert type(host) is np.ndarray and host.dtype == np.float32
        np.testing.assert_array_equal(host, [1, 2, 3])
    host = d.get()
    host[0] = 10  # a copy
    assert d[0].item() == 1.0
    assert d.tolist() == [1.0, 2.0, 3.0] and float(d[1]) == 2.0 and int(d[2]) == 3


# --- host and device arrays do not mix ------------------------------------------------------------

@pytest.mark.parametrize("host", [np.ones(3, np.float32), np.array(2.0)], ids=["1-d", "0-d"])
@pytest.mark.parametrize("mix", [lambda a, h: a + h, lambda a, h: h + a, lambda a, h: a * h, lambda a, h: a == h,
                                 lambda a, h: cp.add(a, h), lambda a, h: cp.maximum(h, a),
                                 lambda a, h: cp.concatenate([a, h]),
                                 lambda a, h: cp.where(a > 1, a, h)],
                         ids=["add", "radd", "mul", "eq", "cp.add", "cp.maximum", "concatenate", "where"])
def test_a_host_array_does_not_mix_with_a_device_array(d, host, mix):
    with pytest.raises(TypeError):
        mix(d, host)


def test_in_place_with_a_host_array_is_refused(d):
    with pytest.raises(TypeError, match="host and device arrays do not mix"):
        d += np.ones(3, np.float32)
    with pytest.raises(TypeError, match="host and device arrays do not mix"):
        cp.multiply(d, 2, out=np.empty(3, np.float32))


def test_scalars_mix_as_in_cupy(d):
    for result, expected in [(d + 1, [2, 3, 4]), (d * np.float32(2), [2, 4, 6]), (2.0 ** d, [2, 4, 8]),
                             (cp.maximum(d, 2), [2, 2, 3])]:
        assert isinstance(result, cp.ndarray) and result.dtype == np.float32
        np.testing.assert_array_equal(result.get(), expected)


def test_assigning_a_host_array_to_a_slice_is_refused_as_cupy_fill(d):
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray"):
        d[:] = np.zeros(3, np.float32)
    d[np.array([0, 2])] = np.array([7.0, 9.0])  # advanced indices copy the values over, as CuPy
    d[1] = 8
    d[cp.asarray(np.array([True, False, False]))] = cp.asarray(np.array([5.0], np.float32))
    np.testing.assert_array_equal(d.get(), [5, 8, 9])


# --- results are device arrays, never NumPy scalars ---------------------------------------------

def test_reductions_and_integer_indices_give_0d_device_arrays(d):
    for value, expected in [(d.sum(), 6.0), (d[1], 2.0), (cp.max(d), 3.0), (d.mean(), 2.0), (d @ d, 14.0)]:
        assert isinstance(value, cp.ndarray) and value.shape == () and value.item() == expected


def test_a_device_array_is_no_python_index(d):
    with pytest.raises(TypeError):
        range(cp.asarray(np.array(3)))
    with pytest.raises(TypeError):
        [1, 2, 3][cp.asarray(np.array(1))]
    assert not hasattr(d, "ctypes") and not hasattr(d, "__array_interface__")


def test_views_write_through_and_out_returns_the_same_array(d):
    view = d[1:]
    view *= 10
    np.testing.assert_array_equal(d.get(), [1, 20, 30])
    out = cp.empty(3, dtype=np.float32)
    assert cp.multiply(d, 2, out=out) is out
    np.testing.assert_array_equal(out.get(), [2, 40, 60])
    assert cp.asarray(d) is d and cp.asarray(d, dtype=np.float64).dtype == np.float64


def test_integer_indices_wrap_around_as_on_a_gpu(d):
    """A GPU checks no bounds: CuPy wraps integer array indices around where NumPy raises."""
    at = cp.asarray(np.array([3, -4, 1]))
    np.testing.assert_array_equal(d[at].get(), [1, 3, 2])
    np.testing.assert_array_equal(cp.take(d, at).get(), [1, 3, 2])
    d[cp.asarray(np.array([5]))] = 0
    np.testing.assert_array_equal(d.get(), [1, 2, 0])
    with pytest.raises(IndexError):
        d[3]  # a plain integer is checked, as by CuPy


def test_only_the_ufunc_methods_and_sorts_cupy_has(d):
    np.testing.assert_array_equal(cp.add.accumulate(d).get(), [1, 3, 6])
    assert cp.multiply.reduce(d).item() == 6
    with pytest.raises(NotImplementedError, match="maximum.accumulate"):
        cp.maximum.accumulate(d)
    with pytest.raises(NotImplementedError, match="multiply.at"):
        cp.multiply.at(d, cp.asarray(np.array([0])), 2)
    target = cp.zeros(2)
    cp.add.at(target, cp.asarray(np.array([0, 0, 1])), 1.0)
    np.testing.assert_array_equal(target.get(), [2, 1])
    with pytest.raises(TypeError, match="list"):
        cp.add(d, [1, 2, 3])
    with pytest.raises(ValueError, match="stable"):
        cp.argsort(d, kind="quicksort")
    with pytest.raises(ValueError, match="stable"):
        d.sort(kind="mergesort")
    np.testing.assert_array_equal(cp.argsort(d, kind="stable").get(), [0, 1, 2])


def test_only_cupys_names_are_there():
    assert callable(cp.exp) and cp.float32 is np.float32 and cp.inf == math.inf
    for missing in ("errstate", "seterr", "sctypes"):
        with pytest.raises(AttributeError):
            getattr(cp, missing)
    assert cp.get_array_module(cp.ones(2)) is cp and cp.get_array_module(np.ones(2)) is np


def test_warnings_are_silent_as_on_a_gpu():
    with np.errstate(all="raise"):
        result = cp.log(cp.zeros(2)) / 0.0
    assert np.isneginf(result.get()).all()


# --- memory pool, random numbers -----------------------------------------------------------------

def test_the_memory_pool_counts_live_arrays():
    pool = cp.get_default_memory_pool()
    before = pool.used_bytes()
    block = cp.zeros(1000, dtype=np.float64)
    assert pool.used_bytes() - before == 8000 and pool.total_bytes() >= pool.used_bytes()
    del block
    assert pool.used_bytes() == before
    pool.free_all_blocks()
    assert pool.total_bytes() == before


def test_random_draws_device_arrays_and_not_numpys_numbers():
    draws = cp.random.default_rng(0).standard_normal(5, dtype=np.float32)
    assert isinstance(draws, cp.ndarray) and draws.dtype == np.float32
    np.testing.assert_array_equal(cp.random.default_rng(0).standard_normal(5, dtype=np.float32).get(), draws.get())
    assert not np.allclose(np.random.default_rng(0).standard_normal(5), draws.get())
    integers = cp.random.default_rng(1).integers(0, 3, size=100)
    assert integers.dtype == np.int64 and set(integers.get().tolist()) == {0, 1, 2}
    assert not hasattr(cp.random.default_rng(0), "normal")  # CuPy's Generator has no normal()
    cp.random.seed(3)
    first = cp.random.rand(4)
    cp.random.seed(3)
    np.testing.assert_array_equal(cp.random.rand(4).get(), first.get())


# --- ElementwiseKernel ---------------------------------------------------------------------------

AXPY = ("T x, T a, T y", "T z", "z = a * x + y;", "strict_cupy_axpy")


@needs_gxx
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_kernel_computes_its_formula(dtype):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(50).astype(dtype), rng.standard_normal(50).astype(dtype)
    z = cp.zeros(50, dtype=dtype)
    kernel = cp.ElementwiseKernel(*AXPY)
    assert kernel(cp.asarray(x), dtype(2.5), cp.asarray(y), z) is z
    assert z.dtype == dtype
    np.testing.assert_allclose(z.get(), 2.5 * x + y, rtol=1e-6)


@needs_gxx
def test_elementwise_kernel_refuses_host_arrays_and_mismatched_types():
    kernel = cp.ElementwiseKernel(*AXPY)
    x, z = cp.ones(3, dtype=np.float32), cp.zeros(3, dtype=np.float32)
    with pytest.raises(TypeError):
        kernel(np.ones(3, np.float32), np.float32(1), x, z)
    with pytest.raises(TypeError, match="mismatched"):
        kernel(x, np.float64(1), x, z)


# --- minigrad on the stand-in --------------------------------------------------------------------

def test_minigrad_runs_on_the_stand_in():
    program = """
import sys
sys.path.insert(0, sys.argv[1])
import strict_cupy
strict_cupy.install()
import numpy as np
import minigrad as mg
assert mg.cuda.is_available()
x = mg.tensor([1.0, -2.0, 3.0], device="cuda", requires_grad=True)
(x.relu() * x).sum().backward()
assert type(x.array).__module__ == "strict_cupy.array" and x.grad.device == "cuda"
print(x.grad.cpu().numpy().tolist())
"""
    done = subprocess.run([sys.executable, "-c", program, str(TESTS)], capture_output=True, text=True,
                          cwd=TESTS.parent, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[2.0,", "0.0,", "6.0]"]


# --- what the stand-in found, checked on every device (cuda under `make test-device`) ---------

def test_indexing_by_index_arrays_has_gradients_on_every_device(device):
    """The backward of x[positions] indexes by the positions' array itself; it was read through
    NumPy, which a GPU array refuses."""
    import minigrad as mg
    x = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, device=device, requires_grad=True)
    positions = mg.tensor([2, 0, 2], device=device)
    (x[positions] * mg.tensor([1.0, 10.0, 100.0], dtype=mg.float64, device=device)).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [10.0, 0.0, 101.0])
    assert mg.gradgradcheck(lambda t: (t[positions] ** 2).sum(), (x,))


def test_index_out_of_bounds_raises_on_every_device(device):
    """NumPy checks integer indices, a GPU does not (CuPy wraps 7 of 2 around to 1): minigrad checks."""
    import minigrad as mg
    x = mg.arange(6.0, device=device).reshape(2, 3)
    for outside in (7, -3):
        with pytest.raises(IndexError, match=f"index {outside} is out of bounds for dimension 0 with size 2"):
            x[mg.tensor([0, outside], device=device)]
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 1 with size 3"):
        x[:, [1, 3]]
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 1 with size 3"):
        recorded = x.clone().requires_grad_() * 1.0  # not a leaf: the write is recorded (index_put)
        recorded[..., mg.tensor([4], device=device)] = 1.0


def test_cummax_on_every_device(device):
    """CuPy has no maximum.accumulate: the running maximum is a scan of its own on the GPU."""
    import minigrad as mg
    x = mg.tensor([[1.0, 3.0, 3.0, float("nan"), 2.0], [5.0, 4.0, 6.0, 6.0, 0.0]], device=device)
    values, indices = mg.cummax(x, 1)
    np.testing.assert_array_equal(values.cpu().numpy(), [[1, 3, 3, np.nan, np.nan], [5, 5, 6, 6, 6]])
    np.testing.assert_array_equal(indices.cpu().numpy(), [[0, 1, 2, 3, 3], [0, 0, 2, 3, 3]])
    long = mg.tensor(np.sin(np.arange(37.0)) * np.arange(37.0), device=device)
    np.testing.assert_array_equal(mg.cummax(long, 0).values.cpu().numpy(),
                                  np.maximum.accumulate(np.sin(np.arange(37.0)) * np.arange(37.0)))
