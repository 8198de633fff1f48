"""`mg.cuda`: minigrad has no GPU backend, so ``mg.cuda.is_available()`` is False and
PyTorch's ``if torch.cuda.is_available(): ...`` habit picks the CPU path unchanged."""

from __future__ import annotations


def is_available() -> bool:
    """False: minigrad computes with NumPy, on the CPU."""
    return False


def device_count() -> int:
    """0: no GPU is visible to minigrad."""
    return 0


__all__ = ["device_count", "is_available"]
