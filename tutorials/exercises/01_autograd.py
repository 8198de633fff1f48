"""Lesson 1's exercises. Replace each ``raise NotImplementedError`` with your code, then run

    python tutorials/check.py 1

Only `Value` and the `math` module are needed. Reference answers: tutorials/solutions/.
"""

from __future__ import annotations

import math  # noqa: F401  (you will need it)

from minigrad import Value


def gradients_by_hand(x: float, y: float) -> dict[str, float]:
    """For L = tanh(x*y + y) * x, return ``{"x": dL/dx, "y": dL/dy}`` computed with the chain
    rule by hand (plain floats — no `Value`, no finite differences).

    Hint: name the intermediate nodes (u = x*y, v = u + y, t = tanh(v), L = t*x); x is used
    twice, so dL/dx has two contributions that add up.
    """
    raise NotImplementedError("gradients_by_hand")


def topological_order(root: Value) -> list[Value]:
    """Every node reachable from `root` (through ``node._parents``), exactly once, each node
    listed before all of its parents — so the root comes first.

    Write it without recursion (an explicit stack), so that a 10,000-node chain works, and
    expand each node once (a set of visited nodes): in ``v = v + v`` repeated 40 times, 41
    nodes are joined by 2⁴⁰ paths, and a walk that follows every path never ends.
    """
    raise NotImplementedError("topological_order")


def sigmoid(v: Value) -> Value:
    """σ(v) = 1 / (1 + exp(−v)), built from `Value` operations only (``exp``, ``+``, ``*``,
    ``**``, ``/``), so that the engine differentiates it for you."""
    raise NotImplementedError("sigmoid")
