"""Shared test configuration: hypothesis profiles, and no backward observer left waiting.

The default profile keeps property-based tests small and reproducible (the machine is
shared; every test file must stay fast). Run more examples locally with
``HYPOTHESIS_PROFILE=thorough pytest tests``.
"""

import os

import pytest
from _artefacts import ARTEFACTS
from hypothesis import HealthCheck, settings

from minigrad.observers import observe_next_backward

settings.register_profile(
    "default",
    max_examples=25,
    deadline=None,  # timings vary on a loaded machine; speed lives in benchmarks/
    derandomize=True,  # the same examples on every run: CI failures reproduce locally
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def no_observer_waiting():
    """Each test starts and ends with no backward observer waiting.

    A `GradientFlowRecorder` asks for the next backward pass of its thread
    (`minigrad.observers`), and a pass an observer takes keeps its graph. A recorder a test
    leaves waiting (the explorer's recorders may, when their training ends) would hand the
    *next test's* first backward to itself: that graph would not be freed, and a test of a
    freed graph would pass or fail by the order of tests."""
    observe_next_backward(None)
    yield
    observe_next_backward(None)


def pytest_terminal_summary(terminalreporter) -> None:
    if ARTEFACTS.is_dir() and any(ARTEFACTS.glob("*.png")):
        terminalreporter.write_line(f"explorer page screenshots: {ARTEFACTS}")
