"""Layers: the building blocks of a network (PyTorch's names, shapes and defaults)."""

from __future__ import annotations

import math

import numpy as np

from minigrad.tensor import default_generator
from minigrad.nn import functional as F
from minigrad.nn.module import Module, Parameter
from minigrad.tensor import Tensor


def _uniform(shape: tuple[int, ...], bound: float) -> np.ndarray:
    return default_generator().uniform(-bound, bound, size=shape).astype(np.float32)


class Linear(Module):
    """y = x Wᵀ + b. Input ``(*, in_features)``, output ``(*, out_features)``.

    ``weight`` has shape ``(out_features, in_features)`` as in PyTorch. Default init is
    PyTorch's: weight and bias ~ U(±1/√in_features) (``kaiming_uniform_`` with a=√5).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear: in_features and out_features must be positive, got "
                             f"{in_features} and {out_features}.")
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)
        self.weight = Parameter(_uniform((out_features, in_features), bound))
        self.register_parameter("bias", Parameter(_uniform((out_features,), bound)) if bias else None)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class ReLU(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Identity(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x
