"""Runs a tutorial lesson in quick mode once per test session and returns its RESULTS.

Shared by every tests/test_tutorials*.py file: ``from _tutorial_runner import lesson_results``.
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


@functools.cache
def lesson_results(script: str) -> dict:
    """Run ``tutorials/<script>`` in quick mode (once per test session) and return its
    RESULTS, read from ``<tmp>/NN_results.json``. Fails with the lesson's output if it crashes."""
    out_dir = Path(tempfile.mkdtemp(prefix="minigrad_tutorial_"))
    env = dict(os.environ, MINIGRAD_TUTORIAL_QUICK="1", MINIGRAD_TUTORIAL_OUT=str(out_dir),
               MPLBACKEND="Agg", PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1")
    env.pop("MINIGRAD_TUTORIAL_SEEDS", None)
    completed = subprocess.run([sys.executable, str(TUTORIALS / script)], cwd=TUTORIALS.parent,
                               env=env, capture_output=True, text=True, timeout=600)
    if completed.returncode != 0:
        pytest.fail(f"{script} failed (exit {completed.returncode}):\n"
                    f"{completed.stdout[-3000:]}\n{completed.stderr[-5000:]}")
    number = script.split("_", 1)[0]
    results = json.loads((out_dir / f"{number}_results.json").read_text())
    results["_figures"] = sorted(p.name for p in out_dir.glob("*.png"))
    return results


def num(value: float | str) -> float:
    """A recorded number (the recorder stores inf/nan as the strings "inf"/"nan")."""
    return float(value)
