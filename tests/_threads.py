"""Helpers for tests that run the engine in several threads at once.

Shared by test_threads.py, test_value.py and test_release_unheld_data.py:
``from _threads import run_in_threads, switch_threads_often``.
"""

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def switch_threads_often() -> Iterator[None]:
    """Make the interpreter switch threads as often as it can inside the block, so that
    threads really interleave inside every engine call."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def run_in_threads(*targets: Callable[[], object]) -> None:
    """Run each target in its own thread, started together; re-raise the first error."""
    errors = []
    start = threading.Barrier(len(targets))

    def wrapped(target: Callable[[], object]) -> None:
        try:
            start.wait()
            target()
        except BaseException as error:  # noqa: BLE001 (re-raised in the main thread)
            errors.append(error)

    threads = [threading.Thread(target=wrapped, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
