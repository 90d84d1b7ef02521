"""The engine: graph building, the backward traversal, gradient accumulation, unbroadcast,
no_grad, and the errors a learner meets (backward twice, non-scalar backward, shapes, devices)."""

import gc

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import backend
from minigrad.autograd import Function, topological_order, unbroadcast

from helpers import DEVICES


def leaf(values, device, dtype=mg.float64):
    return mg.tensor(values, dtype=dtype, device=device, requires_grad=True)


def shares_memory(a, b):
    return bool(backend.array_module(a).shares_memory(a, b))


# --- deep graphs ----------------------------------------------------------------------

@pytest.mark.parametrize("depth", [5_000, 10_000])
def test_deep_chain_needs_no_recursion(depth, device):
    """The traversal is iterative: far deeper than Python's recursion limit (1000 frames)."""
    x = leaf(1.0, device)
    y = x
    for _ in range(depth):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** depth, rel=1e-9)
    del y
    gc.collect()  # freeing the long chain must not overflow the stack either


def test_deep_chain_of_adds_and_retain_graph(device):
    x = leaf(2.0, device)
    y = x
    for _ in range(10_000):
        y = y + x
    y.backward(retain_graph=True)
    assert x.grad.item() == 10_001
    y.backward()
    assert x.grad.item() == 20_002


# --- gradients of tensors used several times --------------------------------------------

def test_square_through_one_mul(device):
    x = leaf([1.0, -2.0, 3.0], device)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0, 6.0])


def test_two_branches_add_up(device):
    x = leaf([1.0, 2.0], device)
    a = x * 3
    b = x.exp()
    (a + b).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 + np.exp([1.0, 2.0]), rtol=1e-15)


def test_diamond_graph(device):
    """x -> a -> (b, c) -> d: a's gradient collects both paths before it moves on to x."""
    x = leaf([0.5, -1.5], device)
    a = x * 2
    b = a * a          # d b / d a = 2a
    c = a * 5          # d c / d a = 5
    d = (b + c).sum()
    d.backward()
    a_value = 2 * np.array([0.5, -1.5])
    np.testing.assert_allclose(x.grad.numpy(), (2 * a_value + 5) * 2, rtol=1e-15)


def test_tensor_used_in_many_places_of_one_op_chain(device):
    x = leaf(3.0, device)
    y = x * x * x + x * 2 - x          # 3x^2 + 2 - 1 = 28 at x = 3
    y.backward()
    assert x.grad.item() == 28.0


def test_topological_order_lists_each_tensor_once_and_before_its_inputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a.exp()
    c = a * b
    order = topological_order(c)
    assert order[0] is c and order[-1] is x
    assert len(order) == len({id(t) for t in order}) == 4
    position = {id(t): i for i, t in enumerate(order)}
    assert position[id(c)] < position[id(b)] < position[id(a)] < position[id(x)]


# --- accumulation across backward calls, and resetting -----------------------------------------

def test_gradients_accumulate_across_backward_calls(device):
    x = leaf([1.0, 2.0], device)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3 + 2, 3 + 4])


def test_zero_grad_resets(device):
    x = leaf([1.0, 2.0], device)
    (x * 3).sum().backward()
    x.grad.zero_()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_setting_grad_to_none_resets(device):
    x = leaf([1.0, 2.0], device)
    (x * 3).sum().backward()
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_scalar_leaf_broadcast_against_a_vector_gets_an_array_grad(device):
    """unbroadcast down to shape () must give a 0-d array, not a NumPy scalar, or zero_() has nothing to fill."""
    x = leaf(2.0, device)
    (x * mg.ones(3, dtype=mg.float64, device=device)).sum().backward()
    assert backend.is_array(x.grad.array) and x.grad.shape == ()
    assert x.grad.item() == 3.0
    x.grad.zero_()
    assert x.grad.item() == 0.0


# --- the graph is spent after backward unless retained -----------------------------------------

def test_second_backward_through_freed_graph_names_retain_graph(device):
    x = leaf([1.0, 2.0], device)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_backward_through_a_freed_part_of_a_graph(device):
    x = leaf([1.0, 2.0], device)
    shared = x * x
    shared.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (shared * 2).sum().backward()


def test_retain_graph_twice_doubles_the_gradient(device):
    x = leaf([1.0, 2.0], device)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    y.backward()  # the last one may free the graph
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 12.0])
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_backward_frees_saved_arrays(device):
    x = leaf([1.0, 2.0], device)
    y = x.relu()
    fn = y.grad_fn
    assert fn.inputs is not None and hasattr(fn, "positive")
    y.sum().backward()
    assert fn.inputs is None and not hasattr(fn, "positive")


# --- the root's gradient -----------------------------------------------------------------------

def test_non_scalar_backward_needs_a_gradient(device):
    x = leaf([1.0, 2.0], device)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar.*\(2,\)"):
        y.backward()


def test_non_scalar_backward_with_gradient(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = x * x
    y.backward(mg.tensor([1.0, 0.5, -1.0], dtype=mg.float64, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, -6.0])


def test_backward_gradient_of_wrong_shape_names_both_shapes(device):
    x = leaf([[1.0, 2.0, 3.0]], device)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(1, 3\)"):
        y.backward(mg.ones(3, dtype=mg.float64, device=device))


def test_gradient_as_a_list(device):
    x = leaf([1.0, 2.0], device)
    (x * 3).backward([1.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 6.0])


def test_backward_of_a_tensor_without_grad_is_an_error(device):
    with pytest.raises(RuntimeError, match="does not require grad"):
        (mg.ones(2, device=device) * 2).sum().backward()


def test_backward_of_a_leaf(device):
    x = leaf([1.0, 2.0], device)
    g = mg.tensor([3.0, 4.0], dtype=mg.float64, device=device)
    x.backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    assert not shares_memory(x.grad.array, g.array)  # the caller's gradient stays the caller's


# --- no_grad / enable_grad ---------------------------------------------------------------------

def test_no_grad_context_manager(device):
    x = leaf([1.0, 2.0], device)
    assert mg.is_grad_enabled()
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    z = x * 2
    assert z.requires_grad and z.grad_fn is not None


def test_no_grad_decorator(device):
    @mg.no_grad()
    def double(t):
        """Doubles."""
        assert not mg.is_grad_enabled()
        return t * 2

    y = double(leaf([1.0], device))
    assert not y.requires_grad and y.grad_fn is None
    assert mg.is_grad_enabled()
    assert double.__name__ == "double" and double.__doc__ == "Doubles."


def test_enable_grad_inside_no_grad(device):
    x = leaf([1.0, 2.0], device)
    with mg.no_grad():
        with mg.enable_grad():
            assert mg.is_grad_enabled()
            y = x * 2
        assert not mg.is_grad_enabled()
        z = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_enable_grad_decorator_inside_no_grad(device):
    @mg.enable_grad()
    def tracked(t):
        return t * 2

    with mg.no_grad():
        y = tracked(leaf([1.0], device))
    assert y.requires_grad


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            1 / 0
    assert mg.is_grad_enabled()


def test_set_grad_enabled():
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
        with mg.set_grad_enabled(True):
            assert mg.is_grad_enabled()
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


# --- unbroadcast ---------------------------------------------------------------------------

def _unbroadcast(grad, shape):
    """unbroadcast of a Tensor made from the array `grad`, as an array."""
    return unbroadcast(mg.tensor(grad), shape).numpy()


def test_unbroadcast_leading_dims():
    grad = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(_unbroadcast(grad, (3, 4)), grad.sum(axis=0))
    np.testing.assert_array_equal(_unbroadcast(grad, (4,)), grad.sum(axis=(0, 1)))


def test_unbroadcast_stretched_dims():
    grad = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(_unbroadcast(grad, (2, 1, 4)), grad.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(_unbroadcast(grad, (1, 3, 1)), grad.sum(axis=(0, 2), keepdims=True))


def test_unbroadcast_both():
    grad = np.arange(24.0).reshape(2, 3, 4)
    result = _unbroadcast(grad, (3, 1))
    assert result.shape == (3, 1)
    np.testing.assert_array_equal(result, [[0 + 1 + 2 + 3 + 12 + 13 + 14 + 15], [92], [124]])


def test_unbroadcast_to_a_scalar_and_to_the_same_shape():
    grad = np.arange(6.0).reshape(2, 3)
    scalar = _unbroadcast(grad, ())
    assert isinstance(scalar, np.ndarray) and scalar.shape == () and scalar == 15.0
    same = mg.tensor(grad)
    assert unbroadcast(same, (2, 3)) is same


@pytest.mark.parametrize("device", DEVICES)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3),
       seed=st.integers(0, 2**16))
def test_unbroadcast_is_the_adjoint_of_broadcasting(device, shapes, seed):
    """<unbroadcast(g, s), v> = <g, broadcast(v)> for every v: it sums exactly what broadcasting copied."""
    xp = backend.array_module(device)
    rng = np.random.default_rng(seed)
    shape = shapes.input_shapes[0]
    grad = xp.asarray(rng.standard_normal(shapes.result_shape))
    v = xp.asarray(rng.standard_normal(shape))
    reduced = unbroadcast(mg.Tensor._wrap(grad, False), shape).array
    assert backend.is_array(reduced) and reduced.shape == shape
    np.testing.assert_allclose(float((reduced * v).sum()), float((grad * xp.broadcast_to(v, grad.shape)).sum()),
                               atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3))
def test_broadcast_add_gradient_counts_uses(device, shapes):
    """Each element of a gets d/da sum(a + b) = the number of times broadcasting used it."""
    a_shape, b_shape = shapes.input_shapes
    a = mg.zeros(a_shape, dtype=mg.float64, device=device, requires_grad=True)
    b = mg.zeros(b_shape, dtype=mg.float64, device=device, requires_grad=True)
    (a + b).sum().backward()
    total = int(np.prod(shapes.result_shape))
    assert a.grad.shape == a_shape and b.grad.shape == b_shape
    np.testing.assert_array_equal(a.grad.numpy(), np.full(a_shape, total // int(np.prod(a_shape))))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(b_shape, total // int(np.prod(b_shape))))


# --- gradients never alias each other or the inputs --------------------------------------------

def test_leaf_grads_do_not_alias_each_other(device):
    x = leaf([1.0, 2.0], device)
    y = leaf([3.0, 4.0], device)
    (x + y).sum().backward()
    assert not shares_memory(x.grad.array, y.grad.array)
    x.grad.zero_()
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])


def test_leaf_grads_do_not_alias_each_other_or_the_given_gradient(device):
    x = leaf([1.0, 2.0], device)
    y = leaf([3.0, 4.0], device)
    g = mg.tensor([1.0, -1.0], dtype=mg.float64, device=device)
    (x + y).backward(g)
    for grad in (x.grad, y.grad):
        assert not shares_memory(grad.array, g.array)
    x.grad.zero_()
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, -1.0])
    np.testing.assert_array_equal(g.numpy(), [1.0, -1.0])


def test_leaf_grads_do_not_alias_inputs_through_pass_through_ops(device):
    """Clone, reshape, expand and add hand the gradient on unchanged or as a view."""
    x = leaf([[1.0, 2.0]], device)
    y = leaf([3.0, 4.0], device)
    z = leaf([[5.0], [6.0]], device)
    out = x.clone().reshape(2) + y + z.expand(2, 2)
    out.sum().backward()
    grads = [x.grad.array, y.grad.array, z.grad.array]
    for i, grad in enumerate(grads):
        assert grad.flags.owndata
        for other in grads[i + 1:] + [x.array, y.array, z.array]:
            assert not shares_memory(grad, other)


# --- dtypes -----------------------------------------------------------------------------------

def test_float32_graph_gives_float32_grads(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    w = mg.tensor([[0.5], [0.25]], device=device, requires_grad=True)
    (x @ w).exp().sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_float32_leaf_with_float64_tensor_keeps_float32_grad(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = mg.tensor([3.0, 4.0], dtype=mg.float64, device=device, requires_grad=True)
    z = x * y
    assert z.dtype == np.float64
    z.sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_float64_gradient_for_a_float32_leaf_root(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    x.backward(mg.ones(2, dtype=mg.float64, device=device))
    assert x.grad.dtype == np.float32


def test_cast_backward_returns_the_original_dtype(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


# --- custom Functions -----------------------------------------------------------------------

def test_custom_function_needs_input_grad_and_none_gradients(device, restore_ops):
    class ScaleBy(Function):
        """z = x * y (y a constant for backward)."""

        def forward(self, x, y):
            self.y = y
            return x * y

        def backward(self, grad):
            assert self.needs_input_grad == (True, False)
            return grad * self.y, None

    x = leaf([[1.0, 2.0]], device)
    y = mg.tensor([[3.0], [4.0]], dtype=mg.float64, device=device)
    ScaleBy.apply(x, y).sum().backward()   # (1, 2) * (2, 1) -> (2, 2): backward gives (2, 2), engine sums
    np.testing.assert_array_equal(x.grad.numpy(), [[7.0, 7.0]])
    assert y.grad is None


def test_a_pass_asks_only_for_the_gradients_that_lead_to_what_it_wants(device, restore_ops):
    """grad(out, x) and backward(inputs=[w]) ask an op for no gradient they do not need (a
    layer's weight gradient, in a gradient penalty's grad() of its input): backward sees that
    pass's needs_input_grad, and the op's own is as recorded again afterwards."""
    seen = []

    class Product(Function):
        """z = x * w.   dz/dx = w,  dz/dw = x."""

        def forward(self, x, w):
            return x * w

        def backward(self, grad):
            seen.append(self.needs_input_grad)
            x, w = self.inputs
            return (grad * w if self.needs_input_grad[0] else None,
                    grad * x if self.needs_input_grad[1] else None)

    x, w = leaf([1.0, 2.0], device), leaf([3.0, 5.0], device)
    z = Product.apply(x, w)
    (gx,) = mg.autograd.grad(z.sum(), x, retain_graph=True)
    np.testing.assert_array_equal(gx.numpy(), [3.0, 5.0])
    z.sum().backward(inputs=[w], retain_graph=True)
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0])
    assert x.grad is None
    assert z.grad_fn.needs_input_grad == (True, True)
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 5.0])
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])
    assert seen == [(True, False), (False, True), (True, True)]


def test_grad_of_a_convolutions_input_makes_no_weight_gradient(device, monkeypatch):
    """A WGAN-GP penalty's grad(critic(x_hat), x_hat): the convolution's weight gradient is not
    computed (a matrix product as large as the forward's), and the input's is as before."""
    conv = mg.nn.Conv2d(2, 3, 3, padding=1).to(device)
    x = mg.randn(2, 2, 5, 5, device=device, requires_grad=True)
    expected = mg.ones(2, 3, 5, 5, device=device)  # d(sum)/d(out)
    made = []
    original = mg.ops.conv.ConvWeightGrad.forward
    monkeypatch.setattr(mg.ops.conv.ConvWeightGrad, "forward", lambda self, *a, **k: made.append(1) or original(self, *a, **k))
    (gx,) = mg.autograd.grad(conv(x).sum(), x)
    assert made == []
    want = mg.nn.functional.conv_transpose2d(expected, conv.weight.detach(), padding=1)
    np.testing.assert_allclose(gx.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    conv(x).sum().backward()
    assert made == [1] and conv.weight.grad is not None


# --- error paths ------------------------------------------------------------------------------

def test_matmul_shape_mismatch_names_both_shapes(device):
    with pytest.raises(RuntimeError, match=r"\(2, 3\).*\(4, 5\)"):
        mg.ones(2, 3, device=device) @ mg.ones(4, 5, device=device)


def test_broadcast_shape_mismatch_names_both_shapes(device):
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        mg.ones(2, 3, device=device) + mg.ones(4, device=device)


class PretendGPUArray(np.ndarray):
    """A NumPy array that the monkeypatched backend says lives on the GPU."""


def test_device_mismatch_names_both_devices(monkeypatch):
    real_device_of = backend.device_of
    monkeypatch.setattr(backend, "device_of",
                        lambda a: "cuda" if isinstance(a, PretendGPUArray) else real_device_of(a))
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.Tensor(np.array([3.0, 4.0], dtype=np.float32).view(PretendGPUArray))
    assert x.device == "cpu" and y.device == "cuda"
    with pytest.raises(RuntimeError, match=r"Add.*same device.*cpu.*cuda"):
        x + y
    with pytest.raises(RuntimeError, match=r"cuda.*cpu"):
        y * x
    with pytest.raises(RuntimeError, match=r"cuda.*cpu"):
        with mg.no_grad():
            x[:1] = y[:1]


@pytest.mark.skipif(not mg.cuda.is_available(), reason="needs CuPy and a GPU")
def test_device_mismatch_on_a_real_gpu():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([3.0, 4.0], device="cuda")
    with pytest.raises(RuntimeError, match=r"cpu.*cuda"):
        x + y
    z = x.cuda() * y           # moving it first works, and the gradient goes back to the CPU
    z.sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


# --- what backward returns is checked, and forward's errors keep their origin ---------------------

def test_a_backward_returning_the_wrong_number_of_gradients_is_named(restore_ops):
    class TwoForOne(Function):
        def forward(self, x):
            return x * 2

        def backward(self, grad):
            return grad, grad

    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="TwoForOne.backward returned 2 gradients for 1 inputs"):
        TwoForOne.apply(x).sum().backward()


def test_a_backward_returning_an_array_instead_of_a_tensor_is_named(restore_ops):
    class RawArray(Function):
        def forward(self, x):
            return x * 2

        def backward(self, grad):
            return grad.array * 2  # should be a Tensor (written in minigrad ops)

    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="RawArray.backward returned a ndarray for input 0; expected a Tensor"):
        RawArray.apply(x).sum().backward()


def test_an_error_in_forward_names_the_op_and_keeps_the_original_as_its_cause(restore_ops):
    class Picky(Function):
        def forward(self, x):
            raise ValueError("x is not to my taste")

        def backward(self, grad):
            return grad

    with pytest.raises(ValueError, match=r"Picky: x is not to my taste \(input shapes: \(2,\)\)") as caught:
        Picky.apply(mg.ones(2))
    assert isinstance(caught.value.__cause__, ValueError)  # the user's own line stays in the traceback


# --- autograd.grad takes PyTorch's deprecated only_inputs -----------------------------------------

def test_grad_accepts_only_inputs_by_keyword_and_in_its_pytorch_position():
    w = mg.tensor([1.0, -2.0], requires_grad=True)
    x = mg.tensor([3.0, 0.5], requires_grad=True)
    y = (w * x * x).sum()
    by_keyword = mg.autograd.grad(y, x, retain_graph=True, only_inputs=True)[0]
    by_position = mg.autograd.grad(y, [x], None, True, False, True)[0]  # ..., create_graph, only_inputs
    expected = 2 * w.array * x.array
    assert np.allclose(by_keyword.array, expected) and np.allclose(by_position.array, expected)
    assert w.grad is None and x.grad is None


def test_grad_with_only_inputs_false_warns_and_still_leaves_other_leaves_alone():
    w = mg.tensor([1.0, -2.0], requires_grad=True)
    x = mg.tensor([3.0, 0.5], requires_grad=True)
    with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
        (gx,) = mg.autograd.grad((w * x).sum(), x, only_inputs=False)
    assert np.allclose(gx.array, w.array)
    assert w.grad is None  # ignored, as in PyTorch: w gets nothing


# --- backward(inputs=...) and retain_grad -------------------------------------------------

def test_backward_inputs_adds_into_those_tensors_only(device):
    w, x = leaf([1.0, 2.0], device), leaf([3.0, -4.0], device)
    (w * x).sum().backward(inputs=[w])
    assert w.grad.tolist() == [3.0, -4.0] and x.grad is None
    mg.autograd.backward((w * x * 2).sum(), inputs=w)             # one tensor; accumulates, as .grad does
    assert w.grad.tolist() == [9.0, -12.0] and x.grad is None


def test_backward_inputs_may_be_non_leaves_and_the_pass_stops_there(device):
    x = leaf([1.0, -2.0], device)
    h = x * 3
    seen = []
    x.register_hook(lambda g: seen.append(g))                     # below h: the pass never gets there
    (h * h).sum().backward(inputs=[h])
    assert h.grad.tolist() == [6.0, -12.0] and h.grad.grad_fn is None
    assert x.grad is None and seen == []
    assert h.retains_grad  # as PyTorch: a non-leaf given as an input keeps its gradient from now on
    (h * 2).sum().backward()
    assert h.grad.tolist() == [8.0, -10.0] and x.grad.tolist() == [6.0, 6.0]


def test_backward_inputs_skips_branches_that_lead_to_none_of_them(device):
    a, b = leaf([2.0], device), leaf([5.0], device)
    seen = []
    other = b * 7
    other.register_hook(lambda g: seen.append(g))
    (a * a + other).sum().backward(inputs=[a])
    assert a.grad.tolist() == [4.0] and b.grad is None and seen == []


def test_backward_inputs_unused_input_keeps_its_grad(device):
    a, unused = leaf([2.0], device), leaf([1.0], device)
    (a * a).sum().backward(inputs=[a, unused])
    assert a.grad.tolist() == [4.0] and unused.grad is None


def test_backward_inputs_errors(device):
    a = leaf([2.0], device)
    with pytest.raises(RuntimeError, match="`inputs` argument to `backward\\(\\)` cannot be empty"):
        (a * a).sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match=r"inputs\[1\] does not require grad"):
        (a * a).sum().backward(inputs=[a, mg.ones(1, device=device)])
    h = a * 2
    with pytest.raises(RuntimeError, match="shape"):
        h.backward(mg.ones(3, device=device), inputs=[h])  # refused before h is marked
    assert not h.retains_grad


def test_backward_inputs_with_create_graph_records_the_gradient(device):
    a, b = leaf([2.0], device), leaf([3.0], device)
    (a ** 3 * b).sum().backward(inputs=[a], create_graph=True)
    assert a.grad.tolist() == [36.0] and b.grad is None                  # 3 a^2 b
    assert a.grad.grad_fn is not None
    second, = mg.autograd.grad(a.grad.sum(), [a])
    assert second.tolist() == [36.0]                                    # 6 a b


def test_retain_grad_keeps_a_non_leaf_gradient_and_accumulates(device):
    x = leaf([1.0, 2.0], device)
    h = x * x
    assert not h.retains_grad
    h.retain_grad()
    assert h.retains_grad and not x.retains_grad
    y = (h * 3).sum()
    y.backward(retain_graph=True)
    assert h.grad.tolist() == [3.0, 3.0] and x.grad.tolist() == [6.0, 12.0]
    y.backward()
    assert h.grad.tolist() == [6.0, 6.0] and x.grad.tolist() == [12.0, 24.0]


def test_retain_grad_sees_the_gradient_after_the_hooks(device):
    x = leaf([1.0], device)
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: g * 10)                       # registered after retain_grad: still runs first
    h.sum().backward()
    assert h.grad.tolist() == [10.0] and x.grad.tolist() == [20.0]


def test_retained_grad_shares_no_memory_with_a_leaf_grad(device):
    a, b = leaf([1.0, 2.0], device), leaf([3.0, 4.0], device)
    h = a + b                                               # add hands the same gradient to both inputs
    h.retain_grad()
    h.sum().backward()
    assert not shares_memory(h.grad.array, a.grad.array) and not shares_memory(h.grad.array, b.grad.array)
    a.grad.array += 1
    assert h.grad.tolist() == [1.0, 1.0]


def test_grad_skips_branches_that_lead_to_none_of_its_inputs_and_keeps_retained_gradients(device):
    a, b = leaf([2.0], device), leaf([5.0], device)
    seen = []
    other = b * 7
    other.register_hook(lambda g: seen.append(g))
    h = a * a
    h.retain_grad()
    assert mg.autograd.grad((h + other).sum(), [a])[0].tolist() == [4.0]
    assert seen == [] and h.grad.tolist() == [1.0] and a.grad is None


def test_retain_grad_on_a_leaf_does_nothing_and_needs_requires_grad(device):
    x = leaf([1.0], device)
    x.retain_grad()
    assert not x.retains_grad
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0]
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        mg.ones(1, device=device).retain_grad()


def test_grad_through_a_freed_branch_refuses_even_where_it_leads_to_no_input(device):
    """A difference from PyTorch (docs/differences.md): a freed op has dropped its links, so the pass
    cannot tell that y leads nowhere wanted, and says so rather than guess."""
    x, w = leaf([1.0, 2.0], device), leaf([3.0, 4.0], device)
    y = x * 2
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        mg.autograd.grad((y * w).sum(), [w])
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (y * w).sum().backward(inputs=[w])
