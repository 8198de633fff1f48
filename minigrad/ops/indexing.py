"""Indexing: ``x[index]`` (an op, `GetItem`) and ``x[index] = value`` (a write outside the
graph), with NumPy's basic and advanced indexing and PyTorch's placement of advanced
indices (see `split_index`).

The backward of a read moves the gradient back to where each value came from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.ops.base import Function
from minigrad.tensor import Tensor, writeable_data


def _is_basic_index(index: tuple) -> bool:
    return all(isinstance(i, int | np.integer | slice) or i is None or i is Ellipsis for i in index)


def _is_int(item: Any) -> bool:
    # a bool is an int to Python but a mask to NumPy and PyTorch (x[True] adds an axis)
    return isinstance(item, int | np.integer) and not isinstance(item, bool | np.bool_)


def _is_advanced(item: Any) -> bool:
    return not (_is_int(item) or isinstance(item, slice) or item is None or item is Ellipsis)


def _spanned_axes(item: Any) -> int:
    """How many axes of the tensor an index item consumes."""
    if item is None or item is Ellipsis:
        return 0
    if _is_advanced(item) and np.asarray(item).dtype == np.bool_:
        return np.ndim(item)  # a mask spans as many axes as it has (a bool: none, it adds one)
    return 1


def _mixes_placed_and_advanced(index: tuple) -> bool:
    """Whether `index` holds an advanced index and an int or ``...`` (a plain loop: this
    runs for every index, most of them ints and slices alone)."""
    advanced = placed = False
    for item in index:
        kind = type(item)  # the exact type first: isinstance checks cost ~0.5 µs per item
        if kind is slice or item is None:
            continue
        if kind is int or item is Ellipsis or (kind is not bool and _is_int(item)):
            placed = True
        else:
            advanced = True
    return advanced and placed


def split_index(index: Any, ndim: int) -> tuple[Any, tuple | None]:
    """PyTorch's reading of an index with advanced indices (integer arrays, bool masks)
    among ints or ``...``, for a tensor of `ndim` axes: ``(basic, advanced)`` with
    ``x[index]`` equal to ``x[basic][advanced]``, or ``(index, None)`` when NumPy's reading
    is already PyTorch's.

    NumPy counts an int as an advanced index too, so in ``x[0, :, [1, 2]]`` the two are
    "separated by a slice" and the selected axis goes first: shape (2, 3) for x of shape
    (2, 3, 4). PyTorch applies the ints first, as basic indexing (``x[0]``, a view), and
    only then the advanced indices, which alone decide where their axes go: ``x[0][:, [1, 2]]``,
    shape (3, 2). NumPy also counts a ``...`` as a separator when it stands for no axis
    (``x[:, [0, 1], ..., [0, 1]]`` on 3 axes); PyTorch looks at the axes only.

    The first step keeps the ints, slices, None and ``...`` and takes whole axes where the
    advanced indices stand; the second takes every remaining axis whole (a None made one of
    length 1, a ``...`` stands for as many as it spans) and applies the advanced indices
    where they stand.
    """
    if not isinstance(index, tuple) or not _mixes_placed_and_advanced(index):
        return index, None  # (one item alone has nothing to be placed against)
    basic: list[Any] = []
    advanced: list[Any] = []
    for item in index:
        if _is_int(item):
            basic.append(item)  # its axis is gone after the first step
        elif _is_advanced(item):
            basic.extend([slice(None)] * _spanned_axes(item))
            advanced.append(item)
        elif item is Ellipsis:
            basic.append(item)
            # (too many indices leave it negative: the first step then raises NumPy's error)
            advanced.extend([slice(None)] * (ndim - sum(_spanned_axes(i) for i in index)))
        else:  # a slice, or None
            basic.append(item)
            advanced.append(slice(None))
    if not any(item is Ellipsis for item in basic):  # with an int for every axis, x[basic]
        basic.append(Ellipsis)  # would be a NumPy scalar, not the 0-d view backward and writes need
    return tuple(basic), tuple(advanced)


class GetItem(Function):
    """``x[index]``: basic slicing and integer/boolean-array indexing, as in PyTorch.

    That is NumPy's indexing except where advanced indices go: an int among them is applied
    first, as basic indexing, so ``x[0, :, [1, 2]]`` is ``x[0][:, [1, 2]]`` (and a ``...``
    standing for no axis separates nothing; see `split_index`). The gradient is scattered
    back with ``np.add.at``, which *adds* for repeated indices: ``x[[0, 0]]`` uses x[0]
    twice, so x[0] receives both gradients.
    """

    name = "getitem"

    def forward(self, x, index):
        self.input_shape, self.dtype, self.index = x.shape, x.dtype, index
        self.basic, self.advanced = basic, advanced = split_index(index, x.ndim)
        try:
            out = x[basic] if advanced is None else x[basic][advanced]
            if isinstance(out, np.generic):  # an int on every axis: NumPy gives a scalar copy,
                # so `t[1].add_(10)` would change nothing; `...` makes it a 0-d view instead
                out = x[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
            return out
        except IndexError as error:  # stays an IndexError: `for row in tensor` relies on it
            raise IndexError(f"getitem: index {index!r} does not fit shape {x.shape}: {error}. "
                             f"Fix: {_index_fix(str(error))}") from None

    def backward(self, grad_output):
        grad = np.zeros(self.input_shape, dtype=grad_output.dtype)
        basic, advanced = self.basic, self.advanced
        if advanced is not None:
            np.add.at(grad[basic], advanced, grad_output)  # grad[basic] is a view of grad
        elif _is_basic_index(basic if isinstance(basic, tuple) else (basic,)):
            grad[basic] = grad_output  # a view: no element is hit twice
        else:
            np.add.at(grad, basic, grad_output)
        return (grad,)


def _index_fix(reason: str) -> str:
    """The fix for NumPy's indexing error `reason` (its message names none)."""
    if "boolean index did not match" in reason:
        return "give a bool mask the shape of the axes it selects (a comparison of x itself)."
    if "out of bounds" in reason or "too many indices" in reason:
        return "keep each index within its axis' length, and give at most one per axis."
    return ("index with ints, slices, None, ..., integer arrays or tensors (x.long() for float "
            "indices) or a bool mask.")


def _array_index(index: Any) -> Any:
    """An index with its Tensors as arrays and its lists as integer arrays."""
    def to_index(i: Any) -> Any:
        if isinstance(i, Tensor):
            i = i.data
        if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu":
            # x[t.argmax()]: a 0-d integer array is advanced indexing to NumPy, which copies;
            # as an int it selects a view, as PyTorch's x[i] is (and x[i].fill_(7) writes x)
            return int(i)
        if isinstance(i, list):
            try:
                array = np.asarray(i)  # an empty list selects nothing (NumPy reads [] as float)
            except ValueError:  # rows of different lengths: NumPy's message names no index
                raise IndexError(f"indexing: the list {i!r:.60} has rows of different lengths. "
                                 "Fix: index with a rectangular list (one row per selected "
                                 "element), or one list per axis: x[rows, cols].") from None
            return array.astype(np.intp) if array.size == 0 else array
        return i

    return tuple(to_index(i) for i in index) if isinstance(index, tuple) else to_index(index)


def getitem(x: Tensor, index: Any) -> Tensor:
    return GetItem.apply(x, index=_array_index(index))


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """``x[index] = value`` in place, as in PyTorch, outside the graph: under ``no_grad()``
    (``w[0] -= lr * g``, which Python runs as a read, an in-place update and this write) or
    when nothing requires grad. The write is recorded (a graph that saved `x`, or a view of
    it, refuses backward). Inside the graph, on a tensor that requires grad, it is refused:
    PyTorch rewrites the graph there (CopySlices), minigrad keeps graphs immutable."""
    value_requires = isinstance(value, Tensor) and value.requires_grad
    if autograd.is_grad_enabled() and (x.requires_grad or value_requires):
        raise RuntimeError(
            f"item assignment: cannot write into a tensor of shape {x.shape} in place while the "
            "graph is recorded, when it or the value requires grad. Fix: under `with "
            "mg.no_grad():` for an update, or build a new tensor (mg.where(mask, value, x), "
            "mg.cat).")
    array = writeable_data(x, "item assignment")
    data = value.data if isinstance(value, Tensor) else value
    selection = _array_index(index)
    basic, advanced = split_index(selection, array.ndim)  # where PyTorch writes (split_index)
    try:
        if advanced is None:
            array[basic] = data
        else:
            array[basic][advanced] = data  # array[basic] is a view: the write reaches array
    except (IndexError, ValueError, TypeError, OverflowError) as error:
        shape = getattr(data, "shape", None)
        what = f"a value of shape {shape}" if shape is not None else type(data).__name__
        raise (IndexError if isinstance(error, IndexError) else ValueError)(
            f"item assignment: cannot write {what} into a tensor of shape {x.shape} "
            f"({x.dtype}) at {index!r}: {error}. Fix: an index inside the shape, and a value "
            "that broadcasts to the selection and fits the dtype.") from None
    x.data = array  # the same array back: records the write
