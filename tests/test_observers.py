"""`observe_next_backward`: one backward pass hands every node's complete gradient to an
observer, once, in its own order, and only in the calling thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import minigrad as mg
from minigrad.observers import observe_next_backward
from minigrad.viz.walk import Flow, walk


def _graph(seed: int = 0):
    rng = np.random.default_rng(seed)
    w = mg.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    x = mg.tensor(rng.normal(size=(5, 3)))
    hidden = (x @ w).tanh()
    loss = (hidden * hidden).sum() + hidden.mean()  # `hidden` has two consumers
    return loss, w, hidden


def test_the_next_pass_hands_over_every_gradient_once_root_first():
    loss, w, hidden = _graph()
    seen: list = []
    observe_next_backward(lambda node, grad: seen.append((node, np.array(grad))))
    loss.backward()
    nodes = [node for node, _ in seen]
    assert nodes[0] is loss
    assert len({id(node) for node in nodes}) == len(nodes)  # each node once
    # Every node that needs a gradient, and their gradients are backward's own.
    assert {id(n) for n in walk(loss)[0] if n.requires_grad} == {id(n) for n in nodes}
    flow = Flow(loss)  # every gradient recomputed from the root's, independently
    for node, grad in seen:
        np.testing.assert_allclose(grad, flow.of(node), rtol=1e-12)
    np.testing.assert_array_equal(dict((id(n), g) for n, g in seen)[id(w)], w.grad)


def test_one_pass_only_and_none_cancels():
    calls: list = []
    observe_next_backward(lambda node, grad: calls.append(node))
    loss, _, _ = _graph()
    loss.backward()
    first = len(calls)
    assert first > 0
    loss.backward()  # a second pass: nobody observes it
    assert len(calls) == first
    observe_next_backward(lambda node, grad: calls.append(node))
    observe_next_backward(None)
    _graph()[0].backward()
    assert len(calls) == first


def test_a_pass_in_another_thread_does_not_take_the_observer():
    calls: list = []
    observe_next_backward(lambda node, grad: calls.append(node))
    worker = threading.Thread(target=lambda: _graph(1)[0].backward())
    worker.start()
    worker.join()
    assert calls == []  # the other thread's pass did not see it...
    loss, _, _ = _graph()
    loss.backward()
    assert calls and calls[0] is loss  # ...this thread's next pass does


def test_hooks_run_before_the_observer_sees_the_gradient():
    loss, _, hidden = _graph()
    hidden.register_hook(lambda grad: grad * 0)
    seen = {}
    observe_next_backward(lambda node, grad: seen.__setitem__(id(node), grad))
    loss.backward()
    assert not np.any(seen[id(hidden)])


def test_contexts_copied_while_an_observer_waits_share_it_and_one_pass_takes_it():
    """asyncio tasks copy the context: before, each copy's first pass fired the observer and
    the original context still had it waiting, so one request watched several passes."""
    import asyncio

    passes: list = []
    roots = [_graph(seed)[0] for seed in range(3)]

    def observer(node, grad):
        if any(node is root for root in roots) and all(node is not p for p in passes):
            passes.append(node)

    async def main():
        observe_next_backward(observer)
        await asyncio.gather(*(asyncio.to_thread(root.backward) for root in roots[:2]),
                             asyncio.create_task(asyncio.sleep(0)))
        roots[2].backward()  # the original context: nothing waits any more

    asyncio.run(main())
    assert len(passes) == 1


def test_a_second_observer_joins_the_waiting_one_in_copied_contexts_too():
    """Two tools (recorders) may wait for the same pass: asking once replaced the waiting
    observer, so a recorder made mid-training cancelled another recorder's request."""
    import contextvars

    seen: list = []
    observe_next_backward(lambda node, grad: seen.append("first"))
    copied = contextvars.copy_context()
    observe_next_backward(lambda node, grad: seen.append("second"))
    _graph()[0].backward()
    assert "first" in seen and "second" in seen
    assert seen.count("first") == seen.count("second")  # once per node each
    seen.clear()
    copied.run(_graph()[0].backward)  # taken: no pass in any context sees them again
    _graph()[0].backward()
    assert seen == []


def test_forget_observer_withdraws_one_and_leaves_the_others():
    from minigrad.observers import forget_observer

    seen: list = []

    def first(node, grad):
        seen.append("first")

    def second(node, grad):
        seen.append("second")

    observe_next_backward(first)
    observe_next_backward(second)
    forget_observer(first)
    _graph()[0].backward()
    assert seen and set(seen) == {"second"}
    seen.clear()
    observe_next_backward(first)
    forget_observer(first)
    forget_observer(second)  # not waiting: nothing happens
    _graph()[0].backward()
    assert seen == []


def _interrupted_backward(loss, node) -> None:
    """loss.backward() stopped by KeyboardInterrupt when it reaches `node` (a notebook user
    interrupting the cell; raised here by a hook, removed afterwards)."""
    def interrupt(grad):
        raise KeyboardInterrupt

    handle = node.register_hook(interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            loss.backward()
    finally:
        handle.remove()


def test_a_pass_stopped_by_an_error_hands_the_observer_back_for_the_next_pass():
    """A KeyboardInterrupt in a notebook (here: raised by a hook) stops the pass that took
    the observer: it saw the root only. It must watch the next pass, the re-run of the
    step, instead of being lost with the stopped one (the recorder then reported the
    re-run's graph as freed by "another backward", and could not record it)."""
    loss, w, hidden = _graph()
    seen: list = []
    observe_next_backward(lambda node, grad: seen.append(node))
    _interrupted_backward(loss, hidden)
    assert seen[0] is loss  # stopped at `hidden`, before the observer saw it or `w`
    assert all(node is not hidden and node is not w for node in seen)
    seen.clear()
    again, w_again, _ = _graph(1)  # the re-run: a new forward pass and its backward
    again.backward()
    assert seen and seen[0] is again and any(node is w_again for node in seen)
    seen.clear()
    _graph(2)[0].backward()  # one pass only, as before
    assert seen == []


def test_a_pass_with_nothing_to_compute_leaves_the_observer_waiting():
    loss, w, hidden = _graph()
    other = mg.tensor(np.ones(3), requires_grad=True)
    seen: list = []
    observe_next_backward(lambda node, grad: seen.append(node))
    loss.backward(inputs=[other])  # no path from loss to `other`: no pass
    assert seen == []
    loss2, _, _ = _graph(1)
    loss2.backward()
    assert seen and seen[0] is loss2


def test_an_observer_handed_back_is_told_to_start_over():
    """What it saw of the stopped pass must not mix with the next pass (the recorder's
    `Catch` clears its gradients and its root)."""
    from minigrad.viz.handover import Catch

    loss, w, hidden = _graph()
    caught = Catch()
    observe_next_backward(caught.observer)
    _interrupted_backward(loss, hidden)
    assert caught.root == [] and caught.grads == {}  # forgotten, and waiting again
    again, _, _ = _graph(1)
    again.backward()
    assert caught.of(again) is not None and caught.of(loss) is None


def test_an_observer_that_raises_fails_its_pass_only():
    """Its own error is not a stopped pass to watch again: handed back, it would fail every
    later backward in the thread, far from its cause."""
    calls = []

    def broken(node, grad):
        calls.append(node)
        raise ValueError("observer bug")

    observe_next_backward(broken)
    loss, w, _ = _graph()
    with pytest.raises(ValueError, match="observer bug"):
        loss.backward()
    for seed in (1, 2):
        loss, w, _ = _graph(seed)
        loss.backward()  # no error: the observer is gone
        assert w.grad is not None
    assert len(calls) == 1
