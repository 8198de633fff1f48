"""The losses of minigrad/ops/losses.py and nn/loss.py beyond plain cross-entropy (which is in
test_functional.py): every target ignored (#11.3), label smoothing, nll_loss, binary
cross-entropy on probabilities and on logits — by hand, by gradcheck, and against PyTorch."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

REDUCTIONS = ["mean", "sum", "none"]


def leaf(array):
    return mg.tensor(np.array(array, dtype=np.float64), requires_grad=True)


def log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# -- every target equal to ignore_index (#11.3) -----------------------------------------------


@pytest.mark.parametrize("name, smoothing",
                         [("cross_entropy", 0.0), ("cross_entropy", 0.1), ("nll_loss", 0.0)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_all_targets_ignored_give_zero_gradients(name, reduction, smoothing):
    kwargs = {"label_smoothing": smoothing} if smoothing else {}
    z = leaf(np.random.default_rng(0).normal(size=(3, 4)))
    loss = getattr(F, name)(z, np.full(3, -100), reduction=reduction, **kwargs)
    if reduction == "mean":
        assert np.isnan(loss.item())  # 0/0, as in PyTorch
    else:
        np.testing.assert_array_equal(loss.data, np.zeros(loss.shape))
    loss.sum().backward()
    np.testing.assert_array_equal(z.grad, np.zeros((3, 4)))  # never NaN


def test_one_sgd_step_on_an_all_ignored_batch_leaves_the_weights_finite_and_unchanged():
    mg.manual_seed(0)
    model = nn.Linear(3, 4)
    before = model.weight.data.copy()
    optimizer = mg.optim.SGD(model.parameters(), lr=0.1)
    loss = F.cross_entropy(model(mg.randn(5, 3)), np.full(5, 7), ignore_index=7)
    loss.backward()
    optimizer.step()
    assert np.isnan(loss.item())
    assert np.isfinite(model.weight.data).all() and np.isfinite(model.bias.data).all()
    np.testing.assert_array_equal(model.weight.data, before)


def test_zero_class_weights_give_pytorchs_nan_gradient_but_ignored_rows_stay_zero():
    z = leaf(np.zeros((2, 3)))
    F.cross_entropy(z, np.array([0, -100]), weight=np.array([0.0, 1.0, 1.0])).backward()
    assert np.isnan(z.grad[0]).all() and (z.grad[1] == 0).all()


# -- label smoothing ---------------------------------------------------------------------------


def test_label_smoothing_by_hand():
    z, t, eps = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]]), np.array([0, 2]), 0.3
    target = np.full((2, 3), eps / 3)
    target[[0, 1], t] += 1 - eps  # (1-ε)·onehot + ε/C
    expected_rows = -(target * log_softmax(z)).sum(axis=1)
    x = leaf(z)
    loss = F.cross_entropy(x, t, label_smoothing=eps)
    np.testing.assert_allclose(loss.item(), expected_rows.mean())
    loss.backward()
    np.testing.assert_allclose(x.grad, (np.exp(log_softmax(z)) - target) / 2)
    criterion = nn.CrossEntropyLoss(label_smoothing=eps, reduction="none")
    np.testing.assert_allclose(criterion(mg.tensor(z), t).data, expected_rows)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_label_smoothing_gradcheck_with_weights_and_ignored_rows(reduction, weighted):
    rng = np.random.default_rng(1)
    z, t = rng.normal(size=(5, 4)), np.array([0, 3, -100, 1, 3])
    weight = rng.uniform(0.5, 2, 4) if weighted else None
    assert mg.gradcheck(lambda x: F.cross_entropy(x, t, weight=weight, reduction=reduction,
                                                  label_smoothing=0.2), [leaf(z)])


def test_label_smoothing_out_of_range():
    with pytest.raises(ValueError, match="cross_entropy: label_smoothing must be between"):
        F.cross_entropy(mg.zeros(2, 3), np.array([0, 1]), label_smoothing=1.5)


# -- nll_loss ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_by_hand_and_gradcheck(reduction):
    log_probs = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]]))
    t, weight = np.array([0, 2, -100]), np.array([2.0, 1.0, 0.5])
    rows = np.array([-2.0 * log_probs[0, 0], -0.5 * log_probs[1, 2], 0.0])
    expected = {"none": rows, "sum": rows.sum(), "mean": rows.sum() / 2.5}[reduction]
    out = F.nll_loss(mg.tensor(log_probs), t, weight=weight, reduction=reduction)
    np.testing.assert_allclose(out.data, expected)
    assert mg.gradcheck(lambda x: F.nll_loss(x, t, weight=weight, reduction=reduction),
                        [leaf(log_probs)])
    criterion = nn.NLLLoss(weight=weight, reduction=reduction)
    np.testing.assert_allclose(criterion(mg.tensor(log_probs), t).data, expected)


def test_nll_of_log_softmax_is_cross_entropy():
    rng = np.random.default_rng(2)
    z, t = rng.normal(size=(4, 2, 3)), rng.integers(0, 2, size=(4, 3))  # (N, C, d) and (N, d)
    nll = F.nll_loss(F.log_softmax(mg.tensor(z), dim=1), t, reduction="none")
    assert nll.shape == (4, 3)
    np.testing.assert_allclose(nll.data, F.cross_entropy(mg.tensor(z), t, reduction="none").data)


def test_class_index_losses_against_pytorch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(3)
    z = rng.normal(size=(6, 4))
    cases = [np.array([0, 3, 1, -100, 2, 3]), np.full(6, -100), np.array([1, 1, 2, 0, 3, 3])]
    for t in cases:
        for weight in (None, rng.uniform(0.5, 2, 4)):
            for reduction in REDUCTIONS:
                for smoothing in (0.0, 0.25):
                    kwargs = {"weight": weight, "reduction": reduction}
                    torch_kwargs = {**kwargs, "weight": None if weight is None
                                    else torch.tensor(weight)}
                    for name in ("cross_entropy", "nll_loss"):
                        if name == "nll_loss" and smoothing:
                            continue
                        extra = {"label_smoothing": smoothing} if smoothing else {}
                        x, tz = leaf(z), torch.tensor(z, requires_grad=True)
                        ours = getattr(F, name)(x, t, **kwargs, **extra)
                        theirs = getattr(tf, name)(tz, torch.tensor(t), **torch_kwargs, **extra)
                        np.testing.assert_allclose(ours.data, theirs.detach().numpy(),
                                                   rtol=1e-10, atol=1e-12)
                        ours.sum().backward()
                        theirs.sum().backward()
                        np.testing.assert_allclose(x.grad, tz.grad.numpy(), rtol=1e-10,
                                                   atol=1e-12, err_msg=f"{name} {kwargs} {extra}")


# -- binary cross-entropy ----------------------------------------------------------------------


def test_binary_cross_entropy_by_hand_and_clamping():
    p, t = np.array([0.9, 0.2, 0.5]), np.array([1.0, 0.0, 1.0])
    expected = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    x = leaf(p)
    loss = F.binary_cross_entropy(x, t)
    np.testing.assert_allclose(loss.item(), expected.mean())
    loss.backward()
    np.testing.assert_allclose(x.grad, (p - t) / (p * (1 - p)) / 3)
    # log 0 is clamped at -100, as in PyTorch: a certain wrong answer costs 100, not inf
    certain = leaf([0.0, 1.0])
    wrong = F.binary_cross_entropy(certain, np.array([1.0, 0.0]), reduction="none")
    np.testing.assert_array_equal(wrong.data, [100.0, 100.0])
    wrong.sum().backward()
    assert np.isfinite(certain.grad).all()
    np.testing.assert_allclose(nn.BCELoss(weight=np.array([2.0, 1.0, 1.0]), reduction="sum")(
        mg.tensor(p), t).item(), expected.sum() + expected[0])


def test_binary_cross_entropy_with_logits_by_hand_and_stability():
    z, t = np.array([2.0, -1.0, 0.0, 40.0, -40.0]), np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    sigmoid = 1 / (1 + np.exp(-z))
    with np.errstate(divide="ignore"):
        expected = -(t * np.log(sigmoid) + (1 - t) * np.log1p(-sigmoid))
    expected[3:] = 40.0  # log(1 - σ(40)) underflows in the naive formula; the loss is 40
    x = leaf(z)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, sigmoid - t, rtol=1e-12)
    # pos_weight 3 on the positives: -(3·t·log σ + (1-t)·log(1-σ))
    out = nn.BCEWithLogitsLoss(pos_weight=np.array([3.0]), reduction="sum")(
        mg.tensor(z[:3].reshape(3, 1)), t[:3].reshape(3, 1))
    np.testing.assert_allclose(out.item(), 3 * expected[0] + expected[1] + 3 * expected[2])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses_gradcheck_for_input_and_target(reduction):
    rng = np.random.default_rng(4)
    p, z, t = rng.uniform(0.1, 0.9, (3, 2)), rng.normal(size=(3, 2)), rng.uniform(0, 1, (3, 2))
    weight, pos_weight = rng.uniform(0.5, 2, (3, 2)), rng.uniform(0.5, 3, 2)
    assert mg.gradcheck(lambda x, y: F.binary_cross_entropy(x, y, weight=weight,
                                                            reduction=reduction),
                        [leaf(p), leaf(t)])
    assert mg.gradcheck(lambda x, y: F.binary_cross_entropy_with_logits(
        x, y, weight=weight, pos_weight=pos_weight, reduction=reduction), [leaf(z), leaf(t)])
    assert mg.gradcheck(lambda x, y: F.binary_cross_entropy_with_logits(x, y), [leaf(z), leaf(t)])


def test_binary_losses_errors():
    with pytest.raises(ValueError, match="binary_cross_entropy: all elements of input should be "
                                         "between 0 and 1. Fix: apply sigmoid"):
        F.binary_cross_entropy(mg.tensor([0.5, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target of shape \(3,\) that is different from the "
                                         r"input shape \(3, 1\)"):
        F.binary_cross_entropy_with_logits(mg.zeros(3, 1), np.zeros(3))
    with pytest.raises(ValueError, match="pos_weight of shape"):
        F.binary_cross_entropy_with_logits(mg.zeros(3, 2), np.zeros((3, 2)), pos_weight=np.ones(3))
    with pytest.raises(ValueError, match="reduction must be"):
        nn.BCELoss(reduction="avg")


def test_binary_losses_against_pytorch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(5)
    p, z = rng.uniform(0, 1, (4, 3)), rng.normal(scale=5, size=(4, 3))
    p[0, 0], p[1, 1] = 0.0, 1.0  # the clamped logs
    t = rng.integers(0, 2, (4, 3)).astype(np.float64)
    t[2] = rng.uniform(0, 1, 3)  # soft targets
    weight, pos_weight = rng.uniform(0.5, 2, (4, 3)), rng.uniform(0.5, 3, 3)
    for reduction in REDUCTIONS:
        for name, data, kwargs in (
                ("binary_cross_entropy", p, {"weight": weight}),
                ("binary_cross_entropy_with_logits", z, {"weight": weight}),
                ("binary_cross_entropy_with_logits", z, {"pos_weight": pos_weight})):
            x, tx = leaf(data), torch.tensor(data, requires_grad=True)
            y, ty = leaf(t), torch.tensor(t, requires_grad=True)
            torch_kwargs = {k: torch.tensor(v) for k, v in kwargs.items()}
            ours = getattr(F, name)(x, y, reduction=reduction, **kwargs)
            theirs = getattr(tf, name)(tx, ty, reduction=reduction, **torch_kwargs)
            np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10)
            ours.sum().backward()
            theirs.sum().backward()
            # (rtol: at p = 1 the gradient is ~1e11, divided by the clamp 1e-12 in both)
            np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-8, atol=1e-12,
                                       err_msg=f"{name} {reduction} {list(kwargs)}")
            if name.endswith("logits"):  # PyTorch's BCE target gradient is unclamped at 0/1
                np.testing.assert_allclose(y.grad, ty.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_class_index_losses_on_spatial_input_against_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    z, t, weight = rng.normal(size=(3, 4, 5)), rng.integers(0, 4, (3, 5)), rng.uniform(0.5, 2, 4)
    t[0, 0] = -100
    for reduction in REDUCTIONS:
        for name, extra in (("cross_entropy", {"label_smoothing": 0.3}), ("nll_loss", {})):
            x, tz = leaf(z), torch.tensor(z, requires_grad=True)
            ours = getattr(F, name)(x, t, weight=weight, reduction=reduction, **extra)
            theirs = getattr(torch.nn.functional, name)(
                tz, torch.from_numpy(t), weight=torch.from_numpy(weight), reduction=reduction,
                **extra)
            np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
            ours.sum().backward()
            theirs.sum().backward()
            np.testing.assert_allclose(x.grad, tz.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "int64", "uint64", ">i8"])
def test_cross_entropy_checks_class_indices_of_every_integer_dtype(dtype):
    # The usual case checks all indices with one reduction over their unsigned view (negative
    # values become huge); every dtype must give the same loss and the same refusals.
    logits = mg.tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    expected = F.cross_entropy(logits, np.array([0, 2, 1, 2])).item()
    assert F.cross_entropy(logits, np.array([0, 2, 1, 2], dtype=dtype)).item() == expected
    for bad in ([0, 3, 1, 2], [0, 2, 1, 127]) + (([0, -1, 1, 2], [-128, 0, 0, 0])
                                                 if np.dtype(dtype).kind == "i" else ()):
        with pytest.raises(ValueError, match="target holds class"):
            F.cross_entropy(logits, np.array(bad, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [3, 10, 128])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_gradient_of_a_reduced_loss_is_exactly_the_array_formula(dtype, rows,
                                                                              reduction):
    # The backward of 'mean'/'sum' scales by a Python float (no ufunc call on a 0-d array):
    # the numbers must be those of (softmax - onehot) * (grad_output / rows) in NumPy.
    rng = np.random.default_rng(rows)
    z = rng.standard_normal((rows, 5)).astype(dtype)
    target = rng.integers(0, 5, rows)
    logits = mg.tensor(z, requires_grad=True)
    seed = np.asarray(0.37, dtype)
    F.cross_entropy(logits, target, reduction=reduction).backward(seed)
    shifted = z - z.max(axis=1, keepdims=True)
    expected = np.exp(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))
    expected[np.arange(rows), target] -= 1
    expected *= seed / rows if reduction == "mean" else seed
    np.testing.assert_array_equal(logits.grad, expected)


@pytest.mark.parametrize("dtype, classes, bad", [(np.int8, 300, -1), (np.int16, 40_000, -30_000)])
def test_small_signed_targets_with_more_classes_than_their_positive_range(dtype, classes, bad):
    # Seen as unsigned, int8's -100 is 156 and -1 is 255: below 300 classes. The one-reduction
    # check must not take such targets for valid classes (it did: -100 was read as a real
    # class and a bad -1 passed): ignore_index and refusals work as with int64 targets.
    rng = np.random.default_rng(1)
    logits = mg.tensor(rng.standard_normal((4, classes)).astype(np.float32), requires_grad=True)
    labels = [1, 2, -100, 3]
    F.cross_entropy(logits, np.array(labels, dtype=dtype)).backward()
    reference = mg.tensor(logits.data, requires_grad=True)
    expected = F.cross_entropy(reference, np.array(labels, dtype=np.int64))
    expected.backward()
    assert F.cross_entropy(logits, np.array(labels, dtype=dtype)).item() == expected.item()
    assert not logits.grad[2].any()  # the ignored row sends no gradient
    np.testing.assert_array_equal(logits.grad, reference.grad)
    for loss in (F.cross_entropy, lambda z, t: F.nll_loss(F.log_softmax(z, dim=1), t)):
        with pytest.raises(ValueError, match=f"target holds class {bad} "):
            loss(logits, np.array([1, bad, 3, 4], dtype=dtype))


# -- class weights given as a Tensor (a Tensor weight was dropped: the loss went unweighted) --


def _weighted_loss_cases(weight):
    """(criterion, input, target) for each loss module taking a class weight."""
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.0, -2.0, 0.0]])
    classes = np.array([0, 2, 1])
    probabilities, labels = np.array([0.2, 0.7, 0.9]), np.array([1.0, 0.0, 1.0])
    return [(nn.CrossEntropyLoss(weight=weight), logits, classes),
            (nn.NLLLoss(weight=weight), log_softmax(logits), classes),
            (nn.BCELoss(weight=weight), probabilities, labels),
            (nn.BCEWithLogitsLoss(weight=weight), probabilities, labels),
            (nn.BCEWithLogitsLoss(pos_weight=weight), probabilities, labels)]


def _by_hand(criterion, x, t, w):
    if isinstance(criterion, nn.CrossEntropyLoss | nn.NLLLoss):
        log_p = log_softmax(x) if isinstance(criterion, nn.CrossEntropyLoss) else x
        picked = -log_p[np.arange(3), t]
        return (w[t] * picked).sum() / w[t].sum()
    if isinstance(criterion, nn.BCELoss):
        return (-w * (t * np.log(x) + (1 - t) * np.log(1 - x))).mean()
    log_sigmoid, log_one_minus = -np.log1p(np.exp(-x)), -np.log1p(np.exp(x))
    if getattr(criterion, "pos_weight", None) is not None:
        return (-(w * t * log_sigmoid + (1 - t) * log_one_minus)).mean()
    return (-w * (t * log_sigmoid + (1 - t) * log_one_minus)).mean()


def test_a_class_weight_given_as_a_tensor_is_used_as_given_as_an_array():
    w = np.array([1.0, 5.0, 0.2])
    as_tensor, as_array = _weighted_loss_cases(mg.tensor(w)), _weighted_loss_cases(w)
    for (criterion, x, t), (twin, _, _) in zip(as_tensor, as_array, strict=True):
        name = "pos_weight" if getattr(criterion, "pos_weight", None) is not None else "weight"
        assert isinstance(getattr(criterion, name), mg.Tensor), criterion
        np.testing.assert_array_equal(getattr(criterion, name).data, w)
        assert name in criterion.state_dict()
        expected = _by_hand(criterion, x, t, w)
        unweighted = _by_hand(criterion, x, t, np.ones(3))
        assert not np.isclose(expected, unweighted)  # the weight matters in every case
        np.testing.assert_allclose(criterion(mg.tensor(x), t).item(), expected, rtol=1e-12)
        np.testing.assert_allclose(twin(mg.tensor(x), t).item(), expected, rtol=1e-12)


def test_a_class_weight_given_as_a_tensor_against_pytorch_and_through_to_torch():
    torch = pytest.importorskip("torch")
    w = np.array([1.0, 5.0, 0.2])
    torch_weight = torch.tensor(w)
    torch_losses = [torch.nn.CrossEntropyLoss(weight=torch_weight),
                    torch.nn.NLLLoss(weight=torch_weight),
                    torch.nn.BCELoss(weight=torch_weight),
                    torch.nn.BCEWithLogitsLoss(weight=torch_weight),
                    torch.nn.BCEWithLogitsLoss(pos_weight=torch_weight)]
    for (criterion, x, t), theirs in zip(_weighted_loss_cases(mg.tensor(w)), torch_losses,
                                         strict=True):
        expected = theirs(torch.tensor(x), torch.tensor(t)).item()
        np.testing.assert_allclose(criterion(mg.tensor(x), t).item(), expected, rtol=1e-12)
        bridged = nn.utils.to_torch(criterion)
        np.testing.assert_allclose(bridged(torch.tensor(x), torch.tensor(t)).item(), expected,
                                   rtol=1e-12)
