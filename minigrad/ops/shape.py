"""Ops that move elements around without changing them: reshape, permute, expand,
indexing, cat, stack, pad (and view, flatten, squeeze, unsqueeze, transpose built on them;
at the end, reflect/replicate padding, interpolate and pixel_shuffle, built on indexing).

Their backward puts each gradient element back where its value came from.
"""

import operator
import math

from .. import backend, ops  # ops.clone, for repeat (ops is this package: looked up at call time)
from ..autograd import Function, composite
from ..tensor import Tensor
from . import promotion


class Reshape(Function):
    """y = x with a new shape.   The gradient is reshaped back."""
    saves_inputs, is_view = False, True

    def forward(self, x, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, grad):
        return reshape(grad, self.shape)


class Permute(Function):
    """y = x with its axes reordered by `dims`.   The gradient is permuted back (the inverse order)."""
    saves_inputs, is_view = False, True

    def forward(self, x, dims):
        if sorted(d % x.ndim for d in dims) != list(range(x.ndim)):
            raise ValueError(f"permute: {tuple(dims)} is not an ordering of the {x.ndim} dims of shape {tuple(x.shape)}")
        self.inverse = [0] * len(dims)
        for position, d in enumerate(dims):
            self.inverse[d % x.ndim] = position
        return x.transpose(dims)

    def backward(self, grad):
        return permute(grad, *self.inverse)


class Expand(Function):
    """y = x broadcast to a larger shape (a view).   The engine's unbroadcast sums the gradient back."""
    saves_inputs, is_view = False, True

    def forward(self, x, shape):
        return backend.array_module(x).broadcast_to(x, shape)

    def backward(self, grad):
        return grad


class Index(Function):
    """y = x[key].   dy/dx routes each gradient element back to where it was read from;
    an element read several times (repeated integer indices) gets the sum."""
    saves_inputs = False

    def forward(self, x, key):
        self.shape, self.dtype, self.key = x.shape, x.dtype, key
        self.is_view = _is_basic(key)
        return x[key]

    def backward(self, grad):
        return ScatterAdd.apply(grad, shape=self.shape, key=self.key)


class ScatterAdd(Function):
    """y = zeros of `shape`, each element of `values` added at y[key]: the adjoint of indexing
    (it is Index's backward). Repeated indices add up.   dL/dvalues = dL/dy[key]."""
    saves_inputs = False

    def forward(self, values, shape, key):
        xp = backend.array_module(values)
        # In the memory order of values (a channels-last gradient stays channels-last): an op
        # that meets this gradient with arrays of its own input's layout (ReLU's mask, after
        # reflection padding) then reads both in one order, not one of them across (measured:
        # all of ReLU's backward passes in a CycleGAN step, 9.7 ms with the layouts crossed, 2.2 ms
        # without).
        out = xp.zeros_like(values, shape=shape) if values.ndim == len(shape) else xp.zeros(shape, values.dtype)
        self.key = key
        if _is_basic(key):  # slices and ints never repeat an element
            out[key] = values
        else:
            backend.scatter_add(out, key, values)
        return out

    def backward(self, grad):
        return _index(grad, self.key)


class IndexPut(Function):
    """y = x with y[key] = values (a recorded item assignment).
    dL/dx = dL/dy with zeros at key (those elements were overwritten),  dL/dvalues = dL/dy[key]."""
    saves_inputs = False

    def forward(self, x, values, key):
        self.key = key
        out = x.copy()
        out[key] = values
        return out

    def backward(self, grad):
        dx = dvalues = None
        if self.needs_input_grad[0]:
            dx = IndexPut.apply(grad, Tensor._wrap(backend.array_module(grad.array).zeros((), grad.dtype), False),
                                key=self.key)
        if self.needs_input_grad[1]:
            dvalues = _index(grad, self.key)
        return dx, dvalues


class Cat(Function):
    """y = the inputs joined along `dim`.   Each input gets its slice of the gradient.

    Inputs listed in `skipped` (legacy empty (0,) tensors beside N-d ones, see cat) take no part
    in the join; their gradient is empty."""
    saves_inputs = False

    def forward(self, *xs, dim=0, skipped=()):
        xp = backend.array_module(xs[0])
        self.dim, self.skipped = dim, skipped
        joined = [x for i, x in enumerate(xs) if i not in skipped]
        self.boundaries = []
        total = 0
        for x in joined[:-1]:
            total += x.shape[dim]
            self.boundaries.append(total)
        return xp.concatenate(joined, axis=dim)

    def backward(self, grad):
        before = (slice(None),) * (self.dim % grad.ndim)
        edges = [0] + self.boundaries + [grad.shape[self.dim]]
        pieces = iter([index(grad, before + (slice(start, stop),)) for start, stop in zip(edges, edges[1:])])
        empty = reshape(grad, -1)[:0]
        return tuple(empty if i in self.skipped else next(pieces) for i in range(len(self.needs_input_grad)))


class Stack(Function):
    """y = the inputs stacked along a new axis `dim`.   Input i gets the gradient's slice i."""
    saves_inputs = False

    def forward(self, *xs, dim=0):
        self.dim = dim % (xs[0].ndim + 1)
        return backend.array_module(xs[0]).stack(xs, axis=self.dim)

    def backward(self, grad):
        before = (slice(None),) * self.dim
        return tuple(index(grad, before + (i,)) for i in range(grad.shape[self.dim]))


class Pad(Function):
    """y = x surrounded by a constant.   The gradient of x is the middle of the gradient."""
    saves_inputs = False

    def forward(self, x, widths, value=0.0):
        self.middle = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return backend.array_module(x).pad(x, widths, mode="constant", constant_values=value)

    def backward(self, grad):
        return index(grad, self.middle)

# --- the functions users call ---------------------------------------------------------

def wrap_dim(dim, shape, op, name="dim", inserting=False):
    """`dim` as a position 0..rank-1, negative dims counting from the end, as PyTorch.

    The rank is len(shape), one more when the dim is being inserted (unsqueeze, stack),
    and at least 1: a 0-d tensor accepts dim 0 and -1. Out of range is an IndexError
    with PyTorch's wording, naming the op, the argument and the shape.
    """
    dim = operator.index(dim)  # ints and NumPy ints; a float is a TypeError
    rank = max(len(shape) + inserting, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], "
                         f"but got {dim}) for {name} of a tensor of shape {tuple(shape)}")
    return dim % rank


def _shape_args(shape):
    """Accept reshape(2, 3) as well as reshape((2, 3))."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _check_new_shape(shape, old_shape):
    """RuntimeError, as PyTorch, when `shape` (one -1 allowed: inferred) cannot hold old_shape's elements."""
    size = math.prod(old_shape)
    if list(shape).count(-1) > 1:
        raise RuntimeError(f"only one dimension can be inferred, got shape {list(shape)}")
    for n in shape:
        if n < -1:
            raise RuntimeError(f"invalid shape dimension {n} in shape {list(shape)}")
    known = math.prod(n for n in shape if n != -1)
    fits = (known != 0 and size % known == 0) if -1 in shape else known == size
    if not fits:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size} (a tensor of shape "
                           f"{tuple(old_shape)})")


def reshape(x, *shape):
    shape = tuple(operator.index(n) for n in _shape_args(shape))
    _check_new_shape(shape, x.shape)
    return Reshape.apply(x, shape=shape)


@composite
def view(x, *shape):
    """Same as reshape (NumPy copies when a view is impossible; PyTorch would raise)."""
    return reshape(x, *shape)


@composite
def flatten(x, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one."""
    start = wrap_dim(start_dim, x.shape, "flatten", "start_dim")
    end = wrap_dim(end_dim, x.shape, "flatten", "end_dim")
    if start > end:
        raise RuntimeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim}) "
                           f"for a tensor of shape {tuple(x.shape)}")
    if x.ndim == 0:
        return reshape(x, 1)
    return reshape(x, x.shape[:start] + (-1,) + x.shape[end + 1:])


def permute(x, *dims):
    dims = _shape_args(dims)
    if len(dims) != x.ndim:
        raise ValueError(f"permute: {dims} is not an ordering of the {x.ndim} dims of shape {tuple(x.shape)}")
    dims = tuple(wrap_dim(d, x.shape, "permute", "dims") for d in dims)
    return Permute.apply(x, dims=dims)


@composite
def transpose(x, dim0, dim1):
    """Swap two dims."""
    dim0 = wrap_dim(dim0, x.shape, "transpose", "dim0")
    dim1 = wrap_dim(dim1, x.shape, "transpose", "dim1")
    if x.ndim == 0:  # dims 0 and -1 of a 0-d tensor: nothing to swap
        return reshape(x, ())
    dims = list(range(x.ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return permute(x, *dims)


@composite
def squeeze(x, dim=None):
    """Drop dims of size 1: all of them, or only those of `dim` (an int or a tuple of ints) that have size 1."""
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    dims = [wrap_dim(d, x.shape, "squeeze") for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
    for d in dims:
        if dims.count(d) > 1:
            raise RuntimeError(f"squeeze: dim {d} appears multiple times in the list of dims {tuple(dim)}")
    shape = tuple(n for d, n in enumerate(x.shape) if not (d in dims and n == 1))
    return reshape(x, shape)


@composite
def unsqueeze(x, dim):
    """Insert a dim of size 1 at `dim`."""
    dim = wrap_dim(dim, x.shape, "unsqueeze", inserting=True)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def expand(x, *sizes):
    """Broadcast to `sizes`; -1 keeps a dim's size."""
    sizes = _shape_args(sizes)
    offset = len(sizes) - x.ndim
    if offset < 0:
        raise ValueError(f"expand: cannot expand shape {x.shape} to fewer dims {sizes}")
    if -1 in sizes[:offset]:
        raise ValueError(f"expand: -1 (keep the size) is not allowed in a new leading dim, got {sizes} for shape {x.shape}")
    shape = tuple(x.shape[i - offset] if n == -1 else n for i, n in enumerate(sizes))
    return Expand.apply(x, shape=shape)


def index(x, key):
    """x[key], as Tensor.__getitem__: slices step forward only, as PyTorch (flip reverses)."""
    if x.ndim == 0 and isinstance(key, (int, slice)) and not isinstance(key, bool):  # old code's loss.data[0]
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in "
                         "C++ to convert a 0-dim tensor to a number")
    for part in key if isinstance(key, tuple) else (key,):
        if isinstance(part, slice) and part.step is not None and part.step <= 0:
            raise ValueError(f"step must be greater than zero, got {part.step} (indexing a tensor of shape "
                             f"{tuple(x.shape)}); use flip to reverse")
    return Index.apply(x, key=index_key(x, key))


def _index(x, key):
    """x[key] for any key NumPy takes, reversed slices too (flip's, and the backward of a flipped index)."""
    return Index.apply(x, key=_device_key(key, x))


def index_put(x, key, values):
    """x with x[key] = values, out of place (what `x[key] = values` records when gradients flow)."""
    return IndexPut.apply(x, values, key=index_key(x, key))


def index_key(x, key):
    """The key for x's array: tensors and lists in it made arrays on x's device, and its integer
    indices checked against x's shape (x[key] and x[key] = values use it)."""
    key = _device_key(key, x)
    _check_bounds(key, x.shape)
    return key


def _check_bounds(key, shape):
    """Integer index arrays out of range raise IndexError, as PyTorch, on every device: NumPy
    checks them, but a GPU does not (CuPy wraps index 5 of 3 elements around to 2)."""
    parts = key if isinstance(key, tuple) else (key,)
    masks = [backend.is_array(p) and p.dtype.kind == "b" for p in parts]
    used = sum(p.ndim if mask else 1 for p, mask in zip(parts, masks)
               if p is not None and p is not Ellipsis and not isinstance(p, bool))
    dim = 0
    for part, mask in zip(parts, masks):
        if part is Ellipsis:
            dim += len(shape) - used
        elif mask:
            dim += part.ndim
        elif part is not None and not isinstance(part, bool):
            if backend.is_array(part) and part.dtype.kind in "iu" and part.size and dim < len(shape):
                low, high = int(part.min()), int(part.max())
                if high >= shape[dim] or low < -shape[dim]:
                    bad = high if high >= shape[dim] else low
                    raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {shape[dim]}")
            dim += 1


def _promoted(tensors):
    """The tensors cast to their common dtype (torch.result_type: int64 with float32 gives float32)."""
    dtype = promotion.result_type(*tensors)
    return [promotion.as_operand(t, dtype, t) for t in tensors]


def cat(tensors, dim=0):
    """Join tensors along an existing dim (torch.cat).

    The dtype is the promoted one of all inputs. A 1-D empty tensor of shape (0,) beside N-d
    tensors is skipped, as PyTorch's legacy rule: cat([x, tensor([])]) is x."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat() needs at least one tensor")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated")
    tensors = _promoted(tensors)
    skipped = tuple(i for i, t in enumerate(tensors) if t.shape == (0,))
    joined = [t for i, t in enumerate(tensors) if i not in skipped]
    if not joined:  # all of them empty (0,): the result is one too
        return Cat.apply(*tensors, dim=0)
    first = joined[0]
    dim = wrap_dim(dim, first.shape, "cat")
    for i, t in enumerate(tensors):
        if i in skipped or t is first:
            continue
        if t.ndim != first.ndim:
            raise RuntimeError(f"cat: Tensors must have same number of dimensions: got {first.ndim} and {t.ndim} "
                               f"(shapes {tuple(first.shape)} and {tuple(t.shape)})")
        for d in range(first.ndim):
            if d != dim and t.shape[d] != first.shape[d]:
                raise RuntimeError(f"cat: Sizes of tensors must match except in dimension {dim}. Expected size "
                                   f"{first.shape[d]} but got size {t.shape[d]} for tensor number {i} in the list "
                                   f"(shapes {tuple(first.shape)} and {tuple(t.shape)})")
    return Cat.apply(*tensors, dim=dim, skipped=skipped)


def stack(tensors, dim=0):
    """Join tensors along a new dim (torch.stack). The dtype is the promoted one of all inputs."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at "
                               f"entry 0 and {list(t.shape)} at entry {i}")
    dim = wrap_dim(dim, tensors[0].shape, "stack", inserting=True)
    return Stack.apply(*_promoted(tensors), dim=dim)


def pad(x, pad, mode="constant", value=None):
    """torch.nn.functional.pad: `pad` lists (before, after) pairs starting from the LAST dim.

    mode "constant" fills with `value` (None: 0); "reflect" and "replicate" copy x's own edges (see
    pad_by_index)."""
    if mode in ("reflect", "replicate"):
        return pad_by_index(x, tuple(pad), mode)
    if mode != "constant":
        raise NotImplementedError(f"pad mode {mode!r}: minigrad supports 'constant', 'reflect' and 'replicate'")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad needs (before, after) pairs for at most {x.ndim} dims, got {pad}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {pad} is not supported")
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]
    widths = [(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1]
    return Pad.apply(x, widths=widths, value=0 if value is None else value)


def _is_basic(key):
    """True for keys made of ints, slices, None and Ellipsis (which give NumPy views)."""
    parts = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (int, slice)) or k is None or k is Ellipsis for k in parts)


def _device_key(key, x):
    """Replace Tensors and lists inside an index by arrays on x's device."""
    if isinstance(key, tuple):
        return tuple(_device_key(k, x) for k in key)
    if isinstance(key, Tensor):
        return backend.to_device(key.array, x.device)
    if backend.is_array(key):
        return backend.to_device(key, x.device)
    if isinstance(key, list):
        return backend.to_device(backend.array_module("cpu").asarray(key), x.device)
    return key


@composite
def embedding(input, weight):
    """weight[input]: the row of `weight` for each index (rows used repeatedly get summed gradients)."""
    if input.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected integer indices, got {input.dtype}; use .long()")
    indices, rows = input.array, weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= rows):  # -1 would pick the last row
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise IndexError(f"embedding: index out of range in self: got index {int(bad)} for a weight of shape "
                         f"{tuple(weight.shape)} (valid indices are 0 to {rows - 1})")
    return index(weight, input)


def one_hot(input, num_classes=-1):
    """F.one_hot: int64 indices of shape S -> an int64 tensor of shape S + (num_classes,), 1 at each index.

    num_classes=-1 takes the largest index + 1. Not differentiable (indices have no gradient);
    for a differentiable lookup use embedding.
    """
    if input.dtype != "int64":
        raise RuntimeError(f"one_hot is only applicable to an int64 index tensor, got {input.dtype}; use .long()")
    xp = backend.array_module(input.array)
    indices = input.array.astype("int64")
    if indices.size == 0 and num_classes == -1:
        raise RuntimeError("one_hot: can not infer total number of classes from empty tensor; give num_classes")
    if indices.size:
        low, high = int(indices.min()), int(indices.max())
        num_classes = high + 1 if num_classes == -1 else num_classes
        if low < 0:
            raise RuntimeError("one_hot: Class values must be non-negative.")
        if high >= num_classes:
            raise RuntimeError(f"one_hot: Class values must be smaller than num_classes ({num_classes}), got {high}.")
    result = (indices[..., None] == xp.arange(num_classes)).astype("int64")
    return Tensor._wrap(result, False)


# --- composites built on indexing: edge padding, resizing, pixel shuffle -----------------------

def _take(x, dim, positions):
    """x[..., positions, ...] along `dim`: the Index op with an integer array (repeats allowed)."""
    key = (slice(None),) * dim + (backend.array_module("cpu").asarray(positions, dtype="int64"),)
    return index(x, key)


def _along(values, dim, ndim, like):
    """A constant per-position factor, shaped to broadcast along `dim` of an ndim-dim tensor like `like`."""
    array = backend.array_module("cpu").asarray(values, dtype=like.dtype).reshape((-1,) + (1,) * (ndim - 1 - dim))
    return Tensor._wrap(backend.to_device(array, like.device), False)


@composite
def pad_by_index(x, pad, mode):
    """F.pad's "reflect" and "replicate" modes: x[..., positions] along each padded dim.

    For a dim of size n padded by (b, a), output position i in -b .. n-1+a reads x at
        reflect:    |i|, then 2(n-1) - i past the end  (the edge itself is not repeated: needs b, a < n)
        replicate:  i clipped to 0 .. n-1               (the edge value repeated)
    The Index op's backward adds the gradients of repeated positions. As PyTorch, the last 1, 2
    or 3 dims are padded, and the input has one or two dims before them (batch, channels).
    """
    xp = backend.array_module("cpu")
    padded_dims = len(pad) // 2
    if len(pad) % 2 or padded_dims not in (1, 2, 3) or x.ndim not in (padded_dims + 1, padded_dims + 2):
        raise ValueError(f"pad: mode {mode!r} pads the last 1, 2 or 3 dims of an input with one or two more "
                         f"dims (e.g. (N, C, H, W) with 4 pad values); got {len(pad)} pad values for shape {x.shape}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {pad} is not supported")
    for i in range(padded_dims):
        dim = x.ndim - 1 - i
        before, after, n = pad[2 * i], pad[2 * i + 1], x.shape[dim]
        positions = xp.arange(-before, n + after)
        if mode == "reflect":
            if before >= n or after >= n:
                raise ValueError(f"pad: reflect padding ({before}, {after}) must be smaller than the size {n} of dim {dim}")
            positions = xp.abs(positions)
            positions = xp.where(positions > n - 1, 2 * (n - 1) - positions, positions)
        else:
            positions = xp.clip(positions, 0, n - 1)
        x = _take(x, dim, positions)
    return x


INTERPOLATION_MODES = ("nearest", "linear", "bilinear", "trilinear")


@composite
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """F.interpolate: resize the spatial dims of (N, C, ...) input, one spatial dim at a time.

    Along a dim of size n resized to m, with scale s = 1/scale_factor (or n/m when `size` is
    given, or recompute_scale_factor=True):
        nearest:   out[j] = x[min(floor(j s), n - 1)]
        linear:    src = s (j + 1/2) - 1/2, at least 0   (align_corners=True: src = j (n-1)/(m-1))
                   out[j] = (1 - w) x[i] + w x[i + 1],  i = floor(src),  w = src - i
    ("bilinear" and "trilinear" are "linear" along each of 2 or 3 dims.) Made of Index
    (gathering positions), mul and add, so the gradient scatters back through the same weights.
    """
    if mode not in INTERPOLATION_MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; use one of {INTERPOLATION_MODES}")
    spatial = input.ndim - 2
    if spatial < 1:
        raise ValueError(f"interpolate: expected (N, C, ...) input with at least one spatial dim, got shape {input.shape}")
    if mode != "nearest" and {"linear": 1, "bilinear": 2, "trilinear": 3}[mode] != spatial:
        raise ValueError(f"interpolate: mode {mode!r} needs {2 + INTERPOLATION_MODES.index(mode)}-D input, "
                         f"got shape {input.shape}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    in_sizes = input.shape[2:]
    if size is not None:
        out_sizes = (size,) * spatial if isinstance(size, int) else tuple(size)
        scales = [n / m for n, m in zip(in_sizes, out_sizes)]
    else:
        factors = (scale_factor,) * spatial if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
        out_sizes = tuple(math.floor(n * f) for n, f in zip(in_sizes, factors))
        scales = [n / m if recompute_scale_factor else 1 / f for n, m, f in zip(in_sizes, out_sizes, factors)]
    if len(out_sizes) != spatial or min(out_sizes) < 1:
        raise ValueError(f"interpolate: output size {out_sizes} does not fit input {input.shape}")
    xp = backend.array_module("cpu")
    out = input
    for i, (n, m, scale) in enumerate(zip(in_sizes, out_sizes, scales)):
        dim = 2 + i
        j = xp.arange(m)
        if mode == "nearest":  # float32 arithmetic, as PyTorch's kernel, so borderline cases agree
            positions = xp.minimum(xp.floor(j.astype("float32") * xp.float32(scale)).astype("int64"), n - 1)
            out = _take(out, dim, positions)
            continue
        if align_corners:
            source = j * ((n - 1) / (m - 1) if m > 1 else 0.0)
        else:
            source = xp.maximum(scale * (j + 0.5) - 0.5, 0.0)
        low = source.astype("int64")
        high = xp.minimum(low + 1, n - 1)
        weight = xp.clip(source - low, 0.0, 1.0)
        out = (_take(out, dim, low) * _along(1 - weight, dim, input.ndim, input)
               + _take(out, dim, high) * _along(weight, dim, input.ndim, input))
    return out


@composite
def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block of pixels.
    A reshape to (*, C, r, r, H, W), a permute to (*, C, H, r, W, r) and a reshape."""
    r = upscale_factor
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: expected (*, C * {r}^2, H, W) input, got shape {input.shape}")
    *batch, channels, height, width = input.shape
    b = len(batch)
    x = reshape(input, *batch, channels // (r * r), r, r, height, width)
    x = permute(x, *range(b), b, b + 3, b + 1, b + 4, b + 2)
    return reshape(x, *batch, channels // (r * r), height * r, width * r)


# --- composites built on indexing and reshaping: flip, roll, split, repeat, ... ---------------

def _dim_list(dims, shape, op):
    """An int or a sequence of dims as a list of non-negative positions."""
    dims = [dims] if isinstance(dims, int) else list(dims)
    return [wrap_dim(d, shape, op) for d in dims]


@composite
def flip(x, dims):
    """x with the order of its elements reversed along each of `dims` (a view: a reversed slice)."""
    if x.ndim == 0:
        return reshape(x, ())
    key = [slice(None)] * x.ndim
    for d in _dim_list(dims, x.shape, "flip"):
        key[d] = slice(None, None, -1)
    return _index(x, tuple(key))


def fliplr(x):
    """flip(x, 1): columns in reverse order."""
    return flip(x, 1)


def flipud(x):
    """flip(x, 0): rows in reverse order."""
    return flip(x, 0)


@composite
def roll(x, shifts, dims=None):
    """Shift elements along `dims` by `shifts`, wrapping around: y[i] = x[(i - shift) mod n].
    Without dims, x is flattened, rolled and given its shape back."""
    xp = backend.array_module("cpu")
    if dims is None:
        if not isinstance(shifts, int) and len(shifts) != 1:
            raise RuntimeError(f"roll: without dims, shifts must be one number, got {shifts}")
        shift = shifts if isinstance(shifts, int) else shifts[0]
        flat = reshape(x, -1)
        return reshape(roll(flat, shift, 0), x.shape)
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    dims = _dim_list(dims, x.shape, "roll")
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dims must align, got {len(shifts)} shifts and {len(dims)} dims")
    for shift, d in zip(shifts, dims):
        n = x.shape[d]
        if n:
            x = _take(x, d, (xp.arange(n) - shift) % n)
    return x


@composite
def rot90(x, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of `dims`, from the first dim towards the second
    (a flip and a transpose, as torch.rot90)."""
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected 2 dims, got {len(dims)}")
    first, second = _dim_list(dims, x.shape, "rot90")
    if first == second:
        raise RuntimeError(f"rot90: the two dims must differ, got {dims}")
    k %= 4
    if k == 1:
        return transpose(flip(x, second), first, second)
    if k == 2:
        return flip(x, (first, second))
    if k == 3:
        return transpose(flip(x, first), first, second)
    return reshape(x, x.shape)


def narrow(x, dim, start, length):
    """x[..., start:start + length, ...] along `dim` (a view)."""
    dim = wrap_dim(dim, x.shape, "narrow")
    if start < 0:
        start += x.shape[dim]
    if not 0 <= start <= x.shape[dim] - length or length < 0:
        raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({x.shape[dim]})")
    return index(x, (slice(None),) * dim + (slice(start, start + length),))


def select(x, dim, position):
    """x[..., position, ...] along `dim`: that dim removed (a view)."""
    dim = wrap_dim(dim, x.shape, "select")
    n = x.shape[dim]
    if not -n <= position < n:
        raise IndexError(f"select(): index {position} out of range for tensor of size {tuple(x.shape)} "
                         f"at dimension {dim}")
    return index(x, (slice(None),) * dim + (position % n,))


def split(x, split_size_or_sections, dim=0):
    """Pieces of x along `dim`: of split_size each (the last may be smaller), or of the listed sizes."""
    dim = wrap_dim(dim, x.shape, "split")
    n = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0 and n:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
        sizes = [min(size, n - start) for start in range(0, n, size)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {dim}), but got split_sizes={sizes}")
    pieces, start = [], 0
    for size in sizes:
        pieces.append(narrow(x, dim, start, size))
        start += size
    return tuple(pieces)


def chunk(x, chunks, dim=0):
    """x split into `chunks` pieces of ceil(n / chunks) elements along `dim` (possibly fewer pieces)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = x.shape[wrap_dim(dim, x.shape, "chunk")]
    if n == 0:  # as PyTorch: `chunks` empty pieces
        return split(x, [0] * chunks, dim)
    return split(x, -(-n // chunks), dim)


def tensor_split(x, indices_or_sections, dim=0):
    """x split at the given indices, or into that many nearly equal pieces (as numpy.array_split)."""
    dim = wrap_dim(dim, x.shape, "tensor_split")
    n = x.shape[dim]
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        sizes = [n // sections + (1 if i < n % sections else 0) for i in range(sections)]
        return split(x, sizes, dim)
    edges = [0] + [min(max(i, 0), n) for i in indices_or_sections] + [n]
    return tuple(narrow(x, dim, a, max(b - a, 0)) for a, b in zip(edges, edges[1:]))


def unbind(x, dim=0):
    """The slices of x along `dim`, that dim removed."""
    dim = wrap_dim(dim, x.shape, "unbind")
    return tuple(select(x, dim, i) for i in range(x.shape[dim]))


def movedim(x, source, destination):
    """x with dims `source` moved to positions `destination`, the others in their order."""
    source = _dim_list(source, x.shape, "movedim")
    destination = _dim_list(destination, x.shape, "movedim")
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({source} dims) should "
                           f"contain the same number of dims as destination ({destination} dims)")
    order = [d for d in range(x.ndim) if d not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return permute(x, *order)


moveaxis = movedim


@composite
def repeat(x, *sizes):
    """x tiled sizes[i] times along each dim, as Tensor.repeat (more sizes than dims add leading dims).

    A reshape to (1, n0, 1, n1, ...), an expand to (r0, n0, r1, n1, ...), and a reshape to
    (r0 n0, r1 n1, ...): the gradient sums over the copies (expand's backward)."""
    sizes = _shape_args(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"Number of dimensions of repeat dims ({len(sizes)}) can not be smaller than number "
                           f"of dimensions of tensor ({x.ndim})")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    interleaved = [n for side in shape for n in (1, side)]
    expanded = [n for r, side in zip(sizes, shape) for n in (r, side)]
    out = reshape(expand(reshape(x, interleaved), *expanded), tuple(r * side for r, side in zip(sizes, shape)))
    # PyTorch's repeat always copies: never hand back a read-only broadcast or a view of x
    return out if out.array.flags.owndata else ops.clone(out)


def tile(x, dims):
    """repeat, with ones put in front when `dims` is shorter than x's dims (as torch.tile)."""
    dims = tuple(dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def broadcast_to(x, shape):
    """x broadcast to `shape` (expand)."""
    return expand(x, *shape)


def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape."""
    shape = backend.array_module("cpu").broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, *shape) for t in tensors)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: output i varies along dim i ("ij"), or, with "xy",
    the first two swap places (as NumPy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got shape {t.shape}")
    positions = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        positions[0], positions[1] = 1, 0
    shape = [0] * len(tensors)
    for t, p in zip(tensors, positions):
        shape[p] = t.numel()
    grids = []
    for t, p in zip(tensors, positions):
        along = [1] * len(tensors)
        along[p] = -1
        grids.append(expand(reshape(t, along), *shape))
    return tuple(grids)


# --- unflatten and unfold: a dim split into several, or into sliding windows ------------------

@composite
def unflatten(x, dim, sizes):
    """Dim `dim` split into dims of `sizes` (one of them may be -1), as torch.unflatten: a reshape.
        unflatten(x of shape (2, 12), 1, (3, -1)) has shape (2, 3, 4)"""
    dim = wrap_dim(dim, x.shape, "unflatten")
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = x.shape[dim] if x.ndim else 1
    known = math.prod(s for s in sizes if s != -1)
    if (-1 not in sizes and known != n) or (-1 in sizes and (known == 0 or n % known)):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({n}) in the input tensor")
    return reshape(x, x.shape[:dim] + sizes + x.shape[dim + 1:])


@composite
def unfold(x, dimension, size, step):
    """The windows of `size` elements along `dimension`, every `step` elements, as Tensor.unfold:
    that dim becomes the (len - size) // step + 1 windows, and a last dim of `size` is added.

        x = [0, 1, 2, 3, 4]:   x.unfold(0, 2, 2) = [[0, 1], [2, 3]]

    An Index op with positions[w, k] = w step + k (then the window axis moved last): its backward
    adds each window's gradient back where the window was read from, so elements in several
    windows get the sum. (A copy: PyTorch returns a view of x's memory.)
    """
    dimension = wrap_dim(dimension, x.shape, "unfold", "dimension")
    length = x.shape[dimension] if x.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dimension} is {length} but size is {size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if x.ndim == 0:
        return reshape(x, (1,)) if size == 1 else reshape(x, (1,))[:0]
    xp = backend.array_module("cpu")
    windows = (length - size) // step + 1
    positions = xp.arange(windows)[:, None] * step + xp.arange(size)[None, :]  # (windows, size)
    out = _take(x, dimension, positions)  # x.shape[:dimension] + (windows, size) + x.shape[dimension + 1:]
    return movedim(out, dimension + 1, -1)
