"""Run every benchmark in turn and print their reports (the `bash run.sh bench` command).

    python benchmarks/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [  # (script, arguments, arguments with --quick)
    ("scalar.py", [], ["--repeats", "3"]),
    ("chain.py", [], ["--length", "100000", "--tensor-length", "10000"]),
    ("tensor.py", [], ["--repeats", "5"]),
    ("norm.py", [], ["--repeats", "5"]),
    ("cnn.py", [], ["--repeats", "3"]),
    ("memory.py", [], ["--steps", "200", "--window", "50"]),
    ("graph.py", [], ["--nodes", "2000"]),
    ("recorder.py", [], ["--repeats", "10", "--steps", "100", "--depth", "200"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes")
    args = parser.parse_args()
    failed = []
    for script, arguments, quick in SCRIPTS:
        print(f"\n===== {script} =====", flush=True)
        result = subprocess.run([sys.executable, str(HERE / script),
                                 *(quick if args.quick else arguments)])
        if result.returncode:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
