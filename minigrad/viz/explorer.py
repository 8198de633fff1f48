"""`explore`: an interactive page of gradient flow, one step or a whole recording, side by side.

    loss.backward(retain_graph=True)                     # keep the graph to draw it
    mg.viz.explore(loss)                                 # one step, inline in Jupyter
    mg.viz.explore(recorder).save("flow.html")           # a recording, with a step slider
    mg.viz.explore({"without BN": plain, "with BN": bn})  # side by side, one slider

The page is one self-contained HTML file: the template, its script and style and the
vendored svg-pan-zoom (BSD-2-Clause, from npm; licence beside it in explorer_assets/) are
inlined, and the data travels as JSON inside ``<script type="application/json">``. The
page reads that JSON with ``JSON.parse`` and inserts every string with ``textContent``:
no data is ever evaluated as code or parsed as markup. `_html` below is the only place
that writes HTML, and every piece it inserts goes through an escaper for its context.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from minigrad.viz.layout import DEFAULT_TIMEOUT
from minigrad.viz.modules import collapse_names, matches, qualified_names
from minigrad.viz.output import check_timeout, refuse_folder
from minigrad.viz.page import Panel, build_document
from minigrad.viz.recorder import GradientFlowRecorder
from minigrad.viz.walk import has_gradient

VENDORED = {"svg-pan-zoom.min.js": ("svg-pan-zoom", "3.6.2", "BSD-2-Clause",
                                    "svg-pan-zoom.LICENSE")}
_NO_GRAD_NEEDED = ("This loss does not require grad (no input has requires_grad=True, or it "
                   "was computed under no_grad()): no gradient flows through it, and the graph "
                   "is shown with values only. Fix: make the parameters with "
                   "requires_grad=True (a module's are) and compute the loss outside no_grad().")
_NO_GRADIENT = ("No gradient yet: the graph is shown with values only. Fix: call "
                "loss.backward(retain_graph=True) before explore(loss) to see gradients.")


def script_json(document: Any) -> str:
    """`document` as JSON that is safe inside a ``<script>`` element: ``<``, ``>`` and ``&``
    (so no ``</script>`` or ``<!--`` can appear) and the JavaScript line separators U+2028
    and U+2029 are written as ``\\u`` escapes, which JSON.parse reads back unchanged."""
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def _asset(name: str) -> str:
    return resources.files("minigrad.viz").joinpath("explorer_assets", name).read_text("utf-8")


def _inline_code(code: str, name: str) -> str:
    """Our own (or vendored) script or style, checked to be safe to inline as it is."""
    if "</" in code.replace("<\\/", ""):
        raise RuntimeError(f"explore: the asset {name} contains '</' and cannot be inlined.")
    return code


def _html(document: dict) -> str:
    """The page: the template with its title, style, scripts and data filled in."""
    licence = "; ".join(f"{package} {version} ({licence}, see {file})"
                        for package, version, licence, file in VENDORED.values())
    parts = {
        "{{title}}": html.escape(document["title"]),
        "{{style}}": _inline_code(_asset("explorer.css"), "explorer.css"),
        "{{vendor_note}}": html.escape(licence),
        "{{vendor}}": "\n".join(_inline_code(_asset(name), name) for name in VENDORED),
        "{{script}}": _inline_code(_asset("explorer.js"), "explorer.js"),
        "{{data}}": script_json(document),
    }
    # One pass over the template: an inserted text is never searched for placeholders.
    return re.sub(r"\{\{[a-z_]+\}\}", lambda match: parts[match.group(0)],
                  _asset("page.html"))


def html_name_instead(path: Path) -> Path | None:
    """None if `path` may take the page (its name ends in .html or .htm, in any case), else
    the name to suggest instead. A page replaces the file it is written to, so it goes only
    where its name says it is a page (`Explorer.save` and ``minigrad explore --out``)."""
    if path.suffix.lower() in (".html", ".htm"):
        return None
    return path.with_name(path.stem + ".html")


class Explorer:
    """A built page: ``save(path)`` writes it, Jupyter shows it inline (`_repr_html_`)."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.html = _html(document)

    def save(self, path: str | Path) -> Path:
        """Write the page to `path` (one self-contained .html file, replacing a file of
        that name; its folder must exist, and a folder is refused); returns the path.

        The name must end in .html or .htm, as for ``minigrad explore --out``:
        ``save("flow")`` or ``save("flow.png")`` is a ValueError whose fix names
        "flow.html". Nothing is appended (`render` appends .svg): the page replaces the
        file it is written to, so it goes only where its name says, never over ``train.py``.
        For a picture of one step's graph: ``mg.viz.render(loss, "flow.png")``.
        """
        refuse_folder(os.fspath(path), "Explorer.save", "flow.html")
        path = Path(path)
        instead = html_name_instead(path)
        if instead is not None:
            raise ValueError(
                f"Explorer.save: the page is an HTML file, but {str(path)!r} does not end in "
                f".html (or .htm). Fix: save({str(instead)!r}); "
                "for a picture of one step's graph, mg.viz.render(loss, 'graph.png').")
        if not path.parent.is_dir():
            raise ValueError(f"Explorer.save: the folder {str(path.parent)!r} does not exist. "
                             "Fix: create it first (Path(...).mkdir(parents=True)) or save "
                             "into an existing folder.")
        path.write_text(self.html, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        # An iframe keeps the page's script and style apart from the notebook's, the same
        # in JupyterLab, classic Notebook and VS Code; srcdoc is an attribute, so the whole
        # page is attribute-escaped. Without allow-same-origin it cannot touch the notebook.
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                'sandbox="allow-scripts" style="width:100%;height:760px;border:1px solid '
                '#ddd" title="minigrad gradient-flow explorer"></iframe>')

    def __repr__(self) -> str:
        panels = self.document["panels"]
        return (f"Explorer({len(panels)} panel(s), "
                f"{sum(len(p['boxes']) for p in panels)} boxes, {len(self.html):,} bytes)")


def _one_step(loss: Any, params: Any) -> Panel:
    recorder = GradientFlowRecorder._unwatched(params)
    # Not `record`: it would also ask for the gradients of the user's next backward pass.
    recorder._keep_now(loss, tool="explore")  # values only before backward
    recorder.calls = 1
    if has_gradient(loss) and loss.requires_grad:
        return Panel("", recorder)
    return Panel("", recorder, _NO_GRADIENT if loss.requires_grad else _NO_GRAD_NEEDED)


def _panels(source: Any, params: Any) -> list[Panel]:
    if isinstance(source, GradientFlowRecorder):
        source.check_recorded("explore")
        return [Panel("", source)]
    if isinstance(source, Mapping):
        if not source:
            raise ValueError("explore: the dict of recorders is empty. Fix: pass "
                             "{'label': recorder, ...} with at least one recorder.")
        panels = []
        for label, item in source.items():
            if isinstance(item, GradientFlowRecorder):
                item.check_recorded(f"explore (panel {label!r})")
                panels.append(Panel(str(label), item))
            elif hasattr(item, "_parents"):
                panel = _one_step(item, params)
                panel.label = str(label)
                panels.append(panel)
            else:
                raise TypeError(f"explore: panel {label!r} is a {type(item).__name__}; "
                                "expected a GradientFlowRecorder or a loss after backward.")
        return panels
    if hasattr(source, "_parents"):
        return [_one_step(source, params)]
    raise TypeError(f"explore: expected a loss after backward, a GradientFlowRecorder or a "
                    f"dict {{label: recorder}}, got {type(source).__name__}.")


def _check_collapse(collapse: str | Iterable[str], panels: list[Panel]) -> None:
    """Refuse module names or types that match no module of any panel (as `draw_graph`
    does), listing those there are: a typo would otherwise fold nothing, silently."""
    patterns = {collapse} if isinstance(collapse, str) else set(collapse)
    scopes = {s for panel in panels for box in panel.recorder._recorded().boxes
              if box.cluster is not None for s in box.cluster.path()}
    paths = qualified_names(scopes)  # (of every panel: "known" if one has it)
    unknown = sorted(str(pattern) for pattern in patterns
                     if not any(matches(s, {pattern}, paths) for s in scopes))
    if unknown:
        modules = sorted({s.label() if not s.parent else f"{s.qualified_name()} ({s.type_name})"
                          for s in scopes if s.qualified_name()})
        raise ValueError(
            f"explore: collapse={', '.join(map(repr, unknown))} matches no module of the "
            f"recorded graph(s). Their modules: {', '.join(modules) or 'none'}. Fix: use one "
            "of these names or types, or collapse='auto'.")


def explore(source: Any, *, title: str | None = None,
            collapse: str | bool | Iterable[str] = "auto", max_nodes: int | str | None = "auto",
            timeout: float | None = DEFAULT_TIMEOUT, rankdir: str = "TB", params: Any = None,
            vanishing: float = 1e-6, exploding: float = 1e2) -> Explorer:
    """An interactive page of gradient flow (see the module docstring).

    source: a loss after ``backward(retain_graph=True)`` (one step: a plain ``backward()``
        frees the graph, and explore refuses it, naming the fix; before backward: values
        only, and the page says so), a `GradientFlowRecorder`, or ``{"label": recorder,
        ...}`` for panels side by side on one colour scale with one step slider (over every
        recorded step: a panel recorded at other steps shows its latest record at or
        before it).
    collapse: "auto" (graphs of more than 40 boxes open with their innermost modules
        closed; more than 2,000 boxes: those are folded before layout), True / False (open
        with every module closed / open), or module names or types (``"bn1"``,
        ``"BatchNorm1d"``) to fold into one box before layout, as in `draw_graph` (a name
        that matches no module of any panel is refused, with the modules there are).
    max_nodes: lay out at most this many boxes (those nearest the loss) and one marker for
        the rest; None: no limit; "auto": 2,000, or 500 for a graph with no module (a graph
        of Values: without clusters, Graphviz takes minutes for 2,000 of its boxes).
    timeout: seconds Graphviz may take for the layout (None: no limit).
    rankdir: "TB" (inputs at the top) or "LR". params: names for a single loss's nodes.
    vanishing / exploding: RMS below / above which a box gets a warning border.
    Returns an `Explorer`: ``.save("flow.html")``; shown inline by Jupyter.
    """
    check_timeout(timeout, "explore")  # now, not after the recording is read
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"explore: rankdir must be 'TB' or 'LR', got {rankdir!r}.")
    auto = isinstance(max_nodes, str) and max_nodes == "auto"
    if max_nodes is not None and not auto and (
            not isinstance(max_nodes, Integral) or isinstance(max_nodes, bool) or max_nodes < 1):
        raise ValueError(f"explore: max_nodes must be a positive whole number, 'auto' or None, "
                         f"got {max_nodes!r}.")
    if not all(isinstance(x, Real) and not isinstance(x, bool)
               for x in (vanishing, exploding)) or not 0 < vanishing < exploding:
        raise ValueError(f"explore: need numbers 0 < vanishing < exploding, got {vanishing!r} "
                         f"and {exploding!r}. Fix: e.g. vanishing=1e-6, exploding=1e2.")
    # Python's numbers from here (NumPy's, e.g. np.float32, are not JSON for the page).
    vanishing, exploding = float(vanishing), float(exploding)
    max_nodes = max_nodes if max_nodes is None or auto else int(max_nodes)
    if not isinstance(collapse, bool) and collapse is not None:  # (None: fold nothing)
        collapse = collapse_names(collapse, "explore")
    panels = _panels(source, params)
    if not isinstance(collapse, bool) and collapse not in ("auto", None):
        _check_collapse(collapse, panels)
    start = collapse if isinstance(collapse, bool) else None
    fold = "auto" if isinstance(collapse, bool) else collapse
    document = build_document(panels, title=title or "minigrad: gradient flow",
                              collapse=fold, max_nodes=max_nodes, rankdir=rankdir,
                              timeout=timeout, vanishing=vanishing, exploding=exploding)
    if start is not None:
        for panel in document["panels"]:
            panel["start_collapsed"] = start
    return Explorer(document)
