"""Checks for lesson 1's exercises (``python tutorials/check.py 1``)."""

from __future__ import annotations

import math
import random
from types import ModuleType

from _checks import expect
from minigrad import Value


def check_gradients_by_hand(student: ModuleType) -> None:
    """gradients_by_hand(x, y) equals the engine's gradients of L = tanh(x*y + y) * x"""
    rng = random.Random(0)
    for _ in range(20):
        x_value, y_value = rng.uniform(-2, 2), rng.uniform(-2, 2)
        x, y = Value(x_value), Value(y_value)
        loss = (x * y + y).tanh() * x
        loss.backward()
        got = student.gradients_by_hand(x_value, y_value)
        expect(isinstance(got, dict) and set(got) == {"x", "y"},
               f"expected a dict with keys 'x' and 'y', got {got!r}",
               "return {'x': ..., 'y': ...}")
        for name, engine in (("x", x.grad), ("y", y.grad)):
            expect(math.isclose(got[name], engine, rel_tol=1e-9, abs_tol=1e-12),
                   f"at x={x_value:.3f}, y={y_value:.3f}: dL/d{name} = {got[name]!r}, the "
                   f"engine says {engine:.6f}",
                   "both x and y are used twice: add the contribution of each use "
                   "(section 3 of the lesson; compare with L.backward() on Values)")


def _random_graph(rng: random.Random, size: int) -> Value:
    nodes = [Value(rng.uniform(-1, 1)) for _ in range(3)]
    for _ in range(size):
        first, second = rng.choice(nodes), rng.choice(nodes)
        nodes.append(first * second if rng.random() < 0.5 else first + second)
    root = nodes[-1]
    for node in nodes[-6:-1]:  # make sure the root depends on several late nodes
        root = root + node
    return root


def _nodes(root: Value) -> list[Value]:
    """Every node reachable from `root`, each once."""
    seen: dict[int, Value] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen[id(node)] = node
            stack.extend(node._parents)
    return list(seen.values())


def _reachable(root: Value) -> set[int]:
    return {id(node) for node in _nodes(root)}


def check_topological_order(student: ModuleType) -> None:
    """topological_order lists every reachable node once, each before its parents"""
    rng = random.Random(1)
    for size in (1, 5, 40, 200):
        root = _random_graph(rng, size)
        order = student.topological_order(root)
        ids = [id(node) for node in order]
        expect(len(ids) == len(set(ids)), f"a {size}-op graph: some node appears twice",
               "keep a set of visited nodes")
        expect(set(ids) == _reachable(root),
               f"a {size}-op graph: {len(set(ids))} nodes listed, "
               f"{len(_reachable(root))} are reachable from the root",
               "follow node._parents from the root until every node has been seen")
        position = {id(node): i for i, node in enumerate(order)}
        for node in order:
            for parent in node._parents:
                expect(position[id(node)] < position[id(parent)],
                       f"a {size}-op graph: a node is listed after one of its parents",
                       "add a node to the output only after all of its parents (post-order), "
                       "then reverse the list")
    chain = Value(1.0)
    for _ in range(10_000):
        chain = chain + 1.0
    expect(len(student.topological_order(chain)) == 20_001,
           "a chain of 10,000 additions did not give 20,001 nodes",
           "use an explicit stack instead of recursion")


class _CountingValue(Value):
    """A Value that counts the reads of its ``_parents`` while a walk runs, and stops the
    walk once it has read them `_CountingValue.reads_left` times (see `_doubling_graph`)."""

    __slots__ = ()
    reads_left: int | None = None  # None: not counting

    @property
    def _parents(self) -> tuple[Value, ...]:
        if _CountingValue.reads_left is not None:
            _CountingValue.reads_left -= 1
            if _CountingValue.reads_left < 0:
                raise _WalkTooLong
        return super()._parents


class _WalkTooLong(Exception):
    """Raised inside the student's walk when it reads far more parents than there are
    nodes (an Exception, so that check.py shows where it stopped if it is not caught)."""


def _doubling_graph(doublings: int) -> _CountingValue:
    """``v = v + v``, `doublings` times: each node uses the one before it twice, so there
    are 2**doublings paths from the root to the leaf through only doublings + 1 nodes."""
    node = _CountingValue(1.0)
    for _ in range(doublings):
        node = _CountingValue(2 * node.data, (node, node), "+")
    return node


def check_topological_order_visits_each_node_once(student: ModuleType) -> None:
    """topological_order expands each node once: a graph of 41 nodes and 2⁴⁰ paths is instant"""
    # A walk without a visited set goes down every path: 2⁴⁰ (10¹²) of them here, more than
    # a day of work, while it is right on the small graphs above. Timing it would mean
    # waiting for it (a thread cannot be stopped); instead the graph counts how often the
    # walk reads node._parents and stops it, with an exception raised inside the read, once
    # that is far more than once per node: a correct walk reads them about once per node
    # (20 per node are allowed), one without a visited set spends that budget within its
    # first ten levels, in microseconds. So the check never hangs, whatever the answer.
    doublings, allowed_per_node = 40, 20
    root = _doubling_graph(doublings)
    nodes = doublings + 1
    _CountingValue.reads_left = allowed_per_node * nodes
    try:
        order = student.topological_order(root)
    except _WalkTooLong:
        expect(False, f"on v = v + v repeated {doublings} times ({nodes} nodes, each using "
               f"the one before it twice), your walk read node._parents more than "
               f"{allowed_per_node * nodes} times and was stopped: it reaches a node once per "
               f"path to it, and there are 2**{doublings} paths (more than a day of work)",
               "keep a set of visited nodes (by id(node)) and expand a node's parents only "
               "the first time you meet it; the small graphs above hide this, shared nodes "
               "reached by many paths do not")
    finally:
        _CountingValue.reads_left = None
    expect(len(order) == nodes and len({id(node) for node in order}) == nodes,
           f"on v = v + v repeated {doublings} times: {len(order)} nodes listed, expected "
           f"{nodes}, each once", "every reachable node exactly once: keep a set of visited "
           "nodes")


def check_sigmoid(student: ModuleType) -> None:
    """sigmoid(v) is σ(v) and the engine differentiates it to σ(v)(1 − σ(v))"""
    for value in (-6.0, -1.0, 0.0, 0.5, 3.0):
        v = Value(value)
        out = student.sigmoid(v)
        expect(isinstance(out, Value), f"sigmoid returned {type(out).__name__}, not a Value",
               "build it from Value operations, e.g. (-v).exp()")
        built_in = [node for node in _nodes(out) if node._op == "sigmoid"]
        expect(not built_in, "sigmoid calls Value's own .sigmoid(): the exercise is to build it",
               "write 1 / (1 + exp(−v)) with Value operations (exp, +, *, **, /)")
        expected = 1 / (1 + math.exp(-value))
        expect(math.isclose(out.data, expected, rel_tol=1e-9),
               f"sigmoid({value}) = {out.data!r}, expected {expected:.6f}",
               "σ(v) = 1 / (1 + exp(−v))")
        out.backward()
        expect(math.isclose(v.grad, expected * (1 - expected), rel_tol=1e-7),
               f"d sigmoid/dv at {value} = {v.grad!r}, expected {expected * (1 - expected):.6f}",
               "did you use a float (not a Value) somewhere, cutting the graph?")
