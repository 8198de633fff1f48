"""Putting elements in another order: ``sort``, ``argsort``, ``topk``, ``flip`` and ``roll``.

Each is a permutation (or, for ``topk``, a selection) of the elements, so each backward
sends every output element's gradient back to the one input element it came from: a
scatter at the saved indices for sort/topk, the inverse flip or roll otherwise.

Order, as in PyTorch: NaN counts as larger than every number (last in an ascending sort,
first in a descending one and in ``topk``'s largest). Ties: PyTorch leaves the order of
equal elements unspecified unless ``stable=True``; minigrad *always* sorts stably, so tied
elements keep their input order (in both directions: a descending sort of ``[3, 1, 3]``
gives the indices ``[0, 2, 1]``), and ``topk`` keeps the first of tied elements. That is
one of the orders PyTorch may give, and the same on every run. ``topk(sorted=False)``
returns the sorted order too (PyTorch's order is then unspecified).

All results are copies (``flip`` too: NumPy's flip is a view, PyTorch's a copy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.ops.base import Function, ShapeError
from minigrad.ops.reduce import normalize_axis, single_axis
from minigrad.ops.select import ValuesIndices, _SelectAlongAxis
from minigrad.tensor import Tensor, expect_tensor


# The elements at `indices` along `axis`, the gradient scattered back to them: what max(dim)
# does with one index per slice, here with a permutation (sort) or the first k (topk).
class Sort(_SelectAlongAxis):
    name = "sort"


class TopK(_SelectAlongAxis):
    name = "topk"


class Flip(Function):
    def forward(self, x, axes):
        self.axes = axes
        return np.flip(x, axes).copy()  # a copy, as PyTorch's flip

    def backward(self, grad_output):
        return (np.flip(grad_output, self.axes),)


class Roll(Function):
    def forward(self, x, shifts, axes):
        self.shifts, self.axes = shifts, axes
        return np.roll(x, shifts, axes)

    def backward(self, grad_output):
        return (np.roll(grad_output, tuple(-s for s in self.shifts), self.axes),)


def _flag(value: Any, op: str, argument: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{op}: {argument} must be True or False, got {type(value).__name__} "
                        f"{value!r:.40}. Fix: e.g. {op}(..., {argument}=True).")
    return bool(value)


def _order(data: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable argsort along `axis` (int64). NumPy puts NaN last, i.e. treats it as the
    largest, as PyTorch does. Descending: a stable ascending sort of the flipped array,
    read backwards, so that tied elements still keep their input order and NaN comes first
    (negating would not work for bools and unsigned integers, and would keep NaN last)."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable").astype(np.int64, copy=False)
    backwards = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
    return (data.shape[axis] - 1 - np.flip(backwards, axis)).astype(np.int64, copy=False)


def _sorted(x: Tensor, dim: Any, descending: Any, op: str) -> tuple[Tensor, np.ndarray, int]:
    """`x` (made 1-d if it was 0-d), the stable sorting order along `dim`, and the axis."""
    expect_tensor(x, op)
    axis = single_axis(dim, x.ndim, op)  # a 0-d tensor takes 0 or -1, as in PyTorch
    if x.ndim == 0:
        x = x.reshape(1)
    return x, _order(x.data, axis, _flag(descending, op, "descending")), axis


def sort(x: Tensor, dim: int = -1, descending: bool = False, *,
         stable: bool = False) -> ValuesIndices:
    """``x.sort(dim=-1, descending=False, stable=False)``: the named tuple ``(values,
    indices)`` of `x` sorted along `dim` (PyTorch's ``sort``; ``values`` carries the
    gradient, ``indices`` are int64). NaN is the largest value. Always stable (see the
    module docstring), so ``stable`` (keyword-only, as in PyTorch) changes nothing."""
    _flag(stable, "sort", "stable")
    shape = x.shape if isinstance(x, Tensor) else None
    x, order, axis = _sorted(x, dim, descending, "sort")
    values = Sort.apply(x, indices=order, axis=axis, keepdims=True)
    if shape == ():
        return ValuesIndices(values.reshape(()), Tensor(order.reshape(())))
    return ValuesIndices(values, Tensor(order))


def argsort(x: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool = False) -> Tensor:
    """``x.argsort(dim=-1, descending=False, stable=False)``: the int64 indices that sort
    `x` along `dim` (``x.sort(...).indices``; stable, NaN largest). Not differentiable."""
    _flag(stable, "argsort", "stable")
    shape = x.shape if isinstance(x, Tensor) else None
    _, order, _ = _sorted(x, dim, descending, "argsort")
    return Tensor(order.reshape(()) if shape == () else order)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> ValuesIndices:  # noqa: A002 (PyTorch's name)
    """``x.topk(k, dim=-1, largest=True, sorted=True)``: the named tuple ``(values,
    indices)`` of the `k` largest (``largest=False``: smallest) elements along `dim`, largest
    first (PyTorch's ``topk``). NaN counts as the largest; among ties the first element in
    the input wins. The result is always sorted (``sorted=False`` is accepted)."""
    expect_tensor(x, "topk")
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise TypeError(f"topk: k must be an int, got {type(k).__name__} {k!r:.40}. Fix: "
                        "e.g. x.topk(3).")
    _flag(sorted, "topk", "sorted")
    if x.dtype == np.bool_:
        raise TypeError(f"topk: not implemented for bool tensors (as in PyTorch), got one of "
                        f"shape {x.shape}. Fix: x.int().topk(k), or x.sort(descending=True) "
                        "(which takes bools).")
    axis = single_axis(dim, x.ndim, "topk")
    size = x.shape[axis] if x.ndim else 1
    if not 0 <= k <= size:
        raise ShapeError(f"topk: k={int(k)} is out of range for dim {dim} of size {size} "
                         f"(tensor of shape {x.shape}). Fix: 0 <= k <= {size}; for all "
                         "elements in order use x.sort(dim, descending=True).")
    if x.ndim == 0 and k == 0:  # (PyTorch returns the element itself all the same)
        raise ShapeError("topk: k=0 of a 0-d tensor would be an empty result, which a 0-d "
                         "tensor cannot hold. Fix: k=1 (the element itself), or "
                         "x.reshape(1).topk(0) for an empty result.")
    shape = x.shape
    x, order, axis = _sorted(x, dim, _flag(largest, "topk", "largest"), "topk")
    chosen = np.take(order, np.arange(int(k)), axis=axis)
    values = TopK.apply(x, indices=chosen, axis=axis, keepdims=True)
    if shape == ():
        return ValuesIndices(values.reshape(()), Tensor(chosen.reshape(())))
    return ValuesIndices(values, Tensor(chosen))


def flip(x: Tensor, *given: Any, dims: Any = None) -> Tensor:
    """``x.flip(0, 1)``, ``x.flip(dims=(0, 1))`` or ``mg.flip(x, (0, 1))``: `x` with the order
    of its elements reversed along each axis in `dims` (a copy, as PyTorch's ``flip``).
    `dims` may also be one int (``mg.flip(x, 0)``; torch.flip itself asks for a tuple or
    list there)."""
    expect_tensor(x, "flip")
    if dims is not None:
        if given:
            raise TypeError(f"flip: dims given both positionally {given!r:.40} and as "
                            f"dims={dims!r:.40}. Fix: give them once, e.g. x.flip(0, 1).")
        given = (dims,)
    dims = given
    if len(dims) == 1 and isinstance(dims[0], tuple | list):
        dims = tuple(dims[0])
    axes = normalize_axis(tuple(dims), x.ndim, "flip") if dims else ()
    if x.ndim == 0:  # PyTorch accepts dims 0 / -1 of a 0-d tensor: nothing to reverse
        axes = ()
    return Flip.apply(x, axes=axes)


def _shift(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"roll: shifts must be ints, got {type(value).__name__} "
                        f"{value!r:.40}. Fix: e.g. x.roll(1) or x.roll((1, -2), (0, 1)).")
    return int(value)


def roll(x: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """``x.roll(shifts, dims=None)``: `x` shifted circularly by `shifts` places along
    `dims` (elements leaving one end come back at the other; PyTorch's ``roll``). With
    ``dims=None`` the tensor is rolled as if flattened, then given its shape back. `shifts`
    and `dims` are ints or sequences of the same length; an axis may appear twice (the
    shifts add up)."""
    expect_tensor(x, "roll")
    shift_list = ([_shift(s) for s in shifts] if isinstance(shifts, tuple | list)
                  else [_shift(shifts)])
    if dims is None:
        if len(shift_list) != 1:
            raise ShapeError(f"roll: {len(shift_list)} shifts {tuple(shift_list)} with "
                             "dims=None (which rolls the flattened tensor by one shift). Fix: "
                             "one shift, or one dim per shift, e.g. x.roll((1, 2), (0, 1)).")
        return Roll.apply(x, shifts=tuple(shift_list), axes=None)
    dim_list = list(dims) if isinstance(dims, tuple | list) else [dims]
    if len(dim_list) != len(shift_list):
        raise ShapeError(f"roll: shifts {tuple(shift_list)} and dims {tuple(dim_list)} must "
                         "have the same length (one shift per dim). Fix: e.g. "
                         "x.roll((1, 2), (0, 1)).")
    if x.ndim == 0:
        raise ShapeError(f"roll: a 0-d tensor has no dim {dim_list[0]!r} to roll along. Fix: "
                         "dims=None (rolling a single element leaves it as it is).")
    axes = tuple(single_axis(d, x.ndim, "roll", "each of dims") for d in dim_list)
    return Roll.apply(x, shifts=tuple(shift_list), axes=axes)
