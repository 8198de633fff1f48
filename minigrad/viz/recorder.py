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
saturated share), a histogram of the value and one of the gradient (of the finite
elements; a gradient with a NaN or inf has RMS and norm inf, shown as exploding); per
arrow, the norm of the gradient sent back along it; per parameter, the grad:data and
update:data ratios (std(grad) / std(data) and std(update) / std(data), as in
`TrainingDiagnostics`; NaN for an empty parameter, and update:data NaN for one resized
between the step and its update).
Intermediate ``.grad`` is never read (the engine keeps none). The recorder when it is
made (its first call is kept), and the call of `record` before a kept one, ask the engine
to hand over every gradient of the next backward pass as it computes them
(`minigrad.observers.observe_next_backward`; after each node's hooks, as backward used
them; `minigrad.viz.handover`); the kept call reads them there. A pass handed over also
keeps its graph, which ``backward()`` otherwise frees (as in PyTorch): the kept call
walks it. The other steps' graphs are freed as usual, so training's memory stays low.
Several recorders may wait for the same pass (one does not cancel another's request).
When nothing was handed over to this recorder, it recomputes the gradients from the
root's ``.grad`` (`walk.Flow`, a second backward pass; hooks are not run again) if the
graph is still there: a `Value` graph, a graph kept by ``backward(retain_graph=True)`` or
by another recorder's watch. A freed one (a recorder made after that backward, another
backward pass in between, e.g. two training loops that interleave) cannot be read: the
kept call raises an error that says why and names the fix, and the recorder still watches
the pass before its next kept call. Handed-over gradients (never the graph) are held only
until that kept call.

Cost: the first kept call walks the graph as `draw_graph` does and plans the later ones
(`structure.Plan`: each box's place, which arrows carry their source's whole gradient); a
later kept call walks the graph and checks it against the plan in one pass
(`Plan.read`: a changed structure raises; so does a box that holds another module
parameter, dtype or shape than at the first kept step, but for the batch dimension:
`Plan.holds_the_recorded`), then summarises all values and gradients
(`minigrad.viz.kept_step`) with a fixed number of NumPy calls, not one per box, in reused
work arrays (`statistics.Workspace`: 640 KiB of work arrays at most), and gathers what it
stores (box statistics and arrow norms, the grad:data stds, the histograms) with one call
each (`Workspace.take`, indices planned once). A call that is not kept only counts.
Measured on the demo model (benchmarks/recorder.py): a kept call costs 0.9–1.4
unrecorded training steps of that small model (its statistics' NumPy passes alone,
0.24–0.32 of one).

No tensor is kept between steps: the records grow with steps × boxes × bins only.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from numbers import Integral
from typing import Any

import numpy as np

from minigrad.observers import forget_observer, observe_next_backward
from minigrad.viz.changed import first_changed, written_in_place_error
from minigrad.viz.handover import Catch, missed_pass_error
from minigrad.viz.kept_step import COLUMN, STAT_NAMES, measure
from minigrad.viz.modules import names_from
from minigrad.viz.spreads import Spreads, ratio
from minigrad.viz.statistics import Workspace, summarise
from minigrad.viz.structure import BoxInfo, Plan, Structure, signature, structure
from minigrad.viz.walk import Flow, has_gradient, walk

__all__ = ["STAT_NAMES", "BoxInfo", "GradientFlowRecorder", "Structure", "summarise"]

_RECORD = "GradientFlowRecorder.record"


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
        if not _whole(every) or every < 1:
            raise ValueError(f"GradientFlowRecorder: every must be a whole number >= 1, got "
                             f"{every!r}. Fix: every=1 keeps every step, every=10 every tenth.")
        if not _whole(bins) or bins < 1:
            raise ValueError(f"GradientFlowRecorder: bins must be a whole number >= 1, got "
                             f"{bins!r}. Fix: e.g. bins=30.")
        if isinstance(model, Iterator):  # (name, tensor) pairs that can be read once
            model = list(model)
        names_from(model, "GradientFlowRecorder")  # a wrong `model` is refused now, not later
        self._set_up(model, int(every), int(bins))
        # The first call is kept: watch the first backward pass after this, so that step
        # too reads the gradients backward used (after the hooks: a hook that scales or
        # clips one would otherwise be missing from the first step only).
        self._watch_next_backward()

    def _set_up(self, model: Any, every: int, bins: int) -> None:
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
        self._plan: Plan | None = None
        self._workspace = Workspace(bins)
        # Every node's gradient of the backward pass before the next kept call, handed over
        # by the engine as it computes them (`observe_next_backward`).
        self._caught: Catch | None = None
        # The parameters and their values at the last kept step, until the update is measured.
        self._before: tuple[int, list[Any]] | None = None
        self._spreads = Spreads()

    @classmethod
    def _unwatched(cls, model: Any = None) -> GradientFlowRecorder:
        """A recorder that asks the engine for nothing (`explore` of one loss): it must
        not take the next backward pass from a training recorder that waits for it."""
        recorder = cls.__new__(cls)
        recorder._set_up(model, 1, 30)
        return recorder

    def _watch_next_backward(self) -> None:
        """Ask the engine for every gradient of the next backward pass (`Catch`), next to
        what other tools (recorders) ask for; an earlier request of ours not taken yet is
        withdrawn."""
        if self._caught is not None:
            forget_observer(self._caught.observer)
        self._caught = Catch()
        observe_next_backward(self._caught.observer)

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

        A call that is not kept only counts (its graph may be freed), except the one before
        a kept call: it asks the engine to hand over the gradients of the next backward
        pass as it computes them (`minigrad.observers`), which also keeps that pass's graph
        for the kept call to read. Without it (a `Value` graph, a recorder made after this
        backward, another backward in between) the kept call recomputes them from the root
        (`walk.Flow`; hooks are not run again), which needs the graph: a graph freed by
        ``backward()`` raises a RuntimeError naming the fix (make the recorder before the
        training loop, or ``loss.backward(retain_graph=True)`` on this step).
        """
        if self._before is not None:
            self._measure_update()
        call = self.calls
        self.calls += 1
        kept = call % self.every == 0
        try:
            if kept:
                if not hasattr(loss, "_parents"):
                    raise TypeError(f"GradientFlowRecorder.record: expected the loss (a "
                                    f"minigrad Tensor or Value), got {type(loss).__name__}.")
                if not loss.requires_grad:  # (backward would refuse it: another fix)
                    raise ValueError("GradientFlowRecorder.record: the loss does not require "
                                     "grad, so no gradient flows through its graph. Fix: "
                                     "make the parameters with requires_grad=True (a "
                                     "module's are) and compute the loss outside no_grad().")
                if not has_gradient(loss):
                    raise ValueError("GradientFlowRecorder.record: the loss has no gradient "
                                     "yet. Fix: call loss.backward() first, then "
                                     "recorder.record(loss).")
                self._keep_now(loss, call)
                if optimizer is not None:
                    self._measure_after_step(optimizer)
        finally:  # (also after an error: a loop that goes on must find the next pass kept)
            if (call + 1) % self.every == 0:  # the next call will be kept: watch its backward
                self._watch_next_backward()
        return kept

    def _keep_now(self, loss: Any, call: int = 0, tool: str = _RECORD) -> None:
        """Store this graph's statistics as step `call` (values only before backward)."""
        plan = self._plan
        found = plan.read(loss) if plan is not None else None
        if found is not None:  # the recorded graph again: walked and checked in one pass
            nodes = found
        else:
            # (explore's one step has its own words for a freed graph: the visualiser's)
            missed = ((lambda tool: missed_pass_error(self._caught, tool, call))
                      if tool == _RECORD else None)
            nodes, parents = walk(loss, tool, missed)
            if plan is None:
                if self.structure is None:
                    self.structure = structure(loss, self.model, tool.split(".")[0])
                elif signature(nodes, parents)[1] != self.structure.signature:
                    # (a recorder loaded by pickle or copied: it has records but no plan)
                    raise ValueError(self._changed(call, signature(nodes, parents)[1]))
                plan = self._plan = Plan(self.structure, nodes, parents)
            elif not plan.matches(nodes, parents):
                raise ValueError(self._changed(call, signature(nodes, parents)[1]))
        assert plan is not None  # (read found nodes only with a plan)
        caught, self._caught = self._caught, None
        if caught is not None:  # (still waiting if no pass ran since we asked: withdraw it)
            forget_observer(caught.observer)
        if loss.requires_grad and has_gradient(loss):  # (before backward: values only)
            changed = first_changed(nodes, loss)  # e.g. optimizer.step() before record
            if changed is not None:
                raise written_in_place_error(tool, *changed)
        boxes = plan.boxes(nodes)
        grads = caught.of(loss) if caught is not None else None
        if grads is not None:  # the engine handed this pass over
            get = grads.get
            self._keep(call, boxes, list(map(get, map(id, plan.grad_nodes(boxes)))),
                       lambda node: get(id(node)), lambda node: node._vjp(grads[id(node)]))
        else:
            flow = Flow(loss, tool)
            self._keep(call, boxes, list(map(flow.of, plan.grad_nodes(boxes))), flow.of,
                       flow.sent)

    # -- one kept step -------------------------------------------------------------------

    def _keep(self, call: int, nodes: Sequence[Any], grads: list[Any], grad_of: Any,
              sent_by: Any) -> None:
        """Store the statistics of one step (`kept_step.measure`): `nodes` in box order,
        `grads` their gradients in the plan's `grad_order` (None where none reached the
        node), `grad_of(node)` one node's, `sent_by(node)` the gradients it sent to its
        parents."""
        plan, parameters = self._plan, self._recorded().parameters
        assert plan is not None
        n = len(nodes)
        values = [node.data for node in nodes]
        if self.steps:  # (the first kept step made the plan: nothing to compare yet)
            difference = plan.holds_the_recorded(nodes, values)
            if difference is not None:
                raise ValueError(self._changed(call, None, *difference))
        stats, arrows, histograms, spreads = measure(
            plan, self._workspace, self.bins, nodes, values, grads, len(parameters), grad_of,
            sent_by)
        self.steps.append(call)
        self.box_stats.append(stats)
        self.value_hist.append(histograms[:n])  # (two views of one array of this step)
        self.grad_hist.append(histograms[n:])
        self.arrow_norm.append(arrows)
        self.grad_data.append(ratio(spreads[0], spreads[1]))
        self.update_data.append(np.full(len(parameters), np.nan))
        if parameters:
            params = [nodes[b] for b in parameters]
            self._spreads.keep([p.data for p in params])
            self._before = (len(self.steps) - 1, params)

    # -- update:data ratio -----------------------------------------------------------------

    def _measure_update(self) -> None:
        """std(after - before) / std(after) per parameter, for the last kept step."""
        if self._before is None:
            return
        k, params = self._before
        self._before = None
        self.update_data[k] = self._spreads.ratio([p.data for p in params])

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

    def _changed(self, call: int, signature: tuple | None, box: int = 0, held: str = "") -> str:
        """The error for a graph that is not the recorded one: another `signature` (ops,
        modules, edges), or the same but `box` holds something else (`held`: what)."""
        old, boxes = self._recorded().signature, self._recorded().boxes
        if signature is None:
            difference = (f"the same ops and arrows, but box {box} ({boxes[box].id}) holds "
                          f"{held}")
        else:
            first = next((i for i, (a, b) in enumerate(zip(old, signature)) if a != b),
                         min(len(old), len(signature)))
            where = f"box {first} ({boxes[first].id})" if first < len(old) else f"box {first}"
            difference = f"{len(old)} boxes, now {len(signature)}; first difference at {where}"
        return (f"GradientFlowRecorder.record: the graph of call {call} differs from the one "
                f"recorded first ({difference}). One recording draws one structure on one "
                f"layout. Fix: use a new "
                "recorder for each structure (e.g. one in train mode and one in eval mode), "
                "or keep the model's forward the same at every step.")

    # -- saving ----------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """What pickle and `copy` keep: the settings, the structure and the records, not the
        working state: the reading plan, the work arrays, a backward observer waiting (the
        copy asks for a pass of its own, `__setstate__`), and the parameters' values
        before an update not yet measured (its update:data stays NaN). Nor `model` once the
        structure exists (it is not read again; it would carry every parameter array, and
        a hook that pickle cannot save): the loaded recorder's ``model`` is None."""
        state = self.__dict__.copy()
        for working in ("_plan", "_workspace", "_caught", "_before", "_spreads"):
            state.pop(working, None)
        if self.structure is not None:
            state["model"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._plan, self._caught, self._before = None, None, None
        self._workspace, self._spreads = Workspace(self.bins), Spreads()
        # A loaded or copied recorder goes on recording: when its next call is kept, it
        # watches the next backward pass, as the original did (that pass keeps its graph,
        # which backward() would otherwise free before the kept call could read it).
        if self.calls % self.every == 0:
            self._watch_next_backward()

    def __copy__(self) -> GradientFlowRecorder:
        """A recorder with records of its own (recording on a plain shallow copy grew the
        original's lists) and the same `model`."""
        copied = type(self).__new__(type(self))
        copied.__setstate__(copy.deepcopy(
            {key: value for key, value in self.__getstate__().items() if key != "model"}))
        copied.model = self.model
        return copied

    # -- reading -------------------------------------------------------------------------

    def series(self, statistic: str) -> np.ndarray:
        """One statistic of every box over the kept steps: ``(steps, boxes)``."""
        if statistic not in COLUMN:
            raise ValueError(f"GradientFlowRecorder.series: unknown statistic {statistic!r}. "
                             f"Fix: use one of {', '.join(STAT_NAMES)}.")
        self.check_recorded("series")
        return np.stack([stats[:, COLUMN[statistic]] for stats in self.box_stats])

    def check_recorded(self, caller: str) -> None:
        """A clear error when nothing has been recorded yet."""
        if not self.steps:
            raise ValueError(f"{caller}: the recorder has no records ({self.calls} calls of "
                             f"record, every={self.every}). Fix: call recorder.record(loss) "
                             "after loss.backward() in the training loop first.")


def _whole(number: Any) -> bool:
    """A whole number, Python's or NumPy's (``steps // 30`` of a NumPy int), not a bool."""
    return isinstance(number, Integral) and not isinstance(number, bool)
