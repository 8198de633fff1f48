"""Small data sets made locally (no downloads) and mini-batching.

`TensorDataset`, `DataLoader`, `Subset` and `random_split` follow ``torch.utils.data``: a
data set answers ``len(ds)`` and ``ds[i]``; a loader cuts it into mini-batches, optionally
shuffled, and yields each batch as minigrad tensors::

    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    for xb, yb in loader:          # xb: Tensor (32, ...), yb: Tensor (32,)
        loss = F.cross_entropy(model(xb), yb)

Shuffling draws from a `numpy.random.Generator` (``generator=``), or from minigrad's default
one, so `mg.manual_seed` makes the order reproducible. Each pass over the loader (an epoch)
draws a new order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from minigrad.engine_state import is_grad_enabled as _grad_enabled
from minigrad.factories import from_numpy
from minigrad.ops.shape import stack as _stack
from minigrad.tensor import Tensor, default_generator


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


class TensorDataset:
    """Samples made of rows of equal-length arrays: ``ds[i] == (a[i], b[i], ...)``.

    ``TensorDataset(x, y)`` with NumPy arrays or Tensors (their data is used, not copied;
    dtypes are kept). Every array must have the same first dimension (the number of samples).

    A Tensor that requires grad (trained inputs, a model's output) is indexed as a Tensor,
    in its graph, as in PyTorch: ``ds[i]`` gives its row as a Tensor and a loader's batches
    pass their gradient back to it. Its samples are rows of the Tensor as it is when
    indexed (an optimiser's updates show).
    """

    # Per argument, the Tensor itself if it requires grad, else None; empty when none does.
    # (A class-level default: a data set pickled before it existed indexes its arrays.)
    _in_graph: tuple[Tensor | None, ...] = ()

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: expected at least one array, got none. "
                             "Fix: TensorDataset(x) or TensorDataset(x, y).")
        if any(isinstance(array, Tensor) and array.requires_grad for array in arrays):
            self._in_graph = tuple(array if isinstance(array, Tensor) and array.requires_grad
                                   else None for array in arrays)
        columns = []
        for position, array in enumerate(arrays):
            if isinstance(array, Tensor):
                array = array.data
            elif not isinstance(array, np.ndarray):
                raise TypeError(f"TensorDataset: argument {position} is a "
                                f"{type(array).__name__}; expected a NumPy array or a Tensor. "
                                "Fix: convert it with numpy.asarray(...) first.")
            if array.ndim == 0:
                raise ValueError(f"TensorDataset: argument {position} is a 0-d array; each "
                                 "argument needs a first dimension that indexes the samples.")
            columns.append(array)
        lengths = [len(column) for column in columns]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: the arrays have different numbers of samples "
                             f"(first dimensions {lengths}). Fix: pass arrays with the same "
                             "first dimension.")
        self.arrays: tuple[np.ndarray, ...] = tuple(columns)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        if self._in_graph:
            return tuple(array[index] if tensor is None else tensor[index]
                         for array, tensor in zip(self.arrays, self._in_graph))
        return tuple(array[index] for array in self.arrays)

    def _batch(self, index: np.ndarray) -> list[Tensor]:
        """The rows `index` of every array, each as one Tensor (one fancy-index per array;
        `DataLoader`'s path for this data set). Tensors that require grad are indexed in their
        graph."""
        if self._in_graph:
            return [from_numpy(array[index]) if tensor is None else tensor[index]
                    for array, tensor in zip(self.arrays, self._in_graph)]
        return [from_numpy(array[index]) for array in self.arrays]

    def __repr__(self) -> str:
        shapes = ", ".join(str(array.shape) for array in self.arrays)
        return f"TensorDataset({len(self)} samples; arrays of shapes {shapes})"


class Subset:
    """The samples of `dataset` at `indices`, in that order: ``subset[i] ==
    dataset[indices[i]]`` (PyTorch's ``Subset``; `random_split` makes them). The samples
    are read from `dataset` when asked for, not copied."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):  # (as PyTorch's: a list of positions)
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        return f"Subset({len(self)} of the {len(self.dataset)} samples of {self.dataset!r:.60})"


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: np.random.Generator | None = None) -> list[Subset]:
    """Split `dataset` at random into non-overlapping `Subset`s of the given `lengths`, as
    PyTorch's ``random_split``: whole numbers that add up to ``len(dataset)``, or fractions
    that add up to 1 (each subset gets ``floor(fraction * len)`` samples, and the samples
    left over go one each to the first subsets, in turn). The order is drawn from
    `generator` (a `numpy.random.Generator`) or from minigrad's default one, so that
    `mg.manual_seed` makes it reproducible::

        train, valid = random_split(TensorDataset(x, y), [0.8, 0.2])
    """
    total = len(dataset)
    if isinstance(lengths, str | bytes) or not isinstance(lengths, Sequence) or not lengths:
        raise TypeError(f"random_split: lengths must be a non-empty list of sizes or of "
                        f"fractions, got {lengths!r:.60}. Fix: e.g. random_split(ds, [0.8, "
                        "0.2]) or random_split(ds, [80, 20]).")
    if not all(isinstance(n, int | float | np.integer | np.floating) and not isinstance(n, bool)
               and n >= 0 for n in lengths):
        raise ValueError(f"random_split: every length must be a number >= 0, got "
                         f"{list(lengths)!r:.80}. Fix: e.g. random_split(ds, [0.8, 0.2]).")
    sizes = [int(n) for n in lengths]
    # Fractions when they add up to 1, as in PyTorch (whole sizes adding up to 1 give the
    # same sizes either way), also of an empty data set: [0.5, 0.5] of 0 samples, two empty.
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = [math.floor(total * fraction) for fraction in lengths]
        for i in range(total - sum(sizes)):  # the remainder, one each, in turn
            sizes[i % len(sizes)] += 1
    elif sum(sizes) != total or any(n != int(n) for n in lengths):
        raise ValueError(f"random_split: the lengths {list(lengths)!r:.80} are neither whole "
                         f"sizes adding up to the data set's {total} samples nor fractions "
                         f"adding up to 1 (their sum: {sum(lengths):.12g}). Fix: e.g. "
                         f"random_split(ds, [0.8, 0.2]), or sizes adding up to {total}.")
    order = _rng(generator).permutation(total).tolist()
    subsets, start = [], 0
    for size in sizes:
        subsets.append(Subset(dataset, order[start:start + size]))
        start += size
    return subsets


def _check_equal_lengths(samples: Sequence[Any]) -> None:
    """Tuple or list samples are collated field by field, so all need the same number of
    fields: zipping shorter ones would silently drop the extra fields (PyTorch raises)."""
    lengths = [len(sample) for sample in samples]
    if len(set(lengths)) != 1:
        raise ValueError(f"default_collate: the samples of a batch are tuples/lists of "
                         f"different lengths {sorted(set(lengths))[:4]}, so their fields cannot "
                         "be batched one by one. Fix: return the same number of fields from "
                         "every __getitem__, or pass DataLoader(..., collate_fn=...).")


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into one batch, as PyTorch's default collate does: tuples
    and lists of fields become a list with one batch per field (a named tuple stays a named
    tuple), dicts a dict; numbers and arrays become one stacked Tensor; strings (a file name,
    a label's text) stay a list of strings, since no tensor holds text.

    Tensors that require grad (trained inputs, a model's outputs) are joined with `stack`,
    an op of the graph, as PyTorch's ``torch.stack`` does: the batch's gradient flows back to
    each sample. Everything else (arrays, numbers, constant tensors, and any batch under
    `no_grad`) is stacked in NumPy into a constant batch, the cheap path."""
    first = samples[0]
    if isinstance(first, str | bytes):
        return list(samples)
    if isinstance(first, tuple | list):
        _check_equal_lengths(samples)
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # a namedtuple
        return type(first)(*(default_collate([sample[k] for sample in samples])
                             for k in range(len(first))))
    if isinstance(first, tuple | list):
        return [default_collate([sample[k] for sample in samples]) for k in range(len(first))]
    if isinstance(first, dict):
        return {key: default_collate([sample[key] for sample in samples]) for key in first}
    # One pass gathers the arrays and spots a sample that requires grad (as cheap as the
    # list comprehension it replaces: this runs for every field of every batch).
    arrays: list[np.ndarray] = []
    append = arrays.append
    for sample in samples:
        if isinstance(sample, Tensor):
            if sample.requires_grad and _grad_enabled():
                return _stack_in_graph(samples)
            append(sample._data)
        else:
            append(np.asarray(sample))
    try:
        batch = np.stack(arrays)
    except ValueError:
        # np.stack refuses ragged samples itself; their shapes are only gathered then (a
        # check of every sample's shape beforehand cost 5-10% of every batch).
        shapes = {array.shape for array in arrays}
        if len(shapes) == 1:
            raise
        raise _ragged(shapes) from None
    if batch.dtype.kind not in "biuf":
        raise TypeError(f"default_collate: a batch holds Tensors, arrays, numbers, strings, "
                        f"and dicts/tuples/lists of them; got {type(first).__name__} "
                        f"{first!r:.40}. Fix: return those from the data set's __getitem__, or "
                        "pass DataLoader(..., collate_fn=your_function).")
    return from_numpy(batch)


def _ragged(shapes: set[tuple[int, ...]]) -> ValueError:
    return ValueError(f"default_collate: the samples of a batch must have one shape to be "
                      f"stacked, got shapes {sorted(shapes)[:4]}. Fix: pad or crop them to "
                      "one size in the data set, or pass DataLoader(..., collate_fn=...).")


def _stack_in_graph(samples: Sequence[Any]) -> Tensor:
    """One batch of samples of which some require grad, made by `stack` so that the graph
    goes on through the batch. The other samples join it as constants; dtypes are promoted
    as `stack` promotes them."""
    tensors = [sample if isinstance(sample, Tensor) else Tensor(np.asarray(sample))
               for sample in samples]
    shapes = {tensor.shape for tensor in tensors}
    if len(shapes) != 1:
        raise _ragged(shapes)
    return _stack(tensors)


def _batches_by_arrays(dataset: Any) -> bool:
    """Whether `dataset`'s batches may be cut from its arrays directly (`TensorDataset._batch`,
    one fancy-index per array) rather than by one ``dataset[i]`` per sample. Only when both
    are `TensorDataset`'s own: a subclass that overrides ``__getitem__`` (an augmentation, a
    transform) must see every sample go through it, or its change is silently skipped."""
    kind = type(dataset)
    return (isinstance(dataset, TensorDataset)
            and kind.__getitem__ is TensorDataset.__getitem__
            and kind._batch is TensorDataset._batch)


# PyTorch DataLoader options that minigrad does not implement: the value meaning "off"
# (accepted, so code written for PyTorch runs unchanged) and the fix for any other value.
_WORKERS_FIX = "batches are made in this process. Fix: leave it out (num_workers=0)"
_UNIMPLEMENTED_OPTIONS: dict[str, tuple[Any, str]] = {
    "sampler": (None, "custom sampling orders are not implemented. Fix: leave it out and pass "
                      "shuffle=True, or index the data set in the order you want"),
    "batch_sampler": (None, "custom batch orders are not implemented. Fix: leave it out and "
                            "pass batch_size=, shuffle= and drop_last="),
    "num_workers": (0, "worker processes are not implemented; " + _WORKERS_FIX),
    "pin_memory": (False, "minigrad runs on the CPU, with no device memory to pin. Fix: leave "
                          "it out (pin_memory=False)"),
    "pin_memory_device": ("", "minigrad runs on the CPU. Fix: leave it out"),
    "timeout": (0, "it applies to worker processes only; " + _WORKERS_FIX),
    "worker_init_fn": (None, "it applies to worker processes only; " + _WORKERS_FIX),
    "multiprocessing_context": (None, "it applies to worker processes only; " + _WORKERS_FIX),
    "prefetch_factor": (None, "it applies to worker processes only; " + _WORKERS_FIX),
    "persistent_workers": (False, "it applies to worker processes only; " + _WORKERS_FIX),
}


def _refuse_unimplemented_options(**options: Any) -> None:
    for name, value in options.items():
        off, fix = _UNIMPLEMENTED_OPTIONS[name]
        if off is None:
            is_off = value is None
        else:
            is_off = isinstance(value, bool | int | float | str | np.generic) and value == off
        if not is_off:
            raise TypeError(f"DataLoader: {name}={value!r:.40} is not implemented in minigrad "
                            f"(only {name}={off!r} is accepted): {fix}.")


class DataLoader:
    """Iterate over a data set in mini-batches, as ``torch.utils.data.DataLoader`` does.

    ``DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, generator=None,
    collate_fn=None)``, plus PyTorch's other keyword options at their "off" values
    (``num_workers=0``, ``pin_memory=False``, ``sampler=None``, ...) so PyTorch code runs
    unchanged; any other value of those is a TypeError naming the fix. `shuffle` and
    `drop_last` must be bools: PyTorch's 4th positional argument is `sampler`, and
    ``DataLoader(data, 32, True, sampler)`` must not become ``drop_last=sampler`` here. Each
    batch of a `TensorDataset` is a list of Tensors, one per array, each of shape
    ``(batch_size, ...)`` (the last one smaller unless ``drop_last``). Any other data set
    (an object with ``__len__`` and ``__getitem__``, including a subclass of `TensorDataset`
    that overrides ``__getitem__``) is batched with ``collate_fn`` (default:
    `default_collate`), one ``dataset[i]`` per sample. ``len(loader)`` is the number of
    batches per epoch.

    Unlike PyTorch, iterating over a loader whose epoch has no batch (an empty data set, or
    ``drop_last=True`` with fewer samples than ``batch_size``) is a ValueError rather than
    an empty loop: a training loop over it would train nothing, or never end.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, generator: np.random.Generator | None = None,
                 collate_fn: Callable[[list[Any]], Any] | None = None, *,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 pin_memory: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "") -> None:
        _refuse_unimplemented_options(
            sampler=sampler, batch_sampler=batch_sampler, num_workers=num_workers,
            pin_memory=pin_memory, timeout=timeout, worker_init_fn=worker_init_fn,
            multiprocessing_context=multiprocessing_context, prefetch_factor=prefetch_factor,
            persistent_workers=persistent_workers, pin_memory_device=pin_memory_device)
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: the dataset must have __len__ and __getitem__, got "
                            f"{type(dataset).__name__}. Fix: wrap arrays in "
                            "TensorDataset(x, y).")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got "
                             f"{batch_size!r}.")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"DataLoader: generator must be a numpy.random.Generator, got "
                            f"{type(generator).__name__}. Fix: numpy.random.default_rng(seed).")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, bool | np.bool_):  # (PyTorch's 4th positional: sampler)
                raise TypeError(f"DataLoader: {name} must be True or False, got "
                                f"{type(flag).__name__} {flag!r:.40}. Fix: pass {name}=True or "
                                f"False by name (PyTorch's 4th positional argument is sampler, "
                                "which minigrad does not implement).")
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        count = len(self.dataset) / self.batch_size
        return math.floor(count) if self.drop_last else math.ceil(count)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return _rng(self.generator).permutation(n)

    def __iter__(self) -> Iterator[Any]:
        if len(self) == 0:
            raise ValueError(self._no_batches())
        order = self._order()
        stop = len(self) * self.batch_size
        fast = _batches_by_arrays(self.dataset) and self.collate_fn is None
        for start in range(0, min(stop, len(order)), self.batch_size):
            index = order[start:start + self.batch_size]
            if fast:  # one fancy-index per array instead of one __getitem__ per sample
                yield self.dataset._batch(index)
            else:
                collate = self.collate_fn or default_collate
                yield collate([self.dataset[int(i)] for i in index])

    def _no_batches(self) -> str:
        """Why an epoch would have no batch, and the fix. PyTorch yields nothing (or, for an
        empty data set with shuffle=True, refuses it); minigrad refuses every such epoch: a
        loop ``while step < steps: for batch in loader: ...`` would otherwise never end, and
        ``for epoch in range(n)`` would silently train nothing."""
        size = len(self.dataset)
        if size == 0:
            return ("DataLoader: the dataset is empty, so an epoch has no batches. Fix: check "
                    "how the dataset was built (a filter or a split that kept nothing?).")
        return (f"DataLoader: drop_last=True drops the only batch: the dataset has {size} "
                f"samples, fewer than batch_size={self.batch_size}, so an epoch has no "
                f"batches. Fix: use batch_size <= {size}, or drop_last=False.")

    def __repr__(self) -> str:
        return (f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")
