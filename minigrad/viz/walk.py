"""The picture's content: which boxes and arrows to draw, found through the node protocol.

`describe(root, ...)` walks the graph (iteratively, breadth-first from the root), decides
which nodes become boxes (hiding parameters or constants, folding a module's nodes into
one box, stopping at ``max_nodes``), and computes the gradient carried by every arrow:
the vector-Jacobian product ``node._vjp(grad)`` that a node sends to each parent, with
every gradient recomputed from the root's (`Flow`), so the picture needs nothing but the
leaves' ``.grad`` that backward keeps, and the graph itself: ``backward(retain_graph=True)``
keeps it (a plain ``backward()`` frees it, as in PyTorch, and `walk` refuses it).
Nothing here knows about Graphviz; `graph.py` turns the result into DOT.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numpy as np

from minigrad.autograd import Scope
from minigrad.viz.changed import changed_input, written_in_place_error
from minigrad.viz.modules import (
    AUTO,
    all_scopes,
    auto_level,
    check_patterns,
    common_scope,
    matches,
    names_from,
    owner_names,
    qualified_names,
    user_label,
)
from minigrad.viz.style import GradStats, norm


@dataclass
class Box:
    """One box of the picture: a node of the graph, or a whole module folded into one."""

    nodes: list[Any]  # the graph nodes it stands for (several for a collapsed module)
    kind: str  # "op", "parameter", "constant" or "module"
    cluster: Scope | None  # the module whose cluster the box is drawn in
    module: Scope | None = None  # the collapsed module, for kind "module"
    name: str = ""  # the user's label (Value.label, Tensor.name or from params=)
    key: str = ""  # DOT identifier, given in creation order: n0, n1, ...
    is_root: bool = False
    grad: GradStats | None = None  # the gradient of the box's (output) node, after backward

    @property
    def node(self) -> Any:
        """The node whose value the box shows: for a module, its newest (output) node."""
        return self.nodes[-1]


@dataclass
class Arrow:
    """Data flows from `source` to `target`; gradient flows back along it.

    ``grad_norm`` is the L2 norm of the gradient `target` sends back to `source`, and
    ``grad_rms`` its root mean square per element of the source (norm / √size), or None
    when no gradient flows (the source needs none, or backward has not run).
    """

    source: str
    target: str
    grad_norm: float | None = None
    grad_rms: float | None = None
    carries_grad: bool = False
    parts: list[tuple[float, int]] = field(default_factory=list, repr=False)  # (norm, size)


@dataclass
class Picture:
    """Everything `graph.py` needs to write the DOT text."""

    boxes: list[Box]
    arrows: list[Arrow]
    show_grad: bool
    total_nodes: int
    hidden: int = 0  # nodes left out by show_parameters / show_constants
    dropped: int = 0  # boxes beyond max_nodes
    dropped_targets: list[str] = field(default_factory=list)  # boxes fed by dropped ones
    auto_collapsed: bool = False  # collapse="auto" folded modules to keep the picture small

    def longest_chain(self) -> int:
        """The number of boxes on the longest path of arrows (how deep the layout gets)."""
        targets: dict[str, list[str]] = {box.key: [] for box in self.boxes}
        waiting = dict.fromkeys(targets, 0)  # arrows into each box not yet counted
        for arrow in self.arrows:
            targets[arrow.source].append(arrow.target)
            waiting[arrow.target] += 1
        rank = dict.fromkeys(targets, 1)
        ready = [key for key, count in waiting.items() if count == 0]
        while ready:  # Kahn's topological order, with an explicit list
            key = ready.pop()
            for target in targets[key]:
                rank[target] = max(rank[target], rank[key] + 1)
                waiting[target] -= 1
                if waiting[target] == 0:
                    ready.append(target)
        return max(rank.values(), default=0)


def walk(root: Any, tool: str = "draw_graph",
         freed_error: Callable[[str], Exception] | None = None
         ) -> tuple[list[Any], list[list[int]]]:
    """Every node reachable from `root`, breadth-first (root first), and each node's parents
    as positions in that list. An explicit queue: no recursion, whatever the depth.

    A graph that ``backward()`` freed (its default, unless ``retain_graph=True``) has lost
    its links: `tool` (the function asking) raises an error that names the fix rather than
    draw a part of it: ``freed_error(tool)``, by default `versions.freed_graph_error`'s
    (the recorder explains its own case)."""
    from minigrad.versions import FREED_GRAPH, freed_graph_error

    position = {id(root): 0}
    order = [root]
    parents: list[list[int]] = []
    i = 0
    while i < len(order):
        found = []
        links = order[i]._parents
        if links is FREED_GRAPH:
            raise (freed_error or freed_graph_error)(tool)
        for parent in links:
            j = position.get(id(parent))
            if j is None:
                j = position[id(parent)] = len(order)
                order.append(parent)
            found.append(j)
        parents.append(found)
        i += 1
    return order, parents


def creation_order(nodes: list[Any], parents: list[list[int]]) -> list[int]:
    """A number per node of a walk (`walk`'s lists) that orders the nodes as they were made,
    for drawing and recording: a Tensor's creation number (``_seq``). A scalar `Value`
    computed by an op is numbered only when something first asks (see `Value._seq`), so its
    number depends on what asked first, and a node computed at an earlier step keeps its
    old one: a Value graph is ordered by its structure instead, depth first from the root,
    parents before their node and the first parent first (the order in which the forward
    pass made them), the same at every step of the same code. Iterative: any depth."""
    from minigrad.value import Value  # (viz sits above the engine)

    if not nodes or not isinstance(nodes[0], Value):
        return [node._seq for node in nodes]
    order = [-1] * len(nodes)
    numbered = 0
    stack = [0]
    while stack:
        i = stack[-1]
        if order[i] >= 0:  # (reached twice before it was numbered)
            stack.pop()
            continue
        waiting = [j for j in reversed(parents[i]) if order[j] < 0]
        if waiting:
            stack += waiting  # the first parent on top
        else:
            order[i] = numbered
            numbered += 1
            stack.pop()
    return order


def has_gradient(root: Any) -> bool:
    """True once `backward` has reached `root` (a Value's grad starts at 0.0, a Tensor's
    at None; the engine leaves the seed gradient in the root's ``.grad``)."""
    grad = root.grad
    if isinstance(grad, float | int):
        return grad != 0
    return grad is not None


class Flow:
    """This backward pass's gradients, recomputed at draw time from the root's ``.grad``.

    The engine keeps ``.grad`` only on leaves (and on what the user asked it to retain), so
    the picture recomputes every node's gradient itself: it visits the nodes in the engine's
    topological order and calls each node's ``_vjp`` once, exactly as backward did (hooks
    are not run again, so a hook that *changes* a gradient is not reflected). ``of(node)``
    is d(root)/d(node) for this pass; ``sent(node)`` the gradients the node sent to each
    parent (None where it sent none). Drawing pays for this once; training never does.
    It needs the graph as the pass left it (``backward(retain_graph=True)``): callers
    `walk` it first, which refuses a freed one; and the arrays its ops saved as they were:
    an input written in place since (``optimizer.step()`` after backward) is an error of
    `tool`'s (`changed.written_in_place_error`: the gradients drawn would not be
    backward's, and those of every node before it would be missing).
    (The gradient-flow recorder, which reads a pass at many steps, asks backward to hand
    its gradients over instead, `minigrad.observers`, and falls back on this.)
    """

    def __init__(self, root: Any, tool: str = "draw_graph") -> None:
        from minigrad.autograd import topological_order  # the engine's own order

        self.tool = tool
        self._grad: dict[int, Any] = {}
        self._sent: dict[int, list[Any]] = {}
        if not root.requires_grad or not has_gradient(root):
            return
        pending: dict[int, Any] = {id(root): root.grad}
        # NumPy's warnings are silenced: backward gave them already, and under a filter
        # that makes warnings errors, a node's would be an error caught below (its arrows
        # then drawn as unknown). A NaN or inf shows in the picture as exploding.
        with np.errstate(all="ignore"):
            self._recompute(topological_order(root), pending)

    def _recompute(self, order: list[Any], pending: dict[int, Any]) -> None:
        """Visit `order` (the engine's), each node's gradient from `pending` (by id)."""
        for node in order:
            grad = pending.pop(id(node), None)
            if grad is None:
                continue
            self._grad[id(node)] = grad
            if not node._parents:
                continue
            try:
                sent = list(node._vjp(grad))
            except Exception as error:  # an op whose backward cannot run again: no arrows
                position = changed_input(node)  # ... unless an input it saved was written
                if position is not None:
                    raise written_in_place_error(self.tool, node, position) from error
                continue
            self._sent[id(node)] = sent
            for parent, parent_grad in zip(node._parents, sent):
                if parent_grad is None or not parent.requires_grad:
                    continue
                earlier = pending.get(id(parent))
                pending[id(parent)] = parent_grad if earlier is None else earlier + parent_grad

    def of(self, node: Any) -> Any:
        """d(root)/d(node) in this pass, or None when no gradient reached it."""
        return self._grad.get(id(node))

    def sent(self, node: Any) -> list[Any] | None:
        """The gradients `node` sent to each of its parents, or None."""
        return self._sent.get(id(node))


def _kind(node: Any) -> str:
    if node._parents:
        return "op"
    return "parameter" if node.requires_grad else "constant"


def describe(root: Any, *, show_grad: bool | None = None, show_parameters: bool = True,
             show_constants: bool = True, collapse: str | Iterable[str] = (),
             max_nodes: int | None = 500, params: Any = None,
             tool: str = "draw_graph") -> Picture:
    """Decide what to draw for the graph ending at `root` (see `draw_graph` for the options).

    Unlike `draw_graph`, nothing is folded unless asked (``collapse="auto"`` or names): the
    recorder needs every node."""
    if max_nodes is not None and (not isinstance(max_nodes, Integral)
                                  or isinstance(max_nodes, bool) or max_nodes < 1):
        raise ValueError(f"{tool}: max_nodes must be a positive whole number or None, got "
                         f"{max_nodes!r}.")
    automatic = collapse == AUTO
    patterns = set() if automatic else {collapse} if isinstance(collapse, str) else set(collapse)
    if show_grad is None:
        show_grad = has_gradient(root)
    nodes, parents = walk(root, tool)
    kinds = [_kind(node) for node in nodes]

    # A module's parameters are made in its __init__, outside any scope; draw each inside
    # the innermost module that uses it (its consumers'), where a reader looks for it.
    from minigrad.nn.module import Parameter  # viz sits above nn

    consumers: list[list[int]] = [[] for _ in nodes]
    for child, found in enumerate(parents):
        for parent in found:
            consumers[parent].append(child)
    scopes = [node._scope for node in nodes]
    names = names_from(params, tool)
    in_use = all_scopes(scopes)
    unnamed = {id(node) for node, kind in zip(nodes, kinds) if kind == "parameter"
               and isinstance(node, Parameter) and id(node) not in names}
    names = {**owner_names(in_use, unnamed), **names}  # params= wins over the modules
    for i, node in enumerate(nodes):
        if (scopes[i] is None and consumers[i] and kinds[i] == "parameter"
                and (isinstance(node, Parameter) or id(node) in names)):
            scopes[i] = common_scope([nodes[c]._scope for c in consumers[i]])
    check_patterns(patterns, in_use)
    paths = qualified_names(in_use)

    hidden = {i for i, kind in enumerate(kinds) if i != 0 and (
        (kind == "parameter" and not show_parameters)
        or (kind == "constant" and not show_constants))}

    level = auto_level(scopes, [i for i in range(len(nodes)) if i not in hidden]
                        ) if automatic else None

    def folded_into(scope: Scope | None) -> Scope | None:
        """The collapsed module a node of `scope` is folded into, if any."""
        if scope is None:
            return None
        path = scope.path()
        if level is not None:
            return path[level - 1] if len(path) >= level else None
        return next((s for s in path if matches(s, patterns, paths)), None) if patterns else None

    # Group nodes into boxes (one per node, or one per collapsed module), in walk order.
    box_of: list[int | None] = [None] * len(nodes)
    boxes: list[Box] = []
    module_box: dict[Scope, int] = {}
    for i, node in enumerate(nodes):
        if i in hidden:
            continue
        module = folded_into(scopes[i])
        if module is None:
            box_of[i] = len(boxes)
            boxes.append(Box([node], kinds[i], scopes[i], name=user_label(node, names)))
        else:
            if module not in module_box:
                module_box[module] = len(boxes)
                boxes.append(Box([], "module", module.parent, module=module))
            box_of[i] = module_box[module]
            boxes[module_box[module]].nodes.append(node)
    root_box = box_of[0]  # the root is never hidden
    assert root_box is not None
    boxes[root_box].is_root = True
    kept = len(boxes) if max_nodes is None else min(max_nodes, len(boxes))

    flow = Flow(root, tool) if show_grad else None
    made = dict(zip(map(id, nodes), creation_order(nodes, parents)))
    for box in boxes[:kept]:
        box.nodes.sort(key=lambda node: made[id(node)])
    shown = sorted(boxes[:kept], key=lambda box: made[id(box.nodes[0])])
    for number, box in enumerate(shown):
        box.key = f"n{number}"
    # (An inf gradient's std is inf - inf, a huge one's square overflows: the boxes say
    # "exploding"; NumPy's warnings from inside would say nothing more.)
    with np.errstate(all="ignore"):
        for box in boxes[:kept]:
            grad = flow.of(box.node) if flow is not None else None
            if grad is not None:
                box.grad = GradStats(grad)
        arrows, dropped_targets = _arrows(nodes, parents, box_of, boxes, kept, flow)
    return Picture(shown, arrows, show_grad, len(nodes), len(hidden), len(boxes) - kept,
                   dropped_targets, auto_collapsed=level is not None)


def _arrows(nodes: list[Any], parents: list[list[int]], box_of: list[int | None],
            boxes: list[Box], kept: int,
            flow: Flow | None) -> tuple[list[Arrow], list[str]]:
    """The arrows between kept boxes, each with the gradient it carries back.

    Several graph edges can become one arrow (a node used twice, or edges into and out of
    a collapsed module). The gradients one node receives along them are summed first (that
    sum is what backward adds into its .grad); when a collapsed module sends gradient to
    several nodes, the arrow shows the norm of all of it: sqrt(sum of squared norms).
    """
    arrows: dict[tuple[int, int], Arrow] = {}
    received: dict[tuple[int, int, int], Any] = {}  # (source box, target box, node) -> grad
    dropped_targets: dict[int, None] = {}
    for i, node in enumerate(nodes):
        target = box_of[i]
        if target is None or target >= kept or not parents[i]:
            continue
        vjps = flow.sent(node) if flow is not None else None
        for k, j in enumerate(parents[i]):
            source = box_of[j]
            if source is None or source == target:
                continue
            if source >= kept:
                dropped_targets[target] = None
                continue
            arrow = arrows.get((source, target))
            if arrow is None:
                arrow = arrows[(source, target)] = Arrow(boxes[source].key, boxes[target].key)
            parent = nodes[j]
            if not parent.requires_grad:
                continue
            arrow.carries_grad = True
            grad = vjps[k] if vjps is not None and k < len(vjps) else None
            if grad is not None:
                earlier = received.get((source, target, j))
                received[(source, target, j)] = grad if earlier is None else earlier + grad
    for (source, target, _), grad in received.items():
        arrows[(source, target)].parts.append((norm(grad), int(np.size(grad))))
    for arrow in arrows.values():
        if arrow.parts:
            # (hypot: the squares of norms beyond ~1e154 would overflow, the root does not)
            arrow.grad_norm = math.hypot(*(part_norm for part_norm, _ in arrow.parts))
            size = sum(part_size for _, part_size in arrow.parts)
            arrow.grad_rms = arrow.grad_norm / math.sqrt(size) if size else 0.0
    ordered = sorted(arrows.values(), key=lambda a: (int(a.source[1:]), int(a.target[1:])))
    return ordered, [boxes[t].key for t in dropped_targets]
