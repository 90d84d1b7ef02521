"""minigrad/ops/activation.py: relu, leaky_relu, sigmoid, tanh, gelu, softplus, softmax,
log_softmax and dropout; the composites prelu, dropout2d and elu."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from helpers import (DEVICES, array_and_dim, arrays, away_from_zero, check_gradients, floats,
                     gradient_test_for, shapes)

HUGE = 1e4  # |x| up to this must give no overflow, NaN or inf


# --- gradients ----------------------------------------------------------------------------

@gradient_test_for("ReLU")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(), away_from_zero()))
def test_relu_gradient(device, x):
    check_gradients(F.relu, x, device=device)


@gradient_test_for("LeakyReLU")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(), away_from_zero()), floats(0.0, 0.5))
def test_leaky_relu_gradient(device, x, slope):
    check_gradients(lambda a: F.leaky_relu(a, slope), x, device=device)


@gradient_test_for("Sigmoid")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(), floats(-10.0, 10.0)))
def test_sigmoid_gradient(device, x):
    check_gradients(F.sigmoid, x, device=device)


@gradient_test_for("Tanh")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()))
def test_tanh_gradient(device, x):
    check_gradients(F.tanh, x, device=device)


@gradient_test_for("GELU")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(), floats(-5.0, 5.0)), st.sampled_from(["none", "tanh"]))
def test_gelu_gradient(device, x, approximate):
    """Both branches of erf (the series below |x| = 2.5, the continued fraction above)."""
    check_gradients(lambda a: F.gelu(a, approximate=approximate), x, device=device)


@st.composite
def softplus_cases(draw):
    """x, beta and threshold, with beta*x at least 0.01 from the threshold, where softplus
    switches to the identity (and jumps by about e^-threshold)."""
    beta = draw(floats(0.5, 2.0))
    threshold = draw(floats(0.5, 20.0))
    x = draw(arrays(shapes(), floats(-5.0, 5.0).filter(lambda v: abs(beta * v - threshold) >= 0.01)))
    return x, beta, threshold


@gradient_test_for("Softplus")
@pytest.mark.parametrize("device", DEVICES)
@given(softplus_cases())
def test_softplus_gradient(device, case):
    x, beta, threshold = case
    check_gradients(lambda a: F.softplus(a, beta, threshold), x, device=device)


@gradient_test_for("Softmax")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_dim())
def test_softmax_gradient(device, case):
    x, dim = case
    check_gradients(lambda a: F.softmax(a, dim), x, device=device)


@gradient_test_for("LogSoftmax")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_dim())
def test_log_softmax_gradient(device, case):
    x, dim = case
    check_gradients(lambda a: F.log_softmax(a, dim), x, device=device)


@gradient_test_for("Dropout")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()), floats(0.05, 0.95), st.integers(0, 2**16))
def test_dropout_gradient(device, x, p, seed):
    """Seeding inside the function gives both sides of every central difference the same mask."""
    def dropout(a):
        mg.manual_seed(seed)
        return F.dropout(a, p)
    check_gradients(dropout, x, device=device)


# --- known values -------------------------------------------------------------------------

def test_relu_and_leaky_relu_values_and_gradients():
    x = mg.tensor([-2.0, -0.5, 0.0, 3.0], requires_grad=True)
    y = F.relu(x)
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0, 0.0, 3.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0, 1.0])  # 0 at 0, as PyTorch
    x.grad = None
    y = F.leaky_relu(x, 0.2)
    np.testing.assert_allclose(y.numpy(), [-0.4, -0.1, 0.0, 3.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.2, 0.2, 0.2, 1.0])
    np.testing.assert_allclose(F.leaky_relu(mg.tensor([-1.0])).numpy(), [-0.01])  # default slope


def test_sigmoid_and_tanh_known_values():
    x = mg.tensor([0.0, np.log(3.0)], dtype=mg.float64, requires_grad=True)
    s = F.sigmoid(x)
    np.testing.assert_allclose(s.numpy(), [0.5, 0.75])
    s.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.25, 0.1875])  # s (1 - s)
    t = mg.tensor([0.0, 1.0], dtype=mg.float64, requires_grad=True)
    y = F.tanh(t)
    y.sum().backward()
    np.testing.assert_allclose(y.numpy(), [0.0, np.tanh(1.0)])
    np.testing.assert_allclose(t.grad.numpy(), [1.0, 1 - np.tanh(1.0) ** 2])


def test_gelu_exact_and_tanh_approximation_values():
    """Reference values from torch.nn.functional.gelu in float64."""
    x = mg.tensor([-1.0, 0.5, 1.0, 2.0], dtype=mg.float64)
    np.testing.assert_allclose(F.gelu(x).numpy(),
                               [-0.15865525393145702, 0.34573123063700656, 0.841344746068543, 1.9544997361036416],
                               rtol=1e-12)
    np.testing.assert_allclose(F.gelu(x, approximate="tanh").numpy(),
                               [-0.15880800939172324, 0.34571400982514394, 0.8411919906082768, 1.954597694087775],
                               rtol=1e-12)


def test_gelu_gradient_at_zero_is_one_half():
    for approximate in ("none", "tanh"):
        x = mg.tensor(0.0, dtype=mg.float64, requires_grad=True)
        F.gelu(x, approximate=approximate).backward()
        assert x.grad.item() == pytest.approx(0.5)


def test_softplus_values_and_threshold():
    x = mg.tensor([1.0, -1.0, 0.0], dtype=mg.float64)
    np.testing.assert_allclose(F.softplus(x).numpy(), [1.3132616875182228, 0.31326168751822286, np.log(2.0)])
    np.testing.assert_allclose(F.softplus(x, beta=2.0).numpy(), np.log1p(np.exp(2 * x.numpy())) / 2)
    above = mg.tensor([25.0], dtype=mg.float64, requires_grad=True)
    y = F.softplus(above)
    y.backward(mg.ones_like(y))
    assert y.item() == 25.0 and above.grad.item() == 1.0  # beta x > threshold: the identity


def test_softmax_and_log_softmax_values():
    x = mg.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=mg.float64)
    s = F.softmax(x, dim=1).numpy()
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(s[0], e / e.sum())
    np.testing.assert_allclose(s[1], [1 / 3] * 3)
    np.testing.assert_allclose(s.sum(axis=1), [1.0, 1.0])
    np.testing.assert_allclose(F.log_softmax(x, dim=-1).numpy(), np.log(s))
    np.testing.assert_allclose(F.softmax(x, dim=0).numpy().sum(axis=0), [1.0, 1.0, 1.0])


def test_softmax_gradient_of_the_sum_is_zero():
    x = mg.tensor([[1.0, 2.0, 3.0]], dtype=mg.float64, requires_grad=True)
    F.softmax(x, dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0, 0.0]], atol=1e-15)


@pytest.mark.parametrize("device", DEVICES)
def test_huge_inputs_give_finite_values_and_gradients(device):
    """sigmoid, softplus and log_softmax at |x| = 1e4: no overflow, NaN or inf, forward or backward
    (pytest turns minigrad's RuntimeWarnings, such as an overflow in exp, into errors)."""
    for dtype in (mg.float32, mg.float64):
        values = [-HUGE, -1.0, 0.0, 1.0, HUGE]
        checks = {
            "sigmoid": (F.sigmoid, [0.0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-1)), 1.0]),
            "softplus": (F.softplus, [0.0, np.log1p(np.exp(-1)), np.log(2), np.log1p(np.e), HUGE]),
            "log_softmax": (lambda a: F.log_softmax(a, 0), [-2 * HUGE, -HUGE - 1, -HUGE, -HUGE + 1, 0.0]),
        }
        for name, (func, expected) in checks.items():
            x = mg.tensor(values, dtype=dtype, device=device, requires_grad=True)
            y = func(x)
            y.backward(mg.ones_like(y))
            assert np.isfinite(y.numpy()).all(), name
            assert np.isfinite(x.grad.numpy()).all(), name
            np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6, atol=1e-7, err_msg=name)


def test_huge_input_gradients_saturate():
    x = mg.tensor([-HUGE, HUGE], dtype=mg.float64, requires_grad=True)
    F.sigmoid(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    x.grad = None
    F.softplus(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0])
    x.grad = None
    F.log_softmax(x, 0)[1].backward()  # d/dx (x_1 - logsumexp) = onehot - softmax = (0, 0)
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_dropout_zeroes_and_rescales():
    mg.manual_seed(3)
    x = mg.ones(10000, dtype=mg.float64, requires_grad=True)
    y = F.dropout(x, p=0.25)
    kept = y.numpy() != 0
    assert 0.72 < kept.mean() < 0.78
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 1 / 0.75, 0.0))


def test_dropout_is_reproducible_under_a_seed():
    x = mg.ones(100)
    mg.manual_seed(7)
    first = F.dropout(x, 0.5).numpy()
    mg.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), first)


def test_dropout_identity_cases():
    x = mg.tensor([1.0, 2.0, 3.0])
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), [0.0, 0.0, 0.0])


# --- errors -------------------------------------------------------------------------------

def test_dropout_probability_out_of_range():
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout(mg.ones(3), 1.5)


def test_gelu_unknown_approximation():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(mg.ones(3), approximate="fast")


def test_softmax_dim_out_of_range():
    with pytest.raises(IndexError, match=r"softmax: Dimension out of range \(expected to be in range of "
                                          r"\[-2, 1\], but got 2\) for dim of a tensor of shape \(2, 3\)"):
        F.softmax(mg.ones(2, 3), dim=2)
    with pytest.raises(IndexError, match=r"log_softmax: .*\[-2, 1\], but got -3"):
        mg.ones(2, 3).log_softmax(-3)
    assert mg.tensor(2.0).softmax(-1).item() == 1.0  # a 0-d tensor accepts dim 0 and -1, as PyTorch


# --- prelu, dropout2d ----------------------------------------------------------------------------------

@gradient_test_for("prelu")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(min_dims=2), away_from_zero()), st.booleans(), st.data())
def test_prelu_gradient(device, x, per_channel, data):
    weight = data.draw(arrays((x.shape[1] if per_channel else 1,), floats(0.0, 0.5)))
    check_gradients(F.prelu, x, weight, device=device)


def test_prelu_values():
    x = mg.tensor([[-2.0, 3.0], [4.0, -1.0]])
    np.testing.assert_allclose(F.prelu(x, mg.tensor([0.25])).numpy(), [[-0.5, 3.0], [4.0, -0.25]])
    np.testing.assert_allclose(F.prelu(x, mg.tensor([0.1, 0.5])).numpy(), [[-0.2, 3.0], [4.0, -0.5]])
    with pytest.raises(ValueError, match="3 weights need input with 3 channels"):
        F.prelu(x, mg.ones(3))


@gradient_test_for("dropout2d")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(min_dims=4, max_dims=4)), floats(0.05, 0.95), st.integers(0, 2**16))
def test_dropout2d_gradient(device, x, p, seed):
    """Seeding inside the function gives both sides of every central difference the same mask."""
    def dropout2d(a):
        mg.manual_seed(seed)
        return F.dropout2d(a, p)
    check_gradients(dropout2d, x, device=device)


def test_dropout2d_zeroes_whole_channels():
    mg.manual_seed(0)
    x = mg.ones(8, 16, 3, 3)
    out = F.dropout2d(x, 0.5).numpy()
    per_channel = out.reshape(8, 16, -1)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # each channel all 0 or all 2
    assert set(np.unique(out)) == {0.0, 2.0}
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7
    assert F.dropout2d(x, 0.5, training=False) is x
    with pytest.warns(UserWarning, match="3D input"):
        F.dropout2d(mg.ones(2, 3, 4), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout2d(x, 1.5)


# --- elu ---------------------------------------------------------------------------------------------

@gradient_test_for("ELU")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(), away_from_zero()), floats(0.1, 2.0))
def test_elu_gradient(device, x, alpha):
    """Away from 0, where the slope jumps from alpha to 1 (and, for alpha = 1, the curvature from 1 to 0)."""
    check_gradients(lambda a: F.elu(a, alpha), x, device=device)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.7])
def test_elu_matches_torch_values_first_and_second_derivatives(alpha):
    """Including x = 0 (PyTorch's slope there is alpha, the negative branch's) and |x| = 1e4. The second
    derivative is compared away from 0: there PyTorch's double backward takes the positive branch (0),
    its backward the negative one; minigrad's composite takes the negative branch for both (alpha)."""
    torch = pytest.importorskip("torch")
    values = np.array([-HUGE, -3.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 3.0, HUGE])
    x = mg.tensor(values, dtype=mg.float64, requires_grad=True)
    theirs = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    y, expected = F.elu(x, alpha), torch.nn.functional.elu(theirs, alpha)
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-15)
    slope, = mg.autograd.grad(y.sum(), x, create_graph=True)
    expected_slope, = torch.autograd.grad(expected.sum(), theirs, create_graph=True)
    np.testing.assert_allclose(slope.numpy(), expected_slope.detach().numpy(), rtol=1e-12, atol=0)
    curvature, = mg.autograd.grad(slope.sum(), x)
    expected_curvature, = torch.autograd.grad(expected_slope.sum(), theirs)
    away_from_zero = values != 0
    np.testing.assert_allclose(curvature.numpy()[away_from_zero], expected_curvature.numpy()[away_from_zero],
                               rtol=1e-12, atol=0)
    assert curvature.numpy()[~away_from_zero] == pytest.approx([alpha])


def test_elu_module_and_inplace_flag():
    x = mg.tensor([-1.0, 2.0], dtype=mg.float64)
    layer = mg.nn.ELU(alpha=0.5, inplace=True)
    np.testing.assert_allclose(layer(x).numpy(), [0.5 * (np.exp(-1.0) - 1), 2.0])
    np.testing.assert_array_equal(x.numpy(), [-1.0, 2.0])  # inplace is accepted, and the input unchanged
    np.testing.assert_array_equal(F.elu(x, inplace=True).numpy(), F.elu(x).numpy())
    assert repr(layer) == "ELU(alpha=0.5, inplace=True)"
    assert repr(mg.nn.ELU()) == "ELU(alpha=1.0)"
