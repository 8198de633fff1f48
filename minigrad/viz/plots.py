"""Plots of `TrainingDiagnostics` with matplotlib (an optional dependency).

Uses matplotlib's object interface (`Figure`, no `pyplot`), so saving plots never changes
the user's matplotlib backend or opens a window.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.viz.diagnostics import HEALTHY_UPDATE_RATIO


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "TrainingDiagnostics.save_plots: matplotlib is not installed. Fix: pip install "
            "matplotlib (or pip install 'minigrad[tutorials]'); the text table, "
            "diagnostics.table(), needs nothing extra."
        ) from None
    return Figure


def _histogram(axes: Any, values: np.ndarray, label: str) -> None:
    """A histogram drawn as a line, so several layers can share one plot."""
    counts, edges = np.histogram(values.reshape(-1), bins=50, density=True)
    axes.plot((edges[:-1] + edges[1:]) / 2, counts, label=label)


def _layers_to_plot(diagnostics: Any) -> list[Any]:
    """Activation layers when there are any (as in the lecture), else every watched layer."""
    records = [r for r in diagnostics.layers.values() if r.output is not None]
    activations = [r for r in records if r.saturated is not None]
    return activations or records


def save_all(diagnostics: Any, directory: Path) -> list[Path]:
    """Write activations.png, gradients.png, weight_gradients.png and update_ratios.png
    (those there is data for) into `directory`; returns their paths."""
    Figure = _figure_class()
    directory.mkdir(parents=True, exist_ok=True)
    saved = []

    def save(figure: Any, name: str) -> None:
        figure.tight_layout()
        path = directory / name
        figure.savefig(path, dpi=110)
        saved.append(path)

    layers = _layers_to_plot(diagnostics)
    if layers:
        figure = Figure(figsize=(9, 3.5))
        axes = figure.add_subplot()
        for r in layers:
            extra = f", saturated {r.saturated:.1%} ({r.rule})" if r.saturated is not None else ""
            _histogram(axes, r.output, f"{r.name} ({r.type_name}): mean {r.mean:.2f}, "
                                       f"std {r.std:.2f}{extra}")
        axes.set(title="activation distribution (last forward pass)", xlabel="output value",
                 ylabel="density")
        axes.legend(fontsize=7)
        save(figure, "activations.png")
    with_grad = [r for r in layers if r.grad is not None]
    if with_grad:
        figure = Figure(figsize=(9, 3.5))
        axes = figure.add_subplot()
        for r in with_grad:
            _histogram(axes, r.grad, f"{r.name} ({r.type_name}): mean {r.grad_mean:+.2e}, "
                                     f"std {r.grad_std:.2e}")
        axes.set(title="gradient distribution at layer outputs (last backward pass)",
                 xlabel="gradient", ylabel="density")
        axes.legend(fontsize=7)
        save(figure, "gradients.png")
    weights = [r for r in diagnostics.parameters.values() if len(r.shape) >= 2]
    if any(r.grad is not None for r in weights):
        figure = Figure(figsize=(9, 3.5))
        axes = figure.add_subplot()
        for r in weights:
            if r.grad is not None:
                _histogram(axes, r.grad, f"{r.name} {r.shape}: grad:data {r.grad_to_data:.2e}")
        axes.set(title="weight gradient distribution (last step)", xlabel="gradient",
                 ylabel="density")
        axes.legend(fontsize=7)
        save(figure, "weight_gradients.png")
    if any(r.update_to_data for r in weights):
        figure = Figure(figsize=(9, 3.5))
        axes = figure.add_subplot()
        for r in weights:
            logs = [math.log10(x) if x > 0 else math.nan for x in r.update_to_data]
            axes.plot(logs, label=r.name)
        axes.axhline(math.log10(HEALTHY_UPDATE_RATIO), color="black", linestyle="--",
                     label="1e-3 (healthy)")
        axes.set(title="update:data ratio per step, log10 of std(update) / std(data)",
                 xlabel="optimiser step", ylabel="log10 ratio")
        axes.legend(fontsize=7)
        save(figure, "update_ratios.png")
    return saved
