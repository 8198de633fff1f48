"""The exercises framework: every reference solution passes its checks, every untouched stub
fails every check, and ``python tutorials/check.py N`` exits 0 only when all pass."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"
sys.path.insert(0, str(TUTORIALS))

import check  # noqa: E402
from _checks import checks_of  # noqa: E402

LESSONS = sorted(int(p.name[:2]) for p in (TUTORIALS / "exercises").glob("[0-9][0-9]_*.py"))


def test_every_lesson_with_exercises_has_a_solution_and_checks() -> None:
    assert LESSONS, "no exercises found"
    for number in LESSONS:
        assert check.exercise_file(number, "solutions").exists()
        assert len(checks_of(number)) >= 2, f"lesson {number}: fewer than two checks"


@pytest.mark.parametrize("number", LESSONS)
def test_the_solution_passes_every_check(number: int) -> None:
    out = io.StringIO()
    passed, total = check.run_checks(number, check.exercise_file(number, "solutions"), out)
    assert passed == total, out.getvalue()


@pytest.mark.parametrize("number", LESSONS)
def test_the_untouched_stub_fails_every_check(number: int) -> None:
    out = io.StringIO()
    passed, total = check.run_checks(number, check.exercise_file(number, "exercises"), out)
    assert passed == 0 and total > 0, out.getvalue()
    assert "not written yet" in out.getvalue()


def test_check_command_exit_status_and_advice(tmp_path: Path) -> None:
    command = [sys.executable, str(TUTORIALS / "check.py"), "1"]
    stub = subprocess.run(command, capture_output=True, text=True)
    assert stub.returncode == 1 and "TODO" in stub.stdout
    solved = subprocess.run(command + ["--solution"], capture_output=True, text=True)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    # A wrong answer is named, with where to look.
    wrong = tmp_path / "wrong.py"
    wrong.write_text((TUTORIALS / "solutions" / "01_autograd.py").read_text().replace(
        "grad_x = t + y * grad_u", "grad_x = t"))
    failed = subprocess.run(command + ["--file", str(wrong)], capture_output=True, text=True)
    assert failed.returncode == 1
    assert "FAIL" in failed.stdout and "how to look" in failed.stdout
    missing = subprocess.run([sys.executable, str(TUTORIALS / "check.py"), "99"],
                             capture_output=True, text=True)
    assert missing.returncode != 0 and "no exercises" in missing.stderr
