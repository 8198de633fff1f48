"""Checks for lesson 3's exercises (``python tutorials/check.py 3``)."""

from __future__ import annotations

import math
from types import ModuleType

import numpy as np

from _checks import expect


def check_kaiming_normal(student: ModuleType) -> None:
    """kaiming_normal has mean 0 and variance 2/fan_in (Linear and Conv2d shapes)"""
    for shape in ((400, 300), (64, 16, 3, 3)):
        w = np.asarray(student.kaiming_normal(shape, np.random.default_rng(0)))
        expect(w.shape == shape, f"shape {w.shape}, expected {shape}", "sample `shape` values")
        fan_in = int(np.prod(shape[1:]))
        target = 2 / fan_in
        # The sample variance of N values has relative std √(2/N) (< 0.003 here): a 3 % band
        # fails a correct answer with probability below 1e-20.
        expect(abs(w.var() / target - 1) < 0.03,
               f"shape {shape}: variance {w.var():.5f}, expected 2/fan_in = {target:.5f}",
               "fan_in is the product of every axis but the first (in · kh · kw), and "
               "rng.normal takes the standard deviation, √(2/fan_in), not the variance")
        expect(abs(w.mean()) < 5 * math.sqrt(target / w.size),
               f"shape {shape}: mean {w.mean():.4f}, expected 0", "a normal centred at 0")
        # Normal, not uniform: the fourth moment of a normal is 3 σ⁴ (uniform: 1.8 σ⁴).
        kurtosis = float((w**4).mean() / w.var() ** 2)
        expect(2.7 < kurtosis < 3.3, f"kurtosis {kurtosis:.2f}: not a normal distribution",
               "use rng.normal, not rng.uniform")


def check_glorot_uniform_bound(student: ModuleType) -> None:
    """glorot_uniform_bound gives Var(U[−a, a]) = 2/(fan_in + fan_out)"""
    for fan_in, fan_out in ((64, 256), (100, 100), (3, 7)):
        a = float(student.glorot_uniform_bound(fan_in, fan_out))
        expect(math.isclose(a * a / 3, 2 / (fan_in + fan_out), rel_tol=1e-9),
               f"({fan_in}, {fan_out}): a = {a:.4f} gives variance {a * a / 3:.5f}, "
               f"expected {2 / (fan_in + fan_out):.5f}",
               "the variance of U[−a, a] is a²/3; solve a²/3 = 2/(fan_in + fan_out)")


def check_relu_variance_factor(student: ModuleType) -> None:
    """relu_variance_factor predicts what a real ReLU net does"""
    rng = np.random.default_rng(0)
    for sigma in (math.sqrt(2 / 256), 0.05, 0.1):
        h = np.abs(rng.standard_normal((2000, 256)))  # E[h²] = 1
        for _ in range(5):
            h = np.maximum(h @ rng.normal(0, sigma, (256, 256)), 0)
        measured = float((h**2).mean())
        predicted = float(student.relu_variance_factor(5, sigma, 256))
        expect(abs(math.log(predicted / measured)) < 0.25,
               f"σ = {sigma:.3f}: predicted factor {predicted:.3g}, a 5-layer ReLU net gives "
               f"{measured:.3g}", "per layer: width · σ² · ½; the factors multiply")
