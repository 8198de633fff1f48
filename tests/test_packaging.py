"""Packaging habits: the version in one place, py.typed shipped, skip reasons printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import minigrad as mg

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11+")

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_version_is_written_once():
    assert "version" not in PROJECT["project"] and "version" in PROJECT["project"]["dynamic"]
    assert PROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "minigrad.__version__"}
    assert mg.__version__.count(".") == 2


def test_py_typed_is_shipped():
    assert (ROOT / "minigrad" / "py.typed").exists()
    assert "py.typed" in PROJECT["tool"]["setuptools"]["package-data"]["minigrad"]


def test_tensorboard_is_an_optional_extra_and_in_dev():
    extras = PROJECT["project"]["optional-dependencies"]
    assert any(r.startswith("tensorboardX") for r in extras["tensorboard"])
    assert not any("tensorboard" in r for r in PROJECT["project"]["dependencies"])
    assert any(r.startswith("tensorboard>") for r in extras["dev"])  # its reader, for tests
    assert any(r.startswith("mypy") for r in extras["dev"])


def test_pytest_says_why_tests_were_skipped(tmp_path):
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\n@pytest.mark.skip(reason='needs the moon')\ndef test_x():\n    pass\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"),
         "--rootdir", str(tmp_path), "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path)
    assert "SKIPPED [1]" in result.stdout and "needs the moon" in result.stdout
