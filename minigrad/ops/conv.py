"""Convolution and pooling on NCHW tensors, through strided window views and one matmul.

The idea ("im2col"): every output pixel of a convolution is a dot product between
the kernel and one window of the input. `sliding_windows` builds a *view* of all
those windows without copying; reshaping it to a matrix (one row per output
pixel, one column per kernel element) makes the whole convolution ONE matrix
product with the kernel, which BLAS does fast (`window_columns` copies the windows of
the zero-padded input into that matrix). `kernels.fold` is its adjoint: it adds each window back to the place it was
read from, which is the transposed convolution, and so a convolution's input gradient.

Inside, activations are handled channels-last (N, H, W, C): then a window's
elements sit in contiguous runs of C, and the matmul result (one row per pixel,
one column per channel) is already in that layout. The NCHW tensor the user sees
is a transposed view of it; no copy is made to reorder it.
"""

import math
import operator

from .. import backend, kernels
from ..autograd import Function, composite
from ..tensor import Tensor
from .shape import ScatterAdd, pad
from .linalg import _check_same_dtype


def pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def sliding_windows(x, kernel, stride, dilation, axis):
    """A read-only view of the kernel-sized windows of `x`.

    The two spatial dims at `axis`, `axis + 1` (H, W) become four: (OH, OW, KH, KW),
    where window (oh, ow) starts at row oh*stride and its taps are dilation apart.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    out_h, out_w = window_count(x.shape[axis:axis + 2], kernel, stride, dilation)
    row, col = x.strides[axis], x.strides[axis + 1]
    shape = x.shape[:axis] + (out_h, out_w, kh, kw) + x.shape[axis + 2:]
    strides = x.strides[:axis] + (row * sh, col * sw, row * dh, col * dw) + x.strides[axis + 2:]
    return backend.as_strided(x, shape, strides)


def window_count(size, kernel, stride, dilation):
    """(OH, OW): how many windows fit down and across an input of spatial `size` (H, W)."""
    count = tuple((n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(size, kernel, stride, dilation))
    if min(count) <= 0:  # checked here: as_strided would fail with an obscure message
        raise ValueError(f"kernel {tuple(kernel)} with dilation {tuple(dilation)} is larger than the "
                         f"(padded) input {tuple(size)}")
    return count


# Why blocks: a column matrix holds KH*KW copies of its input (75 MB for one of BEGAN's 64x64 layers
# at batch 16), so the columns are made for blocks of whole samples of about COLUMNS_BLOCK elements,
# each used and dropped, and made again for backward. Small ones (at most KEEP_COLUMNS elements and
# KEEP_COLUMNS_RATIO copies of each input number: a strided 4x4 kernel) are kept instead, as making
# them again would cost a copy per backward. The measurements: docs/performance.md.
COLUMNS_BLOCK = 2 * 1024 * 1024
KEEP_COLUMNS = 6 * 1024 * 1024
KEEP_COLUMNS_RATIO = 4


def window_columns(x, placed_at, size, kernel, stride, dilation, first=(0, 0), count=None):
    """im2col: x (N, C, H, W) placed channels-last at `placed_at` in zeros of spatial `size` (its
    zero padding), and the `count` (rows, cols) of its windows from window `first` on (all of
    them by default), copied into a matrix, one row per window, laid out (KH, KW, C).

    With numba one compiled loop reads x and writes the zeros itself (kernels.window_columns),
    without making the zero-padded copy. A kernel as large as the unpadded input has one window,
    the whole input: its columns are x itself, one row per sample (a view, where x is channels-last
    in memory: a DCGAN critic's last layer, a generator's first layer's weight gradient)."""
    x = x.transpose(0, 2, 3, 1)
    count = window_count(size, kernel, stride, dilation) if count is None else count
    if tuple(count) == (1, 1) and tuple(kernel) == tuple(size) == x.shape[1:3] and tuple(first) == (0, 0):
        return x.reshape(len(x), -1)
    if kernels.window_columns and kernels.compiles(x):
        return kernels.window_columns(x, placed_at, kernel, stride, dilation, first, count)
    (ph, pw), (fh, fw), (h, w) = placed_at, first, x.shape[1:3]
    padded = x
    if tuple(size) != (h, w):
        padded = backend.array_module(x).zeros((len(x), *size, x.shape[3]), dtype=x.dtype)
        padded[:, ph:ph + h, pw:pw + w] = x
    windows = sliding_windows(padded, kernel, stride, dilation, axis=1)
    return kernels.im2col(windows[:, fh:fh + count[0], fw:fw + count[1]])


def _pad_spatial(x, padding, axis, value=0, extra=(0, 0)):
    """Pad the two spatial dims at `axis` on both sides (and by `extra` more on the far side)."""
    (ph, pw), (eh, ew) = padding, extra
    if ph == 0 and pw == 0 and eh == 0 and ew == 0:
        return x
    widths = [(0, 0)] * x.ndim
    widths[axis], widths[axis + 1] = (ph, ph + eh), (pw, pw + ew)
    return backend.array_module(x).pad(x, widths, mode="constant", constant_values=value)


class Conv2d(Function):
    """out[n, o] = sum over c, i, j of weight[o, c, i, j] * x_padded[n, c, s*h + d*i, s*w + d*j]  (+ bias[o]).

    x (N, C, H, W), weight (O, C, KH, KW)  ->  out (N, O, OH, OW).
    As matrices: out = cols @ W^T, with cols (N*OH*OW, KH*KW*C) the input windows.
    dL/dW = dL/dout^T @ cols,  dL/dcols = dL/dout @ W  (folded back into dL/dx),
    dL/dbias = dL/dout summed over N, OH, OW.
    """

    def forward(self, x, weight, bias=None, stride=1, padding=0, dilation=1):
        _check_conv_shapes("conv2d", x, weight, weight.shape[1])
        _check_same_dtype("conv2d", x, weight)
        self.stride, self.padding, self.dilation = pair(stride), pair(padding), pair(dilation)
        out_channels, kernel = weight.shape[0], weight.shape[2:]
        self.input_size = x.shape[2:]
        self.padded_size = tuple(size + 2 * p for size, p in zip(self.input_size, self.padding))
        self.window_layout = (*kernel, x.shape[1])  # a row of cols is (KH, KW, C)
        weight_matrix = weight_as_matrix(weight)
        columns = math.prod(self.output_size()) * math.prod(self.window_layout) * len(x)
        self.cols = None
        if columns <= min(KEEP_COLUMNS, KEEP_COLUMNS_RATIO * x.size):  # small enough to keep for backward
            self.cols = self.columns(x)
            products = [kernels.matmul(self.cols, weight_matrix.T)]
        else:
            products = [kernels.matmul(self.columns(x[samples]), weight_matrix.T)
                        for samples in self.blocks_of_samples(len(x))]
        out = products[0] if len(products) == 1 else backend.array_module(x).concatenate(products)
        if bias is not None:
            out += bias
        n, (out_h, out_w) = len(x), self.output_size()
        return out.reshape(n, out_h, out_w, out_channels).transpose(0, 3, 1, 2)

    def columns(self, x):
        """The windows of x (N, C, H, W), zero-padded, as a matrix (N*OH*OW, KH*KW*C)."""
        return window_columns(x, self.padding, self.padded_size, self.window_layout[:2], self.stride, self.dilation)

    def output_size(self):
        """(OH, OW): the number of windows down and across (a kernel larger than the padded input
        is refused here, before any work)."""
        return window_count(self.padded_size, self.window_layout[:2], self.stride, self.dilation)

    def blocks_of_samples(self, n):
        """The blocks of samples (blocks_of_samples) for columns of OH*OW rows of KH*KW*C."""
        return blocks_of_samples(n, math.prod(self.output_size()) * math.prod(self.window_layout))

    def backward(self, grad):
        """dL/dx is the transposed convolution of dL/dout with the same weight; dL/dW correlates
        each window of x with dL/dout (ConvWeightGrad, from the columns forward kept, if it did)."""
        x, weight = self.inputs[:2]
        dx, dweight = kernels.together(  # (two large products: at once)
            grad.numel() * math.prod(self.window_layout),
            (lambda: conv_transpose_to(grad, weight, self.input_size, self.stride, self.padding, self.dilation))
            if self.needs_input_grad[0] else None,
            (lambda: ConvWeightGrad.apply(x, grad, stride=self.stride, padding=self.padding, dilation=self.dilation,
                                          kernel=self.window_layout[:2], cols=self.cols))
            if self.needs_input_grad[1] else None)
        dbias = None
        if len(self.inputs) == 3 and self.needs_input_grad[2]:
            dbias = grad.sum(dim=(0, 2, 3))
        return (dx, dweight, dbias)[:len(self.inputs)]


class ConvWeightGrad(Function):
    """W'[i, j, ki, kj] = sum over n, h, w of big_p[n, j, s*h + d*ki, s*w + d*kj] * small[n, i, h, w],
    with big_p the zero-padded `big`: the weight gradient of a convolution (big = x, small = dL/dout:
    W' is (O, C, KH, KW)) and of a transposed one (big = dL/dout, small = x: W' is (Cin, Cout, KH, KW)).
    As matrices, W' = small^T @ cols: cols holds the window of big_p that each pixel of small saw.

    It is linear in each input; with G the gradient of W':
        d/dsmall = conv2d(big, G)             (stride, padding, dilation as given; cut to small's size)
        d/dbig   = conv_transpose2d(small, G) (to big's size)
    """

    def forward(self, big, small, stride, padding, dilation, kernel, cols=None):
        self.stride, self.padding, self.dilation = stride, padding, dilation
        count, window_layout = small.shape[2:], (*kernel, big.shape[1])
        if cols is not None:  # the columns a convolution's forward kept: every sample in one block
            blocks = [slice(0, len(small))]
        else:
            blocks = blocks_of_samples(len(small), math.prod(count) * math.prod(window_layout))
        total = None
        for samples in blocks:
            block_cols = cols if cols is not None else self.columns(big[samples], kernel, count)
            # W'^T = cols^T @ small: the same sums, each in the same order (1,864 shapes checked bit for
            # bit), which OpenBLAS runs faster in this orientation on convolutions' shapes (the DCGAN
            # critic's 2940 x 224 by 2940 x 1792: 19.6 against 20.9 ms on one core)
            product = kernels.matmul(block_cols.T, pixel_rows(small[samples])).T
            total = product if total is None else total + product  # in block order: the same at any thread count
        return total.reshape(small.shape[1], *window_layout).transpose(0, 3, 1, 2)

    def columns(self, big, kernel, count):
        """The windows of the padded big, channels-last, the first `count` (rows, cols) of them, as
        a matrix (one row per window). A transposed convolution's dL/dout has room for more
        windows than its input has pixels when output_padding >= stride."""
        padded_size = [n + 2 * p for n, p in zip(big.shape[2:], self.padding)]
        return window_columns(big, self.padding, padded_size, kernel, self.stride, self.dilation, count=count)

    def backward(self, grad):
        big, small = self.inputs
        dbig = dsmall = None
        if self.needs_input_grad[0]:
            dbig = conv_transpose_to(small, grad, big.shape[2:], self.stride, self.padding, self.dilation)
        if self.needs_input_grad[1]:
            dsmall = conv2d(big, grad, stride=self.stride, padding=self.padding, dilation=self.dilation)
            dsmall = _cut(dsmall, small.shape[2:])
        return dbig, dsmall


def conv_transpose_to(x, weight, size, stride, padding, dilation):
    """conv_transpose2d(x, weight) of spatial size `size` (H, W): a convolution's input gradient.
    Its last rows and columns may lie beyond the last window (at most stride - 1 of them, or
    dilation - 1 for a transposed convolution's weight gradient): output padding reaches them."""
    reach = [(n - 1) * s - 2 * p + d * (k - 1) + 1
             for n, s, p, d, k in zip(x.shape[2:], stride, padding, dilation, weight.shape[2:])]
    return conv_transpose2d(x, weight, stride=stride, padding=padding, dilation=dilation,
                            output_padding=tuple(t - r for t, r in zip(size, reach)))


def _cut(x, size):
    """x (N, C, H', W') cut to its first `size` (H, W) rows and columns (no op when it has that size)."""
    return x if tuple(x.shape[2:]) == tuple(size) else x[:, :, :size[0], :size[1]]


def blocks_of_samples(n, per_sample):
    """Slices of a batch of n samples whose column matrices, of `per_sample` elements a sample, have
    about COLUMNS_BLOCK elements each (one sample when one alone has more): forward and backward
    make the columns a block at a time, so that no more than one block of them exists at once.
    Columns of at most KEEP_COLUMNS elements in all are one block (small enough to keep, so small
    enough to make whole: one product instead of several). An empty batch is one empty block."""
    if n * per_sample <= KEEP_COLUMNS:
        return [slice(0, max(n, 0))]
    step = max(1, COLUMNS_BLOCK // max(1, per_sample))
    return [slice(start, min(start + step, n)) for start in range(0, max(n, 1), step)]


def pixel_rows(x):
    """x (N, C, H, W) as a matrix (N*H*W, C), one row per pixel (a view when x is channels-last)."""
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])


def weight_as_matrix(weight):
    """A convolution's weight (O, C, KH, KW) as the matrix (O, KH*KW*C) whose rows match the
    column matrix's (a row of cols is (KH, KW, C))."""
    return weight.transpose(0, 2, 3, 1).reshape(len(weight), -1)


class ConvTranspose2d(Function):
    """The adjoint of conv2d: each input pixel scatters weight-scaled copies of the kernel.

    x (N, Cin, H, W), weight (Cin, Cout, KH, KW)  ->  out (N, Cout, OH, OW),
    OH = (H - 1)*stride - 2*padding + dilation*(KH - 1) + output_padding + 1.
    As matrices: cols = x @ W (N*H*W, KH*KW*Cout), folded into the output (or, at stride 1
    when that matrix is smaller, a convolution: `by_convolution`).
    dL/dx = conv2d(dL/dout, W),  dL/dW = ConvWeightGrad(dL/dout, x),  dL/dbias = dL/dout summed.
    """

    def forward(self, x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
        _check_conv_shapes("conv_transpose2d", x, weight, weight.shape[0])
        _check_same_dtype("conv_transpose2d", x, weight)
        self.stride, self.padding, self.dilation = pair(stride), pair(padding), pair(dilation)
        output_padding = pair(output_padding)
        if any(op >= max(s, d) for op, s, d in zip(output_padding, self.stride, self.dilation)):
            raise ValueError(f"conv_transpose2d: output_padding {output_padding} must be smaller than stride or dilation")
        n, in_channels, h, w = x.shape
        out_channels, (kh, kw) = weight.shape[1], weight.shape[2:]
        self.out_channels = out_channels
        full = [(size - 1) * s + d * (k - 1) + 1 + op for size, s, d, k, op in
                zip((h, w), self.stride, self.dilation, (kh, kw), output_padding)]
        self.out_size = [f - 2 * p for f, p in zip(full, self.padding)]
        if min(self.out_size) <= 0:
            raise ValueError(f"conv_transpose2d: padding {self.padding} leaves no output for input {(h, w)}")
        self.full_size, self.kernel, self.input_size = full, (kh, kw), (h, w)
        (oh, ow) = self.out_size
        self.one_pixel = ((h, w) == (1, 1) and self.padding == (0, 0) and output_padding == (0, 0)
                          and self.dilation == (1, 1))
        if self.stride == (1, 1) and oh * ow * in_channels < h * w * out_channels and not self.one_pixel:
            out = self.by_convolution(x, weight, output_padding)
        else:
            out = self.by_fold(x, weight)
        if bias is not None:
            out += bias
        return out.transpose(0, 3, 1, 2)

    def by_fold(self, x, weight):
        """cols = x @ W, one row per input pixel (N*H*W, KH*KW*Cout), folded into the output;
        in blocks of samples. Channels-last (N, OH, OW, Cout). From one pixel, unpadded, a sample's
        row of cols is its output, with nothing to add (a DCGAN generator's first layer, a critic's
        last layer's input gradient); + 0 as the fold's zeros give it (-0.0 becomes 0.0)."""
        (n, in_channels, h, w), (kh, kw) = x.shape, self.kernel
        weight_matrix = weight.transpose(0, 2, 3, 1).reshape(in_channels, -1)  # (Cin, KH*KW*Cout)
        blocks = []
        for samples in self.blocks_of_samples(n, self.out_channels):
            cols = kernels.matmul(pixel_rows(x[samples]), weight_matrix).reshape(-1, h, w, kh, kw, self.out_channels)
            if self.one_pixel:
                cols = cols.reshape(-1, kh, kw, self.out_channels)
                cols += 0
                blocks.append(cols)
                continue
            blocks.append(kernels.fold(cols, self.full_size, self.stride, self.dilation, axis=1,
                                       first=self.padding, count=self.out_size))
        return blocks[0] if len(blocks) == 1 else backend.array_module(x).concatenate(blocks)

    def by_convolution(self, x, weight, output_padding):
        """At stride 1 the transposed convolution is a convolution: of x zero-padded by
        dilation*(kernel - 1), with the kernel flipped (rows shown; columns alike):

            out[y] = sum over i of W[i] x[y - d*i] = sum over i' of W[KH-1-i'] x_padded[y + d*i']

        one column row per output pixel, KH*KW*Cin wide, where the fold has one per input pixel,
        KH*KW*Cout wide: the smaller matrix is made (a generator's last layer, few channels out).
        Only the windows of the output's pixels (after padding is cut) are taken."""
        (n, in_channels, h, w), (kh, kw), (dh, dw) = x.shape, self.kernel, self.dilation
        edges = (dh * (kh - 1), dw * (kw - 1))
        size = [n_ + 2 * e + op for n_, e, op in zip((h, w), edges, output_padding)]
        flipped = weight[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(kh * kw * in_channels, self.out_channels)
        blocks = []
        for samples in self.blocks_of_samples(n, in_channels):
            cols = window_columns(x[samples], edges, size, self.kernel, (1, 1), self.dilation, self.padding,
                                  self.out_size)
            blocks.append(kernels.matmul(cols, flipped).reshape(-1, *self.out_size, self.out_channels))
        return blocks[0] if len(blocks) == 1 else backend.array_module(x).concatenate(blocks)

    def blocks_of_samples(self, n, channels):
        """The blocks of samples (blocks_of_samples) for columns of H*W rows of KH*KW*channels."""
        return blocks_of_samples(n, math.prod(self.input_size) * math.prod(self.kernel) * channels)

    def backward(self, grad):
        """dL/dx is the convolution of dL/dout with the same weight; dL/dW correlates each window of
        dL/dout with x (ConvWeightGrad)."""
        x, weight = self.inputs[:2]
        dx, dweight = kernels.together(  # (two large products: at once; output_padding >= stride leaves
            x.numel() * math.prod(self.kernel) * self.out_channels,  # room for extra windows: cut)
            (lambda: _cut(conv2d(grad, weight, stride=self.stride, padding=self.padding, dilation=self.dilation),
                          self.input_size)) if self.needs_input_grad[0] else None,
            (lambda: ConvWeightGrad.apply(grad, x, stride=self.stride, padding=self.padding, dilation=self.dilation,
                                          kernel=self.kernel)) if self.needs_input_grad[1] else None)
        dbias = None
        if len(self.inputs) == 3 and self.needs_input_grad[2]:
            dbias = grad.sum(dim=(0, 2, 3))
        return (dx, dweight, dbias)[:len(self.inputs)]


def pool_output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's pooled length: floor (or ceil) of (size + 2 padding - dilation (kernel - 1) - 1) / stride, + 1.
    In ceil mode the last window must still start inside the input or its left padding."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


class _Pool2d(Function):
    """What max and average pooling share: the windows of the input, padded on both sides and, in
    ceil mode, on the far side too, so that the last (partial) windows exist."""
    saves_inputs = False

    def windows(self, x, kernel_size, stride, padding, dilation, ceil_mode, fill):
        kernel = pair(kernel_size)
        self.stride = pair(stride) if stride is not None else kernel
        self.padding, self.dilation, self.input_shape = pair(padding), pair(dilation), x.shape
        _check_pool_padding(kernel, self.padding)
        out_size = [pool_output_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                    zip(x.shape[2:], kernel, self.stride, self.padding, self.dilation)]
        if min(out_size) <= 0:
            raise ValueError(f"kernel {kernel} with dilation {self.dilation} is larger than the "
                             f"(padded) input {tuple(x.shape[2:])}")
        # the far-side padding that ceil mode's last windows reach into
        extra = [max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p)) for o, s, d, k, n, p in
                 zip(out_size, self.stride, self.dilation, kernel, x.shape[2:], self.padding)]
        padded = _pad_spatial(x, self.padding, axis=2, value=fill, extra=extra)
        self.padded_size = padded.shape[2:]
        windows = sliding_windows(padded, kernel, self.stride, self.dilation, axis=2)
        self.windows_shape = windows.shape
        return windows

    def unpad(self, dx):
        """The gradient of the padded input, cut back to the input (an array or a Tensor)."""
        (ph, pw), (h, w) = self.padding, self.input_shape[2:]
        return dx[:, :, ph:ph + h, pw:pw + w]


class MaxPool2d(_Pool2d):
    """out = the largest element of each window (padding counts as -inf, or an integer dtype's minimum).
    dL/dx: each window's gradient goes to its largest element (the first, on ties)."""

    def forward(self, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        xp = backend.array_module(x)
        lowest = xp.iinfo(x.dtype).min if x.dtype.kind in "iu" else -xp.inf  # what padding never beats
        windows = self.windows(x, kernel_size, stride, padding, dilation, ceil_mode, lowest)
        flat = windows.reshape(*windows.shape[:4], windows.shape[4] * windows.shape[5])
        self.winner = flat.argmax(axis=-1)[..., None]
        return xp.take_along_axis(flat, self.winner, axis=-1)[..., 0]

    def winner_rows_cols(self):
        """Each window's winner as (row, col) in the padded input."""
        xp = backend.array_module(self.winner)
        n, c, out_h, out_w, kh, kw = self.windows_shape
        (sh, sw), (dh, dw) = self.stride, self.dilation
        tap_row, tap_col = xp.divmod(self.winner[..., 0], kw)
        return xp.arange(out_h).reshape(-1, 1) * sh + tap_row * dh, xp.arange(out_w) * sw + tap_col * dw

    def indices(self):
        """return_indices' answer: each winner's position in its (H, W) plane, flattened (row * W + col)."""
        rows, cols = self.winner_rows_cols()
        (ph, pw), width = self.padding, self.input_shape[3]
        return (rows - ph) * width + (cols - pw)

    def backward(self, grad):
        """In ops: each gradient element is added at its window's winner (a ScatterAdd)."""
        xp = backend.array_module(grad.array)
        n, c = self.windows_shape[:2]
        (hp, wp), (rows, cols) = self.padded_size, self.winner_rows_cols()
        planes = xp.arange(n * c).reshape(n, c, 1, 1)
        positions = ((planes * hp + rows) * wp + cols).reshape(-1)
        dx = ScatterAdd.apply(grad.reshape(-1), shape=(n * c * hp * wp,), key=positions)
        return self.unpad(dx.reshape(n, c, hp, wp))


class AvgPool2d(_Pool2d):
    """out = the sum of each window / its divisor.   dL/dx: each window's gradient / divisor, to each of its elements.

    The divisor, as PyTorch: divisor_override when given; else the window's size, counting the
    zero padding (count_include_pad, the default) but not ceil mode's far side beyond it; else the
    number of input elements in the window. Integer input gives the quotient truncated toward
    zero, as PyTorch (and no gradient).
    """

    def forward(self, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                divisor_override=None):
        xp = backend.array_module(x)
        windows = self.windows(x, kernel_size, stride, padding, 1, ceil_mode, 0)
        sums = windows.sum(axis=(4, 5), dtype=x.dtype)
        divisor = self.divisors(xp, count_include_pad, divisor_override)
        self.divisor = divisor.astype(x.dtype)
        if x.dtype.kind in "iu":
            return xp.sign(sums) * (xp.abs(sums) // self.divisor)
        return sums / self.divisor

    def divisors(self, xp, count_include_pad, divisor_override):
        """The (OH, OW) divisor of each window (a product of one factor per row and one per column)."""
        if divisor_override is not None:
            return xp.full(self.windows_shape[2:4], float(divisor_override))
        factors = []
        for out, size, kernel, stride, margin in zip(self.windows_shape[2:4], self.input_shape[2:],
                                                     self.windows_shape[4:], self.stride, self.padding):
            start = xp.arange(out) * stride - margin
            end = xp.minimum(start + kernel, size + margin)
            if not count_include_pad:
                start, end = xp.maximum(start, 0), xp.minimum(end, size)
            factors.append((end - start).astype(float))
        return factors[0][:, None] * factors[1][None, :]

    def backward(self, grad):
        """In ops: spreading each window's share back is a transposed convolution, per
        channel, with a constant kernel of ones."""
        xp = backend.array_module(grad.array)
        n, c, out_h, out_w, kh, kw = self.windows_shape
        ones = Tensor._wrap(xp.ones((1, 1, kh, kw), dtype=grad.dtype), False)
        spare = [p - ((o - 1) * s + k) for p, o, s, k in zip(self.padded_size, (out_h, out_w), self.stride, (kh, kw))]
        shares = (grad / Tensor._wrap(self.divisor, False)).reshape(n * c, 1, out_h, out_w)
        dx = conv_transpose2d(shares, ones, stride=self.stride, output_padding=spare)
        return self.unpad(dx.reshape(n, c, *self.padded_size))


class AdaptiveMaxPool2d(Function):
    """out[..., i, j] = the largest element of bin (i, j): rows floor(i H / OH) .. ceil((i + 1) H / OH) - 1,
    columns alike (PyTorch's bins; they overlap when the sizes do not divide).
    dL/dx: each bin's gradient goes to its largest element (the first, on ties)."""
    saves_inputs = False

    def forward(self, x, output_size):
        xp = backend.array_module(x)
        (height, width), (out_h, out_w) = x.shape[-2:], output_size
        out = xp.empty(x.shape[:-2] + (out_h, out_w), dtype=x.dtype)
        self.indices = xp.empty(out.shape, dtype=xp.int64)  # row * W + col of each bin's winner
        for i in range(out_h):
            top, bottom = (i * height) // out_h, -(-((i + 1) * height) // out_h)
            for j in range(out_w):
                left, right = (j * width) // out_w, -(-((j + 1) * width) // out_w)
                region = x[..., top:bottom, left:right].reshape(x.shape[:-2] + ((bottom - top) * (right - left),))
                tap = region.argmax(axis=-1)
                out[..., i, j] = xp.take_along_axis(region, tap[..., None], axis=-1)[..., 0]
                self.indices[..., i, j] = (top + tap // (right - left)) * width + left + tap % (right - left)
        self.input_shape = x.shape
        return out

    def backward(self, grad):
        """In ops: each bin's gradient is added at its winner (a ScatterAdd over the flattened planes)."""
        xp = backend.array_module(grad.array)
        plane = self.input_shape[-2] * self.input_shape[-1]
        planes = xp.arange(math.prod(self.input_shape[:-2])).reshape(self.indices.shape[:-2] + (1, 1))
        positions = (planes * plane + self.indices).reshape(-1)
        dx = ScatterAdd.apply(grad.reshape(-1), shape=(math.prod(self.input_shape),), key=positions)
        return dx.reshape(self.input_shape)


def _check_conv_shapes(op, x, weight, weight_in_channels):
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W) and a 4-D weight, got "
                         f"input {tuple(x.shape)} and weight {tuple(weight.shape)}")
    if x.shape[1] != weight_in_channels:
        raise ValueError(f"{op}: input {tuple(x.shape)} has {x.shape[1]} channels, but weight "
                         f"{tuple(weight.shape)} expects {weight_in_channels}")


def _check_pool_padding(kernel, padding):
    """As PyTorch: more padding than half the kernel would make windows of padding only."""
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"padding {padding} must be at most half the kernel size {kernel}")


# The least value PyTorch accepts for each window argument.
_LEAST = {"kernel_size": 1, "stride": 1, "dilation": 1, "padding": 0, "output_padding": 0}


def _check_window_args(op, **args):
    """Each argument must be an int or a pair of ints, as PyTorch: kernel_size, stride and dilation
    at least 1, padding and output_padding at least 0 (a stride of 0 would divide by zero)."""
    for name, value in args.items():
        parts = pair(value)
        try:
            parts = [operator.index(part) for part in parts]
        except TypeError:
            parts = None
        if parts is None or len(parts) != 2:
            raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
        if min(parts) < _LEAST[name]:
            rule = "should be greater than zero" if _LEAST[name] else "must not be negative"
            raise RuntimeError(f"{op}: {name} {rule}, but got {name}={value!r}")


# --- the functions users call (exported by minigrad.nn.functional) ------------------------

def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Convolution of (N, C, H, W) input, or unbatched (C, H, W) input, with weight (O, C, KH, KW).

    padding: an int, a (rows, cols) pair, "valid" (no padding) or "same" (the output keeps the
    input's size; stride 1 only). "same" pads each dim by dilation*(kernel - 1) in all, half before
    and the odd one after (bottom, right), as PyTorch.
    """
    if groups != 1:
        raise NotImplementedError("conv2d: minigrad supports groups=1 only")
    kernel = weight.shape[2:] if weight.ndim == 4 else 1  # other weights fail the shape check
    if isinstance(padding, str):
        _check_window_args("conv2d", kernel_size=kernel, stride=stride, dilation=dilation)
        input, padding = _pad_by_name(input, padding, kernel, stride, dilation)
    _check_window_args("conv2d", kernel_size=kernel, stride=stride, padding=padding, dilation=dilation)
    inputs = (weight,) if bias is None else (weight, bias)
    return _batched("conv2d", input, lambda x: Conv2d.apply(x, *inputs, stride=stride, padding=padding,
                                                            dilation=dilation))


def same_padding(kernel, dilation):
    """The (before, after) padding of each dim that keeps a stride-1 convolution's output size:
    dilation*(kernel - 1) in all, the smaller half before, as PyTorch."""
    pads = []
    for k, d in zip(pair(kernel), pair(dilation)):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return pads


def _pad_by_name(input, padding, kernel, stride, dilation):
    """conv2d's padding "valid" or "same", as an input and a symmetric padding for Conv2d: the
    odd element of an uneven "same" padding is added to the input at the bottom and right."""
    if padding == "valid":
        return input, 0
    if padding != "same":
        raise RuntimeError(f"conv2d: Invalid padding string: {padding!r} (use 'valid', 'same' or numbers)")
    if pair(stride) != (1, 1):
        raise RuntimeError("conv2d: padding='same' is not supported for strided convolutions")
    (top, bottom), (left, right) = same_padding(kernel, dilation)
    if (bottom, right) != (top, left):
        input = pad(input, (0, right - left, 0, bottom - top))
    return input, (top, left)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed convolution of (N, Cin, H, W) input, or unbatched (Cin, H, W), with weight (Cin, Cout, KH, KW)."""
    if groups != 1:
        raise NotImplementedError("conv_transpose2d: minigrad supports groups=1 only")
    kernel = weight.shape[2:] if weight.ndim == 4 else 1
    _check_window_args("conv_transpose2d", kernel_size=kernel, stride=stride, padding=padding,
                       output_padding=output_padding, dilation=dilation)
    inputs = (weight,) if bias is None else (weight, bias)
    return _batched("conv_transpose2d", input, lambda x: ConvTranspose2d.apply(
        x, *inputs, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The largest element of each window, of (N, C, H, W) or (C, H, W) input. With return_indices, also
    each winner's flat position row * W + col in its plane (int64), as PyTorch (for max_unpool2d)."""
    _check_window_args("max_pool2d", kernel_size=kernel_size, stride=kernel_size if stride is None else stride,
                       padding=padding, dilation=dilation)
    params = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    out = _batched("max_pool2d", input, lambda x: MaxPool2d.apply(x, **params))
    if not return_indices:
        return out
    finder = MaxPool2d()  # the winners again, on the raw array: no second output from an op
    finder.forward(_batched_array(input), **params)
    indices = Tensor._wrap(finder.indices().astype("int64"), False)
    return out, (indices if input.ndim == 4 else indices[0])


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each window of (N, C, H, W) or (C, H, W) input (see AvgPool2d for the divisor)."""
    _check_window_args("avg_pool2d", kernel_size=kernel_size, stride=kernel_size if stride is None else stride,
                       padding=padding)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool2d: divisor must be not zero")
    return _batched("avg_pool2d", input, lambda x: AvgPool2d.apply(
        x, kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad, divisor_override=divisor_override))


def _batched(op, input, pool):
    """Pool (or convolve) (N, C, H, W) input, or (C, H, W) input as a batch of one, as PyTorch."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {input.shape}")
    if input.ndim == 3:
        return pool(input.unsqueeze(0)).squeeze(0)
    return pool(input)


def _batched_array(input):
    return input.array if input.ndim == 4 else input.array[None]


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """max_pool2d over the last dim of (N, C, L) or (C, L) input: a (1, k) window on (..., 1, L)."""
    stride = kernel_size if stride is None else stride
    result = max_pool2d(input.unsqueeze(-2), (1, _single(kernel_size)), (1, _single(stride)), (0, _single(padding)),
                        (1, _single(dilation)), ceil_mode, return_indices)
    if return_indices:
        return result[0].squeeze(-2), result[1].squeeze(-2)
    return result.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """avg_pool2d over the last dim of (N, C, L) or (C, L) input: a (1, k) window on (..., 1, L)."""
    stride = kernel_size if stride is None else stride
    out = avg_pool2d(input.unsqueeze(-2), (1, _single(kernel_size)), (1, _single(stride)), (0, _single(padding)),
                     ceil_mode, count_include_pad)
    return out.squeeze(-2)


def _single(value):
    """A 1-d window argument: an int or a one-element tuple, as PyTorch."""
    return value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value


# --- adaptive pooling (a composite: two matrix products) --------------------------------------


def _averaging_matrix(n, m, like):
    """(m, n): row i averages input positions floor(i n/m) .. ceil((i+1) n/m) - 1, as PyTorch's bins."""
    xp = backend.array_module("cpu")
    matrix = xp.zeros((m, n), dtype=like.dtype)
    for i in range(m):
        start, end = (i * n) // m, -(-((i + 1) * n) // m)
        matrix[i, start:end] = 1.0 / (end - start)
    return Tensor._wrap(backend.to_device(matrix, like.device), False)


@composite
def adaptive_avg_pool2d(input, output_size):
    """Average over bins that split (H, W) into output_size (OH, OW): (N, C, H, W) -> (N, C, OH, OW).

    out = A_h @ x @ A_w^T, A_h (OH, H) and A_w (OW, W) the averaging matrices of the bins (bins may
    overlap when the sizes do not divide). Made of two matmuls; an output size of None keeps that dim.
    """
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected (N, C, H, W) or (C, H, W) input, got shape {input.shape}")
    out_h, out_w = (output_size, output_size) if isinstance(output_size, int) or output_size is None else output_size
    height, width = input.shape[-2:]
    out_h, out_w = out_h or height, out_w or width
    rows, cols = _averaging_matrix(height, out_h, input), _averaging_matrix(width, out_w, input)
    return rows @ (input @ cols.T)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """The largest element of each of PyTorch's adaptive bins: (N, C, H, W) or (C, H, W) -> (..., OH, OW);
    an output size of None keeps that dim. With return_indices, each winner's row * W + col (int64)."""
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_max_pool2d: expected (N, C, H, W) or (C, H, W) input, got shape {input.shape}")
    out_h, out_w = (output_size, output_size) if isinstance(output_size, int) or output_size is None else output_size
    height, width = input.shape[-2:]
    output_size = (out_h or height, out_w or width)
    out = AdaptiveMaxPool2d.apply(input, output_size=output_size)
    if not return_indices:
        return out
    finder = AdaptiveMaxPool2d()
    finder.forward(input.array, output_size)
    return out, Tensor._wrap(finder.indices, False)
