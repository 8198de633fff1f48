"""Lesson 10's exercises. Replace each ``raise NotImplementedError`` with your code, then run

    python tutorials/check.py 10

Reference answers: tutorials/solutions/10_recurrent.py.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg


def elman_forward(x: mg.Tensor, w_x: mg.Tensor, b: mg.Tensor, w_h: mg.Tensor) -> mg.Tensor:
    """The Elman recurrence h_t = tanh(x_t @ w_xᵀ + b + h_{t-1} @ w_hᵀ), h_0 = 0.

    x: (batch, steps, features); w_x: (hidden, features); b: (hidden,); w_h: (hidden, hidden).
    Returns the last hidden state h_T, shape (batch, hidden). Use minigrad operations only
    (``@``, ``+``, ``.tanh()``, indexing ``x[:, t, :]``, ``.T``) so gradients flow to every input.
    """
    raise NotImplementedError("elman_forward")


def jacobian_product(states: list[np.ndarray], w_h: np.ndarray) -> list[np.ndarray]:
    """Singular values of ∂h_T/∂h_{T-d} for d = 1 … len(states) − 1, for ONE sequence.

    states: [h_1, …, h_T], each (hidden,) — the hidden states of the recurrence above;
    w_h: (hidden, hidden). Returns a list of ``len(states) − 1`` arrays of singular values
    (largest first). Hint: ∂h_k/∂h_{k−1} = diag(1 − h_k²) w_h, and the chain rule multiplies
    these from k = T down.
    """
    raise NotImplementedError("jacobian_product")
