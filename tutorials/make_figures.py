"""Regenerate the committed figures of the lessons: ``python tutorials/make_figures.py [NN ...]``.

Runs each named lesson (all of them without arguments) in full mode, top to bottom, with its
output folder set to ``tutorials/figures/`` — the only way a lesson writes there. A normal
run (``python tutorials/03_weight_initialisation.py``) writes to the git-ignored
``tutorials/out/`` instead, so running a lesson never modifies a tracked file.

Each lesson writes into a fresh staging folder next to the output folder first; only when it
finishes without error are its files moved into the output folder (``os.replace``: each file
swapped whole, never half written) and the staging folder removed. A lesson that crashes (or
is interrupted) leaves the committed figures and results as they were, never half of one run
and half of another, and keeps what it measured before failing in its staging folder, whose
path is printed: a full run can take many minutes, and its numbers are worth a look.

Options: ``--quick`` runs in quick mode (a check, not for committing: it writes to the
git-ignored ``tutorials/out/``, never over the committed figures); ``--out DIR`` writes
elsewhere.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TUTORIALS = Path(__file__).resolve().parent


def lessons(numbers: list[str]) -> list[Path]:
    """The lesson scripts ``NN_*.py`` for `numbers` (all lessons when empty)."""
    every = sorted(p for p in TUTORIALS.glob("[0-9][0-9]_*.py"))
    if not numbers:
        return every
    chosen = []
    for number in numbers:
        matches = [p for p in every if p.name.startswith(f"{int(number):02d}_")]
        if not matches:
            raise SystemExit(f"make_figures: no lesson numbered {number!r} in {TUTORIALS} "
                             f"(have: {', '.join(p.name[:2] for p in every)}).")
        chosen += matches
    return chosen


def output_folder(quick: bool, out: str | None) -> Path:
    """Where a run writes: `out` when given; else the committed ``figures/`` for a full run
    and the git-ignored ``out/`` for a quick one (quick figures are not for committing)."""
    if out is not None:
        return Path(out)
    return TUTORIALS / ("out" if quick else "figures")


def stage(out: Path, script: Path) -> Path:
    """A new, empty staging folder for one run of `script`, next to `out` (the same
    filesystem, so moving a file into `out` is a rename, which replaces it whole)."""
    out.mkdir(parents=True, exist_ok=True)
    folder = out.resolve()  # (`--out .`: Path(".").name is "", the folder's own name is not)
    return Path(tempfile.mkdtemp(prefix=f"{folder.name}.{script.stem}.unfinished_",
                                 dir=folder.parent))


def publish(staging: Path, out: Path) -> int:
    """Move every file of a finished run from `staging` into `out`, then remove `staging`.
    Returns how many files were moved."""
    written = sorted(staging.iterdir())
    for path in written:  # os.replace: atomic within a filesystem, a file is never half there
        os.replace(path, out / path.name)
    staging.rmdir()
    return len(written)


def kept_message(script: Path, staging: Path, out: Path) -> str:
    """What a failed run left behind, and what to do with it (an empty staging folder is
    removed: nothing to keep)."""
    count = sum(1 for _ in staging.iterdir())
    if count == 0:
        staging.rmdir()
        return "It wrote nothing before failing."
    return (f"What it wrote before failing ({count} files) is kept in {staging}: its "
            f"{script.name[:2]}_results.json holds every number measured so far. {out} takes "
            f"only finished runs: fix the lesson, run python tutorials/make_figures.py "
            f"{script.name[:2]} again, and delete that folder once you have read it "
            f"(rm -r {staging}).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("numbers", nargs="*", help="lesson numbers (default: all)")
    parser.add_argument("--quick", action="store_true", help="quick mode (not for committing)")
    parser.add_argument("--out", default=None,
                        help="output folder (default: tutorials/figures, or tutorials/out with "
                             "--quick)")
    args = parser.parse_args(argv)
    out = output_folder(args.quick, args.out)
    env = dict(os.environ, MPLBACKEND="Agg")
    env["MINIGRAD_TUTORIAL_QUICK"] = "1" if args.quick else ""
    env.pop("MINIGRAD_TUTORIAL_SEEDS", None)
    failed = []
    for script in lessons(args.numbers):
        start = time.perf_counter()
        staging = stage(out, script)
        env["MINIGRAD_TUTORIAL_OUT"] = str(staging)
        try:
            completed = subprocess.run([sys.executable, str(script)], cwd=TUTORIALS.parent,
                                       env=env)
        except BaseException:  # Ctrl-C: the lesson's numbers so far are still worth keeping
            print(kept_message(script, staging, out), file=sys.stderr, flush=True)
            raise
        seconds = time.perf_counter() - start
        if completed.returncode == 0:
            written = publish(staging, out)
            print(f"== {script.name}: ok in {seconds:.0f} s; {written} files written to "
                  f"{out}", flush=True)
        else:
            print(f"== {script.name}: FAILED in {seconds:.0f} s; {out} left as it was. "
                  + kept_message(script, staging, out), flush=True)
            failed.append(script.name)
    if failed:
        print(f"make_figures: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
