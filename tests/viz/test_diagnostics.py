"""Training diagnostics: the statistics are the ones computed by hand, and reports render."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.viz.diagnostics import TrainingDiagnostics, saturation


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.act1 = nn.Linear(3, 6), nn.Tanh()
        self.fc2, self.act2 = nn.Linear(6, 4), nn.ReLU()

    def forward(self, x):
        return self.act2(self.fc2(self.act1(self.fc1(x))))


def train_steps(steps: int = 3, lr: float = 0.1):
    mg.manual_seed(0)
    model = Net()
    diagnostics = TrainingDiagnostics(model)
    optimiser = mg.optim.SGD(model.parameters(), lr=lr)
    x = mg.tensor(np.random.default_rng(0).normal(size=(16, 3)) * 3, dtype=np.float32)
    captured = {}
    def capture(module, inputs, out):
        if out.requires_grad:  # an intermediate: backward keeps its .grad only when asked
            out.retain_grad()
        captured["act1"] = out

    model.act1.register_forward_hook(capture)
    snapshots = []
    for _ in range(steps):
        loss = (model(x) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        snapshots.append({n: p.data.copy() for n, p in model.named_parameters()})
        grads = {n: p.grad.copy() for n, p in model.named_parameters()}
        with diagnostics.step():
            optimiser.step()
    return model, diagnostics, captured, snapshots, grads


def test_saturation_rules():
    y = np.array([-0.99, -0.5, 0.0, 0.98, 0.2])
    assert saturation("Tanh", y) == (pytest.approx(2 / 5), "|y|>0.97")
    assert saturation("ReLU", np.array([0.0, 0.0, 1.0, 2.0]))[0] == pytest.approx(0.5)
    assert saturation("Sigmoid", np.array([0.001, 0.5, 0.999, 0.6]))[0] == pytest.approx(0.5)
    assert saturation("LeakyReLU", np.array([-0.01, 1.0]))[0] == pytest.approx(0.5)
    assert saturation("Linear", y) is None


def test_activation_and_gradient_statistics_match_the_tensors():
    model, diagnostics, captured, _, _ = train_steps()
    record = diagnostics.layers["act1"]
    out = captured["act1"]
    assert record.mean == pytest.approx(out.data.mean())
    assert record.std == pytest.approx(out.data.std())
    assert record.saturated == pytest.approx(np.mean(np.abs(out.data) > 0.97))
    assert record.saturated > 0  # the inputs were scaled up to saturate some units
    assert record.grad_mean == pytest.approx(out.grad.mean())
    assert record.grad_std == pytest.approx(out.grad.std())
    relu = diagnostics.layers["act2"]
    assert relu.rule == "zeros" and 0 <= relu.saturated <= 1
    assert set(diagnostics.layers) == {"fc1", "act1", "fc2", "act2"}


def test_grad_to_data_and_update_to_data_ratios():
    model, diagnostics, _, snapshots, grads = train_steps(steps=3, lr=0.1)
    weight = dict(model.named_parameters())["fc1.weight"]
    record = diagnostics.parameters["fc1.weight"]
    before = snapshots[-1]["fc1.weight"]
    assert record.grad_to_data == pytest.approx(grads["fc1.weight"].std() / before.std(),
                                                rel=1e-5)
    # Plain SGD: update = -lr * grad, so update:data = lr * std(grad) / std(data).
    assert record.update_to_data[-1] == pytest.approx(np.std(weight.data - before) /
                                                      before.std(), rel=1e-4)
    assert record.update_to_data[-1] == pytest.approx(0.1 * record.grad_to_data, rel=1e-3)
    assert len(record.update_to_data) == diagnostics.steps == 3


def test_evaluation_passes_do_not_overwrite_training_statistics():
    model, diagnostics, _, _, _ = train_steps()
    mean = diagnostics.layers["act1"].mean
    model.eval()
    with mg.no_grad():
        model(mg.ones(2, 3))
    assert diagnostics.layers["act1"].mean == mean
    model.train()
    diagnostics.remove()
    model(mg.ones(2, 3))
    assert diagnostics.layers["act1"].mean == mean


def test_table_lists_every_layer_and_parameter():
    model, diagnostics, _, _, _ = train_steps()
    table = diagnostics.table()
    for name in ["fc1", "act1", "fc2", "act2", "fc1.weight", "fc2.bias"]:
        assert name in table
    assert "|y|>0.97" in table and "zeros" in table
    assert "after 3 optimiser steps" in table and "update:data" in table


def test_plots_are_saved(tmp_path):
    pytest.importorskip("matplotlib")
    _, diagnostics, _, _, _ = train_steps()
    paths = diagnostics.save_plots(tmp_path)
    assert {p.name for p in paths} == {"activations.png", "gradients.png",
                                       "weight_gradients.png", "update_ratios.png"}
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)


def test_missing_matplotlib_gives_a_clear_error(tmp_path, monkeypatch):
    _, diagnostics, _, _, _ = train_steps(steps=1)
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        diagnostics.save_plots(tmp_path)


def test_a_parameter_without_a_gradient_this_step_shows_none_not_the_last_steps():
    class Skipping(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first, self.last = nn.Linear(2, 2), nn.Linear(2, 1)

        def forward(self, x: mg.Tensor, use_first: bool) -> mg.Tensor:
            return self.last(self.first(x) if use_first else x)

    mg.manual_seed(0)
    model = Skipping()
    optimiser = mg.optim.SGD(model.parameters(), lr=0.1)
    diagnostics = TrainingDiagnostics(model)
    x = mg.tensor(np.ones((4, 2), np.float32))
    for use_first in (True, False):
        loss = model(x, use_first).sum()
        optimiser.zero_grad()
        loss.backward()
        with diagnostics.step():
            optimiser.step()
    assert model.first.weight.grad is None
    record = diagnostics.parameters["first.weight"]
    assert record.grad is None and np.isnan(record.grad_std) and np.isnan(record.grad_to_data)
    assert np.isfinite(diagnostics.parameters["last.weight"].grad_std)


def test_a_diverged_weight_is_diagnosed_without_numpy_warnings():
    """Diverging training is what diagnostics are for: an inf weight made np.std warn from
    inside at every step (under a filter that turns warnings into errors: a crash)."""
    import warnings

    mg.manual_seed(0)
    model = Net()
    diagnostics = TrainingDiagnostics(model)
    optimiser = mg.optim.SGD(model.parameters(), lr=0.1)
    model.fc1.weight.data[0, 0] = np.inf
    x = mg.tensor(np.random.default_rng(0).normal(size=(8, 3)), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the forward and backward's own warnings)
        loss = model(x).sum()
        loss.backward()
    fc2_before = model.fc2.weight.data.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with diagnostics.step():
            optimiser.step()
        table = diagnostics.table()
    fc1, fc2 = diagnostics.parameters["fc1.weight"], diagnostics.parameters["fc2.weight"]
    assert np.isnan(fc1.data_std) and np.isnan(fc1.update_to_data[-1])  # shown as "-"
    assert fc2.data_std == pytest.approx(np.std(fc2_before, dtype=np.float64))
    update = model.fc2.weight.data.astype(np.float64) - fc2_before
    assert fc2.update_to_data[-1] == pytest.approx(np.std(update) / np.std(fc2_before))
    assert "fc1.weight" in table
    diagnostics.remove()


def _forward_hooks(model: nn.Module) -> list[int]:
    return [len(module._forward_hooks) for module in (model.fc1, model.act1, model.fc2,
                                                      model.act2)]


def test_a_new_diagnostics_on_the_same_model_replaces_the_old_one():
    """Re-running a notebook cell `diagnostics = TrainingDiagnostics(model)` stacked a set of
    forward hooks per run, each copying every layer's output at every step (20 steps took
    0.49 s, 0.82 s after four re-runs). The new object now detaches the old one."""
    mg.manual_seed(0)
    model = Net()
    optimiser = mg.optim.SGD(model.parameters(), lr=0.1)
    x = mg.tensor(np.random.default_rng(0).normal(size=(8, 3)), dtype=np.float32)
    runs = [TrainingDiagnostics(model) for _ in range(4)]  # the cell, run four times
    old, diagnostics = runs[0], runs[-1]
    assert _forward_hooks(model) == [1, 1, 1, 1]
    loss = (model(x) ** 2).mean()
    optimiser.zero_grad()
    loss.backward()
    with diagnostics.step():
        optimiser.step()
    assert np.isfinite(diagnostics.layers["act1"].mean) and diagnostics.steps == 1
    assert np.isnan(old.layers["act1"].mean)  # its hooks are gone: it saw no forward pass
    # Used by mistake (an old variable), it says what happened and what to do.
    refused = r"detached .*newer TrainingDiagnostics\(model\).*Fix: use the newer object"
    with pytest.raises(RuntimeError, match=refused):
        with old.step():
            optimiser.step()
    with pytest.raises(RuntimeError, match=refused):
        old.before_step()
    with pytest.raises(RuntimeError, match=refused):
        old.after_step()
    assert old.steps == 0
    assert "detached" in repr(old) and old.table().startswith("(detached")
    assert "Detached" in old._repr_html_()
    assert "detached" not in repr(diagnostics) + diagnostics.table()
    old.remove()  # harmless, and it does not detach the newer one
    assert _forward_hooks(model) == [1, 1, 1, 1]


def test_removed_diagnostics_are_not_marked_replaced_and_models_are_independent():
    mg.manual_seed(0)
    model, other = Net(), Net()
    first = TrainingDiagnostics(model)
    first.remove()
    second = TrainingDiagnostics(model)
    on_other = TrainingDiagnostics(other)
    assert "detached" not in repr(first)  # removed by its user: still usable for steps
    with first.step():
        pass
    assert _forward_hooks(model) == [1, 1, 1, 1] and _forward_hooks(other) == [1, 1, 1, 1]
    with second.step(), on_other.step():
        pass
    with TrainingDiagnostics(model) as third:  # replaces second; removes itself at the end
        assert "detached" in repr(second) and third.steps == 0
    assert _forward_hooks(model) == [0, 0, 0, 0]
