"""Regenerate the committed figures of the lessons: ``python tutorials/make_figures.py [NN ...]``.

Runs each named lesson (all of them without arguments) in full mode, top to bottom, with its
output folder set to ``tutorials/figures/`` — the only way a lesson writes there. A normal
run (``python tutorials/03_weight_initialisation.py``) writes to the git-ignored
``tutorials/out/`` instead, so running a lesson never modifies a tracked file.

Each lesson writes into a fresh temporary folder first; only when it finishes without error
are its files moved into the output folder. A lesson that crashes (or is interrupted) leaves
the committed figures and results as they were, never half of one run and half of another.

Options: ``--quick`` runs in quick mode (a check, not for committing: it writes to the
git-ignored ``tutorials/out/``, never over the committed figures); ``--out DIR`` writes
elsewhere.
"""

from __future__ import annotations

import argparse
import os
import shutil
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
        with tempfile.TemporaryDirectory(prefix=f"minigrad_{script.stem}_") as staging:
            env["MINIGRAD_TUTORIAL_OUT"] = staging
            completed = subprocess.run([sys.executable, str(script)], cwd=TUTORIALS.parent,
                                       env=env)
            written = sorted(Path(staging).iterdir())
            if completed.returncode == 0:
                out.mkdir(parents=True, exist_ok=True)
                for path in written:  # whole files replaced, one lesson's run at a time
                    shutil.move(str(path), str(out / path.name))
        seconds = time.perf_counter() - start
        if completed.returncode == 0:
            print(f"== {script.name}: ok in {seconds:.0f} s; {len(written)} files written to "
                  f"{out}", flush=True)
        else:
            print(f"== {script.name}: FAILED in {seconds:.0f} s; {out} left as it was",
                  flush=True)
            failed.append(script.name)
    if failed:
        print(f"make_figures: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
