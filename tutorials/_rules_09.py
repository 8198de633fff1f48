"""Decision rules of lesson 09 (B8, B9). Pure functions of measured numbers; the tests in
tests/test_tutorials_bn.py make each verdict flip."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from _verdict import Rule, mean_interval


def decide_b8(steps: dict, highest_lr: dict) -> tuple[str, str]:
    """steps[net][variant] / highest_lr[net][variant]: per seed, for net in {"CNN", "ResCNN"}
    and variant in {"plain", "bn"}: steps to the target at the net's best lr (inf = never) and
    the highest stable lr of the grid."""
    held = {}
    for net in steps:
        held[f"{net} faster"] = bool(np.all(np.asarray(steps[net]["bn"], float)
                                            < np.asarray(steps[net]["plain"], float)))
        held[f"{net} higher lr"] = bool(np.all(np.asarray(highest_lr[net]["bn"], float)
                                               > np.asarray(highest_lr[net]["plain"], float)))
    text = "; ".join(f"{name} with BN in every seed: {'yes' if ok else 'no'}"
                     for name, ok in held.items())
    if all(held.values()):
        return "reproduced", text
    return ("reproduced in part" if any(held.values()) else "not reproduced"), text


B8 = Rule(
    "B8", "BN works particularly well with CNNs and ResNets",
    "for a small CNN and a small residual CNN: does BN reach the target in fewer steps (each net "
    "at its best lr) and train at a higher highest stable lr, in every seed? reproduced if all "
    "four hold, reproduced in part if some, not reproduced if none ('particularly', i.e. more "
    "than for an MLP, is not tested)",
    decide_b8)


def decide_b9(train_ratios: Sequence[float], folded_ratios: Sequence[float],
              slight: float = 1.25) -> tuple[str, str]:
    """train_ratios: BN/plain training-step time, one per interleaved repeat; folded_ratios:
    folded-BN/plain inference time, one per repeat."""
    train = mean_interval(train_ratios)
    folded = mean_interval(folded_ratios)
    text = (f"training step BN/plain {train[0]:.2f} [{train[1]:.2f}, {train[2]:.2f}]; "
            f"inference folded/plain {folded[0]:.2f} [{folded[1]:.2f}, {folded[2]:.2f}]")
    folding_free = folded[1] <= 1.1
    if train[1] <= 1 <= train[2]:
        return "no difference", text + "; BN's training step is not measurably slower"
    if train[2] < 1:
        return "not reproduced", text + "; BN's training step is faster"
    if train[0] > slight:
        return "corrected", text + (f"; more than slight (> {slight}x)"
                                    + ("; folding removes it at inference" if folding_free
                                       else ""))
    if folding_free:
        return "reproduced", text + f"; slower by at most {slight}x, and free after folding"
    return "reproduced in part", text + "; slightly slower, but folding does not remove the cost"


B9 = Rule(
    "B9", "BN slightly increases the computational cost",
    "from interleaved timings (95% intervals over repeats): no difference if BN's training "
    "step is not measurably slower; reproduced if slower by at most 1.25x ('slightly') and the "
    "folded net's inference is within 1.1x of the plain net's (its interval reaches 1.1 or "
    "below); reproduced in part if slightly "
    "slower but folding does not remove it; corrected if slower by more than 1.25x (its mean "
    "ratio); not reproduced if BN's training step is measurably faster",
    decide_b9)
