"""Lesson 08's exercise: GroupNorm from primitives. Replace the ``raise NotImplementedError``
with your code, then run

    python tutorials/check.py 8

Reference answer: tutorials/solutions/08_groupnorm.py.
"""

from __future__ import annotations

import minigrad as mg


def group_norm(x: mg.Tensor, num_groups: int, weight: mg.Tensor, bias: mg.Tensor,
               eps: float = 1e-5) -> mg.Tensor:
    """Group normalisation (Wu & He 2018) of ``x (N, C, *)``: split the C channels into
    `num_groups` groups of consecutive channels; normalise each sample's group over its
    channels and positions (mean, BIASED variance, eps inside the square root); then scale and
    shift per channel by ``weight``, ``bias`` (shape ``(C,)``).

    Use minigrad operations only (``reshape``, ``mean(axis=..., keepdims=True)``, ``*``,
    ``-``, ``/``, ``sqrt``) so gradients flow. If C is not divisible by `num_groups`, raise a
    ``ValueError`` that says so — check C itself: on an image, ``reshape(N, groups, -1)``
    does not notice (6 channels of 2×2 are 24 values, evenly split into 4 groups).
    """
    raise NotImplementedError("group_norm")
