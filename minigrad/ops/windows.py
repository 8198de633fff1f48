"""Helpers shared by convolution and pooling: every such op reads an (N, C, H, W) image
through kh×kw windows.

Output size, as in PyTorch's ``Conv2d`` documentation, with padding p_before + p_after and
dilation d (the gap between the taps of a kernel):
``H_out = floor((H + p_before + p_after - d·(kh - 1) - 1) / stride) + 1`` (same for W).

Instead of visiting windows one by one, the ops loop over the kh·kw *kernel offsets*: the
taps at offset (i, j) of all windows form one strided slice of the padded image
(`offset_slice`), so each loop step moves a whole slice at once and the loop never
visits single pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.ops.base import ShapeError
from minigrad.tensor import Tensor, expect_tensor

# Padding of the two spatial axes as ((top, bottom), (left, right)): "same" padding of an
# even kernel puts the extra row and column at the bottom and right, as PyTorch does.
Padding = tuple[tuple[int, int], tuple[int, int]]


def pair(value: Any, name: str, op: str) -> tuple[int, int]:
    """PyTorch accepts ``3`` or ``(3, 5)`` for kernel_size, stride, padding and dilation."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value), int(value)
    if (isinstance(value, tuple | list) and len(value) == 2
            and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in value)):
        return int(value[0]), int(value[1])
    raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}.")


def symmetric(padding: tuple[int, int]) -> Padding:
    """``(ph, pw)`` pixels on both sides of each axis."""
    return (padding[0], padding[0]), (padding[1], padding[1])


def pad_image(x: np.ndarray, padding: Padding, value: float = 0.0) -> np.ndarray:
    """Pad the two spatial axes of an (N, C, H, W) array; no copy when there is no padding."""
    (top, bottom), (left, right) = padding
    if top == bottom == left == right == 0:
        return x
    n, c, h, w = x.shape
    padded = np.full((n, c, h + top + bottom, w + left + right), value, dtype=x.dtype)
    padded[:, :, top:top + h, left:left + w] = x
    return padded


def crop(padded: np.ndarray, padding: Padding, shape: tuple[int, ...]) -> np.ndarray:
    """Undo `pad_image`: the (N, C, H, W) interior of a padded array."""
    ((top, _), (left, _)), (h, w) = padding, shape[2:]
    return padded[:, :, top:top + h, left:left + w]


def offset_slice(row: int, column: int, out_shape: tuple[int, int],
                 stride: tuple[int, int]) -> tuple[slice, slice]:
    """The (row, column) slices of the padded input that the kernel tap at (row, column)
    reads, one element per output position: rows row, row + stride, ..., up to H_out of them.
    With dilation d, tap (i, j) sits at (d·i, d·j)."""
    (out_h, out_w), (stride_h, stride_w) = out_shape, stride
    return (slice(row, row + stride_h * (out_h - 1) + 1, stride_h),
            slice(column, column + stride_w * (out_w - 1) + 1, stride_w))


def check_image(x: Any, op: str) -> Tensor:
    """A floating-point (N, C, H, W) or unbatched (C, H, W) Tensor with no empty axis."""
    expect_tensor(x, op)
    if x.ndim not in (3, 4):
        raise ShapeError(
            f"{op}: expected a 4-D input (N, C, H, W) or a 3-D unbatched one (C, H, W), got shape "
            f"{x.shape}. Fix: reshape it; a single image of shape (H, W) becomes "
            "x.reshape(1, 1, H, W). Flattened images need x.reshape(N, C, H, W).")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}. "
                        "Fix: convert it with .float().")
    if x.data.size == 0:
        raise ShapeError(f"{op}: the input of shape {x.shape} is empty (an axis of size 0). "
                         "Fix: check the data loading — an empty batch or a cropped-away image "
                         "usually comes from slicing past the end.")
    return x


def check_kernel_stride(op: str, kernel: tuple[int, int], stride: tuple[int, int],
                        dilation: tuple[int, int] = (1, 1)) -> None:
    """Name the argument that is wrong: kernel_size, stride or dilation below 1."""
    for name, value in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        if min(value) < 1:
            raise ValueError(f"{op}: {name} must be >= 1, got {name}={value}. "
                             f"Fix: pass a positive {name}.")


def output_size(op: str, size: tuple[int, int], kernel: tuple[int, int],
                stride: tuple[int, int], padding: Padding,
                dilation: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    """(H_out, W_out) by the formula above, or a clear error when the kernel does not fit."""
    out = tuple((n + sum(p) - d * (k - 1) - 1) // s + 1
                for n, k, s, p, d in zip(size, kernel, stride, padding, dilation))
    if min(out) < 1:
        span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ShapeError(
            f"{op}: a kernel of size {kernel} (spanning {span} pixels with dilation {dilation}) "
            f"does not fit an input of spatial size {size} with padding {padding}. Fix: use a "
            "smaller kernel, more padding, or a larger image.")
    return out  # type: ignore[return-value]


def squeeze_first(x: Tensor) -> Tensor:
    """Drop the batch axis of one that `reshape(1, *shape)` added for an unbatched input."""
    return x.reshape(x.shape[1:])
