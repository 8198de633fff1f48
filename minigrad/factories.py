"""Functions that make tensors, as PyTorch's do: `tensor`, `from_numpy`, `zeros`, `ones`,
`full`, `zeros_like`, `ones_like`, `randn`, `rand`, `arange` (all exported as ``mg.<name>``).

Floating factories default to float32, as PyTorch does; `randn` and `rand` draw from the
generator `mg.manual_seed` seeds unless they are given one.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from minigrad.tensor import Tensor, default_generator, expect_tensor
from minigrad.versions import SharedTensor


def from_numpy(array: np.ndarray, requires_grad: bool = False) -> Tensor:
    """A tensor that *shares* `array` (no copy, dtype kept), like ``torch.from_numpy``:
    writes to either are seen by both. Changing the array between the forward pass and
    backward makes backward refuse (see `SharedTensor` for how, and its limit)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}.")
    out = SharedTensor(np.empty(0, array.dtype), requires_grad=requires_grad)  # checks dtype
    out._data = array
    return out


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None,
           name: str | None = None) -> Tensor:
    """Make a tensor (same as ``Tensor(...)``)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def _float_dtype(dtype: Any) -> np.dtype:
    return np.dtype(np.float32 if dtype is None else dtype)


def _shape(shape: tuple, op: str = "tensor") -> tuple[int, ...]:
    """Accept both ``zeros(2, 3)`` and ``zeros((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    if not all(isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 0
               for n in shape):
        raise ValueError(f"{op}: expected a shape of non-negative integers, got {shape!r:.80}. "
                         f"Fix: e.g. {op}(2, 3).")
    return tuple(int(n) for n in shape)


def _names_memory_errors(factory: Any) -> Any:
    """A shape too big for this machine raises MemoryError naming the factory and the size
    (NumPy's own message names neither), as PyTorch's "not enough memory" does."""
    @functools.wraps(factory)
    def wrapper(*args: Any, **kwargs: Any) -> Tensor:
        try:
            return factory(*args, **kwargs)
        except MemoryError as error:
            raise MemoryError(f"{factory.__name__}: not enough memory for this tensor: "
                              f"{error}. Fix: use a smaller shape.") from None
    return wrapper


@_names_memory_errors
def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    data = np.zeros(_shape(shape, "zeros"), _float_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


@_names_memory_errors
def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(shape, "ones"), _float_dtype(dtype)), requires_grad=requires_grad)


@_names_memory_errors
def full(shape: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of `shape` filled with the number `fill_value`. Without `dtype`, PyTorch's
    inference: bool for a Python bool, int64 for an integer, float32 otherwise (so
    ``full((3,), 0)`` is an integer tensor: write ``0.0`` for floats)."""
    if not isinstance(fill_value, int | float | np.number | np.bool_):
        raise TypeError(f"full: fill_value must be a number, got {type(fill_value).__name__} "
                        f"{fill_value!r:.40}. Fix: e.g. full((2, 3), 0.5).")
    if dtype is None and isinstance(fill_value, bool):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, int | np.integer):
        dtype = np.int64
    return Tensor(np.full(_shape((shape,), "full"), fill_value, _float_dtype(dtype)),
                  requires_grad=requires_grad)


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    other = expect_tensor(other, "zeros_like")
    return Tensor(np.zeros(other.shape, dtype or other.dtype), requires_grad=requires_grad)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    other = expect_tensor(other, "ones_like")
    return Tensor(np.ones(other.shape, dtype or other.dtype), requires_grad=requires_grad)


@_names_memory_errors
def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False,
          generator: np.random.Generator | None = None) -> Tensor:
    """Standard normal samples from `generator` (default: the one `manual_seed` seeds)."""
    rng = generator or default_generator()
    data = rng.standard_normal(_shape(shape, "randn"), dtype=np.float64)
    data = data.astype(_float_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


@_names_memory_errors
def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False,
         generator: np.random.Generator | None = None) -> Tensor:
    """Uniform samples on [0, 1) from `generator` (default: the one `manual_seed` seeds)."""
    rng = generator or default_generator()
    data = rng.random(_shape(shape, "rand"), dtype=np.float64).astype(_float_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Like `numpy.arange`; integer arguments give an int64 tensor, as in PyTorch."""
    if end is None:
        start, end = 0, start
    if step == 0:  # NumPy raises a bare ZeroDivisionError
        raise ValueError("arange: step must be nonzero, got 0. Fix: e.g. arange(0, 5, 1).")
    data = np.arange(start, end, step)
    if dtype is not None:
        data = data.astype(dtype)
    elif data.dtype.kind == "f":
        data = data.astype(np.float32)
    return Tensor(data, requires_grad=requires_grad)
