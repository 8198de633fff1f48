"""`Tensor`: an n-d node of the computation graph, holding a `numpy.ndarray`.

Dtypes: Python floats (and lists of them) become float32, as in PyTorch; a NumPy array
keeps its dtype (a float64 array stays float64, an integer array stays integer); ``dtype=``
forces one. The data is copied, as ``torch.tensor`` does (`from_numpy` shares it instead).
Integer and bool tensors (class targets, masks) cannot require grad. Binary
ops follow PyTorch's promotion rules (`minigrad.ops.promotion.result_dtype`: ``int64 *
float32`` is float32, where NumPy says float64), and a Python number never changes a float
tensor's dtype.

In-place edits between the forward pass and backward are refused at backward (PyTorch's
version counters): ``t.data -= x`` records a write (the `Tensor.data` setter), and a
`from_numpy` tensor fingerprints the caller's array (`SharedTensor`). What this does not
see is listed in the README ("In-place edits between forward and backward").

Every op is a `minigrad.ops.Function`; the methods here only route to them. Beside this
module: `minigrad.arraylike` (conversions to and from arrays and numbers, `ArrayLike`, the
base class of `Tensor`), `minigrad.sharing` (tensors that share memory),
`minigrad.gradient_shapes` (an op's gradients fitted to its inputs) and
`minigrad.random_state` (`manual_seed`); their names are re-exported here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import autograd
from minigrad.anomaly import check_finite  # noqa: F401 (re-exported: ops/base.py)
from minigrad.arraylike import ArrayLike, _assignable, to_array
from minigrad.autograd import current_state, next_seq
from minigrad.gradient_shapes import _fit_to_inputs, sum_to_shape  # noqa: F401 (re-exported)
from minigrad.observers import next_observer
from minigrad.random_state import default_generator, manual_seed  # noqa: F401 (re-exported)
from minigrad.sharing import (  # noqa: F401 (re-exported: the ops and nn use them from here)
    _shared_data,
    record_shared_write,
    share_array,
    share_views,
    writeable_data,
)

_accumulation_lock = threading.Lock()  # see Tensor._accumulate_grad


def expect_tensor(x: Any, op: str) -> Tensor:
    """`x` itself if it is a Tensor; otherwise the TypeError every op gives for raw data."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}. Fix: wrap the data in "
                        "minigrad.tensor(...).")
    return x


def dtype_mismatch(op: str, x: Tensor, weight: Tensor) -> str:
    """The message for an input whose dtype differs from the layer's weight (PyTorch's
    "mat1 and mat2 must have the same dtype"): promoting would silently turn the whole
    model's computation to float64, or compute on integers."""
    if x.dtype.kind == "f":
        fix = (f"convert the input, x.astype(np.{weight.dtype}), or the model's parameters to "
               f"{x.dtype}")
    else:
        fix = f"convert the input to floats, x.astype(np.{weight.dtype})"
    return (f"{op}: the input has dtype {x.dtype} but the weight has dtype {weight.dtype} "
            f"(mat1 and mat2 must have the same dtype). Fix: {fix}.")


class Tensor(ArrayLike):
    """An n-d array that records the operations applied to it, for automatic gradients.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)``. ``.data`` is the
    `numpy.ndarray` (assignable), ``.grad`` the accumulated gradient (an ndarray of the same
    shape, or None). After ``loss.backward()``, ``.grad`` holds d(loss)/d(tensor) on the
    leaves that require grad (parameters), on ``loss`` itself and on tensors marked with
    `retain_grad`; other intermediate results keep None, as in PyTorch (see the gradient
    policy in `minigrad.autograd`, and `minigrad.retain_grads` to keep them all).
    """

    __slots__ = ("_data", "grad", "requires_grad", "name", "_op", "_parents", "_seq", "_scope",
                 "_hooks", "_where", "_retains_grad", "_version", "__weakref__")
    __hash__ = object.__hash__  # nodes are dict keys by identity; == compares elementwise
    _op: Any  # the Function that made it (None for a leaf)
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected method

    if TYPE_CHECKING:  # for type checkers only: minigrad/ops attaches these at import
        def __getattr__(self, name: str) -> Any: ...  # the op methods: sum, exp, reshape, ...
        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __iadd__(self, other: Any) -> Tensor: ...
        def __isub__(self, other: Any) -> Tensor: ...
        def __imul__(self, other: Any) -> Tensor: ...
        def __itruediv__(self, other: Any) -> Tensor: ...
        def __ipow__(self, other: Any) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def __getitem__(self, index: Any) -> Tensor: ...
        def __setitem__(self, index: Any, value: Any) -> None: ...
        def __lt__(self, other: Any) -> Tensor: ...
        def __le__(self, other: Any) -> Tensor: ...
        def __gt__(self, other: Any) -> Tensor: ...
        def __ge__(self, other: Any) -> Tensor: ...
        def __and__(self, other: Any) -> Tensor: ...
        def __or__(self, other: Any) -> Tensor: ...
        def __xor__(self, other: Any) -> Tensor: ...
        def __iand__(self, other: Any) -> Tensor: ...
        def __ior__(self, other: Any) -> Tensor: ...
        def __ixor__(self, other: Any) -> Tensor: ...
        def __invert__(self) -> Tensor: ...

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        self._data = to_array(data, dtype)
        self._version = 0
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating-point tensors can require grad, got dtype "
                f"{self.data.dtype}. Fix: pass dtype=np.float32 (or float64)."
            )
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._op = None
        self._parents: tuple[Tensor, ...] = ()
        self._seq = next_seq()
        engine = current_state()
        self._scope = engine.scope
        self._hooks: tuple[Callable, ...] = ()  # a tuple: most nodes never get a hook
        self._where = autograd.user_frame() if engine.anomaly else None
        self._retains_grad = False

    @classmethod
    def _make(cls, data: Any, op: Any, parents: tuple[Tensor, ...]) -> Tensor:
        """Fast constructor for op results (no conversion or checks of user data)."""
        return Tensor._node(data, op, parents, current_state().scope)

    @staticmethod
    def _node(data: Any, op: Any, parents: tuple[Tensor, ...], scope: Any) -> Tensor:
        """A node with every field of `__slots__` set. `Function.apply` builds its results
        inline with the same fields (keep the two in step; a test checks they are)."""
        out = object.__new__(Tensor)
        out._data = data if type(data) is np.ndarray else np.asarray(data)
        out._version = 0
        out.grad = None
        out.requires_grad = bool(parents)
        out.name = None
        out._op = op
        out._parents = parents
        out._seq = next_seq()
        out._scope = scope
        out._hooks = ()
        out._where = None
        out._retains_grad = False
        return out

    def __setstate__(self, state: Any) -> None:
        """pickle, copy and deepcopy: Python's default state, restored as Python restores it
        (a subclass's own attributes in its ``__dict__``, then the slots), with creation
        numbers from another process made fresh (see `minigrad.autograd.renumber_loaded`)."""
        attributes, slots = state if isinstance(state, tuple) else (state, None)
        if attributes:
            self.__dict__.update(attributes)
        for name, value in (slots or {}).items():
            setattr(self, name, value)
        parents = self._parents
        if len(parents) == 1 and parents[0] is FREED_GRAPH[0]:  # a freed node: the one
            self._parents = FREED_GRAPH  # marker tuple, which the visualiser recognises
        autograd.renumber_loaded(self, self._parents)

    # -- data and its version ----------------------------------------------------------

    @property
    def data(self) -> np.ndarray:
        """The values (a `numpy.ndarray`). Assign a new array to replace them; an in-place
        update through the attribute (``t.data -= lr * g``) counts as a write (below)."""
        return self._data

    @data.setter
    def data(self, array: np.ndarray) -> None:
        # ``t.data -= 10`` runs ``t.data = t.data.__isub__(10)``: the same array comes back,
        # changed in place. Ops saved that array for backward, so record the write (below).
        # Assigning a *different* array leaves the saved one intact: nothing to record.
        if array is self._data:
            # ``_version`` is the creation number (`next_seq`) current at the last write, 0
            # if never written: a node created *before* it used the old values, and its
            # backward refuses (`_check_versions`). Comparing against each node's own
            # ``_seq`` costs the forward pass nothing.
            self._version = next_seq()
            if id(self) in _shared_data._entries:  # it shares its memory (views, detach)
                record_shared_write(self)
        else:
            self._data = _assignable(self, array)

    def _check_versions(self) -> None:
        """Before this node's backward: refuse if a parent's data was written in place
        after this node was created (PyTorch's version counters, for the same silent
        error)."""
        for position, parent in enumerate(self._parents):
            if parent._version > self._seq:
                raise modified_in_place_error(self, parent, position)

    # -- the node protocol -------------------------------------------------------------

    @property
    def op_name(self) -> str:
        return self._op.name if self._op is not None else ""

    def _vjp(self, grad_output: np.ndarray) -> Sequence[np.ndarray | None]:
        seq = self._seq
        parents = self._parents
        for parent in parents:
            if parent._version > seq:
                self._check_versions()  # raises, naming the parent
        op: Any = self._op  # never None here: the engine calls _vjp on computed nodes only
        if self._version > seq and op.saves_output:  # its backward would read changed values
            raise modified_in_place_error(self, self, None)
        grads = op.backward(grad_output)
        if type(grads) is not tuple:  # a list, or anything else an op returned
            grads = tuple(grads)
        if len(grads) != len(parents):
            raise TypeError(f"{self.op_name}: backward returned {len(grads)} gradient(s) for "
                            f"{len(parents)} input(s). Fix: return one gradient (or None) per "
                            "input of forward, in order.")
        for grad, parent in zip(grads, parents):
            # Usually each gradient already has its input's shape and dtype: one check each
            # (`is` first: dtypes of one kind are one object, and `!=` costs a call).
            if grad is not None:
                parent_data = parent._data
                if grad.shape != parent_data.shape or (grad.dtype is not parent_data.dtype
                                                       and grad.dtype != parent_data.dtype):
                    grads = _fit_to_inputs(grads, parents, self.op_name)
                    break
        if current_state().anomaly:
            for grad, parent in zip(grads, parents):
                if grad is not None and parent.requires_grad:  # (a constant's is dropped)
                    check_finite(grad, self.op_name, self._where, "backward", scope=self._scope)
        return grads

    def _free_saved(self, cut: bool = True, unprocessed: bool = False) -> None:
        """After this node's backward in a pass that frees the graph (the default): replace
        its op by a `FreedOp` (dropping what the op saved) and, with `cut`, its parents by
        the `FREED_GRAPH` marker, so that they can be freed (see `minigrad.versions`).
        `unprocessed`: the pass never ran this node's backward (`versions.free_released`),
        and its refusal says so."""
        # Never while another thread counts references (versions.py). The lock is taken by
        # hand: `with lock:` also looks up __enter__ and __exit__ and calls the latter with
        # three Nones (~350 machine instructions more per use), and this runs for every
        # node of a pass.
        graph_surgery.acquire()
        try:
            op = self._op
            if op is not None and type(op) is not FreedOp:
                stand_in = None if unprocessed else freed_by_class.get(type(op))
                self._op = stand_in or freed(op, unprocessed)
            if cut:
                self._parents = FREED_GRAPH
        finally:
            graph_surgery.release()

    def _accumulate_grad(self, grad: np.ndarray, exposed: set[int]) -> None:
        # One lock for all tensors: backward passes in several threads that share leaves (one
        # model, batches split over threads) would otherwise lose contributions, as two
        # read-add-store sequences interleave (PyTorch locks each leaf's accumulation too).
        # Taken by hand rather than with `with` (see _free_saved): once per leaf per pass.
        _accumulation_lock.acquire()
        try:
            if self.grad is not None:
                self.grad = self.grad + grad
            elif self._parents:  # an intermediate node (root, retained): may share the
                # array, but not with a leaf: one newer than this node may have adopted it
                if id(grad) in exposed:  # already (add sends one array to both parents)
                    grad = grad.copy()
                self.grad = grad
                exposed.add(id(grad))
            elif self._data.dtype.kind != "f":  # `t.requires_grad = True` set by hand (one
                # check per leaf, not per op): its gradient would be rounded to integers
                raise TypeError(f"backward: a tensor of dtype {self.dtype} (shape {self.shape})"
                                " requires grad, but only floating-point tensors can. Fix: "
                                "create it as floats (dtype=np.float32) or convert it, "
                                "t.float().")
            elif id(grad) not in exposed and (flags := grad.flags).owndata and flags.writeable:
                # A fresh array nobody else holds (an op's backward just made it): adopt it.
                # A copy here would, for a large weight, briefly double its gradient's
                # memory. PyTorch's AccumulateGrad steals an unshared gradient the same way.
                dtype = self._data.dtype
                same = grad.dtype is dtype or grad.dtype == dtype
                self.grad = grad if same else grad.astype(dtype)
                exposed.add(id(grad))
            else:  # a leaf owns its .grad: never a view or an array shared with anyone
                self.grad = np.array(grad, dtype=self._data.dtype, copy=True)
        finally:
            _accumulation_lock.release()

    # -- gradients -------------------------------------------------------------------

    def backward(self, gradient: Any = None, retain_graph: bool | None = None, *,
                 inputs: Any = None) -> None:
        """Backpropagate from this tensor; gradients accumulate into ``.grad`` of the leaves
        that require grad, of this tensor (the seed) and of tensors marked `retain_grad`.

        `gradient` is d(loss)/d(self), of this tensor's shape; it may be omitted only for a
        one-element tensor. `retain_graph`: by default (None, or False) the graph is freed
        during the pass, as in PyTorch: each node drops what its op saved and its links to
        its parents as soon as its backward has run, and intermediate results (of 4 KiB or
        more) nobody but the graph holds lose their data before the pass starts (a training
        step's memory stays close to PyTorch's). Then there is no second backward through
        this graph and nothing to draw. With True the graph is kept: a second backward
        works, and the visualiser can draw it (values, and every node's gradient
        recomputed). A `GradientFlowRecorder` keeps the graphs of the passes it records by
        itself (see `minigrad.autograd`).

        `inputs` (a tensor or an iterable of them, each requiring grad), as in PyTorch: only
        the nodes on a path from this tensor to one of them are visited (hooks elsewhere do
        not run); these inputs accumulate a gradient into ``.grad`` (an intermediate one
        too), and so do tensors on those paths marked `retain_grad` (this one included);
        every other tensor's ``.grad`` is left as it was.
        """
        only = None if inputs is None else _input_ids(inputs)
        if not self.requires_grad:
            raise RuntimeError(
                f"backward: this tensor (shape {self.shape}) does not require grad and has no "
                "graph. Fix: create the inputs you want gradients for with requires_grad=True "
                "(and do not compute the loss inside no_grad())."
            )
        if type(self._op) is FreedOp:  # refused before its hooks run or its .grad grows
            raise self._op.refusal()
        if gradient is None:
            if self._data.size != 1:
                raise ValueError(
                    f"backward: gradient can be created implicitly only for a one-element "
                    f"output, but this tensor has shape {self.shape}. Fix: reduce it first "
                    f"(.sum() or .mean()), or pass gradient= an array of shape {self.shape}."
                )
            # A one-element array of ones. np.empty and .fill are C calls, where np.ones and
            # np.ones_like are Python functions (~1-2 µs more per backward).
            gradient = np.empty(self._data.shape, self._data.dtype)
            gradient.fill(1)
        else:
            if isinstance(gradient, Tensor):
                gradient = gradient.data
            # No copy: the engine never writes into a gradient, and a leaf copies its own.
            try:
                gradient = np.asarray(gradient, dtype=self.data.dtype)
            except (TypeError, ValueError):
                raise TypeError(f"backward: gradient must be numeric, got {gradient!r:.60}. "
                                f"Fix: pass an array of shape {self.shape}.") from None
            if gradient.shape != self.shape:
                raise ValueError(
                    f"backward: gradient has shape {gradient.shape} but the tensor has shape "
                    f"{self.shape}. Fix: pass a gradient of shape {self.shape}."
                )
        free_graph = not retain_graph
        # (an observed pass keeps its graph; one with inputs= frees only the nodes it
        # visits, on paths to the inputs, and releases nothing beforehand: the nodes it
        # does not visit stay usable, as in PyTorch)
        if not free_graph or only is not None or next_observer.get():
            autograd.backward(self, gradient, free_graph=free_graph, only=only)
            return
        release_unheld_data(self)
        autograd.backward(self, gradient, free_graph=True, not_processed=free_released,
                          only=only)

    def retain_grad(self) -> None:
        """Keep this intermediate tensor's gradient in ``.grad`` after backward (leaves
        always keep theirs; other intermediate gradients are freed once used)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad, so it never "
                               "gets a gradient. Fix: call it on a tensor computed from inputs "
                               "that require grad (outside no_grad()).")
        self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        """True for an intermediate tensor marked with `retain_grad` (PyTorch's name)."""
        return self._retains_grad and bool(self._parents)

    @property
    def is_leaf(self) -> bool:
        """True for a tensor made by the user rather than by an op (PyTorch's name): its
        ``.grad`` is kept after backward when it requires grad."""
        return not self._parents

    def register_hook(self, hook: Callable[[np.ndarray], np.ndarray | None]
                      ) -> autograd.RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned array (of
        the gradient's shape) replaces the gradient. Returns a handle: ``handle.remove()``
        removes the hook, as in PyTorch (``handle()`` does too)."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not "
                               "require grad. Fix: create it with requires_grad=True.")
        self._hooks = (*self._hooks, hook)

        def remove() -> None:
            self._hooks = tuple(h for h in self._hooks if h is not hook)

        return autograd.RemovableHandle(remove)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut off from the graph. As in PyTorch, a
        write in place to either one (``d += 1``, ``d.data -= x``) counts as a write to both:
        a graph that saved the other refuses backward instead of using the new values."""
        out = Tensor._make(self._data, None, ())
        share_array(self, out)
        return out

    def detach_(self) -> Tensor:
        """Cut this tensor off the graph in place (PyTorch's ``detach_``): it becomes a leaf
        that does not require grad; returns self. The usual use: a recurrent net's hidden
        state between windows of truncated backpropagation. In PyTorch, ops that used the
        tensor before keep their graph through it; here a node *is* its tensor, so their
        backward refuses with the fix instead of silently sending no gradient through it."""
        with graph_surgery:  # never while another thread counts references (versions.py)
            self._op = None
            self._parents = ()
        self.requires_grad = False
        self._version = next_seq()  # what used it before now refuses (`_check_versions`)
        # ... and says why (`modified_in_place_error`), while no later write has changed the
        # version: after `y.add_(1)` the refusal is for that write, even by an op made since
        detached_in_place[self] = self._version
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set `requires_grad` of a leaf in place; returns self. A tensor computed by an op
        cannot stop requiring grad (its graph would silently stop passing gradient back to
        its inputs), as in PyTorch: use ``detach()`` for a copy outside the graph."""
        if not requires_grad and self._parents:
            raise RuntimeError(
                f"requires_grad_: you can only change requires_grad flags of leaf tensors, and "
                f"this one was computed by {self.op_name}. Fix: use y.detach() for a tensor "
                "outside the graph.")
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: dtype {self.data.dtype} cannot require grad. "
                            "Fix: convert to float first.")
        self.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradient: ``None``, or zeros when ``set_to_none=False`` (a tensor
        without a gradient keeps None either way, as in PyTorch)."""
        if set_to_none or self.grad is None:
            self.grad = None
        else:
            self.grad = np.zeros_like(self.data)


def _input_ids(inputs: Any) -> set[int]:
    """The ids of the tensors given to ``backward(inputs=...)``, checked as PyTorch does."""
    try:  # a tensor, or any iterable of them (model.parameters(), a generator), as PyTorch
        tensors = ((inputs,) if isinstance(inputs, Tensor) else
                   tuple(inputs) if not isinstance(inputs, str | bytes) else ())
    except TypeError:  # not iterable
        tensors = ()
    if not tensors:
        raise RuntimeError(f"backward: inputs= must be a tensor or a non-empty list of tensors, "
                           f"got {inputs!r:.60}. Fix: e.g. loss.backward(inputs=[w]).")
    for position, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"backward: inputs[{position}] is a {type(tensor).__name__}, not a "
                            "Tensor. Fix: pass the tensors whose gradients you want.")
        if not tensor.requires_grad:
            raise RuntimeError(f"backward: inputs[{position}] (shape {tensor.shape}) does not "
                               "require grad, so it can get no gradient. Fix: pass tensors "
                               "created with requires_grad=True (or computed from them).")
    return {id(tensor) for tensor in tensors}


# What backward relies on besides the graph (freed ops, shared buffers, the in-place error)
# lives in versions.py; it subclasses Tensor, hence the import at the end.
from minigrad.versions import (  # noqa: E402
    FREED_GRAPH,
    FreedOp,
    detached_in_place,
    free_released,
    freed,
    freed_by_class,
    graph_surgery,
    modified_in_place_error,
    release_unheld_data,
)

# The op methods (x + y, x.sum(), x @ w, ...) are attached in minigrad/ops/__init__.py,
# which imports this module: that keeps each method next to the op it calls.
