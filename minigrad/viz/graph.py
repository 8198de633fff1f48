"""Draw a computation graph with Graphviz: values, gradients and the gradient on every edge.

    loss.backward(retain_graph=True)               # keep the graph: backward() frees it
    mg.viz.draw_graph(loss, params=model)          # a graphviz.Digraph; shows inline in Jupyter
    mg.viz.render(loss, "graph.svg", params=model)  # or .png / .pdf

Before `backward` each box shows a node's name, op, shape, dtype and a summary of its
value. After it, each box also shows the node's gradient and is coloured by the gradient's
RMS on a log scale (legend included), and each arrow is as wide as the gradient that flows
back along it: ``node._vjp(node.grad)``, recomputed here so training pays nothing for it.
Nodes made inside a module's ``forward`` sit in a cluster titled like ``bn1 (BatchNorm1d)``.

Why tensor boxes carry their op instead of a separate op node (micrograd's drawing):
every arrow then joins two tensors, so its number is simply "the gradient this tensor sends
back to that one", and a graph has half as many boxes. Scalar `Value` graphs keep
micrograd's op nodes by default, where they are small and familiar (``op_nodes=``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from minigrad.autograd import Scope
from minigrad.viz import style
from minigrad.viz.modules import collapse_names, fold_suggestion
from minigrad.viz.output import (
    DEFAULT_TIMEOUT,
    FORMATS,
    GradientGraph,
    GraphvizNotFoundError,
    GraphvizTimeoutError,
    check_format,
    check_timeout,
    save,
)
from minigrad.viz.style import LogScale, check_scale, escape, html_label, number, plural, small
from minigrad.viz.walk import AUTO, Box, Picture, describe

__all__ = ["FORMATS", "GradientGraph", "GraphvizNotFoundError", "GraphvizTimeoutError",
           "draw_graph", "render", "save"]

_FONT = "Helvetica"
DEEP = 12  # rankdir="auto" lays out top to bottom when a chain of boxes is longer


def draw_graph(root: Any, *, rankdir: str = "auto", show_grad: bool | None = None,
               show_parameters: bool = True, show_constants: bool = True,
               collapse: str | Iterable[str] = AUTO, max_nodes: int | None = 500,
               op_nodes: bool | None = None, params: Any = None, vanishing: float = 1e-6,
               exploding: float = 1e2, scale: tuple[float, float] | None = None,
               compact: bool = False, legend: bool = True, title: str | None = None,
               timeout: float | None = DEFAULT_TIMEOUT) -> GradientGraph:
    """The graph that computed `root` (a `Value` or `Tensor`), as a `graphviz.Digraph`.

    rankdir: "LR" (inputs on the left), "TB" (inputs at the top), or "auto": LR unless
        the longest chain of boxes is longer than 12, then TB (deep models grow downwards,
        where a page or notebook scrolls, instead of into a picture too wide to read).
    show_grad: draw gradients; by default, exactly when `backward` has reached `root`.
    show_parameters / show_constants: draw leaves that require grad / that do not.
    collapse: module names (``"bn1"``, ``"features.bn1"``) or type names
        (``"BatchNorm1d"``) whose nodes are folded into one box per module call (a full
        path names that module only; another name every module so named); a name
        that matches no module is a ValueError listing those there are. "auto" (default):
        fold nothing unless the picture would have more than 100 boxes, then fold the
        innermost modules (then the next level out) until it fits; ``()`` never folds.
    max_nodes: draw at most this many boxes, those nearest `root`, and one
        "… N more nodes" marker for the rest (None: no limit).
    op_nodes: draw each op as its own small node (default: for `Value` graphs only).
    params: names for unnamed nodes: a module, or (name, node) pairs / a dict. Not
        needed for the parameters of modules called in the graph: they are asked for
        their names (``fc1.weight``); `params` wins where both name a node.
    vanishing / exploding: a box whose gradient RMS is below / above these is marked.
    scale: ``(low, high)``: the gradient RMS drawn in the bluest and the reddest colour
        (log scale; outside, clamped). Default ``(vanishing, exploding)``, the same for
        every picture, so that two pictures can be compared colour for colour.
    compact: boxes show name, op, shape and gradient RMS only (no value summaries).
    legend: add the colour bar (after backward). title: a heading for the picture.
    timeout: seconds Graphviz may take to draw the result inline in Jupyter.
    Returns a `GradientGraph` (a Digraph): ``.source`` is the DOT text, and Jupyter
    displays it inline.
    """
    if rankdir not in ("auto", "LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'auto', 'LR' or 'TB' (or 'RL', 'BT'), "
                         f"got {rankdir!r}.")
    if not all(isinstance(x, Real) and not isinstance(x, bool) for x in (vanishing, exploding)
               ) or not 0 < vanishing < exploding:
        raise ValueError(f"draw_graph: need numbers 0 < vanishing < exploding, got vanishing="
                         f"{vanishing!r} and exploding={exploding!r}.")
    low, high = check_scale(scale, vanishing, exploding)
    check_timeout(timeout, "draw_graph")  # now: the notebook would show a traceback later
    collapse = collapse_names(collapse, "draw_graph")
    if not hasattr(root, "_parents"):
        raise TypeError(f"draw_graph: expected a minigrad Value or Tensor, got "
                        f"{type(root).__name__}. Fix: pass the output of a computation, "
                        "e.g. the loss.")
    picture = describe(root, show_grad=show_grad, show_parameters=show_parameters,
                       show_constants=show_constants, collapse=collapse,
                       max_nodes=max_nodes, params=params)
    if op_nodes is None:
        op_nodes = not isinstance(root.data, np.ndarray)
    if rankdir == "auto":
        rankdir = "TB" if picture.longest_chain() * (2 if op_nodes else 1) > DEEP else "LR"
    graph = GradientGraph(
        "computation",
        graph_attr={"rankdir": rankdir, "fontname": _FONT, "fontsize": "12", "nodesep": "0.3",
                    "ranksep": "0.45", "bgcolor": "white", "pad": "0.2", "labelloc": "t"},
        node_attr={"fontname": _FONT, "fontsize": "10", "shape": "box",
                   "style": "rounded,filled", "fillcolor": style.PLAIN_FILL,
                   "margin": "0.14,0.07"},
        edge_attr={"fontname": _FONT, "fontsize": "9", "color": "#444444", "arrowsize": "0.6"},
        timeout=timeout, boxes=len(picture.boxes), arrows=len(picture.arrows),
        fold=fold_suggestion(box.cluster for box in picture.boxes if box.module is None),
    )
    heading = [f"<B>{escape(title, 80)}</B>"] if title else []
    if picture.auto_collapsed:
        heading.append(small(f"modules folded into one box each to keep "
                             f"{picture.total_nodes:,} nodes readable (collapse=() unfolds "
                             "them)"))
    if heading:
        graph.attr(label=html_label(heading))
    look = _Look(LogScale.between(low, high), vanishing, exploding, op_nodes, compact)
    _emit_boxes(graph, picture, look)
    _emit_arrows(graph, picture, op_nodes)
    if legend and picture.show_grad and any(box.grad is not None for box in picture.boxes):
        _emit_legend(graph, look)
    return graph


@dataclass
class _Look:
    """The drawing options every box needs."""

    scale: LogScale  # gradient RMS -> fill colour
    vanishing: float
    exploding: float
    op_nodes: bool
    compact: bool


# -- DOT statements ---------------------------------------------------------------------------
# Written directly (not through Digraph.node/edge): a 100,000-node graph is quicker that way,
# and every value is ours: an HTML label whose user text went through `escape`, or a colour,
# number or word, quoted here.


def _attributes(attributes: dict[str, str]) -> str:
    return " ".join(f"{name}={value}" if value.startswith("<") and value.endswith(">")
                    else f'{name}="{_quoted(value)}"' for name, value in attributes.items())


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _node(graph: graphviz.Digraph, key: str, **attributes: str) -> None:
    graph.body.append(f"\t{key} [{_attributes(attributes)}]\n")


def _edge(graph: graphviz.Digraph, tail: str, head: str, **attributes: str) -> None:
    listed = f" [{_attributes(attributes)}]" if attributes else ""
    graph.body.append(f"\t{tail} -> {head}{listed}\n")


def _open_cluster(graph: graphviz.Digraph, name: str, **attributes: str) -> None:
    graph.body.append(f"\tsubgraph {name} {{\n\tgraph [{_attributes(attributes)}]\n")


# -- boxes ----------------------------------------------------------------------------------


def _health(box: Box, look: _Look) -> str:
    """"vanishing", "exploding" or "" for a box's gradient."""
    if box.grad is None:
        return ""
    if not box.grad.finite or box.grad.rms > look.exploding:
        return "exploding"
    return "vanishing" if box.grad.rms < look.vanishing else ""


def _label(box: Box, look: _Look) -> str:
    node = box.node
    lines = []
    if box.module is not None:  # a collapsed module
        lines.append(f"<B>{escape(box.module.label())}</B>")
        lines.append(small(f"{plural(len(box.nodes), 'node')} collapsed"))
    else:
        op = "" if look.op_nodes else node.op_name  # with op nodes, the op has its own node
        title = box.name
        if title and op and title != op:
            lines.append(f"<B>{escape(title)}</B> " + small(escape(op), size=10))
        elif title or op:
            lines.append(f"<B>{escape(title or op)}</B>")
        elif box.kind != "op":
            lines.append(f"<I>{_leaf_word(box.kind, node)}</I>")
    data = node.data
    if isinstance(data, np.ndarray):
        lines.append(small(f"{escape(data.shape)} {escape(data.dtype)}"))
    if not look.compact or not isinstance(data, np.ndarray):
        summary = style.summarise_data(data)
        lines += ([f"data {summary[0]}"] if not isinstance(data, np.ndarray)
                  else summary[:1] if look.compact else summary)
    if box.grad is not None:
        grad_lines = box.grad.lines()[:1 if look.compact else None]
        lines += [f"<B>{line}</B>" if i == 0 else line for i, line in enumerate(grad_lines)]
        health = _health(box, look)
        if health:
            colour = style.EXPLODING_BORDER if health == "exploding" else style.VANISHING_BORDER
            lines.append(f'<FONT COLOR="{colour}"><B>⚠ {health} gradient</B></FONT>')
    return html_label(lines)


def _leaf_word(kind: str, node: Any) -> str:
    """What to call an unnamed leaf: a Value is a "leaf"; a Tensor a parameter, an input or
    a constant."""
    if not isinstance(node.data, np.ndarray):
        return "leaf"
    if kind == "parameter":
        return "parameter" if type(node).__name__ == "Parameter" else "leaf"
    return "constant" if node.data.size <= 1 else "input"


def _box_attributes(box: Box, look: _Look) -> dict[str, str]:
    attributes = {}
    if box.kind == "module":
        attributes["shape"] = "box3d"
        attributes["style"] = "filled"
    elif box.kind == "parameter":
        attributes["style"] = "filled"  # square corners: a trained leaf
    elif box.kind == "constant":
        attributes["style"] = "rounded,filled,dashed"
        attributes["color"] = "#888888"
    if box.grad is not None:
        attributes["fillcolor"] = look.scale.colour(box.grad.rms)
        attributes["tooltip"] = (f"gradient RMS {box.grad.rms:.6g}, norm {box.grad.norm:.6g}, "
                                 f"mean {box.grad.mean:.6g}, std {box.grad.std:.6g}")
    elif box.kind == "constant":
        attributes["fillcolor"] = style.NO_GRAD_FILL
    health = _health(box, look)
    if health:
        attributes["color"] = (style.EXPLODING_BORDER if health == "exploding"
                               else style.VANISHING_BORDER)
        attributes["penwidth"] = "3"
        if health == "vanishing":
            attributes["style"] = attributes.get("style", "rounded,filled") + ",dashed"
    elif box.is_root:
        attributes["penwidth"] = "2.5"
    return attributes


def _clusters(boxes: list[Box]) -> tuple[dict[Any, list[Scope]], dict[Any, list[Box]]]:
    """The module tree of the drawn boxes: children of each scope, boxes in each scope."""
    children: dict[Any, list[Scope]] = {None: []}
    members: dict[Any, list[Box]] = {None: []}
    linked: set[Scope] = set()
    for box in boxes:
        scope = box.cluster
        members.setdefault(scope, []).append(box)
        while scope is not None and scope not in linked:  # link it, then its ancestors
            linked.add(scope)
            members.setdefault(scope, [])
            children.setdefault(scope.parent, []).append(scope)
            scope = scope.parent
    return children, members


def _emit_boxes(graph: graphviz.Digraph, picture: Picture, look: _Look) -> None:
    """Write every box, nested in its module clusters (an explicit stack, not recursion).

    A cluster's title is a node of its own rather than the cluster's label: Graphviz routes
    arrows around nodes but straight through cluster labels, which made "bn1 (BatchNorm1d)"
    read "n1 (BatchNorm1d)". The title sits on the same rank as the cluster's first box
    (or, when that box is in a nested cluster, just before it), so it adds no row.
    """
    children, members = _clusters(picture.boxes)
    first = _first_boxes(picture, look.op_nodes)
    stack: list[tuple[Scope | None, bool, int]] = [(None, False, 0)]
    titles = 0
    while stack:
        scope, closing, depth = stack.pop()
        if closing:
            graph.body.append("\t}\n")
            continue
        if scope is not None:
            title = f"t{titles}"
            _open_cluster(graph, f"cluster_{titles}", label="", style="rounded,filled",
                          color="#9a9a9a", fillcolor="#f4f4f4" if depth % 2 else "#fbfbfb")
            titles += 1
            _node(graph, title, label=html_label([f"<B>{escape(scope.label())}</B>"]),
                  shape="plaintext", style="", fontsize="11", margin="0.02,0.02")
            key, direct = first[scope]
            if direct:
                graph.body.append(f"\t{{rank=same; {title}; {key}}}\n")
            else:
                _edge(graph, title, key, style="invis", weight="0")
            stack.append((scope, True, depth))
        for box in members[scope]:
            _node(graph, box.key, label=_label(box, look), **_box_attributes(box, look))
            if look.op_nodes and box.kind == "op":
                _node(graph, f"{box.key}_op", label=html_label([escape(box.node.op_name)]),
                      shape="ellipse", style="filled", fillcolor="white", fontsize="10",
                      margin="0.03,0.02")
        for child in reversed(children.get(scope, [])):
            stack.append((child, False, depth + 1))
    if picture.dropped:
        _node(graph, "more", label=html_label([f"… {plural(picture.dropped, 'more node')}",
                                              small(f"(max_nodes reached; "
                                                    f"{picture.total_nodes:,} in the graph)")]),
              shape="note", style="filled", fillcolor="#fff7d6")


def _first_boxes(picture: Picture, op_nodes: bool) -> dict[Scope, tuple[str, bool]]:
    """For each cluster: its first-made computed box (or its first box when it has none),
    and whether that box sits directly in it (not in a nested cluster)."""
    first: dict[Scope, tuple[str, bool, bool]] = {}  # scope -> (key, direct, computed)
    for box in picture.boxes:  # in creation order
        computed = box.kind in ("op", "module")
        key = f"{box.key}_op" if op_nodes and box.kind == "op" else box.key
        for scope in box.cluster.path() if box.cluster else []:
            if scope not in first or (computed and not first[scope][2]):
                first[scope] = (key, scope == box.cluster, computed)
    return {scope: (key, direct) for scope, (key, direct, _) in first.items()}


# -- arrows ---------------------------------------------------------------------------------


def _emit_arrows(graph: graphviz.Digraph, picture: Picture, op_nodes: bool) -> None:
    op_keys = {box.key for box in picture.boxes if op_nodes and box.kind == "op"}
    # Widths are shares of the widest *finite* gradient: an infinite one (drawn the widest
    # of all, `_pen_width`) would make every finite share 0, all drawn the thinnest. (The
    # explorer's width scale is fitted the same way: `page.build_document`.)
    sizes = [a.grad_rms for a in picture.arrows
             if a.grad_rms is not None and np.isfinite(a.grad_rms)]
    widest = max(sizes, default=0.0)
    received_grad = {box.key for box in picture.boxes if box.grad is not None}
    for key in sorted(op_keys, key=lambda k: int(k[1:])):
        _edge(graph, f"{key}_op", key)
    for arrow in picture.arrows:
        target = f"{arrow.target}_op" if arrow.target in op_keys else arrow.target
        attributes: dict[str, str] = {}
        if not arrow.carries_grad:
            attributes = {"style": "dashed", "color": "#a0a0a0"}
        elif arrow.grad_rms is not None and arrow.grad_norm is not None:
            attributes = {"label": number(arrow.grad_rms),
                          "penwidth": _pen_width(arrow.grad_rms, widest),
                          "tooltip": f"gradient RMS {arrow.grad_rms:.6g}, "
                                     f"norm {arrow.grad_norm:.6g}"}
        elif arrow.target in received_grad:  # the op's backward could not be rerun
            attributes = {"label": "?", "tooltip": "gradient not available"}
        _edge(graph, arrow.source, target, **attributes)
    for key in picture.dropped_targets:
        target = f"{key}_op" if key in op_keys else key
        # constraint=false: the marker's arrows do not rank the boxes (to many boxes at
        # every depth they made dot route hundreds of long edges; see layout.dot_source).
        _edge(graph, "more", target, style="dashed", color="#a0a0a0", constraint="false")


def _pen_width(rms: float, widest: float) -> str:
    """Arrow width: 0.5 points plus up to 5.5 more by the square root of the gradient's share
    of the largest one in the picture (a square root, so small flows stay visible)."""
    if not np.isfinite(rms) or not widest > 0:
        return "6" if rms > 0 else "0.5"
    return f"{0.5 + 5.5 * np.sqrt(min(1.0, rms / widest)):.2f}"


def _emit_legend(graph: graphviz.Digraph, look: _Look) -> None:
    """A colour bar for the node fill, and what borders and arrow widths mean."""
    bar = look.scale.bar()
    cells = "".join(f'<TD BGCOLOR="{colour}" WIDTH="34">{caption}</TD>'
                    for colour, caption in bar)
    span = len(bar) + 1
    rows = [
        f'<TR><TD COLSPAN="{span}"><B>box colour and "grad RMS": root mean square of the '
        'node\'s gradient</B>, √(mean g²) (log scale)</TD></TR>',
        f'<TR>{cells}<TD BGCOLOR="{style.NO_GRAD_FILL}">no grad</TD></TR>',
        f'<TR><TD COLSPAN="{span}" ALIGN="LEFT">arrow: data flows along it; its width and '
        'number: RMS of the gradient sent back along it</TD></TR>',
        f'<TR><TD COLSPAN="{span}" ALIGN="LEFT"><FONT COLOR="{style.VANISHING_BORDER}">'
        f'<B>dashed blue border</B></FONT>: vanishing (RMS &lt; {number(look.vanishing)}); '
        f'<FONT COLOR="{style.EXPLODING_BORDER}"><B>red border</B></FONT>: exploding '
        f'(RMS &gt; {number(look.exploding)})</TD></TR>',
    ]
    _open_cluster(graph, "cluster_legend", label="", style="rounded", color="#cccccc")
    _node(graph, "legend", label='<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" '
          f'CELLPADDING="4">{"".join(rows)}</TABLE>>', shape="plaintext", style="",
          fontsize="10")
    graph.body.append("\t}\n")


# -- files ----------------------------------------------------------------------------------


def render(root: Any, path: str | Path, format: str | None = None, *,
           timeout: float | None = DEFAULT_TIMEOUT, **options: Any) -> Path:
    """Draw the graph of `root` (see `draw_graph` for the options) and write it to `path`
    (replacing a file of that name; missing folders are made).

    `format` is "svg", "png", "pdf" or "dot"; by default the path's suffix, else "svg".
    Graphviz is stopped after `timeout` seconds (`GraphvizTimeoutError`, naming the graph's
    size and the options that shrink it). Returns the path of the written file.
    """
    check_format(Path(path), format, "render")  # before drawing: a wrong name fails fast
    check_timeout(timeout, "render")
    return save(draw_graph(root, **options), path, format, timeout=timeout)
