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


def _vector_norm(values: np.ndarray, norm_type: float) -> float:
    """The `norm_type`-norm of `values` (any float array), in float64, exact up to rounding:
    sums of powers beyond float64 (elements above ~1e154 for the 2-norm) or below it are
    computed on the values divided by their largest magnitude (a scaling the usual case does
    not pay for). NaN if an element is NaN; inf if one is infinite."""
    a = np.abs(values.astype(np.float64, copy=False)).reshape(-1)
    if norm_type == math.inf:
        return float(np.max(a)) if a.size else 0.0
    if norm_type == -math.inf:
        return float(np.min(a)) if a.size else math.inf
    if norm_type == 0:
        return float(np.count_nonzero(a))
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        total = float(np.sum(a ** norm_type) ** (1.0 / norm_type))
        if norm_type > 0 and (total == math.inf or total == 0.0) and a.size:
            largest = float(np.max(a))
            if 0.0 < largest < math.inf:
                total = largest * float(np.sum((a / largest) ** norm_type) ** (1.0 / norm_type))
    return total


def _in_dtype(value: float, dtype: np.dtype) -> np.ndarray:
    """`value` rounded to `dtype`, as a 0-d array: inf when beyond its range (no warning)."""
    with np.errstate(over="ignore"):
        return np.asarray(value, dtype)


def _non_finite(op: str, norm_type: float, grads: list[np.ndarray], total: np.ndarray) -> str:
    """clip_grad_norm_'s error for a non-finite total: the gradients hold a NaN or an inf,
    or they are finite and their norm is beyond their dtype's range (float16's 65,504)."""
    start = (f"{op}: the total norm of order {norm_type} for gradients from `parameters` is "
             f"non-finite ({float(total)}), so it cannot be clipped.")
    anyway = "or set error_if_nonfinite=False to scale the gradients by the non-finite norm anyway"
    if all(np.isfinite(g).all() for g in grads):
        limits = {g.dtype: float(np.finfo(g.dtype).max) for g in grads
                  if g.dtype.kind == "f"}
        ranges = ", ".join(f"{name} up to {limit:.5g}" for name, limit in limits.items())
        return (f"{start} Every gradient is finite, but a norm is beyond the range of its "
                f"dtype ({ranges}). Fix: train in a wider dtype (model.float()), scale the "
                f"loss down, {anyway}.")
    return f"{start} Fix: find the NaN/Inf (mg.detect_anomaly()), {anyway}."


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float | str = 2.0,
                    error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """Scale the gradients of `parameters` in place so that their total `norm_type`-norm (of
    all gradients together, as if concatenated into one vector) is at most `max_norm`.
    Returns the total norm *before* clipping, as a 0-d tensor, as PyTorch does (log it: a
    norm often far above `max_norm` means clipping is doing the training's work).

    As in PyTorch, the total is the norm of the vector of each gradient's own norm, each
    rounded to its gradient's dtype, and the total is rounded to the gradients' promoted
    dtype (which is the returned tensor's dtype). So a norm beyond the dtype's range is inf:
    float16 gradients [6e4, 6e4] have a norm of 84,853, above float16's largest, 65,504,
    and the returned norm is inf, the gradients are scaled by 0 and `error_if_nonfinite`
    raises, as in PyTorch. The factor is ``max_norm / (total + 1e-6)``, applied only when
    below 1 (PyTorch's formula). `norm_type` may be ``inf`` (or ``'inf'``): the largest
    absolute value. A NaN or infinite total norm scales every gradient to NaN (or 0), as in
    PyTorch, unless `error_if_nonfinite`, which raises instead. `foreach` is accepted and
    ignored.

    One difference, for a teaching reason: each norm is computed exactly and then rounded,
    where PyTorch sums the powers in the gradients' dtype (in float32 for float16). So where
    only its sum of squares overflows (float32 gradients above ~1.8e19, float64 above
    ~1.3e154), PyTorch returns inf and zeroes every gradient, a step that silently trains
    nothing; minigrad returns the finite norm and clips by it. (Where the squares underflow,
    float32 gradients below ~1e-23, PyTorch returns 0 and minigrad the tiny norm; neither
    clips.) With ``norm_type=0`` the total counts the gradients that have a nonzero element,
    as in PyTorch (the 0-"norm" of the per-gradient counts)."""
    op = "clip_grad_norm_"
    grads = _gradients(parameters, op)
    max_norm = _number(max_norm, op, "max_norm")
    if isinstance(norm_type, str) and norm_type == "inf":
        norm_type = math.inf
    norm_type = _number(norm_type, op, "norm_type")
    if not grads:
        return Tensor(np.zeros((), np.float32))
    norms = np.array([_in_dtype(_vector_norm(g, norm_type), g.dtype) for g in grads],
                     dtype=np.float64)
    dtype = np.result_type(*grads)
    total = _in_dtype(_vector_norm(norms, norm_type), dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(_non_finite(op, norm_type, grads, total))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # PyTorch's arithmetic: the factor in the total's dtype (NaN stays NaN), ...
        factor = np.asarray(max_norm, dtype) / (total + np.asarray(1e-6, dtype))
        factor = np.where(factor > 1, np.asarray(1, dtype), factor)
    with np.errstate(invalid="ignore"):  # an infinite element times 0 is NaN, as in PyTorch
        for g in grads:
            # ... each product in float32 at least, rounded once to the gradient's dtype.
            if g.dtype.itemsize >= 4:
                g *= factor.astype(g.dtype)
            else:  # float16
                g[...] = g.astype(np.float32) * factor.astype(np.float32)
    return Tensor(total)


def clip_grad_value_(parameters: Any, clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient element of `parameters` to [-clip_value, clip_value], in place."""
    op = "clip_grad_value_"
    grads = _gradients(parameters, op)
    clip_value = _number(clip_value, op, "clip_value")
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)
