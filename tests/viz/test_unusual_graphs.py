"""The visualiser on graphs a student meets outside the usual MLP: a lone leaf, a 0-d loss,
integer and bool tensors, transposed views, Value graphs, gradients that are inf or NaN.
Each draws, explores and records without a NumPy warning from inside minigrad (under a
filter that turns warnings into errors, one was an error), and the recorder's numbers are
NumPy's on the same arrays."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import numpy as np
import pytest

import minigrad as mg
from minigrad import viz
from minigrad.viz import style
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


def _nan_value() -> mg.Value:
    """A Value's gradient that is NaN: a * NaN sends NaN to a."""
    a, b = mg.Value(1.5, label="a"), mg.Value(float("nan"), label="b")
    out = a * b
    out.backward()
    return out


def _dot_attributes(line: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', line.split(">>", 1)[-1]))


@pytest.mark.parametrize("name", ["inf gradient", "NaN gradient", "NaN gradient of a Value"])
def test_a_gradient_that_is_not_finite_is_drawn_exploding_without_a_warning(name):
    """A NaN gradient had RMS and norm NaN: its boxes were filled with the colour of the
    smallest (vanishing) gradients and its arrows drawn the thinnest, under a red border
    that said the opposite. Every box and arrow it reaches is now the reddest, the widest."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss = _nan_value() if name.endswith("Value") else GRAPHS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        source = viz.draw_graph(loss, op_nodes=False).source
    lines = [line.strip() for line in source.splitlines()]
    boxes = [line for line in lines if "⚠" in line]
    exploding = {line.split(" ", 1)[0] for line in boxes}  # their DOT keys
    arrows = [line for line in lines if line.split(" -> ")[0] in exploding]
    # Tensors: the leaf, the product and the sum; the Value graph: a only (b's is 1.5).
    expected = 1 if name.endswith("Value") else 3
    assert source.count("⚠ exploding gradient") == len(boxes) == expected
    for line in boxes:
        attributes = _dot_attributes(line)
        assert attributes["fillcolor"] == style.PALETTE[-1]  # the top of the colour scale
        assert (attributes["color"], attributes["penwidth"]) == (style.EXPLODING_BORDER, "3")
        assert attributes["tooltip"].startswith("gradient RMS inf, norm inf")
    assert len(arrows) == max(1, expected - 1)  # (the sum's is the root: none out of it)
    for line in arrows:
        attributes = _dot_attributes(line)
        assert (attributes["label"], attributes["penwidth"]) == ("inf", "6")



def _one_arrow_infinite() -> mg.Tensor:
    """Arrows with gradient RMS inf (a * inf), 3 (b * 3), 0.01 (b * 0.01) and 1 (the rest)."""
    a = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = mg.tensor(np.array([3.0, -1.0]), requires_grad=True)
    loss = (a * np.inf).sum() + (b * 3.0).sum() + (b * 0.01).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss.backward(retain_graph=True)
    return loss


def test_one_infinite_gradient_leaves_the_finite_arrows_their_widths():
    # The widths were shares of the largest gradient, inf: every finite arrow was drawn
    # 0.5 points wide, the thinnest, whatever it carried.
    loss = _one_arrow_infinite()
    widths: dict[str, set[str]] = {}
    for line in viz.draw_graph(loss, op_nodes=False).source.splitlines():
        attributes = _dot_attributes(line)
        if " -> " in line and "penwidth" in attributes:
            widths.setdefault(attributes["label"], set()).add(attributes["penwidth"])
    share = {"3": 1.0, "1": 1 / 3, "0.01": 0.01 / 3}  # of the widest finite one
    assert widths == {"inf": {"6"}, **{label: {f"{0.5 + 5.5 * np.sqrt(part):.2f}"}
                                       for label, part in share.items()}}
    # The explorer fits its width scale on finite norms only (it had it right): the
    # widest is b * 3's norm, and the page's script draws an "inf" norm the widest.
    document = viz.explore(loss).document
    assert document["scale"]["widest"] == pytest.approx(3 * np.sqrt(2), rel=1e-5)
    assert "inf" in {norm for arrow in document["panels"][0]["arrows"]
                     for norm in arrow["norm"]}


def _stepped() -> tuple[mg.Tensor, mg.nn.Module]:
    """A training step in the order of a notebook cell that draws at its end: backward
    (graph kept), optimizer.step(), and only then the picture."""
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Tanh(), mg.nn.Linear(4, 1))
    loss = (model(mg.randn(5, 3)) ** 2).mean()
    loss.backward(retain_graph=True)
    mg.optim.SGD(model.parameters(), lr=0.1).step()
    return loss, model


_WRITTEN = ("a Parameter '2.weight' of shape (1, 4), input 1 of 'linear' in 2 (Linear), was "
            "written in place after the forward pass (its version changed, e.g. by "
            "optimizer.step())")


@pytest.mark.parametrize("tool", ["draw_graph", "explore"])
def test_drawing_after_the_optimizer_step_names_the_fix(tool):
    """The step changes the weights the Linear ops saved: recomputing their backward was
    refused by the engine, which the picture took for 'an op that cannot run again': the
    weights and everything before them drawn with no gradient, arrows marked '?'. The
    error says what was written, by what, and both fixes."""
    loss, model = _stepped()
    draw = viz.draw_graph if tool == "draw_graph" else viz.explore
    with pytest.raises(RuntimeError) as raised:
        draw(loss)
    again = "draw" if tool == "draw_graph" else "explore"
    assert str(raised.value) == (
        f"{tool}: cannot draw the gradients of this backward pass: {_WRITTEN}, so its "
        "backward, run again to find the gradients to draw, would not give those backward "
        f"computed. Fix: {again} right after loss.backward(retain_graph=True), before "
        "optimizer.step(); or call draw_graph(loss, show_grad=False) to draw the structure "
        "and the current values, without gradients.")


def test_drawing_after_the_optimizer_step_without_gradients_works_as_the_error_says():
    loss, model = _stepped()
    source = viz.draw_graph(loss, show_grad=False).source
    assert "grad" not in source and "legend" not in source and "⚠" not in source
    bias = model[2].bias
    before = float(bias.data[0] + 0.1 * bias.grad[0])  # SGD's lr=0.1
    assert style.number(float(bias.data[0])) in source  # the values are those of now
    assert style.number(before) not in source
    arrows = re.findall(r"^\tn\d+ -> n\d+", source, flags=re.MULTILINE)
    assert len(arrows) == sum(map(len, walk(loss)[1]))  # an arrow per edge
    assert viz.draw_graph(loss, show_grad=False, collapse="2").source.count("collapsed") == 1


def test_drawing_after_an_output_its_backward_reads_was_written_names_it():
    """exp's backward reads its own output: written after the pass, the picture's rerun was
    refused and taken for 'an op that cannot run again' (arrows '?', no error)."""
    w = mg.tensor(np.array([0.5, -1.0], np.float32), requires_grad=True)
    loss = w.sum().exp()
    loss.backward(retain_graph=True)
    with mg.no_grad():
        loss.data *= 2.0
    for tool, draw in (("draw_graph", viz.draw_graph), ("explore", viz.explore)):
        with pytest.raises(RuntimeError, match=rf"^{tool}: cannot draw the gradients of this "
                           r"backward pass: the result of exp of shape \(\), the output of "
                           r"'exp', which its backward reads, was written in place after the "
                           r"forward pass \(its version changed"):
            draw(loss)


def _overwritten_step(before: bool) -> tuple[viz.GradientFlowRecorder, mg.Tensor]:
    """A training step whose recorder was made before it (the engine hands it the pass's
    gradients: its main path) or after backward(retain_graph=True) (it recomputes them),
    recorded after optimizer.step() instead of before."""
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Tanh(), mg.nn.Linear(4, 1))
    optimizer = mg.optim.SGD(model.parameters(), lr=0.1)
    recorder = viz.GradientFlowRecorder(model) if before else None
    loss = (model(mg.randn(5, 3)) ** 2).mean()
    loss.backward(retain_graph=not before)
    optimizer.step()
    return recorder or viz.GradientFlowRecorder(model), loss


@pytest.mark.parametrize("made", ["before the step", "after backward"])
def test_recording_after_the_optimizer_step_names_the_fix(made):
    """Made before the step, the recorder read the gradients the engine handed over, and
    the arrows its op ran again for were recorded as NaN ('no gradient'), silently; the
    values were the new weights."""
    recorder, loss = _overwritten_step(made == "before the step")
    with pytest.raises(RuntimeError) as raised:
        recorder.record(loss)
    assert str(raised.value) == (
        f"GradientFlowRecorder.record: cannot record this step: {_WRITTEN}, so the "
        "gradients of this pass can no longer be read from its graph, and the values would "
        "be the new ones, not those the pass used. Fix: call record(loss) right after "
        "loss.backward(), before optimizer.step().")
    assert len(recorder) == 0 and recorder.calls == 1  # nothing half-recorded


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


def _written_elsewhere(before: bool, write: str) -> tuple[viz.GradientFlowRecorder, mg.Tensor]:
    """A step with BatchNorm whose recorder is made before it (main path) or after backward
    (recomputing path); then something is written that no backward of this pass reads."""
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.BatchNorm1d(4), mg.nn.Tanh(),
                             mg.nn.Linear(4, 1))
    outside = mg.nn.Linear(2, 2)  # a parameter this graph never used
    recorder = viz.GradientFlowRecorder(model) if before else None
    x = mg.randn(5, 3)
    loss = (model(x) ** 2).mean()
    loss.backward(retain_graph=not before)
    if write == "the loss":
        with mg.no_grad():
            loss.data += 1.0
    elif write == "running statistics":
        model(x)  # another train-mode forward: BatchNorm's running stats updated in place
    else:
        outside(mg.randn(1, 2)).sum().backward()
        mg.optim.SGD(outside.parameters(), lr=0.1).step()
    return recorder or viz.GradientFlowRecorder(model), loss


@pytest.mark.parametrize("made", ["before the step", "after backward"])
@pytest.mark.parametrize("write", ["the loss", "running statistics", "a parameter outside"])
def test_a_write_no_backward_of_the_pass_reads_is_recorded_and_drawn(made, write):
    """The refusal above is only for an input some backward of the pass reads: a write to
    the loss itself, to BatchNorm's running statistics or to a parameter outside the graph
    changes no gradient, and the step records and draws as usual."""
    recorder, loss = _written_elsewhere(made == "before the step", write)
    recorder.record(loss)
    assert len(recorder) == 1
    assert "Linear" in viz.draw_graph(loss).source  # the pass's graph is kept in both cases
