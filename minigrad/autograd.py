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

import functools
import inspect
import itertools
import os
import traceback
import weakref
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from heapq import heappop, heappush
from operator import attrgetter
from typing import Any, NamedTuple, Protocol

from minigrad.observers import next_observer


class Node(Protocol):
    """What the engine needs to know about a node of the computation graph.

    ``data``/``grad``: the value and the accumulated gradient (float or ndarray).
    ``requires_grad``: whether gradient should flow to this node.
    ``_parents``: the nodes this one was computed from (empty for a leaf).
    ``_seq``: creation number; a node is always created after its parents.
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

    _seq: int
    _scope: Scope | None
    _hooks: Any
    _retains_grad: bool

    @property
    def op_name(self) -> str: ...

    def _vjp(self, grad_output: Any) -> Sequence[Any]: ...

    def _accumulate_grad(self, grad: Any, exposed: set[int]) -> None: ...


# --------------------------------------------------------------------------------------
# Engine state: grad mode, anomaly mode and the module-scope stack, per thread and task.
# --------------------------------------------------------------------------------------


class Scope(NamedTuple):
    """One level of module nesting: a module's qualified name and its class name.

    ``parent`` links to the enclosing scope, so ``scope.path()`` gives the whole nesting,
    outermost first, e.g. ``[("", "MLP"), ("bn1", "BatchNorm1d")]``.
    """

    name: str
    type_name: str
    parent: Scope | None
    # The module object itself, so the visualiser can name parameters from the modules
    # that own them (`module.named_parameters()`); None for scopes entered by hand.
    module: Any = None

    def path(self) -> list[Scope]:
        """The scopes from the outermost to this one."""
        chain: list[Scope] = []
        scope: Scope | None = self
        while scope is not None:
            chain.append(scope)
            scope = scope.parent
        return chain[::-1]

    def qualified_name(self) -> str:
        """Dotted path of module names, as in ``named_modules()`` (e.g. ``features.bn1``)."""
        return ".".join(scope.name for scope in self.path() if scope.name)

    def label(self) -> str:
        """How the visualiser titles this scope: ``bn1 (BatchNorm1d)``."""
        return f"{self.name} ({self.type_name})" if self.name else self.type_name

    def __repr__(self) -> str:  # short: the module's own repr would print its whole tree
        return f"Scope({self.qualified_name()!r}, {self.type_name!r})"

    # A scope *is* its path of names and types: two calls of equally named modules (a loss
    # module made afresh each step) are the same scope, whichever object `module` holds.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scope) and self[:3] == other[:3]

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self[:3])


class EngineState:
    """The engine's switches as one immutable record: is the graph recorded, are NaN/Inf
    checked, and which module scope new nodes belong to.

    It lives in a `contextvars.ContextVar`, so every thread and every asyncio task sees its
    own (as PyTorch's grad mode is thread-local): one thread evaluating under `no_grad()`
    never switches off another thread's training. A switch never mutates the record; it
    sets a new one and puts the previous one back on exit. An op reads the record once
    (`current_state()`, one C call) and then its three fields.
    """

    __slots__ = ("grad_enabled", "anomaly", "scope")

    def __init__(self, grad_enabled: bool, anomaly: bool, scope: Scope | None) -> None:
        self.grad_enabled = grad_enabled
        self.anomaly = anomaly
        self.scope = scope

    def __repr__(self) -> str:
        return (f"EngineState(grad_enabled={self.grad_enabled}, anomaly={self.anomaly}, "
                f"scope={self.scope.qualified_name() if self.scope else None!r})")


_engine_state: ContextVar[EngineState] = ContextVar(  # the record is never mutated: B039
    "minigrad_engine_state", default=EngineState(True, False, None))  # noqa: B039

current_state: Callable[[], EngineState] = _engine_state.get
"""The calling thread's (or asyncio task's) `EngineState`."""

set_state: Callable[[EngineState], Any] = _engine_state.set
"""Make `state` the current `EngineState` (whoever sets one puts the previous one back)."""


class _StateView:
    """Read-only view of the current `EngineState` under the old name ``autograd.state``
    (``state.grad_enabled``, ``state.anomaly``, ``state.scope``). Hot paths call
    `current_state()` once instead."""

    grad_enabled = property(lambda self: _engine_state.get().grad_enabled)
    anomaly = property(lambda self: _engine_state.get().anomaly)
    scope = property(lambda self: _engine_state.get().scope)


state = _StateView()

# Creation counter: parents always get smaller numbers than their children, which makes
# "sort by creation number, newest first" a valid topological order (see below). Taking
# the next number is one C call, atomic under the GIL, so threads never share a number.
next_seq: Callable[[], int] = itertools.count().__next__

class SideTable:
    """Something a few nodes carry, kept beside them rather than in a slot every node would
    pay for (a `Value`'s label, where it was created, a loaded tensor's old write number):
    by the node's identity (``==`` on tensors is elementwise, and a subclass of `Value` may
    define ``==`` and hash by value), and weakly, so that an entry goes with its node."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref, Any]] = {}

    def get(self, node: Any, default: Any = None) -> Any:
        entry = self._entries.get(id(node))
        return entry[1] if entry is not None and entry[0]() is node else default

    def __setitem__(self, node: Any, value: Any) -> None:
        key, entries = id(node), self._entries

        def drop(reference: weakref.ref) -> None:  # the node is gone (not a later one)
            if entries.get(key, (None,))[0] is reference:
                del entries[key]

        entries[key] = (weakref.ref(node, drop), value)

    def __len__(self) -> int:
        return len(self._entries)


# Write numbers (a tensor's ``_version``) that `renumber_loaded` replaced: a node loaded
# after such a parent checks the parent's old number against its own old one.
_replaced_writes = SideTable()


def renumber_loaded(node: Any, parents: Sequence[Any]) -> None:
    """Give a node just restored by pickle, copy or deepcopy (from its ``__setstate__``)
    fresh creation and write numbers if its own are *ahead* of this process's counter.

    The numbers only mean something in the process that made them. A node pickled by a
    process that had already made a million nodes, loaded into a fresh one, would look
    newer than every node built from it: backward (newest first) would then visit it before
    its consumers, with only part of its gradient. Loading restores a node's parents before
    the node itself, so fresh numbers keep every node newer than its parents, and a write
    made to a parent after a node used it stays one (the node's backward still refuses).
    Numbers from the past (a deepcopy in this process, a pickle of a shorter run) are kept.
    """
    now = next_seq()
    old_seq = node._seq
    if old_seq >= now:
        node._seq = next_seq()
        for parent in parents:
            if _replaced_writes.get(parent, 0) > old_seq:  # written after this node used it
                parent._version = next_seq()
    written = getattr(node, "_version", 0)
    if written >= now:
        _replaced_writes[node] = written
        node._version = next_seq()


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook away, as in
    PyTorch (calling the handle itself, ``handle()``, does the same). Removing twice is
    harmless."""

    __slots__ = ("_remove",)

    def __init__(self, remove: Callable[[], None]) -> None:
        self._remove = remove

    def remove(self) -> None:
        self._remove()

    def __call__(self) -> None:
        self._remove()


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()` (in the calling thread or asyncio task)."""
    return _engine_state.get().grad_enabled


class _Switch:
    """Base of the context managers that change one field of the engine state for a block:
    ``with no_grad(): ...`` or as a decorator, ``@no_grad()``. On exit the state from before
    the block is put back, even after an exception. Each ``with`` uses its own instance
    (the decorator makes a fresh one per call), so concurrent calls never share one."""

    __slots__ = ("previous",)

    def _changed(self, state: EngineState) -> EngineState:
        raise NotImplementedError

    def __enter__(self) -> None:
        self.previous = previous = _engine_state.get()
        _engine_state.set(self._changed(previous))

    def __exit__(self, *exc_info: Any) -> None:
        _engine_state.set(self.previous)

    def __call__(self, function: Callable) -> Callable:
        """Use as a decorator: the whole function runs inside the block. For a generator
        function, each step of the generator does (as in PyTorch): calling one only makes
        the generator object, so a block around the call alone would leave its body out."""
        make = self._fresh
        if inspect.isgeneratorfunction(function):
            return _generator_inside(function, make)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with make():
                return function(*args, **kwargs)

        return wrapper

    def _fresh(self) -> _Switch:
        raise NotImplementedError


def _generator_inside(function: Callable, make: Callable[[], _Switch]) -> Callable:
    """A generator function whose every step (``next``, ``send``, ``throw``, ``close``) runs
    inside a fresh block made by `make`; between steps the caller's state is back."""
    @functools.wraps(function)
    def generator(*args: Any, **kwargs: Any) -> Any:
        inner = function(*args, **kwargs)
        step, value = inner.send, None
        while True:
            try:
                with make():
                    item = step(value)
            except StopIteration as finished:
                return finished.value
            try:
                value = yield item
                step = inner.send
            except GeneratorExit:
                with make():
                    inner.close()
                raise
            except BaseException as error:  # thrown in by the caller: passed on
                step, value = inner.throw, error

    return generator


class _GradMode(_Switch):
    __slots__ = ("enabled",)

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _changed(self, state: EngineState) -> EngineState:
        return EngineState(self.enabled, state.anomaly, state.scope)

    def _fresh(self) -> _GradMode:
        return _GradMode(self.enabled)


def no_grad(function: Callable | None = None) -> Any:
    """Context manager (or decorator): operations inside record no graph (evaluation,
    weight updates). Affects only the calling thread or asyncio task. As a decorator it
    may be written with or without parentheses, as in PyTorch 2 (``@no_grad()``,
    ``@no_grad``)."""
    return _GradMode(False) if function is None else _GradMode(False)(function)


def enable_grad(function: Callable | None = None) -> Any:
    """Context manager (or decorator, with or without parentheses): turn graph recording
    back on inside `no_grad()`."""
    return _GradMode(True) if function is None else _GradMode(True)(function)


class set_grad_enabled(_GradMode):  # noqa: N801 (PyTorch's name; used like a function)
    """Turn graph recording on or off, as PyTorch's ``set_grad_enabled(mode)``: called
    alone it switches the mode at once (for the calling thread or asyncio task, until
    changed again); as ``with set_grad_enabled(is_training):`` (or a decorator) it also puts
    the previous mode back at the end of the block."""

    __slots__ = ()

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool | int):
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {type(mode).__name__} "
                            f"{mode!r:.40}. Fix: e.g. set_grad_enabled(False).")
        super().__init__(bool(mode))
        self.previous = previous = _engine_state.get()  # in force at once, as in PyTorch
        _engine_state.set(EngineState(self.enabled, previous.anomaly, previous.scope))

    def __enter__(self) -> None:
        # The mode was switched by the constructor; `previous` is what it replaced (the
        # state is read again in case something changed it in between).
        current = _engine_state.get()
        _engine_state.set(EngineState(self.enabled, current.anomaly, current.scope))

    def __call__(self, function: Callable) -> Callable:
        """As a decorator, the mode is the function's only: decorating puts the previous
        mode back (as PyTorch does), and each call switches and restores it."""
        _engine_state.set(self.previous)
        return super().__call__(function)

    def _fresh(self) -> _GradMode:
        return _GradMode(self.enabled)


class module_scope:  # noqa: N801 (used like a function: `with module_scope(...)`)
    """Context manager: enter a module's scope; every node created inside records it (for
    the visualiser). A small class rather than `@contextmanager`: every module call of
    every training step goes through it, and a generator-based one costs ~4x more."""

    __slots__ = ("name", "type_name", "module", "previous")

    def __init__(self, name: str, type_name: str, module: Any = None) -> None:
        self.name = name
        self.type_name = type_name
        self.module = module

    def __enter__(self) -> Scope:
        self.previous = previous = _engine_state.get()
        scope = Scope(self.name, self.type_name, previous.scope, self.module)
        _engine_state.set(EngineState(previous.grad_enabled, previous.anomaly, scope))
        return scope

    def __exit__(self, *exc_info: Any) -> None:
        _engine_state.set(self.previous)


# --------------------------------------------------------------------------------------
# Anomaly mode
# --------------------------------------------------------------------------------------


class AnomalyError(FloatingPointError):
    """Raised inside `detect_anomaly()` by the first op whose result holds NaN or Inf."""


class detect_anomaly(_Switch):  # noqa: N801 (PyTorch's name; used like a function)
    """Context manager (or decorator): stop at the first op whose forward or backward
    makes NaN/Inf.

    Inside it every node remembers the line of user code that created it, and the error
    names the op and that line. It slows everything down: use it to debug, not to train.
    Affects only the calling thread or asyncio task.
    """

    __slots__ = ()

    def _changed(self, state: EngineState) -> EngineState:
        return EngineState(state.grad_enabled, True, state.scope)

    def _fresh(self) -> detect_anomaly:
        return detect_anomaly()


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_frame() -> str:
    """The innermost stack frame outside the minigrad package, as 'file:line in function'."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return "<unknown>"


def anomaly_error(op_name: str, where: str | None, phase: str, detail: str,
                  scope: Scope | None = None) -> AnomalyError:
    """The error `detect_anomaly` raises, in one format for every kind of node: the op, the
    module it ran in, and the line of user code that created it (or why that is unknown)."""
    module = (f" in module {scope.qualified_name() or '(root)'} ({scope.type_name})"
              if scope is not None else " outside any module")
    if where is not None:
        created = f"The op ran{module}; it was created at {where}."
    else:
        created = (f"The op ran{module}; the line that created it is unknown: the node was "
                   "built before detect_anomaly() was entered, and lines are recorded only "
                   "inside it (recording them always would slow every op). To see it, enter "
                   "detect_anomaly() before the forward pass.")
    return AnomalyError(
        f"{op_name}: its {phase} produced {detail}. {created} "
        "Fix: check this op's inputs (log and sqrt of values <= 0, division by zero, "
        "overflowing exp) or clamp them first."
    )


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


_retain_all_grads: ContextVar[bool] = ContextVar("minigrad_retain_grads", default=False)


class retain_grads(_Switch):  # noqa: N801 (used like a function: `with retain_grads():`)
    """Context manager (or decorator): every ``backward()`` run inside stores ``.grad`` on
    *every* node of the graph, intermediate results included (micrograd's behaviour; by
    default a Tensor graph keeps only the leaves', the root's and ``retain_grad()``'s).

    It costs one gradient array per node for as long as the graph lives: use it to inspect
    a graph, not to train. Per thread and per asyncio task, like `no_grad`.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        self.previous = _retain_all_grads.get()  # type: ignore[assignment]  # the slot is shared
        _retain_all_grads.set(True)

    def __exit__(self, *exc_info: Any) -> None:
        _retain_all_grads.set(self.previous)  # type: ignore[arg-type]

    def _fresh(self) -> retain_grads:
        return retain_grads()


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
                observer(node, grad)
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
