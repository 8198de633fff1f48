"""Max and average pooling over (N, C, H, W) images, one loop over the kernel offsets
(see windows.py): each step reads one strided slice of the padded input."""

from __future__ import annotations

from itertools import product
from typing import Any

import numpy as np

from minigrad.ops.base import Function
from minigrad.ops.windows import (
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
from minigrad.tensor import Tensor


class MaxPool2d(Function):
    """The largest value of each window. The gradient goes to that one element (the first,
    in row-major order, when several tie; the last NaN of a window whose maximum is NaN;
    never padding), as in PyTorch.

    Forward keeps only the maxima; backward finds each window's winner again by comparing
    the window's elements with its maximum in offset order. That costs kh·kw comparisons
    in backward but no index array and no masked copies in forward (which were the
    slowest part of the op).
    """

    name = "max_pool2d"
    saves_output = True

    def forward(self, x, kernel_size, stride, padding, out_shape):
        padded = pad_image(x, symmetric(padding), value=-np.inf)  # padding never wins
        self.offsets = [offset_slice(i, j, out_shape, stride)
                        for i, j in product(range(kernel_size[0]), range(kernel_size[1]))]
        out = padded[(..., *self.offsets[0])].copy()
        for rows, columns in self.offsets[1:]:
            np.maximum(out, padded[..., rows, columns], out=out)
        self.padded, self.out, self.padding, self.x_shape = padded, out, padding, x.shape
        # Windows that neither overlap nor leave pixels out (the usual 2x2, stride 2 pool):
        # each input pixel gets exactly one value in backward, so it is written, not added.
        self.tiles = stride == kernel_size and padded.shape[2:] == (
            out_shape[0] * kernel_size[0], out_shape[1] * kernel_size[1])
        return out

    def backward(self, grad_output):
        padded, out, last = self.padded, self.out, len(self.offsets) - 1
        lowest = out.min()  # NaN if any window's maximum is NaN
        if lowest != lowest or lowest == -np.inf:
            return (self._backward_nan_or_minus_inf(grad_output),)
        grad_padded = (np.empty if self.tiles else np.zeros)(padded.shape, grad_output.dtype)
        unclaimed = None  # windows whose winner is still to be found
        for k, (rows, columns) in enumerate(self.offsets):
            winner = padded[..., rows, columns] == out
            if unclaimed is None:
                unclaimed = ~winner
            else:
                winner &= unclaimed  # a later tie does not get the gradient again
                if k < last:
                    unclaimed ^= winner
            if self.tiles:
                np.multiply(grad_output, winner, out=grad_padded[..., rows, columns])
            else:
                grad_padded[..., rows, columns] += grad_output * winner
        return (crop(grad_padded, symmetric(self.padding), self.x_shape),)

    def _backward_nan_or_minus_inf(self, grad_output):
        """The winners by PyTorch's rule when some window's maximum is NaN or -inf, where
        ``padded == out`` fails: NaN != NaN (no element would win), and the -inf padding
        equals an all -inf maximum (a padding cell would win and its gradient be cropped).

        PyTorch scans a window in row-major order: the winner starts as its first real
        (unpadded) element and moves to every later one that is greater or NaN. So a NaN
        window's gradient goes to its *last* NaN, an all -inf window's to its first real
        element, never to padding. Slower (one more pass per offset), hence only here.
        """
        padded, out = self.padded, self.out
        real = pad_image(np.ones((1, 1) + self.x_shape[2:], dtype=bool),
                         symmetric(self.padding), value=False)
        best = np.full(out.shape, -np.inf, dtype=padded.dtype)
        winner = np.full(out.shape, -1, dtype=np.intp)  # offset number; -1: none yet
        for k, (rows, columns) in enumerate(self.offsets):
            value = padded[..., rows, columns]
            take = real[..., rows, columns] & ((winner < 0) | (value > best) | np.isnan(value))
            np.copyto(best, value, where=take)
            winner[take] = k
        grad_padded = np.zeros(padded.shape, grad_output.dtype)
        for k, (rows, columns) in enumerate(self.offsets):
            grad_padded[..., rows, columns] += grad_output * (winner == k)
        return crop(grad_padded, symmetric(self.padding), self.x_shape)


class AvgPool2d(Function):
    """The mean of each window: every element of a window gets 1/divisor of its gradient.

    The divisor is kh·kw (``count_include_pad=True``, PyTorch's default) or the number of
    real, unpadded elements in the window.
    """

    name = "avg_pool2d"

    def forward(self, x, kernel_size, stride, padding, out_shape, count_include_pad=True):
        padded = pad_image(x, symmetric(padding))
        offsets = [offset_slice(i, j, out_shape, stride)
                   for i, j in product(range(kernel_size[0]), range(kernel_size[1]))]
        total = np.zeros(x.shape[:2] + out_shape, dtype=x.dtype)
        for rows, columns in offsets:
            total += padded[..., rows, columns]
        if count_include_pad or padding == (0, 0):
            divisor: Any = kernel_size[0] * kernel_size[1]
        else:  # count the real pixels of each window by pooling a mask of ones
            real = pad_image(np.ones((1, 1) + x.shape[2:], dtype=x.dtype), symmetric(padding))
            divisor = sum(real[..., rows, columns] for rows, columns in offsets)
        self.divisor, self.offsets, self.x_shape, self.padded_shape = (
            divisor, offsets, x.shape, padded.shape)
        self.padding = padding
        return total / divisor

    def backward(self, grad_output):
        share = grad_output / self.divisor
        grad_padded = np.zeros(self.padded_shape, dtype=share.dtype)
        for rows, columns in self.offsets:
            grad_padded[..., rows, columns] += share
        return (crop(grad_padded, symmetric(self.padding), self.x_shape),)


def pool_arguments(kernel_size: Any, stride: Any, padding: Any, op: str
                   ) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Check a pool's kernel_size, stride (None: the kernel size) and padding, naming the
    argument at fault; shared by the functions and the modules."""
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else pair(stride, "stride", op)
    padding = pair(padding, "padding", op)
    check_kernel_stride(op, kernel, stride)
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be >= 0, got padding={padding}.")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel} "
                         "(as in PyTorch). Fix: use a smaller padding or a larger kernel.")
    return kernel, stride, padding


# PyTorch's pooling options that minigrad does not implement: the one value supported
# (PyTorch's default), what minigrad does instead, and the fix
_UNSUPPORTED = {
    "dilation": (1, "the windows are always dense", "leave dilation=1."),
    "ceil_mode": (False, "the windows always fit inside the padded input (the floor rule of "
                  "ceil_mode=False)", "leave ceil_mode=False; to keep a last, partial window, "
                  "pad the input so that it fits (padding=...)."),
    "return_indices": (False, "the positions of the maxima are not returned",
                       "leave return_indices=False."),
    "divisor_override": (None, "the divisor is the window's size (count_include_pad=True) or "
                         "its count of real pixels", "leave divisor_override=None and rescale "
                         "the result: avg_pool2d(x, (kh, kw)) * (kh * kw / divisor)."),
}


def refuse_unsupported(op: str, **options: Any) -> None:
    """Refuse a PyTorch pooling option at any value but its default, naming it: accepting
    it silently would pool differently from what was asked."""
    for name, value in options.items():
        default, instead, fix = _UNSUPPORTED[name]
        if value is default or (type(value) is int and value == default):
            continue  # the usual call, on every forward: no array made
        if name == "dilation":
            at_default = bool(np.all(np.asarray(value, dtype=object) == 1))  # 1 or (1, 1)
        else:
            at_default = value is None if default is None else not value
        if not at_default:
            raise ValueError(f"{op}: {name}={value!r} is not supported: {instead}. Fix: {fix}")


def _pool_parameters(x: Tensor, kernel_size: Any, stride: Any, padding: Any,
                     op: str) -> dict[str, Any]:
    kernel, stride, padding = pool_arguments(kernel_size, stride, padding, op)
    out_shape = output_size(op, (x.shape[-2], x.shape[-1]), kernel, stride, symmetric(padding))
    return {"kernel_size": kernel, "stride": stride, "padding": padding, "out_shape": out_shape}


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """Max over kh×kw windows; `stride` defaults to `kernel_size`. ``(N, C, H, W)`` in,
    ``(N, C, H_out, W_out)`` out (or the same without N). PyTorch's signature; `dilation`,
    `ceil_mode` and `return_indices` only at their defaults (others are refused)."""
    refuse_unsupported("max_pool2d", dilation=dilation, ceil_mode=ceil_mode,
                       return_indices=return_indices)
    x = check_image(input, "max_pool2d")
    params = _pool_parameters(x, kernel_size, stride, padding, "max_pool2d")
    if x.ndim == 4:
        return MaxPool2d.apply(x, **params)
    return squeeze_first(MaxPool2d.apply(x.reshape(1, *x.shape), **params))


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over kh×kw windows; `stride` defaults to `kernel_size`. Padded zeros count in
    the mean unless ``count_include_pad=False``. PyTorch's signature (the 4th positional
    argument is `ceil_mode`); `ceil_mode` and `divisor_override` only at their defaults
    (others are refused)."""
    refuse_unsupported("avg_pool2d", ceil_mode=ceil_mode, divisor_override=divisor_override)
    x = check_image(input, "avg_pool2d")
    params = _pool_parameters(x, kernel_size, stride, padding, "avg_pool2d")
    params["count_include_pad"] = bool(count_include_pad)
    if x.ndim == 4:
        return AvgPool2d.apply(x, **params)
    return squeeze_first(AvgPool2d.apply(x.reshape(1, *x.shape), **params))
