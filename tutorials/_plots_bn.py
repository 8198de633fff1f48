"""The figures of lesson 04's running-statistics sections (kept out of the lesson, which
reads as its ideas; each function draws one figure from numbers the lesson measured)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from _common import save_figure


def plot_running_statistics(trace: dict, toy_batches: int) -> None:
    """``trace[str(momentum)] = (running means, running variances)`` after each batch."""
    momenta_toy = [float(k) if k != "None" else None for k in trace]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for momentum in momenta_toy:
        means, variances = trace[str(momentum)]
        label = "None (cumulative)" if momentum is None else f"{momentum}"
        axes[0].plot(np.arange(1, toy_batches + 1), means, lw=1.3, label=label)
        axes[1].plot(np.arange(1, toy_batches + 1), variances, lw=1.3, label=label)
    for ax, true_value, name in ((axes[0], 3.0, "running_mean"), (axes[1], 4.0, "running_var")):
        ax.axhline(true_value, color="k", ls=":", lw=1, label="true value (mean 3, variance 4)")
        ax.set(xscale="log", xlabel="batches seen", ylabel=name, title=f"{name} by momentum")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, ["momentum " + label if label[0] in "0N" else label for label in labels],
               loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.16))
    fig.suptitle("Running statistics of one feature: batches of 60 from N(3, 2²)", y=1.02)
    save_figure(fig, "04_running_statistics.png")


def plot_momentum(b7: list[dict], MOMENTA: list[float], B7_STEPS: int) -> None:  # noqa: N803
    """Accuracy and running-mean error by momentum, one line per seed (``b7`` rows)."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    for row in b7:
        axes[0].plot(MOMENTA, [row["accuracy"][str(m)] for m in MOMENTA], "o-", lw=1.2,
                     label=f"seed {row['seed']}")
        axes[0].axhline(row["accuracy"]["population"], color=axes[0].lines[-1].get_color(), ls=":",
                        lw=1)
        axes[1].plot(MOMENTA, [row["mean_error"][str(m)] for m in MOMENTA], "o-", lw=1.2,
                     label=f"seed {row['seed']}")
    axes[0].set(xscale="log", xlabel="momentum", ylabel="validation accuracy (eval mode)",
                title="(a) accuracy with the running statistics\n(dotted: Algorithm 2's "
                      "population statistics)")
    axes[0].legend()
    axes[1].set(xscale="log", yscale="log", xlabel="momentum",
                ylabel="|running mean − population mean| / population std",
                title="(b) error of the last BN layer's running mean\n(mean over its 100 features)")
    axes[1].legend()
    fig.suptitle(f"B7: momentum of the running statistics, BN MLP on 8×8 digits, {B7_STEPS} steps",
                 y=1.04)
    save_figure(fig, "04_momentum.png")
