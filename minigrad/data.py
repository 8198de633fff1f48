"""Small data sets made locally (no downloads) and mini-batching."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from minigrad.tensor import default_generator


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return generator if generator is not None else default_generator()


def make_moons(n_samples: int = 100, noise: float = 0.1,
               generator: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's layout).

    Returns ``X`` (n, 2) float32 and ``y`` (n,) int64 in {0, 1}, the classes differing in
    size by at most one."""
    if n_samples < 2:
        raise ValueError(f"make_moons: n_samples must be at least 2, got {n_samples}.")
    rng = _rng(generator)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    outer = np.linspace(0, np.pi, n_outer)
    inner = np.linspace(0, np.pi, n_inner)
    x = np.concatenate([np.cos(outer), 1 - np.cos(inner)])
    y = np.concatenate([np.sin(outer), 1 - np.sin(inner) - 0.5])
    points = np.stack([x, y], axis=1) + rng.normal(0, noise, size=(n_samples, 2))
    labels = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])
    order = rng.permutation(n_samples)
    return points[order].astype(np.float32), labels[order]


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2,
                 generator: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`n_classes` interleaved spiral arms (CS231n's toy set). ``X`` (n, 2), ``y`` (n,) int64."""
    if n_classes < 2 or n_samples < n_classes:
        raise ValueError(f"make_spirals: need n_classes >= 2 and n_samples >= n_classes, got "
                         f"{n_samples} samples and {n_classes} classes.")
    rng = _rng(generator)
    per_class = np.full(n_classes, n_samples // n_classes)
    per_class[: n_samples % n_classes] += 1
    points, labels = [], []
    for label, count in enumerate(per_class):
        radius = np.linspace(0.0, 1.0, count)
        angle = np.linspace(label * 4.0, (label + 1) * 4.0, count) + rng.normal(0, noise, count)
        points.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        labels.append(np.full(count, label, np.int64))
    order = rng.permutation(n_samples)
    return np.concatenate(points)[order].astype(np.float32), np.concatenate(labels)[order]


def batches(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True,
            drop_last: bool = False,
            generator: np.random.Generator | None = None,
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(x_batch, y_batch)`` pairs covering the data once (an epoch)."""
    if len(x) != len(y):
        raise ValueError(f"batches: x has {len(x)} rows but y has {len(y)}.")
    if batch_size < 1:
        raise ValueError(f"batches: batch_size must be at least 1, got {batch_size}.")
    order = _rng(generator).permutation(len(x)) if shuffle else np.arange(len(x))
    stop = len(x) - len(x) % batch_size if drop_last else len(x)
    for start in range(0, stop, batch_size):
        index = order[start:start + batch_size]
        yield x[index], y[index]
