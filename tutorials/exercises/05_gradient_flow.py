"""Lesson 05's exercises: read a gradient-flow picture in numbers. Replace each
``raise NotImplementedError`` with your code, then run

    python tutorials/check.py 5

Reference answers: tutorials/solutions/05_gradient_flow.py.
"""

from __future__ import annotations

from minigrad import nn


def grad_to_weight_ratios(model: nn.Module) -> list[float]:
    """‖∂L/∂W‖ / ‖W‖ (Frobenius norms) of every `nn.Linear` of `model`, in order, read after
    ``loss.backward()`` — the numbers behind panel (d) of lesson 05's B3 figure."""
    raise NotImplementedError("grad_to_weight_ratios")


def find_broken_layer(ratios: list[float], factor: float = 10.0) -> int:
    """The index of the broken layer: the one whose ratio is furthest from the median of all
    layers' ratios *on a log scale*, provided it is at least `factor` times above or below
    the median; -1 when every layer is within `factor` of it (nothing broken)."""
    raise NotImplementedError("find_broken_layer")
