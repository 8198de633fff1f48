"""`observe_next_backward`: one backward pass hands every node's complete gradient to an
observer, once, in its own order, and only in the calling thread."""

from __future__ import annotations

import threading

import numpy as np

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
