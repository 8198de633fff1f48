"""What the gradient-flow recorder learns once, from its first kept step.

`Structure` is the graph as drawn (boxes with stable identities, arrows), from
`walk.describe`. `Plan` is how to read a later step of the same graph quickly: where each
box's node sits in the walk, which arrows carry the whole gradient of their source (their
norm is the source's gradient norm: nothing to compute), and a fingerprint of the graph
that is checked at every kept step, so that a changed structure is reported, never mixed
in silently.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter, lt
from typing import Any

import numpy as np

from minigrad.autograd import Scope
from minigrad.value import Value
from minigrad.versions import FREED_GRAPH
from minigrad.viz.statistics import HIGH, LOW, MEAN, NORM, RMS, STD
from minigrad.viz.walk import creation_order, describe, walk


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
    signature: tuple  # (op, scope, parents) per box, in creation order


def signature(nodes: list[Any], parents: list[list[int]]) -> tuple[list[int], tuple]:
    """The nodes' order by creation (how `describe` numbers its boxes) and a value that is
    equal for two graphs exactly when they have the same ops, modules and edges, created
    in the same order."""
    order = sorted(range(len(nodes)), key=creation_order(nodes, parents).__getitem__)
    rank = [0] * len(nodes)
    for position, i in enumerate(order):
        rank[i] = position
    return order, tuple((nodes[i].op_name, nodes[i]._scope,
                         tuple(rank[j] for j in parents[i])) for i in order)


def structure(root: Any, params: Any, tool: str = "GradientFlowRecorder") -> Structure:
    """Boxes, clusters and arrows as `draw_graph` sees them (no folding, no cap)."""
    picture = describe(root, show_grad=False, max_nodes=None, params=params, tool=tool)
    nodes, parents = walk(root)
    _, created = signature(nodes, parents)
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
    # Scopes without their module objects (a scope is its path of names and types): the
    # structure is kept and pickled with the records, the model (its arrays, its hooks,
    # which pickle may not save) need not be.
    bare: dict[int, Scope] = {}
    for box in boxes:
        box.cluster = _bare(box.cluster, bare)
    created = tuple((op, _bare(scope, bare), edges) for op, scope, edges in created)
    return Structure(boxes, arrows, parameters, created)


def _bare(scope: Scope | None, done: dict[int, Scope]) -> Scope | None:
    """`scope` and its parents with ``module`` None (each scope once, by identity)."""
    if scope is None:
        return None
    if id(scope) not in done:
        done[id(scope)] = scope._replace(parent=_bare(scope.parent, done), module=None)
    return done[id(scope)]


def _fingerprint(nodes: list[Any], parents: list[list[int]]) -> list[tuple]:
    """(op, module, parents) per node in walk order: equal for two walks exactly when the
    graphs have the same ops, modules and edges (the walk's order follows the edges)."""
    return [(node.op_name, node._scope, tuple(found)) for node, found in zip(nodes, parents)]


class Plan:
    """How to read a step of the recorded graph: built from the first kept step's walk.

    ``order[b]``: the walk position of box b's node (boxes are in creation order).
    ``whole[k]``, ``whole_source[k]``: arrows that carry their source's whole gradient
    (the source has no other consumer), and the source box of each; ``parts``: the other
    arrows, each with the (target's walk position, parent slots) whose gradients it sums.
    ``saturating``: (box, op) for tanh and sigmoid outputs.
    """

    def __init__(self, recorded: Structure, nodes: list[Any], parents: list[list[int]]
                 ) -> None:
        order, _ = signature(nodes, parents)
        self.order = order
        # A Value graph is ordered by its structure (`creation_order`), which the fingerprint
        # compares already: its creation numbers say nothing more (and are given late).
        self.by_structure = isinstance(nodes[0], Value)
        self.fingerprint = _fingerprint(nodes, parents)
        # A tree (every node but the root used once: most training graphs with fused ops)
        # is read by `_read_tree`, with no dictionary of positions.
        self.tree = sum(map(len, parents)) == len(nodes) - 1
        self._parent_counts = [len(found) for found in parents]
        self._ops = [op for op, _, _ in self.fingerprint]
        self._scopes = [scope for _, scope, _ in self.fingerprint]
        consumers: list[list[int]] = [[] for _ in nodes]
        for child, found in enumerate(parents):
            for parent in found:
                consumers[parent].append(child)
        whole, whole_source = [], []
        self.slots: list[tuple[int, list[int]]] = []  # per arrow: (target walk position, slots)
        for k, (source, target) in enumerate(recorded.arrows):
            source_walk, target_walk = order[source], order[target]
            self.slots.append((target_walk, [slot for slot, parent in
                                             enumerate(parents[target_walk])
                                             if parent == source_walk]))
            if all(child == target_walk for child in consumers[source_walk]):
                whole.append(k)
                whole_source.append(source)
        self.whole = np.array(whole, dtype=np.intp)
        self.whole_source = np.array(whole_source, dtype=np.intp)
        self._whole_pairs = list(zip(whole, whole_source))
        carried_whole = set(whole)
        self.parts = [k for k in range(len(recorded.arrows)) if k not in carried_whole]
        saturating: dict[str, list[int]] = {}
        for b in range(len(order)):
            if nodes[order[b]].op_name in ("tanh", "sigmoid"):
                saturating.setdefault(nodes[order[b]].op_name, []).append(b)
        self.saturating = list(saturating.items())  # (op, its boxes), tanh or sigmoid outputs
        parameters = recorded.parameters
        trained = set(parameters)
        others = [b for b in range(len(order)) if b not in trained]
        # Rows of the statistics of [values..., parameters' grads..., other grads...].
        self.grad_rows = np.empty(len(order), dtype=np.intp)
        self.grad_rows[parameters] = len(order) + np.arange(len(parameters))
        self.grad_rows[others] = len(order) + len(parameters) + np.arange(len(others))
        self.grad_order = parameters + others
        # The boxes' nodes from the walk's, and their gradients' nodes from those, in one
        # C call each (itemgetter of one position gives the item itself, not a tuple).
        self.boxes = _picker(order)
        self.grad_nodes = _picker(self.grad_order)
        # What a kept step stores, as positions in the flattened (arrays, 6) statistics
        # (columns as in `statistics`; -1: NaN), gathered in one call each:
        # ``statistics[0]``: each box's row of STAT_NAMES (the "saturated" column is filled
        # separately), then each arrow's norm where it carries its source's whole gradient
        # (the source's gradient norm; the others are filled separately);
        # ``statistics[1]``: the parameters' gradient std and value std (grad:data).
        n = len(order)
        value_at = np.arange(n)[:, None] * 6
        grad_at = self.grad_rows[:, None] * 6
        boxes = np.hstack([grad_at + [RMS, NORM], value_at + [MEAN, STD],
                           np.full((n, 1), -1), grad_at + [LOW, HIGH], value_at + [LOW, HIGH]])
        arrows = np.full(len(recorded.arrows), -1, dtype=np.intp)
        arrows[self.whole] = self.grad_rows[self.whole_source] * 6 + NORM
        self.statistics = (np.concatenate((boxes.reshape(-1), arrows)),
                           np.stack((self.grad_rows[parameters] * 6 + STD,
                                     np.array(parameters, dtype=np.intp) * 6 + STD)))
        # Histogram rows: the values' (boxes in order), then the gradients'.
        self.histogram_rows = np.concatenate((np.arange(n), self.grad_rows))
        # What each box holds, checked at every kept step (`holds_the_recorded`): its dtype
        # and shape, and for a module's parameter (`nn.Parameter`) the parameter itself
        # (weakly: the recorder keeps no parameter alive). Other leaves that require grad
        # (inputs, a Value graph's leaves, tensors made anew each step) may change from
        # step to step. A Value graph's data are floats: no dtype or shape to check.
        from minigrad.nn.module import Parameter  # viz sits above nn

        values = [nodes[i].data for i in order]
        self.arrays = all(type(value) is np.ndarray for value in values)
        self.dtypes = [getattr(value, "dtype", None) for value in values]
        self.shapes = [getattr(value, "shape", ()) for value in values]
        self.parameters = parameters
        self.module_parameters = [b for b in parameters
                                  if isinstance(nodes[order[b]], Parameter)]
        self.module_parameter_nodes = _picker(self.module_parameters)
        self.parameter_refs = [weakref.ref(nodes[order[b]]) for b in self.module_parameters]
        self.parameter_ids = [id(nodes[order[b]]) for b in self.module_parameters]

    def holds_the_recorded(self, boxes: Sequence[Any], values: list[Any]
                           ) -> tuple[int, str] | None:
        """None when this step's boxes hold what the first step's did, else the first
        difference: (box, what it holds now). `boxes`: the nodes in box order, `values`
        their data.

        A box of a module's parameter holds the recorded parameter; if that one no longer
        exists (replaced in its module), whichever takes its place is held from then on.
        Every box keeps its dtype and shape, except that the first dimension of a box that
        is not a module's parameter may change (the batch size: a last smaller batch, or a
        reshape that folds the batch into it). Cheap when nothing changed: a few C-level
        comparisons of whole lists."""
        parameters = self.module_parameter_nodes(boxes)
        # The same ids: each is the recorded parameter, or took the address of a recorded
        # one that no longer exists (then it took its place: allowed).
        if list(map(id, parameters)) != self.parameter_ids:
            refs = self.parameter_refs
            for k, node in enumerate(parameters):
                recorded = refs[k]()
                if recorded is not node:
                    if recorded is not None:
                        return self.module_parameters[k], (f"another parameter (shape "
                                                    f"{getattr(node.data, 'shape', ())})")
                    refs[k], self.parameter_ids[k] = weakref.ref(node), id(node)
        if not self.arrays:
            return None
        if list(map(_dtype_of, values)) != self.dtypes:
            b = next(b for b, value in enumerate(values) if value.dtype != self.dtypes[b])
            return b, f"dtype {values[b].dtype}, recorded {self.dtypes[b]}"
        shapes = list(map(_shape_of, values))
        if shapes == self.shapes:
            return None
        trained = set(self.module_parameters)
        for b, (shape, recorded) in enumerate(zip(shapes, self.shapes)):
            if shape != recorded and (b in trained or len(shape) != len(recorded)
                                      or not shape or shape[1:] != recorded[1:]):
                return b, f"shape {shape}, recorded {recorded}"
        return None

    def matches(self, nodes: list[Any], parents: list[list[int]]) -> bool:
        """True when this walk is of the recorded graph: same ops, modules and edges, and
        the boxes created in the same order (they are numbered by it)."""
        if len(nodes) != len(self.order) or _fingerprint(nodes, parents) != self.fingerprint:
            return False
        if self.by_structure:
            return True
        created = [node._seq for node in self.boxes(nodes)]
        return all(map(lt, created, created[1:]))

    def read(self, root: Any) -> list[Any] | None:
        """The nodes of `root`'s graph in walk order when it is the recorded graph (what
        `matches` says of ``walk(root)``), else None. One pass that walks and compares
        together, stopping at the first difference (a freed graph differs: its nodes' links
        are gone)."""
        if self.tree:
            return self._read_tree(root)
        order = [root]
        position = {id(root): 0}
        # The list iterator sees the nodes appended while it runs (breadth-first, as walk).
        for node, (op, scope, parents) in zip(order, self.fingerprint):
            links = node._parents
            if links is FREED_GRAPH:  # its marker could pass for a recorded leaf
                return None
            if node.op_name != op or node._scope != scope or len(links) != len(parents):
                return None
            for parent, expected in zip(links, parents):
                found = position.setdefault(id(parent), len(order))
                if found == len(order):
                    order.append(parent)
                if found != expected:
                    return None
        if len(order) != len(self.fingerprint):
            return None
        if self.by_structure:
            return order
        created = [node._seq for node in self.boxes(order)]
        return order if all(map(lt, created, created[1:])) else None

    def _read_tree(self, root: Any) -> list[Any] | None:
        """`read` for a recorded tree, with C-level comparisons of whole lists: each node's
        parents appended as they are met give the walk's order exactly when the graph is a
        tree too (no node twice), and then the same parent counts mean the same edges."""
        size = len(self._ops)
        order = [root]
        extend = order.extend
        for node in order:  # (the iterator sees the nodes appended while it runs)
            extend(node._parents)
            if len(order) > size:  # another graph: stop walking it
                return None
        if len(order) != size:
            return None
        seen = set(map(id, order))
        # A node met twice (also caught below: its two places cannot both be in creation
        # order), or a freed graph (its nodes' parents are one shared marker).
        if len(seen) != size or id(_FREED_MARKER) in seen:
            return None
        if (list(map(len, map(_parents_of, order))) != self._parent_counts
                or list(map(_op_of, order)) != self._ops
                or list(map(_scope_of, order)) != self._scopes):
            return None
        if self.by_structure:
            return order
        created = list(map(_seq_of, self.boxes(order)))
        return order if all(map(lt, created, created[1:])) else None

    def arrows_with_parts(self, boxes: Sequence[Any]) -> list[int]:
        """The arrows whose gradient must be summed from what was sent along them: the
        `parts` arrows, and any other whose source now has a hook (it may have changed the
        source's gradient after receiving it). `boxes`: the nodes in box order."""
        hooked = [k for k, b in self._whole_pairs if boxes[b]._hooks]
        return self.parts + hooked if hooked else self.parts


_FREED_MARKER = FREED_GRAPH[0]  # what a freed node's parents hold instead of its parents
_parents_of, _op_of = attrgetter("_parents"), attrgetter("op_name")
_scope_of, _seq_of = attrgetter("_scope"), attrgetter("_seq")
_dtype_of, _shape_of = attrgetter("dtype"), attrgetter("shape")


def _picker(positions: list[int]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """A function giving ``[items[i] for i in positions]`` (as a tuple), in one C call."""
    if len(positions) == 1:
        only = positions[0]
        return lambda items: (items[only],)
    return itemgetter(*positions) if positions else (lambda items: ())
