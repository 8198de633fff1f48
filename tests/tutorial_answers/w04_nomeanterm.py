# ruff: noqa
# WRONG: BatchNorm's dx without the -Σdy term (the path through the mean).
# (Checked by tests/test_tutorial_exercises.py; kept as a student wrote it.)
"""Reference answers to lesson 04's exercises (``python tutorials/check.py 4 --solution``)."""

from __future__ import annotations

import numpy as np

from minigrad.ops import Function


class BatchNormFunction(Function):
    """Training-mode BatchNorm of ``x (N, C)`` with γ, β of shape ``(C,)``, as ONE op.

    forward(x, gamma, beta, eps=1e-5) -> y (N, C); backward(dy) -> (dx, dgamma, dbeta)."""

    def forward(self, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                eps: float = 1e-5) -> np.ndarray:
        mean = x.mean(axis=0)
        var = x.var(axis=0)  # biased: divided by N, as Algorithm 1
        self.invstd = 1 / np.sqrt(var + eps)
        self.x_hat = (x - mean) * self.invstd
        self.gamma = gamma
        return gamma * self.x_hat + beta

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, ...]:
        n = grad_output.shape[0]
        dbeta = grad_output.sum(axis=0)
        dgamma = (grad_output * self.x_hat).sum(axis=0)
        # dx = γ·s/N·(N·dy − Σdy − x̂·Σ(dy·x̂)), lesson 04 §2
        dx = self.gamma * self.invstd / n * (n * grad_output - self.x_hat * dgamma)
        return dx, dgamma, dbeta


def update_running_stats(x: np.ndarray, running_mean: np.ndarray, running_var: np.ndarray,
                         momentum: float) -> tuple[np.ndarray, np.ndarray]:
    """The running statistics after one training batch ``x (N, C)``: exponential moving
    averages of the batch mean and of the UNBIASED batch variance (Algorithm 2: m/(m−1))."""
    new_mean = (1 - momentum) * running_mean + momentum * x.mean(axis=0)
    new_var = (1 - momentum) * running_var + momentum * x.var(axis=0, ddof=1)
    return new_mean, new_var
