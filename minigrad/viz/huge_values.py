"""Statistics of finite values whose squares, sums or spans are beyond float64.

A float64 gradient can be finite and still beyond ~1e154, where its squares overflow to
inf (norm, rms, std), or hold elements of both signs beyond ~9e307, where ``high - low`` and
the sum overflow too (mean, histogram span). The recorder and `draw_graph` must show such a
gradient's true, finite statistics, not "inf" (an inf gradient is a diverging one). The
fast paths (`statistics.summarise`, `statistics.Workspace`, `style.GradStats`) compute as
usual and call these only when a result came out non-finite from finite elements:
everything here works on values divided by their largest magnitude, or halved, first.
"""

from __future__ import annotations

import math

import numpy as np


def halve_wide_spans(buffer: np.ndarray, sizes: np.ndarray, first: np.ndarray,
                      width: np.ndarray, low: np.ndarray, high: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`summarise`'s histogram for arrays whose span is beyond float64 (finite elements of
    both signs beyond ~±9e307: ``high - low`` is inf, and every bin number was NaN): their
    elements, their low and their span are halved, which brings the span within float64 and
    leaves the bins' proportions as they were. Halving a float64 is exact (but for
    subnormal numbers, ~1e-308, which round: an element that close to 0 is then within a
    rounding error of where it was, far from any bin edge of a span this wide), so the bin
    numbers are those of the exact span but for an element within a rounding error of an
    edge. Returns the buffer (a copy), first and width to bin with."""
    wide = ~np.isfinite(width)
    half = np.where(wide, 0.5, 1.0)
    first = first * half
    width = np.where(wide, high * 0.5 - low * 0.5, width)
    return buffer * np.repeat(half, sizes), first, width


class Overflow:
    """Set by NumPy when a computation under ``np.errstate(over="call", call=OVERFLOW)``
    overflowed (Workspace's, under its lock): costs nothing until then."""

    seen = False

    def __call__(self, kind: str, flag: int) -> None:
        self.seen = True


OVERFLOW = Overflow()


def root_sum_squares(values: np.ndarray) -> float:
    """``sqrt(sum(values**2))`` of finite float64 `values`, without overflow: beyond ~1e154
    a square is beyond float64 (inf) though the root is not, so the values are divided by
    the largest magnitude first (inf only when the result itself is beyond float64)."""
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    if not 0.0 < scale < math.inf:
        return float(np.sqrt(np.sum(values * values)))
    scaled = values / scale
    return scale * math.sqrt(float(np.sum(scaled * scaled)))


def unsquare(buffer: np.ndarray, starts: np.ndarray, sizes: np.ndarray, mean: np.ndarray,
             std: np.ndarray, norm: np.ndarray, normed: np.ndarray,
             rms: np.ndarray | None = None) -> None:
    """Recompute in place each mean, std, norm or rms that came out inf or NaN from finite
    elements (squares, sums or differences beyond float64). Array k is
    ``buffer[starts[k]:][:sizes[k]]``, ``mean[k]`` and ``std[k]`` its moments (for the
    first ``len(std)`` arrays), ``norm[j]`` and ``rms[j]`` the norm and rms of array
    ``normed[j]``. Means and stds are computed on the elements divided by their largest
    magnitude (finite: both are at most that); a norm with `root_sum_squares` (inf only
    when it is beyond float64 itself, where the rms, a typical element, is not).
    Called only when one of them is not finite: the usual step pays one check."""
    with np.errstate(over="ignore", invalid="ignore"):
        moments = len(std)
        redo = ~(np.isfinite(std) & np.isfinite(mean[:moments]))
        for k in np.flatnonzero(redo).tolist():
            start, size = int(starts[k]), int(sizes[k])
            mean[k], std[k] = scaled_moments(buffer[start:start + size])
        for j in np.flatnonzero(np.isinf(norm)).tolist():
            start, size = int(starts[normed[j]]), int(sizes[normed[j]])
            values = buffer[start:start + size]
            norm[j] = root_sum_squares(values)
            if rms is not None:
                rms[j] = root_mean_square(values)


def scaled_moments(values: np.ndarray) -> tuple[float, float]:
    """Mean and std of finite float64 `values`, computed on them divided by their largest
    magnitude M: both are at most M, but their sum and the differences from the mean (up
    to 2M) may be beyond float64."""
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    if not 0.0 < scale < math.inf:
        return float(np.mean(values)), float(np.std(values))
    scaled = values / scale
    centred = scaled - np.mean(scaled)
    return (scale * float(np.mean(scaled)),
            scale * math.sqrt(float(np.dot(centred, centred)) / values.size))


def root_mean_square(values: np.ndarray) -> float:
    """``sqrt(mean(values**2))`` of finite float64 `values`, without overflow (at most the
    largest magnitude: finite, even where the norm is beyond float64)."""
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    if not 0.0 < scale < math.inf:
        return float(np.sqrt(np.mean(values * values)))
    scaled = values / scale
    return scale * math.sqrt(float(np.dot(scaled, scaled)) / values.size)
