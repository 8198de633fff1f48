"""One rule for the exit codes of every command (see minigrad/__main__.py): 1 when the work
cannot be done (a missing Graphviz `dot`), 2 for a wrong command line. `minigrad explore`
gave 2 for a missing `dot`, where `minigrad graph` gave 1. Run as the user runs them: a
child process, with a PATH on which `dot` cannot be found."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _minigrad(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    empty = tmp_path / "no-programs-here"
    empty.mkdir(exist_ok=True)
    env = dict(os.environ, PATH=str(empty),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "minigrad", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("command", [
    ["graph", "expression", "--format", "svg", "--out", "e.svg"],
    ["explore", "--out", "flow.html", "--steps", "1"],
])
def test_a_missing_dot_exits_1_from_every_command_that_needs_it(tmp_path, command):
    done = _minigrad(tmp_path, *command)
    assert done.returncode == 1, done.stderr
    assert f"minigrad {command[0]}: " in done.stderr and "'dot' was not found" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [
    ["graph", "no-such-example"],
    ["graph", "expression", "--out", "e.jpg"],
    ["explore", "no-such-example"],
    ["explore", "--steps", "0"],
    ["demo", "--steps", "0"],
])
def test_a_wrong_command_line_exits_2_whether_dot_is_there_or_not(tmp_path, command):
    done = _minigrad(tmp_path, *command)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr


def test_what_needs_no_dot_still_exits_0_without_it(tmp_path):
    # The DOT source is written by minigrad itself; the demo's drawings are a part of its
    # output, not its work: it trains, writes the rest, says what it could not draw.
    assert _minigrad(tmp_path, "graph", "expression", "--format", "dot",
                     "--out", "e.dot").returncode == 0
    done = _minigrad(tmp_path, "demo", "--steps", "1", "--out", "out")
    assert done.returncode == 0, done.stderr
    assert "'dot' was not found" in done.stderr
    assert (tmp_path / "out" / "gradient_flow.dot").exists()
