"""What backward relies on besides the graph: in-place edits it must refuse, and graphs
it has freed.

* `modified_in_place_error`: the error `Tensor._check_versions` raises when an input of an
  op was written in place after the op saved it (PyTorch's version counters).
* `SharedTensor`: what `from_numpy` returns; it notices writes to the caller's array by
  fingerprinting it.
* `FreedOp`, `FREED_GRAPH`: what an op and a node's parents become once
  ``backward(retain_graph=False)`` has run the node's backward (a freed graph).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd import next_seq
from minigrad.tensor import Tensor


class FreedOp:
    """What replaces an op once `backward(retain_graph=False)` has run its backward: it
    drops what the op saved, keeps the op's names (``op_name``, and ``grad_fn=<...>`` in
    the tensor's repr: the tensor was still made by that op) and refuses a second backward
    clearly."""

    __slots__ = ("name", "class_name")
    saves_output = False  # it saved nothing: its backward raises whatever the data holds

    def __init__(self, op: Any) -> None:
        self.name = op.name
        self.class_name = type(op).__name__  # display.py shows it as grad_fn=<...Backward>

    def backward(self, grad_output: np.ndarray) -> Any:
        raise RuntimeError(
            f"backward: trying to backpropagate through '{self.name}' a second time, but the "
            "first backward(retain_graph=False) freed what it saved. Fix: call the first "
            "backward() without retain_graph=False (or with retain_graph=True), or run the "
            "forward pass again."
        )


# What a node's parents become once `backward(retain_graph=False)` has run its backward: one
# marker parent, which needs no gradient, in place of the real ones (so that they, and their
# data, can be freed). A freed node therefore stays a non-leaf (``is_leaf`` is False): a
# later backward that reaches it calls its `FreedOp`, which raises, instead of taking it for
# a leaf and silently stopping there. One shared tuple: a freed node costs no new object.
FREED_GRAPH: tuple[Tensor] = (Tensor(0.0, name="freed graph"),)


def freed_graph_error(tool: str) -> RuntimeError:
    """The error the visualiser and the recorder raise for a graph that
    `backward(retain_graph=False)` freed: its links and saved arrays are gone."""
    return RuntimeError(
        f"{tool}: this graph was freed by backward(retain_graph=False), which drops each "
        "node's links and saved arrays during the pass, so it can no longer be drawn or its "
        "gradients recomputed. Fix: call backward() without retain_graph=False (the default "
        "keeps the graph) on the steps you want to draw or record."
    )


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


def modified_in_place_error(node: Tensor, parent: Tensor, position: int | None) -> RuntimeError:
    """The error backward raises when `parent`'s data changed after `node`'s op saved it;
    `position` None means `node`'s own output (``parent is node``), which its op's backward
    reads (ReLU, exp, tanh, sigmoid, softmax, ...)."""
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
