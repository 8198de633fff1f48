"""Arithmetic: the ops behind ``+ - * / **`` and unary ``-`` on tensors (`Add` ... `Neg`),
the functions the Tensor operators call (`add` ... `neg`), and how a number or array beside
a tensor becomes an operand of the tensor's dtype (`as_tensor`) or is refused
(`refuse_non_real`, `refuse_bool_subtraction`).

Binary ops broadcast like NumPy; the engine sums their gradients back to each input's
shape, so the backward rules below are written as if no broadcasting happened. The dtype of
a binary op's result is PyTorch's, not NumPy's (`minigrad.ops.promotion`).

The other element-wise ops (exp, log, the activations, clip, maximum, where, ...) are in
`minigrad.ops.elementwise`, which also re-exports every name here.
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np

from minigrad.ops.base import Function
from minigrad.ops.promotion import converted, promoted
from minigrad.tensor import Tensor

# -- operands: a number or array beside a tensor -----------------------------------------


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
        a, b = self.a, self.b
        grad_a = grad_output / b
        # d/db = -g·(a/b)/b, as PyTorch: -(g/b)·a/b is inf · 0 = NaN for a = 0, b tiny
        return grad_a, -grad_output * (a / b) / b


class Pow(Function):
    """a ** b with a tensor exponent: d/da = b a^(b-1), d/db = a^b ln a.

    As in PyTorch, d/db is NaN where a < 0 (ln a is not real: a^b is not differentiable in
    b there, and a silent 0 would hide it), and 0 where a = 0 and b >= 0 (a^b is constant
    0, or 1 at b = 0, near such b); at a = 0 with b < 0 it is inf · (-inf) = -inf.
    """
    saves_output = True

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, grad_output):
        a, b = self.a, self.b
        grad_b = None
        with np.errstate(divide="ignore", invalid="ignore"):
            # b a^(b-1) is 0 * inf at a = 0, b = 0; a^0 is constant, so its derivative is 0.
            grad_a = grad_output * np.where(b == 0, 0, b * a ** (b - 1))
            if self.needs_input_grad[1]:
                # (grad_output outside the mask: a NaN arriving stays NaN, as in PyTorch)
                grad_b = grad_output * np.where((a == 0) & (b >= 0), 0, self.out * np.log(a))
        return grad_a, grad_b


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


# -- user-facing functions -------------------------------------------------------------------


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
