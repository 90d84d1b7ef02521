"""Normalisation: batch_norm, instance_norm and layer_norm, each one fused op with its
closed-form backward (and a definition in plain ops, which gives its gradients of gradients);
instance_norm with running statistics instead of the input's is plain ops.

All compute  x_hat = (x - mean) / sqrt(var + eps)  and  y = x_hat * weight + bias;
they differ in which axes mean and var run over. With g = dL/dy * weight and M
the number of elements averaged, the backward is

    dL/dx      = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)
    dL/dweight = sum(dL/dy * x_hat),   dL/dbias = sum(dL/dy)

(the two mean terms are the paths through mean and var).
"""

from .. import backend, kernels
from ..autograd import FusedFunction, composite, no_grad
from ..tensor import Tensor
from .reduce import reduced_count


class Normalize(FusedFunction):
    """The shared definition, and `normalize` (the forward of BatchNorm in eval); each subclass
    says which axes it normalises. LayerNorm runs the same arithmetic on rows (`normalize_rows`),
    BatchNorm in training and InstanceNorm on channels-last rows (`normalize_columns`).

    `closed_form` is the closed form of the module docstring. `definition` is the same
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
        """`normalize` with the batch's statistics: each channel is a column of x's channels-last
        rows (see `_channel_rows`), normalised by `normalize_columns` over the pool. The output
        is channels-last in memory, whatever x's layout (an NCHW x is copied into rows first)."""
        self.axes, self.eps, self.batch_statistics, self.fixed_statistics = axes, eps, True, None
        self.weight = weight
        rows = _channel_rows(x)[None]  # one group: every row
        out, self.centered, mean, var, self.inv_std = kernels.normalize_columns(rows, weight.reshape(-1), bias.reshape(-1), eps)
        kept = self.parameter_shape(x)
        return _from_channel_rows(out, x.shape), mean.reshape(kept), var.reshape(kept)

    def closed_form(self, grad):
        """Training: `columns_backward` on the channels-last rows. Eval: the statistics are
        constants, so dL/dx = dL/dy w / sqrt(var + eps), dL/dw = sum(dL/dy x_hat), dL/db = sum(dL/dy)."""
        if self.batch_statistics:
            dx, dweight, dbias = kernels.columns_backward(_channel_rows(grad)[None], self.centered, self.inv_std,
                                                  self.weight.reshape(-1), self.needs_input_grad[0])
            dx = None if dx is None else _from_channel_rows(dx, grad.shape)
        else:
            dx = grad * (self.weight * self.inv_std) if self.needs_input_grad[0] else None
            dweight = (grad * self.x_hat).sum(axis=self.axes) if self.needs_input_grad[1] else None
            dbias = grad.sum(axis=self.axes) if self.needs_input_grad[2] else None
        return (dx,
                dweight.reshape(-1) if self.needs_input_grad[1] else None,
                dbias.reshape(-1) if self.needs_input_grad[2] else None)


class InstanceNorm(Normalize):
    """Normalise each sample's each channel over its spatial dims (dims 2, 3, ...): BatchNorm's
    arithmetic with each sample's rows a group of its own (`normalize_columns`), and one weight
    and bias per channel shared by all samples, whose gradients add up over the samples. The
    output is channels-last in memory, as BatchNorm's."""

    def forward(self, x, weight, bias, eps=1e-5):
        self.axes, self.eps, self.batch_statistics, self.fixed_statistics = tuple(range(2, x.ndim)), eps, True, None
        self.weight = weight
        samples = _channels_last(x).reshape(len(x), -1, x.shape[1])  # (N, pixels, C)
        out, self.centered, _, _, self.inv_std = kernels.normalize_columns(samples, weight, bias, eps)
        return _from_channel_rows(out, x.shape)

    parameter_shape = BatchNorm.parameter_shape  # one weight per channel

    def closed_form(self, grad):
        """`columns_backward` on each sample's rows; the weight's and bias's gradients are the
        per-sample sums added over the samples."""
        grads = _channels_last(grad).reshape(len(grad), -1, grad.shape[1])
        dx, dweight, dbias = kernels.columns_backward(grads, self.centered, self.inv_std, self.weight,
                                              self.needs_input_grad[0])
        return (None if dx is None else _from_channel_rows(dx, grad.shape),
                dweight.sum(axis=0).reshape(-1) if self.needs_input_grad[1] else None,
                dbias.sum(axis=0).reshape(-1) if self.needs_input_grad[2] else None)


def _channels_last(x):
    """x (N, C, ...) with the channels moved last, (N, ..., C), C-contiguous: a view of a conv's
    output (which is channels-last in memory), else a copy."""
    order = (0,) + tuple(range(2, x.ndim)) + (1,)
    return backend.array_module(x).ascontiguousarray(x.transpose(order))


def _channel_rows(x):
    """x (N, C, ...) as a matrix of rows (N * ..., C): one row per sample and position, one column
    per channel. A view when x is channels-last in memory (a conv output; a C-contiguous (N, C)),
    else a copy."""
    return _channels_last(x).reshape(-1, x.shape[1])


def _from_channel_rows(rows, shape):
    """The inverse of _channel_rows: rows (N * ..., C), or (G, R, C) with G * R = N * ..., seen as
    an (N, C, ...) array of `shape` (a view)."""
    channels_last = rows.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],))
    return channels_last.transpose((0, channels_last.ndim - 1) + tuple(range(1, channels_last.ndim - 1)))


class LayerNorm(Normalize):
    """Normalise over the last len(normalized_shape) dims of each sample."""

    def forward(self, x, weight, bias, normalized_shape, eps=1e-5):
        """`normalize` over the trailing dims, computed on x as rows (one per leading index) by
        kernels.normalize_rows."""
        k = len(normalized_shape)  # layer_norm checked that x's shape ends with it
        self.axes, self.eps, self.batch_statistics, self.fixed_statistics = tuple(range(x.ndim - k, x.ndim)), eps, True, None
        self.weight = weight
        count = weight.size
        out, x_hat, inv_std = kernels.normalize_rows(x.reshape(-1, count), weight.reshape(-1), bias.reshape(-1), eps)
        self.x_hat, self.inv_std = x_hat.reshape(x.shape), inv_std
        return out.reshape(x.shape)

    def parameter_shape(self, x):
        return x.shape[x.ndim - len(self.axes):]  # weight has the normalized shape

    def closed_form(self, grad):
        """The formula of the module docstring, on the rows (kernels.normalize_rows_grads); weight and
        bias broadcast over the leading dims, so their gradients are summed over them there."""
        count, shape = self.weight.size, self.weight.shape
        need_input, need_weight, need_bias = self.needs_input_grad
        dx, dweight, dbias = kernels.normalize_rows_grads(grad.reshape(-1, count), self.x_hat.reshape(-1, count),
                                                          self.inv_std, self.weight.reshape(-1), need_input,
                                                          need_weight or need_bias)
        return (dx.reshape(grad.shape) if need_input else None, dweight.reshape(shape) if need_weight else None,
                dbias.reshape(shape) if need_bias else None)


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
    if input.numel() == 0:
        return _nothing_to_normalize(input, weight, bias, (1, input.shape[1]) + (1,) * (input.ndim - 2))
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


def _check_per_channel(input, op="batch_norm", **tensors):
    """Each of `tensors` (None or one value per channel) must match the input's channel dim 1."""
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input (N, C, ...) with at least 2 dims, got shape "
                         f"{tuple(input.shape)}")
    channels = input.shape[1]
    for name, tensor in tensors.items():
        if tensor is not None and tensor.shape != (channels,):
            wanted = f"contain {channels} elements not {tensor.numel()}" if tensor.numel() != channels \
                else f"be 1-D with {channels} elements"
            raise RuntimeError(f"{op}: {name} of shape {tuple(tensor.shape)} should {wanted}, one per "
                               f"channel (dim 1) of the input of shape {tuple(input.shape)}")


def _nothing_to_normalize(input, weight, bias, shape):
    """The output for an input with no elements: empty too, with no statistics computed or
    updated, as PyTorch's batch_norm and layer_norm give (its instance_norm fails on a batch of no
    samples). Weight and bias (broadcast by `shape`) still take part, so their gradients are zeros."""
    out = input.clone() if weight is None else input * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """torch.nn.functional.layer_norm over the trailing `normalized_shape` dims."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    if tuple(input.shape[input.ndim - len(normalized_shape):]) != tuple(normalized_shape):
        raise ValueError(f"layer_norm: input of shape {tuple(input.shape)} does not end with the "
                         f"normalized shape {tuple(normalized_shape)}")
    if input.numel() == 0:
        return _nothing_to_normalize(input, weight, bias, tuple(normalized_shape))
    weight, bias = _affine(input, weight, bias, tuple(normalized_shape))
    return LayerNorm.apply(input, weight, bias, normalized_shape=tuple(normalized_shape), eps=eps)


# --- instance norm: the fused op, or plain ops with running statistics --------------------------


@composite
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each sample's each channel over its own spatial dims: (N, C, ...) input.

        y = (x - mean) / sqrt(var + eps) * weight + bias,   mean and var (biased) over dims 2, 3, ...

    With use_input_stats (the default) this is the fused op InstanceNorm; running statistics, if
    given, move towards the batch's (as BatchNorm's, averaged over the samples, with the unbiased
    variance): r <- (1 - momentum) r + momentum * stat. use_input_stats=False normalises with
    running_mean / running_var instead, in plain ops (sub, div, sqrt; mul, add for the affine part).
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected (N, C, ...) input with spatial dims, got shape {input.shape}")
    channels = input.shape[1]
    stat_shape = (1, channels) + (1,) * (input.ndim - 2)
    axes = tuple(range(2, input.ndim))
    count = reduced_count(input.shape, axes)
    _check_per_channel(input, "instance_norm", running_mean=running_mean, running_var=running_var,
                       weight=weight, bias=bias)
    if not use_input_stats and (running_mean is None or running_var is None):
        raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
    if use_input_stats and count == 1:  # each value would be its own mean: PyTorch refuses
        raise ValueError(f"instance_norm: expected more than 1 spatial element when using the input's "
                         f"statistics, got input of shape {tuple(input.shape)}")
    if input.numel() == 0:
        return _nothing_to_normalize(input, weight, bias, stat_shape)
    if use_input_stats:
        if running_mean is not None or running_var is not None:
            x = input.array
            with no_grad():
                _move_towards(running_mean, x.mean(axis=axes).mean(axis=0), momentum)
                _move_towards(running_var, x.var(axis=axes).mean(axis=0) * (count / (count - 1)), momentum)
        weight, bias = _affine(input, weight, bias, (channels,))
        return InstanceNorm.apply(input, weight, bias, eps=eps)
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
