"""In-place edits between the forward pass and backward: refused clearly (version counters),
while the edits of a normal training loop keep working."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def make_layer():
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 2))


def test_editing_a_weight_between_forward_and_backward_is_refused():
    model = make_layer()
    y = model(mg.randn(4, 3)).sum()
    model[0].weight.data -= 10
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    for part in ("modified", "Parameter of shape (2, 3)", "'linear'", "module 0 (Linear)",
                 "Fix:", "after backward()"):
        assert part in message, part
    assert model[0].weight.grad is None  # nothing was accumulated from the stale graph


def test_a_from_numpy_buffer_refilled_before_backward_is_refused():
    model = make_layer()
    buffer = np.ones((4, 3), np.float32)
    y = model(mg.from_numpy(buffer)).sum()
    buffer[:] = np.arange(12, dtype=np.float32).reshape(4, 3)  # the next batch, same buffer
    with pytest.raises(RuntimeError, match="from_numpy.*NumPy array was changed.*Fix"):
        y.backward()


def test_a_fresh_forward_after_the_edit_works_and_uses_the_new_values():
    model = make_layer()
    x = mg.randn(4, 3)
    model(x).sum()  # a graph that is dropped without backward
    model[0].weight.data -= 10
    model(x).sum().backward()
    np.testing.assert_allclose(model[0].weight.grad, np.tile(x.data.sum(0), (2, 1)), rtol=1e-6)
    buffer = np.ones((4, 3), np.float32)
    shared = mg.from_numpy(buffer)
    buffer[:] = 2
    model(shared).sum().backward()  # changed before the forward pass: fine


def test_optimizer_steps_and_no_grad_edits_between_steps_keep_working():
    model = make_layer()
    optimizer = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, target = mg.randn(8, 3), mg.randn(8, 2)
    for _ in range(5):
        optimizer.zero_grad()
        loss = ((model(x) - target) ** 2).mean()
        loss.backward()
        optimizer.step()  # an in-place update of every parameter, after backward
        with mg.no_grad():
            model[0].weight.data *= 0.99  # e.g. weight decay or a max-norm constraint
    assert np.isfinite(model[0].weight.data).all()


def test_assigning_a_new_array_keeps_the_saved_one_valid():
    w = mg.tensor([2.0, 3.0], requires_grad=True)
    x = mg.tensor([5.0, 7.0], requires_grad=True)
    y = (w * x).sum()
    w.data = np.array([100.0, 100.0], np.float32)  # a new array: the graph kept the old one
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 3.0])  # the values the forward pass used


def test_a_second_backward_after_an_optimizer_step_is_refused():
    model = make_layer()
    optimizer = mg.optim.SGD(model.parameters(), lr=0.1)
    loss = model(mg.randn(4, 3)).sum()
    loss.backward(retain_graph=True)  # kept: a second pass would work but for the step
    optimizer.step()
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()


def test_an_edit_of_a_tensor_the_graph_does_not_use_is_fine():
    model = make_layer()
    other = nn.Linear(3, 2)
    y = model(mg.randn(4, 3)).sum()
    other.weight.data -= 1
    y.backward()
    assert model[0].weight.grad is not None


# Ops whose backward reads their own output (ReLU keeps its output instead of a mask): an
# in-place edit of that output must be refused, not turned into a silently wrong gradient.
# (A consumer of the output already refuses, since it checks its inputs; the output's own
# op must refuse too, when nothing consumed it: here the output is the root.)
@pytest.mark.parametrize("make", [
    lambda x: mg.nn.functional.relu(x),
    lambda x: x.exp(),
    lambda x: x.tanh(),
    lambda x: x.sigmoid(),
    lambda x: mg.nn.functional.softmax(x, dim=0),
])
def test_editing_an_output_its_op_reads_in_backward_is_refused(make):
    x = mg.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    y = make(x)
    y.data *= -1
    with pytest.raises(RuntimeError, match="output of '.*', which its backward reads.*Fix"):
        y.backward(mg.ones(3))
    assert x.grad is None


def test_editing_the_output_of_an_op_that_does_not_read_it_is_fine():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3  # mul's backward reads its inputs, never its output
    y.data += 1
    y.backward(mg.ones(2))
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


# -- in-place operators on tensors (t += x, p -= lr * p.grad) -----------------------------------


def test_pytorchs_manual_sgd_step_updates_the_parameters_in_place():
    # `p -= lr * p.grad` under no_grad() rebound the loop variable to a new tensor: the
    # model's parameters were silently never updated.
    model = make_layer()
    model(mg.randn(4, 3)).sum().backward()
    weight = model[0].weight
    before = weight.data.copy()
    with mg.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    assert model[0].weight is weight and isinstance(weight, nn.Parameter)
    np.testing.assert_allclose(weight.data, before - 0.1 * weight.grad)
    x = mg.tensor([1.0, 2.0])
    alias = x
    x *= 3
    x /= 2
    x += mg.tensor([1.0, 1.0])
    assert x is alias  # the same tensor, as in PyTorch
    np.testing.assert_array_equal(alias.data, [2.5, 4.0])
    x **= 2
    assert x is alias
    np.testing.assert_array_equal(alias.data, [6.25, 16.0])


def test_an_in_place_operator_on_a_leaf_that_requires_grad_is_refused_while_recording():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\+=: a leaf tensor that requires grad.*in-place.*"
                                           r"Fix: .*no_grad"):
        w += 1
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    h = w * 2
    h -= 1  # a computed tensor: the out-of-place result, and the gradient flows through it
    h.sum().backward()
    np.testing.assert_array_equal(h.data, [1.0, 3.0])
    np.testing.assert_array_equal(w.grad, [2.0, 2.0])


def test_an_in_place_write_to_a_saved_input_is_refused_at_backward():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    x = mg.tensor([3.0, 4.0])
    y = (w * x).sum()
    x += 1  # x was saved by mul for w's gradient
    with pytest.raises(RuntimeError, match="modified"):
        y.backward()


def test_an_in_place_operator_keeps_shape_and_dtype_or_says_why():
    counts = mg.tensor([1, 2])
    with pytest.raises(TypeError, match=r"\+=: cannot update a tensor of shape \(2,\) \(int64\) "
                                        r"in place.*Fix"):
        counts += 0.5
    x = mg.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\*=: .*shape \(2, 1\).*Fix"):
        x *= np.ones((2, 1))


def test_a_write_through_a_detached_copy_counts_for_the_original_and_back():
    # detach() shares the array, and as with PyTorch's shared version counter a write to
    # either is a write to both: before, `d += 1` changed w's saved values silently.
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = mg.tensor([2.0, 2.0, 2.0], requires_grad=True)
    y = (x * w).sum()
    d = w.detach()
    d += 1
    with pytest.raises(RuntimeError, match="modified"):
        y.backward()
    t = w.detach()  # the other way: the graph saved the copy, the original is written
    y = (x * t).sum()
    with mg.no_grad():
        w -= 0.5
    with pytest.raises(RuntimeError, match="modified"):
        y.backward()


def test_an_sgd_step_counts_as_a_write_to_a_detached_copy_of_the_parameter():
    layer = nn.Linear(3, 1)
    optimizer = mg.optim.SGD(layer.parameters(), lr=0.1)
    x = mg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    frozen = layer.weight.detach()  # e.g. a target network's weights, used in a loss
    loss = (x * frozen).sum()
    layer(x).sum().backward()
    optimizer.step()
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()


def test_a_detached_copy_given_another_array_no_longer_follows_the_original():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    d.data = np.zeros(2)  # its own array now
    y = (d * x).sum()
    with mg.no_grad():
        x += 1
    with pytest.raises(RuntimeError, match="modified"):
        y.backward()  # x itself was saved: still refused
    d2 = x.detach()
    d2.data = np.zeros(2)
    z = (x * x).sum()
    d2 += 1  # writes d2's own array: z is untouched
    z.backward()
    np.testing.assert_allclose(x.grad, 2 * x.data)


def test_detaching_one_tensor_many_times_keeps_a_bounded_table():
    import gc

    from minigrad.tensor import _shared_data

    w = mg.tensor(np.ones(3), requires_grad=True)
    for _ in range(1000):  # a detached loss logged every step, say
        w.detach()
    gc.collect()
    assert len(_shared_data.get(w)) < 40
    assert len(_shared_data) < 40


@pytest.mark.parametrize("make_view", [lambda x: x.T, lambda x: x.reshape(4), lambda x: x[0],
                                       lambda x: x.detach()])
def test_a_write_to_a_tensor_or_its_view_is_a_write_to_both(make_view):
    # A graph that saved a view of x (or x itself) must refuse after x (or the view) is
    # written in place; before, `x *= 2` changed the saved view's values silently.
    w = mg.tensor([1.0, 1.0], requires_grad=True)
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    view = make_view(x)
    y = (w.sum() * view).sum()  # mul saves the view
    x *= 2
    with pytest.raises(RuntimeError, match="modified"):
        y.backward()
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = (w * x).sum()
    view = make_view(x)
    view *= 2
    with pytest.raises(RuntimeError, match="modified"):
        y.backward()


def test_a_view_of_a_temporary_shares_nothing():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    x = mg.tensor([3.0, 4.0])
    y = (w * x).sum()
    z = (x + 1).reshape(2)  # a view of the temporary x + 1, not of x
    z *= 10
    y.backward()
    np.testing.assert_allclose(w.grad, [3.0, 4.0])


def test_item_assignment_writes_in_place_outside_the_graph_and_is_refused_inside():
    w = mg.tensor([[1.0, 1.0], [1.0, 1.0]], requires_grad=True)
    with mg.no_grad():
        w[0] -= 0.5  # PyTorch's idiom: a read, an in-place update, a write
    np.testing.assert_allclose(w.data, [[0.5, 0.5], [1.0, 1.0]])
    with pytest.raises(RuntimeError, match="item assignment.*no_grad"):
        w[0] -= 0.5  # recorded: refused, and w is left as it was
    np.testing.assert_allclose(w.data, [[0.5, 0.5], [1.0, 1.0]])
    x = mg.tensor([1.0, 2.0, 3.0])
    x[[0, 2]] = 7
    x[mg.tensor([1])] = 5
    np.testing.assert_allclose(x.data, [7.0, 5.0, 7.0])
    with pytest.raises(IndexError, match="item assignment.*Fix"):
        x[5] = 1
    with pytest.raises(ValueError, match="item assignment.*Fix"):
        x[0] = [1.0, 2.0]


def test_item_assignment_into_a_saved_tensor_is_refused_at_backward():
    w = mg.tensor([1.0, 1.0], requires_grad=True)
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = (w * x).sum()
    x[0] += 10
    with pytest.raises(RuntimeError, match="modified"):
        y.backward()


def test_in_place_operators_take_numpy_numbers_as_weak_and_explain_their_refusals():
    a = mg.tensor(np.linspace(0, 1, 1000, dtype=np.float32))
    expected = (a + np.float64(0.1)).data  # a NumPy number keeps float32, as in PyTorch
    a += np.float64(0.1)
    assert a.dtype == np.float32 and np.array_equal(a.data, expected)
    small = mg.tensor(np.array([1], np.uint8))
    with pytest.raises(ValueError, match="300 does not fit.*uint8.*Fix"):
        small += 300
    integers = mg.tensor(np.array([1, 2]))
    with pytest.raises(ValueError, match="negative integer powers.*Fix: convert the tensor"):
        integers **= -1
    frozen = mg.tensor(np.ones(2))
    frozen.data.flags.writeable = False
    with pytest.raises(ValueError, match="read-only.*Fix"):
        frozen += 1


def test_an_op_that_returns_its_input_array_shares_its_writes():
    # A custom op returning its input unchanged (a gradient-reversal layer) gives a result
    # whose array is the input's own (no .base): a write to the input is one to the result.
    from minigrad.ops.base import Function

    class ReverseGradient(Function):
        def forward(self, x):
            return x

        def backward(self, grad_output):
            return (-grad_output,)

    x = mg.tensor([1.0, 2.0, 3.0])
    w = mg.tensor([1.0, 1.0, 1.0], requires_grad=True)
    y = (ReverseGradient.apply(x) * w).sum()
    x += 10
    with pytest.raises(RuntimeError, match="modified"):
        y.backward()


def test_a_write_reaches_every_live_view_when_another_thread_compacts_the_group():
    import threading

    w = mg.tensor(np.ones((4, 4)))
    views = [w.T for _ in range(40)]
    stop = threading.Event()

    def churn() -> None:  # views made and dropped: the group is compacted now and then
        while not stop.is_set():
            for _ in range(64):
                w.reshape(16)

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        for _ in range(300):
            w.data = w.data  # a write in place
            version = w._version
            assert all(view._version == version for view in views)
    finally:
        stop.set()
        thread.join()


def test_views_of_an_array_over_a_buffer_share_writes_too():
    # np.frombuffer (or a memmap) gives an array whose base is not an array: its views have
    # that array as their base, and a write to it must still reach them.
    buffer = bytearray(np.array([1.0, 2.0]).tobytes())
    x = mg.from_numpy(np.frombuffer(buffer))
    w = mg.tensor([1.0, 1.0], requires_grad=True)
    y = (w * x[::-1]).sum()
    with mg.no_grad():
        x *= 2
    with pytest.raises(RuntimeError, match="modified"):
        y.backward()


def test_item_assignment_into_a_read_only_array_says_so():
    frozen = mg.tensor(np.ones(2))
    frozen.data.flags.writeable = False
    with pytest.raises(ValueError, match="item assignment.*read-only.*Fix"):
        frozen[0] = 5
