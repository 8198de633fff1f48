# ruff: noqa
# RIGHT: Softplus via np.where (both branches computed: an overflow warning, right values).
# (Checked by tests/test_tutorial_exercises.py; kept as a student wrote it.)
"""Lesson 2's exercises — reference answers (``python tutorials/check.py 2 --solution``)."""

from __future__ import annotations

import numpy as np

from minigrad.ops import Function


def matmul_backward(a: np.ndarray, b: np.ndarray, grad_c: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """dA = dC Bᵀ, dB = Aᵀ dC."""
    return grad_c @ b.T, a.T @ grad_c


def bias_backward(grad_out: np.ndarray) -> np.ndarray:
    """The bias is used once per row: its gradient is the sum over the batch axis."""
    return grad_out.sum(axis=0)


class Softplus(Function):
    """log(1 + eˣ); derivative σ(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.where(x > 0, x + np.log1p(np.exp(-x)), np.log1p(np.exp(x)))

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray]:
        sigmoid = 0.5 * (1 + np.tanh(0.5 * self.x))  # σ(x) without overflow
        return (grad_output * sigmoid,)
