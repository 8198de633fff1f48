"""Checks for lesson 05's exercises (``python tutorials/check.py 5``)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

import minigrad as mg
from _checks import expect
from minigrad import nn
from minigrad.nn import functional as F


def check_ratios_of_a_real_network(student: ModuleType) -> None:
    """grad_to_weight_ratios reads every Linear of a trained-for-one-step network"""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 4),
                          nn.Sigmoid(), nn.Linear(4, 3))
    x = mg.tensor(np.random.default_rng(0).normal(size=(10, 6)), dtype=np.float32)
    F.cross_entropy(model(x), np.arange(10) % 3).backward()
    expected = [np.linalg.norm(m.weight.grad) / np.linalg.norm(m.weight.data)
                for m in (model[0], model[3], model[5])]
    got = student.grad_to_weight_ratios(model)
    expect(len(got) == 3, f"{len(got)} ratios, expected 3 (one per Linear)",
           "iterate over model.modules() and keep the nn.Linear ones")
    expect(np.allclose(got, expected, rtol=1e-6), f"got {np.round(got, 5)}, expected "
           f"{np.round(expected, 5)}", "norm of the weight's .grad over norm of its .data")


def check_find_the_cold_layer(student: ModuleType) -> None:
    """find_broken_layer spots a layer whose gradient vanished"""
    got = student.find_broken_layer([1e-2, 1.3e-2, 2e-6, 0.8e-2, 1.1e-2])
    expect(got == 2, f"returned {got} for ratios where layer 2 is 5,000x below the others",
           "compare each layer with the median on a log scale")


def check_find_the_hot_layer(student: ModuleType) -> None:
    """find_broken_layer spots a layer whose gradient exploded"""
    got = student.find_broken_layer([1e-3, 2e-3, 1.5e-3, 0.8])
    expect(got == 3, f"returned {got} for ratios where layer 3 is 500x above the others",
           "'furthest from the median' works in both directions: use an absolute distance")


def check_cold_beats_mildly_hot(student: ModuleType) -> None:
    """find_broken_layer weighs a cold and a hot layer on a log scale"""
    # Layer 3 is 10,000x below the median (1), layer 4 only 20x above it: on a log scale
    # layer 3 is 4 decades away, layer 4 1.3. A linear distance, |ratio - median|, sees 1
    # and 19 and names the hot layer; in the checks above each picture had one outlier only.
    got = student.find_broken_layer([1.0, 1.0, 1.0, 1e-4, 20.0])
    expect(got == 3, f"returned {got} for ratios [1, 1, 1, 1e-4, 20]: layer 3 is 10,000x "
           "below the median, layer 4 only 20x above it",
           "measure the distance as |log10(ratio) - log10(median)|: 10,000x below is 4 "
           "decades away, 20x above only 1.3 (|ratio - median| would say 1 and 19)")


def check_nothing_broken(student: ModuleType) -> None:
    """find_broken_layer returns -1 for a healthy picture"""
    got = student.find_broken_layer([1e-3, 3e-3, 5e-3, 2e-3])
    expect(got == -1, f"returned {got} where every layer is within 10x of the median",
           "only a layer at least `factor` times away from the median is broken")
