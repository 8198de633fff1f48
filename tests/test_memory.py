"""Memory of a training step: what backward keeps, what it frees, what it never copies."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def peak_during(fn):
    """Peak traced bytes (NumPy reports its buffers to tracemalloc) above those at the start."""
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


def test_a_leaf_adopts_a_fresh_gradient_instead_of_copying_it():
    weight = mg.tensor(np.ones((500, 500)), requires_grad=True)  # 2 MB of float64
    x = mg.tensor(np.ones((4, 500)))
    loss = mg.ops.linear(x, weight).sum()
    peak = peak_during(loss.backward)
    # Linear's backward makes one (500, 500) array; a copy into .grad would double it.
    assert peak < 1.5 * weight.data.nbytes
    assert weight.grad.flags.writeable and weight.grad.flags.owndata


def test_gradients_shared_between_parents_are_still_copied():
    a = mg.tensor(np.ones(3), requires_grad=True)
    b = mg.tensor(np.ones(3), requires_grad=True)
    h = a * 2
    (h + b).sum().backward()  # add hands one array to both parents
    c = mg.tensor(np.ones(3), requires_grad=True)
    d = mg.tensor(np.ones(3), requires_grad=True)
    stash = []
    total = c + d
    total.register_hook(stash.append)  # a hook may keep the array it was given
    total.sum().backward()
    assert not np.shares_memory(c.grad, d.grad) and not np.shares_memory(c.grad, stash[0])
    assert not np.shares_memory(d.grad, stash[0])
    c.grad *= 10
    np.testing.assert_array_equal(d.grad, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(stash[0], [1.0, 1.0, 1.0])


def test_a_training_step_keeps_only_the_parameter_gradients():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))
    x = mg.randn(256, 64)
    out = model(x)
    loss = out.sum()
    loss.backward()
    assert out.grad is None  # an intermediate
    for parameter in model.parameters():
        assert parameter.grad is not None and parameter.grad.shape == parameter.shape
    # Everything the graph holds besides the parameters' gradients: the nodes' data and what
    # the ops saved. No node below the root holds a gradient.
    node, stack, seen = None, [loss], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node._parents and node is not loss:
            assert node.grad is None
        stack.extend(node._parents)


def live_tensors():
    return sum(issubclass(type(obj), mg.Tensor) for obj in gc.get_objects())


def test_backward_hooks_leave_no_reference_cycle():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    calls = []
    for layer in model:
        layer.register_full_backward_hook(lambda module, grad_in, grad_out: calls.append(1))
    x = mg.randn(16, 4, requires_grad=True)
    gc.collect()
    gc.disable()  # everything must be freed by reference counting alone
    try:
        def step():
            out = model(x)
            loss = out.sum()
            loss.backward()
            return weakref.ref(out)

        step()
        before = live_tensors()
        refs = [step() for _ in range(50)]
        after = live_tensors()
    finally:
        gc.enable()
    assert len(calls) == 51 * 3  # the hooks did run
    assert all(ref() is None for ref in refs)  # each step's graph was freed
    assert after <= before


@pytest.mark.parametrize("retain_graph", [None, False])  # the default, and False said aloud
def test_backward_frees_what_the_ops_saved_and_a_second_pass_names_the_fix(retain_graph):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    x = mg.randn(16, 4)
    model(x).sum().backward(retain_graph=True)
    expected = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    out = model(x)
    loss = out.sum()
    ops = []
    node, stack = None, [loss]
    while stack:
        node = stack.pop()
        if node._op is not None:
            ops.append(weakref.ref(node._op))
        stack.extend(node._parents)
    del node, stack
    loss.backward(retain_graph=retain_graph)
    for got, want in zip((p.grad for p in model.parameters()), expected):
        np.testing.assert_array_equal(got, want)
    assert ops and all(ref() is None for ref in ops)  # every op and what it saved: freed
    assert out.op_name == "linear"  # the names stay, for the visualiser
    with pytest.raises(RuntimeError, match=r"second time.*Fix: call the first "
                                           r"backward\(retain_graph=True\)"):
        loss.backward()
    loss = model(x).sum()
    loss.backward(retain_graph=True)
    loss.backward()  # kept: a second pass works


def held_after(fn):
    """Traced bytes still allocated after `fn()` (whose result is kept), and the result."""
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        result = fn()
        return tracemalloc.get_traced_memory()[0] - start, result
    finally:
        tracemalloc.stop()


def test_relu_keeps_its_output_and_no_mask_for_backward():
    x = mg.tensor(np.random.default_rng(0).standard_normal((256, 1024)).astype(np.float32),
                  requires_grad=True)
    held, out = held_after(x.relu)
    # The output is the only activation-sized array: backward uses out > 0. A saved x > 0
    # mask would add a quarter of it (bool), for as long as the graph lives.
    assert out.data.nbytes <= held < 1.05 * out.data.nbytes
    out.backward(np.ones_like(out.data))
    np.testing.assert_array_equal(x.grad, (x.data > 0).astype(np.float32))


def graph_data_bytes(root):
    """Bytes of the data of the graph's computed nodes (not the leaves), each array once."""
    from minigrad.viz.walk import walk

    arrays = {id(node.data): node.data.nbytes for node in walk(root)[0] if node._parents}
    return sum(arrays.values())


def test_a_training_step_peaks_at_its_graph_its_gradients_and_one_gradient_in_flight():
    from minigrad.nn import functional as F
    from minigrad.optim.optimizer import BLOCK_SIZE

    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(),
                          nn.Linear(256, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = mg.optim.SGD(model.parameters(), lr=0.01)
    x, y = mg.randn(64, 512), np.arange(64) % 10
    kept = []

    def step(retain_graph=None):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward(retain_graph=retain_graph)
        optimizer.step()
        kept.append(loss)  # with retain_graph=True: keep the graph, to measure it afterwards

    step()
    kept.clear()
    optimizer.zero_grad()
    gc.collect()
    peak_freeing = peak_during(step)  # the default: the graph is freed during backward
    kept.clear()
    optimizer.zero_grad()
    gc.collect()
    peak = peak_during(lambda: step(retain_graph=True))
    gradients = sum(p.grad.nbytes for p in model.parameters())
    activation = 64 * 256 * 4  # one hidden activation, float32
    block = BLOCK_SIZE * 4  # one temporary of the optimiser's blocked update (128 KiB)
    # While the graph is kept, its data and the parameters' gradients are alive together;
    # on top of them only the gradient flowing into the first layer while its weight's
    # gradient is computed (during backward) or one block of the update (during the
    # optimiser's step), and small things. An optimiser temporary as large as the first
    # weight (512 KiB) would exceed this.
    small = 32768  # the nodes and ops themselves, BatchNorm's statistics, the logits, ...
    assert peak <= graph_data_bytes(kept[0]) + gradients + max(activation, block) + small
    # The default frees: each BatchNorm's output goes before backward starts (no backward
    # reads it: the next ReLU keeps its own output), every other node's data and saved
    # arrays as soon as its backward has run. Most of the graph's data is then off the peak
    # (all of it, measured).
    assert peak_freeing <= peak - 0.75 * graph_data_bytes(kept[0]), (peak_freeing, peak)
