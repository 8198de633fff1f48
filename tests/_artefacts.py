"""Where the browser tests put their screenshots: $MINIGRAD_ARTEFACTS, or a folder in the
temporary directory. Shared by tests/browser/conftest.py, whose tests write there, and
tests/conftest.py, which prints the folder at the end of the run (in the main process, also
when pytest-xdist runs the tests in workers)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ARTEFACTS = Path(os.environ.get("MINIGRAD_ARTEFACTS")
                 or Path(tempfile.gettempdir()) / "minigrad-browser-artefacts")
