"""`TrainingDiagnostics` as an HTML table, for Jupyter's rich display.

The same numbers as ``diagnostics.table()``; every name (layers and parameters are named by
the user) goes through `html.escape`.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

_STYLE = ("<style>.mg-diag td, .mg-diag th {padding: 2px 8px; text-align: right} "
          ".mg-diag td:first-child, .mg-diag th:first-child {text-align: left} "
          ".mg-diag .warn {color: #b2001f; font-weight: bold}</style>")


def _number(x: float | None) -> str:
    return "–" if x is None or x != x else f"{x:.3g}"


def _row(cells: list[str], header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{cell}</{tag}>" for cell in cells) + "</tr>"


def diagnostics_html(diagnostics: Any, healthy: float = 1e-3) -> str:
    """Two tables: layers (activations, saturation, gradients) and parameters (grad:data,
    update:data with a warning when far from `healthy`)."""
    layer_rows = [_row(["layer", "type", "mean", "std", "saturated", "grad mean", "grad std"],
                       header=True)]
    for record in diagnostics.layers.values():
        saturated = (f"{record.saturated:.1%} ({html.escape(record.rule)})"
                     if record.saturated is not None else "–")
        layer_rows.append(_row([html.escape(record.name), html.escape(record.type_name),
                                _number(record.mean), _number(record.std), saturated,
                                _number(record.grad_mean), _number(record.grad_std)]))
    parameter_rows = [_row(["parameter", "shape", "data std", "grad std", "grad:data",
                            "update:data (last)", "update:data (mean of last 10)"],
                           header=True)]
    for record in diagnostics.parameters.values():
        ratios = record.update_to_data
        finite = [r for r in ratios[-10:] if r == r]
        recent = float(np.mean(finite)) if finite else math.nan
        flag = ""
        if recent < healthy / 10:
            flag = ' <span class="warn" title="barely trains">«</span>'
        elif recent > healthy * 10:
            flag = ' <span class="warn" title="learning rate too high for it">»</span>'
        parameter_rows.append(_row([
            html.escape(record.name), html.escape(str(record.shape)), _number(record.data_std),
            _number(record.grad_std), _number(record.grad_to_data),
            _number(ratios[-1] if ratios else None), _number(recent) + flag]))
    steps = diagnostics.steps
    return (f'{_STYLE}<div class="mg-diag"><b>TrainingDiagnostics</b> of '
            f"{html.escape(type(diagnostics.model).__name__)} after {steps:,} optimiser "
            f"step{'' if steps == 1 else 's'}"
            f"<table><caption>layers (last forward and backward pass)</caption>"
            f"{''.join(layer_rows)}</table>"
            f"<table><caption>parameters</caption>{''.join(parameter_rows)}</table>"
            f"<small>update:data near {healthy:g} is healthy; » far above (learning rate too "
            "high for it), « far below (it barely trains).</small></div>")
