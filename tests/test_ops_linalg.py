"""minigrad/ops/linalg.py: matmul (1-D, 2-D and batched, as NumPy) and linear."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.ops.linalg import LinearWeightGrad
from helpers import DEVICES, MAX_SIDE, arrays, check_gradients, gradient_test_for, shapes


@st.composite
def matmul_operands(draw):
    """Two arrays that np.matmul accepts: 1-D or not, with broadcasting batch dims."""
    (x_shape, y_shape), _ = draw(hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=2, max_side=MAX_SIDE))
    return draw(arrays(x_shape)), draw(arrays(y_shape))


@st.composite
def linear_operands(draw):
    """x (..., in), weight (out, in), and a bias (out,) or None."""
    batch = draw(shapes(min_dims=0, max_dims=2))
    in_features, out_features = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x = draw(arrays(batch + (in_features,)))
    weight = draw(arrays((out_features, in_features)))
    bias = draw(st.none() | arrays((out_features,)))
    return x, weight, bias


# --- gradients ----------------------------------------------------------------------------

@gradient_test_for("MatMul")
@pytest.mark.parametrize("device", DEVICES)
@given(matmul_operands())
def test_matmul_gradient(device, xy):
    check_gradients(lambda a, b: a @ b, *xy, device=device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("x_shape, y_shape", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)),
                                              ((4, 2, 3), (3,)), ((3,), (4, 3, 2)), ((2, 1, 2, 3), (4, 3, 2))])
def test_matmul_gradient_for_vectors_and_batches(device, x_shape, y_shape):
    """The 1-D and batch cases, each named once (the property test may draw them rarely)."""
    rng = np.random.default_rng(0)
    check_gradients(lambda a, b: a @ b, rng.standard_normal(x_shape), rng.standard_normal(y_shape), device=device)


@gradient_test_for("Linear")
@pytest.mark.parametrize("device", DEVICES)
@given(linear_operands())
def test_linear_gradient(device, operands):
    x, weight, bias = operands
    if bias is None:
        check_gradients(F.linear, x, weight, device=device)
    else:
        check_gradients(F.linear, x, weight, bias, device=device)


@gradient_test_for("LinearWeightGrad")
@pytest.mark.parametrize("device", DEVICES)
@given(linear_operands())
def test_linear_weight_grad_gradient(device, operands):
    """g^T x over every row (the leading axes of a batch too): first and second order."""
    x, weight, _ = operands
    g = np.random.default_rng(0).standard_normal(x.shape[:-1] + (weight.shape[0],))
    check_gradients(lambda a, b: LinearWeightGrad.apply(a, b), g, x, device=device)


# --- known values -------------------------------------------------------------------------

def test_matmul_known_values_and_gradients():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = mg.tensor([[5.0, 6.0], [7.0, 8.0]], requires_grad=True)
    z = x @ y
    np.testing.assert_array_equal(z.numpy(), [[19.0, 22.0], [43.0, 50.0]])
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[11.0, 15.0], [11.0, 15.0]])  # ones @ y^T
    np.testing.assert_array_equal(y.grad.numpy(), [[4.0, 4.0], [6.0, 6.0]])      # x^T @ ones


def test_vector_dot_vector_is_a_scalar_with_gradients():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = mg.tensor([4.0, 5.0, 6.0], requires_grad=True)
    z = x @ y
    assert z.shape == () and z.item() == 32.0
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 2.0, 3.0])


def test_batched_matmul_sums_the_gradient_over_broadcast_batch_dims():
    x = mg.ones(5, 2, 3, requires_grad=True)
    w = mg.ones(3, 4, requires_grad=True)
    out = x @ w
    assert out.shape == (5, 2, 4)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((3, 4), 10.0))  # 5 batches * 2 rows
    np.testing.assert_array_equal(x.grad.numpy(), np.full((5, 2, 3), 4.0))


def test_linear_known_values():
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    w = mg.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, -1.0]], requires_grad=True)
    b = mg.tensor([0.5, 0.0, 1.0], requires_grad=True)
    y = F.linear(x, w, b)
    np.testing.assert_array_equal(y.numpy(), [[1.5, 3.0, -1.0]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0.0]])
    np.testing.assert_array_equal(w.grad.numpy(), [[1.0, 2.0]] * 3)
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 1.0])


def test_linear_equals_matmul_with_the_transposed_weight():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    np.testing.assert_allclose(F.linear(mg.tensor(x), mg.tensor(w), mg.tensor(b)).numpy(), x @ w.T + b)


# --- errors -------------------------------------------------------------------------------

def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"shapes \(2, 3\) and \(4, 5\) cannot be multiplied"):
        mg.ones(2, 3) @ mg.ones(4, 5)


def test_matmul_of_a_scalar_is_refused():
    with pytest.raises(RuntimeError, match="at least 1 dimension"):
        mg.tensor(2.0) @ mg.ones(2)


def test_matmul_dtype_mismatch_names_the_dtypes():
    with pytest.raises(RuntimeError, match=r"matmul: .*float32 \(2, 3\) and float64 \(3, 2\)"):
        mg.ones(2, 3) @ mg.ones(3, 2, dtype=mg.float64)


def test_linear_dtype_mismatch_names_the_dtypes():
    with pytest.raises(RuntimeError, match=r"linear: .*float64 \(4, 3\) and float32 \(2, 3\)"):
        F.linear(mg.ones(4, 3, dtype=mg.float64), mg.ones(2, 3))


def test_linear_feature_mismatch_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"input of shape \(4, 3\) has 3 features.*weight of shape \(2, 5\)"):
        F.linear(mg.ones(4, 3), mg.ones(2, 5))


# --- einsum and PyTorch's named products -------------------------------------------------------

EINSUM_CASES = [  # (equation, operand shapes)
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij->ji", [(2, 3)]),
    ("ij->i", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->ij", [(2, 2, 3)]),
    ("ij,jk", [(2, 3), (3, 2)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 2)]),
    ("b...,b->...", [(2, 3, 2), (2,)]),
    ("ijk,ik->j", [(2, 3, 2), (2, 2)]),
    ("ij,ij,ij->i", [(2, 3), (2, 3), (2, 3)]),
]


@gradient_test_for("Einsum")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("equation, operand_shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
@given(data=st.data())
def test_einsum_gradient(device, equation, operand_shapes, data):
    operands = [data.draw(arrays(shape)) for shape in operand_shapes]
    check_gradients(lambda *ts: mg.einsum(equation, *ts), *operands, device=device)


@pytest.mark.parametrize("equation, operand_shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_matches_torch(equation, operand_shapes):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    operands = [rng.standard_normal(shape) for shape in operand_shapes]
    mine = [mg.tensor(a, requires_grad=True) for a in operands]
    theirs = [torch.tensor(a, requires_grad=True) for a in operands]
    got, expected = mg.einsum(equation, *mine), torch.einsum(equation, *theirs)
    assert got.shape == tuple(expected.shape)
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-10)
    weights = rng.standard_normal(expected.shape)
    (got * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for m, t in zip(mine, theirs):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-10)
    assert mg.einsum(equation, mine).shape == got.shape  # operands as one list


@gradient_test_for("outer", "addmm", "baddbmm", "addmv")
@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_named_products_gradient(device, data):
    n, k, m, b = (data.draw(st.integers(1, 3)) for _ in range(4))
    u, v = data.draw(arrays((n,))), data.draw(arrays((m,)))
    check_gradients(mg.outer, u, v, device=device)
    bias, x, y = data.draw(arrays((m,))), data.draw(arrays((n, k))), data.draw(arrays((k, m)))
    check_gradients(lambda c, p, q: mg.addmm(c, p, q, beta=0.5, alpha=2.0), bias, x, y, device=device)
    batch_bias, p, q = data.draw(arrays((b, n, m))), data.draw(arrays((b, n, k))), data.draw(arrays((b, k, m)))
    check_gradients(lambda c, p_, q_: mg.baddbmm(c, p_, q_, alpha=-1.0), batch_bias, p, q, device=device)
    check_gradients(lambda c, p_, q_: mg.addmv(c, p_, q_, beta=2.0), u, x, data.draw(arrays((k,))), device=device)


def test_named_products_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b, v, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(4), rng.standard_normal(4)
    batch1, batch2 = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 2))
    bias = rng.standard_normal((3, 2))
    cases = [
        lambda lib, T: lib.mm(T(a), T(b)), lambda lib, T: T(a).mm(T(b)), lambda lib, T: lib.mv(T(a), T(v)),
        lambda lib, T: lib.dot(T(v), T(w)), lambda lib, T: T(v).dot(T(w)), lambda lib, T: lib.outer(T(v), T(w)),
        lambda lib, T: lib.bmm(T(batch1), T(batch2)), lambda lib, T: lib.addmm(T(bias), T(a), T(b)),
        lambda lib, T: lib.addmm(T(bias[0]), T(a), T(b), beta=0.5, alpha=-2),
        lambda lib, T: lib.baddbmm(T(bias), T(batch1), T(batch2), beta=0),
        lambda lib, T: lib.addmv(T(a[:, 0]), T(a), T(v)),
    ]
    for case in cases:
        expected, got = case(torch, torch.tensor), case(mg, mg.tensor)
        assert got.shape == tuple(expected.shape)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10)
    for bad in (lambda: mg.mm(mg.tensor(v), mg.tensor(b)), lambda: mg.bmm(mg.tensor(a), mg.tensor(b)),
                lambda: mg.dot(mg.tensor(v), mg.tensor(v[:2])), lambda: mg.mv(mg.tensor(a), mg.tensor(a))):
        with pytest.raises(RuntimeError):
            bad()


# --- triangles, diagonals, trace, cdist ------------------------------------------------------

@gradient_test_for("tril", "triu")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(min_dims=2, max_dims=3)), st.integers(-2, 2))
def test_tril_triu_gradient(device, x, diagonal):
    check_gradients(lambda a: mg.tril(a, diagonal) * 2 + mg.triu(a, diagonal) ** 2, x, device=device)


@gradient_test_for("diagonal", "trace")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(min_dims=2, max_dims=3)), st.integers(-2, 2))
def test_diagonal_and_trace_gradient(device, x, offset):
    check_gradients(lambda a: mg.diagonal(a, offset, 0, -1) ** 2, x, device=device)
    check_gradients(lambda a: mg.trace(a[..., 0] if a.ndim == 3 else a) ** 2, x, device=device)


@gradient_test_for("diag")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(min_dims=1, max_dims=2)), st.integers(-2, 2))
def test_diag_gradient(device, x, diagonal):
    check_gradients(lambda a: mg.diag(a, diagonal) ** 2, x, device=device)


def test_triangles_and_diagonals_match_torch():
    torch = pytest.importorskip("torch")
    values = np.arange(24.0).reshape(2, 3, 4)
    x, t = mg.tensor(values), torch.tensor(values)
    cases = [
        lambda lib, a: lib.tril(a), lambda lib, a: lib.triu(a, 1), lambda lib, a: a.tril(-1), lambda lib, a: a.triu(-5),
        lambda lib, a: lib.diagonal(a), lambda lib, a: lib.diagonal(a, 1, 1, 2), lambda lib, a: a.diagonal(-1, -1, -2),
        lambda lib, a: lib.diag(a[0]), lambda lib, a: lib.diag(a[0], 2), lambda lib, a: lib.diag(a[0, 0]),
        lambda lib, a: lib.diag(a[0, 0], -1), lambda lib, a: lib.trace(a[0]), lambda lib, a: a[1].trace(),
        lambda lib, a: lib.diag_embed(a), lambda lib, a: lib.diagonal(a, 9),
    ]
    for case in cases:
        expected, got = case(torch, t), case(mg, x)
        assert got.shape == tuple(expected.shape)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    assert mg.trace(mg.tensor([[1, 2], [3, 4]])).dtype == mg.int64


@gradient_test_for("cdist")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
@given(data=st.data())
def test_cdist_gradient(device, p, data):
    n, m, d = (data.draw(st.integers(1, 3)) for _ in range(3))
    x1 = data.draw(arrays((n, d)))
    x2 = x1[:1] + data.draw(arrays((m, d), st.sampled_from([0.5, -0.7, 1.1])))  # no zero distances
    check_gradients(lambda a, b: mg.cdist(a, b, p), x1, x2, device=device)


def test_cdist_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    for p in (0.0, 1.0, 2.0, 3.0, float("inf")):
        np.testing.assert_allclose(mg.cdist(mg.tensor(a), mg.tensor(b), p).numpy(),
                                   torch.cdist(torch.tensor(a), torch.tensor(b), p).numpy(), rtol=1e-10)


@pytest.mark.parametrize("dtype", ["bool", "int64", "float32", "float64"])
def test_triangles_keep_the_dtype_as_torch(dtype):
    torch = pytest.importorskip("torch")
    values = np.arange(1, 13).reshape(3, 4) % 3
    x, t = mg.tensor(values.astype(dtype)), torch.tensor(values.astype(dtype))
    for name, diagonal in (("tril", 0), ("triu", 1), ("tril", -1)):
        mine, theirs = getattr(mg, name)(x, diagonal), getattr(torch, name)(t, diagonal)
        assert str(mine.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


# --- inner, kron, cross ---------------------------------------------------------------------------

@st.composite
def inner_operands(draw):
    k = draw(st.integers(1, 3))
    a = draw(arrays(st.just(draw(shapes(max_dims=2)) + (k,))))
    b = draw(arrays(st.just(draw(shapes(max_dims=2)) + (k,))))
    return a, b


@gradient_test_for("inner")
@pytest.mark.parametrize("device", DEVICES)
@given(inner_operands())
def test_inner_gradient(device, ab):
    check_gradients(mg.inner, *ab, device=device)


@gradient_test_for("kron")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(max_dims=3, max_side=3)), arrays(shapes(max_dims=3, max_side=3)))
def test_kron_gradient(device, a, b):
    check_gradients(mg.kron, a, b, device=device)


@gradient_test_for("cross")
@pytest.mark.parametrize("device", DEVICES)
@given(st.integers(0, 2).flatmap(lambda dim: st.tuples(
    st.just(dim), arrays(st.just((2, 2, 2)[:dim] + (3,) + (2, 2)[dim:2])),
    arrays(st.just((1, 2, 1)[:dim] + (3,) + (2, 1)[dim:2])))))
def test_cross_gradient(device, case):
    dim, a, b = case
    check_gradients(lambda u, v: mg.cross(u, v, dim=dim), a, b, device=device)


@pytest.mark.parametrize("name, shapes_, kwargs", [
    ("inner", [(3, 2, 4), (5, 4)], {}), ("inner", [(4,), (4,)], {}), ("inner", [(), (2, 3)], {}),
    ("kron", [(3, 2), (2, 4, 3)], {}), ("kron", [(), (2,)], {}), ("kron", [(2, 1, 3), (3,)], {}),
    ("cross", [(2, 3, 4), (1, 3, 1)], dict(dim=1)), ("cross", [(4, 3), (4, 3)], dict(dim=-1)),
])
def test_products_match_torch(name, shapes_, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64, np.int64):
        arrays_ = [(rng.normal(size=s) * 3).astype(dtype) for s in shapes_]
        mine = getattr(mg, name)(*map(mg.tensor, arrays_), **kwargs)
        theirs = getattr(torch, name)(*map(torch.tensor, arrays_), **kwargs)
        assert mine.dtype == np.dtype(str(theirs.dtype).removeprefix("torch.")) and mine.shape == tuple(theirs.shape)
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5)


def test_cross_default_dim_and_errors_are_torchs():
    a, b = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]]), np.array([[4.0, 5.0, 6.0], [1.0, 0.0, 0.0]])
    with pytest.warns(UserWarning, match="without specifying the dim"):
        out = mg.cross(mg.tensor(a), mg.tensor(b))  # the first dim of size 3: dim 1
    np.testing.assert_array_equal(out.numpy(), [[-3.0, 6.0, -3.0], [0.0, 0.0, -1.0]])
    assert mg.tensor(a).cross(mg.tensor(b), dim=1).tolist() == out.tolist()
    with pytest.raises(RuntimeError, match="dimension 0 must have length 3. Got 2 and 2"):
        mg.cross(mg.tensor(a), mg.tensor(b), dim=0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        mg.cross(mg.tensor(a), mg.tensor(b[0]), dim=-1)
    with pytest.raises(RuntimeError, match="last dimension must match"):
        mg.inner(mg.ones(3), mg.ones(2))
    assert mg.ones(2).inner(mg.ones(2)).item() == 2.0 and mg.ones(2).kron(mg.ones(3)).shape == (6,)


def test_matmul_linear_einsum_errors_are_runtime_errors_as_torch():
    torch = pytest.importorskip("torch")
    calls = [
        lambda lib: lib.matmul(lib.ones(3, 4), lib.ones(3, 2)),
        lambda lib: lib.matmul(lib.ones(2, 3, 4), lib.ones(5, 4, 2)),
        lambda lib: lib.matmul(lib.ones(3, 4), lib.ones(4, 2, dtype=lib.float64)),
        lambda lib: lib.matmul(lib.ones(()), lib.ones(3)),
        lambda lib: lib.ones(3, 4) @ lib.ones(3),
        lambda lib: lib.nn.functional.linear(lib.ones(3, 4), lib.ones(2, 4, dtype=lib.float64)),
        lambda lib: lib.nn.functional.linear(lib.ones(3, 4), lib.ones(2, 3)),
        lambda lib: lib.einsum("ij,jk->ik", lib.ones(2, 3), lib.ones(3, 2, dtype=lib.float64)),
    ]
    for call in calls:
        with pytest.raises(RuntimeError):
            call(torch)
        with pytest.raises(RuntimeError) as ours:
            call(mg)
        assert "\n" not in str(ours.value)
    with pytest.raises(RuntimeError, match=r"batch dims \(2,\) and \(5,\) of shapes \(2, 3, 4\) and \(5, 4, 2\)"):
        mg.matmul(mg.ones(2, 3, 4), mg.ones(5, 4, 2))
