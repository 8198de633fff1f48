"""Runs a tutorial lesson once per test session — as a notebook, in quick mode — and returns
its RESULTS.

Shared by every tests/test_tutorials*.py file: ``from _tutorial_runner import lesson_results``.
One run proves two things: the lesson executes as a notebook (jupytext turns the ``# %%``
script into cells, nbclient runs them in an IPython kernel, figures and graphs display
inline), and it records the numbers its verdicts rest on, which the tests then check.
Without jupytext/nbclient/ipykernel the lesson runs as a plain script instead.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"
TIMEOUT_SECONDS = 600


def _environment(out_dir: Path) -> dict[str, str]:
    env = dict(os.environ, MINIGRAD_TUTORIAL_QUICK="1", MINIGRAD_TUTORIAL_OUT=str(out_dir),
               PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env.pop("MINIGRAD_TUTORIAL_SEEDS", None)
    # The repository root first, so the kernel imports this checkout's minigrad.
    root = str(TUTORIALS.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    return env


def notebook_support() -> bool:
    """True when jupytext, nbclient and ipykernel (the `tutorials` extra) are installed."""
    try:
        import ipykernel  # noqa: F401
        import jupytext  # noqa: F401
        import nbclient  # noqa: F401
    except ImportError:
        return False
    return True


def run_as_notebook(script: str, out_dir: Path) -> dict:
    """Execute ``tutorials/<script>`` as a notebook; save the executed ``.ipynb`` in
    `out_dir`; return a summary of its outputs (how many images/graphs/HTML pages were
    displayed inline)."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = jupytext.read(TUTORIALS / script)
    env = _environment(out_dir)
    env.pop("MPLBACKEND", None)  # the kernel's inline backend must display the figures
    client = NotebookClient(notebook, timeout=TIMEOUT_SECONDS, kernel_name="python3",
                            resources={"metadata": {"path": str(TUTORIALS)}})
    try:
        client.execute(env=env)
    except CellExecutionError as error:
        pytest.fail(f"{script} failed as a notebook:\n{str(error)[-6000:]}")
    finally:
        nbformat.write(notebook, out_dir / (Path(script).stem + ".ipynb"))
    shown = {"image/png": 0, "image/svg+xml": 0, "text/html": 0}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            for kind in shown:
                shown[kind] += kind in output.get("data", {})
    return shown


def run_as_script(script: str, out_dir: Path) -> None:
    env = dict(_environment(out_dir), MPLBACKEND="Agg")
    completed = subprocess.run([sys.executable, str(TUTORIALS / script)], cwd=TUTORIALS.parent,
                               env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    if completed.returncode != 0:
        pytest.fail(f"{script} failed (exit {completed.returncode}):\n"
                    f"{completed.stdout[-3000:]}\n{completed.stderr[-5000:]}")


@functools.cache
def lesson_results(script: str) -> dict:
    """Run ``tutorials/<script>`` in quick mode (once per test session; as a notebook when
    the `tutorials` extra is installed) and return its RESULTS, read from
    ``<tmp>/NN_results.json``, plus ``_figures`` (PNG files written), ``_notebook`` (counts
    of inline outputs by type, or None when run as a script). Fails with the lesson's output
    if it crashes."""
    with tempfile.TemporaryDirectory(prefix="minigrad_tutorial_") as folder:
        out_dir = Path(folder)
        shown = None
        if notebook_support():
            shown = run_as_notebook(script, out_dir)
        else:
            run_as_script(script, out_dir)
        number = script.split("_", 1)[0]
        results = json.loads((out_dir / f"{number}_results.json").read_text())
        results["_figures"] = sorted(p.name for p in out_dir.glob("*.png"))
        results["_notebook"] = shown
        return results


def all_rules() -> list[tuple[str, str, object]]:
    """(claim, statement, decide) of every lesson's rule (``tutorials/_rules_NN.py``; needs
    ``tutorials/`` on the import path)."""
    import _rules_03
    import _rules_04
    import _rules_05
    import _rules_06
    import _rules_07
    import _rules_08
    import _rules_09
    import _rules_10
    from _verdict import Rule

    rules = [(rule.claim, rule.statement, rule.decide) for module in
             (_rules_04, _rules_05, _rules_06, _rules_08, _rules_09)
             for rule in vars(module).values() if isinstance(rule, Rule)]
    for module, claims in ((_rules_03, ("I7", "I9", "I1", "I2")),
                           (_rules_07, ("I5", "I6", "I3", "I8")), (_rules_10, ("B6", "I4"))):
        rules += [(claim, getattr(module, f"{claim}_STATEMENT"),
                   getattr(module, f"decide_{claim.lower()}")) for claim in claims]
    return rules


def num(value: float | str) -> float:
    """A recorded number (the recorder stores inf/nan as the strings "inf"/"nan")."""
    return float(value)


def restore_numbers(value):
    """A recorded structure with JSON's "inf"/"-inf"/"nan" strings made numbers again (the
    rules compare numbers)."""
    if isinstance(value, dict):
        return {k: restore_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [restore_numbers(v) for v in value]
    if value in ("inf", "-inf", "nan"):
        return num(value)
    return value
