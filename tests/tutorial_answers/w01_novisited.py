# ruff: noqa
# WRONG: topological_order without a visited set (exponential on shared nodes).
# (Checked by tests/test_tutorial_exercises.py; kept as a student wrote it.)
"""Lesson 1's exercises — reference answers (check: ``python tutorials/check.py 1 --solution``)."""

from __future__ import annotations

import math

from minigrad import Value


def gradients_by_hand(x: float, y: float) -> dict[str, float]:
    """dL/dx and dL/dy for L = tanh(x*y + y) * x, by the chain rule."""
    u = x * y
    v = u + y
    t = math.tanh(v)
    grad_t = x                      # L = t * x
    grad_v = (1 - t * t) * grad_t   # t = tanh(v)
    grad_u = grad_v                 # v = u + y
    grad_x = t + y * grad_u         # two uses of x: directly in L, and in u = x * y
    grad_y = grad_v + x * grad_u    # two uses of y: in v = u + y, and in u = x * y
    return {"x": grad_x, "y": grad_y}


def topological_order(root: Value) -> list[Value]:
    """Reversed post-order of an iterative depth-first search: consumers before parents."""
    order = []
    stack = [(root, False)]
    while stack:   # no visited set: every path is walked; duplicates removed at the end
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((parent, False) for parent in node._parents)
    seen = set(); out = []
    for n in order:
        if id(n) not in seen:
            seen.add(id(n)); out.append(n)
    return out[::-1]


def sigmoid(v: Value) -> Value:
    """σ(v) from exp, + and ** (-1)."""
    return (1 + (-v).exp()) ** -1
