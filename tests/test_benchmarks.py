"""Every benchmark script runs end to end in --quick mode, so none of them can rot.

Nothing here asserts on a timing (speed targets live in benchmarks/ and its README);
only that each script runs, checks its peers' first losses against minigrad's, and prints
its report with the machine and BLAS configuration.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(path.name for path in (ROOT / "benchmarks").glob("*.py")
                 if path.name not in ("common.py", "run_all.py"))


def run(*arguments: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *arguments], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600)


def test_every_script_is_listed_in_run_all():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run_all
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    assert sorted({script for script, _ in run_all.SCRIPTS}) == SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_runs_in_quick_mode(script):
    result = run(f"benchmarks/{script}", "--quick", "--threads", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "OPENBLAS_CORETYPE=" in result.stdout  # the BLAS configuration is printed
    assert "malloc:" in result.stdout


def test_tensor_steps_only_runs_the_step_and_nothing_else():
    """The loop benchmarks/README's instruction counts come from (under valgrind)."""
    result = run("benchmarks/tensor.py", "--steps-only", "3", "--sizes", "small")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "3 steps, B=32"


def test_recorder_training_steps_runs_the_loop_and_refuses_partial_blocks():
    """The loop round 13's instruction counts of a kept step come from (under valgrind)."""
    result = run("benchmarks/recorder.py", "--training-steps", "20", "--every", "10")
    assert result.returncode == 0, result.stderr[-3000:]
    result = run("benchmarks/recorder.py", "--training-steps", "25")
    assert result.returncode == 2 and "multiple of 10" in result.stderr


def test_scalar_anomaly_graph_builds_and_runs_its_backward():
    """The graph round 13's instruction counts of detect_anomaly()'s backward come from."""
    for extra in ((), ("--anomaly",)):
        result = run("benchmarks/scalar.py", "--anomaly-graph", "300", *extra)
        assert result.returncode == 0, result.stderr[-3000:]
