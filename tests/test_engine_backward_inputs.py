"""``backward(inputs=...)``, as PyTorch: only the given tensors (leaves or intermediate
results) accumulate a gradient; every other ``.grad`` is left as it was."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def graph(library):
    x = library.tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = library.tensor(np.array([3.0, -1.0]), requires_grad=True)
    unused = library.tensor(np.array([5.0]), requires_grad=True)
    y = x * 2
    loss = (y * w).sum()
    return x, w, unused, y, loss


def grads(tensors):
    return [None if t.grad is None else np.asarray(t.grad).tolist() for t in tensors]


@pytest.mark.parametrize("choose", [
    lambda x, w, unused, y: [w], lambda x, w, unused, y: w, lambda x, w, unused, y: [x, w],
    lambda x, w, unused, y: (y, unused), lambda x, w, unused, y: [w, y, x],
])
@pytest.mark.parametrize("retain_graph", [None, True])
def test_only_the_given_tensors_get_a_gradient_as_in_pytorch(choose, retain_graph):
    seen = []
    for library in (mg, torch):
        x, w, unused, y, loss = graph(library)
        loss.backward(inputs=choose(x, w, unused, y), retain_graph=retain_graph)
        seen.append(grads([x, w, unused, y]))
    assert seen[0] == seen[1]


def test_a_second_pass_accumulates_into_the_given_tensor_only():
    x, w, _, _, loss = graph(mg)
    loss.backward(inputs=[w], retain_graph=True)
    loss.backward(inputs=[w])
    np.testing.assert_array_equal(w.grad, [4.0, 8.0])
    assert x.grad is None and loss.grad is None


def test_hooks_on_the_way_still_run_and_change_the_gradient():
    x, w, _, y, loss = graph(mg)
    y.register_hook(lambda grad: grad * 10)
    loss.backward(inputs=[x])
    np.testing.assert_array_equal(x.grad, [60.0, -20.0])
    assert w.grad is None


@pytest.mark.parametrize("bad, error", [
    ([], RuntimeError), ("w", RuntimeError), ([mg.ones(2)], RuntimeError), ([1.0], TypeError),
])
def test_inputs_that_cannot_get_a_gradient_are_refused_before_the_pass(bad, error):
    x, w, _, _, loss = graph(mg)
    with pytest.raises(error, match="backward: inputs.*Fix"):
        loss.backward(inputs=bad)
    assert x.grad is None and w.grad is None
    loss.backward(inputs=[w])  # nothing was freed by the refused call
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])
