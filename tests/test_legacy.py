"""Old and alternative PyTorch spellings that GAN scripts use: Variable, FloatTensor(2, 3),
t.type(...), mg.device(...), mg.utils.data, DataLoader(num_workers=...), inplace=...,
mg.empty, mg.mul, clamp_, expand_as. Each is checked against torch where torch is installed."""


import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

try:
    import torch
except ImportError:  # the torch comparisons below are skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


# --- Variable ---------------------------------------------------------------------------

def test_variable_is_a_new_leaf_sharing_memory():
    t = mg.ones(3)
    v = mg.autograd.Variable(t, requires_grad=True)
    assert isinstance(v, mg.Tensor) and v is not t
    assert v.requires_grad and v.is_leaf and not t.requires_grad
    assert np.shares_memory(v.array, t.array)
    (v * 2).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [2, 2, 2])
    assert not mg.autograd.Variable(t).requires_grad


def test_variable_import_path_and_volatile():
    from minigrad.autograd import Variable
    with pytest.warns(UserWarning, match="volatile was removed"):
        v = Variable(mg.ones(2), volatile=True)
    assert not v.requires_grad
    with pytest.raises(TypeError, match="takes a Tensor"):
        Variable([1.0, 2.0])


# --- FloatTensor and friends, t.type() ----------------------------------------------------

def test_tensor_types_take_sizes_or_data():
    assert mg.FloatTensor(2, 3).shape == (2, 3) and mg.FloatTensor(2, 3).dtype == np.float32
    assert mg.FloatTensor(4).shape == (4,)
    np.testing.assert_array_equal(mg.FloatTensor([2, 3]).numpy(), [2.0, 3.0])
    np.testing.assert_array_equal(mg.FloatTensor((2, 3)).numpy(), [2.0, 3.0])  # a tuple is data, as torch
    assert mg.FloatTensor().shape == (0,)
    assert mg.LongTensor(2).dtype == np.int64 and mg.LongTensor([1.5]).dtype == np.int64
    assert mg.DoubleTensor(1, 1).dtype == np.float64
    z = mg.FloatTensor(64, 100).normal_(0, 1)  # the classic noise idiom
    assert z.shape == (64, 100) and z.std().item() > 0.5
    with pytest.raises(TypeError, match="takes sizes"):
        mg.FloatTensor([1], [2])


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8", "bool"])
def test_type_string_matches_torch(dtype):
    ours = mg.zeros(2, dtype=np.dtype(dtype))
    theirs = torch.zeros(2, dtype=getattr(torch, dtype))
    assert ours.type() == theirs.type()


def test_type_converts():
    t = mg.tensor([1.5, 2.5])
    assert t.type() == "torch.FloatTensor"
    assert t.type(mg.DoubleTensor).dtype == np.float64
    assert t.type(mg.LongTensor).type() == "torch.LongTensor"
    assert t.type("torch.DoubleTensor").dtype == np.float64
    assert t.type(mg.float64).dtype == np.float64
    assert repr(mg.FloatTensor) == "<class 'torch.FloatTensor'>"
    assert mg.cuda.FloatTensor.name == "torch.cuda.FloatTensor"
    with pytest.raises(ValueError, match="invalid type"):
        t.type("torch.NoSuchTensor")


def test_cuda_tensor_types():
    t = mg.tensor([1, 2])
    if mg.cuda.is_available():
        moved = t.type(mg.cuda.FloatTensor)
        assert moved.device == "cuda" and moved.dtype == np.float32 and moved.type() == "torch.cuda.FloatTensor"
        assert mg.cuda.FloatTensor(2, 2).device == "cuda"
    else:
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            t.type(mg.cuda.FloatTensor)


# --- mg.device -------------------------------------------------------------------------------

def test_device_objects():
    assert str(mg.device("cpu")) == "cpu" and str(mg.device("cuda:0")) == "cuda:0"
    assert repr(mg.device("cuda", 0)) == "device(type='cuda', index=0)"
    assert mg.device("cuda:0").type == "cuda" and mg.device("cuda:0").index == 0
    assert mg.device("cpu") == "cpu" and mg.device("cpu") == mg.device("cpu") and mg.device("cpu") != "cuda"
    assert mg.device(mg.device("cpu")) == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        mg.device("tpu")


@needs_torch
def test_device_repr_matches_torch():
    for name in ("cpu", "cuda", "cuda:0"):
        assert repr(mg.device(name)) == repr(torch.device(name))
        assert str(mg.device(name)) == str(torch.device(name))


def test_device_objects_are_accepted_wherever_a_device_string_is():
    cpu = mg.device("cpu")
    assert mg.zeros(2, device=cpu).device == "cpu"
    assert mg.randn(2, device=cpu).device == "cpu"
    assert mg.tensor([1.0], device=cpu).device == "cpu"
    assert mg.ones(2).to(cpu).device == "cpu"
    assert mg.ones(2).to(cpu, mg.float64).dtype == np.float64
    model = nn.Linear(2, 2).to(cpu)
    assert model.weight.device == "cpu"
    if mg.cuda.is_available():
        assert mg.ones(2).to(mg.device("cuda:0")).device == "cuda"
        assert nn.Linear(2, 2).to(mg.device("cuda")).weight.device == "cuda"


# --- mg.utils.data, DataLoader's extra arguments ---------------------------------------------

def test_utils_data_paths():
    import minigrad.utils.data as data
    assert mg.utils.data.DataLoader is mg.data.DataLoader is data.DataLoader
    assert mg.utils.data.Dataset is mg.data.Dataset
    from minigrad.utils.data import DataLoader, Dataset, TensorDataset  # noqa: F401


def test_dataloader_accepts_num_workers_and_pin_memory():
    dataset = mg.data.TensorDataset(mg.arange(10))
    plain = [b[0].tolist() for b in mg.utils.data.DataLoader(dataset, batch_size=4)]
    loader = mg.utils.data.DataLoader(dataset, batch_size=4, num_workers=4, pin_memory=True)
    assert [b[0].tolist() for b in loader] == plain


# --- inplace= ---------------------------------------------------------------------------------

def test_inplace_flags_are_accepted_and_compute_out_of_place():
    x = mg.tensor([-1.0, 2.0])
    for out in (nn.ReLU(inplace=True)(x), F.relu(x, inplace=True)):
        np.testing.assert_array_equal(out.numpy(), [0.0, 2.0])
    for out in (nn.LeakyReLU(0.2, inplace=True)(x), F.leaky_relu(x, 0.2, inplace=True),
                F.leaky_relu(x, negative_slope=0.2, inplace=True)):
        np.testing.assert_allclose(out.numpy(), [-0.2, 2.0])
    np.testing.assert_array_equal(x.numpy(), [-1.0, 2.0])  # untouched
    assert nn.Dropout(0.5, inplace=True).eval()(x) is x
    np.testing.assert_array_equal(F.dropout(x, 0.5, training=False, inplace=True).numpy(), x.numpy())
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)" and repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.LeakyReLU(0.2, inplace=True)) == "LeakyReLU(negative_slope=0.2, inplace=True)"


# --- small things: empty, mul, clamp_, expand_as ------------------------------------------------

def test_empty_and_mul():
    e = mg.empty(2, 3)
    assert e.shape == (2, 3) and e.dtype == np.float32
    assert mg.empty((4,), dtype=mg.float64).dtype == np.float64
    np.testing.assert_array_equal(mg.mul(mg.tensor([1.0, 2.0]), 3).numpy(), [3.0, 6.0])


def test_clamp_in_place():
    w = nn.Parameter(mg.tensor([-0.5, 0.005, 0.5]))
    with pytest.raises(RuntimeError, match="in-place"):
        w.clamp_(-0.01, 0.01)
    w.data.clamp_(-0.01, 0.01)  # WGAN's weight clipping
    np.testing.assert_allclose(w.numpy(), [-0.01, 0.005, 0.01])
    t = mg.tensor([1.0, 5.0])
    version = t._version[0]
    assert t.clamp_(max=2.0) is t and t.tolist() == [1.0, 2.0] and t._version[0] == version + 1
    assert mg.tensor([-3.0]).clamp_(min=0).tolist() == [0.0]
    with pytest.raises(ValueError, match="at least one"):
        t.clamp_()


def test_expand_as():
    x = mg.tensor([[1.0], [2.0]], requires_grad=True)
    y = x.expand_as(mg.zeros(2, 3))
    assert y.shape == (2, 3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0], [3.0]])
