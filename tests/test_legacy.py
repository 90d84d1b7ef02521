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

def test_inplace_flags_change_the_input_as_torch():
    for make in (lambda x: nn.ReLU(inplace=True)(x), lambda x: F.relu(x, inplace=True)):
        x = mg.tensor([-1.0, 2.0])
        out = make(x)
        np.testing.assert_array_equal(out.numpy(), [0.0, 2.0])
        np.testing.assert_array_equal(x.numpy(), [0.0, 2.0])
    for make in (lambda x: nn.LeakyReLU(0.2, inplace=True)(x), lambda x: F.leaky_relu(x, 0.2, inplace=True),
                 lambda x: F.leaky_relu(x, negative_slope=0.2, inplace=True)):
        x = mg.tensor([-1.0, 2.0])
        out = make(x)
        np.testing.assert_allclose(out.numpy(), [-0.2, 2.0])
        np.testing.assert_allclose(x.numpy(), [-0.2, 2.0])
    x = mg.tensor([-1.0, 2.0])
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


# --- the legacy constructor mg.Tensor(...), against torch.Tensor(...) --------------------------

@needs_torch
@pytest.mark.parametrize("args", [(), (5,), (2, 3), (0,), (1, 0, 2), (np.int64(3),)])
def test_tensor_of_sizes_matches_torch(args):
    ours, theirs = mg.Tensor(*args), torch.Tensor(*args)
    assert ours.shape == tuple(theirs.shape) and ours.type() == theirs.type() == "torch.FloatTensor"
    np.testing.assert_array_equal(ours.numpy(), np.zeros(ours.shape))


def test_tensor_of_a_size_and_size_keyword():
    assert mg.Tensor(mg.Size([2, 3])).shape == (2, 3) and mg.Tensor(size=(4,)).shape == (4,)
    assert mg.FloatTensor(mg.Size([2, 3])).shape == (2, 3)
    assert mg.Tensor(2, 3, device="cpu").device == "cpu"
    with pytest.raises(RuntimeError, match=r"negative dimension -1: \[2, -1\]"):
        mg.Tensor(2, -1)
    with pytest.raises(TypeError, match="takes sizes"):
        mg.Tensor(2, [3])


def test_tensor_of_a_tensor_is_an_alias_outside_the_graph():
    x = mg.tensor([1, 2])
    y = mg.Tensor(x)
    assert y is not x and y.dtype == np.int64 and np.shares_memory(y.array, x.array)
    y.add_(1)
    assert x._version[0] == y._version[0] == 1 and x.tolist() == [2, 3]


def test_data_becomes_the_default_float_dtype_as_in_pytorch():
    """torch.Tensor(data) is a FloatTensor whatever the data: ints, bools and float64 arrays too."""
    torch = pytest.importorskip("torch")
    for data in ([1, 2], [[True, False]], np.arange(3.0), np.arange(4, dtype=np.int64).reshape(2, 2), (0.5,)):
        mine, theirs = mg.Tensor(data), torch.Tensor(data)
        assert mine.dtype == np.float32 and theirs.dtype == torch.float32
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    source = np.arange(3.0)
    copied = mg.Tensor(source)
    copied.add_(1)
    assert source.tolist() == [0.0, 1.0, 2.0]  # a float64 array is converted, so never shared
    for bad in ("abc", 1.5, None):
        with pytest.raises(TypeError):
            mg.Tensor(bad)
        with pytest.raises(TypeError):
            torch.Tensor(bad)


def test_minigrad_keyword_form_keeps_the_dtype():
    """Tensor(data, dtype=..., requires_grad=...) (keywords torch.Tensor refuses) wraps data as it is."""
    data = np.arange(3.0)
    t = mg.Tensor(data, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad and np.shares_memory(t.array, data)
    assert mg.Tensor([1, 2], dtype=mg.float16).dtype == np.float16
    p = nn.Parameter(mg.ones(2, dtype=mg.float64))
    assert isinstance(p, mg.Tensor) and p.dtype == np.float64 and p.requires_grad
    with pytest.raises(TypeError, match="one data argument"):
        mg.Tensor(2, 3, requires_grad=True)


def test_default_dtype_drives_the_constructor_and_python_floats():
    assert mg.get_default_dtype() == mg.float32
    try:
        mg.set_default_dtype(mg.float64)
        assert mg.get_default_dtype() == mg.float64
        assert mg.Tensor(2).dtype == np.float64 and mg.Tensor().type() == "torch.DoubleTensor"
        assert mg.tensor([1.5]).dtype == np.float64 and mg.tensor(1.5).dtype == np.float64
        assert mg.FloatTensor(2).dtype == np.float32  # a named type keeps its dtype
        assert mg.ones(2).type(mg.Tensor).dtype == np.float64
        assert "dtype" not in repr(mg.tensor([1.5])) and "dtype=float32" in repr(mg.ones(1).float())
        with pytest.raises(TypeError, match="only floating-point types"):
            mg.set_default_dtype(mg.int64)
    finally:
        mg.set_default_dtype(mg.float32)
    assert mg.tensor([1.5]).dtype == np.float32


# --- t.type(...) and isinstance with the tensor types ----------------------------------------

@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8"])
def test_type_of_mg_tensor_and_isinstance_match_torch(dtype):
    ours, theirs = mg.zeros(2, dtype=np.dtype(dtype)), torch.zeros(2, dtype=getattr(torch, dtype))
    assert ours.type(mg.Tensor).type() == theirs.type(torch.Tensor).type() == "torch.FloatTensor"
    assert ours.type("torch.Tensor").dtype == np.float32
    for name in ["FloatTensor", "DoubleTensor", "LongTensor", "ByteTensor", "IntTensor", "ShortTensor",
                 "CharTensor", "HalfTensor", "BoolTensor"]:
        assert isinstance(ours, getattr(mg, name)) == isinstance(theirs, getattr(torch, name)), name
        assert ours.type(getattr(mg, name)).type() == theirs.type(getattr(torch, name)).type()
    assert isinstance(ours, mg.Tensor) and not isinstance(ours, mg.cuda.FloatTensor)
    assert not isinstance(np.zeros(2, dtype=dtype), mg.FloatTensor)


def test_type_with_nothing_to_change_returns_the_tensor_and_bad_names_raise():
    t = mg.ones(2)
    assert t.type(mg.FloatTensor) is t and t.type(mg.float32) is t
    assert t.type(mg.int32).dtype == np.int32
    for bad in ["FloatTensor", "float", "torch.cuda.Tensor", "torch.NoSuchTensor"]:
        with pytest.raises(ValueError, match="invalid type"):
            t.type(bad)


# --- t.new and t.new_* -------------------------------------------------------------------------

@needs_torch
def test_new_and_new_factories_match_torch():
    cases = [
        ("new", (2, 3), {}), ("new", ([1.5, 2],), {}), ("new", (), {}), ("new", ((2, 3),), {}),
        ("new_zeros", (2, 3), {}), ("new_zeros", ((2, 3),), {}), ("new_zeros", ([2],), {}), ("new_zeros", ((),), {}),
        ("new_ones", (2,), {"dtype": "float64"}), ("new_full", ((2,), 3.5), {}), ("new_full", ([2, 1], 3), {}),
        ("new_empty", (2,), {}), ("new_tensor", ([1.5, 2.5],), {}), ("new_tensor", (3,), {}),
        ("new_zeros", (2,), {"requires_grad": True}),
    ]
    for source_dtype in ["float32", "int64", "float64"]:
        ours, theirs = mg.zeros(1, dtype=np.dtype(source_dtype)), torch.zeros(1, dtype=getattr(torch, source_dtype))
        for method, args, kwargs in cases:
            if kwargs.get("requires_grad") and source_dtype == "int64":
                continue
            ours_kwargs = {k: (np.dtype(v) if k == "dtype" else v) for k, v in kwargs.items()}
            torch_kwargs = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kwargs.items()}
            got = getattr(ours, method)(*args, **ours_kwargs)
            want = getattr(theirs, method)(*args, **torch_kwargs)
            where = f"{source_dtype}.{method}{args}"
            assert got.shape == tuple(want.shape) and got.type() == want.type(), where
            assert got.requires_grad == want.requires_grad, where
            if method not in ("new", "new_empty") or args and isinstance(args[0], list):
                np.testing.assert_array_equal(got.numpy(), want.detach().numpy(), err_msg=where)


def test_new_errors_as_torch():
    t = mg.ones(2)
    with pytest.raises(TypeError, match="must be tuple of ints, not int"):
        t.new_full(2, 1.0)
    with pytest.raises(TypeError, match="expected a tensor of dtype float32"):
        t.new(mg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="only floating-point tensors can require gradients"):
        mg.tensor([1]).new_zeros(2, requires_grad=True)
    source = [1.0, 2.0]
    copy = t.new_tensor(source)
    assert copy.tolist() == source and not np.shares_memory(t.new_tensor(t).array, t.array)


# --- format(t, spec) ---------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("value, dtype", [(66.06, "float32"), (66.06, "float64"), (-0.5, "float16"),
                                          (3, "int64"), (True, "bool")])
@pytest.mark.parametrize("spec", ["", ".2f", "+.2f", ">10", ".3e"])
def test_format_of_a_zero_dim_tensor_matches_torch(value, dtype, spec):
    if dtype == "bool" and spec not in ("", ">10"):
        spec = ""
    ours, theirs = mg.tensor(value, dtype=np.dtype(dtype)), torch.tensor(value, dtype=getattr(torch, dtype))
    assert format(ours, spec) == format(theirs, spec)
    assert "{}".format(ours) == "{}".format(theirs)


@needs_torch
def test_format_of_other_tensors_matches_torch():
    assert "{}".format(mg.tensor([1.5, 2.0])) == "{}".format(torch.tensor([1.5, 2.0]))
    for t in [mg.tensor([1.5]), mg.tensor([]), mg.zeros(2, 2)]:
        with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
            format(t, ".2f")
    assert f"{mg.tensor(0.25, requires_grad=True):.1f}" == "0.2"  # round half to even, as Python


# --- mg.Size -----------------------------------------------------------------------------------

@needs_torch
def test_size_behaves_as_torch_size():
    ours, theirs = mg.Size([2, 3]), torch.Size([2, 3])
    assert ours == theirs == (2, 3) and isinstance(ours, tuple)
    assert repr(ours) == repr(theirs) == "torch.Size([2, 3])" and str(mg.Size([])) == str(torch.Size([]))
    assert ours.numel() == theirs.numel() == 6 and mg.Size([]).numel() == 1
    assert type(ours[1:]) is mg.Size and ours[1:] == (3,) and ours[0] == 2
    assert type(ours + (4,)) is mg.Size and ours + (4,) == theirs + (4,)
    assert type((4,) + ours) is mg.Size and (4,) + ours == (4,) + theirs
    assert ours * 2 == theirs * 2 and mg.Size([True]) == torch.Size([True])
    assert mg.Size(mg.tensor([2, 3])) == (2, 3)
    with pytest.raises(TypeError, match=r"takes an iterable of 'int' \(item 0 is 'float'\)"):
        mg.Size([2.5])


# --- printing ----------------------------------------------------------------------------------

@needs_torch
def test_set_printoptions_precision_and_profiles():
    values = [1.23456, 2.5]
    try:
        mg.set_printoptions(precision=2)
        torch.set_printoptions(precision=2)
        assert repr(mg.tensor(values)) == repr(torch.tensor(values)) == "tensor([1.23, 2.50])"
        mg.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
        assert repr(mg.tensor(values)) == repr(torch.tensor(values))
        mg.set_printoptions(threshold=5, edgeitems=2)
        assert "..." in repr(mg.arange(10))
    finally:
        mg.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert "..." not in repr(mg.arange(10))


# --- old spellings found by the census: resize_as_, type_as, nn.init without "_", cuda.set_device ---

def test_resize_as_and_resize_as_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):
        x = lib.arange(6.0).reshape(2, 3)
        flat = x.view(6)
        x.resize_(3, 2)
        assert tuple(x.shape) == (3, 2) and x.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
        x.resize_(4)
        assert x.tolist() == [0.0, 1.0, 2.0, 3.0] and flat.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        label = lib.zeros(1).resize_as_(lib.ones(5, 1)).fill_(1.0)  # old DCGAN code
        assert tuple(label.shape) == (5, 1) and label.sum().item() == 5.0
        x[0] = 9.0
        assert flat[0].item() == 9.0  # a shrunk tensor keeps its memory
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            lib.zeros(2, requires_grad=True).resize_(3)


def test_type_as_takes_the_other_tensors_dtype():
    ints, floats = mg.tensor([1, 2]), mg.zeros(1, dtype=mg.float64)
    assert ints.type_as(floats).dtype == np.float64 and ints.type_as(floats).tolist() == [1.0, 2.0]
    assert floats.type_as(floats) is floats


def test_the_old_init_names_warn_and_initialise_as_the_new_ones():
    torch = pytest.importorskip("torch")
    for name in ("uniform", "normal", "constant", "xavier_uniform", "xavier_normal", "kaiming_uniform",
                 "kaiming_normal", "orthogonal", "eye", "dirac"):
        weight = mg.zeros(4, 3, 3, 3) if name == "dirac" else mg.zeros(4, 3)
        args = (0.5,) if name == "constant" else ()
        with pytest.warns(FutureWarning, match=rf"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`"):
            getattr(nn.init, name)(weight, *args)
        assert hasattr(torch.nn.init, name)
        assert weight.abs().sum().item() > 0


def test_set_device_without_a_gpu_says_how_to_get_one():
    if mg.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="CuPy"):
        mg.cuda.set_device(0)
    mg.cuda.set_device(-1)  # a negative index does nothing, as PyTorch


def test_scripts_that_import_onnx_or_ask_other_device_predicates_still_run():
    import minigrad.onnx
    assert not minigrad.onnx.is_in_onnx_export()
    with pytest.raises(NotImplementedError, match="cannot export to ONNX.*state_dict"):
        minigrad.onnx.export(nn.Linear(2, 2), mg.zeros(1, 2), "model.onnx")
    x = mg.zeros(2)
    assert not (x.is_cuda or x.is_xpu or x.is_mps or x.is_meta or x.is_sparse or x.is_quantized)


def test_the_rarer_names_the_census_found():
    torch = pytest.importorskip("torch")
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        values = mg.range(0, 1, 0.25)
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        expected = torch.range(0, 1, 0.25)
    assert values.dtype == np.float32 and values.tolist() == expected.tolist()
    with pytest.warns(UserWarning):
        assert mg.range(1, 4).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert mg.zeros(2).get_device() == torch.zeros(2).get_device() == -1
    mg.manual_seed(0)
    draws = mg.tensor([0.0, 1.0, 0.0]).multinomial(4, replacement=True)
    assert draws.dtype == np.int64 and draws.tolist() == [1, 1, 1, 1]
    w = mg.ones(3, requires_grad=True)
    (w * 10).sum().backward()
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = nn.utils.clip_grad_norm([w], 1.0)
    assert abs(total.item() - 300 ** 0.5) < 1e-4 and abs(w.grad.norm().item() - 1.0) < 1e-4
