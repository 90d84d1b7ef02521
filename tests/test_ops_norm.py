"""minigrad/ops/norm.py: batch_norm (training and eval) and layer_norm."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from helpers import DEVICES, arrays, check_gradients, floats, gradient_test_for, shapes


@st.composite
def batch_norm_cases(draw):
    """x (N, C) or (N, C, H, W), optional weight and bias (C,), training or eval with running stats."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    spatial = draw(st.sampled_from([(), (1, 2), (2, 3), (3, 3)]))
    training = draw(st.booleans())
    if training and n * int(np.prod(spatial)) < 2:
        n = 2  # training needs more than one value per channel
    x = draw(arrays((n, c) + spatial))
    weight = draw(st.none() | arrays((c,)))
    bias = draw(st.none() | arrays((c,)))
    running_mean = draw(arrays((c,)))
    running_var = draw(arrays((c,), floats(0.1, 3.0)))
    return x, weight, bias, running_mean, running_var, training


@st.composite
def layer_norm_cases(draw):
    """x (..., *normalized_shape) with 1 or 2 normalized dims, optional weight and bias."""
    normalized_shape = draw(shapes(min_dims=1, max_dims=2))
    leading = draw(shapes(min_dims=0, max_dims=2))
    x = draw(arrays(leading + normalized_shape))
    weight = draw(st.none() | arrays(normalized_shape))
    bias = draw(st.none() | arrays(normalized_shape))
    return x, normalized_shape, weight, bias


def with_optional_affine(op, weight, bias):
    """A function of the arrays that are present: (x), (x, weight), (x, bias) or (x, weight, bias)."""
    inputs = [a for a in (weight, bias) if a is not None]

    def func(x, *params):
        given = iter(params)
        w = next(given) if weight is not None else None
        b = next(given) if bias is not None else None
        return op(x, w, b)
    return func, inputs


# --- gradients ----------------------------------------------------------------------------

@gradient_test_for("BatchNorm")
@pytest.mark.parametrize("device", DEVICES)
@given(batch_norm_cases())
def test_batch_norm_gradient(device, case):
    """Training: through the batch mean and variance. Eval: the running statistics are constants."""
    x, weight, bias, running_mean, running_var, training = case

    def batch_norm(a, w, b):
        # fresh buffers every call: training updates them in place
        mean, var = mg.tensor(running_mean, device=device), mg.tensor(running_var, device=device)
        return F.batch_norm(a, mean, var, w, b, training=training)
    func, params = with_optional_affine(batch_norm, weight, bias)
    check_gradients(func, x, *params, device=device)


@gradient_test_for("LayerNorm")
@pytest.mark.parametrize("device", DEVICES)
@given(layer_norm_cases())
def test_layer_norm_gradient(device, case):
    x, normalized_shape, weight, bias = case
    func, params = with_optional_affine(lambda a, w, b: F.layer_norm(a, normalized_shape, w, b), weight, bias)
    check_gradients(func, x, *params, device=device)


# --- known values -------------------------------------------------------------------------

def test_batch_norm_training_normalises_each_channel():
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((8, 3, 2, 2)) * 5 + 2)
    y = F.batch_norm(x, None, None, training=True, eps=0.0).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), [0.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), [1.0, 1.0, 1.0], rtol=1e-12)
    w, b = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64), mg.tensor([0.0, -1.0, 1.0], dtype=mg.float64)
    z = F.batch_norm(x, None, None, w, b, training=True, eps=0.0).numpy()
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), [0.0, -1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), [1.0, 2.0, 3.0], rtol=1e-12)


@pytest.mark.parametrize("channels_last", [False, True])
def test_batch_norm_in_blocks_of_rows_matches_the_float64_formula(channels_last):
    """A batch of many blocks of rows (minigrad.parallel): the per-block sums added up give the
    batch's statistics, and the closed-form backward agrees with the formula in float64. (An
    NCHW input is copied to channels-last rows first.)"""
    rng = np.random.default_rng(0)
    data = rng.standard_normal((64, 16, 16, 32)) * 3 + 1.5        # 512 K elements: 4 blocks of samples
    if not channels_last:
        data = np.ascontiguousarray(data.transpose(0, 3, 1, 2))
    else:
        data = data.transpose(0, 3, 1, 2)                           # NCHW seen, NHWC in memory
    x = mg.from_numpy(data.astype(np.float32)).requires_grad_()
    weight = mg.tensor(rng.uniform(0.5, 2, 32).astype(np.float32), requires_grad=True)
    bias = mg.tensor(rng.standard_normal(32).astype(np.float32), requires_grad=True)
    upstream = rng.standard_normal(x.shape)
    out = F.batch_norm(x, None, None, weight, bias, training=True)
    (out * mg.tensor(upstream.astype(np.float32))).sum().backward()

    axes = (0, 2, 3)
    mean, var = data.mean(axis=axes, keepdims=True), data.var(axis=axes, keepdims=True)
    x_hat = (data - mean) / np.sqrt(var + 1e-5)
    w = weight.numpy().astype(np.float64).reshape(1, -1, 1, 1)
    np.testing.assert_allclose(out.numpy(), x_hat * w + bias.numpy().reshape(1, -1, 1, 1), rtol=1e-4, atol=1e-4)
    g = upstream * w
    dx = (g - g.mean(axis=axes, keepdims=True) - x_hat * (g * x_hat).mean(axis=axes, keepdims=True)) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(x.grad.numpy(), dx, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(weight.grad.numpy(), (upstream * x_hat).sum(axis=axes), rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(bias.grad.numpy(), upstream.sum(axis=axes), rtol=1e-4, atol=1e-2)


def test_batch_norm_updates_the_running_statistics():
    """running = 0.9 running + 0.1 batch, with the unbiased batch variance (as PyTorch)."""
    x = mg.tensor([[1.0, 10.0], [3.0, 30.0]], dtype=mg.float64)  # channel means 2, 20; unbiased vars 2, 200
    running_mean = mg.zeros(2, dtype=mg.float64)
    running_var = mg.ones(2, dtype=mg.float64)
    F.batch_norm(x, running_mean, running_var, training=True, momentum=0.1)
    np.testing.assert_allclose(running_mean.numpy(), [0.2, 2.0])
    np.testing.assert_allclose(running_var.numpy(), [0.9 + 0.2, 0.9 + 20.0])


def test_batch_norm_eval_uses_the_running_statistics():
    x = mg.tensor([[1.0, 10.0], [3.0, 30.0]], dtype=mg.float64, requires_grad=True)
    running_mean = mg.tensor([1.0, 10.0], dtype=mg.float64)
    running_var = mg.tensor([4.0, 100.0], dtype=mg.float64)
    y = F.batch_norm(x, running_mean, running_var, training=False, eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[0.0, 0.0], [1.0, 2.0]])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 0.1], [0.5, 0.1]])  # 1 / sqrt(running_var)
    np.testing.assert_array_equal(running_mean.numpy(), [1.0, 10.0])    # eval leaves them alone


def test_layer_norm_known_values():
    """[1, 2, 3]: mean 2, biased variance 2/3."""
    x = mg.tensor([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]], dtype=mg.float64)
    y = F.layer_norm(x, 3, eps=1e-5).numpy()
    np.testing.assert_allclose(y[0], np.array([-1.0, 0.0, 1.0]) / np.sqrt(2 / 3 + 1e-5))
    np.testing.assert_allclose(y[1], [0.0, 0.0, 0.0])
    w = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64)
    b = mg.tensor([0.5, 0.5, 0.5], dtype=mg.float64)
    z = F.layer_norm(x, (3,), w, b, eps=1e-5).numpy()
    np.testing.assert_allclose(z[0], y[0] * [1.0, 2.0, 3.0] + 0.5)


def test_layer_norm_gradient_of_the_sum_is_zero():
    """Each row's outputs sum to 0 whatever x is, so d(sum)/dx = 0."""
    x = mg.tensor([[1.0, 5.0, 2.0], [0.0, -1.0, 4.0]], dtype=mg.float64, requires_grad=True)
    F.layer_norm(x, 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.zeros((2, 3)), atol=1e-12)


# --- errors -------------------------------------------------------------------------------

def test_layer_norm_shape_mismatch():
    with pytest.raises(ValueError, match=r"input of shape \(2, 3\) does not end with the normalized shape \(4,\)"):
        F.layer_norm(mg.zeros(2, 3), 4)


def test_batch_norm_training_needs_more_than_one_value_per_channel():
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        F.batch_norm(mg.zeros(1, 3), None, None, training=True)


def test_batch_norm_eval_needs_running_statistics():
    with pytest.raises(ValueError, match="running_mean and running_var are needed"):
        F.batch_norm(mg.zeros(2, 3), None, None, training=False)


def test_batch_norm_checks_each_per_channel_tensor():
    x = mg.randn(2, 4, 3)
    with pytest.raises(RuntimeError, match=r"batch_norm: running_var of shape \(3,\) should contain 4 elements"):
        F.batch_norm(x, mg.zeros(4), mg.ones(3), training=True)
    with pytest.raises(RuntimeError, match=r"batch_norm: bias of shape \(3,\) should contain 4"):
        F.batch_norm(x, None, None, bias=mg.zeros(3), training=True)
    with pytest.raises(RuntimeError, match=r"batch_norm: running_mean of shape \(2, 2\) should be 1-D with 4 elements"):
        F.batch_norm(x, mg.zeros(2, 2), mg.ones(4), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: expected an input \(N, C, ...\) with at least 2 dims"):
        F.batch_norm(mg.zeros(4), mg.zeros(4), mg.ones(4), training=True)
# --- instance_norm ---------------------------------------------------------------------------------

@st.composite
def instance_norm_cases(draw):
    """(N, C, H, W) input whose every (sample, channel) has some spread (var well above eps), and
    optional per-channel weight and bias."""
    n, c, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(2, 3))
    x = draw(arrays((n, c, h, w)))
    x[..., 0, 0], x[..., 0, 1] = 1.0, -1.0  # at least this spread in each instance
    affine = draw(st.booleans())
    weight = draw(arrays((c,))) if affine else None
    bias = draw(arrays((c,))) if affine else None
    return x, weight, bias


@gradient_test_for("instance_norm", "InstanceNorm")
@pytest.mark.parametrize("device", DEVICES)
@given(instance_norm_cases())
def test_instance_norm_gradient(device, case):
    x, weight, bias = case
    if weight is None:
        check_gradients(lambda a: F.instance_norm(a), x, device=device)
    else:
        check_gradients(lambda a, w, b: F.instance_norm(a, weight=w, bias=b), x, weight, bias, device=device)


@pytest.mark.parametrize("batch", [1, 3])
def test_instance_norm_in_blocks_of_rows_matches_the_float64_formula(batch):
    """Each sample's rows (H*W of them, channels-last, as conv outputs) are several blocks of the
    pool; the fused op's forward and closed-form backward agree with the formula in float64."""
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((batch, 48, 48, 96)) * 3 + 1.5).transpose(0, 3, 1, 2)  # 221 K elements a sample
    x = mg.from_numpy(data.astype(np.float32)).requires_grad_()
    weight = mg.tensor(rng.uniform(0.5, 2, 96).astype(np.float32), requires_grad=True)
    bias = mg.tensor(rng.standard_normal(96).astype(np.float32), requires_grad=True)
    upstream = rng.standard_normal(x.shape)
    out = F.instance_norm(x, weight=weight, bias=bias)
    (out * mg.tensor(upstream.astype(np.float32))).sum().backward()

    axes = (2, 3)
    mean, var = data.mean(axis=axes, keepdims=True), data.var(axis=axes, keepdims=True)
    x_hat = (data - mean) / np.sqrt(var + 1e-5)
    w = weight.numpy().astype(np.float64).reshape(1, -1, 1, 1)
    np.testing.assert_allclose(out.numpy(), x_hat * w + bias.numpy().reshape(1, -1, 1, 1), rtol=1e-4, atol=1e-4)
    g = upstream * w
    dx = (g - g.mean(axis=axes, keepdims=True) - x_hat * (g * x_hat).mean(axis=axes, keepdims=True)) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(x.grad.numpy(), dx, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(weight.grad.numpy(), (upstream * x_hat).sum(axis=(0, 2, 3)), rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(bias.grad.numpy(), upstream.sum(axis=(0, 2, 3)), rtol=1e-4, atol=1e-2)


def test_instance_norm_checks_its_weight_and_bias():
    with pytest.raises(RuntimeError, match=r"instance_norm: weight of shape \(3,\) should contain 4 elements"):
        F.instance_norm(mg.zeros(2, 4, 3, 3), weight=mg.ones(3))


def test_instance_norm_normalises_each_instance_and_moves_running_statistics():
    x = mg.tensor(np.random.default_rng(0).normal(2.0, 3.0, (2, 3, 4, 5)))
    out = F.instance_norm(x).numpy()
    np.testing.assert_allclose(out.mean(axis=(2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(2, 3)), 1, rtol=1e-4)
    running_mean, running_var = mg.zeros(3, dtype=mg.float64), mg.ones(3, dtype=mg.float64)
    F.instance_norm(x, running_mean, running_var, momentum=0.5)
    a = x.numpy()
    np.testing.assert_allclose(running_mean.numpy(), 0.5 * a.mean(axis=(2, 3)).mean(axis=0))
    np.testing.assert_allclose(running_var.numpy(), 0.5 + 0.5 * a.var(axis=(2, 3), ddof=1).mean(axis=0))
    with pytest.raises(ValueError, match="use_input_stats=False needs"):
        F.instance_norm(x, use_input_stats=False)


# --- inputs with no elements, and instances of one element ------------------------------------------

EMPTY_CASES = {
    "batch_norm, training, no samples": (lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=True), (0, 3, 4, 4)),
    "batch_norm, eval, no samples": (lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=False), (0, 3, 4, 4)),
    "instance_norm, no pixels": (lambda x, w, b, rm, rv: F.instance_norm(x, rm, rv, w, b), (2, 3, 0, 4)),
    "instance_norm, no samples": (lambda x, w, b, rm, rv: F.instance_norm(x, rm, rv, w, b), (0, 3, 4, 4)),
    "layer_norm, no samples": (lambda x, w, b, rm, rv: F.layer_norm(x, (3,), w, b), (0, 3)),
}


@pytest.mark.parametrize("case", EMPTY_CASES)
def test_an_input_with_no_elements_gives_an_empty_output_and_zero_parameter_gradients(case):
    """As PyTorch: no statistics are computed or moved; the weight's and bias's gradients are zeros."""
    norm, shape = EMPTY_CASES[case]
    x = mg.zeros(*shape, requires_grad=True)
    weight, bias = mg.tensor([1.0, 2.0, 3.0], requires_grad=True), mg.tensor([0.5, 0.5, 0.5], requires_grad=True)
    running_mean, running_var = mg.tensor([1.0, 2.0, 3.0]), mg.tensor([4.0, 5.0, 6.0])
    out = norm(x, weight, bias, running_mean, running_var)
    assert out.shape == x.shape and out is not x
    out.sum().backward()
    assert x.grad.shape == x.shape
    np.testing.assert_array_equal(weight.grad.numpy(), 0)
    np.testing.assert_array_equal(bias.grad.numpy(), 0)
    np.testing.assert_array_equal(running_mean.numpy(), [1, 2, 3])
    np.testing.assert_array_equal(running_var.numpy(), [4, 5, 6])


def test_layer_norm_over_no_features_and_norms_without_weights_of_empty_inputs():
    assert F.layer_norm(mg.zeros(2, 0), (0,)).shape == (2, 0)
    assert mg.nn.LayerNorm(0)(mg.zeros(2, 0)).shape == (2, 0)
    assert mg.nn.InstanceNorm2d(3)(mg.zeros(2, 3, 0, 4)).shape == (2, 3, 0, 4)
    assert mg.nn.BatchNorm2d(3).eval()(mg.zeros(0, 3, 4, 4)).shape == (0, 3, 4, 4)


def test_instance_norm_refuses_instances_of_one_element_as_pytorch():
    """Each value would be its own mean, so the output would be the bias whatever the input."""
    with pytest.raises(ValueError, match=r"instance_norm: expected more than 1 spatial element .* shape \(2, 3, 1, 1\)"):
        F.instance_norm(mg.ones(2, 3, 1, 1))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        mg.nn.InstanceNorm2d(3)(mg.ones(2, 3, 1, 1))
    tracked = mg.nn.InstanceNorm2d(3, track_running_stats=True).eval()  # the running statistics: fine
    np.testing.assert_allclose(tracked(mg.full((2, 3, 1, 1), 2.0)).numpy(), 2 / np.sqrt(1 + 1e-5), rtol=1e-6)


def test_an_input_with_no_elements_is_still_checked():
    with pytest.raises(ValueError, match=r"input of shape \(0, 3\) does not end with the normalized shape \(4,\)"):
        F.layer_norm(mg.zeros(0, 3), (4,))
    with pytest.raises(ValueError, match="use_input_stats=False needs running_mean and running_var"):
        F.instance_norm(mg.zeros(2, 3, 0, 4), use_input_stats=False)
    with pytest.raises(RuntimeError, match=r"instance_norm: running_mean of shape \(5,\) should contain 3 elements"):
        F.instance_norm(mg.zeros(2, 3, 0, 4), mg.zeros(5), mg.ones(3))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(mg.zeros(0, 3, 1, 1))
    with pytest.raises(RuntimeError, match=r"batch_norm: weight of shape \(2,\)"):
        F.batch_norm(mg.zeros(0, 3, 4, 4), None, None, weight=mg.ones(2), training=True)
