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
