"""Tensor operations: one `Function` per op (see `base.py` for how an op is written).

The table at the bottom is the Tensor API: each method is one line pointing at its op.
Adding an op means: one class in the right file, one function, one line here, and one
gradcheck case in tests/test_ops.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.device import cpu, tensor_device
from minigrad.factories import new_empty, new_full, new_ones, new_tensor, new_zeros
from minigrad.ops.base import Function, ShapeError, sum_to_shape
from minigrad.ops.conv import avg_pool2d, conv2d, max_pool2d
from minigrad.ops.convert import bool_, double, float_, int_, long, to
from minigrad.ops.cumulative import cumsum, logsumexp
from minigrad.ops.einsum import einsum
from minigrad.ops.elementwise import (
    abs,
    add,
    as_tensor,
    cast,
    clip,
    clone,
    div,
    exp,
    leaky_relu,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    refuse_bool_subtraction,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
    where,
)
from minigrad.ops.expand import expand, expand_as, matrix_transpose, repeat, t
from minigrad.ops.inplace import (
    add_,
    clamp_,
    copy_,
    div_,
    fill_,
    in_place_operator,
    mul_,
    sub_,
    zero_,
)
from minigrad.ops.linalg import linear, matmul, norm
from minigrad.ops.losses import cross_entropy
from minigrad.ops.masked_fill import masked_fill
from minigrad.ops.neural import dropout, log_softmax, softmax
from minigrad.ops.ordering import argsort, flip, roll, sort, topk
from minigrad.ops.promotion import result_dtype
from minigrad.ops.reduce import amax, amin, mean, reduced_axes, std, sum, var
from minigrad.ops.repeat_interleave import repeat_interleave
from minigrad.ops.select import ValuesIndices, argmax, argmin, max, min
from minigrad.ops.shape import (
    broadcast_to,
    cat,
    flatten,
    getitem,
    pad,
    permute,
    reshape,
    setitem,
    squeeze,
    stack,
    transpose,
    unsqueeze,
    view,
)
from minigrad.ops.silu import silu
from minigrad.ops.split import chunk, narrow, split
from minigrad.ops.tensor_type import type_
from minigrad.ops.triangular import tril, triu
from minigrad.tensor import Tensor


def _reflected(op: Any) -> Any:
    """`2 - x` calls ``x.__rsub__(2)``: compute op(2, x) with 2 as a constant of x's dtype."""
    return lambda self, other: op(as_tensor(other, self, op.__name__), self)


def _reflected_sub(self: Tensor, other: Any) -> Tensor:
    """``2 - x``; ``True - x`` is refused, as in PyTorch (`refuse_bool_subtraction`)."""
    refuse_bool_subtraction(self, other)
    return sub(as_tensor(other, self, "sub"), self)


def _comparison(compare: Any, symbol: str) -> Any:
    """Element-wise comparison: a bool tensor, outside the graph (it has no gradient)."""
    def method(self: Tensor, other: Any) -> Tensor:
        other_data = other.data if isinstance(other, Tensor) else other
        try:
            return Tensor._make(compare(self.data, other_data), None, ())
        except (TypeError, ValueError) as error:  # NumPy's message names neither op nor fix
            shape = getattr(other_data, "shape", None)
            what = f"shape {shape}" if shape is not None else type(other_data).__name__
            raise (TypeError if isinstance(error, TypeError) else ValueError)(
                f"{symbol}: cannot compare a tensor of shape {self.shape} with {what}: {error}. "
                "Fix: compare with a number or a tensor whose shape broadcasts against it."
            ) from None
    return method


def _integral(tensor: Tensor, symbol: str) -> None:
    if tensor.dtype.kind not in "biu":
        raise TypeError(f"{symbol}: defined for bool masks (and bitwise for integers), but this "
                        f"tensor has dtype {tensor.dtype} (shape {tensor.shape}). Fix: compare "
                        "first to get a mask, e.g. (x > 0) & (x < 1), or convert with .bool().")


def _bitwise(ufunc: Any, symbol: str, reflected: bool = False) -> Any:
    """``m & n``, ``m | n``, ``m ^ n`` on bool masks (bitwise on integers), as in PyTorch:
    a tensor outside the graph, like a comparison, of the dtype PyTorch gives (its promotion
    rules, `result_dtype`: a 0-d int64 & a uint8 batch is uint8; NumPy would give int64).
    Floats are refused, as in PyTorch."""
    def method(self: Tensor, other: Any) -> Tensor:
        _integral(self, symbol)
        if isinstance(other, Tensor):
            _integral(other, symbol)
        other_data = other.data if isinstance(other, Tensor) else other
        if isinstance(other_data, np.generic):  # a NumPy number is weak, as in `t + x`
            other_data = other_data.item()
        data = self.data
        if isinstance(other_data, np.ndarray) and other_data.dtype.kind in "biu":
            dtype = result_dtype(data, other_data)
            data, other_data = data.astype(dtype, copy=False), other_data.astype(dtype,
                                                                                 copy=False)
        arrays = (other_data, data) if reflected else (data, other_data)
        try:
            return Tensor._make(np.asarray(ufunc(*arrays)), None, ())
        except OverflowError:  # a Python int the dtype cannot hold (uint8 & 300)
            raise ValueError(f"{symbol}: {other!r:.40} does not fit the tensor's dtype "
                             f"{self.dtype}. Fix: a number inside the dtype's range, or "
                             "convert the tensor first (x.long()).") from None
        except (TypeError, ValueError) as error:  # a float number, a shape: NumPy names no fix
            shape = getattr(other_data, "shape", None)
            what = f"shape {shape}" if shape is not None else type(other_data).__name__
            raise (TypeError if isinstance(error, TypeError) else ValueError)(
                f"{symbol}: cannot combine a tensor of shape {self.shape} ({self.dtype}) with "
                f"{what}: {error}. Fix: a bool (or integer) tensor or number whose shape "
                "broadcasts against it.") from None
    return method


def _in_place_bitwise(ufunc: Any, symbol: str) -> Any:
    """``m &= n`` (``|=``, ``^=``): writes into m, as PyTorch does and as the other in-place
    operators (`in_place_operator`) do; without it Python rebound m to a new tensor, and
    other names for the mask kept the old one."""
    update = in_place_operator(ufunc, symbol)

    def method(self: Tensor, other: Any) -> Tensor:
        _integral(self, symbol)
        if isinstance(other, Tensor):
            _integral(other, symbol)
        return update(self, other)
    return method


def _truth_reduction(function: Any, name: str) -> Any:
    """``t.any()`` / ``t.all()`` (or over `dim`, an int or a tuple, with `keepdim`), as in
    PyTorch: a bool tensor outside the graph (nonzero counts as True)."""
    def method(self: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
        if isinstance(dim, tuple | list) and not dim:
            # PyTorch (2.13) reduces no axis here, unlike sum(dim=()) and the other
            # reductions (every axis): each element's truth, with the input's shape
            return Tensor._make(self.data.astype(bool), None, ())
        axes = reduced_axes(dim, self.ndim, name) if self.ndim else None
        return Tensor._make(np.asarray(function(self.data, axis=axes, keepdims=bool(keepdim))),
                            None, ())
    method.__name__ = name
    return method


def _invert(self: Tensor) -> Tensor:
    """``~mask``: logical not of a bool mask (bitwise not of integers), as in PyTorch."""
    _integral(self, "~")
    return Tensor._make(np.invert(self.data), None, ())


# -- the Tensor API ------------------------------------------------------------------------
Tensor.__add__ = add
Tensor.__radd__ = _reflected(add)
Tensor.__sub__ = sub
Tensor.__rsub__ = _reflected_sub
Tensor.__mul__ = mul
Tensor.__rmul__ = _reflected(mul)
Tensor.__truediv__ = div
Tensor.__rtruediv__ = _reflected(div)
Tensor.__pow__ = pow
Tensor.__rpow__ = _reflected(pow)
Tensor.__neg__ = neg
Tensor.__iadd__ = in_place_operator(np.add, "+=")
Tensor.__isub__ = in_place_operator(np.subtract, "-=")
Tensor.__imul__ = in_place_operator(np.multiply, "*=")
Tensor.__itruediv__ = in_place_operator(np.true_divide, "/=")
Tensor.__ipow__ = in_place_operator(np.power, "**=")
Tensor.add_ = add_
Tensor.sub_ = sub_
Tensor.mul_ = mul_
Tensor.div_ = div_
Tensor.clamp_ = clamp_
Tensor.fill_ = fill_
Tensor.zero_ = zero_
Tensor.copy_ = copy_
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(Tensor(other), self)
Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem
Tensor.__lt__ = _comparison(lambda a, b: a < b, "<")
Tensor.__le__ = _comparison(lambda a, b: a <= b, "<=")
Tensor.__gt__ = _comparison(lambda a, b: a > b, ">")
Tensor.__ge__ = _comparison(lambda a, b: a >= b, ">=")
Tensor.__eq__ = _comparison(lambda a, b: a == b, "==")
Tensor.__ne__ = _comparison(lambda a, b: a != b, "!=")
Tensor.__and__ = _bitwise(np.bitwise_and, "&")
Tensor.__rand__ = _bitwise(np.bitwise_and, "&", reflected=True)
Tensor.__or__ = _bitwise(np.bitwise_or, "|")
Tensor.__ror__ = _bitwise(np.bitwise_or, "|", reflected=True)
Tensor.__xor__ = _bitwise(np.bitwise_xor, "^")
Tensor.__rxor__ = _bitwise(np.bitwise_xor, "^", reflected=True)
Tensor.__iand__ = _in_place_bitwise(np.bitwise_and, "&=")
Tensor.__ior__ = _in_place_bitwise(np.bitwise_or, "|=")
Tensor.__ixor__ = _in_place_bitwise(np.bitwise_xor, "^=")
Tensor.__invert__ = _invert
Tensor.any = _truth_reduction(np.any, "any")
Tensor.all = _truth_reduction(np.all, "all")
Tensor.exp = exp
Tensor.log = log
Tensor.sqrt = sqrt
Tensor.tanh = tanh
Tensor.sigmoid = sigmoid
Tensor.relu = relu
Tensor.leaky_relu = leaky_relu
Tensor.abs = abs
Tensor.__abs__ = abs
Tensor.clip = clip
Tensor.clamp = clip
Tensor.maximum = maximum
Tensor.minimum = minimum
Tensor.matmul = matmul
Tensor.sum = sum
Tensor.mean = mean
Tensor.var = var
Tensor.std = std
Tensor.max = max
Tensor.min = min
Tensor.amax = amax
Tensor.amin = amin
Tensor.argmax = argmax
Tensor.argmin = argmin
Tensor.norm = norm
Tensor.clone = clone
Tensor.dim = lambda self: self.data.ndim
Tensor.to = to
Tensor.long = long
Tensor.int = int_
Tensor.float = float_
Tensor.double = double
Tensor.bool = bool_
Tensor.reshape = reshape
Tensor.view = view
Tensor.flatten = flatten
Tensor.transpose = transpose
Tensor.permute = permute
Tensor.T = property(lambda self: transpose(self))
Tensor.squeeze = squeeze
Tensor.unsqueeze = unsqueeze
Tensor.broadcast_to = broadcast_to
Tensor.pad = pad
Tensor.softmax = softmax
Tensor.log_softmax = log_softmax
# PyTorch habits (README, "Beyond the core API"): shapes, pieces, masks, factories, device
Tensor.t = t
Tensor.mT = property(matrix_transpose)
Tensor.expand = expand
Tensor.expand_as = expand_as
Tensor.repeat = repeat
Tensor.narrow = narrow
Tensor.chunk = chunk
Tensor.split = split
Tensor.masked_fill = masked_fill
Tensor.type = type_
Tensor.device = property(tensor_device)
Tensor.cpu = cpu
Tensor.new_tensor = new_tensor
Tensor.new_zeros = new_zeros
Tensor.new_ones = new_ones
Tensor.new_full = new_full
Tensor.new_empty = new_empty
# PyTorch habits, round 12 (README, "Beyond the core API"): orders, running sums, triangles
Tensor.flip = flip
Tensor.roll = roll
Tensor.cumsum = cumsum
Tensor.logsumexp = logsumexp
Tensor.sort = sort
Tensor.argsort = argsort
Tensor.topk = topk
Tensor.tril = tril
Tensor.triu = triu
Tensor.repeat_interleave = repeat_interleave

__all__ = [
    "Function", "ShapeError", "sum_to_shape", "abs", "add", "broadcast_to", "cast", "cat", "clip",
    "div", "exp", "flatten", "getitem", "leaky_relu", "linear", "log", "matmul", "max", "maximum",
    "mean",
    "min", "minimum", "mul", "neg", "pad", "permute", "pow", "relu", "reshape", "sigmoid", "sqrt",
    "squeeze", "stack", "sub", "sum", "tanh", "transpose", "unsqueeze", "var", "where",
    "avg_pool2d", "conv2d", "cross_entropy", "dropout", "log_softmax", "max_pool2d", "softmax",
    "amax", "amin", "argmax", "argmin", "clone", "norm", "std", "to", "ValuesIndices",
    "chunk", "einsum", "expand", "expand_as", "masked_fill", "narrow", "repeat", "silu", "split",
    "argsort", "cumsum", "flip", "logsumexp", "repeat_interleave", "roll", "sort", "topk", "tril",
    "triu",
]
