"""Check your exercises: ``python tutorials/check.py N`` (N = the lesson's number).

Each lesson ends with exercises. The code to write lives in ``tutorials/exercises/NN_*.py``
(stubs that raise ``NotImplementedError``), the reference answers in
``tutorials/solutions/NN_*.py``, and the checks in ``tutorials/_checks/checks_NN.py``.
This command imports your file, runs every check and says, for each one, what is wrong and
where to look. Its exit status is 0 only when every check passes.

    python tutorials/check.py 3                 # checks tutorials/exercises/03_*.py
    python tutorials/check.py 3 --file my.py    # checks another file
    python tutorials/check.py 3 --solution      # checks the reference solution
    python tutorials/check.py --list            # which lessons have exercises
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

TUTORIALS = Path(__file__).resolve().parent
sys.path.insert(0, str(TUTORIALS))

from _checks import CheckFailed, checks_of  # noqa: E402


def exercise_file(number: int, folder: str) -> Path:
    """``tutorials/<folder>/NN_*.py`` for lesson `number`."""
    matches = sorted((TUTORIALS / folder).glob(f"{number:02d}_*.py"))
    if not matches:
        have = sorted(p.name[:2] for p in (TUTORIALS / "exercises").glob("[0-9][0-9]_*.py"))
        raise SystemExit(f"check.py: lesson {number} has no exercises in tutorials/{folder}/ "
                         f"(lessons with exercises: {', '.join(have)}).")
    return matches[0]


def load(path: Path) -> ModuleType:
    """Import the file at `path` as a fresh module (a student's file may have any name)."""
    spec = importlib.util.spec_from_file_location(f"exercise_{path.stem}", path)
    if spec is None or spec.loader is None:  # (not SystemExit: that is the student's exit())
        raise ImportError(f"check.py: cannot import {path}: not a Python file. Fix: give the "
                          "path of a .py file.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _last_frame_in(error: BaseException, path: Path) -> traceback.FrameSummary:
    """The innermost frame of `error`'s traceback in the student's file (else the innermost):
    the line to look at, rather than one inside NumPy or Python's `exit`."""
    frames = traceback.extract_tb(error.__traceback__)
    theirs = [frame for frame in frames if Path(frame.filename).resolve() == path.resolve()]
    return (theirs or frames)[-1]


def run_checks(number: int, path: Path, stream=sys.stdout) -> tuple[int, int]:
    """Run lesson `number`'s checks on the file at `path`; print one line per check (and
    what to look at when it fails). Returns ``(passed, total)``."""
    print(f"Checking {path} against lesson {number}'s checks", file=stream)
    try:
        module = load(path)
    except SystemExit as stop:  # exit() left in the file: it must not end the check, with 0
        print(f"  could not import your file: it called exit() or sys.exit({stop.code!r}) "
              "while being imported; remove that call", file=stream)
        return 0, len(checks_of(number))
    except Exception:
        print("  could not import your file:\n" + traceback.format_exc(limit=3), file=stream)
        return 0, len(checks_of(number))
    passed = 0
    checks = checks_of(number)
    for check in checks:
        title = (check.__doc__ or check.__name__).strip().splitlines()[0]
        try:
            check(module)
        except NotImplementedError as error:
            what = str(error) or "NotImplementedError"
            print(f"  TODO  {title}\n        not written yet ({what})", file=stream)
        except CheckFailed as failure:
            print(f"  FAIL  {title}\n        {failure.what}\n        how to look: {failure.hint}",
                  file=stream)
        except (Exception, SystemExit) as error:  # the student's code crashed (or called
            # exit(), which would otherwise end this command, with status 0): show where
            what = (f"your code called exit() or sys.exit({error.code!r})"
                    if isinstance(error, SystemExit) else f"{type(error).__name__}: {error}")
            where = _last_frame_in(error, path)
            print(f"  ERROR {title}\n        {what}\n"
                  f"        at {Path(where.filename).name}:{where.lineno} ({where.line})",
                  file=stream)
        else:
            passed += 1
            print(f"  pass  {title}", file=stream)
    print(f"{passed}/{len(checks)} checks pass" + (" — well done." if passed == len(checks)
                                                    else "."), file=stream)
    return passed, len(checks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a lesson's exercises.")
    parser.add_argument("lesson", nargs="?", type=int, help="the lesson's number, e.g. 3")
    parser.add_argument("--file", type=Path, help="check this file instead of exercises/NN_*.py")
    parser.add_argument("--solution", action="store_true", help="check the reference solution")
    parser.add_argument("--list", action="store_true", help="list the lessons with exercises")
    args = parser.parse_args(argv)
    if args.list or args.lesson is None:
        for path in sorted((TUTORIALS / "exercises").glob("[0-9][0-9]_*.py")):
            print(f"{int(path.name[:2]):2d}  {path.relative_to(TUTORIALS.parent)}")
        return 0 if args.list else 2
    if args.file is not None:
        path = args.file
        if not path.is_file():
            example = exercise_file(args.lesson, "exercises").relative_to(TUTORIALS.parent)
            print(f"check.py: {path} is not a file. Fix: give the path of your answers' .py "
                  f"file, e.g. --file {example}", file=sys.stderr)
            return 2
    else:
        path = exercise_file(args.lesson, "solutions" if args.solution else "exercises")
    passed, total = run_checks(args.lesson, path)
    return 0 if passed == total and total > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
