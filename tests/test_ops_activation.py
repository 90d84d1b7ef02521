"""minigrad/ops/activation.py: relu, leaky_relu, sigmoid, tanh, gelu, softplus, softmax,
log_softmax and dropout; the composites prelu, dropout2d, elu and the rest of torch.nn.functional's
activations (hardtanh ... softmin); the inplace flag of F and of the modules."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.ops.activation import LeakyReLUBackward, Scale, SigmoidBackward, TanhBackward
from helpers import (DEVICES, array_and_dim, arrays, away_from, away_from_zero, check_gradients, floats,
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


@gradient_test_for("LeakyReLUBackward")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()), st.integers(0, 2**16), st.sampled_from([0.0, 0.2, -0.5]))
def test_leaky_relu_backward_gradient(device, g, seed, slope):
    """g m, m LeakyReLU's slope map of a constant x: linear in g, its own derivative (LeakyReLU's
    second-order gradients)."""
    x = np.random.default_rng(seed).choice([-1.5, -0.3, 0.4, 2.0], size=np.shape(g))
    check_gradients(lambda a: LeakyReLUBackward.apply(a, x=mg.tensor(x, device=device).array, slope=slope), g,
                    device=device)


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


@gradient_test_for("Scale")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()), st.integers(0, 2**16))
def test_scale_gradient(device, g, seed):
    """g * m for a constant m (ReLU's mask, LeakyReLU's slopes, dropout's scale)."""
    factor = np.random.default_rng(seed).choice([0.0, 0.2, 1.0, 2.0], size=np.shape(g))
    check_gradients(lambda a: Scale.apply(a, factor=mg.tensor(factor, device=device).array), g, device=device)


@gradient_test_for("SigmoidBackward")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()), st.integers(0, 2**16))
def test_sigmoid_backward_gradient(device, g, seed):
    """g s (1 - s), differentiated in g and in s (the sigmoid's second and third derivatives)."""
    s = np.random.default_rng(seed).uniform(0.05, 0.95, np.shape(g))
    check_gradients(lambda a, b: SigmoidBackward.apply(a, b), g, s, device=device)


@gradient_test_for("TanhBackward")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()), st.integers(0, 2**16))
def test_tanh_backward_gradient(device, g, seed):
    """g (1 - t^2), differentiated in g and in t."""
    t = np.random.default_rng(seed).uniform(-0.95, 0.95, np.shape(g))
    check_gradients(lambda a, b: TanhBackward.apply(a, b), g, t, device=device)


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


@pytest.mark.parametrize("shape", [(40, 64), (2, 3, 4, 5, 6)])
def test_dropout2d_of_other_ranks_warns_and_drops_sample_channel_slices_as_pytorch(shape):
    """An LSTM's (N, features) output through nn.Dropout2d: PyTorch warns and drops single elements."""
    torch = pytest.importorskip("torch")
    mg.manual_seed(0)
    with pytest.warns(UserWarning, match=f"Received a {len(shape)}-D input to dropout2d"):
        out = F.dropout2d(mg.ones(*shape), 0.5).numpy()
    with pytest.warns(UserWarning, match=f"Received a {len(shape)}-D input to dropout2d"):
        torch.nn.functional.dropout2d(torch.ones(*shape), 0.5)
    per_slice = out.reshape(shape[0], shape[1], -1)
    assert np.all(per_slice.min(axis=2) == per_slice.max(axis=2)) and set(np.unique(out)) == {0.0, 2.0}
    assert 0.3 < (per_slice[..., 0] == 0).mean() < 0.7
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.dropout2d(mg.ones(6), 0.5)
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"), \
            pytest.warns(UserWarning, match="1-D input"):  # PyTorch warns, then raises
        torch.nn.functional.dropout2d(torch.ones(6), 0.5)


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
    expected = [0.5 * (np.exp(-1.0) - 1), 2.0]
    assert layer(x) is x  # in place, as PyTorch: the input itself, changed
    np.testing.assert_allclose(x.numpy(), expected)
    assert F.elu(mg.tensor([-1.0]), inplace=False).item() == pytest.approx(np.exp(-1.0) - 1)
    assert repr(layer) == "ELU(alpha=0.5, inplace=True)"
    assert repr(mg.nn.ELU()) == "ELU(alpha=1.0)"


# --- the rest of torch.nn.functional's activations ------------------------------------------------
#
# Each: first and second derivatives by gradcheck (inputs kept away from its kinks), and values and
# gradients against PyTorch in float32 and float64, the kinks themselves included.

KINKS = {  # name -> (function, the points where its derivative jumps)
    "hardtanh": (lambda a: F.hardtanh(a, -0.5, 1.5), (-0.5, 1.5)),
    "relu6": (F.relu6, (0.0, 6.0)),
    "hardsigmoid": (F.hardsigmoid, (-3.0, 3.0)),
    "hardswish": (F.hardswish, (-3.0, 3.0)),
    "silu": (F.silu, ()),
    "mish": (F.mish, ()),
    "selu": (F.selu, (0.0,)),
    "celu": (lambda a: F.celu(a, 0.7), (0.0,)),
    "softsign": (F.softsign, (0.0,)),
    "logsigmoid": (F.logsigmoid, ()),
    "tanhshrink": (F.tanhshrink, ()),
    "softshrink": (lambda a: F.softshrink(a, 0.4), (-0.4, 0.4)),
    "hardshrink": (lambda a: F.hardshrink(a, 0.4), (-0.4, 0.4)),
    "threshold": (lambda a: F.threshold(a, 0.3, -2.0), (0.3,)),
}


@gradient_test_for(*KINKS)
@pytest.mark.parametrize("name", sorted(KINKS))
@settings(max_examples=8)
@given(data=st.data())
def test_elementwise_activation_gradients(name, data):
    function, kinks = KINKS[name]
    x = data.draw(arrays(shapes(max_dims=3), away_from(kinks, low=-7.0, high=7.0)))
    check_gradients(function, x)


@gradient_test_for("glu")
@given(array_and_dim(elements=floats(-4.0, 4.0)).filter(lambda case: case[0].ndim and case[0].shape[case[1]] % 2 == 0))
def test_glu_gradient(case):
    x, dim = case
    check_gradients(lambda a: F.glu(a, dim), x)


@gradient_test_for("softmin")
@given(array_and_dim())
def test_softmin_gradient(case):
    x, dim = case
    check_gradients(lambda a: F.softmin(a, dim), x)


def test_softmax2d_gradient():
    x = np.random.default_rng(0).normal(size=(2, 3, 2, 2))
    check_gradients(mg.nn.Softmax2d(), x)


# torch.nn.functional's names and ours, with the same arguments
TORCH_ACTIVATIONS = {
    "hardtanh": ((-0.5, 1.5), [-0.5, 1.5]),
    "relu6": ((), [0.0, 6.0]),
    "hardsigmoid": ((), [-3.0, 3.0]),
    "hardswish": ((), [-3.0, 3.0]),
    "silu": ((), []),
    "mish": ((), []),
    "selu": ((), [0.0]),
    "celu": ((0.7,), [0.0]),
    "softsign": ((), [0.0]),
    "logsigmoid": ((), [-100.0, 100.0]),
    "tanhshrink": ((), []),
    "softshrink": ((0.4,), [-0.4, 0.4]),
    "hardshrink": ((0.4,), [-0.4, 0.4]),
    "threshold": ((0.3, -2.0), [0.3]),
    "elu": ((0.5,), [0.0]),
    "leaky_relu": ((0.1,), [0.0]),
    "relu": ((), [0.0]),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(TORCH_ACTIVATIONS))
def test_activation_matches_pytorch(name, dtype):
    """Values, dtype and gradients, at random points, at the kinks, and for an empty input."""
    torch = pytest.importorskip("torch")
    args, kinks = TORCH_ACTIVATIONS[name]
    values = np.concatenate([np.random.default_rng(1).normal(0, 4, size=20), kinks, [0.0, -3.0, 3.0, 6.0]])
    values = values.astype(dtype).reshape(-1, 1)
    ours = mg.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    out, expected = getattr(F, name)(ours, *args), getattr(torch.nn.functional, name)(theirs, *args)
    assert out.dtype == ours.dtype and out.shape == tuple(expected.shape)
    tolerance = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=tolerance, atol=tolerance)
    g = np.random.default_rng(2).normal(size=values.shape).astype(dtype)
    out.backward(mg.tensor(g))
    expected.backward(torch.tensor(g))
    # PyTorch's celu and hardsigmoid backward round 1/alpha and 1/6 to float32 (a relative 1e-7 in
    # float64); ours are exact
    tolerance = 1e-6 if name in ("celu", "hardsigmoid") else tolerance * 10
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=tolerance, atol=tolerance)
    empty = getattr(F, name)(mg.zeros(0, 3, dtype=getattr(mg, dtype)), *args)
    assert empty.shape == (0, 3) and empty.dtype == getattr(mg, dtype)


def test_glu_softmin_softmax2d_match_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).normal(size=(2, 4, 3, 2))
    for call in [lambda F, a: F.glu(a, 1), lambda F, a: F.glu(a), lambda F, a: F.softmin(a, 2),
                 lambda F, a: F.softmin(a, -1, dtype=None)]:
        a, t = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = call(F, a), call(torch.nn.functional, t)
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
        (out * out).sum().backward()
        (expected * expected).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mg.nn.Softmax2d()(mg.tensor(x)).numpy(),
                               torch.nn.Softmax2d()(torch.tensor(x)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(mg.nn.Softmax2d()(mg.tensor(x[0])).numpy(),
                               torch.nn.Softmax2d()(torch.tensor(x[0])).numpy(), rtol=1e-12)


def test_activation_argument_errors_as_pytorch():
    x = mg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 0 is size 3"):
        F.glu(x, 0)
    with pytest.raises(RuntimeError, match="glu does not support scalars"):
        F.glu(mg.tensor(1.0))
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(RuntimeError, match="lambda must be"):
        F.softshrink(x, -1.0)
    with pytest.raises(RuntimeError, match="alpha cannot be 0 for CELU"):
        F.celu(x, 0.0)
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 1D instead"):
        mg.nn.Softmax2d()(x)
    np.testing.assert_array_equal(F.hardshrink(x, -1.0).numpy(), x.numpy())  # allowed, as PyTorch


def test_activation_modules_match_pytorch_reprs_and_values():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).normal(0, 4, size=(3, 4))
    modules = ["ReLU6()", "Hardtanh(-2.0, 0.5)", "SiLU()", "Mish()", "SELU()", "CELU(alpha=0.5)", "Softsign()",
               "LogSigmoid()", "Hardsigmoid()", "Hardswish()", "Tanhshrink()", "Softshrink(0.3)", "Hardshrink(0.3)",
               "Threshold(0.1, 20.0)", "GLU()", "Softmin(dim=1)", "Softmax(dim=0)", "LogSoftmax(dim=1)"]
    for text in modules:
        ours, theirs = eval("mg.nn." + text), eval("torch.nn." + text)
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-12,
                                   err_msg=text)
    assert repr(mg.nn.ReLU6(inplace=True)) == "ReLU6(inplace=True)"
    with pytest.warns(FutureWarning, match="min_value` is deprecated"):
        assert mg.nn.Hardtanh(min_value=-2.0).min_val == -2.0


# --- softmax and log_softmax: PyTorch's extra arguments and empty dims ------------------------------

@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_over_an_empty_dim_is_empty(name):
    """PyTorch answers an empty result (the max inside must not reduce an empty dim)."""
    for shape, dim in [((2, 0), 1), ((0, 3), 0), ((0, 3), 1), ((2, 0, 3), -2)]:
        x = mg.zeros(*shape, requires_grad=True)
        out = getattr(F, name)(x, dim)
        assert out.shape == shape and out.dtype == x.dtype
        out.sum().backward()
        assert x.grad.shape == shape


def test_softmax_dtype_argument_casts_first():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).normal(size=(2, 3)).astype(np.float32)
    for name in ["softmax", "log_softmax", "softmin"]:
        a = mg.tensor(x, requires_grad=True)
        out = getattr(F, name)(a, 1, dtype=mg.float64)
        expected = getattr(torch.nn.functional, name)(torch.tensor(x), 1, dtype=torch.float64)
        assert out.dtype == mg.float64
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)
        out.sum().backward()
        assert a.grad.dtype == mg.float32


def test_softmax_without_dim_warns_and_picks_pytorchs_dim():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        out = F.softmax(x)
    np.testing.assert_allclose(out.numpy().sum(axis=1), [1.0, 1.0])  # dim 1 for 2-D input
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        F.log_softmax(x, _stacklevel=5)


# --- inplace=True: the input's own memory, as PyTorch ------------------------------------------------

IN_PLACE = {  # F's name -> extra arguments
    "relu": (), "leaky_relu": (0.2,), "elu": (0.5,), "hardtanh": (-0.5, 0.5), "relu6": (), "selu": (),
    "celu": (0.7,), "silu": (), "mish": (), "hardsigmoid": (), "hardswish": (), "threshold": (0.1, -3.0),
}


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_inplace_changes_the_input_and_returns_it(name):
    args = IN_PLACE[name]
    values = np.linspace(-4, 4, 12).reshape(3, 4)
    x = mg.tensor(values)
    view = x[1]
    y = getattr(F, name)(x, *args, inplace=True)
    expected = getattr(F, name)(mg.tensor(values), *args).numpy()
    assert y is x
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-15)
    np.testing.assert_allclose(view.numpy(), expected[1], rtol=1e-15)  # a view sees the new values


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_inplace_gradients_match_pytorch(name):
    """x = a * 1 (not a leaf), changed in place, then used: the gradient reaches a as in PyTorch."""
    torch = pytest.importorskip("torch")
    args = IN_PLACE[name]
    values = np.linspace(-4, 4, 12).reshape(3, 4)
    a, b = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    results = []
    for lib_F, leaf in [(F, a), (torch.nn.functional, b)]:
        x = leaf * 2
        out = getattr(lib_F, name)(x, *args, inplace=True)
        (out * out).sum().backward()
        results.append(leaf.grad.numpy())
    np.testing.assert_allclose(*results, rtol=1e-6 if name in ("celu", "hardsigmoid") else 1e-12)


def test_inplace_relu_in_sequential_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(6).normal(size=(5, 3))
    mg.manual_seed(0)
    ours = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.ReLU(inplace=True), mg.nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(inplace=True), torch.nn.Linear(4, 2)).double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.tensor(p.numpy(), dtype=torch.float64))
    ours.double()
    out, expected = ours(mg.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-6)
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-8)


def test_inplace_over_a_saved_output_raises_as_pytorch():
    """sigmoid saves its output for backward; relu_ overwrites it: backward must refuse."""
    x = mg.tensor([-1.0, 2.0], requires_grad=True)
    y = x.sigmoid()
    F.relu(y - 0.6, inplace=False)  # a new tensor: harmless
    F.relu(y, inplace=True)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()
    leaf = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor .* requires grad .* in-place"):
        F.relu(leaf, inplace=True)


def test_inplace_modules():
    x = mg.tensor([-2.0, 1.0, 7.0])
    for module in [mg.nn.ReLU(inplace=True), mg.nn.ReLU6(inplace=True), mg.nn.Hardtanh(-1.0, 6.5, inplace=True)]:
        assert module(x) is x
    np.testing.assert_array_equal(x.numpy(), [0.0, 1.0, 6.0])
    y = mg.tensor([-1.0, 1.0])
    assert mg.nn.LeakyReLU(0.5, inplace=True)(y) is y and y.tolist() == [-0.5, 1.0]
    z = mg.tensor([-1.0, 1.0])
    assert mg.nn.ReLU()(z) is not z and z.tolist() == [-1.0, 1.0]


def test_inplace_dropout():
    mg.manual_seed(0)
    x = mg.ones(50, 4)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.numpy())) == {0.0, 2.0}
    images = mg.ones(8, 6, 2, 2)
    assert mg.nn.Dropout2d(0.5, inplace=True)(images) is images
    per_channel = images.numpy().reshape(8, 6, 4)
    assert set(np.unique(per_channel)) == {0.0, 2.0} and (per_channel.min(2) == per_channel.max(2)).all()
    frozen = mg.ones(3)
    assert F.dropout(frozen, 0.5, training=False, inplace=True) is frozen and frozen.tolist() == [1.0] * 3
    layer = mg.nn.Dropout(0.5, inplace=True)
    assert repr(layer) == "Dropout(p=0.5, inplace=True)"
    a = mg.tensor(np.linspace(1, 2, 40), requires_grad=True)
    mg.manual_seed(1)
    out = F.dropout(a * 1, 0.25, inplace=True)
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), (out.numpy() != 0) / 0.75)


def test_underscore_spellings_are_in_place():
    torch = pytest.importorskip("torch")
    for name, args in [("relu_", ()), ("leaky_relu_", (0.3,)), ("elu_", (0.5,)), ("celu_", (0.5,)), ("selu_", ()),
                       ("hardtanh_", (-0.5, 0.5)), ("threshold_", (0.1, 9.0))]:
        values = np.linspace(-2, 2, 7)
        x, t = mg.tensor(values), torch.tensor(values)
        assert getattr(F, name)(x, *args) is x
        getattr(torch.nn.functional, name)(t, *args)
        np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_sigmoid_and_tanh_of_integers_give_the_default_float_as_torch(name):
    torch = pytest.importorskip("torch")
    values = np.array([-2, 0, 3])
    mine, theirs = getattr(mg, name)(mg.tensor(values)), getattr(torch, name)(torch.tensor(values))
    assert mine.dtype == np.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)
    x = mg.tensor([[1.0, 2.0]], dtype=mg.float32)
    assert x.softmax(1, dtype=mg.float64).dtype == np.float64 and x.log_softmax(dim=1, dtype=mg.float64).dtype == np.float64


def test_activations_without_integer_kernels_refuse_integers_and_bools_as_torch():
    torch = pytest.importorskip("torch")
    calls = [
        lambda lib, x: lib.nn.functional.softplus(x), lambda lib, x: lib.nn.functional.elu(x),
        lambda lib, x: lib.nn.functional.selu(x), lambda lib, x: lib.nn.functional.celu(x),
        lambda lib, x: lib.nn.functional.softmax(x, 0), lambda lib, x: lib.nn.functional.log_softmax(x, 0),
        lambda lib, x: x.softmax(0), lambda lib, x: x.log_softmax(-1),
    ]
    for values in (np.array([1, 2, 3]), np.array([True, False]), np.array([1, 2], dtype=np.int32)):
        for call in calls:
            with pytest.raises(NotImplementedError):
                call(torch, torch.tensor(values))
            with pytest.raises(NotImplementedError, match="not implemented for"):
                call(mg, mg.tensor(values))
    for name in ("softmax", "log_softmax"):  # with a float dtype= the input is cast first, as there
        got = getattr(mg.nn.functional, name)(mg.tensor([1, 2, 3]), 0, dtype=mg.float64)
        expected = getattr(torch.nn.functional, name)(torch.tensor([1, 2, 3]), 0, dtype=torch.float64)
        np.testing.assert_allclose(got.numpy(), expected.numpy())
