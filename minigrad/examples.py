"""Small ready-made models and graphs, for the `minigrad` command, the README and tests.

* `ScalarMLP` — micrograd's MLP on `Value` scalars (the scalar benchmark uses it), and
  `scalar_demo`, its training on two moons (`minigrad demo --scalar`).
* `MLP`, `BatchNormMLP`, `SmallCNN` — tiny `nn.Module` networks with named layers, so
  their graphs draw as clusters titled ``fc1 (Linear)``, ``bn1 (BatchNorm1d)``, ...
* `GRAPH_EXAMPLES` / `build_graph(name)` — one forward and backward pass of each, ready
  for `minigrad.viz.draw_graph` (``backward(retain_graph=True)``: the graph is kept).
* `DeepMLP`, `EXPLORE_EXAMPLES` / `record_example(name)` — deep sigmoid networks trained
  with and without BatchNorm and recorded, for `minigrad.viz.explore`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.data import make_moons, make_spirals

# -- scalars -----------------------------------------------------------------------------------


class _Neuron:
    def __init__(self, n_inputs: int, nonlinear: bool = True) -> None:
        self.w = [mg.Value(random.uniform(-1, 1)) for _ in range(n_inputs)]
        self.b = mg.Value(0.0)
        self.nonlinear = nonlinear

    def __call__(self, x: list) -> mg.Value:
        activation = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return activation.relu() if self.nonlinear else activation

    def parameters(self) -> list[mg.Value]:
        return self.w + [self.b]


class ScalarMLP:
    """micrograd's MLP, on minigrad's `Value`: layers of neurons, ReLU but for the last."""

    def __init__(self, n_inputs: int, sizes: list[int]) -> None:
        widths = [n_inputs] + sizes
        self.layers = [[_Neuron(widths[i], nonlinear=i != len(sizes) - 1)
                        for _ in range(widths[i + 1])] for i in range(len(sizes))]

    def __call__(self, x: list) -> Any:
        """A `Value` (a list of them when the last layer has several neurons)."""
        for layer in self.layers:
            x = [neuron(x) for neuron in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[mg.Value]:
        return [p for layer in self.layers for neuron in layer for p in neuron.parameters()]


def scalar_demo(steps: int = 30, seed: int = 1337) -> float:
    """Train micrograd's 2-16-16-1 MLP on 100 two-moons points (hinge loss + L2, SGD)."""
    random.seed(seed)
    mg.manual_seed(seed)
    x, y = make_moons(100, noise=0.1)
    targets = y * 2 - 1  # {-1, +1} for the hinge loss
    model = ScalarMLP(2, [16, 16, 1])
    accuracy = 0.0
    for step in range(steps):
        start = time.perf_counter()
        scores = [model(list(map(mg.Value, row))) for row in x.tolist()]
        losses = [(1 + -int(t) * s).relu() for t, s in zip(targets, scores)]
        data_loss = sum(losses, mg.Value(0.0)) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum((p * p for p in model.parameters()), mg.Value(0.0))
        loss = data_loss + reg_loss
        accuracy = sum((s.data > 0) == (t > 0) for t, s in zip(targets, scores)) / len(targets)
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        lr = 1.0 - 0.9 * step / steps
        for p in model.parameters():
            p.data -= lr * p.grad
        print(f"step {step:3d}  loss {loss.data:.4f}  accuracy {accuracy:.0%}  "
              f"({time.perf_counter() - start:.2f}s)")
    return accuracy


# -- tensor networks ---------------------------------------------------------------------------


class MLP(nn.Module):
    """``Linear → Tanh → Linear → Tanh → Linear``: input ``(N, in_features)``, logits
    ``(N, classes)``."""

    def __init__(self, in_features: int = 2, hidden: int = 16, classes: int = 3) -> None:
        super().__init__()
        self.fc1, self.act1 = nn.Linear(in_features, hidden), nn.Tanh()
        self.fc2, self.act2 = nn.Linear(hidden, hidden), nn.Tanh()
        self.fc3 = nn.Linear(hidden, classes)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.fc3(self.act2(self.fc2(self.act1(self.fc1(x)))))


class BatchNormMLP(nn.Module):
    """`blocks` times ``Linear → BatchNorm1d → Tanh`` (named fc1, bn1, act1, fc2, ...), then
    a last ``Linear``: ``(N, in_features)`` to ``(N, classes)``. The Linear layers before
    BatchNorm keep their bias, as many PyTorch models do, so the pictures can show that it
    receives (almost) no gradient: BatchNorm subtracts the batch mean, and the bias with it.

    ``implementation``: "composed" (one graph node per step of BatchNorm, to look at) or
    "fused" (one node, faster); ``bn.implementation`` can be switched later.
    """

    def __init__(self, in_features: int = 2, hidden: int = 16, classes: int = 3,
                 blocks: int = 2, implementation: str = "composed") -> None:
        super().__init__()
        self.blocks = blocks
        width = in_features
        for i in range(1, blocks + 1):
            setattr(self, f"fc{i}", nn.Linear(width, hidden))
            setattr(self, f"bn{i}", nn.BatchNorm1d(hidden, implementation=implementation))
            setattr(self, f"act{i}", nn.Tanh())
            width = hidden
        setattr(self, f"fc{blocks + 1}", nn.Linear(width, classes))

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        for i in range(1, self.blocks + 1):
            x = getattr(self, f"act{i}")(getattr(self, f"bn{i}")(getattr(self, f"fc{i}")(x)))
        return getattr(self, f"fc{self.blocks + 1}")(x)

    def batchnorms(self) -> list[nn.Module]:
        return [getattr(self, f"bn{i}") for i in range(1, self.blocks + 1)]


class SmallCNN(nn.Module):
    """``Conv2d(3×3) → BatchNorm2d → ReLU → MaxPool2d(2) → Flatten → Linear``:
    ``(N, 1, 8, 8)`` images to ``(N, classes)``."""

    def __init__(self, channels: int = 4, classes: int = 10,
                 implementation: str = "composed") -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels, implementation=implementation)
        self.act1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels * 4 * 4, classes)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        x = self.pool1(self.act1(self.bn1(self.conv1(x))))
        return self.fc(self.flatten(x))


# -- graphs to draw ----------------------------------------------------------------------------


def scalar_expression() -> tuple[mg.Value, None]:
    """micrograd's neuron: o = tanh(x1·w1 + x2·w2 + b), after backward."""
    x1, x2 = mg.Value(2.0, label="x1"), mg.Value(0.0, label="x2")
    w1, w2 = mg.Value(-3.0, label="w1"), mg.Value(1.0, label="w2")
    b = mg.Value(6.881373587019543, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1*w1", "x2*w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, None


def _classification_loss(model: nn.Module, seed: int) -> tuple[mg.Tensor, nn.Module]:
    mg.manual_seed(seed)
    x, y = make_spirals(32, generator=np.random.default_rng(seed))
    loss = nn.CrossEntropyLoss()(model(mg.tensor(x, name="x")), y)
    loss.name = "loss"
    loss.backward(retain_graph=True)  # kept, to be drawn (backward() frees it by default)
    return loss, model


def mlp_graph(seed: int = 0) -> tuple[mg.Tensor, nn.Module]:
    mg.manual_seed(seed)
    return _classification_loss(MLP(hidden=8), seed)


def mlp_batchnorm_graph(seed: int = 0, implementation: str = "composed"
                        ) -> tuple[mg.Tensor, nn.Module]:
    mg.manual_seed(seed)
    model = BatchNormMLP(hidden=8, blocks=1, implementation=implementation)
    return _classification_loss(model, seed)


def cnn_batchnorm_graph(seed: int = 0, implementation: str = "composed"
                        ) -> tuple[mg.Tensor, nn.Module]:
    mg.manual_seed(seed)
    model = SmallCNN(implementation=implementation)
    rng = np.random.default_rng(seed)
    images = rng.random((8, 1, 8, 8)).astype(np.float32)
    labels = np.arange(8) % 10
    loss = nn.CrossEntropyLoss()(model(mg.tensor(images, name="images")), labels)
    loss.name = "loss"
    loss.backward(retain_graph=True)  # kept, to be drawn (backward() frees it by default)
    return loss, model


GRAPH_EXAMPLES: dict[str, tuple[Callable[[], tuple[Any, Any]], str]] = {
    "expression": (scalar_expression, "micrograd's neuron o = tanh(x1*w1 + x2*w2 + b), scalars"),
    "mlp": (mlp_graph, "2-8-8-3 tanh MLP with cross-entropy loss on spirals"),
    "mlp-batchnorm": (mlp_batchnorm_graph, "2-8-3 MLP: Linear, BatchNorm1d (composed: every "
                                           "step drawn), tanh, Linear"),
    "cnn-batchnorm": (cnn_batchnorm_graph, "Conv2d, BatchNorm2d, ReLU, MaxPool2d, Linear on "
                                           "8x8 images"),
}


def build_graph(name: str) -> tuple[Any, Any]:
    """Run example `name` forward and backward; returns ``(root, params)`` for
    ``draw_graph(root, params=params)``."""
    if name not in GRAPH_EXAMPLES:
        raise ValueError(f"unknown example {name!r}. Fix: use one of {', '.join(GRAPH_EXAMPLES)}.")
    return GRAPH_EXAMPLES[name][0]()



# -- the explorer's comparison: a deep sigmoid network with and without BatchNorm -------------
# Kept apart from the graphs above: it trains two networks over many steps and records them
# (`minigrad explore`, the demo and the README's screenshot use it).


class DeepMLP(nn.Module):
    """`depth` hidden layers of ``Linear → [BatchNorm1d →] Sigmoid`` (fc1, bn1, act1, ...),
    then a last ``Linear``: ``(N, in_features)`` to ``(N, classes)``.

    Sigmoid's slope is at most 1/4, so without normalisation the gradient reaching the
    first layers shrinks layer after layer (Glorot & Bengio 2010, section 4.2); BatchNorm
    keeps each layer's input centred where the slope is largest (Ioffe & Szegedy 2015).
    """

    def __init__(self, in_features: int = 2, hidden: int = 16, classes: int = 3,
                 depth: int = 10, batchnorm: bool = False) -> None:
        super().__init__()
        self.depth, self.batchnorm = depth, batchnorm
        width = in_features
        for i in range(1, depth + 1):
            setattr(self, f"fc{i}", nn.Linear(width, hidden))
            if batchnorm:
                setattr(self, f"bn{i}", nn.BatchNorm1d(hidden, implementation="composed"))
            setattr(self, f"act{i}", nn.Sigmoid())
            width = hidden
        setattr(self, f"fc{depth + 1}", nn.Linear(width, classes))

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        for i in range(1, self.depth + 1):
            x = getattr(self, f"fc{i}")(x)
            if self.batchnorm:
                x = getattr(self, f"bn{i}")(x)
            x = getattr(self, f"act{i}")(x)
        return getattr(self, f"fc{self.depth + 1}")(x)


def record_training(model: nn.Module, steps: int = 300, every: int = 10, seed: int = 0,
                    lr: float = 0.5, batch_size: int = 64) -> Any:
    """Train `model` on 300 spiral points with SGD (momentum 0.9) for `steps` steps,
    recording every `every`-th step; returns the `GradientFlowRecorder`."""
    from minigrad.data import DataLoader, TensorDataset
    from minigrad.viz.recorder import GradientFlowRecorder

    generator = np.random.default_rng(seed)
    x, y = make_spirals(300, n_classes=3, noise=0.2, generator=generator)
    criterion = nn.CrossEntropyLoss()
    optimiser = mg.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    recorder = GradientFlowRecorder(model, every=every)
    step = 0
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True,
                        drop_last=True, generator=generator)
    while step < steps:
        for xb, yb in loader:
            xb.name = "x"
            loss = criterion(model(xb), yb)
            loss.name = "loss"
            optimiser.zero_grad()
            loss.backward()  # frees its graph, except on the steps the recorder keeps
            recorder.record(loss, optimizer=optimiser)
            optimiser.step()
            step += 1
            if step == steps:
                break
    return recorder


def batchnorm_comparison(steps: int = 300, every: int = 10, seed: int = 0,
                         depth: int = 10) -> dict[str, Any]:
    """The same deep sigmoid network (same initial weights) trained without and with
    BatchNorm: ``{"without BatchNorm": recorder, "with BatchNorm": recorder}``."""
    recorders = {}
    for label, batchnorm in (("without BatchNorm", False), ("with BatchNorm", True)):
        mg.manual_seed(seed)
        model = DeepMLP(depth=depth, batchnorm=batchnorm)
        recorders[label] = record_training(model, steps, every, seed)
    return recorders


EXPLORE_EXAMPLES: dict[str, tuple[Callable[..., dict[str, Any]], str]] = {
    "deep-batchnorm": (batchnorm_comparison, "10 hidden sigmoid layers on spirals, trained "
                                             "without and with BatchNorm, side by side"),
}


def record_example(name: str, steps: int = 300, every: int = 10) -> dict[str, Any]:
    """Train and record example `name` of `EXPLORE_EXAMPLES`: ``{label: recorder}``."""
    if name not in EXPLORE_EXAMPLES:
        raise ValueError(f"unknown example {name!r}. Fix: use one of "
                         f"{', '.join(EXPLORE_EXAMPLES)}.")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"explore: steps must be a whole number >= 1, got {steps!r}.")
    if not isinstance(every, int) or every < 1:
        raise ValueError(f"explore: every must be a whole number >= 1, got {every!r}. Fix: "
                         "every=1 records every step, every=10 every tenth.")
    return EXPLORE_EXAMPLES[name][0](steps=steps, every=every)
