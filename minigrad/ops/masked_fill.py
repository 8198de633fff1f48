"""``x.masked_fill(mask, value)``: `value` where the bool `mask` holds, `x` elsewhere (the usual
way to blank out attention scores with ``-inf`` before a softmax).

It is `where(mask, value, x)` with PyTorch's rules: the mask must be bool (a 0/1 integer
mask is refused, as in PyTorch: ``x.masked_fill(m, 0)`` with an int ``m`` is usually a
mask built the wrong way), `value` is a number or a 0-d tensor, and the result keeps `x`'s
dtype. The gradient of `x` is zero where it was filled; a 0-d `value` tensor that requires
grad gets the sum of the gradient over the filled places.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.dtypes import holds
from minigrad.ops.elementwise import Where
from minigrad.ops.promotion import cast
from minigrad.tensor import Tensor, expect_tensor


class MaskedFill(Where):
    name = "masked_fill"


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """`value` where `mask` is True, `x` elsewhere; `mask` broadcasts against `x`."""
    expect_tensor(x, "masked_fill")
    condition = mask.data if isinstance(mask, Tensor) else mask
    if not isinstance(condition, np.ndarray) or condition.dtype != np.bool_:
        what = (f"mask with dtype {condition.dtype}" if isinstance(condition, np.ndarray)
                else f"a {type(mask).__name__}")
        raise TypeError(f"masked_fill: only supports boolean masks, but got {what}. Fix: build "
                        "the mask with a comparison (scores == 0), or convert it with "
                        "mask.bool().")
    try:
        np.broadcast_shapes(x.shape, condition.shape)
    except ValueError:
        raise ValueError(f"masked_fill: a mask of shape {condition.shape} does not broadcast "
                         f"against the tensor's shape {x.shape}. Fix: give the mask the "
                         "tensor's shape, or size-1 axes where it should be repeated (e.g. "
                         "mask[:, None, :]).") from None
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: only supports a 0-dimensional value tensor, but got "
                             f"one of shape {value.shape}. Fix: fill with one number, or use "
                             "mg.where(mask, values, x) to fill from a tensor.")
        if value.dtype != x.dtype:  # the same check as for a number: NumPy's cast would not
            _check_fits(value.data.item(), x.dtype)
        filler = value if value.dtype == x.dtype else cast(value, x.dtype)
    else:
        if not isinstance(value, int | float | np.integer | np.floating | np.bool_):
            raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got "
                            f"{type(value).__name__} {value!r:.40}. Fix: e.g. "
                            "x.masked_fill(mask, float('-inf')).")
        _check_fits(value, x.dtype)
        # As in PyTorch the value takes the tensor's dtype (0.7 in an int64 tensor is 0).
        number = float(value) if x.dtype.kind == "f" else value  # (2**70: not an object array)
        filler = Tensor._make(np.asarray(number).astype(x.dtype), None, ())
    return MaskedFill.apply(filler, x, condition=condition)


def _check_fits(value: Any, dtype: np.dtype) -> None:
    """Refuse a value the tensor's dtype cannot hold (`dtypes.holds`), as PyTorch does."""
    if isinstance(value, np.generic):  # (the message shows it as a Python number)
        value = value.item()
    if not holds(dtype, value):
        raise ValueError(f"masked_fill: the value {value!r:.40} cannot be converted to the "
                         f"tensor's dtype {dtype} without overflow (integers have no infinity "
                         "or NaN). Fix: a value in the dtype's range, or convert the tensor "
                         "first, e.g. x.double().masked_fill(...).")
