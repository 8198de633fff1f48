"""The work behind two commands, as functions: `demo`, the training run `minigrad demo`
makes (train `BatchNormMLP` on generated spirals with a progress line, print per-layer
diagnostics, and write its gradient flow as SVG and PNG, the diagnostic plots and the
explorer page), and `explorer_page`, the gradient-flow page `minigrad explore` (and the
demo) write, with `check_page_path` and `check_graphviz`, which refuse a path for it and
a missing Graphviz before any training.

The command line itself, its options, messages and exit codes, is `minigrad.__main__`,
which re-exports `demo`.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.data import DataLoader, TensorDataset, make_spirals
from minigrad.examples import BatchNormMLP

__all__ = ["DEMO_POINTS", "check_folder", "check_graphviz", "check_page_path", "demo",
           "explorer_page"]


class _Progress:
    """One progress line, rewritten in place on a terminal (a line per 10% otherwise)."""

    def __init__(self, total: int) -> None:
        self.total, self.live = total, sys.stdout.isatty()

    def update(self, step: int, text: str) -> None:
        if self.live:
            print(f"\r{text}", end="" if step < self.total else "\n", flush=True)
        elif step == self.total or step % max(1, self.total // 10) == 0:
            print(text, flush=True)


DEMO_POINTS = 300


def demo(steps: int = 300, out: str | Path = "minigrad-out", seed: int = 0,
         lr: float = 0.1, batch_size: int = 64, log_dir: str | Path | None = None) -> dict:
    """Train `BatchNormMLP` on spirals with SGD, then report and draw (see the module doc).

    ``log_dir``: also write TensorBoard event files there (see `TrainingDiagnostics`).
    Returns a summary: final accuracy, loss, the diagnostics and the files written.
    """
    from minigrad import viz
    from minigrad.viz.diagnostics import TrainingDiagnostics

    if not 2 <= batch_size <= DEMO_POINTS:
        raise ValueError(f"demo: batch_size must be between 2 (BatchNorm needs two examples "
                         f"to normalise over) and {DEMO_POINTS} (the training points), got "
                         f"{batch_size}.")
    out = Path(out)
    # Found now, not after the training: a folder that cannot be made or written.
    check_folder(out, "output folder", "--out", "demo")
    if log_dir is not None:
        check_folder(Path(log_dir), "TensorBoard folder", "--log-dir", "demo")
    mg.manual_seed(seed)
    generator = np.random.default_rng(seed)
    x, y = make_spirals(DEMO_POINTS, n_classes=3, noise=0.2, generator=generator)
    model = BatchNormMLP(2, 32, 3, implementation="fused")  # fused: the fast path to train
    criterion = mg.nn.CrossEntropyLoss()
    optimiser = mg.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    diagnostics = TrainingDiagnostics(model, log_dir=log_dir)
    print(f"minigrad demo: training {type(model).__name__} (2-32-32-3, BatchNorm1d, tanh) on "
          f"300 spiral points, SGD lr={lr} momentum=0.9, batch {batch_size}, {steps} steps")
    progress, step, start = _Progress(steps), 0, time.perf_counter()
    loss = mg.tensor(0.0)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True,
                        drop_last=True, generator=generator)
    while step < steps:
        for xb, yb in loader:
            loss = criterion(model(xb), yb)
            optimiser.zero_grad()
            loss.backward()
            with diagnostics.step(loss=loss.item()):
                optimiser.step()
            step += 1
            progress.update(step, f"  step {step:4d}/{steps}  loss {loss.item():.4f}  "
                                  f"({time.perf_counter() - start:.1f}s)")
            if step == steps:
                break
    diagnostics.remove()
    model.eval()
    with mg.no_grad():
        accuracy = float((model(mg.tensor(x)).data.argmax(axis=1) == y).mean())
    model.train()
    print(f"  accuracy on all 300 points (eval mode, running statistics): {accuracy:.1%}\n")
    print(diagnostics.table())

    # Draw one more forward and backward pass (no step), with the composed BatchNorm so
    # every step of it shows; the parameters are shared, only the op graph differs.
    for bn in model.batchnorms():
        bn.implementation = "composed"
    xb, yb = x[:batch_size], y[:batch_size]
    graph_loss = criterion(model(mg.tensor(xb, name="x")), yb)
    graph_loss.name = "loss"
    model.zero_grad()
    graph_loss.backward(retain_graph=True)  # this one step keeps its graph, to be drawn
    title = f"BatchNormMLP after {steps} steps: gradient flow for one batch"
    written, missing = [], None
    for fmt, compact in (("svg", False), ("png", True)):  # the PNG has no zoom: smaller boxes
        graph = viz.draw_graph(graph_loss, params=model, title=title, rankdir="TB",
                               compact=compact)
        try:
            written.append(viz.save(graph, out / f"gradient_flow.{fmt}"))
        except (viz.GraphvizNotFoundError, viz.GraphvizTimeoutError) as error:
            missing = error  # (a timeout is an OSError: not a file that cannot be written)
            if isinstance(error, viz.GraphvizNotFoundError):  # save wrote the DOT source
                written.append(out / "gradient_flow.dot")
            break
    print()
    if missing is not None:
        print(f"note: {missing}", file=sys.stderr)
    try:
        written += diagnostics.save_plots(out)
    except ImportError as error:
        print(f"note: {error}", file=sys.stderr)
    try:
        written.append(explorer_page(out / "gradient_flow_explorer.html", min(steps, 300)))
    except (viz.GraphvizNotFoundError, TimeoutError) as error:
        print(f"note: {error}", file=sys.stderr)
    if written:
        print(f"wrote {len(written)} files to {out.resolve()}/:")
        for path in written:
            print(f"  {path.name}")
    return {"accuracy": accuracy, "loss": loss.item(), "diagnostics": diagnostics,
            "files": written}


def explorer_page(path: Path, steps: int = 300, every: int | None = None,
                  example: str = "deep-batchnorm") -> Path:
    """Train and record `example` (see `examples.EXPLORE_EXAMPLES`) and write its page."""
    from minigrad import viz
    from minigrad.examples import EXPLORE_EXAMPLES, record_example

    check_page_path(path)
    check_graphviz()
    every = max(1, steps // 30) if every is None else every
    recorders = record_example(example, steps=steps, every=every)
    title = f"{EXPLORE_EXAMPLES[example][1]}: {steps} steps"
    return viz.explore(recorders, title=title).save(path)


def check_page_path(path: Path) -> None:
    """Refuse a page path that cannot be written, before any training."""
    if not path.parent.is_dir():
        raise ValueError(f"the output folder {str(path.parent)!r} does not exist. Fix: create "
                         "it first or choose another --out.")
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a folder, not a file. Fix: name the page, e.g. "
                         f"--out {str(path / 'flow.html')!r}.")
    from minigrad.viz.explorer import html_name_instead  # (minigrad.viz on demand: --help)

    instead = html_name_instead(path)
    if instead is not None:  # a slip such as --out train.py would lose the script
        raise ValueError(f"{str(path)!r} does not end in .html: the page replaces the file "
                         "it is written to, so it is written only to an .html file, never "
                         f"over a script or a checkpoint. Fix: --out {str(instead)!r}.")
    refusal = _no_file_can_be_made_in(path.parent)
    if refusal is not None:
        raise ValueError(f"the output folder {str(path.parent)!r} cannot be written: no file "
                         f"can be made in it ({refusal}). Fix: choose another --out (in a "
                         "folder you may write to).")
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"{str(path)!r} cannot be replaced: you may not write to it. Fix: "
                         "choose another --out.")


def check_folder(folder: Path, what: str, option: str, caller: str) -> None:
    """Refuse an output folder that cannot be made or written (`what`: its role, `option`:
    the command's option for it), before any training: a file where it, or a folder it is
    in, must be; or a place no file can be made in (no permission, a read-only disk,
    /proc). Nothing is made: a missing folder is made later by what writes into it."""
    existing = next((path for path in (folder, *folder.parents) if path.exists()), None)
    if existing is None:  # (a relative path, and the working folder was deleted)
        return
    if not existing.is_dir():
        where = "" if existing == folder else f" cannot be made: {str(existing)!r}"
        raise ValueError(f"{caller}: the {what} {str(folder)!r}{where} is a file. Fix: choose "
                         f"another {option} (a folder, made if missing).")
    refusal = _no_file_can_be_made_in(existing)
    if refusal is not None:
        problem = ("cannot be written: no file can be made in it" if existing == folder else
                   f"cannot be made: no file can be made in {str(existing)!r}")
        raise ValueError(f"{caller}: the {what} {str(folder)!r} {problem} ({refusal}). Fix: "
                         f"choose another {option} (a folder you may write to, made if "
                         "missing).")


def _no_file_can_be_made_in(folder: Path) -> str | None:
    """Why no file can be made in the existing `folder` (the system's words), or None when
    one can: a file is made there and deleted. A real file, not os.access, which says yes
    to root in places no one may write to, such as /proc."""
    try:
        handle, probe = tempfile.mkstemp(prefix=".minigrad-write-test-", dir=folder)
    except OSError as error:
        return error.strerror or str(error)
    os.close(handle)
    os.remove(probe)
    return None


def check_graphviz() -> None:
    """Refuse to make an explorer page, before any training, when Graphviz's `dot` program,
    which lays the page's graphs out, is missing (`viz.output.find_dot`, as the drawing
    finds it)."""
    from minigrad.viz.output import INSTALL_HINT, GraphvizNotFoundError, find_dot

    if find_dot() is None:
        raise GraphvizNotFoundError("the Graphviz program 'dot' was not found on PATH, and the "
                                    "explorer page's layout is made by it, so the page was "
                                    f"not made (nothing was trained for it). Fix: {INSTALL_HINT}"
                                    ", then run again.")
