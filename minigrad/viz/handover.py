"""How the recorder gets the gradients of a step it keeps: the engine hands them over.

A recorder asks the engine for every gradient of the next backward pass
(`minigrad.observers.observe_next_backward`) before each kept call, and when it is made,
loaded or copied; backward hands them to a `Catch` as it computes them (after each node's
hooks, as backward used them), by node id, and keeps that pass's graph, which
``backward()`` otherwise frees (as in PyTorch), for the kept call to walk. Intermediate
``.grad`` is never read (the engine keeps none). When no pass was handed over and the
graph was freed, the kept call cannot read it: `missed_pass_error` says why and names the
fix. The recorder itself (`minigrad.viz.recorder`) decides when to ask and what to keep.
"""

from __future__ import annotations

import weakref
from typing import Any

__all__ = ["Catch", "missed_pass_error"]


class Catch:
    """The gradients of one backward pass as the engine hands them over (`observer`, given
    to `observe_next_backward`): by node id, with a weak reference to the pass's root (its
    first node). It holds gradients only, never the graph, so one left waiting by a
    recorder that records no more costs one pass's gradients, not its activations."""

    __slots__ = ("root", "grads", "observer")

    def __init__(self) -> None:
        grads: dict[int, Any] = {}
        root: list[weakref.ref] = []
        ref = weakref.ref

        # A plain function (no method or __call__ look-up: the engine calls it per node).
        def observer(node: Any, grad: Any) -> None:
            if not grads:
                root.append(ref(node))
            grads[id(node)] = grad

        def start_over() -> None:  # the pass stopped on an error: the next one comes instead
            grads.clear()
            root.clear()

        observer.start_over = start_over  # type: ignore[attr-defined]  # (observers.hand_back)
        self.root, self.grads, self.observer = root, grads, observer

    def of(self, root: Any) -> dict[int, Any] | None:
        """The gradients by node id if the pass was `root`'s (alive, so ids are unique)."""
        return self.grads if self.root and self.root[0]() is root else None


def missed_pass_error(caught: Catch | None, tool: str, call: int) -> RuntimeError:
    """The error for call `call` of record, a kept one, whose graph ``backward()`` freed,
    its pass not handed over to the recorder (which would have kept it): why, and the fix.
    `caught`: the recorder's request still waiting (None: it has none)."""
    if caught is not None and caught.root:  # another pass took our request
        why = ("the backward pass it watched (the first after it asked: at the call of "
               "record before this one, or when it was made, loaded or copied) was "
               "another graph's: another backward ran in between, e.g. another model's "
               "training step")
        fix = ("call record(loss) right after the backward of the loss it records, with "
               "no other backward in between, or call loss.backward(retain_graph=True) "
               "on the steps it keeps")
    else:
        why = ("no backward pass ran since it asked for one (it asks when it is made, "
               "loaded or copied, and at the call of record before each kept one): this "
               "step's backward ran before, e.g. the recorder was made after it")
        fix = ("make the recorder before the training loop and call record(loss) after "
               "each loss.backward(), or call loss.backward(retain_graph=True) on this "
               "step")
    return RuntimeError(
        f"{tool}: this graph was freed by backward() (its default, as in PyTorch) before "
        f"call {call} of record, a kept one, could read it. The recorder keeps "
        f"the graph of a pass it watches, but it did not watch this one: {why}. "
        f"Fix: {fix}.")
