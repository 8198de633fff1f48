"""Lesson 3's exercises — reference answers (``python tutorials/check.py 3 --solution``)."""

from __future__ import annotations

import math

import numpy as np


def kaiming_normal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """N(0, 2 / fan_in), fan_in = in · kh · kw."""
    fan_in = int(np.prod(shape[1:]))
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)


def glorot_uniform_bound(fan_in: int, fan_out: int) -> float:
    """a = √(6 / (fan_in + fan_out)), since Var(U[−a, a]) = a² / 3."""
    return math.sqrt(6.0 / (fan_in + fan_out))


def relu_variance_factor(depth: int, sigma: float, width: int) -> float:
    """(width · sigma² / 2) ** depth."""
    return (width * sigma**2 / 2) ** depth
