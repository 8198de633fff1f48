"""Ops of a classifier's head and of regularisation: softmax, log-softmax, the fused
cross-entropy, and dropout.

Softmax is computed stably with the log-sum-exp trick: softmax(z) = softmax(z - max z),
and log Σ exp(z) = m + log Σ exp(z - m) with m = max z, so exp never overflows.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from minigrad.ops.base import Function, ShapeError
from minigrad.ops.reduce import normalize_axis
from minigrad.tensor import Tensor, default_generator


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    """s = exp(z) / Σ exp(z). Its Jacobian is diag(s) - s sᵀ, so the vector-Jacobian
    product is s ⊙ (g - Σ g ⊙ s)."""

    def forward(self, x, axis):
        self.axis = axis
        self.out = np.exp(_log_softmax(x, axis))
        return self.out

    def backward(self, grad_output):
        inner = (grad_output * self.out).sum(axis=self.axis, keepdims=True)
        return (self.out * (grad_output - inner),)


class LogSoftmax(Function):
    """log s = z - log Σ exp(z); d/dz of Σ g ⊙ log s is g - s Σ g."""

    name = "log_softmax"

    def forward(self, x, axis):
        self.axis = axis
        self.out = _log_softmax(x, axis)
        return self.out

    def backward(self, grad_output):
        total = grad_output.sum(axis=self.axis, keepdims=True)
        return (grad_output - np.exp(self.out) * total,)


class CrossEntropy(Function):
    """Fused log-softmax + negative log-likelihood over (M, C) logits and M class indices.

    loss_m = -w_m · log softmax(z_m)[t_m], with the per-row weight w_m = weight[t_m]
    (0 for ignored rows). Its gradient is w_m · (softmax(z_m) - onehot(t_m)): fusing the
    two steps gives this short, exact form and never takes the log of a tiny probability.
    'mean' divides by Σ w_m, as PyTorch does. ``row_weight=None`` means every w_m = 1 (the
    common case, spared the weighting).
    """

    name = "cross_entropy"

    def forward(self, logits, target, row_weight, reduction):
        rows = np.arange(len(target))
        log_probs = _log_softmax(logits, axis=1)
        losses = -log_probs[rows, target]
        if row_weight is not None:
            losses *= row_weight
        self.probs, self.rows, self.target = np.exp(log_probs), rows, target
        self.row_weight, self.reduction = row_weight, reduction
        if reduction == "none":
            return losses
        if reduction == "sum":
            return np.asarray(losses.sum())
        self.total_weight = len(target) if row_weight is None else row_weight.sum()
        with np.errstate(invalid="ignore", divide="ignore"):  # all rows ignored: NaN, as PyTorch
            return np.asarray(losses.sum() / self.total_weight)

    def backward(self, grad_output):
        grad = self.probs.copy()
        grad[self.rows, self.target] -= 1
        # grad_output: a scalar for 'mean'/'sum', one value per row for 'none'.
        scale = grad_output if self.row_weight is None else grad_output * self.row_weight
        if self.reduction == "mean":
            scale = scale / self.total_weight
        if np.ndim(scale) == 0:
            grad *= scale
            return (grad,)
        return (grad * scale[:, None],)


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
    if dim is None:
        # PyTorch's legacy choice when dim is omitted (it warns too): 0 for 0-, 1- and 3-D
        # input, else 1. Pass dim explicitly; for (N, C) logits that is dim=1 (or -1).
        warnings.warn(f"{op}: implicit dim is deprecated; pass dim= explicitly (dim=-1 for the "
                      "last axis).", UserWarning, stacklevel=3)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    if x.ndim == 0:
        return 0
    return normalize_axis(dim, x.ndim, op)[0]


def softmax(x: Tensor, dim: int | None = None) -> Tensor:
    """Softmax along `dim`: non-negative values that sum to 1 along that axis."""
    return Softmax.apply(x, axis=_softmax_axis(x, dim, "softmax"))


def log_softmax(x: Tensor, dim: int | None = None) -> Tensor:
    """log(softmax(x)) along `dim`, computed stably (never log of a rounded-off 0)."""
    return LogSoftmax.apply(x, axis=_softmax_axis(x, dim, "log_softmax"))


_REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: Any, op: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}.")
    return reduction


def _class_indices(target: Any, input_shape: tuple[int, ...]) -> np.ndarray:
    """Validate the target of cross_entropy: integer class indices of the right shape."""
    array = target.data if isinstance(target, Tensor) else np.asarray(target)
    expected = (input_shape[0],) + input_shape[2:] if len(input_shape) > 1 else ()
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"cross_entropy: target must hold integer class indices, got dtype {array.dtype}. "
            "Fix: convert the labels with y.astype(np.int64) (class probabilities as targets "
            "are not supported).")
    if array.shape != expected:
        hint = ""
        if array.size == int(np.prod(expected)):
            hint = f" Fix: reshape the target with y.reshape{expected}."
        elif array.shape == input_shape:
            hint = " Fix: pass class indices (y.argmax(1)), not one-hot rows."
        raise ShapeError(
            f"cross_entropy: input of shape {input_shape} needs a target of shape {expected} "
            f"(one class index per sample), got {array.shape}.{hint}")
    return array


def cross_entropy(input: Tensor, target: Any, weight: Any = None,  # noqa: A002
                  ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Cross-entropy of logits against class indices (PyTorch's ``F.cross_entropy``).

    ``input``: logits ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)`` (classes on axis 1).
    ``target``: integers in [0, C) of shape ``(N,)``, ``()`` or ``(N, d1, ...)``, as a Tensor
    or a NumPy array. ``weight``: optional ``(C,)`` class weights. Targets equal to
    `ignore_index` add nothing. ``reduction``: 'mean' (weighted mean), 'sum' or 'none'.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"cross_entropy: input must be a Tensor of logits, got "
                        f"{type(input).__name__}.")
    check_reduction(reduction, "cross_entropy")
    if input.ndim == 0:
        raise ShapeError("cross_entropy: input must have a class axis: (N, C) logits, or (C,) "
                         "for one sample; got a 0-d tensor.")
    classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    indices = _class_indices(target, input.shape).reshape(-1)
    ignored = indices == ignore_index
    bad = (~ignored) & ((indices < 0) | (indices >= classes))
    if bad.any():
        raise ValueError(
            f"cross_entropy: target holds class {indices[bad][0]} but the input has {classes} "
            f"classes (valid indices 0..{classes - 1}). Fix: check the labels and the size of "
            "the last layer (out_features must be the number of classes).")
    if weight is None and not ignored.any():
        safe_indices, row_weight = indices, None
    else:
        if weight is None:
            weight = np.ones(classes, dtype=input.dtype)
        class_weight = np.asarray(weight.data if isinstance(weight, Tensor) else weight,
                                  dtype=input.dtype)
        if class_weight.shape != (classes,):
            raise ShapeError(f"cross_entropy: weight must have shape ({classes},), one value "
                             f"per class, got {class_weight.shape}.")
        safe_indices = np.where(ignored, 0, indices)
        row_weight = np.where(ignored, 0, class_weight[safe_indices]).astype(input.dtype)

    # Bring the class axis last and flatten everything else into rows: (M, C).
    if input.ndim == 1:
        logits = input.reshape(1, classes)
    elif input.ndim == 2:
        logits = input
    else:
        axes = (0, *range(2, input.ndim), 1)
        logits = input.permute(*axes).reshape(-1, classes)
    loss = CrossEntropy.apply(logits, target=safe_indices, row_weight=row_weight,
                              reduction=reduction)
    if reduction == "none":
        shape = (input.shape[0],) + input.shape[2:] if input.ndim > 1 else ()
        loss = loss.reshape(shape)
    return loss


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
