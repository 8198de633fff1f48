"""BatchNorm, both implementations: gradients, agreement, running statistics, errors.

The Ioffe & Szegedy §3.3 identity, float32, fold_batchnorm, LayerNorm, GroupNorm and the
PyTorch oracle are in test_normalization_properties.py. Every reference here is computed
independently in NumPy from the formulas of Ioffe & Szegedy 2015, never with minigrad.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

IMPLEMENTATIONS = ["fused", "composed"]
SHAPES = [(5, 3), (4, 3, 2), (3, 3, 2, 2)]  # (N, C), (N, C, L), (N, C, H, W)


def rng(seed=0):
    return np.random.default_rng(seed)


def leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def channel_axes(ndim):
    return (0, *range(2, ndim))


def per_channel(vector, ndim):
    return np.asarray(vector).reshape((1, -1) + (1,) * (ndim - 2))


def numpy_normalise(x, mean, var, weight, bias, eps):
    """γ·(x − mean)/√(var + eps) + β with per-channel statistics (Algorithm 1, steps 3–4)."""
    out = (x - per_channel(mean, x.ndim)) / np.sqrt(per_channel(var, x.ndim) + eps)
    if weight is not None:
        out = out * per_channel(weight, x.ndim)
    if bias is not None:
        out = out + per_channel(bias, x.ndim)
    return out


def problem(shape, affine=True, seed=0):
    """float64 input, γ, β, running statistics and an upstream gradient for one shape."""
    r = rng(seed)
    channels = shape[1]
    x = leaf(r.normal(1.5, 2.0, shape))
    weight = leaf(r.uniform(0.5, 2.0, channels)) if affine else None
    bias = leaf(r.normal(size=channels)) if affine else None
    running = (r.normal(size=channels), r.uniform(0.5, 3.0, channels))
    return x, weight, bias, running, r.normal(size=shape)


def run_batch_norm(implementation, shape, training, affine, seed=0):
    """Forward and backward; returns output, gradients and the running statistics after."""
    x, weight, bias, (mean, var), grad_out = problem(shape, affine, seed)
    running_mean, running_var = mg.tensor(mean.copy()), mg.tensor(var.copy())
    out = F.batch_norm(x, running_mean, running_var, weight, bias, training=training,
                       implementation=implementation)
    out.backward(grad_out)
    grads = [x.grad] + ([weight.grad, bias.grad] if affine else [])
    return out.data, grads, running_mean.data, running_var.data


# --------------------------------------------------------------------------------------
# Both implementations: correct gradients, identical results
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_gradcheck(implementation, training, shape, affine):
    x, weight, bias, (mean, var), grad_out = problem(shape, affine)
    running_mean, running_var = mg.tensor(mean), mg.tensor(var)
    weighting = mg.tensor(grad_out)  # sum(BN(x)) has zero gradient in training: weight it

    def fn(x, weight=None, bias=None):
        out = F.batch_norm(x, running_mean, running_var, weight, bias, training=training,
                           implementation=implementation)
        return out * weighting

    inputs = [x, weight, bias] if affine else [x]
    assert mg.gradcheck(fn, inputs, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES + [(6, 2, 3, 1, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_fused_and_composed_agree_to_1e_10(training, shape, affine):
    fused = run_batch_norm("fused", shape, training, affine)
    composed = run_batch_norm("composed", shape, training, affine)
    np.testing.assert_allclose(fused[0], composed[0], rtol=0, atol=1e-10)
    for grad_fused, grad_composed in zip(fused[1], composed[1]):  # dx, dγ, dβ
        np.testing.assert_allclose(grad_fused, grad_composed, rtol=0, atol=1e-10)
    np.testing.assert_allclose(fused[2], composed[2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(fused[3], composed[3], rtol=0, atol=1e-12)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_values_match_the_formula_in_both_modes(implementation, shape):
    x, weight, bias, (mean, var), _ = problem(shape)
    eps = 1e-3
    axes = channel_axes(len(shape))
    out = F.batch_norm(x, None, None, weight, bias, training=True, eps=eps,
                       implementation=implementation)
    expected = numpy_normalise(x.data, x.data.mean(axes), x.data.var(axes), weight.data,
                               bias.data, eps)  # biased variance normalises
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    out = F.batch_norm(x, mg.tensor(mean), mg.tensor(var), weight, bias, training=False,
                       eps=eps, implementation=implementation)
    np.testing.assert_allclose(out.data, numpy_normalise(x.data, mean, var, weight.data,
                                                         bias.data, eps), rtol=1e-12)


@given(n=st.integers(2, 5), c=st.integers(1, 4), spatial=st.lists(st.integers(1, 3), max_size=2),
       scale=st.floats(1e-2, 1e2), training=st.booleans(), seed=st.integers(0, 2**16))
def test_property_implementations_agree(n, c, spatial, scale, training, seed):
    shape = (n, c, *spatial)
    r = rng(seed)
    data, grad_out = r.normal(size=shape) * scale, r.normal(size=shape)
    results = []
    for implementation in IMPLEMENTATIONS:
        x = leaf(data)
        out = F.batch_norm(x, mg.tensor(np.full(c, 0.3)), mg.tensor(np.full(c, 2.0)),
                           training=training, implementation=implementation)
        out.backward(grad_out)
        results.append((out.data, x.grad))
    for fused, composed in zip(*results):
        np.testing.assert_allclose(fused, composed, rtol=1e-9, atol=1e-9)


def test_fused_backward_can_run_twice_and_accumulates():
    x, weight, bias, _, grad_out = problem((6, 3, 2))
    out = F.batch_norm(x, None, None, weight, bias, training=True, implementation="fused")
    out.backward(grad_out, retain_graph=True)
    first = x.grad.copy(), weight.grad.copy()
    out.backward(grad_out)  # the saved x̂ must be intact for a second pass
    np.testing.assert_allclose(x.grad, 2 * first[0], rtol=1e-12)
    np.testing.assert_allclose(weight.grad, 2 * first[1], rtol=1e-12)


def test_composed_graph_names_every_step_and_fused_is_one_node():
    bn = nn.BatchNorm2d(3, implementation="composed")
    x = mg.randn(2, 3, 2, 2, requires_grad=True)
    out = bn(x)
    names, stack, seen = set(), [out], set()
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            names.add(node.name)
            stack.extend(node._parents)
    assert {"mean", "centred", "squared", "var", "std", "x_hat", "scaled",
            "shifted"} <= names
    assert out.name == "shifted" and out._scope.type_name == "BatchNorm2d"
    bn.implementation = "fused"
    out = bn(x)
    assert out.op_name == "batch_norm" and out._parents == (x, bn.weight, bn.bias)
    bn.eval()
    assert bn(x).op_name == "batch_norm_eval"


def test_default_implementation_is_fused():
    assert nn.BatchNorm1d(2).implementation == "fused"
    assert F.batch_norm(mg.randn(4, 2, requires_grad=True), None, None).op_name == "batch_norm"


# --------------------------------------------------------------------------------------
# Running statistics
# --------------------------------------------------------------------------------------


def by_hand(batches, momentum):
    """Running statistics by the formulas: (1 − m)·running + m·stat, unbiased variance."""
    mean, var = np.zeros(batches[0].shape[1]), np.ones(batches[0].shape[1])
    for k, batch in enumerate(batches, start=1):
        factor = 1 / k if momentum is None else momentum
        axes = channel_axes(batch.ndim)
        mean = (1 - factor) * mean + factor * batch.mean(axes)
        var = (1 - factor) * var + factor * batch.var(axes, ddof=1)
    return mean, var


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("momentum", [0.1, 0.5, None, 0.0, 1.0])
@pytest.mark.parametrize("shape", SHAPES)
def test_running_statistics_after_several_batches(implementation, momentum, shape):
    layer = nn.BatchNorm1d if len(shape) < 4 else nn.BatchNorm2d
    bn = layer(shape[1], momentum=momentum, implementation=implementation).double()
    batches = [rng(seed).normal(seed, 1 + seed, shape) for seed in range(4)]
    for batch in batches:
        bn(leaf(batch))
    mean, var = by_hand(batches, momentum)
    np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(bn.running_var.data, var, rtol=1e-12, atol=1e-14)
    assert bn.num_batches_tracked.data.dtype == np.int64 and bn.num_batches_tracked.item() == 4

    # Evaluation normalises with these statistics and updates nothing.
    bn.eval()
    x = leaf(rng(9).normal(size=shape))
    out = bn(x)
    np.testing.assert_allclose(out.data, numpy_normalise(x.data, mean, var, bn.weight.data,
                                                         bn.bias.data, bn.eps), rtol=1e-10)
    before = [b.data.copy() for b in bn.buffers()]
    out.backward(np.ones(shape))
    bn(x)
    for buffer, old in zip(bn.buffers(), before):
        np.testing.assert_array_equal(buffer.data, old)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_float32_running_statistics_stay_float32(implementation):
    bn = nn.BatchNorm1d(3, implementation=implementation)
    batches = [rng(seed).normal(seed, 2, (8, 3)) for seed in range(3)]
    for batch in batches:
        bn(mg.tensor(batch.astype(np.float32)))
    mean, var = by_hand(batches, 0.1)
    assert bn.running_mean.dtype == np.float32 and bn.running_var.dtype == np.float32
    np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.running_var.data, var, rtol=1e-5)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_running_statistics_update_under_no_grad(implementation):
    bn = nn.BatchNorm1d(2, implementation=implementation)
    with mg.no_grad():
        out = bn(mg.randn(5, 2) + 3)
    assert not out.requires_grad
    assert bn.num_batches_tracked.item() == 1 and (bn.running_mean.data > 0.1).all()


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_without_running_statistics_batch_statistics_are_used_in_eval_too(implementation):
    bn = nn.BatchNorm2d(3, track_running_stats=False, implementation=implementation)
    assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
    assert list(bn.state_dict()) == ["weight", "bias"] and list(bn.buffers()) == []
    x = mg.tensor(rng().normal(2, 3, (4, 3, 2, 2)))
    training_out = bn(x).data
    bn.eval()
    eval_out = bn(x).data
    axes = channel_axes(4)
    expected = numpy_normalise(x.data, x.data.mean(axes), x.data.var(axes), None, None, 1e-5)
    np.testing.assert_allclose(eval_out, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(eval_out, training_out)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        bn(mg.randn(1, 3, 1, 1))  # batch statistics in eval too, so one value is refused


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_buffers_set_to_none_by_hand_work_as_in_pytorch(implementation, momentum):
    # PyTorch allows bn.num_batches_tracked = None (no count: momentum=None then updates
    # nothing) and all three buffers None (batch statistics always); training crashed with
    # a raw AttributeError.
    x = mg.tensor(rng().normal(2, 3, (6, 3)))
    uncounted = nn.BatchNorm1d(3, momentum=momentum, implementation=implementation)
    uncounted.num_batches_tracked = None
    uncounted(x)
    expected_mean = np.zeros(3) if momentum is None else 0.1 * x.data.mean(0)
    np.testing.assert_allclose(uncounted.running_mean.data, expected_mean, rtol=1e-5)
    stateless = nn.BatchNorm1d(3, momentum=momentum, implementation=implementation)
    for buffer in ("running_mean", "running_var", "num_batches_tracked"):
        setattr(stateless, buffer, None)
    batch_statistics = numpy_normalise(x.data, x.data.mean(0), x.data.var(0), None, None, 1e-5)
    for mode in (True, False):
        np.testing.assert_allclose(stateless.train(mode)(x).data, batch_statistics, rtol=1e-5,
                                   atol=1e-6)


def test_state_dict_keys_are_pytorchs_and_round_trip():
    bn = nn.BatchNorm1d(4)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert bn.state_dict()["num_batches_tracked"].dtype == np.int64
    assert list(nn.BatchNorm2d(4, affine=False).state_dict()) == [
        "running_mean", "running_var", "num_batches_tracked"]
    assert nn.BatchNorm2d(4, affine=False).weight is None
    np.testing.assert_array_equal(bn.weight.data, np.ones(4))
    np.testing.assert_array_equal(bn.bias.data, np.zeros(4))
    np.testing.assert_array_equal(bn.running_var.data, np.ones(4))
    for _ in range(3):
        bn(mg.randn(6, 4) * 2 + 1)
    copy = nn.BatchNorm1d(4)
    copy.load_state_dict(bn.state_dict())
    for key, value in bn.state_dict().items():
        np.testing.assert_array_equal(copy.state_dict()[key], value)
    assert copy.num_batches_tracked.item() == 3
    copy.reset_running_stats()
    assert copy.num_batches_tracked.item() == 0 and (copy.running_var.data == 1).all()
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LayerNorm(4), nn.GroupNorm(2, 4))
    assert list(model.state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
        "1.num_batches_tracked", "2.weight", "2.bias", "3.weight", "3.bias"]


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_one_value_per_channel_while_training_is_refused(implementation):
    for layer, shape in [(nn.BatchNorm1d, (1, 3)), (nn.BatchNorm1d, (1, 3, 1)),
                         (nn.BatchNorm2d, (1, 3, 1, 1))]:
        bn = layer(3, implementation=implementation)
        with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                             r"training, got input size \(1, 3"):
            bn(mg.randn(*shape))
        assert bn.num_batches_tracked.item() == 0  # a refused batch is not counted
        bn.eval()
        assert bn(mg.randn(*shape)).shape == shape  # running statistics: one sample is fine
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        F.batch_norm(mg.randn(1, 3), mg.zeros(3), mg.ones(3), training=True)


def test_wrong_number_of_dimensions_and_channels():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input"):
        nn.BatchNorm1d(3)(mg.randn(2, 3, 2, 2))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 1D input"):
        nn.BatchNorm1d(3)(mg.randn(3))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input"):
        nn.BatchNorm2d(3)(mg.randn(4, 3))
    with pytest.raises(ValueError, match="num_features=3"):
        nn.BatchNorm1d(3)(mg.randn(4, 5))
    with pytest.raises(ValueError, match="num_features=3"):
        nn.BatchNorm2d(3, affine=False, track_running_stats=False)(mg.randn(2, 4, 2, 2))
    with pytest.raises(ValueError, match=r"weight has shape \(4,\)"):
        F.batch_norm(mg.randn(4, 3), None, None, weight=mg.ones(4), training=True)
    with pytest.raises(ValueError, match=r"running_mean has shape \(2,\)"):
        F.batch_norm(mg.randn(4, 3), mg.zeros(2), mg.ones(2))
    with pytest.raises(ValueError, match="both running_mean and running_var"):
        F.batch_norm(mg.randn(4, 3), mg.zeros(3), None)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.batch_norm(mg.randn(4), None, None, training=True)
    with pytest.raises(TypeError, match="floating-point"):
        F.batch_norm(mg.tensor(np.arange(6).reshape(3, 2)), None, None, training=True)


def test_bad_eps_momentum_and_implementation():
    for eps in (0, -1e-5):
        with pytest.raises(ValueError, match="eps must be a positive number"):
            nn.BatchNorm1d(3, eps=eps)
        with pytest.raises(ValueError, match="eps must be a positive number"):
            F.batch_norm(mg.randn(4, 3), None, None, training=True, eps=eps)
    for momentum in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]"):
            nn.BatchNorm2d(3, momentum=momentum)
        with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]"):
            F.batch_norm(mg.randn(4, 3), mg.zeros(3), mg.ones(3), training=True,
                         momentum=momentum)
    with pytest.raises(ValueError, match="cumulative average"):
        F.batch_norm(mg.randn(4, 3), mg.zeros(3), mg.ones(3), training=True, momentum=None)
    with pytest.raises(ValueError, match="unknown implementation 'fast'"):
        nn.BatchNorm1d(3, implementation="fast")
    bn = nn.BatchNorm1d(3)
    bn.implementation = "slow"
    with pytest.raises(ValueError, match=r"\['composed', 'fused'\]"):
        bn(mg.randn(4, 3))
    with pytest.raises(ValueError, match="num_features must be a positive integer"):
        nn.BatchNorm1d(0)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 7), (2, 3, 4, 5)])
def test_the_per_channel_dot_is_numpys_einsum(shape):
    # _channel_dot calls NumPy's C einsum directly (no Python wrapper): same numbers.
    from minigrad.ops.normalization import _channel_dot, _einsum

    assert _einsum is np.einsum or _einsum.__name__ == "c_einsum"
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    flat = (shape[0], shape[1], -1)
    expected = np.einsum("ncl,ncl->c", a.reshape(flat), b.reshape(flat))
    if len(shape) == 2:
        expected = np.einsum("nc,nc->c", a, b)
    np.testing.assert_array_equal(_channel_dot(a, b), expected)
    np.testing.assert_allclose(_channel_dot(a, b), (a * b).sum(axis=(0, *range(2, len(shape)))),
                               rtol=1e-5)


def test_num_batches_tracked_is_counted_in_place_in_its_int64_array():
    bn = nn.BatchNorm1d(3)
    counter = bn.num_batches_tracked.data
    for _ in range(3):
        bn(mg.randn(4, 3))
    assert bn.num_batches_tracked.data is counter  # in place, as PyTorch's add_(1)
    assert counter.dtype == np.int64 and counter.shape == () and counter == 3
    assert bn.num_batches_tracked._version > 0  # the write was recorded


@pytest.mark.parametrize("shape", SHAPES)
def test_fused_parameter_gradients_are_arrays_of_their_own(shape):
    # The fused backward returns dγ and dβ as (C,) arrays it made (not views of (1, C, ...)
    # ones), so the parameters adopt them as .grad without a copy; same numbers as the sums
    # written out (reduced with keepdims, as before the change).
    from minigrad.ops.normalization import _channel_dot  # tested against einsum above

    bn = nn.BatchNorm1d(3) if len(shape) < 4 else nn.BatchNorm2d(3)
    x = mg.tensor(rng(3).standard_normal(shape).astype(np.float32))
    dy = rng(4).standard_normal(shape).astype(np.float32)
    out = bn(x)
    op_backward, sent = out._op.backward, []

    def spy(grad_output):
        grads = op_backward(grad_output)
        sent.extend(grads)
        return grads

    out._op.backward = spy
    out.backward(dy)
    _, sent_weight, sent_bias = sent
    assert sent_weight.flags.owndata and sent_bias.flags.owndata
    assert bn.weight.grad is sent_weight and bn.bias.grad is sent_bias  # adopted, no copy
    axes = channel_axes(len(shape))
    mean = np.add.reduce(x.data, axis=axes, keepdims=True) / (x.data.size // 3)
    centred = x.data - mean
    var = _channel_dot(centred, centred).reshape(mean.shape) / (x.data.size // 3)
    inv_std = 1 / np.sqrt(var + bn.eps)
    expected_bias = np.add.reduce(dy, axis=axes, keepdims=True).reshape(-1)
    expected_weight = (_channel_dot(dy, centred).reshape(mean.shape) * inv_std).reshape(-1)
    for parameter, expected in ((bn.weight, expected_weight), (bn.bias, expected_bias)):
        assert parameter.grad.shape == (3,)
        np.testing.assert_array_equal(parameter.grad, expected)
