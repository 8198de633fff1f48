"""Lesson 10's decision rules (B6, I4): pure functions of measured numbers, stated in the
lesson before its experiments and unit-tested on synthetic numbers in tests/test_tutorials.py.

"A beats B" always means: A's 95 % confidence interval of steps-to-target lies entirely
below B's (fewer steps); a run that never reached the target counts as infinitely many steps.
"""

from __future__ import annotations

from _verdict import mean_interval

B6_STATEMENT = (
    "steps to the target accuracy, per seed, for each normalisation. REPRODUCED if neither "
    "BN variant (input-to-hidden, per-time-step hidden-to-hidden) beats the un-normalised "
    "RNN; REPRODUCED IN PART if exactly one does; NOT REPRODUCED if both do. "
    "(A beats B: A's 95% CI of steps lies entirely below B's.)")

I4_STATEMENT = (
    "steps to the target accuracy, per seed, for each recurrent init. REPRODUCED if no other "
    "init beats Glorot/Xavier (it is as fast as the best, within the 95% CIs); NOT "
    "REPRODUCED if some init beats it.")


def beats(first: list[float], second: list[float]) -> bool:
    """True when `first` (steps per seed) is faster than `second` beyond their 95 % CIs."""
    _, _, first_high = mean_interval(first)
    _, second_low, _ = mean_interval(second)
    return first_high < second_low


def decide_b6(steps: dict[str, list[float]]) -> tuple[str, str]:
    """`steps`: {"none", "bn_input", "bn_hidden", ...: steps to target per seed}."""
    winners = [name for name in ("bn_input", "bn_hidden") if beats(steps[name], steps["none"])]
    means = ", ".join(f"{k} {mean_interval(v)[0]:.0f}" for k, v in steps.items())
    if not winners:
        return "reproduced", (f"no BN variant is faster than no normalisation beyond the CIs "
                              f"(mean steps: {means})")
    if len(winners) == 1:
        return "reproduced in part", (f"only {winners[0]} beats no normalisation "
                                      f"(mean steps: {means})")
    return "not reproduced", f"both BN variants beat no normalisation (mean steps: {means})"


def decide_i4(steps: dict[str, list[float]]) -> tuple[str, str]:
    """`steps`: {"xavier", "orthogonal", ...: steps to target per seed}."""
    faster = [name for name in steps if name != "xavier" and beats(steps[name], steps["xavier"])]
    means = ", ".join(f"{k} {mean_interval(v)[0]:.0f}" for k, v in steps.items())
    if faster:
        return "not reproduced", (f"{', '.join(faster)} beat(s) Glorot/Xavier beyond the CIs "
                                  f"(mean steps: {means})")
    return "reproduced", f"no init beats Glorot/Xavier beyond the CIs (mean steps: {means})"
