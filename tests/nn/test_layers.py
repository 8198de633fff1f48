"""Layer modules: shapes, PyTorch defaults, gradchecks, train/eval behaviour, losses."""

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


def leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def test_linear_shapes_default_init_and_gradcheck():
    mg.manual_seed(0)
    layer = nn.Linear(40, 30)
    assert layer.weight.shape == (30, 40) and layer.bias.shape == (30,)
    bound = 1 / math.sqrt(40)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert abs(layer.weight.data.std() - bound / math.sqrt(3)) < 0.06 * bound
    assert layer(mg.randn(7, 40)).shape == (7, 30)
    assert layer(mg.randn(2, 3, 40)).shape == (2, 3, 30)  # (*, in_features)
    assert nn.Linear(3, 2, bias=False).bias is None
    small = nn.Linear(4, 3).double()
    x = leaf(np.random.default_rng(1).normal(size=(5, 4)))
    assert mg.gradcheck(lambda x, w, b: small(x), [x, small.weight, small.bias])


def test_reset_parameters_redraws_from_the_default_generator():
    for make in (lambda: nn.Linear(5, 4), lambda: nn.Conv2d(2, 3, 3)):
        mg.manual_seed(3)
        first = make()
        mg.manual_seed(3)
        again = make()
        np.testing.assert_array_equal(first.weight.data, again.weight.data)
        np.testing.assert_array_equal(first.bias.data, again.bias.data)
        before = first.weight.data.copy()
        first.reset_parameters()
        assert not np.array_equal(before, first.weight.data)


def test_activation_modules():
    x = mg.tensor([[-2.0, -0.5, 0.0, 1.5]])
    np.testing.assert_allclose(nn.ReLU()(x).data, [[0, 0, 0, 1.5]])
    np.testing.assert_allclose(nn.LeakyReLU()(x).data, [[-0.02, -0.005, 0, 1.5]], rtol=1e-6)
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).data, [[-0.2, -0.05, 0, 1.5]], rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).data, np.tanh(x.data))
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp(-x.data)), rtol=1e-6)
    assert nn.Identity(54, unused="arguments")(x) is x
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).data.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(x).data,
                               np.log(nn.Softmax(dim=1)(x).data), rtol=1e-5)
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"


def test_flatten_defaults_and_ranges():
    x = mg.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, -1)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)


def test_dropout_module_trains_and_evaluates():
    layer = nn.Dropout(p=0.5, generator=np.random.default_rng(0))
    x = mg.ones(1000)
    out = layer(x).data
    assert set(np.unique(out)) == {0.0, 2.0}
    layer.eval()
    assert layer(x) is x
    assert nn.Dropout().p == 0.5
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(-0.1)
    x = leaf(np.random.default_rng(2).normal(size=(3, 4)))

    def fixed_mask(x):
        return nn.Dropout(0.25, generator=np.random.default_rng(7))(x)

    assert mg.gradcheck(fixed_mask, [x])


def test_pool_module_gradchecks():
    x = leaf(np.random.default_rng(3).normal(size=(2, 2, 5, 5)))
    assert mg.gradcheck(nn.MaxPool2d(3, stride=2, padding=1), [x])
    assert mg.gradcheck(nn.AvgPool2d(2, stride=1), [x])
    assert mg.gradcheck(nn.AdaptiveAvgPool2d(1), [x])


def test_loss_modules_match_the_functional_forms_and_gradcheck():
    r = np.random.default_rng(4)
    z, t = r.normal(size=(5, 3)), np.array([0, 2, 1, 1, 0])
    for reduction in ("mean", "sum", "none"):
        loss = nn.CrossEntropyLoss(reduction=reduction)(mg.tensor(z), t)
        expected = F.cross_entropy(mg.tensor(z), t, reduction=reduction)
        np.testing.assert_allclose(loss.data, expected.data)
        y = r.normal(size=(5, 3))
        loss = nn.MSELoss(reduction=reduction)(mg.tensor(z), y)
        np.testing.assert_allclose(loss.data, F.mse_loss(mg.tensor(z), y, reduction=reduction).data)
    assert mg.gradcheck(lambda z: nn.CrossEntropyLoss()(z, t), [leaf(z)])
    assert mg.gradcheck(lambda z, y: nn.MSELoss()(z, y), [leaf(z), leaf(r.normal(size=(5, 3)))])
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


def test_layer_reprs_show_their_settings():
    assert repr(nn.Linear(3, 2)) == "Linear(in_features=3, out_features=2, bias=True)"
    assert "kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)" in repr(nn.Conv2d(1, 2, 3, 2, 1))
    text = repr(nn.Sequential(nn.Linear(2, 2), nn.ReLU()))
    assert "(0): Linear" in text and "(1): ReLU()" in text


def test_layers_keep_float32_and_follow_float64():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    assert model(mg.randn(1, 1, 4, 4)).dtype == np.float32
    model.double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model(mg.randn(1, 1, 4, 4, dtype=np.float64)).dtype == np.float64
