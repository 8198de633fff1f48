"""Anomaly mode: `detect_anomaly` stops at the first op whose forward or backward makes
NaN/Inf, and names the op, its module and the line of user code that created it.

Split out of `minigrad.autograd`, which re-exports these names.
"""

from __future__ import annotations

import os
import traceback
from typing import Any

import numpy as np

from minigrad.engine_state import EngineState, Scope
from minigrad.grad_mode import _Switch


class AnomalyError(FloatingPointError):
    """Raised inside `detect_anomaly()` by the first op whose result holds NaN or Inf."""


class detect_anomaly(_Switch):  # noqa: N801 (PyTorch's name; used like a function)
    """Context manager (or decorator): stop at the first op whose forward or backward
    makes NaN/Inf.

    Inside it every node remembers the line of user code that created it, and the error
    names the op and that line. It slows everything down: use it to debug, not to train.
    Affects only the calling thread or asyncio task.
    """

    __slots__ = ()

    def _changed(self, state: EngineState) -> EngineState:
        return EngineState(state.grad_enabled, True, state.scope)

    def _fresh(self) -> detect_anomaly:
        return detect_anomaly()


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_frame() -> str:
    """The innermost stack frame outside the minigrad package, as 'file:line in function'."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return "<unknown>"


def anomaly_error(op_name: str, where: str | None, phase: str, detail: str,
                  scope: Scope | None = None) -> AnomalyError:
    """The error `detect_anomaly` raises, in one format for every kind of node: the op, the
    module it ran in, and the line of user code that created it (or why that is unknown)."""
    module = (f" in module {scope.qualified_name() or '(root)'} ({scope.type_name})"
              if scope is not None else " outside any module")
    if where is not None:
        created = f"The op ran{module}; it was created at {where}."
    else:
        created = (f"The op ran{module}; the line that created it is unknown: the node was "
                   "built before detect_anomaly() was entered, and lines are recorded only "
                   "inside it (recording them always would slow every op). To see it, enter "
                   "detect_anomaly() before the forward pass.")
    return AnomalyError(
        f"{op_name}: its {phase} produced {detail}. {created} "
        "Fix: check this op's inputs (log and sqrt of values <= 0, division by zero, "
        "overflowing exp) or clamp them first."
    )


def check_finite(array: np.ndarray, op_name: str, where: str | None, phase: str,
                 inputs: tuple[Any, ...] = (), scope: Any = None) -> None:
    """Under `detect_anomaly()`: raise if `array` holds NaN or Inf."""
    if array.dtype.kind not in "fc" or np.isfinite(array).all():
        return
    detail = "NaN" if np.isnan(array).any() else "Inf"
    input_arrays = [t if isinstance(t, np.ndarray) else t.data for t in inputs]  # (tensors)
    if any(a.dtype.kind in "fc" and not np.isfinite(a).all() for a in input_arrays):
        detail += " (its inputs already held NaN/Inf)"
    raise anomaly_error(op_name, where, phase, detail, scope)
