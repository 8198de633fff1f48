"""Ops of a network's activations, classifier head and regularisation: GELU, softmax,
log-softmax and dropout (the losses are in `losses.py`).

Softmax is computed stably with the log-sum-exp trick: softmax(z) = softmax(z - max z),
and log Σ exp(z) = m + log Σ exp(z - m) with m = max z, so exp never overflows.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.ops.base import Function
from minigrad.ops.reduce import single_axis
from minigrad.tensor import Tensor, default_generator, expect_tensor


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    if x.size == 0:  # an empty result, as in PyTorch (the max of no values has no identity)
        return np.empty_like(x)
    # np.maximum.reduce and np.add.reduce are what .max() and .sum() call, minus a Python
    # wrapper each (~1 µs on the small arrays of a classifier head).
    shifted = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


class Softmax(Function):
    """s = exp(z) / Σ exp(z). Its Jacobian is diag(s) - s sᵀ, so the vector-Jacobian
    product is s ⊙ (g - Σ g ⊙ s)."""
    saves_output = True

    def forward(self, x, axis):
        self.axis = axis
        self.out = np.exp(_log_softmax(x, axis))
        return self.out

    def backward(self, grad_output):
        inner = (grad_output * self.out).sum(axis=self.axis, keepdims=True)
        return (self.out * (grad_output - inner),)


class LogSoftmax(Function):
    """log s = z - log Σ exp(z); d/dz of Σ g ⊙ log s is g - s Σ g."""
    saves_output = True

    name = "log_softmax"

    def forward(self, x, axis):
        self.axis = axis
        self.out = _log_softmax(x, axis)
        return self.out

    def backward(self, grad_output):
        total = grad_output.sum(axis=self.axis, keepdims=True)
        return (grad_output - np.exp(self.out) * total,)


_erf = np.frompyfunc(math.erf, 1, 1)  # NumPy has no erf; math.erf is exact to float64


class GELU(Function):
    """GELU(x) = x·Φ(x), Φ the standard normal CDF (Hendrycks & Gimpel 2016, "Gaussian Error
    Linear Units"). d/dx = Φ(x) + x·φ(x). ``approximate="tanh"`` uses their approximation
    Φ(x) ≈ ½(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), differentiated exactly.
    The exact form calls `math.erf` once per element (NumPy has no erf), tens of times slower
    than the tanh form; that matters only for large activations."""

    name = "gelu"

    def forward(self, x, approximate):
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
            self.tanh = np.tanh(inner)
            return 0.5 * x * (1 + self.tanh)
        # np.asarray: frompyfunc returns a bare float, not an array, for a 0-d input.
        self.cdf = 0.5 * (1 + np.asarray(_erf(x / math.sqrt(2)), dtype=x.dtype))
        return x * self.cdf

    def backward(self, grad_output):
        x = self.x
        if self.approximate == "tanh":
            d_inner = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            return (grad_output * (0.5 * (1 + self.tanh)
                                   + 0.5 * x * (1 - self.tanh * self.tanh) * d_inner),)
        density = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return (grad_output * (self.cdf + x * density),)


class Dropout(Function):
    """x ⊙ mask, where the mask holds 0 (dropped) or 1/(1-p) (kept) — "inverted dropout",
    so the expected value of each element is unchanged and evaluation needs no rescaling."""

    def forward(self, x, mask):
        self.mask = mask
        return x * mask

    def backward(self, grad_output):
        return (grad_output * self.mask,)


# -- user-facing functions ----------------------------------------------------------------------


def _softmax_axis(x: Tensor, dim: int | None, op: str) -> int:
    if expect_tensor(x, op).dtype.kind != "f":  # PyTorch: "not implemented for 'Long'"
        raise TypeError(f"{op}: expected floating-point scores, got dtype {x.dtype}. Fix: "
                        "convert with .float().")
    if dim is None:
        # PyTorch guesses an axis when dim is omitted (and warns that this is deprecated); a
        # guessed axis is a silent wrong answer for (C, N)-shaped data, so minigrad asks.
        raise TypeError(f"{op}: dim is required. Fix: pass the class axis, e.g. {op}(x, dim=1) "
                        "for (N, C) scores, or dim=-1 for the last axis.")
    axis = single_axis(dim, x.ndim, op)  # a 0-d tensor takes dim 0 or -1, as in PyTorch
    return 0 if x.ndim == 0 else axis


def softmax(x: Tensor, dim: int | None = None) -> Tensor:
    """Softmax along `dim` (required): non-negative values that sum to 1 along that axis."""
    return Softmax.apply(x, axis=_softmax_axis(x, dim, "softmax"))


def log_softmax(x: Tensor, dim: int | None = None) -> Tensor:
    """log(softmax(x)) along `dim` (required), computed stably (never log of a rounded-off 0)."""
    return LogSoftmax.apply(x, axis=_softmax_axis(x, dim, "log_softmax"))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU, x·Φ(x), element-wise; ``approximate='tanh'`` for the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}.")
    if expect_tensor(x, "gelu").dtype.kind != "f":  # as PyTorch: not for integer tensors
        raise TypeError(f"gelu: expected a floating-point input, got dtype {x.dtype}. Fix: "
                        "convert it with .float().")
    return GELU.apply(x, approximate=approximate)


def dropout(x: Tensor, p: float = 0.5, training: bool = True,
            generator: np.random.Generator | None = None) -> Tensor:
    """Zero each element with probability `p` and scale the rest by 1/(1-p) while
    training; the identity otherwise. `generator` (default: minigrad's) draws the mask."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}.")
    if not training or p == 0:
        return x
    rng = generator if generator is not None else default_generator()
    keep = rng.random(x.shape) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return Dropout.apply(x, mask=keep.astype(x.dtype) * np.asarray(scale, dtype=x.dtype))
