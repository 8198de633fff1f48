"""Reductions given ``dim=()`` or ``dim=[]``: every axis is reduced, as in PyTorch (NumPy's
``axis=()`` reduces none, which silently returned the input unchanged)."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

REDUCTIONS = ["sum", "mean", "amax", "amin", "var", "std", "norm"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("empty", [(), []])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 1, 3)])
def test_an_empty_dim_reduces_every_axis_as_in_pytorch(name, empty, keepdim, shape):
    data = np.random.default_rng(0).standard_normal(shape)
    result = getattr(mg.tensor(data), name)(dim=empty, keepdim=keepdim)
    expected = getattr(torch.tensor(data), name)(dim=empty, keepdim=keepdim)
    assert result.shape == tuple(expected.shape)
    np.testing.assert_allclose(result.data, expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", REDUCTIONS)
def test_an_empty_dim_has_the_gradient_of_the_full_reduction(name):
    # (PyTorch 2's own var/std backward gives inf for dim=(): compared with dim=None instead)
    data = np.random.default_rng(1).standard_normal((2, 3))
    x, y = mg.tensor(data, requires_grad=True), mg.tensor(data, requires_grad=True)
    getattr(x, name)(dim=()).backward()
    getattr(y, name)().backward()
    np.testing.assert_allclose(x.grad, y.grad, rtol=1e-12)
    assert mg.gradcheck(lambda t: getattr(t, name)(dim=()), [mg.tensor(data, requires_grad=True)])
