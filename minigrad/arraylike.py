"""How a `Tensor` meets NumPy and Python: user data converted into an array on the way in
(`to_array`, ``t.data = ...``), and the array-like side of a tensor on the way out (shape,
dtype, ``len``, iteration, ``item()``, ``float(t)``, ``np.asarray(t)``, formatting,
``repr``), in `ArrayLike`, the base class `Tensor` takes them from. The graph side of a
tensor (its node, backward, hooks) is in `minigrad.tensor`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.sharing import share_array

if TYPE_CHECKING:
    from minigrad.tensor import Tensor


class ArrayLike:
    """The array-like half of `Tensor` (its only subclass): properties and conversions that
    read the tensor's array, ``_data``, and never the graph."""

    __slots__ = ()
    _data: np.ndarray  # (the slots are Tensor's)
    _op: Any
    requires_grad: bool

    if TYPE_CHECKING:  # attached to Tensor by minigrad/ops at import
        def __getitem__(self, index: Any) -> Tensor: ...

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    def numel(self) -> int:
        return self._data.size

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """PyTorch's ``size()``: the shape, or the length of axis `dim`."""
        return self._data.shape if dim is None else self._data.shape[dim]

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self) -> Any:
        """Iterate over the first axis (each row is ``self[i]``, so gradients flow)."""
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor. Fix: use .item().")
        return (self[i] for i in range(len(self._data)))

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self._data

    def item(self) -> float | int | bool:
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a Python "
                             f"number, this one has shape {self.shape}.")
        return self._data.item()

    # float(loss), int(t), range(t), as in PyTorch: for one-element tensors only (item()).
    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an "
                            f"index; this one has dtype {self.dtype} and shape {self.shape}.")
        return int(self.item())

    def tolist(self) -> Any:
        return self._data.tolist()

    def astype(self, dtype: Any) -> Tensor:
        """A copy converted to `dtype` (gradient flows back when both are floats)."""
        from minigrad.ops import cast

        return cast(self, dtype)  # type: ignore[arg-type]  # (self is a Tensor)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """NumPy's conversion protocol, with NumPy 2's `copy`: ``np.asarray(t)`` shares the
        data (as ``t.numpy()`` does) and ``np.array(t)`` copies it, as for a torch tensor.
        (Returning the data itself for ``np.array(t)`` made the user's "copy" an alias:
        writing to it changed the tensor, a parameter included, unseen by backward.)"""
        array = self._data
        if dtype is not None and np.dtype(dtype) != array.dtype:
            if copy is False:
                raise ValueError(f"__array__: a tensor of dtype {array.dtype} cannot become "
                                 f"{np.dtype(dtype)} without a copy, and copy=False was asked. "
                                 "Fix: allow a copy (copy=None), or convert with t.to(dtype).")
            return array.astype(dtype)
        return array.copy() if copy else array

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"``: a 0-d tensor formats as its number, as in PyTorch (for any
        `spec`, the empty one included); other tensors take no format spec."""
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        if spec:
            raise TypeError(f"format: a tensor of shape {self.shape} takes no format spec "
                            f"({spec!r}); only 0-d tensors format as numbers. Fix: format "
                            "t.item() of a one-element tensor, or the numbers of t.tolist().")
        return str(self)

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(f"The truth value of a tensor of shape {self.shape} is ambiguous. "
                             "Fix: use .any() or .all() on .data.")
        return bool(self._data)

    def __repr__(self) -> str:
        """As PyTorch prints: ``tensor([1., 2.], grad_fn=<MulBackward>)`` (minigrad/display.py)."""
        from minigrad.display import tensor_repr

        return tensor_repr(self._data, self._op, self.requires_grad)


def to_array(data: Any, dtype: Any = None, op: str = "tensor") -> np.ndarray:
    """Convert user data to an ndarray with minigrad's dtype rules (see module docstring)."""
    if isinstance(data, ArrayLike):
        data = data._data
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in "biuf":
            raise TypeError(f"{op}: dtype {dtype} is not supported. "
                            "Fix: use a float, int or bool dtype.")
    try:  # always a copy, like torch.tensor: training never writes to the caller's array
        array = np.array(data, dtype=dtype)
    except ValueError as error:  # ragged rows, text for a number dtype: NumPy names no fix
        raise ValueError(f"{op}: cannot make a tensor from this {type(data).__name__}: {error} "
                         "Fix: pass numbers, or a nested list whose rows all have the same "
                         "length.") from None
    if dtype is not None:
        return array
    if array.dtype.kind in "biuf":
        if array.dtype.kind == "f" and not isinstance(data, np.ndarray | np.generic):
            array = array.astype(np.float32)  # Python floats -> float32, as in PyTorch
        return array
    raise TypeError(
        f"{op}: cannot make a tensor from data of dtype {array.dtype} "
        f"({type(data).__name__}). Fix: pass numbers, lists of numbers or a numeric NumPy array."
    )


def _assignable(tensor: Tensor, value: Any) -> np.ndarray:
    """What ``t.data = value`` stores: a numeric array (a number becomes a 0-d one). A tensor
    gives its array, shared as PyTorch's ``a.data = b`` shares b's storage (writes to either
    count for both). A number only for a 0-d tensor (``loss.data = 0.0``; PyTorch refuses
    numbers altogether): for any other it would silently change the tensor's shape.
    Anything else (a list, a string) is refused, as in PyTorch: stored as it was, it broke
    the next op far from here, and a tensor stored inside a tensor recorded graphs inside
    an op's forward. (Integers into a tensor that requires grad are refused by the
    optimiser's step and by backward, each naming the fix.)"""
    if isinstance(value, ArrayLike):
        share_array(value, tensor)
        value = value._data
    elif isinstance(value, np.generic | int | float):
        if tensor._data.ndim:  # stored as it is, it would silently make the tensor 0-d
            raise TypeError(
                f"data: assigning the number {value!r:.40} would turn this tensor of shape "
                f"{tensor.shape} into a 0-d one. Fix: set every element in place, `with "
                f"mg.no_grad(): t.fill_({value!r:.40})`, or assign an array of the new shape.")
        # A float tensor stays one (loss.data = 3 would otherwise make it int64)
        value = np.asarray(value, tensor._data.dtype if tensor._data.dtype.kind == "f" else None)
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
        what = (f"an array of dtype {value.dtype}" if isinstance(value, np.ndarray)
                else type(value).__name__)
        raise TypeError(f"data: a tensor's data must be a numeric NumPy array, got {what}. Fix: "
                        "t.data = np.asarray(value, dtype=t.dtype) (or a tensor's .data).")
    return value
