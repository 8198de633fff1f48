"""Lesson 04's exercises. Replace each ``raise NotImplementedError`` with your code, then run

    python tutorials/check.py 4

Reference answers: tutorials/solutions/04_batchnorm.py.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops import Function


class BatchNormFunction(Function):
    """Training-mode BatchNorm of ``x (N, C)`` with γ, β of shape ``(C,)``, as ONE op (what
    minigrad's fused implementation is): NumPy arrays in, NumPy arrays out.

    forward(x, gamma, beta, eps=1e-5) -> y (N, C): batch mean, BIASED batch variance,
    x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β. Save on ``self`` what backward needs.
    backward(dy) -> (dx, dgamma, dbeta), each shaped like its input. Lesson 04 §2 derives dx.
    Use it as ``BatchNormFunction.apply(x, gamma, beta)`` on tensors.
    """

    def forward(self, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                eps: float = 1e-5) -> np.ndarray:
        raise NotImplementedError("BatchNormFunction.forward")

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, ...]:
        raise NotImplementedError("BatchNormFunction.backward")


def update_running_stats(x: np.ndarray, running_mean: np.ndarray, running_var: np.ndarray,
                         momentum: float) -> tuple[np.ndarray, np.ndarray]:
    """The running statistics ``(mean, var)`` after one training batch ``x (N, C)``, as
    ``nn.BatchNorm1d(momentum=...)`` updates them: new = (1 − momentum)·old +
    momentum·batch statistic — which variance, biased or unbiased? (Lesson 04 §6.)"""
    raise NotImplementedError("update_running_stats")
