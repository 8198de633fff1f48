"""How a scalar `Value` node follows the engine's modes (`minigrad.autograd`'s state):
under `no_grad()` it is a leaf, inside a module it records the module's scope, and under
`detect_anomaly()` it remembers where it was created and has its value checked.

Kept apart from `minigrad.value` so that each file reads on its own: `Value`'s ops build
every node for the default state, and compare the current state with `DEFAULT_STATE` by
identity; only another state goes through `apply_engine_state`. `Value` is only named in
the type hints here.
"""

from __future__ import annotations

import contextvars
import math
from typing import TYPE_CHECKING

from minigrad import autograd
from minigrad.autograd import SideTable, current_state

if TYPE_CHECKING:
    from minigrad.value import Value

__all__ = ["DEFAULT_STATE", "apply_engine_state", "check_anomaly", "record_and_check",
           "where_created"]

# Where each node was created, recorded only inside `detect_anomaly()`.
where_created = SideTable()

# The engine's state where nothing changed it (the ContextVar's default, read in an empty
# context): graph recorded, no anomaly checks, no module scope. The ops build every node
# for it and compare the current state with it by identity, one C call and no attribute
# reads; any other state goes through `apply_engine_state`.
DEFAULT_STATE = contextvars.Context().run(current_state)
assert DEFAULT_STATE.grad_enabled and not DEFAULT_STATE.anomaly
assert DEFAULT_STATE.scope is None


def apply_engine_state(node: Value) -> None:
    """Make `node`, built as in the default state, what the current state says: no parents
    under `no_grad()`, the module scope, and the checks of `detect_anomaly()`."""
    engine = current_state()
    if not engine.grad_enabled:
        node._a = node._b = None  # a leaf, as Value(x) makes under no_grad()
        del node._da, node._db
    node._scope = engine.scope
    if engine.anomaly:
        record_and_check(node)


def record_and_check(node: Value) -> None:
    """Under `detect_anomaly()`: remember where `node` was created and check its value."""
    where_created[node] = autograd.user_frame()
    check_anomaly(node, node.data, "forward")


def check_anomaly(node: Value, result: float, phase: str, grad_finite: bool = True) -> None:
    """Under `detect_anomaly()`: raise `AnomalyError` if `result`, the node's value (`phase`
    ``"forward"``) or a gradient it sends (``"backward"``), is NaN or infinite."""
    if math.isfinite(result):
        return
    inputs_finite = grad_finite and all(math.isfinite(p.data) for p in node._parents)
    detail = f"{result}" + ("" if inputs_finite else " (its inputs already held NaN/Inf)")
    raise autograd.anomaly_error(f"Value {node._op}", node._where, phase, detail, node._scope)
