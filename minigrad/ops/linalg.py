"""Matrix products: matmul (with NumPy's 1-D and batched rules), linear, einsum, and the
PyTorch names built on them (mm, bmm, mv, dot, outer, inner, addmm, baddbmm); kron and cross;
the matrix parts tril, triu, diag, diagonal, trace; cdist.
"""

import math
import string
import warnings

from .. import backend, kernels
from ..autograd import Function, composite
from ..tensor import Tensor
from .elementwise import cast, sqrt, where
from .promotion import result_type
from .shape import ScatterAdd, _take, broadcast_tensors, index, wrap_dim


def _check_same_dtype(op, *arrays, error=TypeError):
    """`error` (PyTorch raises RuntimeError) unless the arrays share one dtype."""
    first = arrays[0].dtype
    if any(a.dtype != first for a in arrays[1:]):
        listed = " and ".join(f"{a.dtype} {tuple(a.shape)}" for a in arrays)
        raise error(f"{op}: expected the same dtype, got {listed}; convert with .float() or .double()")


class MatMul(Function):
    """Z = X @ Y.   dL/dX = dL/dZ @ Y^T,   dL/dY = X^T @ dL/dZ.

    Shapes follow NumPy: a 1-D X is a row (k,) -> (1, k), a 1-D Y a column
    (k,) -> (k, 1), and the added axis is dropped again; leading axes broadcast
    as batch axes (the engine sums the gradient back over them).
    """

    def forward(self, x, y):
        _check_same_dtype("matmul", x, y, error=RuntimeError)
        if x.ndim == 0 or y.ndim == 0:
            raise RuntimeError(f"matmul: both arguments need at least 1 dimension, but they are {x.ndim}D and "
                               f"{y.ndim}D; use * for scalars")
        if x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
            raise RuntimeError(
                f"matmul: shapes {tuple(x.shape)} and {tuple(y.shape)} cannot be multiplied "
                f"({x.shape[-1]} columns against {y.shape[-2 if y.ndim > 1 else 0]} rows)")
        batch_x, batch_y = x.shape[:-2], y.shape[:-2]
        try:
            if batch_x and batch_y:
                backend.array_module("cpu").broadcast_shapes(batch_x, batch_y)
        except ValueError:
            raise RuntimeError(f"matmul: the batch dims {tuple(batch_x)} and {tuple(batch_y)} of shapes "
                               f"{tuple(x.shape)} and {tuple(y.shape)} do not broadcast") from None
        if x.ndim > 2 and y.ndim == 2:  # a batch of rows times one matrix: one (parallel) 2-D product
            return _rows_matmul(x, y)
        return kernels.matmul(x, y)

    def backward(self, grad):
        x, y = self.inputs
        x2 = x.unsqueeze(0) if x.ndim == 1 else x          # (k,) -> (1, k)
        y2 = y.unsqueeze(1) if y.ndim == 1 else y          # (k,) -> (k, 1)
        if y.ndim == 1:  # restore the last axis first: for vector @ vector, grad is 0-d
            grad = grad.unsqueeze(-1)
        if x.ndim == 1:
            grad = grad.unsqueeze(-2)
        dx = dy = None
        if self.needs_input_grad[0]:
            dx = grad @ y2.transpose(-1, -2)
            if x.ndim == 1:
                dx = dx.squeeze(-2)
        if self.needs_input_grad[1]:
            dy = x2.transpose(-1, -2) @ grad
            if y.ndim == 1:
                dy = dy.squeeze(-1)
        return dx, dy


class Linear(Function):
    """y = x W^T + b, with x (..., in), W (out, in), b (out,).

    dL/dx = dL/dy W,   dL/dW = dL/dy^T x  (summed over the leading axes),   dL/db = sum of dL/dy.
    One matmul each way, instead of a transpose, a matmul and a broadcast add.
    """

    def forward(self, x, weight, bias=None):
        _check_same_dtype("linear", x, weight, error=RuntimeError)
        if x.shape[-1] != weight.shape[1]:
            raise RuntimeError(
                f"linear: input of shape {tuple(x.shape)} has {x.shape[-1]} features, but the "
                f"weight of shape {tuple(weight.shape)} expects {weight.shape[1]}")
        out = _rows_matmul(x, weight.T)
        if bias is not None:
            out += bias
        return out

    def backward(self, grad):
        x, weight = self.inputs[:2]
        dx, dweight = kernels.together(grad.numel() * x.shape[-1],  # (two large products: at once)
                                       (lambda: matmul(grad, weight)) if self.needs_input_grad[0] else None,
                                       (lambda: LinearWeightGrad.apply(grad, x)) if self.needs_input_grad[1] else None)
        if len(self.inputs) == 2:
            return dx, dweight
        if not self.needs_input_grad[2]:
            return dx, dweight, None
        if grad.ndim == 1:  # one sample (x of shape (in,)): nothing to sum, dL/db is dL/dy itself
            return dx, dweight, grad
        return dx, dweight, grad.sum(dim=0 if grad.ndim == 2 else tuple(range(grad.ndim - 1)))  # all dims but features


class LinearWeightGrad(Function):
    """W'[o, i] = sum over rows r of g[r, o] x[r, i]: the weight gradient of y = x W^T, from
    g = dL/dy (..., out) and x (..., in), the leading axes as rows: W' = g^T x, (out, in).

    With G the gradient of W':   d/dg = x G^T = linear(x, G),   d/dx = g G.
    """

    def forward(self, grad, x):
        return kernels.matmul(_rows(grad).T, _rows(x))

    def backward(self, grad):
        g, x = self.inputs
        dg = linear(x, grad) if self.needs_input_grad[0] else None
        dx = matmul(g, grad) if self.needs_input_grad[1] else None
        return dg, dx


def _rows(x):
    """x (..., k) as a matrix of rows (-1, k) (a view when x's memory allows)."""
    return x.reshape(math.prod(x.shape[:-1]), x.shape[-1])


def _rows_matmul(x, w):
    """x (..., k) @ w (k, n) with the leading axes of x as rows of one (parallel) 2-D product."""
    if x.ndim == 2 or not x.flags.c_contiguous:
        return kernels.matmul(x, w)
    return kernels.matmul(_rows(x), w).reshape(*x.shape[:-1], w.shape[-1])


def matmul(x, y):
    return MatMul.apply(x, y)


def linear(x, weight, bias=None):
    """y = x W^T + b, as torch.nn.functional.linear."""
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


# --- PyTorch's named products, with its shape checks --------------------------------------

def _expect_dims(op, expected, *tensors):
    for t, n in zip(tensors, expected):
        if t.ndim != n:
            raise RuntimeError(f"{op}: expected a {n}-D tensor, but got a {t.ndim}-D tensor of shape {t.shape}")


def mm(input, mat2):
    """(n, k) @ (k, m) -> (n, m): matrices only (torch.mm)."""
    _expect_dims("mm", (2, 2), input, mat2)
    return matmul(input, mat2)


def bmm(input, mat2):
    """(b, n, k) @ (b, k, m) -> (b, n, m): batches of matrices of one batch size (torch.bmm)."""
    _expect_dims("bmm", (3, 3), input, mat2)
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def mv(input, vec):
    """(n, k) @ (k,) -> (n,) (torch.mv)."""
    _expect_dims("mv", (2, 1), input, vec)
    return matmul(input, vec)


def dot(input, other):
    """sum of input_i other_i for two 1-D tensors of one length, a 0-d tensor (torch.dot)."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape != other.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                           f"[{other.shape[0]}] to have the same number of elements, but got "
                           f"{input.shape[0]} and {other.shape[0]} elements respectively")
    return matmul(input, other)


vdot = dot


@composite
def outer(input, vec2):
    """The outer product of two 1-D tensors: out[i, j] = input[i] vec2[j]."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D tensors, got shapes {input.shape} and {vec2.shape}")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


@composite
def inner(input, other):
    """The sum over the last dim of input times other: out[i..., j...] = sum_k input[i..., k] other[j..., k],
    of shape input.shape[:-1] + other.shape[:-1] (torch.inner); a 0-d operand simply multiplies.
    A matmul of the two as rows: (rows of input, k) @ (k, rows of other)."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    dtype = result_type(input, other)
    input, other = (t if t.dtype == dtype else cast(t, dtype) for t in (input, other))
    k = input.shape[-1]
    rows = matmul(input.reshape(-1, k), other.reshape(-1, k).transpose(0, 1))
    return rows.reshape(input.shape[:-1] + other.shape[:-1])


@composite
def kron(input, other):
    """The Kronecker product: every element of input times the whole of other, laid out in blocks.
    For n dims (the shorter shape padded with leading ones),
        out[i0 b0 + j0, i1 b1 + j1, ...] = input[i0, i1, ...] other[j0, j1, ...]   (b = other's shape)
    A product of input reshaped to (a0, 1, a1, 1, ...) and other to (1, b0, 1, b1, ...), reshaped to
    (a0 b0, a1 b1, ...)."""
    ndim = max(input.ndim, other.ndim)
    a = (1,) * (ndim - input.ndim) + input.shape
    b = (1,) * (ndim - other.ndim) + other.shape
    blocks = input.reshape([n for side in a for n in (side, 1)]) * other.reshape([n for side in b for n in (1, side)])
    return blocks.reshape([m * n for m, n in zip(a, b)])


@composite
def cross(input, other, dim=None):
    """The cross product of 3-vectors along `dim`, as torch.cross (input and other have the same number
    of dims, both of size 3 along dim, and broadcast together along the others):
        out = (u1 v2 - u2 v1,  u2 v0 - u0 v2,  u0 v1 - u1 v0)
    Made of index and mul: u rotated by one place times v rotated by two, minus the reverse.
    dim=None takes the first dim of size 3, with PyTorch's deprecation warning."""
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions (got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)})")
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        if 3 not in input.shape:
            raise RuntimeError("no dimension of size 3 in input")
        dim = input.shape.index(3)
    dim = wrap_dim(dim, input.shape, "cross")
    sizes = (input.shape[dim], other.shape[dim]) if input.ndim else (1, 1)
    if sizes != (3, 3):
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {sizes[0]} and {sizes[1]}")
    input, other = broadcast_tensors(input, other)
    dtype = result_type(input, other)
    input, other = (t if t.dtype == dtype else cast(t, dtype) for t in (input, other))
    next_, after = [1, 2, 0], [2, 0, 1]
    return _take(input, dim, next_) * _take(other, dim, after) - _take(input, dim, after) * _take(other, dim, next_)


@composite
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta input + alpha (mat1 @ mat2), input broadcasting to (n, m) (torch.addmm)."""
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


@composite
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta input + alpha (batch1 @ batch2) for batches of matrices (torch.baddbmm)."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


@composite
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta input + alpha (mat @ vec) (torch.addmv)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def _scaled_sum(input, product, beta, alpha):
    """beta input + alpha product; beta = 0 ignores input (even its nan and inf), as PyTorch."""
    if alpha != 1:
        product = product * alpha
    if beta == 0:  # input's values are ignored, but it still gets its (zero) gradient, as PyTorch
        if not input.requires_grad:
            return product
        nowhere = Tensor._wrap(backend.array_module(input.array).zeros((), dtype=bool), False)
        return product + where(nowhere, input, 0.0)
    return product + (input if beta == 1 else input * beta)


# --- einsum ---------------------------------------------------------------------------------

class Einsum(Function):
    """out = einsum(subscripts, *operands), as numpy.einsum with explicit "...->..." subscripts.

    The gradient of operand k is itself an einsum: the output gradient and the other operands
    contracted to k's subscripts,
        d out / d X_k:   einsum("out, others -> k", grad, other operands).
    A letter of k that appears nowhere else (summed in k alone) is missing from that einsum's
    inputs: the result is broadcast along it. A letter repeated within k (a diagonal, as in
    "ii->i") is computed once and scattered back onto the diagonal.
    """

    def forward(self, *operands, inputs, output):
        self.input_subscripts, self.output_subscripts = inputs, output
        return backend.array_module(operands[0]).einsum(",".join(inputs) + "->" + output, *operands)

    def backward(self, grad):
        grads = []
        for k, (operand, needed) in enumerate(zip(self.inputs, self.needs_input_grad)):
            grads.append(self._operand_gradient(k, grad) if needed else None)
        return tuple(grads)

    def _operand_gradient(self, k, grad):
        target = self.input_subscripts[k]
        shape = self.inputs[k].shape
        others = [s for i, s in enumerate(self.input_subscripts) if i != k]
        available = set(self.output_subscripts).union(*others)
        letters = "".join(dict.fromkeys(target))                  # k's letters, once each
        computed = "".join(c for c in letters if c in available)
        size = {c: shape[target.index(c)] for c in letters}
        operands = [grad] + [t for i, t in enumerate(self.inputs) if i != k]
        part = einsum(",".join([self.output_subscripts] + others) + "->" + computed, *operands)
        if computed != letters:  # letters summed in k alone: each element of k got the same gradient
            part = part.reshape([size[c] if c in computed else 1 for c in letters]).expand(*[size[c] for c in letters])
        if letters == target:
            return part
        # a repeated letter: place the values on the diagonal of k's shape
        xp = backend.array_module("cpu")
        ranges = {c: xp.arange(size[c]).reshape([-1 if d == c else 1 for d in letters]) for c in letters}
        key = tuple(ranges[c] for c in target)
        return ScatterAdd.apply(part, shape=shape, key=key)


def _explicit_subscripts(equation, shapes):
    """PyTorch's einsum equation as explicit subscripts: "..." spelled out with spare letters,
    and the output of an implicit equation (no "->") made explicit: the letters used once,
    in alphabetical order, after the "..." dims."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum(): {len(terms)} operands in the equation {equation!r} but {len(shapes)} given")
    used = set(equation) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    broadcast_rank = 0
    for term, shape in zip(terms, shapes):
        if "..." in term:
            broadcast_rank = max(broadcast_rank, len(shape) - (len(term) - 3))
    ellipsis = "".join(spare[:broadcast_rank])
    inputs = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            rank = len(shape) - (len(term) - 3)
            term = term.replace("...", ellipsis[broadcast_rank - rank:])
        if len(term) != len(shape):
            raise ValueError(f"einsum(): the subscript {term!r} has {len(term)} letters for an operand of shape "
                             f"{tuple(shape)}")
        inputs.append(term)
    if arrow:
        output = rhs.replace("...", ellipsis)
    else:
        counts = {}
        for term in inputs:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        output = ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ellipsis))
    return inputs, output


def einsum(equation, *operands):
    """Einstein summation, as torch.einsum("ij,jk->ik", a, b) (operands may also come as one list):
    repeated letters across operands are multiplied and summed, letters in the output kept.
    Supports "..." and the implicit form without "->". Operands must share one dtype."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    _check_same_dtype("einsum", *[t.array for t in operands], error=RuntimeError)
    inputs, output = _explicit_subscripts(equation, [t.shape for t in operands])
    return Einsum.apply(*operands, inputs=inputs, output=output)


# --- matrix parts: triangles and diagonals ----------------------------------------------------

def _triangle(x, diagonal, keep_lower, op):
    if x.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {x.shape}")
    rows, cols = x.shape[-2:]
    xp = backend.array_module(x.array)
    mask = (xp.tril if keep_lower else xp.triu)(xp.ones((rows, cols), dtype=bool), diagonal)
    zero = Tensor._wrap(xp.zeros((), dtype=x.dtype), False)  # keeps x's dtype (a bool x stays bool)
    return where(Tensor._wrap(mask, False), x, zero)


@composite
def tril(x, diagonal=0):
    """The lower triangle of the last two dims (j <= i + diagonal), zeros above.   d/dx: the same mask."""
    return _triangle(x, diagonal, True, "tril")


@composite
def triu(x, diagonal=0):
    """The upper triangle of the last two dims (j >= i + diagonal), zeros below.   d/dx: the same mask."""
    return _triangle(x, diagonal, False, "triu")


@composite
def diagonal(x, offset=0, dim1=0, dim2=1):
    """The diagonal x[..., i, i + offset] of the dims dim1, dim2, moved to the last dim (Index:
    the gradient goes back onto the diagonal)."""
    dim1, dim2 = wrap_dim(dim1, x.shape, "diagonal", "dim1"), wrap_dim(dim2, x.shape, "diagonal", "dim2")
    if dim1 == dim2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rows, cols = x.shape[dim1], x.shape[dim2]
    xp = backend.array_module("cpu")
    start_row, start_col = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(min(rows - start_row, cols - start_col), 0)
    others = [d for d in range(x.ndim) if d not in (dim1, dim2)]
    moved = x.permute(*others, dim1, dim2)
    key = (Ellipsis, xp.arange(length) + start_row, xp.arange(length) + start_col)
    return index(moved, key)


_diagonal_of = diagonal  # diag's argument is named `diagonal`, as PyTorch's


@composite
def diag(x, diagonal=0):
    """A 1-D x: the square matrix with x on its `diagonal` (0: the main one, >0 above, <0 below).
    A 2-D x: that diagonal of x, 1-D."""
    if x.ndim == 2:
        return _diagonal_of(x, diagonal)
    if x.ndim != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")
    n = x.shape[0] + abs(diagonal)
    xp = backend.array_module("cpu")
    positions = xp.arange(x.shape[0])
    key = (positions, positions + diagonal) if diagonal >= 0 else (positions - diagonal, positions)
    return ScatterAdd.apply(x, shape=(n, n), key=key)


def diag_embed(x, offset=0, dim1=-2, dim2=-1):
    """Each row of x's last dim made into the diagonal of a matrix (the last two dims)."""
    if (offset, dim1, dim2) != (0, -2, -1):
        raise NotImplementedError("diag_embed: only offset=0, dim1=-2, dim2=-1")
    n = x.shape[-1]
    xp = backend.array_module("cpu")
    positions = xp.arange(n)
    return ScatterAdd.apply(x, shape=x.shape + (n,), key=(Ellipsis, positions, positions))


@composite
def trace(x):
    """The sum of the main diagonal of a 2-D tensor."""
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    return diagonal(x).sum()


@composite
def cdist(x1, x2, p=2.0):
    """Pairwise p-norm distances between the rows of x1 (..., n, d) and x2 (..., m, d): (..., n, m).
    Made of the difference of all pairs, abs, pow and sum (memory n m d). At a distance of 0 the
    2-norm's gradient is nan here (PyTorch gives 0)."""
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: expected (..., n, d) and (..., m, d) with one d, got {x1.shape} and {x2.shape}")
    differences = x1.unsqueeze(-2) - x2.unsqueeze(-3)  # (..., n, m, d)
    if p == 2:
        return sqrt((differences * differences).sum(-1))
    if p == 1:
        return differences.abs().sum(-1)
    if p == float("inf"):
        return differences.abs().amax(-1)
    if p == 0:
        return (differences != 0).to(x1.dtype).sum(-1)
    return (differences.abs() ** p).sum(-1) ** (1.0 / p)
