"""`versions.release_unheld_data`: before a freeing ``backward()``, an intermediate result
only the graph holds loses its data; one anybody else can reach keeps it; the gradients are
bit for bit those of ``retain_graph=True``, which releases nothing.

How a test sees what was released: a hook on the root runs after the release and before
any node is freed, and walks the graph's own links (which hold no extra reference) to ask
`is_released` of every named node.
"""

import gc
import threading
import tracemalloc
import weakref

import numpy as np
import pytest
from _threads import run_in_threads, switch_threads_often

import minigrad as mg
from minigrad import nn, versions
from minigrad.nn import functional as F
from minigrad.ops.base import Function
from minigrad.versions import is_released


@pytest.fixture(autouse=True)
def release_every_size(monkeypatch):
    """Release arrays of any size: these tests use small ones (by default, arrays under
    `versions.SMALLEST_RELEASED_BYTES` keep their data; tested at the end)."""
    monkeypatch.setattr(versions, "SMALLEST_RELEASED_BYTES", 0)


def released_at_start(loss):
    """{name: released?} for the named nodes of `loss`'s graph, as the pass starts."""
    seen = {}

    def look(grad):
        stack = [loss]
        while stack:
            node = stack.pop()
            if node.name is not None:
                seen[node.name] = is_released(node)
            stack.extend(node._parents)

    loss.register_hook(look)
    return seen


def chain(x):
    """x -> h = x * 2 -> g = h + 1 -> loss = g.sum(), h and g named: Add and Sum save
    nothing of their inputs, so h's and g's arrays are held by their nodes alone."""
    h = x * 2
    h.name = "h"
    g = h + 1
    g.name = "g"
    return h, g.sum()


def leaf():
    return mg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)


# -- who keeps a node's data ----------------------------------------------------------------


def test_a_node_only_the_graph_holds_is_released_and_its_memory_goes():
    x = mg.tensor(np.ones((512, 512), np.float32), requires_grad=True)  # 1 MiB
    at_hook = {}
    for retain_graph in (True, None):
        gc.collect()
        tracemalloc.start()  # NumPy reports its buffers to tracemalloc
        try:
            start = tracemalloc.get_traced_memory()[0]
            x.grad = None
            loss = chain(x)[1]
            seen = released_at_start(loss)
            loss.register_hook(lambda grad, r=retain_graph, s=start: at_hook.__setitem__(
                r, tracemalloc.get_traced_memory()[0] - s))
            loss.backward(retain_graph=retain_graph)
        finally:
            tracemalloc.stop()
        assert seen == {"h": retain_graph is None, "g": retain_graph is None}
    # h's and g's arrays (1 MiB each) were freed before the pass: traced memory is lower
    # by both (the stand-ins take one element per dtype, made once).
    assert at_hook[True] >= 2 * x.data.nbytes
    assert at_hook[None] <= at_hook[True] - 2 * x.data.nbytes + 4096, at_hook
    np.testing.assert_array_equal(x.grad, np.full(x.shape, 2.0))


def test_the_stand_in_has_the_shape_and_dtype_and_no_memory():
    x = leaf()
    h, loss = chain(x)
    versions.release_unheld_data(loss)
    g = loss._parents[0]  # reached through the graph's link only
    assert (g.shape, g.dtype, g.data.strides, g.data.flags.writeable) == (
        (3, 4), x.dtype, (0, 0), False)
    assert is_released(g) and not is_released(h)  # h: held here, by `h`
    np.testing.assert_array_equal(h.data, 2 * x.data)
    with pytest.raises(ValueError):
        g.data.flags.writeable = True  # shared by every stand-in of its dtype: never


def held_in(kind, h):
    """A way for the user to hold `h` (or something that reaches it), returned to keep."""
    if kind == "variable":
        return h
    if kind == "list":
        return [h]
    if kind == "dict":
        return {"h": h}
    if kind == "hook closure":  # a hook on another tensor that reads h
        def read_h(grad):
            assert h.data.shape == grad.shape
        return read_h
    if kind == "view":
        return h.reshape(12)
    if kind == "slice":
        return h[1:]
    if kind == "detach":
        return h.detach()
    if kind == "another graph":
        return (h * 3).sum()
    raise ValueError(kind)


HOLDERS = ["variable", "list", "dict", "hook closure", "view", "slice", "detach",
           "another graph"]


@pytest.mark.parametrize("kind", HOLDERS)
def test_a_node_the_user_can_reach_keeps_its_data(kind):
    x = leaf()
    h, loss = chain(x)
    kept = held_in(kind, h)
    if kind == "hook closure":
        x.register_hook(kept)
    reach = weakref.ref(h)
    del h
    seen = released_at_start(loss)
    loss.backward()
    assert seen["h"] is False
    # What the user reads: h itself (alive through the holder), or the array a detached
    # copy shares with it.
    held = kept if kind == "detach" else reach()
    np.testing.assert_array_equal(held.data.reshape(3, 4), 2 * x.data)


def test_a_retained_gradient_and_its_node_keep_their_data():
    x = leaf()
    h, loss = chain(x)
    h.retain_grad()
    loss.backward()
    np.testing.assert_array_equal(h.data, 2 * x.data)
    np.testing.assert_array_equal(h.grad, np.ones((3, 4)))


def test_a_node_held_only_by_a_weak_reference_keeps_its_data():
    # A weak reference adds nothing to the reference count; the root keeps its parents
    # after the pass, so g is still alive: it was read back as zeros.
    x = leaf()
    loss = chain(x)[1]
    g = weakref.ref(loss._parents[0])
    loss.backward()
    np.testing.assert_array_equal(g().data, 2 * x.data + 1)


def test_whichever_node_is_held_keeps_its_data_and_only_that_one():
    # The count of "no link" is measured on the first key of the walk's dict: a held node
    # at any place in that dict must be told apart from one the graph alone holds.
    depth = 8
    for held in range(depth):
        x = leaf()
        nodes = [x * 2]
        for _ in range(depth - 1):
            nodes.append(nodes[-1] + 1)
        for i, node in enumerate(nodes):
            node.name = str(i)
        loss = nodes[-1].sum()
        kept = nodes[held]
        del nodes, node
        seen = released_at_start(loss)
        loss.backward()
        assert seen == {str(i): i != held for i in range(depth)}, held
        np.testing.assert_array_equal(kept.data, 2 * x.data + held)


def test_a_graph_whose_nodes_are_used_twice_counts_each_link():
    x = leaf()
    h = x * 2
    h.name = "h"
    loss = (h * h + h).sum()  # three links to h
    seen = released_at_start(loss)
    del h
    loss.backward()
    assert seen == {"h": True}
    np.testing.assert_array_equal(x.grad, 8 * x.data + 2)


def test_nothing_is_released_where_reference_counts_are_not_exact(monkeypatch):
    monkeypatch.setattr(versions, "_COUNTS_ARE_EXACT", False)
    loss = chain(leaf())[1]
    seen = released_at_start(loss)
    loss.backward()
    assert seen == {"h": False, "g": False}


def test_an_observed_pass_releases_nothing():
    from minigrad.observers import observe_next_backward

    loss = chain(leaf())[1]
    seen = []
    observe_next_backward(lambda node, grad: seen.append(is_released(node)))
    loss.backward()
    assert len(seen) == 4 and not any(seen)


# -- nodes the pass does not reach ----------------------------------------------------------


class FirstInputOnly(Function):
    """A user's op whose backward gives no gradient to its second input."""

    def forward(self, a, b):
        self.shape = a.shape
        return np.asarray(a.sum() + 0 * b.sum())

    def backward(self, grad_output):
        return np.broadcast_to(grad_output, self.shape), None


def test_a_released_node_no_gradient_reaches_is_freed_not_drawn_as_zeros():
    x = leaf()
    h, _ = chain(x)
    loss = FirstInputOnly.apply(x, h + 0)  # h + 0: released, and never reached
    loss.backward()
    np.testing.assert_array_equal(x.grad, np.ones((3, 4)))
    with pytest.raises(RuntimeError, match=r"draw_graph: this graph was freed"):
        mg.viz.draw_graph(loss)  # it drew the released node's values as zeros
    np.testing.assert_array_equal(h.data, 2 * x.data)  # held: kept, and so is its graph
    loss = FirstInputOnly.apply(x, h + 0)
    loss.backward(retain_graph=True)
    assert "digraph" in mg.viz.draw_graph(loss).source


def test_a_pass_stopped_by_detect_anomaly_frees_what_it_released():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    below = x * 2  # released: nobody holds it
    held = below - 2  # [0, 2, 4], held by the user
    del below
    loss = held.sqrt().sum()  # sqrt's backward divides by sqrt(0): Inf
    with mg.detect_anomaly(), np.errstate(divide="ignore"), \
            pytest.raises(mg.autograd.AnomalyError, match="sqrt"):
        loss.backward()
    np.testing.assert_array_equal(held.data, [0.0, 2.0, 4.0])
    # The pass stopped above `held`: the node below it was released and never processed.
    # Freed now, drawing refuses (it drew that node's values as zeros).
    with pytest.raises(RuntimeError, match=r"draw_graph: this graph was freed"):
        mg.viz.draw_graph(held)
    assert x.grad is None


def test_a_kept_pass_stopped_by_an_error_leaves_its_graph_drawable():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    held = x * 2 - 2
    loss = held.sqrt().sum()
    with mg.detect_anomaly(), np.errstate(divide="ignore"), \
            pytest.raises(mg.autograd.AnomalyError, match="sqrt"):
        loss.backward(retain_graph=True)
    assert "digraph" in mg.viz.draw_graph(held).source  # retain_graph=True: all kept


# -- the gradients are those of a kept graph --------------------------------------------------


def _zoo(x):
    """Ops whose backward reads their own output (relu, exp, tanh, sigmoid, softmax,
    log_softmax, sqrt, max pooling, max), ops whose result is a view (reshape, transpose,
    permute, slicing, flatten, squeeze, unsqueeze, broadcast_to), and a few losses."""
    a = x.reshape(2, 3, 4, 4).relu()
    b = F.max_pool2d(a, 2).permute(0, 2, 3, 1)  # (2, 2, 2, 3)
    c = b.flatten(1).transpose(0, 1)[2:].T  # (2, 10): view of view of view
    d = c.exp().tanh() + c.sigmoid() * (c * c + 1).sqrt()
    e = d.unsqueeze(0).squeeze(0).softmax(-1) + d.log_softmax(-1)
    f = e.broadcast_to((3, 2, 10)).amax(0) * 0.5 + e.amax(-1, keepdims=True)
    return (F.cross_entropy(f, np.array([1, 7])) + F.mse_loss(f, np.zeros((2, 10), np.float32))
            + F.binary_cross_entropy(f.sigmoid(), np.ones((2, 10), np.float32)))


def _mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 16),
                         nn.LayerNorm(16), nn.Tanh(), nn.Linear(16, 8), nn.Sigmoid(),
                         nn.Linear(8, 3))


def _cnn():
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 4, 3), nn.GroupNorm(2, 4), nn.GELU(),
                         nn.AvgPool2d(1), nn.Flatten(), nn.Linear(4 * 2 * 2, 3))


def _composed_bn():
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8, implementation="composed"),
                         nn.LeakyReLU(0.1), nn.Linear(8, 3))


MODELS = {"mlp": (_mlp, (8, 6)), "cnn": (_cnn, (5, 2, 8, 8)),
          "composed-bn": (_composed_bn, (8, 6))}
LOSSES = {"cross_entropy": lambda out, y: F.cross_entropy(out, y),
          "nll": lambda out, y: F.nll_loss(out.log_softmax(-1), y),
          "mse": lambda out, y: F.mse_loss(out.softmax(-1), F.one_hot(mg.tensor(y), 3).float()),
          "bce_logits": lambda out, y: F.binary_cross_entropy_with_logits(
              out, F.one_hot(mg.tensor(y), 3).float())}


def gradients(make_loss, retain_graph, steps=2):
    """`.grad` of every parameter (and of the input) after `steps` passes of a fresh model."""
    mg.manual_seed(0)
    model, x, loss_of = make_loss()
    for _ in range(steps):  # the second pass adds into the existing .grad
        loss_of(model, x).backward(retain_graph=retain_graph)
    return [p.grad for p in model.parameters()] + [x.grad]


def assert_same_gradients(make_loss):
    kept = gradients(make_loss, True)
    for freeing in (None, False):
        for want, got in zip(kept, gradients(make_loss, freeing), strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("loss", LOSSES)
def test_gradients_are_bit_for_bit_those_of_a_kept_graph(model, loss):
    make, shape = MODELS[model]
    rng = np.random.default_rng(1)
    data, y = rng.standard_normal(shape).astype(np.float32), rng.integers(0, 3, shape[0])

    def make_loss():
        return make(), mg.tensor(data, requires_grad=True), \
            lambda net, x: LOSSES[loss](net(x), y)

    assert_same_gradients(make_loss)


def test_gradients_through_ops_that_read_their_output_or_return_views():
    data = np.random.default_rng(2).standard_normal((96,)).astype(np.float32)

    def make_loss():
        weight = nn.Parameter(np.linspace(-1, 1, 96, dtype=np.float32))
        model = nn.Module()
        model.weight = weight
        return model, mg.tensor(data, requires_grad=True), lambda net, x: _zoo(x * net.weight)

    assert_same_gradients(make_loss)


def test_gradients_with_hooks_held_intermediates_and_anomaly_mode():
    data = np.random.default_rng(3).standard_normal((8, 6)).astype(np.float32)
    y = np.arange(8) % 3
    seen = []

    def make_loss():
        model = _mlp()
        for layer in model:
            layer.register_full_backward_hook(
                lambda module, grad_in, grad_out: seen.append(grad_out[0].sum()))

        def halve_its_gradient(module, inputs, output):
            output.register_hook(lambda grad: grad * 0.5)  # replaces the gradient

        model[3].register_forward_hook(halve_its_gradient)
        held = []

        def loss_of(net, x):
            hidden = net[:3](x)
            held.append(hidden)  # the user keeps every step's hidden activation
            return F.cross_entropy(net[3:](hidden), y)

        return model, mg.tensor(data, requires_grad=True), loss_of

    kept = gradients(make_loss, True)
    hooks_kept, seen[:] = list(seen), []
    with mg.detect_anomaly():
        freed = gradients(make_loss, None)
    for want, got in zip(kept, freed, strict=True):
        np.testing.assert_array_equal(got, want)
    assert seen == hooks_kept


# -- threads -------------------------------------------------------------------------------


def test_threads_running_freeing_passes_at_once_get_the_gradients_of_a_kept_graph():
    rng = np.random.default_rng(4)
    batches = rng.standard_normal((4, 3, 8, 6)).astype(np.float32)
    y = np.arange(8) % 3

    def fresh_model():
        mg.manual_seed(0)  # before the threads start: the generator is shared
        return _mlp()

    def run(batch, retain_graph, out, model):
        held = []
        for step in range(3):
            hidden = model[:2](mg.tensor(batch[step]))
            held.append(hidden)  # held: must keep its data whatever the other threads do
            F.cross_entropy(model[2:](hidden), y).backward(retain_graph=retain_graph)
        out.append(([p.grad for p in model.parameters()], [h.data.copy() for h in held],
                    [h.data for h in held]))

    expected = []
    for batch in batches:
        run(batch, True, expected, fresh_model())
    results = [[] for _ in batches]
    models = [fresh_model() for _ in batches]
    with switch_threads_often():
        run_in_threads(*[lambda b=batch, o=out, m=model: run(b, None, o, m)
                         for batch, out, model in zip(batches, results, models)])
    for (want_grads, want_held, _), result in zip(expected, results, strict=True):
        got_grads, _, got_held = result[0]
        for want, got in zip(want_grads + want_held, got_grads + got_held, strict=True):
            np.testing.assert_array_equal(got, want)


def test_a_count_never_interleaves_with_another_threads_freeing_pass(monkeypatch):
    # Two graphs share `c`; the user holds `p`, below it. Thread A's pass through graph A
    # cuts c's link to p while the main thread counts graph B's references: p, one link
    # fewer and one holder (the user), counted as held by the graph alone, lost its data.
    x = leaf()
    p = x * 2
    c = p + 1
    loss_a, loss_b = c.sum(), (c * 3).sum()
    del c
    other = threading.Thread(target=lambda: _backward_ignoring_refusal(loss_a))
    count_references = versions._uses_in_graph

    def while_counting(root):
        uses = count_references(root)
        if not other.is_alive() and other.ident is None:
            other.start()  # thread A frees graph A now, unless the count holds it off
            other.join(timeout=0.5)
        return uses

    monkeypatch.setattr(versions, "_uses_in_graph", while_counting)
    _backward_ignoring_refusal(loss_b)
    other.join()
    np.testing.assert_array_equal(p.data, 2 * x.data)


def _backward_ignoring_refusal(loss):
    try:  # whichever pass reaches the shared node second is refused: that is fine here
        loss.backward()
    except RuntimeError as error:
        assert "a second time" in str(error)


def test_by_default_only_arrays_of_a_page_or_more_are_released(monkeypatch):
    # (the fixture above released every size: put the default back)
    monkeypatch.setattr(versions, "SMALLEST_RELEASED_BYTES", 4096)
    x = mg.tensor(np.ones((4, 256), np.float32), requires_grad=True)  # 4 KiB: released
    big = x * 2
    big.name = "big"
    small = big.sum(axis=1) * 3  # 16 bytes: kept
    small.name = "small"
    loss = small.sum()
    del big, small
    seen = released_at_start(loss)
    loss.backward()
    assert seen == {"big": True, "small": False}
    np.testing.assert_array_equal(x.grad, np.full(x.shape, 6.0))


def test_nodes_sharing_one_tuple_of_parents_count_it_once():
    # copy.copy of a node shares its tuple of parents: one reference to h, not two. Counted
    # twice, the user's own reference made up the difference and h's data went (review).
    import copy

    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    h = (x * 3).exp()
    y = h * 2
    y2 = copy.copy(y)
    assert y2._parents is y._parents
    (y.sum() + y2.sum()).backward()
    assert not is_released(h)
    np.testing.assert_allclose(h.data, np.full((2, 3), np.exp(3.0)))
    np.testing.assert_allclose(x.grad, np.full((2, 3), 12 * np.exp(3.0)), rtol=1e-6)


def test_a_node_a_stopped_pass_released_refuses_without_saying_second_time():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    held = x * 2 - 2  # held; x * 2 (mul) only by the graph: released before the pass
    loss = held.sqrt().sum()
    with mg.detect_anomaly(), np.errstate(divide="ignore"), \
            pytest.raises(mg.autograd.AnomalyError):
        loss.backward()  # sqrt's backward at 0: the pass stops there, before mul
    np.testing.assert_array_equal(held.data, [0.0, 2.0, 4.0])  # held: kept
    with pytest.raises(RuntimeError, match=r"cannot backpropagate through 'mul': an earlier "
                       r"backward\(\) that stopped before reaching it.*Fix: run the forward "
                       r"pass again, or call that backward with retain_graph=True") as error:
        (held * 1).sum().backward()
    assert "second time" not in str(error.value)


class _SecondOnly(Function):
    """Sends no gradient to its first input."""

    def forward(self, a, b):
        return b * 1.0

    def backward(self, grad_output):
        return None, grad_output


def test_a_pass_that_fails_after_an_op_sent_no_gradient_frees_what_it_released():
    # W is released (only the graph holds it), but no gradient reaches it in this pass,
    # which then fails at a hook: left linked, W would be drawn as zeros in `other`'s graph.
    x = mg.tensor(np.ones(2048, np.float32), requires_grad=True)
    w = x * 1.0
    u = w * 2.0
    del w
    other = u.sum()  # a graph the user holds, through u down to W
    v = x * 3.0

    def boom(grad):
        raise RuntimeError("boom")

    v.register_hook(boom)
    loss = _SecondOnly.apply(u, v).sum()
    with pytest.raises(RuntimeError, match="boom"):
        loss.backward()
    with pytest.raises(RuntimeError, match="freed by backward"):
        mg.viz.draw_graph(other)
    with pytest.raises(RuntimeError, match="stopped before reaching it"):
        other.backward()


@pytest.mark.parametrize("copy_graph", [
    lambda loss: __import__("copy").deepcopy(loss),
    lambda loss: __import__("pickle").loads(__import__("pickle").dumps(loss)),
], ids=["deepcopy", "pickle"])
def test_a_copied_freed_graph_is_refused_like_the_original(copy_graph):
    x = mg.tensor(np.ones((64, 32), np.float32), requires_grad=True)
    w = mg.tensor(np.full((32, 32), 0.5, np.float32), requires_grad=True)
    h = (x @ w).relu()
    loss = (h * 3).sum()
    del h
    loss.backward()
    copied = copy_graph(loss)
    assert copied._parents[0]._parents is versions.FREED_GRAPH
    with pytest.raises(RuntimeError, match="freed by backward"):
        mg.viz.draw_graph(copied)


def test_a_graph_freed_by_another_loss_says_so():
    x = mg.tensor(np.linspace(0.1, 1, 1024).astype(np.float32), requires_grad=True)
    trunk = (x * 2).tanh()
    loss1, loss2 = (trunk * 3).sum(), (trunk * 5).sum()
    del trunk
    loss1.backward(retain_graph=True)
    loss2.backward()  # frees the shared trunk
    with pytest.raises(RuntimeError, match="another backward\\(\\) through a part this graph "
                                           "shares"):
        mg.viz.draw_graph(loss1)
    with pytest.raises(RuntimeError, match="the first backward may have been that loss's"):
        loss1.backward()
