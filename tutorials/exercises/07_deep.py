"""Lesson 7's exercises. Replace each ``raise NotImplementedError`` with your code, then run

    python tutorials/check.py 7

NumPy only. Reference answers: tutorials/solutions/07_deep.py.
"""

from __future__ import annotations

import numpy as np


def random_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random (n, n) orthogonal matrix, uniformly distributed (Haar measure).

    Recipe: Q, R = np.linalg.qr(Gaussian (n, n) matrix); then multiply each column of Q by the
    sign of R's diagonal entry — without that fix, Q is orthogonal but not uniform (QR's sign
    convention biases it).
    """
    raise NotImplementedError("random_orthogonal")


def lsuv(weights: list[np.ndarray], x: np.ndarray, tol: float = 0.1,
         max_iter: int = 10) -> list[np.ndarray]:
    """Mishkin & Matas' LSUV loop for the plain ReLU MLP ``h ← relu(h @ Wᵀ)`` (no biases, no
    ReLU after the last layer), given its weights ``[(out, in), ...]`` (already orthonormal)
    and a batch ``x (batch, in)``.

    Layer by layer, from the first: compute that layer's output on the batch (through the
    layers before it, already rescaled), and while |Var(output) − 1| >= tol and fewer than
    `max_iter` rescales were made, divide its weight by √Var(output). Var(output) is the
    variance of all the output's elements together (``out.var()``, as ``nn.init.lsuv_`` and
    the paper's blob variance), not a per-unit variance. Return the new weights (new arrays;
    do not modify the inputs).
    """
    raise NotImplementedError("lsuv")
