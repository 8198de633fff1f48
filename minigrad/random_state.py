"""The default random generator of minigrad's random functions (`randn`, `rand`, dropout,
initialisers...), and `manual_seed`, which replaces it."""

from __future__ import annotations

import numpy as np

_default_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the default `numpy.random.Generator` used by every random function of minigrad."""
    global _default_generator
    _default_generator = np.random.default_rng(seed)
    return _default_generator


def default_generator() -> np.random.Generator:
    """The generator random functions use when they are not given one."""
    return _default_generator
