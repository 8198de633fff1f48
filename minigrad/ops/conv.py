"""2-D convolution over images of shape (N, C, H, W), vectorised with NumPy.

Convolution is one matrix product (the "im2col" trick, Chellapilla et al. 2006): the
windows of the padded input are copied into a matrix ``cols`` with one column per output
pixel and one row per (channel, kernel row, kernel column), and then
``out = W_matrix @ cols``. The copy is made one kernel offset at a time (windows.py), in
one of two layouts, chosen by shape (`Conv2d.batch_last_pays`):

* **per image**, (N, C·kh·kw, H_out·W_out): the product comes out directly as
  (N, C_out, H_out·W_out), channels first and contiguous, with no transpose on the way in
  or out. Best when the columns are few (a first layer: one input channel) or the
  images large;
* **batch last**, (C·kh·kw, H_out·W_out·N): the input is transposed to (C, H, W, N) first
  and the output back, but every copied run is N times longer and one matrix product
  covers the batch. Best for small images (output rows of a few pixels, whose copies are
  dominated by per-run overhead) when the columns outnumber the output channels.

Groups (``groups=g``) split the channels into g independent convolutions: the same
product, with a group axis — (N, g, C/g·kh·kw, P) columns against (g, C_out/g, C/g·kh·kw)
weights. Dilation d spreads a kernel's taps d pixels apart (Yu & Koltun 2016).

Backward of a window read ("col2im"): each input pixel was read by every window that
covers it, so its gradient is the sum of those windows' gradients, added back one kernel
offset at a time.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import numpy as np

from minigrad.ops.base import Function, ShapeError
from minigrad.ops.pooling import avg_pool2d, max_pool2d  # noqa: F401 (their old home)
from minigrad.ops.windows import (
    Padding,
    check_image,
    check_kernel_stride,
    crop,
    offset_slice,
    output_size,
    pad_image,
    pair,
    squeeze_first,
    symmetric,
)
from minigrad.tensor import Tensor, dtype_mismatch


class Conv2d(Function):
    """Cross-correlation, as in every deep-learning library: ``out[n, o, y, x] = b[o] +
    Σ_{c,i,j} W[o, c, i, j] · x_padded[n, g(o)·C/g + c, y·s + d·i, x·s + d·j]``.

    With ``grad`` = the output gradient as (N, g, C_out/g, P): dW = Σ_n grad @ colsᵀ,
    db = Σ grad, and d cols = W_matrixᵀ @ grad, folded back onto the input by col2im.
    """

    name = "conv2d"

    def forward(self, x, weight, *bias, stride, padding, dilation, groups, out_shape):
        n, channels, _, _ = x.shape
        out_channels, _, kernel_h, kernel_w = weight.shape
        self.x_shape, self.weight_shape, self.padding = x.shape, weight.shape, padding
        self.has_bias = bool(bias)
        self.weight_matrix = weight.reshape(groups, out_channels // groups, -1)
        self.batch_last = self.batch_last_pays(channels * kernel_h * kernel_w, out_channels,
                                               out_shape[1])
        if self.batch_last:
            out = self._forward_batch_last(x, dilation, stride, out_shape)
            if bias:
                out += bias[0].reshape(-1, 1, 1)
            return out
        out_h, out_w = out_shape
        padded = pad_image(x, padding)
        # im2col: cols[n, c, i, j] holds the pixels that tap (i, j) of channel c reads.
        cols = np.empty((n, channels, kernel_h, kernel_w, out_h, out_w), dtype=x.dtype)
        self.taps = []
        for i, j in product(range(kernel_h), range(kernel_w)):
            rows, columns = offset_slice(i * dilation[0], j * dilation[1], out_shape, stride)
            cols[:, :, i, j] = padded[:, :, rows, columns]
            self.taps.append((i, j, rows, columns))
        self.cols = cols.reshape(n, groups, -1, out_h * out_w)
        out = np.matmul(self.weight_matrix, self.cols)  # (N, g, C_out/g, P)
        out = out.reshape(n, out_channels, out_h, out_w)
        if bias:
            out += bias[0].reshape(-1, 1, 1)
        self.padded_shape = padded.shape
        return out

    def backward(self, grad_output):
        if self.batch_last:
            return self._backward_batch_last(grad_output)
        n, out_channels, out_h, out_w = grad_output.shape
        groups = self.weight_matrix.shape[0]
        grad = grad_output.reshape(n, groups, out_channels // groups, out_h * out_w)
        grad_weight = np.matmul(grad, self.cols.swapaxes(-1, -2)).sum(axis=0)
        grad_weight = grad_weight.reshape(self.weight_shape)
        grad_x = None
        if self.needs_input_grad[0]:  # the first layer's input (the data) needs no gradient
            channels = self.x_shape[1]
            kernel_h, kernel_w = self.weight_shape[2], self.weight_shape[3]
            grad_cols = np.matmul(self.weight_matrix.swapaxes(-1, -2), grad)  # (N, g, CK/g, P)
            grad_cols = grad_cols.reshape(n, channels, kernel_h, kernel_w, out_h, out_w)
            grad_padded = np.zeros(self.padded_shape, dtype=grad_cols.dtype)
            for i, j, rows, columns in self.taps:  # col2im
                grad_padded[:, :, rows, columns] += grad_cols[:, :, i, j]
            grad_x = crop(grad_padded, self.padding, self.x_shape)
        if self.has_bias:
            return grad_x, grad_weight, grad_output.sum(axis=(0, 2, 3))
        return grad_x, grad_weight

    # -- Batch last ----------------------------------------------------------------------

    @staticmethod
    def batch_last_pays(column_rows: int, out_channels: int, out_width: int) -> bool:
        """Whether to lay the columns out with the batch last (below): when the output rows
        are short (≤ 8 pixels) and the columns have more rows (C·kh·kw) than the output has
        channels, so that copying windows dominates the op."""
        return out_width <= 8 and column_rows > out_channels

    # Each kernel offset copies a window slice whose contiguous runs are as long as the
    # image's innermost axis: W_out values (4 in the second layer of an 8x8 CNN). When the
    # columns are large and the images small, numpy spends its time on those short runs.
    # Moving the batch axis last, (C, H, W, N), makes every run N·W_out long; one matrix
    # product then covers the whole batch, and the output is transposed back to (N, C, H, W).
    # Measured on benchmarks/cnn.py's training step, second conv batch-last against per
    # image (one process, interleaved, CPU time): the whole step 0.88x the time with 8x8
    # images (4x4 output rows), 0.93x with 16x16 (8x8), but 1.07-1.12x with 28x28 (14x14:
    # the two transposes cost more than the long runs save); a first layer (1 channel in,
    # 16 out) was 1.6-5x slower this way at 8x8 and 28x28. Hence the choice by shape.

    def _forward_batch_last(self, x, dilation, stride, out_shape):
        n, channels, _, _ = x.shape
        groups = self.weight_matrix.shape[0]
        kernel_h, kernel_w = self.weight_shape[2:]
        padded = pad_image(x, self.padding).transpose(1, 2, 3, 0)  # (C, H_pad, W_pad, N)
        cols = np.empty((channels, kernel_h, kernel_w, *out_shape, n), dtype=x.dtype)
        self.taps = []
        for i, j in product(range(kernel_h), range(kernel_w)):
            rows, columns = offset_slice(i * dilation[0], j * dilation[1], out_shape, stride)
            cols[:, i, j] = padded[:, rows, columns]
            self.taps.append((i, j, rows, columns))
        self.cols = cols.reshape(groups, -1, cols[0, 0, 0].size)  # (g, C/g·kh·kw, P·N)
        self.padded_shape = padded.shape
        out = np.matmul(self.weight_matrix, self.cols)  # (g, C_out/g, P·N)
        out = out.reshape(-1, *out_shape, n)  # (C_out, H_out, W_out, N)
        return np.ascontiguousarray(out.transpose(3, 0, 1, 2))

    def _backward_batch_last(self, grad_output):
        n, out_channels, out_h, out_w = grad_output.shape
        groups = self.weight_matrix.shape[0]
        # (g, C_out/g, P·N): the layout of the forward product's output
        grad = np.ascontiguousarray(grad_output.transpose(1, 2, 3, 0)).reshape(groups, -1,
                                                                               out_h * out_w * n)
        grad_weight = np.matmul(grad, self.cols.swapaxes(-1, -2)).reshape(self.weight_shape)
        grad_x = None
        if self.needs_input_grad[0]:
            channels = self.x_shape[1]
            kernel_h, kernel_w = self.weight_shape[2:]
            grad_cols = np.matmul(self.weight_matrix.swapaxes(-1, -2), grad)  # (g, CK/g, P·N)
            grad_cols = grad_cols.reshape(channels, kernel_h, kernel_w, out_h, out_w, n)
            grad_padded = np.zeros(self.padded_shape, dtype=grad_cols.dtype)  # (C, H, W, N)
            for i, j, rows, columns in self.taps:  # col2im
                grad_padded[:, rows, columns] += grad_cols[:, i, j]
            grad_padded = grad_padded.transpose(3, 0, 1, 2)
            grad_x = np.ascontiguousarray(crop(grad_padded, self.padding, self.x_shape))
        if self.has_bias:
            return grad_x, grad_weight, grad_output.sum(axis=(0, 2, 3))
        return grad_x, grad_weight


def conv_padding(padding: Any, kernel: tuple[int, int], stride: tuple[int, int],
                 dilation: tuple[int, int], op: str) -> Padding:
    """PyTorch's padding argument as ((top, bottom), (left, right)): an int or a pair, or
    ``"valid"`` (none) or ``"same"`` (the output keeps the input's size; stride 1 only, and
    an odd total d·(k-1) puts the extra pixel at the bottom/right, as PyTorch does)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of "
                             "'valid' or 'same' (or an int, or a pair of ints).")
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride={stride}), as in PyTorch. Fix: use stride=1, or give the "
                             "padding as a number, e.g. padding=kernel_size // 2.")
        totals = (dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1))
        return tuple((total // 2, total - total // 2) for total in totals)  # type: ignore
    padding = pair(padding, "padding", op)
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be >= 0, got padding={padding}.")
    return symmetric(padding)


def check_groups(op: str, in_channels: int | None, out_channels: int, groups: Any) -> int:
    """`groups` must be a positive int dividing both channel counts (PyTorch's rule; the
    functional form checks the input's channels against the weight instead)."""
    if isinstance(groups, bool) or not isinstance(groups, int | np.integer) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}.")
    for name, count in (("in_channels", in_channels), ("out_channels", out_channels)):
        if count is not None and count % groups:
            raise ValueError(f"{op}: {name} must be divisible by groups, got {name}={count} and "
                             f"groups={groups}. Fix: choose groups that divides both channel "
                             "counts (groups=in_channels is a depthwise convolution).")
    return int(groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution, PyTorch's ``F.conv2d``.

    input ``(N, C_in, H, W)`` or ``(C_in, H, W)``; weight ``(C_out, C_in / groups, kh, kw)``;
    bias ``(C_out,)`` or None; `padding` an int, a pair, ``"valid"`` or ``"same"``.
    Returns ``(N, C_out, H_out, W_out)``.
    """
    x = check_image(input, "conv2d")
    if not isinstance(weight, Tensor) or weight.ndim != 4:
        raise ShapeError("conv2d: weight must be a 4-D Tensor (out_channels, in_channels / "
                         "groups, kh, kw), got "
                         f"{getattr(weight, 'shape', type(weight).__name__)}.")
    if x.dtype != weight.dtype:  # no silent promotion of the model (PyTorch refuses too)
        raise TypeError(dtype_mismatch("conv2d", x, weight))
    out_channels, group_channels = weight.shape[:2]
    groups = check_groups("conv2d", None, out_channels, groups)
    channels = x.shape[-3]
    if group_channels * groups != channels:
        raise ShapeError(
            f"conv2d: the input of shape {x.shape} has {channels} channel(s) but the weight of "
            f"shape {weight.shape} with groups={groups} expects "
            f"in_channels={group_channels * groups}. Fix: make the layer's in_channels "
            f"{channels}, or check the axis order: images must be (N, C, H, W), channels first "
            "(use x.permute(0, 3, 1, 2) for (N, H, W, C) data).")
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (out_channels,)):
        raise ShapeError(f"conv2d: bias must be a Tensor of shape ({out_channels},), got "
                         f"{getattr(bias, 'shape', type(bias).__name__)}.")
    kernel = (weight.shape[2], weight.shape[3])
    stride, dilation = pair(stride, "stride", "conv2d"), pair(dilation, "dilation", "conv2d")
    check_kernel_stride("conv2d", kernel, stride, dilation)
    padding = conv_padding(padding, kernel, stride, dilation, "conv2d")
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
              "out_shape": output_size("conv2d", (x.shape[-2], x.shape[-1]), kernel, stride,
                                       padding, dilation)}
    tensors = (weight,) if bias is None else (weight, bias)
    if x.ndim == 4:
        return Conv2d.apply(x, *tensors, **params)
    return squeeze_first(Conv2d.apply(x.reshape(1, *x.shape), *tensors, **params))
