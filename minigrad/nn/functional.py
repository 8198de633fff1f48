"""Functional forms of the layers: ``F.linear(x, w, b)``, ``F.relu(x)``, losses, ..."""

from __future__ import annotations

from minigrad import ops
from minigrad.tensor import Tensor


def _check_tensor(x: object, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}. Fix: wrap the data in "
                        "minigrad.tensor(...).")
    return x


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x Wᵀ + b with ``weight`` of shape ``(out_features, in_features)``."""
    _check_tensor(x, "linear")
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit a weight of shape "
                         f"{weight.shape}: the input's last axis must be in_features="
                         f"{weight.shape[-1]}. Fix: reshape the input or change in_features.")
    out = x @ weight.T
    return out if bias is None else out + bias


def relu(x: Tensor) -> Tensor:
    return ops.relu(_check_tensor(x, "relu"))


def tanh(x: Tensor) -> Tensor:
    return ops.tanh(_check_tensor(x, "tanh"))


def sigmoid(x: Tensor) -> Tensor:
    return ops.sigmoid(_check_tensor(x, "sigmoid"))
