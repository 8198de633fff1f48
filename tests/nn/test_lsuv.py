"""Tests of minigrad.nn.init.lsuv_ (Mishkin & Matas 2015, Algorithm 1)."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import init


def rng(seed=0):
    return np.random.default_rng(seed)


def relu_mlp(depth=20, width=64, in_features=32, seed=0):
    mg.manual_seed(seed)  # PyTorch's default Linear init, from minigrad's default generator
    layers = []
    for i in range(depth):
        layers += [nn.Linear(in_features if i == 0 else width, width), nn.ReLU()]
    return nn.Sequential(*layers)


def output_variances(model, x, layer_type=nn.Linear):
    """Var of every layer's output on x, measured with hooks of our own."""
    variances = {}

    def make_hook(name):
        def hook(module, inputs, output):
            variances.setdefault(name, float(output.data.var(dtype=np.float64)))
        return hook

    removers = [module.register_forward_hook(make_hook(name))
                for name, module in model.named_modules() if isinstance(module, layer_type)]
    with mg.no_grad():
        model(x)
    for remove in removers:
        remove()
    return variances


def batch(shape, std=3.0, seed=1):
    return mg.tensor(rng(seed).normal(0.0, std, size=shape), dtype=np.float32)


class Conv(nn.Module):
    """A 3×3 'same' convolution with a (out, in, 3, 3) weight, as Conv2d will have."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        shape = (out_channels, in_channels, 3, 3)
        self.weight = nn.Parameter(rng(2).normal(size=shape).astype(np.float32))
        self.bias = nn.Parameter(np.ones(out_channels, np.float32))

    def forward(self, x):
        return mg.ops.conv2d(x, self.weight, self.bias, padding=1)


class ChannelScale(nn.Module):
    """A layer whose weight has 2 dims (like LayerNorm((C, L))'s), named like no norm."""

    def __init__(self, width):
        super().__init__()
        self.weight = nn.Parameter(np.ones((1, width), np.float32))

    def forward(self, x):
        return x * self.weight


class ChannelScaleNorm(ChannelScale):
    """A normalisation-like layer whose weight has 2 dims (like LayerNorm((C, L)))."""


def test_lsuv_gives_unit_variance_in_a_20_layer_relu_mlp():
    model, x, tol = relu_mlp(), batch((256, 32)), 0.1
    before = output_variances(model, x)
    # Default init, Var(W) = 1/(3·fan_in): each ReLU layer shrinks the signal about 6-fold,
    # down to the floor its biases add, so LSUV has work to do.
    assert before["38"] < 0.05
    records = init.lsuv_(model, x, tol=tol, generator=rng(3))
    after = output_variances(model, x)
    assert len(after) == 20
    for name, variance in after.items():
        assert abs(variance - 1) < tol, f"layer {name}: Var = {variance}"
    assert [r.name for r in records] == [str(2 * i) for i in range(20)]
    for record in records:
        assert record.variance == pytest.approx(after[record.name], rel=1e-6)
        assert record.iterations <= 1  # zero bias: one rescale is exact
    assert records[0].iterations == 1  # the batch has variance 9, not 1


def test_lsuv_weights_stay_scaled_orthogonal_with_zero_bias():
    model, x = relu_mlp(depth=4), batch((128, 32))
    init.lsuv_(model, x, generator=rng(4))
    for layer in (m for m in model if isinstance(m, nn.Linear)):
        w = layer.weight.data.astype(np.float64)
        gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
        scale = gram[0, 0]
        np.testing.assert_allclose(gram, scale * np.eye(len(gram)), atol=1e-5 * scale)
        assert (layer.bias.data == 0).all()


@pytest.mark.parametrize("tol", [0.01, 0.5])
def test_lsuv_respects_tol(tol):
    model, x = relu_mlp(depth=6), batch((256, 32))
    records = init.lsuv_(model, x, tol=tol, generator=rng(5))
    assert all(abs(v - 1) < tol for v in output_variances(model, x).values())
    assert all(abs(r.variance - 1) < tol for r in records)


def test_lsuv_max_iter_zero_is_orthonormal_pre_init_only():
    model, x = relu_mlp(depth=3), batch((64, 32))
    records = init.lsuv_(model, x, max_iter=0, generator=rng(6))
    assert [r.iterations for r in records] == [0, 0, 0]
    w = model[2].weight.data.astype(np.float64)
    np.testing.assert_allclose(w @ w.T, np.eye(64), atol=1e-5)


def test_lsuv_follows_forward_order_not_registration_order():
    class Reversed(nn.Module):
        def __init__(self):
            super().__init__()
            self.last = nn.Linear(16, 8)
            self.first = nn.Linear(32, 16)

        def forward(self, x):
            return self.last(self.first(x).relu())

    model, x = Reversed(), batch((128, 32))
    records = init.lsuv_(model, x, generator=rng(7))
    assert [r.name for r in records] == ["first", "last"]
    assert all(abs(v - 1) < 0.1 for v in output_variances(model, x).values())


def test_lsuv_on_conv_weights():
    model = nn.Sequential(Conv(3, 8), nn.ReLU(), Conv(8, 8), nn.ReLU(), Conv(8, 4))
    x = batch((16, 3, 8, 8))
    records = init.lsuv_(model, x, generator=rng(8))
    assert [r.name for r in records] == ["0", "2", "4"]
    variances = output_variances(model, x, Conv)
    assert all(abs(v - 1) < 0.1 for v in variances.values()) and len(variances) == 3
    assert all((m.bias.data == 0).all() for m in model if isinstance(m, Conv))


def test_lsuv_on_conv2d_layers():
    if not hasattr(nn, "Conv2d"):
        pytest.skip("nn.Conv2d is not written yet")
    mg.manual_seed(9)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2))
    x = batch((16, 3, 9, 9))
    init.lsuv_(model, x, generator=rng(9))
    variances = output_variances(model, x, nn.Conv2d)
    assert len(variances) == 2 and all(abs(v - 1) < 0.1 for v in variances.values())


def test_lsuv_skips_normalisation_layers():
    model = nn.Sequential(nn.Linear(32, 64), ChannelScaleNorm(64), nn.ReLU(), nn.Linear(64, 8))
    records = init.lsuv_(model, batch((128, 32)), generator=rng(10))
    assert [r.name for r in records] == ["0", "3"]
    assert (model[1].weight.data == 1).all()


class BagOfWords(nn.Module):
    """An Embedding (with a padding row) feeding a Linear."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 16, padding_idx=0)
        self.fc = nn.Linear(16, 8)

    def forward(self, tokens):
        return self.fc(self.emb(tokens).mean(axis=1))


def test_lsuv_leaves_an_embedding_table_alone():
    # A lookup table is not a map between layers (Mishkin & Matas initialise conv and fully
    # connected layers): orthogonalising it also wrote values into the padding row, which
    # must stay zero.
    model = BagOfWords()
    table = model.emb.weight.data.copy()
    tokens = mg.tensor(rng(3).integers(0, 10, size=(64, 5)))
    records = init.lsuv_(model, tokens, generator=rng(4))
    assert [r.name for r in records] == ["fc"]
    np.testing.assert_array_equal(model.emb.weight.data, table)
    assert not model.emb.weight.data[0].any()


def test_lsuv_initialises_a_layer_whose_name_only_starts_with_norm():
    class NormalizedLinear(nn.Linear):  # a Linear, not a normalisation layer
        pass

    model = nn.Sequential(NormalizedLinear(32, 16), nn.ReLU(), nn.Linear(16, 4))
    records = init.lsuv_(model, batch((128, 32)), generator=rng(12))
    assert [r.name for r in records] == ["0", "2"]  # it was skipped, silently


@pytest.mark.parametrize("class_name, skipped", [
    ("LayerNormalization", True), ("BatchNormalisation", True), ("RMSNorm", True),
    ("WeightNormLinear", False), ("SpectralNormConv", False), ("NormalizedLinear", False)])
def test_lsuv_knows_normalisation_layers_by_the_word_not_by_wrappers(class_name, skipped):
    # 'Norm' followed by any lowercase letter was not a word, so LayerNormalization's weight
    # was orthogonalised and rescaled; WeightNorm/SpectralNorm wrappers (linear maps) skipped.
    layer_class = type(class_name, (ChannelScale,), {})
    model = nn.Sequential(nn.Linear(32, 64), layer_class(64), nn.ReLU(), nn.Linear(64, 8))
    records = init.lsuv_(model, batch((128, 32)), generator=rng(13))
    assert [r.name for r in records] == (["0", "3"] if skipped else ["0", "1", "3"])
    assert (model[1].weight.data == 1).all() == skipped


@pytest.mark.parametrize("training", [True, False])
def test_lsuv_runs_in_eval_mode_and_restores_modes(training):
    seen = []

    class Spy(nn.Module):
        def forward(self, x):
            seen.append(self.training)
            return x

    model = nn.Sequential(nn.Linear(32, 16), Spy(), nn.Linear(16, 4)).train(training)
    init.lsuv_(model, batch((64, 32)), generator=rng(11))
    assert seen and not any(seen)
    assert all(m.training == training for m in model.modules())
    assert all(not m._forward_hooks for m in model.modules())  # lsuv_'s hooks are removed


def test_lsuv_is_reproducible():
    weights = []
    for _ in range(2):
        model = relu_mlp(depth=3)
        init.lsuv_(model, batch((64, 32)), generator=rng(12))
        weights.append([p.data.copy() for p in model.parameters()])
    assert all(np.array_equal(a, b) for a, b in zip(*weights))
    model = relu_mlp(depth=3)
    init.lsuv_(model, batch((64, 32)), generator=rng(13))
    assert not np.array_equal(weights[0][0], model[0].weight.data)


class Unused(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(4, 4)

    def forward(self, x):
        return x


@pytest.mark.parametrize("model, x, kwargs, error, message", [
    (nn.Sequential(), batch((8, 4)), {}, ValueError, "no layer with a weight"),
    (nn.Sequential(nn.ReLU()), batch((8, 4)), {}, ValueError, "no layer with a weight"),
    (Unused(), batch((8, 4)), {}, ValueError, "called none"),
    (nn.Linear(4, 4), np.ones((8, 4)), {}, TypeError, "x must be a Tensor"),
    (lambda x: x, batch((8, 4)), {}, TypeError, "model must be a minigrad Module"),
    (nn.Linear(4, 4), batch((8, 4)), {"tol": 0.0}, ValueError, "tol"),
    (nn.Linear(4, 4), batch((8, 4)), {"tol": -0.1}, ValueError, "tol"),
    (nn.Linear(4, 4), batch((8, 4)), {"tol": math.nan}, ValueError, "tol"),
    (nn.Linear(4, 4), batch((8, 4)), {"tol": "0.1"}, ValueError, "tol"),
    (nn.Linear(4, 4), batch((8, 4)), {"max_iter": -1}, ValueError, "max_iter"),
    (nn.Linear(4, 4), batch((8, 4)), {"max_iter": 2.5}, ValueError, "max_iter"),
    (nn.Linear(4, 4), batch((8, 4)), {"generator": 3}, TypeError, "Generator"),
    (nn.Linear(4, 4), mg.zeros(8, 4), {}, RuntimeError, "variance 0.0"),
])
def test_lsuv_errors(model, x, kwargs, error, message):
    with pytest.raises(error, match=message):
        init.lsuv_(model, x, **kwargs)
