"""The default random generator of minigrad's random functions (`randn`, `rand`, dropout,
initialisers...), and `manual_seed`, which replaces it."""

from __future__ import annotations

from numbers import Integral

import numpy as np

_default_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the default `numpy.random.Generator` used by every random function of minigrad.

    `seed` is a whole number >= 0 (a Python or NumPy integer). A negative seed is refused,
    not mapped: NumPy's generators take none, and PyTorch, which does, wraps it onto an
    unsigned one by its own rule; minigrad's random streams differ from PyTorch's anyway, so
    a silent mapping would only hide which seed was used.
    """
    global _default_generator
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise TypeError(f"manual_seed: the seed must be a whole number >= 0, got {seed!r} "
                        f"({type(seed).__name__}). Fix: pass an int, e.g. manual_seed(0).")
    if seed < 0:
        raise ValueError(f"manual_seed: the seed must be a whole number >= 0 (NumPy's "
                         f"generators take no negative seed), got {seed}. Fix: use a seed "
                         f">= 0, e.g. manual_seed({-int(seed)}).")
    _default_generator = np.random.default_rng(int(seed))
    return _default_generator


def default_generator() -> np.random.Generator:
    """The generator random functions use when they are not given one."""
    return _default_generator
