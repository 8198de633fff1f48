"""Loss modules: ``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, y)``.

Each holds its settings and calls its function in `nn.functional`. As in PyTorch, class
weights (``weight``, ``pos_weight``) are buffers, so they are in the ``state_dict`` (under
the same names) and follow ``model.to(dtype)`` (as converted copies: the tensor the caller
passed keeps its dtype); and the repr shows no settings (``CrossEntropyLoss()``).

Class weights are constants: the loss gives them no gradient, so one that requires grad is
refused when the loss is called (PyTorch refuses it there too). Pass ``w.detach()``."""

from __future__ import annotations

from typing import Any

from minigrad.nn import functional as F
from minigrad.nn.module import Module
from minigrad.ops.robust_losses import check_beta, check_delta
from minigrad.tensor import Tensor


def _as_buffer(value: Any) -> Tensor | None:
    """A class weight as a buffer: a Tensor is kept as given (PyTorch keeps the same tensor),
    anything array-like becomes one; None means unweighted."""
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor(value)


class _Loss(Module):
    """What every loss module holds: its ``reduction`` ('mean', 'sum' or 'none'), checked
    when it is made (PyTorch's ``_Loss``)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F.check_reduction(reduction, type(self).__name__)
        self.reduction = reduction


class CrossEntropyLoss(_Loss):
    """Cross-entropy of logits ``(N, C)`` against integer class indices ``(N,)``
    (a Tensor or a NumPy array); softmax is built in, so pass raw scores, not probabilities.

    ``weight``: optional per-class weights ``(C,)``; targets equal to ``ignore_index`` are
    skipped; ``reduction``: 'mean' (default), 'sum' or 'none'; ``label_smoothing`` ε mixes
    ε/C of the uniform distribution into the target. See `F.cross_entropy`.
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities ``(N, C)`` (the output of
    ``LogSoftmax(dim=1)``) against class indices ``(N,)``; ``weight``, ``ignore_index`` and
    ``reduction`` as in `CrossEntropyLoss`. See `F.nll_loss`."""

    def __init__(self, weight: Any = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] (after a sigmoid) against targets of
    the same shape; ``weight`` broadcasts against the input. Prefer `BCEWithLogitsLoss`.
    See `F.binary_cross_entropy`."""

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one numerically stable op, on raw scores;
    ``pos_weight`` (one per class, broadcast along the last axis) weights positive targets.
    See `F.binary_cross_entropy_with_logits`."""

    def __init__(self, weight: Any = None, reduction: str = "mean",
                 pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.register_buffer("pos_weight", _as_buffer(pos_weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class MSELoss(_Loss):
    """Mean squared error between input and target of the same shape; ``reduction``:
    'mean' (default), 'sum' or 'none'."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error between input and target of the same shape; ``reduction``:
    'mean' (default), 'sum' or 'none'. Gradient sign(input - target) (0 at equality).
    See `F.l1_loss`."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Squared error for errors below ``beta``, absolute error (minus ½beta) beyond: the
    gradient is at most 1 in size, so outliers pull no harder than that (Fast R-CNN's box
    loss). ``beta=0`` is `L1Loss`; ``beta`` must be >= 0. See `F.smooth_l1_loss`."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = check_beta(beta, "SmoothL1Loss")

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Squared error for errors below ``delta``, ``delta``·(absolute error - ½delta) beyond:
    the gradient is the error clipped to [-delta, delta]. ``delta`` must be > 0. Equal to
    delta · SmoothL1Loss(beta=delta). See `F.huber_loss`."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = check_delta(delta, "HuberLoss")

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)
