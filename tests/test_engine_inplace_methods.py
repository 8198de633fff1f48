"""PyTorch's in-place methods (``add_``, ``sub_``, ``mul_``, ``div_``, ``clamp_``, ``fill_``,
``zero_``, ``copy_``): the same values as PyTorch outside the graph, writes recorded as for
``+=``, and a clear refusal inside the graph (minigrad keeps graphs immutable)."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

UPDATES = [
    lambda t, lib: t.add_(lib.tensor(np.array([0.5, -1.0, 2.0], np.float32)), alpha=-0.1),
    lambda t, lib: t.sub_(1, alpha=2),
    lambda t, lib: t.mul_(lib.tensor(np.float32(3.0))),
    lambda t, lib: t.div_(4),
    lambda t, lib: t.clamp_(min=1.5),
    lambda t, lib: t.clamp_(max=2.5).clamp_(min=-1, max=2),
    lambda t, lib: t.fill_(2.5),
    lambda t, lib: t.zero_(),
    lambda t, lib: t.copy_(lib.tensor(np.array([7, 8, 9]))),
    lambda t, lib: t.copy_(lib.tensor(np.float64(-3.5))),
]


@pytest.mark.parametrize("update", UPDATES)
def test_in_place_methods_match_pytorch_and_return_the_tensor(update):
    results = []
    for library in (mg, torch):
        t = library.tensor(np.array([1.0, 2.0, 3.0], np.float32))
        assert update(t, library) is t
        results.append((np.asarray(t.tolist()), str(t.dtype).split(".")[-1]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    assert results[0][1] == results[1][1]


def test_a_manual_sgd_step_with_add_updates_the_parameter_under_no_grad():
    weight = mg.tensor([1.0, 2.0], requires_grad=True)
    (weight * weight).sum().backward()
    with mg.no_grad():
        weight.add_(weight.grad, alpha=-0.25)
        weight.grad = None
    np.testing.assert_allclose(weight.data, [0.5, 1.0])


def test_a_write_by_a_method_is_refused_at_backward_like_one_by_an_operator():
    x = mg.ones(3)
    weight = mg.ones(3, requires_grad=True)
    loss = (x * weight).sum()
    x[:2].mul_(3)  # through a view: a write to x too
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()


@pytest.mark.parametrize("method", [lambda t: t.add_(1), lambda t: t.zero_(),
                                    lambda t: t.fill_(0.0), lambda t: t.clamp_(min=0)])
def test_a_leaf_that_requires_grad_is_refused_while_recording(method):
    weight = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*Fix"):
        method(weight)
    np.testing.assert_array_equal(weight.data, [1.0, 1.0])


def test_a_tensor_in_the_graph_is_refused_rather_than_silently_left_unchanged():
    hidden = mg.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"add_: .*graph.*Fix: .*h = h \+ x"):
        hidden.add_(1)
    with pytest.raises(RuntimeError, match=r"copy_: .*Fix"):
        mg.zeros(2).copy_(hidden)
    np.testing.assert_array_equal(hidden.data, [2.0, 2.0])


def test_a_value_that_does_not_fit_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"mul_: .*shape \(3,\).*Fix"):
        mg.ones(3).mul_(mg.ones(2))
    with pytest.raises(TypeError, match=r"fill_: value must be a number.*Fix"):
        mg.ones(3).fill_([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"clamp_: .*int64.*Fix"):
        mg.tensor([1, 2]).clamp_(min=1.5)
