"""Seeing the graph and the training: `draw_graph` / `render` (Graphviz), and
`TrainingDiagnostics` (per-layer statistics, text table, matplotlib plots).

    mg.viz.draw_graph(loss, params=model)          # graphviz.Digraph, inline in Jupyter
    mg.viz.render(loss, "graph.png", params=model)  # svg, png, pdf or dot
    diagnostics = mg.viz.TrainingDiagnostics(model)
"""

from minigrad.viz.diagnostics import TrainingDiagnostics
from minigrad.viz.graph import FORMATS, GraphvizNotFoundError, draw_graph, render, save

__all__ = ["FORMATS", "GraphvizNotFoundError", "TrainingDiagnostics", "draw_graph", "render",
           "save"]
