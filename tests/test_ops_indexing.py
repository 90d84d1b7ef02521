"""minigrad/ops/indexing.py: gather, scatter, scatter_add, index_select, masked_fill, masked_select,
nonzero, repeat_interleave, and the in-place scatter_, index_fill_, masked_fill_ methods.
Gradients by gradcheck and gradgradcheck; values, dtypes and shapes against PyTorch."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from helpers import DEVICES, array_and_dim, arrays, check_gradients, gradient_test_for


@st.composite
def array_dim_and_positions(draw, unique=False):
    """An array, a dim, and int64 positions along that dim of an index tensor no larger than the
    array (unique=True: no position repeats along dim, so scatter's result is defined)."""
    x, dim = draw(array_and_dim())
    dim %= x.ndim
    n = x.shape[dim]
    shape = [draw(st.integers(1, side)) for side in x.shape]
    if unique:
        shape[dim] = draw(st.integers(1, n))
        rows = [draw(st.permutations(range(n)))[:shape[dim]] for _ in range(int(np.prod(shape)) // shape[dim])]
        positions = np.moveaxis(np.array(rows).reshape([s for d, s in enumerate(shape) if d != dim] + [shape[dim]]),
                                -1, dim)
    else:
        positions = np.array(draw(st.lists(st.integers(0, n - 1), min_size=int(np.prod(shape)),
                                           max_size=int(np.prod(shape))))).reshape(shape)
    return x, dim, positions.astype(np.int64)


@gradient_test_for("gather")
@pytest.mark.parametrize("device", DEVICES)
@given(array_dim_and_positions())
def test_gather_gradient(device, case):
    x, dim, positions = case
    check_gradients(lambda a: mg.gather(a, dim, mg.tensor(positions, device=device)) ** 2, x, device=device)


@gradient_test_for("scatter")
@pytest.mark.parametrize("device", DEVICES)
@given(array_dim_and_positions(unique=True), st.data())
def test_scatter_gradient(device, case, data):
    x, dim, positions = case
    src = data.draw(arrays(positions.shape))
    index = mg.tensor(positions, device=device)
    check_gradients(lambda a, s: mg.scatter(a, dim, index, s) ** 2, x, src, device=device)
    check_gradients(lambda a: a.scatter(dim, index, 2.5) ** 2, x, device=device)


@gradient_test_for("scatter_add")
@pytest.mark.parametrize("device", DEVICES)
@given(array_dim_and_positions(), st.data())
def test_scatter_add_gradient(device, case, data):
    x, dim, positions = case
    src = data.draw(arrays(positions.shape))
    index = mg.tensor(positions, device=device)
    check_gradients(lambda a, s: mg.scatter_add(a, dim, index, s) ** 2, x, src, device=device)


@gradient_test_for("index_select")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_dim(), st.data())
def test_index_select_gradient(device, case, data):
    x, dim = case
    positions = data.draw(st.lists(st.integers(0, x.shape[dim] - 1), min_size=1, max_size=5))
    index = mg.tensor(positions, device=device)
    check_gradients(lambda a: mg.index_select(a, dim, index) ** 2, x, device=device)


@gradient_test_for("masked_fill")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_dim(), st.data())
def test_masked_fill_gradient(device, case, data):
    x, _ = case
    mask = mg.tensor(data.draw(arrays(x.shape[1:])) > 0, device=device)  # broadcasts to x
    check_gradients(lambda a: mg.masked_fill(a, mask, -1.5) ** 2, x, device=device)
    check_gradients(lambda a, v: mg.masked_fill(a, mask, v) ** 2, x, np.array(0.7), device=device)


@gradient_test_for("masked_select")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_dim(), st.data())
def test_masked_select_gradient(device, case, data):
    x, _ = case
    mask = mg.tensor(data.draw(arrays(x.shape[1:])) > 0, device=device)
    check_gradients(lambda a: mg.masked_select(a, mask) ** 2, x, device=device)


@gradient_test_for("repeat_interleave")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_dim(), st.integers(1, 3), st.booleans())
def test_repeat_interleave_gradient(device, case, repeats, flattened):
    x, dim = case
    check_gradients(lambda a: mg.repeat_interleave(a, repeats, None if flattened else dim) ** 2, x, device=device)


# --- against PyTorch ---------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_gather_scatter_match_torch():
    torch = pytest.importorskip("torch")
    values = np.arange(12.0).reshape(3, 4)
    positions = np.array([[2, 0, 1, 2], [0, 0, 2, 1]])
    src = -np.arange(8.0).reshape(2, 4) - 1
    x, t = mg.tensor(values), torch.tensor(values)
    i, ti = mg.tensor(positions), torch.tensor(positions)
    s, ts = mg.tensor(src), torch.tensor(src)
    unique = np.array([[2, 0, 1, 0], [0, 1, 2, 1]])
    u, tu = mg.tensor(unique), torch.tensor(unique)
    cases = [
        (lambda: mg.gather(x, 0, i), lambda: torch.gather(t, 0, ti)),
        (lambda: x.gather(1, i[:, :2]), lambda: t.gather(1, ti[:, :2])),
        (lambda: x.gather(-1, i), lambda: t.gather(-1, ti)),
        (lambda: mg.scatter(x, 0, u, s), lambda: torch.scatter(t, 0, tu, ts)),
        (lambda: x.scatter(1, i[:, :1], s), lambda: t.scatter(1, ti[:, :1], ts)),
        (lambda: x.scatter(0, u, 9.0), lambda: t.scatter(0, tu, 9.0)),
        (lambda: mg.scatter_add(x, 0, i, s), lambda: torch.scatter_add(t, 0, ti, ts)),
        (lambda: x.scatter(0, i, s, reduce="add"), lambda: t.scatter(0, ti, ts, reduce="add")),
        (lambda: x.scatter(0, i, s, reduce="multiply"), lambda: t.scatter(0, ti, ts, reduce="multiply")),
        (lambda: mg.index_select(x, 1, mg.tensor([3, 0, 3])), lambda: torch.index_select(t, 1, torch.tensor([3, 0, 3]))),
        (lambda: x.index_select(0, mg.tensor(1)), lambda: t.index_select(0, torch.tensor(1))),
        (lambda: mg.take_along_dim(x, mg.tensor([[0], [3], [1]]), 1),
         lambda: torch.take_along_dim(t, torch.tensor([[0], [3], [1]]), 1)),
    ]
    for got, expected in cases:
        got, expected = got(), expected()
        assert got.shape == tuple(expected.shape) and str(got.dtype) == str(expected.dtype).replace("torch.", "")
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_scatter_and_gather_refuse_what_torch_refuses():
    x = mg.zeros(2, 3)
    with pytest.raises(RuntimeError, match="int64"):
        mg.gather(x, 0, mg.tensor([[0, 1]], dtype=mg.int32))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        mg.gather(x, 0, mg.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="out of bounds"):
        mg.gather(x, 0, mg.tensor([[2]]))
    with pytest.raises(RuntimeError, match="dtype"):
        mg.scatter(x, 0, mg.tensor([[0]]), mg.ones(1, 1, dtype=mg.float64))


def test_masked_fill_select_nonzero_match_torch():
    torch = pytest.importorskip("torch")
    values = np.arange(6).reshape(2, 3)
    mask = np.array([True, False, True])
    x, t = mg.tensor(values), torch.tensor(values)
    m, tm = mg.tensor(mask), torch.tensor(mask)
    cases = [
        (lambda: mg.masked_fill(x, m, 7.9), lambda: torch.masked_fill(t, tm, 7.9)),  # x's dtype kept
        (lambda: x.float().masked_fill(m, mg.tensor(-1.0)), lambda: t.float().masked_fill(tm, torch.tensor(-1.0))),
        (lambda: mg.masked_select(x, m), lambda: torch.masked_select(t, tm)),
        (lambda: x.masked_select(mg.tensor(values > 2)), lambda: t.masked_select(torch.tensor(values > 2))),
        (lambda: mg.nonzero(x), lambda: torch.nonzero(t)),
        (lambda: x.nonzero(), lambda: t.nonzero()),
        (lambda: mg.nonzero(mg.tensor(3)), lambda: torch.nonzero(torch.tensor(3))),
        (lambda: mg.argwhere(x), lambda: torch.argwhere(t)),
        (lambda: mg.repeat_interleave(x, 2), lambda: torch.repeat_interleave(t, 2)),
        (lambda: x.repeat_interleave(mg.tensor([1, 0, 2]), 1), lambda: t.repeat_interleave(torch.tensor([1, 0, 2]), 1)),
        (lambda: mg.repeat_interleave(mg.tensor([2, 0, 1])), lambda: torch.repeat_interleave(torch.tensor([2, 0, 1]))),
    ]
    for got, expected in cases:
        got, expected = got(), expected()
        assert got.shape == tuple(expected.shape) and str(got.dtype) == str(expected.dtype).replace("torch.", "")
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    for g, e in zip(x.nonzero(as_tuple=True), t.nonzero(as_tuple=True)):
        np.testing.assert_array_equal(g.numpy(), e.numpy())
    with pytest.raises(RuntimeError, match="boolean"):
        x.masked_fill(mg.tensor([1, 0, 1]), 0)


def test_in_place_scatter_index_fill_masked_fill_fill_diagonal_match_torch():
    torch = pytest.importorskip("torch")
    values = np.arange(12.0).reshape(3, 4)
    positions = np.array([[2, 0, 1, 0]])
    cases = [
        lambda a, lib: a.scatter_(0, lib.tensor(positions), -1.0),
        lambda a, lib: a.scatter_(1, lib.tensor(positions[:, :2]), lib.tensor([[5.0, 6.0]], dtype=lib.float64)),
        lambda a, lib: a.scatter_add_(0, lib.tensor(positions), lib.ones(1, 4, dtype=lib.float64)),
        lambda a, lib: a.index_fill_(1, lib.tensor([0, 2]), 3.5),
        lambda a, lib: a.masked_fill_(lib.tensor([True, False, False, True]), 0.0),
        lambda a, lib: a.fill_diagonal_(8.0),
        lambda a, lib: a[:, :3].clone().fill_diagonal_(8.0),
        lambda a, lib: lib.zeros(5, 2, dtype=lib.float64).fill_diagonal_(1.0, wrap=True),
        lambda a, lib: a.clamp_min_(4.0), lambda a, lib: a.clamp_max_(4.0), lambda a, lib: a.floor_divide_(5),
        lambda a, lib: a.remainder_(5), lambda a, lib: a.tril_(), lambda a, lib: a.triu_(1),
        lambda a, lib: a.sqrt_(), lambda a, lib: a.neg_(), lambda a, lib: a.square_(), lambda a, lib: a.pow_(2),
        lambda a, lib: a.sin_(), lambda a, lib: a.log1p_(), lambda a, lib: a.round_(), lambda a, lib: a.sign_(),
    ]
    for case in cases:
        x, t = mg.tensor(values), torch.tensor(values)
        got, expected = case(x, mg), case(t, torch)
        np.testing.assert_allclose(got.numpy(), expected.numpy())
        np.testing.assert_allclose(x.numpy(), t.numpy())  # written into the tensor itself


def test_in_place_methods_keep_the_graph_as_torch():
    torch = pytest.importorskip("torch")
    for name in ("exp_", "sigmoid_", "tanh_", "relu_", "abs_", "neg_", "sqrt_", "log_", "reciprocal_", "floor_"):
        values = np.array([0.5, 1.5, 2.0])
        x, t = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        y, u = x * 2, t * 2
        getattr(y, name)()
        getattr(u, name)()
        (y * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
        (u * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), err_msg=name)


def test_random_and_bernoulli_fills():
    x = mg.zeros(1000).random_(3, 7)
    assert set(np.unique(x.numpy())) == {3.0, 4.0, 5.0, 6.0}
    assert set(np.unique(mg.zeros(500, dtype=mg.int64).random_(2).numpy())) == {0, 1}
    b = mg.zeros(4000).bernoulli_(0.25)
    assert set(np.unique(b.numpy())) == {0.0, 1.0} and abs(b.mean().item() - 0.25) < 0.03
    b = mg.zeros(2, 1000).bernoulli_(mg.tensor([[0.0], [1.0]]))
    assert b[0].sum().item() == 0 and b[1].sum().item() == 1000
    e = mg.zeros(4000).exponential_(2.0)
    assert (e.numpy() >= 0).all() and abs(e.mean().item() - 0.5) < 0.05


# --- index_fill, take_along_dim without dim ----------------------------------------------------------

@gradient_test_for("index_fill")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_dim(min_dims=1), st.data())
def test_index_fill_gradient(device, case, data):
    """x gets the gradient outside the filled slices, a tensor value the sum inside them."""
    x, dim = case
    n = x.shape[dim]
    positions = np.array(data.draw(st.lists(st.integers(-n, n - 1), max_size=3)), dtype=np.int64)
    check_gradients(lambda a, v: a.index_fill(dim, mg.tensor(positions, device=device), v), x, np.array(0.5),
                    device=device)
    check_gradients(lambda a: mg.index_fill(a, dim, mg.tensor(positions, device=device), -2.0), x, device=device)


def test_index_fill_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(6.0).reshape(2, 3)
    for array, dim, positions, value in [(x, 1, [0, 2], -1.5), (x, 1, [0, -1], -1.5), (x, 0, 1, 7.0),
                                         (np.arange(6).reshape(3, 2), 0, [2], -1.5), (np.array(3.0), 0, 0, 2.0)]:
        mine = mg.tensor(array).index_fill(dim, mg.tensor(positions), value)
        theirs = torch.tensor(array).index_fill(dim, torch.tensor(positions), value)
        assert mine.dtype == np.dtype(str(theirs.dtype).removeprefix("torch.")) and mine.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    original = mg.tensor(x)
    original.index_fill(1, mg.tensor([0]), 9.0)
    np.testing.assert_array_equal(original.numpy(), x)  # out of place
    with pytest.raises(IndexError, match="Expected dtype int64"):
        mg.tensor(x).index_fill(1, mg.tensor([0.0]), 1.0)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 1 with size 3"):
        mg.tensor(x).index_fill(1, mg.tensor([0, 3]), 1.0)
    with pytest.raises(RuntimeError, match="vector/scalar"):
        mg.tensor(x).index_fill(1, mg.tensor([[0]]), 1.0)


def test_take_along_dim_without_dim_flattens_as_torch():
    torch = pytest.importorskip("torch")
    x, positions = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[3, 0]])
    expected = torch.take_along_dim(torch.tensor(x), torch.tensor(positions))
    for mine in (mg.take_along_dim(mg.tensor(x), mg.tensor(positions)), mg.tensor(x).take_along_dim(mg.tensor(positions))):
        assert mine.shape == tuple(expected.shape)
        np.testing.assert_array_equal(mine.numpy(), expected.numpy())
