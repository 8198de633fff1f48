"""How the visualiser writes things: escaped label text, number summaries and colours.

Every piece of text that comes from the user (a `Value.label`, a `Tensor.name`, a module's
name) goes through `escape`, which makes it inert inside a Graphviz HTML-like label: no
label can open a tag, close the label, start an edge or change the graph's structure.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

from minigrad.viz.huge_values import root_mean_square, root_sum_squares, scaled_moments

# -- text ---------------------------------------------------------------------------------

MAX_LABEL_CHARS = 40


def escape(text: Any, limit: int = MAX_LABEL_CHARS) -> str:
    """`text` made safe for a Graphviz HTML-like label, shortened to `limit` characters.

    Characters that are not printable (newlines, tabs, control characters, lone surrogates)
    are shown as their Python escapes (``\\n``), because Graphviz's XML parser rejects some
    of them outright and would otherwise fold the rest into spaces. Then ``& < > " '``
    become entities, so the text can never be read as markup.
    """
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=True)


def plural(count: int, noun: str) -> str:
    """``1 node``, ``2 nodes``, ``1,000 more nodes`` (nouns whose plural adds an s)."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def html_label(lines: list[str]) -> str:
    """A Graphviz HTML-like label from lines of already-escaped markup."""
    return "<" + '<BR ALIGN="CENTER"/>'.join(lines) + ">"


def small(markup: str, colour: str = "#333333", size: int = 9) -> str:
    """Already-escaped `markup` in a smaller (grey) font."""
    return f'<FONT POINT-SIZE="{size}" COLOR="{colour}">{markup}</FONT>'


# -- numbers ------------------------------------------------------------------------------


def number(x: float) -> str:
    """A number in three significant digits: ``0.0123``, ``1.23e-05``, ``-4``."""
    if x != x:
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    return f"{x:.3g}"


SMALL_TENSOR = 6  # up to this many elements a tensor's values are printed in full


def summarise_data(data: Any) -> list[str]:
    """One or two lines describing a value: the number, the few values, or mean ± std."""
    if not isinstance(data, np.ndarray):
        return [number(float(data))]
    if data.size == 0:
        return ["(empty)"]
    if data.dtype.kind == "b":
        return [f"{int(data.sum())} of {data.size} true"]
    flat = data.reshape(-1)
    if data.size == 1:
        return [number(float(flat[0]))]
    if data.size <= SMALL_TENSOR:
        return ["[" + ", ".join(number(float(v)) for v in flat) + "]"]
    values = flat.astype(np.float64)
    finite = values[np.isfinite(values)]
    lines = []
    if len(finite):
        lines.append(f"{number(finite.mean())} ± {number(finite.std())}")
        lines.append(f"min {number(finite.min())}  max {number(finite.max())}")
    bad = values.size - finite.size
    if bad:
        lines.append(f"{bad} NaN/Inf")
    return lines


class GradStats:
    """Size of a gradient: L2 norm, RMS (norm / √n: a typical element), mean and std.

    A gradient with a NaN or infinite element has norm and RMS inf, as the recorder's
    (`statistics.summarise`): its size is not finite, and a NaN norm would be coloured as
    the smallest gradient (vanishing) and drawn as the thinnest arrow."""

    __slots__ = ("norm", "rms", "mean", "std", "size", "finite")

    def __init__(self, grad: Any) -> None:
        if isinstance(grad, float | int):  # a Value's gradient: skip NumPy, it adds up
            x = float(grad)
            self.size, self.finite = 1, math.isfinite(x)
            self.norm = self.rms = abs(x) if self.finite else math.inf
            self.mean, self.std = x, 0.0
            return
        values = np.asarray(grad, dtype=np.float64).reshape(-1)
        self.size = values.size
        self.finite = bool(np.isfinite(values).all())
        self.norm = norm(values)
        self.rms = self.norm / math.sqrt(self.size) if self.size else 0.0
        with np.errstate(over="ignore", invalid="ignore"):  # (beyond ~1e154: see below)
            self.mean = float(values.mean()) if self.size else 0.0
            self.std = float(values.std()) if self.size else 0.0
        if self.finite and not math.isfinite(self.mean + self.std + self.rms):
            # Finite elements whose squares, sum or differences from the mean are beyond
            # float64: scaled first (the norm may be beyond it, the rms and std are not).
            self.mean, self.std = scaled_moments(values)
            self.rms = root_mean_square(values)

    def lines(self) -> list[str]:
        """How a node label shows its gradient (already escaped: numbers only). The first
        line is the RMS, the number the box is coloured by (for one element, the gradient
        itself: its RMS is its absolute value)."""
        if self.size == 1:
            return [f"grad {number(self.mean)}"]
        return [f"grad RMS {number(self.rms)}",
                f"mean {number(self.mean)}  std {number(self.std)}"]


def norm(array: Any) -> float:
    """L2 norm of a gradient (the absolute value for a scalar); inf when an element is NaN
    or infinite (see `GradStats`), finite when every element is (also beyond ~1e154, where
    the squares are not: `huge_values.root_sum_squares`)."""
    if isinstance(array, float | int):
        x = abs(float(array))
        return x if math.isfinite(x) else math.inf
    values = np.asarray(array, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        size = float(np.sqrt(np.sum(values * values)))
        if math.isinf(size) and np.isfinite(values).all():  # squares beyond float64
            return root_sum_squares(values.reshape(-1))  # (above ~1e154: rare)
    return math.inf if math.isnan(size) else size  # (an inf element gives inf already)


# -- colours ------------------------------------------------------------------------------

# ColorBrewer's "RdYlBu" 9-class scheme, reversed (Harrower & Brewer 2003): blue for small
# gradients, yellow in the middle, red for large ones; light enough for black text.
_BREWER = ["#4575b4", "#74add1", "#abd9e9", "#e0f3f8", "#ffffbf", "#fee090", "#fdae61",
           "#f46d43", "#d73027"]
NO_GRAD_FILL = "#f2f2f2"  # a node that takes no gradient (input, constant)
PLAIN_FILL = "#ffffff"  # every node before backward
VANISHING_BORDER = "#1f3f9a"
EXPLODING_BORDER = "#b2001f"


def _mix(first: str, second: str, t: float) -> str:
    a = [int(first[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(second[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))


# A quarter white mixed in, so that black text stays readable on the darkest ends.
PALETTE = [_mix(colour, "#ffffff", 0.25) for colour in _BREWER]


def check_scale(scale: Any, vanishing: float, exploding: float) -> tuple[float, float]:
    """draw_graph's ``scale``: ``(low, high)`` gradient sizes, by default the vanishing and
    exploding thresholds, so every picture uses the same colours for the same sizes."""
    if scale is None:
        return vanishing, exploding
    try:
        low, high = (float(x) for x in scale)
    except (TypeError, ValueError):
        raise TypeError(f"draw_graph: scale must be a pair (low, high) of gradient sizes, "
                        f"e.g. (1e-6, 1e2); got {scale!r}.") from None
    if not (0 < low < high and math.isfinite(high)):
        raise ValueError(f"draw_graph: scale needs 0 < low < high (finite), got "
                         f"({low:g}, {high:g}). Fix: e.g. scale=(1e-6, 1e2).")
    return low, high


class LogScale:
    """Maps a positive magnitude to a colour on a log10 scale.

    The scale spans from ``10**low`` to ``10**high`` (`low`, `high`: exponents of 10, whole
    decades by default); magnitudes outside are clamped to the end colours.
    """

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high if high > low else low + 1

    @classmethod
    def between(cls, smallest: float, largest: float) -> LogScale:
        """The scale from magnitude `smallest` (bluest) to `largest` (reddest)."""
        return cls(math.log10(smallest), math.log10(largest))

    @classmethod
    def fit(cls, magnitudes: list[float], floor: float, ceiling: float) -> LogScale:
        """The decades covering the positive `magnitudes`, kept within [floor, ceiling]."""
        logs = [math.log10(m) for m in magnitudes if m > 0 and math.isfinite(m)]
        bottom, top = math.floor(math.log10(floor)), math.ceil(math.log10(ceiling))
        if not logs:
            return cls(bottom, top)
        # Both ends stay inside [floor, ceiling], so every colour keeps its meaning: sizes
        # all below the floor are the bluest, all above the ceiling the reddest.
        low = min(max(bottom, math.floor(min(logs))), top - 1)
        high = max(min(top, math.ceil(max(logs))), low + 1)
        return cls(low, high)

    def position(self, magnitude: float) -> float:
        """0 at the bottom of the scale, 1 at the top."""
        if not magnitude > 0:
            return 0.0
        if not math.isfinite(magnitude):
            return 1.0
        t = (math.log10(magnitude) - self.low) / (self.high - self.low)
        return min(1.0, max(0.0, t))

    def colour(self, magnitude: float) -> str:
        t = self.position(magnitude) * (len(PALETTE) - 1)
        i = min(int(t), len(PALETTE) - 2)
        return _mix(PALETTE[i], PALETTE[i + 1], t - i)

    def bar(self) -> list[tuple[str, str]]:
        """A colour bar: about nine (colour, caption) cells from the bottom of the scale to
        the top, captioned at each whole decade (``1e-3``) and, if they are not whole
        decades, at both ends."""
        span = self.high - self.low
        whole = _is_whole(span) and _is_whole(self.low)
        cells = round(span) * max(1, round(8 / round(span))) + 1 if whole else 9
        bar = []
        for i in range(cells):
            exponent = self.low + span * i / (cells - 1)
            caption = (f"1e{round(exponent)}" if _is_whole(exponent)
                       else number(10.0 ** exponent) if i in (0, cells - 1) else "")
            bar.append((self.colour(10.0 ** exponent), caption))
        return bar


def _is_whole(x: float) -> bool:
    return abs(x - round(x)) < 1e-9
