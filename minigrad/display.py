"""How a tensor prints: PyTorch's layout, so output in notebooks and tutorials looks like
the PyTorch a reader knows.

    >>> mg.tensor([1.0, 2.5], requires_grad=True) * 2
    tensor([2., 5.], grad_fn=<MulBackward>)

The rules, as PyTorch prints (torch/_tensor_str.py; written here from its behaviour): one
width for every element; floats that are all whole numbers print as ``2.``; otherwise 4
decimals, or scientific notation when the non-zero magnitudes span more than 1000x, exceed
1e8 or go below 1e-4; rows wrap at 80 columns; beyond 1000 elements only the first and last
3 along each axis are shown. The suffixes: ``dtype=`` unless float32, int64 or bool;
``grad_fn=<OpBackward>`` naming the op that made the tensor (minigrad's op class; PyTorch
adds an overload number, ``MulBackward0``); or ``requires_grad=True`` for a leaf.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

PRECISION, THRESHOLD, EDGE_ITEMS, LINE_WIDTH = 4, 1000, 3, 80
DEFAULT_DTYPES = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_))


class _ElementFormat:
    """One format for every element of a tensor, chosen from the values it will print."""

    def __init__(self, values: np.ndarray) -> None:
        self.is_float = values.dtype.kind == "f"
        self.whole, self.scientific, self.width = True, False, 1
        flat = values.reshape(-1)
        if not self.is_float:
            self.width = max((len(str(v)) for v in flat.tolist()), default=1)
            return
        shown = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if shown.size == 0:
            return
        magnitude = np.abs(shown)
        largest, smallest = magnitude.max(), magnitude.min()
        self.whole = bool((shown == np.ceil(shown)).all())
        wide_range = largest / smallest > 1000.0 or largest > 1.0e8
        self.scientific = wide_range or (not self.whole and smallest < 1.0e-4)
        if self.scientific:
            texts = [f"{v:.{PRECISION}e}" for v in shown.tolist()]
        elif self.whole:
            texts = [f"{v:.0f}." for v in shown.tolist()]
        else:
            texts = [f"{v:.{PRECISION}f}" for v in shown.tolist()]
        self.width = max(len(t) for t in texts)

    def __call__(self, value: Any) -> str:
        if not self.is_float:
            text = str(value)
        elif self.scientific:
            text = f"{value:.{PRECISION}e}"
        elif self.whole:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{PRECISION}f}"
        return text.rjust(self.width)


def _edges(array: np.ndarray) -> np.ndarray:
    """The values a summarised print shows: the first and last EDGE_ITEMS along each axis."""
    if array.ndim == 0:
        return array
    if len(array) > 2 * EDGE_ITEMS:
        array = np.concatenate([array[:EDGE_ITEMS], array[-EDGE_ITEMS:]])
    if array.ndim == 1:
        return array
    return np.stack([_edges(row) for row in array])


def _body(array: np.ndarray, indent: int, summarise: bool, element: _ElementFormat) -> str:
    if array.ndim == 0:
        return element(array.item())
    cut = summarise and len(array) > 2 * EDGE_ITEMS
    if array.ndim == 1:
        values = array.tolist()
        texts = ([element(v) for v in values[:EDGE_ITEMS]] + [" ..."]
                 + [element(v) for v in values[-EDGE_ITEMS:]]) if cut else \
            [element(v) for v in values]
        per_line = max(1, (LINE_WIDTH - indent) // (element.width + 2))
        lines = [", ".join(texts[i:i + per_line]) for i in range(0, len(texts), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows: list[int | None] | range = range(len(array))
    if cut:
        rows = [*range(EDGE_ITEMS), None, *range(len(array) - EDGE_ITEMS, len(array))]
    parts = ["..." if i is None else _body(array[i], indent + 1, summarise, element)
             for i in rows]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def tensor_repr(data: np.ndarray, op: Any, requires_grad: bool) -> str:
    """``tensor([...], <suffixes>)`` for the array `data` of a tensor made by `op`."""
    prefix = "tensor("
    suffixes = []
    dtype_suffix = f"dtype=minigrad.{data.dtype}"
    if data.size == 0:
        if data.ndim != 1:
            suffixes.append(f"size={data.shape}")
        if data.dtype != np.float32:  # no element shows whether the tensor holds ints
            suffixes.append(dtype_suffix)
        body = "[]"
    else:
        if data.dtype not in DEFAULT_DTYPES:
            suffixes.append(dtype_suffix)
        summarise = data.size > THRESHOLD
        element = _ElementFormat(_edges(data) if summarise else data)
        body = _body(data, len(prefix), summarise, element)
    if op is not None:
        # a FreedOp (the graph was freed by backward) keeps the name of the op it replaced
        suffixes.append(f"grad_fn=<{getattr(op, 'class_name', type(op).__name__)}Backward>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    text = prefix + body
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:  # a suffix that would pass 80 columns starts a new line
        if last_line + len(suffix) + 2 > LINE_WIDTH:
            text += ",\n" + " " * len(prefix) + suffix
            last_line = len(prefix) + len(suffix)
        else:
            text += ", " + suffix
            last_line += len(suffix) + 2
    return text + ")"
