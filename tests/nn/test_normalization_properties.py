"""Normalisation: the Ioffe & Szegedy §3.3 identity, float32 vs float64, fold_batchnorm,
LayerNorm, GroupNorm, and PyTorch as an oracle (skipped without torch).

The BatchNorm op and module themselves are tested in test_normalization.py. Every
reference below is computed independently in NumPy from the papers' formulas.
"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

IMPLEMENTATIONS = ["fused", "composed"]


def rng(seed=0):
    return np.random.default_rng(seed)


def leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def per_channel(vector, ndim):
    return np.asarray(vector).reshape((1, -1) + (1,) * (ndim - 2))


# --------------------------------------------------------------------------------------
# Ioffe & Szegedy 2015, §3.3: scale invariance; dtypes
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("a", [0.1, 3.7])
def test_scale_invariance_of_section_3_3(implementation, a):
    """BN(Wu) = BN((aW)u); ∂L/∂u is unchanged and ∂L/∂(aW) = (1/a)·∂L/∂W.

    Exact when eps scales with a² (then both sides are the same function); with one fixed
    eps the identity holds up to the share of eps in the variance."""
    r = rng(3)
    u_data, weight, grad_out = r.normal(size=(16, 6)), r.normal(size=(5, 6)), r.normal(size=(16, 5))

    def forward_backward(scale, eps):
        linear = nn.Linear(6, 5, bias=False).double()
        linear.weight.data = scale * weight
        bn = nn.BatchNorm1d(5, eps=eps, implementation=implementation).double()
        u = leaf(u_data)
        out = bn(linear(u))
        out.backward(grad_out)
        return out.data, u.grad, linear.weight.grad

    out, grad_u, grad_w = forward_backward(1.0, 1e-5)
    out_a, grad_u_a, grad_w_a = forward_backward(a, a * a * 1e-5)
    np.testing.assert_allclose(out_a, out, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grad_u_a, grad_u, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(grad_w_a, grad_w / a, rtol=1e-9, atol=1e-10)
    out_same_eps, grad_u_same, _ = forward_backward(a, 1e-5)
    np.testing.assert_allclose(out_same_eps, out, rtol=0, atol=1e-3)
    np.testing.assert_allclose(grad_u_same, grad_u, rtol=0, atol=1e-3)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(16, 4), (8, 4, 3, 3)])
def test_float32_stays_float32_and_agrees_with_float64(implementation, training, shape):
    layer = nn.BatchNorm1d if len(shape) < 4 else nn.BatchNorm2d
    r = rng(5)
    data, grad_out = r.normal(1, 2, shape), r.normal(size=shape)
    gamma, beta = r.uniform(0.5, 2, shape[1]), r.normal(size=shape[1])
    results = {}
    for dtype in (np.float32, np.float64):
        bn = layer(shape[1], implementation=implementation).to_dtype(dtype)
        bn.weight.data, bn.bias.data = gamma.astype(dtype), beta.astype(dtype)
        bn(mg.tensor(data.astype(dtype)))  # one batch of running statistics
        bn.train(training)
        x = mg.tensor(data.astype(dtype), requires_grad=True)
        out = bn(x)
        out.backward(grad_out.astype(dtype))
        results[dtype] = [out.data, x.grad, bn.weight.grad, bn.bias.grad,
                          bn.running_mean.data, bn.running_var.data]
    for low, high in zip(results[np.float32], results[np.float64]):
        assert low.dtype == np.float32
        np.testing.assert_allclose(low, high, rtol=1e-5, atol=1e-5 * np.abs(high).max())


def test_fused_ops_compute_float32_in_float32():
    """No hidden float64 temporaries: every array the fused ops return is float32 (the
    engine would cast a float64 gradient back silently, so check the op itself)."""
    from minigrad.ops.normalization import BatchNormEval, BatchNormTrain

    x = rng(7).normal(size=(6, 3, 2, 2)).astype(np.float32)
    gamma, beta = np.ones(3, np.float32), np.zeros(3, np.float32)
    mean, var = np.zeros(3, np.float32), np.ones(3, np.float32)
    train = BatchNormTrain()
    out = train.forward(x, gamma, beta, has_weight=True, has_bias=True, eps=1e-5,
                        running_mean=mean, running_var=var, momentum=0.1)
    assert out.dtype == mean.dtype == var.dtype == np.float32
    assert all(grad.dtype == np.float32 for grad in train.backward(x))
    evaluate = BatchNormEval()
    out = evaluate.forward(x, gamma, beta, has_weight=True, has_bias=True, eps=1e-5,
                           running_mean=mean, running_var=var)
    assert out.dtype == np.float32
    assert all(grad.dtype == np.float32 for grad in evaluate.backward(x))


# --------------------------------------------------------------------------------------
# fold_batchnorm
# --------------------------------------------------------------------------------------


def trained_bn(bn, layer, x, batches=3):
    """Give `bn` non-trivial running statistics and affine parameters."""
    r = rng(11)
    for _ in range(batches):
        bn(layer(x * r.uniform(0.5, 2) + r.normal()))
    if bn.affine:
        bn.weight.data = r.uniform(0.5, 2, bn.num_features).astype(bn.weight.dtype)
        bn.bias.data = r.normal(size=bn.num_features).astype(bn.bias.dtype)
    return bn.eval()


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_fold_batchnorm_linear_and_conv(bias, affine):
    mg.manual_seed(0)
    cases = [(nn.Linear(6, 4, bias=bias), nn.BatchNorm1d(4, affine=affine), (10, 6)),
             (nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=bias),
              nn.BatchNorm2d(4, affine=affine), (2, 3, 7, 6))]
    for layer, bn, shape in cases:
        layer.double(), bn.double()
        x = mg.tensor(rng(1).normal(size=shape))
        trained_bn(bn, layer, x)
        before = {k: v.copy() for k, v in {**layer.state_dict(), **bn.state_dict()}.items()}
        folded = nn.fold_batchnorm(layer, bn)
        assert type(folded) is type(layer) and folded is not layer and folded.bias is not None
        # The issue asks for 1e-6; in float64 the fold is exact to rounding.
        np.testing.assert_allclose(folded(x).data, bn(layer(x)).data, rtol=1e-12, atol=1e-12)
        after = {**layer.state_dict(), **bn.state_dict()}
        assert all(np.array_equal(after[k], v) for k, v in before.items())  # inputs untouched
        if isinstance(layer, nn.Conv2d):
            assert (folded.stride, folded.padding) == (layer.stride, layer.padding)


def test_fold_batchnorm_keeps_float32():
    mg.manual_seed(1)
    for layer, bn, shape in [(nn.Linear(5, 3), nn.BatchNorm1d(3), (8, 5)),
                             (nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), (2, 3, 6, 6))]:
        x = mg.tensor(rng(2).normal(size=shape).astype(np.float32))
        trained_bn(bn, layer, x)
        folded = nn.fold_batchnorm(layer, bn)
        assert folded.weight.dtype == np.float32 and folded.bias.dtype == np.float32
        expected = bn(layer(x)).data
        # float32 rounds the two computations differently: 1e-6 of the output's scale.
        np.testing.assert_allclose(folded(x).data, expected, rtol=0,
                                   atol=1e-6 * np.abs(expected).max())


def test_fold_batchnorm_refusals():
    with pytest.raises(ValueError, match="4 output channels but the BatchNorm1d normalises 5"):
        nn.fold_batchnorm(nn.Linear(3, 4), nn.BatchNorm1d(5))
    with pytest.raises(ValueError, match="no running statistics"):
        nn.fold_batchnorm(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4, track_running_stats=False))
    with pytest.raises(TypeError, match="got Linear and BatchNorm2d"):
        nn.fold_batchnorm(nn.Linear(3, 4), nn.BatchNorm2d(4))
    with pytest.raises(TypeError, match="got ReLU and BatchNorm1d"):
        nn.fold_batchnorm(nn.ReLU(), nn.BatchNorm1d(4))


# --------------------------------------------------------------------------------------
# LayerNorm and GroupNorm
# --------------------------------------------------------------------------------------


def numpy_layer_norm(x, k, weight, bias, eps):
    axes = tuple(range(x.ndim - k, x.ndim))
    mean, var = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def numpy_group_norm(x, groups, weight, bias, eps):
    grouped = x.reshape(x.shape[0], groups, -1)
    mean, var = grouped.mean(2, keepdims=True), grouped.var(2, keepdims=True)
    out = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    return out * per_channel(weight, x.ndim) + per_channel(bias, x.ndim)


@pytest.mark.parametrize("normalized_shape", [4, (3, 4)])
def test_layer_norm_values_and_gradcheck(normalized_shape):
    r = rng(2)
    shape = (2, 3, 4)
    k = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    x = leaf(r.normal(1, 2, shape))
    weight, bias = leaf(r.uniform(0.5, 2, shape[-k:])), leaf(r.normal(size=shape[-k:]))
    out = F.layer_norm(x, normalized_shape, weight, bias, eps=1e-3)
    np.testing.assert_allclose(out.data, numpy_layer_norm(x.data, k, weight.data, bias.data,
                                                          1e-3), rtol=1e-12, atol=1e-12)
    weighting = mg.tensor(r.normal(size=shape))
    assert mg.gradcheck(lambda x, w, b: F.layer_norm(x, normalized_shape, w, b) * weighting,
                        [x, weight, bias], atol=1e-7, rtol=1e-5)
    module = nn.LayerNorm(normalized_shape).double()
    assert module.weight.shape == shape[-k:] and list(module.state_dict()) == ["weight", "bias"]
    np.testing.assert_allclose(module(x).data, numpy_layer_norm(x.data, k, 1, 0, 1e-5),
                               rtol=1e-12, atol=1e-12)
    assert nn.LayerNorm(4, elementwise_affine=False).weight is None


@pytest.mark.parametrize("shape, groups", [((3, 6), 2), ((2, 6, 5), 3), ((2, 4, 2, 3), 4)])
def test_group_norm_values_and_gradcheck(shape, groups):
    r = rng(4)
    x = leaf(r.normal(1, 2, shape))
    weight, bias = leaf(r.uniform(0.5, 2, shape[1])), leaf(r.normal(size=shape[1]))
    out = F.group_norm(x, groups, weight, bias, eps=1e-3)
    np.testing.assert_allclose(out.data, numpy_group_norm(x.data, groups, weight.data,
                                                          bias.data, 1e-3), rtol=1e-12, atol=1e-12)
    weighting = mg.tensor(r.normal(size=shape))
    assert mg.gradcheck(lambda x, w, b: F.group_norm(x, groups, w, b) * weighting,
                        [x, weight, bias], atol=1e-7, rtol=1e-5)
    module = nn.GroupNorm(groups, shape[1]).double()
    assert list(module.state_dict()) == ["weight", "bias"]
    np.testing.assert_allclose(module(x).data, numpy_group_norm(x.data, groups, 1, 0, 1e-5),
                               rtol=1e-12, atol=1e-12)


def test_group_norm_with_one_group_is_layer_norm_over_channels_and_positions():
    x = mg.tensor(rng(6).normal(size=(3, 4, 2, 2)))
    np.testing.assert_allclose(F.group_norm(x, 1).data, F.layer_norm(x, (4, 2, 2)).data,
                               rtol=1e-12, atol=1e-12)


def test_layer_and_group_norm_errors():
    with pytest.raises(ValueError, match=r"normalized_shape=\[5\] must match"):
        nn.LayerNorm(5)(mg.randn(2, 4))
    with pytest.raises(ValueError, match=r"normalized_shape=\[2, 4\] must match"):
        F.layer_norm(mg.randn(3, 4), (2, 4))
    with pytest.raises(ValueError, match=r"weight has shape \(3,\)"):
        F.layer_norm(mg.randn(2, 4), 4, weight=mg.ones(3))
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        F.group_norm(mg.randn(2, 6, 3), 4)
    with pytest.raises(ValueError, match="num_channels=6"):
        nn.GroupNorm(3, 6)(mg.randn(2, 9, 3))
    with pytest.raises(ValueError, match="eps must be a positive number"):
        nn.LayerNorm(4, eps=0)


# --------------------------------------------------------------------------------------
# PyTorch as an oracle (skipped when torch is not installed)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("momentum", [0.1, None])
def test_against_pytorch(implementation, momentum):
    torch = pytest.importorskip("torch")
    r = rng(8)
    ours = nn.BatchNorm2d(3, momentum=momentum, implementation=implementation).double()
    theirs = torch.nn.BatchNorm2d(3, momentum=momentum).double()
    for mode in ("train", "train", "eval"):
        ours.train(mode == "train"), theirs.train(mode == "train")
        data, grad_out = r.normal(1, 2, (4, 3, 3, 2)), r.normal(size=(4, 3, 3, 2))
        x, tx = leaf(data), torch.tensor(data, requires_grad=True)
        out, tout = ours(x), theirs(tx)
        out.backward(grad_out)
        tout.backward(torch.tensor(grad_out))
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-9)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-12)
    fresh = torch.nn.BatchNorm2d(3).double()
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = r.normal(size=(2, 3, 4, 4))
    layer_norm = torch.nn.functional.layer_norm(torch.tensor(x), (4, 4)).numpy()
    np.testing.assert_allclose(F.layer_norm(mg.tensor(x), (4, 4)).data, layer_norm, rtol=1e-10)
    group_norm = torch.nn.functional.group_norm(torch.tensor(x), 3).numpy()
    np.testing.assert_allclose(F.group_norm(mg.tensor(x), 3).data, group_norm, rtol=1e-10,
                               atol=1e-12)

