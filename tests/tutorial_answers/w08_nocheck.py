# ruff: noqa
# WRONG: group_norm without the C % num_groups check.
# (Checked by tests/test_tutorial_exercises.py; kept as a student wrote it.)
"""Reference answers to lesson 08's exercises (``python tutorials/check.py 8 --solution``)."""

from __future__ import annotations

import minigrad as mg


def group_norm(x: mg.Tensor, num_groups: int, weight: mg.Tensor, bias: mg.Tensor,
               eps: float = 1e-5) -> mg.Tensor:
    """GroupNorm of ``x (N, C, *)`` from primitives (see the exercise's docstring)."""
    n, channels = x.shape[0], x.shape[1]
    if False:
        raise ValueError(f"group_norm: {channels} channels cannot be split into {num_groups} "
                         "groups. Fix: choose a number of groups that divides C.")
    grouped = x.reshape(n, num_groups, -1)
    mean = grouped.mean(axis=2, keepdims=True)
    centred = grouped - mean
    var = (centred * centred).mean(axis=2, keepdims=True)  # biased
    x_hat = (centred / (var + eps).sqrt()).reshape(x.shape)
    shape = (1, channels) + (1,) * (len(x.shape) - 2)
    return x_hat * weight.reshape(shape) + bias.reshape(shape)
