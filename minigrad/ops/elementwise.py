"""Element-wise ops. Binary ones broadcast like NumPy; the engine sums their gradients
back to each input's shape, so the backward rules below are written as if no
broadcasting happened.

The dtype of a binary op's result is PyTorch's (`result_dtype`), not NumPy's: NumPy makes
``int64 * float32`` float64, and a 0-d float64 tensor times a float32 batch float64, which
would silently turn a float32 model's computation into float64 (PyTorch keeps float32)."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.ops.base import Function
from minigrad.tensor import Tensor, expect_tensor


def as_tensor(value: Any, like: Tensor, op: str = "") -> Tensor:
    """Turn a Python number or array into a constant tensor that does not change `like`'s
    dtype (a Python float next to a float32 tensor stays float32)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, int | float | bool | np.number | np.bool_):
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
    prefix = f"{op}: " if op else ""
    raise TypeError(f"{prefix}cannot combine a Tensor with {type(value).__name__}. "
                    "Fix: use a number, a NumPy array or a Tensor.")


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


class Cast(Function):
    def forward(self, x, dtype):
        self.input_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad_output):
        return (grad_output.astype(self.input_dtype),)


class Clone(Function):
    """A copy of the data that stays in the graph (PyTorch's ``clone``): the gradient passes
    through unchanged, unlike `detach`, which cuts it."""

    def forward(self, x):
        return x.copy()

    def backward(self, grad_output):
        return (grad_output,)


# -- dtype promotion (PyTorch's rules) -------------------------------------------------------

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < integer < floating


def result_dtype(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """The dtype PyTorch gives ``a <op> b`` (its "type promotion" rules, torch.result_type):

    * a 0-d operand (a number, or a 0-d tensor such as a loss) next to one with dimensions
      decides the dtype only if it is of a higher category (bool < integer < float):
      ``float32 batch * float64 scalar`` stays float32, ``int64 batch * float32 scalar`` is
      float32;
    * otherwise the higher category wins with its own dtype (``int64 * float32`` is float32;
      NumPy would give float64), and within one category the wider dtype (float16 + float32
      is float32, int8 + uint8 is int16: NumPy agrees there).
    """
    if bool(a.ndim) != bool(b.ndim):
        dimensioned, zero_dim = (a, b) if a.ndim else (b, a)
        if _CATEGORY[zero_dim.dtype.kind] <= _CATEGORY[dimensioned.dtype.kind]:
            return dimensioned.dtype
        return zero_dim.dtype
    category_a, category_b = _CATEGORY[a.dtype.kind], _CATEGORY[b.dtype.kind]
    if category_a != category_b:
        return a.dtype if category_a > category_b else b.dtype
    return np.result_type(a.dtype, b.dtype)


def common_dtype(tensors: list[Tensor]) -> np.dtype:
    """PyTorch's dtype for joining tensors of one kind of shape (``cat``, ``stack``): the
    highest category wins with its own dtype, the widest within it (``cat([int64, float32])``
    is float32; NumPy would give float64)."""
    dtypes = [t.dtype for t in tensors]
    highest = max(_CATEGORY[dtype.kind] for dtype in dtypes)
    return np.result_type(*(dtype for dtype in dtypes if _CATEGORY[dtype.kind] == highest))


def promoted_all(tensors: list[Tensor]) -> list[Tensor]:
    """`tensors` converted to their `common_dtype` (those that already have it unchanged)."""
    dtype = common_dtype(tensors)
    return [converted(t, dtype) for t in tensors]


def _promoted(a: Tensor, b: Tensor, floating: bool = False) -> tuple[Tensor, Tensor]:
    """`a` and `b` converted to their `result_dtype` (a float dtype, float32 for integers, with
    `floating`: division), so that NumPy computes in the dtype PyTorch would. An operand that
    requires grad goes through `cast` (its gradient is converted back); a constant is
    converted outright."""
    a_dtype, b_dtype = a._data.dtype, b._data.dtype
    if (a_dtype is b_dtype or a_dtype == b_dtype) and (not floating or a_dtype.kind == "f"):
        return a, b  # the usual case: one check
    target = result_dtype(a._data, b._data)
    if floating and target.kind != "f":
        target = np.dtype(np.float32)  # int / int is float32 in PyTorch (NumPy: float64)
    return converted(a, target), converted(b, target)


def converted(x: Tensor, dtype: np.dtype) -> Tensor:
    """`x` as `dtype`: itself if it has it, through `cast` if it requires grad (the gradient
    is converted back), else a converted constant."""
    if x._data.dtype == dtype:
        return x
    if x.requires_grad:
        return cast(x, dtype)
    return Tensor._make(x._data.astype(dtype), None, ())


# -- user-facing functions -------------------------------------------------------------------


def _floating(x: Tensor, op: str) -> Tensor:
    """Integer and bool input to exp, log, ... gives float32, as in PyTorch (NumPy would give
    float16 for bool and int8, float64 for int64)."""
    if expect_tensor(x, op).data.dtype.kind != "f":
        return Tensor._make(x.data.astype(np.float32), None, ())
    return x


def add(a: Tensor, b: Any) -> Tensor:
    return Add.apply(*_promoted(a, as_tensor(b, a, "add")))


def sub(a: Tensor, b: Any) -> Tensor:
    return Sub.apply(*_promoted(a, as_tensor(b, a, "sub")))


def mul(a: Tensor, b: Any) -> Tensor:
    return Mul.apply(*_promoted(a, as_tensor(b, a, "mul")))


def div(a: Tensor, b: Any) -> Tensor:
    return Div.apply(*_promoted(a, as_tensor(b, a, "div"), floating=True))


def pow(base: Tensor, exponent: Any) -> Tensor:
    """``base ** exponent``; a number exponent is a constant of the op, not a graph node."""
    try:
        if isinstance(exponent, int | float | np.number) and not isinstance(exponent, bool):
            if isinstance(exponent, np.generic):  # x ** np.int64(2) keeps x's dtype, like x ** 2
                exponent = exponent.item()
            if isinstance(exponent, float) and base.dtype.kind != "f":  # float32, as in PyTorch
                base = converted(base, np.dtype(np.float32))
            return PowScalar.apply(base, exponent=exponent)
        return Pow.apply(*_promoted(base, as_tensor(exponent, base)))
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
        if bound is not None and not isinstance(bound, int | float | np.number | np.bool_):
            raise TypeError(f"clip: {name} must be a number or None, got "
                            f"{type(bound).__name__}. Fix: e.g. clip(x, min=0.0).")
    return Clip.apply(expect_tensor(x, "clip"), low=min, high=max)


def maximum(a: Tensor, b: Any) -> Tensor:
    """Element-wise larger of `a` (a Tensor) and `b` (a Tensor or a number)."""
    return Maximum.apply(*_promoted(expect_tensor(a, "maximum"), as_tensor(b, a, "maximum")))


def minimum(a: Tensor, b: Any) -> Tensor:
    """Element-wise smaller of `a` (a Tensor) and `b` (a Tensor or a number)."""
    return Minimum.apply(*_promoted(expect_tensor(a, "minimum"), as_tensor(b, a, "minimum")))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Pick `a` where `condition` holds, else `b` (all three broadcast together)."""
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition)
    if condition.dtype != np.bool_:
        raise TypeError(f"where: condition must be boolean, got dtype {condition.dtype}. "
                        "Fix: compare first, e.g. where(x > 0, x, 0).")
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else Tensor(a)
    return Where.apply(*_promoted(as_tensor(a, like), as_tensor(b, like)), condition=condition)


def cast(x: Tensor, dtype: Any) -> Tensor:
    """A copy of `x` as `dtype` (``x.astype``, ``x.to``); a Tensor holds numbers only."""
    requested = dtype
    try:
        dtype = None if dtype is None else np.dtype(dtype)  # np.dtype(None) would be float64
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "biuf" or dtype.fields is not None:
        raise TypeError(f"astype: a Tensor holds numbers, so dtype {requested!r:.40} is not "
                        "supported. Fix: use a float, int or bool dtype (np.float32, np.int64, "
                        "...); for text, convert the array: x.numpy().astype(str).")
    if x.requires_grad and dtype.kind != "f":
        return Tensor._make(x.data.astype(dtype), None, ())  # integers carry no gradient
    return Cast.apply(x, dtype=dtype)


def clone(x: Tensor) -> Tensor:
    """A differentiable copy: new memory, same graph (``detach().clone()`` for a plain copy)."""
    return Clone.apply(x)
