"""What backward relies on besides the graph: in-place edits it must refuse, and graphs
it has freed.

* `modified_in_place_error`: the error `Tensor._check_versions` raises when an input of an
  op was written in place after the op saved it (PyTorch's version counters).
* `SharedTensor`: what `from_numpy` returns; it notices writes to the caller's array by
  fingerprinting it.
* `FreedOp`, `FREED_GRAPH`: what an op and a node's parents become once a ``backward()``
  that frees the graph (the default, as in PyTorch) has run the node's backward.
* `release_unheld_data`: before such a pass, the data of intermediate results that only the
  graph holds goes at once (`free_released` after it, for the nodes it did not process).
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import Any

import numpy as np

from minigrad.autograd import SideTable, next_seq
from minigrad.tensor import Tensor, _shared_data


class FreedOp:
    """What replaces an op once a freeing ``backward()`` has run its backward: it drops what
    the op saved, keeps the op's names (``op_name``, and ``grad_fn=<...>`` in the tensor's
    repr: the tensor was still made by that op) and refuses a second backward clearly.
    One per op class (`freed`), shared by all its freed nodes."""

    __slots__ = ("name", "class_name", "unprocessed")
    saves_output = False  # it saved nothing: its backward raises whatever the data holds

    def __init__(self, op: Any, unprocessed: bool = False) -> None:
        self.name = op.name
        self.class_name = type(op).__name__  # display.py shows it as grad_fn=<...Backward>
        # True for a node a pass released but never reached (`free_released`): its backward
        # never ran, so "a second time" would be wrong.
        self.unprocessed = unprocessed

    def backward(self, grad_output: np.ndarray) -> Any:
        raise self.refusal()

    def refusal(self) -> RuntimeError:
        """The error a backward through this node raises (`Tensor.backward` raises it before
        the pass when the node is its root: nothing is added to any ``.grad`` then)."""
        if self.unprocessed:
            return RuntimeError(
                f"backward: cannot backpropagate through '{self.name}': an earlier backward() "
                "that stopped before reaching it (an error, or no gradient flowed to it) had "
                "already released its data, which no variable held (graphs sharing it do not "
                "count). Fix: run the forward pass again, or call that backward with "
                "retain_graph=True."
            )
        return RuntimeError(
            f"backward: trying to backpropagate through '{self.name}' a second time, but the "
            "first backward() freed what it saved (as PyTorch's does). Fix: call the first "
            "backward(retain_graph=True), or run the forward pass again. (If this graph shares "
            "that part with another loss, the first backward may have been that loss's: give "
            "it retain_graph=True.)"
        )


_freed_ops: dict[tuple[type, str, bool], FreedOp] = {}
# The same, by class alone, for the ops named by their class (all of minigrad's): what
# `Tensor._free_saved` looks up first, one dict lookup per node of every freeing pass.
freed_by_class: dict[type, FreedOp] = {}


def freed(op: Any, unprocessed: bool = False) -> FreedOp:
    """The `FreedOp` standing for `op` once freed: one per op class and name (and kind of
    freeing), made once."""
    key = (type(op), op.name, unprocessed)
    stand_in = _freed_ops.get(key)
    if stand_in is None:
        stand_in = _freed_ops.setdefault(key, FreedOp(op, unprocessed))
    if not unprocessed and "name" not in getattr(op, "__dict__", ()):  # named by its class
        freed_by_class.setdefault(type(op), stand_in)
    return stand_in


# What a node's parents become once a freeing backward has run its backward: one marker
# parent, which needs no gradient, in place of the real ones (so that they, and their data,
# can be freed). A freed node therefore stays a non-leaf (``is_leaf`` is False): a later
# backward that reaches it calls its `FreedOp`, which raises, instead of taking it for a leaf
# and silently stopping there. One shared tuple: a freed node costs no new object.
class _FreedGraphMarker(Tensor):
    """The type of that marker: pickle, copy and deepcopy give back the one marker, so that
    a copied freed graph is still recognised as freed (by `FREED_GRAPH`'s identity, which
    `Tensor.__setstate__` puts back) instead of being drawn with a leaf named "freed graph"."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "FREED_MARKER"  # pickle stores the module's global of that name

    def __copy__(self) -> _FreedGraphMarker:
        return self

    def __deepcopy__(self, memo: Any) -> _FreedGraphMarker:
        return self


FREED_MARKER = _FreedGraphMarker(0.0, name="freed graph")
FREED_GRAPH: tuple[Tensor] = (FREED_MARKER,)


def freed_graph_error(tool: str) -> RuntimeError:
    """The error the visualiser and the recorder raise for a graph that a freeing
    ``backward()`` went through: its links and saved arrays are gone."""
    return RuntimeError(
        f"{tool}: this graph was freed by backward(), which (as in PyTorch) drops each node's "
        "links and saved arrays during the pass, so it can no longer be drawn or its "
        "gradients recomputed. Fix: call loss.backward(retain_graph=True) on the step you "
        "want to draw (or draw before backward: values only); if you did, another backward() "
        "through a part this graph shares (a second loss) freed it: give that one "
        "retain_graph=True too. A GradientFlowRecorder keeps the graphs of the steps it "
        "records by itself."
    )


# A one-element zero array per dtype: the memory behind every released node's stand-in.
# Read-only itself, so that no stand-in can be made writeable again (NumPy allows that on
# a view of a writeable array) and change what every other one reads.
_zeros: dict[np.dtype, np.ndarray] = {}


def _stand_in(array: np.ndarray, made: dict[tuple, np.ndarray]) -> np.ndarray:
    """A read-only array of `array`'s shape and dtype over a single element (all strides
    0): what a released node holds instead of its data. The engine reads a node's shape and
    dtype (to fit gradients to it), never the values of a node nobody else can reach.

    `made` holds one per shape and dtype for one release, shared by the nodes it releases
    (nothing can reach them to tell them apart, and it cannot be written)."""
    key = (array.shape, array.dtype)
    first = made.get(key)
    if first is None:
        dtype = array.dtype
        zero = _zeros.get(dtype)
        if zero is None:
            zero = np.zeros(1, dtype)
            zero.flags.writeable = False
            zero = _zeros.setdefault(dtype, zero)
        first = made[key] = np.ndarray(array.shape, dtype, zero, 0, (0,) * array.ndim)
    return first  # read-only, as its memory is


def is_released(tensor: Tensor) -> bool:
    """True when `release_unheld_data` took `tensor`'s data (it holds a `_stand_in`)."""
    base = tensor._data.base
    return base is not None and base is _zeros.get(tensor._data.dtype)


# Counting references (below) and cutting a graph's links (a freeing pass,
# `Tensor._free_saved`) never interleave: another thread cutting a link this count relies
# on would make a node the user holds look held by the graph alone (one link fewer, one
# holder more: the same count), and its data would go.
graph_surgery = threading.Lock()


def _counts_are_exact() -> bool:
    """Whether reference counts say who holds an object: in CPython with its GIL, not on a
    free-threaded build (approximate counts) nor on interpreters without them (PyPy).
    Elsewhere nothing is released before a pass (the pass still frees what it processed)."""
    gil_enabled = getattr(sys, "_is_gil_enabled", None)  # Python 3.13+
    return hasattr(sys, "getrefcount") and (gil_enabled is None or gil_enabled())


_COUNTS_ARE_EXACT = _counts_are_exact()


def _uses_in_graph(root: Tensor) -> dict[Any, int]:
    """Every computed node the graph below `root` reaches (root excluded), with how many
    references to it the graph's links hold: one per place in a tuple of parents (a node
    used twice by one op counts twice), each tuple counted once, also when several nodes
    share it (`copy.copy` of a node shares its tuple: one reference, not two). The first key
    is a fresh object used by nothing else: `release_unheld_data` measures on it what a
    reference count is with no link at all."""
    uses: dict[Any, int] = {object(): 0}
    counted: set[int] = set()  # ids of the tuples counted (each is alive: a node holds it)
    stack = [root]
    while stack:
        links = stack.pop()._parents
        if id(links) in counted:
            continue
        counted.add(id(links))
        for parent in links:
            if parent._parents:  # computed, not a leaf: leaves (parameters) keep their data
                count = uses.get(parent)
                if count is None:
                    uses[parent] = 1
                    stack.append(parent)
                else:
                    uses[parent] = count + 1
    return uses


# Arrays smaller than this keep their data: releasing one costs about as much time as a
# small op (a stand-in to make, a few checks), and frees next to nothing (a batch of 32
# rows of 16 floats is 2 KiB). What matters for memory is the large activations.
SMALLEST_RELEASED_BYTES = 4096


def release_unheld_data(root: Tensor) -> None:
    """Before a backward pass that frees the graph: replace the data of every intermediate
    result that *only the graph* holds by a stand-in of its shape and dtype (`_stand_in`).

    Why: in minigrad a graph node *is* its tensor, so the graph keeps each node's array
    alive until that node's backward has run, even when no backward reads it (a BatchNorm's
    output, which the next ReLU does not save). PyTorch's graph holds only what backward
    reads, and frees such an array as soon as the forward pass moves on. The ops keep what
    their backward reads as arrays of their own (`Function.forward` saves them on the op),
    never through the node, so dropping the node's reference frees exactly the arrays
    nothing needs: one activation per BatchNorm layer in an MLP, at the peak.

    Who else holds a node is read from CPython's reference count: a node whose count is
    that of a node with no link at all (measured on a fresh object in the same loop, so
    that the loop's own references count the same for both) plus the graph's links to it
    is unreachable except through the graph. Anything else holding it, a variable, a list,
    a hook's closure, another graph, adds to the count and keeps its data. A weak
    reference adds nothing to the count, but whoever holds one may read the data later: a
    weakly referenced node keeps its data too. So do tensors that share memory with others
    (views, `detach`: freeing theirs would free nothing), subclasses, and arrays under
    `SMALLEST_RELEASED_BYTES`.
    """
    if not _COUNTS_ARE_EXACT:
        return
    smallest_released = SMALLEST_RELEASED_BYTES
    with graph_surgery:
        uses = _uses_in_graph(root)
        stand_ins: dict[tuple, np.ndarray] = {}
        no_link = -1
        for node, links in uses.items():
            count = sys.getrefcount(node)
            if no_link < 0:  # the first key: the fresh object
                no_link = count
            elif (count == no_link + links and type(node) is Tensor
                    and node._data.nbytes >= smallest_released
                    and not weakref.getweakrefcount(node)
                    and id(node) not in _shared_data._entries):
                node._data = _stand_in(node._data, stand_ins)


def free_released(stopped_at: list[Tensor]) -> None:
    """After a freeing pass that did not process its whole graph (it stopped on an error:
    `detect_anomaly`, a hook, an in-place edit; or an op's backward sent no gradient to a
    computed input): free, as the pass frees a node it processed, every node it released
    (`release_unheld_data`) that is still linked below `stopped_at`, the nodes where it
    stopped. Such a node has lost its data but kept its links, so the visualiser would
    draw its values as zeros and go on below it; freed, it refuses as for any freed graph.
    (PyTorch keeps a node its pass did not reach usable; here that node's data is gone, so
    a later backward through it is refused with the fix rather than a graph drawn with
    zeros.) A node the user holds was not released: it keeps its data and its links."""
    seen: set[Tensor] = set()
    stack = list(stopped_at)
    while stack:
        node = stack.pop()
        if node in seen or node._parents is FREED_GRAPH:  # processed: freed already
            continue
        seen.add(node)
        stack.extend(node._parents)
        if is_released(node):
            node._free_saved(unprocessed=True)  # (its refusal: never processed)


class SharedTensor(Tensor):
    """What `from_numpy` returns: a tensor whose data is the caller's own array.

    The caller can write into that array without going through the tensor (a data loader
    filling the next batch into the same buffer), which no counter can see. Instead, each
    time an op reads the data, and when backward checks it, a *fingerprint* of the
    contents is compared with the last one: 256 elements at evenly spaced positions (a few
    microseconds, whatever the size); a change counts as an in-place write. The limit,
    honestly: an edit that touches none of the sampled elements (one element out of
    thousands) goes unseen; refilling the buffer with new data is caught.
    """

    __slots__ = ("_array", "_fingerprint", "_written_at")

    @property
    def _data(self) -> np.ndarray:
        self._notice_writes()
        return self._array

    @_data.setter
    def _data(self, array: np.ndarray) -> None:
        self._array = array
        self._fingerprint = _fingerprint(array)
        self._written_at = next_seq()

    @property
    def _version(self) -> int:
        self._notice_writes()
        return self._written_at

    @_version.setter
    def _version(self, written_at: int) -> None:
        self._written_at = written_at

    def _notice_writes(self) -> None:
        fingerprint = _fingerprint(self._array)
        if fingerprint != self._fingerprint:
            self._fingerprint = fingerprint
            self._written_at = next_seq()


_SAMPLES = 256


def _fingerprint(array: np.ndarray) -> bytes:
    """256 evenly spaced elements of `array`, as bytes (see `SharedTensor`)."""
    flat = array.reshape(-1) if array.flags.c_contiguous else array.ravel()
    if flat.size <= _SAMPLES:
        return flat.tobytes()
    return flat[:: flat.size // _SAMPLES].tobytes()


# Tensors cut off the graph by `Tensor.detach_`, each to the version the cut gave it: an op
# that used one before refuses its backward (the cut counts as a write), and its error says
# it was the cut if the version is still that one (no write in place since).
detached_in_place = SideTable()


def detached_error(node: Tensor, parent: Tensor, position: int) -> RuntimeError:
    return RuntimeError(
        f"backward: input {position} of '{node.op_name}' (shape {parent.shape}) was cut off the "
        "graph by detach_() after this op used it, so no gradient can flow through it (in "
        "PyTorch it would, to the graph it had). Fix: call detach_() only after backward(), "
        "or use t.detach() for a new tensor and leave this one in the graph."
    )


def modified_in_place_error(node: Tensor, parent: Tensor, position: int | None) -> RuntimeError:
    """The error backward raises when `parent`'s data changed after `node`'s op saved it;
    `position` None means `node`'s own output (``parent is node``), which its op's backward
    reads (ReLU, exp, tanh, sigmoid, softmax, ...)."""
    if position is not None and detached_in_place.get(parent) == parent._version:
        return detached_error(node, parent, position)
    if position is None:
        what = f"'{node.name}'" if node.name else "a tensor"
        role = f"the output of '{node.op_name}', which its backward reads"
    else:
        role = f"input {position} of '{node.op_name}'"
        if parent.name:
            what = f"'{parent.name}'"
        elif isinstance(parent, SharedTensor):
            what = "a tensor made by from_numpy"
        elif not parent._parents:
            what = f"a {'Parameter' if type(parent).__name__ == 'Parameter' else 'leaf tensor'}"
        else:
            what = f"the result of {parent.op_name}"
    where = f", created at {node._where}" if node._where else ""
    scope = node._scope
    module = f" in module {scope.qualified_name() or '(root)'} ({scope.type_name})" if scope else ""
    if isinstance(parent, SharedTensor):
        how = "its NumPy array was changed after the forward pass"
        fix = ("fill the array only after backward(), or give minigrad a copy "
               "(minigrad.tensor(array) copies)")
    elif position is None:
        how = "its data was modified in place (e.g. `.data *= ...`) after the forward pass"
        fix = "change a copy (`y.clone()`), or change it only after backward()"
    else:
        how = "its data was modified in place (e.g. `.data -= ...`) after the forward pass"
        fix = ("change parameters only after backward() (optimizer.step() does), or run the "
               "forward pass again after the change")
    return RuntimeError(
        f"backward: one of the tensors needed for gradient computation has been modified: "
        f"{what} of shape {parent.shape} ({parent.dtype}), {role}{module}{where}; {how}, so "
        f"the gradient would be computed from the new values. Fix: {fix}."
    )
