"""The recorder's statistics: rms, norm, mean, std, range and histogram of many arrays at once.

A kept step summarises ~40 arrays (every box's value and gradient). One NumPy call per
array per statistic would cost far more than the step itself, so both functions here lay
the arrays end to end in one float64 buffer and reduce each array's segment with
``ufunc.reduceat``, and count every histogram with one ``np.bincount``.

`summarise` allocates its temporaries at every call. `Workspace` computes the same
statistics in work arrays kept from one step to the next: with glibc's default settings a
freshly allocated array of more than 128 KiB is new memory from the operating system, and
its first touch costs a page fault per 4 KiB page (measured on the demo model: ~260
faults, two thirds of the statistics' time). Its memory is bounded, whatever the tensor
sizes: one buffer of at most `WORKSPACE_ELEMENTS` elements (8 bytes each, 512 KiB) and a
work array of `CENTRED_ELEMENTS` (128 KiB); a larger step uses `summarise`.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

# (re-exported: the recorder's tests and `style` read them here)
from minigrad.viz.huge_values import (  # noqa: F401
    OVERFLOW,
    halve_wide_spans,
    root_mean_square,
    root_sum_squares,
    scaled_moments,
    unsquare,
)

WORKSPACE_ELEMENTS = 1 << 16  # most elements (a step's values and gradients, padded)

# Columns of the statistics both functions return.
RMS, NORM, MEAN, STD, LOW, HIGH = range(6)


def summarise(arrays: list[Any], bins: int, histograms: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Statistics of many arrays at once, with a few NumPy calls in all (not per array).

    Returns ``stats`` of shape ``(len(arrays), 6)``: rms, norm, mean, std, low, high
    (NaN where an array is None or empty) and ``counts`` of shape ``(len(arrays), bins)``:
    each array's histogram on ``bins`` equal bins from its low to its high, as
    ``np.histogram(a, bins, range=(low, high))`` counts them (all-equal values: one unit
    wide around them), for the first `histograms` arrays (default all; zeros after).
    Non-finite elements are left out of every statistic but two: the rms and norm of an
    array with a NaN or infinite element are inf (its size is not finite; a diverging
    gradient must not pass for the size of its finite part, or for no gradient at all).
    Finite elements beyond float64's comfort (squares beyond ~1e154, sums or a span beyond
    ~1.8e308) still give finite statistics, but for a norm beyond float64 itself: see
    `unsquare` and `halve_wide_spans` (`huge_values`), paid for only when a result is not finite.
    """
    stats = np.full((len(arrays), 6), np.nan)
    counts = np.zeros((len(arrays), bins), dtype=np.int32)
    present = [i for i, a in enumerate(arrays) if a is not None and np.size(a) > 0]
    if not present:
        return stats, counts
    flats = [np.ravel(arrays[i]) for i in present]
    buffer = np.concatenate(flats, dtype=np.float64)
    finite = np.isfinite(buffer)
    not_finite: list[int] = []
    if not finite.all():  # rare: keep each array's finite part (skip arrays left empty)
        cut = np.cumsum([0] + [f.size for f in flats])
        kept = [(i, buffer[a:b][finite[a:b]]) for i, a, b in zip(present, cut[:-1], cut[1:])]
        not_finite = [i for (i, part), a, b in zip(kept, cut[:-1], cut[1:])
                      if part.size < b - a]
        stats[not_finite, RMS] = stats[not_finite, NORM] = np.inf
        kept = [(i, f) for i, f in kept if f.size]
        if not kept:
            return stats, counts
        present, flats = [i for i, _ in kept], [f for _, f in kept]
        buffer = np.concatenate(flats)
    sizes = np.array([f.size for f in flats])
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    # Values beyond ~1e154 (finite) have squares that overflow to inf: without a warning at
    # each step, as in `Workspace`, and recomputed scaled after (`unsquare`).
    with np.errstate(over="ignore", invalid="ignore"):
        squares = np.add.reduceat(buffer * buffer, starts)
        mean = np.add.reduceat(buffer, starts) / sizes
        centred = buffer - np.repeat(mean, sizes)
        std = np.sqrt(np.add.reduceat(centred * centred, starts) / sizes)
    low = np.minimum.reduceat(buffer, starts)
    high = np.maximum.reduceat(buffer, starts)
    norm = np.sqrt(squares)
    rms = norm / np.sqrt(sizes)
    with np.errstate(over="ignore", invalid="ignore"):
        usual = math.isfinite(np.add.reduce(norm) + np.add.reduce(std))
    if not usual:  # squares (or sums) beyond float64
        unsquare(buffer, starts, sizes, mean, std, norm, np.arange(len(sizes)), rms)
    stats[present] = np.column_stack([rms, norm, mean, std, low, high])
    stats[not_finite, RMS] = stats[not_finite, NORM] = np.inf
    limit = len(arrays) if histograms is None else histograms
    shown = int(np.searchsorted(present, limit))  # the present arrays that get a histogram
    if shown == 0:
        return stats, counts
    end = int(starts[shown - 1] + sizes[shown - 1])
    buffer, sizes, low, high = buffer[:end], sizes[:shown], low[:shown], high[:shown]
    # np.histogram's rule: equal bins over [low, high]; the top edge belongs to the last bin.
    first = np.where(high > low, low, low - 0.5)
    with np.errstate(over="ignore"):
        width = np.where(high > low, high - low, 1.0)
    if not np.isfinite(width).all():  # rare: a span beyond float64 (see huge_values)
        buffer, first, width = halve_wide_spans(buffer, sizes, first, width, low, high)
    index = ((buffer - np.repeat(first, sizes)) / np.repeat(width, sizes) * bins).astype(np.intp)
    np.minimum(index, bins - 1, out=index)
    index += np.repeat(np.arange(shown) * bins, sizes)
    counts[present[:shown]] = np.bincount(index, minlength=shown * bins).reshape(shown, bins)
    for k in np.flatnonzero(high == low).tolist():  # on a bin edge or next to one
        counts[present[k]] = 0
        counts[present[k], equal_value_bin(float(low[k]), bins)] = sizes[k]
    return stats, counts


def equal_value_bin(value: float, bins: int) -> int:
    """The bin ``np.histogram(a, bins, range=(value, value))`` counts an array of values
    all equal to `value` in: its range is value ± 0.5 and its edges are ``np.linspace``'s
    over it (``i * step + first``), so the value is on an edge or a rounding error away
    from one, and those edges decide, as np.histogram's own correction of its division
    does (a division alone can land on the other side: ``[-5.98...]`` with 30 bins)."""
    first = value - 0.5
    step = ((value + 0.5) - first) / bins
    if not step > 0:  # beyond ~1e16 the range rounds to nothing (np.histogram refuses)
        return min(int((value - first) * bins), bins - 1)
    found = min(int((value - first) / step), bins - 1)  # the right bin, or one off
    if found > 0 and value < found * step + first:
        return found - 1
    if found < bins - 1 and value >= (found + 1) * step + first:
        return found + 1
    return found


# Row lengths the workspace chooses from: short rows waste less padding, long rows cost
# less per row in a broadcast operation (one call of NumPy's inner loop per row).
ROWS = (32, 64, 128, 256, 512, 1024)
# Elements centred at a time for the standard deviations: the work array they go through
# (128 KiB at most) stays in a core's cache, and evicts less of the training loop's data.
CENTRED_ELEMENTS = 1 << 14


_ONE_AT_A_TIME = threading.Lock()  # see Workspace.compute


class Workspace:
    """`summarise` for a list of arrays whose sizes repeat from step to step, in work arrays
    kept between calls (see the module docstring), and with less work:

    ``compute(arrays, moments, squares_from)`` returns the same ``(stats, counts)`` as
    ``summarise(arrays, bins)``, except that mean and std are computed only for
    ``arrays[:moments]`` and rms and norm only for ``arrays[squares_from:]`` (NaN
    elsewhere): the recorder needs the mean and std of values (and of the parameters'
    gradients) and the size of gradients. It returns None, computing nothing, when the
    step does not fit (more than `WORKSPACE_ELEMENTS` elements), an array is not a NumPy
    array, an element is not finite, or a span is beyond float64 (elements of both signs
    beyond ~±9e307): the caller then uses `summarise`. The arrays it
    returns are fresh. `take` gives only chosen numbers and histogram rows, gathered
    straight from the call's results (the recorder's path: no ``(arrays, 6)`` table).

    Layout: each array starts a new row of a ``(rows, width)`` buffer (the width chosen
    from `ROWS` for these sizes) and is padded to whole rows with zeros, so that a
    per-array number (a mean, a bin edge) reaches every element by broadcasting one value
    per row, not by an index per element. (NumPy's buffered loop still copies that value
    into its buffer for every element: callgrind counts ~8 instructions per element, about
    a seventh of a call; `np.repeat` or `np.take` into a flat array measured no cheaper.)
    Zeros add nothing to a sum;
    minimum and maximum skip them (``reduceat`` over each array's own elements: the
    indices alternate between the starts and the ends of the arrays); the centred values
    are set back to zero where the padding is; and the padding is counted in a bin of its
    own, which is dropped.

    Passes over the elements: one copy into the buffer (float64), minimum, maximum; for
    ``arrays[:moments]`` the sum, then the centred values (`CENTRED_ELEMENTS` at a time,
    in a small work array) and their squares summed per row (``np.vecdot``: the mean and
    the exact two-pass std); for the other arrays of ``arrays[squares_from:]`` the squares
    summed per row. An array in both gets its norm from the same sums, as
    ``sum((a - mean)**2) + size * mean**2`` (both terms positive: no cancellation).
    The histograms reuse the buffer in place (bin numbers, then their integer cast) and
    count with one ``np.bincount``. Bin numbers are ``(a - low) * bins / (high - low)``,
    computed as one shifted product (`_histograms`); `summarise` and ``np.histogram``
    divide first: the two can differ only for an element within a rounding error of a
    bin edge.
    """

    def __init__(self, bins: int) -> None:
        self.bins = bins
        self._key: tuple | None = None

    def _plan(self, key: tuple) -> bool:
        """Lay out work arrays for these sizes; False when they would be too large."""
        self._key = None
        sizes, moments, squares_from = key
        present = [i for i, size in enumerate(sizes) if size]
        counts = np.array([sizes[i] for i in present], dtype=np.intp)
        # Measured on the demo model's arrays (widths 32 to 512): ~6 ns per element, all
        # passes together, and ~15 ns per row, all broadcasts together.
        self.row = row = min(ROWS, key=lambda w: (6 * w + 15) * int((-(-counts // w)).sum()))
        rows = -(-counts // row)  # whole rows per array
        total_rows = int(rows.sum())
        if not present or total_rows * row > WORKSPACE_ELEMENTS:
            return False
        row_starts = np.concatenate(([0], np.cumsum(rows)[:-1])).astype(np.intp)
        starts = row_starts * row  # each array's first element
        ends = starts + counts
        self.present = np.array(present, dtype=np.intp)
        self.all_present = len(present) == len(sizes)
        self.sizes = counts.astype(np.float64)
        self.row_starts, self.starts = row_starts, starts
        # minimum/maximum.reduceat over [start, end, start, end, ...]: every other result is
        # an array's own (the last end is left out when it is the buffer's end).
        bounds = np.stack((starts, ends), axis=1).reshape(-1)
        self.bounds = bounds[:-1] if ends[-1] == total_rows * row else bounds
        self.row_array = np.repeat(np.arange(len(present)), rows)  # which array, per row
        # Array k's bins start at (k + 1) * stride, a whole number of times `bins`, between
        # two spare bins (see _histograms); bin 0 takes the padding.
        self.stride = self.bins * -(-(self.bins + 2) // self.bins)
        self.base = (np.arange(len(present)) + 1.0) * self.stride
        # np.concatenate fills the buffer from `template`: the arrays (by their index in
        # `arrays`), each followed by its padding (a block of zeros).
        zeros = np.zeros(row)
        self.template: list[Any] = []
        for k, i in enumerate(present):
            self.template.append(i)
            if ends[k] < starts[k] + rows[k] * row:
                self.template.append(zeros[:int(starts[k] + rows[k] * row - ends[k])])
        padding = np.concatenate([np.arange(e, s + r * row) for s, e, r in
                                  zip(starts, ends, rows)]).astype(np.intp)
        self.padding = padding
        self.padding_array = np.repeat(np.arange(len(present)), rows * row - counts)
        self.buffer = np.empty(total_rows * row)
        # The present arrays (and their rows) that get mean/std: the first m; those that
        # get rms/norm: `normed` (from array q on, only rms/norm).
        self.m = m = sum(1 for i in present if i < moments)
        q = sum(1 for i in present if i < max(moments, squares_from))
        self.moment_rows = moment_rows = int(rows[:m].sum())
        self.square_row = int(rows[:q].sum())
        self.normed = np.array([k for k, i in enumerate(present) if i >= squares_from],
                               dtype=np.intp)
        self.both = sum(1 for i in present if squares_from <= i < moments)
        # Views of the work arrays, made once (a view costs about as much as a small call).
        self.table = self.buffer.reshape(-1, row)
        self.row_squares = np.zeros(total_rows)  # rows of neither kind stay 0
        self.moment_values = self.buffer[:moment_rows * row]
        self.moment_starts, self.moment_sizes = starts[:m], self.sizes[:m]
        self.moment_row_array = self.row_array[:moment_rows, None]
        self.square_table = self.table[self.square_row:]
        self.square_sums = self.row_squares[self.square_row:]
        self.both_sizes = self.sizes[m - self.both:m]
        self.row_array_column = self.row_array[:, None]
        # Centred a chunk of rows at a time: (rows begin:end, work array, its padding).
        chunk = max(1, CENTRED_ELEMENTS // row)
        self.work = np.empty((min(moment_rows, chunk), row))
        # The bin numbers go through int32 when the work array holds them (float64 to int32
        # is one vector instruction per few elements, float64 to int64 is not, on x86), and
        # are then widened into the buffer for np.bincount.
        narrow = self.work.reshape(-1).view(np.int32)
        fits = (len(present) + 1) * self.stride < 2**31 and narrow.size >= self.buffer.size
        self.narrow = narrow[:self.buffer.size] if fits else None
        self.chunks = []
        for begin in range(0, moment_rows, chunk):
            end = min(begin + chunk, moment_rows)
            inside = padding[(padding >= begin * row) & (padding < end * row)] - begin * row
            centred = self.work[:end - begin]
            self.chunks.append((begin, end, self.table[begin:end], centred, centred.reshape(-1),
                                inside if inside.size else None, self.row_squares[begin:end]))
        # The results of a call: one vector [low, high, mean, std, norm, rms, NaN] (each
        # over the arrays that get it), and the histograms of the present arrays with a row
        # of zeros after them. `where[i, column]` and `histogram_row[i]` say where array i's
        # numbers are (the NaN, the zeros: not computed, or a missing array).
        p, normed = len(present), len(self.normed)
        where = np.full((len(sizes), 6), 2 * p + 2 * m + 2 * normed, dtype=np.intp)
        where[self.present, LOW] = np.arange(p)
        where[self.present, HIGH] = p + np.arange(p)
        where[self.present[:m], MEAN] = 2 * p + np.arange(m)
        where[self.present[:m], STD] = 2 * p + m + np.arange(m)
        where[self.present[self.normed], NORM] = 2 * p + 2 * m + np.arange(normed)
        where[self.present[self.normed], RMS] = 2 * p + 2 * m + normed + np.arange(normed)
        self.where = where
        self.histogram_row = np.full(len(sizes), p, dtype=np.intp)
        self.histogram_row[self.present] = np.arange(p)
        # Each array's histogram must add up to its size, and the row of zeros to 0.
        self.size_list_and_zero = counts.tolist() + [0]
        self.inverse_root_size = 1.0 / np.sqrt(self.sizes[self.normed])
        self._composed: tuple = ()  # see take
        self._key = key
        return True

    def compute(self, arrays: list[Any], moments: int, squares_from: int
                ) -> tuple[np.ndarray, np.ndarray] | None:
        # One call at a time: the work arrays are shared, and two threads filling them at
        # once (one recorder used from two threads) gave np.bincount bin numbers changing
        # under it: a crash of the interpreter, not an exception.
        with _ONE_AT_A_TIME:
            if not self._compute(arrays, moments, squares_from):
                return None
            return (self.results[self.where],
                    self.histograms[self.histogram_row].astype(np.int32))

    def take(self, arrays: list[Any], moments: int, squares_from: int,
             statistics: tuple[np.ndarray, ...], rows: np.ndarray
             ) -> tuple[list[np.ndarray], np.ndarray] | None:
        """`compute`, but only the numbers asked for, gathered in one call each (fresh
        arrays): ``statistics[j]`` holds positions in the flattened ``(arrays, 6)``
        statistics (-1: NaN), `rows` array positions; returns the statistics at each
        ``statistics[j]`` and the histograms of `rows` (int32). Gives what ``compute``'s
        results would at those positions, without making them (the recorder's path)."""
        with _ONE_AT_A_TIME:
            if not self._compute(arrays, moments, squares_from):
                return None
            composed = self._composed
            if not composed or composed[0] is not statistics or composed[1] is not rows:
                at = np.append(self.where.reshape(-1), len(self.results) - 1)  # -1: NaN
                composed = self._composed = (statistics, rows, [at[i] for i in statistics],
                                             self.histogram_row[rows])
            results = self.results
            return ([results.take(i) for i in composed[2]],
                    self.histograms.take(composed[3], axis=0).astype(np.int32))

    def _compute(self, arrays: list[Any], moments: int, squares_from: int) -> bool:
        """Fill `results` and `histograms` (see `_plan`); False when it cannot."""
        try:
            key = (tuple([0 if a is None else a.size for a in arrays]), moments, squares_from)
        except AttributeError:  # not arrays (a Value graph's floats)
            return False
        if key != self._key and not self._plan(key):
            return False
        buffer = self.buffer
        try:  # (the list is dropped right after: no tensor is held between steps)
            np.concatenate([arrays[i] if type(i) is int else i for i in self.template],
                           axis=None, out=buffer)
        except TypeError:  # a dtype that does not convert to float64 (complex)
            return False
        low = np.minimum.reduceat(buffer, self.bounds)[::2]
        high = np.maximum.reduceat(buffer, self.bounds)[::2]
        # inf - inf: an exploding gradient; or a span beyond float64 (finite elements of both
        # signs beyond ~±9e307): both said below, the caller then uses `summarise`.
        with np.errstate(over="ignore", invalid="ignore"):
            span = high - low
            widest = np.add.reduce(span)  # (>= every span: none is negative)
        if not math.isfinite(widest):  # a NaN or an infinity somewhere, or a vast span
            return False
        # Mean, then std from the centred values (two passes: exact for constants).
        m = self.m
        # Values beyond ~1e154 (finite) have squares that overflow to inf: no warning (once
        # for all the passes that square, ~1 µs); `unsquare` recomputes them after.
        OVERFLOW.seen = False  # (a flag, not a check after: nothing to pay in a usual step)
        with np.errstate(over="call", call=OVERFLOW):
            mean = np.add.reduceat(self.moment_values, self.moment_starts) / self.moment_sizes
            row_mean = mean[self.moment_row_array]  # (rows, 1)
            for begin, end, values, centred, flat, padding, sums in self.chunks:
                np.subtract(values, row_mean[begin:end], out=centred)
                if padding is not None:
                    flat[padding] = 0.0
                np.vecdot(centred, centred, out=sums)
            np.vecdot(self.square_table, self.square_table, out=self.square_sums)
            total = np.add.reduceat(self.row_squares, self.row_starts)
            std = np.sqrt(total[:m] / self.moment_sizes)
            squares = total[self.normed]
            both = self.both  # the last of the first m: sum of squares = centred + size*mean²
            if both:
                squares[:both] += self.both_sizes * np.square(mean[m - both:])
        norm = np.sqrt(squares)
        rms = norm * self.inverse_root_size
        if OVERFLOW.seen:  # (before _histograms, which overwrites the buffer)
            unsquare(buffer, self.starts, self.sizes, mean, std, norm, self.normed, rms)
        histograms = self._histograms(self.table, low, span, widest)
        if histograms is None:  # magnitudes the shifted product cannot bin exactly: see there
            return False
        self.histograms = histograms
        self.results = np.concatenate((low, high, mean, std, norm, rms, _NAN))
        return True

    def _histograms(self, table: np.ndarray, low: np.ndarray, span: np.ndarray,
                    widest: float) -> np.ndarray | None:
        """Every array's histogram, as `summarise` counts them, with one bincount (the
        buffer's values are overwritten: read them before): ``(arrays + 1, bins)``, the
        last row zeros (for arrays with no histogram).

        Array k counts into bins ``base[k] ...`` of one long histogram, between a spare bin
        below and one above: an element on the lowest or the highest edge may round just
        outside, and is counted back into the first or the last bin. ``base[k]`` is a whole
        multiple of `bins`, so that for all-equal float32 or float16 values (scale = bins) the
        shift is exact, whatever k; float64 ones may round into the bin below, so every
        all-equal array's bin is then set straight (`equal_value_bin`, np.histogram's).
        The padding is set to its array's `shifted` first: its bin number is 0 exactly.

        None (the caller then uses `summarise`) when the magnitudes defeat that product: a
        span so narrow or so wide (`widest`: the sum of all spans) that the scale or the
        shift could overflow (nothing here then overflows: no warning to silence here; the
        squares of `_compute` may, see there), or values
        so large (all-equal ones beyond ~1e16) that the shift rounds them into another bin,
        another array's bins or none: every array's counts must add up to its size, in its
        own bins."""
        bins = self.bins
        equal = span == 0  # all-equal values: one unit around them
        first = low - 0.5 * equal
        span += equal
        # bins / span <= bins * 2**900, base / scale <= base * 2**900: both far from
        # overflowing, and so are the shifted products of the elements (see the docstring).
        if not (np.minimum.reduce(span) >= _NARROWEST and widest <= _WIDEST):
            return None
        scale = bins / span
        # (a - first) * scale + base, as (a - shifted) * scale: one pass less.
        shifted = first - self.base / scale
        self.buffer[self.padding] = shifted[self.padding_array]
        np.subtract(table, shifted[self.row_array_column], out=table)
        np.multiply(table, scale[self.row_array_column], out=table)
        index = self.buffer.view(np.intp)  # truncation (>= 0): the bin
        if self.narrow is not None:
            np.copyto(self.narrow, self.buffer, casting="unsafe")
            np.copyto(index, self.narrow)
        else:
            np.copyto(index, self.buffer, casting="unsafe")
        stride = self.stride  # row k + 1: array k's bins, its spare bin above, ... and
        # (last column) array k + 1's spare bin below; one row more, of zeros
        expected = (len(low) + 2) * stride
        try:
            counts = np.bincount(index, minlength=expected)
        except ValueError:  # a negative bin number
            return None
        if counts.size != expected:  # a bin number past the last array's bins
            return None
        counts = counts.reshape(-1, stride)
        result = counts[1:, :bins]
        result[:, 0] += counts[:-1, -1]
        result[:, -1] += counts[1:, bins]
        if equal.any():  # (a scalar loss, its gradient: most steps have one)
            # All-equal values sit on or next to a bin edge (np.histogram's range is one
            # unit around them): the shifted product may round them into the bin below
            # (float64: a few in a hundred of them), so their bin is set straight.
            for k in np.flatnonzero(equal).tolist():  # (a few: Python floats are cheaper)
                result[k] = 0
                result[k, equal_value_bin(float(low[k]), bins)] = self.size_list_and_zero[k]
        # Counted in its own array's bins (then the row of zeros got nothing: no element is
        # counted twice; an all-equal array set above: its elements, wherever they went,
        # counted in no other array's row).
        if np.add.reduce(result, axis=1).tolist() != self.size_list_and_zero:
            return None
        return result


_NAN = np.array([np.nan])
_NARROWEST, _WIDEST = 2.0**-900, 2.0**900
