"""The checks behind ``python tutorials/check.py N``.

``checks_NN.py`` holds lesson NN's checks: plain functions named ``check_*``, run in the
order they are written, each taking the student's module and raising `CheckFailed(what,
hint)` when the answer is wrong — `what` says what was expected and what came out, `hint`
says where to look. A check's docstring's first line is its title. Calling a stub raises
``NotImplementedError``, which check.py reports as "not written yet".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType


class CheckFailed(Exception):
    """A wrong answer: `what` went wrong (expected vs got) and a `hint` where to look."""

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(what)
        self.what = what
        self.hint = hint


def expect(condition: bool, what: str, hint: str) -> None:
    """Raise `CheckFailed(what, hint)` unless `condition` holds."""
    if not condition:
        raise CheckFailed(what, hint)


def checks_of(number: int) -> list[Callable[[ModuleType], None]]:
    """Lesson `number`'s checks, in the order written in ``checks_NN.py``."""
    module = importlib.import_module(f"_checks.checks_{number:02d}")
    found = [(f.__code__.co_firstlineno, f) for name, f in vars(module).items()
             if name.startswith("check_") and callable(f)]
    return [f for _, f in sorted(found, key=lambda pair: pair[0])]
