"""Element-wise ops. Binary ones broadcast like NumPy; the engine sums their gradients
back to each input's shape, so the backward rules below are written as if no
broadcasting happened.

The dtype of a binary op's result is PyTorch's, not NumPy's (`minigrad.ops.promotion`).
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np

from minigrad.ops.base import Function
from minigrad.ops.promotion import cast, converted, promoted  # noqa: F401 (cast: re-exported)
from minigrad.tensor import Tensor, expect_tensor


def is_real_number(value: Any) -> bool:
    """Whether `value` is a number a Tensor can hold: a Python bool, int or float, or a NumPy
    one of at most 64 bits (not complex, np.longdouble, datetime64, str_...: PyTorch's CPU
    float types stop at float64)."""
    if isinstance(value, np.generic):
        return value.dtype.kind in "biuf" and value.dtype.itemsize <= 8
    return isinstance(value, int | float)  # (bool is an int)


def refuse_non_real(value: Any, op: str) -> NoReturn:
    """A TypeError naming `op` and the fix for a number a Tensor cannot hold (1j)."""
    prefix = f"{op}: " if op else ""
    if isinstance(value, np.floating):  # np.longdouble: real, but wider than any tensor dtype
        raise TypeError(f"{prefix}cannot combine a Tensor with {type(value).__name__}: tensors "
                        "hold floats of at most 64 bits (as PyTorch's CPU tensors). Fix: "
                        "convert it, float(value).")
    raise TypeError(f"{prefix}cannot combine a Tensor with {type(value).__name__}: a Tensor "
                    "holds real numbers. Fix: use a bool, int or float number (value.real for "
                    "a complex one), a NumPy array of them or a Tensor.")


def as_tensor(value: Any, like: Tensor, op: str = "") -> Tensor:
    """Turn a Python number or array into a constant tensor that does not change `like`'s
    dtype (a Python float next to a float32 tensor stays float32)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, int | float | np.generic):
        if not is_real_number(value):
            refuse_non_real(value, op)
        if isinstance(value, np.generic):  # NumPy scalars count as Python numbers, as in PyTorch
            value = value.item()
        try:
            if isinstance(value, float) and like.data.dtype.kind != "f":
                dtype = np.dtype(np.float32)  # PyTorch's default dtype (NumPy: float64)
            else:
                dtype = np.result_type(like.data.dtype, value)
            return Tensor._make(np.asarray(value, dtype=dtype), None, ())
        except OverflowError:  # NumPy 2 refuses 300 for uint8; Python's error names no op
            prefix = f"{op}: " if op else ""
            raise ValueError(f"{prefix}the number {value!r:.40} does not fit the tensor's dtype "
                             f"{like.dtype}. Fix: convert the tensor first, e.g. x.long() or "
                             "x.double().") from None
    if isinstance(value, np.ndarray | list | tuple):
        return Tensor(value)
    refuse_non_real(value, op)


# -- arithmetic --------------------------------------------------------------------------


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad_output):
        return grad_output, grad_output


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, grad_output):
        return grad_output, -grad_output


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad_output):
        return grad_output * self.b, grad_output * self.a


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        with np.errstate(divide="ignore", invalid="ignore"):  # IEEE results; anomaly mode reports
            return a / b

    def backward(self, grad_output):
        grad_a = grad_output / self.b
        return grad_a, -grad_a * self.a / self.b


class Pow(Function):
    """a ** b with a tensor exponent: d/da = b a^(b-1), d/db = a^b ln a (0 where a <= 0)."""
    saves_output = True

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, grad_output):
        with np.errstate(divide="ignore", invalid="ignore"):
            # b a^(b-1) is 0 * inf at a = 0, b = 0; a^0 is constant, so its derivative is 0.
            grad_a = grad_output * np.where(self.b == 0, 0, self.b * self.a ** (self.b - 1))
            log_a = np.where(self.a > 0, np.log(np.where(self.a > 0, self.a, 1)), 0)
        return grad_a, grad_output * self.out * log_a


class PowScalar(Function):
    """x ** p for a constant number p."""

    name = "pow"

    def forward(self, x, exponent):
        self.x, self.exponent = x, exponent
        return x**exponent

    def backward(self, grad_output):
        if self.exponent == 0:  # x^0 is constant (0 * 0^-1 would give NaN at x = 0)
            return (np.zeros_like(grad_output),)
        return (grad_output * self.exponent * self.x ** (self.exponent - 1),)


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, grad_output):
        return (-grad_output,)


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
        # 1/(1+e^-x) overflows for very negative x; (1 + tanh(x/2))/2 is the same function
        # and finite everywhere.
        self.out = 0.5 * (1 + np.tanh(0.5 * x))
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


def add(a: Tensor, b: Any) -> Tensor:
    return Add.apply(*promoted(a, as_tensor(b, a, "add")))


def sub(a: Tensor, b: Any) -> Tensor:
    refuse_bool_subtraction(a, b)
    return Sub.apply(*promoted(a, as_tensor(b, a, "sub")))


def refuse_bool_subtraction(a: Tensor, b: Any) -> None:
    """As PyTorch: ``a - b`` (and ``a -= b``, ``a.sub_(b)``) with a bool operand (a mask, a
    bool array, True) is refused, as NumPy refuses mask - mask: True - True would be 0 but
    True - False 1, which is rarely what was meant. (PyTorch takes np.True_ as the number 1.)"""
    if isinstance(b, bool) or a._data.dtype.kind == "b" or (
            isinstance(b, Tensor | np.ndarray) and b.dtype.kind == "b"):
        raise TypeError("sub: subtraction, the `-` operator, with a bool tensor or number is not "
                        "supported (as in PyTorch). Fix: for masks use `^` (either but not "
                        "both) or `~` (not), e.g. a & ~b; for numbers convert first, x.long() "
                        "or x.float().")


def mul(a: Tensor, b: Any) -> Tensor:
    return Mul.apply(*promoted(a, as_tensor(b, a, "mul")))


def div(a: Tensor, b: Any) -> Tensor:
    return Div.apply(*promoted(a, as_tensor(b, a, "div"), floating=True))


def pow(base: Tensor, exponent: Any) -> Tensor:
    """``base ** exponent``; a number exponent is a constant of the op, not a graph node."""
    try:
        if isinstance(exponent, np.generic) and not is_real_number(exponent):
            refuse_non_real(exponent, "pow")
        if isinstance(exponent, int | float | np.number) and not isinstance(exponent, bool):
            if isinstance(exponent, np.generic):  # x ** np.int64(2) keeps x's dtype, like x ** 2
                exponent = exponent.item()
            if isinstance(exponent, float) and base.dtype.kind != "f":  # float32, as in PyTorch
                base = converted(base, np.dtype(np.float32))
            elif base.dtype.kind == "b":  # mask ** 2 is int64, as in PyTorch (NumPy: int8)
                base = converted(base, np.dtype(np.int64))
            return PowScalar.apply(base, exponent=exponent)
        exponent = as_tensor(exponent, base, "pow")
        if base.dtype.kind == "b" and exponent.dtype.kind == "b":  # NumPy: int8
            raise TypeError("pow: a bool tensor to a bool power is not supported (PyTorch "
                            "refuses it for two bool tensors). Fix: convert the base first, "
                            "x.long() ** n, or use the mask itself (x ** True is x).")
        return Pow.apply(*promoted(base, exponent))
    except ValueError as error:  # NumPy's, wrapped by Function.apply with a shape hint
        if "negative integer powers" not in str(error):
            raise
        raise ValueError(f"pow: integers to negative integer powers are not allowed (as in "
                         f"PyTorch; base dtype {base.dtype}). Fix: convert the base to floats "
                         "first, e.g. x.float() ** -1.") from None


def neg(x: Tensor) -> Tensor:
    return Neg.apply(x)


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
