"""Dtype conversions with PyTorch's names: ``x.to(dtype)``, ``x.long()``, ``x.float()``, ...

A conversion between floating dtypes stays in the graph (the gradient is cast back); a
conversion to an integer or bool dtype leaves it, since those carry no gradient.
"""

from __future__ import annotations

from typing import Any

from minigrad.dtypes import resolve_dtype
from minigrad.ops.elementwise import cast
from minigrad.tensor import Tensor

DEVICES = ("cpu",)


def to(x: Tensor, *args: Any, dtype: Any = None, copy: bool = False, **kwargs: Any) -> Tensor:
    """``x.to(dtype)``, ``x.to(other_tensor)`` (its dtype) or ``x.to("cpu")``. Like PyTorch,
    returns `x` itself when nothing changes, unless ``copy=True``."""
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"to: unexpected argument(s) {sorted(kwargs)}.")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, str) and (arg in DEVICES or arg.startswith(("cuda", "mps"))):
            device = arg
        else:
            dtype = arg
    if device is not None and str(device) not in DEVICES:
        raise ValueError(f"to: minigrad runs on the CPU only (NumPy); got device {device!r}. "
                         "Fix: drop the device argument, or use .to('cpu').")
    target = x.dtype if dtype is None else resolve_dtype(dtype, "to")
    if target == x.dtype and not copy:
        return x
    return cast(x, target)


def long(x: Tensor) -> Tensor:
    """Convert to int64 (class indices); the result carries no gradient."""
    return to(x, "int64")


def int_(x: Tensor) -> Tensor:
    """Convert to int32 (``torch.int``); the result carries no gradient."""
    return to(x, "int32")


def float_(x: Tensor) -> Tensor:
    """Convert to float32 (minigrad's and PyTorch's default float)."""
    return to(x, "float32")


def double(x: Tensor) -> Tensor:
    """Convert to float64 (what gradcheck needs)."""
    return to(x, "float64")


def bool_(x: Tensor) -> Tensor:
    """Convert to bool (non-zero is True); the result carries no gradient."""
    return to(x, "bool")
