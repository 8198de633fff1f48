"""Class weights that require grad are refused at the call, as PyTorch 2.13 refuses them.

The loss ops give ``weight`` (and ``pos_weight``) no gradient. A weight that requires grad
was accepted and silently stayed untrained; PyTorch raises at the forward ("The function
'nll_loss_forward' is not differentiable with respect to argument 'weight'")."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(4, 3)).astype(np.float32)
CLASSES = np.array([0, 1, 2, 1])
BINARY = (RNG.random((4, 3)) > 0.5).astype(np.float32)
WEIGHT = np.array([0.5, 2.0, 1.5], np.float32)


def _case(name, ns, functional, weight):
    """(op name, argument name, a call of the loss on `weight`) for minigrad or PyTorch."""
    tensor = ns.tensor
    logits = tensor(LOGITS, requires_grad=True)
    log_probs = logits.log_softmax(1)
    classes, binary = tensor(CLASSES), tensor(BINARY)
    return {
        "cross_entropy": lambda: functional.cross_entropy(logits, classes, weight=weight),
        "cross_entropy smoothed": lambda: functional.cross_entropy(
            logits, classes, weight=weight, label_smoothing=0.1, reduction="sum"),
        "nll_loss": lambda: functional.nll_loss(log_probs, classes, weight=weight,
                                                reduction="none"),
        "binary_cross_entropy": lambda: functional.binary_cross_entropy(
            logits.sigmoid(), binary, weight=weight),
        "binary_cross_entropy_with_logits": lambda: functional.binary_cross_entropy_with_logits(
            logits, binary, weight=weight),
        "pos_weight": lambda: functional.binary_cross_entropy_with_logits(
            logits, binary, pos_weight=weight),
    }[name]


CASES = {"cross_entropy": ("cross_entropy", "weight"),
         "cross_entropy smoothed": ("cross_entropy", "weight"),
         "nll_loss": ("nll_loss", "weight"),
         "binary_cross_entropy": ("binary_cross_entropy", "weight"),
         "binary_cross_entropy_with_logits": ("binary_cross_entropy_with_logits", "weight"),
         "pos_weight": ("binary_cross_entropy_with_logits", "pos_weight")}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("in_graph", [False, True], ids=["leaf", "computed"])
def test_a_weight_that_requires_grad_is_refused_at_the_call(case, in_graph):
    op, argument = CASES[case]
    weight = mg.tensor(WEIGHT, requires_grad=True)
    if in_graph:
        weight = weight * 1.0  # part of a graph: requires grad too
    with pytest.raises(RuntimeError, match=rf"^{op}: {argument} requires grad.*no gradient"
                                           rf".*Fix: pass {argument}={argument}\.detach\(\)"):
        _case(case, mg, F, weight)()


@pytest.mark.parametrize("case", list(CASES))
def test_a_detached_weight_or_no_grad_gives_the_same_loss(case):
    weight = mg.tensor(WEIGHT, requires_grad=True)
    detached = _case(case, mg, F, weight.detach())()
    assert detached.requires_grad
    with mg.no_grad():  # nothing is trained there: accepted, as in PyTorch
        under_no_grad = _case(case, mg, F, weight)()
    np.testing.assert_array_equal(under_no_grad.data, detached.data)
    detached.sum().backward()
    assert weight.grad is None


@pytest.mark.parametrize("module, argument", [
    (nn.CrossEntropyLoss, "weight"), (nn.NLLLoss, "weight"), (nn.BCELoss, "weight"),
    (nn.BCEWithLogitsLoss, "weight"), (nn.BCEWithLogitsLoss, "pos_weight")])
def test_a_loss_module_names_itself_in_the_fix(module, argument):
    loss = module(**{argument: mg.tensor(WEIGHT, requires_grad=True)})
    logits = mg.tensor(LOGITS, requires_grad=True)
    target = CLASSES if module in (nn.CrossEntropyLoss, nn.NLLLoss) else BINARY
    if module is nn.BCELoss:
        logits = logits.sigmoid()
    with pytest.raises(RuntimeError, match=rf"nn\.{module.__name__}\({argument}="
                                           rf"{argument}\.detach\(\)\)"):
        loss(logits, target)


@pytest.mark.parametrize("case", list(CASES))
def test_pytorch_refuses_the_same_calls_and_agrees_under_no_grad(case):
    torch = pytest.importorskip("torch")
    _, argument = CASES[case]
    weight = torch.tensor(WEIGHT, requires_grad=True)
    with pytest.raises(RuntimeError, match=f"not differentiable with respect to argument "
                                           f"'{argument}'"):
        _case(case, torch, torch.nn.functional, weight)()
    with torch.no_grad():
        theirs = _case(case, torch, torch.nn.functional, weight)()
    with mg.no_grad():
        ours = _case(case, mg, F, mg.tensor(WEIGHT, requires_grad=True))()
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)
