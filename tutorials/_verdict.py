"""Decision rules: how a lesson turns what it measured into a verdict.

A claim's verdict is never written by hand. Before the experiment, the lesson states a
`Rule` in its prose and prints it (``rule.announce()``); after the experiment it calls the
rule on the numbers it just measured, and the rule *chooses* the verdict::

    B1_RULE = Rule(
        "B1", "BN allows learning rates up to 14x higher",
        "reproduced if BN's highest stable lr is >= 10x the plain net's in every seed; "
        "reproduced in part if it is > 1x in every seed; otherwise not reproduced",
        decide_b1,                     # a pure function: measured numbers -> (verdict, why)
    )
    B1_RULE.announce()                 # before the experiment
    ...                                # the experiment
    B1_RULE.report(RESULTS, ratios=ratios)   # prints and records the verdict it chose

Because ``decide`` is a plain function of numbers, tests feed it synthetic numbers and check
that the verdict flips where the stated rule says it should.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# The only words a verdict may be. "corrected": the claim as the note states it is wrong or
# imprecise, and the run measured what is true instead. "no difference": the run cannot tell
# the compared settings apart (their confidence intervals overlap; each rule says how).
VERDICTS = ("reproduced", "reproduced in part", "not reproduced", "corrected", "no difference")


@dataclass(frozen=True)
class Verdict:
    """What a rule chose: the verdict word and the reason, which quotes the measured numbers."""

    claim: str
    verdict: str
    why: str


class Rule:
    """A decision rule for one claim, stated before the experiment and applied after it.

    ``decide(**measured) -> (verdict, why)`` must return one of `VERDICTS` and a reason that
    quotes the numbers it used.
    """

    def __init__(self, claim: str, note_says: str, statement: str,
                 decide: Callable[..., tuple[str, str]]) -> None:
        self.claim = claim
        self.note_says = note_says
        self.statement = statement
        self.decide = decide

    def announce(self) -> None:
        """Print the rule (call it before running the experiment)."""
        print(f"RULE — {self.claim} ({self.note_says}): {self.statement}")

    def __call__(self, **measured: Any) -> Verdict:
        # A NaN compares False with everything, so a rule handed one would fall through its
        # tests to whatever verdict comes last, silently. A NaN means a run diverged or a
        # measurement failed: no verdict can be read from it.
        missing = _nan_paths(measured)
        if missing:
            raise ValueError(f"Rule {self.claim}: the measured numbers hold NaN at "
                             f"{', '.join(missing[:5])}; a NaN compares False with everything, "
                             "so no verdict can be read from it. Fix: find the run that "
                             "diverged or the measurement that failed, and record what it "
                             "means (inf for a target never reached, 0 for a diverged run's "
                             "accuracy) before applying the rule.")
        verdict, why = self.decide(**measured)
        if verdict not in VERDICTS:
            raise ValueError(f"Rule {self.claim}: decide() returned {verdict!r}, which is not "
                             f"one of {VERDICTS}.")
        return Verdict(self.claim, verdict, why)

    def report(self, results: Any, measured_lines: Sequence[str] = (),
               **measured: Any) -> Verdict:
        """Apply the rule to `measured`, print the Verdict block and record it in
        ``results["verdicts"][claim]`` (with the rule and the numbers it read)."""
        chosen = self(**measured)
        print(f"VERDICT — {self.claim}: {self.note_says}")
        print(f"  rule:     {self.statement}")
        for line in measured_lines:
            print(f"  measured: {line}")
        print(f"  verdict:  {chosen.verdict.upper()} — {chosen.why}")
        if results is not None:
            verdicts = dict(results.get("verdicts", {}))
            # `Results` turns NumPy values into JSON ones when it stores the dict.
            verdicts[self.claim] = {**asdict(chosen), "rule": self.statement,
                                    "measured": dict(measured)}
            results["verdicts"] = verdicts
        return chosen


def _nan_paths(value: Any, path: str = "") -> list[str]:
    """Where `value` (numbers, arrays, nested dicts and lists) holds a NaN: ``["gap_bn[1]"]``."""
    if isinstance(value, dict):
        return [hit for key, item in value.items()
                for hit in _nan_paths(item, f"{path}.{key}" if path else str(key))]
    if isinstance(value, np.ndarray) and value.ndim == 0:  # np.array(1.0): a scalar, which
        value = value.item()                                # enumerate() cannot iterate
    if isinstance(value, list | tuple | np.ndarray):
        return [hit for i, item in enumerate(value) for hit in _nan_paths(item, f"{path}[{i}]")]
    if isinstance(value, float | np.floating) and math.isnan(value):
        return [path]
    return []


def mean_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval ``(mean, low, high)`` of `values`.

    With one value the interval is that value; infinite values (a run that never reached a
    target) make the interval infinite on that side, never silently dropped; a NaN is a
    ValueError (an interval of NaN would make every comparison False)."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        raise ValueError("mean_interval: no values.")
    if np.isnan(array).any():
        raise ValueError(f"mean_interval: NaN among the values {array.tolist()}: its interval "
                         "would be NaN, and every comparison with it False. Fix: find the run "
                         "that produced it (a divergence?) and record what it means instead.")
    if not np.all(np.isfinite(array)):
        return float(np.mean(array)), float(np.min(array)), float(np.max(array))
    mean = float(array.mean())
    if array.size == 1:
        return mean, mean, mean
    from scipy import stats  # scipy comes with scikit-learn (the tutorials extra)

    half = float(stats.t.ppf(0.5 + level / 2, array.size - 1) * array.std(ddof=1)
                 / math.sqrt(array.size))
    return mean, mean - half, mean + half


def intervals_overlap(first: tuple[float, float, float], second: tuple[float, float, float]
                      ) -> bool:
    """True when two `mean_interval` results overlap (then "no difference" is the honest
    reading)."""
    return first[1] <= second[2] and second[1] <= first[2]
