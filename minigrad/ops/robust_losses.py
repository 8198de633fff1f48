"""Regression losses that grow linearly for large errors: L1, smooth L1 and Huber.

With d = input - target, element-wise:

- L1:        |d|;                                      d/dd = sign(d)
- smooth L1: ½d²/β where |d| < β, else |d| - ½β;       d/dd = d/β inside, sign(d) outside
- Huber:     ½d² where |d| < δ, else δ(|d| - ½δ);      d/dd = clip(d, -δ, δ)

Squared error gives an outlier a pull proportional to its error; these give it at most a
constant pull (1 or δ), so a few bad labels cannot dominate a batch (Huber 1964, "Robust
Estimation of a Location Parameter"; Girshick 2015, Fast R-CNN, for smooth L1). Huber is
β·smooth L1 with β = δ: the same curve scaled so that its slope outside is δ, not 1.

Each is one op with its analytic gradient, for the input and for the target (which may be
trained, as in PyTorch). At d = 0 the L1 gradient is 0, PyTorch's ``sign``: the
subgradient relu uses at 0 too. As in PyTorch, smooth L1 with β = 0 *is* L1 (not 0/0), and
Huber refuses δ <= 0 (PyTorch: "does not support non-positive values for delta"); here
both are ValueErrors when the loss is made or called, naming the fix.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from minigrad.ops.base import Function
from minigrad.ops.losses import _binary_setup, _reduce, check_reduction
from minigrad.tensor import Tensor


class _DifferenceLoss(Function):
    """An element-wise loss of d = input - target; subclasses give the loss and d(loss)/dd."""

    def forward(self, x, target, **settings):
        difference = x - target
        self.grad_of_difference = self.slope(difference, **settings)
        return self.loss(difference, **settings)

    def backward(self, grad_output):
        grad = grad_output * self.grad_of_difference
        return grad, -grad if self.needs_input_grad[1] else None


class L1(_DifferenceLoss):
    name = "l1_loss"

    @staticmethod
    def loss(d):
        return np.abs(d)

    @staticmethod
    def slope(d):
        return _sign(d)


class SmoothL1(_DifferenceLoss):
    name = "smooth_l1_loss"

    @staticmethod
    def loss(d, beta):
        magnitude = np.abs(d)
        if beta == 0:  # PyTorch: smooth L1 with beta 0 is L1 (no 0/0 for the quadratic part)
            return magnitude
        return np.where(magnitude < beta, 0.5 * d * d / beta, magnitude - 0.5 * beta)

    @staticmethod
    def slope(d, beta):
        if beta == 0:
            return _sign(d)
        return np.where(np.abs(d) < beta, d / beta, np.sign(d))


class Huber(_DifferenceLoss):
    name = "huber_loss"

    @staticmethod
    def loss(d, delta):
        magnitude = np.abs(d)
        return np.where(magnitude < delta, 0.5 * d * d, delta * (magnitude - 0.5 * delta))

    @staticmethod
    def slope(d, delta):
        return np.clip(d, -delta, delta)  # NaN stays NaN


def _sign(d: np.ndarray) -> np.ndarray:
    """PyTorch's ``sign`` as L1's slope: 0 at d = 0, and 0 at NaN too (``torch.sign(nan)``
    is 0: the loss is NaN there, its gradient is not)."""
    slope = np.sign(d)
    slope[np.isnan(slope)] = 0
    return slope


def _check_threshold(value: Any, name: str, op: str, positive: bool) -> float:
    """beta (>= 0) or delta (> 0): a real number, refused otherwise with the fix."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__} "
                        f"{value!r:.40}. Fix: pass a float, e.g. {name}=1.0.")
    value = float(value)
    if math.isnan(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        also = "" if positive else " (beta=0 is the L1 loss)"
        raise ValueError(f"{op}: {name} must be {bound}{also}, got {name}={value} (PyTorch "
                         f"refuses it too). Fix: pass {name} {bound}, e.g. {name}=1.0: the "
                         "error size where the loss turns from quadratic to linear.")
    return value


def check_beta(beta: Any, op: str) -> float:
    return _check_threshold(beta, "beta", op, positive=False)


def check_delta(delta: Any, op: str) -> float:
    return _check_threshold(delta, "delta", op, positive=True)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Absolute error |input - target|, averaged ('mean'), summed ('sum') or not ('none')
    (PyTorch's ``F.l1_loss``). `target`: a Tensor or an array of the input's shape (PyTorch
    broadcasts a different shape with a warning, which turns (N, 1) against (N,) into an
    (N, N) matrix of errors; here it is an error). Gradient sign(input - target), 0 at 0."""
    check_reduction(reduction, "l1_loss")
    target = _binary_setup(input, target, "l1_loss")
    return _reduce(L1.apply(input, target), reduction)


def smooth_l1_loss(input: Tensor, target: Any, reduction: str = "mean",  # noqa: A002
                   beta: float = 1.0) -> Tensor:
    """PyTorch's ``F.smooth_l1_loss``: ½d²/β for errors |d| < β, |d| - ½β beyond, so the
    gradient never exceeds 1 in size. ``beta=0`` is exactly `l1_loss`. Shapes and
    ``reduction`` as in `l1_loss`."""
    check_reduction(reduction, "smooth_l1_loss")
    beta = check_beta(beta, "smooth_l1_loss")
    target = _binary_setup(input, target, "smooth_l1_loss")
    return _reduce(SmoothL1.apply(input, target, beta=beta), reduction)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> Tensor:
    """PyTorch's ``F.huber_loss``: ½d² for errors |d| < δ, δ(|d| - ½δ) beyond, so the
    gradient is the error clipped to [-δ, δ]. ``delta`` must be > 0. Equal to
    δ · smooth_l1_loss(beta=δ). Shapes and ``reduction`` as in `l1_loss`."""
    check_reduction(reduction, "huber_loss")
    delta = check_delta(delta, "huber_loss")
    target = _binary_setup(input, target, "huber_loss")
    return _reduce(Huber.apply(input, target, delta=delta), reduction)
