"""Finite gradients beyond ~1e154, whose squares are beyond float64, keep their finite
norm, RMS and std in `draw_graph` (labels, tooltips, arrow widths) and in the gradient-flow
recorder: they showed as inf, as if the gradient were not finite. A NaN or infinite
gradient still shows as inf."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, viz
from minigrad.viz.recorder import STAT_NAMES, GradientFlowRecorder
from minigrad.viz.statistics import NORM, RMS, STD, Workspace, root_sum_squares, summarise
from minigrad.viz.style import GradStats, norm

COLUMN = {name: i for i, name in enumerate(STAT_NAMES)}


def _norm(values) -> float:
    """The exact norm, computed where nothing overflows."""
    values = np.asarray(values, dtype=np.float64).ravel()
    return 1e200 * float(np.sqrt(np.sum((values / 1e200) ** 2)))


def _std(values) -> float:
    return 1e200 * float(np.std(np.asarray(values, dtype=np.float64) / 1e200))


def test_root_sum_squares_scales_instead_of_overflowing():
    values = np.array([1e200, -3e200, 2e200])
    assert root_sum_squares(values) == pytest.approx(math.sqrt(14) * 1e200, rel=1e-15)
    assert root_sum_squares(np.array([3.0, 4.0])) == 5.0
    assert root_sum_squares(np.zeros(3)) == 0.0
    assert root_sum_squares(np.full(4, 1e308)) == math.inf  # beyond float64 itself


def test_style_norm_and_grad_stats_of_a_huge_finite_gradient():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grad = np.array([1e200, -2e200, 3e200])
        stats = GradStats(grad)
        assert norm(grad) == pytest.approx(_norm(grad), rel=1e-14)
        assert stats.rms == pytest.approx(_norm(grad) / math.sqrt(3), rel=1e-14)
        assert stats.std == pytest.approx(_std(grad), rel=1e-14)
        assert stats.mean == pytest.approx(2e200 / 3, rel=1e-14)
        assert stats.finite
        huge = np.full(3, 1e307)  # its sum is beyond float64: the mean is scaled too
        assert GradStats(huge).mean == pytest.approx(1e307) and GradStats(huge).std == 0.0
        for bad in (np.array([1.0, np.inf]), np.array([1.0, np.nan]), np.array([1e200, np.nan])):
            assert norm(bad) == math.inf and GradStats(bad).rms == math.inf


def _graph_source(weights: np.ndarray) -> str:
    x = mg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True, name="x")
    h = x * mg.tensor(weights, name="w")
    h.name = "h"
    loss = h.sum()
    loss.backward(retain_graph=True)
    return viz.draw_graph(loss).source


def test_draw_graph_shows_a_huge_finite_gradient_and_its_arrow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        source = _graph_source(np.array([1e200, -2e200, 3e200]))
    grad = [1e200, -2e200, 3e200]
    rms = _norm(grad) / math.sqrt(3)
    assert f"grad RMS {rms:.3g}" in source and f"std {_std(grad):.3g}" in source
    arrow = next(line for line in source.splitlines() if "n0 -> n2" in line)
    assert f'label="{rms:.3g}"' in arrow and 'penwidth="6.00"' in arrow
    assert f"norm {_norm(grad):.6g}" in arrow
    assert "inf" not in source


def test_draw_graph_still_shows_an_infinite_gradient_as_inf():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (inf * 0 in backward: NaN, as intended)
        source = _graph_source(np.array([1.0, np.inf, 2.0]))
    arrow = next(line for line in source.splitlines() if "n0 -> n2" in line)
    assert 'label="inf"' in arrow and "grad RMS inf" in source


class _Split(nn.Module):
    def forward(self, x):
        return x * 2.0, x * 3.0


class _Joined(nn.Module):
    def __init__(self):
        super().__init__()
        self.split = _Split()

    def forward(self, x):
        a, b = self.split(x)
        return (mg.cat([a, b]) * mg.tensor(np.full(4, 1e200))).sum()


def test_an_arrow_of_several_huge_parts_adds_them_without_overflow():
    # A folded module sends its gradient to two nodes: the arrow's norm is the root of the
    # sum of their squared norms (each ~1.4e200: the squares overflowed).
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    loss = _Joined()(x)
    loss.backward(retain_graph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        source = viz.draw_graph(loss, collapse=["_Split"]).source
    assert "inf" not in source
    assert 'tooltip="gradient RMS 1e+200, norm 2e+200"' in source


def test_summarise_and_the_workspace_give_the_finite_norm_and_std():
    arrays = [np.array([1e200, -3e200, 2e200]), np.array([1.0, 2.0]), np.full(4, 1e250),
              np.array([5e199, 1e200, -1e200, 7e199, 2e200])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = Workspace(7).compute(arrays, 4, 0)
        reference = summarise(arrays, 7)
    assert found is not None
    for stats in (found[0], reference[0]):
        for i, array in enumerate(arrays):
            scale = np.max(np.abs(array))
            expected = scale * np.linalg.norm(array / scale)
            assert stats[i, NORM] == pytest.approx(expected, rel=1e-14), i
            assert stats[i, RMS] == pytest.approx(expected / math.sqrt(array.size), rel=1e-14)
            assert stats[i, STD] == pytest.approx(scale * np.std(array / scale), rel=1e-12,
                                                  abs=1e-300), i


@pytest.mark.parametrize("moments, squares_from", [(2, 0), (0, 0), (2, 1), (1, 1)])
def test_the_workspace_fixes_only_the_statistics_it_computes(moments, squares_from):
    arrays = [np.array([1e200, -3e200]), np.array([3e200, 4e200])]
    found = Workspace(5).compute(arrays, moments, squares_from)
    assert found is not None
    stats = found[0]
    for i, array in enumerate(arrays):
        if i < moments:
            assert stats[i, STD] == pytest.approx(1e200 * np.std(array / 1e200), rel=1e-14)
        else:
            assert np.isnan(stats[i, STD])
        if i >= squares_from:
            assert stats[i, NORM] == pytest.approx(1e200 * np.linalg.norm(array / 1e200),
                                                   rel=1e-14)
        else:
            assert np.isnan(stats[i, NORM])


def test_a_gradient_with_a_nan_or_inf_keeps_norm_inf():
    arrays = [np.array([1e200, np.nan, 2e200]), np.array([np.inf, 1.0]), np.array([3e200])]
    stats, _ = summarise(arrays, 5)
    assert np.isinf(stats[:2, [NORM, RMS]]).all()
    assert stats[2, NORM] == 3e200


def test_the_recorder_keeps_the_finite_norms_of_huge_gradients():
    mg.manual_seed(0)
    model = nn.Linear(3, 4).to(mg.float64)
    recorder = GradientFlowRecorder(model)
    x = mg.tensor(np.random.default_rng(0).normal(size=(5, 3)))
    out = model(x)
    loss = (out * mg.tensor(np.full((5, 4), 1e200))).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss.backward()
        assert recorder.record(loss)
    stats = recorder.box_stats[-1]
    names = [box.name or box.op for box in recorder.structure.boxes]
    for name, grad in (("weight", model.weight.grad), ("bias", model.bias.grad)):
        b = names.index(name)
        assert stats[b, COLUMN["grad_norm"]] == pytest.approx(_norm(grad), rel=1e-13)
        assert stats[b, COLUMN["grad_rms"]] == pytest.approx(_norm(grad) / math.sqrt(grad.size),
                                                             rel=1e-13)
        arrow = recorder.structure.arrows.index((b, names.index("linear")))
        assert recorder.arrow_norm[-1][arrow] == pytest.approx(_norm(grad), rel=1e-13)
    assert np.isfinite(stats[:, COLUMN["grad_norm"]][~np.isnan(stats[:, 0])]).all()


def test_the_recorder_keeps_the_finite_norm_of_an_arrow_carrying_part_of_a_gradient():
    # h feeds two ops: each arrow from it carries what that op sent back (kept_step's
    # arrow_parts), here 1e200 per element along one of them.
    mg.manual_seed(0)
    model = nn.Linear(3, 4).to(mg.float64)
    recorder = GradientFlowRecorder(model)
    h = model(mg.tensor(np.random.default_rng(0).normal(size=(5, 3))))
    loss = (h * mg.tensor(np.full((5, 4), 1e200))).sum() + (h * 2.0).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss.backward()
        assert recorder.record(loss)
    boxes = recorder.structure.boxes
    linear = next(b for b, box in enumerate(boxes) if box.op == "linear")
    norms = {target: recorder.arrow_norm[-1][k]
             for k, (source, target) in enumerate(recorder.structure.arrows) if source == linear}
    assert sorted(norms.values()) == pytest.approx([math.sqrt(20) * 2, math.sqrt(20) * 1e200],
                                                   rel=1e-13)


# -- spans beyond float64: finite elements of both signs near ±1.7e308 -----------------------

def _exact(values) -> tuple[float, float, float, float]:
    """Mean, std, rms and norm, computed on the values / their largest magnitude (nothing
    overflows there; the norm is inf only where it is beyond float64 itself)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    top = float(np.max(np.abs(values)))
    scaled = values / top
    return (top * float(scaled.mean()), top * float(scaled.std()),
            top * math.sqrt(float(np.mean(scaled ** 2))),
            top * math.sqrt(float(np.sum(scaled ** 2))))


def _halved_histogram(values, bins):
    values = np.asarray(values, dtype=np.float64).ravel() / 2
    return np.histogram(values, bins, range=(values.min(), values.max()))[0]


_VAST = [np.array([1.5e308, -1.5e308, 1.0, 3e307]),  # span 3e308; norm beyond float64
         np.array([1.2e308, -1.2e308, 5.0]),           # span 2.4e308; norm 1.7e308
         np.array([1.7e308, -1.7e308, -1.7e308]),      # differences from the mean overflow
         np.array([1.0, 2.0, 4.0])]


def test_summarise_and_the_workspace_bin_a_span_beyond_float64():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Workspace(7).compute(_VAST, 4, 0) is None  # (its fallback: summarise)
        stats, counts = summarise(_VAST, 7)
    for i, array in enumerate(_VAST):
        mean, std, rms, size = _exact(array)
        assert stats[i, STD] == pytest.approx(std, rel=1e-14) and math.isfinite(std)
        assert stats[i, 2] == pytest.approx(mean, rel=1e-14)  # MEAN
        assert stats[i, RMS] == pytest.approx(rms, rel=1e-14) and math.isfinite(rms)
        assert stats[i, NORM] == pytest.approx(size, rel=1e-14)
        assert counts[i].sum() == array.size
        np.testing.assert_array_equal(counts[i], _halved_histogram(array, 7))
    assert math.isfinite(stats[1, NORM]) and stats[0, NORM] == math.inf  # (beyond float64)


def test_grad_stats_of_a_span_beyond_float64():
    for array in _VAST:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            stats = GradStats(array)
        mean, std, rms, size = _exact(array)
        assert stats.std == pytest.approx(std, rel=1e-14) and math.isfinite(stats.std)
        assert stats.mean == pytest.approx(mean, rel=1e-14)
        assert stats.rms == pytest.approx(rms, rel=1e-14) and math.isfinite(stats.rms)
        assert stats.norm == pytest.approx(size, rel=1e-14)


def _vast_model():
    """A float64 Linear whose gradients have elements of both signs near ±1.5e308: its
    output's and its bias's are `upstream`, its weight's ``upstream.T @ x``. Weights and
    bias are 0, so that the forward pass (and the loss) stays finite."""
    model = nn.Linear(3, 4).to(mg.float64)
    model.weight.data[...] = 0.0
    model.bias.data[...] = 0.0
    upstream = np.array([[1.2e308, -1.2e308, 5.0, 3e307]])
    x = mg.tensor(np.array([[1.25, -1.25, 0.5]]), name="x")
    out = model(x)
    out.name = "out"
    loss = (out * mg.tensor(upstream, name="upstream")).sum()
    loss.name = "loss"
    return model, loss, upstream


def test_the_recorder_and_draw_graph_with_gradients_whose_span_is_beyond_float64():
    model, loss, upstream = _vast_model()
    recorder = GradientFlowRecorder(model, bins=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss.backward(retain_graph=True)
        assert recorder.record(loss)
        source = viz.draw_graph(loss).source
    weight_grad = model.weight.grad
    assert np.isfinite(weight_grad).all() and weight_grad.max() == 1.5e308
    stats = recorder.box_stats[-1]
    names = [box.name or box.op for box in recorder.structure.boxes]
    for name, grad in (("weight", weight_grad), ("bias", model.bias.grad)):
        b = names.index(name)
        _, std, rms, size = _exact(grad)
        assert stats[b, COLUMN["grad_rms"]] == pytest.approx(rms, rel=1e-13)
        assert math.isfinite(stats[b, COLUMN["grad_rms"]])
        assert stats[b, COLUMN["grad_norm"]] == pytest.approx(size, rel=1e-13)
        assert recorder.grad_hist[-1][b].sum() == grad.size
        np.testing.assert_array_equal(recorder.grad_hist[-1][b], _halved_histogram(grad, 9))
    # the bias's norm is finite (1.7e308), the weight's beyond float64 (2.5e308): inf
    assert math.isfinite(stats[names.index("bias"), COLUMN["grad_norm"]])
    assert (recorder.grad_hist[-1].sum(axis=1)[~np.isnan(stats[:, 0])] > 0).all()
    # draw_graph's labels: the gradient's rms and std, finite
    _, weight_std, weight_rms, _ = _exact(weight_grad)
    assert f"grad RMS {weight_rms:.3g}" in source and f"std {weight_std:.3g}" in source
    _, bias_std, bias_rms, _ = _exact(model.bias.grad)
    assert f"grad RMS {bias_rms:.3g}" in source and f"std {bias_std:.3g}" in source
