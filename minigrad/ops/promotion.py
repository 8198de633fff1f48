"""Dtype promotion as PyTorch does it, for the ops that combine tensors (the binary
element-wise ops, ``where``, ``cat``, ``stack``), and `cast`, the op that converts.

NumPy's rules differ where it matters: NumPy makes ``int64 * float32`` float64, and a 0-d
float64 tensor times a float32 batch float64, which would silently turn a float32 model's
computation into float64; PyTorch keeps float32 (its "type promotion" rules,
``torch.result_type``). Operands are converted first, then NumPy computes in that dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.ops.base import Function
from minigrad.tensor import Tensor

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < integer < floating


def result_dtype(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """The dtype PyTorch gives ``a <op> b`` (its "type promotion" rules, torch.result_type):

    * a 0-d operand (a number, or a 0-d tensor such as a loss) next to one with dimensions
      decides the dtype only if it is of a higher category (bool < integer < float):
      ``float32 batch * float64 scalar`` stays float32, ``int64 batch * float32 scalar`` is
      float32;
    * otherwise the higher category wins with its own dtype (``int64 * float32`` is float32;
      NumPy would give float64), and within one category the wider dtype (float16 + float32
      is float32, int8 + uint8 is int16: NumPy agrees there).
    """
    if bool(a.ndim) != bool(b.ndim):
        dimensioned, zero_dim = (a, b) if a.ndim else (b, a)
        if _CATEGORY[zero_dim.dtype.kind] <= _CATEGORY[dimensioned.dtype.kind]:
            return dimensioned.dtype
        return zero_dim.dtype
    category_a, category_b = _CATEGORY[a.dtype.kind], _CATEGORY[b.dtype.kind]
    if category_a != category_b:
        return a.dtype if category_a > category_b else b.dtype
    return np.result_type(a.dtype, b.dtype)


def common_dtype(tensors: list[Tensor]) -> np.dtype:
    """PyTorch's dtype for joining tensors of one kind of shape (``cat``, ``stack``): the
    highest category wins with its own dtype, the widest within it (``cat([int64, float32])``
    is float32; NumPy would give float64)."""
    dtypes = [t.dtype for t in tensors]
    highest = max(_CATEGORY[dtype.kind] for dtype in dtypes)
    return np.result_type(*(dtype for dtype in dtypes if _CATEGORY[dtype.kind] == highest))


def promoted_all(tensors: list[Tensor]) -> list[Tensor]:
    """`tensors` converted to their `common_dtype` (those that already have it unchanged)."""
    dtype = common_dtype(tensors)
    return [converted(t, dtype) for t in tensors]


def promoted(a: Tensor, b: Tensor, floating: bool = False) -> tuple[Tensor, Tensor]:
    """`a` and `b` converted to their `result_dtype` (a float dtype, float32 for integers, with
    `floating`: division), so that NumPy computes in the dtype PyTorch would. An operand that
    requires grad goes through `cast` (its gradient is converted back); a constant is
    converted outright."""
    a_dtype, b_dtype = a._data.dtype, b._data.dtype
    if (a_dtype is b_dtype or a_dtype == b_dtype) and (not floating or a_dtype.kind == "f"):
        return a, b  # the usual case: one check
    target = result_dtype(a._data, b._data)
    if floating and target.kind != "f":
        target = np.dtype(np.float32)  # int / int is float32 in PyTorch (NumPy: float64)
    return converted(a, target), converted(b, target)


def converted(x: Tensor, dtype: np.dtype) -> Tensor:
    """`x` as `dtype`: itself if it has it, through `cast` if it requires grad (the gradient
    is converted back), else a converted constant."""
    if x._data.dtype == dtype:
        return x
    if x.requires_grad:
        return cast(x, dtype)
    return Tensor._make(x._data.astype(dtype), None, ())


class Cast(Function):
    def forward(self, x, dtype):
        self.input_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad_output):
        return (grad_output.astype(self.input_dtype),)


def cast(x: Tensor, dtype: Any) -> Tensor:
    """A copy of `x` as `dtype` (``x.astype``, ``x.to``); a Tensor holds numbers only."""
    requested = dtype
    try:
        dtype = None if dtype is None else np.dtype(dtype)  # np.dtype(None) would be float64
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "biuf" or dtype.fields is not None:
        raise TypeError(f"astype: a Tensor holds numbers, so dtype {requested!r:.40} is not "
                        "supported. Fix: use a float, int or bool dtype (np.float32, np.int64, "
                        "...); for text, convert the array: x.numpy().astype(str).")
    if x.requires_grad and dtype.kind != "f":
        return Tensor._make(x.data.astype(dtype), None, ())  # integers carry no gradient
    return Cast.apply(x, dtype=dtype)
