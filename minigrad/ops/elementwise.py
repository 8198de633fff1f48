"""Element-wise ops other than arithmetic: functions of one input (exp, log, sqrt, the
activations tanh, sigmoid, relu and leaky_relu, abs), clip, the element-wise choices
(maximum, minimum, where) and clone. Binary ones broadcast like NumPy; the engine sums
their gradients back to each input's shape, so the backward rules below are written as if
no broadcasting happened.

The dtype of a binary op's result is PyTorch's, not NumPy's (`minigrad.ops.promotion`).
The arithmetic ops (``+ - * / **``, unary ``-``) and the conversion of a number beside a
tensor (`as_tensor`) are in `minigrad.ops.arithmetic`; they are re-exported here, so
``from minigrad.ops.elementwise import add`` (or `as_tensor`, `cast`, ...) still works.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.ops.arithmetic import (  # noqa: F401 (re-exported: see the docstring)
    Add,
    Div,
    Mul,
    Neg,
    Pow,
    PowScalar,
    Sub,
    add,
    as_tensor,
    div,
    is_real_number,
    mul,
    neg,
    pow,
    refuse_bool_subtraction,
    refuse_non_real,
    sub,
)
from minigrad.ops.base import Function
from minigrad.ops.promotion import cast, converted, promoted  # noqa: F401 (cast: re-exported)
from minigrad.tensor import Tensor, expect_tensor

# -- functions of one input ----------------------------------------------------------------


class Exp(Function):
    saves_output = True
    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, grad_output):
        return (grad_output * self.out,)


class Log(Function):
    def forward(self, x):
        self.x = x
        with np.errstate(divide="ignore", invalid="ignore"):  # IEEE results; anomaly mode reports
            return np.log(x)

    def backward(self, grad_output):
        return (grad_output / self.x,)


class Sqrt(Function):
    saves_output = True
    def forward(self, x):
        with np.errstate(invalid="ignore"):
            self.out = np.sqrt(x)
        return self.out

    def backward(self, grad_output):
        return (grad_output / (2 * self.out),)


class Tanh(Function):
    saves_output = True
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad_output):
        return (grad_output * (1 - self.out * self.out),)


class Sigmoid(Function):
    saves_output = True
    def forward(self, x):
        # 1/(1+e^-x) overflows for very negative x, and (1 + tanh(x/2))/2 loses every digit
        # there (1 + tanh rounds to 0 below about -17 in float32: log(sigmoid) then -inf).
        # With e = e^-|x| ≤ 1 nothing overflows: 1/(1+e) for x ≥ 0, e/(1+e) below.
        e = np.exp(-np.abs(x))
        self.out = np.where(x >= 0, 1, e) / (1 + e)
        return self.out

    def backward(self, grad_output):
        return (grad_output * self.out * (1 - self.out),)


class ReLU(Function):
    name = "relu"
    saves_output = True

    def forward(self, x):
        # Keep the output (the node's own data, held by the graph anyway), not an x > 0
        # mask: a mask is a quarter of an activation more memory, kept until the graph dies.
        self.out = np.maximum(x, 0)
        return self.out

    def backward(self, grad_output):
        return (grad_output * (self.out > 0),)  # out > 0 exactly where x > 0


class LeakyReLU(Function):
    name = "leaky_relu"

    def forward(self, x, negative_slope=0.01):
        self.slope = np.where(x > 0, 1, negative_slope).astype(x.dtype, copy=False)
        return x * self.slope

    def backward(self, grad_output):
        return (grad_output * self.slope,)


class Abs(Function):
    def forward(self, x):
        self.sign = np.sign(x)
        return np.abs(x)

    def backward(self, grad_output):
        return (grad_output * self.sign,)


class Clip(Function):
    """Clamp to [low, high]; the gradient passes only where the input was inside."""

    def forward(self, x, low=None, high=None):
        self.inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            self.inside &= x >= low
        if high is not None:
            self.inside &= x <= high
        out = np.clip(x, low, high)
        if x.dtype.kind != "f":  # integers with a float bound become floats, as in PyTorch
            # (cast back, clamp(min=0.5) would leave 0 below the bound): float32, its default
            return out.astype(np.float32) if out.dtype.kind == "f" else out
        return out.astype(x.dtype, copy=False)  # np.float64 bounds: keep the float dtype

    def backward(self, grad_output):
        return (grad_output * self.inside,)


class Maximum(Function):
    """Element-wise maximum; at ties the gradient is split equally, as in PyTorch."""

    def forward(self, a, b):
        out = np.maximum(a, b)
        self.share_a = ((a > b) + 0.5 * (a == b)).astype(out.dtype)
        return out

    def backward(self, grad_output):
        return grad_output * self.share_a, grad_output * (1 - self.share_a)


class Minimum(Function):
    """Element-wise minimum; at ties the gradient is split equally, as in PyTorch."""

    def forward(self, a, b):
        out = np.minimum(a, b)
        self.share_a = ((a < b) + 0.5 * (a == b)).astype(out.dtype)
        return out

    def backward(self, grad_output):
        return grad_output * self.share_a, grad_output * (1 - self.share_a)


class Where(Function):
    """``condition ? a : b``; `condition` is a constant boolean array."""

    def forward(self, a, b, condition):
        self.condition = condition
        return np.where(condition, a, b)

    def backward(self, grad_output):
        zero = np.zeros((), grad_output.dtype)
        return (np.where(self.condition, grad_output, zero),
                np.where(self.condition, zero, grad_output))


class Clone(Function):
    """A copy of the data that stays in the graph (PyTorch's ``clone``): the gradient passes
    through unchanged, unlike `detach`, which cuts it."""

    def forward(self, x):
        return x.copy()

    def backward(self, grad_output):
        return (grad_output,)


# -- user-facing functions -------------------------------------------------------------------


def _floating(x: Tensor, op: str) -> Tensor:
    """Integer and bool input to exp, log, ... gives float32, as in PyTorch (NumPy would give
    float16 for bool and int8, float64 for int64)."""
    if expect_tensor(x, op).data.dtype.kind != "f":
        return Tensor._make(x.data.astype(np.float32), None, ())
    return x


def exp(x: Tensor) -> Tensor:
    return Exp.apply(_floating(x, "exp"))


def log(x: Tensor) -> Tensor:
    return Log.apply(_floating(x, "log"))


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(_floating(x, "sqrt"))


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(_floating(x, "tanh"))


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(_floating(x, "sigmoid"))


def relu(x: Tensor) -> Tensor:
    return ReLU.apply(expect_tensor(x, "relu"))


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    if expect_tensor(x, "leaky_relu").dtype.kind != "f":  # 0.01 * -1 would round to 0
        raise TypeError(f"leaky_relu: expected a floating-point input, got dtype {x.dtype}. "
                        "Fix: convert it with .float().")
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def abs(x: Tensor) -> Tensor:  # noqa: A001 (mirrors numpy.abs / torch.abs)
    if expect_tensor(x, "abs").dtype == np.bool_:  # as PyTorch: |True| is not a number
        raise TypeError("abs: not defined for a bool tensor. Fix: convert it first, "
                        "x.astype(np.float32).")
    return Abs.apply(x)


def clip(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Clamp to [min, max] (either may be None), like ``torch.clamp``."""
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max.")
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and not is_real_number(bound):
            raise TypeError(f"clip: {name} must be a real number or None, got "
                            f"{type(bound).__name__}: a Tensor holds real numbers. Fix: e.g. "
                            "clip(x, min=0.0).")
    return Clip.apply(expect_tensor(x, "clip"), low=min, high=max)


def maximum(a: Tensor, b: Any) -> Tensor:
    """Element-wise larger of `a` (a Tensor) and `b` (a Tensor or a number)."""
    return Maximum.apply(*promoted(expect_tensor(a, "maximum"), as_tensor(b, a, "maximum")))


def minimum(a: Tensor, b: Any) -> Tensor:
    """Element-wise smaller of `a` (a Tensor) and `b` (a Tensor or a number)."""
    return Minimum.apply(*promoted(expect_tensor(a, "minimum"), as_tensor(b, a, "minimum")))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Pick `a` where `condition` holds, else `b` (all three broadcast together)."""
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition)
    if condition.dtype != np.bool_:
        raise TypeError(f"where: condition must be boolean, got dtype {condition.dtype}. "
                        "Fix: compare first, e.g. where(x > 0, x, 0).")
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else Tensor(a)
    return Where.apply(*promoted(as_tensor(a, like, "where"), as_tensor(b, like, "where")),
                       condition=condition)


def clone(x: Tensor) -> Tensor:
    """A differentiable copy: new memory, same graph (``detach().clone()`` for a plain copy)."""
    return Clone.apply(x)
