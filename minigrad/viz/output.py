"""From a drawn graph to a file or a notebook cell: running Graphviz's `dot` with a time limit.

Graphviz can take minutes on a graph of thousands of boxes, so every path that runs `dot`
here — `save`, `render` and the inline display in Jupyter — stops it after ``timeout``
seconds and says how big the graph is and which options make it smaller. Without the `dot`
program, files fall back to the DOT source and the notebook shows how to install it.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from numbers import Real
from pathlib import Path
from typing import Any

import graphviz

FORMATS = ("svg", "png", "pdf", "dot")
DEFAULT_TIMEOUT = 60.0  # seconds; 500 boxes took 2 s as SVG, 23 s as PNG (2 busy cores)

INSTALL_HINT = ("install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew "
                "install graphviz; conda: conda install -c conda-forge graphviz; others: "
                "https://graphviz.org/download/)")

def shrink_hint(fold: str | None) -> str:
    """The options that make a drawing smaller; `fold`: a module type of the graph whose
    folding helps most (`modules.fold_suggestion`), None when none would."""
    smaller = "a smaller max_nodes=, show_parameters=False, show_constants=False"
    if fold is None:
        return f"{smaller} (no module to fold that would help)"
    return (f"collapse=[{fold!r}] or other module names/types (one box per module call), "
            f"{smaller}")


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """The Graphviz programs (``dot``) are not installed."""

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)


class GraphvizTimeoutError(TimeoutError):
    """Graphviz did not finish laying out a graph within the time limit."""


class GradientGraph(graphviz.Digraph):
    """The `graphviz.Digraph` that `draw_graph` returns.

    It behaves as any Digraph (``.source``, ``.render``, ``.pipe``, ...), and knows its
    size, so that its inline display in Jupyter, `save`, and Digraph's own ``render(...)``
    and ``pipe(...)`` stop `dot` after ``timeout`` seconds with a message naming the size
    (graphviz's runner has no time limit: they use ours unless given its other options:
    renderer, formatter, another engine, view).
    """

    def __init__(self, *args: Any, timeout: float | None = DEFAULT_TIMEOUT, boxes: int = 0,
                 arrows: int = 0, fold: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout, self.boxes, self.arrows = timeout, boxes, arrows
        self.fold = fold  # the module type a time-out's message suggests folding, if any

    def _copy_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        """`copy()` keeps the time limit, the size and the module to fold."""
        copied = dict(super()._copy_kwargs(**kwargs))
        copied.update(timeout=self.timeout, boxes=self.boxes, arrows=self.arrows,
                      fold=self.fold)
        return copied

    def pipe(self, format: str | None = None, *args: Any, encoding: str | None = None,
             **options: Any) -> bytes | str:
        """The drawing as bytes (as str with `encoding`), `dot` stopped after the timeout."""
        options.pop("quiet", None)  # (ours prints nothing either way)
        if args or any(options.values()) or self.engine != "dot":
            return super().pipe(format, *args, encoding=encoding, **options)
        drawn = run_dot(self, format or self.format, self.timeout, "draw_graph")
        return drawn.decode(encoding) if encoding else drawn

    def render(self, filename: Any = None, directory: Any = None, view: bool = False,
               cleanup: bool = False, format: str | None = None, *args: Any,
               **options: Any) -> str:
        """As Digraph.render: the DOT source to `filename` (removed with `cleanup`) and
        the drawing beside it (``filename.format``); its path. `dot` is stopped after the
        timeout."""
        options.pop("quiet", None)
        if view or args or any(options.values()) or self.engine != "dot":
            return super().render(filename, directory, view, cleanup, format, *args,
                                  **options)
        format = format or self.format
        drawn = run_dot(self, format, self.timeout, "draw_graph")  # before any file
        source = Path(self.save(filename, directory=directory))
        output = source.with_name(f"{source.name}.{format}")
        output.write_bytes(drawn)
        if cleanup:
            source.unlink()
        return str(output)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **_: Any) -> dict[str, Any]:
        """SVG for Jupyter, or the reason there is none (as text, not a traceback)."""
        try:
            svg = run_dot(self, "svg", self.timeout, "draw_graph").decode("utf-8")
        except (GraphvizNotFoundError, GraphvizTimeoutError, RuntimeError, ValueError,
                OverflowError) as error:
            message = str(error)
            if isinstance(error, OverflowError):  # a wait too long for this system
                message = (f"draw_graph: the system cannot wait timeout={self.timeout!r} "
                           f"seconds for Graphviz ({message}). Fix: a shorter timeout, or "
                           "timeout=None for no limit.")
            return {"text/plain": message,
                    "text/html": f"<pre style='white-space: pre-wrap'>{html.escape(message)}</pre>"}
        return {"image/svg+xml": svg}


def graph_size(graph: graphviz.Digraph) -> tuple[int, int]:
    """(boxes, arrows) of a graph: stored by `draw_graph`, else counted in the DOT text."""
    if isinstance(graph, GradientGraph) and (graph.boxes or graph.arrows):
        return graph.boxes, graph.arrows
    source = graph.source
    return (len(re.findall(r"^\t\w+ \[", source, flags=re.MULTILINE)),
            len(re.findall(r"^\t\w+ -> ", source, flags=re.MULTILINE)))


def run_dot(graph: graphviz.Digraph, format: str, timeout: float | None, caller: str) -> bytes:
    """Lay out and draw `graph` with `dot`, as `format` bytes, within `timeout` seconds."""
    def size() -> str:
        boxes, arrows = graph_size(graph)
        return f"{boxes:,} boxes, {arrows:,} arrows"

    fold = graph.fold if isinstance(graph, GradientGraph) else None
    return run_dot_source(graph.source, format, timeout, caller, size, shrink_hint(fold))


def find_dot() -> str | None:
    """The Graphviz `dot` program minigrad runs (the first on PATH), or None if missing."""
    return shutil.which("dot")


def run_dot_source(source: str, format: str, timeout: float | None, caller: str,
                   size: Callable[[], str], shrink_hint: str) -> bytes:
    """Run ``dot -T<format>`` on DOT text, stopped after `timeout` seconds (None: no limit).

    The one place minigrad starts Graphviz (the drawings and the explorer's layout): a
    missing `dot` gives `GraphvizNotFoundError` with the install hint, a time-out
    `GraphvizTimeoutError` naming the graph's `size()` and `shrink_hint`, the options that
    make it smaller."""
    check_timeout(timeout, caller)
    dot = find_dot()
    if dot is None:
        raise GraphvizNotFoundError(f"{caller}: the Graphviz program 'dot' was not found on "
                                    f"PATH, so the graph cannot be drawn. Fix: {INSTALL_HINT}.")
    try:
        done = subprocess.run([dot, f"-T{format}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise GraphvizTimeoutError(
            f"{caller}: Graphviz did not finish drawing this graph ({size()}) within "
            f"{timeout:g} s, and was stopped. Fix: draw less of it — {shrink_hint} — or allow "
            "longer with timeout= (None: no limit).") from None
    if done.returncode != 0:
        raise RuntimeError(f"{caller}: Graphviz failed (exit {done.returncode}): "
                           f"{done.stderr.decode('utf-8', 'replace').strip()[:500]}")
    return done.stdout


# The longest wait the operating system takes: `subprocess` waits with poll(), whose time
# limit is a C int of milliseconds (Windows: a 32-bit unsigned count of them); longer, or
# inf, is an OverflowError from deep inside. About 24.8 days; None means no limit.
MAX_TIMEOUT = min(threading.TIMEOUT_MAX, (2**31 - 1) / 1000)


def check_timeout(timeout: Any, caller: str) -> None:
    """Refuse a `timeout` that is not a positive, finite number of seconds up to
    `MAX_TIMEOUT`, or None."""
    if timeout is not None and (not isinstance(timeout, Real) or isinstance(timeout, bool)
                                or not _within_the_longest_wait(timeout)):
        raise ValueError(f"{caller}: timeout must be a positive number of seconds, at most "
                         f"{int(MAX_TIMEOUT):,} (about 24 days: the longest wait the system "
                         f"takes), or None for no limit; got {timeout!r}. Fix: e.g. "
                         "timeout=60, or timeout=None to wait as long as Graphviz takes.")


def _within_the_longest_wait(seconds: Any) -> bool:
    # No float() first: float(10**400) is an OverflowError. NaN compares False: refused.
    return bool(0 < seconds <= MAX_TIMEOUT)


def save(graph: graphviz.Digraph, path: str | Path, format: str | None = None, *,
         timeout: float | None = DEFAULT_TIMEOUT) -> Path:
    """Write `graph` to `path` as svg, png, pdf or dot (DOT text); returns the path.

    The format comes from `format`, else from the path's suffix, else svg (added to the
    path); a suffix that disagrees with `format`, or that names no format, is refused, and
    so is a folder. Missing folders are made; an existing file is replaced.
    `dot` is stopped after `timeout` seconds (None: no limit) with `GraphvizTimeoutError`.
    Without Graphviz's programs the DOT source is saved next to `path` (``.dot``) and
    `GraphvizNotFoundError` says how to install them.
    """
    written = os.fspath(path)
    path = Path(path)
    format = check_format(path, format, "render")
    refuse_folder(written, "render", f"graph.{format}")
    if not path.suffix:
        path = path.with_name(f"{path.name}.{format}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "dot":
        path.write_text(graph.source, encoding="utf-8")
        return path
    try:
        image = run_dot(graph, format, timeout, "render")
    except GraphvizNotFoundError:
        source_path = path.with_suffix(".dot")
        source_path.write_text(graph.source, encoding="utf-8")
        raise GraphvizNotFoundError(
            f"render: cannot write {path}: the Graphviz program 'dot' was not found on PATH. "
            f"The graph's DOT source was saved to {source_path} instead. Fix: {INSTALL_HINT}, "
            f"then render again or run `dot -T{format} {source_path} -o {path}`."
        ) from None
    path.write_bytes(image)
    return path


def refuse_folder(written: str, caller: str, example: str) -> None:
    """A ValueError of `caller`'s when `written` (the path as given) names a folder, with
    a file `example` in it as the fix. A folder (".", "results", "results/": Path drops
    the slash) would have become "results.svg" beside it, or a raw IsADirectoryError or
    pathlib's "PosixPath('.') has an empty name" from deep inside."""
    if written.endswith(("/", os.sep)) or Path(written).is_dir():
        raise ValueError(f"{caller}: {written!r} is a folder, not a file. Fix: name the file, "
                         f"e.g. {str(Path(written) / example)!r}.")


def check_format(path: Path, format: str | None, caller: str) -> str:
    """The format to write `path` in: `format` if given, else the path's suffix, else svg.

    A suffix that is not one of `FORMATS` (``graph.jpg``) or disagrees with `format` is a
    `ValueError`: the file would otherwise be written in a format its name does not say.
    """
    suffix = path.suffix.lower().lstrip(".")
    if format is not None:
        format = format.lower()
        if format not in FORMATS:
            raise ValueError(f"{caller}: format must be one of {', '.join(FORMATS)}, got "
                             f"{format!r}.")
    if suffix and suffix not in FORMATS:
        raise ValueError(f"{caller}: cannot tell a format from {str(path)!r}: .{suffix} is not "
                         f"one of {', '.join('.' + f for f in FORMATS)}. Fix: name the file "
                         f"e.g. {path.with_suffix('.' + (format or 'svg')).name!r}.")
    if format is None:
        return suffix or "svg"
    if suffix and suffix != format:
        raise ValueError(f"{caller}: the path {str(path)!r} ends in .{suffix} but the format "
                         f"is {format!r}. Fix: make them agree, e.g. "
                         f"{path.with_suffix('.' + format).name!r}, or leave the format out.")
    return format
