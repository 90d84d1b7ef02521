"""minigrad/ops/shape.py: reshape, view, flatten, permute, transpose, squeeze, unsqueeze, expand,
indexing, cat, stack, pad and embedding. Their backward only moves gradient elements back."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import minigrad.nn.functional as F
from helpers import DEVICES, array_and_dim, arrays, check_gradients, floats, gradient_test_for, shapes


@st.composite
def array_and_new_shape(draw):
    """An array and another shape of the same size (possibly with one -1)."""
    x = draw(arrays(shapes()))
    size = x.size
    candidates = [x.shape[::-1], (size,), (-1,), (1, size), (size, 1, 1), (-1, 1)]
    for split in range(1, x.ndim):
        candidates.append((int(np.prod(x.shape[:split])), -1))
    return x, draw(st.sampled_from(candidates))


@st.composite
def array_and_permutation(draw):
    x = draw(arrays(shapes()))
    order = draw(st.permutations(range(x.ndim)))
    negative = draw(st.lists(st.booleans(), min_size=x.ndim, max_size=x.ndim))
    return x, tuple(d - x.ndim if flip else d for d, flip in zip(order, negative))


@st.composite
def array_and_expanded_shape(draw):
    """An array with some dims of size 1, and a shape it broadcasts to (with new leading
    dims, and -1 for dims kept as they are)."""
    shape = draw(shapes(max_dims=3, max_side=3))
    x = draw(arrays(tuple(n if draw(st.booleans()) else 1 for n in shape)))
    target = [draw(st.integers(1, 3)) if n == 1 else draw(st.sampled_from([n, -1])) for n in x.shape]
    leading = draw(st.lists(st.integers(1, 3), max_size=2))
    return x, tuple(leading + target)


@st.composite
def array_and_index(draw):
    """An array and an index into it: basic (ints, slices, None, ...), integer arrays with
    repeats (whose gradients add up), a boolean mask, or a slice mixed with an integer array."""
    x = draw(arrays(shapes(min_dims=1)))
    kind = draw(st.sampled_from(["basic", "integer", "mask", "mixed"]))
    if kind == "basic":
        key = draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True).map(_forward_steps))
    elif kind == "integer":
        key = draw(hnp.integer_array_indices(x.shape, result_shape=shapes(max_dims=2)))
    elif kind == "mask":
        key = draw(hnp.arrays(np.bool_, x.shape))
    else:
        columns = draw(hnp.arrays(np.int64, draw(shapes(min_dims=1, max_dims=1)),
                                  elements=st.integers(-x.shape[-1], x.shape[-1] - 1)))
        key = (Ellipsis, columns) if x.ndim > 1 else columns
    return x, key


def _forward_steps(key):
    """The key with every slice's step made positive: PyTorch (and minigrad) refuse negative steps."""
    def forward(part):
        return slice(part.start, part.stop, abs(part.step)) if isinstance(part, slice) and part.step else part
    return tuple(forward(part) for part in key) if isinstance(key, tuple) else forward(key)


@st.composite
def arrays_to_join(draw, stack):
    """1 to 3 arrays that cat (equal but for `dim`) or stack (equal shapes) can join, and dim."""
    shape = draw(shapes(min_dims=0 if stack else 1, max_dims=3))
    rank = len(shape) + (1 if stack else 0)
    dim = draw(st.integers(-rank, rank - 1))
    count = draw(st.integers(1, 3))
    if stack:
        return [draw(arrays(shape)) for _ in range(count)], dim
    sizes = draw(st.lists(st.integers(1, 3), min_size=count, max_size=count))
    axis = dim % len(shape)
    return [draw(arrays(shape[:axis] + (n,) + shape[axis + 1:])) for n in sizes], dim


# --- gradients ----------------------------------------------------------------------------

@gradient_test_for("Reshape")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_new_shape())
def test_reshape_gradient(device, case):
    x, shape = case
    check_gradients(lambda a: a.reshape(shape), x, device=device)


@gradient_test_for("view")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_new_shape())
def test_view_gradient(device, case):
    x, shape = case
    check_gradients(lambda a: a.view(*shape), x, device=device)


@gradient_test_for("flatten")
@pytest.mark.parametrize("device", DEVICES)
@given(st.data())
def test_flatten_gradient(device, data):
    x = data.draw(arrays(shapes()))
    rank = max(x.ndim, 1)
    start = data.draw(st.integers(0, rank - 1))
    end = data.draw(st.integers(start, rank - 1))
    start, end = data.draw(st.sampled_from([start, start - rank])), data.draw(st.sampled_from([end, end - rank]))
    check_gradients(lambda a: mg.flatten(a, start, end), x, device=device)


@gradient_test_for("Permute")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_permutation())
def test_permute_gradient(device, case):
    x, dims = case
    check_gradients(lambda a: a.permute(*dims), x, device=device)


@gradient_test_for("transpose")
@pytest.mark.parametrize("device", DEVICES)
@given(st.data())
def test_transpose_gradient(device, data):
    x = data.draw(arrays(shapes(min_dims=1)))
    dim0, dim1 = data.draw(st.integers(-x.ndim, x.ndim - 1)), data.draw(st.integers(-x.ndim, x.ndim - 1))
    check_gradients(lambda a: a.transpose(dim0, dim1), x, device=device)


@gradient_test_for("squeeze")
@pytest.mark.parametrize("device", DEVICES)
@given(st.data())
def test_squeeze_gradient(device, data):
    x = data.draw(arrays(shapes(max_side=2)))  # many dims of size 1
    rank = max(x.ndim, 1)
    dim = data.draw(st.none() | st.integers(-rank, rank - 1))
    check_gradients(lambda a: a.squeeze(dim), x, device=device)


@gradient_test_for("unsqueeze")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_dim(min_dims=0, extra_dim=1))
def test_unsqueeze_gradient(device, case):
    x, dim = case
    check_gradients(lambda a: a.unsqueeze(dim), x, device=device)


@gradient_test_for("Expand")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_expanded_shape())
def test_expand_gradient(device, case):
    x, shape = case
    check_gradients(lambda a: a.expand(*shape), x, device=device)


@gradient_test_for("Index", "ScatterAdd")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_index())
def test_index_gradient(device, case):
    """Index's backward is a ScatterAdd, and ScatterAdd's is an Index: the second-order check
    differentiates both (repeated indices included)."""
    x, key = case
    check_gradients(lambda a: a[key], x, device=device)


@gradient_test_for("Cat")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays_to_join(stack=False))
def test_cat_gradient(device, case):
    xs, dim = case
    check_gradients(lambda *ts: mg.cat(ts, dim), *xs, device=device)


@gradient_test_for("Stack")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays_to_join(stack=True))
def test_stack_gradient(device, case):
    xs, dim = case
    check_gradients(lambda *ts: mg.stack(ts, dim), *xs, device=device)


@gradient_test_for("Pad")
@pytest.mark.parametrize("device", DEVICES)
@given(st.data())
def test_pad_gradient(device, data):
    x = data.draw(arrays(shapes(min_dims=1)))
    dims = data.draw(st.integers(1, x.ndim))
    widths = data.draw(st.lists(st.integers(0, 2), min_size=2 * dims, max_size=2 * dims))
    value = data.draw(floats())
    check_gradients(lambda a: F.pad(a, widths, value=value), x, device=device)


@gradient_test_for("embedding")
@pytest.mark.parametrize("device", DEVICES)
@given(st.data())
def test_embedding_gradient(device, data):
    """Indices repeat, so rows used several times get the sum of their gradients."""
    weight = data.draw(arrays(shapes(min_dims=2, max_dims=2)))
    indices = data.draw(hnp.arrays(np.int64, shapes(max_dims=2), elements=st.integers(0, weight.shape[0] - 1)))
    check_gradients(lambda i, w: F.embedding(i, w), indices, weight, device=device)


# --- known values -------------------------------------------------------------------------

def test_reshape_view_and_flatten_shapes():
    x = mg.arange(24).reshape(2, 3, 4)
    assert x.shape == (2, 3, 4)
    assert x.view(6, -1).shape == (6, 4)
    assert x.reshape((4, 6)).shape == (4, 6)
    assert x.flatten().shape == (24,)
    assert x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).shape == (6, 4)
    assert mg.flatten(x, -2, -1).shape == (2, 12)
    assert mg.tensor(5.0).flatten().shape == (1,)
    np.testing.assert_array_equal(x.flatten().numpy(), np.arange(24))


def test_permute_and_transpose_values():
    x = mg.tensor(np.arange(6.0).reshape(1, 2, 3), requires_grad=True)
    y = x.permute(2, 0, 1)
    assert y.shape == (3, 1, 2)
    np.testing.assert_array_equal(y.numpy()[:, 0, :], [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]])
    assert x.transpose(0, 2).shape == (3, 2, 1) and x.transpose(-1, -2).shape == (1, 3, 2)
    (y * mg.arange(3.0).reshape(3, 1, 1)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]])
    m = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(m.T.numpy(), [[1.0, 3.0], [2.0, 4.0]])


def test_squeeze_and_unsqueeze_shapes():
    x = mg.zeros(1, 3, 1, 2)
    assert x.squeeze().shape == (3, 2)
    assert x.squeeze(0).shape == (3, 1, 2)
    assert x.squeeze(1).shape == (1, 3, 1, 2)  # size 3: left alone, as in PyTorch
    assert x.squeeze(-2).shape == (1, 3, 2)
    assert x.unsqueeze(0).shape == (1, 1, 3, 1, 2)
    assert x.unsqueeze(-1).shape == (1, 3, 1, 2, 1)
    assert mg.zeros(2, 3).unsqueeze(1).shape == (2, 1, 3)


def test_expand_keeps_minus_one_dims_and_sums_the_gradient():
    x = mg.tensor([[1.0], [2.0]], requires_grad=True)
    y = x.expand(3, -1, 4)
    assert y.shape == (3, 2, 4)
    np.testing.assert_array_equal(y.numpy()[2, 1], [2.0] * 4)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[12.0], [12.0]])


def test_index_gradient_adds_up_repeated_indices():
    x = mg.tensor([10.0, 20.0, 30.0], requires_grad=True)
    y = x[[0, 2, 0, 0]]
    np.testing.assert_array_equal(y.numpy(), [10.0, 30.0, 10.0, 10.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_index_with_slices_ints_and_masks():
    x = mg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    np.testing.assert_array_equal(x[1].numpy(), [4.0, 5.0, 6.0, 7.0])
    np.testing.assert_array_equal(x[:, 1::2].numpy(), [[1.0, 3.0], [5.0, 7.0], [9.0, 11.0]])
    assert x[2, 3].item() == 11.0
    y = x[x > 8.5]
    np.testing.assert_array_equal(y.numpy(), [9.0, 10.0, 11.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0] * 4, [0.0] * 4, [0.0, 1.0, 1.0, 1.0]])


def test_cat_and_stack_values_and_gradients():
    a = mg.tensor([[1.0, 2.0]], requires_grad=True)
    b = mg.tensor([[3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    c = mg.cat([a, b])
    np.testing.assert_array_equal(c.numpy(), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    (c * mg.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[1.0, 1.0]])
    np.testing.assert_array_equal(b.grad.numpy(), [[2.0, 2.0], [3.0, 3.0]])
    s = mg.stack([mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0])], dim=1)
    np.testing.assert_array_equal(s.numpy(), [[1.0, 3.0], [2.0, 4.0]])
    assert mg.stack([mg.zeros(2, 3)] * 4, dim=-1).shape == (2, 3, 4)


def test_pad_lists_pairs_from_the_last_dim():
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    y = F.pad(x, (1, 2, 1, 0), value=-1.0)
    np.testing.assert_array_equal(y.numpy(), [[-1.0, -1.0, -1.0, -1.0, -1.0],
                                              [-1.0, 1.0, 2.0, -1.0, -1.0]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 1.0]])


def test_pad_value_none_means_zero_as_pytorch():
    np.testing.assert_array_equal(F.pad(mg.tensor([1.0]), (1, 1), value=None).numpy(), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(F.pad(mg.tensor([7]), (1, 0), value=None).numpy(), [0, 7])
    np.testing.assert_array_equal(F.pad(mg.tensor([7]), (0, 1)).numpy(), [7, 0])


def test_embedding_picks_rows():
    weight = mg.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], requires_grad=True)
    out = F.embedding(mg.tensor([[2, 0], [2, 2]]), weight)
    np.testing.assert_array_equal(out.numpy(), [[[4.0, 5.0], [0.0, 1.0]], [[4.0, 5.0], [4.0, 5.0]]])
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), [[1.0, 1.0], [0.0, 0.0], [3.0, 3.0]])


# --- errors -------------------------------------------------------------------------------

def test_reshape_to_a_wrong_size_names_the_shape():
    with pytest.raises(RuntimeError, match=r"^shape '\[4, 2\]' is invalid for input of size 6 \(a tensor of shape \(2, 3\)\)$"):
        mg.zeros(2, 3).reshape(4, 2)


def test_permute_needs_an_ordering_of_the_dims():
    with pytest.raises(ValueError, match=r"permute: \(0, 0\) is not an ordering of the 2 dims"):
        mg.zeros(2, 3).permute(0, 0)


def test_stack_needs_equal_shapes():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2\] at entry 0 and \[3\] at entry 1"):
        mg.stack([mg.zeros(2), mg.zeros(3)])


def test_expand_errors():
    with pytest.raises(ValueError, match="cannot expand shape .* to fewer dims"):
        mg.zeros(2, 3).expand(3)
    with pytest.raises(ValueError, match=r"-1 .* not allowed in a new leading dim"):
        mg.zeros(2).expand(-1, 2)


def test_cat_needs_tensors():
    with pytest.raises(ValueError, match="at least one tensor"):
        mg.cat([])
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):  # as PyTorch (stack of none is a RuntimeError)
        torch.cat([])


def test_pad_errors():
    with pytest.raises(ValueError, match=r"\(before, after\) pairs"):
        F.pad(mg.zeros(2, 2), (1, 2, 3))
    with pytest.raises(ValueError, match="negative padding"):
        F.pad(mg.zeros(2, 2), (-1, 1))
    with pytest.raises(NotImplementedError, match="circular"):
        F.pad(mg.zeros(2, 2), (1, 1), mode="circular")


def test_embedding_needs_integer_indices():
    with pytest.raises(TypeError, match="expected integer indices, got float32"):
        F.embedding(mg.tensor([0.0, 1.0]), mg.zeros(3, 2))


# Each op with the rank its `dim` is checked against, as PyTorch: the tensor's ndim, one more when
# the op inserts a dim, and at least 1 (a 0-d tensor accepts 0 and -1).
DIM_OPS = {
    "unsqueeze": (lambda x, d: x.unsqueeze(d), 1),
    "stack": (lambda x, d: mg.stack([x, x], dim=d), 1),
    "squeeze": (lambda x, d: x.squeeze(d), 0),
    "transpose": (lambda x, d: x.transpose(0 if x.ndim else -1, d), 0),
    "permute": (lambda x, d: x.permute(*[d if i == d % x.ndim else i for i in range(x.ndim)]), 0),
    "flatten": (lambda x, d: x.flatten(d), 0),
    "cat": (lambda x, d: mg.cat([x, x], dim=d), 0),
    "softmax": (lambda x, d: x.softmax(d), 0),
    "argmax": (lambda x, d: x.argmax(d), 0),
}


@pytest.mark.parametrize("name", sorted(DIM_OPS))
@pytest.mark.parametrize("shape", [(2, 3), (4,), ()])
def test_a_dim_out_of_range_is_an_index_error_as_in_pytorch(name, shape):
    """Formerly unsqueeze(5) on a (2, 3) tensor gave (2, 3, 1), flatten(3) and stack(dim=-4) ran,
    and transpose(0, 4) / cat(dim=3) failed with 'list/tuple index out of range'."""
    op, extra = DIM_OPS[name]
    x = mg.zeros(shape)
    if name in ("cat", "permute") and not shape:
        return  # a 0-d tensor cannot be concatenated, and permutes only with no dims at all
    rank = max(len(shape) + extra, 1)
    for dim in range(-rank - 2, rank + 2):
        if -rank <= dim < rank:
            op(x, dim)
            continue
        expected = rf"Dimension out of range \(expected to be in range of \[{-rank}, {rank - 1}\], but got {dim}\)"
        with pytest.raises(IndexError, match=rf"{name}: {expected} .*shape {re_shape(shape)}"):
            op(x, dim)


def re_shape(shape):
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


def test_dim_errors_name_the_argument():
    x = mg.zeros(2, 3)
    with pytest.raises(IndexError, match=r"transpose: .*but got 4\) for dim1 of a tensor of shape \(2, 3\)"):
        x.transpose(0, 4)
    with pytest.raises(IndexError, match=r"transpose: .*but got -3\) for dim0"):
        x.transpose(-3, 0)
    with pytest.raises(IndexError, match=r"flatten: .*but got 2\) for end_dim"):
        x.flatten(0, 2)
    with pytest.raises(RuntimeError, match=r"flatten: start_dim \(1\) cannot come after end_dim \(0\)"):
        x.flatten(1, 0)
    with pytest.raises(ValueError, match=r"permute: \(0, 1, 2\) is not an ordering of the 2 dims"):
        x.permute(0, 1, 2)
    with pytest.raises(TypeError):
        x.unsqueeze(1.5)
    with pytest.raises(IndexError, match=r"Unflatten: .*but got 2\)"):
        mg.nn.Unflatten(2, (3, 1))(x)
    assert x.unsqueeze(np.int64(-1)).shape == (2, 3, 1)
    assert mg.tensor(1.0).transpose(0, -1).shape == ()
    assert mg.tensor(1.0).flatten(-1, 0).shape == (1,)


def test_embedding_index_out_of_range_is_an_index_error_as_in_pytorch():
    """Formerly index -1 quietly returned the last row (NumPy's negative indexing)."""
    weight = mg.randn(3, 2)
    for bad in ([-1], [0, 3], [[1, 2], [-4, 0]]):
        with pytest.raises(IndexError, match=r"embedding: index out of range in self: got index -?\d for "
                                             r"a weight of shape \(3, 2\) \(valid indices are 0 to 2\)"):
            F.embedding(mg.tensor(bad), weight)
    with pytest.raises(IndexError, match="index out of range in self: got index -1"):
        mg.nn.Embedding(3, 2)(mg.tensor([2, -1]))
    assert F.embedding(mg.tensor([2, 0]), weight).shape == (2, 2)
    assert F.embedding(mg.zeros(0, dtype=mg.int64), weight).shape == (0, 2)
# --- reflect / replicate padding, interpolate, pixel_shuffle ------------------------------------

@st.composite
def edge_pad_cases(draw):
    """An input of 1-3 padded dims after one or two leading dims, and pads that fit (reflect: < size)."""
    padded_dims = draw(st.integers(1, 3))
    leading = draw(st.integers(1, 2))
    shape = tuple(draw(st.integers(1, 3)) for _ in range(leading)) + \
        tuple(draw(st.integers(2, 4)) for _ in range(padded_dims))
    mode = draw(st.sampled_from(["reflect", "replicate"]))
    pad = []
    for i in range(padded_dims):
        size = shape[-1 - i]
        high = size - 1 if mode == "reflect" else 3
        pad += [draw(st.integers(0, high)), draw(st.integers(0, high))]
    return draw(arrays(shape)), tuple(pad), mode


@gradient_test_for("pad_by_index")
@pytest.mark.parametrize("device", DEVICES)
@given(edge_pad_cases())
def test_reflect_and_replicate_pad_gradient(device, case):
    x, pad, mode = case
    check_gradients(lambda a: F.pad(a, pad, mode=mode), x, device=device)


def test_reflect_and_replicate_pad_values():
    x = mg.tensor([[[1.0, 2.0, 3.0]]])
    assert F.pad(x, (2, 1), mode="reflect").tolist() == [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]
    assert F.pad(x, (2, 1), mode="replicate").tolist() == [[[1.0, 1.0, 1.0, 2.0, 3.0, 3.0]]]
    with pytest.raises(ValueError, match="smaller than the size 3"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="last 1, 2 or 3 dims"):
        F.pad(mg.zeros(2, 3, 4, 5), (1, 1), mode="reflect")


def test_reflect_pad_backward_keeps_a_channels_last_gradient_channels_last():
    """The gradient that reaches a reflection pad from a conv is channels-last; the pad's backward
    (ScatterAdd) gives the input's gradient in that memory order, with the same values as NCHW."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 3, 5, 4)), requires_grad=True)
    upstream = rng.standard_normal((2, 7, 6, 3))                  # NHWC memory ...
    F.pad(x, (1, 1, 1, 1), mode="reflect").backward(mg.from_numpy(upstream.transpose(0, 3, 1, 2)))
    channels_last = x.grad.numpy()
    assert np.argsort(channels_last.strides)[::-1].tolist() == [0, 2, 3, 1]  # ... stays NHWC
    x.grad = None
    F.pad(x, (1, 1, 1, 1), mode="reflect").backward(mg.tensor(np.ascontiguousarray(upstream.transpose(0, 3, 1, 2))))
    assert x.grad.numpy().flags.c_contiguous
    np.testing.assert_array_equal(channels_last, x.grad.numpy())


@st.composite
def interpolate_cases(draw):
    mode = draw(st.sampled_from(["nearest", "linear", "bilinear"]))
    spatial = {"linear": 1, "bilinear": 2}.get(mode, draw(st.integers(1, 2)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + tuple(draw(st.integers(1, 4)) for _ in range(spatial))
    options = {}
    if draw(st.booleans()):
        options["size"] = tuple(draw(st.integers(1, 6)) for _ in range(spatial))
    else:
        options["scale_factor"] = draw(st.sampled_from([0.5, 1.5, 2, 3]))
        if min(int(n * options["scale_factor"]) for n in shape[2:]) < 1:
            options["scale_factor"] = 2
    if mode != "nearest":
        options["align_corners"] = draw(st.booleans())
    return draw(arrays(shape)), mode, options


@gradient_test_for("interpolate")
@pytest.mark.parametrize("device", DEVICES)
@given(interpolate_cases())
def test_interpolate_gradient(device, case):
    x, mode, options = case
    check_gradients(lambda a: F.interpolate(a, mode=mode, **options), x, device=device)


def test_interpolate_checks_its_arguments():
    x = mg.zeros(1, 1, 2, 2)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="needs 3-D input"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(x, scale_factor=2, mode="bicubic")


@gradient_test_for("pixel_shuffle")
@pytest.mark.parametrize("device", DEVICES)
@given(st.integers(1, 2), st.integers(1, 2), st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.data())
def test_pixel_shuffle_gradient(device, n, c, r, h, w, data):
    x = data.draw(arrays((n, c * r * r, h, w)))
    check_gradients(lambda a: F.pixel_shuffle(a, r), x, device=device)


def test_pixel_shuffle_layout():
    x = mg.arange(8).reshape(1, 4, 1, 2)
    assert F.pixel_shuffle(x, 2).tolist() == [[[[0, 2, 1, 3], [4, 6, 5, 7]]]]
    with pytest.raises(ValueError, match="pixel_shuffle"):
        F.pixel_shuffle(mg.zeros(1, 3, 2, 2), 2)


# --- recorded item assignment: x[key] = y with a gradient flowing -------------------------------

@gradient_test_for("IndexPut")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_index(), st.data())
def test_index_put_gradient(device, case, data):
    """x[key] = values, out of place: x's gradient is zero where it was overwritten, values get
    the gradient there. Repeated integer indices are left out: which duplicate wins is unspecified."""
    x, key = case
    target = x[key]
    written = np.arange(x.size).reshape(x.shape)[key]
    assume(len(np.unique(written)) == written.size)
    values = data.draw(arrays(st.just(target.shape)))
    check_gradients(lambda a, v: mg.ops.index_put(a, key, v), x, values, device=device)


def test_item_assignment_records_the_gradient_of_the_value_and_of_the_rest(device):
    w = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    x = mg.zeros(4, device=device)
    x[1:3] = w * 3                       # x does not require grad; the value does
    (x * x).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [18.0, 36.0])   # d/dw sum((3w)^2) = 18 w
    a = mg.tensor([1.0, -2.0, 3.0], device=device, requires_grad=True)
    h = a * 2
    h[h < 0] = 0.0                       # a non-leaf that requires grad, a constant value
    h.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 0.0, 2.0])


def test_item_assignment_after_a_tensor_was_used_is_refused_at_backward(device):
    """The earlier use must see the old x: rather than a silent wrong gradient, an error."""
    b = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    h = b * 1
    z = h + 1
    h[0] = b[1] * 5
    with pytest.raises(RuntimeError, match="in-place"):
        z.sum().backward()


def test_item_assignment_into_a_leaf_that_requires_grad_is_refused(device):
    w = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        w[0] = mg.tensor(3.0, device=device, requires_grad=True)


# --- one_hot -------------------------------------------------------------------------------------

def test_one_hot_shapes_values_and_inferred_class_count():
    labels = mg.tensor([[0, 2], [1, 1]])
    out = F.one_hot(labels, 4)
    assert out.shape == (2, 2, 4) and out.dtype == mg.int64 and not out.requires_grad
    assert np.array_equal(out.array[0, 1], [0, 0, 1, 0])
    assert np.array_equal(out.array.argmax(-1), labels.array)
    assert F.one_hot(labels).shape == (2, 2, 3)  # num_classes=-1: the largest index + 1


def test_one_hot_refuses_what_pytorch_refuses():
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(mg.tensor([-1, 2]), 3)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(mg.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="index tensor"):
        F.one_hot(mg.tensor([1.0]))
    with pytest.raises(RuntimeError, match="empty"):
        F.one_hot(mg.tensor([], dtype=mg.int64))


# --- flip, roll, rot90, repeat and the slicing helpers ------------------------------------------

@gradient_test_for("flip")
@pytest.mark.parametrize("device", DEVICES)
@given(st.data())
def test_flip_gradient(device, data):
    x = data.draw(arrays(shapes(min_dims=1)))
    dims = data.draw(hnp.valid_tuple_axes(x.ndim, min_size=1))
    check_gradients(lambda a: mg.flip(a, dims) * mg.tensor(np.arange(x.size).reshape(x.shape) + 1.0, device=device),
                    x, device=device)


@gradient_test_for("roll")
@pytest.mark.parametrize("device", DEVICES)
@given(array_and_dim(), st.integers(-5, 5), st.booleans())
def test_roll_gradient(device, case, shift, flattened):
    x, dim = case
    weights = mg.tensor(np.arange(x.size).reshape(x.shape) + 1.0, device=device)
    check_gradients(lambda a: mg.roll(a, shift, None if flattened else dim) * weights, x, device=device)


@gradient_test_for("rot90")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(min_dims=2, max_dims=3)), st.integers(-4, 4))
def test_rot90_gradient(device, x, k):
    check_gradients(lambda a: mg.rot90(a, k, (0, 1)) ** 2, x, device=device)


@gradient_test_for("repeat")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes(max_dims=3, max_side=3)), st.lists(st.integers(1, 3), min_size=3, max_size=4))
def test_repeat_gradient(device, x, sizes):
    check_gradients(lambda a: a.repeat(*sizes) ** 2, x, device=device)


@pytest.mark.parametrize("device", DEVICES)
@given(array_and_dim(), st.integers(1, 3))
def test_split_chunk_unbind_narrow_select_gradient(device, case, size):
    x, dim = case

    def pieces(a):
        parts = mg.split(a, size, dim) + mg.chunk(a, 2, dim) + mg.unbind(a, dim)
        parts += (a.narrow(dim, 0, 1), a.select(dim, -1))
        return mg.cat([p.reshape(-1) * (i + 1) for i, p in enumerate(parts)])
    check_gradients(pieces, x, device=device)


def test_flip_roll_rot90_repeat_tile_match_torch():
    torch = pytest.importorskip("torch")
    values = np.arange(24.0).reshape(2, 3, 4)
    x, t = mg.tensor(values), torch.tensor(values)
    cases = [
        lambda lib, a: lib.flip(a, (0, 2)), lambda lib, a: a.flip(-1), lambda lib, a: lib.fliplr(a[0]),
        lambda lib, a: lib.flipud(a[0]), lambda lib, a: lib.roll(a, 5), lambda lib, a: lib.roll(a, (1, -2), (0, 2)),
        lambda lib, a: a.roll(-1, 1), lambda lib, a: lib.rot90(a), lambda lib, a: lib.rot90(a, 2, (1, 2)),
        lambda lib, a: lib.rot90(a, -1, (2, 0)), lambda lib, a: a.repeat(2, 1, 1, 2), lambda lib, a: a.repeat(1, 1, 1),
        lambda lib, a: lib.tile(a, (2,)), lambda lib, a: a.tile(2, 1, 1, 1), lambda lib, a: lib.movedim(a, 0, -1),
        lambda lib, a: lib.movedim(a, (0, 1), (2, 0)), lambda lib, a: lib.broadcast_to(a[0, 0], (3, 4)),
        lambda lib, a: a.narrow(2, -3, 2), lambda lib, a: a.select(1, -1), lambda lib, a: a.view_as(a.reshape(6, 4)),
        lambda lib, a: a.reshape_as(a.reshape(4, 6)), lambda lib, a: a.mT, lambda lib, a: a.swapaxes(0, 2),
    ]
    for case in cases:
        expected, got = case(torch, t), case(mg, x)
        assert got.shape == tuple(expected.shape)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_split_chunk_unbind_tensor_split_match_torch():
    torch = pytest.importorskip("torch")
    values = np.arange(35.0).reshape(5, 7)
    x, t = mg.tensor(values), torch.tensor(values)
    cases = [
        lambda lib, a: lib.split(a, 2), lambda lib, a: a.split([1, 4, 2], 1), lambda lib, a: lib.split(a, 3, -1),
        lambda lib, a: lib.chunk(a, 3), lambda lib, a: a.chunk(4, 1), lambda lib, a: a.chunk(6, 0),
        lambda lib, a: lib.unbind(a, 1), lambda lib, a: lib.tensor_split(a, 3, 1),
        lambda lib, a: lib.tensor_split(a, [1, 4], 0), lambda lib, a: lib.split(a[:0], 2),
    ]
    for case in cases:
        expected, got = case(torch, t), case(mg, x)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == tuple(e.shape)
            np.testing.assert_array_equal(g.numpy(), e.numpy())
    with pytest.raises(RuntimeError, match="sum exactly"):
        x.split([1, 2], 0)


def test_meshgrid_matches_torch():
    torch = pytest.importorskip("torch")
    a, b, c = [1.0, 2.0, 3.0], [4.0, 5.0], [6.0, 7.0, 8.0, 9.0]
    for indexing in ("ij", "xy"):
        expected = torch.meshgrid(torch.tensor(a), torch.tensor(b), torch.tensor(c), indexing=indexing)
        got = mg.meshgrid(mg.tensor(a), mg.tensor(b), mg.tensor(c), indexing=indexing)
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g.numpy(), e.numpy())
    got = mg.meshgrid([mg.tensor(a), mg.tensor(b)])
    assert [g.shape for g in got] == [(3, 2), (3, 2)]


def test_repeat_needs_as_many_sizes_as_dims():
    with pytest.raises(RuntimeError, match="repeat dims"):
        mg.zeros(2, 3).repeat(2)


def test_narrow_and_select_out_of_range():
    x = mg.zeros(3, 4)
    with pytest.raises(IndexError):
        x.narrow(1, 2, 3)
    with pytest.raises(IndexError):
        x.select(0, 3)


# --- unflatten, unfold --------------------------------------------------------------------------------

@gradient_test_for("unflatten")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(st.tuples(st.integers(1, 3), st.sampled_from([1, 2, 4, 6]))), st.sampled_from([0, 1, -1]))
def test_unflatten_gradient(device, x, dim):
    n = x.shape[dim]
    check_gradients(lambda a: mg.unflatten(a, dim, (-1, 2) if n % 2 == 0 else (n, 1)), x, device=device)


@st.composite
def unfold_case(draw):
    x, dim = draw(array_and_dim(min_dims=1, max_dims=3))
    length = x.shape[dim]
    return x, dim, draw(st.integers(0, length)), draw(st.integers(1, 3))


@gradient_test_for("unfold")
@pytest.mark.parametrize("device", DEVICES)
@given(unfold_case())
def test_unfold_gradient(device, case):
    """Elements in several windows get the sum of their windows' gradients."""
    x, dim, size, step = case
    check_gradients(lambda a: a.unfold(dim, size, step), x, device=device)


def test_unfold_and_unflatten_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 7))
    cases = [(x, (1, 3, 2)), (x, (0, 3, 3)), (x, (1, 7, 1)), (x, (-1, 2, 5)), (x, (1, 0, 2)),
             (np.arange(5), (0, 2, 1)), (np.float32([1.0, 2.0, 3.0]), (0, 2, 2)), (np.array(2.0), (0, 1, 1))]
    for array, args in cases:
        mine, theirs = mg.tensor(array).unfold(*args), torch.tensor(array).unfold(*args)
        assert mine.dtype == np.dtype(str(theirs.dtype).removeprefix("torch.")) and mine.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    for dim, sizes in [(1, (7, 1)), (0, (-1, 3)), (-1, (1, -1, 1))]:
        mine, theirs = mg.unflatten(mg.tensor(x), dim, sizes), torch.unflatten(torch.tensor(x), dim, sizes)
        assert mine.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert mg.tensor(x).unflatten(1, [7, 1]).shape == (3, 7, 1)
    # the gradient of overlapping windows: each element counts once per window it is in
    w = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    w.unfold(0, 3, 1).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0, 2.0, 1.0])


def test_unfold_and_unflatten_refuse_what_torch_refuses():
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 0 is 2 but size is 3"):
        mg.ones(2).unfold(0, 3, 1)
    with pytest.raises(RuntimeError, match="step is 0 but must be > 0"):
        mg.ones(2).unfold(0, 1, 0)
    with pytest.raises(IndexError, match="out of range"):
        mg.ones(2).unfold(1, 1, 1)
    with pytest.raises(RuntimeError, match=r"sizes \[2, 2\] don't multiply up to the size of dim 1 \(3\)"):
        mg.ones(1, 3).unflatten(1, (2, 2))
    with pytest.raises(RuntimeError, match="sizes must be non-empty"):
        mg.ones(1, 3).unflatten(1, ())


def test_repeat_always_gives_fresh_writable_memory_as_pytorch():
    """fast_neural_style divides a repeated style batch in place: a read-only broadcast failed."""
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    for sizes in [(1, 1), (4, 1, 1, 1), (2, 3)]:
        repeated = x.repeat(*sizes)
        repeated.div_(2.0)
        assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]] and not np.shares_memory(repeated.array, x.array)


def test_size_is_an_mg_size_so_new_reads_it_as_sizes():
    std = mg.randn(3, 4)
    assert isinstance(std.size(), mg.Size) and repr(std.size()) == "torch.Size([3, 4])"
    assert std.new(std.size()).shape == (3, 4) and std.size(1) == 4


def test_indexing_a_0_dim_tensor_says_to_use_item_as_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):
        loss = lib.tensor(2.5)
        with pytest.raises(IndexError, match=r"invalid index of a 0-dim tensor. Use `tensor.item\(\)`"):
            loss[0]
        assert loss[None].shape == (1,) and loss[...].item() == 2.5


# --- cat, stack, chunk, squeeze, reshape: PyTorch's dtypes, legacy rules and error types ----------------

def _same(got, expected):
    assert got.shape == tuple(expected.shape)
    assert np.dtype(got.dtype) == expected.detach().numpy().dtype
    np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())


def test_cat_and_stack_promote_dtypes_as_torch():
    torch = pytest.importorskip("torch")
    values = np.arange(6.0).reshape(2, 3)
    for first, second in [("int64", "float32"), ("bool", "uint8"), ("float32", "float64"), ("int32", "int64"),
                          ("bool", "float32")]:
        a, b = values.astype(first), values.astype(second)
        _same(mg.cat([mg.tensor(a), mg.tensor(b)]), torch.cat([torch.tensor(a), torch.tensor(b)]))
        _same(mg.stack([mg.tensor(a), mg.tensor(b)], 1), torch.stack([torch.tensor(a), torch.tensor(b)], 1))


def test_cat_promotion_passes_the_gradient_back_to_each_dtype():
    x = mg.tensor([[1.0, 2.0]], dtype=mg.float32, requires_grad=True)
    y = mg.tensor([[3.0, 4.0]], dtype=mg.float64, requires_grad=True)
    out = mg.cat([x, y])
    assert out.dtype == mg.float64
    (out * mg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mg.float64)).sum().backward()
    assert x.grad.dtype == mg.float32 and y.grad.dtype == mg.float64
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 2.0]])
    np.testing.assert_array_equal(y.grad.numpy(), [[3.0, 4.0]])


def test_cat_skips_a_legacy_empty_1d_tensor_as_torch():
    torch = pytest.importorskip("torch")
    values = np.arange(6.0).reshape(2, 3)
    for build in (lambda lib, x, e: lib.cat([x, e]), lambda lib, x, e: lib.cat([e, x, e], dim=1),
                  lambda lib, x, e: lib.cat([e, e]), lambda lib, x, e: lib.cat([e.float(), x], -1)):
        x, e = mg.tensor(values, requires_grad=True), mg.zeros(0, dtype=mg.float64, requires_grad=True)
        tx, te = torch.tensor(values, requires_grad=True), torch.zeros(0, dtype=torch.float64, requires_grad=True)
        got, expected = build(mg, x, e), build(torch, tx, te)
        _same(got, expected)
        weights = np.arange(float(got.numel())).reshape(got.shape)
        (got * mg.tensor(weights)).sum().backward()
        (expected * torch.tensor(weights)).sum().backward()
        _same(e.grad, te.grad)
        if tx.grad is not None:
            _same(x.grad, tx.grad)


@gradient_test_for("Cat")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(st.tuples(st.integers(1, 3), st.integers(1, 3))))
def test_cat_with_a_legacy_empty_tensor_gradient(device, x):
    empty = np.zeros(0)
    check_gradients(lambda a, e: mg.cat([e, a, e], dim=1), x, empty, device=device)


def test_cat_and_stack_errors_are_runtime_errors_as_torch():
    torch = pytest.importorskip("torch")
    calls = [
        lambda lib: lib.cat([lib.zeros(2, 3), lib.zeros(2, 2)]),
        lambda lib: lib.cat([lib.zeros(2, 3), lib.zeros(2, 3, 1)]),
        lambda lib: lib.cat([lib.zeros(()), lib.zeros(())]),
        lambda lib: lib.cat([lib.zeros(2), lib.zeros(())]),
        lambda lib: lib.stack([lib.zeros(2, 3), lib.zeros(3, 2)]),
        lambda lib: lib.stack([]),
        lambda lib: lib.zeros(2, 3).reshape(4, 2),
        lambda lib: lib.zeros(2, 3).view(5),
        lambda lib: lib.zeros(2, 3).reshape(-1, -1),
        lambda lib: lib.zeros(2, 3).reshape(-1, 4),
        lambda lib: lib.zeros(2, 3).view(-2, 3),
        lambda lib: lib.zeros(1, 3, 1).squeeze((0, 0)),
    ]
    for call in calls:
        with pytest.raises(RuntimeError) as theirs:
            call(torch)
        with pytest.raises(RuntimeError) as ours:
            call(mg)
        assert "\n" not in str(ours.value)
    with pytest.raises(RuntimeError, match=r"Sizes of tensors must match except in dimension 0. Expected size 3 "
                                           r"but got size 2 for tensor number 1 .*\(2, 3\) and \(2, 2\)"):
        mg.cat([mg.zeros(2, 3), mg.zeros(2, 2)])
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 1\) cannot be concatenated"):
        mg.cat([mg.zeros(2), mg.zeros(())])


def test_chunk_of_an_empty_dim_gives_that_many_empty_chunks_as_torch():
    torch = pytest.importorskip("torch")
    for shape, chunks, dim in [((0, 4), 2, 0), ((0, 4), 3, 0), ((4, 0), 2, 1), ((2,), 4, 0), ((6,), 4, 0)]:
        got, expected = mg.chunk(mg.zeros(*shape), chunks, dim), torch.chunk(torch.zeros(*shape), chunks, dim)
        assert [g.shape for g in got] == [tuple(e.shape) for e in expected]


def test_squeeze_takes_a_tuple_of_dims_as_torch():
    torch = pytest.importorskip("torch")
    values = np.arange(3.0).reshape(1, 3, 1)
    for dims in [(0, 2), (0, 1), [0, -1], (), (1,), (-1,)]:
        _same(mg.tensor(values).squeeze(dims), torch.tensor(values).squeeze(dims))
        _same(mg.squeeze(mg.tensor(values), dims), torch.squeeze(torch.tensor(values), dims))
    _same(mg.zeros(()).squeeze((0,)), torch.zeros(()).squeeze((0,)))
    with pytest.raises(IndexError, match="Dimension out of range"):
        mg.zeros(1, 3, 1).squeeze((0, 3))


def test_a_slice_with_a_step_below_one_is_refused_as_torch_and_flip_still_reverses():
    torch = pytest.importorskip("torch")
    for call in (lambda x: x[::-1], lambda x: x[:, ::-2], lambda x: x[1:, 2:0:-1]):
        with pytest.raises(ValueError):
            call(torch.zeros(2, 3))
        with pytest.raises(ValueError, match="step must be greater than zero"):
            call(mg.zeros(2, 3))
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x.flip(1)
    (y * mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]])
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0, 2.0, 1.0], [6.0, 5.0, 4.0]])
