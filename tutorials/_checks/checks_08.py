"""Checks for lesson 08's exercise (``python tutorials/check.py 8``)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

import minigrad as mg
from _checks import expect
from minigrad.nn import functional as F


def _problem(seed: int, shape: tuple[int, ...]) -> list[mg.Tensor]:
    rng = np.random.default_rng(seed)
    channels = shape[1]
    return [mg.tensor(rng.normal(1.0, 2.0, shape), requires_grad=True),
            mg.tensor(rng.normal(1.0, 0.3, channels), requires_grad=True),
            mg.tensor(rng.normal(0.0, 0.5, channels), requires_grad=True)]


def check_matches_minigrad_on_images(student: ModuleType) -> None:
    """group_norm equals F.group_norm on (N, C, H, W) for 1, 2 and C groups"""
    x, weight, bias = _problem(0, (3, 6, 2, 2))
    for groups in (1, 2, 6):
        got = student.group_norm(x, groups, weight, bias)
        expected = F.group_norm(x, groups, weight, bias)
        error = float(np.abs(got.data - expected.data).max())
        expect(error < 1e-9, f"{groups} groups: largest difference from F.group_norm "
               f"{error:.3g}", "reshape to (N, groups, -1) and take statistics over the last "
               "axis; the biased variance; weight/bias broadcast per channel (1, C, 1, 1)")


def check_matches_minigrad_on_vectors(student: ModuleType) -> None:
    """group_norm works on (N, C) too"""
    x, weight, bias = _problem(1, (4, 10))
    got = student.group_norm(x, 5, weight, bias)
    error = float(np.abs(got.data - F.group_norm(x, 5, weight, bias).data).max())
    expect(error < 1e-9, f"largest difference from F.group_norm: {error:.3g}",
           "the per-channel shape of weight and bias is (1, C) for a 2-d input")


def check_gradients(student: ModuleType) -> None:
    """gradients flow to x, weight and bias (mg.gradcheck, float64)"""
    tensors = _problem(2, (2, 4, 3))
    upstream = mg.tensor(np.random.default_rng(3).normal(size=(2, 4, 3)))
    try:
        ok = mg.gradcheck(lambda x, w, b: (student.group_norm(x, 2, w, b) * upstream).sum(),
                          tensors)
    except NotImplementedError:
        raise
    except Exception as error:
        expect(False, f"gradcheck failed: {str(error).splitlines()[0]}",
               "use only minigrad operations: .data or NumPy calls cut the graph")
    expect(bool(ok), "gradcheck returned False", "use only minigrad operations")


def check_bad_groups(student: ModuleType) -> None:
    """group_norm refuses a number of groups that does not divide C, with a ValueError"""
    # An image, not a (N, C) matrix: 6 channels x 2 x 2 positions = 24 values per sample
    # split into 4 groups of 6 without complaint from reshape, so only a check of C itself
    # catches that the groups would cut channels in two. (On (2, 6), reshape(2, 4, -1)
    # fails by itself and hides a missing check.)
    x, weight, bias = _problem(4, (2, 6, 2, 2))
    try:
        student.group_norm(x, 4, weight, bias)
    except NotImplementedError:
        raise
    except ValueError:
        return
    except Exception as error:
        expect(False, f"raised {type(error).__name__}, expected ValueError",
               "check C % num_groups before reshaping, and raise ValueError")
    expect(False, "6 channels in 4 groups, on an input of shape (2, 6, 2, 2), did not raise: "
           "it returned a result whose groups cut channels in two",
           "reshape(N, groups, -1) cannot notice (6·2·2 = 24 values split evenly into 4): "
           "check x.shape[1] % num_groups yourself, first, and raise ValueError")
