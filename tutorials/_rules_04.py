"""Decision rules of lesson 04 (B10, B7). Pure functions of measured numbers; the tests in
tests/test_tutorials_bn.py make each verdict flip."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from _verdict import Rule


def decide_b10(features: int, parameter_tensors: int, parameter_values: int,
               buffer_values: int) -> tuple[str, str]:
    """Counts for one BatchNorm layer over `features` channels."""
    text = (f"BatchNorm over C = {features}: {parameter_tensors} parameter tensors holding "
            f"{parameter_values} trained values, and {buffer_values} buffer values")
    if parameter_values == 2 and buffer_values == 0:
        return "reproduced", text + "; exactly two parameters"
    if parameter_tensors == 2 and parameter_values == 2 * features:
        return "corrected", text + "; γ and β are vectors (2C trained values) plus buffers"
    return "not reproduced", text


B10 = Rule(
    "B10", "BN adds two parameters per layer (γ and β)",
    "count `parameters()` and `buffers()` of real layers: reproduced if a layer has exactly two "
    "trained numbers and nothing else; corrected if it has two parameter tensors of C values "
    "each (2C) plus running statistics; not reproduced otherwise",
    decide_b10)


def decide_b7(accuracy: dict, population: Sequence[float], tolerance: float = 0.01
              ) -> tuple[str, str]:
    """accuracy[momentum]: validation accuracy per seed with the running statistics that
    momentum gives; population: per seed, with Algorithm 2's population statistics."""
    population = np.asarray(population, float)
    good = sorted(float(m) for m, values in accuracy.items()
                  if np.all(np.asarray(values, float) >= population - tolerance))
    worst = min(accuracy, key=lambda m: np.mean(accuracy[m]))
    text = (f"momenta within {tolerance:.0%} of the population statistics in every seed: "
            f"{good or 'none'}; worst momentum {worst} "
            f"({np.mean(accuracy[worst]) - population.mean():+.3f} vs population)")
    if not good:
        return "reproduced", text + "; no momentum is safe: it needs tuning"
    span = max(good) / min(good)
    if span >= 10:
        return "reproduced in part", text + (f"; running averages yes, but a band spanning "
                                             f"{span:.0f}x works: no careful tuning")
    return "reproduced", text + f"; only a narrow band ({span:.0f}x) works"


B7 = Rule(
    "B7", "inference uses running averages; momentum needs careful tuning",
    "a momentum 'works' when its validation accuracy is within 1 point of Algorithm 2's "
    "population statistics in every seed; reproduced if no momentum or only a band narrower "
    "than 10x works; reproduced in part (running averages: yes; careful tuning: no) if the "
    "working band spans >= 10x",
    decide_b7)
