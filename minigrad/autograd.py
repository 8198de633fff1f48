"""The one autograd engine shared by `Value` (scalars) and `Tensor` (n-d arrays).

The engine knows a node only through a small protocol (`Node` below). `Value` and
`Tensor` both implement it, so `backward`, `gradcheck`, `detect_anomaly` and the graph
walk of the visualiser are written once and work on either kind of node.

Everything here is iterative: no function recurses along the graph, so a chain of a
million operations backpropagates without a `RecursionError`. One exception to "written
once", for speed: `Value.backward` runs the same algorithm as `backward` below in a loop
specialised to scalar nodes (a scalar graph has tens of thousands of nodes); under
`detect_anomaly()` it uses this general one, which checks every gradient.

Gradient policy — what ``.grad`` holds after ``backward()``:

* **Value** (micrograd's behaviour): every node of the graph, leaf or intermediate, holds
  d(root)/d(node) in ``.grad``.
* **Tensor** (PyTorch's behaviour, which keeps a training step's memory low): ``.grad`` is
  stored on the leaves that require grad (parameters, inputs created with
  ``requires_grad=True``), on tensors marked with ``t.retain_grad()``, and on the **root**
  backward started from (its seed, ``ones`` for a scalar loss: it shows that backward ran,
  and from it the visualiser recomputes every other node's gradient at draw time through
  ``_vjp``, for a graph kept with ``retain_graph=True``). Every other intermediate
  gradient is freed as soon as it has been sent on to the parents. Inside
  ``with retain_grads():`` backward stores ``.grad`` on every node, as micrograd does.
* Gradients *add up*: a second ``backward()`` (through a kept graph, or after a new
  forward pass) adds a second copy into every ``.grad`` it stores. Call ``zero_grad()``
  between passes, as in any training loop.
* **Tensor: the graph is freed by ``backward()``**, as in PyTorch. Before the pass,
  intermediate results of 4 KiB or more that nobody but the graph holds lose their data (a
  node *is* its tensor here, so the graph would otherwise keep every activation alive; see
  `minigrad.versions.release_unheld_data`). During it, right after each node's own
  backward, its op drops what it saved and the node drops its links to its parents (the
  root keeps its own). A training step's memory then stays close to PyTorch's. A freed
  node still says which op made it (``grad_fn``, ``is_leaf`` False); a second backward
  through it, from any tensor, raises an error that names the fix, and the visualiser
  and the recorder refuse such a graph. ``backward(retain_graph=True)`` keeps the whole
  graph instead: a second backward works, and the visualiser can draw it (every node's
  value, and its gradient recomputed from the root's ``.grad`` through ``_vjp``). A pass
  watched by an observer (below: the gradient-flow recorder) keeps its graph too, so the
  recorder needs no switch. **Value** graphs are always kept (micrograd's behaviour).
* A tool that needs every gradient of one pass (the gradient-flow recorder) asks for it
  with `minigrad.observers.observe_next_backward` instead of keeping them in ``.grad``.
* A leaf tensor's ``.grad`` is always an array of its own (never a read-only view, never
  shared with another tensor), so in-place edits such as gradient clipping are safe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from operator import attrgetter
from typing import Any, Protocol

# The engine's state, switches and anomaly mode live in modules of their own; their names
# are re-exported here, where the rest of minigrad and outside code have always found them.
from minigrad.anomaly import AnomalyError, anomaly_error, detect_anomaly, user_frame
from minigrad.engine_state import (
    EngineState,
    RemovableHandle,
    Scope,
    SideTable,
    current_state,
    is_grad_enabled,
    module_scope,
    next_seq,
    renumber_loaded,
    set_state,
    state,
)
from minigrad.grad_mode import (
    _retain_all_grads,
    enable_grad,
    no_grad,
    retain_grads,
    set_grad_enabled,
)
from minigrad.observers import hand_back, next_observer

__all__ = [
    "AnomalyError", "EngineState", "Node", "RemovableHandle", "Scope", "SideTable",
    "anomaly_error", "backward", "current_state", "detect_anomaly", "enable_grad",
    "is_grad_enabled", "module_scope", "next_seq", "no_grad", "renumber_loaded",
    "retain_grads", "set_grad_enabled", "set_state", "state", "topological_order",
    "user_frame",
]


class Node(Protocol):
    """What the engine needs to know about a node of the computation graph.

    ``data``/``grad``: the value and the accumulated gradient (float or ndarray).
    ``requires_grad``: whether gradient should flow to this node.
    ``_parents``: the nodes this one was computed from (empty for a leaf).
    ``_seq``: creation number; a node is always created after its parents (a `Value` is
    numbered when first asked for it, still above its parents).
    ``_scope``: the module `Scope` in force when the node was created (or None).
    ``_hooks``: functions called with the node's gradient once it is complete.
    ``_retains_grad``: whether backward stores an intermediate node's gradient in ``.grad``
    (leaves and the root always get theirs; see the gradient policy above).
    ``op_name``: short name of the operation that made the node ("" for a leaf).
    ``_vjp(grad_output)``: the vector-Jacobian products, one per parent
    (None where a parent gets no gradient).
    ``_accumulate_grad(grad, exposed)``: add a finished gradient into ``.grad``; ``exposed``
    holds the ids of gradient arrays that others may hold too (a node that keeps ``grad``
    itself, without a copy, adds its id).
    """

    data: Any
    grad: Any
    requires_grad: bool

    @property
    def _parents(self) -> tuple[Node, ...]: ...  # read-only here, so subtypes may narrow it

    @property
    def _seq(self) -> int: ...  # read-only here: a Value gives its number when first asked

    _scope: Scope | None
    _hooks: Any
    _retains_grad: bool

    @property
    def op_name(self) -> str: ...

    def _vjp(self, grad_output: Any) -> Sequence[Any]: ...

    def _accumulate_grad(self, grad: Any, exposed: set[int]) -> None: ...


# --------------------------------------------------------------------------------------
# Topological order and backward
# --------------------------------------------------------------------------------------


def topological_order(root: Node) -> list[Node]:
    """Every node reachable from `root` that requires grad, each after all its consumers.

    Backward must visit a node only once every node that consumed it has sent its
    gradient back. Because a node is always created after its parents, sorting the
    reachable nodes by creation number, newest first, gives exactly such an order.
    The walk that finds the reachable nodes uses an explicit stack, never recursion.
    (`backward` visits its nodes in this order without building the list first; the
    visualiser, which recomputes a pass's gradients, walks this list.)
    """
    root._seq  # noqa: B018 (a Value numbers its graph when first asked: from the root)
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        for parent in node._parents:
            if parent.requires_grad and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return sorted(seen, key=_by_seq, reverse=True)


_by_seq = attrgetter("_seq")


def backward(root: Node, gradient: Any, free_graph: bool = False,
             not_processed: Callable[[list[Any]], None] | None = None,
             only: set[int] | None = None) -> None:
    """Backpropagate `gradient` (dL/droot) from `root` to every node it depends on.

    With `free_graph` (`Tensor.backward`'s default; ignored when an observer takes the
    pass, as the recorder reads the graph afterwards), as soon as a node's own backward
    has run, its op drops what it saved and the node drops its links to its parents (all
    but the root, whose op still refuses a second pass): a node no longer needed, and not
    held by the user, is then freed with its data during the pass. No second backward
    through this graph, and the visualiser refuses to draw it. A freeing pass that does
    not process its whole graph, because it stops on an error or because an op sends no
    gradient to a computed input, hands the nodes it stopped at to `not_processed`
    (`Tensor.backward` passes `versions.free_released`: what lost its data below them is
    freed too, rather than left linked).

    The nodes are visited in `topological_order`'s order (newest first), but without
    walking the graph beforehand: the nodes that have received a gradient wait in a heap
    keyed by their creation number, and the newest of them comes next. Every consumer of
    a node is newer than the node, and each was either processed already or is waiting
    (its own consumer, newer still, sent it a gradient), so when a node leaves the heap
    its gradient is complete. A node no gradient reaches is never visited.

    Once complete, the node's hooks run (and may replace the gradient), it is stored in
    ``.grad`` if the gradient policy (module docstring) keeps it, and it is sent on to the
    parents through the node's `_vjp`. After that nothing refers to it any more, so an
    intermediate gradient that is not kept is freed right there. With `only` (the ids of
    the tensors given to ``backward(inputs=...)``), as PyTorch's ``inputs``: only the nodes
    on a path from `root` to one of them are visited (`_on_paths_to`; a hook elsewhere does
    not run, a node elsewhere is neither processed nor freed), and those inputs store their
    gradient, with the intermediate nodes on the way that keep theirs (`retain_grad`).
    """
    keep_all = _retain_all_grads.get()
    waiting = next_observer.get()  # a tool watching one pass (minigrad/observers.py)
    observer = waiting.pop() if waiting else None  # taken: no other pass, in any context, sees it
    if observer is not None:  # the tool reads the graph after the pass (the recorder does)
        free_graph = False
    # Ids of this pass's gradient arrays that someone else may hold: the seed, arrays handed
    # to hooks, arrays already stored in a .grad. A leaf may adopt any other fresh array
    # instead of copying it (see Tensor._accumulate_grad).
    exposed = {id(gradient)}
    pending: dict[Node, Any] = {root: gradient}
    # (-creation number, id, node): the newest node pops first. The id breaks ties between
    # copies of one node (copy.deepcopy keeps the number), so nodes are never compared.
    # Nothing else refers to a node once it is popped (freeing relies on that).
    waiting_nodes = [(-root._seq, id(root), root)]
    if not free_graph:
        not_processed = None
    unreached: list[Node] = []  # computed inputs an op sent no gradient (freeing passes)
    needed = _NO_IDS if only is None else _on_paths_to(root, only)
    if only is not None and id(root) not in needed:
        if observer is not None:  # no pass to see: it waits for the next one
            hand_back(observer)
        return  # no input below the root: nothing to compute (PyTorch: no error either)
    node = root
    try:
        while waiting_nodes:
            node = heappop(waiting_nodes)[2]
            grad = pending.pop(node)
            if node._hooks:
                for hook in node._hooks:
                    exposed.add(id(grad))
                    replaced = hook(grad)
                    if replaced is not None:
                        grad = _checked_hook_result(node, hook, grad, replaced)
                exposed.add(id(grad))
            if observer is not None:
                try:
                    observer(node, grad)
                except BaseException:  # its own error: handed back, it would fail every pass
                    observer = None
                    raise
            parents = node._parents
            if only is None:
                if not parents or keep_all or node._retains_grad or node is root:  # leaves first
                    node._accumulate_grad(grad, exposed)
            else:  # backward(inputs=...): every node here is on a path to an input
                if id(node) in only or (parents and (keep_all or node._retains_grad)):
                    node._accumulate_grad(grad, exposed)
                if any(id(parent) in needed for parent in parents):
                    parents = tuple(parent if id(parent) in needed else _OFF_PATH
                                    for parent in parents)
                else:  # an input with no other below it: its op's backward is not run
                    parents = ()
            if parents:
                for parent, parent_grad in zip(parents, node._vjp(grad)):
                    if parent_grad is None or not parent.requires_grad:
                        if not_processed is not None and parent._parents:
                            unreached.append(parent)  # (it may still get one from elsewhere)
                        continue
                    earlier = pending.get(parent)
                    if earlier is None:
                        pending[parent] = parent_grad
                        heappush(waiting_nodes, (-parent._seq, id(parent), parent))
                    else:
                        pending[parent] = earlier + parent_grad
                if free_graph:  # what it saved, and (but for the root) its links to parents
                    node._free_saved(node is not root)  # type: ignore[attr-defined]  # Tensor's
    except BaseException:
        if observer is not None:  # it saw part of a pass: it watches the next one instead
            hand_back(observer)
        if not_processed is not None:  # stopped at `node`; the waiting nodes come after it
            not_processed([node, *pending, *unreached])
        raise
    if unreached and not_processed is not None:
        not_processed(unreached)


_NO_IDS: frozenset[int] = frozenset()  # `needed` of a plain pass (it never reads it)


class _OffPath:
    """Stands for a parent no input lies below in a ``backward(inputs=...)`` pass: the loop
    above drops its gradient, as for a parent that does not require grad."""

    requires_grad = False
    _parents = ()


_OFF_PATH: Any = _OffPath()  # (typed Any: it stands where a Node is expected)


def _on_paths_to(root: Node, only: set[int]) -> set[int]:
    """The ids of the nodes on a path from `root` down to a tensor whose id is in `only`
    (the tensors of ``backward(inputs=...)``): the nodes PyTorch's engine runs in such a
    pass. One walk of the graph below `root`: a node is on such a path if it is one of
    `only` or one of its parents is (each node is decided after its parents)."""
    on_path: dict[int, bool] = {}
    stack = [root]
    while stack:
        node = stack[-1]
        if id(node) in on_path:  # (reached twice before being decided)
            stack.pop()
            continue
        undecided = [parent for parent in node._parents
                     if parent.requires_grad and id(parent) not in on_path]
        if undecided:  # its parents first (a graph has no cycles, so this ends)
            stack.extend(undecided)
            continue
        stack.pop()
        if hasattr(getattr(node, "_op", None), "refusal"):  # freed by an earlier pass
            # (`versions.FreedOp`): what was below it is unknown, so the pass goes through
            # it, to its marker parent, and its op refuses with the fix
            on_path.update({id(node): True, **{id(parent): True for parent in node._parents}})
            continue
        on_path[id(node)] = id(node) in only or any(
            on_path.get(id(parent), False) for parent in node._parents)
    return {key for key, leads_to_input in on_path.items() if leads_to_input}


def _checked_hook_result(node: Node, hook: Callable, grad: Any, replaced: Any) -> Any:
    """What a hook returned, if it can stand in for `grad`: an array of the same shape (as
    PyTorch checks). Another shape would be stored in a leaf's ``.grad`` as it is, or be
    blamed on the next op's backward; a Tensor would start recording a graph."""
    shape = getattr(grad, "shape", None)
    if getattr(replaced, "shape", None) != shape or hasattr(replaced, "_parents"):
        kind = type(replaced).__name__
        got = f"{kind} of shape {replaced.shape}" if hasattr(replaced, "shape") else kind
        raise ValueError(
            f"register_hook: the hook {getattr(hook, '__name__', hook)!r} on a tensor of shape "
            f"{shape} (made by {node.op_name or 'the user: a leaf'}) returned {got}. Fix: return "
            f"an array of shape {shape} (a NumPy array, like the gradient it was given), or "
            "None to keep the gradient.")
    return replaced
