"""``detach_()``, PyTorch's in-place detach: the tensor becomes a leaf that does not
require grad. An op that used it before refuses its backward with the fix (here a node *is*
its tensor, so it cannot keep a graph through it as PyTorch's does)."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def test_detach_in_place_makes_a_leaf_that_does_not_require_grad_as_in_pytorch():
    for library in (mg, torch):
        x = library.ones(2, requires_grad=True)
        y = x * 2
        assert y.detach_() is y
        assert (y.requires_grad, y.is_leaf, (y * 3).requires_grad) == (False, True, False)
        np.testing.assert_array_equal(np.asarray(y.detach()), [2.0, 2.0])


def test_truncated_backpropagation_with_detach_in_place_matches_pytorch():
    seen = []
    for library in (mg, torch):
        weight = library.tensor(np.array([0.5, -0.3]), requires_grad=True)
        hidden = library.tensor(np.zeros(2))
        for _ in range(4):
            hidden = (hidden * weight + 1).tanh()
            (hidden * hidden).sum().backward()
            hidden.detach_()
        seen.append(np.asarray(weight.grad).copy())
    np.testing.assert_allclose(seen[0], seen[1], rtol=1e-12)


def test_an_op_that_used_the_tensor_before_refuses_instead_of_sending_no_gradient():
    x = mg.ones(2, requires_grad=True)
    y = x * 2
    z = y * 3
    y.detach_()
    with pytest.raises(RuntimeError, match=r"detach_\(\) after this op used it.*Fix"):
        z.sum().backward()
    assert x.grad is None


def test_a_write_after_detach_in_place_is_blamed_on_the_write_not_on_the_cut():
    x = mg.ones(2, requires_grad=True)
    weight = mg.ones(2, requires_grad=True)
    y = x * 2
    y.detach_()
    z = (y * weight).sum()  # made after the cut: only the write below concerns it
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"modified in place") as error:
        z.backward()
    assert "detach_" not in str(error.value)
