"""Seeing the graph: `draw_graph` / `render` (Graphviz), and training `diagnostics`.

    mg.viz.draw_graph(loss, params=model)          # graphviz.Digraph, inline in Jupyter
    mg.viz.render(loss, "graph.png", params=model)  # svg, png, pdf or dot
"""

from minigrad.viz.graph import FORMATS, GraphvizNotFoundError, draw_graph, render, save

__all__ = ["FORMATS", "GraphvizNotFoundError", "draw_graph", "render", "save"]
