"""PyTorch's ``F.pad(input, pad, mode='constant', value=None)``.

``pad`` lists (before, after) amounts starting from the LAST axis: ``(left, right)`` pads
the last axis, ``(left, right, top, bottom)`` the last two, and so on — the reverse of
``numpy.pad`` (and of ``mg.pad``, which follows NumPy). A negative amount removes that many
elements from that side, as in PyTorch.

Modes, as in PyTorch (values of a row ``a b c d`` padded by 2 on the left):

- ``'constant'``: ``v v a b c d`` with v = ``value`` (0 by default); any number of axes;
- ``'reflect'``:  ``c b a b c d`` (mirrored about the edge, which is not repeated);
- ``'replicate'``: ``a a a b c d`` (the edge repeated);
- ``'circular'``: ``c d a b c d`` (wrapped around).

The last three pad the last 1, 2 or 3 axes of an input with one or two more axes in front
(batch and channels), PyTorch's rule, and take no ``value``. Each output element of those
is some input element, so one op reads the input through an index per padded axis, and its
backward adds every output's gradient back onto the element it came from (``np.add.at``:
an edge element copied several times collects all their gradients).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from minigrad.dtypes import holds
from minigrad.ops.base import Function, ShapeError
from minigrad.tensor import Tensor, expect_tensor

_MODES = ("constant", "reflect", "replicate", "circular")


class ConstantPad(Function):
    """Pad (or crop, for negative amounts) with a constant: the input's kept part is copied
    into a block of `value`; backward reads that part's gradient back out."""

    name = "pad"

    def forward(self, x, amounts, value):
        # amounts: one (before, after) per axis, first axis first
        out_shape, source, target = [], [], []
        for size, (before, after) in zip(x.shape, amounts):
            out_shape.append(size + before + after)
            start, stop = max(0, -before), size - max(0, -after)
            source.append(slice(start, max(start, stop)))
            target.append(slice(max(0, before), max(0, before) + max(0, stop - start)))
        self.shape, self.source, self.target = x.shape, tuple(source), tuple(target)
        out = np.full(out_shape, value, dtype=x.dtype)
        out[self.target] = x[self.source]
        return out

    def backward(self, grad_output):
        grad = np.zeros(self.shape, grad_output.dtype)
        grad[self.source] = grad_output[self.target]
        return (grad,)


class IndexPad(Function):
    """Reflect, replicate or circular padding: output position i along a padded axis reads
    input position ``index[i]``; `indices` is a list of (axis, index array)."""

    name = "pad"

    def forward(self, x, indices):
        self.shape, self.indices = x.shape, indices
        out = x
        for axis, index in indices:
            out = np.take(out, index, axis=axis)
        return out if indices else x.copy()  # a new array, as every op's output

    def backward(self, grad_output):
        grad = grad_output
        shape = list(grad_output.shape)
        for axis, index in reversed(self.indices):
            shape[axis] = self.shape[axis]
            smaller = np.zeros(shape, grad.dtype)
            # each output slice along `axis` adds onto the input slice it was read from
            np.add.at(np.moveaxis(smaller, axis, 0), index, np.moveaxis(grad, axis, 0))
            grad = smaller
        return (grad,)


def _index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """Which input position each output position reads, along one axis."""
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":  # PyTorch crops first, then wraps around what is left
        start, kept = max(0, -before), _kept(size, before, after)
        return start + np.arange(-max(0, before), kept + max(0, after)) % kept
    period = 2 * (size - 1)  # reflect: ... 2 1 [0 1 2 3] 2 1 0 ...
    if period == 0:
        return np.zeros_like(positions)
    folded = positions % period
    return np.where(folded < size, folded, period - folded)


def check_value(value: Any, dtype: np.dtype) -> None:
    """A constant pad's `value` must be a number the input's `dtype` holds (`F.pad` and
    `mg.pad`): NumPy would store a wrapped or garbage number (inf into int64: -2**63)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"pad: value must be a number, got {type(value).__name__} "
                        f"{value!r:.40}. Fix: e.g. value=0.0.")
    if not holds(dtype, value):
        raise ValueError(f"pad: value={value!r} does not fit the input's dtype {dtype} "
                         "without overflow (PyTorch refuses it too). Fix: a value the dtype "
                         "holds, or convert the input first, e.g. x.float().")


def _kept(size: int, before: int, after: int) -> int:
    """How many input elements a crop (negative amounts) leaves along an axis."""
    return size - max(0, -before) - max(0, -after)


def _amounts(pad: Any, ndim: int) -> list[tuple[int, int]]:
    """PyTorch's flat tuple, last axis first -> one (before, after) pair per axis."""
    if not isinstance(pad, tuple | list):
        raise TypeError(f"pad: pad must be a tuple of ints (left, right, top, bottom, ...), "
                        f"got {type(pad).__name__} {pad!r:.40}. Fix: e.g. F.pad(x, (1, 1)) to "
                        "pad the last axis by 1 on each side.")
    for position, amount in enumerate(pad):
        if isinstance(amount, bool) or not isinstance(amount, numbers.Integral):
            raise TypeError(f"pad: pad must be a tuple of ints, got {type(amount).__name__} "
                            f"{amount!r:.20} at position {position} of {tuple(pad)}. Fix: pass "
                            "whole numbers, e.g. (1, 1).")
    if len(pad) % 2:
        raise ValueError(f"pad: the pad tuple must have an even length, (before, after) per "
                         f"axis starting from the last axis, got {tuple(pad)} (length "
                         f"{len(pad)}). Fix: e.g. ({pad[0] if pad else 1}, "
                         f"{pad[0] if pad else 1}) for the last axis.")
    if len(pad) > 2 * ndim:
        raise ValueError(f"pad: a pad tuple of length {len(pad)} pads {len(pad) // 2} axes, but "
                         f"the input of {ndim} dimension(s) has only {ndim}. Fix: at most "
                         f"{2 * ndim} numbers, (before, after) per axis from the last axis.")
    pairs = [(0, 0)] * ndim
    for k in range(len(pad) // 2):
        pairs[ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    return pairs


def pad(input: Tensor, pad: Any, mode: str = "constant",  # noqa: A002
        value: float | None = None) -> Tensor:
    """Pad `input` as PyTorch's ``F.pad``; see the module docstring. ``pad`` pairs start at
    the last axis: ``F.pad(x, (1, 1, 2, 0))`` adds 1 column on each side and 2 rows on top
    of an image ``(N, C, H, W)``. Negative amounts crop."""
    expect_tensor(input, "pad")
    if mode not in _MODES:
        raise ValueError(f"pad: unknown mode {mode!r}. Fix: use one of 'constant', 'reflect', "
                         "'replicate' or 'circular'.")
    amounts = _amounts(pad, input.ndim)
    padded = len(pad) // 2
    for axis, (size, (before, after)) in enumerate(zip(input.shape, amounts)):
        if size + before + after < 0:
            raise ShapeError(
                f"pad: the input of shape {input.shape} has size {size} along axis {axis}, and "
                f"padding ({before}, {after}) there would leave {size + before + after} "
                "elements. Fix: crop at most the axis's size (negative amounts remove "
                "elements).")
        # As PyTorch: a constant pad crops first, so it cannot crop more than the axis holds
        # even where the other side's padding would make up for it; reflect and replicate
        # refuse an axis they would leave empty
        if mode == "constant" and _kept(size, before, after) < 0:
            raise ShapeError(
                f"pad: the input of shape {input.shape} has size {size} along axis {axis}, and "
                f"padding ({before}, {after}) there would crop "
                f"{max(0, -before) + max(0, -after)} elements first. Fix: crop at most the "
                "axis's size (negative amounts remove elements).")
        if (mode in ("reflect", "replicate") and (before, after) != (0, 0)
                and size + before + after < 1):
            raise ShapeError(
                f"pad: mode {mode!r} would leave axis {axis} of the input of shape "
                f"{input.shape} empty with padding ({before}, {after}), as PyTorch refuses "
                "(\"input too small\"). Fix: crop less, or use mode='constant'.")
    if mode == "constant":
        if value is None:
            value = 0
        check_value(value, input.dtype)
        return ConstantPad.apply(input, amounts=amounts, value=value)
    if value is not None:
        raise ValueError(f"pad: mode {mode!r} takes no value (it copies values of the input), "
                         f"got value={value!r}, as PyTorch refuses. Fix: drop value=, or use "
                         "mode='constant'.")
    if padded not in (1, 2, 3) or input.ndim not in (padded + 1, padded + 2):
        raise ValueError(
            f"pad: mode {mode!r} pads the last 1, 2 or 3 axes of an input with a batch and/or "
            f"channel axis in front (PyTorch's rule): a pad of length 2 needs a 2-D or 3-D "
            f"input, 4 a 3-D or 4-D one, 6 a 4-D or 5-D one; got a pad of length {len(pad)} "
            f"and an input of shape {input.shape}. Fix: add the leading axes, e.g. "
            "x.unsqueeze(0), or use mode='constant'.")
    indices = []
    for axis in range(input.ndim - padded, input.ndim):
        size, (before, after) = input.shape[axis], amounts[axis]
        if size == 0:
            raise ShapeError(f"pad: mode {mode!r} needs elements to copy, but the input of "
                             f"shape {input.shape} is empty along axis {axis}. Fix: use "
                             "mode='constant'.")
        # reflect mirrors the whole axis; circular wraps what its crop leaves, at most once
        limit = size - 1 if mode == "reflect" else _kept(size, before, after)
        if mode != "replicate" and max(before, after) > limit:
            relation = "less than the axis's size" if mode == "reflect" else (
                "at most the axis's size (after any crop: it wraps around once)")
            raise ValueError(
                f"pad: mode {mode!r} can add {relation} on each side, but axis {axis} of the "
                f"input of shape {input.shape} has size {size} and the padding there is "
                f"({before}, {after}). Fix: pad by at most {limit}, or use mode='constant' or "
                "'replicate' for more.")
        if (before, after) != (0, 0):
            indices.append((axis, _index(size, before, after, mode)))
    return IndexPad.apply(input, indices=indices)
