"""The plumbing of the BatchNorm lessons (04, 05, 06, 08, 09): the digits split, the MLPs,
one training loop and one evaluation, so that each lesson reads as its ideas.

    x_train, y_train, x_val, y_val = digits(seed)
    model = mlp([64, 100, 100, 10], nn.BatchNorm1d)
    run = train(model, seed, lr=0.1, steps=300)      # run["val_accuracy"], run["loss"], ...

Batches come from `mg.data.DataLoader` (shuffled by a generator seeded from the lesson's
seed, a fresh order every epoch). Nothing here prints or decides anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np
from _common import load_digits_split, seed_everything

import minigrad as mg
from minigrad import nn
from minigrad.data import DataLoader, TensorDataset
from minigrad.nn import functional as F

_splits: dict[int, tuple] = {}


def digits(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 8x8 digits split for `seed` (cached): x_train (1300, 64), y_train, x_val (497, 64),
    y_val, pixels standardised on the training split."""
    if seed not in _splits:
        _splits[seed] = load_digits_split(np.random.default_rng(seed))
    return _splits[seed]


def mlp(widths: list[int], norm: Callable[[int], nn.Module] | None = None,
        activation: type[nn.Module] = nn.ReLU, dropout: float = 0.0) -> nn.Sequential:
    """Linear → [norm] → activation → [Dropout] for every hidden layer, then a Linear.

    `norm` makes the normalisation layer from the number of features (``nn.BatchNorm1d``,
    ``nn.LayerNorm``, ...) or is None. BN sits between the Linear and the nonlinearity, as in
    Ioffe & Szegedy (2015, §3.2)."""
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(widths[:-2], widths[1:-1]):
        layers.append(nn.Linear(fan_in, fan_out))
        if norm is not None:
            layers.append(norm(fan_out))
        layers.append(activation())
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(widths[-2], widths[-1]))
    return nn.Sequential(*layers)


def endless_batches(x: np.ndarray, y: np.ndarray, batch_size: int,
                    generator: np.random.Generator) -> Iterator[list[mg.Tensor]]:
    """Mini-batches ``[xb, yb]`` forever: one shuffled `DataLoader` epoch after another
    (the last, incomplete batch of an epoch is dropped, so every batch has `batch_size`)."""
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True,
                        drop_last=True, generator=generator)
    while True:
        yield from loader


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) in eval mode (BN uses its running statistics)."""
    model.eval()
    with mg.no_grad(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        logits = model(mg.tensor(x))
        loss = F.cross_entropy(logits, y).item()
    model.train()
    return float((logits.data.argmax(axis=1) == y).mean()), loss


def train(model: nn.Module, seed: int, lr: float, steps: int, batch_size: int = 60,
          eval_every: int = 5, stop_at: float | None = None,
          on_step: Callable[[int, mg.Tensor, mg.optim.SGD], None] | None = None,
          data: tuple | None = None) -> dict:
    """Plain SGD (no momentum) on the cross-entropy of the digits split of `seed`.

    Returns ``val_accuracy`` (every `eval_every` steps), ``loss`` (every step), ``diverged``
    (the loss became NaN/Inf; training stops there), ``steps_to`` (first evaluated step with
    accuracy >= `stop_at`, or inf; training stops there when `stop_at` is given),
    ``seconds_per_step`` and the trained ``model``. `on_step(step, loss, optimiser)` runs
    after each backward, before the update (the gradients are there to be read)."""
    x_train, y_train, x_val, y_val = data if data is not None else digits(seed)
    draw = endless_batches(x_train, y_train, batch_size, np.random.default_rng(20_000 + seed))
    optimiser = mg.optim.SGD(model.parameters(), lr=lr)
    curve: list[float] = []
    losses: list[float] = []
    diverged, steps_to = False, float("inf")
    start = time.perf_counter()
    # A diverging run overflows on purpose: silence NumPy's warnings, the loss tells us.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for step in range(1, steps + 1):
            xb, yb = next(draw)
            loss = F.cross_entropy(model(xb), yb)
            losses.append(loss.item())
            if not np.isfinite(losses[-1]):
                diverged = True
                break
            optimiser.zero_grad()
            loss.backward()
            if on_step is not None:
                on_step(step, loss, optimiser)
            optimiser.step()
            if step % eval_every == 0:
                curve.append(evaluate(model, x_val, y_val)[0])
                if stop_at is not None and curve[-1] >= stop_at:
                    steps_to = float(step)
                    break
    seconds = time.perf_counter() - start
    return {"val_accuracy": curve, "loss": losses, "diverged": diverged, "steps_to": steps_to,
            "model": model, "seconds_per_step": seconds / max(len(losses), 1)}


def train_fresh(make_model: Callable[[], nn.Module], seed: int, lr: float, steps: int,
                **options) -> dict:
    """Seed everything with `seed`, build a fresh model and `train` it."""
    seed_everything(seed)
    return train(make_model(), seed, lr, steps, **options)


def log_grid(low: float, high: float, per_octave: int) -> list[float]:
    """Learning rates from `low` to `high`, `per_octave` points per doubling (rounded)."""
    count = int(round(np.log2(high / low) * per_octave)) + 1
    return [float(f"{v:.3g}") for v in np.geomspace(low, high, count)]


def highest_stable_lr(trains: Callable[[float], bool], grid: list[float]) -> float:
    """The largest lr of `grid` at which ``trains(lr)`` is true, scanning upward and stopping
    after two failures in a row (above them nothing trained in our runs; the scan records
    where it stopped). 0.0 if it trains at none."""
    best, failures = 0.0, 0
    for lr in grid:
        if trains(lr):
            best, failures = lr, 0
        else:
            failures += 1
            if failures == 2 and best > 0:
                break
    return best
