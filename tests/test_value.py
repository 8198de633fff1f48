"""`Value`: micrograd's README example, a gradcheck for every op, IEEE results."""

import copy
import math
import pickle
import random
import subprocess
import sys
import textwrap
from contextlib import nullcontext

import hypothesis.strategies as st
import numpy as np
import pytest
from _threads import run_in_threads, switch_threads_often
from hypothesis import given

import minigrad as mg
from minigrad import Value
from minigrad import value as value_module

reals = st.floats(-3, 3)
away_from_zero = st.floats(0.2, 3) | st.floats(-3, -0.2)
positive = st.floats(0.3, 3)


def test_micrograd_readme_example():
    # The expression of micrograd's README ("Example usage"); its printed results are
    # g.data = 24.7041, a.grad = 138.8338, b.grad = 645.5773.
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"
    assert isinstance(g.data, float) and isinstance(a.grad, float)
    # every node keeps its gradient, as in micrograd: dg/df = 1/2 - 10/f^2
    assert f.grad == pytest.approx(0.5 - 10.0 / f.data**2)
    assert g.grad == 1.0


BINARY = {
    "add": (lambda a, b: a + b, reals, reals),
    "sub": (lambda a, b: a - b, reals, reals),
    "mul": (lambda a, b: a * b, reals, reals),
    "div": (lambda a, b: a / b, reals, away_from_zero),
    "pow_value": (lambda a, b: a**b, positive, reals),
    "mixed": (lambda a, b: (a * b + a).tanh() * (b - a).exp() / (1 + b * b), reals, reals),
}


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_value_ops_pass_gradcheck(name, data):
    fn, draw_a, draw_b = BINARY[name]
    a, b = Value(data.draw(draw_a)), Value(data.draw(draw_b))
    assert mg.gradcheck(fn, [a, b])


UNARY = {
    "neg": (lambda x: -x, reals),
    "radd": (lambda x: 2 + x, reals),
    "rsub": (lambda x: 2 - x, reals),
    "rmul": (lambda x: 2 * x, reals),
    "rdiv": (lambda x: 2 / x, away_from_zero),
    "rpow": (lambda x: 2**x, reals),
    "square": (lambda x: x**2, reals),
    "int_power": (lambda x: x**3, reals),
    "negative_power": (lambda x: x**-2, away_from_zero),
    "fractional_power": (lambda x: x**0.5, positive),
    "relu": (lambda x: x.relu(), away_from_zero),
    "tanh": (lambda x: x.tanh(), reals),
    "exp": (lambda x: x.exp(), reals),
    "log": (lambda x: x.log(), positive),
    "sigmoid": (lambda x: x.sigmoid(), reals),
    "reuse": (lambda x: x * x + x.exp() * x, reals),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_value_ops_pass_gradcheck(name, data):
    fn, draw = UNARY[name]
    assert mg.gradcheck(fn, [Value(data.draw(draw))])


@pytest.mark.parametrize("x", [-800.0, -3.0, 0.0, 2.0, 800.0])
def test_sigmoid_and_tanh_match_the_formula_and_stay_finite(x):
    v = Value(x)
    s = v.sigmoid()
    assert s.data == pytest.approx(0.5 * (1 + math.tanh(x / 2)), abs=1e-15)
    assert v.tanh().data == pytest.approx(math.tanh(x))
    s.backward()
    assert math.isfinite(v.grad) and v.grad == pytest.approx(s.data * (1 - s.data), abs=1e-15)


def test_value_power_value_exponent_gradient_is_the_tensor_ops_and_pytorchs():
    """d(a^b)/db = a^b ln a: NaN for a < 0 (ln a is not real; it was a silent 0), 0 at
    a = 0 with b >= 0, -inf at a = 0 with b < 0; the Tensor op's values, pair by pair."""
    base, exponent = Value(-2.0), Value(3.0)
    out = base**exponent
    out.backward()
    assert out.data == -8.0
    assert base.grad == 12.0  # 3 * (-2)^2
    assert math.isnan(exponent.grad)
    pairs = [(-2.0, 2.0), (0.0, 0.0), (0.0, 2.0), (0.0, -1.0), (2.0, 1.5), (-1.5, 0.5)]
    a = mg.tensor([p[0] for p in pairs], dtype=np.float64, requires_grad=True)
    b = mg.tensor([p[1] for p in pairs], dtype=np.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        (a**b).sum().backward()
    for (x, y), tensor_grad in zip(pairs, b.grad):
        vx, vy = Value(x), Value(y)
        (vx**vy).backward()
        np.testing.assert_equal(vy.grad, tensor_grad)  # NaN equal to NaN, inf to inf


def test_ieee_results_instead_of_python_exceptions():
    assert Value(0.0).log().data == -math.inf
    assert math.isnan(Value(-1.0).log().data)
    assert (Value(1.0) / 0).data == math.inf
    assert (Value(-1.0) / 0.0).data == -math.inf
    assert math.isnan((Value(0.0) / 0).data)
    assert (1 / Value(0.0)).data == math.inf
    assert Value(1000.0).exp().data == math.inf
    assert math.isnan((Value(-8.0) ** (1 / 3)).data)  # no complex numbers
    assert (Value(0.0) ** -1).data == math.inf
    assert (Value(-0.0) ** -1).data == -math.inf and (Value(-0.0) ** -2).data == math.inf
    assert math.isnan(Value(math.nan).relu().data)  # a NaN is not hidden as 0 (micrograd too)
    assert Value(-1.0).relu().data == 0.0 and Value(2.0).relu().data == 2.0
    # the same results as NumPy's float64 arithmetic
    with np.errstate(all="ignore"):
        assert Value(0.0).log().data == np.log(np.float64(0.0))
        assert (Value(1.0) / 0).data == np.float64(1.0) / np.float64(0.0)
        for base, exponent in [(0.0, -1), (-0.0, -1), (-0.0, -3.0), (-0.0, -2), (-0.0, -0.5)]:
            assert (Value(base) ** exponent).data == np.float64(base) ** np.float64(exponent)


def test_value_rejects_non_numbers():
    for bad in ["1.0", None, [1.0], np.ones(2)]:
        with pytest.raises(TypeError, match="Value"):
            Value(bad)
    with pytest.raises(TypeError):
        Value(1.0) + "a"
    with pytest.raises(TypeError, match="exponent"):
        Value(1.0) ** "a"


def test_value_accepts_numpy_scalars_and_ints():
    v = Value(np.float32(1.5)) * np.int64(2)
    assert v.data == 3.0 and isinstance(v.data, float)


def test_micrograd_compatible_attributes():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    assert a.label == "a" and c._op == "*" and c._prev == {a, b}
    c.grad = 1.0
    c._backward()  # micrograd's one-node step
    assert (a.grad, b.grad) == (3.0, 2.0)
    assert "data=6.0" in repr(c)


def test_a_micrograd_style_backward_closure_is_refused_with_the_way_to_add_an_op():
    a = Value(2.0)
    out = Value(a.data**3, (a,), "cube")  # micrograd: then out._backward = closure
    with pytest.raises(AttributeError, match=r"Value._backward: .*Fix: .*Value._result"):
        out._backward = lambda: None
    cube = Value._result(a.data**3, (a,), (3 * a.data**2,), "cube")  # the way it names
    cube.backward()
    assert a.grad == 12.0


def test_backward_twice_accumulates():
    x = Value(3.0)
    y = x * x
    y.backward()
    y.backward()
    assert x.grad == 12.0  # 2 * (2x)


def test_power_zero_has_zero_gradient_and_overflow_keeps_its_sign():
    # regressions: 0 * 0^-1 gave NaN; (-10) ** 401 overflowed to +inf
    for exponent in (0, Value(0.0)):
        x = Value(0.0)
        (x**exponent).backward()
        assert x.grad == 0.0
    assert (Value(-10.0) ** 401).data == -math.inf
    assert (Value(-10.0) ** 400).data == math.inf


# -- the scalar backward's own topological order --------------------------------------------


def _random_graph(seed, size=40):
    """Leaves, then nodes that combine earlier nodes (often the same one twice, often a
    node with one of its own descendants): the shapes a depth-first order can get wrong."""
    rng = np.random.default_rng(seed)
    nodes = [Value(float(x)) for x in rng.uniform(0.5, 1.5, size=3)]
    for _ in range(size):
        first, second = (nodes[int(i)] for i in rng.integers(0, len(nodes), size=2))
        op = int(rng.integers(0, 4))
        nodes.append([first + second, first * second, (first - second).tanh(),
                      first.relu()][op])
    return nodes


@pytest.mark.parametrize("seed", range(30))
def test_scalar_backward_order_puts_every_node_after_its_consumers(seed):
    nodes = _random_graph(seed)
    root = nodes[-1]
    order, earlier = value_module._topological_order(root)
    assert earlier == []  # nothing set aside: no earlier pass
    position = {id(node): i for i, node in enumerate(order)}
    assert len(position) == len(order)  # each node once
    assert set(position) == {id(node) for node in mg.autograd.topological_order(root)}
    for node in order:
        for parent in node._parents:
            assert position[id(parent)] > position[id(node)]


def test_scalar_backward_gives_a_node_its_consumers_gradient_first():
    # regression (a prototype that pushed both parents at once): x feeds y = x * w and
    # x + y; x must send its gradient on only after y has added its share to it.
    w = Value(3.0)
    x = w * 2.0
    y = x * w
    out = x + y
    out.backward()
    assert (x.grad, w.grad) == (4.0, 14.0)  # 1 + w; d(2w + 2w^2)/dw = 2 + 4w


@pytest.mark.parametrize("seed", range(10))
def test_scalar_backward_matches_the_general_engine_and_accumulates(seed):
    # Value.backward's fast path against the general engine (autograd.backward, which
    # detect_anomaly uses), on a first pass and on a second one that accumulates
    fast, general = _random_graph(seed), _random_graph(seed)
    for _ in range(2):
        fast[-1].backward()
        mg.autograd.backward(general[-1], 1.0)
        # the same sums, possibly added in another order (a node's consumers' shares)
        assert [n.grad for n in fast] == pytest.approx([n.grad for n in general], rel=1e-12)
    assert fast[-1].grad == 2.0  # the root's own gradient accumulates too


@pytest.mark.parametrize("seed", range(10))
def test_scalar_backward_sets_aside_what_any_node_held_before(seed):
    # Gradients left in the nodes (in leaves, in nodes the walk finishes at once, in the
    # root, in nodes it passes through the stack) must not flow on: the fast path against
    # the general engine, which never pushes a node's old .grad to its parents
    fast, general = _random_graph(seed), _random_graph(seed)
    rng = np.random.default_rng(seed)
    for i in map(int, rng.choice(len(fast), size=len(fast) // 3, replace=False)):
        fast[i].grad = general[i].grad = float(rng.uniform(-2, 2))
    fast[-1].backward()
    mg.autograd.backward(general[-1], 1.0)
    assert [n.grad for n in fast] == pytest.approx([n.grad for n in general], rel=1e-12)


@pytest.mark.parametrize("deep_side", ["first", "second"])
def test_scalar_backward_through_a_deep_chain_on_either_parent(deep_side):
    # the walk treats a node's two parents differently (only the second is looked ahead
    # into): a chain 100,000 deep through either one works without recursion
    x = Value(0.5)
    y = x
    for _ in range(100_000):
        y = y * 1.0 if deep_side == "first" else Value(1.0) * y
    y.backward()
    assert x.grad == 1.0


def test_reflected_add_and_mul_make_the_node_the_forward_order_would():
    # ``2 + v`` and ``2 * v`` are ``v + 2`` and ``v * 2``: v first (micrograd's order)
    v = Value(3.0)
    for node, op, local_grads in ((2 + v, "+", (1.0, 1.0)), (2 * v, "*", (2.0, 3.0))):
        assert node._op == op and node._parents[0] is v and node._parents[1].data == 2.0
        assert node._local_grads == local_grads and node.data == (5.0 if op == "+" else 6.0)


def test_values_are_numbered_from_the_engines_counter_when_first_asked():
    # A Value gets its creation number (`_seq`) from the engine's own counter (`next_seq`),
    # so no number is shared with a Tensor: a leaf as it is made, a computed node only when
    # something asks for it (the visualiser, the general engine), with the computed nodes
    # above it, parents first
    before = mg.tensor([1.0])
    v = Value(1.0)
    w = v * 2.0
    after = mg.tensor([1.0])
    assert _numbered(v) and before._seq < v._seq < after._seq
    assert not _numbered(w)  # nothing asked yet
    assert after._seq < w._seq and w._parents[1]._seq < w._seq  # (2.0: a leaf, made by *)
    u = (w + 1.0) * v
    assert not _numbered(u._a)
    assert u._seq > u._a._seq > w._seq > v._seq  # u's parent numbered with it, first
    assert mg.autograd.next_seq() > u._seq and u._seq == u._seq  # a number, once given, stays


def _numbered(node: Value) -> bool:
    return value_module._numbers.get(node) is not None


def test_creation_numbers_grow_from_parents_to_children_in_any_graph_and_any_order():
    # numbered from several places, in random orders: every node above its parents, and
    # all numbers distinct (the general engine's order and the visualiser's rely on it)
    rng = random.Random(5)
    for _ in range(30):
        nodes = [Value(rng.uniform(-1, 1)) for _ in range(3)]
        for _ in range(40):
            a, b = rng.choice(nodes), rng.choice(nodes)
            nodes.append(rng.choice([a + b, a * b, a - b, a.tanh(), -a]))
        asked = [node._seq for node in rng.sample(nodes, 5)]  # asked in a random order
        assert len(set(asked)) == 5
        numbers = [node._seq for node in nodes]
        assert len(set(numbers)) == len(numbers)
        for node in nodes:
            assert all(parent._seq < node._seq for parent in node._parents)


def test_numbering_a_deep_chain_does_not_recurse():
    x = Value(1.0)
    y = x
    for _ in range(sys.getrecursionlimit() * 3):
        y = y * 1.0 if len(str(id(y))) % 2 else Value(1.0) * y  # the deep side on _a or _b
    assert y._seq > x._seq


def test_threads_numbering_one_graph_at_once_agree():
    # two threads asking for numbers in one shared graph at once must not give a node two
    # numbers, nor a node a number below one of its parents'
    for _ in range(5):
        root = Value(1.0)
        layer = [root * float(i) for i in range(60)]
        tops = [sum(layer[i:], Value(0.0)) for i in range(0, 60, 3)]
        nodes = set(layer) | set(tops)
        seen: list[dict[int, int]] = [{}, {}]

        def asker(order: list[Value], into: dict[int, int]):
            return lambda: into.update((id(node), node._seq) for node in order)

        with switch_threads_often():
            run_in_threads(asker(tops, seen[0]), asker(tops[::-1], seen[1]))
        assert seen[0] == seen[1] == {id(node): node._seq for node in tops}
        for node in nodes:
            assert all(parent._seq < node._seq for parent in node._parents)

def test_scalar_backward_walks_nodes_holding_any_kind_of_zero():
    # the walk marks a node seen by putting its own zero float into .grad: zeros that are
    # other objects (another 0.0, -0.0, an int 0) must still be walked, and left as zeros
    fast, general = _random_graph(3), _random_graph(3)
    zeros = [float("0"), -0.0, 0, 0.0]
    for i, (a, b) in enumerate(zip(fast, general)):
        a.grad = b.grad = zeros[i % len(zeros)]
    fast[-1].backward()
    mg.autograd.backward(general[-1], 1.0)
    assert [n.grad for n in fast] == pytest.approx([n.grad for n in general], rel=1e-12)


def test_scalar_backward_without_float_identity_uses_the_general_engine(monkeypatch):
    # outside CPython (PyPy compares floats by value with `is`) the walk's mark would not
    # work: backward takes the general engine
    monkeypatch.setattr(value_module, "_FLOAT_IDENTITY", False)
    monkeypatch.setattr(value_module, "_topological_order", None)  # would fail if called
    w = Value(3.0)
    x = w * 2.0
    (x + x * w).backward()
    assert (x.grad, w.grad) == (4.0, 14.0)


def test_labels_live_beside_the_nodes_and_go_with_them():
    import gc
    import weakref

    a = Value(1.0, label="a")
    b = a * 2.0
    assert (a.label, b.label) == ("a", "")
    b.label = "b"
    assert b.label == "b" and not hasattr(b, "__dict__")
    gone = weakref.ref(b)
    del b
    gc.collect()
    assert gone() is None and len(value_module._labels) >= 1  # `a` keeps its own


@pytest.mark.parametrize("anomaly_in_odd_threads", [False, True])
def test_concurrent_scalar_backward_passes_on_shared_nodes(anomaly_in_odd_threads):
    # The threads' graphs share the weights and a node computed from them. Gradients live
    # in the nodes, so passes through shared nodes at the same time would mix (and so would
    # their marks): Value.backward runs one pass at a time, also when some threads run the
    # general engine (detect_anomaly is per thread; that path once ran outside the lock).
    weights = [Value(1.0) for _ in range(4)]
    shared = weights[0] * weights[1]

    def train(results, index):
        with mg.detect_anomaly() if anomaly_in_odd_threads and index % 2 else nullcontext():
            for _ in range(40):
                out = sum((w * w for w in weights), Value(0.0))
                for _ in range(100):
                    out = out + shared * 1.0
                out.backward()
                results[index] = out.grad

    results = [None] * 4
    with switch_threads_often():
        run_in_threads(*[lambda i=i: train(results, i) for i in range(4)])
    assert results == [1.0] * 4
    # 4 threads x 40 passes; each adds 2w = 2 to every weight, 100 to `shared`, and so
    # 100 * w1 = 100 to w0 and 100 * w0 = 100 to w1
    assert shared.grad == 160 * 100.0
    assert [w.grad for w in weights] == [160 * 102.0] * 2 + [160 * 2.0] * 2


def test_copies_and_pickles_keep_labels():
    # Labels live beside the nodes (no slot): copy, deepcopy and pickle must carry them,
    # through the parents too (they were lost when the label slot went).
    import copy
    import pickle

    x = Value(1.0, label="x")
    w = x * 2.0
    w.label = "w"
    for clone in (copy.copy(w), copy.deepcopy(w), pickle.loads(pickle.dumps(w))):
        assert (clone.label, clone.data, clone._op) == ("w", 2.0, "*")
    assert copy.deepcopy(w)._a.label == "x"
    deep = pickle.loads(pickle.dumps(w))
    deep.backward()
    assert deep._a.grad == 2.0 and deep._a.label == "x"
    # A Value pickled by an earlier version (slots `_label` and `_seen`) still loads.
    old = Value.__new__(Value)
    old.__setstate__((None, {"data": 3.0, "grad": 0.0, "_a": None, "_b": None, "_op": "",
                             "_seq": 1, "_scope": None, "_seen": None, "_label": "old"}))
    assert (old.data, old.label) == (3.0, "old")


def test_labels_belong_to_the_node_not_to_equal_values():
    # A subclass may compare and hash by value; labels are kept by identity.
    class ByValue(Value):
        __slots__ = ()

        def __eq__(self, other):
            return isinstance(other, Value) and self.data == other.data

        def __hash__(self):
            return hash(self.data)

    u, w = ByValue(1.0, label="u"), ByValue(1.0, label="w")
    assert (u.label, w.label) == ("u", "w")

    class Unhashable(Value):
        __slots__ = ()

        def __eq__(self, other):
            return self is other

    assert Unhashable(1.0, label="v").label == "v"


def test_an_error_during_the_walk_gives_back_earlier_gradients():
    # A hand-built node whose parent is not a Value is refused when built; and whatever
    # stops a walk, the gradients earlier passes left are put back, not lost as zeros.
    c = Value(2.0)
    with pytest.raises(TypeError, match="parent .* must be a Value, got float"):
        Value(1.0, (c, 2.0), "h")
    a, b = Value(1.0), Value(2.0)
    top = a * b
    a.grad, b.grad, top.grad = 7.0, 5.0, 4.0
    broken = Value(0.0, (top,), "h")
    broken._a = top
    top._b = "not a node"  # what a buggy hand-made node could hold
    with pytest.raises(AttributeError):
        broken.backward()
    assert (a.grad, top.grad) == (7.0, 4.0)


_PICKLING_CHILD = """
import pickle, sys
from minigrad import Value, autograd
for _ in range(int(sys.argv[1])):
    autograd.next_seq()
a = Value(2.0, label="a")
b = a * 3.0
sys.stdout.buffer.write(pickle.dumps((a, b)))
"""


def test_values_pickled_by_a_longer_run_get_fresh_creation_numbers():
    # Regression: a pickle keeps creation numbers, and those of a process that had made
    # more nodes than this one are ahead of its counter: a loaded node then looked newer
    # than the nodes built from it, which the general engine's order (newest first) and
    # the visualiser's numbering rely on.
    import pickle
    import subprocess
    import sys

    from minigrad import autograd

    ahead = autograd.next_seq() + 10_000
    done = subprocess.run([sys.executable, "-c", _PICKLING_CHILD, str(ahead)],
                          capture_output=True, check=True)
    a, b = pickle.loads(done.stdout)
    c = b * a
    assert a._seq < b._seq < c._seq
    order = [id(node) for node in autograd.topological_order(c)]
    assert order.index(id(c)) < order.index(id(b)) < order.index(id(a))
    assert a.label == "a"
    c.backward()
    assert (a.grad, b.grad) == (2 * 3.0 * 2.0, 2.0)


class _ValueWithAttributes(Value):
    """A subclass without __slots__: its own attributes live in a __dict__."""


class _ValueWithSlot(Value):
    __slots__ = ("name",)


def test_value_subclasses_keep_their_own_attributes_and_slots_through_pickle_and_copies():
    # Regression: Value.__getstate__ saved Value's own slots only, so a subclass's
    # attributes and slots were lost on pickle, copy and deepcopy.
    import copy
    import pickle

    tagged = _ValueWithAttributes(2.0, label="a")
    tagged.tag = "t"
    named = _ValueWithSlot(3.0)
    named.name = "n"
    for original, attribute, expected in ((tagged, "tag", "t"), (named, "name", "n")):
        for restored in (pickle.loads(pickle.dumps(original)), copy.deepcopy(original),
                         copy.copy(original)):
            assert type(restored) is type(original)
            assert getattr(restored, attribute) == expected
            assert (restored.data, restored.label) == (original.data, original.label)


def test_a_negative_base_to_a_fractional_power_is_nan_however_large():
    """Python overflows before it notices the result is not real: (-1e300) ** 2.5 gave inf
    (and its gradient inf) where NumPy, Tensor and PyTorch give NaN."""
    for base, power in [(-1e300, 2.5), (-1e-300, -2.5), (-10.0, 400.5)]:
        v = Value(base)
        out = v**power
        out.backward()
        assert math.isnan(out.data) and math.isnan(v.grad), (base, power)
        with np.errstate(all="ignore"):
            assert np.isnan(np.power(base, power))
    assert (Value(-10.0) ** 401).data == -math.inf  # a real result beyond floats keeps its sign
    assert (Value(-10.0) ** 400).data == math.inf


def test_a_power_of_any_real_exponent_is_labelled_as_written():
    from fractions import Fraction

    assert (Value(8.0) ** Fraction(1, 3)).data == pytest.approx(2.0)  # (a format error before)
    assert (Value(2.0) ** 1.0000001)._op == "**1.0000001"  # (":g" rounded it to "**1")
    assert (Value(1.0) ** 123456789)._op == "**123456789"
    assert (Value(2.0) ** 2)._op == "**2" and (Value(2.0) ** -0.5)._op == "**-0.5"


def test_division_gradient_for_a_zero_numerator_over_a_tiny_denominator_is_zero():
    """d(a/b)/db = -(a/b)/b (PyTorch's form): -a/b² underflowed to 0/0 = NaN at a = 0,
    b = 1e-310, for Value and for Tensor."""
    a, b = Value(0.0), Value(1e-310)
    (a / b).backward()
    assert b.grad == 0.0
    ta = mg.tensor([0.0], dtype=np.float64, requires_grad=True)
    tb = mg.tensor([1e-310], dtype=np.float64, requires_grad=True)
    with np.errstate(over="ignore"):  # d/da = 1/b overflows to inf, as in PyTorch
        (ta / tb).sum().backward()
    assert tb.grad.tolist() == [0.0] and ta.grad.tolist() == [math.inf]


def test_grad_set_to_none_counts_as_zero_in_both_backward_paths():
    """`p.grad = None` (PyTorch's zero_grad habit): Value.backward's own loop took it as 0,
    the general engine (under detect_anomaly) raised a TypeError from `None += float`."""
    for anomaly in (False, True):
        x = Value(3.0)
        x.grad = None
        with mg.detect_anomaly() if anomaly else nullcontext():
            (x * x).backward()
        assert x.grad == 6.0, anomaly


def test_a_fresh_process_follows_every_mode_from_the_first_one_entered():
    # Value's ops ask for the engine's state only once a state other than the default one
    # was ever made in the process (`engine_state.modes_entered`): in a fresh interpreter,
    # the first no_grad, module scope or anomaly mode, entered in any thread, must apply
    code = textwrap.dedent("""
        import math
        import threading
        import minigrad as mg
        from minigrad import autograd, engine_state
        v = mg.Value(2.0)
        w = v * 3 + 1
        assert not engine_state.modes_entered and w._parents and w._scope is None
        def in_a_thread():
            with mg.no_grad():
                leaf = v * 3 + v.tanh()
            out.append(leaf)
        out = []
        thread = threading.Thread(target=in_a_thread)
        thread.start(); thread.join()
        assert engine_state.modes_entered and out[0]._parents == ()
        assert out[0].data == 6.0 + math.tanh(2.0)
        still = v * 3 + 1  # this thread never left the default state
        assert [p.data for p in still._parents] == [6.0, 1.0]
        with autograd.module_scope("fc", "Linear"):
            scoped = v * 2 + 1
        assert scoped._scope.label() == "fc (Linear)" and scoped._a._scope == scoped._scope
        assert (v * 2)._scope is None
        with mg.detect_anomaly():
            try:
                mg.Value(0.0).log() * 2
            except mg.autograd.AnomalyError as error:
                assert "log" in str(error)
            else:
                raise AssertionError("anomaly mode was not followed")
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_a_value_keeps_its_label_and_scope_through_pickle_and_copy_but_not_its_number():
    with mg.autograd.module_scope("block", "Block"):
        node = Value(2.0, label="x") * 3
    number = node._seq
    for restored in (pickle.loads(pickle.dumps(node)), copy.deepcopy(node)):
        assert restored.data == 6.0 and restored._a.label == "x"
        assert restored._scope == node._scope and restored._a._scope == node._scope
        # numbers are per process and given when asked: a copy gets new ones, above
        # its parents' (and above every number given before)
        assert restored._seq > restored._a._seq > number


def test_values_computed_inside_a_module_record_its_scope_in_a_fresh_process():
    # Regression (found in review): Module.__call__ builds its EngineState without
    # EngineState.__init__, which alone said that a non-default state exists, so in a fresh
    # process the ops of a scalar model lost their module scope (no cluster in draw_graph)
    code = textwrap.dedent("""
        import minigrad as mg
        from minigrad import engine_state

        class Neuron(mg.nn.Module):
            def __init__(self):
                super().__init__()
                self.w, self.b = mg.Value(0.5), mg.Value(-1.0)

            def forward(self, x):
                return (self.w * x + self.b).tanh()

        assert not engine_state.modes_entered
        out = Neuron()(mg.Value(2.0))
        assert out._scope is not None and out._scope.type_name == "Neuron", out._scope
        assert out._a._scope == out._scope and out._a._a._scope == out._scope
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
