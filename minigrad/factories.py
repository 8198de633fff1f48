"""Functions that make tensors, as PyTorch's do: `tensor`, `from_numpy`, `zeros`, `ones`,
`full`, `full_like`, `zeros_like`, `ones_like`, `randn`, `rand`, `randint`, `arange`,
`linspace`, `eye` (all exported as ``mg.<name>``), and the methods ``x.new_zeros``,
``new_ones``, ``new_full``, ``new_empty``, ``new_tensor`` (x's dtype unless given one).

Floating factories default to float32, as PyTorch does; `randn`, `rand` and `randint` draw
from the generator `mg.manual_seed` seeds unless they are given one. Each takes PyTorch's
``device=`` (None, "cpu", "cpu:0", a `mg.device` or ``torch.device`` of type cpu: anything
else is refused, see `minigrad.device.check_device`), so that ``mg.zeros(2, device=device)``
runs unchanged.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from minigrad.device import check_device
from minigrad.dtypes import holds, resolve_dtype
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
           name: str | None = None, device: Any = None) -> Tensor:
    """Make a tensor (same as ``Tensor(...)``)."""
    if device is not None:
        check_device(device, "tensor")
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def _float_dtype(dtype: Any) -> np.dtype:
    return np.dtype(np.float32 if dtype is None else dtype)


def _shape(shape: tuple, op: str = "tensor", example: str | None = None,
           size: Any = None) -> tuple[int, ...]:
    """Accept both ``zeros(2, 3)`` and ``zeros((2, 3))`` (and PyTorch's ``size=(2, 3)``);
    `example` is the call the error suggests (default ``op(2, 3)``)."""
    if size is not None:
        if shape:
            raise TypeError(f"{op}: the shape was given twice, as {shape!r:.40} and as "
                            f"size={size!r:.40}. Fix: one of them, e.g. "
                            f"{example or op + '(2, 3)'}.")
        shape = (size,)
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    if not all(isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 0
               for n in shape):
        raise ValueError(f"{op}: expected a shape of non-negative integers, got {shape!r:.80}. "
                         f"Fix: e.g. {example or op + '(2, 3)'}.")
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
def zeros(*shape: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False,
          device: Any = None) -> Tensor:
    if device is not None:
        check_device(device, "zeros")
    data = np.zeros(_shape(shape, "zeros", size=size), _float_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


@_names_memory_errors
def ones(*shape: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False,
         device: Any = None) -> Tensor:
    if device is not None:
        check_device(device, "ones")
    return Tensor(np.ones(_shape(shape, "ones", size=size), _float_dtype(dtype)),
                  requires_grad=requires_grad)


@_names_memory_errors
def full(shape: Any = None, fill_value: Any = None, dtype: Any = None,
         requires_grad: bool = False, device: Any = None, *, size: Any = None) -> Tensor:
    """A tensor of `shape` (PyTorch's keyword: ``size=``) filled with the number
    `fill_value`. Without `dtype`, PyTorch's inference: bool for a Python bool, int64 for an
    integer, float32 otherwise (so ``full((3,), 0)`` is an integer tensor: write ``0.0`` for
    floats). A value the dtype cannot hold (1e40 in float32, 300 or -1 in uint8, NaN
    in an integer dtype) is refused, as PyTorch refuses it: NumPy would store inf or wrap."""
    example = "full((2, 3), 0.5)"
    if shape is None and size is None:
        raise TypeError(f"full: missing the shape. Fix: e.g. {example} or "
                        "full(size=(2, 3), fill_value=0.5).")
    shape = _shape(() if shape is None else (shape,), "full", example, size=size)
    return Tensor(_filled(shape, fill_value, dtype, "full", device, example),
                  requires_grad=requires_grad)


def _filled(shape: tuple[int, ...], fill_value: Any, dtype: Any, op: str, device: Any,
            example: str) -> np.ndarray:
    """`full`'s array (and `full_like`'s, whose `dtype` is the other tensor's)."""
    if isinstance(fill_value, Tensor) and fill_value.ndim == 0:  # (PyTorch takes a 0-d one)
        fill_value = fill_value.item()
    if not isinstance(fill_value, int | float | np.number | np.bool_):
        raise TypeError(f"{op}: fill_value must be a number, got {type(fill_value).__name__} "
                        f"{fill_value!r:.40}. Fix: e.g. {example}.")
    if device is not None:
        check_device(device, op)
    if dtype is None and isinstance(fill_value, bool):  # (np.bool_: float32, as PyTorch)
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, int | np.integer):
        dtype = np.int64
    target = _float_dtype(dtype if dtype is None else resolve_dtype(dtype, op))
    if not holds(target, fill_value):
        raise ValueError(f"{op}: fill_value {fill_value!r:.40} cannot be converted to {target} "
                         "without overflow. Fix: a value inside the dtype's range, or a "
                         "wider dtype (e.g. dtype=mg.float64).")
    return np.full(shape, fill_value, target)


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False,
               device: Any = None) -> Tensor:
    other = expect_tensor(other, "zeros_like")
    if device is not None:
        check_device(device, "zeros_like")
    return Tensor(np.zeros(other.shape, dtype or other.dtype), requires_grad=requires_grad)


@_names_memory_errors
def full_like(other: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False,
              device: Any = None) -> Tensor:
    """A tensor of `other`'s shape and dtype (unless `dtype` is given) filled with
    `fill_value`, as PyTorch's ``full_like``: 2.7 in an int64 tensor is 2; a value the
    dtype cannot hold is refused (see `full`)."""
    other = expect_tensor(other, "full_like")
    return Tensor(_filled(other.shape, fill_value, dtype or other.dtype, "full_like", device,
                          "full_like(x, 0.5)"), requires_grad=requires_grad)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False,
              device: Any = None) -> Tensor:
    other = expect_tensor(other, "ones_like")
    if device is not None:
        check_device(device, "ones_like")
    return Tensor(np.ones(other.shape, dtype or other.dtype), requires_grad=requires_grad)


@_names_memory_errors
def randn(*shape: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False,
          generator: np.random.Generator | None = None, device: Any = None) -> Tensor:
    """Standard normal samples from `generator` (default: the one `manual_seed` seeds)."""
    if device is not None:
        check_device(device, "randn")
    rng = generator or default_generator()
    data = rng.standard_normal(_shape(shape, "randn", size=size), dtype=np.float64)
    data = data.astype(_float_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


@_names_memory_errors
def rand(*shape: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False,
         generator: np.random.Generator | None = None, device: Any = None) -> Tensor:
    """Uniform samples on [0, 1) from `generator` (default: the one `manual_seed` seeds)."""
    if device is not None:
        check_device(device, "rand")
    rng = generator or default_generator()
    data = rng.random(_shape(shape, "rand", size=size), dtype=np.float64)
    data = data.astype(_float_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


@_names_memory_errors
def arange(start: Any = None, end: Any = None, step: Any = 1, dtype: Any = None,
           requires_grad: bool = False, device: Any = None) -> Tensor:
    """Like `numpy.arange`, with PyTorch's names: ``arange(5)``, ``arange(1, 5)``,
    ``arange(end=5)``, ``arange(0, 1, 0.25)``; 0-d tensors may stand for the numbers.
    Integer arguments give an int64 tensor, as in PyTorch; float ones float32."""
    if device is not None:
        check_device(device, "arange")
    if end is None:
        if start is None:
            raise TypeError("arange: missing the end. Fix: e.g. arange(5) or arange(end=5).")
        start, end = 0, start
    elif start is None:
        start = 0
    start, end, step = (_number(value, name, "arange", "arange(0, 5, 1)") for value, name
                        in ((start, "start"), (end, "end"), (step, "step")))
    if step == 0:  # NumPy raises a bare ZeroDivisionError
        raise ValueError("arange: step must be nonzero, got 0. Fix: e.g. arange(0, 5, 1).")
    if (end - start) * step < 0:  # (NumPy: an empty tensor; PyTorch refuses)
        raise ValueError(f"arange: from {start!r:.40} to {end!r:.40} is the other way than "
                         f"step={step!r:.40}. Fix: a step of the other sign, e.g. "
                         f"arange({start!r:.40}, {end!r:.40}, {-step!r:.40}).")
    count = math.ceil((end - start) / step)
    if count > np.iinfo(np.intp).max // 8:  # NumPy: "Maximum allowed size exceeded"
        raise ValueError(f"arange: from {start!r:.40} to {end!r:.40} in steps of "
                         f"{step!r:.40} is {count:.3g} values, more than memory holds. "
                         "Fix: a larger step or a shorter range.")
    if dtype is not None and np.dtype(resolve_dtype(dtype, "arange")).kind == "b":
        raise TypeError("arange: a bool dtype has no evenly spaced values (PyTorch: not "
                        "implemented for 'Bool'). Fix: e.g. arange(n) > 0 for a mask.")
    data = np.arange(start, end, step)
    if dtype is not None:
        data = data.astype(dtype)
    elif data.dtype.kind == "f":
        data = data.astype(np.float32)
    return Tensor(data, requires_grad=requires_grad)


@_names_memory_errors
def linspace(start: float, end: float, steps: int, dtype: Any = None,
             requires_grad: bool = False, device: Any = None) -> Tensor:
    """`steps` evenly spaced values from `start` to `end`, both included (PyTorch's
    ``linspace``: `steps` is required; float32 unless `dtype` says otherwise, computed in
    float64 and then converted, so an integer dtype truncates as PyTorch's does). An end the
    dtype cannot hold (1e40 in float32, 300 in uint8) is refused, as in PyTorch; so is an
    infinite or NaN end, for which PyTorch returns NaNs: there are no evenly spaced points
    between 0 and inf."""
    if device is not None:
        check_device(device, "linspace")
    start, end = (value.item() if isinstance(value, Tensor) and value.ndim == 0 else value
                  for value in (start, end))  # (PyTorch takes 0-d tensors as ends)
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, int | float | np.integer | np.floating) or isinstance(value, bool):
            raise TypeError(f"linspace: {name} must be a number, got {type(value).__name__} "
                            f"{value!r:.40}. Fix: e.g. linspace(0, 1, 5).")
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"linspace: steps must be a whole number >= 0, got {steps!r:.40}. "
                         "Fix: e.g. linspace(0, 1, steps=5).")
    target = np.dtype(np.float32) if dtype is None else resolve_dtype(dtype, "linspace")
    try:
        ends = float(start), float(end)
    except OverflowError:  # an int beyond float64 (10**400)
        raise ValueError(f"linspace: start={start!r:.40} or end={end!r:.40} is beyond float64's "
                         "range. Fix: smaller ends.") from None
    for name, value in zip(("start", "end"), ends):
        if not math.isfinite(value):
            raise ValueError(f"linspace: {name} must be finite, got {value}: there are no "
                             "evenly spaced values to an infinite or NaN end (PyTorch returns "
                             "NaNs). Fix: finite ends, e.g. linspace(0, 1, 5).")
        if not holds(target, value):  # (as PyTorch: NumPy would store inf, or wrap around)
            raise ValueError(f"linspace: {name}={value!r} cannot be converted to {target} "
                             "without overflow. Fix: a wider dtype (e.g. dtype=mg.float64), "
                             "or ends inside the dtype's range.")
    data = np.linspace(*ends, int(steps)).astype(target)
    return Tensor(data, requires_grad=requires_grad)


def _number(value: Any, name: str, op: str, example: str) -> int | float:
    """A real number argument of a factory as a Python number (a 0-d tensor's value);
    TypeError for anything else, ValueError for inf and NaN (no range ends there)."""
    if isinstance(value, Tensor) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__} "
                        f"{value!r:.40}. Fix: e.g. {example}.")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond float64 (10**400)
        finite = False
    if not finite:
        raise ValueError(f"{op}: {name} must be finite, got {value!r:.40}. Fix: e.g. "
                         f"{example}.")
    return value


@_names_memory_errors
def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False,
        device: Any = None) -> Tensor:
    """The n x m identity matrix (n x n without `m`), float32 by default, as ``torch.eye``."""
    if device is not None:
        check_device(device, "eye")
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


def _randint_range(args: tuple, low: Any, high: Any) -> tuple[Any, Any]:
    """low and high from PyTorch's ``randint(high, size)``, ``randint(low, high, size)`` and
    their keyword forms (``randint(low=0, high=10, size=(3,))``, ``randint(high=10, ...)``)."""
    given = [value for value in (low, high) if value is not None]
    if len(args) + len(given) > 2 or (len(args) == 2 and given):
        keywords = ", ".join(f"{n}={v!r:.20}" for n, v in (("low", low), ("high", high))
                             if v is not None)
        raise TypeError(f"randint: low and high given more than once: {len(args)} positional "
                        f"number(s) and {keywords}. "
                        "Fix: e.g. randint(0, 10, (3,)) or randint(low=0, high=10, size=(3,)).")
    if len(args) == 2:
        return args[0], args[1]
    if high is None:  # randint(10, size=...), randint(low=2, 10, ...) is not Python
        if len(args) != 1:
            raise TypeError("randint: high is missing. Fix: e.g. randint(0, 10, (3,)) or "
                            "randint(high=10, size=(3,)).")
        return (0 if low is None else low), args[0]
    return (args[0] if args else 0 if low is None else low), high


@_names_memory_errors
def randint(*args: Any, low: Any = None, high: Any = None, size: Any = None, dtype: Any = None,
            generator: np.random.Generator | None = None, requires_grad: bool = False,
            device: Any = None) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers drawn uniformly from
    [low, high) (low defaults to 0), int64 unless `dtype` says otherwise, as ``torch.randint``.
    `size` is a tuple, as in PyTorch; all three may also be keywords. The range must fit the
    dtype (``randint(0, 1000, (5,), dtype=mg.uint8)`` is refused, as in PyTorch, where NumPy
    would wrap around). Draws from `generator` (default: the one `manual_seed` seeds), so
    ``mg.manual_seed(s)`` makes it repeatable."""
    if device is not None:
        check_device(device, "randint")
    if size is None and args and isinstance(args[-1], tuple | list):
        *args, size = args  # type: ignore[assignment]
    if size is None or not isinstance(size, tuple | list) or len(args) > 2:
        raise TypeError(f"randint: expected randint(high, size) or randint(low, high, size) "
                        f"with size a tuple, got {len(args)} number(s) and size {size!r:.40}. "
                        "Fix: e.g. randint(0, 10, (3,)).")
    low, high = _randint_range(tuple(args), low, high)
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"randint: {name} must be an int, got {type(value).__name__} "
                            f"{value!r:.40}. Fix: e.g. randint(0, 10, (3,)).")
    low, high = int(low), int(high)
    if low >= high:
        raise ValueError(f"randint: low must be less than high (the range [low, high) is "
                         f"empty), got low={low}, high={high}. Fix: e.g. randint(0, 10, (3,)).")
    shape = _shape(tuple(size), "randint", "randint(0, 10, (3,))")
    target = np.dtype(np.int64) if dtype is None else resolve_dtype(dtype, "randint")
    _check_range(low, high, target)
    rng = generator or default_generator()
    data = rng.integers(low, high, shape, dtype=np.int64).astype(target)
    return Tensor(data, requires_grad=requires_grad)


def _check_range(low: int, high: int, target: np.dtype) -> None:
    """[low, high) must fit int64 (the draw) and `target`, as PyTorch checks ("to - 1 is out
    of bounds for unsigned char"): casting the draws would wrap around (uint8: 300 is 44)."""
    info = np.iinfo(np.int64)
    if low < info.min or high - 1 > info.max:
        raise ValueError(f"randint: the range [{low}, {high}) does not fit int64 "
                         f"([{info.min}, {info.max}]), in which the draws are made. Fix: "
                         f"low >= -2**63 and high <= 2**63, e.g. randint(0, 10, (3,)).")
    if target.kind == "b":
        bounds: tuple[float, float] = (0, 1)
    elif target.kind in "iu":
        bounds = (int(np.iinfo(target).min), int(np.iinfo(target).max))
    else:  # a float dtype: exact integers up to 2**mantissa bits, then the largest value
        bounds = (-float(np.finfo(target).max), float(np.finfo(target).max))
    if low < bounds[0] or high - 1 > bounds[1]:
        raise ValueError(f"randint: the range [{low}, {high}) does not fit dtype {target}, "
                         f"whose values go from {bounds[0]:g} to {bounds[1]:g} (the draws would "
                         f"{'overflow' if target.kind == 'f' else 'wrap around'}). Fix: a range "
                         "inside the dtype's "
                         f"(randint(0, {int(bounds[1]) + 1 if bounds[1] < 2**63 else 10}, ..., "
                         f"dtype={target})), or a wider dtype such as mg.int64.")


# -- Tensor.new_*: a new tensor with self's dtype (unless `dtype` is given) -----------------


def _new_dtype(self: Tensor, dtype: Any, op: str, device: Any = None) -> np.dtype:
    if device is not None:
        check_device(device, op)
    return self.dtype if dtype is None else resolve_dtype(dtype, op)


def new_tensor(self: Tensor, data: Any, dtype: Any = None, requires_grad: bool = False,
               device: Any = None) -> Tensor:
    """``x.new_tensor(data)``: a copy of `data` with x's dtype (even for a list of ints, as in
    PyTorch), outside any graph."""
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(data, dtype=_new_dtype(self, dtype, "new_tensor", device),
                  requires_grad=requires_grad)


@_names_memory_errors
def new_zeros(self: Tensor, *shape: Any, size: Any = None, dtype: Any = None,
              requires_grad: bool = False, device: Any = None) -> Tensor:
    """``x.new_zeros(2, 3)`` or ``x.new_zeros((2, 3))``: zeros of x's dtype."""
    return Tensor(np.zeros(_shape(shape, "new_zeros", "x.new_zeros(2, 3)", size),
                           _new_dtype(self, dtype, "new_zeros", device)),
                  requires_grad=requires_grad)


@_names_memory_errors
def new_ones(self: Tensor, *shape: Any, size: Any = None, dtype: Any = None,
             requires_grad: bool = False, device: Any = None) -> Tensor:
    """``x.new_ones(2, 3)``: ones of x's dtype."""
    return Tensor(np.ones(_shape(shape, "new_ones", "x.new_ones(2, 3)", size),
                           _new_dtype(self, dtype, "new_ones", device)),
                  requires_grad=requires_grad)


@_names_memory_errors
def new_empty(self: Tensor, *shape: Any, size: Any = None, dtype: Any = None,
              requires_grad: bool = False, device: Any = None) -> Tensor:
    """``x.new_empty(2, 3)``: an *uninitialised* tensor of x's dtype, as in PyTorch: its values
    are whatever the memory held. Write every element before reading it."""
    return Tensor(np.empty(_shape(shape, "new_empty", "x.new_empty(2, 3)", size),
                           _new_dtype(self, dtype, "new_empty", device)),
                  requires_grad=requires_grad)


@_names_memory_errors
def new_full(self: Tensor, size: Any, fill_value: Any, dtype: Any = None,
             requires_grad: bool = False, device: Any = None) -> Tensor:
    """``x.new_full((2, 3), 0.5)``: `fill_value` everywhere, with x's dtype (not the value's:
    unlike ``mg.full``, as in PyTorch)."""
    if not isinstance(fill_value, int | float | np.integer | np.floating | np.bool_):
        raise TypeError(f"new_full: fill_value must be a number, got "
                        f"{type(fill_value).__name__} {fill_value!r:.40}. Fix: e.g. "
                        "x.new_full((2, 3), 0.5).")
    if not isinstance(size, tuple | list):
        raise TypeError(f"new_full: size must be a tuple, got {type(size).__name__} "
                        f"{size!r:.40}. Fix: e.g. x.new_full((2, 3), 0.5).")
    return Tensor(np.full(_shape((size,), "new_full", "x.new_full((2, 3), 0.5)"), fill_value,
                          _new_dtype(self, dtype, "new_full", device)),
                  requires_grad=requires_grad)
