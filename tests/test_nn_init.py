"""minigrad/nn/init.py: the in-place initialisers, their statistics on large tensors, fans and
gains as torch.nn.init computes them; all without recording a graph, all following mg.manual_seed."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import init
from helpers import DEVICES

LARGE = (400, 500)  # 200,000 values: sample statistics within a fraction of a percent


def parameter(*shape, dtype=mg.float64, device="cpu"):
    return nn.Parameter(mg.zeros(*shape, dtype=dtype, device=device))


# Sample statistics of n values are checked to 5 standard errors (a false alarm ~1e-6), and the
# extremes of a uniform to within 10/n of the ends (a false alarm e^-10).

def check_uniform(values, low, high):
    """Inside [low, high), reaching both ends, with a uniform's mean and variance."""
    n, width = values.size, high - low
    assert values.min() >= low and values.max() < high
    assert values.min() < low + 10 * width / n and values.max() > high - 10 * width / n
    assert abs(values.mean() - (low + high) / 2) < 5 * width / math.sqrt(12 * n)
    # the sample variance of a uniform has relative standard error sqrt(0.8 / n)
    np.testing.assert_allclose(values.var(), width ** 2 / 12, rtol=5 * math.sqrt(0.8 / n))


def check_normal(values, mean, std):
    n = values.size
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(n)
    np.testing.assert_allclose(values.std(), std, rtol=5 / math.sqrt(2 * n))
    # the tails of a normal: 4.55% beyond two standard deviations
    tail = 0.0455
    assert abs(np.mean(np.abs(values - mean) > 2 * std) - tail) < 5 * math.sqrt(tail * (1 - tail) / n)


# --- in place, on parameters that require grad, without a graph ----------------------------

ALL_INITIALISERS = [
    ("uniform_", lambda t: init.uniform_(t, -2.0, 3.0)),
    ("normal_", lambda t: init.normal_(t, 1.0, 0.5)),
    ("zeros_", init.zeros_),
    ("ones_", init.ones_),
    ("constant_", lambda t: init.constant_(t, 0.25)),
    ("xavier_uniform_", init.xavier_uniform_),
    ("xavier_normal_", init.xavier_normal_),
    ("kaiming_uniform_", init.kaiming_uniform_),
    ("kaiming_normal_", init.kaiming_normal_),
    ("trunc_normal_", lambda t: init.trunc_normal_(t, 0.5, 1.0, -1.0, 2.0)),
    ("orthogonal_", lambda t: init.orthogonal_(t, gain=0.5)),
    ("eye_", init.eye_),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name, initialise", ALL_INITIALISERS, ids=[name for name, _ in ALL_INITIALISERS])
def test_initialisers_work_in_place_without_a_graph(device, name, initialise):
    p = parameter(30, 20, device=device)
    p.array[...] = 7.0
    array, version = p.array, p._version[0]
    assert initialise(p) is p
    assert p.array is array  # the very same memory
    assert p.requires_grad and p.grad_fn is None and p.is_leaf and p.grad is None
    assert p._version[0] > version  # graphs that saved the old values will refuse backward
    assert not np.any(p.numpy() == 7.0)
    assert p.dtype == np.float64 and p.device == device


@pytest.mark.parametrize("name, initialise", ALL_INITIALISERS, ids=[name for name, _ in ALL_INITIALISERS])
def test_initialisers_follow_the_seed(name, initialise):
    mg.manual_seed(123)
    first = initialise(parameter(8, 9)).numpy().copy()
    mg.manual_seed(123)
    np.testing.assert_array_equal(initialise(parameter(8, 9)).numpy(), first)


def test_random_initialisers_draw_new_values_each_call():
    a, b = init.normal_(parameter(50)).numpy().copy(), init.normal_(parameter(50)).numpy().copy()
    assert not np.array_equal(a, b)


def test_a_graph_through_the_old_values_refuses_backward():
    w = parameter(3, 3)
    init.ones_(w)
    y = (mg.ones(2, 3, dtype=mg.float64) @ w).sum()
    init.normal_(w)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_keeps_float32():
    p = init.kaiming_uniform_(parameter(10, 10, dtype=mg.float32))
    assert p.dtype == np.float32


# --- statistics -----------------------------------------------------------------------------------

def test_constant_zeros_ones():
    assert init.constant_(parameter(2, 3), 0.25).tolist() == [[0.25] * 3] * 2
    assert init.ones_(parameter(2)).tolist() == [1.0, 1.0]
    p = parameter(2)
    p.array[...] = 5
    assert init.zeros_(p).tolist() == [0.0, 0.0]


def test_uniform():
    check_uniform(init.uniform_(parameter(*LARGE), -2.0, 3.0).numpy(), -2.0, 3.0)
    check_uniform(init.uniform_(parameter(*LARGE)).numpy(), 0.0, 1.0)  # default U(0, 1)


def test_normal():
    check_normal(init.normal_(parameter(*LARGE), 1.5, 0.3).numpy(), 1.5, 0.3)
    check_normal(init.normal_(parameter(*LARGE)).numpy(), 0.0, 1.0)  # default N(0, 1)


def test_dcgan_normal_0_002():
    """DCGAN re-initialises conv weights with N(0, 0.02) and BatchNorm weights with N(1, 0.02)."""
    conv = nn.Conv2d(64, 128, 4)  # 131,072 weights
    init.normal_(conv.weight, 0.0, 0.02)
    check_normal(conv.weight.numpy().astype(np.float64), 0.0, 0.02)
    norm = nn.BatchNorm2d(100_000)
    init.normal_(norm.weight, 1.0, 0.02)
    init.constant_(norm.bias, 0)
    check_normal(norm.weight.numpy().astype(np.float64), 1.0, 0.02)
    assert not norm.bias.numpy().any()


def test_xavier():
    fan_in, fan_out = 500, 400  # a (fan_out, fan_in) weight
    bound = math.sqrt(6 / (fan_in + fan_out))
    check_uniform(init.xavier_uniform_(parameter(fan_out, fan_in)).numpy(), -bound, bound)
    check_uniform(init.xavier_uniform_(parameter(fan_out, fan_in), gain=2.0).numpy(), -2 * bound, 2 * bound)
    std = math.sqrt(2 / (fan_in + fan_out))
    check_normal(init.xavier_normal_(parameter(fan_out, fan_in)).numpy(), 0.0, std)
    check_normal(init.xavier_normal_(parameter(fan_out, fan_in), gain=0.5).numpy(), 0.0, 0.5 * std)


def test_xavier_of_a_conv_weight_counts_the_receptive_field():
    # (out, in, kh, kw) = (32, 16, 5, 5): fan_in 16*25 = 400, fan_out 32*25 = 800
    bound = math.sqrt(6 / 1200)
    check_uniform(init.xavier_uniform_(parameter(32, 16, 5, 5)).numpy(), -bound, bound)


def test_kaiming():
    fan_in, fan_out = 500, 400
    # default: a=0, fan_in, leaky_relu -> gain sqrt(2)
    bound = math.sqrt(2) * math.sqrt(3 / fan_in)
    check_uniform(init.kaiming_uniform_(parameter(fan_out, fan_in)).numpy(), -bound, bound)
    check_normal(init.kaiming_normal_(parameter(fan_out, fan_in)).numpy(), 0.0, math.sqrt(2 / fan_in))
    # a=sqrt(5), as Linear and Conv2d use: bound 1/sqrt(fan_in)
    check_uniform(init.kaiming_uniform_(parameter(fan_out, fan_in), a=math.sqrt(5)).numpy(),
                  -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))
    # fan_out and relu
    check_normal(init.kaiming_normal_(parameter(fan_out, fan_in), mode="fan_out", nonlinearity="relu").numpy(),
                 0.0, math.sqrt(2 / fan_out))
    bound = 5 / 3 * math.sqrt(3 / fan_out)
    check_uniform(init.kaiming_uniform_(parameter(fan_out, fan_in), mode="fan_out", nonlinearity="tanh").numpy(),
                  -bound, bound)


def test_fans():
    assert init.calculate_fan_in_and_fan_out(parameter(4, 3)) == (3, 4)
    assert init.calculate_fan_in_and_fan_out(parameter(8, 3, 5, 5)) == (75, 200)
    # as PyTorch, from dims 1 and 0 whatever the layer: for ConvTranspose2d's (in, out, kh, kw), fan_in is out*kh*kw
    assert init.calculate_fan_in_and_fan_out(nn.ConvTranspose2d(6, 2, 3).weight) == (18, 54)
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.calculate_fan_in_and_fan_out(parameter(5))
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(parameter(5))


def test_calculate_gain():
    for linear in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                   "sigmoid"):
        assert init.calculate_gain(linear) == 1.0
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01 ** 2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.calculate_gain("leaky_relu", 0) == math.sqrt(2)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="^Unsupported nonlinearity swish$"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="^Unsupported nonlinearity identity$"):  # as PyTorch
        init.calculate_gain("identity")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of \['fan_in', 'fan_out'\]"):
        init.kaiming_uniform_(parameter(3, 3), mode="fan_avg")


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for name, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                        ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None), ("conv1d", None), ("conv3d", None),
                        ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-15)



# --- orthogonal_, trunc_normal_, eye_, dirac_, the generator keyword ------------------------------------

@pytest.mark.parametrize("shape", [(3, 7), (7, 3), (5, 5), (4, 2, 3, 3), (20, 2, 2, 2)])
def test_orthogonal_gives_orthonormal_rows_or_columns_times_gain(shape):
    matrix = init.orthogonal_(parameter(*shape), gain=1.5).numpy().reshape(shape[0], -1)
    rows, cols = matrix.shape
    product = matrix @ matrix.T if rows <= cols else matrix.T @ matrix  # as PyTorch: the smaller side
    np.testing.assert_allclose(product, 1.5 ** 2 * np.eye(min(rows, cols)), atol=1e-12)
    assert init.orthogonal_(parameter(0, 3)).shape == (0, 3)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(parameter(4))


def test_orthogonal_is_uniformly_signed():
    """Q signed by diag(R): over many draws the diagonal is positive and negative alike (plain QR
    would bias it)."""
    mg.manual_seed(0)
    diagonals = np.concatenate([np.diag(init.orthogonal_(parameter(4, 4)).numpy()) for _ in range(200)])
    assert abs(np.mean(diagonals > 0) - 0.5) < 5 * math.sqrt(0.25 / diagonals.size)


def test_trunc_normal_stays_in_bounds_with_a_truncated_normals_moments():
    def moments(mean, std, a, b):  # of N(mean, std^2) restricted to [a, b]
        alpha, beta = (a - mean) / std, (b - mean) / std
        pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
        z = (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2))) / 2
        shift = (pdf(alpha) - pdf(beta)) / z
        variance = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - shift ** 2
        return mean + std * shift, std * math.sqrt(variance)

    mg.manual_seed(1)
    for mean, std, a, b in [(0.0, 0.02, -0.04, 0.04), (0.0, 1.0, -2.0, 2.0), (1.0, 1.0, 1.5, 3.0),
                            (0.0, 1.0, 2.5, 3.0)]:  # the last two draw uniform proposals (p < 0.3)
        if mean < a - 2 * std:
            continue
        values = init.trunc_normal_(parameter(*LARGE), mean, std, a, b).numpy()
        assert values.min() >= a and values.max() <= b
        expected_mean, expected_std = moments(mean, std, a, b)
        assert abs(values.mean() - expected_mean) < 5 * expected_std / math.sqrt(values.size)
        np.testing.assert_allclose(values.std(), expected_std, rtol=5 / math.sqrt(values.size / 2))
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        values = init.trunc_normal_(parameter(100), 0.0, 1.0, 2.5, 3.0).numpy()
    assert values.min() >= 2.5 and values.max() <= 3.0


def test_eye_and_dirac_match_torch():
    torch = pytest.importorskip("torch")
    for shape in [(3, 5), (5, 3)]:
        np.testing.assert_array_equal(init.eye_(parameter(*shape)).numpy(), torch.nn.init.eye_(torch.empty(shape)))
    for shape, groups in [((4, 2, 3), 1), ((4, 2, 3, 3), 2), ((6, 4, 3, 2, 5), 3), ((2, 5, 3, 3), 1)]:
        np.testing.assert_array_equal(init.dirac_(parameter(*shape), groups).numpy(),
                                      torch.nn.init.dirac_(torch.empty(shape), groups).numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(parameter(2, 2, 2))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(parameter(3, 2, 3, 3), groups=2)


@pytest.mark.parametrize("name, initialise", [
    ("uniform_", lambda t, g: init.uniform_(t, -1, 2, generator=g)),
    ("normal_", lambda t, g: init.normal_(t, 1, 2, generator=g)),
    ("xavier_uniform_", lambda t, g: init.xavier_uniform_(t, generator=g)),
    ("xavier_normal_", lambda t, g: init.xavier_normal_(t, 2.0, generator=g)),
    ("kaiming_uniform_", lambda t, g: init.kaiming_uniform_(t, math.sqrt(5), generator=g)),
    ("kaiming_normal_", lambda t, g: init.kaiming_normal_(t, mode="FAN_OUT", nonlinearity="relu", generator=g)),
    ("trunc_normal_", lambda t, g: init.trunc_normal_(t, std=0.02, generator=g)),
    ("orthogonal_", lambda t, g: init.orthogonal_(t, generator=g)),
])
def test_the_generator_keyword_draws_from_the_given_generator(name, initialise):
    first = initialise(parameter(6, 5), np.random.default_rng(7)).numpy().copy()
    again = initialise(parameter(6, 5), np.random.default_rng(7)).numpy()
    np.testing.assert_array_equal(again, first)
    assert not np.array_equal(initialise(parameter(6, 5), np.random.default_rng(8)).numpy(), first)
    assert not np.array_equal(initialise(parameter(6, 5), None).numpy(), first)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        initialise(parameter(6, 5), 7)


def test_kaiming_mode_in_capitals_and_the_private_fan_name_pytorch_code_uses():
    assert init._calculate_fan_in_and_fan_out(parameter(8, 3, 5, 5)) == (75, 200)
    check_normal(init.kaiming_normal_(parameter(*LARGE), mode="FAN_OUT").numpy(), 0.0, math.sqrt(2 / LARGE[0]))
