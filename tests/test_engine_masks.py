"""``~``, ``&``, ``|`` and ``^`` on bool masks (bitwise on integers), as in PyTorch: the
usual ``x[~mask]`` and ``(x > 0) & (x < 1)`` work, outside the graph like comparisons, and
gradients flow through the indexing they select with."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

MASK = np.array([True, False, True, False])
OTHER = np.array([False, False, True, True])
INTEGERS = np.array([1, 2, 6, 7])


@pytest.mark.parametrize("expression", [
    lambda m, n, i: ~m, lambda m, n, i: m & n, lambda m, n, i: m | n, lambda m, n, i: m ^ n,
    lambda m, n, i: True & m, lambda m, n, i: m | False, lambda m, n, i: m ^ True,
    lambda m, n, i: ~i, lambda m, n, i: i & 3, lambda m, n, i: 4 | i, lambda m, n, i: m & i,
])
def test_logical_and_bitwise_operators_match_pytorch(expression):
    result = expression(mg.tensor(MASK), mg.tensor(OTHER), mg.tensor(INTEGERS))
    expected = expression(torch.tensor(MASK), torch.tensor(OTHER), torch.tensor(INTEGERS))
    assert isinstance(result, mg.Tensor) and not result.requires_grad
    assert str(result.dtype) == str(expected.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(result.data, expected.numpy())


def test_indexing_with_an_inverted_and_combined_mask_sends_the_gradient_back():
    data = np.array([0.5, 2.0, -1.0, 3.0], np.float32)
    x = mg.tensor(data, requires_grad=True)
    reference = torch.tensor(data, requires_grad=True)
    for tensor in (x, reference):
        positive = tensor > 0
        (tensor[~positive | (tensor > 2.5)] ** 2).sum().backward()
    np.testing.assert_allclose(x.grad, reference.grad.numpy())


@pytest.mark.parametrize("expression", [
    lambda m, f: f & m, lambda m, f: m | f, lambda m, f: ~f, lambda m, f: m & 1.5,
])
def test_floats_are_refused_with_the_fix(expression):
    with pytest.raises(TypeError, match=r"[&|~].*Fix"):
        expression(mg.tensor(MASK), mg.tensor([1.0, 0.0, 1.0, 0.0]))


def test_shapes_that_do_not_broadcast_name_the_operator_and_the_shapes():
    with pytest.raises(ValueError, match=r"&: .*shape \(4,\).*\(3,\)"):
        mg.tensor(MASK) & mg.tensor(np.array([True, False, True]))


@pytest.mark.parametrize("call", [
    lambda t: t.any(), lambda t: t.all(), lambda t: t.any(1), lambda t: t.all(-1),
    lambda t: t.any(0, keepdim=True), lambda t: t.any(dim=(0, 1)), lambda t: (t > 0).all(),
])
@pytest.mark.parametrize("data", [np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),
                                  np.array([[True, True], [True, False]]), np.zeros((2, 0))])
def test_any_and_all_match_pytorch(call, data):
    result, expected = call(mg.tensor(data)), call(torch.tensor(data))
    assert result.dtype == np.bool_ and not result.requires_grad
    assert result.shape == tuple(expected.shape)
    np.testing.assert_array_equal(result.data, expected.numpy())


def test_any_reads_as_a_python_bool_in_an_if():
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    assert (x < 0).any() and not (x > 5).all()
