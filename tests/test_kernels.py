"""minigrad/kernels.py: each kernel gives what the plain NumPy formula in its docstring gives,
in one block and in many blocks over two threads (the blocks are forced small here)."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import minigrad as mg
from minigrad import kernels, parallel
from minigrad.ops import conv
from minigrad.ops.conv import sliding_windows


@pytest.fixture(params=["one block", "many blocks"])
def blocks(request, monkeypatch):
    """Run each test as one inline block, and again as blocks of a few hundred elements on two
    threads (the pool is what differs; the formulas must not)."""
    if request.param == "many blocks":
        monkeypatch.setattr(parallel, "THREADED_MIN", 0)
        monkeypatch.setattr(parallel, "BLOCK", 256)
        monkeypatch.setattr(kernels, "FOLD_ADD_MIN", 4)
        monkeypatch.setattr(kernels, "IM2COL_BLOCK", 64)
        if kernels.COMPILED:
            monkeypatch.setattr(kernels.loops(), "CONV_BLOCK", 64)
        before = mg.get_num_threads()
        with threadpool_limits(limits=None):
            mg.set_num_threads(2)
            yield
            mg.set_num_threads(before)
    else:
        yield


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_relu_is_max_x_0_and_its_mask(blocks):
    x = normal(40, 30)
    out, positive = kernels.relu(x)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    np.testing.assert_array_equal(positive, x > 0)


@pytest.mark.parametrize("slope", [0.0, 0.02, 0.2, -0.5])
def test_leaky_relu_is_x_times_its_slope_map_and_its_backward_the_gradient_times_it(blocks, path, slope):
    x, g = normal(40, 30), normal(40, 30, seed=1)
    slope_map = np.where(x > 0, 1.0, slope)
    np.testing.assert_allclose(kernels.leaky_relu(x, slope), x * slope_map, rtol=1e-15, atol=0)
    np.testing.assert_allclose(kernels.leaky_relu_backward(g, x, slope), g * slope_map, rtol=1e-15, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_relu_and_its_backward_give_the_same_numbers_on_both_paths(monkeypatch, dtype):
    compiled = pytest.importorskip("minigrad.kernels_numba")
    x = normal(3, 50, 7).astype(dtype)[:, ::2]  # not contiguous
    x[0, 0, :3] = [0.0, -0.0, np.nan]
    g = normal(3, 25, 7, seed=1).astype(dtype)
    monkeypatch.setattr(kernels, "COMPILED", False)
    expected = kernels.leaky_relu(x, 0.2), kernels.leaky_relu_backward(g, x, 0.2)
    dense_x = np.ascontiguousarray(x)  # (the compiled backward needs x laid out as the gradient)
    got = compiled.leaky_relu(x, 0.2), compiled.leaky_relu_backward(g, dense_x, 0.2)
    for a, b in zip(got, expected):
        assert a.dtype == dtype and a.shape == x.shape
        np.testing.assert_array_equal(a, b)
    assert compiled.leaky_relu_backward(g, x, 0.2) is None  # x with gaps: the NumPy formula


@pytest.mark.parametrize("layout", ["channels-last", "reversed", "with gaps"])
def test_leaky_relu_keeps_the_layout_of_its_input(blocks, layout):
    """A convolution's output is channels-last memory seen as NCHW: the compiled loop's results are
    laid out as its input (the next convolution reads them without a copy), with the same numbers
    as the NumPy formula; an input whose elements are not one block of memory is copied first.
    Backward's results are laid out as the gradient, in one pass where x is laid out alike."""
    compiled = pytest.importorskip("minigrad.kernels_numba")
    nhwc, g_nhwc = normal(4, 5, 6, 16).astype(np.float32), normal(4, 5, 6, 16, seed=1).astype(np.float32)
    x = {"channels-last": nhwc.transpose(0, 3, 1, 2), "reversed": nhwc.transpose(3, 2, 1, 0),
         "with gaps": nhwc.transpose(0, 3, 1, 2)[:, ::2]}[layout]
    g = {"channels-last": g_nhwc.transpose(0, 3, 1, 2), "reversed": g_nhwc.transpose(3, 2, 1, 0),
         "with gaps": g_nhwc.transpose(0, 3, 1, 2)[:, ::2]}[layout]
    slope_map = np.where(x > 0, np.float32(1), np.float32(0.2))
    out = compiled.leaky_relu(x, 0.2)
    np.testing.assert_array_equal(out, x * slope_map)
    np.testing.assert_array_equal(kernels.leaky_relu_backward(g, x, 0.2), g * slope_map)
    if layout == "with gaps":
        assert out.flags.c_contiguous
    else:
        assert out.strides == x.strides
        assert compiled.leaky_relu_backward(g, x, 0.2).strides == g.strides
        assert compiled.leaky_relu_backward(np.ascontiguousarray(g), x, 0.2) is None  # laid out otherwise


def test_multiply_is_the_elementwise_product(blocks):
    a, b = normal(50, 20), normal(50, 20, seed=1)
    np.testing.assert_array_equal(kernels.multiply(a, b), a * b)
    np.testing.assert_array_equal(kernels.multiply(a, b[:1]), a * b[:1])  # broadcast: one plain product


def test_matmul_is_the_product(blocks):
    a, b = normal(60, 7), normal(7, 9, seed=1)
    np.testing.assert_allclose(kernels.matmul(a, b), a @ b, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_outer_product_is_each_pair_multiplied_bit_for_bit(path, dtype):
    g, x = normal(1, 200).astype(dtype), normal(1, 784, seed=1).astype(dtype)
    got = kernels.matmul(g.T, x)  # a batch-1 weight gradient: g^T x, its operand g.T not contiguous
    assert got.dtype == dtype and got.shape == (200, 784) and got.flags.c_contiguous
    np.testing.assert_array_equal(got, g.T * x)


@pytest.mark.parametrize("channels", [2, 9])  # with numba: NumPy's strided adds, and the compiled loop
@pytest.mark.parametrize("n", [1, 3])  # one sample: blocks of rows; several: blocks of samples
@pytest.mark.parametrize("kernel, stride, dilation", [((3, 3), (1, 1), (1, 1)), ((4, 2), (2, 3), (1, 2))])
def test_fold_adds_each_window_back_where_it_was_read(blocks, path, n, kernel, stride, dilation, channels):
    """fold(windows) = the sum over windows and taps of each element put back at its place."""
    size = (11, 10)
    shape = sliding_windows(np.zeros((n, *size, channels)), kernel, stride, dilation, axis=1).shape
    windows = normal(*shape)
    expected = np.zeros((n, *size, channels))
    for oh in range(shape[1]):
        for ow in range(shape[2]):
            for i in range(kernel[0]):
                for j in range(kernel[1]):
                    expected[:, oh * stride[0] + i * dilation[0], ow * stride[1] + j * dilation[1]] += \
                        windows[:, oh, ow, i, j]
    np.testing.assert_allclose(kernels.fold(windows, size, stride, dilation, axis=1), expected, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("first, count", [((0, 0), (9, 8)), ((1, 2), (6, 5))])  # whole, and cut (a transposed conv)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 5])
def test_the_compiled_fold_gives_numpys_sums_bit_for_bit(blocks, monkeypatch, n, dtype, first, count):
    """Each element's additions come in tap order on both paths: the same float32 sums; the cut
    part only (the adds that land outside it skipped), contiguous."""
    compiled = pytest.importorskip("minigrad.kernels_numba")
    windows = normal(*sliding_windows(np.zeros((n, 9, 8, 12)), (4, 3), (2, 1), (1, 2), axis=1).shape).astype(dtype)
    monkeypatch.setattr(kernels, "COMPILED", False)
    expected = kernels.fold(windows, (9, 8), (2, 1), (1, 2), axis=1)
    got = compiled.fold(windows, (9, 8), (2, 1), (1, 2), first, count)
    assert got.dtype == dtype and got.shape == (n, *count, 12) and got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected[:, first[0]:first[0] + count[0], first[1]:first[1] + count[1]])


def test_fold_returns_the_part_asked_for(path):
    windows = normal(*sliding_windows(np.zeros((2, 9, 8, 12)), (4, 3), (2, 1), (1, 2), axis=1).shape)
    whole = kernels.fold(windows, (9, 8), (2, 1), (1, 2), axis=1)
    np.testing.assert_array_equal(kernels.fold(windows, (9, 8), (2, 1), (1, 2), axis=1, first=(1, 2), count=(6, 5)),
                                  whole[:, 1:7, 2:7])


@pytest.mark.parametrize("n", [1, 3])
def test_im2col_is_the_windows_as_a_matrix(blocks, n):
    windows = sliding_windows(normal(n, 9, 8, 3), (3, 2), (1, 2), (2, 1), axis=1)
    cols = kernels.im2col(windows)
    np.testing.assert_array_equal(cols, windows.reshape(-1, 3 * 2 * 3))


@pytest.mark.parametrize("layout", ["channels-last", "NCHW"])  # x's memory: as a convolution's output, or not
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 3])  # one sample: blocks of window rows; several: blocks of samples
@pytest.mark.parametrize("placed_at, size, first, count", [
    ((1, 1), (11, 10), (0, 0), None),  # a convolution's zero padding of 1, every window
    ((3, 2), (15, 13), (1, 2), (5, 4)),  # placed off-centre, some windows (a transposed convolution's)
    ((0, 0), (9, 8), (0, 0), None)])  # no padding
def test_window_columns_are_the_windows_of_the_zero_padded_input(blocks, path, n, dtype, layout, placed_at, size,
                                                                 first, count):
    """window_columns (with numba: one loop that writes the zeros itself) = the windows of x copied
    into zeros, as a matrix, bit for bit (a copy)."""
    x = normal(n, 9, 8, 3).astype(dtype)
    x_nchw = x.transpose(0, 3, 1, 2) if layout == "channels-last" else np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    kernel, stride, dilation = (3, 2), (1, 2), (2, 1)
    padded = np.zeros((n, *size, 3), dtype=dtype)
    padded[:, placed_at[0]:placed_at[0] + 9, placed_at[1]:placed_at[1] + 8] = x
    windows = sliding_windows(padded, kernel, stride, dilation, axis=1)
    if count is not None:
        windows = windows[:, first[0]:first[0] + count[0], first[1]:first[1] + count[1]]
    got = conv.window_columns(x_nchw, placed_at, size, kernel, stride, dilation, first, count)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, windows.reshape(-1, 3 * 2 * 3))


@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_normalize_columns_and_its_backward_are_the_formulas(blocks, path, dtype, tolerance):
    """out = (rows - mean) / sqrt(var + eps) * w + b per group and column; and dL/drows, dL/dw, dL/db
    of the closed form: the float64 formulas, to the dtype's rounding."""
    rows, grad = normal(2, 300, 5) * 2 + 1, normal(2, 300, 5, seed=1)
    weight, bias, eps = normal(5, seed=2), normal(5, seed=3), 1e-5
    out, centered, mean, var, inv_std = kernels.normalize_columns(*(a.astype(dtype) for a in (rows, weight, bias)), eps)
    mean_ = rows.mean(axis=1, keepdims=True)
    var_ = rows.var(axis=1, keepdims=True)
    x_hat = (rows - mean_) / np.sqrt(var_ + eps)
    close = dict(rtol=tolerance, atol=tolerance)
    for got, want in [(out, x_hat * weight + bias), (centered, rows - mean_), (mean, mean_), (var, var_),
                      (inv_std, 1 / np.sqrt(var_ + eps))]:
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **close)

    dx, dweight, dbias = kernels.columns_backward(grad.astype(dtype), centered, inv_std, weight.astype(dtype), True)
    g = grad * weight
    expected_dx = (g - g.mean(axis=1, keepdims=True) - x_hat * (g * x_hat).mean(axis=1, keepdims=True)) \
        / np.sqrt(var_ + eps)
    for got, want in [(dx, expected_dx), (dweight, (grad * x_hat).sum(axis=1, keepdims=True)),
                      (dbias, grad.sum(axis=1, keepdims=True))]:
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=tolerance * 10, atol=tolerance * 10)
    assert kernels.columns_backward(grad.astype(dtype), centered, inv_std, weight.astype(dtype), False)[0] is None


def test_column_sums_are_the_sums_down_the_rows():
    rows = normal(3, 40, 6)
    np.testing.assert_allclose(kernels.column_sums(rows), rows.sum(axis=1, keepdims=True), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(kernels.column_sums(rows[:1]), rows[:1].sum(axis=1, keepdims=True), rtol=1e-13)


# --- the compiled loops (numba): the switch, and each loop against its NumPy formula ---------------

import subprocess  # noqa: E402
import sys  # noqa: E402

from minigrad.optim import Adam, RMSprop  # noqa: E402


def kernels_in_a_fresh_process(code, **environment):
    """What `code` prints in a new interpreter that imports minigrad with `environment` added."""
    import os
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True,
                          env={**os.environ, **environment}, check=True)
    return done.stdout.split()


def test_minigrad_kernels_numpy_selects_the_numpy_path():
    assert kernels_in_a_fresh_process("import minigrad.kernels as k; print(k.COMPILED, k.adam)",
                                      MINIGRAD_KERNELS="numpy") == ["False", "None"]


def test_without_numba_the_numpy_path_runs_without_a_warning():
    """numba made unimportable: minigrad imports and trains on NumPy, silently (-W error)."""
    code = ("import sys; sys.modules['numba'] = None\n"
            "import minigrad as mg, minigrad.kernels as k\n"
            "p = mg.nn.Parameter(mg.ones(3)); p.grad = mg.ones(3); mg.optim.Adam([p], lr=0.5).step()\n"
            "print(k.COMPILED, round(float(p.numpy()[0]), 5))")
    assert kernels_in_a_fresh_process(code, MINIGRAD_KERNELS="") == ["False", "0.5"]


def test_the_default_path_is_numba_where_it_is_importable():
    pytest.importorskip("numba")
    assert kernels_in_a_fresh_process("import minigrad.kernels as k; print(k.COMPILED, k.adam.__module__)",
                                      MINIGRAD_KERNELS="") == ["True", "minigrad.kernels_numba"]


def test_numba_is_imported_at_the_first_kernel_not_with_minigrad():
    """A process that runs no op (the CLI's list, help and mistakes) does not pay numba's import."""
    pytest.importorskip("numba")
    code = ("import sys, minigrad as mg, minigrad.kernels as k\n"
            "print(k.COMPILED, 'numba' in sys.modules)\n"
            "mg.nn.functional.leaky_relu(mg.ones(3))\n"
            "print(k.COMPILED, 'numba' in sys.modules, k.compiled.__name__)")
    assert kernels_in_a_fresh_process(code, MINIGRAD_KERNELS="") == [
        "True", "False", "True", "True", "minigrad.kernels_numba"]


def test_a_numba_that_does_not_import_leaves_the_numpy_path_without_a_warning(tmp_path):
    """numba installed but failing to import (one built for another NumPy): found, then the first
    kernel turns COMPILED off and the NumPy path runs, as without numba."""
    (tmp_path / "numba").mkdir()
    (tmp_path / "numba" / "__init__.py").write_text("raise ImportError('Numba needs NumPy 1.0 or less')\n")
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
            "import minigrad as mg, minigrad.kernels as k\n"
            "print(k.COMPILED)\n"
            "p = mg.nn.Parameter(mg.ones(3)); p.grad = mg.ones(3); mg.optim.Adam([p], lr=0.5).step()\n"
            "print(k.COMPILED, k.adam, round(float(p.numpy()[0]), 5))")
    assert kernels_in_a_fresh_process(code, MINIGRAD_KERNELS="") == ["True", "False", "None", "0.5"]


@pytest.fixture
def compiled():
    """minigrad/kernels_numba.py (skipped without numba), whichever path MINIGRAD_KERNELS chose."""
    return pytest.importorskip("minigrad.kernels_numba")


def optimizer_arrays(dtype, n=1000, seed=0):
    """A parameter, its gradient and two non-negative state arrays, flat, of `dtype`."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype),
            rng.standard_normal(n).astype(dtype) * 0.1, rng.uniform(0, 1, n).astype(dtype)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [dict(), dict(weight_decay=0.1, maximize=True),
                                     dict(weight_decay=0.2, decoupled_weight_decay=True, maximize=True)],
                         ids=["adam", "decay, maximize", "adamw, maximize"])
def test_adam_is_adam_updates_formula(blocks, compiled, dtype, options):
    """kernels_numba.adam at step 7 gives what Adam.update's array operations give, bit for bit."""
    optimizer = Adam([mg.nn.Parameter(mg.zeros(1))], lr=0.01, betas=(0.8, 0.99), **options)
    group = optimizer.param_groups[0]
    p, g, m, v = optimizer_arrays(dtype)
    expected = [a.copy() for a in (p, g, m, v)]
    if group["maximize"]:
        np.negative(expected[1], out=expected[1])
    optimizer.update(expected[0], expected[1], np.empty_like(p), dict(exp_avg=expected[2], exp_avg_sq=expected[3]),
                     7, group)
    grad = g.copy()
    compiled.adam(p, g, m, v, 7, group["lr"], group["betas"], group["eps"], group["weight_decay"],
                  group["decoupled_weight_decay"], group["maximize"])
    np.testing.assert_array_equal(g, grad)  # only read
    for got, want in zip((p, m, v), (expected[0], expected[2], expected[3])):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parts", [False, True], ids=["one array", "parts"])
def test_adam_with_tiny_gradients_is_still_the_formula_bit_for_bit(compiled, dtype, parts):
    """Gradients whose square times (1 - beta2) is a denormal number, against second moments from 0
    through the smallest that the loop's shortcut (adding nothing) may take, to ordinary ones: the
    shortcut gives Adam.update's numbers, and the elements it may not take are computed as they are."""
    small_grad, large_v = (float(x) for x in compiled._small_terms(np.dtype(dtype)))
    scales = [0.0, small_grad * 0.5, small_grad * 0.999, small_grad, small_grad * 1.01, small_grad * 1e-3,
              np.finfo(dtype).smallest_subnormal, 1e-3, np.nan]
    moments = [0.0, large_v * 0.5, large_v, large_v * 1.01, large_v * 1e6, np.finfo(dtype).smallest_subnormal,
               np.finfo(dtype).tiny, 1e-8, 1.0]
    g = np.array([sign * a for a in scales for _ in moments for sign in (1, -1)], dtype=dtype)
    v = np.array([b for _ in scales for b in moments for _ in (1, -1)], dtype=dtype)
    p, m = np.linspace(-1, 1, g.size).astype(dtype), (np.linspace(-1, 1, g.size) * 1e-3).astype(dtype)
    optimizer = Adam([mg.nn.Parameter(mg.zeros(1))])
    group = optimizer.param_groups[0]
    expected = [a.copy() for a in (p, g, m, v)]
    with np.errstate(invalid="ignore"):
        optimizer.update(expected[0], expected[1], np.empty_like(p), dict(exp_avg=expected[2], exp_avg_sq=expected[3]),
                         3, group)
    half = g.size // 2
    grads = (g[:half], g[half:]) if parts else g
    compiled.adam(p, grads, m, v, 3, group["lr"], group["betas"], group["eps"], 0.0, False, False)
    for got, want in zip((p, m, v), (expected[0], expected[2], expected[3])):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_with_tiny_gradients_is_still_the_formula_bit_for_bit(compiled, dtype, centered):
    """As for Adam: gradients whose square times (1 - alpha) is a denormal number, against square
    averages around the smallest that the loop's shortcut may take."""
    small_grad, large_v = (float(x) for x in compiled._small_terms(np.dtype(dtype)))
    scales = [0.0, small_grad * 0.5, small_grad * 0.999, small_grad, small_grad * 1.01, small_grad * 1e-3,
              np.finfo(dtype).smallest_subnormal, 1e-3, np.nan]
    moments = [0.0, large_v * 0.5, large_v, large_v * 1.01, large_v * 1e6, np.finfo(dtype).smallest_subnormal,
               np.finfo(dtype).tiny, 1e-8, 1.0]
    g = np.array([sign * a for a in scales for _ in moments for sign in (1, -1)], dtype=dtype)
    v = np.array([b for _ in scales for b in moments for _ in (1, -1)], dtype=dtype)
    p = np.linspace(-1, 1, g.size).astype(dtype)
    a, b = np.zeros_like(p), np.zeros_like(p)
    optimizer = RMSprop([mg.nn.Parameter(mg.zeros(1))], centered=centered)
    group = optimizer.param_groups[0]
    expected = [x.copy() for x in (p, g, v, a, b)]
    with np.errstate(invalid="ignore"):
        optimizer.update(expected[0], expected[1], np.empty_like(p),
                         dict(square_avg=expected[2], grad_avg=expected[3], momentum_buffer=expected[4]), 3, group)
        compiled.rmsprop(p, g, v, a, b, group["lr"], group["alpha"], group["eps"], 0.0, 0.0, centered, False)
    for got, want in zip((p, v, a), (expected[0], expected[2], expected[3])):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [dict(), dict(centered=True, momentum=0.8),
                                     dict(weight_decay=0.1, momentum=0.5, maximize=True)],
                         ids=["rmsprop", "centered, momentum", "decay, momentum, maximize"])
def test_rmsprop_is_rmsprop_updates_formula(blocks, compiled, dtype, options):
    optimizer = RMSprop([mg.nn.Parameter(mg.zeros(1))], lr=0.01, alpha=0.9, **options)
    group = optimizer.param_groups[0]
    p, g, a, v = optimizer_arrays(dtype)
    a *= 0.1  # |grad_avg| small against sqrt(square_avg)
    b = optimizer_arrays(dtype, seed=1)[2]
    expected = [x.copy() for x in (p, g, v, a, b)]
    if group["maximize"]:
        np.negative(expected[1], out=expected[1])
    optimizer.update(expected[0], expected[1], np.empty_like(p),
                     dict(square_avg=expected[2], grad_avg=expected[3], momentum_buffer=expected[4]), 7, group)
    compiled.rmsprop(p, g, v, a, b, group["lr"], group["alpha"], group["eps"], group["weight_decay"],
                     group["momentum"], group["centered"], group["maximize"])
    for got, want in zip((p, v, a, b), (expected[0], expected[2], expected[3], expected[4])):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(p, optimizer_arrays(dtype)[0])


@pytest.fixture(params=["numpy", "numba"])
def path(request, monkeypatch):
    """Run the test on each path of the switch: NumPy's array operations, and numba's loops."""
    if request.param == "numba":
        kernels_numba = pytest.importorskip("minigrad.kernels_numba")
        monkeypatch.setattr(kernels, "compiled", kernels_numba)
        monkeypatch.setattr(kernels, "COMPILED", True)
        monkeypatch.setattr(kernels, "window_columns", kernels_numba.im2col)
    else:
        monkeypatch.setattr(kernels, "COMPILED", False)
    return request.param


@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("shape", [(1, 200), (7, 13), (3, 1)])
def test_normalize_rows_and_its_backward_are_the_formulas(path, shape, dtype, tolerance):
    """out = (x - mean) / sqrt(var + eps) * w + b per row; dL/dx = (g - mean(g) - x_hat mean(g x_hat)) / sqrt(var
    + eps) with g = dL/dout * w; the float64 formulas, to the dtype's rounding."""
    rows, grad = normal(*shape) * 3 + 1, normal(*shape, seed=1)
    weight, bias, eps = normal(shape[1], seed=2), normal(shape[1], seed=3), 1e-5
    mean, var = rows.mean(axis=1, keepdims=True), rows.var(axis=1, keepdims=True)
    x_hat = (rows - mean) / np.sqrt(var + eps)
    g = grad * weight
    expected_dx = (g - g.mean(axis=1, keepdims=True) - x_hat * (g * x_hat).mean(axis=1, keepdims=True)) \
        / np.sqrt(var + eps)
    cast = [a.astype(dtype) for a in (rows, grad, weight, bias)]
    out, got_x_hat, inv_std = kernels.normalize_rows(cast[0], cast[2], cast[3], eps)
    dx, dweight, dbias = kernels.normalize_rows_grads(cast[1], got_x_hat, inv_std, cast[2])
    close = dict(rtol=tolerance, atol=tolerance * 10)
    for got, want in [(out, x_hat * weight + bias), (got_x_hat, x_hat), (inv_std, 1 / np.sqrt(var + eps)),
                      (dx, expected_dx), (dweight, (grad * x_hat).sum(axis=0)), (dbias, grad.sum(axis=0))]:
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **close)
    assert kernels.normalize_rows_grads(cast[1], got_x_hat, inv_std, cast[2], need_input=False, need_affine=False) \
        == (None, None, None)


@pytest.mark.parametrize("shape", [(1, 200), (64, 200), (7, 13), (3, 5, 8), (2, 3, 4, 5), (60, 1), (5, 7, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize_rows_sums_weight_and_bias_gradients_as_the_engine_sums_them(path, shape, dtype):
    """LayerNorm's closed form returns dL/dweight and dL/dbias summed over the rows; the engine used to
    sum the full-size products over the leading axes (unbroadcast). The same numbers, bit for bit,
    on both paths and for one column too (which NumPy adds pairwise, not row after row)."""
    grad, x_hat = normal(*shape).astype(dtype), normal(*shape, seed=1).astype(dtype)
    count = shape[-1]
    leading = tuple(range(len(shape) - 1))
    _, dweight, dbias = kernels.normalize_rows_grads(grad.reshape(-1, count), x_hat.reshape(-1, count),
                                                     np.ones((grad.size // count, 1), dtype), np.ones(count, dtype))
    np.testing.assert_array_equal(dweight, (grad * x_hat).sum(axis=leading))
    np.testing.assert_array_equal(dbias, grad.sum(axis=leading))


def test_normalize_rows_takes_rows_that_are_not_contiguous(path):
    rows = normal(6, 10)[::2, ::2]
    out, x_hat, inv_std = kernels.normalize_rows(rows, np.ones(5), np.zeros(5), 0.0)
    np.testing.assert_allclose(out, (rows - rows.mean(axis=1, keepdims=True)) / rows.std(axis=1, keepdims=True),
                               rtol=1e-12, atol=1e-12)


def _awkward(shape, dtype, seed=0):
    """Normal values times 30 (some sigmoids saturate), with 0, -0, NaN and both infinities."""
    x = (normal(*shape, seed=seed) * 30).astype(dtype)
    x.reshape(-1)[:5] = [0.0, -0.0, np.nan, np.inf, -np.inf]
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "with gaps"])
def test_sigmoid_gives_the_numbers_of_its_formula_on_both_paths(path, dtype, layout):
    """max(e, x >= 0) / (1 + e) with e = exp(-|x|): the compiled pass takes NumPy's e, so it matches
    bit for bit, NaN and infinities included; an input with gaps takes the NumPy formula."""
    x = _awkward((30, 41), dtype)
    x = x[:, ::2] if layout == "with gaps" else x
    e = np.exp(-np.abs(x))
    with np.errstate(invalid="ignore"):
        expected = np.maximum(e, x >= 0) / (1 + e)
    got = kernels.sigmoid(x)
    assert got.dtype == dtype and got.shape == x.shape
    np.testing.assert_array_equal(got, expected)
    specials = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 100, -100], dtype=dtype)
    np.testing.assert_array_equal(kernels.sigmoid(specials), [0.5, 0.5, np.nan, 1, 0, 1, np.exp(dtype(-100))])


@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-14), (np.float32, 1e-6)])
@pytest.mark.parametrize("shape", [(1, 1), (64, 1), (7, 300)])
def test_binary_cross_entropy_sum_is_its_formula_on_both_paths(path, shape, dtype, tolerance):
    """total = sum(-(y max(ln p, -100) + (1 - y) max(ln(1 - p), -100))), with the two clamped logs:
    the compiled pass takes libm's logs and sums in float64, so it agrees to the dtype's rounding.
    p = 0 and p = 1 give logs of -100, not -inf; a NaN stays NaN."""
    rng = np.random.default_rng(3)
    p, y = rng.random(shape).astype(dtype), rng.random(shape).astype(dtype)
    p.reshape(-1)[:2] = [0.0, 1.0][:p.size]
    total, log_p, log_1mp = kernels.binary_cross_entropy_sum(p, y)
    with np.errstate(divide="ignore"):
        want_log_p, want_log_1mp = np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)
    want = (-(y.astype(np.float64) * want_log_p + (1 - y.astype(np.float64)) * want_log_1mp)).sum()
    assert type(total) is np.dtype(dtype).type and log_p.dtype == dtype and log_1mp.dtype == dtype
    np.testing.assert_allclose(log_p, want_log_p, rtol=tolerance, atol=0)
    np.testing.assert_allclose(log_1mp, want_log_1mp, rtol=tolerance, atol=0)
    np.testing.assert_allclose(total, want, rtol=tolerance * 10, atol=0)
    assert log_p.reshape(-1)[0] == -100 and (p.size == 1 or log_1mp.reshape(-1)[1] == -100)
    p.reshape(-1)[-1] = np.nan
    assert np.isnan(kernels.binary_cross_entropy_sum(p, y)[0])
