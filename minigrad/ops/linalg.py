"""Matrix product, with NumPy's rules for 1-D and batched operands."""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Function, ShapeError, sum_to_shape
from minigrad.tensor import Tensor


class MatMul(Function):
    """``a @ b``. For C = A B: dA = dC Bᵀ and dB = Aᵀ dC.

    A 1-D operand is treated as a row (left) or column (right) vector and that axis is
    dropped from the result, exactly as `numpy.matmul` does; batch axes broadcast.
    """

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"matmul: operands must have at least 1 dimension, got shapes "
                             f"{a.shape} and {b.shape}. Fix: use * for scalars.")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
            raise ShapeError(
                f"matmul: shapes {a.shape} and {b.shape} do not match: the last axis of the "
                f"first ({a.shape[-1]}) must equal the "
                f"{'second-to-last' if b.ndim > 1 else 'only'} "
                f"axis of the second ({inner_b}). Fix: transpose an operand (.T) or check the "
                "layer sizes."
            )
        self.a_shape, self.b_shape = a.shape, b.shape
        # Work on at-least-2-D views; remember which vector axes to drop again.
        self.a = a[None, :] if a.ndim == 1 else a
        self.b = b[:, None] if b.ndim == 1 else b
        return np.matmul(a, b)

    def backward(self, grad_output):
        a, b = self.a, self.b
        # The output of the at-least-2-D views: grad_output with the dropped vector axes put
        # back (a reshape also covers vector @ vector, whose grad_output is 0-d).
        batch_shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        grad = grad_output.reshape(batch_shape + (a.shape[-2], b.shape[-1]))
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = np.matmul(grad, np.swapaxes(b, -1, -2))
            grad_a = sum_to_shape(grad_a, a.shape).reshape(self.a_shape)
        if self.needs_input_grad[1]:
            grad_b = np.matmul(np.swapaxes(a, -1, -2), grad)
            grad_b = sum_to_shape(grad_b, b.shape).reshape(self.b_shape)
        return grad_a, grad_b


class Linear(Function):
    """``x @ weight.T + bias``, PyTorch's layout: weight ``(out, in)``, x ``(*, in)``.

    One node instead of three (transpose, matmul, add), for speed and a tidier graph.
    With G = dL/dy and the batch axes flattened: dx = G W, dW = Gᵀ x, db = Σ_batch G.
    """

    def forward(self, x, weight, bias=None):
        self.x, self.weight, self.has_bias = x, weight, bias is not None
        out = x @ weight.T
        if bias is not None:
            out += bias  # `out` is a fresh array: adding in place saves a temporary
        return out

    def backward(self, grad_output):
        x = self.x
        # The first layer's input is the data: computing its gradient would cost as much
        # as a whole layer's matrix product, for nothing.
        grad_x = grad_output @ self.weight if self.needs_input_grad[0] else None
        flat_grad = grad_output.reshape(-1, grad_output.shape[-1])
        grad_weight = flat_grad.T @ x.reshape(-1, x.shape[-1])
        if self.has_bias:
            return grad_x, grad_weight, flat_grad.sum(axis=0)
        return grad_x, grad_weight


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` as one op (see `Linear`)."""
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` (either may be an array-like; see `MatMul` for the 1-D and batched rules)."""
    a = a if isinstance(a, Tensor) else Tensor(a)
    b = b if isinstance(b, Tensor) else Tensor(b)
    return MatMul.apply(a, b)
