"""Shared helpers for the numbered lessons: quick mode, seeds, figures and recorded results.

Every lesson starts with

    from _common import QUICK, Results, pick, save_figure, seed_everything, seeds
    RESULTS = Results("03")     # the lesson's number: writes out/03_results.json

(``python tutorials/NN_name.py`` puts ``tutorials/`` on the import path; so does a notebook
opened from that folder.)

Environment variables (all optional):

- ``MINIGRAD_TUTORIAL_QUICK=1`` — quick mode: smaller data, fewer steps, three seeds. The
  tests run every lesson this way. Use ``pick(full, quick)`` for every size that matters.
- ``MINIGRAD_TUTORIAL_OUT=DIR`` — write figures and results to DIR instead of
  ``tutorials/out/`` (git-ignored: running a lesson never modifies a tracked file). The
  committed figures in ``tutorials/figures/`` are regenerated only by
  ``python tutorials/make_figures.py [NN ...]``.
- ``MINIGRAD_TUTORIAL_SEEDS=0,1,2`` — override the seeds every experiment runs over
  (distinct whole numbers >= 0). Empty, like unset, means the default seeds (as an empty
  ``MINIGRAD_TUTORIAL_QUICK`` or ``MINIGRAD_TUTORIAL_OUT`` means the default).

Results: each lesson records the numbers its verdicts rest on in ``RESULTS = Results("NN")``,
a dict keyed by claim (``RESULTS["I2"] = {...}``). Every assignment is written at once to
``<out>/NN_results.json``, and
``tests/test_tutorials.py`` reads that file to assert the relations each verdict states.
Store plain numbers, lists and dicts (NumPy scalars and arrays are converted), and assign
whole values: ``RESULTS["B5"]["x"] = 1`` changes the dict in memory but writes nothing.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

import minigrad as mg

try:  # The lessons' matrices are small: BLAS threads only add overhead (and contention on a
    # shared machine can make them ten times slower). One thread is fastest here.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:  # threadpoolctl comes with scikit-learn; without it, keep NumPy's default
    pass

T = TypeVar("T")

TUTORIALS_DIR = Path(__file__).resolve().parent
QUICK: bool = os.environ.get("MINIGRAD_TUTORIAL_QUICK", "") not in ("", "0")
OUT_DIR = Path(os.environ.get("MINIGRAD_TUTORIAL_OUT") or TUTORIALS_DIR / "out")
# The project's claims page; every lesson links here (never to a file outside the repository).
CLAIMS_PAGE = "../docs/claims.md"


def pick(full: T, quick: T) -> T:
    """`full` in a normal run, `quick` under ``MINIGRAD_TUTORIAL_QUICK=1``."""
    return quick if QUICK else full


def seeds(full: int = 5, quick: int = 3) -> list[int]:
    """The seeds an experiment runs over: ``range(full)``, or ``range(quick)`` in quick mode.

    ``MINIGRAD_TUTORIAL_SEEDS=3,4,5`` replaces them (to check that a verdict does not hang on
    the seeds it was first run with). Empty or blank, like unset, keeps the defaults.
    """
    override = os.environ.get("MINIGRAD_TUTORIAL_SEEDS", "")
    if not override.strip():
        return list(range(quick if QUICK else full))
    usage = ("Fix: e.g. MINIGRAD_TUTORIAL_SEEDS=3,4,5, or unset it (or set it empty) for the "
             "default seeds.")
    parts = [part.strip() for part in override.split(",") if part.strip()]
    # isdigit() alone accepts '²', which int() then rejects with a bare message.
    if not parts or not all(part.isascii() and part.isdigit() for part in parts):
        raise ValueError(f"MINIGRAD_TUTORIAL_SEEDS={override!r}: expected seeds as whole "
                         f"numbers >= 0 (digits 0-9) separated by commas. {usage}")
    chosen = [int(part) for part in parts]
    repeated = sorted({seed for seed in chosen if chosen.count(seed) > 1})
    if repeated:  # the same seed twice is the same run twice: a falsely narrow interval
        raise ValueError(f"MINIGRAD_TUTORIAL_SEEDS={override!r}: seed(s) {repeated} appear more "
                         "than once; a repeated seed repeats the same run, so the confidence "
                         "intervals the verdicts compare would shrink (to zero width for "
                         "'3,3,3') without any new measurement. Give distinct seeds. "
                         + usage)
    return chosen


def seed_everything(seed: int) -> np.random.Generator:
    """Seed minigrad's default generator (layers' default init, `mg.randn`, ...) and return a
    separate generator for the lesson's own sampling (data, shuffling)."""
    mg.manual_seed(seed)
    return np.random.default_rng(10_000 + seed)


def show_graph(graph: Any, name: str, display: bool = True) -> Path | None:
    """Show a graphviz graph (`mg.viz.draw_graph`'s result, or anything with ``render``)
    inline in a notebook (unless `display` is False), and save it as ``<out>/<name>.png``.
    Returns the path, or None when the Graphviz ``dot`` program is missing."""
    if display and _in_notebook():
        from IPython.display import display

        display(graph)
    try:
        rendered = graph.render(str(figure_path(name)), format="png", cleanup=True)
    except Exception as error:  # graphviz.ExecutableNotFound: no `dot` on this machine
        print(f"[graph] not rendered ({type(error).__name__}); DOT source has "
              f"{len(graph.source.splitlines())} lines")
        return None
    print(f"[graph] {rendered}")
    return Path(rendered)


def show_page(page: Any, name: str) -> Path:
    """Save an HTML page (the gradient-flow explorer's result: ``.save(path)`` and
    ``_repr_html_``) as ``<out>/<name>.html`` and show it inline in a notebook."""
    path = figure_path(f"{name}.html")
    page.save(path)
    print(f"[page] {path} (open it in a browser)")
    if _in_notebook():
        from IPython.display import display

        display(page)
    return path


def figure_path(name: str) -> Path:
    """Where a lesson writes figure `name` (e.g. ``"03_depth_signal.png"``)."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    return OUT_DIR / name


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


def save_figure(fig: Any, name: str, dpi: int = 110) -> Path:
    """Save a matplotlib figure to ``figure_path(name)``; show it in a notebook, close it in a
    script (so a long lesson does not keep dozens of figures open)."""
    path = figure_path(name)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    print(f"[figure] {path}")
    if _in_notebook():
        import matplotlib.pyplot as plt

        plt.show()
    else:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


def _plain(value: Any) -> Any:
    """NumPy scalars/arrays (also nested in dicts and lists) to JSON-ready Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)  # JSON has no inf/nan; tests read "inf"/"nan" back with float()
    return value


class Results(dict):
    """A dict of a lesson's measured numbers, saved to ``<out>/NN_results.json`` on every write."""

    def __init__(self, lesson: str) -> None:
        super().__init__()
        self.path = OUT_DIR / f"{lesson}_results.json"
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        self.path.write_text("{}")  # never leave numbers from an earlier run behind

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, _plain(value))
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(dict(self), indent=1, sort_keys=True))

