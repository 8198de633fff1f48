# ruff: noqa
# WRONG: find_broken_layer on a linear distance instead of a log scale.
# (Checked by tests/test_tutorial_exercises.py; kept as a student wrote it.)
"""Reference answers to lesson 05's exercises (``python tutorials/check.py 5 --solution``)."""

from __future__ import annotations

import numpy as np

from minigrad import nn


def grad_to_weight_ratios(model: nn.Module) -> list[float]:
    """‖∂L/∂W‖ / ‖W‖ of every Linear of `model`, in order (after ``loss.backward()``)."""
    return [float(np.linalg.norm(m.weight.grad) / np.linalg.norm(m.weight.data))
            for m in model.modules() if isinstance(m, nn.Linear)]


def find_broken_layer(ratios: list[float], factor: float = 10.0) -> int:
    """Index of the layer whose ratio is furthest from the median (on a log scale), if it is
    at least `factor` away from it; -1 when no layer is."""
    r = np.asarray(ratios, float)
    med = np.median(r)
    worst = int(np.argmax(np.abs(r - med)))   # linear distance: WRONG, the spec says log scale
    far = max(r[worst] / med, med / r[worst])
    return worst if far >= factor else -1
