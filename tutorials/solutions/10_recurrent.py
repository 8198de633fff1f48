"""Lesson 10's exercises — reference answers (``python tutorials/check.py 10 --solution``)."""

from __future__ import annotations

import numpy as np

import minigrad as mg


def elman_forward(x: mg.Tensor, w_x: mg.Tensor, b: mg.Tensor, w_h: mg.Tensor) -> mg.Tensor:
    """h_T of the Elman recurrence, h_0 = 0 (so the first step has no recurrent term)."""
    h = None
    for t in range(x.shape[1]):
        summed = x[:, t, :] @ w_x.T + b
        if h is not None:
            summed = summed + h @ w_h.T
        h = summed.tanh()
    return h


def jacobian_product(states: list[np.ndarray], w_h: np.ndarray) -> list[np.ndarray]:
    """Singular values of the products diag(1 − h_T²) w_h · … · diag(1 − h_{T−d+1}²) w_h."""
    product = np.eye(w_h.shape[0])
    spectra = []
    for distance in range(1, len(states)):
        h = states[-distance]
        product = product @ ((1 - h**2)[:, None] * w_h)
        spectra.append(np.linalg.svd(product, compute_uv=False))
    return spectra
