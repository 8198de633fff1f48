"""Lesson 7's exercises — reference answers (``python tutorials/check.py 7 --solution``)."""

from __future__ import annotations

import numpy as np


def random_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-random orthogonal matrix: QR of a Gaussian matrix, columns' signs fixed by R."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def lsuv(weights: list[np.ndarray], x: np.ndarray, tol: float = 0.1,
         max_iter: int = 10) -> list[np.ndarray]:
    """Rescale each layer until its output variance on `x` is within `tol` of 1."""
    new = [w.astype(np.float64).copy() for w in weights]
    h = x.astype(np.float64)
    for index, w in enumerate(new):
        for _ in range(max_iter):
            variance = (h @ w.T).var()
            if abs(variance - 1) < tol:
                break
            w /= np.sqrt(variance)
        out = h @ w.T
        h = np.maximum(out, 0) if index < len(new) - 1 else out
    return new
