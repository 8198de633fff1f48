"""How `Value` nodes are built: by users through ``Value(...)`` and subclasses (micrograd's
usual idioms), and by the ops, which build each node for the default engine state and fix
it up otherwise (`minigrad.value._apply_engine_state`)."""

import asyncio
import contextvars
import inspect
import pickle

import pytest

import minigrad as mg
from minigrad import Value, autograd
from minigrad import value as value_module

# Every way an op builds its node: + and * inline, the others through `_node`.
OPS = {
    "add": lambda a, b: a + b,
    "radd": lambda a, b: 2.0 + b,
    "mul": lambda a, b: a * b,
    "rmul": lambda a, b: 2.0 * b,
    "sub": lambda a, b: a - b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "relu": lambda a, b: a.relu(),
    "tanh": lambda a, b: a.tanh(),
}


def _leaves():
    return Value(1.5), Value(2.0)


@pytest.mark.parametrize("op", OPS)
def test_every_op_records_its_parents_only_when_grad_is_enabled(op):
    a, b = _leaves()
    out = OPS[op](a, b)
    assert out._parents and all(isinstance(p, Value) for p in out._parents)
    assert out._scope is None and out.grad == 0.0
    with mg.no_grad():
        quiet = OPS[op](a, b)
    assert quiet._parents == () and quiet._local_grads == ()
    assert quiet.data == out.data and quiet._op == out._op
    # a node made under no_grad() holds what a leaf holds: no local derivatives either
    assert quiet.__getstate__()[1].keys() == Value(1.0).__getstate__()[1].keys() - {"label"}
    quiet.backward()
    assert (a.grad, b.grad) == (0.0, 0.0)
    with mg.no_grad(), mg.enable_grad():
        assert OPS[op](a, b)._parents


@pytest.mark.parametrize("op", OPS)
def test_every_op_records_the_module_scope_and_its_creation_order(op):
    a, b = _leaves()
    with autograd.module_scope("", "MLP"), autograd.module_scope("fc", "Linear"):
        out = OPS[op](a, b)
    assert out._scope.qualified_name() == "fc" and out._scope.type_name == "Linear"
    assert out._seq > b._seq > a._seq
    assert OPS[op](a, b)._scope is None  # and outside it again


@pytest.mark.parametrize("op", ["add", "mul", "relu"])
def test_every_op_checks_for_anomalies_inside_detect_anomaly(op):
    a, b = Value(float("inf")), Value(1.0)
    OPS[op](a, b)  # no check outside
    with mg.detect_anomaly():
        with pytest.raises(mg.AnomalyError, match=r"forward produced .*inf"):
            OPS[op](a, b)
        fine = OPS[op](Value(1.0), b)
    assert fine._where is not None and __file__ in fine._where


def test_a_context_copied_inside_no_grad_keeps_it_after_the_block():
    # The state is per context: one copied inside no_grad() (what asyncio does for every
    # task) still has it after the block that set it has ended.
    a, b = _leaves()
    with mg.no_grad():
        copied = contextvars.copy_context()
    assert (a * b)._parents
    assert copied.run(lambda: (a * b)._parents) == ()
    assert copied.run(lambda: (a + b)._parents) == ()
    assert copied.run(lambda: a.relu()._parents) == ()

    async def main():
        with mg.no_grad():
            task = asyncio.ensure_future(asyncio.sleep(0, result=None))
            inside = asyncio.get_running_loop().create_task(make())
        await task
        return (a * b)._parents != (), await inside

    async def make():
        await asyncio.sleep(0)  # runs after main has left no_grad()
        return (a * b)._parents

    recorded, in_task = asyncio.run(main())
    assert recorded and in_task == ()


def test_the_default_state_is_the_context_variables_default():
    fresh = contextvars.Context().run(autograd.current_state)
    assert value_module._DEFAULT_STATE is fresh
    assert (fresh.grad_enabled, fresh.anomaly, fresh.scope) == (True, False, None)


def test_value_construction_signature_and_errors_are_the_usual_ones():
    assert list(inspect.signature(Value).parameters) == ["data", "_children", "_op", "label"]
    v = Value(2, label="v")
    assert (v.data, v.label, v._parents, v._op) == (2.0, "v", (), "")
    hand_made = Value(3.0, (v, v), "h")
    assert hand_made._parents == (v, v) and hand_made._op == "h"
    with pytest.raises(TypeError, match=r"Value.__init__\(\) missing 1 required positional "
                       "argument: 'data'"):
        Value()
    with pytest.raises(TypeError, match=r"Value.__init__\(\) got an unexpected keyword "
                       "argument 'extra'"):
        Value(1.0, extra=1)
    assert type(pickle.loads(pickle.dumps(v))) is Value


def test_subclasses_combine_with_other_classes_and_call_value_init_by_name():
    # micrograd-style subclasses: with abc.ABC or a class of their own metaclass, with a
    # mixin (cooperative or not), and the pre-super() idiom Value.__init__(self, ...).
    import abc

    class Abstract(Value, abc.ABC):
        __slots__ = ()

    class Meta(type):
        pass

    class WithMeta(Value, metaclass=Meta):
        __slots__ = ()

    assert Abstract(2.0).data == 2.0 and WithMeta(3.0).data == 3.0

    class Mixin:
        def __init__(self, *args, **kwargs):
            self.extra = "mixin"

    class ValueFirst(Value, Mixin):  # Value.__init__ comes first in the order, and runs
        pass

    assert ValueFirst(2.0).data == 2.0 and not hasattr(ValueFirst(2.0), "extra")

    class Tagged:
        def __init__(self, *args, tag="", **kwargs):
            super().__init__(*args, **kwargs)
            self.tag = tag

    class TaggedValue(Tagged, Value):  # a cooperative mixin first
        pass

    t = TaggedValue(2.0, tag="w", label="L")
    assert (t.data, t.tag, t.label) == (2.0, "w", "L")

    class ByName(Value):
        def __init__(self, data):
            Value.__init__(self, data, label="t")

    assert (ByName(2.0).data, ByName(2.0).label) == (2.0, "t")


def test_subclasses_with_their_own_init_and_new_work_as_with_value_init():
    class Named(Value):
        __slots__ = ("name",)

        def __init__(self, data, name):
            super().__init__(data, label=name.upper())
            self.name = name

    n = Named(2.0, "w")
    assert (n.data, n.name, n.label, n.grad) == (2.0, "w", "W", 0.0)
    assert list(inspect.signature(Named).parameters) == ["data", "name"]
    out = n * n  # a subclass operand on the right is used as it is: it was copied into a
    out.backward()  # new leaf, and its gradient lost (n.grad was 2.0, not 4.0)
    assert n.grad == 4.0 and type(out) is Value
    for make in (lambda v: Value(1.0) + v, lambda v: Value(1.0) - v, lambda v: Value(1.0) / v):
        node = make(n)
        assert node._parents[1] is n

    class Doubled(Named):  # a subclass of a subclass with __init__
        def __init__(self, data):
            super().__init__(2 * data, "d")

    assert (Doubled(1.5).data, Doubled(1.5).label) == (3.0, "D")

    class Cached(Value):
        __slots__ = ()
        made: dict = {}

        def __new__(cls, data):
            if data not in cls.made:
                cls.made[data] = super().__new__(cls)
            return cls.made[data]

    first = Cached(1.0)
    assert Cached(1.0) is first and first.data == 1.0  # __new__, then Value's initialisation
    assert isinstance(first, Value) and not isinstance(Value(1.0), Cached)
