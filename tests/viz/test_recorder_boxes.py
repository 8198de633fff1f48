"""GradientFlowRecorder: every kept step's boxes hold what the first step's did (the same
parameters, dtypes and shapes but the batch size), and the update:data ratio of empty or
resized parameters."""

from __future__ import annotations

import gc
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.examples import BatchNormMLP
from minigrad.viz.recorder import GradientFlowRecorder
from minigrad.viz.spreads import Spreads


class _TwoHeads(nn.Module):
    """Uses `small` or `big` in the same ops: the graph's ops, modules and arrows are the
    same either way."""

    def __init__(self) -> None:
        super().__init__()
        self.small = nn.Parameter(np.ones(3, dtype=np.float32))
        self.big = nn.Parameter(np.ones(5, dtype=np.float64))

    def forward(self, use_big: bool) -> mg.Tensor:
        return (self.big if use_big else self.small).exp().sum()


def _record(recorder: GradientFlowRecorder, loss: mg.Tensor) -> bool:
    loss.backward()
    return recorder.record(loss)


def test_another_parameter_in_a_box_is_reported_not_mixed_in():
    model = _TwoHeads()
    recorder = GradientFlowRecorder(model)
    assert _record(recorder, model(False))
    with pytest.raises(ValueError, match=r"differs from the one recorded first \(the same ops "
                       r"and arrows, but box 0 \(small\) holds another parameter \(shape \(5,\)"
                       r"\)\).*new recorder"):
        _record(recorder, model(True))
    assert len(recorder) == 1  # nothing mixed in
    assert _record(recorder, model(False))  # the recorded parameter again: fine


def test_a_box_of_another_dtype_is_reported():
    mg.manual_seed(0)
    model = BatchNormMLP(2, 8, 3, implementation="fused")
    recorder = GradientFlowRecorder(model)
    x = np.random.default_rng(0).normal(size=(16, 2))
    assert _record(recorder, nn.CrossEntropyLoss()(model(mg.tensor(x, dtype=np.float32)),
                                                   np.arange(16) % 3))
    model.double()  # the same parameters, cast in place
    with pytest.raises(ValueError, match=r"holds dtype float64, recorded float32.*new recorder"):
        _record(recorder, nn.CrossEntropyLoss()(model(mg.tensor(x)), np.arange(16) % 3))
    assert len(recorder) == 1


def test_only_the_batch_dimension_of_a_box_may_change():
    weight = mg.tensor(np.ones(3), requires_grad=True)
    recorder = GradientFlowRecorder()

    def loss_of(batch: np.ndarray) -> mg.Tensor:
        return (mg.tensor(batch) * weight).sum()

    assert _record(recorder, loss_of(np.ones((4, 3))))
    assert _record(recorder, loss_of(np.ones((2, 3))))  # a last smaller batch: fine
    assert _record(recorder, loss_of(np.ones((9, 3))))  # (any batch size)
    with pytest.raises(ValueError, match=r"box 1 \(.:constant#0\) holds shape \(4, 1\), "
                       r"recorded \(4, 3\)"):
        _record(recorder, loss_of(np.ones((4, 1))))  # broadcast: same ops, another shape
    assert len(recorder) == 3


def test_the_plan_holds_the_parameters_weakly():
    """(The recorded structure's module clusters hold their modules, and so parameters,
    anyway; the plan adds no reference of its own.)"""
    model = _TwoHeads()
    recorder = GradientFlowRecorder(model)
    assert _record(recorder, model(False))
    plan = recorder._plan
    assert [ref() for ref in plan.parameter_refs] == [model.small]
    held = [id(value) for value in vars(plan).values()]
    assert not [r for r in gc.get_referrers(model.small) if id(r) in held]


def test_leaves_made_anew_at_each_step_take_their_boxes():
    """Leaf tensors that are not a module's parameters (inputs that require grad, a loop
    that makes new weights each step) may change from step to step, even while the old
    ones live on."""
    recorder = GradientFlowRecorder()
    data, kept = np.array([0.5, -1.0, 2.0]), []
    for _ in range(3):
        weight = mg.tensor(data, requires_grad=True)
        kept.append(weight)
        assert _record(recorder, (weight * weight).sum())
        data = data - 0.1 * weight.grad
    assert len(recorder) == 3
    assert not np.isnan(recorder.update_data[0]).any()


def _reference(before: list[np.ndarray], after: list[np.ndarray]) -> list[float]:
    ratios = []
    for b, a in zip(before, after):
        a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
        spread = np.std(a) if a.size else 0.0
        ratios.append(np.std(a - b) / spread if spread > 0 else np.nan)
    return ratios


@pytest.mark.parametrize("empty_at", [0, 1, 2])
def test_an_empty_parameter_has_no_update_ratio_and_the_others_theirs(empty_at):
    before = [np.arange(6.0), np.array([1.0, 3.0])]
    before.insert(empty_at, np.zeros(0))
    spreads = Spreads()
    for _ in range(2):  # (the second time with the kept layout)
        spreads.keep(before)
        after = [b * 1.1 + 0.05 for b in before]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ratios = spreads.ratio(after)
        np.testing.assert_allclose(ratios, _reference(before, after), rtol=1e-12)
        assert np.isnan(ratios[empty_at]) and not np.isnan(np.delete(ratios, empty_at)).any()
    spreads.keep([np.zeros(0)])
    assert np.isnan(spreads.ratio([np.zeros(0)])).all()


def test_a_parameter_whose_size_changed_has_no_update_ratio():
    """Sizes that changed between keep and ratio (even two that swap, the total the same)
    give NaN for those parameters, the others' ratios as before."""
    spreads = Spreads()
    before = [np.arange(4.0), np.arange(2.0), np.array([1.0, -1.0, 2.0])]
    spreads.keep(before)
    after = [np.arange(2.0) * 3, np.arange(4.0) * 5, before[2] * 1.5]
    ratios = spreads.ratio(after)
    assert np.isnan(ratios[:2]).all()
    np.testing.assert_allclose(ratios[2], _reference(before[2:], after[2:])[0], rtol=1e-12)
    spreads.keep([np.arange(4.0)])
    assert np.isnan(spreads.ratio([np.arange(5.0)])).all()


def test_the_recorder_measures_an_empty_parameter_as_nan_and_the_others_right():
    w = mg.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    empty = mg.tensor(np.zeros(0), requires_grad=True)
    bias = mg.tensor(np.array([0.5, 0.1]), requires_grad=True)
    recorder = GradientFlowRecorder()
    for step in range(2):
        x = mg.tensor(np.array([1.0, 2.0, 3.0]) + step)
        loss = (w * x).sum() + empty.sum() + bias.sum()
        loss.backward()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            recorder.record(loss)
        if step == 0:
            before = [p.data for p in (w, empty, bias)]
        for p in (w, empty, bias):
            p.data = p.data - 0.1 * p.grad * np.arange(1, p.data.size + 1)
            p.grad = None
        if step == 0:
            expected = _reference(before, [p.data for p in (w, empty, bias)])
    # The parameter boxes, in box order, by their shapes.
    shapes = [recorder.structure.boxes[b].shape for b in recorder.structure.parameters]
    by_shape = {(3,): expected[0], (0,): expected[1], (2,): expected[2]}
    np.testing.assert_allclose(recorder.update_data[0], [by_shape[s] for s in shapes],
                               rtol=1e-12)
    assert np.isnan(recorder.update_data[0]).sum() == 1
