"""Training diagnostics: per-layer statistics of activations, gradients and updates.

The set of checks from Karpathy's "Building makemore part 3" lecture (2022), which asks of
every layer of a network in training:

* activations — mean, std and the share that is *saturated*: for tanh, |y| > 0.97 (where
  its slope 1 − y² is below 0.06, so almost no gradient passes); for sigmoid the same
  region, |2y − 1| > 0.97; for ReLU, the share of exact zeros (units that pass no
  gradient for this input); for leaky ReLU, the share on the negative slope;
* gradients at each layer's output — mean and std (they should neither shrink nor grow
  from layer to layer);
* for each parameter, the grad:data ratio std(grad) / std(data);
* for each optimiser step, the update:data ratio std(update) / std(data): around 1e-3
  is healthy; far above, the learning rate is too high; far below, too low.

    diagnostics = TrainingDiagnostics(model)        # forward hooks on every layer
    for x, y in batches:
        loss = criterion(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        with diagnostics.step():                    # snapshots parameters around the step
            optimiser.step()
    print(diagnostics.table())                      # or display it in Jupyter: an HTML table
    diagnostics.save_plots("out/")                  # needs matplotlib

With ``TrainingDiagnostics(model, log_dir="runs/bn")`` every optimiser step also goes to
TensorBoard (``tensorboard --logdir runs``): the statistics above as scalars, and per layer
histograms of activations, output gradients, parameter gradients and update ratios
(needs ``pip install 'minigrad[tensorboard]'``).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.viz.tensorboard import EventLog

SATURATION = 0.97  # Karpathy's threshold for tanh: |y| > 0.97
HEALTHY_UPDATE_RATIO = 1e-3  # std(update) / std(data) per step, ibid.

_REPLACED = "a newer TrainingDiagnostics(model) watches this model"

# The TrainingDiagnostics attached to each model (weakly: neither keeps the other alive), so
# that a new one replaces it instead of stacking a second set of hooks.
_attached: weakref.WeakKeyDictionary[Any, weakref.ref[TrainingDiagnostics]] = (
    weakref.WeakKeyDictionary())


def saturation(type_name: str, output: np.ndarray, threshold: float = SATURATION
               ) -> tuple[float, str] | None:
    """The share of `output` that is saturated for a layer of `type_name`, and the rule
    used (see the module docstring), or None when the layer has no saturated region."""
    if type_name == "Tanh":
        return float(np.mean(np.abs(output) > threshold)), f"|y|>{threshold:g}"
    if type_name == "Sigmoid":
        return float(np.mean(np.abs(2 * output - 1) > threshold)), f"|2y-1|>{threshold:g}"
    if type_name == "ReLU":
        return float(np.mean(output == 0)), "zeros"
    if type_name == "LeakyReLU":
        return float(np.mean(output < 0)), "negative"
    return None


def _std(array: np.ndarray) -> float:
    # (An inf makes it NaN, shown as "-": NumPy's warning from inside would add nothing,
    # and under a filter that turns warnings into errors it stopped the training.)
    with np.errstate(all="ignore"):
        return float(np.std(array, dtype=np.float64))


def _mean(array: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        return float(np.mean(array, dtype=np.float64))


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


@dataclass
class LayerRecord:
    """What one layer did in the last forward and backward pass."""

    name: str
    type_name: str
    mean: float = math.nan
    std: float = math.nan
    saturated: float | None = None
    rule: str = ""
    grad_mean: float = math.nan
    grad_std: float = math.nan
    output: np.ndarray | None = field(default=None, repr=False)
    grad: np.ndarray | None = field(default=None, repr=False)


@dataclass
class ParameterRecord:
    """One parameter at the last optimiser step, and its update:data ratio at every step."""

    name: str
    shape: tuple[int, ...]
    data_std: float = math.nan
    grad_mean: float = math.nan
    grad_std: float = math.nan
    grad_to_data: float = math.nan
    update_to_data: list[float] = field(default_factory=list)
    grad: np.ndarray | None = field(default=None, repr=False)


class TrainingDiagnostics:
    """Records per-layer statistics of `model` during training (see the module docstring).

    ``layers``: the modules to watch, as type names (``("Tanh", "BatchNorm1d")``) or None
    for every module without children. Only forward passes in training mode are recorded
    (an evaluation pass does not overwrite them). ``log_dir``: a folder for TensorBoard
    event files (as PyTorch's ``SummaryWriter(log_dir)``), written at every optimiser
    step; None writes none. Call `remove()` (or use ``with``) to detach the hooks and
    close the files.

    One per model: a new ``TrainingDiagnostics(model)`` detaches the one already attached
    to `model` (as `remove()` does), so re-running a notebook cell replaces it rather than
    stacking hooks (each set copies every layer's output at every step). The old object
    keeps what it recorded, for reading, but refuses to record more, saying why.
    """

    def __init__(self, model: Any, layers: tuple[str, ...] | None = None,
                 threshold: float = SATURATION, log_dir: str | Path | None = None) -> None:
        self.model = model
        self.threshold = threshold
        self.layers: dict[str, LayerRecord] = {}
        self.parameters: dict[str, ParameterRecord] = {
            name: ParameterRecord(name, tuple(p.shape)) for name, p in model.named_parameters()}
        self.steps = 0
        self._before: dict[str, np.ndarray] = {}
        self._removers: list[Any] = []
        self._replaced = False  # detached by a newer TrainingDiagnostics of the same model
        self.log: EventLog | None = None
        if log_dir is not None:
            self.log = EventLog(log_dir, caller="TrainingDiagnostics")
        for name, module in model.named_modules():
            type_name = type(module).__name__
            leaf = not any(True for _ in module.children())
            if (type_name in layers) if layers is not None else leaf:
                name = name or type_name  # the model itself, when it is a single layer
                self.layers[name] = LayerRecord(name, type_name)
                self._removers.append(module.register_forward_hook(self._forward_hook(name)))
        self._replace_attached()

    def _replace_attached(self) -> None:
        """Detach the TrainingDiagnostics already attached to this model, if any, and
        register this one in its place."""
        try:
            previous_ref = _attached.get(self.model)
        except TypeError:  # a model that cannot be weakly referenced: nothing to replace
            return
        previous = previous_ref() if previous_ref is not None else None
        if previous is not None and previous is not self:
            previous.remove()
            previous._replaced = True
        _attached[self.model] = weakref.ref(self)

    def _forward_hook(self, name: str) -> Any:
        record = self.layers[name]

        def hook(module: Any, inputs: tuple, output: Any) -> None:
            data = getattr(output, "data", None)
            if not module.training or not isinstance(data, np.ndarray):
                return  # evaluation passes would overwrite the training statistics
            record.output = np.array(data, copy=True)
            record.mean, record.std = _mean(data), _std(data)
            found = saturation(record.type_name, data, self.threshold)
            record.saturated, record.rule = found if found else (None, "")
            record.grad, record.grad_mean, record.grad_std = None, math.nan, math.nan
            if getattr(output, "requires_grad", False):
                output.register_hook(grad_hook)

        def grad_hook(grad: np.ndarray) -> None:
            record.grad = np.array(grad, copy=True)
            record.grad_mean, record.grad_std = _mean(grad), _std(grad)

        return hook

    # -- optimiser steps ------------------------------------------------------------------

    def _check_not_replaced(self, method: str) -> None:
        if self._replaced:
            raise RuntimeError(
                f"TrainingDiagnostics.{method}: this object was detached from its "
                f"{type(self.model).__name__} when a newer TrainingDiagnostics(model) was made "
                "(one per model: its hooks were removed, so it would record parameters but "
                "no layer). Fix: use the newer object, e.g. re-run the cell that assigns it, "
                "or make a new one here.")

    def before_step(self) -> None:
        """Call after ``backward()`` and before ``optimiser.step()``: records grad:data and
        remembers the parameters, so `after_step` can measure the update."""
        self._check_not_replaced("before_step")
        for name, parameter in self.model.named_parameters():
            record = self.parameters.setdefault(name, ParameterRecord(name, parameter.shape))
            record.data_std = _std(parameter.data)
            self._before[name] = np.array(parameter.data, copy=True)
            if parameter.grad is not None:
                grad = parameter.grad
                record.grad = np.array(grad, copy=True)
                record.grad_mean = _mean(grad)
                record.grad_std = _std(grad)
                record.grad_to_data = _ratio(record.grad_std, record.data_std)
            else:  # no gradient this step (unused, frozen): not the last step's numbers
                record.grad = None
                record.grad_mean = record.grad_std = record.grad_to_data = math.nan

    def after_step(self, **scalars: float) -> None:
        """Call after ``optimiser.step()``: records update:data for every parameter, and
        writes this step to TensorBoard when there is a ``log_dir`` (with any extra
        `scalars`, e.g. ``loss=loss.item()``)."""
        self._check_not_replaced("after_step")
        updates: dict[str, np.ndarray] = {}
        for name, parameter in self.model.named_parameters():
            before = self._before.pop(name, None)
            if before is not None:
                with np.errstate(all="ignore"):  # (inf - inf: NaN, shown as "-")
                    update = parameter.data.astype(np.float64) - before
                data_std = _std(before)
                self.parameters[name].update_to_data.append(_ratio(_std(update), data_std))
                if data_std > 0:
                    updates[name] = update / data_std  # its std is the update:data ratio
        if self.log is not None:
            self._write_step(updates, scalars)
        self.steps += 1

    @contextmanager
    def step(self, **scalars: float) -> Iterator[None]:
        """``with diagnostics.step(loss=loss.item()): optimiser.step()`` — `before_step`
        and `after_step` (the keyword scalars go to TensorBoard only)."""
        self._check_not_replaced("step")
        self.before_step()
        yield
        self.after_step(**scalars)

    def _write_step(self, updates: dict[str, np.ndarray], extra: dict[str, float]) -> None:
        """This step's statistics and histograms as TensorBoard events (see the module doc)."""
        assert self.log is not None
        scalars = {name: float(value) for name, value in extra.items()}
        histograms: dict[str, Any] = {}
        for name, layer in self.layers.items():
            scalars[f"activation_mean/{name}"] = layer.mean
            scalars[f"activation_std/{name}"] = layer.std
            scalars[f"gradient_std/{name}"] = layer.grad_std
            if layer.saturated is not None:
                scalars[f"saturated/{name}"] = layer.saturated
            histograms[f"activations/{name}"] = layer.output
            histograms[f"gradients/{name}"] = layer.grad
        for name, parameter in self.parameters.items():
            scalars[f"grad_to_data/{name}"] = parameter.grad_to_data
            if parameter.update_to_data:
                scalars[f"update_to_data/{name}"] = parameter.update_to_data[-1]
            histograms[f"parameter_gradients/{name}"] = parameter.grad
            histograms[f"update_ratios/{name}"] = updates.get(name)
        self.log.step(self.steps, scalars, histograms)

    # -- hooks ------------------------------------------------------------------------------

    def remove(self) -> None:
        """Detach the forward hooks and close the TensorBoard files."""
        for remover in self._removers:
            remover()
        self._removers.clear()
        if self.log is not None:
            self.log.close()
        try:
            if (found := _attached.get(self.model)) is not None and found() is self:
                del _attached[self.model]
        except TypeError:  # (not weakly referenceable: never registered)
            pass

    def __enter__(self) -> TrainingDiagnostics:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()

    # -- reports ------------------------------------------------------------------------------

    def table(self) -> str:
        """The statistics as a text table for the terminal."""
        lines = [f"(detached: {_REPLACED}; what it recorded before)"] if self._replaced else []
        lines += ["Layers (last forward and backward pass)",
                 f"  {'layer':<14}{'type':<13}{'mean':>9}{'std':>9}{'saturated':>17}"
                 f"{'grad mean':>12}{'grad std':>10}"]
        for record in self.layers.values():
            saturated = (f"{record.saturated:6.1%} {record.rule}" if record.saturated is not None
                         else "-")
            lines.append(f"  {record.name:<14.14}{record.type_name:<13.13}{_g(record.mean):>9}"
                         f"{_g(record.std):>9}{saturated:>17}{_g(record.grad_mean):>12}"
                         f"{_g(record.grad_std):>10}")
        lines += ["", f"Parameters (after {self.steps} optimiser step{'s' * (self.steps != 1)})",
                  f"  {'parameter':<16}{'shape':<10}{'data std':>10}{'grad std':>10}"
                  f"{'grad:data':>11}{'update:data':>13}{'(mean, last 10)':>17}"]
        low, high = HEALTHY_UPDATE_RATIO / 10, HEALTHY_UPDATE_RATIO * 10
        for parameter in self.parameters.values():
            ratios = parameter.update_to_data
            last = ratios[-1] if ratios else math.nan
            finite = [r for r in ratios[-10:] if r == r]
            recent = float(np.mean(finite)) if finite else math.nan
            lines.append(f"  {parameter.name:<16.16}{str(parameter.shape):<10.10}"
                         f"{_g(parameter.data_std):>10}{_g(parameter.grad_std):>10}"
                         f"{_g(parameter.grad_to_data):>11}"
                         f"{_g(last):>13}{_g(recent):>17}{_flag(recent, low, high)}")
        lines.append("  update:data near 1e-3 is healthy; far above (>>): "
                     "learning rate too high for it, far below (<<): it barely trains.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        logging = f", log_dir={str(self.log.log_dir)!r}" if self.log is not None else ""
        detached = f", detached: {_REPLACED}" if self._replaced else ""
        return (f"TrainingDiagnostics({type(self.model).__name__}: {len(self.layers)} layers, "
                f"{len(self.parameters)} parameters, {self.steps} steps{logging}{detached})")

    def _repr_html_(self) -> str:
        """The tables for Jupyter."""
        from minigrad.viz.report import diagnostics_html

        note = f"<p><b>Detached</b>: {_REPLACED}; what it recorded before.</p>"
        return (note if self._replaced else "") + diagnostics_html(self, HEALTHY_UPDATE_RATIO)

    def save_plots(self, directory: str | Path) -> list[Path]:
        """Histograms of activations, output gradients and weight gradients, and the
        update:data ratios over the steps, as PNG files in `directory` (needs matplotlib)."""
        from minigrad.viz import plots  # matplotlib is optional: imported only here

        return plots.save_all(self, Path(directory))


def _flag(ratio: float, low: float, high: float) -> str:
    if ratio < low:
        return "  <<"
    return "  >>" if ratio > high else ""


def _g(x: float) -> str:
    """A statistic in four significant digits, or '-' when there is none."""
    return "-" if x != x else f"{x:.3g}"
