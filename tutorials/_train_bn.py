"""What the BatchNorm lessons (04, 05, 06, 08, 09) add to the shared plumbing of `_train.py`:
an MLP builder with dropout, an evaluation that also returns the loss, a training call that
returns a plain dict, and the highest-stable-learning-rate scan.

    x_train, y_train, x_val, y_val = digits(seed)
    model = mlp([64, 100, 100, 10], nn.BatchNorm1d)
    run = train(model, seed, lr=0.1, steps=300)      # run["val_accuracy"], run["loss"], ...

Training is `_train.train` (batches from `mg.data.DataLoader`), here with plain SGD (no
momentum) and batches of 60, the settings of Ioffe & Szegedy's §4.1 experiment.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from _common import seed_everything
from _train import Split, digits_split
from _train import train as shared_train

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

_splits: dict[int, Split] = {}


def digits(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 8x8 digits split for `seed` (`_train.digits_split`, cached), as the tuple
    ``x_train (1300, 64), y_train, x_val (497, 64), y_val``."""
    if seed not in _splits:
        _splits[seed] = digits_split(seed)
    return tuple(_splits[seed])


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
    """Plain SGD (no momentum) on the cross-entropy of the digits split of `seed` (or of
    `data` = ``(x_train, y_train, x_val, y_val)``), through `_train.train`.

    Returns ``val_accuracy`` (every `eval_every` steps), ``loss`` (every step), ``diverged``
    (the loss became NaN/Inf; training stops there), ``steps_to`` (first evaluated step with
    accuracy >= `stop_at`, or inf; training stops there when `stop_at` is given),
    ``seconds_per_step`` and the trained ``model``. `on_step(step, loss, optimiser)` runs
    after each backward, before the update (the gradients are there to be read)."""
    split = Split(*(data if data is not None else digits(seed)))
    optimiser = mg.optim.SGD(model.parameters(), lr=lr)
    after_backward = None if on_step is None else (
        lambda step, loss: on_step(step, loss, optimiser))
    start = time.perf_counter()
    # A diverging run overflows on purpose: silence NumPy's warnings, the loss tells us.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        log = shared_train(model, split, steps, lr, seed=seed, batch_size=batch_size,
                           eval_every=eval_every, optimizer=optimiser, target=stop_at,
                           stop_at_target=stop_at is not None, after_backward=after_backward)
    seconds = time.perf_counter() - start
    return {"val_accuracy": log.curve, "loss": log.losses, "diverged": log.diverged,
            "steps_to": log.steps_to_target, "model": model,
            "seconds_per_step": seconds / max(len(log.losses), 1)}


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


def in_turn(items: list, block: int) -> list:
    """`items` in the order block number `block` times them: rotated by one each block, so
    that over len(items) blocks each goes first once (the first of a block can pay for what
    the others leave warm, or find memory they freed)."""
    turn = block % len(items)
    return items[turn:] + items[:turn]
