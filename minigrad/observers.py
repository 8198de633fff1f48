"""A backward observer: a read-only look at every gradient of one backward pass.

The engine keeps ``.grad`` only on leaves (see `minigrad.autograd`). A tool that needs the
gradient of *every* node of one pass (the gradient-flow recorder, `minigrad.viz`) asks for
it before that pass with `observe_next_backward`, instead of recomputing the whole pass
afterwards. A pass with no observer pays one context-variable read for this feature, and
one test of a local variable per node.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

# The observer the next backward pass of this context takes: per thread and per asyncio task,
# like the engine's other switches. It waits in a one-element list that the pass empties
# (`list.pop`): a context copied while it waits (a new asyncio task, `copy_context().run`)
# shares that list, so however many contexts see it, exactly one pass takes it. Several
# tools watching the same pass (two recorders) wait there as one `_Together`.
next_observer: ContextVar[list[Callable[[Any, Any], Any]] | None] = ContextVar(
    "minigrad_backward_observer", default=None)


class _Together:
    """Several observers of one pass, called in the order they asked. (Only when several
    wait: a single observer is handed to the engine as it is, one call per node.)"""

    __slots__ = ("observers",)

    def __init__(self, observers: tuple[Callable[[Any, Any], Any], ...]) -> None:
        self.observers = observers

    def __call__(self, node: Any, grad: Any) -> None:
        for observer in self.observers:
            observer(node, grad)


def observe_next_backward(observer: Callable[[Any, Any], Any] | None) -> None:
    """Show the next `backward` pass run in this thread (or asyncio task) to `observer`.

    That pass calls ``observer(node, grad)`` once for every node it reaches, in its own
    order (the root first), with the node's complete gradient, after the node's hooks ran.
    One pass only: the first pass to start takes the observer, also when the context was
    copied in between (asyncio tasks), so an observer nobody collects is dropped after one
    pass (a pass that stops on an error hands it back for the next: `hand_back`).
    Observers already waiting keep waiting: that pass shows itself to each of them (one
    tool asking does not cancel another's request). ``None`` cancels every waiting
    observer; `forget_observer` withdraws one.

    The arrays are the engine's: read them, never change them (a leaf may keep one as its
    ``.grad``). `Value.backward`'s scalar loop does not call observers; under
    ``detect_anomaly()`` it runs the general pass, which does.
    """
    waiting = next_observer.get()
    if observer is None:
        if waiting:
            waiting.clear()  # cancelled, in every context that shares it
        next_observer.set(None)
    elif waiting:  # join the observers waiting (in place: the contexts sharing it see it)
        waiting[0] = _Together(_members(waiting[0]) + (observer,))
    else:
        next_observer.set([observer])


def hand_back(observer: Callable[[Any, Any], Any]) -> None:
    """The engine's call when a pass that took `observer` stops before its end (an error
    in a hook or an op, ``KeyboardInterrupt`` in a notebook): `observer` waits for the next
    pass again, ahead of any that asked since. It has seen part of the stopped pass: an
    observer with a ``start_over`` attribute (a function of no argument, as the
    recorder's) is told to forget it, so the next pass is not mixed with it."""
    for member in _members(observer):
        start_over = getattr(member, "start_over", None)
        if start_over is not None:
            start_over()
    waiting = next_observer.get()
    if waiting:
        waiting[0] = _Together(_members(observer) + _members(waiting[0]))
    elif waiting is not None:  # the list the pass emptied: the contexts sharing it see it
        waiting.append(observer)
    else:
        next_observer.set([observer])


def forget_observer(observer: Callable[[Any, Any], Any]) -> None:
    """Withdraw `observer` if it still waits for the next pass (the others keep waiting)."""
    waiting = next_observer.get()
    if not waiting:
        return
    rest = tuple(other for other in _members(waiting[0]) if other is not observer)
    if not rest:
        waiting.clear()
    else:
        waiting[0] = rest[0] if len(rest) == 1 else _Together(rest)


def _members(observer: Callable[[Any, Any], Any]) -> tuple[Callable[[Any, Any], Any], ...]:
    return observer.observers if isinstance(observer, _Together) else (observer,)
