"""Fitting the gradients an op's backward returns to its inputs: summed over the axes that
broadcasting added or stretched, cast to each input's dtype (`Tensor._vjp` calls
`_fit_to_inputs` when a gradient's shape or dtype differs from its input's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from minigrad.tensor import Tensor


def sum_to_shape(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Undo broadcasting: sum `grad` over the axes that broadcasting added or stretched.

    If y = f(broadcast(x)), each element of x was used once per copy, so dL/dx is the
    sum of the gradients of all its copies.
    """
    extra_axes = grad.ndim - len(shape)
    if extra_axes > 0:
        grad = grad.sum(axis=tuple(range(extra_axes)))
    stretched = tuple(axis for axis, size in enumerate(shape)
                      if size == 1 and grad.shape[axis] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _fit_to_inputs(grads: tuple[np.ndarray | None, ...], parents: tuple[Tensor, ...],
                   op_name: str) -> tuple[np.ndarray | None, ...]:
    """The gradients an op's backward returned, each summed over the axes broadcasting
    added (`sum_to_shape`) and cast to its input's dtype where it differs; None for an input
    that does not require grad, whose gradient is dropped unchecked (PyTorch skips those
    inputs too). A gradient that no broadcast of the input explains is a bug in the op's
    backward: refused."""
    fitted = []
    for position, (grad, parent) in enumerate(zip(grads, parents)):
        if grad is not None and not parent.requires_grad:
            grad = None  # a constant's: backward drops it anyway, so no summing or casting
        if grad is not None:
            parent_data = parent._data
            if grad.shape != parent_data.shape:
                broadcast = grad.shape
                if grad.ndim >= parent_data.ndim:
                    grad = sum_to_shape(grad, parent_data.shape)
                if grad.shape != parent_data.shape:
                    raise ValueError(
                        f"{op_name}: backward returned a gradient of shape {broadcast} for "
                        f"input {position}, of shape {parent_data.shape}; no broadcast of "
                        "the input has that shape. Fix: return one gradient per input, of "
                        "the input's shape (or of the shape it was broadcast to in forward)."
                    )
            if grad.dtype != parent_data.dtype:
                grad = grad.astype(parent_data.dtype)
        fitted.append(grad)
    return tuple(fitted)
