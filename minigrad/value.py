"""`Value`: a scalar node of the computation graph, a drop-in for micrograd's `Value`.

Each operation computes its result and, right beside it, the *local derivatives* of the
result with respect to each input. Backward is then the chain rule in one line:
``parent.grad += local_derivative * grad``. Arithmetic follows IEEE floats, as NumPy and
PyTorch do: ``Value(0).log()`` is ``-inf`` and ``Value(1) / 0`` is ``inf`` (no Python
exception); `minigrad.detect_anomaly()` stops at the first such result.

Beside it: `minigrad.scalar_math` (those IEEE results), `minigrad.scalar_walk` (the order
of the fast backward pass) and `minigrad.scalar_modes` (how a node follows `no_grad()`,
module scopes and `detect_anomaly()`).
"""

from __future__ import annotations

import math
import sys
import threading
import weakref
from numbers import Real
from typing import Any

from minigrad import autograd, engine_state
from minigrad.autograd import SideTable, current_state, next_seq
from minigrad.scalar_math import divide as _divide
from minigrad.scalar_math import exp as _exp
from minigrad.scalar_math import log as _log
from minigrad.scalar_math import power as _power
from minigrad.scalar_modes import DEFAULT_STATE as _DEFAULT_STATE
from minigrad.scalar_modes import apply_engine_state as _apply_engine_state
from minigrad.scalar_modes import check_anomaly as _check_anomaly
from minigrad.scalar_modes import where_created as _where_created
from minigrad.scalar_walk import topological_order as _topological_order


class Value:
    """A scalar that remembers how it was computed, so its gradient can flow back.

    ``Value(data, label="")``; ``.data`` and ``.grad`` are Python floats. Supports
    ``+ - * / **`` (also with plain numbers on either side), unary ``-`` and
    ``.relu() .tanh() .exp() .log() .sigmoid()``. After ``out.backward()`` every node of the
    graph holds d(out)/d(node) in ``.grad``.

    One object per node, and nothing else: a scalar graph has tens of thousands of nodes,
    and every extra object (a tuple of parents, a closure for backward) costs allocation
    and, above all, Python's cyclic garbage collector's time. So the (at most two)
    parents and their local derivatives live in four slots: ``_a, _da`` and ``_b, _db``.
    What few nodes need, or only a few tools ask for, lives beside the nodes (`SideTable`):
    the label, the module scope of a node made inside a module, and the creation number
    (`_seq`), given when first asked for. Each slot fewer makes every node smaller (96
    bytes with the collector's header, one allocator size class below 10 slots) and
    quicker to build: moving those two out, and not asking for the engine's state before
    a mode was ever entered, took ~20% off micrograd's demo step (benchmarks/README.md).
    """

    __slots__ = ("data", "grad", "_a", "_da", "_b", "_db", "_op", "__weakref__")
    data: float
    grad: float
    _op: str
    _a: Value | None  # the parents, when there are any (see above)
    _b: Value | None
    requires_grad = True
    _hooks = ()
    _retains_grad = True  # micrograd's behaviour: every node keeps its gradient

    def __init__(self, data: Any, _children: tuple = (), _op: str = "", label: str = "") -> None:
        _make(self, data, _children, _op, label)
        if self._a is None:
            # A leaf made by the user's code is numbered as it is made: a parameter is then
            # below every step's input, as the code's order says, and the nodes computed from
            # them come after both, numbered when asked (`_seq`), in one order at every step.
            # (A number an op turns into a leaf, `_operand`, is numbered with its node.)
            _number_leaf(self)

    def _set_children(self, children: tuple) -> None:
        """micrograd lets users build a node by hand, ``Value(x, (a, b), "op")``; such a
        node has no local derivatives (0.0): it passes no gradient on."""
        if len(children) > 2:
            raise ValueError(f"Value: at most two parents (_children), got {len(children)}. "
                             "Fix: combine them with binary operations.")
        for child in children:
            if not isinstance(child, Value):
                raise TypeError(f"Value: a parent (_children) must be a Value, got "
                                f"{type(child).__name__} {child!r}. Fix: wrap numbers as "
                                "Value(x) before building a node by hand.")
        self._a = children[0]
        self._b = children[1] if len(children) == 2 else None
        self._da = self._db = 0.0

    # -- building nodes -----------------------------------------------------------------

    @staticmethod
    def _result(data: float, parents: tuple[Value, ...], local_grads: tuple[float, ...],
                op: str) -> Value:
        """A new node `data` = op(parents), with d(data)/d(parent) in `local_grads` (one or
        two parents): the way to add a scalar op of your own."""
        if len(parents) == 1:
            return _node(data, parents[0], local_grads[0], None, 0.0, op)
        return _node(data, parents[0], local_grads[0], parents[1], local_grads[1], op)

    # + and * make almost every node of a scalar network (a neuron is a sum of products),
    # so they build their node inline, as `_node` does: a function call per node would
    # cost a fifth of the time of the whole operation. An operand of a subclass of Value
    # is used as it is (the exact type is tested first, as it is the common case).

    def __add__(self, other: Value | float) -> Value:
        if type(other) is not Value and not isinstance(other, Value):
            other = _operand(other)
        out = _new_node(Value)
        out.data = self.data + other.data
        out.grad = 0.0
        out._a = self  # d(a + b)/da = d(a + b)/db = 1
        out._da = 1.0
        out._b = other
        out._db = 1.0
        out._op = "+"
        # no_grad, a module scope, anomaly mode: only once one was ever entered (see _node)
        if engine_state.modes_entered and current_state() is not _DEFAULT_STATE:
            _apply_engine_state(out)
        return out

    def __mul__(self, other: Value | float) -> Value:
        if type(other) is not Value and not isinstance(other, Value):
            other = _operand(other)
        out = _new_node(Value)
        out.data = self.data * other.data
        out.grad = 0.0
        out._a = self  # d(ab)/da = b, d(ab)/db = a
        out._da = other.data
        out._b = other
        out._db = self.data
        out._op = "*"
        if engine_state.modes_entered and current_state() is not _DEFAULT_STATE:
            _apply_engine_state(out)
        return out

    def __truediv__(self, other: Value | float) -> Value:
        if type(other) is not Value and not isinstance(other, Value):
            other = _operand(other)
        a, b = self.data, other.data
        out = _divide(a, b)
        # d/db = -(a/b)/b, as PyTorch: -a/b² underflows to 0/0 for a = 0 and a tiny b
        return _node(out, self, _divide(1.0, b), other, -_divide(out, b), "/")

    def __pow__(self, other: Value | float) -> Value:
        if isinstance(other, Value):  # d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a
            a, b = self.data, other.data
            out = _power(a, b)
            d_base = b * _power(a, b - 1) if b != 0 else 0.0  # a^0 is constant, also at a = 0
            # As Tensor's Pow and PyTorch: NaN for a < 0 (not differentiable in b there),
            # 0 where a = 0 and b >= 0, -inf at a = 0 with b < 0
            d_exponent = 0.0 if a == 0 and b >= 0 else out * _log(a)
            return _node(out, self, d_base, other, d_exponent, "**")
        if not isinstance(other, Real):
            raise TypeError(f"Value.__pow__: exponent must be a number or a Value, got "
                            f"{type(other).__name__}")
        exponent = float(other)
        d_base = exponent * _power(self.data, exponent - 1) if exponent != 0 else 0.0
        # The exponent as written (micrograd's f"**{other}"), whatever Real it came as: a
        # Fraction has no :g format, and :g rounded 1.0000001 to '**1'
        label = f"**{int(exponent)}" if exponent.is_integer() else f"**{exponent!r}"
        return _node(_power(self.data, exponent), self, d_base, None, 0.0, label)

    def __rpow__(self, other: float) -> Value:
        return _operand(other) ** self

    def __neg__(self) -> Value:
        return _node(-self.data, self, -1.0, None, 0.0, "neg")

    def __sub__(self, other: Value | float) -> Value:
        if type(other) is not Value and not isinstance(other, Value):
            other = _operand(other)
        return _node(self.data - other.data, self, 1.0, other, -1.0, "-")

    # ``2 + v`` makes the node ``v + 2`` would (the same parents, in the same order), as
    # micrograd's ``self + other`` does, without a second call.
    __radd__ = __add__
    __rmul__ = __mul__

    def __rsub__(self, other: float) -> Value:
        return _operand(other) - self

    def __rtruediv__(self, other: float) -> Value:
        return _operand(other) / self

    def relu(self) -> Value:
        x = self.data
        positive = x > 0
        # NaN stays NaN (x != x), as in micrograd, PyTorch and Tensor.relu: a 0 would hide it.
        return _node(x if positive or x != x else 0.0, self, 1.0 if positive else 0.0, None, 0.0,
                     "ReLU")

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return _node(t, self, 1.0 - t * t, None, 0.0, "tanh")

    def exp(self) -> Value:
        e = _exp(self.data)
        return _node(e, self, e, None, 0.0, "exp")

    def log(self) -> Value:
        return _node(_log(self.data), self, _divide(1.0, self.data), None, 0.0, "log")

    def sigmoid(self) -> Value:
        x = self.data
        # Two forms, each free of overflow on its side of zero.
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return _node(s, self, s * (1.0 - s), None, 0.0, "sigmoid")

    # -- the node protocol -------------------------------------------------------------

    @property
    def op_name(self) -> str:
        return self._op

    @property
    def label(self) -> str:
        return _labels.get(self, "") or ""

    @label.setter
    def label(self, label: str) -> None:
        _labels[self] = label

    @property
    def _where(self) -> str | None:
        """Where the node was created, recorded only inside `detect_anomaly()`."""
        return _where_created.get(self)

    @property
    def _scope(self) -> autograd.Scope | None:
        """The module scope the node was made in (None outside every module)."""
        return _scopes.get(self)

    @_scope.setter
    def _scope(self, scope: autograd.Scope | None) -> None:
        if scope is not None or _scopes.get(self) is not None:
            _scopes[self] = scope

    @property
    def _seq(self) -> int:
        """The node's place in the engine's creation order (`autograd.Node`): a number
        above its parents' numbers. A leaf (``Value(x)``) gets it as it is made. Only the
        general engine (under `detect_anomaly()`, or outside CPython) and its
        `topological_order` (the visualiser's gradients) ask for the numbers of computed
        nodes, so such a node gets one then, rather than every node at creation: with the
        nodes above it that have none, parents first (`_number`: ~12,000 machine
        instructions a node, about 40% of a backward pass under `detect_anomaly()`).
        The visualiser orders a Value graph by its structure instead
        (`viz.walk.creation_order`): numbers given late depend on what asked first."""
        number = _numbers.get(self)
        return _number(self) if number is None else number

    @property
    def _parents(self) -> tuple[Value, ...]:
        if self._a is None:
            return ()
        return (self._a,) if self._b is None else (self._a, self._b)

    @property
    def _local_grads(self) -> tuple[float, ...]:
        """d(self)/d(parent) for each parent."""
        if self._a is None:
            return ()
        return (self._da,) if self._b is None else (self._da, self._db)

    def _vjp(self, grad_output: float) -> list[float]:
        grads = [local * grad_output for local in self._local_grads]
        # e.g. Value(0) ** 0.5: a finite forward, an infinite derivative
        if current_state().anomaly:
            for grad in grads:
                _check_anomaly(self, grad, "backward", math.isfinite(grad_output))
        return grads

    def _accumulate_grad(self, grad: float, exposed: set[int]) -> None:
        # `p.grad = None` (PyTorch's zero_grad habit) counts as 0, as in Value.backward's loop
        self.grad = grad if self.grad is None else self.grad + grad

    @property
    def _prev(self) -> set[Value]:
        """micrograd's name for the set of parents."""
        return set(self._parents)

    def _one_node_step(self) -> None:
        """micrograd's one-node step: push this node's ``.grad`` into its parents."""
        for parent, local in zip(self._parents, self._local_grads):
            parent.grad += local * self.grad

    @property
    def _backward(self) -> Any:
        """micrograd's name for the one-node step (``node._backward()``)."""
        return self._one_node_step

    @_backward.setter
    def _backward(self, function: Any) -> None:
        # micrograd's way to add an op: assign a closure that pushes the gradient. Here a
        # node keeps local derivatives instead (the engine multiplies them in); without
        # this, Python said only "'Value' object attribute '_backward' is read-only".
        raise AttributeError(
            "Value._backward: minigrad's Value does not take a backward closure, as "
            "micrograd's does: each node stores d(node)/d(parent) for its parents. Fix: build "
            "the node with its local derivatives, Value._result(data, (a,), (d_data_d_a,), "
            "'op name') (two parents: (a, b) and (d_a, d_b)).")

    def backward(self, retain_graph: bool | None = None) -> None:
        """Compute d(self)/d(node) for every node of the graph, into each ``.grad``
        (`retain_graph` is accepted as in `Tensor.backward`; the graph is always kept).

        The engine's backward (`minigrad.autograd.backward`), specialised to scalars that
        all keep their gradient: each node adds local derivative x its gradient straight
        into its parents' ``.grad``, in reverse topological order (micrograd's loop), with
        no table of pending gradients. Under `detect_anomaly()` the general engine runs
        instead: it checks every gradient (and outside CPython too: see
        `minigrad.scalar_walk`). Passes run one at a time, also across threads:
        gradients live in the nodes, so two passes through shared nodes would mix them.
        """
        with _backward_lock:  # see minigrad.scalar_walk.topological_order
            if current_state().anomaly or not _FLOAT_IDENTITY:
                autograd.backward(self, 1.0)
                return
            order, earlier = _topological_order(self)
            self.grad = 1.0
            for node in order:
                a = node._a
                if a is not None:
                    grad = node.grad
                    # A zero gradient adds ±0.0 to the parents, which changes no sum that
                    # starts at +0.0, unless a local derivative is inf or nan (x - x != 0).
                    if grad or node._da - node._da or node._db - node._db:
                        a.grad += node._da * grad
                        b = node._b
                        if b is not None:
                            b.grad += node._db * grad
            for node, grad in earlier:
                node.grad += grad

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    # copy, deepcopy and pickle: as Python's default state, (a subclass's own attributes,
    # {slot: value}) over the slots of every class, with the label, which lives beside it.
    def __getstate__(self) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        slots = {name: getattr(self, name) for name in _slot_names(type(self))
                 if hasattr(self, name)}
        label = _labels.get(self)
        if label:
            slots["label"] = label
        scope = _scopes.get(self)
        if scope is not None:
            slots["_scope"] = scope
        # No creation number: it means something only in this process (a copy gets its own
        # when one is asked for)
        return getattr(self, "__dict__", None) or None, slots

    def __setstate__(self, state: Any) -> None:
        # A dict: the slots as an earlier version pickled them.
        attributes, slots = state if isinstance(state, tuple) else (None, state)
        if attributes:
            self.__dict__.update(attributes)
        known = _slot_names(type(self))
        for name, value in (slots or {}).items():
            if name in ("label", "_label"):  # "_label": an earlier version's slot
                _labels[self] = value
            elif name == "_scope":  # a slot of earlier versions too
                self._scope = value
            elif name in known:  # skips slots of earlier versions ("_seen", "_seq")
                setattr(self, name, value)
        if getattr(self, "_a", None) is None:  # a leaf is numbered as it is made: loaded
            _number_leaf(self)


# The ops build their nodes with ``object.__new__(Value)`` and set every slot themselves:
# ``Value.__init__`` would convert and check data they have already made.
_new_node = object.__new__

def _slot_names(cls: type) -> tuple[str, ...]:
    """The slots `__getstate__` saves for instances of `cls`: those of every class in its
    order (a subclass may add its own), but not ``__weakref__`` and ``__dict__``."""
    names: list[str] = []
    for klass in cls.__mro__:
        declared = klass.__dict__.get("__slots__", ())
        for name in (declared,) if isinstance(declared, str) else declared:
            if name not in ("__weakref__", "__dict__") and name not in names:
                names.append(name)
    return tuple(names)


def _make(node: Value, data: Any, _children: tuple, _op: str, label: str) -> None:
    """`Value.__init__` but for the creation number: set every slot of `node`."""
    if type(data) is not float:  # the common cases first: isinstance(x, Real) is slow
        if type(data) is not int:
            if isinstance(data, Value):
                data = data.data
            elif not isinstance(data, Real):
                raise TypeError(
                    f"Value: data must be a real number, got {type(data).__name__} "
                    f"{data!r}. Fix: pass an int or float (use minigrad.Tensor for arrays)."
                )
        data = float(data)
    node.data = data
    node.grad = 0.0
    engine = current_state()
    if _children and engine.grad_enabled:
        node._set_children(tuple(_children))
    else:
        node._a = node._b = None  # a leaf (its _da, _db are never read)
    node._op = _op
    if engine.scope is not None:
        _scopes[node] = engine.scope
    if label:
        _labels[node] = label
    if engine.anomaly:
        _where_created[node] = autograd.user_frame()


def _operand(number: Any) -> Value:
    """A number an op computes with (``v + 1``, ``2 * v``), as a leaf. Not numbered as it
    is made: it is made just before the node that uses it, and gets its number with that
    node, right before it, as in the order of creation (`_seq`)."""
    node = _new_node(Value)
    _make(node, number, (), "", "")
    return node


# The labels users give nodes: few nodes have one.
_labels = SideTable()

# The module scope of each node made inside a module (a scalar network is rarely one).
_scopes = SideTable()

class _NumberTable:
    """Creation numbers (`Value._seq`), by the node's identity and weakly, as a `SideTable`
    keeps its entries, but without a callback per entry: a weak reference with a callback
    (and the closure it calls) costs more than everything else of numbering a node, and
    every computed node the general engine walks is numbered. So an entry whose node is gone
    stays, harmless (a lookup checks the reference: a new node that reuses the address is
    not taken for the old one), until the table has doubled since its last sweep, which
    drops them all. Every write, sweeps included, holds `_numbering`; reads need no lock
    (a sweep drops only entries whose node is gone, which no reader can be asking about)."""

    __slots__ = ("_entries", "_sweep_at")

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref, int]] = {}
        self._sweep_at = 4096

    def get(self, node: Value) -> int | None:
        entry = self._entries.get(id(node))
        return entry[1] if entry is not None and entry[0]() is node else None

    def give(self, node: Value) -> int:
        """Give `node` the next creation number (the caller holds `_numbering`)."""
        number = next_seq()
        entries = self._entries
        entries[id(node)] = (weakref.ref(node), number)
        if len(entries) > self._sweep_at:
            for key, entry in list(entries.items()):
                if entry[0]() is None:
                    del entries[key]
            self._sweep_at = max(4096, 2 * len(entries))
        return number

    def __len__(self) -> int:
        return len(self._entries)


_numbers = _NumberTable()
_numbering = threading.Lock()


def _number_leaf(node: Value) -> None:
    """Number a leaf as it is made (by user code, or loaded from a pickle)."""
    with _numbering:
        _numbers.give(node)


def _number(top: Value) -> int:
    """Give `top`, and every node above it that has no number yet, a creation number
    (`next_seq`), each after its parents (`_a`'s side first, the order in which the
    forward pass usually made them): numbers then grow from parents to children, as
    `autograd.Node` requires, also against the nodes numbered earlier, whose numbers are
    all smaller. Iterative: any depth works. Returns `top`'s number."""
    entries, give = _numbers._entries, _numbers.give
    with _numbering:  # two threads numbering one node would give it two numbers
        stack = [top]
        while stack:
            node = stack[-1]
            # `_numbers.get`, inlined: a walk asks ~4 times a node
            entry = entries.get(id(node))
            if entry is not None and entry[0]() is node:  # (reached twice before numbered)
                stack.pop()
                continue
            waiting = len(stack)
            for parent in (node._b, node._a):  # `_a` pushed last, on top: numbered first
                if parent is not None:
                    entry = entries.get(id(parent))
                    if entry is None or entry[0]() is not parent:
                        stack.append(parent)
            if len(stack) == waiting:  # both parents numbered: this node's turn
                give(node)
                stack.pop()
        return _numbers.get(top)  # type: ignore[return-value]


def _node(data: float, a: Value, da: float, b: Value | None, db: float, op: str) -> Value:
    """A new node `data` = op(a[, b]), with its local derivatives d(data)/da and d(data)/db
    (`b` is None for a unary op)."""
    out = _new_node(Value)
    out.data = data
    out.grad = 0.0
    out._a = a
    out._da = da
    out._b = b
    out._db = db
    out._op = op
    # A node follows `no_grad()`, a module scope or `detect_anomaly()` only if the current
    # state is not the default one; and none is, in any thread, before one of them was
    # first entered in the process (`engine_state.modes_entered`, which never goes back):
    # a program that never uses them, as micrograd's, does not ask the context for it.
    if engine_state.modes_entered and current_state() is not _DEFAULT_STATE:
        _apply_engine_state(out)
    return out


# Re-entrant: a hook or observer of the general engine's pass may start another pass.
_backward_lock = threading.RLock()

# Whether a float made with float("0") is an object of its own, told apart by `is` from
# every other zero (CPython); PyPy's `is` compares floats by value.
_FLOAT_IDENTITY = sys.implementation.name == "cpython"
