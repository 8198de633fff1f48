#!/usr/bin/env bash
# Set up everything minigrad needs on a fresh machine, then run a task:
#   bash run.sh demo    train a small network with BatchNorm, render its gradient-flow graph
#   bash run.sh test    the test suite
#   bash run.sh bench   the benchmarks (see benchmarks/README.md)
#   bash run.sh setup   only the set-up
# Set-up: the Graphviz programs (Debian's `graphviz`, when `dot` is missing and apt-get is
# there) and a virtual environment in .venv with minigrad and its dev/tutorials extras.
set -euo pipefail
cd "$(dirname "$0")"

task="${1:-}"
if [[ "$task" != demo && "$task" != test && "$task" != bench && "$task" != setup ]]; then
    echo "usage: bash run.sh demo|test|bench|setup [extra arguments]" >&2
    exit 2
fi
shift

if ! command -v dot >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        sudo=""
        [[ "$(id -u)" != 0 ]] && sudo="sudo"
        echo "run.sh: installing the Graphviz programs (apt-get install graphviz)" >&2
        $sudo apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq graphviz >&2
    else
        echo "run.sh: 'dot' not found: install Graphviz (https://graphviz.org/download/); graphs will be saved as .dot only" >&2
    fi
fi

# The explorer's browser tests (tests/browser/) need Debian's headless Chromium and its
# driver; `run.sh test` installs them like Graphviz (MINIGRAD_NO_BROWSER=1 skips this, and
# the tests then skip with a message).
if [[ "$task" == test && "${MINIGRAD_NO_BROWSER:-}" != 1 ]] \
        && ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1 \
        && command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [[ "$(id -u)" != 0 ]] && sudo="sudo"
    echo "run.sh: installing Chromium for the browser tests (apt-get install chromium chromium-driver)" >&2
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >&2 \
        || echo "run.sh: Chromium not installed; the browser tests will be skipped" >&2
fi

python="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
    echo "run.sh: creating .venv" >&2
    "$python" -m venv .venv
fi
# Reinstall only when the package definition changed.
stamp=.venv/.minigrad-installed
if [[ ! -f "$stamp" ]] || ! cmp -s pyproject.toml "$stamp"; then
    echo "run.sh: installing minigrad and its dependencies into .venv" >&2
    .venv/bin/python -m pip install -q --upgrade pip >&2
    .venv/bin/python -m pip install -q -e '.[dev,tutorials]' >&2
    cp pyproject.toml "$stamp"
fi

case "$task" in
    setup) echo "run.sh: set-up done (.venv)" >&2 ;;
    demo) exec .venv/bin/minigrad demo "$@" ;;
    # One worker per core (pytest-xdist), each taking whole test files: a lesson's run and
    # a file's fixtures are shared by its tests. `-n 0` runs everything in this process.
    test) exec .venv/bin/python -m pytest -n logical --dist loadfile "$@" ;;
    bench) exec .venv/bin/python benchmarks/run_all.py "$@" ;;
esac
