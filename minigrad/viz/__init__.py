"""Seeing the graph and the training: `draw_graph` / `render` (Graphviz), the interactive
explorer, and `TrainingDiagnostics` (per-layer statistics, text table, matplotlib plots,
TensorBoard).

    loss.backward(retain_graph=True)        # keep the graph to draw it (backward() frees it)
    mg.viz.draw_graph(loss)                 # a Digraph, inline in Jupyter; names from modules
    mg.viz.render(loss, "graph.png")        # svg, png, pdf or dot, from the suffix
    diagnostics = mg.viz.TrainingDiagnostics(model, log_dir="runs/bn")
    recorder = mg.viz.GradientFlowRecorder(model)   # before training; record(loss) after
                                                    # each backward: it keeps what it reads
    mg.viz.explore(recorder).save("flow.html")     # interactive page, steps and panels
"""

from minigrad.viz.diagnostics import TrainingDiagnostics
from minigrad.viz.explorer import Explorer, explore
from minigrad.viz.graph import (
    FORMATS,
    GradientGraph,
    GraphvizNotFoundError,
    GraphvizTimeoutError,
    draw_graph,
    render,
    save,
)
from minigrad.viz.recorder import GradientFlowRecorder

__all__ = ["FORMATS", "Explorer", "GradientFlowRecorder", "GradientGraph",
           "GraphvizNotFoundError", "GraphvizTimeoutError", "TrainingDiagnostics", "draw_graph",
           "explore", "render", "save"]
