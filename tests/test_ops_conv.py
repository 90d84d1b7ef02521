"""minigrad/ops/conv.py: conv2d, conv_transpose2d, max_pool2d, avg_pool2d (and their 1-d forms),
adaptive_max_pool2d on NCHW tensors.

The strategies draw batch, channels, spatial size, kernel, stride, padding, dilation and
output_padding constructively: every drawn combination is valid (the output is not empty),
so no example is thrown away."""

import re

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import kernels, parallel
from minigrad.ops import conv
from helpers import DEVICES, arrays, check_gradients, distinct_arrays, gradient_test_for

MAX_SPATIAL = 7


def pair_or_int(draw, low, high):
    """A hyper-parameter as PyTorch takes it: one int for both dims, or a (rows, cols) pair."""
    if draw(st.booleans()):
        value = draw(st.integers(low, high))
        return value, (value, value)
    rows, cols = draw(st.integers(low, high)), draw(st.integers(low, high))
    return (rows, cols), (rows, cols)


@st.composite
def conv2d_cases(draw):
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride, (sh, sw) = pair_or_int(draw, 1, 3)
    dilation, (dh, dw) = pair_or_int(draw, 1, 2)
    padding, (ph, pw) = pair_or_int(draw, 0, 2)
    # the dilated kernel must fit in the padded input
    h = draw(st.integers(max(1, dh * (kernel[0] - 1) + 1 - 2 * ph), MAX_SPATIAL))
    w = draw(st.integers(max(1, dw * (kernel[1] - 1) + 1 - 2 * pw), MAX_SPATIAL))
    x = draw(arrays((n, c_in, h, w)))
    weight = draw(arrays((c_out, c_in) + kernel))
    bias = draw(st.none() | arrays((c_out,)))
    return x, weight, bias, dict(stride=stride, padding=padding, dilation=dilation)


@st.composite
def conv_transpose2d_cases(draw):
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, strides = pair_or_int(draw, 1, 3)
    dilation, dilations = pair_or_int(draw, 1, 2)
    # output_padding < max(stride, dilation), and padding that leaves at least one output pixel
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(strides, dilations))
    full = [(size - 1) * s + d * (k - 1) + 1 + op
            for size, s, d, k, op in zip((h, w), strides, dilations, kernel, output_padding)]
    padding = tuple(draw(st.integers(0, min(2, (f - 1) // 2))) for f in full)
    x = draw(arrays((n, c_in, h, w)))
    weight = draw(arrays((c_in, c_out) + kernel))
    bias = draw(st.none() | arrays((c_out,)))
    return x, weight, bias, dict(stride=stride, padding=padding, output_padding=output_padding,
                                 dilation=dilation)


@st.composite
def pool_cases(draw, with_dilation):
    """Input, kernel, stride (None: the kernel), padding (at most half the kernel) and dilation.
    Max-pool inputs have distinct values: no ties for the window maximum."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kernel_size, kernel = pair_or_int(draw, 1, 3)
    stride = draw(st.none() | st.integers(1, 3))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation, dilations = pair_or_int(draw, 1, 2) if with_dilation else (1, (1, 1))
    h, w = (draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), MAX_SPATIAL))
            for k, p, d in zip(kernel, padding, dilations))
    x = draw(distinct_arrays((n, c, h, w)) if with_dilation else arrays((n, c, h, w)))
    options = dict(stride=stride, padding=padding)
    if with_dilation:
        options["dilation"] = dilation
    return x, kernel_size, options


def with_optional_bias(op, bias, **options):
    if bias is None:
        return lambda x, w: op(x, w, **options)
    return lambda x, w, b: op(x, w, b, **options)


# --- gradients ----------------------------------------------------------------------------

@gradient_test_for("Conv2d")
@pytest.mark.parametrize("device", DEVICES)
@given(conv2d_cases())
def test_conv2d_gradient(device, case):
    x, weight, bias, options = case
    inputs = (x, weight) if bias is None else (x, weight, bias)
    check_gradients(with_optional_bias(F.conv2d, bias, **options), *inputs, device=device)


@gradient_test_for("ConvTranspose2d")
@pytest.mark.parametrize("device", DEVICES)
@given(conv_transpose2d_cases())
def test_conv_transpose2d_gradient(device, case):
    x, weight, bias, options = case
    inputs = (x, weight) if bias is None else (x, weight, bias)
    check_gradients(with_optional_bias(F.conv_transpose2d, bias, **options), *inputs, device=device)


@gradient_test_for("ConvWeightGrad")
@pytest.mark.parametrize("device", DEVICES)
@given(conv2d_cases(), st.booleans())
def test_conv_weight_grad_gradient(device, case, transposed):
    """The weight gradient as an op of its own (first and second order): of a convolution (big = x,
    small = dL/dout), and of a transposed one (big = dL/dout, with room for extra windows when it
    was made with output padding)."""
    x, weight, _, options = case
    stride, padding, dilation = (conv.pair(options[k]) for k in ("stride", "padding", "dilation"))
    small = np.random.default_rng(0).standard_normal(F.conv2d(mg.tensor(x), mg.tensor(weight), **options).shape)
    big = x
    if transposed:  # one more row and column where output padding can still reach them
        kernel = weight.shape[2:]
        beyond = [(n + 2 * p - d * (k - 1) - 1) % s for n, p, d, k, s in zip(x.shape[2:], padding, dilation, kernel, stride)]
        extra = [int(b + 1 < max(s, d)) for b, s, d in zip(beyond, stride, dilation)]
        big = np.pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
    check_gradients(lambda b, s: conv.ConvWeightGrad.apply(b, s, stride=stride, padding=padding, dilation=dilation,
                                                            kernel=weight.shape[2:]), big, small, device=device)


@gradient_test_for("MaxPool2d")
@pytest.mark.parametrize("device", DEVICES)
@given(pool_cases(with_dilation=True), st.booleans())
def test_max_pool2d_gradient(device, case, ceil_mode):
    x, kernel_size, options = case
    options["ceil_mode"] = ceil_mode
    # with a large dilation a window can fall on padding only (its max is -inf, as in PyTorch)
    assume(np.isfinite(F.max_pool2d(mg.tensor(x), kernel_size, **options).numpy()).all())
    check_gradients(lambda a: F.max_pool2d(a, kernel_size, **options), x, device=device)


@gradient_test_for("AvgPool2d")
@pytest.mark.parametrize("device", DEVICES)
@given(pool_cases(with_dilation=False), st.booleans(), st.booleans(), st.sampled_from([None, 1, 3]))
def test_avg_pool2d_gradient(device, case, ceil_mode, count_include_pad, divisor_override):
    x, kernel_size, options = case
    options.update(ceil_mode=ceil_mode, count_include_pad=count_include_pad, divisor_override=divisor_override)
    check_gradients(lambda a: F.avg_pool2d(a, kernel_size, **options), x, device=device)


@given(conv2d_cases(), st.data())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case, data):
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)> for every x, y: the transposed convolution is
    the adjoint (the 'backward') of the convolution with the same stride, padding and dilation."""
    x, weight, _, options = case
    out = F.conv2d(mg.tensor(x), mg.tensor(weight), **options)
    y = data.draw(arrays(out.shape))
    # output_padding recovers the rows and columns that the convolution's stride skipped
    (sh, sw), (ph, pw), (dh, dw) = (np.broadcast_to(options[k], 2) for k in ("stride", "padding", "dilation"))
    kh, kw = weight.shape[2:]
    output_padding = ((x.shape[2] + 2 * ph - dh * (kh - 1) - 1) % sh, (x.shape[3] + 2 * pw - dw * (kw - 1) - 1) % sw)
    assume(all(op < max(s, d) for op, s, d in zip(output_padding, (sh, sw), (dh, dw))))
    back = F.conv_transpose2d(mg.tensor(y), mg.tensor(weight), output_padding=output_padding, **options)
    assert back.shape == x.shape
    np.testing.assert_allclose((out.numpy() * y).sum(), (x * back.numpy()).sum(), rtol=1e-9, atol=1e-9)


# --- fold and im2col in blocks of rows: the same numbers, bit for bit --------------------------

@pytest.fixture
def blocks_of_one_row(monkeypatch):
    """fold and im2col cut every batch, of any size, into blocks of one window row, over 2 threads
    (the thread count and NumPy's BLAS limit come back afterwards). Returns the number of blocks
    of each pool run."""
    monkeypatch.setattr(parallel, "THREADED_MIN", 0)
    monkeypatch.setattr(kernels, "ROWS_BELOW", 10**9)
    monkeypatch.setattr(kernels, "FOLD_ADD_MIN", 1)
    monkeypatch.setattr(kernels, "IM2COL_BLOCK", 1)
    runs, run = [], parallel._run
    monkeypatch.setattr(parallel, "_run", lambda parts, fn: runs.append(len(parts)) or run(parts, fn))
    before = mg.get_num_threads()
    with threadpool_limits(limits=None):
        mg.set_num_threads(2)
        yield runs
        mg.set_num_threads(before)


def fold_tap_by_tap(windows, size, stride, dilation, axis):
    """fold's definition in one piece: the windows added back one kernel tap at a time, in (i, j)
    order, each tap over all the windows at once."""
    out_h, out_w, kh, kw = windows.shape[axis:axis + 4]
    (sh, sw), (dh, dw) = stride, dilation
    out = np.zeros(windows.shape[:axis] + size + windows.shape[axis + 4:], dtype=windows.dtype)
    lead = (slice(None),) * axis
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (out_h - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (out_w - 1) + 1, sw)
            out[lead + (rows, cols)] += windows[lead + (slice(None), slice(None), i, j)]
    return out


# (batch, padded size, kernel, stride, dilation): odd sizes, rows the stride does not reach, a
# 1x1 kernel, taps that skip a block of rows altogether (7x7 with dilation 2)
ROW_BLOCK_CASES = [
    (1, (9, 7), (3, 3), (1, 1), (1, 1)),
    (1, (13, 11), (3, 3), (2, 2), (1, 1)),
    (1, (14, 12), (4, 4), (2, 2), (1, 1)),
    (1, (15, 9), (7, 7), (1, 1), (1, 1)),
    (1, (19, 17), (7, 3), (1, 2), (2, 2)),
    (1, (11, 11), (3, 2), (2, 1), (2, 1)),
    (1, (5, 5), (1, 1), (2, 2), (1, 1)),
    (3, (13, 11), (3, 3), (2, 2), (2, 2)),
    (3, (10, 9), (4, 4), (2, 1), (1, 1)),
    (2, (16, 16), (5, 5), (3, 3), (1, 1)),
]


@pytest.mark.parametrize("n, size, kernel, stride, dilation", ROW_BLOCK_CASES)
def test_fold_in_blocks_of_rows_equals_fold_in_one_piece(blocks_of_one_row, n, size, kernel, stride, dilation):
    """Each output element gets its additions in tap order whatever the blocks: np.array_equal."""
    x = np.zeros((n, *size, 3), dtype=np.float32)
    shape = conv.sliding_windows(x, kernel, stride, dilation, axis=1).shape
    windows = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    folded = kernels.fold(windows, size, stride, dilation, axis=1)
    assert blocks_of_one_row == [shape[1]]  # one block per window row
    assert np.array_equal(folded, fold_tap_by_tap(windows, size, stride, dilation, axis=1))


@pytest.mark.parametrize("n, size, kernel, stride, dilation", ROW_BLOCK_CASES[:4])
def test_fold_of_nchw_pooling_windows_in_blocks_of_rows(blocks_of_one_row, n, size, kernel, stride, dilation):
    """The pools' windows are (N, C, OH, OW, KH, KW): the rows are axis 2."""
    x = np.zeros((n, 3, *size), dtype=np.float32)
    shape = conv.sliding_windows(x, kernel, stride, dilation, axis=2).shape
    windows = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    folded = kernels.fold(windows, size, stride, dilation, axis=2)
    assert blocks_of_one_row == [shape[2]]
    assert np.array_equal(folded, fold_tap_by_tap(windows, size, stride, dilation, axis=2))


@pytest.mark.parametrize("n, size, kernel, stride, dilation", ROW_BLOCK_CASES)
def test_im2col_in_blocks_of_rows_equals_one_copy(blocks_of_one_row, n, size, kernel, stride, dilation):
    x = np.random.default_rng(0).standard_normal((n, *size, 3)).astype(np.float32)
    windows = conv.sliding_windows(x, kernel, stride, dilation, axis=1)
    cols = kernels.im2col(windows)
    assert blocks_of_one_row == [windows.shape[1]]
    assert np.array_equal(cols, np.ascontiguousarray(windows).reshape(cols.shape))


def test_a_batch_is_cut_into_samples_and_one_sample_into_rows(blocks_of_one_row, monkeypatch):
    """Below ROWS_BELOW samples the blocks are rows; from there on, samples (the blocks are
    then big enough that each fold add covers a few samples)."""
    monkeypatch.setattr(kernels, "ROWS_BELOW", 2)
    monkeypatch.setattr(parallel, "BLOCK", 1)  # im2col: a sample a block
    one, four = np.ones((1, 6, 5, 3, 3, 2), np.float32), np.ones((4, 6, 5, 3, 3, 2), np.float32)
    for windows in (one, four):
        kernels.fold(windows, (8, 7), (1, 1), (1, 1), axis=1)
        kernels.im2col(windows)
    assert blocks_of_one_row == [6, 6, 4, 4]


# --- known values -------------------------------------------------------------------------

SIXTEEN = np.arange(16.0).reshape(1, 1, 4, 4)


@pytest.mark.parametrize("kernel, padding, dilation", [((3, 3), (1, 1), (1, 1)), ((7, 7), (3, 3), (1, 1)),
                                                       ((4, 2), (1, 0), (1, 2)), ((2, 3), (2, 3), (2, 1)),
                                                       ((1, 1), (0, 0), (1, 1))])
def test_stride_1_input_gradient_by_convolution_equals_the_fold(kernel, padding, dilation, monkeypatch):
    """Fewer output than input channels at stride 1, and a smaller column matrix that way: dL/dx is
    the convolution of the padded dL/dout with the flipped kernel (ConvTranspose2d.by_convolution),
    checked against the fold and by gradcheck; with padding wider than the dilated kernel's
    reach, too."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 9, 8))
    weight = rng.standard_normal((2, 5) + kernel)
    upstream = rng.standard_normal(F.conv2d(mg.tensor(x), mg.tensor(weight), padding=padding, dilation=dilation).shape)
    taken = []
    convolve = conv.ConvTranspose2d.by_convolution
    monkeypatch.setattr(conv.ConvTranspose2d, "by_convolution",
                        lambda self, *args: taken.append(1) or convolve(self, *args))

    def input_grad():
        xt = mg.tensor(x, requires_grad=True)
        (F.conv2d(xt, mg.tensor(weight), padding=padding, dilation=dilation) * mg.tensor(upstream)).sum().backward()
        return xt.grad.numpy()

    by_convolution = input_grad()
    assert taken, "the stride-1 path was not taken"
    np.testing.assert_allclose(by_convolution, _input_grad_by_fold(x, weight, upstream, padding, dilation),
                               rtol=1e-10, atol=1e-10)
    assert mg.gradcheck(lambda a, w: F.conv2d(a, w, padding=padding, dilation=dilation),
                        (mg.tensor(x[:1], requires_grad=True), mg.tensor(weight, requires_grad=True)))


def test_stride_1_input_gradient_uses_the_smaller_column_matrix(monkeypatch):
    """By convolution: one row per input pixel, KH*KW*Cout wide; by fold: one row per output
    pixel, KH*KW*Cin wide. A 7x7 kernel without padding on 9x9 has 9 output pixels against 81
    input pixels, so 5 -> 2 channels still folds; 'same' padding convolves."""
    taken = []
    convolve = conv.ConvTranspose2d.by_convolution
    monkeypatch.setattr(conv.ConvTranspose2d, "by_convolution",
                        lambda self, *args: taken.append(1) or convolve(self, *args))
    x, weight = mg.randn(1, 5, 9, 9, requires_grad=True), mg.randn(2, 5, 7, 7)
    F.conv2d(x, weight).sum().backward()                 # 81 * 49 * 2 > 9 * 49 * 5
    assert not taken
    F.conv2d(x, weight, padding=3).sum().backward()      # 81 * 49 * 2 < 81 * 49 * 5
    assert taken


def _input_grad_by_fold(x, weight, upstream, padding, dilation):
    """dL/dx of conv2d as the fold computes it: dL/dcols = dL/dout @ W, added back window by window."""
    (kh, kw), (ph, pw), (n, c, h, w) = weight.shape[2:], padding, x.shape
    dcols = np.einsum("nohw,ocij->nhwijc", upstream, weight)
    dx = kernels.fold(dcols, (h + 2 * ph, w + 2 * pw), (1, 1), dilation, axis=1)
    return dx[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2)


def test_conv2d_of_a_known_input():
    """A 2x2 kernel of ones sums each 2x2 window of 0..15."""
    x = mg.tensor(SIXTEEN, requires_grad=True)
    w = mg.ones(1, 1, 2, 2, dtype=mg.float64, requires_grad=True)
    b = mg.tensor([0.5], dtype=mg.float64, requires_grad=True)
    out = F.conv2d(x, w, b)
    np.testing.assert_array_equal(out.numpy()[0, 0], [[10.5, 14.5, 18.5], [26.5, 30.5, 34.5], [42.5, 46.5, 50.5]])
    out.sum().backward()
    # each input pixel lies in 1, 2 or 4 windows
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])
    # each kernel tap sees the 3x3 block of pixels it slides over
    np.testing.assert_array_equal(w.grad.numpy()[0, 0], [[45.0, 54.0], [81.0, 90.0]])
    assert b.grad.item() == 9.0


def test_conv2d_stride_padding_dilation_values():
    x, w = mg.tensor(SIXTEEN), mg.ones(1, 1, 2, 2, dtype=mg.float64)
    np.testing.assert_array_equal(F.conv2d(x, w, stride=2).numpy()[0, 0], [[10.0, 18.0], [42.0, 50.0]])
    padded = F.conv2d(x, w, padding=1).numpy()[0, 0]
    assert padded.shape == (5, 5)
    np.testing.assert_array_equal(padded[0], [0.0, 1.0, 3.0, 5.0, 3.0])  # top row: only row 0 of x
    np.testing.assert_array_equal(padded[4, 4], 15.0)
    # dilation 2: taps (0,0), (0,2), (2,0), (2,2)
    np.testing.assert_array_equal(F.conv2d(x, w, dilation=2).numpy()[0, 0], [[20.0, 24.0], [36.0, 40.0]])


def test_conv2d_sums_over_input_channels():
    x = mg.tensor(np.stack([SIXTEEN[0, 0], -SIXTEEN[0, 0]])[None])  # channel 1 = -channel 0
    w = mg.tensor(np.array([[[[1.0]], [[2.0]]], [[[1.0]], [[1.0]]]]))   # (2, 2, 1, 1)
    out = F.conv2d(x, w).numpy()
    np.testing.assert_array_equal(out[0, 0], -SIXTEEN[0, 0])
    np.testing.assert_array_equal(out[0, 1], np.zeros((4, 4)))


def test_conv2d_output_shape():
    x, w = mg.zeros(2, 3, 7, 6), mg.zeros(5, 3, 3, 2)
    # OH = (H + 2p - d(k - 1) - 1) // s + 1
    assert F.conv2d(x, w).shape == (2, 5, 5, 5)
    assert F.conv2d(x, w, stride=2, padding=1).shape == (2, 5, 4, 4)
    assert F.conv2d(x, w, stride=(1, 2), padding=(0, 1), dilation=(2, 1)).shape == (2, 5, 3, 4)


def test_conv_transpose2d_of_a_known_input():
    x = mg.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], requires_grad=True)
    w = mg.ones(1, 1, 2, 2, requires_grad=True)
    out = F.conv_transpose2d(x, w)
    np.testing.assert_array_equal(out.numpy()[0, 0], [[1.0, 3.0, 2.0], [4.0, 10.0, 6.0], [3.0, 7.0, 4.0]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[4.0, 4.0], [4.0, 4.0]])
    np.testing.assert_array_equal(w.grad.numpy()[0, 0], [[10.0, 10.0], [10.0, 10.0]])
    strided = F.conv_transpose2d(x, w, stride=2).numpy()[0, 0]
    np.testing.assert_array_equal(strided, [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])


@pytest.mark.parametrize("device", DEVICES)
def test_conv_transpose2d_gradient_with_output_padding_beyond_the_stride(device):
    """output_padding may reach up to dilation - 1 when dilation > stride; backward must still give
    one window per input pixel."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((2, 1, 2, 2))
    check_gradients(lambda a, b: F.conv_transpose2d(a, b, stride=1, dilation=2, output_padding=1), x, w,
                    device=device)


def test_conv_transpose2d_output_shape():
    x, w = mg.zeros(1, 2, 3, 4), mg.zeros(2, 5, 3, 3)
    # OH = (H - 1) s - 2p + d(k - 1) + output_padding + 1
    assert F.conv_transpose2d(x, w).shape == (1, 5, 5, 6)
    assert F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1).shape == (1, 5, 6, 8)
    assert F.conv_transpose2d(x, w, stride=1, dilation=2, output_padding=1).shape == (1, 5, 8, 9)
    bias = mg.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(F.conv_transpose2d(x, w, bias).numpy()[0, :, 0, 0], [1.0, 2.0, 3.0, 4.0, 5.0])


def test_max_pool2d_known_values_and_gradient():
    x = mg.tensor(SIXTEEN, requires_grad=True)
    out = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(out.numpy()[0, 0], [[5.0, 7.0], [13.0, 15.0]])
    out.sum().backward()
    expected = np.zeros((4, 4))
    expected[[1, 1, 3, 3], [1, 3, 1, 3]] = 1.0
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)
    # padding counts as -inf, so it never wins
    np.testing.assert_array_equal(F.max_pool2d(-x, 2, stride=2, padding=1).numpy()[0, 0],
                                  [[0.0, -1.0, -3.0], [-4.0, -5.0, -7.0], [-12.0, -13.0, -15.0]])


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint8])
def test_max_pool2d_of_integers_pads_with_the_smallest_integer(dtype):
    """-inf does not fit an integer dtype (np.pad raised OverflowError): padding is the dtype's minimum."""
    values = np.arange(16).reshape(1, 1, 4, 4) - (20 if dtype != np.uint8 else 0)
    out = F.max_pool2d(mg.tensor(values.astype(dtype)), 2, stride=2, padding=1)
    expected = F.max_pool2d(mg.tensor(values.astype(np.float64)), 2, stride=2, padding=1).numpy()
    assert out.numpy().dtype == dtype
    np.testing.assert_array_equal(out.numpy(), expected)


def test_max_pool2d_overlapping_windows_add_up_the_gradient():
    x = mg.tensor([[[[0.0, 9.0, 0.0]]]], requires_grad=True)
    out = F.max_pool2d(x, (1, 2), stride=1)
    np.testing.assert_array_equal(out.numpy()[0, 0], [[9.0, 9.0]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0.0, 2.0, 0.0]])


def test_avg_pool2d_known_values_and_gradient():
    x = mg.tensor(SIXTEEN, requires_grad=True)
    out = F.avg_pool2d(x, 2)
    np.testing.assert_array_equal(out.numpy()[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 1, 4, 4), 0.25))
    # zero padding is counted in the mean, as PyTorch's default
    small = mg.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    np.testing.assert_array_equal(F.avg_pool2d(small, 2, stride=2, padding=1).numpy()[0, 0],
                                  [[0.0, 0.25], [0.5, 0.75]])


# --- errors -------------------------------------------------------------------------------

def test_conv2d_channel_mismatch():
    with pytest.raises(ValueError, match=r"input \(1, 3, 5, 5\) has 3 channels, but weight \(2, 4, 3, 3\) expects 4"):
        F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 4, 3, 3))


def test_conv_transpose2d_channel_mismatch():
    with pytest.raises(ValueError, match=r"conv_transpose2d: input \(1, 3, 5, 5\) has 3 channels.* expects 2"):
        F.conv_transpose2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 4, 3, 3))


def test_conv_dtype_mismatch_names_the_dtypes():
    with pytest.raises(TypeError, match=r"conv2d: .*float32 \(1, 1, 4, 4\) and float64 \(1, 1, 2, 2\)"):
        F.conv2d(mg.zeros(1, 1, 4, 4), mg.zeros(1, 1, 2, 2, dtype=mg.float64))
    with pytest.raises(TypeError, match=r"conv_transpose2d: .*float64 .* and float32"):
        F.conv_transpose2d(mg.zeros(1, 1, 4, 4, dtype=mg.float64), mg.zeros(1, 1, 2, 2))


def test_conv_needs_3d_or_4d_input_and_a_4d_weight():
    for op, weight in (("conv2d", mg.zeros(2, 1, 3, 3)), ("conv_transpose2d", mg.zeros(1, 2, 3, 3))):
        for shape in ((5, 5), (2, 1, 1, 5, 5)):
            with pytest.raises(RuntimeError, match=rf"{op}: expected a 3-D \(C, H, W\) or 4-D .*got shape {re.escape(str(shape))}"):
                getattr(F, op)(mg.zeros(*shape), weight)
    with pytest.raises(ValueError, match=r"expected a 4-D input .*and a 4-D weight, got .*weight \(2, 3, 3\)"):
        F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 3, 3))


def test_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match=r"Conv2d: kernel \(5, 5\) .*larger than the \(padded\) input \(3, 3\)"):
        F.conv2d(mg.zeros(1, 1, 3, 3), mg.zeros(1, 1, 5, 5))
    with pytest.raises(ValueError, match=r"Conv2d: kernel \(3, 3\) with dilation \(2, 2\) is larger"):
        F.conv2d(mg.zeros(1, 1, 4, 4), mg.zeros(1, 1, 3, 3), dilation=2)
    with pytest.raises(ValueError, match=r"AvgPool2d: kernel \(5, 5\) .*larger"):
        F.avg_pool2d(mg.zeros(1, 1, 3, 3), 5)
    with pytest.raises(ValueError, match=r"MaxPool2d: kernel \(4, 4\) .*larger"):
        F.max_pool2d(mg.zeros(1, 1, 3, 3), 4)


def test_pool_padding_larger_than_half_the_kernel():
    with pytest.raises(ValueError, match=r"padding \(2, 2\) must be at most half the kernel size \(2, 2\)"):
        F.max_pool2d(mg.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match=r"padding \(0, 2\) must be at most half"):
        F.avg_pool2d(mg.zeros(1, 1, 4, 4), 3, padding=(0, 2))


def test_conv_transpose2d_padding_and_output_padding_too_large():
    with pytest.raises(ValueError, match=r"padding \(2, 2\) leaves no output for input \(1, 1\)"):
        F.conv_transpose2d(mg.zeros(1, 1, 1, 1), mg.zeros(1, 1, 3, 3), padding=2)
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be smaller than stride or dilation"):
        F.conv_transpose2d(mg.zeros(1, 1, 2, 2), mg.zeros(1, 1, 3, 3), stride=2, output_padding=2)


def test_groups_are_not_supported():
    with pytest.raises(NotImplementedError, match="groups=1 only"):
        F.conv2d(mg.zeros(1, 2, 3, 3), mg.zeros(2, 1, 1, 1), groups=2)


@pytest.mark.parametrize("device", DEVICES)
def test_single_window_convolutions(device):
    """A kernel as large as the image (DCGAN's last D layer, first G layer): one window, whose
    fold is a plain reshape. Gradients of both directions, and the values against a direct sum."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 5, 5))
    check_gradients(lambda a, b: F.conv2d(a, b), x, w, device=device)
    z, wt = rng.standard_normal((2, 4, 1, 1)), rng.standard_normal((4, 3, 5, 5))
    check_gradients(lambda a, b: F.conv_transpose2d(a, b), z, wt, device=device)
    out = F.conv2d(mg.tensor(x, device=device), mg.tensor(w, device=device)).numpy()
    np.testing.assert_allclose(out[:, :, 0, 0], np.einsum("nchw,ochw->no", x, w), rtol=1e-12)


@pytest.mark.parametrize("in_channels", [1, 4])
def test_a_single_window_is_neither_copied_nor_folded_and_gives_the_same_numbers(in_channels):
    """A kernel as large as the unpadded input: conv2d's columns are the channels-last input itself
    (a view), and a transposed convolution of one pixel is its product with no fold, the same bits
    as the fold (zeros, then added into: -0.0 comes out 0.0) and as the convolution it replaces."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 5, 5, 6)).astype(np.float32).transpose(0, 3, 1, 2)  # channels-last memory
    conv2d = conv.Conv2d()
    conv2d.forward(x, rng.standard_normal((2, 6, 5, 5)).astype(np.float32))
    assert conv2d.cols.shape == (3, 150) and np.shares_memory(conv2d.cols, x)
    z = rng.standard_normal((3, in_channels, 1, 1)).astype(np.float32)
    z[0, 0, 0, 0] = 0.0
    w = rng.standard_normal((in_channels, 8, 5, 5)).astype(np.float32)
    w[:, 0] *= -1  # products -0.0 in sample 0 where in_channels is 1
    transposed = conv.ConvTranspose2d()
    out = transposed.forward(z, w).transpose(0, 2, 3, 1)  # channels-last (N, OH, OW, Cout)
    assert transposed.one_pixel
    transposed.one_pixel = False
    np.testing.assert_array_equal(out, transposed.by_fold(z, w))
    if in_channels == 1:  # what stride 1 chose before, its columns being the smaller matrix
        np.testing.assert_array_equal(out, transposed.by_convolution(z, w, (0, 0)))
    assert not np.signbit(out[0][out[0] == 0]).any()


@pytest.mark.parametrize("n, c, size, out_channels", [(60, 112, 14, 224), (4, 3, 9, 5), (1, 16, 33, 8)])
def test_the_weight_gradient_has_the_bits_of_small_transposed_times_the_columns(n, c, size, out_channels):
    """ConvWeightGrad computes W'^T = cols^T @ small (the faster orientation for OpenBLAS): each sum
    is the same, in the same order, as W' = small^T @ cols, bit for bit (a BLAS that summed otherwise
    would change trained numbers; this test would say so), pieces over the pool included."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((n, c, size, size)).astype(np.float32)
    forward = conv.Conv2d()
    out = forward.forward(x, rng.standard_normal((out_channels, c, 4, 4)).astype(np.float32), stride=2, padding=1)
    small = rng.standard_normal(out.shape).astype(np.float32)
    with mg.no_grad():
        got = conv.ConvWeightGrad.apply(mg.tensor(x), mg.tensor(small), stride=(2, 2), padding=(1, 1),
                                        dilation=(1, 1), kernel=(4, 4), cols=forward.cols).numpy()
    cols = forward.cols if forward.cols is not None else forward.columns(x)
    expected = kernels.matmul(conv.pixel_rows(small).T, cols).reshape(out_channels, 4, 4, c).transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(got, expected)


WINDOW_OPS = {
    "conv2d": lambda x, **args: F.conv2d(x, mg.zeros(1, 1, 3, 3), **args),
    "conv_transpose2d": lambda x, **args: F.conv_transpose2d(x, mg.zeros(1, 1, 3, 3), **args),
    "max_pool2d": lambda x, **args: F.max_pool2d(x, 2, **args),
    "avg_pool2d": lambda x, **args: F.avg_pool2d(x, 2, **args),
}


@pytest.mark.parametrize("name", sorted(WINDOW_OPS))
def test_bad_stride_padding_dilation_raise_as_pytorch_naming_the_argument(name):
    """Formerly stride=0 was a ZeroDivisionError (or 'slice step cannot be zero'), padding=-1
    'index can't contain negative values', stride=1.5 "'float' object is not iterable", and
    dilation=0 or a negative padding of conv_transpose2d ran."""
    op, x = WINDOW_OPS[name], mg.zeros(1, 1, 6, 6)
    for args, message in [(dict(stride=0), r"stride should be greater than zero, but got stride=0"),
                          (dict(stride=(1, -1)), r"stride should be greater than zero, but got stride=\(1, -1\)"),
                          (dict(padding=-1), r"padding must not be negative, but got padding=-1")]:
        with pytest.raises(RuntimeError, match=rf"{name}: {message}"):
            op(x, **args)
    for args in (dict(stride=1.5), dict(padding=(1, 1, 1)), dict(stride="2")):
        with pytest.raises(TypeError, match=rf"{name}: {next(iter(args))} must be an int or a pair of ints"):
            op(x, **args)
    assert op(x, stride=np.int64(1)).ndim == 4
    if name != "avg_pool2d":  # avg_pool2d takes no dilation
        with pytest.raises(RuntimeError, match=rf"{name}: dilation should be greater than zero, but got dilation=0"):
            op(x, dilation=0)


def test_a_kernel_of_size_zero_raises_as_pytorch():
    x = mg.zeros(1, 1, 4, 4)
    with pytest.raises(RuntimeError, match=r"conv2d: kernel_size should be greater than zero, .*\(0, 0\)"):
        F.conv2d(x, mg.zeros(1, 1, 0, 0))
    with pytest.raises(RuntimeError, match=r"conv_transpose2d: kernel_size should be greater than zero"):
        F.conv_transpose2d(x, mg.zeros(1, 1, 2, 0))
    with pytest.raises(RuntimeError, match=r"max_pool2d: kernel_size should be greater than zero"):
        F.max_pool2d(x, 0)
    with pytest.raises(RuntimeError, match=r"avg_pool2d: kernel_size should be greater than zero"):
        F.avg_pool2d(x, (2, 0), stride=1)
    with pytest.raises(RuntimeError, match=r"conv_transpose2d: output_padding must not be negative"):
        F.conv_transpose2d(x, mg.zeros(1, 1, 3, 3), output_padding=-1)
# --- adaptive_avg_pool2d --------------------------------------------------------------------------

@gradient_test_for("adaptive_avg_pool2d")
@pytest.mark.parametrize("device", DEVICES)
@given(st.integers(1, 2), st.integers(1, 2), st.integers(1, 5), st.integers(1, 5), st.integers(1, 4),
       st.integers(1, 4), st.data())
def test_adaptive_avg_pool2d_gradient(device, n, c, h, w, out_h, out_w, data):
    x = data.draw(arrays((n, c, h, w)))
    check_gradients(lambda a: F.adaptive_avg_pool2d(a, (out_h, out_w)), x, device=device)


def test_adaptive_avg_pool2d_bins():
    x = mg.arange(5, dtype=mg.float64).reshape(1, 1, 1, 5)
    # 5 -> 3 bins: [0, 2), [1, 4), [3, 5), overlapping as PyTorch's
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, (1, 3)).numpy().ravel(), [0.5, 2.0, 3.5])
    assert F.adaptive_avg_pool2d(mg.zeros(2, 3, 7, 6), 1).shape == (2, 3, 1, 1)
    assert F.adaptive_avg_pool2d(mg.zeros(3, 7, 6), (None, 2)).shape == (3, 7, 2)


# --- pooling with PyTorch's options: ceil_mode, count_include_pad, divisor_override, return_indices ---

@gradient_test_for("AdaptiveMaxPool2d")
@pytest.mark.parametrize("device", DEVICES)
@given(st.integers(1, MAX_SPATIAL), st.integers(1, MAX_SPATIAL), st.data())
def test_adaptive_max_pool2d_gradient(device, h, w, data):
    """Distinct values: no ties for a bin's maximum. Output sizes below, at and above the input's."""
    x = data.draw(distinct_arrays((data.draw(st.integers(1, 2)), 2, h, w)))
    size = (data.draw(st.integers(1, h + 1)), data.draw(st.none() | st.integers(1, w + 1)))
    check_gradients(lambda a: F.adaptive_max_pool2d(a, size), x, device=device)


@given(st.integers(1, 2), st.integers(3, 9), st.data())
def test_pool1d_gradients(n, length, data):
    """max_pool1d and avg_pool1d are max_pool2d and avg_pool2d of a (1, k) window."""
    x = data.draw(distinct_arrays((n, 2, length)))
    kernel = data.draw(st.integers(1, 3))
    options = dict(stride=data.draw(st.none() | st.integers(1, 3)), padding=data.draw(st.integers(0, kernel // 2)),
                   ceil_mode=data.draw(st.booleans()))
    check_gradients(lambda a: F.avg_pool1d(a, kernel, **options), x)
    check_gradients(lambda a: F.max_pool1d(a, kernel, **options), x)


POOL_OPTIONS = [  # kernel, stride, padding: windows that fit, that leave a remainder, that overhang in ceil mode
    (2, 2, 0), (3, 2, 1), (3, 3, 1), (2, 1, 1), ((3, 2), (2, 3), (1, 0)), (3, 2, 0),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kernel, stride, padding", POOL_OPTIONS)
def test_pools_match_pytorch(kernel, stride, padding, dtype):
    """Values, shapes, indices and gradients of max_pool2d and avg_pool2d for every option combination."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).normal(size=(2, 3, 7, 6)).astype(dtype)
    tolerance = 1e-6 if dtype == "float32" else 1e-12
    calls = []
    for ceil_mode in (False, True):
        for count_include_pad in (True, False):
            for divisor_override in (None, 5):
                calls.append(lambda F, a, c=ceil_mode, i=count_include_pad, d=divisor_override:
                             F.avg_pool2d(a, kernel, stride, padding, c, i, d))
        for dilation in (1, 2):
            calls.append(lambda F, a, c=ceil_mode, d=dilation: F.max_pool2d(a, kernel, stride, padding, d, c, True))
    calls.append(lambda F, a: F.max_pool2d(a[0], kernel, stride, padding, ceil_mode=True, return_indices=True))
    calls.append(lambda F, a: F.avg_pool2d(a[0], kernel, stride, padding, ceil_mode=True))
    for call in calls:
        ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        try:
            expected = call(torch.nn.functional, theirs)
        except RuntimeError:  # e.g. a dilated kernel larger than the input: minigrad refuses too
            with pytest.raises(ValueError):
                call(F, ours)
            continue
        out = call(F, ours)
        if isinstance(expected, tuple):
            (out, indices), (expected, expected_indices) = out, expected
            assert indices.dtype == mg.int64
            np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
        assert out.shape == tuple(expected.shape) and out.dtype == ours.dtype
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=tolerance, atol=tolerance)
        seed = np.random.default_rng(1).normal(size=out.shape).astype(dtype)
        out.backward(mg.tensor(seed))
        expected.backward(torch.tensor(seed))
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("size", [(3, 4), 1, (2, None), (5, 6), (7, 6), (4, 4)])
def test_adaptive_max_pool2d_matches_pytorch(size):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).normal(size=(2, 3, 7, 6))
    for batched in (True, False):
        data = x if batched else x[0]
        ours, theirs = mg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        (out, indices), (expected, expected_indices) = (F.adaptive_max_pool2d(ours, size, True),
                                                        torch.nn.functional.adaptive_max_pool2d(theirs, size, True))
        np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
        np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
        seed = np.random.default_rng(3).normal(size=out.shape)
        out.backward(mg.tensor(seed))
        expected.backward(torch.tensor(seed))
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("kernel, stride, padding", [(2, 2, 0), (3, 2, 1), (4, 3, 2)])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool1d_match_pytorch(kernel, stride, padding, ceil_mode):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).normal(size=(2, 3, 9))
    for name, args in [("avg_pool1d", (ceil_mode, False)), ("avg_pool1d", (ceil_mode, True)),
                       ("max_pool1d", (1, ceil_mode, True))]:
        for data in (x, x[0]):
            ours, theirs = mg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
            out = getattr(F, name)(ours, kernel, stride, padding, *args)
            expected = getattr(torch.nn.functional, name)(theirs, kernel, stride, padding, *args)
            if isinstance(out, tuple):
                np.testing.assert_array_equal(out[1].numpy(), expected[1].numpy())
                out, expected = out[0], expected[0]
            np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
            out.sum().backward()
            expected.sum().backward()
            np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_avg_pool2d_of_integers_truncates_as_pytorch():
    """PyTorch divides an integer window sum by the divisor in integer arithmetic (toward zero)."""
    torch = pytest.importorskip("torch")
    x = np.arange(-20, 22).reshape(1, 1, 6, 7) * 3
    for options in [dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), dict(kernel_size=2),
                    dict(kernel_size=3, padding=1, count_include_pad=False), dict(kernel_size=2, divisor_override=3)]:
        out = F.avg_pool2d(mg.tensor(x), **options)
        expected = torch.nn.functional.avg_pool2d(torch.tensor(x), **options)
        assert out.dtype == mg.int64
        np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_pool_argument_errors():
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(mg.zeros(1, 1, 4, 4), 2, divisor_override=0)
    with pytest.raises(RuntimeError, match=r"expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input"):
        F.max_pool2d(mg.zeros(4, 4), 2)
    with pytest.raises(ValueError, match="adaptive_max_pool2d: expected"):
        F.adaptive_max_pool2d(mg.zeros(4, 4), 2)


@pytest.mark.parametrize("call", [lambda F, a: F.max_pool2d(a, 2, ceil_mode=True),
                                  lambda F, a: F.max_pool2d(a, 2, return_indices=True)[0],
                                  lambda F, a: F.avg_pool2d(a, 3, 2, 1, count_include_pad=False),
                                  lambda F, a: F.adaptive_max_pool2d(a, (2, 3))])
def test_pools_of_an_empty_batch_as_pytorch(call):
    torch = pytest.importorskip("torch")
    x = mg.zeros(0, 3, 5, 4, requires_grad=True)
    out = call(F, x)
    assert out.shape == tuple(call(torch.nn.functional, torch.zeros(0, 3, 5, 4)).shape)
    out.sum().backward()
    assert x.grad.shape == x.shape


# --- unbatched input and padding by name, against PyTorch ---------------------------------------

def torch_values_and_gradients(torch, torch_op, op, arrays_in, **options):
    """The output of op (minigrad) and torch_op on float64 copies of arrays_in, and the gradients
    of sum(out * g) for a fixed g with respect to every input, as NumPy arrays: (ours, theirs)."""
    ours = [mg.tensor(a, requires_grad=True) for a in arrays_in]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays_in]
    out, expected = op(*ours, **options), torch_op(*theirs, **options)
    g = np.random.default_rng(1).standard_normal(expected.shape)
    (out * mg.tensor(g)).sum().backward()
    (expected * torch.tensor(g)).sum().backward()
    return ([out.numpy()] + [t.grad.numpy() for t in ours],
            [expected.detach().numpy()] + [t.grad.numpy() for t in theirs])


@pytest.mark.parametrize("op, weight_shape, options", [
    ("conv2d", (4, 3, 3, 2), dict(stride=2, padding=1)),
    ("conv2d", (4, 3, 2, 3), dict(padding="same", dilation=(2, 1))),
    ("conv_transpose2d", (3, 4, 3, 2), dict(stride=2, padding=1, output_padding=1)),
])
def test_unbatched_input_matches_pytorch(op, weight_shape, options):
    """(C, H, W) input is a batch of one, as PyTorch: the result is (C_out, OH, OW)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, weight, bias = rng.standard_normal((3, 5, 6)), rng.standard_normal(weight_shape), rng.standard_normal(4)
    ours, theirs = torch_values_and_gradients(torch, getattr(torch.nn.functional, op), getattr(F, op),
                                              (x, weight, bias), **options)
    assert ours[0].shape == theirs[0].shape and len(ours[0].shape) == 3
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected, rtol=1e-12, atol=1e-12)
    batched = getattr(F, op)(mg.tensor(x[None]), mg.tensor(weight), mg.tensor(bias), **options)
    np.testing.assert_array_equal(ours[0], batched.numpy()[0])


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d"])
def test_unbatched_input_gradient(op):
    rng = np.random.default_rng(2)
    x, weight = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 2, 2, 3))
    check_gradients(lambda a, b: getattr(F, op)(a, b, stride=(1, 2)), x, weight)


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on even kernels
@pytest.mark.parametrize("kernel", [(1, 1), (3, 3), (2, 4), (4, 3)])
@pytest.mark.parametrize("dilation", [1, (2, 1), (1, 3)])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_padding_by_name_matches_pytorch(kernel, dilation, padding):
    """"same" keeps the size, the odd element of an uneven padding at the bottom and right."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, weight, bias = rng.standard_normal((2, 3, 7, 11)), rng.standard_normal((2, 3) + kernel), rng.standard_normal(2)
    ours, theirs = torch_values_and_gradients(torch, torch.nn.functional.conv2d, F.conv2d, (x, weight, bias),
                                              padding=padding, dilation=dilation)
    if padding == "same":
        assert ours[0].shape == (2, 2, 7, 11)
    for mine, expected in zip(ours, theirs):
        assert mine.shape == expected.shape
        np.testing.assert_allclose(mine, expected, rtol=1e-12, atol=1e-12)


def test_same_padding_with_even_kernels_pads_more_after():
    assert conv.same_padding((4, 1), (1, 1)) == [(1, 2), (0, 0)]
    assert conv.same_padding(2, (3, 2)) == [(1, 2), (1, 1)]
    # A 2x2 kernel of a single 1 at its top-left reads each pixel itself: "same" is then the identity.
    x = mg.tensor(np.arange(12.0).reshape(1, 1, 3, 4))
    kernel = mg.tensor(np.array([[[[1.0, 0.0], [0.0, 0.0]]]]))
    np.testing.assert_array_equal(F.conv2d(x, kernel, padding="same").numpy(), x.numpy())


@pytest.mark.parametrize("kernel, dilation", [((2, 3), 1), ((3, 2), (1, 2)), ((1, 2), 2)])
def test_same_padding_gradient(kernel, dilation):
    rng = np.random.default_rng(3)
    x, weight, bias = rng.standard_normal((1, 2, 4, 5)), rng.standard_normal((2, 2) + kernel), rng.standard_normal(2)
    check_gradients(lambda a, b, c: F.conv2d(a, b, c, padding="same", dilation=dilation), x, weight, bias)


def test_padding_by_name_errors_as_pytorch():
    x, weight = mg.zeros(1, 1, 5, 5), mg.zeros(1, 1, 3, 3)
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided convolutions"):
        F.conv2d(x, weight, padding="same", stride=(1, 2))
    with pytest.raises(RuntimeError, match="Invalid padding string: 'full'"):
        F.conv2d(x, weight, padding="full")
    assert F.conv2d(x, weight, padding="valid", stride=2).shape == (1, 1, 2, 2)
    with pytest.raises(TypeError, match="conv_transpose2d: padding must be an int or a pair of ints"):
        F.conv_transpose2d(x, weight, padding="same")
