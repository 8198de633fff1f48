"""max/min along a dim with indices, argmax/argmin (minigrad/ops/select.py): hand-computed
values, gradchecks, and PyTorch as an oracle when it is installed."""

import numpy as np
import pytest

import minigrad as mg

TIES = [[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]]


def leaf(array):
    return mg.tensor(np.array(array, dtype=np.float64), requires_grad=True)


def test_max_along_dim_is_a_named_tuple_and_unpacks_like_pytorch():
    x = leaf(TIES)
    result = x.max(1)
    values, indices = result
    assert result.values is values and result.indices is indices
    np.testing.assert_array_equal(values.data, [3.0, 2.0])
    np.testing.assert_array_equal(indices.data, [1, 0])  # the first of tied maxima
    assert indices.dtype == np.int64 and not indices.requires_grad
    _, pred = mg.tensor([[0.1, 0.9], [0.8, 0.2]]).max(1)  # the accuracy line, with N = 2
    np.testing.assert_array_equal(pred.data, [1, 0])


def test_max_along_dim_sends_the_gradient_to_the_returned_index_only():
    x = leaf(TIES)
    x.max(1).values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])
    x.grad = None
    x.min(dim=0, keepdim=True).values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 0, 0], [0, 1, 1]])


def test_plain_max_is_still_the_scalar_maximum():
    x = leaf(TIES)
    assert x.max().shape == () and x.max().item() == 3.0
    assert x.min().item() == 0.0
    np.testing.assert_array_equal(x.max(mg.tensor(np.full((2, 3), 2.5))).data,
                                  np.maximum(TIES, 2.5))  # torch.max(a, b)


@pytest.mark.parametrize("name", ["max", "min"])
def test_a_nan_maximum_sends_the_gradient_to_the_nans_as_pytorch(name):
    # NaN == NaN is False, so no element "hit" the NaN result and every element of the
    # input got 0/0 = NaN; PyTorch's x.max() gives the NaN(s) the gradient, 0 elsewhere.
    # (amax keeps PyTorch's amax gradient, NaN where the result is NaN.)
    x = leaf([[1.0, np.nan, 3.0], [np.nan, 2.0, -1.0]])
    result = getattr(x, name)()
    assert np.isnan(result.item())
    result.backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.5, 0.0], [0.5, 0.0, 0.0]])
    y = leaf([1.0, 3.0, 3.0])
    y.max().backward()
    np.testing.assert_array_equal(y.grad, [0.0, 0.5, 0.5])  # ties still share it


def test_keepdim_negative_dim_and_zero_d():
    x = leaf(np.arange(24.0).reshape(2, 3, 4))
    values, indices = x.max(-2, keepdim=True)
    assert values.shape == indices.shape == (2, 1, 4)
    np.testing.assert_array_equal(indices.data, np.full((2, 1, 4), 2))
    values, indices = mg.tensor(2.5).max(0)
    assert values.shape == () and values.item() == 2.5 and indices.item() == 0


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_along_dim_pass_gradcheck(name, dim, keepdim):
    data = np.random.default_rng(0).permutation(12).reshape(3, 4) * 0.1
    assert mg.gradcheck(lambda t: getattr(t, name)(dim, keepdim=keepdim).values, [leaf(data)])


def test_argmax_argmin():
    x = mg.tensor(TIES)
    assert x.argmax().item() == 1 and x.argmin().item() == 4  # flattened
    assert x.argmax(keepdim=True).shape == (1, 1)
    np.testing.assert_array_equal(x.argmax(1).data, [1, 0])
    np.testing.assert_array_equal(x.argmin(dim=0, keepdim=True).data, [[0, 1, 1]])
    assert x.argmax(1).dtype == np.int64
    np.testing.assert_array_equal(x.argmax(axis=1).data, [1, 0])  # PyTorch accepts axis too


def test_bad_dims_are_clear_errors():
    x = mg.zeros(2, 3)
    with pytest.raises(TypeError, match=r"max: dim must be one int.*amax"):
        x.max((0, 1))
    with pytest.raises(ValueError, match="argmax: axis 2 is out of range"):
        x.argmax(2)
    with pytest.raises(ValueError, match="max: cannot reduce axis 1 of size 0"):
        mg.zeros(2, 0).max(1)
    with pytest.raises(ValueError, match="argmin: cannot reduce an empty tensor"):
        mg.zeros(0).argmin()


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    data = rng.integers(0, 3, size=(3, 4, 5)).astype(np.float64)  # many ties
    data[0, 0, 0] = np.nan  # NaN counts as the extreme in both
    for name in ("max", "min"):
        for dim in (0, 1, -1):
            for keepdim in (False, True):
                x, t = leaf(data), torch.tensor(data, requires_grad=True)
                ours, theirs = getattr(x, name)(dim, keepdim), getattr(t, name)(dim, keepdim)
                np.testing.assert_array_equal(ours.values.data, theirs.values.detach().numpy())
                np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
                weights = rng.normal(size=ours.values.shape)
                (ours.values * mg.tensor(weights)).sum().backward()
                (theirs.values * torch.tensor(weights)).sum().backward()
                np.testing.assert_array_equal(x.grad, t.grad.numpy())
        for dim in (None, 0, 2):
            for keepdim in (False, True):
                arg = "argmax" if name == "max" else "argmin"
                np.testing.assert_array_equal(getattr(mg.tensor(data), arg)(dim, keepdim).data,
                                              getattr(torch.tensor(data), arg)(dim, keepdim))
    clean = np.nan_to_num(data)
    x, t = leaf(clean), torch.tensor(clean, requires_grad=True)
    x.max().backward()
    t.max().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy())  # ties share the gradient in both
