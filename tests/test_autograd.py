"""The engine: topological order, deep graphs, freeing, the gradient policy, hooks, grad
mode, anomaly mode and the errors of backward."""

import gc
import inspect
import re
import weakref

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import minigrad as mg
from minigrad import autograd

# -- topological order on random DAGs ------------------------------------------------------


@st.composite
def random_dags(draw):
    """A recipe for a DAG: each new node combines one or two earlier nodes with + or *."""
    n_leaves = draw(st.integers(1, 4))
    steps = []
    for i in range(draw(st.integers(1, 25))):
        available = n_leaves + i
        parents = draw(st.lists(st.integers(0, available - 1), min_size=1, max_size=2))
        steps.append((draw(st.sampled_from("+*t")), parents))
    return n_leaves, steps


def build(leaves, steps, constant):
    """Evaluate a recipe; returns every node (leaves first) and the root (the last node)."""
    nodes = list(leaves)
    for op, parents in steps:
        first, second = nodes[parents[0]], nodes[parents[-1]]
        if op == "+":
            nodes.append(first + second)
        elif op == "*":
            nodes.append(first * second * constant)
        else:
            nodes.append((first - second).tanh())
    return nodes, nodes[-1]


@pytest.mark.parametrize("kind", ["value", "tensor"])
@given(recipe=random_dags(), seed=st.integers(0, 2**32 - 1))
def test_topological_order_puts_every_node_after_its_consumers(kind, recipe, seed):
    n_leaves, steps = recipe
    data = np.random.default_rng(seed).uniform(-1, 1, size=n_leaves)
    if kind == "value":
        leaves = [mg.Value(x) for x in data]
    else:
        leaves = [mg.tensor(np.full(2, x), requires_grad=True) for x in data]
    nodes, root = build(leaves, steps, 0.5)
    order = autograd.topological_order(root)
    position = {id(node): i for i, node in enumerate(order)}
    assert len(position) == len(order)  # each node once
    # every node reachable from the root is in the order, after all its consumers
    reachable, stack = {id(root)}, [root]
    while stack:
        node = stack.pop()
        for parent in node._parents:
            if not parent.requires_grad:  # constants carry no gradient: not in the order
                continue
            assert position[id(parent)] > position[id(node)]
            if id(parent) not in reachable:
                reachable.add(id(parent))
                stack.append(parent)
    assert reachable == set(position)
    # and backward along it gives the right gradients
    as_sum = (lambda out: out) if kind == "value" else (lambda out: out.sum())
    assert mg.gradcheck(lambda *xs: as_sum(build(xs, steps, 0.5)[1]),
                        [leaf if kind == "value" else leaf.double().detach().requires_grad_()
                         for leaf in leaves])


def test_topological_order_skips_nodes_that_do_not_require_grad():
    x = mg.tensor([1.0], requires_grad=True)
    constant = mg.tensor([2.0]) * 3
    out = x * constant
    assert set(map(id, autograd.topological_order(out))) == {id(out), id(x)}
    out.backward()
    assert constant.grad is None


# -- deep graphs and freeing ---------------------------------------------------------------------

DEPTH = 100_000


def test_value_chain_of_100k_ops_backpropagates():
    x = mg.Value(0.5)
    y = x
    for _ in range(DEPTH):
        y = y + 1.0
    y.backward()  # a recursive topological sort would raise RecursionError here
    assert x.grad == 1.0 and y.data == 0.5 + DEPTH


def test_tensor_chain_of_100k_ops_backpropagates():
    x = mg.tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(DEPTH):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


@pytest.mark.parametrize("kind", ["value", "tensor"])
def test_graph_is_freed_once_the_output_is_dropped(kind):
    # A kept graph (Value's always; a Tensor's with retain_graph=True) lives as long as its
    # output, and no longer.
    gc.disable()  # freeing must come from reference counting alone: no cycles in the graph
    try:
        x = mg.Value(2.0) if kind == "value" else mg.tensor(np.ones(3), requires_grad=True)
        first = x * 2.0  # the intermediate next to the leaf
        first_ref = weakref.ref(first)
        op_ref = weakref.ref(first._op) if kind == "tensor" else None
        out = first
        for _ in range(DEPTH // 10):
            out = out + 1.0
        del first
        if kind == "value":
            out.backward()
        else:
            out.sum().backward(retain_graph=True)
        assert first_ref() is not None  # still held by the graph while out lives
        del out
        assert first_ref() is None
        assert op_ref is None or op_ref() is None
        assert x.grad is not None  # the leaf survives with its gradient
    finally:
        gc.enable()


def test_a_tensor_graph_is_freed_by_backward_while_its_output_lives():
    # The default backward() frees the graph as it goes, as PyTorch's does: `out` is still
    # held, but the intermediates below it and their ops are gone once the pass returns.
    gc.disable()  # freeing must come from reference counting alone
    try:
        x = mg.tensor(np.ones(3), requires_grad=True)
        first = x * 2.0
        first_ref, op_ref = weakref.ref(first), weakref.ref(first._op)
        out = first
        for _ in range(DEPTH // 10):
            out = out + 1.0
        del first
        out.sum().backward()
        assert first_ref() is None and op_ref() is None
        np.testing.assert_array_equal(out.data, np.full(3, 2.0 + DEPTH // 10))  # held: kept
        np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])
        with pytest.raises(RuntimeError, match=r"a second time.*retain_graph=True"):
            out.sum().backward()
    finally:
        gc.enable()


# -- the gradient policy ---------------------------------------------------------------------------


def test_tensor_grad_is_kept_on_leaves_the_root_and_retained_nodes_only():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    kept = h * 3
    kept.retain_grad()
    out = (kept + h).sum()
    out.backward()
    assert h.grad is None  # an intermediate gradient is freed once sent on
    assert kept.retains_grad and not h.retains_grad and x.is_leaf and not h.is_leaf
    np.testing.assert_array_equal(kept.grad, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [8.0, 16.0])  # d/dx (3x^2 + x^2) = 8x
    np.testing.assert_array_equal(out.grad, 1.0)  # the root keeps its seed
    with pytest.raises(RuntimeError, match=r"a second time.*retain_graph=True"):
        out.backward()  # the first pass freed the graph: refused, and nothing was added
    np.testing.assert_array_equal(x.grad, [8.0, 16.0])
    x.zero_grad()
    kept.grad = out.grad = None
    h = x * x
    kept = h * 3
    kept.retain_grad()
    out = (kept + h).sum()
    out.backward(retain_graph=True)
    out.backward()  # the graph was kept: a second pass adds again where .grad is stored
    assert h.grad is None
    np.testing.assert_array_equal(kept.grad, [2.0, 2.0])
    np.testing.assert_array_equal(x.grad, [16.0, 32.0])
    np.testing.assert_array_equal(out.grad, 2.0)
    x.zero_grad()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    with pytest.raises(RuntimeError, match="retain_grad.*does not require grad"):
        mg.tensor([1.0]).retain_grad()


def test_root_keeps_the_seed_it_was_given():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(y.grad, [1.0, 10.0])
    np.testing.assert_array_equal(x.grad, [3.0, 30.0])


def test_retain_grads_keeps_every_intermediate_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    g = h * 3
    out = g.sum()
    with mg.retain_grads():
        assert autograd.retain_grads is mg.retain_grads
        out.backward(retain_graph=True)  # kept for the second pass below
    np.testing.assert_array_equal(g.grad, [1.0, 1.0])
    np.testing.assert_array_equal(h.grad, [3.0, 3.0])
    np.testing.assert_array_equal(x.grad, [6.0, 12.0])
    x.zero_grad()
    out.backward()  # outside the block: the default policy again (h keeps its old .grad)
    np.testing.assert_array_equal(h.grad, [3.0, 3.0])
    np.testing.assert_array_equal(x.grad, [6.0, 12.0])


def test_value_keeps_every_gradient_as_micrograd_does():
    a = mg.Value(2.0)
    h = a * a
    out = h * 3
    out.backward()
    assert (out.grad, h.grad, a.grad) == (1.0, 3.0, 12.0)


def test_an_intermediate_gradient_is_freed_before_backward_moves_on():
    x = mg.tensor(np.ones(4), requires_grad=True)
    a = x * 2
    b = a * 3
    refs = {}
    b.register_hook(lambda grad: refs.__setitem__("b", weakref.ref(grad)))
    # a's gradient is complete only after b's has been used: by then b's must be gone.
    a.register_hook(lambda grad: refs.__setitem__("b alive at a", refs["b"]() is not None))
    b.sum().backward()
    assert refs["b alive at a"] is False
    assert a.grad is None and b.grad is None and x.grad is not None


def test_leaf_grads_are_writeable_and_never_shared():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    seed = np.array([1.0, 1.0], dtype=np.float32)
    (a + b).backward(seed)  # add hands the same array to both parents
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(a.grad, seed)
    a.grad *= 10  # in-place edits (gradient clipping) must be safe
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    c = mg.tensor([[1.0, 2.0]], requires_grad=True)
    c.sum().backward()  # sum's backward is a read-only broadcast view
    assert c.grad.flags.writeable and c.grad.dtype == np.float32
    c.grad[0, 0] = 5.0
    leaf = mg.tensor(2.0, requires_grad=True)
    leaf.backward()  # a leaf that is itself the root owns its gradient too
    assert leaf.grad.flags.writeable and leaf.grad == 1.0


def test_a_leaf_grad_is_not_shared_with_an_older_retained_intermediate():
    # add hands one array to both parents; the leaf `a`, newer than `h`, is visited first
    # and adopts it. `h.retain_grad()` must then keep a copy: editing either gradient in
    # place (gradient clipping) must leave the other alone, as in PyTorch.
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    a = mg.tensor([3.0, 4.0], requires_grad=True)
    ((h + a) * 3).sum().backward()
    assert not np.shares_memory(a.grad, h.grad)
    a.grad *= 0
    np.testing.assert_array_equal(h.grad, [3.0, 3.0])
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


def test_same_input_twice_gets_both_contributions():
    x = mg.tensor([3.0], requires_grad=True)
    (x * x + x).backward()
    np.testing.assert_array_equal(x.grad, [7.0])


# -- hooks -------------------------------------------------------------------------------------


def test_hook_sees_the_gradient_and_can_replace_it():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    seen = []
    h.register_hook(lambda grad: seen.append(grad.copy()))  # returns None: grad unchanged
    remove = h.register_hook(lambda grad: grad * 10)
    h.retain_grad()  # the gradient it keeps is the one the hooks returned
    h.sum().backward(retain_graph=True)  # h's graph is kept for the passes below
    np.testing.assert_array_equal(seen[0], [1.0, 1.0])
    np.testing.assert_array_equal(h.grad, [10.0, 10.0])
    np.testing.assert_array_equal(x.grad, [30.0, 30.0])  # the replaced gradient flows on
    remove()
    remove()  # removing twice is harmless
    x.zero_grad()
    h.grad = None
    h.sum().backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    assert len(seen) == 2
    handle = h.register_hook(lambda grad: grad * 0)
    handle.remove()  # PyTorch's spelling (it raised AttributeError: a plain function)
    h.sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


@pytest.mark.parametrize("leaf", [True, False])
def test_a_hook_returning_another_shape_or_a_tensor_is_refused(leaf):
    # On a leaf the (1,) array was stored as .grad of a (3,) parameter; on an intermediate
    # the error blamed the next op's backward. PyTorch refuses both.
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    node = x if leaf else x * 2
    node.register_hook(lambda grad: grad[:1])
    with pytest.raises(ValueError, match=r"register_hook: .*shape \(3,\).*returned ndarray of "
                                         r"shape \(1,\).*Fix"):
        (node * node).sum().backward()
    assert x.grad is None
    y = mg.tensor([1.0, 2.0], requires_grad=True)
    z = y * 3
    z.register_hook(lambda grad: mg.tensor(grad))  # a Tensor would record a graph
    with pytest.raises(ValueError, match="returned Tensor"):
        z.sum().backward()
    w = mg.tensor(2.0, requires_grad=True)
    h = w * 2
    h.register_hook(lambda grad: grad * 10)  # a 0-d product is a NumPy scalar: accepted
    h.backward()
    assert w.grad == 20.0


def test_hook_on_a_leaf_changes_what_accumulates():
    x = mg.tensor([1.0], requires_grad=True)
    x.register_hook(lambda grad: grad * 0)
    (x * 5).backward()
    np.testing.assert_array_equal(x.grad, [0.0])
    with pytest.raises(RuntimeError, match="register_hook"):
        mg.tensor([1.0]).register_hook(print)


# -- grad mode -----------------------------------------------------------------------------------


def test_no_grad_and_enable_grad():
    x = mg.tensor([1.0], requires_grad=True)
    assert mg.is_grad_enabled()
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2
        assert not y.requires_grad and y._parents == ()
        v = mg.Value(1.0) * 2
        assert v._parents == ()
        with mg.enable_grad():
            assert mg.is_grad_enabled()
            assert (x * 2).requires_grad
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled() and (x * 2).requires_grad


@pytest.mark.parametrize("training", [True, False])
def test_set_grad_enabled_as_pytorch_training_loops_use_it(training):
    x = mg.tensor([1.0], requires_grad=True)
    with mg.set_grad_enabled(training):  # torchvision's fine-tuning loop
        assert mg.is_grad_enabled() is training
        assert (x * 2).requires_grad is training
        with mg.no_grad():
            assert not mg.is_grad_enabled()
        assert mg.is_grad_enabled() is training
    assert mg.is_grad_enabled()
    with mg.no_grad():
        with mg.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not mg.is_grad_enabled()
    try:
        mg.set_grad_enabled(False)  # a plain call switches at once, until switched back
        assert not mg.is_grad_enabled() and not (x * 2).requires_grad
        mg.set_grad_enabled(True)
        assert mg.is_grad_enabled()
    finally:
        mg.set_grad_enabled(True)

    @mg.set_grad_enabled(False)
    def evaluate(t):
        return t * 2

    assert mg.is_grad_enabled()  # decorating leaves the mode as it was, as in PyTorch
    assert not evaluate(x).requires_grad and mg.is_grad_enabled()
    with pytest.raises(TypeError, match="set_grad_enabled: mode must be a bool"):
        mg.set_grad_enabled("no")


def test_grad_mode_is_restored_after_an_exception_and_works_as_decorator():
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            raise ZeroDivisionError
    assert mg.is_grad_enabled()

    @mg.no_grad()
    def evaluate(t):
        return t * 2

    assert not evaluate(mg.tensor([1.0], requires_grad=True)).requires_grad
    assert mg.is_grad_enabled()


def test_module_scope_is_recorded_on_every_new_node():
    x = mg.tensor([1.0], requires_grad=True)
    with autograd.module_scope("", "MLP"):
        with autograd.module_scope("bn1", "BatchNorm1d"):
            y = x * 2
            v = mg.Value(1.0) + 1
    assert y._scope.label() == "bn1 (BatchNorm1d)" and v._scope == y._scope
    assert [s.type_name for s in y._scope.path()] == ["MLP", "BatchNorm1d"]
    assert y._scope.qualified_name() == "bn1"
    assert (x * 2)._scope is None


# -- errors of backward ---------------------------------------------------------------------


def test_backward_on_a_non_scalar_needs_a_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"backward.*\(2,\).*sum"):
        y.backward()
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\).*\(2,\)"):
        y.backward(np.ones(3))
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 20.0])


def test_backward_on_something_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor(1.0).backward()
    x = mg.tensor(1.0, requires_grad=True)
    with mg.no_grad():
        y = x * 2
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


# -- anomaly mode ------------------------------------------------------------------------------


def anomaly_at(fn):
    """Run fn under detect_anomaly; return the error message."""
    with mg.detect_anomaly(), np.errstate(all="ignore"):
        with pytest.raises(mg.AnomalyError) as info:
            fn()
    return str(info.value)


def test_detect_anomaly_names_log_of_zero_and_the_user_line():
    x = mg.tensor([1.0, 0.0], requires_grad=True)
    line = inspect.currentframe().f_lineno + 1
    message = anomaly_at(lambda: mg.log(x))
    assert message.startswith("log:") and "forward" in message
    assert f"test_autograd.py:{line}" in message


def test_detect_anomaly_names_zero_by_zero_division():
    x = mg.tensor([0.0], requires_grad=True)
    message = anomaly_at(lambda: x / x)
    assert message.startswith("div:") and "NaN" in message and "test_autograd.py:" in message


def test_detect_anomaly_in_backward_names_the_op_that_created_the_node():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(all="ignore"):
        line = inspect.currentframe().f_lineno + 1
        y = x.sqrt()  # finite forward; its derivative at 0 is infinite
        with pytest.raises(mg.AnomalyError) as info:
            y.sum().backward()
    message = str(info.value)
    assert message.startswith("sqrt:") and "backward" in message
    assert f"test_autograd.py:{line}" in message


def test_detect_anomaly_for_values():
    assert "Value log" in anomaly_at(lambda: mg.Value(0.0).log())
    assert "Value /" in anomaly_at(lambda: mg.Value(0.0) / 0)
    v = mg.Value(0.0)
    message = anomaly_at(lambda: (v**0.5).backward())  # regression: Value backward was unchecked
    assert "backward" in message and "Value **0.5" in message


def test_without_anomaly_mode_results_are_ieee():
    x = mg.tensor([0.0])
    assert mg.log(x).data[0] == -np.inf
    with np.errstate(all="ignore"):
        assert np.isnan((x / x).data[0])
    assert not autograd.current_state().anomaly


def test_module_scope_restores_the_outer_scope_after_an_error():
    with pytest.raises(KeyError):
        with autograd.module_scope("bn1", "BatchNorm1d"):
            raise KeyError("inside forward")
    assert autograd.current_state().scope is None


def test_detect_anomaly_names_the_module_the_op_ran_in():
    from minigrad import nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(nn.Linear(2, 2))

        def forward(self, x):
            return self.inner(x).log()  # log of negative values: NaN

    model = Encoder()
    x = mg.tensor([[-5.0, -5.0]])
    model.inner[0].weight.data = np.ones((2, 2), np.float32)
    message = anomaly_at(lambda: model(x))
    assert message.startswith("log:") and "in module (root) (Encoder)" in message
    with mg.detect_anomaly(), np.errstate(all="ignore"):
        with pytest.raises(mg.AnomalyError) as info:
            mg.Value(0.0).log()
    assert "outside any module" in str(info.value)


def test_detect_anomaly_explains_an_unknown_creation_line():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with autograd.module_scope("block", "Block"):
        y = x.sqrt()  # built before detect_anomaly(): its line is not recorded
    with mg.detect_anomaly(), np.errstate(all="ignore"):
        with pytest.raises(mg.AnomalyError) as info:
            y.sum().backward()
    message = str(info.value)
    assert message.startswith("sqrt:") and "in module block (Block)" in message
    assert "built before detect_anomaly() was entered" in message
    assert "enter detect_anomaly() before the forward pass" in message
    assert "<unknown>" not in message
    v = mg.Value(0.0)
    root = v**0.5
    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError, match="built before"):
        root.backward()


def test_backward_order_never_compares_nodes_with_equal_creation_numbers():
    # copy.deepcopy keeps a node's creation number: a graph that uses a parameter and its
    # copy has two nodes with one number, which the engine's queue must tell apart by id
    # (comparing two tensors would be elementwise).
    import copy

    w = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    w_copy = copy.deepcopy(w)
    assert w_copy._seq == w._seq
    loss = (w * 3.0 + w_copy * 5.0).sum()
    loss.backward()
    assert np.array_equal(w.grad, [3.0, 3.0]) and np.array_equal(w_copy.grad, [5.0, 5.0])


def test_nodes_are_visited_newest_first_exactly_once_each():
    # The order of topological_order (newest first), without the nodes no gradient reaches.
    from minigrad.observers import observe_next_backward

    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    cut = mg.tensor(np.array([3.0, 4.0]), requires_grad=True)
    a = x * 2.0
    unreached = cut * 5.0  # requires grad, but _ReturnsList sends it None
    b = a * a + _ReturnsList.apply(a, unreached)
    loss = (b + a).sum()
    seen = []
    observe_next_backward(lambda node, grad: seen.append(node))
    loss.backward()
    order = autograd.topological_order(loss)
    assert any(n is unreached for n in order) and any(n is cut for n in order)
    expected = [n for n in order if n is not unreached and n is not cut]
    assert [id(n) for n in seen] == [id(n) for n in expected]
    assert len({id(n) for n in seen}) == len(seen)
    assert unreached.grad is None and cut.grad is None


class _ReturnsList(mg.ops.Function):
    def forward(self, a, b):
        return a * b

    def backward(self, grad_output):
        return [grad_output, None]  # a list, not a tuple


class _ReturnsGenerator(mg.ops.Function):
    def forward(self, a):
        return a + 1.0

    def backward(self, grad_output):
        return (g for g in (grad_output,))


class _ReturnsBroadcastFloat64(mg.ops.Function):
    def forward(self, a):
        return np.broadcast_to(a, (3,) + a.shape).copy()

    def backward(self, grad_output):
        return (grad_output.astype(np.float64),)  # (3, 2): summed to (2,), cast to float32


def test_custom_backward_may_return_a_list_a_generator_or_unfitted_gradients():
    x = mg.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    _ReturnsList.apply(x, mg.tensor(np.array([5.0, 7.0], np.float32))).sum().backward()
    assert np.array_equal(x.grad, [1.0, 1.0])
    x.grad = None
    _ReturnsGenerator.apply(x).sum().backward()
    assert np.array_equal(x.grad, [1.0, 1.0])
    x.grad = None
    _ReturnsBroadcastFloat64.apply(x).sum().backward()
    assert x.grad.dtype == np.float32 and np.array_equal(x.grad, [3.0, 3.0])


class _ReturnsShape(mg.ops.Function):
    """Identity whose backward returns a gradient of the shape it is told (a buggy op)."""

    def forward(self, x, *, shape):
        self.shape = shape
        return x.copy()

    def backward(self, grad_output):
        return (np.ones(self.shape),)


@pytest.mark.parametrize("input_shape, grad_shape", [((2,), (3,)), ((1, 3), (3,)),
                                                     ((3, 1), (3,)), ((2, 3), (4, 3))])
def test_a_gradient_no_broadcast_explains_is_refused_naming_the_op(input_shape, grad_shape):
    # Regression: a (3,) gradient for a (2,) input was stored as x.grad of shape (3,);
    # (3,) for a (3, 1) input failed inside the un-broadcasting with an IndexError.
    x = mg.tensor(np.ones(input_shape), requires_grad=True)
    y = _ReturnsShape.apply(x, shape=grad_shape)
    expected = f"_returnsshape: backward returned a gradient of shape {grad_shape}"
    with pytest.raises(ValueError, match=re.escape(expected)) as error:
        y.sum().backward()
    assert str(input_shape) in str(error.value) and x.grad is None


def test_broadcast_gradients_are_still_summed_to_the_input_shape():
    x = mg.tensor(np.ones((3, 1)), requires_grad=True)
    _ReturnsShape.apply(x, shape=(2, 3, 4)).sum().backward()
    assert x.grad.shape == (3, 1) and np.array_equal(x.grad, np.full((3, 1), 8.0))


def test_backward_returning_the_wrong_number_of_gradients_is_refused():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = _ReturnsGenerator.apply(x)
    y._op.backward = lambda grad_output: (grad_output, grad_output)
    with pytest.raises(TypeError, match="returned 2 gradient"):
        y.sum().backward()


# A pickle made by a process whose creation counter was ahead of this one's. The child
# consumes that many numbers first, so every number in its pickle is in our future.
_PICKLING_CHILD = """
import pickle, sys
import numpy as np
import minigrad as mg
from minigrad import autograd, nn
for _ in range(int(sys.argv[1])):
    autograd.next_seq()
mg.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
opt = mg.optim.SGD(model.parameters(), lr=0.1)
x = mg.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
model(x).sum().backward()
opt.step()  # writes every parameter in place: their write numbers are ahead too
w = mg.tensor(np.array([0.5, 1.0, 1.5]), requires_grad=True)
y = (w * 2.0).exp()  # an intermediate node, pickled with its graph
v = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
z = v * 3.0  # a node whose parent is written after it used it: its backward must refuse
v.data += 1.0
sys.stdout.buffer.write(pickle.dumps((model, w, y, v, z)))
"""


def _loaded_from_a_longer_run():
    import pickle
    import subprocess
    import sys

    ahead = autograd.next_seq() + 10_000
    done = subprocess.run([sys.executable, "-c", _PICKLING_CHILD, str(ahead)],
                          capture_output=True, check=True)
    return pickle.loads(done.stdout)


def test_nodes_pickled_by_a_longer_run_get_fresh_numbers_and_full_gradients():
    # Regression: pickled numbers ahead of this process's counter made a loaded parameter
    # look newer than the nodes built from it. Backward (newest first) then visited it
    # first: its gradient was lost (the sorted order), or it was visited twice, its hooks
    # called with partial gradients (the heap).
    model, w, y, v, z = _loaded_from_a_longer_run()
    now = autograd.next_seq()
    parameters = list(model.parameters())
    assert all(p._seq < now and p._version < now for p in parameters)
    assert w._seq < y._seq < now
    fresh = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.ReLU(), mg.nn.Linear(4, 2))
    for p, q in zip(fresh.parameters(), parameters):
        p.data = q.data.copy()
        q.grad = None  # the child's own step left its gradients in the pickle
    hook_calls = []
    parameters[0].register_hook(lambda grad: hook_calls.append(grad.copy()))
    x = mg.tensor(np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]], dtype=np.float32))
    (model(x) ** 2).sum().backward()
    (fresh(x) ** 2).sum().backward()
    for p, q in zip(fresh.parameters(), parameters):
        assert q.grad is not None and np.array_equal(p.grad, q.grad)
    assert len(hook_calls) == 1 and np.array_equal(hook_calls[0], parameters[0].grad)

    seen = []  # the loaded intermediate node, used twice: one visit, with the whole gradient
    y.register_hook(lambda grad: seen.append(grad.copy()))
    (y * 5.0 + y * 3.0).sum().backward()
    assert len(seen) == 1 and np.array_equal(seen[0], np.full(3, 8.0))
    assert np.allclose(w.grad, 8.0 * 2.0 * np.exp(2.0 * w.data))
    # the write made to v after z used it is still seen as one
    with pytest.raises(RuntimeError, match="modified"):
        z.sum().backward()


def test_deepcopy_in_this_process_keeps_creation_numbers():
    # Numbers from the past keep their order as they are: a copy of a graph is drawn and
    # recorded like the original.
    import copy

    w = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = mg.tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = b * w
    y_copy = copy.deepcopy(y)
    b_copy, w_copy = y_copy._parents
    assert (w_copy._seq, b_copy._seq, y_copy._seq) == (w._seq, b._seq, y._seq)


class _Tagged(mg.Tensor):
    """A subclass without __slots__: its own attributes live in a __dict__."""


def test_a_tensor_subclass_keeps_its_own_attributes_through_pickle_and_copies():
    # Regression: Tensor.__setstate__ restored the slots only, and dropped the __dict__ of
    # a subclass without __slots__ (Python's default restores both).
    import copy
    import pickle

    t = _Tagged(np.array([1.0, 2.0]), requires_grad=True)
    t.tag = "input"
    for restored in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t), copy.copy(t)):
        assert type(restored) is _Tagged and restored.tag == "input"
        assert np.array_equal(restored.data, t.data) and restored.requires_grad
