"""minigrad/nn/layers.py, activation.py, loss.py: every layer's values against the formula in
NumPy, its gradient (gradcheck in float64 of the layer as a function of its input AND its
parameters, over shapes, strides and paddings drawn by hypothesis), its default
initialisation (PyTorch's), and what train/eval changes (Dropout, BatchNorm).

The pooling modules call F.max_pool2d, F.avg_pool2d and their kin (tested in test_ops_conv.py); here,
that they pass every argument on, and print as PyTorch's do.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from helpers import DEVICES, arrays, away_from_zero, check_gradients, floats

TIGHT = dict(rtol=1e-12, atol=1e-12)


def layer_function(layer, names):
    """f(x, *params) = layer(x) with the parameters `names` replaced by the given tensors, so that
    gradcheck differentiates the layer's own forward with respect to its input and its parameters.
    (The registry is written directly: gradcheck passes plain Tensors, not Parameters.)"""
    def func(x, *params):
        saved = dict(layer._parameters)
        layer._parameters.update(zip(names, params))
        try:
            return layer(x)
        finally:
            layer._parameters.update(saved)
    return func


def check_layer_gradients(layer, x, device, requires_grad_x=True):
    """gradcheck `layer` (made float64, on `device`) in its input and every parameter it has."""
    layer.to(device, dtype=mg.float64)
    names = [name for name, p in layer._parameters.items() if p is not None]
    params = [layer._parameters[name].numpy() for name in names]
    check_gradients(layer_function(layer, names), x, *params, device=device,
                    requires_grad=[requires_grad_x] + [True] * len(params))


def run(layer, x, device="cpu"):
    """layer(x) in float64 on `device`, as a NumPy array."""
    layer.to(device, dtype=mg.float64)
    return layer(mg.tensor(x, device=device)).numpy()


def numpy_params(layer):
    return {name: p.numpy().astype(np.float64) for name, p in layer.named_parameters()}


# --- Linear -----------------------------------------------------------------------------------

@st.composite
def linear_cases(draw):
    in_features, out_features = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    leading = draw(st.lists(st.integers(1, 3), max_size=2))
    x = draw(arrays(tuple(leading) + (in_features,)))
    return x, in_features, out_features, draw(st.booleans()), draw(st.integers(0, 2 ** 16))


@pytest.mark.parametrize("device", DEVICES)
@given(linear_cases())
def test_linear_values_and_gradient(device, case):
    x, in_features, out_features, bias, seed = case
    mg.manual_seed(seed)
    layer = nn.Linear(in_features, out_features, bias=bias)
    assert layer.weight.shape == (out_features, in_features)
    assert (layer.bias is None) == (not bias) and len(list(layer.parameters())) == 1 + bias
    p = numpy_params(layer)
    expected = x @ p["weight"].T + (p["bias"] if bias else 0)
    np.testing.assert_allclose(run(layer, x, device), expected, **TIGHT)
    check_layer_gradients(layer, x, device)


# --- Conv2d and ConvTranspose2d --------------------------------------------------------------

def conv2d_reference(x, weight, bias, stride, padding, dilation):
    """Direct definition: each output pixel is a dot product of a dilated window with the kernel."""
    n, _, h, w = x.shape
    out_channels, _, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out_h = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, out_channels, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = padded[:, :, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", window, weight)
    return out + (0 if bias is None else bias.reshape(1, -1, 1, 1))


def conv_transpose2d_reference(x, weight, bias, stride, padding, output_padding, dilation):
    """Direct definition: each input pixel adds a weighted copy of the (dilated) kernel to the output."""
    n, _, h, w = x.shape
    _, out_channels, kh, kw = weight.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    full = np.zeros((n, out_channels, (h - 1) * sh + dh * (kh - 1) + 1 + oph,
                     (w - 1) * sw + dw * (kw - 1) + 1 + opw))
    for i in range(h):
        for j in range(w):
            full[:, :, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw] += \
                np.einsum("nc,cokl->nokl", x[:, :, i, j], weight)
    out = full[:, :, ph:full.shape[2] - ph, pw:full.shape[3] - pw]
    return out + (0 if bias is None else bias.reshape(1, -1, 1, 1))


def int_or_pair(draw, low, high):
    """As PyTorch takes it: one int, or a (rows, cols) pair. Returns (argument, pair)."""
    if draw(st.booleans()):
        value = draw(st.integers(low, high))
        return value, (value, value)
    pair = (draw(st.integers(low, high)), draw(st.integers(low, high)))
    return pair, pair


@st.composite
def conv2d_cases(draw):
    c_in, c_out, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    kernel, (kh, kw) = int_or_pair(draw, 1, 3)
    stride, _ = int_or_pair(draw, 1, 3)
    padding, (ph, pw) = int_or_pair(draw, 0, 2)
    dilation, (dh, dw) = int_or_pair(draw, 1, 2)
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 6))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 6))
    options = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, bias=draw(st.booleans()))
    return draw(arrays((n, c_in, h, w))), c_in, c_out, options, draw(st.integers(0, 2 ** 16))


@pytest.mark.parametrize("device", DEVICES)
@given(conv2d_cases())
def test_conv2d_values_and_gradient(device, case):
    x, c_in, c_out, options, seed = case
    mg.manual_seed(seed)
    layer = nn.Conv2d(c_in, c_out, **options)
    kernel = options["kernel_size"]
    assert layer.weight.shape == (c_out, c_in) + ((kernel, kernel) if isinstance(kernel, int) else kernel)
    p = numpy_params(layer)
    expected = conv2d_reference(x, p["weight"], p.get("bias"), layer.stride, layer.padding, layer.dilation)
    np.testing.assert_allclose(run(layer, x, device), expected, **TIGHT)
    check_layer_gradients(layer, x, device)


@st.composite
def conv_transpose2d_cases(draw):
    c_in, c_out, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    kernel, kernels = int_or_pair(draw, 1, 4)
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, strides = int_or_pair(draw, 1, 3)
    dilation, dilations = int_or_pair(draw, 1, 2)
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(strides, dilations))
    full = [(size - 1) * s + d * (k - 1) + 1 + op
            for size, s, d, k, op in zip((h, w), strides, dilations, kernels, output_padding)]
    padding = tuple(draw(st.integers(0, min(2, (f - 1) // 2))) for f in full)
    options = dict(kernel_size=kernel, stride=stride, padding=padding, output_padding=output_padding,
                   dilation=dilation, bias=draw(st.booleans()))
    return draw(arrays((n, c_in, h, w))), c_in, c_out, options, draw(st.integers(0, 2 ** 16))


@pytest.mark.parametrize("device", DEVICES)
@given(conv_transpose2d_cases())
def test_conv_transpose2d_values_and_gradient(device, case):
    x, c_in, c_out, options, seed = case
    mg.manual_seed(seed)
    layer = nn.ConvTranspose2d(c_in, c_out, **options)
    assert layer.weight.shape[:2] == (c_in, c_out)
    p = numpy_params(layer)
    expected = conv_transpose2d_reference(x, p["weight"], p.get("bias"), layer.stride, layer.padding,
                                          layer.output_padding, layer.dilation)
    out = run(layer, x, device)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, **TIGHT)
    check_layer_gradients(layer, x, device)


def test_dcgan_generator_shapes():
    """The CelebA DCGAN's up-sampling: 4x4 kernels, stride 2, padding 1 double the size."""
    x = mg.randn(2, 8, 5, 5)
    up = nn.ConvTranspose2d(8, 4, kernel_size=4, stride=2, padding=1)
    assert up(x).shape == (2, 4, 10, 10)
    assert nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)(x).shape == (2, 4, 10, 10)
    assert nn.Conv2d(4, 3, kernel_size=4, stride=2, padding=1)(up(x)).shape == (2, 3, 5, 5)


def test_conv_groups_are_refused():
    with pytest.raises(NotImplementedError, match="groups=1"):
        nn.Conv2d(2, 2, 3, groups=2)
    with pytest.raises(NotImplementedError, match="groups=1"):
        nn.ConvTranspose2d(2, 2, 3, groups=2)


def torch_conv_copy(torch, layer, make):
    """The PyTorch module make(torch.nn), in float64, holding `layer`'s parameters."""
    theirs = make(torch.nn).double()
    theirs.load_state_dict({name: torch.tensor(value.numpy()) for name, value in layer.state_dict().items()})
    return theirs


def assert_conv_matches_torch(torch, make, x_shape):
    """Values, the gradients of input, weight and bias, repr and state_dict keys against PyTorch."""
    mg.manual_seed(0)
    layer = make(nn)
    layer.to(dtype=mg.float64)
    theirs = torch_conv_copy(torch, layer, make)
    assert repr(layer) == repr(theirs)
    assert list(layer.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal(x_shape)
    ours_x, their_x = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = layer(ours_x), theirs(their_x)
    g = np.random.default_rng(1).standard_normal(expected.shape)
    (out * mg.tensor(g)).sum().backward()
    (expected * torch.tensor(g)).sum().backward()
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **TIGHT)
    np.testing.assert_allclose(ours_x.grad.numpy(), their_x.grad.numpy(), **TIGHT)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(layer, name).grad.numpy(), p.grad.numpy(), **TIGHT, err_msg=name)


CONV_PADDINGS = {
    "zeros": lambda nn: nn.Conv2d(3, 2, 3, padding=1),
    "reflect": lambda nn: nn.Conv2d(3, 2, (3, 2), padding=(2, 1), padding_mode="reflect"),
    "replicate": lambda nn: nn.Conv2d(3, 2, 3, stride=2, padding=(1, 3), padding_mode="replicate", bias=False),
    "circular": lambda nn: nn.Conv2d(3, 2, (2, 3), padding=(2, 1), dilation=(1, 2), padding_mode="circular"),
    "same": lambda nn: nn.Conv2d(3, 2, (4, 3), padding="same", dilation=(1, 2)),
    "same reflect": lambda nn: nn.Conv2d(3, 2, (2, 4), padding="same", padding_mode="reflect"),
    "same circular": lambda nn: nn.Conv2d(3, 2, (3, 2), padding="same", dilation=2, padding_mode="circular"),
    "valid replicate": lambda nn: nn.Conv2d(3, 2, 3, stride=2, padding="valid", padding_mode="replicate"),
}


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on even kernels
@pytest.mark.parametrize("x_shape", [(2, 3, 5, 6), (3, 5, 6)])
@pytest.mark.parametrize("name", sorted(CONV_PADDINGS))
def test_conv2d_padding_modes_and_names_match_pytorch(name, x_shape):
    assert_conv_matches_torch(pytest.importorskip("torch"), CONV_PADDINGS[name], x_shape)


@pytest.mark.parametrize("name", ["reflect", "replicate", "circular", "same", "same circular"])
def test_conv2d_padding_modes_gradient(name):
    mg.manual_seed(0)
    layer = CONV_PADDINGS[name](nn)
    check_layer_gradients(layer, np.random.default_rng(4).standard_normal((1, 3, 4, 5)), "cpu")


def test_conv2d_circular_padding_wraps_around():
    layer = nn.Conv2d(1, 1, (1, 3), padding=(0, 2), padding_mode="circular", bias=False)
    layer.weight.data = mg.tensor([[[[1.0, 0.0, 0.0]]]])  # reads the leftmost tap: the padded row shifted
    out = layer(mg.tensor([[[[1.0, 2.0, 3.0]]]]))
    np.testing.assert_array_equal(out.numpy(), [[[[2.0, 3.0, 1.0, 2.0, 3.0]]]])
    with pytest.raises(RuntimeError, match=r"circular padding \(4, 4\) of a dim of size 3: .*more than once"):
        nn.Conv2d(1, 1, 1, padding=(0, 4), padding_mode="circular")(mg.zeros(1, 1, 3, 3))


@pytest.mark.parametrize("x_shape", [(2, 3, 4, 5), (3, 4, 5)])
def test_conv_transpose2d_unbatched_and_repr_match_pytorch(x_shape):
    make = lambda nn: nn.ConvTranspose2d(3, 2, (3, 4), stride=2, padding=1, output_padding=1, dilation=(1, 2))
    assert_conv_matches_torch(pytest.importorskip("torch"), make, x_shape)


def test_conv_padding_arguments_refused_as_pytorch():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=(1, 2), padding="same")
    with pytest.raises(ValueError, match="Invalid padding string 'full', should be one of"):
        nn.Conv2d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match=r"padding_mode must be one of \['zeros', 'reflect', 'replicate', "
                                         r"'circular'\], but got padding_mode='wrap'"):
        nn.Conv2d(1, 1, 3, padding_mode="wrap")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    # padding_mode comes before device and dtype, as PyTorch's positional order
    assert nn.Conv2d(1, 1, 3, 1, 0, 1, 1, True, "replicate").padding_mode == "replicate"
    assert nn.ConvTranspose2d(1, 1, 3, 1, 0, 0, 1, True, 1, "zeros").padding_mode == "zeros"


# --- default initialisation (PyTorch's) ---------------------------------------------------------

@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Linear(500, 400), 500),
    (lambda: nn.Conv2d(64, 48, 4), 64 * 16),
    # PyTorch computes fan_in from weight.size(1): out_channels for a transposed convolution
    (lambda: nn.ConvTranspose2d(64, 48, 4), 48 * 16),
])
def test_default_initialisation_is_kaiming_uniform_with_a_sqrt5(make, fan_in):
    """weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)): inside the bound, reaching close to it
    (of n values, the largest |w| falls short of the bound by more than 10/n with probability e^-10),
    variance bound^2 / 3 (to 5 standard errors) and mean 0."""
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    for values in (layer.weight.numpy().astype(np.float64), layer.bias.numpy().astype(np.float64)):
        n = values.size
        assert np.abs(values).max() <= bound and np.abs(values).max() > (1 - 10 / n) * bound
        np.testing.assert_allclose(values.var(), bound ** 2 / 3, rtol=5 * math.sqrt(0.8 / n))
        assert abs(values.mean()) < 5 * bound / math.sqrt(3 * n)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32


def test_initialisation_follows_the_seed():
    mg.manual_seed(5)
    first = nn.Conv2d(3, 4, 3).weight.numpy().copy()
    mg.manual_seed(5)
    np.testing.assert_array_equal(nn.Conv2d(3, 4, 3).weight.numpy(), first)
    assert not np.array_equal(nn.Conv2d(3, 4, 3).weight.numpy(), first)


def test_layers_take_a_dtype():
    assert nn.Linear(2, 3, dtype=mg.float64).weight.dtype == np.float64
    assert nn.Conv2d(2, 3, 3, dtype=mg.float64).bias.dtype == np.float64
    assert nn.BatchNorm2d(3, dtype=mg.float64).running_var.dtype == np.float64
    assert nn.LayerNorm(3, dtype=mg.float64).weight.dtype == np.float64


# --- BatchNorm ---------------------------------------------------------------------------------

@st.composite
def batch_norm_cases(draw):
    two_d = draw(st.booleans())
    c = draw(st.integers(1, 3))
    spatial = draw(st.sampled_from([(1, 2), (2, 2), (2, 3)])) if two_d else draw(st.sampled_from([(), (1,), (3,)]))
    n = draw(st.integers(2, 3))
    x = draw(arrays((n, c) + spatial))
    options = dict(affine=draw(st.booleans()), momentum=draw(st.sampled_from([0.1, 0.5, None])),
                   eps=draw(st.sampled_from([1e-5, 0.1])))
    running_mean, running_var = draw(arrays((c,))), draw(arrays((c,), floats(0.1, 3.0)))
    return two_d, x, options, running_mean, running_var, draw(st.booleans())


def batch_norm_reference(x, mean, var, weight, bias, eps):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * weight.reshape(shape) + bias.reshape(shape)


@pytest.mark.parametrize("device", DEVICES)
@given(batch_norm_cases())
def test_batch_norm_values_and_gradient(device, case):
    """Training: batch statistics. Eval: the running statistics, which are constants."""
    two_d, x, options, running_mean, running_var, training = case
    c = x.shape[1]
    layer = (nn.BatchNorm2d if two_d else nn.BatchNorm1d)(c, **options)
    if options["affine"]:
        layer.weight.array, layer.bias.array = np.linspace(0.5, 2, c), np.linspace(-1, 1, c)
    layer.running_mean.array, layer.running_var.array = running_mean.copy(), running_var.copy()
    layer.train(training)
    weight = np.linspace(0.5, 2, c) if options["affine"] else np.ones(c)
    bias = np.linspace(-1, 1, c) if options["affine"] else np.zeros(c)
    axes = (0,) + tuple(range(2, x.ndim))
    if training:
        expected = batch_norm_reference(x, x.mean(axis=axes), x.var(axis=axes), weight, bias, options["eps"])
    else:
        expected = batch_norm_reference(x, running_mean, running_var, weight, bias, options["eps"])
    np.testing.assert_allclose(run(layer, x, device), expected, rtol=1e-10, atol=1e-10)
    check_layer_gradients(layer, x, device)


def test_batch_norm_updates_running_statistics_in_training_and_uses_them_in_eval():
    layer = nn.BatchNorm2d(3, momentum=0.2).double()
    rng = np.random.default_rng(0)
    mean, var = np.zeros(3), np.ones(3)
    for step in range(1, 5):
        x = rng.normal(step, 2.0 + step, size=(4, 3, 2, 5))
        layer(mg.tensor(x))
        count = 4 * 2 * 5
        mean = 0.8 * mean + 0.2 * x.mean(axis=(0, 2, 3))
        var = 0.8 * var + 0.2 * x.var(axis=(0, 2, 3)) * count / (count - 1)  # the unbiased batch variance
        np.testing.assert_allclose(layer.running_mean.numpy(), mean, **TIGHT)
        np.testing.assert_allclose(layer.running_var.numpy(), var, **TIGHT)
        assert layer.num_batches_tracked.item() == step
    layer.eval()
    x = rng.normal(size=(2, 3, 2, 2))
    out = layer(mg.tensor(x)).numpy()
    np.testing.assert_allclose(out, batch_norm_reference(x, mean, var, np.ones(3), np.zeros(3), 1e-5), **TIGHT)
    layer(mg.tensor(x))
    assert layer.num_batches_tracked.item() == 4  # eval changes nothing
    np.testing.assert_allclose(layer.running_mean.numpy(), mean, **TIGHT)
    np.testing.assert_allclose(layer.running_var.numpy(), var, **TIGHT)
    # eval of a single sample works (no batch statistics needed)
    assert layer(mg.tensor(x[:1, :, :1, :1])).shape == (1, 3, 1, 1)


def test_batch_norm_momentum_none_is_a_cumulative_average():
    layer = nn.BatchNorm1d(2, momentum=None).double()
    rng = np.random.default_rng(1)
    batches = [rng.normal(i, 1 + i, size=(5, 2)) for i in range(4)]
    for x in batches:
        layer(mg.tensor(x))
    np.testing.assert_allclose(layer.running_mean.numpy(), np.mean([b.mean(axis=0) for b in batches], axis=0),
                               **TIGHT)
    np.testing.assert_allclose(layer.running_var.numpy(), np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0),
                               **TIGHT)
    assert layer.num_batches_tracked.item() == 4


def test_batch_norm_eps_is_used():
    layer = nn.BatchNorm1d(1, eps=0.5).double()
    x = np.array([[-1.0], [1.0]])  # batch variance 1
    np.testing.assert_allclose(layer(mg.tensor(x)).numpy(), x / np.sqrt(1.5), **TIGHT)


def test_batch_norm_without_affine_or_running_statistics():
    plain = nn.BatchNorm1d(3, affine=False)
    assert list(plain.parameters()) == [] and plain.weight is None
    assert list(plain.state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]
    untracked = nn.BatchNorm1d(3, track_running_stats=False).double()
    assert list(untracked.state_dict()) == ["weight", "bias"] and untracked.running_mean is None
    x = np.random.default_rng(2).normal(3.0, 2.0, size=(6, 3))
    untracked.eval()  # without running statistics, eval uses the batch's
    np.testing.assert_allclose(untracked(mg.tensor(x)).numpy(),
                               batch_norm_reference(x, x.mean(0), x.var(0), np.ones(3), np.zeros(3), 1e-5), **TIGHT)


def test_batch_norm_state_dict_and_input_checks():
    layer = nn.BatchNorm2d(2)
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert layer.num_batches_tracked.dtype == np.int64 and layer.running_var.tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="BatchNorm2d: expected input with 4 dims"):
        layer(mg.randn(3, 2))
    with pytest.raises(ValueError, match="BatchNorm1d: expected input with 2 or 3 dims"):
        nn.BatchNorm1d(2)(mg.randn(3, 2, 2, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(2)(mg.randn(1, 2))


# --- LayerNorm ----------------------------------------------------------------------------------

@st.composite
def layer_norm_cases(draw):
    normalized = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    leading = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    x = draw(arrays(leading + normalized))
    options = dict(elementwise_affine=draw(st.booleans()), bias=draw(st.booleans()),
                   eps=draw(st.sampled_from([1e-5, 0.1])))
    return x, normalized, options, draw(st.integers(0, 2 ** 16))


@pytest.mark.parametrize("device", DEVICES)
@given(layer_norm_cases())
def test_layer_norm_values_and_gradient(device, case):
    x, normalized, options, seed = case
    layer = nn.LayerNorm(normalized if len(normalized) > 1 else normalized[0], **options)
    rng = np.random.default_rng(seed)
    for p in layer.parameters():  # not the initial ones and zeros, so a mix-up would show
        p.array = rng.uniform(0.5, 1.5, p.shape).astype(np.float32)
    p = numpy_params(layer)
    axes = tuple(range(x.ndim - len(normalized), x.ndim))
    expected = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + options["eps"])
    expected = expected * p.get("weight", 1.0) + p.get("bias", 0.0)
    np.testing.assert_allclose(run(layer, x, device), expected, rtol=1e-10, atol=1e-10)
    check_layer_gradients(layer, x, device)


def test_layer_norm_parameters():
    layer = nn.LayerNorm((2, 3))
    assert layer.normalized_shape == (2, 3)
    assert layer.weight.tolist() == [[1.0] * 3] * 2 and layer.bias.tolist() == [[0.0] * 3] * 2
    assert list(nn.LayerNorm(3, elementwise_affine=False).parameters()) == []
    assert [name for name, _ in nn.LayerNorm(3, bias=False).named_parameters()] == ["weight"]
    with pytest.raises(ValueError, match="does not end with the normalized shape"):
        layer(mg.randn(2, 3, 2))


# --- Dropout ------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.5, 0.75])
def test_dropout_keeps_x_over_1_minus_p_or_zero(p):
    """1/(1-p) is a power of two for these p, so the kept values are exactly x/(1-p)."""
    x = mg.tensor(np.random.default_rng(0).uniform(0.5, 2.0, size=(50, 40)), requires_grad=True)
    out = nn.Dropout(p)(x)
    kept = out.numpy() != 0
    np.testing.assert_array_equal(out.numpy()[kept], x.numpy()[kept] / (1 - p))
    assert abs(1 - kept.mean() - p) < 0.05
    out.sum().backward()  # the gradient is the same mask and scale
    np.testing.assert_array_equal(x.grad.numpy(), kept / (1 - p))


def test_dropout_preserves_the_mean():
    p, n = 0.3, 400_000
    out = nn.Dropout(p)(mg.ones(n, dtype=mg.float64)).numpy()
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-15)
    std_of_mean = math.sqrt(p / (1 - p) / n)  # one element: 0 w.p. p, 1/(1-p) w.p. 1-p
    assert abs(out.mean() - 1) < 5 * std_of_mean
    assert abs((out == 0).mean() - p) < 5 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("device", DEVICES)
def test_dropout_is_the_identity_in_eval_and_for_p_0(device):
    x = mg.randn(20, 30, device=device, requires_grad=True)
    layer = nn.Dropout(0.5)
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    layer(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((20, 30)))


def test_dropout_p_1_zeroes_everything():
    x = mg.randn(10, 10, requires_grad=True)
    out = nn.Dropout(1.0)(x)
    assert not out.numpy().any()
    out.sum().backward()
    assert not x.grad.numpy().any()


def test_dropout_follows_the_seed_and_refuses_bad_p():
    mg.manual_seed(3)
    first = nn.Dropout(0.5)(mg.ones(100)).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout(0.5)(mg.ones(100)).numpy(), first)
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(p)


@pytest.mark.parametrize("device", DEVICES)
@given(arrays(st.tuples(st.integers(1, 4), st.integers(1, 5))), st.sampled_from([0.2, 0.5]))
def test_dropout_gradient(device, x, p):
    layer = nn.Dropout(p)

    def same_mask(t):
        mg.manual_seed(11)  # every call of gradcheck draws the same mask
        return layer(t)
    check_gradients(same_mask, x, device=device)


# --- Embedding ----------------------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
@given(st.integers(1, 5), st.integers(1, 4), st.lists(st.integers(1, 3), min_size=1, max_size=2),
       st.integers(0, 2 ** 16))
def test_embedding_values_and_gradient(device, num, dim, index_shape, seed):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, num, size=index_shape)  # repeats: their gradients add up
    mg.manual_seed(seed)
    layer = nn.Embedding(num, dim)
    assert layer.weight.shape == (num, dim)
    np.testing.assert_array_equal(run(layer, indices, device), layer.weight.numpy()[indices])
    check_layer_gradients(layer, indices, device, requires_grad_x=False)


def test_embedding_initialisation_is_standard_normal_and_gradient_counts_uses():
    weight = nn.Embedding(1000, 100).weight.numpy().astype(np.float64)
    n = weight.size
    assert abs(weight.mean()) < 5 / math.sqrt(n) and abs(weight.std() - 1) < 5 / math.sqrt(2 * n)
    layer = nn.Embedding(4, 2)
    layer(mg.tensor([[0, 2], [2, 2]])).sum().backward()
    assert layer.weight.grad.tolist() == [[1, 1], [0, 0], [3, 3], [0, 0]]
    with pytest.raises(TypeError, match="integer indices"):
        layer(mg.tensor([0.0, 1.0]))


# --- Flatten, Unflatten, View ------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
def test_reshaping_layers_values_and_gradients(device):
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    cases = [
        (nn.Flatten(), (2, 60)),
        (nn.Flatten(0, 1), (6, 4, 5)),
        (nn.Flatten(start_dim=2), (2, 3, 20)),
        (nn.Unflatten(1, (3, 1)), (2, 3, 1, 4, 5)),
        (nn.Unflatten(-1, (5, 1)), (2, 3, 4, 5, 1)),
        (nn.View((1, 120)), (1, 120)),   # the book's form: View((1, 3, 11, 11))
        (nn.View(120), (120,)),          # and View(784)
        (nn.View(-1, 20), (6, 20)),
    ]
    for layer, shape in cases:
        out = run(layer, x, device)
        assert out.shape == shape, layer
        np.testing.assert_array_equal(out.reshape(-1), x.reshape(-1))
        check_layer_gradients(layer, x, device)


def test_the_books_view_module():
    """The book's View turns a flat vector into an image, and back."""
    image = nn.View((1, 3, 11, 11))(mg.randn(363))
    assert image.shape == (1, 3, 11, 11)
    assert nn.View(363)(image).shape == (363,)
    assert repr(nn.View(784)) == "View((784,))"


# --- activations ----------------------------------------------------------------------------------

def erf(x):
    return np.vectorize(math.erf)(x)


ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.GELU(), lambda x: x * 0.5 * (1 + erf(x / math.sqrt(2)))),
    (nn.GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
    (nn.Softplus(beta=2.0, threshold=4.0), lambda x: np.where(2 * x > 4, x, np.log1p(np.exp(2 * x)) / 2)),
]
ACTIVATION_IDS = [repr(layer) for layer, _ in ACTIVATIONS]


@pytest.mark.parametrize("layer, formula", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_values(layer, formula):
    x = np.concatenate([np.linspace(-6, 6, 61), [-30.0, 30.0]])
    np.testing.assert_allclose(run(layer, x), formula(x), rtol=1e-12, atol=1e-14)
    assert list(layer.parameters()) == []


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("layer, formula", ACTIVATIONS, ids=ACTIVATION_IDS)
@given(x=arrays(st.tuples(st.integers(1, 3), st.integers(1, 4)), away_from_zero(0.01, 3.0)))
def test_activation_gradient(device, layer, formula, x):
    x = np.where(np.abs(2 * x - 4) < 0.01, x + 0.02, x)  # away from Softplus(beta=2, threshold=4)'s switch
    check_gradients(layer, x, device=device)


# --- losses ------------------------------------------------------------------------------------

def reduce(losses, reduction):
    return {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]


REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss(reduction):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    loss = nn.MSELoss(reduction=reduction)(mg.tensor(x), mg.tensor(y))
    np.testing.assert_allclose(loss.numpy(), reduce((x - y) ** 2, reduction), **TIGHT)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_loss(reduction):
    rng = np.random.default_rng(1)
    p, y, w = rng.uniform(0.05, 0.95, (5, 2)), rng.uniform(0, 1, (5, 2)), rng.uniform(0.5, 2, (2,))
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    loss = nn.BCELoss(reduction=reduction)(mg.tensor(p), mg.tensor(y))
    np.testing.assert_allclose(loss.numpy(), reduce(expected, reduction), **TIGHT)
    weighted = nn.BCELoss(weight=mg.tensor(w), reduction=reduction)(mg.tensor(p), mg.tensor(y))
    np.testing.assert_allclose(weighted.numpy(), reduce(w * expected, reduction), **TIGHT)
    # logs are clamped at -100, as PyTorch: a certain mistake costs 100, not inf
    assert nn.BCELoss()(mg.tensor([0.0, 1.0]), mg.tensor([1.0, 0.0])).item() == 100.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_loss(reduction):
    rng = np.random.default_rng(2)
    x, y = rng.normal(0, 3, (5, 3)), rng.uniform(0, 1, (5, 3))
    w, pos = rng.uniform(0.5, 2, (3,)), rng.uniform(0.5, 3, (3,))
    log_p, log_not_p = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    loss = nn.BCEWithLogitsLoss(reduction=reduction)(mg.tensor(x), mg.tensor(y))
    np.testing.assert_allclose(loss.numpy(), reduce(-(y * log_p + (1 - y) * log_not_p), reduction), **TIGHT)
    loss = nn.BCEWithLogitsLoss(weight=mg.tensor(w), pos_weight=mg.tensor(pos), reduction=reduction)(
        mg.tensor(x), mg.tensor(y))
    expected = -w * (pos * y * log_p + (1 - y) * log_not_p)
    np.testing.assert_allclose(loss.numpy(), reduce(expected, reduction), **TIGHT)


def nll_reference(log_p, target, weight, ignore_index, reduction):
    """log_p (N, C, ...), target (N, ...)."""
    moved = np.moveaxis(log_p, 1, -1).reshape(-1, log_p.shape[1])
    flat = target.reshape(-1)
    keep = flat != ignore_index
    safe = np.where(keep, flat, 0)
    w = weight[safe] * keep
    losses = -w * moved[np.arange(len(flat)), safe]
    if reduction == "mean":
        return losses.sum() / w.sum()
    return losses.sum() if reduction == "sum" else losses.reshape(target.shape)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("spatial", [(), (2, 3)])
def test_cross_entropy_and_nll_loss(reduction, spatial):
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, (6, 4) + spatial)
    target = rng.integers(0, 4, (6,) + spatial)
    target.reshape(-1)[0] = -100  # ignored by default
    weight = rng.uniform(0.5, 2, 4)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    for w in (None, weight):
        ref_weight = np.ones(4) if w is None else w
        expected = nll_reference(log_p, target, ref_weight, -100, reduction)
        ce = nn.CrossEntropyLoss(weight=None if w is None else mg.tensor(w), reduction=reduction)
        np.testing.assert_allclose(ce(mg.tensor(logits), mg.tensor(target)).numpy(), expected, **TIGHT)
        nll = nn.NLLLoss(weight=None if w is None else mg.tensor(w), reduction=reduction)
        np.testing.assert_allclose(nll(mg.tensor(log_p), mg.tensor(target)).numpy(), expected, **TIGHT)
    custom = nn.CrossEntropyLoss(ignore_index=2, reduction=reduction)(mg.tensor(logits), mg.tensor(target % 4))
    np.testing.assert_allclose(custom.numpy(), nll_reference(log_p, target % 4, np.ones(4), 2, reduction), **TIGHT)


def loss_cases():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(3, 2)), rng.uniform(0.1, 0.9, (3, 2))
    p = rng.uniform(0.1, 0.9, (3, 2))
    logits, classes = rng.normal(size=(4, 3, 2)), rng.integers(0, 3, (4, 2))
    return [
        (nn.MSELoss, {}, x, y),
        (nn.BCELoss, {}, p, y),
        (nn.BCELoss, {"weight": mg.tensor([0.5, 2.0], dtype=mg.float64)}, p, y),
        (nn.BCEWithLogitsLoss, {"pos_weight": mg.tensor([3.0, 0.5], dtype=mg.float64)}, x, y),
        (nn.CrossEntropyLoss, {"weight": mg.tensor([1.0, 2.0, 0.5], dtype=mg.float64)}, logits, classes),
        (nn.NLLLoss, {}, logits, classes),
    ]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", range(len(loss_cases())))
def test_loss_gradients(device, reduction, case):
    loss_class, options, x, target = loss_cases()[case]
    criterion = loss_class(reduction=reduction, **options).to(device)
    check_gradients(lambda a, t: criterion(a, t), x, target, device=device, requires_grad=[True, False])


def test_losses_refuse_an_unknown_reduction():
    for loss_class in (nn.MSELoss, nn.BCELoss, nn.BCEWithLogitsLoss, nn.CrossEntropyLoss, nn.NLLLoss):
        with pytest.raises(ValueError, match="reduction must be one of"):
            loss_class(reduction="average")


def test_loss_weights_are_buffers():
    criterion = nn.BCELoss(weight=mg.tensor([1.0, 2.0]))
    assert list(criterion.state_dict()) == ["weight"] and list(criterion.parameters()) == []
    criterion.double()
    assert criterion.weight.dtype == np.float64
    assert repr(nn.CrossEntropyLoss(reduction="sum")) == "CrossEntropyLoss(reduction='sum')"


def test_pooling_modules_match_the_functional_ops():
    x = mg.randn(2, 3, 9, 8)
    F = mg.nn.functional
    np.testing.assert_array_equal(nn.MaxPool2d(3, 2, 1)(x).numpy(), F.max_pool2d(x, 3, 2, 1).numpy())
    np.testing.assert_array_equal(nn.AvgPool2d(2)(x).numpy(), F.avg_pool2d(x, 2).numpy())
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 4)


def test_layers_accept_arguments_as_pytorch_and_fail_in_forward_naming_them():
    """PyTorch builds these layers and raises when they run; minigrad raised ZeroDivisionError or
    "'float' object is not iterable" from the constructor."""
    x = mg.zeros(1, 1, 5, 5)
    with pytest.raises(RuntimeError, match=r"conv2d: stride should be greater than zero, but got stride=\(0, 0\)"):
        nn.Conv2d(1, 1, 3, stride=0)(x)
    with pytest.raises(RuntimeError, match=r"conv2d: padding must not be negative"):
        nn.Conv2d(1, 1, 3, padding=-1)(x)
    with pytest.raises(TypeError, match=r"conv2d: stride must be an int or a pair of ints, got \(1.5, 1.5\)"):
        nn.Conv2d(1, 1, 3, stride=1.5)(x)
    with pytest.raises(RuntimeError, match=r"conv_transpose2d: stride should be greater than zero"):
        nn.ConvTranspose2d(1, 1, 3, stride=0)(x)
    with pytest.warns(UserWarning, match="zero-element"):
        conv = nn.Conv2d(1, 1, kernel_size=0)
    with pytest.raises(RuntimeError, match=r"conv2d: kernel_size should be greater than zero"):
        conv(x)
    with pytest.raises(RuntimeError, match=r"max_pool2d: stride should be greater than zero"):
        nn.MaxPool2d(2, stride=0)(x)


def test_linear_with_no_input_features_is_allowed_as_in_pytorch():
    """Formerly a ZeroDivisionError in the initialisation (1/sqrt(fan_in) with fan_in = 0)."""
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        layer = nn.Linear(0, 3)
    assert layer.weight.shape == (3, 0) and (layer.bias.numpy() == 0).all()  # U(-0, 0)
    np.testing.assert_array_equal(layer(mg.zeros(2, 0)).numpy(), np.zeros((2, 3), np.float32))
    with pytest.warns(UserWarning, match="zero-element"):
        assert nn.Conv2d(0, 2, 3).weight.shape == (2, 0, 3, 3)


@pytest.mark.parametrize("make", [lambda: nn.BatchNorm2d(3), lambda: nn.BatchNorm2d(3).eval(),
                                  lambda: nn.BatchNorm2d(3, affine=False)])
def test_batch_norm_with_the_wrong_number_of_channels_names_both(make):
    """Formerly 'cannot reshape array of size 3 into shape (1,4,1,1)'."""
    with pytest.raises(RuntimeError, match=r"batch_norm: running_mean of shape \(3,\) should contain 4 elements "
                                           r"not 3, one per channel \(dim 1\) of the input of shape \(2, 4, 5, 5\)"):
        make()(mg.zeros(2, 4, 5, 5))
    with pytest.raises(RuntimeError, match=r"running_mean .* should contain 4 elements not 3"):
        nn.BatchNorm1d(3)(mg.zeros(2, 4))
    with pytest.raises(RuntimeError, match=r"batch_norm: weight of shape \(3,\) should contain 4 elements"):
        nn.BatchNorm2d(3, track_running_stats=False)(mg.zeros(2, 4, 5, 5))
    # without running statistics or affine parameters nothing depends on num_features (as PyTorch)
    assert nn.BatchNorm2d(3, affine=False, track_running_stats=False)(mg.zeros(2, 4, 5, 5)).shape == (2, 4, 5, 5)
# --- PyTorch GAN code's vocabulary: apply, Identity, Upsample, Dropout2d, InstanceNorm2d, pads, ... --------

def test_apply_runs_the_dcgan_weights_init():
    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)
    mg.manual_seed(0)
    net = nn.Sequential(nn.ConvTranspose2d(100, 64, 4, 1, 0, bias=False), nn.BatchNorm2d(64), nn.ReLU(True))
    net[1].bias.data.fill_(5.0)
    assert net.apply(weights_init) is net
    assert abs(net[0].weight.std().item() - 0.02) < 0.002
    assert abs(net[1].weight.mean().item() - 1.0) < 0.01 and net[1].bias.abs().max().item() == 0.0


def test_identity_upsample_and_pad_layers():
    x = mg.arange(4, dtype=mg.float32).reshape(1, 1, 2, 2)
    assert nn.Identity()(x) is x
    assert nn.Upsample(scale_factor=2)(x).tolist() == [[[[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]]]
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2, mode='nearest')"
    assert nn.ZeroPad2d(1)(x).shape == (1, 1, 4, 4) and nn.ZeroPad2d(1)(x).sum().item() == 6
    assert nn.ReflectionPad2d((1, 0, 0, 0))(x).tolist() == [[[[1, 0, 1], [3, 2, 3]]]]
    assert nn.ReplicationPad2d((0, 1, 0, 0))(x).tolist() == [[[[0, 1, 1], [2, 3, 3]]]]
    with pytest.raises(ValueError, match="4 ints"):
        nn.ReflectionPad2d((1, 2))


def test_dropout2d_layer_follows_the_training_mode():
    layer = nn.Dropout2d(0.5)
    x = mg.ones(4, 8, 2, 2)
    assert set(np.unique(layer(x).numpy())) == {0.0, 2.0}
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(2.0)


def test_instance_norm_defaults_and_buffers():
    plain = nn.InstanceNorm2d(3)
    assert list(plain.state_dict()) == [] and plain.weight is None and plain.running_mean is None
    tracked = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    assert list(tracked.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    x = mg.randn(2, 3, 4, 4) * 3 + 1
    tracked(x)
    assert not np.allclose(tracked.running_mean.numpy(), 0)
    tracked.eval()
    before = tracked.running_mean.numpy().copy()
    tracked(x)
    np.testing.assert_array_equal(tracked.running_mean.numpy(), before)  # eval uses, never moves, them
    with pytest.raises(ValueError, match="InstanceNorm2d"):
        plain(mg.zeros(2, 3))


def test_prelu_weight_is_a_parameter():
    layer = nn.PReLU(4, init=0.1)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    np.testing.assert_allclose(layer.weight.numpy(), [0.1] * 4)
    layer(mg.randn(2, 4, 3)).sum().backward()
    assert layer.weight.grad.shape == (4,)


# --- pooling and distance modules, against PyTorch's --------------------------------------------------

POOL_MODULES = ["MaxPool2d(3, 2, 1, ceil_mode=True)", "MaxPool2d(2, dilation=2, return_indices=True)",
                "AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)", "AvgPool2d(2, divisor_override=3)",
                "AdaptiveMaxPool2d((3, 2))", "AdaptiveMaxPool2d(3, return_indices=True)",
                "MaxPool1d(3, 2, 1, ceil_mode=True)", "AvgPool1d(3, 2, 1, count_include_pad=False)"]


@pytest.mark.parametrize("text", POOL_MODULES)
def test_pool_modules_match_pytorch(text):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).normal(size=(2, 3, 7, 6) if "2d" in text else (2, 3, 9))
    ours, theirs = eval("nn." + text), eval("torch.nn." + text)
    assert repr(ours) == repr(theirs)
    out, expected = ours(mg.tensor(x)), theirs(torch.tensor(x))
    if isinstance(expected, tuple):
        np.testing.assert_array_equal(out[1].numpy(), expected[1].numpy())
        out, expected = out[0], expected[0]
    np.testing.assert_allclose(out.numpy(), expected.numpy(), **TIGHT)


def test_distance_modules_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x1, x2 = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    for text in ["CosineSimilarity()", "CosineSimilarity(dim=0, eps=1e-3)", "PairwiseDistance()",
                 "PairwiseDistance(p=1.0, keepdim=True)"]:
        ours, theirs = eval("nn." + text), eval("torch.nn." + text)
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(mg.tensor(x1), mg.tensor(x2)).numpy(),
                                   theirs(torch.tensor(x1), torch.tensor(x2)).numpy(), **TIGHT)


def test_new_loss_modules_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    positive, signs = rng.uniform(0.1, 2, size=(3, 4)), np.sign(rng.normal(size=(3, 4)))
    cases = [("SmoothL1Loss(beta=0.5)", (x, y)), ("HuberLoss(delta=0.5, reduction='sum')", (x, y)),
             ("KLDivLoss(reduction='batchmean')", (x, positive)), ("KLDivLoss(log_target=True)", (x, y)),
             ("CosineEmbeddingLoss(0.1)", (x, y, signs[:, 0])), ("MarginRankingLoss(0.2)", (x, y, signs)),
             ("HingeEmbeddingLoss(0.5, reduction='none')", (x, signs)), ("SoftMarginLoss()", (x, signs)),
             ("PoissonNLLLoss(log_input=False, full=True)", (positive, positive.round())),
             ("GaussianNLLLoss(full=True)", (x, y, positive)),
             ("CrossEntropyLoss(label_smoothing=0.1)", (x, np.array([0, 3, 1]))),
             ("CrossEntropyLoss(reduction='sum')", (x, positive / positive.sum(1, keepdims=True)))]
    for text, arrays_ in cases:
        ours, theirs = eval("nn." + text), eval("torch.nn." + text)  # (minigrad's repr adds the reduction)
        out = ours(*[mg.tensor(a) for a in arrays_])
        expected = theirs(*[torch.tensor(a) for a in arrays_])
        np.testing.assert_allclose(out.numpy(), expected.numpy(), **TIGHT, err_msg=text)
