"""Functions that make tensors, as PyTorch's do: `tensor`, `from_numpy`, `zeros`, `ones`,
`full`, `zeros_like`, `ones_like`, `randn`, `rand`, `randint`, `arange`, `linspace`, `eye`
(all exported as ``mg.<name>``), and the methods ``x.new_zeros``, ``new_ones``, ``new_full``,
``new_empty``, ``new_tensor`` (x's dtype unless given one).

Floating factories default to float32, as PyTorch does; `randn`, `rand` and `randint` draw
from the generator `mg.manual_seed` seeds unless they are given one.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from minigrad.dtypes import resolve_dtype
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


@_names_memory_errors
def linspace(start: float, end: float, steps: int, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from `start` to `end`, both included (PyTorch's
    ``linspace``: `steps` is required; float32 unless `dtype` says otherwise, computed in
    float64 and then converted, so an integer dtype truncates as PyTorch's does)."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, int | float | np.integer | np.floating) or isinstance(value, bool):
            raise TypeError(f"linspace: {name} must be a number, got {type(value).__name__} "
                            f"{value!r:.40}. Fix: e.g. linspace(0, 1, 5).")
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"linspace: steps must be a whole number >= 0, got {steps!r:.40}. "
                         "Fix: e.g. linspace(0, 1, steps=5).")
    target = np.dtype(np.float32) if dtype is None else resolve_dtype(dtype, "linspace")
    data = np.linspace(float(start), float(end), int(steps)).astype(target)
    return Tensor(data, requires_grad=requires_grad)


@_names_memory_errors
def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (n x n without `m`), float32 by default, as ``torch.eye``."""
    for name, value in (("n", n), ("m", n if m is None else m)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"eye: {name} must be a whole number >= 0, got {value!r:.40}. "
                             "Fix: e.g. eye(3) or eye(2, 3).")
    try:
        data = np.eye(int(n), None if m is None else int(m),
                      dtype=np.float32 if dtype is None else resolve_dtype(dtype, "eye"))
    except ValueError as error:  # "array is too big": NumPy names neither op nor sizes
        raise MemoryError(f"eye: a {n} x {n if m is None else m} matrix is too big: {error}. "
                          "Fix: use smaller sizes.") from None
    return Tensor(data, requires_grad=requires_grad)


@_names_memory_errors
def randint(*args: Any, size: Any = None, dtype: Any = None,
            generator: np.random.Generator | None = None, requires_grad: bool = False) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers drawn uniformly from
    [low, high) (low defaults to 0), int64 unless `dtype` says otherwise, as ``torch.randint``.
    `size` is a tuple, as in PyTorch. Draws from `generator` (default: the one `manual_seed`
    seeds), so ``mg.manual_seed(s)`` makes it repeatable."""
    if size is None and args and isinstance(args[-1], tuple | list):
        *args, size = args  # type: ignore[assignment]
    if size is None or not isinstance(size, tuple | list) or len(args) not in (1, 2):
        raise TypeError(f"randint: expected randint(high, size) or randint(low, high, size) "
                        f"with size a tuple, got {len(args)} number(s) and size {size!r:.40}. "
                        "Fix: e.g. randint(0, 10, (3,)).")
    low, high = (0, args[0]) if len(args) == 1 else args
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"randint: {name} must be an int, got {type(value).__name__} "
                            f"{value!r:.40}. Fix: e.g. randint(0, 10, (3,)).")
    if low >= high:
        raise ValueError(f"randint: low must be less than high (the range [low, high) is "
                         f"empty), got low={low}, high={high}. Fix: e.g. randint(0, 10, (3,)).")
    shape = _shape(tuple(size), "randint")
    target = np.dtype(np.int64) if dtype is None else resolve_dtype(dtype, "randint")
    rng = generator or default_generator()
    data = rng.integers(int(low), int(high), shape, dtype=np.int64).astype(target)
    return Tensor(data, requires_grad=requires_grad)


# -- Tensor.new_*: a new tensor with self's dtype (unless `dtype` is given) -----------------


def _new_dtype(self: Tensor, dtype: Any, op: str) -> np.dtype:
    return self.dtype if dtype is None else resolve_dtype(dtype, op)


def new_tensor(self: Tensor, data: Any, dtype: Any = None,
               requires_grad: bool = False) -> Tensor:
    """``x.new_tensor(data)``: a copy of `data` with x's dtype (even for a list of ints, as in
    PyTorch), outside any graph."""
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(data, dtype=_new_dtype(self, dtype, "new_tensor"), requires_grad=requires_grad)


@_names_memory_errors
def new_zeros(self: Tensor, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``x.new_zeros(2, 3)`` or ``x.new_zeros((2, 3))``: zeros of x's dtype."""
    return Tensor(np.zeros(_shape(size, "new_zeros"), _new_dtype(self, dtype, "new_zeros")),
                  requires_grad=requires_grad)


@_names_memory_errors
def new_ones(self: Tensor, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``x.new_ones(2, 3)``: ones of x's dtype."""
    return Tensor(np.ones(_shape(size, "new_ones"), _new_dtype(self, dtype, "new_ones")),
                  requires_grad=requires_grad)


@_names_memory_errors
def new_empty(self: Tensor, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``x.new_empty(2, 3)``: an *uninitialised* tensor of x's dtype, as in PyTorch: its values
    are whatever the memory held. Write every element before reading it."""
    return Tensor(np.empty(_shape(size, "new_empty"), _new_dtype(self, dtype, "new_empty")),
                  requires_grad=requires_grad)


@_names_memory_errors
def new_full(self: Tensor, size: Any, fill_value: Any, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``x.new_full((2, 3), 0.5)``: `fill_value` everywhere, with x's dtype (not the value's:
    unlike ``mg.full``, as in PyTorch)."""
    if not isinstance(fill_value, int | float | np.integer | np.floating | np.bool_):
        raise TypeError(f"new_full: fill_value must be a number, got "
                        f"{type(fill_value).__name__} {fill_value!r:.40}. Fix: e.g. "
                        "x.new_full((2, 3), 0.5).")
    if not isinstance(size, tuple | list):
        raise TypeError(f"new_full: size must be a tuple, got {type(size).__name__} "
                        f"{size!r:.40}. Fix: e.g. x.new_full((2, 3), 0.5).")
    return Tensor(np.full(_shape((size,), "new_full"), fill_value,
                          _new_dtype(self, dtype, "new_full")), requires_grad=requires_grad)
