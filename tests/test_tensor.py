"""The Tensor: its attributes, getting values out, devices and dtypes, repr, in-place
writes, and the version counter that catches in-place changes to saved tensors; how its
modules put it together."""

import ast
import copy
import pathlib
import pickle

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend
from minigrad.legacy import LegacyTensorMethods
from minigrad.printing import TensorPrinting
from minigrad.tensor_methods import TensorMethods


def xp_for(device):
    return backend.array_module(device)


# --- what a tensor is ---------------------------------------------------------------------

def test_data_is_the_raw_array(device):
    t = mg.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    assert type(t.array) is xp_for(device).ndarray
    assert t.array.dtype == np.float32
    np.testing.assert_array_equal(backend.to_numpy(t.array), [[1.0, 2.0], [3.0, 4.0]])


def test_attributes(device):
    t = mg.zeros(2, 3, 4, device=device)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.size() == (2, 3, 4) and t.size(1) == 3
    assert t.dtype == np.float32 == mg.float32
    assert t.device == device
    assert t.ndim == 3 == t.dim()
    assert t.numel() == 24
    assert len(t) == 2
    assert t.grad is None and t.grad_fn is None and t.is_leaf
    assert t.requires_grad is False


def test_len_of_a_0d_tensor_is_an_error():
    with pytest.raises(TypeError, match="0-d"):
        len(mg.tensor(1.0))


def test_iterating_gives_rows(device):
    rows = list(mg.tensor([[1, 2], [3, 4]], device=device))
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4]]


def test_requires_grad(device):
    t = mg.tensor([1.0], device=device, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None
    assert t.requires_grad_(False) is t and not t.requires_grad
    y = mg.tensor([1.0], device=device, requires_grad=True) * 2
    assert y.requires_grad and not y.is_leaf


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating-point"):
        mg.tensor([1, 2], requires_grad=True)


def test_item(device):
    assert mg.tensor(2.5, device=device).item() == 2.5
    assert mg.tensor([[7]], device=device).item() == 7
    assert isinstance(mg.tensor([3], device=device).item(), int)
    with pytest.raises(RuntimeError, match=r"one element.*\(2,\)"):
        mg.tensor([1.0, 2.0], device=device).item()


def test_float_int_bool_conversions():
    assert float(mg.tensor([2.5])) == 2.5
    assert int(mg.tensor(3)) == 3
    assert bool(mg.tensor(1.0)) is True
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(mg.tensor([1.0, 2.0]))


def test_numpy_shares_memory_on_the_cpu():
    t = mg.tensor([1.0, 2.0])
    array = t.numpy()
    assert isinstance(array, np.ndarray)
    array[0] = 9.0
    assert t.tolist() == [9.0, 2.0]


def test_numpy_gives_a_host_array(device):
    t = mg.tensor([1.0, 2.0], device=device)
    assert type(t.numpy()) is np.ndarray
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0])


def test_detach_shares_memory_and_version_but_not_the_graph(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.grad is None
    assert d.array is y.array
    assert d._version is y._version
    d[0] = 10.0                     # no grad needed: allowed, and seen through y
    assert y.tolist() == [10.0, 6.0]
    assert y._version[0] == 1


def test_backward_method(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x * x
    y.backward(gradient=mg.ones(2, device=device), retain_graph=True)
    y.backward(mg.ones(2, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    assert isinstance(x.grad, mg.Tensor) and not x.grad.requires_grad


# --- devices and dtypes ---------------------------------------------------------------------

def test_to_the_same_device_is_the_same_tensor(device):
    t = mg.ones(2, device=device)
    assert t.to(device) is t
    assert t.cpu().device == "cpu"


def test_to_an_unknown_device():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        mg.ones(2).to("tpu")


@pytest.mark.skipif(mg.cuda.is_available(), reason="checks the message shown when there is no GPU")
def test_cuda_without_cupy_says_how_to_install_it():
    with pytest.raises(RuntimeError, match=r'pip install "minigrad\[gpu\]"'):
        mg.ones(2).cuda()
    with pytest.raises(RuntimeError, match="CuPy"):
        mg.ones(2).to("cuda:0")


@pytest.mark.skipif(not mg.cuda.is_available(), reason="needs CuPy and a GPU")
def test_cuda_round_trip_carries_the_gradient_back():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    on_gpu = x.cuda()
    assert on_gpu.device == "cuda" and x.to("cuda:0").device == "cuda"
    (on_gpu * on_gpu).cpu().sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_float_and_double(device):
    x = mg.tensor([1.5, 2.5], device=device, requires_grad=True)
    d = x.double()
    assert d.dtype == np.float64 and d.requires_grad and d.device == device
    assert d.float().dtype == np.float32
    assert x.float() is x
    assert mg.tensor([1, 2], device=device).float().dtype == np.float32
    (d * d).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 5.0])


def test_to_dtype_and_other_tensor(device):
    x = mg.tensor([1.0, 2.0], device=device)
    assert x.to(mg.float64).dtype == np.float64
    assert x.to(dtype=mg.int64).tolist() == [1, 2]
    assert x.to(mg.zeros(1, dtype=mg.float64)).dtype == np.float64
    assert x.long().dtype == np.int64 and x.bool().dtype == np.bool_


# --- repr --------------------------------------------------------------------------------

def test_repr_looks_like_pytorch():
    assert repr(mg.tensor([1.0, 2.0, 3.0], requires_grad=True)) == "tensor([1., 2., 3.], requires_grad=True)"
    assert repr(mg.tensor([1.0, 2.0, 3.0])) == "tensor([1., 2., 3.])"
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(mg.tensor(2.5)) == "tensor(2.5000)"
    assert repr(mg.tensor([[1, 2], [3, 4]])) == "tensor([[1, 2],\n        [3, 4]])"
    assert repr(mg.tensor([1.0, 2.0], dtype=mg.float64)) == "tensor([1., 2.], dtype=float64)"


@pytest.mark.parametrize("values", [[1.5, 2.0], [1.0, 2.0], [0.0, 0.0], [1e-5, 1.0], [1e9, 1.0], [float("nan"), 1.5],
                                    [float("inf"), -2.0], [-1.25, 10.5], [[1.5, -2.0], [3.0, 4.0]], 66.06, 3.0, [],
                                    [1e-5], [float("nan")], [123456.789], [0.1, -0.25, 1000.5]])
def test_float_repr_matches_torch(values):
    torch = pytest.importorskip("torch")
    assert repr(mg.tensor(values)) == repr(torch.tensor(values))


def test_repr_of_a_result_names_its_grad_fn():
    y = mg.tensor([1.0, 2.0], requires_grad=True) * 2
    assert repr(y) == "tensor([2., 4.], grad_fn=<MulBackward>)"


# --- in-place writes ---------------------------------------------------------------------

def test_item_assignment_as_the_book_does(device):
    target = mg.zeros(10, device=device)
    target[3] = 1.0
    assert target.tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    target[5:7] = mg.tensor([2.0, 3.0], device=device)
    assert target.tolist()[5:7] == [2.0, 3.0]
    target[mg.tensor([0, 1], device=device)] = 4.0
    assert target.tolist()[:2] == [4.0, 4.0]
    assert target._version[0] == 3


def test_item_assignment_on_a_tensor_requiring_grad_needs_no_grad(device):
    w = mg.zeros(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"requires grad.*no_grad"):
        w[0] = 1.0
    assert w.tolist() == [0.0, 0.0, 0.0]
    with mg.no_grad():
        w[0] = 1.0
    assert w.tolist() == [1.0, 0.0, 0.0]


@pytest.mark.parametrize("method, args, expected", [
    ("zero_", (), [0.0, 0.0]),
    ("fill_", (7.0,), [7.0, 7.0]),
    ("add_", (1.0,), [2.0, 3.0]),
    ("add_", (2.0,), [3.0, 4.0]),
    ("mul_", (3.0,), [3.0, 6.0]),
])
def test_in_place_methods(device, method, args, expected):
    t = mg.tensor([1.0, 2.0], device=device)
    assert getattr(t, method)(*args) is t
    assert t.tolist() == expected
    assert t._version[0] == 1
    w = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        getattr(w, method)(*args)


def test_add_with_alpha_and_copy(device):
    t = mg.tensor([1.0, 2.0], device=device)
    t.add_(mg.tensor([1.0, 1.0], device=device), alpha=-0.5)
    assert t.tolist() == [0.5, 1.5]
    t.copy_(mg.tensor([4.0, 5.0], device=device))
    assert t.tolist() == [4.0, 5.0]


# --- the version counter: in-place changes to saved tensors ---------------------------------

def test_in_place_write_to_a_saved_input_is_caught_at_backward(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    w = mg.tensor([3.0, 4.0], device=device, requires_grad=True)
    y = x * w
    with mg.no_grad():
        w[0] = 5.0
    with pytest.raises(RuntimeError, match=r"in-place.*Mul.*version 1; expected version 0"):
        y.sum().backward()


def test_add_on_a_saved_input_is_caught(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    w = mg.tensor([3.0, 4.0], device=device)
    y = x * w
    w.add_(1)
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


def test_in_place_write_through_a_view_is_caught(device):
    x = mg.tensor([[1.0, 2.0]], device=device, requires_grad=True)
    w = mg.tensor([[3.0, 4.0]], device=device, requires_grad=True)
    y = x * w
    v = w.view(-1)
    with mg.no_grad():
        v[0] = 5.0
    assert w.tolist() == [[5.0, 4.0]]
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


@pytest.mark.parametrize("make_view", [
    lambda w: w[0],
    lambda w: w.T,
    lambda w: w.reshape(4),
    lambda w: w.unsqueeze(0),
    lambda w: w.detach(),
])
def test_in_place_write_through_any_view_is_caught(device, make_view):
    x = mg.ones(2, 2, device=device, requires_grad=True)
    w = mg.ones(2, 2, device=device)
    y = x @ w
    make_view(w).mul_(2)
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


def test_in_place_write_to_the_base_of_a_saved_view_is_caught(device):
    x = mg.ones(3, device=device, requires_grad=True)
    w = mg.ones(2, 3, device=device)
    y = x * w[1]
    w.zero_()
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


@pytest.mark.parametrize("op", ["exp", "sigmoid", "tanh", "sqrt"])
def test_in_place_write_to_a_saved_output_is_caught(device, op):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = getattr(x, op)()
    with mg.no_grad():
        y[0] = 5.0
    with pytest.raises(RuntimeError, match=rf"in-place.*{op.capitalize()}"):
        y.sum().backward()


def test_in_place_write_to_an_input_backward_does_not_need_is_fine(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    w = mg.tensor([3.0, 4.0], device=device)
    y = x + w
    w[0] = 10.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_in_place_write_after_backward_is_fine(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    w = mg.tensor([3.0, 4.0], device=device)
    (x * w).sum().backward()
    w[0] = 10.0
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_a_parameter_update_under_no_grad_then_a_new_forward_is_fine(device):
    """The training loop: forward, backward, update in place, forward again."""
    w = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with mg.no_grad():
            w.add_(w.grad, alpha=-0.25)
        w.grad = None
    np.testing.assert_allclose(w.numpy(), [0.125, 0.25])


def test_accumulating_a_loss_with_plus_equals_keeps_its_gradient():
    """total += loss must not drop the gradient (minigrad records it as total = total + loss)."""
    w = mg.tensor([2.0], requires_grad=True)
    total = mg.zeros(1)
    total += w * 3
    (total + w).sum().backward()
    assert w.grad.item() == 4.0


def test_in_place_methods_record_a_source_that_requires_grad():
    """target.add_(w) with w requiring grad is recorded (as PyTorch), not refused or lost."""
    w = mg.tensor([2.0], requires_grad=True)
    target = mg.zeros(1)
    target.add_(w).mul_(w)  # (0 + w) * w
    assert target.requires_grad and target.item() == 4.0
    target.sum().backward()
    assert w.grad.item() == 4.0  # d(w^2)/dw
    copied = mg.zeros(2)
    copied.copy_(w)  # broadcast into copied, the gradient summed back to w
    (copied * mg.tensor([1.0, 3.0])).sum().backward()
    assert w.grad.item() == 8.0
    with mg.no_grad():
        plain = mg.zeros(1).add_(w)  # without a graph there is nothing to record
    assert plain.item() == 2.0 and not plain.requires_grad


def test_plus_equals_on_a_non_leaf_changes_it_in_place_and_records_it():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    alias = y
    y += 1
    assert y is alias and alias.tolist() == [3.0, 5.0]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


# --- .data is PyTorch's: a Tensor sharing memory, outside the graph ------------------------------

def test_data_is_a_tensor_sharing_memory_that_does_not_require_grad():
    w = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    d = w.data
    assert isinstance(d, mg.Tensor) and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.array, w.array)
    d.mul_(0.5)
    assert w.tolist() == [0.5, -1.0, 1.5]  # the in-place change reached w
    assert d.size(0) == 3 and w.data.numpy().tolist() == w.numpy().tolist()


def test_assigning_data_replaces_the_storage():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    w.data = mg.tensor([[5.0, 6.0, 7.0]])
    assert w.shape == (1, 3) and w.requires_grad and w.tolist() == [[5.0, 6.0, 7.0]]
    with pytest.raises(TypeError, match="t.array"):
        w.data = np.zeros(3)


def test_changes_through_data_are_not_refused_or_counted_by_autograd():
    """As in PyTorch, .data has its own version counter (detach() shares it)."""
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    w.data.mul_(2)  # allowed although w requires grad: .data is outside the graph
    y.backward()
    assert w._version[0] == 0


def test_comparison_methods_by_pytorch_names_match_the_operators():
    a, b = mg.tensor([1, 2, 3]), mg.tensor([1, 3, 2])
    for method, operator in [("eq", "__eq__"), ("ne", "__ne__"), ("lt", "__lt__"), ("le", "__le__"),
                             ("gt", "__gt__"), ("ge", "__ge__")]:
        assert np.array_equal(getattr(a, method)(b).array, getattr(a, operator)(b).array)
    assert a.eq(b).dtype == mg.bool and a.eq(b).sum().item() == 1  # accuracy counts: pred.eq(labels).sum()
    assert np.array_equal(a.gt(2).array, [False, False, True])  # a number is broadcast


# --- how the Tensor is put together: tensor.py and the classes it inherits ----------------------

PACKAGE = pathlib.Path(mg.__file__).parent


@pytest.mark.parametrize("filename", sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")))
def test_every_module_imports_at_the_top_only(filename):
    """What builds on Tensor (ops, autograd, creation) is read through the package when a method
    runs, so no module of minigrad imports its own modules in the middle, at the bottom or in a
    function."""
    tree = ast.parse((PACKAGE / filename).read_text())
    first = min((node.lineno for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))),
                default=len(tree.body) and tree.body[-1].end_lineno + 1)
    late = [node.lineno for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
            and node.lineno > first and (node in tree.body or _is_minigrad(node))]
    assert late == [], f"minigrad/{filename} imports at lines {late}, after its first def or class"


def _is_minigrad(node):
    """An import of minigrad's own modules. (An optional library, such as mpi4py or CuPy's NCCL, is
    imported where it is first needed, so that minigrad runs without it.)"""
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").startswith("minigrad")
    return any(alias.name.startswith("minigrad") for alias in node.names)


def test_a_tensor_keeps_its_state_in_slots_whatever_it_inherits():
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    assert not hasattr(t, "__dict__")
    with pytest.raises(AttributeError):
        t.note = "no room for it"
    assert {t: "found"}[t] == "found"  # hashed by identity, though == is elementwise
    assert hash(t) != hash(mg.tensor([1.0, 2.0]))
    for copied in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert copied is not t and copied.tolist() == [1.0, 2.0] and copied.requires_grad
        assert copied.grad_fn is None and copied._version is not t._version


def test_the_tensor_methods_come_from_their_modules():
    assert mg.Tensor.__mro__[1:] == (TensorMethods, LegacyTensorMethods, TensorPrinting, object)
    assert mg.Tensor.__add__ is TensorMethods.__add__ and mg.Tensor.type is LegacyTensorMethods.type
    assert mg.Tensor.__repr__ is TensorPrinting.__repr__
    assert "backward" in vars(mg.Tensor) and "_apply_in_place" in vars(mg.Tensor)  # the core stays in tensor.py


def test_item_assignment_checks_integer_indices_on_every_device(device):
    """x[index] = v with an index tensor out of range raises IndexError, as PyTorch, also where a GPU
    would wrap it around; an index within range writes there, on x's device."""
    x = mg.zeros(2, device=device)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        x[mg.tensor([5], device=device)] = 1.0
    x[mg.tensor([1], device=device)] = 3.0
    assert x.tolist() == [0.0, 3.0]
