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

`check_device` is the one place that decides whether a ``device=`` argument (of the factories,
``x.to``, ``model.to``) names the CPU: ``None``, ``"cpu"``, ``"cpu:0"`` (any index: PyTorch
has one CPU device whatever the index), a `mg.device` or a ``torch.device`` of type cpu.
Anything else is refused with the same CPU-only message.
"""

from __future__ import annotations

from typing import Any

DEVICE_TYPES = ("cpu", "cuda", "mps", "meta")


class device(str):  # noqa: N801 (torch.device)
    """``mg.device("cpu")``, ``mg.device("cuda", 0)``, ``mg.device("cuda:1")``."""

    type: str
    index: int | None  # type: ignore[assignment]  # (shadows str.index)

    def __new__(cls, type: Any, index: int | None = None) -> device:  # noqa: A002
        if isinstance(type, device) and index is None:
            return type
        if is_torch_device(type):  # torch.device("cpu"): PyTorch code passes these along
            type, index = type.type, type.index if index is None else index  # noqa: A001
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got "
                            f"{builtin_type(type).__name__} {type!r:.40}. Fix: mg.device('cpu').")
        kind, colon, number = type.partition(":")
        if colon and index is not None:
            raise ValueError(f"device: the type string {type!r:.40} already includes an index, "
                             f"and index={index!r:.20} was passed as well (PyTorch: 'type "
                             "(string) must not include an index because index was passed "
                             f"explicitly'). Fix: mg.device({kind!r}, {index!r:.20}) or "
                             f"mg.device({type!r:.40}).")
        if kind not in DEVICE_TYPES or (colon and not number.isdigit()):
            raise ValueError(f"device: expected one of {', '.join(DEVICE_TYPES)} (optionally with "
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


def is_torch_device(value: Any) -> bool:
    """A ``torch.device``, recognised without importing PyTorch."""
    cls = builtin_type(value)
    return cls.__name__ == "device" and cls.__module__ == "torch"


CPU = device("cpu")


def check_device(where: Any, op: str) -> None:
    """Accept a ``device=`` argument that names the CPU (None, "cpu", "cpu:1", a `mg.device`
    or ``torch.device`` of type cpu); refuse any other device with the fix. The common
    cases (None, "cpu") cost one comparison, so that the factories stay cheap."""
    if where is None or (builtin_type(where) is str and where == "cpu") or where is CPU:
        return
    if isinstance(where, int) and not isinstance(where, bool):  # device=0: an accelerator's
        parsed = device("cuda")
    else:
        try:
            parsed = device(where)
        except (TypeError, ValueError) as error:  # name the op that was given it
            raise builtin_type(error)(f"{op}: {error}") from None
    if parsed.type != "cpu":
        raise ValueError(f"{op}: minigrad runs on the CPU only (NumPy); got device "
                         f"{where!r:.40}. Fix: drop the device argument, or use 'cpu' "
                         "(mg.device('cpu')).")


def tensor_device(tensor: Any) -> device:
    """``x.device``: always the CPU."""
    return CPU


def cpu(tensor: Any) -> Any:
    """``x.cpu()``: the tensor itself (it is on the CPU already), as in PyTorch."""
    return tensor
