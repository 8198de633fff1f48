"""Lesson 2's exercises. Replace each ``raise NotImplementedError`` with your code, then run

    python tutorials/check.py 2

Reference answers: tutorials/solutions/02_tensors.py.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops import Function


def matmul_backward(a: np.ndarray, b: np.ndarray, grad_c: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """For C = A @ B with A (n, k), B (k, m) and the gradient dL/dC (n, m), return
    (dL/dA, dL/dB) with NumPy. Hint: match the shapes."""
    raise NotImplementedError("matmul_backward")


def bias_backward(grad_out: np.ndarray) -> np.ndarray:
    """For out = x + bias with x (batch, features) and bias (features,) broadcast over the
    batch, return dL/dbias from dL/dout (batch, features)."""
    raise NotImplementedError("bias_backward")


class Softplus(Function):
    """softplus(x) = log(1 + exp(x)), elementwise, as a minigrad op: ``Softplus.apply(t)``.

    forward(x) gets a NumPy array and returns one; backward(grad_output) returns a tuple with
    one gradient per input. Save what backward needs on ``self`` in forward. Its derivative is
    the sigmoid. Keep it stable for large |x| (np.logaddexp(0, x) computes log(1 + eˣ) safely).

    The check judges the values, forward and gradient, at x = ±800: finite and right. It
    does not judge NumPy's warnings: ``np.where(x > 0, a, b)`` computes both `a` and `b`
    everywhere, so it may warn of an overflow in the branch it then throws away — harmless
    when the values kept are right, though a form that never overflows (logaddexp) is cleaner.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError("Softplus.forward")

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray]:
        raise NotImplementedError("Softplus.backward")
