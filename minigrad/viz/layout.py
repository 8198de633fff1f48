"""Where the explorer's boxes go: Graphviz lays the graph out once, as SVG, and we read back
only numbers (each box's rectangle, each cluster's rectangle, each arrow's path).

The page then draws everything itself from those numbers, so no markup made from user text
ever reaches it, and changing the step re-colours the same layout (no re-layout).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field

from minigrad.viz.output import GraphvizTimeoutError, run_dot_source

DEFAULT_TIMEOUT = 60.0  # seconds; a few thousand boxes take dot a few seconds
_SVG = "{http://www.w3.org/2000/svg}"
_NUMBERS = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")
_PATH = re.compile(r"^[MCLZmclz0-9eE.,\- ]*$")  # what dot writes in an edge path


# The explorer's time-out is the drawings' own (one `dot` runner: output.run_dot_source).
LayoutTimeoutError = GraphvizTimeoutError
_SHRINK_HINT_NO_MODULES = "lower max_nodes= (no module to fold: a graph of Values or plain ops)"


@dataclass
class LayoutNode:
    key: str  # DOT identifier: b0, b1, ... for boxes, c0, ... for clusters
    label_lines: list[str]  # text used only to size the box (user text made inert)
    cluster: int = -1  # enclosing cluster's index, -1 for none


@dataclass
class LayoutCluster:
    parent: int  # enclosing cluster's index, -1 for none
    label: str


@dataclass
class Layout:
    """Rectangles as (x, y, width, height) in points, y downwards; paths in SVG syntax."""

    width: float
    height: float
    boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    clusters: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    arrows: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (path, head)


def _dot_string(text: str) -> str:
    """`text` as a quoted DOT string that cannot end the string or start a record field."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_source(nodes: list[LayoutNode], clusters: list[LayoutCluster],
               arrows: list[tuple[str, str, str]], rankdir: str) -> str:
    """DOT text for the layout: boxes sized by their label lines, nested clusters, arrows
    ``(key, source, target)``. Only our own keys and quoted strings go into it."""
    lines = ["digraph explorer {",
             f"graph [rankdir={rankdir}, nodesep=0.25, ranksep=0.35, fontname=Helvetica, "
             "fontsize=11];",
             'node [shape=box, fontname=Helvetica, fontsize=10, margin="0.08,0.04"];',
             "edge [arrowsize=0.6];"]
    children: dict[int, list[int]] = {}
    for index, cluster in enumerate(clusters):
        children.setdefault(cluster.parent, []).append(index)
    members: dict[int, list[LayoutNode]] = {}
    for node in nodes:
        members.setdefault(node.cluster, []).append(node)
    stack: list[tuple[int, bool]] = [(-1, False)]
    while stack:  # nested clusters with an explicit stack, as graph.py does
        index, closing = stack.pop()
        if closing:
            lines.append("}")
            continue
        if index >= 0:
            lines.append(f"subgraph cluster_{index} {{")
            lines.append(f"id=c{index}; label={_dot_string(clusters[index].label)};")
            stack.append((index, True))
        for node in members.get(index, []):
            label = _dot_string("\n".join(node.label_lines))
            lines.append(f"{node.key} [id={node.key}, label={label}];")
        for child in reversed(children.get(index, [])):
            stack.append((child, False))
    for key, source, target in arrows:
        # The "… N more boxes" marker's arrows (emore*) do not rank the boxes: from one box
        # to many at every depth (a long chain of sums), they made dot route hundreds of
        # long edges (a 100-box scalar graph: 18 s instead of 0.4 s).
        loose = ", constraint=false" if key.startswith("emore") else ""
        lines.append(f"{source} -> {target} [id={key}{loose}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_dot(source: str, timeout: float | None, size: str, modules: bool = True,
            fold: str | None = None) -> str:
    """The SVG that ``dot`` makes of `source`, stopped after `timeout` seconds (the
    message names what shrinks the graph: folding `fold`, a module type it has drawn whose
    folding helps most, `modules.fold_suggestion`)."""
    if fold is not None:
        hint = f"fold modules (collapse={fold!r} or collapse='auto'), lower max_nodes="
    elif modules:
        hint = "lower max_nodes= (no module left to fold that would help)"
    else:
        hint = _SHRINK_HINT_NO_MODULES
    return run_dot_source(source, "svg", timeout, "explore", lambda: size,
                          hint).decode("utf-8")


def _numbers(text: str) -> list[float]:
    return [float(x) for x in _NUMBERS.findall(text)]


def _rectangle(group: ElementTree.Element, dx: float, dy: float
               ) -> tuple[float, float, float, float] | None:
    """The bounding rectangle of a group's first polygon or path, moved by (dx, dy)."""
    for shape in group:
        if shape.tag == _SVG + "polygon":
            values = _numbers(shape.get("points", ""))
        elif shape.tag == _SVG + "path":
            values = _numbers(shape.get("d", ""))
        else:
            continue
        xs, ys = values[0::2], values[1::2]
        if xs and ys:
            x, y = min(xs) + dx, min(ys) + dy
            return (round(x, 2), round(y, 2), round(max(xs) - min(xs), 2),
                    round(max(ys) - min(ys), 2))
    return None


def _translate(text: str, dx: float, dy: float) -> str:
    """A path or point list moved by (dx, dy), numbers only (letters kept)."""
    out, axis = [], 0
    for token in re.findall(r"[A-Za-z]|-?\d+(?:\.\d+)?(?:e-?\d+)?", text):
        if token.isalpha():
            out.append(token)
            continue
        shift = dx if axis == 0 else dy
        out.append(f"{float(token) + shift:.2f}")
        axis = 1 - axis
    return " ".join(out)


def parse_svg(svg: str) -> Layout:
    """Read the rectangles and paths of `dot_source`'s boxes, clusters and arrows."""
    root = ElementTree.fromstring(svg)
    view = _numbers(root.get("viewBox", "0 0 0 0"))
    layout = Layout(width=view[2], height=view[3])
    graph = root.find(_SVG + "g")
    if graph is None:
        raise ValueError("explore: Graphviz's SVG has no drawing group; cannot read the layout.")
    dx = dy = 0.0
    match = re.search(r"translate\(([-\d.]+)[ ,]+([-\d.]+)\)", graph.get("transform", ""))
    if match:
        dx, dy = float(match.group(1)), float(match.group(2))
    for group in graph.iter(_SVG + "g"):
        key, kind = group.get("id", ""), group.get("class", "")
        if kind == "node" and key.startswith("b"):
            rectangle = _rectangle(group, dx, dy)
            if rectangle:
                layout.boxes[key] = rectangle
        elif kind == "cluster" and key.startswith("c"):
            rectangle = _rectangle(group, dx, dy)
            if rectangle:
                layout.clusters[key] = rectangle
        elif kind == "edge" and key.startswith("e"):
            path = next((s.get("d", "") for s in group if s.tag == _SVG + "path"), "")
            head = next((s.get("points", "") for s in group if s.tag == _SVG + "polygon"), "")
            if _PATH.match(path) and _PATH.match(head):
                layout.arrows[key] = (_translate(path, dx, dy), _translate(head, dx, dy))
    return layout
