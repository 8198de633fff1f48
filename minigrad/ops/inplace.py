"""In-place updates: the operators ``t += x`` (and ``-=``, ``*=``, ``/=``, ``**=``) and
PyTorch's in-place methods ``add_``, ``sub_``, ``mul_``, ``div_``, ``clamp_``, ``fill_``,
``zero_`` and ``copy_``.

Outside the graph (under ``no_grad()``, as in ``p -= lr * p.grad`` or
``p.add_(p.grad, alpha=-lr)``, or when nothing requires grad) they change the tensor's own
array, keep its shape and dtype, and record the write: a graph that saved the tensor (or a
view of it) refuses backward, as for ``t.data -= x``. A leaf that requires grad is refused
while the graph is recorded, as in PyTorch.

Inside the graph (the tensor or the value requires grad, grad mode on) PyTorch would write
in place and extend the graph; minigrad keeps graphs immutable. The *operators* then give
the out-of-place result (``t = t + x``: other names for the old tensor keep its old value;
without this Python rebound ``p -= lr * p.grad`` to a new tensor and the parameter was
silently never updated). The *methods* are refused with that fix instead: ``h.add_(x)``
returning a new tensor would leave ``h`` itself unchanged, silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.dtypes import holds
from minigrad.ops.elementwise import is_real_number, refuse_bool_subtraction
from minigrad.tensor import Tensor, writeable_data


def _in_graph(self: Tensor, other: Any) -> bool:
    """Whether an in-place update of `self` by `other` would have to enter the graph."""
    return autograd.is_grad_enabled() and (
        self.requires_grad or (isinstance(other, Tensor) and other.requires_grad))


def _refuse_a_leaf(self: Tensor, name: str) -> None:
    if self.requires_grad and not self._parents:
        raise RuntimeError(
            f"{name}: a leaf tensor that requires grad is being used in an in-place operation "
            "(PyTorch refuses it too). Fix: update it inside `with mg.no_grad():` "
            "(p -= lr * p.grad), or write a new tensor (p = p - x).")


def _plain(value: Any) -> Any:
    """The array or number behind `value` (a NumPy number is weak, as in ``t + x``)."""
    value = value.data if isinstance(value, Tensor) else value
    return value.item() if isinstance(value, np.generic) else value


_OPERATOR_OF = {"add_": "+", "sub_": "-", "mul_": "*", "div_": "/"}  # (for the fix's t = t + x)


def _write(self: Tensor, name: str, update: Callable[[np.ndarray], Any], other: Any) -> Tensor:
    """Run ``update(array)`` on the tensor's own array, with NumPy's errors named and
    fixed, and record the write."""
    array = writeable_data(self, name)
    try:
        update(array)
    except OverflowError:  # a Python int the integer dtype cannot hold (uint8 += 300)
        wider = "float64" if self.dtype.kind == "f" else "int64"
        convert = ("" if self.dtype == np.dtype(wider) else
                   f", or convert the tensor first (t.data = t.data.astype(np.{wider}))")
        raise ValueError(
            f"{name}: {other!r:.40} does not fit the tensor's dtype {self.dtype}. Fix: a number "
            f"inside the dtype's range{convert}.") from None
    except (TypeError, ValueError) as error:  # dtype or shape: NumPy's message, no fix
        other_shape = getattr(other, "shape", ())
        symbol = _OPERATOR_OF.get(name, name.rstrip("="))
        fix = ("convert the tensor to floats first (t.data = t.data.astype(np.float32))"
               if "negative integer powers" in str(error) else
               "the result must keep the tensor's shape and dtype (NumPy's same-kind rule: "
               "PyTorch would cast some of these); otherwise write a new tensor "
               f"(t = t {symbol} x)")
        raise (TypeError if isinstance(error, TypeError) else ValueError)(
            f"{name}: cannot update a tensor of shape {self.shape} ({self.dtype}) in place "
            f"with {type(other).__name__} of shape {other_shape}: "
            f"{str(error).rstrip('.')}. Fix: {fix}.") from None
    self.data = array  # the same array assigned back: records the write
    return self


def in_place_operator(ufunc: Any, symbol: str) -> Any:
    """``t <symbol>= x``: in place outside the graph, out of place inside it (see above)."""
    def method(self: Tensor, other: Any) -> Tensor:
        if ufunc is np.subtract:
            refuse_bool_subtraction(self, other)  # as t - x
        if _in_graph(self, other):
            _refuse_a_leaf(self, symbol)
            return NotImplemented  # Python then computes self <op> other: a new node
        value = _plain(other)
        return _write(self, symbol, lambda array: ufunc(array, value, out=array,
                                                        casting="same_kind"), value)
    return method


def _method(self: Tensor, name: str, other: Any = None) -> None:
    """The refusal of an in-place method inside the graph (see the module docstring)."""
    if _in_graph(self, other):
        _refuse_a_leaf(self, name)
        raise RuntimeError(
            f"{name}: cannot change a tensor of shape {self.shape} in place while the graph "
            "is recorded and it (or the value) requires grad: minigrad keeps graphs "
            f"immutable, where PyTorch would rewrite this one. Fix: write a new tensor "
            f"(h = h + x for add_), or update it under `with mg.no_grad():`.")


def _arithmetic(ufunc: Any, name: str, with_alpha: bool) -> Any:
    def method(self: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
        if ufunc is np.subtract:
            refuse_bool_subtraction(self, other)  # as t - x
        _method(self, name, other)
        value = _plain(other)
        if with_alpha and alpha != 1:
            value = np.multiply(value, alpha)  # PyTorch's add_(other, alpha=a): self + a * other
        return _write(self, name, lambda array: ufunc(array, value, out=array,
                                                      casting="same_kind"), value)
    method.__name__ = name
    return method


add_ = _arithmetic(np.add, "add_", with_alpha=True)
add_.__doc__ = "``t.add_(other, alpha=1)``: ``t += alpha * other`` in place (PyTorch's)."
sub_ = _arithmetic(np.subtract, "sub_", with_alpha=True)
sub_.__doc__ = "``t.sub_(other, alpha=1)``: ``t -= alpha * other`` in place (PyTorch's)."
mul_ = _arithmetic(np.multiply, "mul_", with_alpha=False)
mul_.__doc__ = "``t.mul_(other)``: ``t *= other`` in place (PyTorch's)."
div_ = _arithmetic(np.true_divide, "div_", with_alpha=False)
div_.__doc__ = "``t.div_(other)``: ``t /= other`` in place (PyTorch's)."


def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Clamp to [min, max] in place (PyTorch's ``clamp_``); either bound may be None."""
    _method(self, "clamp_")
    if min is None and max is None:
        raise ValueError("clamp_: give at least one of min and max.")
    bounds = (_plain(min), _plain(max))
    return _write(self, "clamp_", lambda array: np.clip(array, *bounds, out=array,
                                                        casting="same_kind"), bounds)


def fill_(self: Tensor, value: Any) -> Tensor:
    """Set every element to the number `value` in place (PyTorch's ``fill_``), converted to
    the tensor's dtype as PyTorch does: toward zero for an integer tensor (2.7 -> 2), nonzero
    -> True for a bool one; a value outside the dtype's range is refused (as in PyTorch)."""
    _method(self, "fill_", value)
    number = _plain(value)
    if isinstance(number, np.ndarray) and number.ndim == 0:  # a 0-d tensor's array
        number = number.item()
    if isinstance(number, complex) or not isinstance(number, int | float):
        raise TypeError(f"fill_: value must be a real number (or a one-element tensor), got "
                        f"{type(value).__name__}. Fix: e.g. t.fill_(0.5); copy_ copies arrays.")
    return _write(self, "fill_", lambda array: array.fill(_converted_number(number, array.dtype)),
                  number)


def _converted_number(number: int | float, dtype: np.dtype) -> int | float | bool:
    """`number` as `dtype` holds it (PyTorch's conversion), or an OverflowError (named by
    `_write`) when it is outside the dtype's range (NaN for an integer dtype)."""
    if not holds(dtype, number):  # (PyTorch refuses 1e40 for float32, 127.5 for int8)
        raise OverflowError
    if dtype.kind == "b":
        return bool(number)
    return math.trunc(number) if dtype.kind in "iu" else number


def zero_(self: Tensor) -> Tensor:
    """Set every element to 0 in place (PyTorch's ``zero_``)."""
    _method(self, "zero_")
    return _write(self, "zero_", lambda array: array.fill(0), 0)


def copy_(self: Tensor, source: Any) -> Tensor:
    """Copy `source`'s values in place (PyTorch's ``copy_``): it broadcasts to the tensor's
    shape and is converted to its dtype, as in PyTorch (an exponential moving average of
    weights, ``ema.copy_(weight)``, a buffer refilled)."""
    _method(self, "copy_", source)
    values = _plain(source)
    # `casting="unsafe"` converts any dtype, so check it is a number: None would become NaN
    # and the strings "1", "2" numbers, where PyTorch refuses anything but a tensor
    if not (isinstance(values, np.ndarray) and values.dtype.kind in "biuf"
            and values.dtype.itemsize <= 8) and not is_real_number(values):
        raise TypeError(f"copy_: source must be a Tensor, a real number or a NumPy array of "
                        f"them, got {type(source).__name__}"
                        f"{f' of dtype {values.dtype}' if isinstance(values, np.ndarray) else ''}."
                        " Fix: convert it first, e.g. t.copy_(mg.tensor(values)).")
    return _write(self, "copy_", lambda array: np.copyto(array, values, casting="unsafe"),
                  values)
