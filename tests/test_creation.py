"""Factories shaped like PyTorch's: dtype rules, size arguments, copies, devices, seeding."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend

from helpers import DEVICES


@pytest.fixture
def default_device_restored():
    previous = mg.get_default_device()
    yield
    mg.set_default_device(previous)


# --- mg.tensor: dtype rules ----------------------------------------------------------------

@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32),                       # Python floats -> float32
    ([1.0, 2.0], np.float32),
    ([1, 2.5], np.float32),
    ([[1.0], [2.0]], np.float32),
    (3, np.int64),                           # ints -> int64, as PyTorch (deliberate)
    ([1, 2, 3], np.int64),
    ([True, False], np.bool_),
    (np.array([1.0, 2.0]), np.float64),      # NumPy arrays keep their dtype
    (np.array([1.0], dtype=np.float32), np.float32),
    (np.array([1.0], dtype=np.float16), np.float16),
    (np.array([1, 2], dtype=np.int32), np.int32),
    (np.float64(2.5), np.float64),           # and so do NumPy scalars
    (np.int32(2), np.int32),
])
def test_tensor_dtype_rules(data, dtype, device):
    t = mg.tensor(data, device=device)
    assert t.dtype == dtype
    assert t.device == device
    np.testing.assert_array_equal(t.numpy(), np.asarray(data))


def test_tensor_with_dtype(device):
    t = mg.tensor([1, 2], dtype=mg.float64, device=device)
    assert t.dtype == np.float64 and t.tolist() == [1.0, 2.0]
    assert mg.tensor([0.1], dtype=mg.float64).item() == 0.1   # not rounded through float32 on the way


def test_every_integer_and_float_dtype_name_of_pytorch_that_numpy_has():
    """torch.int8 ... torch.float64 and their aliases (half, short, int, long, float, double)."""
    names = {"int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64, "uint8": np.uint8,
             "float16": np.float16, "float32": np.float32, "float64": np.float64, "bool": np.bool_,
             "half": np.float16, "short": np.int16, "int": np.int32, "long": np.int64, "float": np.float32,
             "double": np.float64}
    for name, dtype in names.items():
        assert getattr(mg, name) == np.dtype(dtype), name
        assert mg.zeros(2, dtype=getattr(mg, name)).dtype == np.dtype(dtype), name


def test_tensor_copies_its_data(device):
    array = np.array([1.0, 2.0])
    from_array = mg.tensor(array, device=device)
    array[0] = 9.0
    assert from_array.tolist() == [1.0, 2.0]
    original = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    copy = mg.tensor(original)
    assert copy.device == device and not copy.requires_grad and copy.grad_fn is None
    with mg.no_grad():
        original[0] = 9.0
    assert copy.tolist() == [1.0, 2.0]
    assert copy._version is not original._version


def test_tensor_requires_grad(device):
    t = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    assert t.requires_grad and t.is_leaf


def test_tensor_of_a_tensor_stays_on_its_device_and_an_array_goes_to_the_default(device, default_device_restored):
    mg.set_default_device(device)
    assert mg.tensor(np.ones(2)).device == device
    assert mg.tensor([1.0]).device == device
    assert mg.tensor(mg.ones(2, device="cpu")).device == "cpu"


def test_from_numpy_shares_memory():
    array = np.array([1.0, 2.0])
    t = mg.from_numpy(array)
    assert t.dtype == np.float64
    array[0] = 9.0
    assert t.tolist() == [9.0, 2.0]


def test_unsupported_data():
    with pytest.raises(TypeError, match="cannot make a tensor"):
        mg.tensor(["a", "b"])


def test_float_tensor_and_long_tensor():
    f = mg.FloatTensor([1, 2, 3])
    assert f.dtype == np.float32 and f.tolist() == [1.0, 2.0, 3.0]
    assert mg.FloatTensor(np.array([0.5])).dtype == np.float32
    assert mg.LongTensor([1.0, 2.0]).dtype == np.int64


# --- zeros, ones, full, arange -----------------------------------------------------------------

@pytest.mark.parametrize("factory, value", [(mg.zeros, 0.0), (mg.ones, 1.0)])
def test_zeros_and_ones(factory, value, device):
    for t in (factory(2, 3, device=device), factory((2, 3), device=device), factory([2, 3], device=device)):
        assert t.shape == (2, 3) and t.dtype == np.float32 and t.device == device
        assert (t.numpy() == value).all()
    assert factory(4, device=device).shape == (4,)
    assert factory((), device=device).shape == ()
    assert factory(2, dtype=mg.float64, device=device).dtype == np.float64
    assert factory(2, dtype=mg.int64).dtype == np.int64
    assert factory(2, requires_grad=True).requires_grad


def test_full(device):
    t = mg.full((2, 3), 1.5, device=device)
    assert t.shape == (2, 3) and t.dtype == np.float32 and (t.numpy() == 1.5).all()
    assert mg.full(3, 7).dtype == np.int64           # the fill value's kind decides, as torch.full
    assert mg.full(3, True).dtype == np.bool_
    assert mg.full([2], 2.0, dtype=mg.float64).dtype == np.float64
    assert mg.full(2, np.int64(3)).dtype == np.int64 and mg.full(2, np.bool_(True)).dtype == np.bool_


def test_arange(device):
    t = mg.arange(5, device=device)
    assert t.dtype == np.int64 and t.tolist() == [0, 1, 2, 3, 4] and t.device == device
    assert mg.arange(2, 8, 2).tolist() == [2, 4, 6]
    f = mg.arange(0, 1, 0.25)
    assert f.dtype == np.float32 and f.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert mg.arange(3.0).dtype == np.float32
    assert mg.arange(3, dtype=mg.float64).dtype == np.float64
    n = np.array([4, 5]).max()                        # a NumPy integer counts as an int
    assert mg.arange(n).dtype == np.int64 and mg.arange(n).tolist() == [0, 1, 2, 3, 4]


def test_linspace():
    t = mg.linspace(0, 1, 5)
    assert t.dtype == np.float32 and t.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_like_factories(device):
    source = mg.tensor([[1.0, 2.0]], dtype=mg.float64, device=device)
    for t, value in ((mg.zeros_like(source), 0.0), (mg.ones_like(source), 1.0), (mg.full_like(source, 3.0), 3.0)):
        assert t.shape == (1, 2) and t.dtype == np.float64 and t.device == device
        assert (t.numpy() == value).all()
    assert mg.zeros_like(source, dtype=mg.float32).dtype == np.float32
    assert mg.ones_like(mg.tensor([1, 2])).dtype == np.int64
    assert mg.zeros_like(source, requires_grad=True).requires_grad


# --- random ------------------------------------------------------------------------------

def test_rand_and_randn_shapes_and_dtypes(device):
    for factory in (mg.rand, mg.randn):
        assert factory(2, 3, device=device).shape == (2, 3)
        assert factory((2, 3), device=device).shape == (2, 3)
        t = factory(4, device=device)
        assert t.dtype == np.float32 and t.device == device
        assert factory(4, dtype=mg.float64, device=device).dtype == np.float64
    u = mg.rand(10_000, device=device).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    n = mg.randn(10_000, dtype=mg.float64, device=device).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05


def test_randint_randperm_and_like(device):
    r = mg.randint(3, 7, (100,), device=device)
    assert r.dtype == np.int64 and set(r.tolist()) == {3, 4, 5, 6}
    assert sorted(mg.randperm(6, device=device).tolist()) == list(range(6))
    source = mg.zeros(2, 3, dtype=mg.float64, device=device)
    assert mg.rand_like(source).shape == (2, 3) and mg.randn_like(source).dtype == np.float64


@pytest.mark.parametrize("device", DEVICES)
def test_manual_seed_repeats_the_numbers(device):
    mg.manual_seed(42)
    first = [mg.rand(3, device=device).tolist(), mg.randn(2, 2, device=device).tolist(),
             mg.randint(0, 100, (5,), device=device).tolist(), mg.randperm(5, device=device).tolist()]
    mg.manual_seed(42)
    again = [mg.rand(3, device=device).tolist(), mg.randn(2, 2, device=device).tolist(),
             mg.randint(0, 100, (5,), device=device).tolist(), mg.randperm(5, device=device).tolist()]
    assert first == again
    mg.manual_seed(43)
    assert mg.rand(3, device=device).tolist() != first[0]


def test_manual_seed_controls_dropout(device):
    x = mg.ones(100, device=device)
    mg.manual_seed(7)
    first = mg.nn.functional.dropout(x, 0.5).numpy()
    mg.manual_seed(7)
    again = mg.nn.functional.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(first, again)
    assert set(np.unique(first)) == {0.0, 2.0}
    assert not np.array_equal(mg.nn.functional.dropout(x, 0.5).numpy(), first)


def test_manual_seed_controls_in_place_initialisation(device):
    mg.manual_seed(3)
    a = mg.zeros(5, device=device).normal_().tolist()
    b = mg.zeros(5, device=device).uniform_(-1, 1).numpy()
    mg.manual_seed(3)
    assert mg.zeros(5, device=device).normal_().tolist() == a
    np.testing.assert_array_equal(mg.zeros(5, device=device).uniform_(-1, 1).numpy(), b)
    assert b.min() >= -1 and b.max() < 1


def test_rng_state_round_trip():
    state = backend.get_rng_state()
    first = mg.rand(3).tolist()
    backend.set_rng_state(state)
    assert mg.rand(3).tolist() == first


# --- dtype defaults as PyTorch; eye, logspace, empty_like; random draws ---------------------------

def test_arange_linspace_logspace_dtypes_and_values_match_torch():
    torch = pytest.importorskip("torch")
    cases = [
        lambda lib: lib.arange(5), lambda lib: lib.arange(1, 4), lambda lib: lib.arange(0, 1, 0.25),
        lambda lib: lib.arange(2.0), lambda lib: lib.arange(10, 0, -3), lambda lib: lib.arange(lib.tensor(3)),
        lambda lib: lib.arange(0, 5, dtype=lib.float64), lambda lib: lib.linspace(0, 10, 5),
        lambda lib: lib.linspace(0, 10, 4, dtype=lib.int64), lambda lib: lib.linspace(-1.0, 1.0, 1),
        lambda lib: lib.logspace(0, 2, 3), lambda lib: lib.logspace(0, 3, 4, base=2),
        lambda lib: lib.logspace(0, 2, 3, dtype=lib.int64), lambda lib: lib.eye(3), lambda lib: lib.eye(2, 4),
        lambda lib: lib.eye(3, dtype=lib.int64), lambda lib: lib.full((2,), 3), lambda lib: lib.full((2,), True),
        lambda lib: lib.full((2,), 1.5), lambda lib: lib.full_like(lib.tensor([1, 2]), 2.7),
        lambda lib: lib.zeros_like(lib.tensor([1, 2]), dtype=lib.float64), lambda lib: lib.empty_like(lib.ones(2, 3)),
        lambda lib: lib.ones_like(lib.tensor([1.0]), dtype=lib.bool),
    ]
    for case in cases:
        got, expected = case(mg), case(torch)
        assert str(got.dtype) == str(expected.dtype).replace("torch.", "")
        assert got.shape == tuple(expected.shape)
        if "empty" not in str(case.__code__.co_names):
            np.testing.assert_allclose(got.numpy().astype(float), expected.numpy().astype(float), rtol=1e-6)


def test_multinomial_with_and_without_replacement():
    weights = mg.tensor([[0.0, 1.0, 3.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    draws = mg.multinomial(weights, 2000, replacement=True)
    assert draws.shape == (2, 2000) and draws.dtype == mg.int64
    first = np.bincount(draws[0].numpy(), minlength=4) / 2000
    assert first[0] == 0 and first[3] == 0 and abs(first[2] - 0.75) < 0.04
    once = mg.multinomial(weights[1], 4)
    assert sorted(once.tolist()) == [0, 1, 2, 3]
    picks = np.array([mg.multinomial(mg.tensor([1.0, 8.0, 1.0]), 1).item() for _ in range(300)])
    assert abs((picks == 1).mean() - 0.8) < 0.08
    with pytest.raises(RuntimeError, match="without replacement"):
        mg.multinomial(weights[0], 3)
    with pytest.raises(RuntimeError):
        mg.multinomial(mg.tensor([-1.0, 2.0]), 1)


def test_bernoulli_and_normal_forms():
    p = mg.tensor([0.0, 1.0, 0.5] * 1000, dtype=mg.float64)
    draws = mg.bernoulli(p)
    assert draws.dtype == mg.float64
    assert draws[0::3].sum().item() == 0 and draws[1::3].sum().item() == 1000
    assert abs(draws[2::3].mean().item() - 0.5) < 0.05
    assert set(np.unique(mg.bernoulli(mg.zeros(100), 0.5).numpy())) == {0.0, 1.0}
    mean = mg.tensor([0.0, 100.0] * 2000, dtype=mg.float64)
    sample = mg.normal(mean, 2.0)
    assert sample.dtype == mg.float64 and sample.shape == mean.shape
    assert abs(sample[1::2].mean().item() - 100) < 0.2 and abs(sample[0::2].std().item() - 2) < 0.2
    sample = mg.normal(1.0, mg.full((4000,), 3.0))
    assert sample.dtype == mg.float32 and abs(sample.std().item() - 3) < 0.2
    assert mg.normal(0.0, 1.0, size=(2, 3)).shape == (2, 3)
    with pytest.raises(TypeError):
        mg.normal(0.0, 1.0)
    with pytest.raises(RuntimeError):
        mg.normal(mg.zeros(2), mg.tensor([1.0, -1.0]))


def test_arange_bounds_against_the_steps_sign_and_factories_without_a_size_raise_as_torch():
    torch = pytest.importorskip("torch")
    calls = [(RuntimeError, lambda lib: lib.arange(3, 0)), (RuntimeError, lambda lib: lib.arange(0, 3, -1)),
             (RuntimeError, lambda lib: lib.arange(0.0, 1.0, -0.5)),
             (TypeError, lambda lib: lib.zeros()), (TypeError, lambda lib: lib.ones(dtype=lib.float64)),
             (TypeError, lambda lib: lib.rand())]
    for error, call in calls:
        with pytest.raises(error):
            call(torch)
        with pytest.raises(error):
            call(mg)
    for call in (lambda lib: lib.arange(3, 3), lambda lib: lib.arange(3, 0, -1), lambda lib: lib.arange(0.0, -1.0, -0.5),
                 lambda lib: lib.zeros(()), lambda lib: lib.ones([]), lambda lib: lib.zeros(0)):
        got, expected = call(mg), call(torch)
        assert got.shape == tuple(expected.shape)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    with pytest.raises(RuntimeError, match=r"inconsistent with step sign \(start 3, end 0, step 1\)"):
        mg.arange(3, 0)
