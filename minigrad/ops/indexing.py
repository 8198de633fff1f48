"""Indexing: ``x[index]`` (an op, `GetItem`) and ``x[index] = value`` (a write outside the
graph), with NumPy's basic and advanced indexing and PyTorch's placement of advanced
indices (see `split_index`).

The backward of a read moves the gradient back to where each value came from. An index
that does not fit is named in the axes of the user's tensor (`_index_error`), and a uint8
index, a mask to PyTorch and positions to NumPy, is refused with both fixes (`_UINT8`).
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
            raise IndexError(_index_error("getitem", index, x.shape, error)) from None

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


def _index_error(op: str, index: Any, shape: tuple[int, ...], error: Exception) -> str:
    """The message for NumPy's IndexError `error` on ``array[index]`` (the array of the
    user's tensor, of `shape`), with the fix. What does not fit is named in the axes of the
    user's tensor (`_misfit`): NumPy names an axis of the array it indexed, which
    `split_index` may have made (``x[0, [7]]`` is ``x[0, ...][[7]]``: "axis 0")."""
    shown = _show_index(index)
    misfit = _misfit(index, shape)
    if misfit is None:
        return (f"{op}: index {shown} does not fit shape {shape}: {error}. "
                f"Fix: {_index_fix(str(error))}")
    kind, bad, axis, part = misfit
    if kind == "mask":
        axes = f"axis {axis}" if len(part) == 1 else f"axes {axis} to {axis + len(part) - 1}"
        return (f"{op}: index {shown} does not fit shape {shape}: its bool mask of shape {bad} "
                f"stands for {axes}, of shape {part}. Fix: {_index_fix('boolean index did not')}")
    length = part[0]
    valid = f"valid: {-length} to {length - 1}" if length else "no index is valid there"
    return (f"{op}: index {bad} in {shown} is out of range for a tensor of shape {shape}: "
            f"its axis {axis} has length {length} ({valid}). Fix: keep each index within its "
            "axis' length.")


def _misfit(index: Any, shape: tuple[int, ...]) -> tuple[str, Any, int, tuple] | None:
    """The first item of `index` that does not fit `shape`, in `shape`'s own axes:
    ``("range", the index, axis, (length,))`` for an int or an integer array out of range,
    ``("mask", its shape, first axis, the axes' shape)`` for a bool mask of the wrong
    shape; None for any other error (too many indices, two ``...``: NumPy's message says
    it). Runs only once an index has failed: the indexing that works pays nothing."""
    items = index if isinstance(index, tuple) else (index,)
    spans = [_spanned_axes(item) for item in items]
    if sum(spans) > len(shape) or sum(item is Ellipsis for item in items) > 1:
        return None
    axis = 0
    for item, span in zip(items, spans):
        if item is Ellipsis:
            axis += len(shape) - sum(spans)
            continue
        if item is not None and not isinstance(item, slice):
            array = np.asarray(item)
            part = shape[axis:axis + span]
            if array.dtype == np.bool_:
                if array.ndim and array.shape != part:
                    return "mask", array.shape, axis, part
            elif array.dtype.kind in "iu" and array.size:
                low, high = array.min(), array.max()
                if low < -part[0] or high >= part[0]:
                    return "range", int(low if low < -part[0] else high), axis, part
        axis += span
    return None


def _show_index(index: Any) -> str:
    """`index` as the user wrote it: ``x[0, [7]]``, ``x[:, 1:3]`` (arrays as lists)."""
    def show(item: Any) -> str:
        if isinstance(item, slice):
            parts = ["" if part is None else str(part)
                     for part in (item.start, item.stop, item.step)]
            return ":".join(parts[:2] if item.step is None else parts)
        if item is Ellipsis:
            return "..."
        if isinstance(item, np.ndarray) and item.dtype == np.bool_ and item.ndim:
            return f"<bool mask of shape {item.shape}>"
        if isinstance(item, np.ndarray):
            text = str(item.tolist())
            return text if len(text) <= 60 else text[:56] + " ...]"
        return repr(item)

    items = index if isinstance(index, tuple) else (index,)
    return "x[" + ", ".join(map(show, items)) + "]"


def _index_fix(reason: str) -> str:
    """The fix for NumPy's indexing error `reason` (its message names none)."""
    if "boolean index did not" in reason:
        return "give a bool mask the shape of the axes it selects (a comparison of x itself)."
    if "out of bounds" in reason or "too many indices" in reason:
        return "keep each index within its axis' length, and give at most one per axis."
    return ("index with ints, slices, None, ..., integer arrays or tensors (x.long() for float "
            "indices) or a bool mask.")


# A uint8 index means two things: NumPy reads a uint8 array as positions, PyTorch reads a
# uint8 tensor, and a uint8 NumPy array or list of np.uint8 (converted to one), as a mask
# (deprecated since 1.2, with a warning). Either reading here would silently differ from
# the other library on the same code (x[idx] with idx = [1, 0, 1]: rows 1, 0, 1 or rows 0
# and 2), so minigrad takes neither and asks which one is meant. (An np.uint8 scalar is
# an int to both.)
_UINT8 = ("indexing: a uint8 {what} as an index is ambiguous: PyTorch reads it as a mask "
          "(deprecated), NumPy as positions, and the two select different elements. Fix: "
          "{mask} for a mask (where it is nonzero), or {positions} for positions.")
_UINT8_DTYPE = type(np.dtype(np.uint8))  # every uint8 dtype's class, whatever its byte order


def _array_index(index: Any) -> Any:
    """An index with its Tensors as arrays and its lists as integer arrays."""
    def to_index(i: Any) -> Any:
        tensor = isinstance(i, Tensor)
        if tensor:
            i = i.data
        if isinstance(i, np.ndarray):
            if type(i.dtype) is _UINT8_DTYPE:  # (a type check: ~40 ns less than dtype.char)
                raise TypeError(_UINT8.format(what="tensor", mask="idx.bool()",
                                              positions="idx.long()") if tensor else
                                _UINT8.format(what="array", mask="idx.astype(bool)",
                                              positions="idx.astype(np.int64)"))
            if i.ndim == 0 and i.dtype.kind in "iu":
                # x[t.argmax()]: a 0-d integer array is advanced indexing to NumPy, which
                # copies; as an int it selects a view, as PyTorch's x[i] is (and
                # x[i].fill_(7) writes x)
                return int(i)
            return i
        if isinstance(i, list):
            try:
                array = np.asarray(i)  # an empty list selects nothing (NumPy reads [] as float)
            except ValueError:  # rows of different lengths: NumPy's message names no index
                raise IndexError(f"indexing: the list {i!r:.60} has rows of different lengths. "
                                 "Fix: index with a rectangular list (one row per selected "
                                 "element), or one list per axis: x[rows, cols].") from None
            if type(array.dtype) is _UINT8_DTYPE:  # (np.uint8 elements: PyTorch reads a mask)
                raise TypeError(_UINT8.format(what="list (of np.uint8)",
                                              mask="[bool(i) for i in idx]",
                                              positions="[int(i) for i in idx]"))
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
        if isinstance(error, IndexError) and _misfit(selection, x.shape) is not None:
            raise IndexError(_index_error("item assignment", selection, x.shape, error)
                             ) from None
        shape = getattr(data, "shape", None)
        what = f"a value of shape {shape}" if shape is not None else type(data).__name__
        raise (IndexError if isinstance(error, IndexError) else ValueError)(
            f"item assignment: cannot write {what} into a tensor of shape {x.shape} "
            f"({x.dtype}) at {index!r}: {error}. Fix: an index inside the shape, and a value "
            "that broadcasts to the selection and fits the dtype.") from None
    x.data = array  # the same array back: records the write
