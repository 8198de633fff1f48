"""Functional forms of the layers: ``F.linear(x, w, b)``, ``F.relu(x)``, losses, ..."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import ops
from minigrad.ops.conv import avg_pool2d, conv2d, max_pool2d, pair  # noqa: F401 (F.conv2d, ...)
from minigrad.ops.elementwise import ReLU as _ReLU  # the ops themselves: one call less
from minigrad.ops.linalg import Linear as _Linear
from minigrad.ops.losses import (  # noqa: F401 (F.cross_entropy, ...)
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    check_reduction,
    cross_entropy,
    nll_loss,
)
from minigrad.ops.neural import dropout, gelu, log_softmax, softmax  # noqa: F401 (F.gelu, ...)
from minigrad.ops.padding import pad  # noqa: F401 (F.pad: PyTorch order, not mg.pad NumPy one)
from minigrad.ops.reduce import single_axis as _single_axis
from minigrad.ops.robust_losses import huber_loss, l1_loss, smooth_l1_loss  # noqa: F401
from minigrad.ops.silu import silu  # noqa: F401 (F.silu)
from minigrad.tensor import Tensor, dtype_mismatch, expect_tensor


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x Wᵀ + b with ``weight`` of shape ``(out_features, in_features)``. As in PyTorch, a
    1-D weight ``(in_features,)`` without a bias gives ``x @ weight``, one number per row
    (the input's last axis is contracted away)."""
    if not isinstance(x, Tensor):
        expect_tensor(x, "linear")  # raises the usual TypeError
    if not isinstance(weight, Tensor) or not isinstance(bias, Tensor | None):
        raise TypeError(f"linear: weight and bias must be Tensors (bias may be None), got "
                        f"{type(weight).__name__} and {type(bias).__name__}. Fix: wrap them, "
                        "nn.Parameter(array).")
    # The arrays are read once: these checks run for every layer of every step.
    data, weight_data = x._data, weight._data
    if data.dtype != weight_data.dtype:  # no silent promotion
        raise TypeError(dtype_mismatch("linear", x, weight))
    if weight_data.ndim not in (1, 2) or (weight_data.ndim == 1 and bias is not None):
        raise ValueError(
            f"linear: weight of shape {weight.shape}"
            + (f" with a bias of shape {bias.shape}" if bias is not None else "")
            + " is not supported: the weight must be 2-D (out_features, in_features), or 1-D "
            "(in_features,) without a bias (PyTorch refuses a bias there for a 2-D input). "
            "Fix: weight.reshape(1, -1) for one output feature (with a bias of shape (1,)), "
            "or add the bias after: F.linear(x, weight) + bias.")
    if data.ndim == 0 or data.shape[-1] != weight_data.shape[-1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit a weight of shape "
                         f"{weight.shape}: the input's last axis must be in_features="
                         f"{weight.shape[-1]}. Fix: reshape the input or change in_features.")
    if weight_data.ndim == 1:  # _Linear's backward is written for a matrix of weights
        return ops.matmul(x, weight)
    if bias is None:
        return _Linear.apply(x, weight)
    if bias._data.shape != weight_data.shape[:1]:
        raise ValueError(f"linear: bias of shape {bias.shape} does not fit a weight of shape "
                         f"{weight.shape}. Fix: give the bias shape ({weight.shape[0]},).")
    return _Linear.apply(x, weight, bias)


def relu(x: Tensor) -> Tensor:
    if not isinstance(x, Tensor):
        expect_tensor(x, "relu")  # raises the usual TypeError
    return _ReLU.apply(x)


def tanh(x: Tensor) -> Tensor:
    return ops.tanh(expect_tensor(x, "tanh"))


def sigmoid(x: Tensor) -> Tensor:
    return ops.sigmoid(expect_tensor(x, "sigmoid"))


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope · x."""
    return ops.leaky_relu(expect_tensor(x, "leaky_relu"), negative_slope=negative_slope)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Class indices of any shape ``(*)`` to one-hot rows ``(*, num_classes)``, int64 as in
    PyTorch (``.float()`` for arithmetic). ``num_classes=-1``: one more than the largest index."""
    indices = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected integer class indices, got dtype {indices.dtype}. "
                        "Fix: convert them with .long().")
    if num_classes == -1:
        if indices.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor. Fix: pass "
                             "num_classes.")
        num_classes = int(indices.max()) + 1
    if not isinstance(num_classes, int | np.integer) or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive int or -1, got "
                         f"{num_classes!r}.")
    if indices.size and (indices.min() < 0 or indices.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes - 1}], got values "
                         f"from {indices.min()} to {indices.max()}. Fix: check the labels or "
                         "num_classes.")
    try:
        return Tensor(np.eye(num_classes, dtype=np.int64)[indices])
    except (ValueError, MemoryError):  # NumPy: "array is too big"
        raise ValueError(f"one_hot: {num_classes} classes make a table too big for memory. "
                         "Fix: check num_classes.") from None


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Squared error (input - target)², averaged ('mean'), summed ('sum') or not ('none').

    `target` may be a Tensor or a NumPy array; it must have the input's shape. (PyTorch only
    warns on a mismatch and broadcasts, which silently turns (N, 1) against (N,) into an
    (N, N) matrix of errors; here it is an error.)
    """
    expect_tensor(input, "mse_loss")
    check_reduction(reduction, "mse_loss")
    if input.dtype.kind != "f":
        raise TypeError(f"mse_loss: input must be floating point, got dtype {input.dtype}. Fix: "
                        "convert it with .float() (predictions of a model are floats).")
    if not isinstance(target, Tensor) or target.dtype.kind != "f":
        try:
            target = Tensor(np.asarray(target.data if isinstance(target, Tensor) else target,
                                       dtype=input.dtype))
        except (TypeError, ValueError):
            raise TypeError(f"mse_loss: target must be numbers (a Tensor or an array), got "
                            f"{type(target).__name__} {target!r:.40}.") from None
    if target.shape != input.shape:
        raise ValueError(
            f"mse_loss: input of shape {input.shape} and target of shape {target.shape} differ. "
            f"Fix: reshape one of them, e.g. target.reshape{input.shape} or "
            "output.reshape(-1) for a single output per sample.")
    difference = input - target
    squared = difference * difference
    if reduction == "none":
        return squared
    return squared.sum() if reduction == "sum" else squared.mean()


def normalize(input: Tensor, p: float = 2.0, dim: int = 1,  # noqa: A002
              eps: float = 1e-12) -> Tensor:
    """``input / max(‖input‖_p, eps)`` along `dim` (PyTorch's ``F.normalize``): each slice
    along `dim` scaled to unit p-norm (rows of an ``(N, D)`` batch with the default dim=1).

    `eps` keeps a zero vector at 0 instead of 0/0; where the norm is below `eps` the divisor
    is the constant `eps`, so the gradient there is input's / eps alone (as PyTorch's
    ``clamp_min``). ``p``: as for `Tensor.norm` (2, any positive number, inf, -inf, 0)."""
    expect_tensor(input, "normalize")
    if input.dtype.kind != "f":
        raise TypeError(f"normalize: expected a floating-point input, got dtype {input.dtype}. "
                        "Fix: convert it with .float().")
    if input.ndim == 0:
        raise ValueError("normalize: a 0-d tensor has no axis to normalise along. Fix: "
                         "reshape it, e.g. x.reshape(1).")
    if not -input.ndim <= (dim if isinstance(dim, int) else 0) < input.ndim:
        raise ValueError(f"normalize: dim={dim} is out of range for an input of shape "
                         f"{input.shape} (valid: {-input.ndim} to {input.ndim - 1}). Fix: e.g. "
                         "dim=-1 for the last axis (the default dim=1 expects a batch (N, D)).")
    axis = _single_axis(dim, input.ndim, "normalize")
    if isinstance(eps, bool) or not isinstance(eps, int | float | np.floating) or not eps >= 0:
        raise ValueError(f"normalize: eps must be a number >= 0, got {eps!r}. Fix: keep the "
                         "default eps=1e-12.")
    if isinstance(p, str | bool) or not isinstance(p, int | float | np.number) or (
            p < 0 and p != -np.inf):
        raise ValueError(f"normalize: p={p!r} is not supported. Fix: a positive number (2.0, "
                         "the default, for unit length), float('inf'), -float('inf') or 0.")
    norm = ops.norm(input, p=p, dim=axis, keepdim=True)
    # not (norm < eps) rather than norm >= eps: a NaN norm stays the divisor (PyTorch's
    # clamp_min keeps NaN), where dividing by eps turned the slice's other values into 1e12s
    return input / ops.where(~(norm.data < eps), norm, eps)


def _adaptive_matrix(size: int, output_size: int, dtype: Any) -> np.ndarray:
    """(output_size, size) averaging matrix: row i averages input positions
    floor(i·size/out) .. ceil((i+1)·size/out) - 1, PyTorch's adaptive pooling windows."""
    matrix = np.zeros((output_size, size), dtype=dtype)
    for i in range(output_size):  # one row per output position (not per pixel)
        start, end = (i * size) // output_size, -((-(i + 1) * size) // output_size)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling to a fixed ``output_size`` (int or pair), whatever the input size;
    ``None`` in the pair keeps that side's size, as in PyTorch (``(None, 1)``).

    ``(N, C, H, W)`` or ``(C, H, W)`` in, ``(N, C, out_h, out_w)`` out. Output size 1 is global
    average pooling. Windows follow PyTorch (they may overlap when H is not a multiple);
    pooling is written as out = P_h · x · P_wᵀ with averaging matrices P, so the gradient
    comes from matmul.
    """
    expect_tensor(input, "adaptive_avg_pool2d")
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected a 4-D input (N, C, H, W) or a 3-D one "
                         f"(C, H, W), got shape {input.shape}.")
    requested = output_size  # the errors show it as passed, before None is filled in
    if isinstance(output_size, tuple | list) and len(output_size) == 2:
        output_size = tuple(size if given is None else given
                            for given, size in zip(output_size, input.shape[-2:]))
    try:
        out_h, out_w = pair(output_size, "output_size", "adaptive_avg_pool2d")
    except TypeError:
        raise TypeError(f"adaptive_avg_pool2d: output_size must be an int or a pair of ints or "
                        f"None, got {requested!r}. Fix: e.g. output_size=1 (global average "
                        "pooling), (2, 3), or (None, 1) to keep the height.") from None
    if out_h < 1 or out_w < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {requested!r} "
                         f"for an input of shape {input.shape}. Fix: sizes of at least 1, or "
                         "None to keep that side's size (output_size=1 is global average "
                         "pooling).")
    height, width = input.shape[-2:]
    if (out_h, out_w) == (1, 1):
        return input.mean(axis=(-2, -1), keepdims=True)
    rows = Tensor(_adaptive_matrix(height, out_h, input.dtype))
    cols = Tensor(_adaptive_matrix(width, out_w, input.dtype).T.copy())
    return rows @ input @ cols


from minigrad.nn.embedding import embedding  # noqa: E402, F401

# Normalisation lives in nn/normalization.py (with its modules); re-exported as F.batch_norm etc.
from minigrad.nn.normalization import batch_norm, group_norm, layer_norm  # noqa: E402, F401
