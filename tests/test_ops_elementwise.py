"""minigrad/ops/elementwise.py: + - * / **, exp, log, sqrt, abs, clamp, maximum, minimum, where,
cast, to_device, clone. Property tests check every backward against central differences on
broadcasting shapes; example tests pin known values and error messages."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from helpers import (DEVICES, MAX_SIDE, arrays, away_from, away_from_zero, broadcastable_arrays,
                     check_gradients, floats, gradient_test_for, shapes)
from minigrad import ops


def grid(offset):
    """Numbers k/10 + offset + jitter, |jitter| <= 0.02: two grids with offsets 0 and 0.05
    never come closer than 0.01, so maximum/minimum never see a tie."""
    return st.tuples(st.integers(-30, 30), floats(-0.02, 0.02)).map(lambda p: p[0] / 10 + offset + p[1])


# --- gradients ----------------------------------------------------------------------------

@gradient_test_for("Add")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(2))
def test_add_gradient(device, xy):
    check_gradients(lambda a, b: a + b, *xy, device=device)


@gradient_test_for("Sub")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(2))
def test_sub_gradient(device, xy):
    check_gradients(lambda a, b: a - b, *xy, device=device)


@gradient_test_for("Mul")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(2))
def test_mul_gradient(device, xy):
    check_gradients(lambda a, b: a * b, *xy, device=device)


@gradient_test_for("Div")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(2, elements=[floats(), away_from_zero(0.2, 3.0)]))
def test_div_gradient(device, xy):
    check_gradients(lambda a, b: a / b, *xy, device=device)


@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()), away_from_zero(0.2, 3.0))
def test_div_by_and_of_python_numbers_gradient(device, x, number):
    check_gradients(lambda a: a / number, x, device=device)
    check_gradients(lambda a: number / a, np.where(np.abs(x) < 0.2, 0.5, x), device=device)


@gradient_test_for("Neg")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()))
def test_neg_gradient(device, x):
    check_gradients(lambda a: -a, x, device=device)


@gradient_test_for("Pow")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(2, elements=[floats(0.2, 3.0), floats(-2.5, 2.5)]))
def test_pow_gradient(device, xy):
    """Base positive and away from 0, so that x^y and ln x are smooth; both base and exponent differentiated."""
    check_gradients(lambda a, b: a ** b, *xy, device=device)


@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()), st.integers(0, 4))
def test_pow_with_integer_exponent_gradient(device, x, exponent):
    """A constant integer power is defined for negative bases too."""
    check_gradients(lambda a: a ** exponent, x, device=device)


@gradient_test_for("Exp")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()))
def test_exp_gradient(device, x):
    check_gradients(mg.exp, x, device=device)


@gradient_test_for("Log")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(), floats(0.1, 5.0)))
def test_log_gradient(device, x):
    check_gradients(mg.log, x, device=device)


@gradient_test_for("Sqrt")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(), floats(0.1, 5.0)))
def test_sqrt_gradient(device, x):
    check_gradients(mg.sqrt, x, device=device)


@gradient_test_for("Abs")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(), away_from_zero()))
def test_abs_gradient(device, x):
    check_gradients(mg.abs, x, device=device)


@st.composite
def clamp_cases(draw):
    """x, min, max with min < max (either may be None), and x at least 0.01 from each bound."""
    low = draw(st.none() | floats(-2.0, 1.0))
    high = draw(st.none() | floats(-1.0, 2.0)) if low is not None else draw(floats(-2.0, 2.0))
    if low is not None and high is not None and high < low + 0.1:
        high = low + 0.1
    bounds = [b for b in (low, high) if b is not None]
    x = draw(arrays(shapes(), away_from(bounds)))
    return x, low, high


@gradient_test_for("Clamp")
@pytest.mark.parametrize("device", DEVICES)
@given(clamp_cases())
def test_clamp_gradient(device, case):
    x, low, high = case
    check_gradients(lambda a: mg.clamp(a, low, high), x, device=device)


@gradient_test_for("Maximum")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(2, elements=[grid(0.0), grid(0.05)]))
def test_maximum_gradient(device, xy):
    check_gradients(mg.maximum, *xy, device=device)


@gradient_test_for("minimum")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(2, elements=[grid(0.0), grid(0.05)]))
def test_minimum_gradient(device, xy):
    check_gradients(mg.minimum, *xy, device=device)


@gradient_test_for("Where")
@pytest.mark.parametrize("device", DEVICES)
@given(st.data())
def test_where_gradient(device, data):
    (condition_shape, x_shape, y_shape), _ = data.draw(hnp.mutually_broadcastable_shapes(
        num_shapes=3, max_dims=4, max_side=MAX_SIDE))
    condition = data.draw(hnp.arrays(np.bool_, condition_shape))
    x, y = data.draw(arrays(x_shape)), data.draw(arrays(y_shape))
    check_gradients(lambda a, b: mg.where(mg.tensor(condition, device=device), a, b), x, y, device=device)


@gradient_test_for("Cast")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()), st.sampled_from(["float64", "longdouble"]))
def test_cast_gradient(device, x, dtype):
    """Cast to a float type at least as precise, and back: the gradient comes back as float64."""
    if device != "cpu":
        dtype = "float64"  # CuPy has no long double
    check_gradients(lambda a: ops.cast(ops.cast(a, np.dtype(dtype)), np.dtype("float64")) * 1.5, x, device=device)


@gradient_test_for("ToDevice")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("target", DEVICES)
@given(arrays(shapes()))
def test_to_device_gradient(device, target, x):
    check_gradients(lambda a: ops.to_device(a, target) * 2.0, x, device=device)


@gradient_test_for("Clone")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()))
def test_clone_gradient(device, x):
    check_gradients(lambda a: a.clone() * a, x, device=device)


# --- known values -------------------------------------------------------------------------

def test_the_books_cubic_at_three_and_a_half():
    """y = (x-1)(x-2)(x-3) at x = 3.5: y = 1.875 and dy/dx = 1.5*0.5 + 2.5*0.5 + 2.5*1.5 = 5.75."""
    x = mg.tensor(3.5, dtype=mg.float64, requires_grad=True)
    y = (x - 1) * (x - 2) * (x - 3)
    y.backward()
    assert y.item() == pytest.approx(1.875)
    assert x.grad.item() == pytest.approx(5.75)


def test_the_books_quadratic_at_three_and_a_half():
    """z = 2x^2 + 3 at x = 3.5: z = 27.5, dz/dx = 4x = 14."""
    x = mg.tensor(3.5, requires_grad=True)
    z = 2 * x ** 2 + 3
    z.backward()
    assert z.item() == pytest.approx(27.5)
    assert x.grad.item() == pytest.approx(14.0)


def test_exp_log_sqrt_abs_known_values():
    np.testing.assert_allclose(mg.exp(mg.tensor([0.0, 1.0])).numpy(), [1.0, np.e], rtol=1e-6)
    np.testing.assert_allclose(mg.log(mg.tensor([1.0, np.e])).numpy(), [0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(mg.sqrt(mg.tensor([4.0, 9.0])).numpy(), [2.0, 3.0])
    np.testing.assert_array_equal(mg.abs(mg.tensor([-2.0, 0.0, 3.0])).numpy(), [2.0, 0.0, 3.0])


def test_abs_gradient_is_zero_at_zero():
    x = mg.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    mg.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 0.0, 1.0])


def test_div_and_pow_known_gradients():
    x = mg.tensor(6.0, dtype=mg.float64, requires_grad=True)
    y = mg.tensor(2.0, dtype=mg.float64, requires_grad=True)
    (x / y).backward()
    assert (x.grad.item(), y.grad.item()) == pytest.approx((0.5, -1.5))
    x.grad = y.grad = None
    (x ** y).backward()  # d/dx = y x^(y-1) = 12,  d/dy = x^y ln x = 36 ln 6
    assert (x.grad.item(), y.grad.item()) == pytest.approx((12.0, 36 * np.log(6.0)))


def test_pow_gradients_at_a_zero_base_are_finite():
    """As PyTorch: d(x^0)/dx = 0 even at x = 0, and d(0^y)/dy = 0 for y >= 0 (not NaN from 0 * ln 0)."""
    x = mg.tensor([0.0, 0.0, 0.0], dtype=mg.float64, requires_grad=True)
    y = mg.tensor([0.0, 1.0, 2.0], dtype=mg.float64, requires_grad=True)
    z = x ** y
    z.sum().backward()
    np.testing.assert_array_equal(z.numpy(), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0, 0.0])


def test_negative_base_with_integer_exponent():
    x = mg.tensor([-2.0, 3.0], dtype=mg.float64, requires_grad=True)
    y = x ** 3
    y.sum().backward()
    np.testing.assert_allclose(y.numpy(), [-8.0, 27.0])
    np.testing.assert_allclose(x.grad.numpy(), [12.0, 27.0])


def test_broadcast_gradient_is_summed_back_to_the_input_shape():
    """(3, 1) + (2, 3, 4): each element of the first is used 2*4 = 8 times."""
    a = mg.ones(3, 1, requires_grad=True)
    b = mg.ones(2, 3, 4, requires_grad=True)
    (a + b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 1), 8.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.ones((2, 3, 4)))


def test_python_numbers_take_the_tensors_dtype():
    x = mg.tensor([1.0, 2.0], dtype=mg.float64)
    assert (x + 1).dtype == np.float64 and (2 * x).dtype == np.float64 and (1 / x).dtype == np.float64
    assert (mg.tensor([1.0]) * 0.5).dtype == np.float32


def test_clamp_values_and_gradient():
    x = mg.tensor([-2.0, -0.5, 0.5, 2.0], requires_grad=True)
    y = mg.clamp(x, -1.0, 1.0)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [-1.0, -0.5, 0.5, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(mg.clamp(mg.tensor([-3.0, 3.0]), min=0.0).numpy(), [0.0, 3.0])
    np.testing.assert_array_equal(mg.clamp(mg.tensor([-3.0, 3.0]), max=0.0).numpy(), [-3.0, 0.0])


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="at least one of min and max"):
        mg.clamp(mg.tensor([1.0]))


def test_maximum_and_minimum_share_the_gradient_on_ties():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = mg.tensor([2.0, 2.0, 1.0], requires_grad=True)
    z = mg.maximum(x, y)
    z.sum().backward()
    np.testing.assert_array_equal(z.numpy(), [2.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 0.5, 0.0])
    x.grad = y.grad = None
    z = mg.minimum(x, y)
    z.sum().backward()
    np.testing.assert_array_equal(z.numpy(), [1.0, 2.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.5, 1.0])


def test_where_routes_the_gradient_by_the_condition():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = mg.tensor(10.0, requires_grad=True)
    z = mg.where(x > 1.5, x, y)
    (z * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(z.numpy(), [10.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 3.0])
    assert y.grad.item() == 1.0


def test_where_keeps_its_condition_when_the_condition_changes_before_backward():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    condition = x.detach() > 1.5
    z = mg.where(condition, x, 0.0)
    condition[0] = True  # after the forward: must not reroute the gradient
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 1.0])


def test_cast_gradient_comes_back_in_the_inputs_dtype():
    x = mg.tensor([1.0, 2.0], requires_grad=True)  # float32
    y = x.double() * mg.tensor([3.0, 4.0], dtype=mg.float64)
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_clone_is_a_copy_with_identity_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert not np.shares_memory(y.numpy(), x.numpy())
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_comparisons_and_argmax_are_outside_the_graph():
    x = mg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    assert not (x > 1).requires_grad
    np.testing.assert_array_equal((x > 1.5).numpy(), [[False, True, True], [True, False, True]])
    np.testing.assert_array_equal(mg.argmax(x, dim=1).numpy(), [1, 0])
    np.testing.assert_array_equal(mg.argmin(x, dim=0, keepdim=True).numpy(), [[0, 1, 0]])
    assert mg.argmax(x).item() == 3 and mg.argmax(x).dtype == np.int64


# --- errors -------------------------------------------------------------------------------

def test_add_broadcast_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"Add: .*\(input shapes: \(2, 3\), \(4,\)\)"):
        mg.ones(2, 3) + mg.ones(4)


def test_mul_broadcast_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"Mul: .*\(2, 3\), \(3, 2\)"):
        mg.ones(2, 3) * mg.ones(3, 2)
