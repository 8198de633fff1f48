"""Checks for lesson 7's exercises (``python tutorials/check.py 7``)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from _checks import expect


def check_random_orthogonal_is_orthogonal(student: ModuleType) -> None:
    """random_orthogonal(n) is orthogonal: QᵀQ = I"""
    for n in (1, 5, 32):
        q = np.asarray(student.random_orthogonal(n, np.random.default_rng(n)))
        expect(q.shape == (n, n), f"shape {q.shape}, expected {(n, n)}", "return Q, (n, n)")
        error = float(np.abs(q.T @ q - np.eye(n)).max())
        expect(error < 1e-10, f"n = {n}: QᵀQ differs from I by {error:.2g}",
               "np.linalg.qr gives an orthogonal Q; do not rescale it")


def check_random_orthogonal_is_uniform(student: ModuleType) -> None:
    """random_orthogonal is uniform: its diagonal entries average 0 (QR's signs fixed)"""
    rng = np.random.default_rng(0)
    diagonal = np.array([np.diag(student.random_orthogonal(4, rng)) for _ in range(2000)])
    # Haar-uniform: each entry has mean 0 and variance 1/n (0.25); std of the mean of 2000
    # draws ≈ 0.011, so |mean| < 0.06 fails a correct answer with probability < 1e-6.
    # Without the sign fix the diagonal is biased (numpy's QR makes R's diagonal negative).
    worst = float(np.abs(diagonal.mean(axis=0)).max())
    expect(worst < 0.06, f"mean of the diagonal entries over 2000 draws: up to {worst:.3f} "
           "(a uniform orthogonal matrix has 0)",
           "multiply column j of Q by sign(R[j, j])")


def _relu_net_output_variances(weights: list[np.ndarray], x: np.ndarray) -> list[float]:
    h, variances = x, []
    for index, w in enumerate(weights):
        out = h @ w.T
        variances.append(float(out.var()))
        h = np.maximum(out, 0) if index < len(weights) - 1 else out
    return variances


def check_lsuv_unit_variance(student: ModuleType) -> None:
    """lsuv leaves every layer's output variance within tol of 1, inputs untouched"""
    rng = np.random.default_rng(1)
    sizes = [20, 40, 40, 40, 40, 5]
    weights = [np.linalg.qr(rng.standard_normal((max(a, b), max(a, b))))[0][:b, :a] * 3.0
               for a, b in zip(sizes[:-1], sizes[1:])]
    originals = [w.copy() for w in weights]
    x = rng.standard_normal((200, 20)) * 2.0
    new = student.lsuv(weights, x)
    expect(all(np.array_equal(w, o) for w, o in zip(weights, originals)),
           "the input weights were modified", "work on copies (w.copy())")
    expect(len(new) == len(weights), f"{len(new)} weights returned, expected {len(weights)}",
           "return one weight per layer")
    variances = _relu_net_output_variances(new, x)
    worst = max(abs(v - 1) for v in variances)
    expect(worst < 0.1, "output variances per layer: "
           + ", ".join(f"{v:.3f}" for v in variances),
           "rescale layer k using the output of layers 0…k-1 AFTER their own rescaling; "
           "ReLU between layers, not after the last; Var over all the output's elements "
           "(out.var())")
    for w, o in zip(new, originals):  # LSUV only rescales: each new W is a multiple of the old
        scale = float(np.sum(w * o) / np.sum(o * o))
        expect(np.allclose(w, scale * o, atol=1e-9), "a weight changed direction, not just scale",
               "divide W by a number; do not re-draw it")
