"""Matrix product (NumPy's rules for 1-D and batched operands), the fused linear layer, and
vector norms."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.ops.base import Function, ShapeError, sum_to_shape
from minigrad.ops.reduce import reduced_axes
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
        if x.ndim != 2:  # flatten the batch axes
            grad_output = grad_output.reshape(-1, grad_output.shape[-1])
            x = x.reshape(-1, x.shape[-1])
        grad_weight = grad_output.T @ x
        if self.has_bias:  # np.add.reduce: what .sum() calls, minus a Python wrapper (~1 µs)
            return grad_x, grad_weight, np.add.reduce(grad_output, axis=0)
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
    if a._data.dtype != b._data.dtype:  # as PyTorch: promoting would silently compute in
        # float64 (int64 @ float32, float32 @ float64: NumPy's rules), a float32 model too
        raise TypeError(
            f"matmul: the operands have dtypes {a.dtype} and {b.dtype} (shapes {a.shape} and "
            f"{b.shape}); both must have the same dtype (PyTorch: expected m1 and m2 to have "
            f"the same dtype). Fix: convert one, e.g. a.astype(np.{b.dtype}) @ b, or "
            f"a @ b.astype(np.{a.dtype}).")
    return MatMul.apply(a, b)


class Norm(Function):
    """Vector p-norm over `axes`: ‖x‖_p = (Σ |x|^p)^(1/p); p = inf is max |x|, -inf min |x|,
    p = 0 the number of non-zeros.

    d‖x‖_p / dx = sign(x) |x|^(p-1) / ‖x‖_p^(p-1) (for p = 2: x / ‖x‖). At ‖x‖ = 0 that is
    0/0 and, as in PyTorch, the gradient is 0 — the same subgradient choice as relu at 0.
    For p = ±inf the gradient is split equally among the elements that attain the norm.
    """
    saves_output = True

    def forward(self, x, p, axes, keepdims):
        self.x, self.p, self.axes, self.keepdims = x, p, axes, keepdims
        magnitude = np.abs(x)
        if p == 2:
            out = np.sqrt((x * x).sum(axis=axes, keepdims=True))
        elif p == np.inf:
            out = magnitude.max(axis=axes, keepdims=True)
        elif p == -np.inf:
            out = magnitude.min(axis=axes, keepdims=True)
        elif p == 0:
            out = (x != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        else:
            out = (magnitude**p).sum(axis=axes, keepdims=True) ** (1 / p)
        self.out = out  # kept with the reduced axes: it broadcasts against x in backward
        return out if keepdims else np.squeeze(out, axis=axes)

    def backward(self, grad_output):
        x, p, out = self.x, self.p, self.out
        grad = grad_output if self.keepdims else np.expand_dims(grad_output, self.axes)
        if p == 0:
            return (np.zeros_like(x),)
        if p in (np.inf, -np.inf):
            attains = (np.abs(x) == out).astype(x.dtype)
            return (grad * np.sign(x) * attains / attains.sum(axis=self.axes, keepdims=True),)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                scaled = x / out
            else:
                # |x|^(p-1) is infinite at x = 0 when p < 1; that element gets 0, as in PyTorch
                power = np.where(x == 0, 0, np.abs(x) ** (p - 1))
                scaled = np.sign(x) * power / out ** (p - 1)
        return (grad * np.where(out == 0, 0, scaled),)


def norm(x: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """PyTorch's ``Tensor.norm``: the vector p-norm of the elements over `dim` (an int, a
    tuple, or None for all of them). ``p``: ``"fro"`` (default) or 2 — the Euclidean norm —,
    any positive number, ``float("inf")``, ``-inf`` or 0. Shape: the input's without `dim`
    (kept as size 1 with ``keepdim=True``). Gradient 0 where the norm is 0."""
    if p == "fro":
        p = 2
    if isinstance(p, str) or isinstance(p, bool) or not isinstance(p, int | float | np.number):
        raise ValueError(f"norm: p={p!r} is not supported. Fix: use 'fro', a positive number, "
                         "float('inf'), -float('inf') or 0 (matrix norms like 'nuc' are not "
                         "implemented).")
    if p < 0 and p != -np.inf:
        raise ValueError(f"norm: p={p} is not supported. Fix: use a positive p, inf, -inf or 0.")
    if x.dtype.kind != "f":
        raise TypeError(f"norm: expected a floating-point tensor, got dtype {x.dtype}. "
                        "Fix: convert it first with .float().")
    axes = reduced_axes(dim, x.ndim, "norm") if x.ndim else ()
    if x.data.size == 0 and p in (np.inf, -np.inf):
        raise ShapeError(f"norm: the {p}-norm of an empty tensor of shape {x.shape} is "
                         "undefined.")
    return Norm.apply(x, p=float(p), axes=axes, keepdims=bool(keepdim))
