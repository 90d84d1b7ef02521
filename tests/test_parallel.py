"""minigrad/parallel.py: the blocks, the pool, the thread count; and that results do not depend on it.

The last part runs the ops that use the pool (optimisers, norms, activations, conv) at 1 and at 2
threads and asserts bit-identical results: the blocks never depend on the thread count.
"""

import os
import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import minigrad as mg
from minigrad import kernels, parallel
from minigrad.ops import conv


def test_blocks_cover_the_range_once_in_order():
    assert parallel.blocks(10, block=4) == [(0, 4), (4, 8), (8, 10)]
    assert parallel.blocks(8, block=4) == [(0, 4), (4, 8)]
    assert parallel.blocks(0, block=4) == []


@pytest.mark.parametrize("count", [1, 2, 3])
def test_for_blocks_returns_results_in_block_order_whatever_the_thread_count(threads, count):
    threads(count)
    results = parallel.for_blocks(10_000, lambda start, stop: (start, stop), block=1000)
    assert results == parallel.blocks(10_000, block=1000)


def test_each_block_runs_once_and_they_spread_over_threads(threads):
    threads(2)
    seen, names = [], set()
    lock = threading.Lock()

    def record(start, stop):
        with lock:
            seen.append(start)
            names.add(threading.current_thread().name)
        np.sqrt(np.ones(200_000))  # long enough that the pool's thread gets a block too
    parallel.for_blocks(64, record, block=1)
    assert sorted(seen) == list(range(64))
    assert threading.current_thread().name in names


def test_one_block_runs_inline_on_the_calling_thread(threads):
    threads(2)
    names = parallel.for_blocks(100, lambda start, stop: threading.current_thread().name)
    assert names == [threading.current_thread().name]


def test_a_nested_call_runs_inline_instead_of_waiting_for_the_busy_pool(threads):
    threads(2)
    inner = parallel.for_blocks(8, lambda a, b: parallel.for_blocks(4, lambda c, d: d - c, block=1), block=1)
    assert inner == [[1, 1, 1, 1]] * 8


def test_an_error_in_a_block_reaches_the_caller(threads):
    threads(2)

    def fail_on_5(start, stop):
        if start == 5:
            raise KeyError("block 5")
    with pytest.raises(KeyError, match="block 5"):
        parallel.for_blocks(10, fail_on_5, block=1)
    assert parallel.for_blocks(4, lambda a, b: a, block=1) == [0, 1, 2, 3]  # the pool still works


def test_set_num_threads_checks_its_argument_and_get_num_threads_reports_it(threads):
    threads(3)
    assert mg.get_num_threads() == 3
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="positive whole number"):
            mg.set_num_threads(bad)
    assert mg.get_num_threads() == 3


def test_the_default_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", "3")
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert parallel._default_num_threads() == 3
    monkeypatch.delenv("MINIGRAD_NUM_THREADS")
    assert parallel._default_num_threads() == 5
    monkeypatch.setenv("OMP_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="OMP_NUM_THREADS must be a whole number"):
        parallel._default_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert parallel._default_num_threads() >= 1


# --- the same results at 1 and at 2 threads ---------------------------------------------------

def _train(optimizer_class, steps=3, **options):
    """A few optimiser steps on 300 K parameters in three tensors (many blocks, blocks straddling
    parameters); returns the final values."""
    rng = np.random.default_rng(0)
    params = [mg.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
              for shape in ((300, 500), (7,), (150_000,))]
    optimizer = optimizer_class(params, **options)
    for _ in range(steps):
        for p in params:
            p.grad = mg.tensor(rng.standard_normal(p.shape).astype(np.float32))
        optimizer.step()
    return [p.array.copy() for p in params]


OPTIMIZERS = [
    (mg.optim.Adam, dict(lr=1e-2, betas=(0.5, 0.999), weight_decay=0.1)),
    (mg.optim.RMSprop, dict(lr=1e-2, momentum=0.9, centered=True, weight_decay=0.1)),
    (mg.optim.RMSprop, dict(lr=1e-2)),
    (mg.optim.SGD, dict(lr=1e-2, momentum=0.9, nesterov=True)),
]


@pytest.mark.parametrize("optimizer_class, options", OPTIMIZERS, ids=lambda v: getattr(v, "__name__", ""))
def test_optimizers_give_identical_results_at_1_and_2_threads(threads, optimizer_class, options):
    threads(1)
    one = _train(optimizer_class, **options)
    threads(2)
    two = _train(optimizer_class, **options)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer_class, options", OPTIMIZERS, ids=lambda v: getattr(v, "__name__", ""))
def test_the_blocked_update_equals_one_update_over_the_whole_buffers(threads, monkeypatch, optimizer_class,
                                                                    options):
    """update() on each block gives exactly what it gives on the whole flat buffers at once."""
    threads(2)
    blocked = _train(optimizer_class, **options)
    monkeypatch.setattr(parallel, "BLOCK", 10**9)  # one block: the whole group in one update
    whole_buffers = _train(optimizer_class, **options)
    for a, b in zip(blocked, whole_buffers):
        np.testing.assert_array_equal(a, b)


def _ops_results():
    """Forward and backward of the ops that use the pool, on arrays of many blocks."""
    mg.manual_seed(0)
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.standard_normal((8, 64, 24, 24)).astype(np.float32), requires_grad=True)
    # channels-last memory, as conv outputs are
    x_nhwc = mg.from_numpy(rng.standard_normal((8, 24, 24, 64)).astype(np.float32).transpose(0, 3, 1, 2))
    x_nhwc.requires_grad_()
    weight = mg.tensor(rng.standard_normal(64).astype(np.float32), requires_grad=True)
    bias = mg.tensor(rng.standard_normal(64).astype(np.float32), requires_grad=True)
    ln_weight = mg.tensor(rng.standard_normal(24).astype(np.float32), requires_grad=True)
    kernel = mg.tensor(rng.standard_normal((32, 64, 4, 4)).astype(np.float32) * 0.05, requires_grad=True)
    rows = mg.tensor(rng.standard_normal((96, 1024)).astype(np.float32), requires_grad=True)
    matrix = mg.tensor(rng.standard_normal((1024, 768)).astype(np.float32) * 0.05, requires_grad=True)
    outputs = [  # the products: 75 M multiply-adds, cut into pieces of rows or of columns
        rows @ matrix, mg.nn.functional.linear(rows, matrix.t()), matrix.t() @ rows.t(),
        mg.nn.functional.batch_norm(x, mg.zeros(64), mg.ones(64), weight, bias, training=True),
        mg.nn.functional.batch_norm(x_nhwc, None, None, weight, bias, training=True),
        mg.nn.functional.layer_norm(x, (24,), ln_weight, ln_weight * 0.5),
        mg.nn.functional.instance_norm(x_nhwc[:4], weight=weight, bias=bias),  # 2 blocks of rows
        mg.nn.functional.leaky_relu(x_nhwc, 0.2), mg.relu(x), mg.sigmoid(x_nhwc), mg.tanh(x),
        mg.nn.functional.conv2d(x_nhwc, kernel, stride=2, padding=1),
        mg.nn.functional.conv_transpose2d(x_nhwc, kernel.transpose(0, 1), stride=2, padding=1),
    ]
    results = []
    for out in outputs:
        upstream = mg.tensor(rng.standard_normal(out.shape).astype(np.float32))
        for t in (x, x_nhwc, weight, bias, ln_weight, kernel, rows, matrix):
            t.grad = None
        (out * upstream).sum().backward()
        results.append(out.array.copy())
        results += [t.grad.array.copy() for t in (x, x_nhwc, weight, bias, ln_weight, kernel, rows, matrix)
                    if t.grad is not None]
    return results


def test_norms_activations_and_conv_give_identical_results_at_1_and_2_threads(threads):
    threads(1)
    one = _ops_results()
    threads(2)
    two = _ops_results()
    assert len(one) == len(two)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def _one_sample_window_ops_results():
    """Forward and backward of the convolutions and pools on one sample (the pix2pix, CycleGAN
    batch): strides 1 and 2, dilation 2, an odd-sized image."""
    rng = np.random.default_rng(2)
    x = mg.tensor(rng.standard_normal((1, 8, 19, 17)).astype(np.float32), requires_grad=True)
    kernel = mg.tensor(rng.standard_normal((6, 8, 3, 3)).astype(np.float32), requires_grad=True)
    big_kernel = mg.tensor(rng.standard_normal((8, 6, 4, 4)).astype(np.float32), requires_grad=True)
    F = mg.nn.functional
    outputs = [
        F.conv2d(x, kernel, padding=1), F.conv2d(x, kernel, stride=2, padding=2, dilation=2),
        F.conv_transpose2d(x, big_kernel, stride=2, padding=1),
        F.max_pool2d(x, 3, stride=2, padding=1), F.avg_pool2d(x, 3, stride=1, padding=1),
    ]
    results = []
    for out in outputs:
        for t in (x, kernel, big_kernel):
            t.grad = None
        (out * mg.tensor(rng.standard_normal(out.shape).astype(np.float32))).sum().backward()
        results.append(out.array.copy())
        results += [t.grad.array.copy() for t in (x, kernel, big_kernel) if t.grad is not None]
    return results


def test_convolutions_and_pools_of_one_sample_give_identical_results_at_1_and_2_threads(threads, monkeypatch):
    """One sample: fold and im2col cut the image into blocks of rows (small blocks here, so that
    this small image makes several of them)."""
    monkeypatch.setattr(kernels, "FOLD_ADD_MIN", 16)
    monkeypatch.setattr(kernels, "IM2COL_BLOCK", 500)
    threads(1)
    one = _one_sample_window_ops_results()
    threads(2)
    runs, run = [], parallel._run
    monkeypatch.setattr(parallel, "_run", lambda parts, fn: runs.append(len(parts)) or run(parts, fn))
    two = _one_sample_window_ops_results()
    assert runs and max(runs) > 2  # the rows did go to the pool in blocks
    assert len(one) == len(two) == 13
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_a_gradient_of_the_wrong_size_is_refused_by_the_blocked_step():
    p = mg.zeros(4, requires_grad=True)
    optimizer = mg.optim.Adam([p])
    p.grad = mg.ones(5)
    with pytest.raises(RuntimeError, match=r"shape \(4,\) has a .grad of shape \(5,\)"):
        optimizer.step()


def test_work_below_the_threaded_size_runs_inline(threads, monkeypatch):
    """Waking a helper thread costs more than a small update (the book's batch-1 Adam)."""
    threads(2)
    monkeypatch.setattr(parallel, "THREADED_MIN", 1000)
    names = set()
    parallel.for_blocks(999, lambda start, stop: names.add(threading.current_thread().name), block=10)
    assert names == {threading.current_thread().name}


# --- matrix products over the pool ----------------------------------------------------------

@pytest.mark.parametrize("m, k, n", [(600, 70, 50), (50, 70, 600), (64, 64, 64), (1, 500, 9000), (33, 17, 5)])
def test_the_pieces_of_a_product_add_up_to_the_product(threads, monkeypatch, m, k, n):
    """Cut by rows (tall), by columns (wide), not at all (small); the same values as one BLAS call."""
    threads(2)
    monkeypatch.setattr(parallel, "MATMUL_BLOCK", 10_000)
    pieces = []
    run = parallel._run
    monkeypatch.setattr(parallel, "_run", lambda parts, fn: pieces.append(parts) or run(parts, fn))
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
    out = parallel.matmul(a, b)
    assert out.shape == (m, n) and out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)
    cut = m * k * n // parallel.MATMUL_BLOCK >= 2
    assert len(pieces) == cut
    if cut:
        assert 2 <= len(pieces[0]) <= parallel.MATMUL_PIECES
        whole, parts = parallel._cut(a, b, parallel.MATMUL_PIECES)
        whole[...] = 0
        for _, _, piece in parts:
            piece += 1
        assert (whole == 1).all()  # the pieces cover the product, each element once


def test_a_product_of_a_transposed_operand_is_cut_the_same_way(threads, monkeypatch):
    threads(2)
    monkeypatch.setattr(parallel, "MATMUL_BLOCK", 10_000)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((70, 300), dtype=np.float32), rng.standard_normal((400, 70), dtype=np.float32)
    np.testing.assert_allclose(parallel.matmul(a.T, b.T), (b @ a).T, rtol=1e-4, atol=1e-4)


def test_what_is_not_two_2d_arrays_is_one_plain_product(threads, monkeypatch):
    threads(2)
    monkeypatch.setattr(parallel, "MATMUL_BLOCK", 1)
    monkeypatch.setattr(parallel, "_run", lambda parts, fn: pytest.fail("cut a product that must stay whole"))
    rng = np.random.default_rng(0)
    batched, vector = rng.standard_normal((3, 40, 50)), rng.standard_normal(50)
    np.testing.assert_array_equal(parallel.matmul(batched, vector), batched @ vector)
    flipped = batched.transpose(0, 2, 1)
    np.testing.assert_array_equal(parallel.matmul(vector, flipped), vector @ flipped)
    with pytest.raises(ValueError):
        parallel.matmul(rng.standard_normal((4, 5)), rng.standard_normal((6, 7)))


@pytest.mark.parametrize("big", [False, True])
def test_a_broadcast_operand_is_copied_for_blas(threads, monkeypatch, big):
    """A zero stride (the gradient of a mean, expanded) makes NumPy multiply without BLAS, about ten
    times slower: the product gets a copy instead, and so BLAS's numbers, in pieces or whole."""
    threads(2)
    if big:
        monkeypatch.setattr(parallel, "MATMUL_BLOCK", 10_000)
    rng = np.random.default_rng(0)
    cols = rng.standard_normal((60, 500), dtype=np.float32)
    mean_grad = np.broadcast_to(np.float32(1 / 60), (60, 1))
    row = np.broadcast_to(rng.standard_normal(500, dtype=np.float32), (60, 500))
    seen = []
    matmul = np.matmul
    monkeypatch.setattr(np, "matmul", lambda a, b, **kw: seen.append((a.strides, b.strides)) or matmul(a, b, **kw))
    for a, b in [(cols.T, mean_grad), (row, cols.T), (mean_grad.T, row)]:
        expected = a.astype(np.float64) @ b
        np.testing.assert_allclose(parallel.matmul(a, b), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(parallel.matmuls((a, b))[0], expected, rtol=1e-5, atol=1e-6)
    assert len(seen) > 0 if big else seen == []  # the pieces of a cut product, by np.matmul
    assert all(0 not in strides for pair in seen for strides in pair)
    flipped, batch = cols.T, np.broadcast_to(cols, (3, 60, 500))
    assert parallel._for_blas(flipped) is flipped  # (a transposed operand BLAS takes as it is)
    assert parallel._for_blas(batch) is batch  # a broadcast batch axis: NumPy loops over it anyway


def test_set_num_threads_holds_numpys_blas_to_one_thread(threads):
    """The pool spreads the products; BLAS's own threads would only compete with it."""
    threads(2)
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert blas and all(lib["num_threads"] == 1 for lib in blas)


def test_an_outer_product_is_a_broadcast_multiply_with_the_same_values(threads):
    threads(2)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((300, 1), dtype=np.float32), rng.standard_normal((1, 500), dtype=np.float32)
    np.testing.assert_array_equal(parallel.matmul(a, b), a @ b)  # one product per element: exact


# --- blocks of rows, and sums of blocks ------------------------------------------------------

def test_for_rows_gives_blocks_of_whole_rows_covering_them_once(threads, monkeypatch):
    threads(2)
    monkeypatch.setattr(parallel, "BLOCK", 100)
    array = np.zeros((10, 3, 11))                           # 33 elements a row: 3 rows a block
    parts = parallel.for_rows(array, lambda rows: rows)
    assert parts == [slice(0, 3), slice(3, 6), slice(6, 9), slice(9, 10)]
    big_rows = np.zeros((3, 500))                           # a row over BLOCK: one row a block
    assert parallel.for_rows(big_rows, lambda rows: rows) == [slice(0, 1), slice(1, 2), slice(2, 3)]
    assert parallel.for_rows(np.zeros((0, 4)), lambda rows: rows) == [slice(0, 0)]
    assert parallel.for_rows(np.float32(3), lambda rows: rows) == [...]  # a 0-d array: whole


def test_for_rows_of_another_axis_gives_blocks_of_its_indices(threads, monkeypatch):
    """axis=1: the rows are the indices of the second axis (the image rows of an NHWC batch),
    each block taking them across the whole first axis; `block` sets the elements a block."""
    threads(2)
    monkeypatch.setattr(parallel, "BLOCK", 100)
    array = np.zeros((2, 10, 11))                           # 22 elements a row of axis 1: 4 rows a block
    assert parallel.for_rows(array, lambda rows: rows, axis=1) == [slice(0, 4), slice(4, 8), slice(8, 10)]
    assert parallel.for_rows(array, lambda rows: rows, axis=1, block=50) == [
        slice(0, 2), slice(2, 4), slice(4, 6), slice(6, 8), slice(8, 10)]
    assert parallel.for_rows(array, lambda rows: rows, block=1000) == [slice(0, 2)]  # axis 0, 110 a row
    counts = np.zeros((2, 10, 11))

    def add_one(rows):
        counts[:, rows] += 1
    parallel.spread_rows(array, add_one, axis=1)
    assert (counts == 1).all()                              # every element once


def test_add_in_order_adds_the_blocks_left_to_right():
    """float32 addition is not associative: the order is what makes a total reproducible."""
    parts = [np.float32([1e8]), np.float32([1.0]), np.float32([-1e8]), np.float32([1.0])]
    assert parallel.add_in_order(parts)[0] == ((np.float32(1e8) + 1) - np.float32(1e8)) + 1 == 1.0
    assert parts[0][0] == 1e8  # the first part is not modified


def test_matmuls_sends_the_pieces_of_all_its_products_to_the_pool_at_once(threads, monkeypatch):
    """A backward pass's two products: one pool run for both, so every thread has work."""
    threads(2)
    monkeypatch.setattr(parallel, "MATMUL_BLOCK", 10_000)
    runs = []
    run = parallel._run
    monkeypatch.setattr(parallel, "_run", lambda parts, fn: runs.append(len(parts)) or run(parts, fn))
    rng = np.random.default_rng(0)
    grad, weight, x = (rng.standard_normal(shape, dtype=np.float32) for shape in ((64, 96), (96, 80), (64, 80)))
    dx, nothing, dweight = parallel.matmuls((grad, weight), None, (grad.T, x))
    half = parallel.MATMUL_PIECES // 2  # each product gets half the pieces
    expected = len(parallel._cut(grad, weight, half)[1]) + len(parallel._cut(grad.T, x, half)[1])
    assert nothing is None and runs == [expected] and expected > half  # both products' pieces, one run
    np.testing.assert_array_equal(dx, grad @ weight)
    np.testing.assert_array_equal(dweight, grad.T @ x)
    runs.clear()
    small = parallel.matmuls((grad[:1], weight), (grad[:1].T, x[:1]))  # batch 1: whole, here
    assert runs == [] and small[0].shape == (1, 80) and small[1].shape == (96, 80)


def test_spread_rows_takes_its_own_threshold(threads, monkeypatch):
    """A compiled loop that costs more an element than a NumPy pass (im2col) goes to the pool
    from fewer elements: `least`, instead of THREADED_MIN."""
    monkeypatch.setattr(parallel, "BLOCK", 100)
    array = np.zeros((10, 33))
    calls = []
    threads(2)
    monkeypatch.setattr(parallel, "THREADED_MIN", array.size + 1)
    parallel.spread_rows(array, calls.append, least=array.size)
    assert len(calls) == 4
    calls.clear()
    parallel.spread_rows(array, calls.append, least=array.size + 1)
    assert calls == [slice(0, 10)]
    assert len(parallel.for_rows(array, lambda rows: rows, least=0)) == 4


def test_a_one_channel_im2col_goes_to_the_pool_from_a_quarter_of_the_elements(threads, monkeypatch):
    """An MNIST critic's first layer: 188 K window elements of one channel, below THREADED_MIN."""
    if not kernels.COMPILED:
        pytest.skip("the compiled loops are off (MINIGRAD_KERNELS=numpy)")
    monkeypatch.setattr(parallel, "THREADED_MIN", 1024 * 1024)  # (the fixture lowers it to 0)
    x = np.random.default_rng(0).standard_normal((60, 1, 28, 28), dtype=np.float32)
    threads(1)
    one = conv.window_columns(x, (1, 1), (30, 30), (4, 4), (2, 2), (1, 1))
    threads(2)
    runs, run = [], parallel._run
    monkeypatch.setattr(parallel, "_run", lambda parts, fn: runs.append(len(parts)) or run(parts, fn))
    two = conv.window_columns(x, (1, 1), (30, 30), (4, 4), (2, 2), (1, 1))
    assert one.size < parallel.THREADED_MIN and runs == [2]
    np.testing.assert_array_equal(one, two)
    runs.clear()
    many = np.random.default_rng(1).standard_normal((4, 16, 28, 28), dtype=np.float32)  # 200 K elements
    conv.window_columns(many, (1, 1), (30, 30), (4, 4), (2, 2), (1, 1))
    assert runs == []  # many channels: a quick copy an element, not worth waking a thread


def test_spread_rows_makes_one_call_when_it_would_run_on_one_thread(threads, monkeypatch):
    """Exact work (a copy, elementwise arithmetic) is cut into blocks only to use more threads."""
    monkeypatch.setattr(parallel, "BLOCK", 100)
    array = np.zeros((10, 33))
    calls = []
    threads(1)
    parallel.spread_rows(array, calls.append)
    assert calls == [slice(0, 10)]
    threads(2)
    calls.clear()
    parallel.spread_rows(array, calls.append)
    assert sorted(calls, key=lambda rows: rows.start) == [slice(0, 3), slice(3, 6), slice(6, 9), slice(9, 10)]
    monkeypatch.setattr(parallel, "THREADED_MIN", array.size + 1)
    calls.clear()
    parallel.spread_rows(array, calls.append)
    assert calls == [slice(0, 10)]
    calls.clear()
    parallel.spread_rows(array, calls.append, axis=1)  # all of axis 1's indices, in one call
    assert calls == [slice(0, 33)]


def _cut_product_in_child(queue):
    a = np.ones((256, 256), dtype=np.float32)
    queue.put(float(parallel.matmul(a, a)[0, 0]))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_a_forked_child_makes_its_own_pool_instead_of_waiting_on_the_parents(threads, monkeypatch):
    import multiprocessing
    threads(2)
    monkeypatch.setattr(parallel, "MATMUL_BLOCK", 10_000)
    a = np.ones((256, 256), dtype=np.float32)
    parallel.matmul(a, a)  # the parent's pool now exists, with a thread the child will not have
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_cut_product_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung on the parent's pool")
    assert child.exitcode == 0 and queue.get(timeout=5) == 256.0


class _NotNumPy(np.ndarray):
    """Stands in for a CuPy array: any array whose type is not NumPy's own."""


def test_arrays_that_are_not_numpys_are_one_whole_call(threads, monkeypatch):
    threads(2)
    monkeypatch.setattr(parallel, "MATMUL_BLOCK", 1)
    monkeypatch.setattr(parallel, "THREADED_MIN", 0)
    monkeypatch.setattr(parallel, "BLOCK", 4)
    a = np.ones((40, 30), dtype=np.float32).view(_NotNumPy)
    monkeypatch.setattr(parallel, "_run", lambda parts, fn: pytest.fail("cut work on a non-NumPy array"))
    np.testing.assert_array_equal(parallel.matmul(a, a.T), np.full((40, 40), 30.0))
    assert parallel.for_rows(a, lambda rows: rows) == [slice(0, 40)]
    assert parallel.for_rows(a, lambda rows: rows, axis=1, block=4) == [slice(0, 30)]
    calls = []
    parallel.spread_rows(a, calls.append)
    parallel.spread_rows(a, calls.append, axis=1)
    assert calls == [slice(0, 40), slice(0, 30)]


def test_together_runs_large_independent_work_at_once_and_small_work_here(threads):
    """Two large gradients go to the pool together (each on its own thread, its own nested work
    inline there), and come back in order; small ones run here, one after the other; an error in
    one reaches the caller."""
    threads(2)
    names = []

    def call(value):
        names.append((threading.current_thread().name, getattr(parallel._inside, "active", False)))
        time.sleep(0.1)  # long enough that each thread claims one
        return value

    assert parallel.together(parallel.MATMUL_BLOCK, lambda: call(1), lambda: call(2)) == [1, 2]
    assert len({name for name, _ in names}) == 2 and all(inside for _, inside in names)
    names.clear()
    assert parallel.together(parallel.MATMUL_BLOCK - 1, lambda: call(3), lambda: call(4)) == [3, 4]
    assert {name for name, _ in names} == {threading.current_thread().name}

    def fail():
        raise ValueError("in a gradient")
    with pytest.raises(ValueError, match="in a gradient"):
        parallel.together(parallel.MATMUL_BLOCK, lambda: call(5), fail)


# --- Laters: a gradient computed on another core while the backward pass goes on -------------------

def test_in_a_pass_that_takes_laters_together_runs_the_first_call_here_and_hands_on_the_others(threads):
    threads(2)
    ran_on = {}
    second_started = threading.Event()

    def first():
        ran_on["first"] = threading.current_thread().name
        assert second_started.wait(5)  # the second call runs meanwhile, on the pool
        return 1

    def second():
        second_started.set()
        ran_on["second"] = (threading.current_thread().name, parallel._inside.active)
        return 2

    with parallel.later_results(True):
        one, two = parallel.together(parallel.LATER_MIN, first, second)
    assert one == 1 and type(two) is parallel.Later and two.result() == 2
    assert ran_on["first"] == threading.current_thread().name
    assert ran_on["second"][0] != ran_on["first"] and ran_on["second"][1]  # nested work runs inline there
    with parallel.later_results(False):  # as before: the results themselves
        assert parallel.together(parallel.MATMUL_BLOCK, lambda: 3, lambda: 4) == [3, 4]
    with parallel.later_results(True):  # small work, or one call: here, at once
        assert parallel.together(parallel.LATER_MIN - 1, lambda: 5, lambda: 6) == [5, 6]
        assert parallel.together(parallel.LATER_MIN, None, lambda: 7) == [None, 7]


def test_a_later_that_no_thread_has_begun_is_computed_by_whoever_asks_and_an_error_reaches_them():
    here = threading.current_thread().name
    assert parallel.Later(lambda: threading.current_thread().name).result() == here

    def fail():
        raise ValueError("in a gradient")
    failing = parallel.Later(fail)
    with pytest.raises(ValueError, match="in a gradient"):
        failing.result()
    calls = []
    dropped = parallel.Later(lambda: calls.append(1))
    dropped.cancel()
    dropped.compute_on_the_pool()  # a pool thread that comes to it afterwards does nothing
    assert calls == []


def test_blocks_do_not_wait_for_a_helper_busy_with_a_later(threads):
    """The pool's one helper computes a Later; work spread over the pool meanwhile is done by the
    calling thread alone, which does not wait for the helper to come to it."""
    threads(2)
    release, started, finished = threading.Event(), threading.Event(), []
    busy = parallel.Later(lambda: (started.set(), release.wait(5), finished.append(1)))
    parallel._get_pool().submit(busy.compute_on_the_pool)
    assert started.wait(5)
    names = parallel.for_blocks(6, lambda start, stop: threading.current_thread().name, block=1)
    assert not finished and names == [threading.current_thread().name] * 6
    release.set()
    busy.result()
    assert finished


def _two_layer_net_with_everything():
    """Linear and conv layers, a weight used twice (two gradients add up), a hook on a weight,
    and a leaf input that wants its gradient too."""
    mg.manual_seed(3)
    conv_layer, linear = mg.nn.Conv2d(2, 4, 3), mg.nn.Linear(4 * 6 * 6, 20)
    shared = mg.nn.Linear(20, 20)
    hooked = mg.nn.Linear(20, 3)
    hooked.weight.register_hook(lambda grad: grad * 2)
    x = mg.randn(5, 2, 8, 8, requires_grad=True)

    def loss():
        h = linear(conv_layer(x).relu().flatten(1)).tanh()
        return hooked(shared(shared(h).relu())).square().sum()
    parameters = [x, *conv_layer.parameters(), *linear.parameters(), *shared.parameters(), *hooked.parameters()]
    return loss, parameters


def test_gradients_handed_on_as_laters_are_those_computed_at_once(threads, monkeypatch):
    """Every large enough dL/dW is a Later here (the thresholds lowered); the gradients after two
    backward passes (the second adding into .grad) are bit-identical to one thread's, and no op's
    saved arrays are freed while a Later still reads them."""
    made = []
    later_init = parallel.Later.__init__
    monkeypatch.setattr(parallel.Later, "__init__", lambda self, call: made.append(1) or later_init(self, call))
    monkeypatch.setattr(parallel, "LATER_MIN", 1)
    results = {}
    for count in (1, 2):
        threads(count)
        loss, parameters = _two_layer_net_with_everything()
        loss().backward()
        loss().backward()
        results[count] = [p.grad.numpy().copy() for p in parameters]
    assert len(made) >= 8  # conv, linear, shared twice, hooked: in each of two passes
    for one, two in zip(*results.values()):
        assert np.array_equal(one, two)


def test_backward_with_inputs_takes_laters_and_gives_the_gradients_of_one_thread(threads, monkeypatch):
    made = []
    later_init = parallel.Later.__init__
    monkeypatch.setattr(parallel.Later, "__init__", lambda self, call: made.append(1) or later_init(self, call))
    monkeypatch.setattr(parallel, "LATER_MIN", 1)
    results = {}
    for count in (1, 2):
        threads(count)
        loss, parameters = _two_layer_net_with_everything()
        loss().backward(inputs=parameters[1:6])  # the conv's and the first linear's, and shared's weight
        loss().backward(inputs=parameters[1:6])
        results[count] = [None if p.grad is None else p.grad.numpy().copy() for p in parameters]
    assert made
    for one, two in zip(*results.values()):
        assert (one is None and two is None) or np.array_equal(one, two)
    assert [g is not None for g in results[2]] == [False] + [True] * 5 + [False] * 3


def test_no_laters_where_the_pass_is_recorded_or_returns_its_gradients(threads, monkeypatch):
    threads(2)
    monkeypatch.setattr(parallel, "LATER_MIN", 1)
    monkeypatch.setattr(parallel.Later, "__init__", lambda self, call: pytest.fail("a Later was made"))
    loss, parameters = _two_layer_net_with_everything()
    mg.autograd.grad(loss(), parameters[1:3])
    loss().backward(create_graph=True)
    assert parameters[1].grad.grad_fn is not None


def test_an_error_in_a_later_reaches_backward_and_leaves_nothing_running(threads, monkeypatch, restore_ops):
    threads(2)
    monkeypatch.setattr(parallel, "LATER_MIN", 1)

    class FailingWeightGrad(mg.autograd.Function):
        def forward(self, x, w):
            return x @ w

        def backward(self, grad):
            def fail():
                raise ValueError("dL/dW failed")
            return tuple(kernels.together(10**9, lambda: grad @ self.inputs[1].T, fail))

    x, w = mg.randn(4, 3, requires_grad=True), mg.randn(3, 2, requires_grad=True)
    with pytest.raises(ValueError, match="dL/dW failed"):
        FailingWeightGrad.apply(x, w).sum().backward()
    assert w.grad is None  # (x's went into .grad as it came, as in PyTorch's engine)
    (x @ w).sum().backward()
    assert np.allclose(w.grad.numpy(), x.detach().numpy().sum(0)[:, None] * np.ones((1, 2)))
