"""`backward()` frees the graph by default, as PyTorch's does (``retain_graph=False`` says
the same): each processed node drops what its op saved and its links to its parents, and
intermediate results only the graph holds lose their data before the pass
(`minigrad.versions.release_unheld_data`). The gradients are bit for bit those of
``retain_graph=True``, which keeps the graph, and every later use of a freed graph refuses
clearly. (Who keeps a node's data is tested in test_release_unheld_data.py.)"""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, versions
from minigrad.nn import functional as F
from minigrad.viz import GradientFlowRecorder


@pytest.fixture(autouse=True)
def release_every_size(monkeypatch):
    """Release arrays of any size, so that these small graphs test the release too (by
    default arrays under `versions.SMALLEST_RELEASED_BYTES` keep their data)."""
    monkeypatch.setattr(versions, "SMALLEST_RELEASED_BYTES", 0)

def _mlp(seed: int = 0) -> nn.Module:
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(),
                         nn.Linear(16, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 3))


def _cnn(seed: int = 0) -> nn.Module:
    mg.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Flatten(), nn.Linear(4 * 2 * 2, 3))


@pytest.mark.parametrize("make, shape", [(_mlp, (8, 6)), (_cnn, (5, 2, 8, 8))],
                         ids=["mlp-bn", "cnn"])
def test_gradients_are_bit_for_bit_those_of_the_default(make, shape):
    rng = np.random.default_rng(1)
    x_data = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, 3, shape[0])
    grads = {}
    for retain_graph in (True, None, False):
        model = make()
        x = mg.tensor(x_data, requires_grad=True)
        for _ in range(2):  # two steps: the second adds into existing .grad
            loss = F.cross_entropy(model(x), y)
            loss.backward(retain_graph=retain_graph)
        grads[retain_graph] = [p.grad for p in model.parameters()] + [x.grad]
    for freeing in (grads[None], grads[False]):
        for kept, freed in zip(grads[True], freeing, strict=True):
            assert freed.dtype == kept.dtype
            np.testing.assert_array_equal(freed, kept)


def _freed_chain():
    x = mg.tensor([[1.0, 2.0], [3.0, -1.0]], requires_grad=True)
    h = (x * 2).exp()
    kept = h.data.copy()
    loss = (h * 3).sum()
    loss.backward()
    return x, h, kept, loss


def test_a_freed_node_keeps_its_data_and_still_says_which_op_made_it():
    x, h, kept, loss = _freed_chain()
    np.testing.assert_array_equal(h.data, kept)  # the user's tensor keeps its data
    assert not h.is_leaf and h.requires_grad and h.op_name == "exp"
    assert "grad_fn=<ExpBackward>" in repr(h)  # the op's own name, not the stand-in's
    assert "grad_fn=<SumBackward>" in repr(loss)
    np.testing.assert_allclose(x.grad, 6 * np.exp(2 * x.data), rtol=1e-6)


def test_a_second_backward_through_a_freed_graph_raises_from_any_tensor():
    x, h, _, loss = _freed_chain()
    first, seed = x.grad.copy(), loss.grad.copy()
    freed = r"a second time.*freed.*Fix: call the first backward\(retain_graph=True\)"
    with pytest.raises(RuntimeError, match=freed):
        loss.backward()  # the root keeps its own op, which refuses
    np.testing.assert_array_equal(loss.grad, seed)  # refused before anything was added
    with pytest.raises(RuntimeError, match=freed):
        h.backward(np.ones(h.shape))  # an intermediate the user held: not taken for a leaf
    with pytest.raises(RuntimeError, match=freed):
        (h * h).sum().backward()  # a new graph built on a freed node
    h.data += 1  # an in-place edit of a freed node's output: still the same clear error
    with pytest.raises(RuntimeError, match=freed):
        h.backward(np.ones(h.shape))
    np.testing.assert_array_equal(x.grad, first)  # nothing silently added to the leaf


def test_intermediates_are_freed_during_the_pass():
    # When the input's hook runs, every other node has been processed: none that the user
    # does not hold may still be alive (the order, `pending` and the links let them go).
    # The root keeps its links, so its parents stay alive with it.
    model = _mlp()
    x = mg.randn(8, 6, requires_grad=True)
    gc.collect()
    gc.disable()  # reference counting alone must free them
    try:
        hidden = model[0](x)
        out = model[1:](hidden)
        loss = out.sum()
        nodes, stack = [], [out]
        while stack:
            node = stack.pop()
            if node._parents and node is not hidden:
                nodes.append(weakref.ref(node))
            stack.extend(p for p in node._parents if p._parents)
        alive_at_hook = []
        x.register_hook(lambda grad: alive_at_hook.append(
            sum(ref() is not None for ref in nodes)))
        del node, stack
        loss.backward()
        assert len(nodes) > 5
        assert alive_at_hook == [1]  # `out`, the root's parent, held by the root
        assert hidden.data.shape == (8, 16)  # held by the user: kept
    finally:
        gc.enable()


def test_the_visualiser_and_the_recorder_refuse_a_freed_graph():
    model = _mlp()
    x = mg.randn(8, 6)
    loss = model(x).sum()
    loss.backward()
    message = (r"this graph was freed by backward\(\).*"
               r"Fix: call loss.backward\(retain_graph=True\)")
    with pytest.raises(RuntimeError, match="draw_graph: " + message):
        mg.viz.draw_graph(loss)
    with pytest.raises(RuntimeError, match="explore: " + message):
        mg.viz.explore(loss)
    recorder = GradientFlowRecorder(model)
    # (the recorder's own message says which pass it missed, then the same fix)
    with pytest.raises(RuntimeError, match=r"GradientFlowRecorder.record: this graph was freed "
                       r"by backward\(\).*call loss.backward\(retain_graph=True\)"):
        recorder.record(loss)
    loss = model(x).sum()
    loss.backward(retain_graph=True)  # the graph is kept: both work again
    assert "digraph" in mg.viz.draw_graph(loss).source
    recorder.record(loss)


def test_value_backward_ignores_retain_graph():
    a, b = mg.Value(2.0), mg.Value(-3.0)
    out = a * b + a
    out.backward(retain_graph=False)
    out.backward(retain_graph=False)  # the scalar graph is always kept
    assert (a.grad, b.grad) == (2 * (-3.0 + 1.0), 2 * 2.0)


def _traced_backward_peak(model, x, y, retain_graph):
    """The traced peak of backward over the memory before the forward pass (the graph's
    data is traced too, so freeing it shows), and the bytes of the graph's computed nodes."""
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        loss = F.cross_entropy(model(x), y)
        graph_bytes, seen, stack = 0, set(), [loss]
        while stack:  # the computed nodes' data, the arrays the freeing pass can let go
            node = stack.pop()
            if node._parents and id(node) not in seen:
                seen.add(id(node))
                graph_bytes += node.data.nbytes
                stack.extend(node._parents)
        del node, stack
        tracemalloc.reset_peak()
        loss.backward(retain_graph=retain_graph)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    return peak, graph_bytes


def test_freeing_lowers_the_traced_peak_of_backward_by_most_of_the_graphs_data():
    # An MLP whose gradients are as large as its graph's data. With retain_graph=True the
    # end of backward holds the whole graph's data and every gradient. Freeing (the
    # default) releases each node's data once its backward has run, or before the pass when
    # nobody but the graph holds it: when the last gradients are made, only the layer in
    # progress is left of the graph, so the peak drops by nearly all of the graph's data
    # (~97% measured; three quarters asked).
    # Deterministic: tracemalloc counts the arrays allocated, not time.
    mg.manual_seed(0)
    layers = []
    for _ in range(6):
        layers += [nn.Linear(256, 256), nn.BatchNorm1d(256), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(256, 10))
    x = mg.randn(64, 256)
    y = np.arange(64) % 10
    peaks = {}
    for retain_graph in (True, None, False):
        model.zero_grad()
        gc.collect()
        peaks[retain_graph], graph_bytes = _traced_backward_peak(model, x, y, retain_graph)
    # 6 x 3 activations of 64 x 256 float32 (64 KiB each) and the logits, ~1.1 MiB
    assert graph_bytes > 18 * 64 * 1024
    assert peaks[True] > graph_bytes  # a kept graph: its whole data is in the peak
    for freeing in (None, False):
        assert peaks[freeing] <= peaks[True] - 0.75 * graph_bytes, (peaks, graph_bytes)
