"""Lesson 7's decision rules (I5, I6, I3, I8): pure functions of measured numbers, stated in
the lesson before its experiments and unit-tested on synthetic numbers in
tests/test_tutorials.py. "A beats B": A's 95 % CI of steps-to-target lies entirely below
B's; a run that never reached the target counts as infinitely many steps."""

from __future__ import annotations

import math

from _rules_10 import beats
from _verdict import intervals_overlap, mean_interval

I5_STATEMENT = (
    "learning time (steps to the loss target at each net's best learning rate, per seed) of "
    "deep linear nets, orthogonal vs Gaussian N(0, 1/n). NOT REPRODUCED if orthogonal does "
    "not beat Gaussian at the deepest net; REPRODUCED if it beats it there but at no depth "
    "below 50; CORRECTED if it already beats it at some depth below 50 (no 50-layer "
    "threshold).")

I6_STATEMENT = (
    "REPRODUCED if, for every seed, LSUV leaves every layer's output variance within its "
    "tolerance 0.1 of 1 on its batch, layer after layer; NOT REPRODUCED otherwise.")

I3_STATEMENT = (
    "steps to 90% validation accuracy, He vs Glorot/Xavier, per seed; R = mean Xavier steps / "
    "mean He steps, 'p % fewer steps' = 1 − 1/R. NO DIFFERENCE if the 95% CIs overlap; NOT "
    "REPRODUCED if Xavier beats He; REPRODUCED if He beats Xavier with p within 20–40 % "
    "(30 % ± 10); CORRECTED if He beats Xavier with p outside that band.")

I8_STATEMENT = (
    "steps to the target accuracy at each net's best learning rate, per seed, for a 50-block "
    "residual MLP without normalisation. REPRODUCED if both ReZero (α = 0) and Fixup-style "
    "init beat the plain He-initialised net; REPRODUCED IN PART if one does; NOT REPRODUCED "
    "if neither. BN is shown as the reference, not judged.")


def decide_i5(depths: list[int], orthogonal: dict[int, list[float]],
              gaussian: dict[int, list[float]]) -> tuple[str, str]:
    """`orthogonal`/`gaussian`: {depth: steps per seed}."""
    wins = [d for d in depths if beats(orthogonal[d], gaussian[d])]
    means = ", ".join(f"depth {d}: {mean_interval(orthogonal[d])[0]:.0f} vs "
                      f"{mean_interval(gaussian[d])[0]:.0f}" for d in depths)
    if max(depths) not in wins:
        return "not reproduced", (f"orthogonal does not beat Gaussian at depth {max(depths)} "
                                  f"(mean steps orthogonal vs Gaussian: {means})")
    below = [d for d in wins if d < 50]
    if not below:
        return "reproduced", f"orthogonal wins only at depth ≥ 50 ({means})"
    return "corrected", (f"orthogonal already wins at depth {min(below)} < 50 and at "
                         f"{max(depths)}: it helps more the deeper the net, with no 50-layer "
                         f"threshold ({means})")


def decide_i6(worst_deviation_per_seed: list[float], tol: float = 0.1) -> tuple[str, str]:
    """`worst_deviation_per_seed`: max over layers of |Var(output) − 1| after LSUV."""
    worst = max(worst_deviation_per_seed)
    if worst < tol:
        return "reproduced", f"every layer's variance within {worst:.3f} of 1 (tol {tol})"
    return "not reproduced", f"some layer's variance is {worst:.3f} away from 1 (tol {tol})"


def decide_i3(he: list[float], xavier: list[float]) -> tuple[str, str]:
    """Steps to target per seed with He and with Glorot/Xavier."""
    he_ci, xavier_ci = mean_interval(he), mean_interval(xavier)
    ratio = xavier_ci[0] / he_ci[0] if math.isfinite(he_ci[0]) else math.nan
    fewer = 1 - 1 / ratio if ratio and math.isfinite(ratio) else math.nan
    figures = (f"He {he_ci[0]:.0f} vs Xavier {xavier_ci[0]:.0f} steps: ratio {ratio:.2f}, "
               f"i.e. {fewer:.0%} fewer steps with He")
    if beats(xavier, he):
        return "not reproduced", f"Xavier is faster: {figures}"
    if intervals_overlap(he_ci, xavier_ci) or not beats(he, xavier):
        return "no difference", f"the 95% CIs overlap: {figures}"
    if 0.20 <= fewer <= 0.40:
        return "reproduced", f"He is faster by about the claimed 30%: {figures}"
    return "corrected", f"He is faster, but not by 30%: {figures}"


def decide_i8(steps: dict[str, list[float]]) -> tuple[str, str]:
    """`steps`: {"plain", "rezero", "fixup", ...: steps to target per seed}."""
    winners = [name for name in ("rezero", "fixup") if beats(steps[name], steps["plain"])]
    means = ", ".join(f"{k} {mean_interval(v)[0]:.0f}" for k, v in steps.items())
    if len(winners) == 2:
        return "reproduced", f"ReZero and Fixup both beat plain He init (mean steps: {means})"
    if winners:
        return "reproduced in part", f"only {winners[0]} beats plain He init ({means})"
    return "not reproduced", f"neither beats plain He init (mean steps: {means})"
