"""minigrad/ops/sorting.py: sort, argsort, topk, median, kthvalue, unique. The values are gathered
from the input, so their gradient flows back to the chosen elements; checked by gradcheck and
against PyTorch."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from helpers import DEVICES, check_gradients, distinct_arrays, gradient_test_for, shapes


@st.composite
def distinct_array_and_dim(draw):
    x = draw(distinct_arrays(draw(shapes(min_dims=1)), spacing=0.05))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@pytest.mark.parametrize("device", DEVICES)
@given(distinct_array_and_dim(), st.booleans(), st.data())
def test_sort_and_topk_values_gradient(device, case, descending, data):
    x, dim = case
    k = data.draw(st.integers(1, x.shape[dim]))
    weights = mg.tensor(np.arange(x.size).reshape(x.shape) + 1.0, device=device)
    check_gradients(lambda a: mg.sort(a, dim, descending).values * weights, x, device=device)
    check_gradients(lambda a: mg.topk(a, k, dim, largest=descending).values ** 2, x, device=device)


@gradient_test_for("median")
@pytest.mark.parametrize("device", DEVICES)
@given(distinct_array_and_dim(), st.booleans())
def test_median_gradient(device, case, keepdim):
    x, dim = case
    check_gradients(lambda a: mg.median(a, dim, keepdim).values ** 2, x, device=device)
    check_gradients(lambda a: mg.median(a) ** 2, x, device=device)


def test_sort_argsort_topk_match_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[3.0, 1.0, 2.0, 5.0], [np.nan, -1.0, 4.0, 0.5], [2.0, 2.0, 1.0, 2.0]])
    x, t = mg.tensor(values), torch.tensor(values)
    for dim in (0, 1, -1):
        for descending in (False, True):
            got, expected = x.sort(dim, descending=descending, stable=True), \
                t.sort(stable=True, dim=dim, descending=descending)
            np.testing.assert_array_equal(got.values.numpy(), expected.values.numpy())
            np.testing.assert_array_equal(got.indices.numpy(), expected.indices.numpy())
            assert got.indices.dtype == mg.int64
            np.testing.assert_array_equal(mg.argsort(x, dim, descending, stable=True).numpy(),
                                          torch.argsort(t, dim=dim, descending=descending, stable=True).numpy())
    distinct = np.array([[3.0, 1.0, 2.0, 5.0], [0.0, -1.0, 4.0, 0.5]])
    for k, dim, largest in ((2, 1, True), (1, 0, False), (4, -1, False), (0, 1, True)):
        got = mg.topk(mg.tensor(distinct), k, dim, largest)
        expected = torch.topk(torch.tensor(distinct), k, dim, largest)
        np.testing.assert_array_equal(got.values.numpy(), expected.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), expected.indices.numpy())
    with pytest.raises(RuntimeError, match="out of range"):
        mg.topk(mg.tensor(distinct), 5)
    assert mg.sort(mg.tensor(2.0)).values.item() == 2.0 and mg.sort(mg.tensor([])).values.shape == (0,)


def test_median_and_kthvalue_match_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[3.0, 1.0, 2.0, 5.0], [0.0, -1.0, 4.0, 0.5], [1.0, np.nan, 0.0, 2.0]])
    x, t = mg.tensor(values), torch.tensor(values)
    assert np.isnan(mg.median(x).item()) and np.isnan(torch.median(t).item())
    assert mg.median(x[:2]).item() == torch.median(t[:2]).item()  # the lower of the two middle values
    for dim, keepdim in ((1, False), (0, True), (-1, True)):
        got, expected = x.median(dim, keepdim), t.median(dim, keepdim)
        np.testing.assert_array_equal(got.values.numpy(), expected.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), expected.indices.numpy())
    got, expected = x[:2].kthvalue(2, 1), t[:2].kthvalue(2, 1)
    np.testing.assert_array_equal(got.values.numpy(), expected.values.numpy())
    np.testing.assert_array_equal(got.indices.numpy(), expected.indices.numpy())


def test_unique_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[3, 1, 3], [2, 1, 1]])
    x, t = mg.tensor(values), torch.tensor(values)
    for kwargs in ({}, {"return_inverse": True}, {"return_counts": True},
                   {"return_inverse": True, "return_counts": True}, {"dim": 1, "return_inverse": True}):
        got, expected = mg.unique(x, **kwargs), torch.unique(t, **kwargs)
        got = got if isinstance(got, tuple) else (got,)
        expected = expected if isinstance(expected, tuple) else (expected,)
        for g, e in zip(got, expected):
            assert g.dtype == mg.int64 and g.shape == tuple(e.shape)
            np.testing.assert_array_equal(g.numpy(), e.numpy())
    got, expected = mg.unique_consecutive(mg.tensor([1, 1, 2, 2, 3, 1]), return_inverse=True, return_counts=True), \
        torch.unique_consecutive(torch.tensor([1, 1, 2, 2, 3, 1]), return_inverse=True, return_counts=True)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g.numpy(), e.numpy())
