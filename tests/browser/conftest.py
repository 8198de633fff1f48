"""A real browser for the page tests: Debian's headless Chromium driven by Selenium.

Nothing is downloaded: the tests use the Chromium and chromedriver installed on the machine
(``apt-get install chromium chromium-driver``) and skip, saying so, where there are none.
Screenshots go to $MINIGRAD_ARTEFACTS (default: a folder in the temporary directory,
printed at the end of the run).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from _artefacts import ARTEFACTS

HOW_TO_GET_ONE = ("no headless browser: the explorer's page tests need Chromium, its driver "
                  "and Selenium. Fix: apt-get install chromium chromium-driver (Debian/Ubuntu) "
                  "and pip install selenium (or pip install -e '.[dev]').")


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (name if os.path.isfile(name) else None)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS


@pytest.fixture(scope="session")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason=HOW_TO_GET_ONE)
    from selenium.webdriver.chrome.service import Service

    chromium = _find("chromium", "chromium-browser", "/usr/bin/chromium")
    driver_path = _find("chromedriver", "/usr/bin/chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip(HOW_TO_GET_ONE)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="minigrad-chromium-")
    for argument in ("--headless", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                     "--window-size=1600,1000", "--allow-file-access-from-files"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)

