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


def branches(library):
    """Two branches joined in one loss, with hooks on both and on the second's leaf."""
    a = library.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = library.tensor(np.array([3.0, 4.0]), requires_grad=True)
    first, second = a * 2, b.exp()
    fired = []
    for tensor, label in ((first, "first"), (second, "second"), (b, "b")):
        tensor.register_hook(lambda grad, label=label: fired.append(label))
    return a, b, first, second, (first + second).sum(), fired


def test_only_nodes_on_a_path_to_an_input_are_visited_as_in_pytorch():
    seen = []
    for library in (mg, torch):
        a, b, _, _, loss, fired = branches(library)
        loss.backward(inputs=[a])
        seen.append((fired, grads([a, b])))
    assert seen[0] == seen[1] == (["first"], [[2.0, 2.0], None])


def test_retained_gradients_on_the_way_to_an_input_are_stored_as_in_pytorch():
    seen = []
    for library in (mg, torch):
        a = library.tensor(np.array([1.0, 2.0]), requires_grad=True)
        h = a * 2
        h.retain_grad()
        k = h * 3
        k.retain_grad()
        below = a * 5  # retained, but not on a path from the loss to a
        below.retain_grad()
        loss = (k * k).sum() + (below * 0).sum()
        loss.retain_grad()
        loss.backward(inputs=[h])  # a lies below h: not an input, so nothing past h runs
        seen.append(grads([h, k, loss, a]) + [None if below.grad is None else "below"])
    assert seen[0] == seen[1]
    assert seen[0][0] == [36.0, 72.0] and seen[0][2] == 1.0


def test_inputs_may_be_any_iterable_of_tensors_as_in_pytorch():
    x, w, _, _, loss = graph(mg)
    loss.backward(inputs=(t for t in [x, w]))  # a generator, like model.parameters()
    np.testing.assert_array_equal(x.grad, [6.0, -2.0])
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])
    x, w, _, _, loss = graph(mg)
    with pytest.raises(RuntimeError, match="non-empty.*Fix"):
        loss.backward(inputs=iter([]))


def test_a_freeing_pass_with_inputs_frees_what_it_visited_and_leaves_the_rest_usable():
    a, b, first, second, loss, fired = branches(mg)
    big = mg.ones(64, 64, requires_grad=True)
    held = (big * 3).sum(dim=0)  # a large result the user holds, on the unvisited branch
    total = loss + held.sum()
    total.backward(inputs=[a])
    np.testing.assert_array_equal(held.data, np.full(64, 192.0))  # kept its data
    with pytest.raises(RuntimeError, match="a second time.*Fix"):
        total.backward()  # the root's backward ran: refused, as in PyTorch
    second.sum().backward()  # the branch not visited is intact (PyTorch: usable too)
    np.testing.assert_allclose(b.grad, np.exp([3.0, 4.0]))
    held.sum().backward()
    np.testing.assert_array_equal(big.grad, np.full((64, 64), 3.0))


def test_inputs_below_a_node_freed_by_an_earlier_pass_are_refused_with_the_fix():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    h = a * 2
    (h * 3).sum().backward()
    with pytest.raises(RuntimeError, match="a second time.*Fix"):
        (h * 4).sum().backward(inputs=[a])
