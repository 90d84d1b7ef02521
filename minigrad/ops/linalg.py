"""Matrix products: matmul (with NumPy's 1-D and batched rules) and linear."""

import math

from .. import parallel
from ..autograd import Function


def _check_same_dtype(op, *arrays):
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) > 1:
        listed = " and ".join(f"{a.dtype} {tuple(a.shape)}" for a in arrays)
        raise TypeError(f"{op}: expected the same dtype, got {listed}; convert with .float() or .double()")


class MatMul(Function):
    """Z = X @ Y.   dL/dX = dL/dZ @ Y^T,   dL/dY = X^T @ dL/dZ.

    Shapes follow NumPy: a 1-D X is a row (k,) -> (1, k), a 1-D Y a column
    (k,) -> (k, 1), and the added axis is dropped again; leading axes broadcast
    as batch axes (the engine sums the gradient back over them).
    """

    def forward(self, x, y):
        _check_same_dtype("matmul", x, y)
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError("matmul needs tensors with at least 1 dimension; use * for scalars")
        if x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
            raise ValueError(
                f"matmul: shapes {tuple(x.shape)} and {tuple(y.shape)} cannot be multiplied "
                f"({x.shape[-1]} columns against {y.shape[-2 if y.ndim > 1 else 0]} rows)")
        self.x, self.y = x, y
        if x.ndim > 2 and y.ndim == 2:  # a batch of rows times one matrix: one (parallel) 2-D product
            return _rows_matmul(x, y)
        return parallel.matmul(x, y)

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

    def fast_backward(self, grad):
        """backward on raw arrays (the hot path of every MLP and conv net)."""
        x, y = self.x, self.y
        x2 = x[None, :] if x.ndim == 1 else x          # (k,) -> (1, k)
        y2 = y[:, None] if y.ndim == 1 else y          # (k,) -> (k, 1)
        if y.ndim == 1:  # restore the last axis first: for vector @ vector, grad is 0-d
            grad = grad[..., None]
        if x.ndim == 1:
            grad = grad[..., None, :]
        dx, dy = parallel.matmuls(  # the two products at once
            (grad, y2.swapaxes(-1, -2)) if self.needs_input_grad[0] else None,
            (x2.swapaxes(-1, -2), grad) if self.needs_input_grad[1] else None)
        if dx is not None and x.ndim == 1:
            dx = dx[..., 0, :]
        if dy is not None and y.ndim == 1:
            dy = dy[..., 0]
        return dx, dy


class Linear(Function):
    """y = x W^T + b, with x (..., in), W (out, in), b (out,).

    dL/dx = dL/dy W,   dL/dW = dL/dy^T x  (summed over the leading axes),   dL/db = sum of dL/dy.
    One matmul each way, instead of a transpose, a matmul and a broadcast add.
    """

    def forward(self, x, weight, bias=None):
        _check_same_dtype("linear", x, weight)
        if x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"linear: input of shape {tuple(x.shape)} has {x.shape[-1]} features, but the "
                f"weight of shape {tuple(weight.shape)} expects {weight.shape[1]}")
        self.x, self.weight = x, weight
        out = _rows_matmul(x, weight.T)
        if bias is not None:
            out += bias
        return out

    def backward(self, grad):
        x, weight = self.inputs[:2]
        dx = grad @ weight if self.needs_input_grad[0] else None
        grad2d = grad.reshape(-1, grad.shape[-1])
        dweight = grad2d.t() @ x.reshape(-1, x.shape[-1]) if self.needs_input_grad[1] else None
        if len(self.inputs) == 2:
            return dx, dweight
        return dx, dweight, (grad2d.sum(dim=0) if self.needs_input_grad[2] else None)

    def fast_backward(self, grad):
        """backward on raw arrays (the hot path of every MLP): the two products at once."""
        x, weight = self.x, self.weight
        grad2d, x2d = _rows(grad), _rows(x)
        dx, dweight = parallel.matmuls((grad2d, weight) if self.needs_input_grad[0] else None,
                                       (grad2d.T, x2d) if self.needs_input_grad[1] else None)
        if dx is not None:
            dx = dx.reshape(x.shape)
        if len(self.needs_input_grad) == 2:
            return dx, dweight
        dbias = grad2d.sum(axis=0) if self.needs_input_grad[2] else None
        return dx, dweight, dbias


def _rows(x):
    """x (..., k) as a matrix of rows (-1, k) (a view when x's memory allows)."""
    return x.reshape(math.prod(x.shape[:-1]), x.shape[-1])


def _rows_matmul(x, w):
    """x (..., k) @ w (k, n) with the leading axes of x as rows of one (parallel) 2-D product."""
    if x.ndim == 2 or not x.flags.c_contiguous:
        return parallel.matmul(x, w)
    return parallel.matmul(_rows(x), w).reshape(*x.shape[:-1], w.shape[-1])


def matmul(x, y):
    return MatMul.apply(x, y)


def linear(x, weight, bias=None):
    """y = x W^T + b, as torch.nn.functional.linear."""
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)
