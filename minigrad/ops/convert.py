"""Dtype conversions with PyTorch's names: ``x.to(dtype)``, ``x.long()``, ``x.float()``, ...

A conversion between floating dtypes stays in the graph (the gradient is cast back); a
conversion to an integer or bool dtype leaves it, since those carry no gradient.
"""

from __future__ import annotations

from typing import Any

from minigrad.device import DEVICE_TYPES, check_device, device, is_torch_device
from minigrad.dtypes import resolve_dtype
from minigrad.ops.elementwise import cast
from minigrad.tensor import Tensor


def _is_device(arg: Any) -> bool:
    """A positional argument of ``to`` that names a device: a `mg.device` or ``torch.device``,
    a string "cpu", "cuda:1", ... (the part before ':' a device type), or an int (PyTorch's
    accelerator index)."""
    if isinstance(arg, device) or is_torch_device(arg):
        return True
    if isinstance(arg, int) and not isinstance(arg, bool):
        return True
    return isinstance(arg, str) and arg.partition(":")[0] in DEVICE_TYPES


def to(x: Tensor, *args: Any, dtype: Any = None, non_blocking: bool = False,
       copy: bool = False, device: Any = None, **kwargs: Any) -> Tensor:
    """``x.to(dtype)``, ``x.to(other_tensor)`` (its dtype), ``x.to("cpu")`` /
    ``x.to(mg.device("cpu", 0))`` / ``x.to(torch.device("cpu"))``, or a device then a dtype,
    as PyTorch's. Like PyTorch, returns `x` itself when nothing changes, unless
    ``copy=True``. ``non_blocking`` is accepted and changes nothing (there is no GPU to copy
    to asynchronously); PyTorch's positional order is kept: ``x.to(dtype, non_blocking,
    copy)``."""
    if kwargs:
        raise TypeError(f"to: unexpected argument(s) {sorted(kwargs)}. Fix: x.to(dtype), "
                        "x.to(device), x.to(other), with optional non_blocking= and copy=.")
    flags: list[bool] = []
    for position, arg in enumerate(args):
        if isinstance(arg, bool):  # x.to(dtype, non_blocking, copy), as PyTorch's positions
            if len(flags) == position:  # only bools before it: no dtype, device or tensor
                # (PyTorch reads x.to(True) as dtype bool; here it was silently ignored)
                raise TypeError(f"to: a bool ({arg}) before any dtype, device or tensor: "
                                "non_blocking and copy come after one. Fix: x.to(mg.bool) "
                                "for a bool tensor, or x.to(dtype, non_blocking, copy).")
            flags.append(arg)
        elif isinstance(arg, Tensor):
            dtype = arg.dtype
        elif _is_device(arg):
            device = arg
        else:
            dtype = arg
    if len(flags) > 2:
        raise TypeError(f"to: at most two bools (non_blocking, copy) after the dtype or device, "
                        f"got {len(flags)}. Fix: e.g. x.to(mg.float64, copy=True).")
    if len(flags) == 2:
        copy = copy or flags[1]
    check_device(device, "to")
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
