"""Ops that move values around without arithmetic: reshape, transpose, indexing, joining.

Their backward moves the gradient back to where each value came from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.ops.base import Function, ShapeError
from minigrad.ops.promotion import promoted_all
from minigrad.ops.reduce import normalize_axis, single_axis
from minigrad.tensor import Tensor, expect_tensor, writeable_data


class Reshape(Function):
    fix_hint = ("the new shape must hold as many elements as the old one; use -1 for one axis "
                "to have it inferred.")

    def forward(self, x, shape):
        self.input_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad_output):
        return (grad_output.reshape(self.input_shape),)


class Flatten(Reshape):
    pass


class Squeeze(Reshape):
    pass


class Unsqueeze(Reshape):
    pass


class Transpose(Function):
    def forward(self, x, axes=None):
        self.axes = axes
        return np.transpose(x, axes)

    def backward(self, grad_output):
        inverse = None if self.axes is None else np.argsort(self.axes)
        return (np.transpose(grad_output, inverse),)


class BroadcastTo(Function):
    name = "broadcast_to"

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, grad_output):
        return (grad_output,)  # the engine sums it back to the input's shape


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
    items = index if isinstance(index, tuple) else (index,)
    if not any(_is_advanced(i) for i in items) or not any(
            _is_int(i) or i is Ellipsis for i in items):
        return index, None
    basic: list[Any] = []
    advanced: list[Any] = []
    for item in items:
        if _is_int(item):
            basic.append(item)  # its axis is gone after the first step
        elif _is_advanced(item):
            basic.extend([slice(None)] * _spanned_axes(item))
            advanced.append(item)
        elif item is Ellipsis:
            basic.append(item)
            # (too many indices leave it negative: the first step then raises NumPy's error)
            advanced.extend([slice(None)] * (ndim - sum(_spanned_axes(i) for i in items)))
        else:  # a slice, or None
            basic.append(item)
            advanced.append(slice(None))
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


class Cat(Function):
    fix_hint = "give the tensors the same size on every axis except the one they are joined on."

    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad_output):
        return tuple(np.split(grad_output, self.splits, axis=self.axis))


class Stack(Function):
    fix_hint = "give every tensor the same shape."

    def forward(self, *arrays, axis=0):
        self.axis = axis
        return np.stack(arrays, axis=axis)

    def backward(self, grad_output):
        count = grad_output.shape[self.axis]
        return tuple(np.take(grad_output, i, axis=self.axis) for i in range(count))


class Pad(Function):
    """Constant padding; `pad_width` as in `numpy.pad`: ((before, after), ...) per axis."""

    fix_hint = ("pad_width is an int, a (before, after) pair for every axis, or one pair per "
                "axis, as in numpy.pad.")

    def forward(self, x, pad_width, value=0.0):
        widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
        if (widths < 0).any():
            raise ShapeError(f"pad: widths must be >= 0, got {pad_width}.")
        self.inner = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, grad_output):
        return (grad_output[self.inner],)


# -- user-facing functions -------------------------------------------------------------------


def _shape_arg(shape: tuple, op: str = "reshape") -> tuple:
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, int | np.integer):
            raise TypeError(f"{op}: sizes must be ints, got {type(size).__name__} {size!r:.40} "
                            f"in {shape!r:.80}. Fix: pass whole numbers, e.g. x.{op}(2, -1).")
    return shape


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """``x.reshape(2, -1)`` or ``x.reshape((2, -1))``."""
    return Reshape.apply(x, shape=_shape_arg(shape))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes `start_dim`..`end_dim` into one (PyTorch's ``flatten``)."""
    start = single_axis(start_dim, x.ndim, "flatten", "start_dim")
    if x.ndim == 0:  # dims 0 and -1 only, as in PyTorch
        single_axis(end_dim, x.ndim, "flatten", "end_dim")
        return Flatten.apply(x, shape=(1,))
    end = single_axis(end_dim, x.ndim, "flatten", "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                         f"tensor of shape {x.shape}. Fix: pass start_dim <= end_dim, e.g. "
                         "flatten(1) to keep the batch axis.")
    shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:]
    return Flatten.apply(x, shape=shape)


def transpose(x: Tensor, dim0: int | None = None, dim1: int | None = None) -> Tensor:
    """Swap two axes (PyTorch's ``transpose(dim0, dim1)``); without them, reverse all axes."""
    if dim0 is None and dim1 is None:
        return Transpose.apply(x, axes=None)
    if dim0 is None or dim1 is None:
        raise TypeError("transpose: give both dim0 and dim1, or neither.")
    axes = list(range(x.ndim))
    a = single_axis(dim0, x.ndim, "transpose", "dim0")
    b = single_axis(dim1, x.ndim, "transpose", "dim1")
    axes[a], axes[b] = axes[b], axes[a]
    return Transpose.apply(x, axes=tuple(axes))


def permute(x: Tensor, *axes: Any) -> Tensor:
    """Reorder the axes: ``x.permute(0, 2, 1)``."""
    axes = _shape_arg(axes, "permute")
    in_range = [a % x.ndim for a in axes if -x.ndim <= a < x.ndim]
    if len(axes) != x.ndim or sorted(in_range) != list(range(x.ndim)):
        raise ShapeError(f"permute: {axes} is not a permutation of the {x.ndim} axes of a tensor "
                         f"of shape {x.shape}. Fix: name each axis in [0, {x.ndim - 1}] once.")
    return Transpose.apply(x, axes=tuple(a % x.ndim for a in axes))


def squeeze(x: Tensor, axis: Any = None) -> Tensor:
    """Remove axes of size 1 (all of them, or the given ones; others are left, as in PyTorch)."""
    axes = normalize_axis(axis, x.ndim, "squeeze") if x.ndim else ()
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return Squeeze.apply(x, shape=shape)


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """Insert an axis of size 1 at position `axis`."""
    position = single_axis(axis, x.ndim + 1, "unsqueeze")
    return Unsqueeze.apply(x, shape=x.shape[:position] + (1,) + x.shape[position:])


def broadcast_to(x: Tensor, shape: Any) -> Tensor:
    """Repeat `x` along axes of size 1 (NumPy's broadcasting) to `shape`; no copy."""
    shape = (shape,) if isinstance(shape, int | np.integer) else shape
    if not isinstance(shape, tuple | list):
        raise TypeError(f"broadcast_to: shape must be a tuple of ints, got "
                        f"{type(shape).__name__}. Fix: e.g. x.broadcast_to((4, 3)).")
    return BroadcastTo.apply(x, shape=_shape_arg(tuple(shape), "broadcast_to"))


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


def _tensors(tensors: Any, op: str) -> list[Tensor]:
    if isinstance(tensors, Tensor | np.ndarray | str) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got a "
                        f"{type(tensors).__name__}. Fix: {op}([a, b], dim=0).")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors.")
    for index, item in enumerate(tensors):
        if not isinstance(item, Tensor):
            try:
                tensors[index] = Tensor(item)
            except (TypeError, ValueError):
                raise TypeError(f"{op}: item {index} is a {type(item).__name__}, not a Tensor "
                                "or numbers. Fix: pass a list of tensors.") from None
    return tensors


def _join_axis(axis: Any, dim: Any, ndim: int, op: str) -> int:
    """`dim` (PyTorch's name) or `axis` (NumPy's); `ndim` is the result's."""
    if dim is not None:
        return single_axis(dim, ndim, op)
    return single_axis(axis, ndim, op, "axis")


def cat(tensors: Any, axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis: shapes equal except along `dim`."""
    tensors = _tensors(tensors, "cat")
    if any(t.ndim == 0 for t in tensors):
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated. Fix: use "
                         "stack, or x.reshape(1) first.")
    return Cat.apply(*promoted_all(tensors), axis=_join_axis(axis, dim, tensors[0].ndim, "cat"))


def stack(tensors: Any, axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    tensors = _tensors(tensors, "stack")
    return Stack.apply(*promoted_all(tensors),
                       axis=_join_axis(axis, dim, tensors[0].ndim + 1, "stack"))


def pad(x: Tensor, pad_width: Any, value: float = 0.0) -> Tensor:
    """Pad with a constant; `pad_width` follows `numpy.pad` (((before, after), ...) per axis)."""
    expect_tensor(x, "pad")
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu" or widths.ndim > 2:
        raise TypeError(f"pad: pad_width must be whole numbers (an int, a (before, after) pair, "
                        f"or one pair per axis, as in numpy.pad), got {pad_width!r:.60}. Fix: "
                        "e.g. pad(x, 1) or pad(x, ((0, 0), (1, 1))).")
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"pad: value must be a number, got {type(value).__name__}.")
    return Pad.apply(x, pad_width=pad_width, value=value)
