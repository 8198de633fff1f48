"""`Value`: a scalar node of the computation graph, a drop-in for micrograd's `Value`.

Each operation computes its result and, right beside it, the *local derivatives* of the
result with respect to each input. Backward is then the chain rule in one line:
``parent.grad += local_derivative * grad``. Arithmetic follows IEEE floats, as NumPy and
PyTorch do: ``Value(0).log()`` is ``-inf`` and ``Value(1) / 0`` is ``inf`` (no Python
exception); `minigrad.detect_anomaly()` stops at the first such result.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

from minigrad import autograd
from minigrad.autograd import current_state, next_seq

_INF = math.inf
_NAN = math.nan


def _divide(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:  # IEEE: x/0 is +-inf, 0/0 is nan
        if a == 0 or a != a:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def _power(a: float, b: float) -> float:
    try:
        result = a**b
    except ZeroDivisionError:  # 0 ** negative
        return _INF
    except OverflowError:  # keeps the sign: (-10) ** 401 is -inf
        odd_power = a < 0 and b == int(b) and int(b) % 2 == 1
        return -_INF if odd_power else _INF
    if isinstance(result, complex):  # negative base, fractional exponent
        return _NAN
    return result


def _log(x: float) -> float:
    if x > 0:
        return math.log(x)
    return -_INF if x == 0 else _NAN


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


class Value:
    """A scalar that remembers how it was computed, so its gradient can flow back.

    ``Value(data, label="")``; ``.data`` and ``.grad`` are Python floats. Supports
    ``+ - * / **`` (also with plain numbers on either side), unary ``-`` and
    ``.relu() .tanh() .exp() .log() .sigmoid()``. After ``out.backward()`` every node of the
    graph holds d(out)/d(node) in ``.grad``.
    """

    __slots__ = ("data", "grad", "label", "_op", "_parents", "_local_grads", "_seq", "_scope",
                 "_where", "__weakref__")
    requires_grad = True
    _hooks = ()
    _retains_grad = True  # micrograd's behaviour: every node keeps its gradient

    def __init__(self, data: Any, _children: tuple = (), _op: str = "", label: str = "") -> None:
        if type(data) is not float:  # the common case first: isinstance(x, Real) is slow
            if isinstance(data, Value):
                data = data.data
            elif not isinstance(data, Real):
                raise TypeError(
                    f"Value: data must be a real number, got {type(data).__name__} {data!r}. "
                    "Fix: pass an int or float (use minigrad.Tensor for arrays)."
                )
            data = float(data)
        self.data = data
        self.grad = 0.0
        self.label = label
        self._op = _op
        engine = current_state()
        self._parents = tuple(_children) if engine.grad_enabled else ()
        self._local_grads: tuple[float, ...] = ()
        self._seq = next_seq()
        self._scope = engine.scope
        self._where = autograd.user_frame() if engine.anomaly else None

    # -- building nodes -----------------------------------------------------------------

    @staticmethod
    def _result(data: float, parents: tuple[Value, ...], local_grads: tuple[float, ...],
                op: str) -> Value:
        """A new node `data` = op(parents), with d(data)/d(parent) in `local_grads`."""
        out = Value.__new__(Value)
        out.data = data
        out.grad = 0.0
        out.label = ""
        out._op = op
        engine = current_state()
        if engine.grad_enabled:
            out._parents = parents
            out._local_grads = local_grads
        else:
            out._parents = out._local_grads = ()
        out._seq = next_seq()
        out._scope = engine.scope
        out._where = None
        if engine.anomaly:
            out._where = autograd.user_frame()
            _check_anomaly(out, data, "forward")
        return out

    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value._result(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value._result(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __truediv__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        a, b = self.data, other.data
        inv_b = _divide(1.0, b)
        return Value._result(_divide(a, b), (self, other), (inv_b, -a * inv_b * inv_b), "/")

    def __pow__(self, other: Value | float) -> Value:
        if isinstance(other, Value):  # d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a
            a, b = self.data, other.data
            out = _power(a, b)
            d_base = b * _power(a, b - 1) if b != 0 else 0.0  # a^0 is constant, also at a = 0
            d_exponent = out * _log(a) if a > 0 else 0.0
            return Value._result(out, (self, other), (d_base, d_exponent), "**")
        if not isinstance(other, Real):
            raise TypeError(f"Value.__pow__: exponent must be a number or a Value, got "
                            f"{type(other).__name__}")
        exponent = float(other)
        d_base = exponent * _power(self.data, exponent - 1) if exponent != 0 else 0.0
        return Value._result(_power(self.data, exponent), (self,), (d_base,), f"**{other:g}")

    def __rpow__(self, other: float) -> Value:
        return Value(other) ** self

    def __neg__(self) -> Value:
        return Value._result(-self.data, (self,), (-1.0,), "neg")

    def __sub__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value._result(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __radd__(self, other: float) -> Value:
        return self + other

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __rsub__(self, other: float) -> Value:
        return Value(other) - self

    def __rtruediv__(self, other: float) -> Value:
        return Value(other) / self

    def relu(self) -> Value:
        positive = self.data > 0
        return Value._result(self.data if positive else 0.0, (self,), (1.0 if positive else 0.0,),
                             "ReLU")

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value._result(t, (self,), (1.0 - t * t,), "tanh")

    def exp(self) -> Value:
        e = _exp(self.data)
        return Value._result(e, (self,), (e,), "exp")

    def log(self) -> Value:
        return Value._result(_log(self.data), (self,), (_divide(1.0, self.data),), "log")

    def sigmoid(self) -> Value:
        x = self.data
        # Two forms, each free of overflow on its side of zero.
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return Value._result(s, (self,), (s * (1.0 - s),), "sigmoid")

    # -- the node protocol -------------------------------------------------------------

    @property
    def op_name(self) -> str:
        return self._op

    def _vjp(self, grad_output: float) -> list[float]:
        grads = [local * grad_output for local in self._local_grads]
        # e.g. Value(0) ** 0.5: a finite forward, an infinite derivative
        if current_state().anomaly:
            for grad in grads:
                _check_anomaly(self, grad, "backward", math.isfinite(grad_output))
        return grads

    def _accumulate_grad(self, grad: float, exposed: set[int]) -> None:
        self.grad += grad

    @property
    def _prev(self) -> set[Value]:
        """micrograd's name for the set of parents."""
        return set(self._parents)

    def _backward(self) -> None:
        """micrograd's one-node step: push this node's ``.grad`` into its parents."""
        for parent, local in zip(self._parents, self._local_grads):
            parent.grad += local * self.grad

    def backward(self, retain_graph: bool | None = None) -> None:
        """Compute d(self)/d(node) for every node of the graph, into each ``.grad``
        (`retain_graph` is accepted as in `Tensor.backward`; the graph is always kept)."""
        autograd.backward(self, 1.0)

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"


def _check_anomaly(node: Value, result: float, phase: str, grad_finite: bool = True) -> None:
    if math.isfinite(result):
        return
    inputs_finite = grad_finite and all(math.isfinite(p.data) for p in node._parents)
    detail = f"{result}" + ("" if inputs_finite else " (its inputs already held NaN/Inf)")
    raise autograd.anomaly_error(f"Value {node._op}", node._where, phase, detail, node._scope)
