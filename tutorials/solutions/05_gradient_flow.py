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
    logs = np.log10(np.maximum(np.asarray(ratios, float), 1e-30))
    distance = np.abs(logs - np.median(logs))
    worst = int(np.argmax(distance))
    return worst if distance[worst] >= np.log10(factor) else -1
