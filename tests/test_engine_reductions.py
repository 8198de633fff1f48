"""Reductions given ``dim=()`` or ``dim=[]``: every axis is reduced, as in PyTorch (NumPy's
``axis=()`` reduces none, which silently returned the input unchanged). ``any`` and ``all``
are the exception: PyTorch 2.13 reduces no axis for them."""

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


@pytest.mark.parametrize("shape, dim", [((0,), None), ((0, 3), 0), ((2, 0), -1), ((2, 0), None),
                                        ((0, 3), (0, 1))])
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64])
def test_the_mean_of_no_values_is_nan_quietly_as_in_pytorch(shape, dim, dtype, recwarn):
    data = np.zeros(shape, dtype)
    x = mg.tensor(data, requires_grad=dtype is not np.int64)
    if dtype is np.int64:  # PyTorch refuses the mean of integers, empty or not; so do we
        with pytest.raises(TypeError, match=r"mean: .*dtype int64.*Fix: .*x\.float\(\)\.mean"):
            x.mean() if dim is None else x.mean(dim=dim)
        return
    result = x.mean() if dim is None else x.mean(dim=dim)
    expected = torch.tensor(data).mean() if dim is None else torch.tensor(data).mean(dim=dim)
    assert result.shape == tuple(expected.shape)
    assert str(result.dtype) == str(expected.dtype).removeprefix("torch.")
    result.sum().backward()
    assert x.grad.shape == shape
    assert np.isnan(result.data).all()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("name", ["any", "all"])
@pytest.mark.parametrize("empty", [(), []])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("array", [np.array([[0, 2], [3, 0]]), np.array([0.5, 0.0]),
                                   np.array(2.5), np.array([[True, False]])])
def test_any_and_all_with_an_empty_dim_reduce_nothing_as_in_pytorch(name, empty, keepdim,
                                                                     array):
    ours = getattr(mg.tensor(array), name)(dim=empty, keepdim=keepdim)
    theirs = getattr(torch.tensor(array), name)(dim=empty, keepdim=keepdim)
    assert ours.dtype == np.bool_ and theirs.dtype == torch.bool
    assert ours.shape == tuple(theirs.shape) and ours.tolist() == theirs.tolist()
