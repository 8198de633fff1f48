"""Lesson 3's exercises. Replace each ``raise NotImplementedError`` with your code, then run

    python tutorials/check.py 3

NumPy only. Reference answers: tutorials/solutions/03_init.py.
"""

from __future__ import annotations

import numpy as np


def kaiming_normal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """He et al.'s init for ReLU: samples of N(0, 2 / fan_in).

    shape: ``(out, in)`` for a Linear weight or ``(out, in, kh, kw)`` for a Conv2d weight;
    fan_in is everything but the first axis (in · kh · kw) — eq. 10's n = k²c.
    """
    raise NotImplementedError("kaiming_normal")


def glorot_uniform_bound(fan_in: int, fan_out: int) -> float:
    """The bound a of Glorot & Bengio's normalised init U[−a, a], whose variance a²/3 is
    2 / (fan_in + fan_out) (their eq. 16)."""
    raise NotImplementedError("glorot_uniform_bound")


def relu_variance_factor(depth: int, sigma: float, width: int) -> float:
    """By what factor the second moment E[h²] of a ReLU net's activations is multiplied after
    `depth` layers of `width` inputs each, with weights N(0, sigma²) and zero biases.

    One layer: the pre-activation's variance is width · sigma² · E[h²], and ReLU keeps half
    of a symmetric variable's second moment."""
    raise NotImplementedError("relu_variance_factor")
