"""Seeing the graph and the training: `draw_graph` / `render` (Graphviz), and
`TrainingDiagnostics` (per-layer statistics, text table, matplotlib plots).

    mg.viz.draw_graph(loss, params=model)          # graphviz.Digraph, inline in Jupyter
    mg.viz.render(loss, "graph.png", params=model)  # svg, png, pdf or dot
    diagnostics = mg.viz.TrainingDiagnostics(model)
    recorder = mg.viz.GradientFlowRecorder(model)   # recorder.record(loss) after backward
    mg.viz.explore(recorder).save("flow.html")     # interactive page, steps and panels
"""

from minigrad.viz.diagnostics import TrainingDiagnostics
from minigrad.viz.explorer import Explorer, explore
from minigrad.viz.graph import FORMATS, GraphvizNotFoundError, draw_graph, render, save
from minigrad.viz.recorder import GradientFlowRecorder

__all__ = ["FORMATS", "Explorer", "GradientFlowRecorder", "GraphvizNotFoundError",
           "TrainingDiagnostics", "draw_graph", "explore", "render", "save"]
