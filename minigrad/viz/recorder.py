"""Record gradient flow over training: small per-step statistics of every box of the graph.

    recorder = mg.viz.GradientFlowRecorder(model, every=10)
    for x, y in batches:
        loss = criterion(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        recorder.record(loss, optimizer=optimiser)   # keeps every 10th call
        optimiser.step()
    mg.viz.explore(recorder).save("flow.html")

The first kept call stores the graph's structure, exactly as `draw_graph` sees it
(`walk.describe`: boxes, module clusters, arrows). Every kept call then stores, per box,
the gradient's RMS and norm, the value's mean and std (and for tanh/sigmoid outputs the
saturated share), a histogram of the value and one of the gradient; per arrow, the norm of
the gradient sent back along it; per parameter, the grad:data and update:data ratios
(std(grad) / std(data) and std(update) / std(data), as in `TrainingDiagnostics`).
Gradients are recomputed from the root's ``.grad`` (`walk.Flow`): intermediate ``.grad``
is never read. No tensor is kept: memory grows with steps × boxes × bins only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad.autograd import Scope
from minigrad.viz.diagnostics import saturation
from minigrad.viz.walk import Flow, describe, has_gradient, walk

# Columns of `GradientFlowRecorder.box_stats[k]` (one row per box).
STAT_NAMES = ("grad_rms", "grad_norm", "value_mean", "value_std", "saturated",
              "grad_low", "grad_high", "value_low", "value_high")
_COLUMN = {name: i for i, name in enumerate(STAT_NAMES)}
_SATURATING = {"tanh": "Tanh", "sigmoid": "Sigmoid"}  # op name -> diagnostics' layer type


@dataclass
class BoxInfo:
    """What does not change from step to step: one box (one graph node) of the picture."""

    id: str  # stable identity: module path + op + position inside the module call
    kind: str  # "op", "parameter" or "constant"
    op: str
    name: str  # the user's label or parameter name ("" if none)
    shape: tuple[int, ...]
    dtype: str
    cluster: Scope | None  # the module whose cluster it is drawn in
    where: str | None  # "file:line in function" that created it, when the engine knew
    is_root: bool = False


@dataclass
class Structure:
    """The graph as drawn: boxes in creation order and arrows ``(source, target)`` between
    box positions (data flows source -> target; gradient flows back)."""

    boxes: list[BoxInfo]
    arrows: list[tuple[int, int]]
    parameters: list[int]  # positions of the boxes that are trained leaves
    signature: tuple  # (op, scope, parents) per box: compared at every kept step


def _signature(nodes: list[Any], parents: list[list[int]]) -> tuple[list[int], tuple]:
    """The nodes' order by creation (how `describe` numbers its boxes) and a value that is
    equal for two graphs exactly when they have the same ops, modules and edges."""
    order = sorted(range(len(nodes)), key=lambda i: nodes[i]._seq)
    rank = [0] * len(nodes)
    for position, i in enumerate(order):
        rank[i] = position
    signature = tuple((nodes[i].op_name, nodes[i]._scope, tuple(rank[j] for j in parents[i]))
                      for i in order)
    return order, signature


def _structure(root: Any, params: Any) -> Structure:
    """Boxes, clusters and arrows as `draw_graph` sees them (no folding, no cap)."""
    picture = describe(root, show_grad=False, max_nodes=None, params=params)
    nodes, parents = walk(root)
    _, signature = _signature(nodes, parents)
    position = {box.key: i for i, box in enumerate(picture.boxes)}
    boxes: list[Any] = []
    counters: dict[Any, int] = {}
    for box in picture.boxes:
        node = box.node
        scope = box.cluster
        module = scope.qualified_name() if scope is not None else ""
        count = counters.get((module, node.op_name or box.kind), 0)
        counters[(module, node.op_name or box.kind)] = count + 1
        identity = box.name if box.kind == "parameter" and box.name else (
            f"{module or '.'}:{node.op_name or box.kind}#{count}")
        data = np.asarray(node.data)
        boxes.append(BoxInfo(identity, box.kind, node.op_name, box.name, tuple(data.shape),
                             str(data.dtype), scope, getattr(node, "_where", None), box.is_root))
    arrows = [(position[a.source], position[a.target]) for a in picture.arrows]
    parameters = [i for i, box in enumerate(boxes) if box.kind == "parameter"]
    return Structure(boxes, arrows, parameters, signature)


def summarise(arrays: list[Any], bins: int, histograms: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Statistics of many arrays at once, with a few NumPy calls in all (not per array).

    Returns ``stats`` of shape ``(len(arrays), 6)``: rms, norm, mean, std, low, high
    (NaN where an array is None or empty) and ``counts`` of shape ``(len(arrays), bins)``:
    each array's histogram on ``bins`` equal bins from its low to its high, as
    ``np.histogram(a, bins, range=(low, high))`` counts them (all-equal values: one unit
    wide around them), for the first `histograms` arrays (default all; zeros after).
    Non-finite elements are left out of every statistic.
    """
    stats = np.full((len(arrays), 6), np.nan)
    counts = np.zeros((len(arrays), bins), dtype=np.int32)
    present = [i for i, a in enumerate(arrays) if a is not None and np.size(a) > 0]
    if not present:
        return stats, counts
    flats = [np.ravel(arrays[i]) for i in present]
    buffer = np.concatenate(flats, dtype=np.float64)
    sizes = np.array([f.size for f in flats])
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    squares = np.add.reduceat(buffer * buffer, starts)
    if not np.isfinite(squares).all():  # rare: keep each array's finite part (skip empty)
        finite = np.isfinite(buffer)
        cut = np.cumsum([0] + [f.size for f in flats])
        kept = [(i, buffer[a:b][finite[a:b]]) for i, a, b in zip(present, cut[:-1], cut[1:])]
        kept = [(i, f) for i, f in kept if f.size]
        if not kept:
            return stats, counts
        present, flats = [i for i, _ in kept], [f for _, f in kept]
        buffer = np.concatenate(flats)
        sizes = np.array([f.size for f in flats])
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        squares = np.add.reduceat(buffer * buffer, starts)
    mean = np.add.reduceat(buffer, starts) / sizes
    centred = buffer - np.repeat(mean, sizes)
    std = np.sqrt(np.add.reduceat(centred * centred, starts) / sizes)
    low = np.minimum.reduceat(buffer, starts)
    high = np.maximum.reduceat(buffer, starts)
    norm = np.sqrt(squares)
    stats[present] = np.column_stack([norm / np.sqrt(sizes), norm, mean, std, low, high])
    limit = len(arrays) if histograms is None else histograms
    shown = int(np.searchsorted(present, limit))  # the present arrays that get a histogram
    if shown == 0:
        return stats, counts
    end = int(starts[shown - 1] + sizes[shown - 1])
    buffer, sizes, low, high = buffer[:end], sizes[:shown], low[:shown], high[:shown]
    # np.histogram's rule: equal bins over [low, high]; the top edge belongs to the last bin.
    first = np.where(high > low, low, low - 0.5)
    width = np.where(high > low, high - low, 1.0)
    index = ((buffer - np.repeat(first, sizes)) / np.repeat(width, sizes) * bins).astype(np.intp)
    np.minimum(index, bins - 1, out=index)
    index += np.repeat(np.arange(shown) * bins, sizes)
    counts[present[:shown]] = np.bincount(index, minlength=shown * bins).reshape(shown, bins)
    return stats, counts


def _flatten(arrays: list[Any]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The present (not None, not empty) arrays end to end in float64, each one's start,
    and their positions in `arrays`."""
    present = [i for i, a in enumerate(arrays) if a is not None and np.size(a) > 0]
    if not present:
        return np.zeros(0), np.zeros(0, dtype=np.intp), present
    flats = [np.asarray(arrays[i], dtype=np.float64).reshape(-1) for i in present]
    starts = np.cumsum([0] + [f.size for f in flats[:-1]])
    return np.concatenate(flats), starts, present


def norms(arrays: list[Any]) -> np.ndarray:
    """The L2 norm of each array (NaN for None): one reduction for all of them."""
    result = np.full(len(arrays), np.nan)
    buffer, starts, present = _flatten(arrays)
    if present:
        result[present] = np.sqrt(np.add.reduceat(buffer * buffer, starts))
    return result


def spreads(arrays: list[Any]) -> np.ndarray:
    """The standard deviation of each array (NaN for None), all at once."""
    result = np.full(len(arrays), np.nan)
    buffer, starts, present = _flatten(arrays)
    if present:
        sizes = np.diff(np.append(starts, buffer.size))
        centred = buffer - np.repeat(np.add.reduceat(buffer, starts) / sizes, sizes)
        result[present] = np.sqrt(np.add.reduceat(centred * centred, starts) / sizes)
    return result


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is not positive."""
    return np.divide(numerator, denominator, out=np.full(numerator.shape, np.nan),
                     where=denominator > 0)


class GradientFlowRecorder:
    """Per-step gradient statistics of a training run, for `explore`.

    model: names the parameters (``fc1.weight``) and module clusters; optional.
    every: keep every `every`-th call of `record` (1: every call).
    bins: bins of each value and gradient histogram.

    After recording, per kept step k (``steps[k]`` is the call's number, from 0):
    ``box_stats[k]``: ``(boxes, len(STAT_NAMES))`` floats; ``grad_hist[k]`` and
    ``value_hist[k]``: ``(boxes, bins)`` counts; ``arrow_norm[k]``: ``(arrows,)``;
    ``grad_data[k]`` and ``update_data[k]``: ``(parameters,)`` (NaN until known).
    """

    def __init__(self, model: Any = None, every: int = 1, bins: int = 30) -> None:
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"GradientFlowRecorder: every must be a whole number >= 1, got "
                             f"{every!r}. Fix: every=1 keeps every step, every=10 every tenth.")
        if not isinstance(bins, int) or bins < 1:
            raise ValueError(f"GradientFlowRecorder: bins must be a whole number >= 1, got "
                             f"{bins!r}. Fix: e.g. bins=30.")
        self.model, self.every, self.bins = model, every, bins
        self.calls = 0
        self.structure: Structure | None = None
        self.steps: list[int] = []
        self.box_stats: list[np.ndarray] = []
        self.grad_hist: list[np.ndarray] = []
        self.value_hist: list[np.ndarray] = []
        self.arrow_norm: list[np.ndarray] = []
        self.grad_data: list[np.ndarray] = []
        self.update_data: list[np.ndarray] = []
        # The parameters' values at the last kept step, until the update is measured.
        self._before: tuple[int, list[Any], list[np.ndarray]] | None = None

    def __len__(self) -> int:
        return len(self.steps)

    def _recorded(self) -> Structure:
        """The structure the first kept record stored (only called after it)."""
        assert self.structure is not None
        return self.structure

    def __repr__(self) -> str:
        boxes = len(self.structure.boxes) if self.structure else 0
        return (f"GradientFlowRecorder({len(self)} steps kept of {self.calls} calls, "
                f"{boxes} boxes, every={self.every}, bins={self.bins})")

    def record(self, loss: Any, optimizer: Any = None) -> bool:
        """Call right after ``loss.backward()`` (before the optimiser's step).

        Keeps every `every`-th call; returns True when this call was kept. With
        `optimizer`, the update:data ratio of a kept step is measured right after that
        optimiser's next ``step()``; without it, at the next call of `record`.
        """
        self._measure_update()
        call = self.calls
        self.calls += 1
        if call % self.every:
            return False
        if not hasattr(loss, "_parents"):
            raise TypeError(f"GradientFlowRecorder.record: expected the loss (a minigrad "
                            f"Tensor or Value), got {type(loss).__name__}.")
        if not loss.requires_grad or not has_gradient(loss):
            raise ValueError("GradientFlowRecorder.record: the loss has no gradient yet. Fix: "
                             "call loss.backward() first, then recorder.record(loss).")
        self._keep_now(loss, call)
        if optimizer is not None:
            self._measure_after_step(optimizer)
        return True

    def _keep_now(self, loss: Any, call: int = 0) -> None:
        """Store this graph's statistics as step `call` (values only before backward)."""
        nodes, parents = walk(loss)
        order, signature = _signature(nodes, parents)
        if self.structure is None:
            self.structure = _structure(loss, self.model)
        elif signature != self.structure.signature:
            raise ValueError(self._changed(call, signature))
        self._keep(call, [nodes[i] for i in order], Flow(loss))

    # -- one kept step -------------------------------------------------------------------

    def _keep(self, call: int, nodes: list[Any], flow: Flow) -> None:
        structure = self._recorded()
        n = len(nodes)
        grads = [flow.of(node) for node in nodes]
        # One pass over values and gradients together.
        both, counts = summarise([node.data for node in nodes] + grads, self.bins)
        values, grad_stats = both[:n], both[n:]
        stats = np.full((n, len(STAT_NAMES)), np.nan)
        stats[:, [0, 1, 5, 6]] = grad_stats[:, [0, 1, 4, 5]]
        stats[:, [2, 3, 7, 8]] = values[:, [2, 3, 4, 5]]
        for i, node in enumerate(nodes):
            kind = _SATURATING.get(node.op_name)
            found = saturation(kind, np.asarray(node.data)) if kind is not None else None
            if found is not None:
                stats[i, _COLUMN["saturated"]] = found[0]
        self.steps.append(call)
        self.box_stats.append(stats)
        # Copies, not views: a view would keep the whole temporary array alive.
        self.value_hist.append(counts[:n].copy())
        self.grad_hist.append(counts[n:].copy())
        self.arrow_norm.append(norms(self._sent(nodes, flow)))
        parameters = structure.parameters
        self.grad_data.append(_ratio(grad_stats[parameters, 3], values[parameters, 3]))
        self.update_data.append(np.full(len(parameters), np.nan))
        params = [nodes[i] for i in parameters]
        self._before = (len(self.steps) - 1, params, [np.array(p.data) for p in params])

    def _sent(self, nodes: list[Any], flow: Flow) -> list[Any]:
        """The gradient each arrow carries back: what the target sent to the source, summed
        first when the target uses the source more than once (x * x); None for none."""
        position = {id(node): i for i, node in enumerate(nodes)}
        sent: dict[tuple[int, int], Any] = {}
        for target, node in enumerate(nodes):
            vjps = flow.sent(node)
            if vjps is None:
                continue
            for parent, grad in zip(node._parents, vjps):
                if grad is None or not parent.requires_grad:
                    continue
                key = (position[id(parent)], target)
                sent[key] = grad if key not in sent else sent[key] + grad
        return [sent.get(key) for key in self._recorded().arrows]

    # -- update:data ratio -----------------------------------------------------------------

    def _measure_update(self) -> None:
        """std(after - before) / std(after) per parameter, for the last kept step."""
        if self._before is None:
            return
        k, params, before = self._before
        self._before = None
        if not params:
            return
        spread = spreads([p.data - old for p, old in zip(params, before)]
                         + [p.data for p in params])
        self.update_data[k] = _ratio(spread[:len(params)], spread[len(params):])

    def _measure_after_step(self, optimizer: Any) -> None:
        """Measure the update right after `optimizer`'s next step (once)."""
        if not hasattr(optimizer, "step"):
            raise TypeError(f"GradientFlowRecorder.record: optimizer must be a minigrad "
                            f"optimiser (with .step()), got {type(optimizer).__name__}.")
        original = optimizer.step

        def step(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            if optimizer.__dict__.get("step") is step:
                del optimizer.step  # back to the class's method
            self._measure_update()
            return result

        optimizer.step = step

    def _changed(self, call: int, signature: tuple) -> str:
        old = self._recorded().signature
        first = next((i for i, (a, b) in enumerate(zip(old, signature)) if a != b),
                     min(len(old), len(signature)))
        where = (f"box {first} ({self._recorded().boxes[first].id})" if first < len(old)
                 else f"box {first}")
        return (f"GradientFlowRecorder.record: the graph of call {call} differs from the one "
                f"recorded first ({len(old)} boxes, now {len(signature)}; first difference at "
                f"{where}). One recording draws one structure on one layout. Fix: use a new "
                "recorder for each structure (e.g. one in train mode and one in eval mode), "
                "or keep the model's forward the same at every step.")

    # -- reading -------------------------------------------------------------------------

    def series(self, statistic: str) -> np.ndarray:
        """One statistic of every box over the kept steps: ``(steps, boxes)``."""
        if statistic not in _COLUMN:
            raise ValueError(f"GradientFlowRecorder.series: unknown statistic {statistic!r}. "
                             f"Fix: use one of {', '.join(STAT_NAMES)}.")
        self.check_recorded("series")
        return np.stack([stats[:, _COLUMN[statistic]] for stats in self.box_stats])

    def check_recorded(self, caller: str) -> None:
        """A clear error when nothing has been recorded yet."""
        if not self.steps:
            raise ValueError(f"{caller}: the recorder has no records ({self.calls} calls of "
                             f"record, every={self.every}). Fix: call recorder.record(loss) "
                             "after loss.backward() in the training loop first.")
