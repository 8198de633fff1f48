"""SiLU (also called swish): x·σ(x), the activation of many modern networks (EfficientNet,
the feed-forward blocks of LLaMA-style transformers).

d/dx x·σ(x) = σ(x) + x·σ(x)(1 − σ(x)) = σ(x)·(1 + x·(1 − σ(x))). σ is computed as
`Sigmoid` does, without overflow for large |x|. At x = -inf the value is -inf·0 = NaN, as
in PyTorch; NumPy's "invalid value" warning about it is silenced (the NaN is the answer,
not an accident of the computation).
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Function
from minigrad.tensor import Tensor, expect_tensor


class SiLU(Function):
    name = "silu"

    def forward(self, x):
        e = np.exp(-np.abs(x))  # <= 1: no overflow (see Sigmoid)
        self.x = x
        self.sigmoid = np.where(x >= 0, 1, e) / (1 + e)
        with np.errstate(invalid="ignore"):  # -inf · 0 at x = -inf: NaN, as PyTorch's
            return x * self.sigmoid

    def backward(self, grad_output):
        s = self.sigmoid
        with np.errstate(invalid="ignore"):  # ±inf · 0: NaN, as PyTorch's
            return (grad_output * (s * (1 + self.x * (1 - s))),)


def silu(x: Tensor) -> Tensor:
    """x·sigmoid(x), element-wise (PyTorch's ``F.silu``)."""
    if expect_tensor(x, "silu").dtype.kind != "f":  # as PyTorch: not for integers
        raise TypeError(f"silu: expected a floating-point input, got dtype {x.dtype}. Fix: "
                        "convert it with .float().")
    return SiLU.apply(x)
