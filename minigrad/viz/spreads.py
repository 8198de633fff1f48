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
    kept while the sizes stay the same.

    An empty array has no ratio (NaN), nor has one whose size changed between `keep` and
    `ratio` (a parameter resized in place: its change is not defined element by element;
    the recorder's next kept step reports the new shape as a structure change)."""

    def __init__(self) -> None:
        self._sizes: tuple[int, ...] | None = None
        self.before = np.zeros(0)

    def keep(self, arrays: list[Any]) -> None:
        """Note the arrays' values now (a copy)."""
        sizes = tuple([getattr(a, "size", 1) for a in arrays])  # (a float: one value)
        if sizes != self._sizes:
            counts = np.array(sizes, dtype=np.intp)
            # reduceat over the arrays that have elements only (a zero-length segment
            # gives the element at its start, or fails when it is the last).
            self.present = present = np.flatnonzero(counts)
            self.all_present = present.size == counts.size
            counts = counts[present]
            starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.intp)
            self.starts = np.concatenate((starts, starts + counts.sum())).astype(np.intp)
            self.sizes = np.concatenate((counts, counts)).astype(np.float64)
            self.repeats = np.concatenate((counts, counts))
            self.count, self._sizes = len(counts), sizes
            self.both = np.empty(2 * int(counts.sum()))  # [now - before, now]
            self.before = np.empty(int(counts.sum()))
        np.concatenate(arrays, axis=None, out=self.before)

    def ratio(self, arrays: list[Any]) -> np.ndarray:
        """std(now - before) / std(now) per array (NaN where std(now) is 0, where the
        array is empty or where its size is not the one `keep` saw)."""
        sizes = tuple([getattr(a, "size", 1) for a in arrays])
        if sizes != self._sizes:
            return self._ratio_one_by_one(arrays, sizes)
        if not self.count:  # nothing but empty arrays
            return np.full(len(sizes), np.nan)
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
        found = np.sqrt(ratio(squares[:self.count], squares[self.count:]))
        if self.all_present:
            return found
        result = np.full(len(sizes), np.nan)
        result[self.present] = found
        return result

    def _ratio_one_by_one(self, arrays: list[Any], sizes: tuple[int, ...]) -> np.ndarray:
        """`ratio` when some sizes changed since `keep` (rare): NaN for those."""
        result = np.full(len(sizes), np.nan)
        if self._sizes is None or len(sizes) != len(self._sizes):
            return result
        start = 0
        for i, (size, kept) in enumerate(zip(sizes, self._sizes)):
            if size == kept and size:
                now = np.asarray(arrays[i], dtype=np.float64).reshape(-1)
                spread = np.std(now)
                if spread > 0:
                    result[i] = np.std(now - self.before[start:start + size]) / spread
            start += kept
        return result


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is not positive."""
    # x / NaN is NaN, without the warning a division by zero gives.
    return numerator / np.where(denominator > 0, denominator, np.nan)
