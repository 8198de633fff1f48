"""``tril`` and ``triu``: the lower (upper) triangle of each matrix, the rest set to zero
(causal attention masks, triangular factors).

The last two axes are the matrix; any axes before them are a batch. ``diagonal`` moves the
boundary as in PyTorch (and ``numpy.tril``): 0 is the main diagonal, 1 keeps one diagonal
more above it, -1 one less. The result is chosen with ``where``, not by multiplying with a
0/1 mask: ``-inf * 0`` would be NaN. The gradient passes where the element was kept and is
0 elsewhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.ops.base import Function, ShapeError
from minigrad.tensor import Tensor, expect_tensor


class _Triangle(Function):
    lower = True

    def forward(self, x, diagonal):
        rows, cols = x.shape[-2:]
        # np.tri: True on and below diagonal k; the upper triangle from k is its complement
        # from k - 1
        self.keep = (np.tri(rows, cols, diagonal, dtype=bool) if self.lower
                     else ~np.tri(rows, cols, diagonal - 1, dtype=bool))
        return np.where(self.keep, x, np.zeros((), x.dtype))

    def backward(self, grad_output):
        return (np.where(self.keep, grad_output, np.zeros((), grad_output.dtype)),)


class Tril(_Triangle):
    lower = True


class Triu(_Triangle):
    lower = False


def _triangle(x: Tensor, diagonal: Any, op_class: type[_Triangle]) -> Tensor:
    op = op_class.name
    expect_tensor(x, op)
    if isinstance(diagonal, bool) or not isinstance(diagonal, int | np.integer):
        raise TypeError(f"{op}: diagonal must be an int, got {type(diagonal).__name__} "
                        f"{diagonal!r:.40}. Fix: 0 for the main diagonal, 1 above it, -1 "
                        "below it.")
    if x.ndim < 2:
        raise ShapeError(f"{op}: the input must have at least 2 dimensions (a matrix, or a "
                         f"batch of them), got shape {x.shape}. Fix: x.reshape(1, -1) or "
                         "x.unsqueeze(0) for a row.")
    return op_class.apply(x, diagonal=int(diagonal))


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """``x.tril(diagonal=0)``: each matrix's elements on and below `diagonal`, zeros above
    (PyTorch's ``tril``; the last two axes, batches allowed)."""
    return _triangle(x, diagonal, Tril)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """``x.triu(diagonal=0)``: each matrix's elements on and above `diagonal`, zeros below."""
    return _triangle(x, diagonal, Triu)
