"""Checks for lesson 10's exercises (``python tutorials/check.py 10``)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

import minigrad as mg
from _checks import expect


def _reference(x: np.ndarray, w_x: np.ndarray, b: np.ndarray, w_h: np.ndarray
               ) -> list[np.ndarray]:
    """Hidden states h_1 … h_T of one batch, in float64 NumPy."""
    h = np.zeros((x.shape[0], w_h.shape[0]))
    states = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ w_x.T + b + h @ w_h.T)
        states.append(h)
    return states


def _problem(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(3, 5, 4)), rng.normal(0, 0.5, (6, 4)), rng.normal(0, 0.1, 6),
            rng.normal(0, 0.4, (6, 6)))


def check_elman_forward_values(student: ModuleType) -> None:
    """elman_forward returns h_T of the recurrence (against a NumPy reference)"""
    x, w_x, b, w_h = _problem(0)
    got = student.elman_forward(*(mg.tensor(a) for a in (x, w_x, b, w_h)))
    expect(isinstance(got, mg.Tensor), f"returned {type(got).__name__}, not a Tensor",
           "build the result from minigrad tensors")
    expected = _reference(x, w_x, b, w_h)[-1]
    expect(got.shape == expected.shape, f"shape {got.shape}, expected {expected.shape}",
           "return only the LAST hidden state, (batch, hidden)")
    error = float(np.abs(got.data - expected).max())
    expect(error < 1e-9, f"largest difference from the reference: {error:.3g}",
           "h_0 = 0; x_t = x[:, t, :]; Linear convention: x @ wᵀ (not w @ x)")


def check_elman_forward_gradients(student: ModuleType) -> None:
    """gradients flow to x, w_x, b and w_h (mg.gradcheck, float64)"""
    tensors = [mg.tensor(a, requires_grad=True) for a in _problem(1)]
    try:
        ok = mg.gradcheck(lambda *a: student.elman_forward(*a).sum(), tensors)
    except NotImplementedError:
        raise
    except Exception as error:
        expect(False, f"gradcheck failed: {str(error).splitlines()[0]}",
               "use only minigrad operations: .data or NumPy calls cut the graph")
    expect(bool(ok), "gradcheck returned False",
           "use only minigrad operations: .data or NumPy calls cut the graph")


def check_jacobian_product(student: ModuleType) -> None:
    """jacobian_product gives the singular values of ∂h_T/∂h_{T-d} (finite differences)"""
    x, w_x, b, w_h = _problem(2)
    x = x[:1]
    states = [h[0] for h in _reference(x, w_x, b, w_h)]
    got = student.jacobian_product(states, w_h)
    expect(len(got) == len(states) - 1, f"{len(got)} spectra, expected {len(states) - 1}",
           "one spectrum per distance d = 1 … T − 1")
    eps = 1e-6
    for distance in (1, 3, len(states) - 1):
        start = len(states) - 1 - distance  # index of h_{T-d}
        numeric = np.zeros((w_h.shape[0], w_h.shape[0]))
        for j in range(w_h.shape[0]):
            columns = []
            for sign in (1, -1):
                h = states[start].copy()
                h[j] += sign * eps
                for t in range(start + 1, len(states)):
                    h = np.tanh(x[0, t] @ w_x.T + b + h @ w_h.T)
                columns.append(h)
            numeric[:, j] = (columns[0] - columns[1]) / (2 * eps)
        expected = np.linalg.svd(numeric, compute_uv=False)
        error = float(np.abs(np.sort(got[distance - 1])[::-1] - expected).max())
        expect(error < 1e-5, f"d = {distance}: singular values off by {error:.3g}",
               "∂h_k/∂h_{k−1} = diag(1 − h_k²) w_h; multiply from h_T backwards: "
               "J_T · J_{T−1} · …")
