"""Reductions that *select* an element: ``max(dim)``/``min(dim)`` with their indices, and
``argmax``/``argmin``.

PyTorch's ``x.max()`` is the largest value; ``x.max(dim)`` is a named tuple
``(values, indices)`` — which is why the classic accuracy line ``_, pred = out.max(1)``
works. The gradient of ``values`` goes to the one element each index points at (the first
of tied extremes), as in PyTorch; the full reduction ``x.max()`` (and ``amax``) splits it
among ties instead. NaN counts as the extreme, as in PyTorch (and ``numpy.argmax``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from minigrad.ops import reduce
from minigrad.ops.base import Function, ShapeError
from minigrad.tensor import Tensor


class ValuesIndices(NamedTuple):
    """What ``max(dim)``/``min(dim)`` return: ``values`` (differentiable) and ``indices``
    (int64), both of the input's shape without axis `dim` (kept as size 1 with keepdim)."""

    values: Tensor
    indices: Tensor


class _SelectAlongAxis(Function):
    """Pick the elements along `axis` at `indices` (of the input's shape but along `axis`:
    one per slice for max(dim), which `keepdims` False then drops; several, all distinct,
    for sort and topk). The gradient is scattered back to the picked positions; zero
    elsewhere."""

    def forward(self, x, indices, axis, keepdims):
        self.input_shape, self.indices, self.axis, self.keepdims = x.shape, indices, axis, keepdims
        values = np.take_along_axis(x, indices, axis=axis)
        return values if keepdims else np.squeeze(values, axis=axis)

    def backward(self, grad_output):
        grad = np.zeros(self.input_shape, dtype=grad_output.dtype)
        if not self.keepdims:
            grad_output = np.expand_dims(grad_output, self.axis)
        np.put_along_axis(grad, self.indices, grad_output, axis=self.axis)
        return (grad,)


class MaxAlongDim(_SelectAlongAxis):
    name = "max"


class MinAlongDim(_SelectAlongAxis):
    name = "min"


def _single_axis(x: Tensor, dim: Any, op: str) -> int:
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be one int, got {dim!r}. Fix: for several axes at once "
                        f"use {'amax' if 'max' in op else 'amin'}(dim=(...)) (values only).")
    axis = reduce.normalize_axis(dim, x.ndim, op)[0]  # a 0-d tensor takes dim 0 or -1 only
    if x.ndim and x.shape[axis] == 0:
        raise ShapeError(f"{op}: cannot reduce axis {dim} of size 0 (input shape {x.shape}).")
    return axis


def _arg_extreme(x: Tensor, dim: Any, keepdim: bool, pick: Any, op: str) -> Tensor:
    if dim is None:
        if x.data.size == 0:
            raise ShapeError(f"{op}: cannot reduce an empty tensor of shape {x.shape}.")
        index = np.asarray(pick(x.data), dtype=np.int64)
        return Tensor(index.reshape((1,) * x.ndim) if keepdim else index)
    axis = _single_axis(x, dim, op)
    data = x.data.reshape(1) if x.ndim == 0 else x.data
    index = pick(data, axis=axis, keepdims=True).astype(np.int64)
    if x.ndim == 0:
        return Tensor(index.reshape(()))
    return Tensor(index if keepdim else np.squeeze(index, axis=axis))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False, *,
           axis: int | None = None) -> Tensor:
    """Index (int64) of the largest value along `dim` (``axis`` is an alias, as in PyTorch);
    with ``dim=None``, of the flattened tensor. The first index wins among ties, as in
    PyTorch. Not differentiable."""
    return _arg_extreme(x, axis if dim is None else dim, keepdim, np.argmax, "argmax")


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False, *,
           axis: int | None = None) -> Tensor:
    """Index (int64) of the smallest value along `dim` (flattened with ``dim=None``)."""
    return _arg_extreme(x, axis if dim is None else dim, keepdim, np.argmin, "argmin")


def _extreme(x: Tensor, dim: Any, keepdim: bool, op_class: type[Function], pick: Any,
             other_op: Any, op: str) -> Tensor | ValuesIndices:
    if dim is None:  # amax's gradient, but a NaN result sends it to the NaNs, as in PyTorch
        extreme = reduce.Max if op == "max" else reduce.Min
        return extreme.apply(x, axis=None, keepdims=keepdim, nan_takes_gradient=True)
    if isinstance(dim, Tensor):  # torch.max(a, b): the element-wise maximum
        return other_op(x, dim)
    axis = _single_axis(x, dim, op)
    data = x.data.reshape(1) if x.ndim == 0 else x.data
    indices = pick(data, axis=axis, keepdims=True).astype(np.int64)
    if x.ndim == 0:
        return ValuesIndices(op_class.apply(x.reshape(1), indices=indices, axis=0,
                                            keepdims=False).reshape(()),
                             Tensor(indices.reshape(())))
    values = op_class.apply(x, indices=indices, axis=axis, keepdims=keepdim)
    return ValuesIndices(values, Tensor(indices if keepdim else np.squeeze(indices, axis=axis)))


def max(x: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        axis: Any = None, keepdims: bool | None = None) -> Tensor | ValuesIndices:
    """PyTorch's ``max``: ``x.max()`` is the largest value (a 0-d tensor; ties share the
    gradient); ``x.max(dim, keepdim=False)`` is the named tuple ``(values, indices)`` along
    one axis; ``x.max(other_tensor)`` is the element-wise maximum. ``axis``/``keepdims`` are
    accepted as aliases (as PyTorch accepts ``axis``)."""
    from minigrad.ops.elementwise import maximum

    dim = axis if dim is None else dim
    keepdim = keepdims if keepdims is not None else keepdim
    return _extreme(x, dim, bool(keepdim), MaxAlongDim, np.argmax, maximum, "max")


def min(x: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        axis: Any = None, keepdims: bool | None = None) -> Tensor | ValuesIndices:
    """PyTorch's ``min``: the smallest value, or ``(values, indices)`` along `dim`, or the
    element-wise minimum with another tensor (see `max`)."""
    from minigrad.ops.elementwise import minimum

    dim = axis if dim is None else dim
    keepdim = keepdims if keepdims is not None else keepdim
    return _extreme(x, dim, bool(keepdim), MinAlongDim, np.argmin, minimum, "min")
