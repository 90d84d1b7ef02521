"""minigrad/ops/reduce.py: sum, mean, var, std, max, min over all dims, one dim or several."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from helpers import (DEVICES, arrays, check_gradients, distinct_arrays, gradient_test_for, reduction_dims,
                     shapes)


@st.composite
def array_and_reduction(draw, elements=None, distinct=False, min_dims=0):
    """An array, a dim for it (None, an int or a tuple of axes) and keepdim."""
    shape = draw(shapes(min_dims=min_dims))
    x = draw(distinct_arrays(shape, spacing=0.05) if distinct else arrays(shape, elements))
    return x, draw(reduction_dims(x.ndim)), draw(st.booleans())


def reduced_count(shape, dim):
    if dim is None or not shape:
        return int(np.prod(shape))
    dims = (dim,) if isinstance(dim, int) else dim
    return int(np.prod([shape[d] for d in dims]))


@st.composite
def array_and_single_dim(draw, min_dims=0):
    """Distinct values (no ties for max to break), a dim (None or one int) and keepdim."""
    x = draw(distinct_arrays(draw(shapes(min_dims=min_dims))))
    rank = max(x.ndim, 1)
    return x, draw(st.none() | st.integers(-rank, rank - 1)), draw(st.booleans())


# --- gradients ----------------------------------------------------------------------------

@gradient_test_for("Sum")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_reduction())
def test_sum_gradient(device, case):
    x, dim, keepdim = case
    check_gradients(lambda a: a.sum(dim, keepdim), x, device=device)


@gradient_test_for("Mean")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_reduction())
def test_mean_gradient(device, case):
    x, dim, keepdim = case
    check_gradients(lambda a: a.mean(dim, keepdim), x, device=device)


@gradient_test_for("Var")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_reduction(), st.booleans())
def test_var_gradient(device, case, unbiased):
    x, dim, keepdim = case
    unbiased = unbiased and reduced_count(x.shape, dim) > 1  # n - 1 = 0 would divide by zero
    check_gradients(lambda a: a.var(dim, unbiased, keepdim), x, device=device)


@gradient_test_for("std")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_reduction(distinct=True, min_dims=1), st.booleans())
def test_std_gradient(device, case, unbiased):
    """Distinct values and at least two per reduction: std > 0, away from the kink of sqrt at 0."""
    x, dim, keepdim = case
    x = np.concatenate([x, x[:1] + 7.0])  # a second row makes every reduction over dim 0 count >= 2
    if reduced_count(x.shape, dim) < 2:
        dim = None
    check_gradients(lambda a: mg.std(a, dim, unbiased, keepdim), x, device=device)


@gradient_test_for("Max")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_single_dim())
def test_max_gradient(device, case):
    x, dim, keepdim = case
    if dim is None:
        check_gradients(lambda a: a.max(), x, device=device)
    else:
        check_gradients(lambda a: a.max(dim, keepdim).values, x, device=device)


@gradient_test_for("min")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_single_dim())
def test_min_gradient(device, case):
    x, dim, keepdim = case
    if dim is None:
        check_gradients(lambda a: mg.min(a), x, device=device)
    else:
        check_gradients(lambda a: mg.min(a, dim, keepdim).values, x, device=device)


# --- known values -------------------------------------------------------------------------

def test_sum_and_mean_over_dims():
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.sum().item() == 21.0 and x.mean().item() == 3.5
    np.testing.assert_array_equal(x.sum(0).numpy(), [5.0, 7.0, 9.0])
    np.testing.assert_array_equal(x.sum(-1, keepdim=True).numpy(), [[6.0], [15.0]])
    np.testing.assert_array_equal(x.mean(1).numpy(), [2.0, 5.0])
    np.testing.assert_array_equal(mg.sum(x, (0, 1)).numpy(), 21.0)
    assert x.mean((0, 1), keepdim=True).shape == (1, 1)


def test_mean_gradient_is_one_over_n():
    x = mg.ones(2, 4, requires_grad=True)
    x.mean(1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 4), 0.25))


def test_var_unbiased_and_biased():
    """x = 1, 2, 3, 4: squared deviations sum to 5; 5/3 unbiased, 5/4 biased."""
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=mg.float64)
    assert x.var().item() == pytest.approx(5 / 3)
    assert x.var(unbiased=False).item() == pytest.approx(1.25)
    assert x.std().item() == pytest.approx(np.sqrt(5 / 3))
    assert x.std(unbiased=False).item() == pytest.approx(np.sqrt(1.25))
    y = mg.tensor([[1.0, 3.0], [2.0, 6.0]], dtype=mg.float64)
    np.testing.assert_allclose(y.var(0).numpy(), [0.5, 4.5])
    np.testing.assert_allclose(y.var(1, unbiased=False, keepdim=True).numpy(), [[1.0], [4.0]])


def test_var_gradient_known_values():
    """d var/dx_i = 2 (x_i - mean)/(n - 1)."""
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=mg.float64, requires_grad=True)
    x.var().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.array([-1.5, -0.5, 0.5, 1.5]) * 2 / 3)


def test_max_along_dim_returns_values_and_indices():
    x = mg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert indices.dtype == np.int64 and not indices.requires_grad
    result = x.max(0, keepdim=True)
    np.testing.assert_array_equal(result.values.numpy(), [[7.0, 5.0, 3.0]])
    np.testing.assert_array_equal(result.indices.numpy(), [[1, 0, 1]])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def test_min_along_dim_returns_values_and_indices():
    x = mg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    values, indices = mg.min(x, dim=1)
    np.testing.assert_array_equal(values.numpy(), [1.0, 0.0])
    np.testing.assert_array_equal(indices.numpy(), [0, 1])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert x.min().item() == 0.0


def test_max_over_everything_shares_the_gradient_between_ties():
    x = mg.tensor([3.0, 1.0, 3.0], requires_grad=True)
    y = x.max()
    assert y.shape == () and y.item() == 3.0
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.0, 0.5])


def test_max_along_a_dim_gives_a_tie_to_the_first_index():
    x = mg.tensor([[2.0, 2.0]], requires_grad=True)
    values, indices = x.max(1)
    values.sum().backward()
    assert indices.item() == 0
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0]])


def test_max_and_min_of_a_0d_tensor_along_dim_0():
    """As PyTorch: a 0-d tensor has dim 0 (or -1), holding its one element."""
    x = mg.tensor(3.0, requires_grad=True)
    values, indices = x.max(0)
    assert values.shape == () and values.item() == 3.0 and indices.item() == 0
    values.backward()
    assert x.grad.item() == 1.0
    assert mg.min(x, -1, keepdim=True).values.item() == 3.0


# --- errors -------------------------------------------------------------------------------

def test_reduction_dim_out_of_range():
    with pytest.raises(IndexError, match="dim 2 is out of range for a tensor with 2 dims"):
        mg.ones(2, 3).sum(2)
    with pytest.raises(IndexError, match="dim -3 is out of range"):
        mg.ones(2, 3).max(-3)
    with pytest.raises(IndexError, match="dim 1 is out of range for a tensor with 0 dims"):
        mg.tensor(1.0).max(1)


# --- norm -----------------------------------------------------------------------------------

from helpers import away_from_zero  # noqa: E402


@st.composite
def norm_cases(draw):
    """x (no zeros, and for the inf-norms no ties in |x|), p, dim and keepdim."""
    p = draw(st.sampled_from([2, "fro", 1, 3, 1.5, float("inf"), float("-inf")]))
    shape = draw(shapes(min_dims=1))
    if p in (float("inf"), float("-inf")):
        magnitudes = draw(distinct_arrays(shape))
        magnitudes = np.abs(magnitudes - magnitudes.min() + 0.05)  # positive, still distinct
        x = magnitudes * draw(arrays(shape, st.sampled_from([-1.0, 1.0])))
    else:
        x = draw(arrays(shape, away_from_zero(0.1)))
    return x, p, draw(reduction_dims(x.ndim)), draw(st.booleans())


@gradient_test_for("norm")
@pytest.mark.parametrize("device", DEVICES)
@given(norm_cases())
def test_norm_gradient(device, case):
    x, p, dim, keepdim = case
    check_gradients(lambda a: mg.norm(a, p, dim, keepdim), x, device=device)


@pytest.mark.parametrize("p", [2, "fro", 1, 3, float("inf"), float("-inf"), 0])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_norm_values_match_numpy(p, dim, keepdim):
    x = np.random.default_rng(0).normal(size=(3, 4, 2))
    x[0, 0, 0] = 0.0
    ours = mg.tensor(x).norm(p, dim, keepdim)
    axes = tuple(range(3)) if dim is None else dim
    order = 2 if p == "fro" else p
    flat_axes = (axes,) if isinstance(axes, int) else axes
    if order == float("inf"):
        expected = np.abs(x).max(axis=flat_axes, keepdims=keepdim)
    elif order == float("-inf"):
        expected = np.abs(x).min(axis=flat_axes, keepdims=keepdim)
    elif order == 0:
        expected = (x != 0).sum(axis=flat_axes, keepdims=keepdim).astype(float)
    else:
        expected = (np.abs(x) ** order).sum(axis=flat_axes, keepdims=keepdim) ** (1 / order)
    assert ours.shape == np.shape(expected)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-6)


def test_norm_rejects_unknown_orders():
    with pytest.raises(ValueError, match="nuclear"):
        mg.norm(mg.ones(2, 2), "nuc")
    with pytest.raises(ValueError, match="positive"):
        mg.ones(2).norm(-1)


# --- prod: a product by halving, exact where an element is zero ---------------------------------

@gradient_test_for("prod")
@pytest.mark.parametrize("device", DEVICES)
@given(st.data())
def test_prod_gradient(device, data):
    x = data.draw(arrays(data.draw(shapes(min_dims=1))))
    dim = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    keepdim = dim is not None and data.draw(st.booleans())
    check_gradients(lambda a: a.prod(dim, keepdim), x, device=device)


def test_prod_gradient_at_zeros_is_the_product_of_the_others():
    x = mg.tensor([[2.0, 0.0, 3.0, 5.0], [0.0, 0.0, 1.5, 2.0]], dtype=mg.float64, requires_grad=True)
    y = x.prod(1)
    y.sum().backward()
    assert np.array_equal(y.array, [0.0, 0.0])
    # row 0: only the zero sees a non-zero product of the others; row 1: two zeros, so every gradient is 0
    assert np.array_equal(x.grad.array, [[0.0, 30.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    check_gradients(lambda a: a.prod(1), x.array)
    check_gradients(lambda a: a.prod(), np.array([1.5, 0.0, -2.0, 0.5, 3.0]))


def test_prod_of_odd_lengths_matches_numpy_and_keeps_shapes():
    x = np.arange(1.0, 2.4, 0.1).reshape(2, 7)
    assert np.allclose(mg.prod(mg.tensor(x)).array, np.prod(x))
    assert np.allclose(mg.tensor(x).prod(-1).array, np.prod(x, axis=-1))
    assert mg.tensor(x).prod(1, keepdim=True).shape == (2, 1)
    assert mg.tensor(x).prod(0).shape == (7,)


def test_prod_of_integers_is_int64_and_the_empty_product_is_one():
    assert mg.tensor([[1, 2], [3, 4]], dtype=mg.int32).prod(1).dtype == mg.int64
    assert mg.tensor([True, False]).prod().item() == 0
    empty = mg.zeros(2, 0, requires_grad=True)
    y = empty.prod(1)
    assert np.array_equal(y.array, [1.0, 1.0])
    y.sum().backward()
    assert empty.grad.shape == (2, 0)
    with pytest.raises(TypeError, match="keepdim"):
        mg.tensor([1.0, 2.0]).prod(keepdim=True)


# --- amax, amin, logsumexp, cumsum, cumprod ---------------------------------------------------

@gradient_test_for("AMax")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_reduction(distinct=True), st.booleans())
def test_amax_and_amin_gradient(device, case, smallest):
    x, dim, keepdim = case
    function = mg.amin if smallest else mg.amax
    check_gradients(lambda a: function(a, dim if dim is not None else (), keepdim), x, device=device)


def test_amax_shares_the_gradient_between_ties_as_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    for dim in (1, (0, 1)):
        x, t = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        mg.amax(x, dim).sum().backward()
        torch.amax(t, dim).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())
        x, t = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        x.amin(dim, keepdim=True).sum().backward()
        t.amin(dim, keepdim=True).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


@gradient_test_for("logsumexp")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_reduction(min_dims=1))
def test_logsumexp_gradient(device, case):
    x, dim, keepdim = case
    dim = dim if dim is not None else tuple(range(x.ndim))
    check_gradients(lambda a: mg.logsumexp(a, dim, keepdim), x, device=device)


def test_logsumexp_matches_torch_and_does_not_overflow():
    torch = pytest.importorskip("torch")
    values = np.array([[1000.0, 1000.0, -2.0], [-np.inf, -np.inf, -np.inf]], np.float32)
    for dim, keepdim in ((1, False), (0, True), ((0, 1), False)):
        expected = torch.logsumexp(torch.from_numpy(values), dim, keepdim)
        with np.errstate(divide="ignore"):  # the row of -inf: log 0
            got = mg.logsumexp(mg.tensor(values), dim, keepdim)
        assert got.shape == tuple(expected.shape) and got.dtype == mg.float32
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
    assert mg.logsumexp(mg.tensor([1, 2]), 0).dtype == mg.float32


@gradient_test_for("CumSum")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_single_dim(min_dims=1))
def test_cumsum_gradient(device, case):
    x, dim, _ = case
    check_gradients(lambda a: mg.cumsum(a, dim if dim is not None else 0) ** 2, x, device=device)


@gradient_test_for("cumprod")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_single_dim(min_dims=1))
def test_cumprod_gradient(device, case):
    x, dim, _ = case
    check_gradients(lambda a: mg.cumprod(a, dim if dim is not None else 0), x, device=device)


def test_cumprod_gradient_with_zeros_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[2.0, 0.0, 3.0, 0.0], [1.5, -1.0, 0.0, 4.0]])
    x, t = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    weights = np.arange(8.0).reshape(2, 4)
    (mg.cumprod(x, 1) * mg.tensor(weights)).sum().backward()
    (torch.cumprod(t, 1) * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", ["float32", "int32", "int64", "bool", "uint8"])
def test_cumulative_ops_match_torch(name, dtype):
    torch = pytest.importorskip("torch")
    values = np.array([[1, 2, 0], [3, 1, 2]]).astype(dtype)
    for dim in (0, 1, -1):
        expected = getattr(torch, name)(torch.from_numpy(values), dim)
        got = getattr(mg.tensor(values), name)(dim)
        assert str(got.dtype) == str(expected.dtype).replace("torch.", "")
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    assert mg.cumsum(mg.tensor(2.0), 0).shape == ()
    assert mg.cumsum(mg.tensor([1.0, 2.0]), 0, dtype=mg.float64).dtype == mg.float64


# --- dtypes, dims and keyword variants of the reductions -----------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool"])
def test_sum_and_prod_dtypes_match_torch(dtype):
    torch = pytest.importorskip("torch")
    values = np.array([[1, 0, 2], [3, 1, 1]]).astype(dtype)
    for dim in (None, 0, (0, 1), [1]):
        for name in ("sum",) + (("prod",) if dim is None or isinstance(dim, int) else ()):
            expected = getattr(torch, name)(torch.from_numpy(values)) if dim is None else \
                getattr(torch, name)(torch.from_numpy(values), dim)
            got = getattr(mg.tensor(values), name)() if dim is None else getattr(mg.tensor(values), name)(dim)
            assert str(got.dtype) == str(expected.dtype).replace("torch.", ""), (name, dim)
            np.testing.assert_array_equal(got.numpy(), expected.numpy())
    assert mg.tensor(values).sum(dtype=mg.float64).dtype == mg.float64


def test_mean_of_integers_is_refused_unless_given_a_float_dtype():
    with pytest.raises(RuntimeError, match="mean"):
        mg.tensor([1, 2]).mean()
    assert mg.tensor([1, 2]).mean(dtype=mg.float32).item() == 1.5
    assert mg.mean(mg.tensor([1.0, 2.0], dtype=mg.float32), dtype=mg.float64).dtype == mg.float64


def test_var_std_correction_and_the_mean_pairs_match_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[1.0, 2.0, 4.0], [3.0, -1.0, 0.5]])
    x, t = mg.tensor(values), torch.tensor(values)
    np.testing.assert_allclose(x.var(1, correction=0).numpy(), t.var(1, correction=0).numpy())
    np.testing.assert_allclose(x.std(1, correction=2).numpy(), t.std(1, correction=2).numpy())
    np.testing.assert_allclose(mg.var(x, False).numpy(), torch.var(t, False).numpy())
    for name in ("var_mean", "std_mean"):
        expected = getattr(torch, name)(t, 1, keepdim=True)
        got = getattr(mg, name)(x, 1, keepdim=True)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g.numpy(), e.numpy())


def test_max_and_min_with_another_tensor_are_elementwise():
    x, y = mg.tensor([1.0, 5.0]), mg.tensor([3.0, 2.0])
    assert mg.max(x, y).tolist() == [3.0, 5.0]
    assert x.min(y).tolist() == [1.0, 2.0]


def test_max_min_of_integers_and_bools():
    torch = pytest.importorskip("torch")
    values = np.array([[3, 0, 200], [7, 9, 1]], np.uint8)
    assert mg.tensor(values).min().item() == 0
    got, expected = mg.tensor(values).min(1), torch.from_numpy(values).min(1)
    assert got.values.tolist() == expected.values.tolist() and got.indices.tolist() == expected.indices.tolist()
    assert mg.tensor([True, False]).min().item() is False


@pytest.mark.parametrize("name", ["any", "all", "count_nonzero"])
def test_any_all_count_nonzero_match_torch(name):
    torch = pytest.importorskip("torch")
    values = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    for kwargs in ({}, {"dim": 0}, {"dim": 1}) + (({"dim": 1, "keepdim": True},) if name != "count_nonzero" else ()):
        expected = getattr(torch, name)(torch.tensor(values), **kwargs)
        got = getattr(mg.tensor(values), name)(**kwargs)
        assert str(got.dtype) == str(expected.dtype).replace("torch.", "")
        assert got.tolist() == expected.tolist()
    assert mg.tensor(np.array([0, 3], np.uint8)).any().dtype == mg.uint8
    assert mg.count_nonzero(mg.tensor(values), dim=(0, 1)).item() == 3


# --- cummax, logcumsumexp, diff ----------------------------------------------------------------------

@gradient_test_for("cummax")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_single_dim(min_dims=1))
def test_cummax_gradient(device, case):
    x, dim, _ = case
    check_gradients(lambda a: mg.cummax(a, dim if dim is not None else 0).values, x, device=device)


@gradient_test_for("logcumsumexp")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_single_dim(min_dims=1))
def test_logcumsumexp_gradient(device, case):
    x, dim, _ = case
    check_gradients(lambda a: mg.logcumsumexp(a, dim if dim is not None else -1), x, device=device)


@gradient_test_for("diff")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(min_dims=1, max_dims=3)), st.integers(0, 3), st.booleans())
def test_diff_gradient(device, x, n, with_ends):
    dim = x.ndim - 1
    ends = np.linspace(-1.0, 1.0, x.size // x.shape[-1] * 2).reshape(x.shape[:-1] + (2,))
    if with_ends:
        check_gradients(lambda a, p: mg.diff(a, n, dim, prepend=p, append=p), x, ends, device=device)
    else:
        check_gradients(lambda a: mg.diff(a, n, 0), x, device=device)


NAN = float("nan")


@pytest.mark.parametrize("values, dim", [
    ([1, 1, 3, 2, 3], 0), ([1.0, NAN, 3.0, NAN, 0.0], 0), (3.0, 0), ([True, False, True], 0),
    (np.random.default_rng(0).integers(0, 3, (3, 4, 5)), -1), (np.random.default_rng(1).integers(0, 3, (3, 4, 5)), 1),
    (np.float32([[2.0, 1.0], [1.0, 5.0]]), 0),
])
def test_cummax_matches_torch(values, dim):
    """Ties take the later position, and a nan holds the maximum from where it appears, as PyTorch."""
    torch = pytest.importorskip("torch")
    mine, theirs = mg.cummax(mg.tensor(values), dim), torch.cummax(torch.tensor(values), dim)
    for a, b in zip(mine, theirs):
        assert a.dtype == np.dtype(str(b.dtype).removeprefix("torch.")) and a.shape == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert mine.indices.dtype == np.int64 and not mine.indices.requires_grad
    assert mg.tensor(values).cummax(dim).values.shape == mine.values.shape


def test_logcumsumexp_and_diff_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    cases = [("logcumsumexp", np.array([-1000.0, 0.0, -np.inf, 3.0]), (0,), {}),
             ("logcumsumexp", rng.normal(size=(3, 4, 2)).astype(np.float32), (1,), {}),
             ("logcumsumexp", np.array(2.0), (0,), {}),
             ("logcumsumexp", np.zeros((0, 2)), (0,), {}),
             ("diff", np.array([True, False, False]), (), {}),
             ("diff", np.array([1, 2, 4]), (), dict(n=5)),
             ("diff", np.array([1, 2, 4]), (), dict(n=0)),
             ("diff", np.array([1, 2, 4]), (), dict(prepend=np.array([0.5]))),
             ("diff", rng.normal(size=(3, 2)), (2, 0), dict(append=rng.normal(size=(2, 2)))),
             ("diff", rng.normal(size=(2, 3)).astype(np.float32), (1, -1), dict(prepend=np.float32([[1.0], [2.0]])))]
    for name, x, args, kwargs in cases:
        mine = getattr(mg, name)(mg.tensor(x), *args, **{k: mg.tensor(v) for k, v in kwargs.items()
                                                        if isinstance(v, np.ndarray)},
                                 **{k: v for k, v in kwargs.items() if not isinstance(v, np.ndarray)})
        theirs = getattr(torch, name)(torch.tensor(x), *args, **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                                                 for k, v in kwargs.items()})
        assert mine.dtype == np.dtype(str(theirs.dtype).removeprefix("torch.")), (name, x)
        assert mine.shape == tuple(theirs.shape), (name, x)
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)


def test_logcumsumexp_and_diff_refuse_what_torch_refuses():
    with pytest.raises(NotImplementedError, match="logcumsumexp"):
        mg.logcumsumexp(mg.tensor([1, 2]), 0)
    with pytest.raises(RuntimeError, match="at least one-dimensional"):
        mg.diff(mg.tensor(1.0))
    with pytest.raises(RuntimeError, match="order must be non-negative"):
        mg.diff(mg.ones(3), n=-1)
    with pytest.raises(RuntimeError, match=r"input.size\(1\) = 3, but got tensor.size\(1\) = 2"):
        mg.diff(mg.ones(1, 3), dim=0, append=mg.ones(1, 2))
    assert mg.ones(2, 3).diff(dim=0).shape == (1, 3) and mg.ones(3).logcumsumexp(0).shape == (3,)


# --- mean, var, std and norm of empty and 0-dim tensors: PyTorch's nan, without NumPy's warnings ------

def test_reductions_of_nothing_give_torchs_values_silently():
    import warnings
    torch = pytest.importorskip("torch")
    calls = [
        lambda lib, x: lib.mean(x), lambda lib, x: x.mean(0), lambda lib, x: x.mean(1, keepdim=True),
        lambda lib, x: x.std(), lambda lib, x: x.std(0), lambda lib, x: x.var(1), lambda lib, x: x.var(correction=0),
        lambda lib, x: lib.norm(x), lambda lib, x: lib.norm(x, dim=1), lambda lib, x: lib.norm(x, p=1),
    ]
    for values in (np.zeros((0, 3)), np.array(1.5), np.zeros(0)):
        for call in calls:
            x, t = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # PyTorch's own UserWarning for var/std
                    expected = call(torch, t)
                    expected.sum().backward()
            except (IndexError, RuntimeError):
                with pytest.raises((IndexError, RuntimeError)):
                    call(mg, x)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                got = call(mg, x)
                got.sum().backward()
            assert got.shape == tuple(expected.shape)
            np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())
            np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_std_and_var_of_too_few_elements_are_nan_with_nan_gradient():
    import warnings
    x = mg.tensor(1.5, dtype=mg.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x.std()
        y.backward()
    assert np.isnan(y.item()) and np.isnan(x.grad.item())
    with warnings.catch_warnings():  # as PyTorch: the divisor max(n - correction, 0) is 0
        warnings.simplefilter("error")
        assert mg.tensor([1.0, 3.0]).var(correction=3).item() == np.inf
        assert np.isnan(mg.tensor([1.0, 1.0]).var(correction=2).item())
    assert mg.tensor([1.0, 3.0]).var(correction=0).item() == 1.0


def test_norm_std_var_refuse_integer_and_bool_input_as_torch():
    torch = pytest.importorskip("torch")
    calls = [lambda lib, x: lib.norm(x), lambda lib, x: x.norm(p=1), lambda lib, x: x.std(),
             lambda lib, x: x.var(0), lambda lib, x: lib.std_mean(x), lambda lib, x: lib.var_mean(x)]
    for values in (np.array([1, 2, 3]), np.array([True, False])):
        for call in calls:
            with pytest.raises(RuntimeError):
                call(torch, torch.tensor(values))
            with pytest.raises(RuntimeError, match="floating point"):
                call(mg, mg.tensor(values))
