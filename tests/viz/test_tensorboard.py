"""TrainingDiagnostics(log_dir=...) writes TensorBoard events, read back with TensorBoard's
own reader; and its notebook displays."""

from __future__ import annotations

import builtins
import html

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.viz.diagnostics import TrainingDiagnostics
from minigrad.viz.tensorboard import EventLog


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.act1 = nn.Linear(3, 6), nn.Tanh()
        self.fc2 = nn.Linear(6, 2)

    def forward(self, x):
        return self.fc2(self.act1(self.fc1(x)))


def train(steps: int, log_dir=None):
    """`steps` SGD steps; returns the diagnostics and, per step, the tensors it should log."""
    mg.manual_seed(0)
    model = Net()
    optimiser = mg.optim.SGD(model.parameters(), lr=0.1)
    x = mg.tensor(np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32))
    seen = []
    diagnostics = TrainingDiagnostics(model, log_dir=log_dir)
    outputs = {}
    model.act1.register_forward_hook(lambda m, a, out: outputs.__setitem__("act1", out))
    for _ in range(steps):
        loss = (model(x) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        before = model.fc1.weight.data.copy()
        grad = model.fc1.weight.grad.copy()
        with diagnostics.step(loss=loss.item()):
            optimiser.step()
        update = (model.fc1.weight.data - before) / before.std()
        seen.append({"loss": loss.item(), "act1": outputs["act1"].data.copy(),
                     "fc1.weight grad": grad, "fc1.weight update": update})
    diagnostics.remove()
    return diagnostics, seen


def read_events(log_dir):
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator",
        reason="TensorBoard's reader is not installed (pip install tensorboard, part of "
               "minigrad's dev extra)")
    reader = event_accumulator.EventAccumulator(
        str(log_dir), size_guidance={event_accumulator.SCALARS: 0,
                                     event_accumulator.HISTOGRAMS: 0})
    reader.Reload()
    return reader


def test_each_step_is_written_as_tensorboard_scalars_and_histograms(tmp_path):
    pytest.importorskip("tensorboardX", reason="the [tensorboard] extra (tensorboardX) is not "
                                               "installed: pip install 'minigrad[tensorboard]'")
    diagnostics, seen = train(3, log_dir=tmp_path / "run")
    reader = read_events(tmp_path / "run")
    tags = reader.Tags()
    assert {"loss", "activation_std/act1", "saturated/act1", "update_to_data/fc1.weight",
            "grad_to_data/fc1.weight"} <= set(tags["scalars"])
    assert {"activations/act1", "gradients/act1", "parameter_gradients/fc1.weight",
            "update_ratios/fc1.weight"} <= set(tags["histograms"])

    losses = reader.Scalars("loss")
    assert [event.step for event in losses] == [0, 1, 2]
    assert [event.value for event in losses] == pytest.approx([s["loss"] for s in seen],
                                                              rel=1e-6)
    ratios = [event.value for event in reader.Scalars("update_to_data/fc1.weight")]
    assert ratios == pytest.approx(diagnostics.parameters["fc1.weight"].update_to_data,
                                   rel=1e-6)
    stds = [event.value for event in reader.Scalars("activation_std/act1")]
    assert stds[-1] == pytest.approx(seen[-1]["act1"].std(), rel=1e-5)

    for tag, key in (("activations/act1", "act1"), ("parameter_gradients/fc1.weight",
                                                    "fc1.weight grad"),
                     ("update_ratios/fc1.weight", "fc1.weight update")):
        events = reader.Histograms(tag)
        assert [event.step for event in events] == [0, 1, 2]
        for event, step in zip(events, seen):
            histogram, values = event.histogram_value, step[key].astype(np.float64)
            assert histogram.num == values.size
            assert histogram.sum == pytest.approx(values.sum(), abs=1e-6)
            assert histogram.min == pytest.approx(values.min(), rel=1e-6)
            assert histogram.max == pytest.approx(values.max(), rel=1e-6)
            assert sum(histogram.bucket) == values.size


def test_non_finite_values_are_counted_not_plotted(tmp_path):
    pytest.importorskip("tensorboardX", reason="the [tensorboard] extra is not installed")
    log = EventLog(tmp_path / "nan")
    log.step(0, scalars={"ok": 1.0, "bad": float("nan")},
             histograms={"h": np.array([1.0, np.nan, np.inf, 2.0])})
    log.close()
    reader = read_events(tmp_path / "nan")
    assert "bad" not in reader.Tags()["scalars"]
    assert reader.Scalars("nonfinite/h")[0].value == 2
    assert reader.Histograms("h")[0].histogram_value.num == 2


def test_without_tensorboardx_the_error_says_how_to_install(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_tensorboardx(name, *args, **kwargs):
        if name.startswith("tensorboardX"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboardx)
    with pytest.raises(ImportError, match=r"TrainingDiagnostics\(log_dir=...\).*"
                                          r"pip install 'minigrad\[tensorboard\]'"):
        TrainingDiagnostics(Net(), log_dir=tmp_path / "run")
    with pytest.raises(TypeError, match="log_dir"):
        EventLog(3)


def test_notebook_display_is_an_html_table_with_escaped_names():
    diagnostics, _ = train(2)
    text = repr(diagnostics)
    assert text == "TrainingDiagnostics(Net: 3 layers, 4 parameters, 2 steps)"
    page = diagnostics._repr_html_()
    assert page.count("<table>") == 2 and "after 2 optimiser steps" in page
    for name in ("fc1.weight", "act1", "Tanh"):
        assert f"<td>{name}</td>" in page
    ratio = diagnostics.parameters["fc1.weight"].update_to_data[-1]
    assert f"<td>{ratio:.3g}</td>" in page

    class Evil(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.add_module("<script>alert(1)</script>", nn.Linear(2, 2))

        def forward(self, x):
            return self._modules["<script>alert(1)</script>"](x)

    try:
        evil = TrainingDiagnostics(Evil())
    except ValueError:  # module names may be refused outright; then nothing to escape
        return
    page = evil._repr_html_()
    assert "<script>" not in page and html.escape("<script>alert(1)</script>") in page
