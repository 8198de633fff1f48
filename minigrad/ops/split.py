"""Cutting a tensor into pieces along one axis: ``narrow``, ``chunk`` and ``split``, with
PyTorch's rules for pieces that do not divide evenly.

Each piece is its own `Narrow` node, a view of the input (no copy, as in PyTorch), so the
pieces can go through different computations. Its backward puts the piece's gradient back
where the piece came from, zeros elsewhere; the engine adds the pieces' contributions up.
(So backward through k pieces makes k input-sized arrays, one at a time: simple, and
fine at minigrad's sizes; PyTorch's split has one backward node that concatenates.)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.ops.base import Function, ShapeError
from minigrad.ops.reduce import single_axis
from minigrad.tensor import Tensor, expect_tensor


class Narrow(Function):
    def forward(self, x, axis, start, length):
        self.input_shape = x.shape
        self.where = (slice(None),) * axis + (slice(start, start + length),)
        return x[self.where]

    def backward(self, grad_output):
        grad = np.zeros(self.input_shape, grad_output.dtype)
        grad[self.where] = grad_output
        return (grad,)


def _axis(x: Tensor, dim: Any, op: str) -> int:
    if expect_tensor(x, op).ndim == 0:
        raise ShapeError(f"{op}: expects at least a 1-dimensional tensor, got a 0-d one. Fix: "
                         "x.reshape(1) first.")
    return single_axis(dim, x.ndim, op)


def _whole(value: Any, op: str, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{op}: {argument} must be an int, got {type(value).__name__} "
                        f"{value!r:.40}. Fix: pass a whole number.")
    return int(value)


def _pieces(x: Tensor, axis: int, sizes: list[int]) -> tuple[Tensor, ...]:
    starts = np.cumsum([0, *sizes[:-1]])
    return tuple(Narrow.apply(x, axis=axis, start=int(start), length=size)
                 for start, size in zip(starts, sizes))


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``x.narrow(dim, start, length)``: elements start .. start + length - 1 along `dim`, as a
    view (PyTorch's ``narrow``; ``start`` may be negative, counted from the end)."""
    axis = _axis(x, dim, "narrow")
    start, length = _whole(start, "narrow", "start"), _whole(length, "narrow", "length")
    size = x.shape[axis]
    if -size <= start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise ShapeError(f"narrow: start {start} and length {length} do not fit axis {axis} "
                         f"of size {size} (tensor of shape {x.shape}). Fix: 0 <= start and "
                         f"start + length <= {size}.")
    return Narrow.apply(x, axis=axis, start=start, length=length)


_MISSING: Any = object()


def split(x: Tensor, split_size_or_sections: Any = _MISSING, dim: int = 0, *,
          split_size: Any = _MISSING) -> tuple[Tensor, ...]:
    """``x.split(2)``: pieces of 2 along `dim` (the last one smaller when 2 does not divide
    the size); ``x.split([1, 3])``: pieces of those sizes, which must add up to the size.
    A tuple of views, as PyTorch's ``split``. The sizes may be given by keyword under either
    of PyTorch's names: ``torch.split(x, split_size_or_sections=2)`` and the method's
    ``x.split(split_size=2)``."""
    if (split_size_or_sections is _MISSING) == (split_size is _MISSING):
        given = "both" if split_size is not _MISSING else "neither"
        raise TypeError(f"split: expected the piece size (or a list of sizes) once, got "
                        f"{given} of split_size_or_sections and split_size. Fix: e.g. "
                        "x.split(2) or x.split([1, 3]).")
    if split_size_or_sections is _MISSING:
        split_size_or_sections = split_size
    axis = _axis(x, dim, "split")
    size = x.shape[axis]
    if isinstance(split_size_or_sections, list | tuple):
        sections = [_whole(n, "split", "each section size") for n in split_size_or_sections]
        if any(n < 0 for n in sections) or sum(sections) != size:
            raise ShapeError(f"split: the section sizes {sections} must be >= 0 and add up to "
                             f"{size}, the size of axis {axis} (tensor of shape {x.shape}). "
                             "Fix: adjust them, or pass one int for pieces of equal size.")
        return _pieces(x, axis, sections)
    piece = _whole(split_size_or_sections, "split", "split_size")
    if piece < 0 or (piece == 0 and size > 0):
        raise ShapeError(f"split: split_size must be > 0 (it can be 0 only for an empty axis), "
                         f"got {piece} for axis {axis} of size {size}. Fix: e.g. x.split(2).")
    if size == 0:
        return _pieces(x, axis, [0])
    count = math.ceil(size / piece)
    return _pieces(x, axis, [piece] * (count - 1) + [size - piece * (count - 1)])


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``x.chunk(3)``: `x` cut into at most 3 pieces of ceil(size / 3) along `dim` (PyTorch's
    rule: 6 in 4 chunks gives 3 pieces of 2, and 5 in 4 gives 2, 2, 1). A tuple of views."""
    chunks = _whole(chunks, "chunk", "chunks")
    axis = _axis(x, dim, "chunk")
    if chunks <= 0:
        raise ShapeError(f"chunk: expects chunks to be greater than 0, got {chunks}. Fix: e.g. "
                         "x.chunk(2).")
    size = x.shape[axis]
    if size == 0:  # PyTorch gives `chunks` empty pieces
        return _pieces(x, axis, [0] * chunks)
    return split(x, math.ceil(size / chunks), axis)

