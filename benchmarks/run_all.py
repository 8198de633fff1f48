"""Run every benchmark in turn and print their reports (the `bash run.sh bench` command).

    python benchmarks/run_all.py [--quick] [--clock cpu] [other options for every script]

Options it does not know (e.g. ``--clock cpu``) are passed on to every script.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [  # (script, its arguments in a full run); --quick is passed on to each
    ("scalar.py", []),
    ("tensor.py", []),
    ("tensor.py", ["--keep-freed-memory", "--threads", "1", "--sizes", "medium,large"]),
    ("cnn.py", []),
    ("cnn.py", ["--keep-freed-memory", "--threads", "1"]),
    ("scaling.py", ["--threads", "1"]),
    ("norm.py", ["--threads", "1"]),
    ("memory.py", []),
    ("chain.py", []),
    ("graph.py", []),
    ("recorder.py", []),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes")
    args, passed_on = parser.parse_known_args()
    failed = []
    for script, arguments in SCRIPTS:
        command = [script, *arguments, *(["--quick"] if args.quick else []), *passed_on]
        print(f"\n===== {' '.join(command)} =====", flush=True)
        result = subprocess.run([sys.executable, str(HERE / script), *command[1:]])
        if result.returncode:
            failed.append(" ".join(command))
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
