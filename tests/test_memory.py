"""Memory: what a graph keeps for backward, and the peak of a BEGAN and a CycleGAN step.

A convolution's column matrix is KH*KW times its input, and a graph keeps every tensor given to
its ops; so Conv2d keeps no columns (it makes them again in backward, a block of samples at a
time) and ELU is one op. The peaks are NumPy's allocations as tracemalloc counts them, in this
process, over one step of the real networks (after a first step has made the optimizers' state)
on random 64x64 images: deterministic, and independent of what else the machine runs. Each bound
is about 1.7-2 times the peak measured and well under that of an engine that keeps the columns (in each docstring).
"""

import tracemalloc
from types import SimpleNamespace

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import minigrad as mg
import minigrad.nn.functional as F
from gans import began
from gans.experiments import adam
from gans.image_to_image import CycleGAN
from minigrad import kernels, parallel
from minigrad.ops import conv

MB = 2**20


# --- what the graph keeps -------------------------------------------------------------------

def arrays_kept_by(fn):
    """The names of the arrays an op's node keeps besides its inputs (the Tensors in fn.inputs)."""
    return sorted(name for name, value in vars(fn).items() if isinstance(value, np.ndarray))


@pytest.mark.parametrize("op, weight_shape", [("conv2d", (4, 3, 3, 3)), ("conv_transpose2d", (3, 4, 3, 3))])
def test_convolutions_keep_no_large_column_matrix_for_backward(op, weight_shape, monkeypatch):
    """Columns over KEEP_COLUMNS elements are made again in backward; smaller ones (a conv2d's) are kept."""
    def kept():
        x = mg.randn(2, 3, 8, 8, requires_grad=True)
        out = getattr(F, op)(x, mg.randn(*weight_shape, requires_grad=True), mg.zeros(4, requires_grad=True), padding=1)
        assert type(out.grad_fn).__name__ == {"conv2d": "Conv2d", "conv_transpose2d": "ConvTranspose2d"}[op]
        return arrays_kept_by(out.grad_fn)

    assert kept() == []  # a 3x3 kernel at stride 1: the columns hold 9 copies of the input, made again
    monkeypatch.setattr(conv, "KEEP_COLUMNS_RATIO", 9)
    assert kept() == (["cols"] if op == "conv2d" else [])  # within both limits: kept
    monkeypatch.setattr(conv, "KEEP_COLUMNS", 2 * 64 * 27 - 1)  # one element short of these columns
    assert kept() == []


def test_elu_is_one_op_that_keeps_its_input_only():
    x = mg.randn(2, 3, 8, 8, requires_grad=True)
    out = F.elu(x, alpha=0.5)
    assert type(out.grad_fn).__name__ == "ELU"
    assert out.grad_fn.inputs == (x,) and arrays_kept_by(out.grad_fn) == []


# --- Conv2d in blocks of samples --------------------------------------------------------------

# (input shape, weight shape, stride, padding, dilation): 'same' 3x3, stride 2, dilation, and
# fewer output than input channels at stride 1 (dL/dx by convolution, not by fold)
CONV_CASES = [
    ((5, 3, 9, 8), (4, 3, 3, 3), 1, 1, 1),
    ((5, 3, 11, 9), (4, 3, 3, 3), 2, 1, 1),
    ((4, 2, 10, 10), (3, 2, 3, 2), (1, 2), (2, 0), (2, 1)),
    ((3, 6, 9, 9), (2, 6, 7, 7), 1, 3, 1),
]


# the same for conv_transpose2d: (input shape, weight shape, stride, padding, output_padding, dilation)
TRANSPOSED_CASES = [
    ((5, 3, 6, 5), (3, 4, 3, 3), 2, 1, 1, 1),
    ((4, 2, 5, 5), (2, 3, 4, 2), (2, 1), (1, 0), 0, (1, 2)),
    ((3, 4, 4, 4), (4, 2, 8, 8), 2, 1, 0, 1),
]


def conv_and_gradients(x, weight, bias, needs, *options, op=F.conv2d):
    """op's output and the gradients (of the inputs in `needs`) of sum(out * upstream), in float64."""
    tensors = [mg.tensor(a, requires_grad=need) for a, need in zip((x, weight, bias), needs)]
    out = op(*tensors, *options)
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    (out * mg.tensor(upstream)).sum().backward()
    return [out.numpy()] + [t.grad.numpy() for t in tensors if t.requires_grad]


@pytest.fixture
def two_threads(monkeypatch):
    """2 threads, with every array big enough for the pool; the thread count and BLAS come back after."""
    monkeypatch.setattr(parallel, "THREADED_MIN", 0)
    before = mg.get_num_threads()
    with threadpool_limits(limits=None):
        mg.set_num_threads(2)
        yield
        mg.set_num_threads(before)


NEEDS = [(True, True, True), (False, True, True), (True, False, False)]


def check_blocks_of_one_sample(monkeypatch, args, op, counted):
    """op with its columns a sample at a time (`counted` = (module, name), the function that makes
    them, sees one sample each time) gives what the whole batch in one block gives; the blocks' dL/dW
    are added in block order, so at 1 and 2 threads the results are identical, bit for bit."""
    whole = conv_and_gradients(*args, op=op)
    (module, name), samples = counted, []
    make = getattr(module, name)

    def counting(array, *rest, **named):
        samples.append(len(array))
        return make(array, *rest, **named)

    monkeypatch.setattr(module, name, counting)
    monkeypatch.setattr(conv, "COLUMNS_BLOCK", 1)  # one sample a block
    monkeypatch.setattr(conv, "KEEP_COLUMNS", 0)  # and none kept whole
    by_sample = conv_and_gradients(*args, op=op)
    assert set(samples) == {1} and len(samples) >= len(args[0])
    assert len(by_sample) == len(whole) == 1 + sum(args[3])
    for a, b in zip(by_sample, whole):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    mg.set_num_threads(1)
    for a, b in zip(conv_and_gradients(*args, op=op), by_sample):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("needs", NEEDS)
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation", CONV_CASES)
def test_conv2d_in_blocks_of_one_sample_equals_one_block(monkeypatch, two_threads, needs,
                                                         x_shape, w_shape, stride, padding, dilation):
    """Forward and backward: dL/dx by fold or by convolution, dL/dW, dL/db."""
    rng = np.random.default_rng(0)
    x, weight, bias = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    check_blocks_of_one_sample(monkeypatch, (x, weight, bias, needs, stride, padding, dilation), F.conv2d, (conv, "window_columns"))


@pytest.mark.parametrize("needs", NEEDS)
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, output_padding, dilation", TRANSPOSED_CASES)
def test_conv_transpose2d_in_blocks_of_one_sample_equals_one_block(monkeypatch, two_threads, needs, x_shape,
                                                                   w_shape, stride, padding, output_padding, dilation):
    """Forward (a fold a block) and backward (the windows of dL/dout a block)."""
    rng = np.random.default_rng(0)
    x, weight, bias = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[1])
    args = (x, weight, bias, needs, stride, padding, output_padding, 1, dilation)  # groups=1
    check_blocks_of_one_sample(monkeypatch, args, F.conv_transpose2d, (kernels, "fold"))


def test_conv2d_blocks_are_whole_samples_of_about_columns_block_elements(monkeypatch):
    """A 3x3 kernel over 3 channels of 8x8 ('same'): 64 windows of 27 numbers, 1728 a sample. Columns
    of at most KEEP_COLUMNS elements in all are one block."""
    monkeypatch.setattr(conv, "COLUMNS_BLOCK", 4000)
    x = mg.randn(5, 3, 8, 8)
    out = F.conv2d(x, mg.randn(2, 3, 3, 3, requires_grad=True), padding=1)
    assert out.grad_fn.blocks_of_samples(5) == [slice(0, 5)]  # 8640 elements: small enough for one
    monkeypatch.setattr(conv, "KEEP_COLUMNS", 8000)
    assert out.grad_fn.blocks_of_samples(5) == [slice(0, 2), slice(2, 4), slice(4, 5)]
    monkeypatch.setattr(conv, "KEEP_COLUMNS", 0)
    monkeypatch.setattr(conv, "COLUMNS_BLOCK", 1000)  # less than one sample: a sample a block
    assert out.grad_fn.blocks_of_samples(2) == [slice(0, 1), slice(1, 2)]
    assert out.grad_fn.blocks_of_samples(0) == [slice(0, 0)]
    assert F.conv2d(mg.randn(0, 3, 8, 8), mg.randn(2, 3, 3, 3), padding=1).shape == (0, 2, 8, 8)


# --- the peak of a step ---------------------------------------------------------------------

def peak_of_a_step(step):
    """The most memory NumPy (and Python) held at once during step(), above what was held before
    it, in MB; after a first step, which makes the optimizers' state."""
    step()
    tracemalloc.start()
    try:
        held = tracemalloc.get_traced_memory()[0]
        step()
        return (tracemalloc.get_traced_memory()[1] - held) / MB
    finally:
        tracemalloc.stop()


def test_a_began_step_of_the_real_networks_peaks_under_100_mb():
    """BEGAN's networks (h = 64, n = 32) at batch 2. Measured: 46.0 MB (267.8 MB if Conv2d kept its
    columns, nine times a 3x3 layer's input, ELU six arrays and D's two losses one graph). At the
    default batch of 16 the whole process peaks at 0.4 GB (2.3 GB that way)."""
    mg.manual_seed(0)
    objective = began.BEGAN()
    spec = SimpleNamespace(generator=began.decoder, discriminator=began.Autoencoder,
                           g_optimizer=adam(1e-4, (0.5, 0.999)), d_optimizer=adam(1e-4, (0.5, 0.999)))
    nets = objective.networks(spec)
    rng = np.random.default_rng(0)
    faces = [mg.tensor(rng.uniform(-1, 1, (2, 3, 64, 64)).astype(np.float32)) for _ in range(2)]
    trainer = SimpleNamespace(nets=nets, optimizers=objective.optimizers(spec, nets),
                              next_batch=lambda: (faces.pop(), None),
                              draw_noise=lambda n: (began.uniform_noise((began.HIDDEN,))(n), None))
    assert peak_of_a_step(lambda: objective.step(trainer)) < 100


def test_a_cyclegan_step_of_the_real_networks_peaks_under_250_mb():
    """CycleGAN's four networks at batch 1: six generator passes and two D passes in G's graph.
    Measured: 150.1 MB (436.2 MB if Conv2d kept its columns, the 7x7 layers' 26 MB each). The whole
    process, with the sample grids of 16 faces, peaks at 0.4 GB (1.0 GB that way)."""
    mg.manual_seed(0)
    objective = CycleGAN()
    nets = objective.networks()
    rng = np.random.default_rng(0)
    images = [mg.tensor(rng.uniform(-1, 1, (1, 3, 64, 64)).astype(np.float32)) for _ in range(4)]
    trainer = SimpleNamespace(nets=nets, optimizers=objective.optimizers(None, nets),
                              next_batch=lambda: (images.pop(), images.pop()))
    assert peak_of_a_step(lambda: objective.step(trainer)) < 250
