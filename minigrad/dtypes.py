"""Dtype names a PyTorch user reaches for: ``mg.float32``, ``mg.long``, ...

Each is a `numpy.dtype` (minigrad's tensors hold NumPy arrays), so ``x.dtype == mg.float32``
and ``np.zeros(3, mg.int64)`` work. ``x.to(...)``, ``Module.to(...)`` and every ``dtype=``
argument that goes through `resolve_dtype` accept these, NumPy dtypes and types
(``np.float64``), Python's ``float``/``int``/``bool`` (float64/int64/bool, as in PyTorch and
NumPy), explicit strings (``"float32"``) and PyTorch's dtypes (``torch.float64``). The bare
strings ``"float"`` and ``"int"`` are refused: NumPy reads them as float64/int64 but
PyTorch's ``torch.float``/``torch.int`` are float32/int32, so either reading would surprise
half of the readers.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)  # noqa: A001 (torch.float is float32)
float64 = double = np.dtype(np.float64)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)  # noqa: A001 (torch.int is int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001 (torch.bool)

_AMBIGUOUS = {"float": "mg.float32 (torch.float) or mg.float64 (NumPy's float)",
              "int": "mg.int32 (torch.int) or mg.int64 (NumPy's int)"}


def resolve_dtype(dtype: Any, op: str) -> np.dtype:
    """`dtype` as a numeric `numpy.dtype`, or a TypeError naming `op` and the fix."""
    if type(dtype).__module__ == "torch":  # torch.float64 prints as "torch.float64"
        dtype = str(dtype).removeprefix("torch.")
    if isinstance(dtype, str) and dtype in _AMBIGUOUS:
        raise TypeError(f"{op}: the dtype string {dtype!r} is ambiguous. Fix: use "
                        f"{_AMBIGUOUS[dtype]}.")
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.kind not in "biuf" or dtype is None:
        raise TypeError(f"{op}: {dtype!r} is not a supported dtype. Fix: use a float, int or "
                        "bool dtype, e.g. mg.float32, mg.float64 or mg.long.")
    return resolved


def holds(dtype: np.dtype, value: Any) -> builtins.bool:
    """Whether `dtype` holds the number `value` without overflow, as PyTorch checks ("value
    cannot be converted to type float without overflow"), where NumPy would store inf or
    wrap around: a float dtype any magnitude up to its largest (and inf or NaN), an integer
    dtype a value between its smallest and largest, checked *before* it is truncated, as
    PyTorch checks (127.5 does not fit int8, though it would be stored as 127; inf and NaN
    never fit), bool any number. Compared exactly: Python compares an int with a float
    exactly, even 10**400 (a float of int64's largest, 2**63 - 1, would round up to 2**63)."""
    if isinstance(value, np.generic):
        value = value.item()
    if dtype.kind == "f":
        infinite = isinstance(value, builtins.float) and not math.isfinite(value)
        return infinite or abs(value) <= builtins.float(np.finfo(dtype).max)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return builtins.int(info.min) <= value <= builtins.int(info.max)  # (NaN: False)
    return True  # bool: any number is True or False
