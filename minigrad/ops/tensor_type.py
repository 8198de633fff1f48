"""``x.type()`` and ``x.type(dtype)``, PyTorch's older spelling of ``x.dtype`` and ``x.to``.

Without an argument it returns PyTorch's name for the tensor's type, ``'torch.FloatTensor'``
for float32, ``'torch.LongTensor'`` for int64 and so on, so that code ported from PyTorch
(``if x.type() == 'torch.FloatTensor'``) behaves the same; minigrad has no tensor classes of
these names. With a dtype (``mg.float64``, ``torch.float64``, ``np.float64``) or one of those
names (``'torch.DoubleTensor'``) it converts, as ``x.to(dtype)`` does: `x` itself when the
dtype already matches, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.dtypes import resolve_dtype
from minigrad.ops.convert import to
from minigrad.tensor import Tensor

TYPE_NAMES = {
    np.dtype(np.float16): "torch.HalfTensor", np.dtype(np.float32): "torch.FloatTensor",
    np.dtype(np.float64): "torch.DoubleTensor", np.dtype(np.uint8): "torch.ByteTensor",
    np.dtype(np.int8): "torch.CharTensor", np.dtype(np.int16): "torch.ShortTensor",
    np.dtype(np.int32): "torch.IntTensor", np.dtype(np.int64): "torch.LongTensor",
    np.dtype(np.bool_): "torch.BoolTensor", np.dtype(np.uint16): "torch.UInt16Tensor",
    np.dtype(np.uint32): "torch.UInt32Tensor", np.dtype(np.uint64): "torch.UInt64Tensor",
}
_DTYPE_OF_NAME = {name: dtype for dtype, name in TYPE_NAMES.items()}


def type_(x: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    """``x.type()``: PyTorch's type name, e.g. ``'torch.FloatTensor'``; ``x.type(dtype)``:
    `x` converted to `dtype` (a dtype or such a name)."""
    if dtype is None:
        return TYPE_NAMES.get(x.dtype, f"torch.{x.dtype}Tensor")
    if isinstance(dtype, str) and dtype.startswith("torch.") and dtype.endswith("Tensor"):
        if dtype not in _DTYPE_OF_NAME:
            raise TypeError(f"type: unknown tensor type {dtype!r:.40}. Fix: one of "
                            f"{', '.join(sorted(_DTYPE_OF_NAME))}, or a dtype such as "
                            "mg.float64.")
        dtype = _DTYPE_OF_NAME[dtype]
    return to(x, resolve_dtype(dtype, "type"))
