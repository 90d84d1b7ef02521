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


# --- remainders, rounding, and the functions of one float ------------------------------------

def _off_the_steps(low=-3.0, high=3.0, step=1.0, offset=0.0):
    """Numbers at least 0.1 away from every k * step + offset (the jumps of floor, round, %)."""
    return floats(low, high).filter(lambda v: abs(((v - offset) / step) - round((v - offset) / step)) * step >= 0.1)


@gradient_test_for("Remainder")
@pytest.mark.parametrize("device", DEVICES)
@given(st.data())
def test_remainder_gradient(device, data):
    """x % y in x and y, away from the jumps where x / y is a whole number."""
    y = data.draw(arrays(shapes(max_dims=2), st.sampled_from([0.7, -1.3, 2.1])))
    x = data.draw(arrays(y.shape, floats(-3, 3))).round(1) + 0.013
    check_gradients(mg.remainder, x, y, device=device)


@gradient_test_for("Fmod")
@pytest.mark.parametrize("device", DEVICES)
@given(st.data())
def test_fmod_gradient(device, data):
    y = data.draw(arrays(shapes(max_dims=2), st.sampled_from([0.7, -1.3, 2.1])))
    x = data.draw(arrays(y.shape, floats(-3, 3))).round(1) + 0.013
    check_gradients(mg.fmod, x, y, device=device)


@gradient_test_for("Atan2")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(2, elements=[away_from_zero(0.2), away_from_zero(0.2)]))
def test_atan2_gradient(device, yx):
    check_gradients(mg.atan2, *yx, device=device)


UNARY = [  # (op name, function, elements the function is smooth on)
    ("Log1p", mg.log1p, floats(-0.8, 3.0)),
    ("Expm1", mg.expm1, floats()),
    ("Log2", mg.log2, floats(0.1, 5.0)),
    ("Log10", mg.log10, floats(0.1, 5.0)),
    ("Exp2", mg.exp2, floats()),
    ("Sin", mg.sin, floats()),
    ("Cos", mg.cos, floats()),
    ("Tan", mg.tan, floats(-1.2, 1.2)),
    ("Asin", mg.asin, floats(-0.9, 0.9)),
    ("Acos", mg.acos, floats(-0.9, 0.9)),
    ("Atan", mg.atan, floats()),
    ("Sinh", mg.sinh, floats()),
    ("Cosh", mg.cosh, floats()),
    ("Rsqrt", mg.rsqrt, floats(0.2, 5.0)),
    ("Reciprocal", mg.reciprocal, away_from_zero(0.2)),
    ("square", mg.square, floats()),
    ("frac", mg.frac, _off_the_steps()),
]
for _name, _function, _elements in UNARY:
    gradient_test_for(_name)(None)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name, function, elements", UNARY, ids=[u[0] for u in UNARY])
@given(data=st.data())
def test_unary_function_gradients(device, name, function, elements, data):
    x = data.draw(arrays(shapes(), elements))
    check_gradients(function, x, device=device)


STEPS = [  # step functions: zero gradient away from their jumps
    ("Floor", mg.floor, _off_the_steps()),
    ("Ceil", mg.ceil, _off_the_steps()),
    ("Trunc", mg.trunc, _off_the_steps()),
    ("Round", mg.round, _off_the_steps(offset=0.5)),
    ("Sign", mg.sign, away_from_zero()),
]
for _name, _function, _elements in STEPS:
    gradient_test_for(_name)(None)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name, function, elements", STEPS, ids=[s[0] for s in STEPS])
@given(data=st.data())
def test_step_function_gradients_are_zero(device, name, function, elements, data):
    x = data.draw(arrays(shapes(), elements))
    check_gradients(function, x, device=device)
    t = mg.tensor(x, requires_grad=True)
    function(t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.zeros_like(x))


@gradient_test_for("RoundedDivide")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", ["trunc", "floor"])
@given(st.data())
def test_rounded_division_gradient_is_zero(device, mode, data):
    y = data.draw(arrays(shapes(max_dims=2), st.sampled_from([0.7, -1.3, 2.1])))
    x = data.draw(arrays(y.shape, floats(-3, 3))).round(1) + 0.013
    check_gradients(lambda a, b: mg.div(a, b, rounding_mode=mode), x, y, device=device)


@gradient_test_for("clamp_by_tensors")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(3, elements=[grid(0.0), grid(0.05), grid(0.03)]))
def test_clamp_with_tensor_bounds_gradient(device, arrays_):
    """Bounds are tensors (differentiated too); grids keep x away from both bounds (no ties)."""
    x, low, high = arrays_
    check_gradients(lambda a, lo, hi: mg.clamp(a, lo, hi), x, low, np.maximum(low, high) + 0.01, device=device)
    check_gradients(lambda a, lo: mg.clamp(a, min=lo), x, low, device=device)


@gradient_test_for("lerp")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(3))
def test_lerp_gradient(device, arrays_):
    check_gradients(mg.lerp, *arrays_, device=device)
    check_gradients(lambda a, b: mg.lerp(a, b, 0.3), *arrays_[:2], device=device)


# --- against PyTorch ---------------------------------------------------------------------

FUNCTIONS_OF_ONE = ["log1p", "expm1", "log2", "log10", "exp2", "sin", "cos", "tan", "asin", "acos", "atan",
                    "sinh", "cosh", "floor", "ceil", "round", "trunc", "frac", "sign", "rsqrt", "reciprocal",
                    "square", "exp", "log", "sqrt", "abs", "neg", "isnan", "isinf", "isfinite", "logical_not"]


@pytest.mark.parametrize("name", FUNCTIONS_OF_ONE)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_functions_of_one_tensor_match_torch(name, dtype):
    torch = pytest.importorskip("torch")
    values = np.array([[0.3, -0.7, 0.5], [2.5, 0.0, -1.5]]) if dtype.startswith("float") else \
        np.array([[3, -1, 0], [1, 2, -4]])
    values = values.astype(dtype)
    for array in (values, values[0, 0], values[:0]):  # 2-D, 0-d and empty
        expected_error = None
        try:
            expected = getattr(torch, name)(torch.from_numpy(np.array(array)))
        except (RuntimeError, TypeError) as error:
            expected_error = error
        if expected_error is not None:
            with pytest.raises((RuntimeError, TypeError)):
                getattr(mg, name)(mg.tensor(array))
            continue
        with np.errstate(all="ignore"):  # nan and inf are part of the comparison
            got = getattr(mg, name)(mg.tensor(array))
        assert got.shape == tuple(expected.shape), (name, dtype)
        assert str(got.dtype) == str(expected.dtype).replace("torch.", ""), (name, dtype)
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(got.numpy().astype(np.float64), expected.numpy().astype(np.float64),
                                       rtol=1e-6, atol=1e-7, equal_nan=True)


BINARY = ["add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "pow", "atan2",
          "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int64", "int64"), ("int32", "float64"),
                                    ("int64", "float32"), ("bool", "int64")])
def test_binary_functions_match_torch(name, dtypes):
    """Negative numbers included: // rounds down and % takes the divisor's sign, as Python."""
    torch = pytest.importorskip("torch")
    x = np.array([[7, -7, 5], [-3, 4, 1]]).astype(dtypes[0])
    y = np.array([[2, 2, -3], [-2, 3, 1]]).astype(dtypes[1])
    try:
        expected = getattr(torch, name)(torch.from_numpy(x), torch.from_numpy(y))
    except RuntimeError:
        with pytest.raises(RuntimeError):
            getattr(mg, name)(mg.tensor(x), mg.tensor(y))
        return
    got = getattr(mg, name)(mg.tensor(x), mg.tensor(y))
    assert str(got.dtype) == str(expected.dtype).replace("torch.", ""), name
    np.testing.assert_allclose(got.numpy().astype(np.float64), expected.numpy().astype(np.float64), rtol=1e-6)


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_div_rounding_modes_match_torch(mode, dtype):
    torch = pytest.importorskip("torch")
    x, y = np.array([7, -7, 7, -7, 6]).astype(dtype), np.array([2, 2, -2, -2, 3]).astype(dtype)
    expected = torch.div(torch.from_numpy(x), torch.from_numpy(y), rounding_mode=mode)
    got = mg.div(mg.tensor(x), mg.tensor(y), rounding_mode=mode)
    assert str(got.dtype) == str(expected.dtype).replace("torch.", "")
    np.testing.assert_allclose(got.numpy(), expected.numpy())


def test_operators_floor_divide_and_remainder_as_python():
    x = mg.tensor([7, -7, 7, -7])
    y = mg.tensor([2, 2, -2, -2])
    assert (x // y).tolist() == [7 // 2, -7 // 2, 7 // -2, -7 // -2]
    assert (x % y).tolist() == [7 % 2, -7 % 2, 7 % -2, -7 % -2]
    assert (-7.5 // mg.tensor([2.0])).tolist() == [-4.0]
    assert (mg.tensor([-7.5]) % 2).tolist() == [0.5]
    assert (7 % mg.tensor([-2])).tolist() == [-1]


def test_integer_division_by_zero_is_refused_as_torch():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        mg.tensor([1, 2]) // mg.tensor([0, 1])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        mg.tensor([1, 2]) % 0
    with np.errstate(divide="ignore"):
        assert np.isinf((mg.tensor([1.0]) / 0).item())


def test_div_with_an_unknown_rounding_mode():
    with pytest.raises(ValueError, match="rounding_mode"):
        mg.div(mg.tensor([1.0]), 2, rounding_mode="round")


def test_add_and_sub_with_alpha():
    torch = pytest.importorskip("torch")
    x, y = np.array([1.0, 2.0], np.float32), np.array([3.0, 5.0], np.float32)
    assert mg.add(mg.tensor(x), mg.tensor(y), alpha=2).tolist() == torch.add(torch.tensor(x), torch.tensor(y), alpha=2).tolist()
    assert mg.tensor(x).sub(mg.tensor(y), alpha=0.5).tolist() == torch.tensor(x).sub(torch.tensor(y), alpha=0.5).tolist()
    with pytest.raises(RuntimeError, match="bool tensor is not supported"):
        mg.tensor([True]) - mg.tensor([False])


def test_round_with_decimals_and_halves_to_even():
    torch = pytest.importorskip("torch")
    values = np.array([0.5, 1.5, 2.5, -0.5, 1.2345, -2.675], np.float64)
    for decimals in (0, 1, 2, -1):
        expected = torch.round(torch.from_numpy(values), decimals=decimals).numpy()
        np.testing.assert_allclose(mg.round(mg.tensor(values), decimals=decimals).numpy(), expected)
    assert mg.tensor([2.5]).round().tolist() == [2.0]


def test_clamp_with_tensor_bounds_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[-2.0, 0.5, 3.0], [1.0, -1.0, 0.0]])
    low, high = np.array([0.0, 1.0, -1.0]), np.array([[1.0], [0.5]])
    expected = torch.clamp(torch.tensor(x), torch.tensor(low), torch.tensor(high))
    np.testing.assert_allclose(mg.clamp(mg.tensor(x), mg.tensor(low), mg.tensor(high)).numpy(), expected.numpy())
    np.testing.assert_allclose(mg.tensor(x).clamp(min=mg.tensor(low)).numpy(), torch.tensor(x).clamp(min=torch.tensor(low)).numpy())
    # an integer tensor clamped by a float is float32, as torch
    assert mg.clamp(mg.tensor([1, 2]), min=1.5).dtype == mg.float32


def test_clamp_gradient_goes_to_the_bound_tensor_where_it_wins():
    x = mg.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    low = mg.tensor([0.0, 0.0, 0.0], requires_grad=True)
    mg.clamp(x, min=low).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0]
    assert low.grad.tolist() == [1.0, 0.0, 0.0]


def test_where_with_one_argument_and_with_numbers():
    condition = mg.tensor([[True, False], [False, True]])
    rows, cols = mg.where(condition)
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1] and rows.dtype == mg.int64
    out = mg.where(condition, 1.0, 0.0)
    assert out.dtype == mg.float32 and out.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert mg.where(condition, 1, 0).dtype == mg.int64
    assert mg.tensor([1.0, 2.0]).where(mg.tensor([True, False]), 0.0).tolist() == [1.0, 0.0]


def test_lerp_matches_torch():
    torch = pytest.importorskip("torch")
    a, b, w = np.array([1.0, 2.0]), np.array([3.0, -2.0]), np.array([0.25, 0.5])
    expected = torch.lerp(torch.tensor(a), torch.tensor(b), torch.tensor(w)).numpy()
    np.testing.assert_allclose(mg.lerp(mg.tensor(a), mg.tensor(b), mg.tensor(w)).numpy(), expected)
    np.testing.assert_allclose(mg.tensor(a).lerp(mg.tensor(b), 0.5).numpy(), [2.0, 0.0])


def test_bitwise_and_logical_operators():
    a, b = mg.tensor([True, True, False]), mg.tensor([True, False, False])
    assert (a & b).tolist() == [True, False, False]
    assert (a | b).tolist() == [True, True, False]
    assert (a ^ b).tolist() == [False, True, False]
    assert (~a).tolist() == [False, False, True]
    assert (mg.tensor([6]) & 3).tolist() == [2]
    assert mg.logical_and(mg.tensor([1.0, 0.0]), mg.tensor([2.0, 2.0])).tolist() == [True, False]
    with pytest.raises(TypeError):
        ~mg.tensor([1.0])


def test_closeness_and_equality():
    x = mg.tensor([1.0, 2.0, float("nan")])
    assert mg.isclose(x, x + 1e-7).tolist() == [True, True, False]
    assert mg.isclose(x, x, equal_nan=True).tolist() == [True, True, True]
    assert mg.allclose(mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.000001]))
    assert not mg.allclose(mg.tensor([1.0]), mg.tensor([1.1]))
    assert mg.equal(mg.tensor([1, 2]), mg.tensor([1, 2]))
    assert not mg.equal(mg.tensor([1, 2]), mg.tensor([1, 2, 3]))
    assert mg.is_tensor(x) and not mg.is_tensor([1.0])
    assert mg.numel(mg.zeros(2, 3)) == 6
    assert mg.is_floating_point(x) and not mg.is_floating_point(mg.tensor([1]))


def test_integer_to_a_negative_integer_power_is_refused():
    with pytest.raises(RuntimeError, match="negative integer powers"):
        mg.tensor([2, 3]) ** -1
    assert (mg.tensor([2, 3]) ** 2).dtype == mg.int64
    assert (mg.tensor([2, 3]) ** -1.0).dtype == mg.float32


# --- hypot, xlogy, logaddexp, nan_to_num, addcmul, addcdiv ----------------------------------------

@gradient_test_for("Hypot")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(2, elements=[away_from_zero(0.2), floats()]))
def test_hypot_gradient(device, xy):
    check_gradients(mg.hypot, *xy, device=device)


@gradient_test_for("Xlogy")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(2, elements=[floats(), floats(0.2, 3.0)]))
def test_xlogy_gradient(device, xy):
    check_gradients(mg.xlogy, *xy, device=device)


@gradient_test_for("LogAddExp")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(2))
def test_logaddexp_gradient(device, xy):
    check_gradients(mg.logaddexp, *xy, device=device)


@gradient_test_for("nan_to_num")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()))
def test_nan_to_num_gradient(device, x):
    check_gradients(lambda a: mg.nan_to_num(a, posinf=2.0), x, device=device)


@gradient_test_for("addcmul", "addcdiv")
@pytest.mark.parametrize("device", DEVICES)
@given(broadcastable_arrays(3, elements=[floats(), floats(), away_from_zero(0.3)]))
def test_addcmul_addcdiv_gradient(device, arrays_):
    check_gradients(lambda a, b, c: mg.addcmul(a, b, c, value=-0.5), *arrays_, device=device)
    check_gradients(lambda a, b, c: mg.addcdiv(a, b, c, value=2.0), *arrays_, device=device)
    check_gradients(lambda a, b, c: a.addcdiv(b, c), *arrays_, device=device)


INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize("name, args, kwargs", [
    ("hypot", ([0.0, 3.0, -1e200, 2.0], [0.0, 4.0, 1e200, -INF]), {}),
    ("hypot", (np.float32([1.0, 2.0]), [[3.0], [0.5]]), {}),
    ("xlogy", ([0.0, 0.0, 0.0, 0.0, 0.0, 2.0, -1.5], [NAN, -1.0, 0.0, 2.0, INF, 0.0, 3.0]), {}),
    ("xlogy", (np.int64([0, 1, 2]), np.int64([0, 2, 3])), {}),
    ("xlogy", (np.float32([0.0, 2.0]), 3.0), {}),
    ("logaddexp", ([-INF, INF, 0.0, -1000.0, 1.0, 30.0], [-INF, INF, -50.0, -1000.0, -INF, 30.0]), {}),
    ("logaddexp", (np.float32([1.0, -2.0]), np.float32([[0.5], [3.0]])), {}),
    ("nan_to_num", ([NAN, INF, -INF, 1.5],), {}),
    ("nan_to_num", (np.float32([NAN, INF, -INF, 1.5]),), dict(nan=1.0, posinf=5.0)),
    ("nan_to_num", ([NAN, INF, -INF],), dict(neginf=-3.0)),
    ("nan_to_num", (np.int64([1, 2]),), {}),
    ("addcmul", ([1.0, 2.0], [[3.0], [4.0]], [0.5, -1.0]), dict(value=0.5)),
    ("addcmul", (np.int64([1, 2]), np.int64([3, 4]), np.int64([5, 6])), dict(value=2)),
    ("addcmul", (np.float32(1.0), np.float32([[1.0], [2.0]]), np.int64([1, 3])), {}),
    ("addcdiv", (np.float32([1.0, 2.0]), [[1.0], [2.0]], [1.0, 3.0]), dict(value=2)),
    ("addcdiv", (np.int64([1, 2]), [1.0, 2.0], [4.0, 8.0]), dict(value=-1)),
])
def test_binary_functions_match_torch(name, args, kwargs):
    """Values, dtype and shape against PyTorch, at the special points too (zeros, infinities, nan)."""
    torch = pytest.importorskip("torch")
    args = [np.asarray(a) if isinstance(a, list) else a for a in args]  # lists as float64
    mine = getattr(mg, name)(*[mg.tensor(a) if not isinstance(a, float) else a for a in args], **kwargs)
    theirs = getattr(torch, name)(*[torch.tensor(a) if not isinstance(a, float) else a for a in args], **kwargs)
    assert mine.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
    assert mine.shape == tuple(theirs.shape)
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6, atol=0)


def test_xlogy_and_logaddexp_gradients_at_special_points_match_torch():
    """xlogy's gradient at x = 0 (log y for y > 0, 0 for y < 0, the x / y of y at x = 0), and
    logaddexp's where exp would overflow, as PyTorch's formulas give them."""
    torch = pytest.importorskip("torch")
    cases = [("xlogy", [0.0, 0.0, 0.0, 2.0], [-1.0, 2.0, INF, 3.0]),
             ("logaddexp", [800.0, -800.0, 0.0, -INF], [0.0, 0.0, 0.0, 1.0])]
    for name, x, y in cases:
        grads = []
        for lib in (mg, torch):
            a, b = (lib.tensor(np.asarray(v), requires_grad=True) for v in (x, y))
            getattr(lib, name)(a, b).sum().backward()
            grads.append([np.asarray(a.grad.numpy()), np.asarray(b.grad.numpy())])
        for mine, theirs in zip(*grads):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, err_msg=name)


def test_binary_functions_refuse_what_torch_refuses():
    with pytest.raises(NotImplementedError, match="hypot"):
        mg.hypot(mg.tensor([3, 4]), mg.tensor([4, 3]))
    with pytest.raises(NotImplementedError, match="logaddexp"):
        mg.logaddexp(mg.tensor([1, 2]), mg.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
        mg.addcdiv(mg.tensor([1.0, 2.0]), mg.tensor([1, 2]), mg.tensor([1, 2]))


def test_addcmul_and_addcdiv_in_place():
    x = mg.tensor([1.0, 2.0])
    assert x.addcmul_(mg.tensor([2.0, 3.0]), mg.tensor([4.0, 5.0]), value=0.5) is x
    np.testing.assert_array_equal(x.numpy(), [5.0, 9.5])
    x.addcdiv_(mg.tensor([1.0, 3.0]), mg.tensor([2.0, 4.0]), value=-2)
    np.testing.assert_array_equal(x.numpy(), [4.0, 8.0])
    # recorded in the graph: the gradient flows through the in-place update
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    y = w * 1.0
    y.addcmul_(w, mg.tensor([3.0, 4.0]))
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 5.0])
    with pytest.raises(RuntimeError, match="broadcast|shape"):
        mg.tensor([1.0, 2.0]).addcmul_(mg.ones(2, 2), mg.ones(2))
    z = mg.tensor([NAN, 1.0])
    assert z.nan_to_num_(nan=7.0) is z and z.tolist() == [7.0, 1.0]


# --- log and division at zero: PyTorch's inf and nan, without NumPy's warnings -------------------------

def test_log_and_division_at_zero_give_torchs_values_silently():
    import warnings
    torch = pytest.importorskip("torch")
    calls = [
        lambda lib: lib.log(lib.tensor([0.0, 1.0, -1.0])),
        lambda lib: lib.log(lib.tensor([False, True])),
        lambda lib: lib.tensor([1.0, 0.0, -1.0]) / lib.tensor([0.0, 0.0, 0.0]),
        lambda lib: lib.tensor([1.0, 0.0]) / False,
        lambda lib: lib.tensor([True, False]) / False,
        lambda lib: False / lib.tensor([1.0, 0.0]),
        lambda lib: 1.5 / lib.tensor([False, True]),
        lambda lib: lib.tensor([1.0, 0.0], dtype=lib.float64) / lib.tensor(0),
    ]
    for call in calls:
        expected = call(torch).numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = call(mg)
        assert np.dtype(got.dtype) == expected.dtype
        np.testing.assert_array_equal(got.numpy(), expected)


def test_the_gradient_of_log_and_division_at_zero_is_silent_too():
    import warnings
    x = mg.tensor([0.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = mg.tensor([0.0, 4.0], dtype=mg.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (mg.log(x) + x / y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [np.inf, 0.5 + 0.25])
    assert np.isnan(y.grad.numpy()[0]) and y.grad.numpy()[1] == -2.0 / 16.0


def test_subtracting_a_bool_and_an_integer_where_condition_raise_as_torch():
    torch = pytest.importorskip("torch")
    calls = [lambda lib: lib.tensor([1, 2]) - True, lambda lib: True - lib.tensor([1, 2]),
             lambda lib: lib.tensor([1.5]) - False, lambda lib: lib.sub(lib.tensor([1, 2]), True),
             lambda lib: lib.where(lib.tensor([1, 0]), lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0]))]
    for call in calls:
        with pytest.raises(RuntimeError):
            call(torch)
        with pytest.raises(RuntimeError):
            call(mg)
    # a uint8 condition is still taken, as PyTorch's old masks
    got = mg.where(mg.tensor([1, 0], dtype=mg.uint8), mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(got.numpy(), [1.0, 4.0])
