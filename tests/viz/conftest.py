"""Each test starts and ends with no backward observer waiting.

A `GradientFlowRecorder` asks for the next backward pass of its thread
(`minigrad.observers`), and a pass an observer takes keeps its graph. A recorder that a test
leaves waiting would otherwise hand the *next test's* first backward to itself: that graph
would not be freed, and a test of a freed graph would pass or fail by the order of tests.
"""

from __future__ import annotations

import pytest

from minigrad.observers import observe_next_backward


@pytest.fixture(autouse=True)
def no_observer_waiting():
    observe_next_backward(None)
    yield
    observe_next_backward(None)
