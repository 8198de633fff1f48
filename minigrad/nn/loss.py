"""Loss modules: ``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, y)``."""

from __future__ import annotations

from typing import Any

from minigrad.nn import functional as F
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class CrossEntropyLoss(Module):
    """Cross-entropy of logits ``(N, C)`` against integer class indices ``(N,)``
    (a Tensor or a NumPy array); softmax is built in, so pass raw scores, not probabilities.

    ``weight``: optional per-class weights ``(C,)``; targets equal to ``ignore_index`` are
    skipped; ``reduction``: 'mean' (default), 'sum' or 'none'. See `F.cross_entropy`.
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__()
        F.check_reduction(reduction, "CrossEntropyLoss")
        self.weight, self.ignore_index, self.reduction = weight, ignore_index, reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(Module):
    """Mean squared error between input and target of the same shape; ``reduction``:
    'mean' (default), 'sum' or 'none'."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F.check_reduction(reduction, "MSELoss")
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
