"""Reductions over axes: sum, mean, var, std, amax, amin.

Each backward first puts back the reduced axes (as size 1, if `keepdims` dropped them), so
the gradient broadcasts against the input: every input element that contributed to an
output element receives that element's gradient, scaled by its share.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from minigrad.ops.base import Function, ShapeError
from minigrad.tensor import Tensor


def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """`axis` (None, int or sequence, negative allowed) as a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else _axis_sequence(axis, op)
    result = []
    bound = builtins.max(ndim, 1)  # a 0-d tensor accepts axis 0 and -1, as in PyTorch
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int | np.integer):
            raise TypeError(f"{op}: an axis must be an int, got {type(a).__name__} {a!r}. "
                            "Fix: pass a whole number such as 0 or -1.")
        if not -bound <= a < bound:
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} "
                             f"dimension(s). Fix: use an axis in [{-bound}, {bound - 1}].")
        result.append(int(a) % bound)
    if len(set(result)) != len(result):
        raise ShapeError(f"{op}: axis {axis} repeats an axis.")
    return tuple(sorted(result))


def reduced_axes(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    """The axes a reduction (sum, mean, var, std, amax, amin, norm) goes over: as
    `normalize_axis`, except that an empty tuple or list means every axis, as in PyTorch
    (``x.sum(dim=())`` is the sum of all elements; NumPy's ``axis=()`` would reduce none)."""
    if isinstance(dim, tuple | list) and not dim:
        dim = None
    return normalize_axis(dim, ndim, op)


def single_axis(axis: Any, ndim: int, op: str, argument: str = "dim") -> int:
    """One axis (an int, negative allowed) as a non-negative int; None is refused."""
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{op}: {argument} must be an int, got {type(axis).__name__} "
                        f"{axis!r:.40}. Fix: pass a whole number such as 0 or -1.")
    return normalize_axis(axis, ndim, op)[0]


def _axis_sequence(axis: Any, op: str) -> tuple:
    if isinstance(axis, list | tuple):
        return tuple(axis)
    raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {type(axis).__name__} "
                    f"{axis!r:.40}. Fix: pass a whole number such as 0 or -1.")


class _Reduction(Function):
    """Shared bookkeeping: remembers the input shape and which axes were reduced."""

    def _setup(self, x, axis, keepdims):
        self.input_shape = x.shape
        self.axes = reduced_axes(axis, x.ndim, self.name)
        self.keepdims = keepdims
        if x.ndim == 0:
            self.axes = ()
        return self.axes

    def _with_kept_axes(self, grad):
        """Re-insert the reduced axes as size 1, so `grad` broadcasts against the input."""
        if not self.keepdims and self.axes:
            grad = np.expand_dims(grad, self.axes)
        return grad


class Sum(_Reduction):
    """The sum over `axes`; of bools and integers, an int64, as in PyTorch (NumPy sums
    unsigned integers to uint64, where a difference of two counts would wrap around)."""

    def forward(self, x, axis=None, keepdims=False):
        dtype = np.int64 if x.dtype.kind in "biu" else None
        return x.sum(axis=self._setup(x, axis, keepdims), keepdims=keepdims, dtype=dtype)

    def backward(self, grad_output):
        return (np.broadcast_to(self._with_kept_axes(grad_output), self.input_shape),)


class Mean(_Reduction):
    def forward(self, x, axis=None, keepdims=False):
        axes = self._setup(x, axis, keepdims)
        self.count = int(np.prod([x.shape[a] for a in axes]))
        if self.count == 0:  # the mean of no values is NaN, quietly as in PyTorch (NumPy's
            with np.errstate(invalid="ignore"):  # x.mean warns "Mean of empty slice")
                return np.true_divide(x.sum(axis=axes, keepdims=keepdims), 0)
        return x.mean(axis=axes, keepdims=keepdims)

    def backward(self, grad_output):
        if self.count == 0:  # no input element: an empty gradient (and no 1/0 warning)
            return (np.zeros(self.input_shape, grad_output.dtype),)
        grad = self._with_kept_axes(grad_output) / self.count
        return (np.broadcast_to(grad, self.input_shape),)


class Var(_Reduction):
    """Variance with ``correction`` (1: unbiased, divides by n-1; 0: biased, by n)."""

    def forward(self, x, axis=None, keepdims=False, correction=1):
        axes = self._setup(x, axis, keepdims)
        count = int(np.prod([x.shape[a] for a in axes]))
        self.divisor = count - correction
        if self.divisor <= 0:
            raise ShapeError(f"var: {count} value(s) with correction={correction} leave no degrees "
                             "of freedom. Fix: reduce over more values or use correction=0.")
        self.centred = x - x.mean(axis=axes, keepdims=True)
        return (self.centred * self.centred).sum(axis=axes, keepdims=keepdims) / self.divisor

    def backward(self, grad_output):
        # d var / d x_i = 2 (x_i - mean) / divisor; the mean's own dependence on x_i cancels
        # because the centred values sum to zero.
        return (self._with_kept_axes(grad_output) * (2 / self.divisor) * self.centred,)


class Std(Var):
    """Standard deviation, sqrt(var). d std / d x_i = (x_i - mean) / (divisor · std); where the
    std is 0 (all values equal) that is 0/0, and the gradient is 0, as in PyTorch."""
    saves_output = True

    def forward(self, x, axis=None, keepdims=False, correction=1):
        self.out = np.sqrt(super().forward(x, axis, keepdims, correction))
        return self.out

    def backward(self, grad_output):
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(self.out == 0, 0, grad_output / (self.divisor * self.out))
        return (self._with_kept_axes(scale) * self.centred,)


class _Extreme(_Reduction):
    """max/min: the gradient goes to the extreme element(s), split equally among ties."""

    pick = staticmethod(np.max)

    def forward(self, x, axis=None, keepdims=False, nan_takes_gradient=False):
        axes = self._setup(x, axis, keepdims)
        if x.size == 0 and (x.ndim == 0 or builtins.min(x.shape[a] for a in axes) == 0):
            raise ShapeError(f"{self.name}: cannot reduce an empty tensor of shape {x.shape}: "
                             f"the {self.name} of no values is undefined. Fix: check that the "
                             "input (an empty batch?) has values along the reduced axes.")
        extreme = self.pick(x, axis=axes, keepdims=True)
        hits = x == extreme
        if nan_takes_gradient and extreme.dtype.kind == "f" and np.isnan(extreme).any():
            # PyTorch's x.max() (all elements): a NaN is the result, so the NaNs share the
            # gradient (NaN == NaN is False, which gave every element 0/0 = NaN)
            hits = np.isnan(x)
        hits = hits.astype(x.dtype)
        self.share = hits / hits.sum(axis=axes, keepdims=True)
        return extreme if keepdims else np.squeeze(extreme, axis=axes)

    def backward(self, grad_output):
        return (self._with_kept_axes(grad_output) * self.share,)


class Max(_Extreme):
    pick = staticmethod(np.max)


class Min(_Extreme):
    pick = staticmethod(np.min)


def _axis_args(axis: Any, keepdims: bool, dim: Any, keepdim: bool | None) -> tuple[Any, bool]:
    """Accept PyTorch's ``dim``/``keepdim`` as well as NumPy's ``axis``/``keepdims``."""
    if dim is not None:
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    return axis, bool(keepdims)


def sum(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None,  # noqa: A001
        keepdim: bool | None = None) -> Tensor:
    axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def refuse_integer_input(x: Tensor, op: str) -> None:
    """A mean (var, std) of bools or integers is a float, and which float is not implied:
    NumPy picks float64, which would turn a float32 model's arithmetic float64 behind the
    user's back. PyTorch refuses it; so does minigrad, naming the conversion to write."""
    if isinstance(x, Tensor) and x.dtype.kind in "biu":
        example = " (an accuracy: (pred == y).float().mean())" if op == "mean" else ""
        raise TypeError(
            f"{op}: cannot take the {op} of a tensor of dtype {x.dtype} (shape {x.shape}): "
            "the result is a float, and which float is not implied (PyTorch refuses it too). "
            f"Fix: convert first, x.float().{op}(){example}.")


def mean(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
         keepdim: bool | None = None) -> Tensor:
    """The mean over `axis`/`dim` of a floating-point tensor (bools and integers are
    refused, as in PyTorch: write ``x.float().mean()``)."""
    refuse_integer_input(x, "mean")
    axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def _spread_args(op: str, dim: Any, unbiased: bool | None, keepdim: bool,
                 correction: int | None, axis: Any, keepdims: bool | None) -> dict[str, Any]:
    """var/std arguments as PyTorch 2.x takes them: ``(dim, unbiased, keepdim)`` positionally,
    or ``correction=`` (1 by default); NumPy's ``axis``/``keepdims`` as aliases."""
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: pass either unbiased= or correction=, not both.")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return {"axis": axis if dim is None else dim, "correction": correction,
            "keepdims": bool(keepdims if keepdims is not None else keepdim)}


def var(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None, axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """Variance over `dim` (int, tuple or None for all), PyTorch 2.x's signature: unbiased by
    default (``correction=1``, divides by n-1); ``correction=0`` (or ``unbiased=False``) gives
    the biased variance BatchNorm uses. Shape: the input's without the reduced axes."""
    refuse_integer_input(x, "var")
    return Var.apply(x, **_spread_args("var", dim, unbiased, keepdim, correction, axis,
                                       keepdims))


def std(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None, axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """Standard deviation, sqrt(var), with `var`'s arguments. Where the std is 0 the
    gradient is 0, as in PyTorch."""
    refuse_integer_input(x, "std")
    return Std.apply(x, **_spread_args("std", dim, unbiased, keepdim, correction, axis,
                                       keepdims))


def amax(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         keepdims: bool | None = None) -> Tensor:
    """The largest value over `dim` (an int, a tuple of axes, or None for all); the gradient
    is split equally among tied maxima (PyTorch's ``amax``). ``x.max(dim)`` gives indices too."""
    axis, keepdims = _axis_args(axis, keepdim if keepdims is None else keepdims, dim, None)
    return Max.apply(x, axis=axis, keepdims=keepdims)


def amin(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         keepdims: bool | None = None) -> Tensor:
    """The smallest value over `dim` (int, tuple or None); ties share the gradient equally."""
    axis, keepdims = _axis_args(axis, keepdim if keepdims is None else keepdims, dim, None)
    return Min.apply(x, axis=axis, keepdims=keepdims)
