"""Convolution and pooling over images of shape (N, C, H, W), vectorised with NumPy.

Every op here looks at the input through kh×kw windows. Output size, as in PyTorch's
``Conv2d`` documentation: ``H_out = floor((H + 2·padding - kh) / stride) + 1`` (same for W).

Convolution is one matrix product (the "im2col" trick, Chellapilla et al. 2006): each
window of the padded input becomes one row of a matrix ``cols`` with N·H_out·W_out rows
and C·kh·kw columns, read through `sliding_window_view` (a strided view, so the only
copy is the reshape into the matrix). Then ``out = cols @ W.reshape(O, -1).T``.

Backward of a window read ("col2im"): each input pixel was read by every window that
covers it, so its gradient is the sum of those windows' gradients. Windows overlap, so
the sum runs as one loop over the kh·kw kernel offsets, each adding a whole strided
slice at once — the loop never visits single pixels. The pools use the same loop.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from minigrad.ops.base import Function, ShapeError
from minigrad.tensor import Tensor, expect_tensor


def pair(value: Any, name: str, op: str) -> tuple[int, int]:
    """PyTorch accepts ``3`` or ``(3, 5)`` for kernel_size, stride and padding."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value), int(value)
    if (isinstance(value, tuple | list) and len(value) == 2
            and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in value)):
        return int(value[0]), int(value[1])
    raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}.")


def pad_image(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """Pad the two spatial axes of an (N, C, H, W) array by `padding` on each side."""
    pad_h, pad_w = padding
    if pad_h == 0 and pad_w == 0:
        return x
    n, c, h, w = x.shape
    padded = np.full((n, c, h + 2 * pad_h, w + 2 * pad_w), value, dtype=x.dtype)
    padded[:, :, pad_h:pad_h + h, pad_w:pad_w + w] = x
    return padded


def offset_slice(i: int, j: int, out_shape: tuple[int, int],
                 stride: tuple[int, int]) -> tuple[slice, slice]:
    """The (row, column) slices of the padded input that kernel offset (i, j) reads, one
    element per output position: rows i, i + stride, ..., i + stride·(H_out - 1)."""
    (out_h, out_w), (stride_h, stride_w) = out_shape, stride
    return (slice(i, i + stride_h * (out_h - 1) + 1, stride_h),
            slice(j, j + stride_w * (out_w - 1) + 1, stride_w))


def crop(padded: np.ndarray, padding: tuple[int, int], shape: tuple[int, ...]) -> np.ndarray:
    """Undo `pad_image`: the (N, C, H, W) interior of a padded array."""
    (pad_h, pad_w), (h, w) = padding, shape[2:]
    return padded[:, :, pad_h:pad_h + h, pad_w:pad_w + w]


# -- convolution ------------------------------------------------------------------------------


class Conv2d(Function):
    """Cross-correlation, as in every deep-learning library: ``out[n, o, y, x] = b[o] +
    Σ_{c,i,j} W[o, c, i, j] · x_padded[n, c, y·s + i, x·s + j]``.

    With ``rows`` = the gradient as an (N·H_out·W_out, O) matrix: dW = rowsᵀ @ cols,
    db = Σ rows, and d cols = rows @ W_matrix, folded back onto the input by col2im.
    """

    name = "conv2d"

    def forward(self, x, weight, *bias, stride=(1, 1), padding=(0, 0)):
        n, channels, _, _ = x.shape
        out_channels, _, kernel_h, kernel_w = weight.shape
        padded = pad_image(x, padding)
        windows = sliding_window_view(padded, (kernel_h, kernel_w), axis=(2, 3))
        windows = windows[:, :, ::stride[0], ::stride[1]]  # (N, C, H_out, W_out, kh, kw), a view
        out_h, out_w = windows.shape[2:4]
        # im2col: one row per output pixel, columns ordered (channel, kernel row, kernel col)
        # like the flattened weight, so the convolution is a single matrix product.
        self.cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * out_h * out_w, -1)
        self.weight_matrix = weight.reshape(out_channels, -1)
        out = self.cols @ self.weight_matrix.T  # (N·H_out·W_out, O)
        if bias:
            out += bias[0]
        self.x_shape, self.padded_shape, self.weight_shape = x.shape, padded.shape, weight.shape
        self.stride, self.padding, self.has_bias = stride, padding, bool(bias)
        self.channels = channels
        out = out.reshape(n, out_h, out_w, out_channels).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(out)  # (N, O, H_out, W_out), laid out for the next op

    def backward(self, grad_output):
        n, out_channels, out_h, out_w = grad_output.shape
        rows = grad_output.transpose(0, 2, 3, 1).reshape(-1, out_channels)
        grad_weight = (rows.T @ self.cols).reshape(self.weight_shape)
        grad_x = None
        if self.needs_input_grad[0]:  # the first layer's input (the data) needs no gradient
            _, _, kernel_h, kernel_w = self.weight_shape
            grad_cols = (rows @ self.weight_matrix).reshape(
                n, out_h, out_w, self.channels, kernel_h, kernel_w)
            grad_cols = grad_cols.transpose(0, 3, 1, 2, 4, 5)  # (N, C, H_out, W_out, kh, kw)
            grad_padded = np.zeros(self.padded_shape, dtype=grad_cols.dtype)
            for i, j in product(range(kernel_h), range(kernel_w)):  # col2im
                rows_slice, cols_slice = offset_slice(i, j, (out_h, out_w), self.stride)
                grad_padded[:, :, rows_slice, cols_slice] += grad_cols[..., i, j]
            grad_x = crop(grad_padded, self.padding, self.x_shape)
        if self.has_bias:
            return grad_x, grad_weight, grad_output.sum(axis=(0, 2, 3))
        return grad_x, grad_weight


# -- pooling ----------------------------------------------------------------------------------


class MaxPool2d(Function):
    """The largest value of each window. The gradient goes to that one element (the first,
    in row-major order, when several tie), as in PyTorch."""

    name = "max_pool2d"

    def forward(self, x, kernel_size, stride, padding, out_shape):
        padded = pad_image(x, padding, value=-np.inf)  # padding never wins the max
        out = winner = None
        for offset, (i, j) in enumerate(product(range(kernel_size[0]), range(kernel_size[1]))):
            window = padded[(..., *offset_slice(i, j, out_shape, stride))]
            if out is None:
                out = window.copy()
                winner = np.zeros(out.shape, dtype=np.int32)  # kernel offset of the max
            else:
                better = window > out  # strict: the first maximum keeps the gradient
                np.copyto(out, window, where=better)
                np.copyto(winner, offset, where=better)
        self.winner, self.x_shape, self.padded_shape = winner, x.shape, padded.shape
        self.kernel_size, self.stride, self.padding, self.out_shape = (
            kernel_size, stride, padding, out_shape)
        return out

    def backward(self, grad_output):
        grad_padded = np.zeros(self.padded_shape, dtype=grad_output.dtype)
        offsets = product(range(self.kernel_size[0]), range(self.kernel_size[1]))
        for offset, (i, j) in enumerate(offsets):
            index = (..., *offset_slice(i, j, self.out_shape, self.stride))
            grad_padded[index] += grad_output * (self.winner == offset)
        return (crop(grad_padded, self.padding, self.x_shape),)


class AvgPool2d(Function):
    """The mean of each window: every element of a window gets 1/divisor of its gradient.

    The divisor is kh·kw (``count_include_pad=True``, PyTorch's default) or the number of
    real, unpadded elements in the window.
    """

    name = "avg_pool2d"

    def forward(self, x, kernel_size, stride, padding, out_shape, count_include_pad=True):
        padded = pad_image(x, padding)
        offsets = list(product(range(kernel_size[0]), range(kernel_size[1])))
        total = np.zeros(x.shape[:2] + out_shape, dtype=x.dtype)
        for i, j in offsets:
            total += padded[(..., *offset_slice(i, j, out_shape, stride))]
        if count_include_pad or padding == (0, 0):
            divisor: Any = kernel_size[0] * kernel_size[1]
        else:  # count the real pixels of each window by pooling a mask of ones
            real = pad_image(np.ones((1, 1) + x.shape[2:], dtype=x.dtype), padding)
            divisor = sum(real[(..., *offset_slice(i, j, out_shape, stride))] for i, j in offsets)
        self.divisor, self.offsets, self.x_shape, self.padded_shape = (
            divisor, offsets, x.shape, padded.shape)
        self.stride, self.padding, self.out_shape = stride, padding, out_shape
        return total / divisor

    def backward(self, grad_output):
        share = grad_output / self.divisor
        grad_padded = np.zeros(self.padded_shape, dtype=share.dtype)
        for i, j in self.offsets:
            grad_padded[(..., *offset_slice(i, j, self.out_shape, self.stride))] += share
        return (crop(grad_padded, self.padding, self.x_shape),)


# -- user-facing functions ----------------------------------------------------------------------


def _check_image(x: Any, op: str) -> Tensor:
    expect_tensor(x, op)
    if x.ndim not in (3, 4):
        raise ShapeError(
            f"{op}: expected a 4-D input (N, C, H, W) or a 3-D unbatched one (C, H, W), got shape "
            f"{x.shape}. Fix: reshape it; a single image of shape (H, W) becomes "
            "x.reshape(1, 1, H, W). Flattened images need x.reshape(N, C, H, W).")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}. "
                        "Fix: convert it with .float().")
    return x


def _out_size(op: str, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
              padding: tuple[int, int]) -> tuple[int, int]:
    if min(stride) < 1 or min(padding) < 0 or min(kernel) < 1:
        raise ValueError(f"{op}: need kernel_size >= 1, stride >= 1 and padding >= 0, got "
                         f"kernel_size={kernel}, stride={stride}, padding={padding}.")
    out = tuple((n + 2 * p - k) // s + 1 for n, k, s, p in zip(size, kernel, stride, padding))
    if min(out) < 1:
        raise ShapeError(
            f"{op}: a kernel of size {kernel} does not fit an input of spatial size {size} with "
            f"padding {padding}. Fix: use a smaller kernel, more padding, or a larger image.")
    return out  # type: ignore[return-value]


def _squeeze_first(x: Tensor) -> Tensor:
    """Drop the batch axis of one that `reshape(1, *shape)` added for an unbatched input."""
    return x.reshape(x.shape[1:])


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0) -> Tensor:
    """2-D convolution (PyTorch's ``F.conv2d``, without dilation and groups).

    input ``(N, C_in, H, W)`` or ``(C_in, H, W)``; weight ``(C_out, C_in, kh, kw)``;
    bias ``(C_out,)`` or None. Returns ``(N, C_out, H_out, W_out)``.
    """
    x = _check_image(input, "conv2d")
    if not isinstance(weight, Tensor) or weight.ndim != 4:
        raise ShapeError("conv2d: weight must be a 4-D Tensor (out_channels, in_channels, kh, "
                         f"kw), got {getattr(weight, 'shape', type(weight).__name__)}.")
    channels = x.shape[-3]
    if weight.shape[1] != channels:
        raise ShapeError(
            f"conv2d: the input of shape {x.shape} has {channels} channel(s) but the weight of "
            f"shape {weight.shape} expects in_channels={weight.shape[1]}. Fix: make the layer's "
            f"in_channels {channels}, or check the axis order: images must be (N, C, H, W), "
            "channels first (use x.permute(0, 3, 1, 2) for (N, H, W, C) data).")
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (weight.shape[0],)):
        raise ShapeError(f"conv2d: bias must be a Tensor of shape ({weight.shape[0]},), got "
                         f"{getattr(bias, 'shape', type(bias).__name__)}.")
    stride, padding = pair(stride, "stride", "conv2d"), pair(padding, "padding", "conv2d")
    _out_size("conv2d", x.shape[-2:], weight.shape[2:], stride, padding)
    params = {"stride": stride, "padding": padding}
    tensors = (weight,) if bias is None else (weight, bias)

    def run(batch: Tensor) -> Tensor:
        return Conv2d.apply(batch, *tensors, **params)

    return run(x) if x.ndim == 4 else _squeeze_first(run(x.reshape(1, *x.shape)))


def _pool_arguments(x: Tensor, kernel_size: Any, stride: Any, padding: Any,
                    op: str) -> dict[str, Any]:
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else pair(stride, "stride", op)
    padding = pair(padding, "padding", op)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel} "
                         "(as in PyTorch). Fix: use a smaller padding or a larger kernel.")
    out_shape = _out_size(op, x.shape[-2:], kernel, stride, padding)
    return {"kernel_size": kernel, "stride": stride, "padding": padding, "out_shape": out_shape}


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0) -> Tensor:
    """Max over kh×kw windows; `stride` defaults to `kernel_size`. ``(N, C, H, W)`` in,
    ``(N, C, H_out, W_out)`` out (or the same without N)."""
    x = _check_image(input, "max_pool2d")
    params = _pool_arguments(x, kernel_size, stride, padding, "max_pool2d")
    if x.ndim == 4:
        return MaxPool2d.apply(x, **params)
    return _squeeze_first(MaxPool2d.apply(x.reshape(1, *x.shape), **params))


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               count_include_pad: bool = True) -> Tensor:
    """Mean over kh×kw windows; `stride` defaults to `kernel_size`. Padded zeros count in
    the mean unless ``count_include_pad=False``."""
    x = _check_image(input, "avg_pool2d")
    params = _pool_arguments(x, kernel_size, stride, padding, "avg_pool2d")
    params["count_include_pad"] = bool(count_include_pad)
    if x.ndim == 4:
        return AvgPool2d.apply(x, **params)
    return _squeeze_first(AvgPool2d.apply(x.reshape(1, *x.shape), **params))
