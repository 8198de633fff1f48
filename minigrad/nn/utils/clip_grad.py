"""Gradient clipping, as ``torch.nn.utils``: `clip_grad_norm_` and `clip_grad_value_`.

Both change the parameters' ``.grad`` arrays in place, between ``loss.backward()`` and
``optimizer.step()``: a rare huge gradient (an exploding RNN, a bad batch) then cannot throw
the weights far away in one step. `clip_grad_norm_` scales all gradients together by one
factor, so the update keeps its direction; `clip_grad_value_` clamps each element, which can
change the direction.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.tensor import Tensor


def _gradients(parameters: Any, op: str) -> list[np.ndarray]:
    """The ``.grad`` arrays of `parameters` (a tensor or an iterable of them) that have one,
    each a writable array (a gradient set by hand may be a read-only view or a NumPy
    number: it is replaced by a copy, so that clipping can write into it)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    try:
        parameters = list(parameters)
    except TypeError:
        raise TypeError(f"{op}: parameters must be a tensor or an iterable of tensors, got "
                        f"{type(parameters).__name__}. Fix: {op}(model.parameters(), ...)."
                        ) from None
    for position, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameters[{position}] is a {type(p).__name__}, not a "
                            f"Tensor. Fix: {op}(model.parameters(), ...).")
    grads = []
    for p in parameters:
        if p.grad is not None:
            if not isinstance(p.grad, np.ndarray) or not p.grad.flags.writeable:
                p.grad = np.array(p.grad, dtype=p.dtype)
            grads.append(p.grad)
    return grads


def _number(value: Any, op: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__} "
                        f"{value!r:.40}. Fix: e.g. {op}(model.parameters(), 1.0).")
    return float(value)


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float | str = 2.0,
                    error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """Scale the gradients of `parameters` in place so that their total `norm_type`-norm (of
    all gradients together, as if concatenated into one vector) is at most `max_norm`.
    Returns the total norm *before* clipping, as a 0-d tensor, as PyTorch does (log it: a
    norm often far above `max_norm` means clipping is doing the training's work).

    The factor is ``max_norm / (total + 1e-6)``, applied only when below 1 (PyTorch's
    formula). `norm_type` may be ``inf`` (or ``'inf'``): the largest absolute value. A NaN or
    infinite total norm scales every gradient to NaN (or 0), as in PyTorch, unless
    `error_if_nonfinite`, which raises instead. `foreach` is accepted and ignored."""
    op = "clip_grad_norm_"
    grads = _gradients(parameters, op)
    max_norm = _number(max_norm, op, "max_norm")
    if isinstance(norm_type, str) and norm_type == "inf":
        norm_type = math.inf
    norm_type = _number(norm_type, op, "norm_type")
    if not grads:
        return Tensor(np.zeros((), np.float32))
    if norm_type == math.inf:
        norms = [np.max(np.abs(g)) if g.size else 0.0 for g in grads]
        total = float(np.max(norms))
    elif norm_type == -math.inf:
        norms = [np.min(np.abs(g)) if g.size else math.inf for g in grads]
        total = float(np.min(norms))
    elif norm_type == 0:
        total = float(sum(np.count_nonzero(g) for g in grads))
    else:
        with np.errstate(over="ignore", divide="ignore"):
            powers = sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type)) for g in grads)
            total = powers ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"{op}: the total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. Fix: find "
                           "the NaN/Inf (mg.detect_anomaly()), or set error_if_nonfinite=False "
                           "to scale the gradients by the non-finite norm anyway.")
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = min(max_norm / (total + 1e-6), 1.0) if not math.isnan(total) else math.nan
    with np.errstate(invalid="ignore"):  # an infinite element times 0 is NaN, as in PyTorch
        for g in grads:
            g *= np.asarray(factor, g.dtype)
    return Tensor(np.asarray(total, grads[0].dtype))


def clip_grad_value_(parameters: Any, clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient element of `parameters` to [-clip_value, clip_value], in place."""
    op = "clip_grad_value_"
    grads = _gradients(parameters, op)
    clip_value = _number(clip_value, op, "clip_value")
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)
