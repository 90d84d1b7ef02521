"""Layers with weights or state: Linear, Conv2d, ConvTranspose2d, BatchNorm1d/2d, LayerNorm,
Dropout, Embedding, and the reshaping helpers Flatten, Unflatten, View. At the end, the rest of
PyTorch GAN code's vocabulary: Identity, Upsample, Dropout2d, InstanceNorm2d, the padding layers,
PixelShuffle, AdaptiveAvgPool2d and PReLU.

Each holds its parameters and calls the matching op in minigrad.nn.functional.
"""

import math

import numpy as np

from .. import creation, ops
from ..ops.conv import pair, same_padding
from ..ops.shape import wrap_dim
from . import functional, init
from .module import Module, Parameter


def _uniform_bias(bias, fan_in):
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    init.uniform_(bias, -bound, bound)


class Linear(Module):
    """y = x W^T + b.   W: (out_features, in_features), b: (out_features,).

    Initialised as PyTorch: W, b ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(creation.zeros(out_features, in_features, device=device, dtype=dtype))
        self.bias = Parameter(creation.zeros(out_features, device=device, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            _uniform_bias(self.bias, self.in_features)

    def forward(self, x):
        return ops.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class _ConvBase(Module):
    def __init__(self, in_channels, out_channels, weight_channels, kernel_size, stride, padding, dilation,
                 bias, padding_mode, device, dtype):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = pair(kernel_size), pair(stride)
        self.padding = padding if isinstance(padding, str) else pair(padding)  # or "same" / "valid"
        self.dilation, self.padding_mode = pair(dilation), padding_mode
        self.weight = Parameter(creation.zeros(*weight_channels, *self.kernel_size, device=device, dtype=dtype))
        self.bias = Parameter(creation.zeros(out_channels, device=device, dtype=dtype)) if bias else None
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            _uniform_bias(self.bias, init.calculate_fan_in_and_fan_out(self.weight)[0])

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            text += f", output_padding={self.output_padding}"
        text += "" if self.bias is not None else ", bias=False"
        return text + ("" if self.padding_mode == "zeros" else f", padding_mode={self.padding_mode}")


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(_ConvBase):
    """2-D convolution over NCHW (or unbatched CHW) input. weight: (out_channels, in_channels, KH, KW).

    padding: an int, a pair, "valid" or "same" (stride 1 only). padding_mode: what the padding holds,
    "zeros", or copies of the input's own edges: "reflect", "replicate" or "circular" (wrapped around).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        if groups != 1:
            raise NotImplementedError("Conv2d: minigrad supports groups=1 only")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}")
        if padding == "same" and pair(stride) != (1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(PADDING_MODES)}, but got padding_mode={padding_mode!r}")
        super().__init__(in_channels, out_channels, (out_channels, in_channels), kernel_size, stride, padding,
                         dilation, bias, padding_mode, device, dtype)
        # F.pad's (left, right, top, bottom), used by the padding modes other than "zeros".
        if padding == "same":
            (top, bottom), (left, right) = same_padding(self.kernel_size, self.dilation)
        else:
            (top, left) = (0, 0) if padding == "valid" else self.padding
            bottom, right = top, left
        self._reversed_padding_repeated_twice = [left, right, top, bottom]

    def forward(self, x):
        if self.padding_mode == "zeros":
            return ops.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)
        if self.padding_mode == "circular":
            x = circular_pad(x, self._reversed_padding_repeated_twice)
        else:
            x = ops.pad(x, self._reversed_padding_repeated_twice, mode=self.padding_mode)
        return ops.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation)


def circular_pad(x, pad):
    """F.pad's "circular" mode for the last two dims, pad = (left, right, top, bottom): the input
    wraps around, so padded position i of a dim of size n reads i mod n (for -before <= i < n + after).
    Indexing with those positions; the gradient of a position read twice is the sum of both."""
    for dim, before, after in ((x.ndim - 1, pad[0], pad[1]), (x.ndim - 2, pad[2], pad[3])):
        size = x.shape[dim]
        if before > size or after > size:
            raise RuntimeError(f"circular padding ({before}, {after}) of a dim of size {size}: "
                               "Padding value causes wrapping around more than once.")
        positions = np.arange(-before, size + after) % size
        x = x[(slice(None),) * dim + (positions,)]
    return x


class ConvTranspose2d(_ConvBase):
    """2-D transposed convolution over NCHW (or unbatched CHW) input. weight: (in_channels, out_channels, KH, KW)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if groups != 1:
            raise NotImplementedError("ConvTranspose2d: minigrad supports groups=1 only")
        if padding_mode != "zeros":
            raise ValueError('Only "zeros" padding mode is supported for ConvTranspose2d')
        super().__init__(in_channels, out_channels, (in_channels, out_channels), kernel_size, stride, padding,
                         dilation, bias, padding_mode, device, dtype)
        self.output_padding = pair(output_padding)

    def forward(self, x):
        return ops.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                    self.output_padding, 1, self.dilation)


class MaxPool2d(Module):
    """The largest value of each kernel_size window (stride defaults to kernel_size)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return ops.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                              ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(MaxPool2d):
    """The largest value of each kernel_size window along the last dim of (N, C, L) or (C, L) input."""

    def forward(self, x):
        return ops.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                              ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool2d(Module):
    """The mean of each kernel_size window (stride defaults to kernel_size); the divisor as
    avg_pool2d's: count_include_pad, ceil_mode and divisor_override as PyTorch."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        return ops.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                              self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """The mean of each kernel_size window along the last dim of (N, C, L) or (C, L) input."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size, self.stride = pair(kernel_size)[:1], pair(stride if stride is not None else kernel_size)[:1]
        self.padding, self.ceil_mode, self.count_include_pad = pair(padding)[:1], ceil_mode, count_include_pad

    def forward(self, x):
        return ops.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveMaxPool2d(Module):
    """The largest value of each of the bins that give an output of `output_size` (OH, OW)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x):
        return ops.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


def _norm_state(module, num_features, eps, momentum, affine, track_running_stats, device, dtype):
    """What BatchNorm and InstanceNorm hold, as PyTorch: weight (ones) and bias (zeros) when
    affine; running_mean, running_var and num_batches_tracked buffers when tracking statistics
    (InstanceNorm never counts batches, but keeps the buffer so state_dict keys match PyTorch's)."""
    module.num_features, module.eps, module.momentum = num_features, eps, momentum
    module.affine, module.track_running_stats = affine, track_running_stats
    if affine:
        module.weight = Parameter(creation.ones(num_features, device=device, dtype=dtype))
        module.bias = Parameter(creation.zeros(num_features, device=device, dtype=dtype))
    else:
        module.weight = module.bias = None
    if track_running_stats:
        module.register_buffer("running_mean", creation.zeros(num_features, device=device, dtype=dtype))
        module.register_buffer("running_var", creation.ones(num_features, device=device, dtype=dtype))
        module.register_buffer("num_batches_tracked", creation.tensor(0, dtype=np.int64, device=device))
    else:
        module.running_mean = module.running_var = module.num_batches_tracked = None


class _BatchNorm(Module):
    """Normalise each channel with batch statistics in training, running statistics in eval."""
    expected_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        _norm_state(self, num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.ndim not in self.expected_dims:
            raise ValueError(f"{type(self).__name__}: expected input with {' or '.join(map(str, self.expected_dims))} "
                             f"dims, got shape {x.shape}")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if momentum is None:  # a cumulative average of all batches so far
                momentum = 1.0 / int(self.num_batches_tracked.item())
        # Running statistics are updated in training and used in eval; without them, batch statistics.
        keep_running = not self.training or self.track_running_stats
        return ops.batch_norm(x, self.running_mean if keep_running else None,
                              self.running_var if keep_running else None, self.weight, self.bias,
                              self.training or self.running_mean is None, momentum or 0.0, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """BatchNorm over (N, C) or (N, C, L) input."""
    expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """BatchNorm over (N, C, H, W) input."""
    expected_dims = (4,)


class LayerNorm(Module):
    """Normalise each sample over its trailing `normalized_shape` dims; weight 1, bias 0 to start."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = Parameter(creation.ones(self.normalized_shape, device=device, dtype=dtype)) \
            if elementwise_affine else None
        self.bias = Parameter(creation.zeros(self.normalized_shape, device=device, dtype=dtype)) \
            if elementwise_affine and bias else None

    def forward(self, x):
        return ops.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class Dropout(Module):
    """Zero elements with probability p in training (scaling the rest by 1/(1-p)); identity in eval.
    With inplace=True the input itself is changed and returned, as PyTorch."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return functional.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Embedding(Module):
    """A lookup table: row i of weight (num_embeddings, embedding_dim) for index i; weight ~ N(0, 1)."""

    def __init__(self, num_embeddings, embedding_dim, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(creation.randn(num_embeddings, embedding_dim, device=device, dtype=dtype))

    def forward(self, indices):
        return ops.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Flatten(Module):
    """Merge dims start_dim..end_dim (by default all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return ops.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim `dim` into `unflattened_size`."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        dim = wrap_dim(self.dim, x.shape, "Unflatten")
        return ops.reshape(x, x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class View(Module):
    """Reshape to a fixed shape, as the book's own View module: View((1, 3, 11, 11)) or View(784)."""

    def __init__(self, *shape):
        super().__init__()
        self.shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape

    def forward(self, x):
        return ops.reshape(x, *self.shape)

    def extra_repr(self):
        return f"{self.shape}"


# --- more of PyTorch GAN code's vocabulary ------------------------------------------------------

class Identity(Module):
    """Returns its input unchanged (any extra arguments are ignored, as PyTorch's)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Upsample(Module):
    """Resize (N, C, ...) input by `scale_factor` or to `size`: F.interpolate with these arguments."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, x):
        return ops.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                               self.recompute_scale_factor)

    def extra_repr(self):
        what = f"scale_factor={self.scale_factor}" if self.scale_factor is not None else f"size={self.size}"
        return f"{what}, mode={self.mode!r}"


class Dropout2d(Module):
    """Zero whole channels of (N, C, H, W) input with probability p in training (scaling the rest by
    1/(1-p)); identity in eval. With inplace=True the input itself is changed and returned."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return functional.dropout2d(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class InstanceNorm2d(Module):
    """Normalise each sample's each channel over (H, W): (N, C, H, W) or (C, H, W) input.

    As PyTorch: no weight and bias unless affine=True, and no running statistics unless
    track_running_stats=True; then training updates them and eval normalises with them.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None):
        super().__init__()
        _norm_state(self, num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.ndim not in (3, 4):
            raise ValueError(f"InstanceNorm2d: expected (N, C, H, W) or (C, H, W) input, got shape {x.shape}")
        unbatched = x.ndim == 3
        if unbatched:
            x = ops.unsqueeze(x, 0)
        out = ops.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                self.training or not self.track_running_stats,
                                self.momentum if self.momentum is not None else 0.0, self.eps)
        return ops.squeeze(out, 0) if unbatched else out

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class _Pad2d(Module):
    """Pad the last two dims by `padding`: an int for all four sides, or (left, right, top, bottom)."""
    mode = "constant"

    def __init__(self, padding, value=0.0):
        super().__init__()
        self.padding = (padding,) * 4 if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != 4:
            raise ValueError(f"{type(self).__name__}: padding must be an int or 4 ints "
                             f"(left, right, top, bottom), got {padding}")
        self.value = value

    def forward(self, x):
        return ops.pad(x, self.padding, self.mode, self.value)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(_Pad2d):
    """Pad with zeros."""

    def __init__(self, padding):
        super().__init__(padding)


class ConstantPad2d(_Pad2d):
    """Pad with `value`."""

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ReflectionPad2d(_Pad2d):
    """Pad with the reflection of the input at its edges (the edge itself is not repeated)."""
    mode = "reflect"


class ReplicationPad2d(_Pad2d):
    """Pad by repeating the input's edge values."""
    mode = "replicate"


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r), r = upscale_factor (sub-pixel convolution's upsampling)."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, x):
        return ops.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class AdaptiveAvgPool2d(Module):
    """Average over bins that give an output of `output_size` (OH, OW), whatever the input size."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return ops.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class PReLU(Module):
    """x if x > 0 else a x, with a learned slope a: one shared (num_parameters=1) or one per channel."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(creation.full(num_parameters, float(init), device=device, dtype=dtype))

    def forward(self, x):
        return ops.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
