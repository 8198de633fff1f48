"""Sums that run along an axis: ``cumsum`` (every partial sum) and ``logsumexp`` (the log of
a sum of exponentials, computed without overflow).

``cumsum``'s output element i is the sum of input elements 0..i, so input element j feeds
every output from j on: its gradient is the *reversed* cumulative sum of the output's
gradient. Bools and integers sum to int64, as in PyTorch (and as `sum` does).

``logsumexp`` is log(sum(exp(x))) written as ``m + log(sum(exp(x - m)))`` with m the
largest element, so exp never overflows (the trick behind log_softmax). Its gradient is
softmax(x). Infinities, as PyTorch: an infinite m is replaced by 0 in the shift, so a
slice containing +inf gives +inf (its gradient is NaN at the +inf elements and 0
elsewhere, as PyTorch's exp(x - result)), and a slice of only -inf (an attention row that
is all masked) or of no elements gives -inf. For an all -inf slice the gradient is 0:
PyTorch 2.13 gives NaN there (exp(-inf - (-inf))), which would poison every parameter
the masked row came from; no input can move such a result, so 0 is the honest gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.dtypes import resolve_dtype
from minigrad.ops.base import Function
from minigrad.ops.reduce import _Reduction, single_axis
from minigrad.tensor import Tensor, expect_tensor


class Cumsum(Function):
    def forward(self, x, axis):
        self.axis = axis
        return np.cumsum(x, axis=axis, dtype=np.int64 if x.dtype.kind in "biu" else None)

    def backward(self, grad_output):
        reversed_sums = np.cumsum(np.flip(grad_output, self.axis), axis=self.axis)
        return (np.flip(reversed_sums, self.axis),)


class LogSumExp(_Reduction):
    name = "logsumexp"
    def forward(self, x, axis, keepdims):
        axes = self._setup(x, axis, keepdims)
        shift = np.max(x, axis=axes, keepdims=True, initial=-np.inf)  # -inf over no element
        shift = np.where(np.isinf(shift), 0, shift).astype(x.dtype)
        with np.errstate(over="ignore"):  # exp(+inf - 0): +inf, the result
            self.shifted = np.exp(x - shift)
        self.total = self.shifted.sum(axis=axes, keepdims=True)
        with np.errstate(divide="ignore"):  # log(0) = -inf: all -inf, or no element
            out = np.log(self.total) + shift
        return out if keepdims else np.squeeze(out, axis=axes)

    def backward(self, grad_output):
        # softmax(x) = exp(x - m) / sum(exp(x - m)), from the forward's shifted terms (more
        # accurate than exp(x - result) when the result was rounded, e.g. float32 near
        # 1000). A +inf gives inf / inf = NaN at the +inf elements and 0 elsewhere, as
        # PyTorch; a total of 0 (all -inf) gives 0 (see the module docstring).
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(self.total == 0, 0, self.shifted / self.total)
        return (self._with_kept_axes(grad_output) * share,)


_MISSING: Any = object()


def cumsum(x: Tensor, dim: Any = _MISSING, *, dtype: Any = None) -> Tensor:
    """``x.cumsum(dim)``: the running sums along `dim` (PyTorch's ``cumsum``; `dim` is
    required, as there). Bools and integers give int64; ``dtype=`` converts the input
    first (``x.cumsum(0, dtype=mg.float32)``)."""
    expect_tensor(x, "cumsum")
    if dim is _MISSING:
        raise TypeError(f"cumsum: dim is required (PyTorch's cumsum has no default), tensor "
                        f"of shape {x.shape}. Fix: e.g. x.cumsum(0) or x.cumsum(dim=-1); for "
                        "a flattened running sum, x.flatten().cumsum(0).")
    axis = single_axis(dim, x.ndim, "cumsum")
    if dtype is not None:
        x = x.to(resolve_dtype(dtype, "cumsum"))
    if x.ndim == 0:
        return Cumsum.apply(x.reshape(1), axis=0).reshape(())
    return Cumsum.apply(x, axis=axis)


def logsumexp(x: Tensor, dim: Any = _MISSING, keepdim: bool = False) -> Tensor:
    """``x.logsumexp(dim, keepdim=False)``: log(sum(exp(x))) over `dim` (an int or a tuple of
    axes; required, as in PyTorch), computed stably. Bools and integers give float32, as
    PyTorch's default dtype. See the module docstring for infinities."""
    expect_tensor(x, "logsumexp")
    if dim is _MISSING or dim is None:
        raise TypeError(f"logsumexp: dim is required (as in PyTorch; None is refused there "
                        f"too), tensor of shape {x.shape}. Fix: e.g. x.logsumexp(-1), or "
                        "x.logsumexp(tuple(range(x.ndim))) over every axis.")
    if x.dtype.kind in "biu":
        x = x.float()
    return LogSumExp.apply(x, axis=dim, keepdims=bool(keepdim))
