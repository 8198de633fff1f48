"""Decision rules of lesson 08 (B4, B5, B11). Pure functions of measured numbers; the tests in
tests/test_tutorials_bn.py make each verdict flip.

Comparisons are *paired*: every setting runs on the same seeds (same data split, same
initial weights where the architectures allow it), so we look at the per-seed difference and
its 95% Student-t interval. "No difference" when that interval contains 0."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from _verdict import Rule, mean_interval


def paired(first: Sequence[float], second: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% interval of the per-seed differences ``first - second``."""
    return mean_interval(np.asarray(first, float) - np.asarray(second, float))


def _show(interval: tuple[float, float, float]) -> str:
    return f"{interval[0]:+.3f} [{interval[1]:+.3f}, {interval[2]:+.3f}]"


def decide_b4(gap_bn: Sequence[float], gap_neither: Sequence[float],
              val_bn: Sequence[float], val_dropout: Sequence[float]) -> tuple[str, str]:
    """gap_*: validation minus training cross-entropy per seed; val_*: validation accuracy."""
    gap = paired(gap_bn, gap_neither)
    versus_dropout = paired(val_bn, val_dropout)
    text = (f"gap(BN) − gap(neither) {_show(gap)}; val. acc.(BN) − val. acc.(dropout) "
            f"{_show(versus_dropout)}")
    if gap[1] <= 0 <= gap[2]:
        return "no difference", text + "; BN's gap is not distinguishable from no regulariser's"
    if gap[2] > 0 and gap[1] > 0:
        return "not reproduced", text + "; BN widens the gap"
    if versus_dropout[2] >= 0:  # not below dropout's
        return "reproduced", text + "; BN narrows the gap and is at least as good as dropout"
    return "reproduced in part", text + "; BN narrows the gap but does worse than dropout"


B4 = Rule(
    "B4", "BN is a light regulariser, sometimes replacing dropout",
    "paired over seeds (95% intervals): no difference if BN's validation−training "
    "cross-entropy gap is not distinguishable from the plain net's; reproduced if BN narrows it "
    "and its validation accuracy is not below dropout's (interval of the difference reaches 0 "
    "or above); reproduced in part if it narrows it but does worse than dropout; not "
    "reproduced if it widens it",
    decide_b4)


def decide_b5(batch_sizes: Sequence[int], bn_minus_gn_increase: dict) -> tuple[str, str]:
    """bn_minus_gn_increase[b]: per seed, (BN error at b − BN error at the largest batch) −
    (the same for GroupNorm), in points. BN is degraded at b when its interval is above 0."""
    intervals = {b: mean_interval(bn_minus_gn_increase[str(b)]) for b in batch_sizes}
    degraded = [b for b in batch_sizes if intervals[b][1] > 0]
    text = (f"BN degraded beyond GroupNorm at batch sizes {degraded or 'none'} (interval "
            "above 0); " + ", ".join(f"{b}: {_show(intervals[b])}" for b in batch_sizes))
    small = [b for b in batch_sizes if b < 16]
    if not degraded:
        return "not reproduced", text
    if sorted(degraded) == sorted(small):
        return "reproduced", text + "; exactly the batches under 16"
    return "reproduced in part", text + "; BN degrades at small batches, not at the threshold 16"


B5 = Rule(
    "B5", "BN degrades with batches under 16",
    "BN is degraded at batch b when, paired over seeds, its error increase over the largest "
    "batch exceeds GroupNorm's (95% interval above 0); reproduced if that happens exactly at "
    "the batch sizes under 16; reproduced in part if at some other set; not reproduced if at none",
    decide_b5)


def highest_error_reading(error_percent: dict) -> str:
    """Which net has the highest mean validation error at each batch size (B5's panel (a)).

    error_percent[net][batch size]: per seed, for net in {"none", "BatchNorm", "GroupNorm"}.
    Not a verdict: the sentence the lesson prints under the figure, from the numbers, so that
    it never states a ranking the run did not measure."""
    sizes = sorted(error_percent["none"], key=int)
    mean = {net: {b: float(np.mean(errors[b])) for b in sizes}
            for net, errors in error_percent.items()}
    highest = {b: max(mean, key=lambda net: mean[net][b]) for b in sizes}
    listed = "; ".join(f"{b}: " + ", ".join(f"{net} {mean[net][b]:.1f}%" for net in mean)
                       for b in sizes)
    above = [b for b in sizes if highest[b] == "none"]
    if len(above) == len(sizes):
        return f"the un-normalised net has the highest error at every batch size ({listed})"
    others = ", ".join(f"{highest[b]} at {b}" for b in sizes if b not in above)
    where = f"at batch sizes {', '.join(above)}" if above else "at no batch size"
    return (f"the un-normalised net has the highest error {where}; the highest is {others} "
            f"({listed})")


def decide_b11(loss_range_plain: Sequence[float], loss_range_bn: Sequence[float],
               grad_change_plain: Sequence[float], grad_change_bn: Sequence[float]
               ) -> tuple[str, str]:
    """Per seed, averaged over the measurement points of training: the range of the loss along
    the gradient direction, and the largest change of the gradient, with and without BN."""
    loss = paired(np.log(loss_range_bn), np.log(loss_range_plain))
    grad = paired(np.log(grad_change_bn), np.log(grad_change_plain))
    text = (f"log(BN/plain) loss range {_show(loss)} (×{np.exp(loss[0]):.2g}), gradient change "
            f"per distance moved {_show(grad)} (×{np.exp(grad[0]):.2g})")
    smoother = [interval[2] < 0 for interval in (loss, grad)]
    rougher = [interval[1] > 0 for interval in (loss, grad)]
    if all(smoother):
        return "reproduced", text + "; both smaller with BN"
    if any(rougher):
        return "not reproduced", text + "; larger with BN"
    if any(smoother):
        return "reproduced in part", text + "; one of the two smaller with BN"
    return "no difference", text


B11 = Rule(
    "B11", "BN speeds convergence by reducing oscillations (Santurkar et al.: a smoother loss)",
    "paired over seeds, on the log of each measure: reproduced if both the loss range and the "
    "gradient change per distance moved (effective β-smoothness) along the gradient are "
    "smaller with BN (95% interval below 0); "
    "not reproduced if either is larger (even when the other is smaller); reproduced in part "
    "if one is smaller and the other not distinguishable; otherwise no difference",
    decide_b11)
