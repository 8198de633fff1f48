"""What the recorder measures at one step it keeps: per box (in the plan's order) the
statistics named in `STAT_NAMES`, a histogram of the value and one of the gradient; per
arrow, the norm of the gradient it carries back; per parameter, the two spreads of the
grad:data ratio. `measure` reads them all with a fixed number of NumPy calls
(`statistics.Workspace`, positions planned once by `structure.Plan`); `saturation` and
`arrow_parts` add what those calls do not give: the saturated share of tanh and sigmoid
outputs, and the arrows that carry only part of their source's gradient.

The recorder (`minigrad.viz.recorder`) decides which steps to keep and stores what
`measure` returns; no tensor is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.viz.diagnostics import SATURATION
from minigrad.viz.statistics import Workspace, summarise
from minigrad.viz.structure import Plan
from minigrad.viz.style import norm

__all__ = ["COLUMN", "STAT_NAMES", "arrow_parts", "measure", "saturation"]

# Columns of `GradientFlowRecorder.box_stats[k]` (one row per box).
STAT_NAMES = ("grad_rms", "grad_norm", "value_mean", "value_std", "saturated",
              "grad_low", "grad_high", "value_low", "value_high")
COLUMN = {name: i for i, name in enumerate(STAT_NAMES)}


def measure(plan: Plan, workspace: Workspace, bins: int, nodes: Sequence[Any],
            values: list[Any], grads: list[Any], parameters: int, grad_of: Any,
            sent_by: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """The statistics of one kept step: `nodes` in box order and `values` their data,
    `grads` their gradients in the plan's `grad_order` (None where none reached the node;
    the first `parameters` of them the parameters'), `grad_of(node)` one node's,
    `sent_by(node)` the gradients it sent to its parents.

    Returns the box statistics ``(boxes, len(STAT_NAMES))``, the arrows' norms
    ``(arrows,)`` (two views of one array), the histograms ``(2 * boxes, bins)`` (the
    values', then the gradients') and the grad:data ratio's two numbers per parameter:
    ``spreads[0]`` the std of its gradient, ``spreads[1]`` that of its data.
    """
    n = len(nodes)
    arrays = values + grads  # parameters' gradients first
    # mean and std of values and parameters' gradients; rms and norm of gradients.
    taken = workspace.take(arrays, n + parameters, n, plan.statistics, plan.histogram_rows)
    if taken is None:
        every, counts = summarise(arrays, bins)
        flat = np.append(every.reshape(-1), np.nan)  # position -1: NaN
        taken = ([flat.take(i) for i in plan.statistics],
                 counts.take(plan.histogram_rows, axis=0))
    (numbers, spreads), histograms = taken
    # One array per step holds the boxes' statistics and the arrows' norms (two views).
    stats = numbers[:n * len(STAT_NAMES)].reshape(n, len(STAT_NAMES))
    arrows = numbers[n * len(STAT_NAMES):]
    if plan.saturating:
        saturation(plan.saturating, values, stats[:, COLUMN["saturated"]])
    parts = plan.arrows_with_parts(nodes)
    if parts:  # (recomputed: quiet, as `Flow`; a NaN or inf carried is exploding)
        with np.errstate(all="ignore"):
            arrow_parts(plan, parts, nodes, arrows, grad_of, sent_by)
    return stats, arrows, histograms, spreads


def arrow_parts(plan: Plan, parts: list[int], nodes: Sequence[Any], result: np.ndarray,
                grad_of: Any, sent_by: Any) -> None:
    """Into `result`, the norm of the gradient each arrow of `parts` carries back (an
    arrow whose source has other consumers, or a hook): the norm of what the target
    sent to the source (summed first when it uses the source more than once, as in
    x * x). The other arrows carry their source's whole gradient: its norm."""
    in_walk = {plan.order[b]: nodes[b] for b in range(len(nodes))}
    sent: dict[int, Any] = {}
    for k in parts:
        target_walk, slots = plan.slots[k]
        target = in_walk[target_walk]
        if grad_of(target) is None:
            result[k] = np.nan
            continue
        if id(target) not in sent:
            try:
                sent[id(target)] = sent_by(target)
            except Exception:  # an op whose backward cannot run again: no arrows from it
                sent[id(target)] = None
        vjps = sent[id(target)]
        carried = [vjps[slot] for slot in slots if vjps is not None and slot < len(vjps)
                   and vjps[slot] is not None and target._parents[slot].requires_grad]
        total = sum(carried[1:], carried[0]) if carried else None
        # A NaN or inf carried is exploding, as in the boxes (NaN here: no gradient); a
        # finite one beyond ~1e154 keeps its finite norm (style.norm scales it).
        result[k] = np.nan if total is None else norm(total)


def saturation(groups: list[tuple[str, list[int]]], values: list[Any],
               column: np.ndarray) -> None:
    """Into `column` (per box), the saturated share of each tanh or sigmoid output, by
    diagnostics' rules: |y| > 0.97, |2y - 1| > 0.97. (One box at a time: joining them
    first measured twice as slow for the demo's two 64x32 outputs.)"""
    for op, boxes in groups:
        for b in boxes:
            value = np.asarray(values[b])
            if value.size:
                away = np.abs(value) if op == "tanh" else np.abs(2 * value - 1)
                column[b] = np.count_nonzero(away > SATURATION) / value.size
