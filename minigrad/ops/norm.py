"""Normalisation: batch_norm and layer_norm, each one fused op with its closed-form backward
(and a definition in plain ops, which gives its gradients of gradients).

Both compute  x_hat = (x - mean) / sqrt(var + eps)  and  y = x_hat * weight + bias;
they differ in which axes mean and var run over. With g = dL/dy * weight and M
the number of elements averaged, the backward is

    dL/dx      = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)
    dL/dweight = sum(dL/dy * x_hat),   dL/dbias = sum(dL/dy)

(the two mean terms are the paths through mean and var).
"""

import numpy as np

from .. import backend, parallel
from ..autograd import Function
from ..tensor import Tensor
from .reduce import reduced_count


class Normalize(Function):
    """The shared forward and definition; each subclass says which axes it normalises.

    `fast_backward` is the closed form of the module docstring. `definition` is the same
    op in plain minigrad ops; the engine differentiates it for gradients of gradients.
    """

    def normalize(self, x, weight, bias, axes, mean=None, var=None, eps=1e-5):
        xp = backend.array_module(x)
        self.axes, self.eps = axes, eps
        self.batch_statistics = mean is None
        self.fixed_statistics = None if mean is None else (mean, var)
        self.inv_count = 1.0 / reduced_count(x.shape, axes)  # 1/M
        if self.batch_statistics:
            # sum * (1/M) rather than .mean(): NumPy's mean costs ~10 us of Python per call,
            # which dominates on the small arrays of batch-size-1 training.
            mean = x.sum(axis=axes, keepdims=True) * self.inv_count
            centered = x - mean
            var = (centered * centered).sum(axis=axes, keepdims=True) * self.inv_count
        else:
            centered = x - mean
        self.inv_std = 1 / xp.sqrt(var + eps)
        self.x_hat = centered * self.inv_std
        self.weight = weight
        out = self.x_hat * weight
        out += bias
        return out, mean, var

    def definition(self, x, weight, bias):
        """(x - mean) / sqrt(var + eps) * weight + bias, with weight and bias broadcast by `shape`."""
        if self.batch_statistics:
            mean = x.mean(dim=self.axes, keepdim=True)
            var = ((x - mean) * (x - mean)).mean(dim=self.axes, keepdim=True)
        else:  # eval: the running statistics, constants
            mean, var = self.fixed_statistics
        shape = self.parameter_shape(x)
        return (x - mean) * (var + self.eps) ** -0.5 * weight.reshape(shape) + bias.reshape(shape)


class BatchNorm(Normalize):
    """Normalise each channel (dim 1) over the batch and spatial dims.

    Training: batch mean and (biased) variance, and the running statistics move
    towards them: running = (1 - momentum) running + momentum * batch (the running
    variance uses the unbiased batch variance, as PyTorch). Eval: the running
    statistics are used, and are constants for backward.
    """

    def forward(self, x, weight, bias, running_mean=None, running_var=None,
                training=False, momentum=0.1, eps=1e-5):
        axes = (0,) + tuple(range(2, x.ndim))
        channel_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        weight, bias = weight.reshape(channel_shape), bias.reshape(channel_shape)
        if training:
            count = reduced_count(x.shape, axes)
            if count <= 1:
                raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                                 f"got input of shape {tuple(x.shape)}")
            rows = _channel_rows(x)
            if rows is not None:
                out, mean, var = self.normalize_rows(x, rows, weight, bias, axes, eps)
            else:
                out, mean, var = self.normalize(x, weight, bias, axes, eps=eps)
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean.reshape(-1)
            if running_var is not None:
                running_var *= 1 - momentum
                running_var += (momentum * count / (count - 1)) * var.reshape(-1)
            return out
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not training")
        out, _, _ = self.normalize(x, weight, bias, axes, running_mean.reshape(channel_shape),
                                   running_var.reshape(channel_shape), eps)
        return out

    def parameter_shape(self, x):
        return (1, x.shape[1]) + (1,) * (x.ndim - 2)  # one weight per channel

    def normalize_rows(self, x, rows, weight, bias, axes, eps):
        """`normalize` for a large channels-last x seen as rows (R, C): three passes over blocks of
        whole rows, on every core (minigrad.parallel). The per-block sums are added in block order,
        so the result is the same at any thread count."""
        self.axes, self.eps, self.batch_statistics, self.fixed_statistics = axes, eps, True, None
        self.inv_count = 1.0 / rows.shape[0]
        x_hat, out = np.empty_like(rows), np.empty_like(rows)
        weight, bias = weight.reshape(-1), bias.reshape(-1)
        mean = _sum_blocks(parallel.for_blocks(len(rows), lambda a, b: rows[a:b].sum(axis=0), _rows_per_block(rows)))
        mean *= self.inv_count

        def center(a, b):
            np.subtract(rows[a:b], mean, out=x_hat[a:b])
            return (x_hat[a:b] * x_hat[a:b]).sum(axis=0)
        var = _sum_blocks(parallel.for_blocks(len(rows), center, _rows_per_block(rows)))
        var *= self.inv_count
        inv_std = 1 / np.sqrt(var + eps)

        def scale(a, b):
            x_hat[a:b] *= inv_std
            np.multiply(x_hat[a:b], weight, out=out[a:b])
            out[a:b] += bias
        parallel.for_blocks(len(rows), scale, _rows_per_block(rows))
        channel_shape = (1, -1) + (1,) * (x.ndim - 2)
        self.inv_std, self.weight = inv_std.reshape(channel_shape), weight.reshape(channel_shape)
        self.x_hat = _like(x, x_hat)
        return _like(x, out), mean.reshape(channel_shape), var.reshape(channel_shape)

    def fast_backward_rows(self, grad_rows, x_hat_rows):
        """fast_backward's batch-statistics formula on rows (R, C) of whole-row blocks, on every core."""
        count = len(grad_rows)
        sums = parallel.for_blocks(count, lambda a, b: (grad_rows[a:b].sum(axis=0),
                                                        (grad_rows[a:b] * x_hat_rows[a:b]).sum(axis=0)),
                                   _rows_per_block(grad_rows))
        sum_grad = _sum_blocks([s[0] for s in sums])
        sum_grad_x_hat = _sum_blocks([s[1] for s in sums])
        dx = None
        if self.needs_input_grad[0]:
            scale = (self.weight * self.inv_std).reshape(-1)
            mean_grad_x_hat, mean_grad = sum_grad_x_hat * self.inv_count, sum_grad * self.inv_count
            dx = np.empty_like(grad_rows)

            def input_grad(a, b):
                np.multiply(x_hat_rows[a:b], mean_grad_x_hat, out=dx[a:b])
                np.subtract(grad_rows[a:b], dx[a:b], out=dx[a:b])
                dx[a:b] -= mean_grad
                dx[a:b] *= scale
            parallel.for_blocks(count, input_grad, _rows_per_block(grad_rows))
        return dx, sum_grad, sum_grad_x_hat

    def fast_backward(self, grad):
        """Here the parameters' sums run over the same axes as the normalisation, so with
        S1 = sum(dL/dy) = dL/dbias and S2 = sum(dL/dy * x_hat) = dL/dweight per channel,
        mean(g) = w S1 / M and mean(g * x_hat) = w S2 / M, and

            dL/dx = w / sqrt(var + eps) * (dL/dy - S1 / M - x_hat * S2 / M):

        the two sums serve all three gradients (7 passes over the data instead of 11)."""
        axes, x_hat = self.axes, self.x_hat
        grad_rows, x_hat_rows = _channel_rows(grad), _channel_rows(x_hat)
        if self.batch_statistics and grad_rows is not None and x_hat_rows is not None \
                and grad.strides == x_hat.strides:
            dx, sum_grad, sum_grad_x_hat = self.fast_backward_rows(grad_rows, x_hat_rows)
            return (None if dx is None else _like(grad, dx),
                    sum_grad_x_hat if self.needs_input_grad[1] else None, sum_grad if self.needs_input_grad[2] else None)
        need_sums = self.batch_statistics or self.needs_input_grad[1] or self.needs_input_grad[2]
        sum_grad = grad.sum(axis=axes, keepdims=True) if need_sums else None
        sum_grad_x_hat = (grad * x_hat).sum(axis=axes, keepdims=True) if need_sums else None
        dx = None
        if self.needs_input_grad[0]:
            scale = self.weight * self.inv_std
            if self.batch_statistics:
                dx = grad - x_hat * (sum_grad_x_hat * self.inv_count)
                dx -= sum_grad * self.inv_count
                dx *= scale
            else:
                dx = grad * scale
        dweight = sum_grad_x_hat.reshape(-1) if self.needs_input_grad[1] else None
        dbias = sum_grad.reshape(-1) if self.needs_input_grad[2] else None
        return dx, dweight, dbias


# --- BatchNorm on every core: channels-last rows in blocks ---------------------------------------

def _channel_rows(x):
    """A large NumPy x whose channels (dim 1) are its innermost dim in memory, as a (rows, C) view;
    else None. Conv outputs are such (channels-last memory seen as NCHW), as is a (N, C) batch."""
    if type(x) is not np.ndarray or x.size <= parallel.BLOCK or x.ndim < 2:
        return None
    order = (0,) + tuple(range(2, x.ndim)) + (1,)  # NCHW -> NHWC
    channels_last = x.transpose(order)
    if not channels_last.flags.c_contiguous:
        return None
    return channels_last.reshape(-1, x.shape[1])


def _like(x, rows):
    """The (rows, C) array `rows` seen with x's shape and layout (the inverse of _channel_rows)."""
    order = (0,) + tuple(range(2, x.ndim)) + (1,)
    inverse = tuple(order.index(axis) for axis in range(x.ndim))
    return rows.reshape(x.transpose(order).shape).transpose(inverse)


def _rows_per_block(rows):
    return max(1, parallel.BLOCK // rows.shape[1])


def _sum_blocks(partial_sums):
    """Add per-block sums in block order (never in the order threads finish): deterministic."""
    total = partial_sums[0].copy()
    for partial in partial_sums[1:]:
        total += partial
    return total


class LayerNorm(Normalize):
    """Normalise over the last len(normalized_shape) dims of each sample."""

    def forward(self, x, weight, bias, normalized_shape, eps=1e-5):
        k = len(normalized_shape)
        if tuple(x.shape[x.ndim - k:]) != tuple(normalized_shape):
            raise ValueError(f"layer_norm: input of shape {tuple(x.shape)} does not end with the "
                             f"normalized shape {tuple(normalized_shape)}")
        out, _, _ = self.normalize(x, weight, bias, tuple(range(x.ndim - k, x.ndim)), eps=eps)
        return out

    def parameter_shape(self, x):
        return x.shape[x.ndim - len(self.axes):]  # weight has the normalized shape

    def fast_backward(self, grad):
        """The formula of the module docstring; weight and bias broadcast over the leading dims,
        so their gradients are returned full-size and the engine's unbroadcast sums them."""
        axes, x_hat = self.axes, self.x_hat
        dx = None
        if self.needs_input_grad[0]:
            g = grad * self.weight
            g = g - g.sum(axis=axes, keepdims=True) * self.inv_count \
                - x_hat * ((g * x_hat).sum(axis=axes, keepdims=True) * self.inv_count)
            dx = g * self.inv_std
        dweight = grad * x_hat if self.needs_input_grad[1] else None
        dbias = grad if self.needs_input_grad[2] else None
        return dx, dweight, dbias


def _affine(x, weight, bias, shape):
    """weight and bias as Tensors, constants 1 and 0 where absent."""
    xp = backend.array_module(x.array)
    if weight is None:
        weight = Tensor._wrap(xp.ones(shape, dtype=x.dtype), False)
    if bias is None:
        bias = Tensor._wrap(xp.zeros(shape, dtype=x.dtype), False)
    return weight, bias


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """torch.nn.functional.batch_norm; running_mean/running_var are updated in place when training."""
    _check_per_channel(input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    weight, bias = _affine(input, weight, bias, (input.shape[1],))
    out = BatchNorm.apply(input, weight, bias,
                          running_mean=None if running_mean is None else running_mean.array,
                          running_var=None if running_var is None else running_var.array,
                          training=training, momentum=momentum, eps=eps)
    if training:
        for buffer in (running_mean, running_var):
            if buffer is not None:
                buffer._version[0] += 1
    return out


def _check_per_channel(input, **tensors):
    """Each of `tensors` (None or one value per channel) must match the input's channel dim 1."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input (N, C, ...) with at least 2 dims, got shape "
                         f"{tuple(input.shape)}")
    channels = input.shape[1]
    for name, tensor in tensors.items():
        if tensor is not None and tensor.shape != (channels,):
            wanted = f"contain {channels} elements not {tensor.numel()}" if tensor.numel() != channels \
                else f"be 1-D with {channels} elements"
            raise RuntimeError(f"batch_norm: {name} of shape {tuple(tensor.shape)} should {wanted}, one per "
                               f"channel (dim 1) of the input of shape {tuple(input.shape)}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """torch.nn.functional.layer_norm over the trailing `normalized_shape` dims."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    weight, bias = _affine(input, weight, bias, tuple(normalized_shape))
    return LayerNorm.apply(input, weight, bias, normalized_shape=tuple(normalized_shape), eps=eps)


# --- instance norm (a composite) ---------------------------------------------------------------

from ..autograd import composite, no_grad  # noqa: E402


@composite
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each sample's each channel over its own spatial dims: (N, C, ...) input.

        y = (x - mean) / sqrt(var + eps) * weight + bias,   mean and var (biased) over dims 2, 3, ...

    use_input_stats=False normalises with running_mean / running_var instead. With it True and
    running statistics given, they move towards the batch's (as BatchNorm's, averaged over the
    samples, with the unbiased variance): r <- (1 - momentum) r + momentum * stat.
    Made of mean, var, sub, div, sqrt (and mul, add for the affine part).
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected (N, C, ...) input with spatial dims, got shape {input.shape}")
    channels = input.shape[1]
    stat_shape = (1, channels) + (1,) * (input.ndim - 2)
    axes = tuple(range(2, input.ndim))
    if use_input_stats:
        mean = input.mean(dim=axes, keepdim=True)
        var = input.var(dim=axes, unbiased=False, keepdim=True)
        if running_mean is not None or running_var is not None:
            count = reduced_count(input.shape, axes)
            with no_grad():
                _move_towards(running_mean, mean.array.mean(axis=0).reshape(-1), momentum)
                _move_towards(running_var, var.array.mean(axis=0).reshape(-1) * (count / max(count - 1, 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        mean, var = running_mean.reshape(stat_shape), running_var.reshape(stat_shape)
    out = (input - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(stat_shape)
    if bias is not None:
        out = out + bias.reshape(stat_shape)
    return out


def _move_towards(buffer, statistic, momentum):
    """buffer <- (1 - momentum) buffer + momentum * statistic, in place (a running statistic)."""
    if buffer is None:
        return
    buffer.array *= 1 - momentum
    buffer.array += momentum * statistic
    buffer._version[0] += 1
