"""The update:data ratio's numbers for the recorder: the standard deviation of each of a
list of arrays (a model's parameters) and of each one's change over one optimiser step,
with a few NumPy calls for all of them (not per parameter), in work arrays kept while the
sizes stay the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Spreads:
    """The standard deviation of each of a list of arrays, and of each one's change since
    `keep`: the update:data ratio's two numbers, with a few NumPy calls. The layout is
    kept while the sizes stay the same."""

    def __init__(self) -> None:
        self._sizes: tuple[int, ...] | None = None
        self.before = np.zeros(0)

    def keep(self, arrays: list[Any]) -> None:
        """Note the arrays' values now (a copy)."""
        sizes = tuple([getattr(a, "size", 1) for a in arrays])  # (a float: one value)
        if sizes != self._sizes:
            counts = np.array(sizes, dtype=np.intp)
            starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.intp)
            self.starts = np.concatenate((starts, starts + counts.sum())).astype(np.intp)
            self.sizes = np.concatenate((counts, counts)).astype(np.float64)
            self.repeats = np.concatenate((counts, counts))
            self.count, self._sizes = len(counts), sizes
            self.both = np.empty(2 * int(counts.sum()))  # [now - before, now]
            self.before = np.empty(int(counts.sum()))
        np.concatenate(arrays, axis=None, out=self.before)

    def ratio(self, arrays: list[Any]) -> np.ndarray:
        """std(now - before) / std(now) per array (NaN where std(now) is 0)."""
        both, total = self.both, self.before.size
        now = both[total:]
        np.concatenate(arrays, axis=None, out=now)
        np.subtract(now, self.before, out=both[:total])
        mean = np.add.reduceat(both, self.starts)
        mean /= self.sizes
        both -= np.repeat(mean, self.repeats)  # (a C fill per array: cheaper than a gather)
        squares = np.add.reduceat(np.square(both, out=both), self.starts)  # sizes * variance
        # The two variances of an array share its size: the ratio of stds is the root of
        # the ratio of summed squares.
        return np.sqrt(ratio(squares[:self.count], squares[self.count:]))


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is not positive."""
    # x / NaN is NaN, without the warning a division by zero gives.
    return numerator / np.where(denominator > 0, denominator, np.nan)
