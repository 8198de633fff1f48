"""The explorer's page data: a recorder's statistics and a Graphviz layout as one JSON document.

One document holds one or more panels (side by side in the page), a colour scale shared by
all steps and all panels, and the arrow-width scale likewise. Each panel holds its boxes
(rectangle, text, per-step statistics), its module clusters, its arrows (path, per-step
gradient norm) and its per-layer strip. Every string in it is plain text, which the page
only ever inserts as text; geometry is numbers and numeric SVG paths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad.autograd import Scope
from minigrad.viz.layout import Layout, LayoutCluster, LayoutNode, dot_source, parse_svg, run_dot
from minigrad.viz.modules import fold_suggestion, matches, qualified_names
from minigrad.viz.recorder import GradientFlowRecorder
from minigrad.viz.style import PALETTE, LogScale, number

START_COLLAPSED_ABOVE = 40  # boxes: a larger graph opens with its innermost modules closed
FOLD_ABOVE = 2000  # boxes: with collapse="auto", innermost modules are folded before layout
# max_nodes="auto": boxes laid out at most. A graph with no module has no clusters to order
# it, and dot's time grows fast with such a graph's size (the scalar MLP demo's loss, under
# load: 500 boxes 5 s, 1,000 boxes 55 s, 2,000 boxes over 150 s).
AUTO_MAX_NODES, AUTO_MAX_NODES_NO_MODULES = 2000, 500
MAX_PAGE_STEPS = 200  # more kept steps are thinned evenly for the page
UPDATE_SCALE = (-5, -1)  # decades of the update:data heat map (healthy about 1e-3)
_LEVELS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # histogram heights


@dataclass
class Panel:
    """One recorded network to draw: its heading, its recorder, a note shown above it."""

    label: str
    recorder: GradientFlowRecorder
    note: str = ""


def _rounded(values: np.ndarray) -> list[float | str | None]:
    """Numbers to 4 significant digits for the page: None for NaN (nothing to show), "inf"
    and "-inf" for infinities (JSON has none; the page reads them back as numbers)."""
    return [float(f"{v:.4g}") if math.isfinite(v) else None if v != v
            else "inf" if v > 0 else "-inf" for v in values.tolist()]


def _histogram(counts: np.ndarray, low: float, high: float) -> list | None:
    """[low, high, heights]: heights relative to the tallest bin, one character each."""
    if not math.isfinite(low) or counts.sum() == 0:
        return None
    top = counts.max()
    top_level = len(_LEVELS) - 1
    heights = "".join(_LEVELS[int(round(c / top * top_level))] for c in counts.tolist())
    return [float(f"{low:.4g}"), float(f"{high:.4g}"), heights]


def _text(value: Any, limit: int = 60) -> str:
    """User text for the page: printable, shortened (the page inserts it as text only)."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _folded(structure: Any, collapse: Any) -> dict[Scope, None]:
    """The modules folded into one box before layout: those named in `collapse` (name,
    qualified name or type), or with "auto" in a graph above FOLD_ABOVE boxes the
    innermost ones."""
    scopes = [box.cluster for box in structure.boxes if box.cluster is not None]
    if collapse == "auto":
        if len(structure.boxes) <= FOLD_ABOVE:
            return {}
        parents = {s.parent for scope in scopes for s in scope.path()}
        return {s: None for s in scopes if s not in parents and s.parent is not None}
    patterns = {collapse} if isinstance(collapse, str) else set(collapse or ())
    folded: dict[Scope, None] = {}
    paths = qualified_names(scopes)
    for scope in scopes:
        match = next((s for s in scope.path() if matches(s, patterns, paths)), None)
        if match is not None:
            folded[match] = None
    return folded


class _PanelBuilder:
    """Turns one recorder into one panel of the document."""

    def __init__(self, panel: Panel, collapse: Any, max_nodes: int | str | None, rankdir: str,
                 timeout: float | None, step_indices: list[int]) -> None:
        self.panel, self.recorder = panel, panel.recorder
        structure = self.recorder.structure
        assert structure is not None  # explore() refuses a recorder without records
        self.structure = structure
        self.kept = step_indices
        self._group_boxes(collapse, max_nodes)
        self.rankdir, self.timeout = rankdir, timeout

    # -- which boxes the page draws --------------------------------------------------------

    def _group_boxes(self, collapse: Any, max_nodes: int | str | None) -> None:
        boxes = self.structure.boxes
        if max_nodes == "auto":
            max_nodes = (AUTO_MAX_NODES if any(box.cluster for box in boxes)
                         else AUTO_MAX_NODES_NO_MODULES)
        folded = _folded(self.structure, collapse)
        self.members: list[list[int]] = []  # recorded boxes behind each page box
        self.module: list[Scope | None] = []  # the folded module, per page box
        page_of: list[int] = []
        module_box: dict[Scope, int] = {}
        for i, box in enumerate(boxes):
            scope = box.cluster
            fold = next((s for s in scope.path() if s in folded), None) if scope else None
            if fold is None:
                page_of.append(len(self.members))
                self.members.append([i])
                self.module.append(None)
            else:
                if fold not in module_box:
                    module_box[fold] = len(self.members)
                    self.members.append([])
                    self.module.append(fold)
                page_of.append(module_box[fold])
                self.members[module_box[fold]].append(i)
        # The boxes nearest the root (created last) are kept; the rest become one marker.
        count = len(self.members)
        newest = sorted(range(count), key=lambda b: max(self.members[b]), reverse=True)
        keep = set(newest if not isinstance(max_nodes, int) else newest[:max_nodes])
        self.dropped = count - len(keep)
        renumber = {b: n for n, b in enumerate(sorted(keep))}
        self.members = [self.members[b] for b in sorted(keep)]
        self.module = [self.module[b] for b in sorted(keep)]
        self.page_of = [renumber.get(b, -1) for b in page_of]
        self.folded = len(folded)

    def _output(self, page_box: int) -> int:
        """The recorded box whose statistics a page box shows (a module's newest)."""
        return max(self.members[page_box])

    # -- layout ------------------------------------------------------------------------------

    def _clusters(self) -> tuple[list[LayoutCluster], list[Scope], list[int]]:
        """Clusters for the boxes' modules (folded modules are boxes, not clusters)."""
        boxes = self.structure.boxes
        scopes: dict[Scope, int] = {}
        order: list[Scope] = []
        box_cluster = []
        for page_box, members in enumerate(self.members):
            module = self.module[page_box]
            scope = module.parent if module is not None else boxes[members[0]].cluster
            chain = scope.path() if scope is not None else []
            for s in chain:
                if s not in scopes:
                    scopes[s] = len(order)
                    order.append(s)
            box_cluster.append(scopes[scope] if scope is not None else -1)
        clusters = [LayoutCluster(scopes[s.parent] if s.parent is not None else -1,
                                  _text(s.label())) for s in order]
        return clusters, order, box_cluster

    def _box_lines(self, page_box: int) -> list[str]:
        module = self.module[page_box]
        if module is not None:
            return [_text(module.label()), f"{len(self.members[page_box])} nodes folded",
                    "grad rms 0.000e-00"]
        box = self.structure.boxes[self.members[page_box][0]]
        title = box.name or box.op or {"parameter": "parameter", "constant": "input"}.get(
            box.kind, box.kind)
        if box.name and box.op and box.name != box.op:
            title = f"{box.name}  {box.op}"
        return [_text(title, 40), f"{box.shape} {box.dtype}", "grad rms 0.000e-00"]

    def _arrows(self) -> list[tuple[int, int, list[int]]]:
        """Page arrows (source page box, target page box, recorded arrow indices)."""
        arrows: dict[tuple[int, int], list[int]] = {}
        for k, (source, target) in enumerate(self.structure.arrows):
            s, t = self.page_of[source], self.page_of[target]
            if s < 0 or t < 0 or s == t:
                continue
            arrows.setdefault((s, t), []).append(k)
        return [(s, t, ks) for (s, t), ks in arrows.items()]

    def _dropped_targets(self) -> list[int]:
        return sorted({self.page_of[t] for s, t in self.structure.arrows
                       if self.page_of[s] < 0 and self.page_of[t] >= 0})

    def layout(self) -> tuple[Layout, list, list, list, list]:
        clusters, scopes, box_cluster = self._clusters()
        nodes = [LayoutNode(f"b{b}", self._box_lines(b), box_cluster[b])
                 for b in range(len(self.members))]
        arrows = self._arrows()
        dot_arrows = [(f"e{k}", f"b{s}", f"b{t}") for k, (s, t, _) in enumerate(arrows)]
        if self.dropped:
            nodes.append(LayoutNode("bmore", [f"… {self.dropped:,} more boxes",
                                              "(max_nodes reached)"]))
            dot_arrows += [(f"emore{t}", "bmore", f"b{t}") for t in self._dropped_targets()]
        size = (f"{len(nodes):,} boxes, {len(dot_arrows):,} arrows, "
                f"{len(clusters):,} clusters")
        source = dot_source(nodes, clusters, dot_arrows, self.rankdir)
        fold = fold_suggestion(self.structure.boxes[members[0]].cluster for members, module
                               in zip(self.members, self.module) if module is None)
        layout = parse_svg(run_dot(source, self.timeout, size, bool(clusters), fold))
        return layout, clusters, scopes, box_cluster, arrows

    # -- the panel -------------------------------------------------------------------------

    def build(self, scale: LogScale) -> dict:
        recorder, structure = self.recorder, self.structure
        layout, clusters, scopes, box_cluster, arrows = self.layout()
        kept = self.kept
        stats = np.stack([recorder.box_stats[k] for k in kept])  # (steps, boxes, stats)
        boxes = []
        for b, members in enumerate(self.members):
            out = self._output(b)
            info = structure.boxes[out]
            module = self.module[b]
            boxes.append({
                "rect": layout.boxes.get(f"b{b}", (0, 0, 0, 0)),
                "lines": self._box_lines(b)[:2],
                "kind": "module" if module is not None else info.kind,
                "cluster": box_cluster[b],
                "root": info.is_root,
                "id": _text(info.id if module is None else module.qualified_name(), 80),
                "op": _text(info.op), "name": _text(info.name),
                "shape": list(info.shape), "dtype": _text(info.dtype),
                "where": _text(info.where, 200) if info.where else None,
                "nodes": len(members),
                "rms": _rounded(stats[:, out, 0]), "norm": _rounded(stats[:, out, 1]),
                "mean": _rounded(stats[:, out, 2]), "std": _rounded(stats[:, out, 3]),
                "saturated": _rounded(stats[:, out, 4]),
                "grad_hist": [_histogram(recorder.grad_hist[k][out], *recorder.box_stats[k][
                    out, 5:7]) for k in kept],
                "value_hist": [_histogram(recorder.value_hist[k][out], *recorder.box_stats[k][
                    out, 7:9]) for k in kept],
            })
        page_clusters = []
        for c, cluster in enumerate(clusters):
            inside = [b for b in range(len(boxes)) if c in self._ancestors(b, box_cluster,
                                                                          clusters)]
            page_clusters.append({"rect": layout.clusters.get(f"c{c}", (0, 0, 0, 0)),
                                  "label": cluster.label, "parent": cluster.parent,
                                  "output": max(inside, key=lambda b: self._output(b))
                                  if inside else -1,
                                  "size": len(inside), "type": _text(scopes[c].type_name)})
        page_arrows = []
        for k, (s, t, recorded) in enumerate(arrows):
            path, head = layout.arrows.get(f"e{k}", ("", ""))
            norms = np.stack([recorder.arrow_norm[i][recorded] for i in kept])
            carries = not np.isnan(norms).all()
            combined = np.sqrt(np.nansum(norms * norms, axis=1)) if carries else norms[:, 0]
            page_arrows.append({"source": s, "target": t, "path": path, "head": head,
                                "grad": bool(carries), "norm": _rounded(combined)})
        for key, (path, head) in layout.arrows.items():
            if key.startswith("emore"):
                page_arrows.append({"source": -1, "target": int(key[5:]), "path": path,
                                    "head": head, "grad": False, "norm": []})
        return {
            "label": _text(self.panel.label, 80), "note": _text(self.panel.note, 300),
            "width": layout.width, "height": layout.height,
            "steps": [recorder.steps[k] for k in kept],
            "boxes": boxes, "clusters": page_clusters, "arrows": page_arrows,
            "more": {"rect": layout.boxes["bmore"], "count": self.dropped}
            if "bmore" in layout.boxes else None,
            "folded": self.folded,
            "start_collapsed": len(boxes) > START_COLLAPSED_ABOVE,
            "layers": self._layers(boxes, page_clusters, scopes, clusters),
            "updates": self._updates(),
        }

    @staticmethod
    def _ancestors(b: int, box_cluster: list[int], clusters: list[LayoutCluster]) -> set[int]:
        found, c = set(), box_cluster[b]
        while c >= 0:
            found.add(c)
            c = clusters[c].parent
        return found

    def _layers(self, boxes: list[dict], page_clusters: list[dict], scopes: list[Scope],
                clusters: list[LayoutCluster]) -> dict:
        """Rows of the strip: each innermost module (a layer), its output's gradient RMS."""
        parents = {cluster.parent for cluster in clusters}
        layers = []  # (output box, name, series), in the order the forward pass ran
        for c, cluster in enumerate(page_clusters):
            if c in parents or cluster["output"] < 0:
                continue
            layers.append((cluster["output"], _text(scopes[c].label()),
                           boxes[cluster["output"]]["rms"]))
        for b, box in enumerate(boxes):  # folded modules are layers too
            if box["kind"] == "module":
                layers.append((b, box["lines"][0], box["rms"]))
        layers.sort(key=lambda layer: layer[0])
        return {"names": [name for _, name, _ in layers],
                "rms": [series for _, _, series in layers]}

    def _updates(self) -> dict:
        """Rows of the update:data strip: one per parameter."""
        structure = self.structure
        names = [_text(structure.boxes[i].id) for i in structure.parameters]
        if not names:
            return {"names": [], "ratio": []}
        ratios = np.stack([self.recorder.update_data[k] for k in self.kept])
        return {"names": names, "ratio": [_rounded(ratios[:, p]) for p in range(len(names))]}


def thin(count: int, limit: int = MAX_PAGE_STEPS) -> list[int]:
    """At most `limit` indices out of `count`, evenly spread, first and last kept."""
    if count <= limit:
        return list(range(count))
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def timeline(steps: list[list[int]]) -> tuple[list[int], list[list[int]]]:
    """One slider for panels recorded at different steps (another `every`, another length):
    the slider's steps (all the panels' step numbers, at most MAX_PAGE_STEPS of them), and
    for each panel, at each slider position, its latest record at or before that step (its
    first before it has one), so that side-by-side panels show the same moment of training."""
    every = sorted(set().union(*steps))
    slider = [every[i] for i in thin(len(every))]
    return slider, [[max(0, int(np.searchsorted(mine, step, side="right")) - 1)
                     for step in slider] for mine in steps]


def build_document(panels: list[Panel], *, title: str, collapse: Any,
                   max_nodes: int | str | None,
                   rankdir: str, timeout: float | None, vanishing: float = 1e-6,
                   exploding: float = 1e2) -> dict:
    """The whole page's data (see the module docstring)."""
    all_rms, all_norms, notes = [], [], []
    thinned = []
    for panel in panels:
        recorder = panel.recorder
        kept = thin(len(recorder))
        thinned.append(kept)
        if len(kept) < len(recorder):
            where = f"{panel.label}: " if panel.label else ""
            notes.append(f"{where}showing {len(kept)} of {len(recorder)} recorded steps, "
                         "evenly spread.")
        for k in kept:
            rms = recorder.box_stats[k][:, 0]
            all_rms.extend(rms[np.isfinite(rms) & (rms > 0)].tolist())
            norms = recorder.arrow_norm[k]
            all_norms.extend(norms[np.isfinite(norms)].tolist())
    scale = LogScale.fit(all_rms, vanishing, exploding)
    widest = max(all_norms, default=0.0)
    built = [_PanelBuilder(panel, collapse, max_nodes, rankdir, timeout, kept).build(scale)
             for panel, kept in zip(panels, thinned)]
    slider, positions = timeline([page_panel["steps"] for page_panel in built])
    for page_panel, at in zip(built, positions):
        page_panel["at"] = at  # the panel's record shown at each slider position
    for panel, page_panel in zip(panels, built):
        if page_panel["folded"]:
            where = f"{panel.label}: " if panel.label else ""
            notes.append(f"{where}{page_panel['folded']} modules folded before layout (they "
                         "cannot be opened here; explore with collapse=() to keep them).")
    return {
        "format": "minigrad-explorer/1",
        "title": _text(title, 120),
        "notes": [_text(note, 300) for note in notes],
        "scale": {"low": scale.low, "high": scale.high, "palette": PALETTE,
                  "bar": scale.bar(), "vanishing": vanishing, "exploding": exploding,
                  "widest": float(f"{widest:.6g}") if widest > 0 else 0.0},
        "update_scale": {"low": UPDATE_SCALE[0], "high": UPDATE_SCALE[1],
                         "bar": LogScale(*UPDATE_SCALE).bar()},
        "panels": built,
        "timeline": slider,  # the step of each slider position
        "caption": f"colour: gradient RMS per box, log scale 1e{scale.low} … 1e{scale.high}; "
                   f"arrow width: gradient norm carried (widest {number(widest)})",
    }
