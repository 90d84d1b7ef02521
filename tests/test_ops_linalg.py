"""minigrad/ops/linalg.py: matmul (1-D, 2-D and batched, as NumPy) and linear."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import minigrad.nn.functional as F
from helpers import DEVICES, MAX_SIDE, arrays, check_gradients, gradient_test_for, shapes


@st.composite
def matmul_operands(draw):
    """Two arrays that np.matmul accepts: 1-D or not, with broadcasting batch dims."""
    (x_shape, y_shape), _ = draw(hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=2, max_side=MAX_SIDE))
    return draw(arrays(x_shape)), draw(arrays(y_shape))


@st.composite
def linear_operands(draw):
    """x (..., in), weight (out, in), and a bias (out,) or None."""
    batch = draw(shapes(min_dims=0, max_dims=2))
    in_features, out_features = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x = draw(arrays(batch + (in_features,)))
    weight = draw(arrays((out_features, in_features)))
    bias = draw(st.none() | arrays((out_features,)))
    return x, weight, bias


# --- gradients ----------------------------------------------------------------------------

@gradient_test_for("MatMul")
@pytest.mark.parametrize("device", DEVICES)
@given(matmul_operands())
def test_matmul_gradient(device, xy):
    check_gradients(lambda a, b: a @ b, *xy, device=device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("x_shape, y_shape", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)),
                                              ((4, 2, 3), (3,)), ((3,), (4, 3, 2)), ((2, 1, 2, 3), (4, 3, 2))])
def test_matmul_gradient_for_vectors_and_batches(device, x_shape, y_shape):
    """The 1-D and batch cases, each named once (the property test may draw them rarely)."""
    rng = np.random.default_rng(0)
    check_gradients(lambda a, b: a @ b, rng.standard_normal(x_shape), rng.standard_normal(y_shape), device=device)


@gradient_test_for("Linear")
@pytest.mark.parametrize("device", DEVICES)
@given(linear_operands())
def test_linear_gradient(device, operands):
    x, weight, bias = operands
    if bias is None:
        check_gradients(F.linear, x, weight, device=device)
    else:
        check_gradients(F.linear, x, weight, bias, device=device)


# --- known values -------------------------------------------------------------------------

def test_matmul_known_values_and_gradients():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = mg.tensor([[5.0, 6.0], [7.0, 8.0]], requires_grad=True)
    z = x @ y
    np.testing.assert_array_equal(z.numpy(), [[19.0, 22.0], [43.0, 50.0]])
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[11.0, 15.0], [11.0, 15.0]])  # ones @ y^T
    np.testing.assert_array_equal(y.grad.numpy(), [[4.0, 4.0], [6.0, 6.0]])      # x^T @ ones


def test_vector_dot_vector_is_a_scalar_with_gradients():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = mg.tensor([4.0, 5.0, 6.0], requires_grad=True)
    z = x @ y
    assert z.shape == () and z.item() == 32.0
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 2.0, 3.0])


def test_batched_matmul_sums_the_gradient_over_broadcast_batch_dims():
    x = mg.ones(5, 2, 3, requires_grad=True)
    w = mg.ones(3, 4, requires_grad=True)
    out = x @ w
    assert out.shape == (5, 2, 4)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((3, 4), 10.0))  # 5 batches * 2 rows
    np.testing.assert_array_equal(x.grad.numpy(), np.full((5, 2, 3), 4.0))


def test_linear_known_values():
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    w = mg.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, -1.0]], requires_grad=True)
    b = mg.tensor([0.5, 0.0, 1.0], requires_grad=True)
    y = F.linear(x, w, b)
    np.testing.assert_array_equal(y.numpy(), [[1.5, 3.0, -1.0]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0.0]])
    np.testing.assert_array_equal(w.grad.numpy(), [[1.0, 2.0]] * 3)
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 1.0])


def test_linear_equals_matmul_with_the_transposed_weight():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    np.testing.assert_allclose(F.linear(mg.tensor(x), mg.tensor(w), mg.tensor(b)).numpy(), x @ w.T + b)


# --- errors -------------------------------------------------------------------------------

def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(4, 5\) cannot be multiplied"):
        mg.ones(2, 3) @ mg.ones(4, 5)


def test_matmul_of_a_scalar_is_refused():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        mg.tensor(2.0) @ mg.ones(2)


def test_matmul_dtype_mismatch_names_the_dtypes():
    with pytest.raises(TypeError, match=r"matmul: .*float32 \(2, 3\) and float64 \(3, 2\)"):
        mg.ones(2, 3) @ mg.ones(3, 2, dtype=mg.float64)


def test_linear_dtype_mismatch_names_the_dtypes():
    with pytest.raises(TypeError, match=r"linear: .*float64 \(4, 3\) and float32 \(2, 3\)"):
        F.linear(mg.ones(4, 3, dtype=mg.float64), mg.ones(2, 3))


def test_linear_feature_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"input of shape \(4, 3\) has 3 features.*weight of shape \(2, 5\)"):
        F.linear(mg.ones(4, 3), mg.ones(2, 5))
