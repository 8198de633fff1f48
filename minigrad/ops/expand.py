"""PyTorch's ways of making a tensor bigger or turning it around: ``expand``, ``expand_as``,
``repeat``, ``t()`` and ``.mT``.

``expand`` is a view (no copy, as `broadcast_to`): size-1 axes are stretched and new axes
added in front, and its backward sums the gradient over those axes (the engine's
`sum_to_shape` does it, as for every broadcast). ``repeat`` copies: it is PyTorch's
``repeat``, which tiles the whole tensor (``numpy.tile``), *not* ``numpy.repeat``, which
repeats each element in place: ``[1, 2].repeat(2)`` is ``[1, 2, 1, 2]``. Its backward adds
up the gradients of all the copies of each element.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.ops.base import Function, ShapeError
from minigrad.ops.shape import BroadcastTo, _shape_arg, transpose
from minigrad.tensor import Tensor, expect_tensor


class Expand(BroadcastTo):
    name = "expand"


class Repeat(Function):
    fix_hint = "give one repeat count >= 0 per axis (at least as many as the tensor has)."

    def forward(self, x, repeats):
        self.input_shape = x.shape
        # Axes added in front are size-1 axes of the input, as in numpy.tile.
        self.padded = (1,) * (len(repeats) - x.ndim) + x.shape
        self.repeats = repeats
        return np.tile(x, repeats)

    def backward(self, grad_output):
        # The output's axis k is (repeats[k] copies) x (padded[k] values): split each axis in
        # two, then add the copies up.
        split = [n for pair in zip(self.repeats, self.padded) for n in pair]
        grad = grad_output.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return (grad.reshape(self.input_shape),)


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """``x.expand(4, -1, 3)``: a view of `x` with its size-1 axes stretched to `sizes`, and
    new axes in front (PyTorch's ``expand``); -1 keeps an axis's size. No data is copied, so
    the result is read-only (use ``.repeat`` or ``.clone()`` for a tensor to write into)."""
    expect_tensor(x, "expand")
    sizes = tuple(int(n) for n in _shape_arg(sizes, "expand"))
    if len(sizes) < x.ndim:
        raise ShapeError(f"expand: {len(sizes)} size(s) {sizes} for a tensor of shape "
                         f"{x.shape}: give at least one size per axis ({x.ndim}). Fix: e.g. "
                         f"x.expand({', '.join(['-1'] * x.ndim) or '3'}) keeps every axis.")
    new = len(sizes) - x.ndim
    shape = []
    for position, size in enumerate(sizes):
        if position < new:
            if size < 0:
                raise ShapeError(f"expand: size {size} for the new leading axis {position} "
                                 f"(target {sizes}, tensor of shape {x.shape}): a new axis "
                                 "has no size to keep, so -1 is not allowed there. Fix: give "
                                 "its size, e.g. x.expand(4, ...).")
            shape.append(size)
            continue
        existing = x.shape[position - new]
        if size == -1 or size == existing:
            shape.append(existing)
        elif size < 0:
            raise ShapeError(f"expand: size {size} at axis {position} (target {sizes}): sizes "
                             "are >= 0, or -1 to keep the axis. Fix: use -1 or the size.")
        elif existing != 1:
            raise ShapeError(f"expand: the expanded size ({size}) must match the existing size "
                             f"({existing}) at non-singleton axis {position}: target {sizes}, "
                             f"tensor of shape {x.shape}. Only axes of size 1 can be expanded. "
                             "Fix: use .repeat(...) to copy a tensor several times along an "
                             "axis, or reshape so that the axis has size 1.")
        else:
            shape.append(size)
    return Expand.apply(x, shape=tuple(shape))


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """``x.expand(other.shape)``."""
    return expand(x, expect_tensor(other, "expand_as").shape)


def repeat(x: Tensor, *repeats: Any) -> Tensor:
    """``x.repeat(2, 3)``: `x` tiled 2 times along axis 0 and 3 times along axis 1 (a copy;
    PyTorch's ``repeat``, which is ``numpy.tile``). More counts than axes add axes in front:
    a (3,) tensor ``.repeat(2, 1)`` is (2, 3). To repeat each element instead
    (``numpy.repeat``), PyTorch has ``repeat_interleave``."""
    expect_tensor(x, "repeat")
    if len(repeats) == 1 and isinstance(repeats[0], tuple | list):
        repeats = tuple(repeats[0])
    for n in repeats:  # (not _shape_arg's message: its x.repeat(2, -1) would be refused)
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"repeat: sizes must be ints, got {type(n).__name__} {n!r:.40} in "
                            f"{repeats!r:.80}. Fix: pass whole counts >= 0, e.g. "
                            "x.repeat(2, 1).")
    repeats = tuple(int(n) for n in repeats)
    if len(repeats) < x.ndim:
        raise ShapeError(f"repeat: {len(repeats)} count(s) {repeats} for a tensor of shape "
                         f"{x.shape}: the number of counts cannot be smaller than the number "
                         f"of axes ({x.ndim}). Fix: give one count per axis, 1 to leave an "
                         "axis as it is.")
    if any(n < 0 for n in repeats):
        raise ShapeError(f"repeat: counts must be >= 0, got {repeats}. Fix: 0 for an empty "
                         "axis, 1 to leave an axis as it is.")
    try:
        return Repeat.apply(x, repeats=repeats)
    except MemoryError as error:  # NumPy's message names neither the op nor the sizes
        raise MemoryError(f"repeat: not enough memory to repeat a tensor of shape {x.shape} "
                          f"{repeats} times: {error}. Fix: smaller counts, or .expand(...) "
                          "for a view that copies nothing.") from None


def t(x: Tensor) -> Tensor:
    """``x.t()``: the transpose of a matrix; a 0-d or 1-D tensor is returned as it is (as a
    view). More axes are refused, as in PyTorch: which two to swap is ambiguous."""
    if expect_tensor(x, "t").ndim > 2:
        raise ShapeError(f"t: expects a tensor with <= 2 dimensions, but this one has "
                         f"{x.ndim} (shape {x.shape}). Fix: x.mT swaps the last two axes (a "
                         "batch of matrices); x.transpose(dim0, dim1) swaps any two.")
    return transpose(x)


def matrix_transpose(x: Tensor) -> Tensor:
    """``x.mT``: each matrix of a batch transposed (the last two axes swapped)."""
    if expect_tensor(x, "mT").ndim < 2:
        raise ShapeError(f"mT: only supported on matrices or batches of matrices, got a "
                         f"{x.ndim}-D tensor (shape {x.shape}). Fix: x.unsqueeze(0).mT for a "
                         "row, or x.t() (a 1-D tensor is its own transpose).")
    return transpose(x, -2, -1)
