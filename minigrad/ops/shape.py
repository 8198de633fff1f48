"""Ops that move values around without arithmetic: reshape, view, transpose, joining
(indexing is in indexing.py, re-exported here).

Their backward moves the gradient back to where each value came from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.ops.base import Function, ShapeError
from minigrad.ops.indexing import getitem, setitem  # noqa: F401 (the Tensor API imports them here)
from minigrad.ops.padding import ConstantPad, check_value
from minigrad.ops.promotion import promoted_all
from minigrad.ops.reduce import normalize_axis, single_axis
from minigrad.tensor import Tensor, expect_tensor


class Reshape(Function):
    fix_hint = ("the new shape must hold as many elements as the old one; use -1 for one axis "
                "to have it inferred.")

    def forward(self, x, shape):
        self.input_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad_output):
        return (grad_output.reshape(self.input_shape),)


class View(Reshape):
    """Reshape without a copy. A tensor whose elements are not one block in row-major order
    (after ``.T``, ``permute``, a stepped slice) often cannot be viewed so: that is refused,
    as in PyTorch, where `reshape` would quietly copy and writes to the result would be lost
    to the original."""

    def forward(self, x, shape):
        self.input_shape = x.shape
        try:
            return np.reshape(x, shape, copy=False)
        except ValueError:
            x.reshape(shape)  # a shape that does not fit fails here, with reshape's message
            sizes = ", ".join(map(str, shape))
            raise RuntimeError(
                f"view: a tensor of shape {x.shape} with strides {x.strides} (its elements are "
                "not one block in row-major order, e.g. after .T or .permute) cannot be viewed "
                f"as shape ({sizes}) without a copy. Fix: .reshape({sizes}), which copies when "
                "it must (writes to the copy do not reach the original).") from None


class Flatten(Reshape):
    pass


class Squeeze(Reshape):
    pass


class Unsqueeze(Reshape):
    pass


class Transpose(Function):
    def forward(self, x, axes=None):
        self.axes = axes
        return np.transpose(x, axes)

    def backward(self, grad_output):
        inverse = None if self.axes is None else np.argsort(self.axes)
        return (np.transpose(grad_output, inverse),)


class BroadcastTo(Function):
    name = "broadcast_to"

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, grad_output):
        return (grad_output,)  # the engine sums it back to the input's shape


class Cat(Function):
    fix_hint = "give the tensors the same size on every axis except the one they are joined on."

    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad_output):
        return tuple(np.split(grad_output, self.splits, axis=self.axis))


class Stack(Function):
    fix_hint = "give every tensor the same shape."

    def forward(self, *arrays, axis=0):
        self.axis = axis
        return np.stack(arrays, axis=axis)

    def backward(self, grad_output):
        count = grad_output.shape[self.axis]
        return tuple(np.take(grad_output, i, axis=self.axis) for i in range(count))


class Pad(ConstantPad):
    """Constant padding; `pad_width` as in `numpy.pad`: ((before, after), ...) per axis, no
    crops. `F.pad`'s constant op (its backward too), given NumPy's widths."""

    fix_hint = ("pad_width is an int, a (before, after) pair for every axis, or one pair per "
                "axis, as in numpy.pad.")

    def forward(self, x, pad_width, value=0.0):
        widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
        if (widths < 0).any():
            raise ShapeError(f"pad: widths must be >= 0, got {pad_width}.")
        return super().forward(x, widths.tolist(), value)


# -- user-facing functions -------------------------------------------------------------------


def _shape_arg(shape: tuple, op: str = "reshape") -> tuple:
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, int | np.integer):
            raise TypeError(f"{op}: sizes must be ints, got {type(size).__name__} {size!r:.40} "
                            f"in {shape!r:.80}. Fix: pass whole numbers, e.g. x.{op}(2, -1).")
    return shape


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """``x.reshape(2, -1)`` or ``x.reshape((2, -1))``."""
    return Reshape.apply(x, shape=_shape_arg(shape))


def view(x: Tensor, *shape: Any) -> Tensor:
    """``x.view(2, -1)``: `reshape` that never copies, so the result always shares `x`'s
    memory and writes through either one reach the other (PyTorch's ``view``)."""
    return View.apply(x, shape=_shape_arg(shape, "view"))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes `start_dim`..`end_dim` into one (PyTorch's ``flatten``)."""
    start = single_axis(start_dim, x.ndim, "flatten", "start_dim")
    if x.ndim == 0:  # dims 0 and -1 only, as in PyTorch
        single_axis(end_dim, x.ndim, "flatten", "end_dim")
        return Flatten.apply(x, shape=(1,))
    end = single_axis(end_dim, x.ndim, "flatten", "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                         f"tensor of shape {x.shape}. Fix: pass start_dim <= end_dim, e.g. "
                         "flatten(1) to keep the batch axis.")
    shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:]
    return Flatten.apply(x, shape=shape)


def transpose(x: Tensor, dim0: int | None = None, dim1: int | None = None) -> Tensor:
    """Swap two axes (PyTorch's ``transpose(dim0, dim1)``); without them, reverse all axes."""
    if dim0 is None and dim1 is None:
        return Transpose.apply(x, axes=None)
    if dim0 is None or dim1 is None:
        raise TypeError("transpose: give both dim0 and dim1, or neither.")
    axes = list(range(x.ndim))
    a = single_axis(dim0, x.ndim, "transpose", "dim0")
    b = single_axis(dim1, x.ndim, "transpose", "dim1")
    axes[a], axes[b] = axes[b], axes[a]
    return Transpose.apply(x, axes=tuple(axes))


def permute(x: Tensor, *axes: Any) -> Tensor:
    """Reorder the axes: ``x.permute(0, 2, 1)``."""
    axes = _shape_arg(axes, "permute")
    in_range = [a % x.ndim for a in axes if -x.ndim <= a < x.ndim]
    if len(axes) != x.ndim or sorted(in_range) != list(range(x.ndim)):
        raise ShapeError(f"permute: {axes} is not a permutation of the {x.ndim} axes of a tensor "
                         f"of shape {x.shape}. Fix: name each axis in [0, {x.ndim - 1}] once.")
    return Transpose.apply(x, axes=tuple(a % x.ndim for a in axes))


def squeeze(x: Tensor, axis: Any = None) -> Tensor:
    """Remove axes of size 1 (all of them, or the given ones; others are left, as in PyTorch)."""
    axes = normalize_axis(axis, x.ndim, "squeeze") if x.ndim else ()
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return Squeeze.apply(x, shape=shape)


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """Insert an axis of size 1 at position `axis`."""
    position = single_axis(axis, x.ndim + 1, "unsqueeze")
    return Unsqueeze.apply(x, shape=x.shape[:position] + (1,) + x.shape[position:])


def broadcast_to(x: Tensor, shape: Any) -> Tensor:
    """Repeat `x` along axes of size 1 (NumPy's broadcasting) to `shape`; no copy."""
    shape = (shape,) if isinstance(shape, int | np.integer) else shape
    if not isinstance(shape, tuple | list):
        raise TypeError(f"broadcast_to: shape must be a tuple of ints, got "
                        f"{type(shape).__name__}. Fix: e.g. x.broadcast_to((4, 3)).")
    return BroadcastTo.apply(x, shape=_shape_arg(tuple(shape), "broadcast_to"))


def _tensors(tensors: Any, op: str) -> list[Tensor]:
    if isinstance(tensors, Tensor | np.ndarray | str) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got a "
                        f"{type(tensors).__name__}. Fix: {op}([a, b], dim=0).")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors.")
    for index, item in enumerate(tensors):
        if not isinstance(item, Tensor):
            try:
                tensors[index] = Tensor(item)
            except (TypeError, ValueError):
                raise TypeError(f"{op}: item {index} is a {type(item).__name__}, not a Tensor "
                                "or numbers. Fix: pass a list of tensors.") from None
    return tensors


def _join_axis(axis: Any, dim: Any, ndim: int, op: str) -> int:
    """`dim` (PyTorch's name) or `axis` (NumPy's); `ndim` is the result's."""
    if dim is not None:
        return single_axis(dim, ndim, op)
    return single_axis(axis, ndim, op, "axis")


def cat(tensors: Any, axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis: shapes equal except along `dim`."""
    tensors = _tensors(tensors, "cat")
    if any(t.ndim == 0 for t in tensors):
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated. Fix: use "
                         "stack, or x.reshape(1) first.")
    return Cat.apply(*promoted_all(tensors), axis=_join_axis(axis, dim, tensors[0].ndim, "cat"))


def stack(tensors: Any, axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    tensors = _tensors(tensors, "stack")
    return Stack.apply(*promoted_all(tensors),
                       axis=_join_axis(axis, dim, tensors[0].ndim + 1, "stack"))


def pad(x: Tensor, pad_width: Any, value: float = 0.0) -> Tensor:
    """Pad with a constant; `pad_width` follows `numpy.pad` (((before, after), ...) per axis)."""
    expect_tensor(x, "pad")
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu" or widths.ndim > 2:
        raise TypeError(f"pad: pad_width must be whole numbers (an int, a (before, after) pair, "
                        f"or one pair per axis, as in numpy.pad), got {pad_width!r:.60}. Fix: "
                        "e.g. pad(x, 1) or pad(x, ((0, 0), (1, 1))).")
    check_value(value, x.dtype)
    return Pad.apply(x, pad_width=pad_width, value=value)
