"""nn.functional: softmax family, cross-entropy, MSE, dropout, activations, linear."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


def rng(seed=0):
    return np.random.default_rng(seed)


def leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def reference_log_softmax(z, axis):
    """Straight from the definition, in float64 (fine for moderate logits)."""
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


# -- softmax and log_softmax ------------------------------------------------------------------


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_values_and_gradcheck(dim):
    z = rng(1).normal(size=(4, 5))
    np.testing.assert_allclose(F.log_softmax(mg.tensor(z), dim).data, reference_log_softmax(z, dim))
    probs = F.softmax(mg.tensor(z), dim).data
    np.testing.assert_allclose(probs, np.exp(reference_log_softmax(z, dim)))
    np.testing.assert_allclose(probs.sum(axis=dim), 1.0)
    assert mg.gradcheck(lambda z: F.softmax(z, dim), [leaf(z)])
    assert mg.gradcheck(lambda z: F.log_softmax(z, dim), [leaf(z)])


def test_softmax_is_stable_for_huge_logits():
    z = mg.tensor([[1000.0, 0.0, -1000.0], [-5000.0, -5000.0, -5000.0]])
    probs, log_probs = F.softmax(z, dim=1).data, F.log_softmax(z, dim=1).data
    assert np.isfinite(probs).all() and np.isfinite(log_probs).all()
    np.testing.assert_allclose(probs[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(log_probs[1], np.log([1 / 3] * 3), rtol=1e-6)
    assert z.softmax(dim=1).shape == (2, 3)  # also a Tensor method


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_requires_dim(name):
    # PyTorch guesses an axis (with a deprecation warning); minigrad asks for it.
    x = mg.randn(2, 3)
    for call in (lambda: getattr(F, name)(x), lambda: getattr(x, name)(),
                 lambda: getattr(nn, "Softmax" if name == "softmax" else "LogSoftmax")()):
        with pytest.raises(TypeError, match=rf"{name}: dim is required. Fix: .*dim=1"):
            call()


# -- cross_entropy ----------------------------------------------------------------------------


def reference_cross_entropy(z, t, weight=None, ignore_index=-100):
    log_probs = reference_log_softmax(z, 1)
    keep = t != ignore_index
    w = np.ones(z.shape[1]) if weight is None else weight
    row_weight = np.where(keep, w[np.where(keep, t, 0)], 0.0)
    losses = -log_probs[np.arange(len(t)), np.where(keep, t, 0)] * row_weight
    return losses, row_weight


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_values_and_gradcheck(reduction):
    z, t = rng(2).normal(size=(6, 4)), np.array([0, 3, 1, 1, 2, 3])
    losses, _ = reference_cross_entropy(z, t)
    expected = {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]
    np.testing.assert_allclose(F.cross_entropy(mg.tensor(z), t, reduction=reduction).data, expected)
    assert mg.gradcheck(lambda z: F.cross_entropy(z, t, reduction=reduction), [leaf(z)])


def test_cross_entropy_class_weights_and_ignore_index():
    z, t = rng(3).normal(size=(6, 4)), np.array([0, 3, -100, 1, 2, 3])
    weight = np.array([1.0, 2.0, 0.5, 3.0])
    losses, row_weight = reference_cross_entropy(z, t, weight)
    out = F.cross_entropy(mg.tensor(z), t, weight=weight)
    np.testing.assert_allclose(out.data, losses.sum() / row_weight.sum())  # PyTorch's weighted mean
    out = F.cross_entropy(mg.tensor(z), t, weight=mg.tensor(weight), reduction="none")
    np.testing.assert_allclose(out.data, losses)
    assert out.data[2] == 0.0
    assert mg.gradcheck(lambda z: F.cross_entropy(z, t, weight=weight), [leaf(z)])
    t2 = np.array([0, 3, 2, 1, 2, 3])
    assert mg.gradcheck(lambda z: F.cross_entropy(z, t2, ignore_index=2), [leaf(z)])


def test_cross_entropy_targets_as_tensor_or_array_and_other_input_ranks():
    z, t = rng(4).normal(size=(5, 3)), np.array([2, 0, 1, 1, 0])
    from_array = F.cross_entropy(mg.tensor(z), t)
    from_tensor = F.cross_entropy(mg.tensor(z), mg.tensor(t))
    assert from_array.item() == pytest.approx(from_tensor.item())
    # One sample: (C,) logits and a 0-d target.
    one = F.cross_entropy(mg.tensor(z[1]), np.array(0))
    assert one.item() == pytest.approx(-reference_log_softmax(z[1:2], 1)[0, 0])
    # (N, C, d) logits with (N, d) targets: classes on axis 1, as in PyTorch.
    z3, t3 = rng(5).normal(size=(2, 3, 4)), rng(6).integers(0, 3, size=(2, 4))
    flat_z, flat_t = z3.transpose(0, 2, 1).reshape(-1, 3), t3.reshape(-1)
    losses, _ = reference_cross_entropy(flat_z, flat_t)
    out = F.cross_entropy(mg.tensor(z3), t3, reduction="none")
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out.data, losses.reshape(2, 4))
    assert mg.gradcheck(lambda z: F.cross_entropy(z, t3), [leaf(z3)])


def test_cross_entropy_is_stable_and_keeps_float32():
    z = mg.tensor([[1e4, -1e4, 0.0], [0.0, 0.0, 3e4]], requires_grad=True)
    loss = F.cross_entropy(z, np.array([1, 2]))
    assert loss.dtype == np.float32
    assert loss.item() == pytest.approx(2e4 / 2)  # -log softmax = 2e4 for row 0, 0 for row 1
    loss.backward()
    assert np.isfinite(z.grad).all()


def test_cross_entropy_errors():
    z = mg.randn(4, 3)
    with pytest.raises(TypeError, match="integer class indices.*float"):
        F.cross_entropy(z, np.array([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"target of shape \(4,\).*got \(4, 1\).*reshape\(4,\)"):
        F.cross_entropy(z, np.zeros((4, 1), dtype=np.int64))
    with pytest.raises(ValueError, match=r"one-hot"):
        F.cross_entropy(z, np.zeros((4, 3), dtype=np.int64))
    with pytest.raises(ValueError, match=r"class 3 but the input has 3 classes"):
        F.cross_entropy(z, np.array([0, 1, 3, 1]))
    with pytest.raises(ValueError, match=r"class -1"):
        F.cross_entropy(z, np.array([0, 1, -1, 1]))
    with pytest.raises(ValueError, match="reduction must be"):
        F.cross_entropy(z, np.array([0, 1, 2, 1]), reduction="average")
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(z, np.array([0, 1, 2, 1]), weight=np.ones(4))


# -- mse_loss ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_values_and_gradcheck(reduction):
    x, y = rng(7).normal(size=(4, 3)), rng(8).normal(size=(4, 3))
    squared = (x - y) ** 2
    expected = {"mean": squared.mean(), "sum": squared.sum(), "none": squared}[reduction]
    np.testing.assert_allclose(F.mse_loss(mg.tensor(x), y, reduction=reduction).data, expected)
    assert mg.gradcheck(lambda x, y: F.mse_loss(x, y, reduction=reduction), [leaf(x), leaf(y)])


def test_mse_loss_array_target_keeps_the_input_dtype_and_shapes_must_match():
    x = mg.randn(5, 1)
    assert F.mse_loss(x, np.zeros((5, 1))).dtype == np.float32  # a float64 target does not promote
    with pytest.raises(ValueError, match=r"\(5, 1\) and target of shape \(5,\).*reshape"):
        F.mse_loss(x, np.zeros(5))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(x, np.zeros((5, 1)), reduction="max")


# -- dropout ------------------------------------------------------------------------------------


def test_dropout_gradcheck_with_a_fixed_mask():
    x = leaf(rng(9).normal(size=(4, 5)))
    assert mg.gradcheck(lambda x: F.dropout(x, 0.4, True, generator=np.random.default_rng(3)), [x])


def test_dropout_zeroes_with_probability_p_and_scales_the_rest():
    p, n = 0.3, 20_000
    x = mg.ones(n, dtype=np.float64)
    out = F.dropout(x, p, training=True, generator=np.random.default_rng(0)).data
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / (1 - p))
    # The number dropped is Binomial(n, p): allow five standard deviations.
    assert abs((~kept).sum() - p * n) < 5 * np.sqrt(n * p * (1 - p))
    # The same generator seed gives the same mask; the expected value is preserved.
    again = F.dropout(x, p, training=True, generator=np.random.default_rng(0)).data
    np.testing.assert_array_equal(out, again)
    assert abs(out.mean() - 1.0) < 5 * np.sqrt(p / (1 - p) / n)


def test_dropout_identity_cases_and_errors():
    x = mg.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


# -- activations and linear ------------------------------------------------------------------------


def test_activations_and_linear():
    x = rng(10).normal(size=(3, 4))
    np.testing.assert_allclose(F.relu(mg.tensor(x)).data, np.maximum(x, 0))
    np.testing.assert_allclose(F.leaky_relu(mg.tensor(x), 0.2).data, np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(F.tanh(mg.tensor(x)).data, np.tanh(x))
    np.testing.assert_allclose(F.sigmoid(mg.tensor(x)).data, 1 / (1 + np.exp(-x)))
    assert mg.gradcheck(lambda x: F.leaky_relu(x, 0.2), [leaf(x)])
    w, b = rng(11).normal(size=(2, 4)), rng(12).normal(size=2)
    np.testing.assert_allclose(F.linear(mg.tensor(x), mg.tensor(w), mg.tensor(b)).data, x @ w.T + b)
    assert mg.gradcheck(F.linear, [leaf(x), leaf(w), leaf(b)])
    with pytest.raises(TypeError, match="expected a Tensor"):
        F.relu(x)


def test_linear_with_a_1d_weight_is_a_dot_product_per_row_as_in_pytorch():
    # it ran forward, and backward failed in NumPy's matmul (_Linear's backward needs a matrix)
    x, w = np.arange(12.0).reshape(3, 4), np.array([1.0, 2.0, 3.0, 4.0])
    x_leaf, w_leaf = leaf(x), leaf(w)
    out = F.linear(x_leaf, w_leaf)
    np.testing.assert_array_equal(out.data, [20.0, 60.0, 100.0])
    out.sum().backward()
    np.testing.assert_array_equal(x_leaf.grad, np.tile(w, (3, 1)))
    np.testing.assert_array_equal(w_leaf.grad, x.sum(axis=0))
    assert mg.gradcheck(F.linear, [leaf(rng(14).normal(size=(2, 3, 4))), leaf(w)])
    for weight, bias in [(w, np.array(1.0)), (w, np.ones(1)), (np.ones((2, 2, 4)), None),
                         (np.array(2.0), None)]:
        with pytest.raises(ValueError, match=r"linear: weight of shape .* is not supported: the "
                                             r"weight must be 2-D .*Fix: weight\.reshape\(1, -1\)"):
            F.linear(mg.tensor(x), mg.tensor(weight), None if bias is None else mg.tensor(bias))


def test_linear_with_a_1d_weight_against_pytorch():
    torch = pytest.importorskip("torch")
    x, w = rng(15).normal(size=(2, 3, 4)), rng(16).normal(size=4)
    ours_x, ours_w = leaf(x), leaf(w)
    theirs_x = torch.tensor(x, requires_grad=True)
    theirs_w = torch.tensor(w, requires_grad=True)
    ours, theirs = F.linear(ours_x, ours_w), torch.nn.functional.linear(theirs_x, theirs_w)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ours_x.grad, theirs_x.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_w.grad, theirs_w.grad.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError):  # PyTorch refuses a bias with a 1-D weight for a 2-D
        # input (not for others: an artefact of its addmm path); minigrad always does
        torch.nn.functional.linear(theirs_x[0], theirs_w, torch.tensor(1.0))


def test_torch_oracle_cross_entropy():
    torch = pytest.importorskip("torch")
    z, t = rng(13).normal(size=(6, 4)), np.array([0, 3, 1, -100, 2, 3])
    weight = np.array([1.0, 2.0, 0.5, 3.0])
    z_ours = leaf(z)
    ours = F.cross_entropy(z_ours, t, weight=weight)
    ours.backward()
    z_theirs = torch.tensor(z, requires_grad=True)
    theirs = torch.nn.functional.cross_entropy(z_theirs, torch.tensor(t),
                                               weight=torch.tensor(weight))
    theirs.backward()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
    np.testing.assert_allclose(z_ours.grad, z_theirs.grad.numpy(), atol=1e-12)


# -- gelu, one_hot -----------------------------------------------------------------------------


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_values_gradcheck_and_module(approximate):
    import math

    z = np.array([-3.0, -0.5, 0.0, 0.7, 2.5])
    if approximate == "none":
        expected = z * 0.5 * (1 + np.array([math.erf(v / math.sqrt(2)) for v in z]))
    else:
        expected = 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))
    np.testing.assert_allclose(F.gelu(mg.tensor(z), approximate).data, expected, rtol=1e-12)
    assert mg.gradcheck(lambda x: F.gelu(x, approximate=approximate), [leaf(z)])
    layer = nn.GELU(approximate)
    assert repr(layer) == f"GELU(approximate={approximate!r})"
    out = layer(mg.tensor(z.astype(np.float32)))
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU("fast")


def test_gelu_against_pytorch():
    torch = pytest.importorskip("torch")
    z = rng(7).normal(scale=3, size=20)
    for approximate in ("none", "tanh"):
        x, t = leaf(z), torch.tensor(z, requires_grad=True)
        F.gelu(x, approximate).sum().backward()
        torch.nn.functional.gelu(t, approximate=approximate).sum().backward()
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_one_hot():
    out = F.one_hot(mg.tensor([[0, 2], [1, 2]]))
    assert out.shape == (2, 2, 3) and out.dtype == np.int64
    np.testing.assert_array_equal(out.data[0], [[1, 0, 0], [0, 0, 1]])
    assert F.one_hot(np.array([1]), num_classes=4).tolist() == [[0, 1, 0, 0]]
    with pytest.raises(ValueError, match=r"one_hot: class values must be in \[0, 2\]"):
        F.one_hot(np.array([3]), num_classes=3)
    with pytest.raises(ValueError, match="class values must be"):
        F.one_hot(np.array([-1, 0]))
    with pytest.raises(TypeError, match="one_hot: expected integer class indices"):
        F.one_hot(mg.tensor([0.0]))
    torch = pytest.importorskip("torch")
    labels = np.array([[3, 0], [1, 1]])
    for classes in (-1, 6):
        np.testing.assert_array_equal(
            F.one_hot(labels, classes).data,
            torch.nn.functional.one_hot(torch.from_numpy(labels), classes).numpy())
