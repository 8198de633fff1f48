"""Tensors that share memory: views (reshape, transpose, basic indexing...), `detach()`, and
``a.data = b``. A write in place to one of them is a write to all, as PyTorch's version
counter shared by views makes it: each such write records a new version on every tensor
of the group, so a graph that saved any of them refuses backward instead of using the new
values (see `minigrad.versions` for the refusal)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.engine_state import SideTable

# Tensors whose arrays share memory (``detach()``, and ops that return a view of an input:
# reshape, transpose, basic indexing...), each to the list of all of them (weakly): a write
# in place to one is a write to all, as PyTorch's version counter shared by views makes it.
_shared_data = SideTable()
_sharing = threading.Lock()  # two threads registering views of one tensor at once


def share_array(source: Any, view: Any) -> None:
    """Record that `view`'s array is `source`'s or a view of it (see `record_shared_write`)."""
    with _sharing:
        group = _shared_data.get(source)
        if group is None:
            group = [weakref.ref(source)]
            _shared_data[source] = group
        if len(group) >= 16 and len(group) & (len(group) - 1) == 0:  # at 16, 32, 64...
            group[:] = [reference for reference in group if reference() is not None]
        group.append(weakref.ref(view))
        _shared_data[view] = group


def share_views(out: Any, inputs: Sequence[Any]) -> None:
    """After an op whose result's array is a view (``out._data.base`` is set) or an input's
    own array: share writes with that input, if any (a view of a temporary shares nothing;
    views of one memory have one owner, `_owner`)."""
    owner = _owner(out._data)
    for tensor in inputs:
        if _owner(tensor._data) is owner:
            share_array(tensor, out)
            return


def _owner(array: np.ndarray) -> np.ndarray:
    """The array that holds `array`'s memory: NumPy makes a view's base that array (not a
    chain of views), or the array itself when its memory is a buffer (np.frombuffer, a
    memmap: base is not an array)."""
    base = array.base
    return base if isinstance(base, np.ndarray) else array


def writeable_data(tensor: Any, op: str) -> np.ndarray:
    """The array an in-place write (`op`: ``+=``, item assignment) goes into, refused with
    the fix when it is read-only (a `from_numpy` of a read-only array, a broadcast view)."""
    array = tensor._data
    if not array.flags.writeable:
        raise ValueError(
            f"{op}: the tensor's array (shape {tensor.shape}) is read-only. Fix: give the "
            "tensor a writeable copy, t.data = t.data.copy(), or write a new tensor.")
    return array


def record_shared_write(tensor: Any) -> None:
    """A write in place to `tensor` (its ``_version`` just set) is one to every tensor that
    shares memory with it (`share_array`), as PyTorch's shared version counter makes it: a
    graph that saved any of them then refuses backward instead of using the new values.
    (One step per tensor of the group still alive: a view kept alive costs each write.)"""
    shared = _shared_data.get(tensor)
    if shared is not None:
        owner, version = _owner(tensor._data), tensor._version
        dead = 0
        for reference in tuple(shared):  # (a copy: another thread may compact the list)
            other = reference()
            if other is None:
                dead += 1
            # the same memory: not one given another array since (`d.data = np.zeros(3)`)
            elif _owner(other._data) is owner:
                other._version = version
        if dead > len(shared) // 2:  # views gone since (t[i] in a loop): drop them, so that
            with _sharing:           # the next writes do not walk them again
                shared[:] = [reference for reference in shared if reference() is not None]
