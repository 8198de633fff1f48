"""`mg.device`: where a tensor lives. minigrad computes with NumPy, on the CPU only, so every
tensor's ``.device`` is ``device(type='cpu')``, and ``.cpu()`` returns the tensor itself (as
PyTorch does for a tensor already on the CPU).

It exists so that PyTorch's device habits run unchanged::

    device = mg.device("cuda" if mg.cuda.is_available() else "cpu")   # "cpu"
    model.to(device); x = x.to(device)

A `device` is a `str` subclass: it passes wherever a device string does (``x.to(device)``,
``Module.to(device)``), prints as PyTorch's does, and compares equal to ``"cpu"``. That last
one differs from PyTorch 2.13, where ``torch.device("cpu") == "cpu"`` is False; here it is
True, which is what a reader of ``x.device == "cpu"`` expects. A CUDA or MPS device can be
named (``mg.device("cuda")``), as in PyTorch without a GPU, but moving a tensor there is
refused with the fix.
"""

from __future__ import annotations

from typing import Any

_TYPES = ("cpu", "cuda", "mps", "meta")


class device(str):  # noqa: N801 (torch.device)
    """``mg.device("cpu")``, ``mg.device("cuda", 0)``, ``mg.device("cuda:1")``."""

    type: str
    index: int | None  # type: ignore[assignment]  # (shadows str.index)

    def __new__(cls, type: Any, index: int | None = None) -> device:  # noqa: A002
        if isinstance(type, device):
            return type
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got "
                            f"{builtin_type(type).__name__} {type!r:.40}. Fix: mg.device('cpu').")
        kind, colon, number = type.partition(":")
        if kind not in _TYPES or (colon and not number.isdigit()) or (colon and index is not None):
            raise ValueError(f"device: expected one of {', '.join(_TYPES)} (optionally with "
                             f":index, e.g. 'cuda:0'), got {type!r:.40}. Fix: mg.device('cpu'); "
                             "minigrad runs on the CPU only.")
        if colon:
            index = int(number)
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)
                                  or index < 0):
            raise ValueError(f"device: the index must be an int >= 0, got {index!r:.40}.")
        out = super().__new__(cls, kind if index is None else f"{kind}:{index}")
        out.type, out.index = kind, index
        return out

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"

    def __str__(self) -> str:
        return str.__str__(self)

    def __reduce__(self) -> Any:
        return (device, (self.type, self.index))


builtin_type = type
CPU = device("cpu")


def tensor_device(tensor: Any) -> device:
    """``x.device``: always the CPU."""
    return CPU


def cpu(tensor: Any) -> Any:
    """``x.cpu()``: the tensor itself (it is on the CPU already), as in PyTorch."""
    return tensor
