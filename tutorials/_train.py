"""The plumbing every lesson shares: data splits, model builders, a training loop, evaluation.

Kept out of the lessons so that each lesson reads as its idea. Everything here is ordinary
minigrad code — mini-batches come from `mg.data.DataLoader`, exactly as a PyTorch user
would write them::

    from _train import digits_split, make_mlp, train

    split = digits_split(seed)                       # standardised 8x8 digits
    model = make_mlp([64, 100, 100, 10], nn.ReLU)
    log = train(model, split, steps=500, lr=0.1, seed=seed, target=0.9)
    log.curve                                        # validation accuracy every log.eval_every
    log.steps_to_target                              # first evaluation at >= 0.9, or inf
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.data import DataLoader, TensorDataset
from minigrad.optim import SGD


@dataclass
class Split:
    """A train/validation split of NumPy arrays: ``x_* (n, features) float32``, ``y_* (n,)
    int64``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    def __iter__(self) -> Iterator[np.ndarray]:  # unpacks like the old 4-tuple
        return iter((self.x_train, self.y_train, self.x_val, self.y_val))


def digits_split(seed: int, n_validation: int = 497) -> Split:
    """scikit-learn's bundled 8x8 digits (1,797 images, no download), shuffled with `seed`,
    1,300 for training and `n_validation` for validation.

    Pixels (0..16) are standardised with the training split's per-pixel mean and std, so the
    inputs have unit variance, as the initialisation formulas assume. The std is floored at
    one grey level: a pixel that is nearly constant in the training split would otherwise be
    divided by ~0 and explode in the validation split.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(10_000 + seed).permutation(len(digits.target))
    x = digits.data[order].astype(np.float32)
    y = digits.target[order].astype(np.int64)
    x_train, y_train = x[n_validation:], y[n_validation:]
    x_val, y_val = x[:n_validation], y[:n_validation]
    mean = x_train.mean(axis=0)
    std = np.maximum(x_train.std(axis=0), 1.0)
    return Split((x_train - mean) / std, y_train, (x_val - mean) / std, y_val)


def make_mlp(sizes: list[int], activation: Callable[[], nn.Module] = nn.ReLU,
             norm: Callable[[int], nn.Module] | None = None) -> nn.Sequential:
    """Linear layers ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` with `activation` after
    each hidden layer (and ``norm(width)`` between the Linear and the activation, if given)."""
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        layers.append(nn.Linear(fan_in, fan_out))
        if index < len(sizes) - 2:
            if norm is not None:
                layers.append(norm(fan_out))
            layers.append(activation())
    return nn.Sequential(*layers)


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """The Linear and Conv2d layers of `model`, in order."""
    return [m for m in model.modules() if isinstance(m, nn.Linear | nn.Conv2d)]


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 512) -> float:
    """Share of `x` that `model` classifies as `y`, in evaluation mode (BatchNorm uses its
    running statistics), without recording a graph. The model's mode is restored after."""
    was_training = model.training
    model.eval()
    correct = 0
    with mg.no_grad():
        for start in range(0, len(x), batch_size):
            logits = model(mg.tensor(x[start:start + batch_size])).data
            correct += int((logits.argmax(axis=1) == y[start:start + batch_size]).sum())
    model.train(was_training)
    return correct / len(x)


def forever(loader: DataLoader) -> Iterator[Any]:
    """Mini-batches from `loader`, epoch after epoch (each epoch reshuffled), without end."""
    while True:
        yield from loader


@dataclass
class TrainLog:
    """What `train` recorded: validation accuracy every `eval_every` steps (`curve`), the
    training loss of every step (`losses`), whether the loss became non-finite (`diverged`),
    and the first step at which `curve` reached the target (``inf`` if never)."""

    curve: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    eval_every: int = 25
    diverged: bool = False
    steps_to_target: float = math.inf
    steps_run: int = 0

    @property
    def final_accuracy(self) -> float:
        return self.curve[-1] if self.curve else float("nan")


def train(model: nn.Module, split: Split, steps: int, lr: float, seed: int = 0,
          batch_size: int = 64, eval_every: int = 25, momentum: float = 0.9,
          optimizer: Any = None, target: float | None = None, stop_at_target: bool = False,
          loss_fn: Callable[[Any, Any], Any] | None = None,
          after_backward: Callable[[int, Any], None] | None = None,
          prepare: Callable[[mg.Tensor], mg.Tensor] | None = None) -> TrainLog:
    """Train `model` on `split` with mini-batch SGD (momentum 0.9 by default) on
    cross-entropy for `steps` steps; evaluate on the validation split every `eval_every`.

    seed: shuffles the mini-batches (a `DataLoader` with its own generator).
    optimizer: use this one instead of ``SGD(model.parameters(), lr, momentum)``.
    target / stop_at_target: record the first evaluation at or above `target` in
        ``log.steps_to_target``; stop there if `stop_at_target`.
    after_backward(step, loss): called after ``loss.backward()`` and before the update — the
        place for a gradient-flow recorder or diagnostics.
    prepare(x_batch): reshape a batch before the model sees it (e.g. images for a CNN).
    A loss that becomes NaN or infinite ends the run with ``log.diverged = True``.
    """
    if optimizer is None:
        optimizer = SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(split.x_train, split.y_train), batch_size=batch_size,
                        shuffle=True, drop_last=True,
                        generator=np.random.default_rng(20_000 + seed))
    batches = forever(loader)
    x_val = split.x_val
    log = TrainLog(eval_every=eval_every)
    model.train()
    for step in range(1, steps + 1):
        x_batch, y_batch = next(batches)
        if prepare is not None:
            x_batch = prepare(x_batch)
        loss = loss_fn(model(x_batch), y_batch)
        value = loss.item()
        log.losses.append(value)
        log.steps_run = step
        if not math.isfinite(value):
            log.diverged = True
            break
        optimizer.zero_grad()
        loss.backward()
        if after_backward is not None:
            after_backward(step, loss)
        optimizer.step()
        if step % eval_every == 0:
            x_eval = x_val if prepare is None else prepare(mg.tensor(x_val)).data
            log.curve.append(accuracy(model, x_eval, split.y_val))
            if target is not None and log.curve[-1] >= target and math.isinf(
                    log.steps_to_target):
                log.steps_to_target = float(step)
                if stop_at_target:
                    break
    return log


def spread(values: list[float]) -> str:
    """``"mean (min–max)"`` of a few per-seed numbers, for the printed tables."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "never"
    text = f"{np.mean(finite):.3g} ({min(finite):.3g}–{max(finite):.3g})"
    missing = len(values) - len(finite)
    return text + (f", {missing} never" if missing else "")


class FlowWatch:
    """Watches the gradient flow of one training run: pass it as ``train(...,
    after_backward=watch)``.

    With the gradient-flow explorer (``mg.viz.GradientFlowRecorder``) it records every
    `every` steps, for `show_gradient_flow` to build one interactive page. It also draws the
    graph of the first step (``mg.viz.draw_graph``: boxes coloured by gradient size;
    `draw_options` such as ``collapse="Block"`` are passed on) before the optimizer changes
    anything — where vanishing gradients show most: a static picture for the README.
    ``train`` calls a plain ``loss.backward()``,
    which frees the graph (as in PyTorch) unless a recorder takes the pass: the recorder
    keeps the graph of every step it records, the first one included, so it can be drawn.
    """

    def __init__(self, model: nn.Module, every: int = 10, title: str = "",
                 **draw_options: Any) -> None:
        self.model, self.title, self.draw_options = model, title, draw_options
        self.optimizer: Any = None  # set it to the run's optimizer to record update ratios
        # (made before training: it takes the first step's backward pass, which keeps its
        # graph, so the first step can be drawn below)
        self.recorder: Any = mg.viz.GradientFlowRecorder(model, every=every)
        self.first_graph: Any = None

    def __call__(self, step: int, loss: Any) -> None:
        if self.recorder is not None:
            self.recorder.record(loss, optimizer=self.optimizer)
        if self.first_graph is None:
            options = {"compact": True, "rankdir": "TB", **self.draw_options}
            self.first_graph = mg.viz.draw_graph(loss, params=self.model,
                                                 title=self.title or None, **options)


def show_gradient_flow(watches: dict[str, FlowWatch], name: str, title: str) -> str:
    """Show the watched runs' gradient flow inline (and save it under the output folder):
    the explorer page comparing all runs when the explorer exists, else one graph per run.
    Returns ``"explorer"`` or ``"draw_graph"`` (what was shown)."""
    from _common import show_graph, show_page

    explorer = all(w.recorder is not None for w in watches.values())
    if explorer:
        try:
            page = mg.viz.explore({label: w.recorder for label, w in watches.items()},
                                  title=title)
        except mg.viz.GraphvizNotFoundError as error:  # the page is laid out by Graphviz;
            # the lesson's numbers and verdicts do not need it, so go on without the picture
            print(f"[page] not drawn: {error}")
            explorer = False
        else:
            show_page(page, name)
    for index, (label, watch) in enumerate(watches.items()):
        if watch.first_graph is not None:  # inline only without the explorer; saved always
            print(f"gradient flow at the first step — {label}")
            show_graph(watch.first_graph, f"{name}_{index}", display=not explorer)
    return "explorer" if explorer else "draw_graph"
