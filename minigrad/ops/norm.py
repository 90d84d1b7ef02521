"""Normalisation: batch_norm and layer_norm, each one fused op with its closed-form backward
(and a definition in plain ops, which gives its gradients of gradients).

Both compute  x_hat = (x - mean) / sqrt(var + eps)  and  y = x_hat * weight + bias;
they differ in which axes mean and var run over. With g = dL/dy * weight and M
the number of elements averaged, the backward is

    dL/dx      = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)
    dL/dweight = sum(dL/dy * x_hat),   dL/dbias = sum(dL/dy)

(the two mean terms are the paths through mean and var).
"""

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
            out, mean, var = self.normalize_batch(x, weight, bias, axes, eps)
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

    def normalize_batch(self, x, weight, bias, axes, eps):
        """`normalize` with the batch's statistics, in blocks of samples over the pool
        (minigrad.parallel): mean and var add up the blocks' sums in block order, so they are
        the same at any thread count. Three passes: sum x; centre and sum squares; scale."""
        xp = backend.array_module(x)
        self.axes, self.eps, self.batch_statistics, self.fixed_statistics = axes, eps, True, None
        self.inv_count = 1.0 / reduced_count(x.shape, axes)  # 1/M
        self.weight, x_hat, out = weight, xp.empty_like(x), xp.empty_like(x)
        mean = parallel.add_in_order(parallel.for_rows(x, lambda rows: _channel_sums(x[rows])))
        mean *= self.inv_count

        def center(rows):  # x_hat holds x - mean until it is scaled
            xp.subtract(x[rows], mean, out=x_hat[rows])
            return _channel_sums(x_hat[rows] * x_hat[rows])

        var = parallel.add_in_order(parallel.for_rows(x, center))
        var *= self.inv_count
        self.inv_std = inv_std = 1 / xp.sqrt(var + eps)

        def scale(rows):
            x_hat[rows] *= inv_std
            xp.multiply(x_hat[rows], weight, out=out[rows])
            out[rows] += bias

        parallel.spread_rows(x, scale)
        self.x_hat = x_hat
        return out, mean, var

    def fast_backward(self, grad):
        """Here the parameters' sums run over the same axes as the normalisation, so with
        S1 = sum(dL/dy) = dL/dbias and S2 = sum(dL/dy * x_hat) = dL/dweight per channel,
        mean(g) = w S1 / M and mean(g * x_hat) = w S2 / M, and

            dL/dx = w / sqrt(var + eps) * (dL/dy - S1 / M - x_hat * S2 / M):

        the two sums serve all three gradients (7 passes over the data instead of 11). Both
        passes run in blocks of samples over the pool, the sums added in block order."""
        xp = backend.array_module(grad)
        axes, x_hat = self.axes, self.x_hat
        need_sums = self.batch_statistics or self.needs_input_grad[1] or self.needs_input_grad[2]
        if need_sums:
            sums = parallel.for_rows(grad, lambda rows: (_channel_sums(grad[rows]),
                                                         _channel_sums(grad[rows] * x_hat[rows])))
            sum_grad = parallel.add_in_order([s for s, _ in sums])
            sum_grad_x_hat = parallel.add_in_order([s for _, s in sums])
        dx = None
        if self.needs_input_grad[0]:
            scale, dx = self.weight * self.inv_std, xp.empty_like(grad)
            if self.batch_statistics:
                mean_grad, mean_grad_x_hat = sum_grad * self.inv_count, sum_grad_x_hat * self.inv_count

                def input_grad(rows):
                    xp.multiply(x_hat[rows], mean_grad_x_hat, out=dx[rows])
                    xp.subtract(grad[rows], dx[rows], out=dx[rows])
                    dx[rows] -= mean_grad
                    dx[rows] *= scale
            else:
                def input_grad(rows):
                    xp.multiply(grad[rows], scale, out=dx[rows])

            parallel.spread_rows(grad, input_grad)
        dweight = sum_grad_x_hat.reshape(-1) if self.needs_input_grad[1] else None
        dbias = sum_grad.reshape(-1) if self.needs_input_grad[2] else None
        return dx, dweight, dbias


def _channel_sums(x):
    """x (N, C, ...) summed over all dims but the channels (dim 1), keeping them (1, C, 1, ...).

    A channels-last x (a conv output; any (N, C)) is a matrix (rows, C) in memory, and its
    column sums are one product with a row of ones, which one-threaded BLAS runs ~3x faster
    than NumPy's sum down the rows (measured: 82 vs 277 us on 60 x 112 x 14 x 14)."""
    order = (0,) + tuple(range(2, x.ndim)) + (1,)
    channels_last = x.transpose(order)
    kept = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if not channels_last.flags.c_contiguous:
        return x.sum(axis=(0,) + tuple(range(2, x.ndim)), keepdims=True)
    rows = channels_last.reshape(-1, x.shape[1])
    ones = backend.array_module(x).ones((1, len(rows)), dtype=x.dtype)
    return parallel.matmul(ones, rows).reshape(kept)


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
