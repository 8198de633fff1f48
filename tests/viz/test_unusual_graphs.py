"""The visualiser on graphs a student meets outside the usual MLP: a lone leaf, a 0-d loss,
integer and bool tensors, transposed views, Value graphs, gradients that are inf or NaN.
Each draws, explores and records without a NumPy warning from inside minigrad (under a
filter that turns warnings into errors, one was an error), and the recorder's numbers are
NumPy's on the same arrays."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest

import minigrad as mg
from minigrad import viz
from minigrad.viz.recorder import STAT_NAMES
from minigrad.viz.walk import walk


def _leaf() -> mg.Tensor:
    return mg.tensor(np.array([1.0, -2.0, 4.0], np.float32), requires_grad=True)


def _lone_leaf() -> mg.Tensor:
    return mg.tensor(np.float32(-1.5), requires_grad=True)


def _zero_d() -> mg.Tensor:
    return mg.tensor(np.float32(3.0), requires_grad=True) * 2.0


def _integers_and_bools() -> mg.Tensor:
    w = _leaf()
    counts, mask = mg.tensor(np.array([3, 0, 7])), mg.tensor(np.array([True, False, True]))
    return (w * counts).sum() + (w * mask).sum()


def _transposed() -> mg.Tensor:
    w = mg.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4), requires_grad=True)
    return (w.T * mg.tensor(np.linspace(-1, 1, 3, dtype=np.float32))).sum()


def _values() -> mg.Value:
    a, b = mg.Value(2.0, label="a"), mg.Value(-3.0, label="b")
    return (a * b + a).tanh()


def _exploding() -> mg.Tensor:
    """A gradient of inf reaches every node."""
    w = _leaf()
    loss = (w * 2.0).sum()
    loss.backward(gradient=mg.tensor(np.float32(np.inf)), retain_graph=True)
    return loss


def _nan() -> mg.Tensor:
    w = _leaf()
    loss = (w * 2.0).sum()
    loss.backward(gradient=mg.tensor(np.float32(np.nan)), retain_graph=True)
    return loss


def _inf_both_ways() -> mg.Tensor:
    """y - y sends +inf and -inf back along one arrow: their sum is NaN (exploding)."""
    y = _leaf() * 2.0
    loss = ((y - y) + y).sum()
    loss.backward(gradient=mg.tensor(np.float32(np.inf)), retain_graph=True)
    return loss


GRAPHS: dict[str, Callable[[], object]] = {
    "lone leaf": _lone_leaf, "0-d loss": _zero_d, "integers and bools": _integers_and_bools,
    "transposed view": _transposed, "values": _values, "inf gradient": _exploding,
    "NaN gradient": _nan, "inf both ways along one arrow": _inf_both_ways,
}


def _backward(loss: object) -> None:
    if viz.walk.has_gradient(loss):  # (made with its own backward)
        return
    if isinstance(loss, mg.Value):
        loss.backward()
    else:
        loss.backward(retain_graph=True)


@pytest.mark.parametrize("name", GRAPHS)
def test_unusual_graphs_draw_explore_and_record_quietly_with_numpys_numbers(name):
    mg.manual_seed(0)
    recorder = viz.GradientFlowRecorder(bins=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (backward's own warnings are not the visualiser's)
        loss = GRAPHS[name]()
        _backward(loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy RuntimeWarning from inside is an error
        viz.draw_graph(loss)
        viz.explore(loss)
        assert recorder.record(loss)
    nodes = sorted(walk(loss)[0], key=lambda node: node._seq)  # the boxes' order
    stats = recorder.box_stats[0]
    assert stats.shape == (len(nodes), len(STAT_NAMES))
    for box, node in enumerate(nodes):
        values = np.asarray(node.data, dtype=np.float64).reshape(-1)
        finite = values[np.isfinite(values)]
        np.testing.assert_allclose(stats[box, STAT_NAMES.index("value_mean")],
                                   finite.mean(), rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(stats[box, STAT_NAMES.index("value_std")],
                                   finite.std(), rtol=1e-6, atol=1e-12)
        assert recorder.value_hist[0][box].sum() == finite.size
        grad = getattr(node, "grad", None)
        if not node._parents and node.requires_grad and grad is not None:  # a leaf's .grad
            grad = np.asarray(grad, dtype=np.float64).reshape(-1)
            rms = stats[box, STAT_NAMES.index("grad_rms")]
            if np.isfinite(grad).all():
                np.testing.assert_allclose(rms, np.sqrt(np.mean(grad ** 2)), rtol=1e-6)
            else:  # exploding, never the size of its finite part
                assert rms == np.inf


@pytest.mark.parametrize("name", ["inf gradient", "NaN gradient"])
def test_a_gradient_that_is_not_finite_is_drawn_exploding_without_a_warning(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss = GRAPHS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        source = viz.draw_graph(loss).source
    assert source.count("⚠ exploding gradient") == 3  # the leaf, the product, the sum


def _stepped() -> tuple[mg.Tensor, mg.nn.Module]:
    """A training step in the order of a notebook cell that draws at its end: backward
    (graph kept), optimizer.step(), and only then the picture."""
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Tanh(), mg.nn.Linear(4, 1))
    loss = (model(mg.randn(5, 3)) ** 2).mean()
    loss.backward(retain_graph=True)
    mg.optim.SGD(model.parameters(), lr=0.1).step()
    return loss, model


@pytest.mark.parametrize("tool", ["draw_graph", "explore"])
def test_drawing_after_the_optimizer_step_names_the_fix(tool):
    """The step changes the weights the Linear ops saved: recomputing their backward was
    refused by the engine, which the picture took for 'an op that cannot run again': the
    weights and everything before them drawn with no gradient, arrows marked '?'."""
    loss, model = _stepped()
    draw = viz.draw_graph if tool == "draw_graph" else viz.explore
    with pytest.raises(RuntimeError, match=rf"^{tool}: cannot recompute the gradients of this "
                       r"backward pass: an input of 'linear' in 2 \(Linear\) was changed in "
                       r"place .*optimizer\.step\(\).*Fix: draw right after "
                       r"loss\.backward\(retain_graph=True\), before optimizer\.step\(\)"):
        draw(loss, params=model)


def test_recording_after_the_optimizer_step_names_the_fix():
    loss, model = _stepped()
    recorder = viz.GradientFlowRecorder(model)  # made after backward: it recomputes
    with pytest.raises(RuntimeError, match=r"^GradientFlowRecorder\.record: cannot recompute"
                       r".*Fix: call record\(loss\) right after loss\.backward\(\), before "
                       r"optimizer\.step\(\)"):
        recorder.record(loss)


def test_recording_a_loss_that_cannot_have_a_gradient_names_that_fix():
    """A loss of integer tensors, or one computed under no_grad(), was told to call
    loss.backward() first, which refuses it (it does not require grad)."""
    model = mg.nn.Linear(2, 1)
    with mg.no_grad():
        under_no_grad = model(mg.randn(3, 2)).sum()
    for loss in (mg.tensor(np.arange(3)).sum(), under_no_grad):
        with pytest.raises(ValueError, match=r"^GradientFlowRecorder\.record: the loss does "
                           r"not require grad.*Fix: make the parameters with "
                           r"requires_grad=True .*outside no_grad\(\)"):
            viz.GradientFlowRecorder(model).record(loss)


def test_exploring_a_loss_that_cannot_have_a_gradient_says_why_not_call_backward():
    """Its page said "No gradient yet ... Fix: call loss.backward(retain_graph=True)", which
    refuses such a loss."""
    note = viz.explore(mg.tensor(np.arange(3.0)).sum()).document["panels"][0]["note"]
    assert note.startswith("This loss does not require grad") and "No gradient yet" not in note
    assert "Fix: make the parameters with requires_grad=True" in note
