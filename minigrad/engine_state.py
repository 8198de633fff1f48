"""The engine's state: which module scope, grad mode and anomaly mode new nodes see (per
thread and asyncio task), the creation counter that orders a graph, and the small records
nodes share (`SideTable`, `RemovableHandle`).

Split out of `minigrad.autograd` (which re-exports every name here): the engine's switches
(`minigrad.grad_mode`, `minigrad.anomaly`) and the ops read this state; the backward pass
lives in `minigrad.autograd`.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple


class Scope(NamedTuple):
    """One level of module nesting: a module's qualified name and its class name.

    ``parent`` links to the enclosing scope, so ``scope.path()`` gives the whole nesting,
    outermost first, e.g. ``[("", "MLP"), ("bn1", "BatchNorm1d")]``.
    """

    name: str
    type_name: str
    parent: Scope | None
    # The module object itself, so the visualiser can name parameters from the modules
    # that own them (`module.named_parameters()`); None for scopes entered by hand.
    module: Any = None

    def path(self) -> list[Scope]:
        """The scopes from the outermost to this one."""
        chain: list[Scope] = []
        scope: Scope | None = self
        while scope is not None:
            chain.append(scope)
            scope = scope.parent
        return chain[::-1]

    def qualified_name(self) -> str:
        """Dotted path of module names, as in ``named_modules()`` (e.g. ``features.bn1``)."""
        return ".".join(scope.name for scope in self.path() if scope.name)

    def label(self) -> str:
        """How the visualiser titles this scope: ``bn1 (BatchNorm1d)``."""
        return f"{self.name} ({self.type_name})" if self.name else self.type_name

    def __repr__(self) -> str:  # short: the module's own repr would print its whole tree
        return f"Scope({self.qualified_name()!r}, {self.type_name!r})"

    # A scope *is* its path of names and types: two calls of equally named modules (a loss
    # module made afresh each step) are the same scope, whichever object `module` holds.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scope) and self[:3] == other[:3]

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self[:3])


class EngineState:
    """The engine's switches as one immutable record: is the graph recorded, are NaN/Inf
    checked, and which module scope new nodes belong to.

    It lives in a `contextvars.ContextVar`, so every thread and every asyncio task sees its
    own (as PyTorch's grad mode is thread-local): one thread evaluating under `no_grad()`
    never switches off another thread's training. A switch never mutates the record; it
    sets a new one and puts the previous one back on exit. An op reads the record once
    (`current_state()`, one C call) and then its three fields.
    """

    __slots__ = ("grad_enabled", "anomaly", "scope")

    def __init__(self, grad_enabled: bool, anomaly: bool, scope: Scope | None) -> None:
        if not grad_enabled or anomaly or scope is not None:
            global modes_entered
            modes_entered = True
        self.grad_enabled = grad_enabled
        self.anomaly = anomaly
        self.scope = scope

    def __repr__(self) -> str:
        return (f"EngineState(grad_enabled={self.grad_enabled}, anomaly={self.anomaly}, "
                f"scope={self.scope.qualified_name() if self.scope else None!r})")


modes_entered = False
"""Whether a state other than the default one (graph recorded, no anomaly checks, no
module scope) was ever made in this process, in any thread; it never goes back to False.
Before that, every context's state is the default one, so a scalar `Value` op, which makes
a node in a fraction of a microsecond, need not ask for it (see `minigrad.value._node`).
`EngineState(...)` sets it; the one place that builds a state without its constructor,
`Module.__call__` (for speed), sets it itself."""

_engine_state: ContextVar[EngineState] = ContextVar(  # the record is never mutated: B039
    "minigrad_engine_state", default=EngineState(True, False, None))  # noqa: B039

current_state: Callable[[], EngineState] = _engine_state.get
"""The calling thread's (or asyncio task's) `EngineState`."""

set_state: Callable[[EngineState], Any] = _engine_state.set
"""Make `state` the current `EngineState` (whoever sets one puts the previous one back)."""


class _StateView:
    """Read-only view of the current `EngineState` under the old name ``autograd.state``
    (``state.grad_enabled``, ``state.anomaly``, ``state.scope``). Hot paths call
    `current_state()` once instead."""

    grad_enabled = property(lambda self: _engine_state.get().grad_enabled)
    anomaly = property(lambda self: _engine_state.get().anomaly)
    scope = property(lambda self: _engine_state.get().scope)


state = _StateView()

# Creation counter: parents always get smaller numbers than their children, which makes
# "sort by creation number, newest first" a valid topological order (see below). Taking
# the next number is one C call, atomic under the GIL, so threads never share a number.
next_seq: Callable[[], int] = itertools.count().__next__

class SideTable:
    """Something a few nodes carry, kept beside them rather than in a slot every node would
    pay for (a `Value`'s label, where it was created, a loaded tensor's old write number):
    by the node's identity (``==`` on tensors is elementwise, and a subclass of `Value` may
    define ``==`` and hash by value), and weakly, so that an entry goes with its node."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref, Any]] = {}

    def get(self, node: Any, default: Any = None) -> Any:
        entry = self._entries.get(id(node))
        return entry[1] if entry is not None and entry[0]() is node else default

    def __setitem__(self, node: Any, value: Any) -> None:
        key, entries = id(node), self._entries

        def drop(reference: weakref.ref) -> None:  # the node is gone (not a later one)
            if entries.get(key, (None,))[0] is reference:
                del entries[key]

        entries[key] = (weakref.ref(node, drop), value)

    def __len__(self) -> int:
        return len(self._entries)


# Write numbers (a tensor's ``_version``) that `renumber_loaded` replaced: a node loaded
# after such a parent checks the parent's old number against its own old one.
_replaced_writes = SideTable()


def renumber_loaded(node: Any, parents: Sequence[Any]) -> None:
    """Give a node just restored by pickle, copy or deepcopy (from its ``__setstate__``)
    fresh creation and write numbers if its own are *ahead* of this process's counter.

    The numbers only mean something in the process that made them. A node pickled by a
    process that had already made a million nodes, loaded into a fresh one, would look
    newer than every node built from it: backward (newest first) would then visit it before
    its consumers, with only part of its gradient. Loading restores a node's parents before
    the node itself, so fresh numbers keep every node newer than its parents, and a write
    made to a parent after a node used it stays one (the node's backward still refuses).
    Numbers from the past (a deepcopy in this process, a pickle of a shorter run) are kept.
    """
    now = next_seq()
    old_seq = node._seq
    if old_seq >= now:
        node._seq = next_seq()
        for parent in parents:
            if _replaced_writes.get(parent, 0) > old_seq:  # written after this node used it
                parent._version = next_seq()
    written = getattr(node, "_version", 0)
    if written >= now:
        _replaced_writes[node] = written
        node._version = next_seq()


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook away, as in
    PyTorch (calling the handle itself, ``handle()``, does the same). Removing twice is
    harmless."""

    __slots__ = ("_remove",)

    def __init__(self, remove: Callable[[], None]) -> None:
        self._remove = remove

    def remove(self) -> None:
        self._remove()

    def __call__(self) -> None:
        self._remove()


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()` (in the calling thread or asyncio task)."""
    return _engine_state.get().grad_enabled


class module_scope:  # noqa: N801 (used like a function: `with module_scope(...)`)
    """Context manager: enter a module's scope; every node created inside records it (for
    the visualiser). A small class rather than `@contextmanager`: every module call of
    every training step goes through it, and a generator-based one costs ~4x more."""

    __slots__ = ("name", "type_name", "module", "previous")

    def __init__(self, name: str, type_name: str, module: Any = None) -> None:
        self.name = name
        self.type_name = type_name
        self.module = module

    def __enter__(self) -> Scope:
        self.previous = previous = _engine_state.get()
        scope = Scope(self.name, self.type_name, previous.scope, self.module)
        _engine_state.set(EngineState(previous.grad_enabled, previous.anomaly, scope))
        return scope

    def __exit__(self, *exc_info: Any) -> None:
        _engine_state.set(self.previous)
