"""The table of the bad-input suite (tests/test_bad_input.py): one `Spec` per public callable
(a valid call, each argument tagged with its kind, and a reference), and SKIPPED, the public
names tested elsewhere."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.nn import init

try:
    import torch
except ImportError:  # the suite stands without PyTorch: NumPy references only
    torch = None


def tensor_data(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@dataclass
class Spec:
    name: str  # as listed from the namespace
    call: Callable[..., Any]
    args: list[tuple[str, Callable[[], Any]]]  # (kind, factory of a valid value)
    reference: Callable[..., Any] | None  # on plain values (Tensors as ndarrays); raises
    # if invalid. None: only PyTorch could be the reference, and it is not installed
    words: tuple[str, ...] = ()  # an error must name one of these (default: the short name)
    shape_only: bool = False  # random results (fresh weights, random init): check the shape


# -- references -------------------------------------------------------------------------------

def is_int(value):
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def is_number(value):
    return isinstance(value, int | float | np.number | np.bool_)


def refuse(reason="invalid"):
    raise TypeError(reason)


def np_only(function):
    """A NumPy reference that, like PyTorch, refuses what is not a numeric float array."""
    def reference(x, *rest):
        if not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf":
            raise TypeError("not a numeric array")
        if x.dtype.kind in "biu" and function not in (np.abs,):
            x = x.astype(np.float32)  # PyTorch: integer input to exp, log, ... gives float32
        with np.errstate(all="ignore"):
            return function(x, *rest)
    return reference


def torch_or_numpy(torch_function, numpy_function):
    if torch is None:
        return numpy_function

    def reference(*args):
        converted = []
        for a in args:
            if isinstance(a, np.ndarray):
                if a.dtype.kind != "f":
                    raise TypeError("PyTorch refuses non-float inputs here")
                a = torch.from_numpy(np.array(a))
            converted.append(a)
        return torch_function(*converted).numpy()
    return reference


def pairwise(function):
    """maximum/minimum against a number or an array (NumPy's promotion, as PyTorch's)."""
    def reference(x, other):
        if not (is_number(other) or isinstance(other, np.ndarray | list)):
            refuse()
        return function(x, np.asarray(other) if isinstance(other, list) else other)
    return reference


def softmax_numpy(x, dim):
    if dim is None:  # PyTorch's legacy implicit dim (with a warning)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    if not is_int(dim) or x.dtype.kind != "f":
        raise TypeError("dim")
    shifted = x - x.max(axis=dim, keepdims=True) if x.size else x
    e = np.exp(shifted)
    return e / e.sum(axis=dim, keepdims=True)


def axis_reference(function):
    def reference(x, axis):
        if isinstance(axis, list):
            axis = tuple(axis)
        if not (axis is None or is_int(axis) or isinstance(axis, tuple)):
            raise TypeError("axis")
        if not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf":
            raise TypeError("x")
        if function in (np.max, np.min) and x.size == 0 and (
                axis is None or 0 in np.array(x.shape)[list(np.atleast_1d(axis))]):
            raise ValueError("empty")
        with np.errstate(all="ignore"):
            return function(x, axis=axis)
    return reference


def linear_numpy(x, weight, bias):
    if not isinstance(x, np.ndarray) or x.dtype != weight.dtype or x.ndim == 0:
        raise TypeError("x")
    return x @ weight.T + bias


def mse_numpy(x, target):
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError("x")
    target = np.asarray(target, dtype=x.dtype)
    if target.shape != x.shape:
        raise ValueError("shape")
    return ((x - target) ** 2).mean()


def cross_entropy_numpy(logits, target):
    if not isinstance(logits, np.ndarray) or logits.dtype.kind != "f" or logits.ndim != 2:
        raise TypeError("logits")
    target = np.asarray(target)
    if target.dtype.kind not in "iu" or target.shape != logits.shape[:1]:
        raise TypeError("target")
    if ((target < 0) | (target >= logits.shape[1])).any():
        raise ValueError("class")
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(target)), target].mean()


def shape_reference(function):
    def reference(x, *rest):
        if not isinstance(x, np.ndarray):
            raise TypeError("x")
        for r in rest:
            if not is_int(r):
                raise TypeError("int")
        return function(x, *rest)
    return reference


def flatten_numpy(x, start, end):
    start, end = start % max(x.ndim, 1), end % max(x.ndim, 1)
    if start > end:
        raise ValueError("order")
    return x.reshape(x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


def join_reference(numpy_function):
    def reference(tensors, dim):
        dim = 0 if dim is None else dim  # cat(tensors, dim=None) is the default, axis 0
        if not isinstance(tensors, list) or not is_int(dim):
            raise TypeError("sequence")
        arrays = [t if isinstance(t, np.ndarray) else np.asarray(t) for t in tensors]
        if any(a.dtype.kind not in "biuf" for a in arrays):
            raise TypeError("dtype")
        if numpy_function is np.concatenate and any(a.ndim == 0 for a in arrays):
            raise ValueError("0-d")
        return numpy_function(arrays, axis=dim)
    return reference


def full_dtype(fill):
    """PyTorch's dtype for ``full`` without one: bool, int64 for integers, else float32."""
    if isinstance(fill, bool):
        return np.bool_
    return np.int64 if isinstance(fill, int | np.integer) else np.float32


def full_numpy(shape, fill, dtype=None):
    """``full``'s reference: a number or a 0-d array (PyTorch takes a 0-d tensor too), which
    the dtype must hold (1e40 is refused in float32, as PyTorch refuses it)."""
    if isinstance(fill, np.ndarray) and fill.ndim == 0:
        fill = fill.item()
    if not is_number(fill):
        refuse()
    dtype = np.dtype(dtype or full_dtype(fill))
    if dtype.kind == "f" and math.isfinite(fill) and abs(fill) > np.finfo(dtype).max:
        refuse("overflow")
    if dtype.kind in "iu" and not np.iinfo(dtype).min <= fill <= np.iinfo(dtype).max:
        refuse("overflow")
    return np.full(shape, fill, dtype)


def factory_reference(fill):
    def reference(*shape):
        for n in shape:
            if not is_int(n) or n < 0 or n > 10**6:
                raise ValueError("size")
        return np.full(shape, fill, np.float32)
    return reference


def values_of(result):
    """max/min along a dim return (values, indices), as in PyTorch; compare the values."""
    return getattr(result, "values", result)


def int_only(value):
    return int(value) if is_int(value) else refuse()


def int_or_list(value, none=False):
    if (value is None and none) or isinstance(value, list):
        return value
    return int_only(value)


def torch_any(torch_function, numpy_function):
    """PyTorch's result on any numeric array (int and bool too), else NumPy's. None when
    there is neither (no NumPy reference and no torch): such a spec is set aside, below."""
    if torch is None:
        return numpy_function

    def reference(x, *rest):
        if not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf":
            raise TypeError("not a numeric array")
        return torch_function(torch.from_numpy(np.array(x)), *rest).numpy()
    return reference


def layer_call(build, *layer_args):
    return lambda x: build(*layer_args)(x)


# -- the table --------------------------------------------------------------------------------

T = "tensor"  # a float32 Tensor
SPECS = [
    *[Spec(f"mg.{n}", getattr(mg, n), [(T, lambda: mg.tensor(np.abs(tensor_data(3, 4))))],
           np_only(f)) for n, f in (("exp", np.exp), ("log", np.log), ("sqrt", np.sqrt),
                                    ("tanh", np.tanh), ("abs", np.abs),
                                    ("relu", lambda x: np.maximum(x, 0)),
                                    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))))],
    Spec("mg.maximum", mg.maximum,
         [(T, lambda: mg.tensor(tensor_data(3))), ("number", lambda: 0.5)],
         np_only(pairwise(np.maximum)), ("maximum",)),
    Spec("mg.minimum", mg.minimum,
         [(T, lambda: mg.tensor(tensor_data(3))), ("number", lambda: 0.5)],
         np_only(pairwise(np.minimum)), ("minimum",)),
    Spec("mg.clip", lambda x, lo: mg.clip(x, lo, 1.0),
         [(T, lambda: mg.tensor(tensor_data(3))), ("number", lambda: -0.5)],
         np_only(lambda x, lo: np.clip(x, lo, 1.0) if lo is None or is_number(lo)
                 else refuse()),
         ("clip",)),
    Spec("Tensor.sum", lambda x, a: x.sum(axis=a), [(T, lambda: mg.tensor(tensor_data(2, 3))),
                                                    ("axis", lambda: 1)], axis_reference(np.sum)),
    Spec("Tensor.mean", lambda x, a: x.mean(axis=a), [(T, lambda: mg.tensor(tensor_data(2, 3))),
                                                      ("axis", lambda: 0)],
         axis_reference(np.mean)),
    Spec("Tensor.max", lambda x, a: values_of(x.max(axis=a)),
         [(T, lambda: mg.tensor(tensor_data(2, 3))), ("axis", lambda: 1)], axis_reference(np.max)),
    Spec("Tensor.min", lambda x, a: values_of(x.min(axis=a)),
         [(T, lambda: mg.tensor(tensor_data(2, 3))), ("axis", lambda: 1)], axis_reference(np.min)),
    Spec("F.softmax", F.softmax, [(T, lambda: mg.tensor(tensor_data(2, 3))), ("axis", lambda: 1)],
         torch_or_numpy(lambda x, d: torch.softmax(x, d) if is_int(d) else
                        torch.softmax(x, 0 if x.ndim in (0, 1, 3) else 1) if d is None
                        else refuse(), np_only(softmax_numpy)), ("softmax",)),
    Spec("F.log_softmax", F.log_softmax, [(T, lambda: mg.tensor(tensor_data(2, 3))),
                                          ("axis", lambda: -1)],
         np_only(lambda x, d: np.log(softmax_numpy(x, d))), ("log_softmax",)),
    Spec("F.linear", F.linear, [(T, lambda: mg.tensor(tensor_data(4, 3))),
                                ("weight", lambda: nn.Parameter(tensor_data(2, 3, seed=1))),
                                ("weight", lambda: nn.Parameter(tensor_data(2, seed=2)))],
         lambda x, w, b: linear_numpy(x, w, b), ("linear",)),
    Spec("nn.Linear", layer_call(nn.Linear, 3, 2), [(T, lambda: mg.tensor(tensor_data(4, 3)))],
         lambda x: linear_numpy(x, np.ones((2, 3), np.float32), 0) * x.sum(), ("linear",),
         shape_only=True),
    Spec("F.mse_loss", F.mse_loss, [(T, lambda: mg.tensor(tensor_data(4))),
                                    ("target", lambda: tensor_data(4, seed=3))],
         mse_numpy, ("mse_loss",)),
    Spec("F.cross_entropy", F.cross_entropy, [(T, lambda: mg.tensor(tensor_data(4, 3))),
                                              ("labels", lambda: np.array([0, 2, 1, 1]))],
         cross_entropy_numpy, ("cross_entropy",)),
    Spec("Tensor.flatten", lambda x, s, e: x.flatten(s, e),
         [(T, lambda: mg.tensor(tensor_data(2, 3, 4))), ("axis", lambda: 1), ("axis", lambda: 2)],
         shape_reference(flatten_numpy), ("flatten",)),
    Spec("Tensor.unsqueeze", lambda x, d: x.unsqueeze(d),
         [(T, lambda: mg.tensor(tensor_data(2, 3))), ("axis", lambda: 1)],
         shape_reference(lambda x, d: np.expand_dims(x, d)), ("unsqueeze",)),
    Spec("Tensor.reshape", lambda x, a, b: x.reshape(a, b),
         [(T, lambda: mg.tensor(tensor_data(2, 3))), ("size", lambda: 3), ("size", lambda: 2)],
         shape_reference(lambda x, a, b: x.reshape(a, b)), ("reshape",)),
    Spec("mg.cat", lambda ts, d: mg.cat(ts, dim=d),
         [("tensors", lambda: [mg.tensor(tensor_data(2, 3)), mg.tensor(tensor_data(1, 3))]),
          ("axis", lambda: 0)], join_reference(np.concatenate), ("cat",)),
    Spec("mg.stack", lambda ts, d: mg.stack(ts, dim=d),
         [("tensors", lambda: [mg.tensor(tensor_data(2, 3)), mg.tensor(tensor_data(2, 3))]),
          ("axis", lambda: 1)], join_reference(np.stack), ("stack",)),
    Spec("mg.pad", mg.pad, [(T, lambda: mg.tensor(tensor_data(2, 3))), ("size", lambda: 1)],
         lambda x, w: np.pad(x, w) if isinstance(x, np.ndarray) and np.asarray(w).dtype.kind
         in "iu" and (np.asarray(w) >= 0).all() else refuse(),
         ("pad",)),
    *[Spec(f"mg.{n}", getattr(mg, n), [("size", lambda: 2), ("size", lambda: 3)],
           factory_reference(fill), (n, "shape", "size", "dimension"))
      for n, fill in (("zeros", 0.0), ("ones", 1.0))],
    Spec("init.constant_", lambda t, v: init.constant_(t, v).data,
         [(T, lambda: mg.zeros(2, 3)), ("number", lambda: 0.5)],
         lambda t, v: np.full(t.shape, np.asarray(v), t.dtype) if (is_number(v) or (
             isinstance(v, np.ndarray) and v.size == 1)) and isinstance(t, np.ndarray)
         else refuse(), ("constant_",)),
    Spec("Tensor.astype", lambda x, d: x.astype(d), [(T, lambda: mg.tensor(tensor_data(3))),
                                                     ("dtype", lambda: np.float64)],
         lambda x, d: x.astype(np.dtype(d)) if d is not None and np.dtype(d).kind in "biuf"
         and np.dtype(d).fields is None else refuse(), ("astype",)),
]


# Layers, functional forms, factories and initialisers: the same rules, more names.
def image():
    return mg.tensor(tensor_data(1, 2, 4, 4))


def pool_numpy(reduce):
    def reference(x, k):
        if not isinstance(x, np.ndarray) or x.dtype.kind != "f" or x.ndim != 4 or not is_int(k):
            refuse()
        n, c, h, w = x.shape
        if k < 1 or k > h or k > w:
            raise ValueError("kernel")
        x = x[:, :, :h // k * k, :w // k * k].reshape(n, c, h // k, k, w // k, k)
        return reduce(x, axis=(3, 5))
    return reference


def norm_numpy(axes):
    def reference(x):
        if not isinstance(x, np.ndarray) or x.dtype.kind != "f" or x.ndim < 2:
            refuse()
        if x.size // x.shape[1] <= 1 and axes == (0,):
            raise ValueError("one value per channel")
        with np.errstate(all="ignore"):
            return (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(
                x.var(axis=axes, keepdims=True) + 1e-5)
    return reference


def activation(name, function):
    return np_only(function) if name != "relu" else np_only(lambda x: np.maximum(x, 0))


ACTIVATIONS = {"relu": lambda x: np.maximum(x, 0), "tanh": np.tanh,
               "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
               "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x)}
float_only = {"relu": False, "tanh": True, "sigmoid": True, "leaky_relu": False}


def strict_float(function):
    def reference(x, *rest):
        if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
            refuse()
        with np.errstate(all="ignore"):
            return function(x, *rest)
    return reference


def masked_fill_numpy(x, value):
    """PyTorch's rules: a number or a 0-d value in x's dtype, which must hold it (PyTorch
    refuses a value that overflows the dtype)."""
    mask = np.array([True, False, True])
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf":
        refuse()
    value = value if is_number(value) else value if (
        isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf"
    ) else refuse()
    number = float(value)
    if x.dtype.kind in "iu" and not (np.isfinite(number) and np.iinfo(x.dtype).min
                                     <= math.trunc(number) <= np.iinfo(x.dtype).max):
        refuse()
    if x.dtype.kind == "f" and np.isfinite(number) and abs(number) > float(np.finfo(x.dtype).max):
        refuse()
    with np.errstate(all="ignore"):
        return np.where(mask, np.asarray(value).astype(x.dtype), x)


def initialiser(name):
    return lambda t: getattr(init, name)(t).data


SPECS += [
    *[Spec(f"F.{n}", getattr(F, n), [(T, lambda: mg.tensor(tensor_data(3, 4)))],
           np_only(f), (n,)) for n, f in ACTIVATIONS.items()],
    *[Spec(f"nn.{cls}", layer_call(getattr(nn, cls)), [(T, lambda: mg.tensor(tensor_data(3, 4)))],
           np_only(ACTIVATIONS[n]), (n, cls)) for cls, n in (("ReLU", "relu"), ("Tanh", "tanh"),
                                                              ("Sigmoid", "sigmoid"),
                                                              ("LeakyReLU", "leaky_relu"))],
    Spec("nn.Identity", layer_call(nn.Identity), [(T, lambda: mg.tensor(tensor_data(3)))],
         lambda x: x, ("Identity",)),
    Spec("nn.Flatten", layer_call(nn.Flatten), [(T, lambda: mg.tensor(tensor_data(2, 3, 4)))],
         lambda x: x.reshape(x.shape[0], math.prod(x.shape[1:])) if isinstance(x, np.ndarray)
         and x.ndim >= 2 else refuse(), ("flatten", "Flatten")),
    Spec("nn.Softmax", lambda x, d: nn.Softmax(dim=d)(x),
         [(T, lambda: mg.tensor(tensor_data(2, 3))), ("axis", lambda: 1)],
         strict_float(softmax_numpy), ("softmax", "Softmax")),
    Spec("nn.LogSoftmax", lambda x, d: nn.LogSoftmax(dim=d)(x),
         [(T, lambda: mg.tensor(tensor_data(2, 3))), ("axis", lambda: 1)],
         strict_float(lambda x, d: np.log(softmax_numpy(x, d))), ("log_softmax", "LogSoftmax")),
    Spec("nn.MSELoss", lambda x, t: nn.MSELoss()(x, t),
         [(T, lambda: mg.tensor(tensor_data(4))), ("target", lambda: tensor_data(4, seed=3))],
         mse_numpy, ("mse_loss", "MSELoss")),
    Spec("nn.CrossEntropyLoss", lambda x, t: nn.CrossEntropyLoss()(x, t),
         [(T, lambda: mg.tensor(tensor_data(4, 3))), ("labels", lambda: np.array([0, 2, 1, 1]))],
         cross_entropy_numpy, ("cross_entropy", "CrossEntropyLoss")),
    Spec("F.max_pool2d", F.max_pool2d, [(T, image), ("size", lambda: 2)],
         pool_numpy(np.max), ("max_pool2d",)),
    Spec("F.avg_pool2d", F.avg_pool2d, [(T, image), ("size", lambda: 2)],
         pool_numpy(np.mean), ("avg_pool2d",)),
    Spec("nn.MaxPool2d", lambda x, k: nn.MaxPool2d(k)(x), [(T, image), ("size", lambda: 2)],
         pool_numpy(np.max), ("max_pool2d", "MaxPool2d")),
    Spec("nn.AvgPool2d", lambda x, k: nn.AvgPool2d(k)(x), [(T, image), ("size", lambda: 2)],
         pool_numpy(np.mean), ("avg_pool2d", "AvgPool2d")),
    Spec("nn.Conv2d", layer_call(nn.Conv2d, 2, 3, 3), [(T, image)],
         lambda x: np.zeros((1, 3, 2, 2)) * x.sum() if isinstance(x, np.ndarray)
         and x.dtype == np.float32 and x.shape == (1, 2, 4, 4) else refuse(),
         ("conv2d", "Conv2d"), shape_only=True),
    Spec("F.batch_norm", lambda x: F.batch_norm(x, None, None, training=True),
         [(T, lambda: mg.tensor(tensor_data(4, 3)))], norm_numpy((0,)), ("batch_norm",)),
    Spec("nn.BatchNorm1d", layer_call(nn.BatchNorm1d, 3),
         [(T, lambda: mg.tensor(tensor_data(4, 3)))],
         lambda x: norm_numpy((0,))(x) if x.ndim in (2, 3) and x.shape[1] == 3 else refuse(),
         ("batch_norm", "BatchNorm1d")),
    Spec("F.layer_norm", lambda x: F.layer_norm(x, 4), [(T, lambda: mg.tensor(tensor_data(3, 4)))],
         lambda x: norm_numpy((-1,))(x) if x.shape[-1:] == (4,) else refuse(), ("layer_norm",)),
    Spec("nn.LayerNorm", layer_call(nn.LayerNorm, 4), [(T, lambda: mg.tensor(tensor_data(3, 4)))],
         lambda x: norm_numpy((-1,))(x) if x.shape[-1:] == (4,) else refuse(),
         ("layer_norm", "LayerNorm")),
    Spec("mg.full", lambda n, v: mg.full((2, n), v), [("size", lambda: 3), ("number", lambda: 1.5)],
         lambda n, v: full_numpy((2, n), v) if is_int(n) and 0 <= n <= 10**6 else refuse(),
         ("full",)),
    Spec("mg.full_like", mg.full_like, [(T, lambda: mg.tensor(tensor_data(2, 3))),
                                        ("number", lambda: 1.5)],
         lambda x, v: full_numpy(x.shape, v, x.dtype) if isinstance(x, np.ndarray) else refuse(),
         ("full_like",)),
    Spec("mg.zeros_like", mg.zeros_like, [(T, lambda: mg.tensor(tensor_data(2, 3)))],
         lambda x: np.zeros_like(x) if isinstance(x, np.ndarray) else refuse(), ("zeros_like",)),
    Spec("mg.ones_like", mg.ones_like, [(T, lambda: mg.tensor(tensor_data(2, 3)))],
         lambda x: np.ones_like(x) if isinstance(x, np.ndarray) else refuse(), ("ones_like",)),
    *[Spec(f"init.{n}", initialiser(n),
           [(T, lambda: mg.zeros(2, 3))],
           lambda t, fill=fill: fill(t) if isinstance(t, np.ndarray) else refuse(), (n,))
      for n, fill in (("ones_", np.ones_like), ("zeros_", np.zeros_like),
                      ("eye_", lambda t: np.eye(*t.shape, dtype=t.dtype) if t.ndim == 2
                       else refuse()))],
    *[Spec(f"init.{n}", initialiser(n),
           [(T, lambda: mg.zeros(4, 3))],
           lambda t: np.zeros(t.shape) if isinstance(t, np.ndarray) and t.dtype.kind == "f"
           and t.ndim >= 2 else refuse(), (n,), shape_only=True)  # empty: a no-op, as PyTorch
      for n in ("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                "orthogonal_")],
]



def gelu_numpy(x):
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return x * 0.5 * (1 + erf(x / math.sqrt(2)))


def nll_numpy(log_probs, target):
    if not isinstance(log_probs, np.ndarray) or log_probs.dtype.kind != "f" or log_probs.ndim != 2:
        refuse()
    target = np.asarray(target)
    if target.dtype.kind not in "iu" or target.shape != log_probs.shape[:1]:
        refuse()
    if ((target < 0) | (target >= log_probs.shape[1])).any():
        raise ValueError("class")
    return -log_probs[np.arange(len(target)), target].mean()


def bce_numpy(logits):
    if torch is not None:  # PyTorch's own NaN/Inf behaviour is the oracle
        function = (torch.nn.functional.binary_cross_entropy_with_logits if logits
                    else torch.nn.functional.binary_cross_entropy)

        def torch_reference(x, target):
            if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
                refuse()
            target = np.asarray(target, dtype=x.dtype)
            if target.shape != x.shape:
                raise ValueError("shape")
            return function(torch.from_numpy(x.copy()), torch.from_numpy(target)).numpy()
        return torch_reference

    def reference(x, target):
        if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
            refuse()
        target = np.asarray(target, dtype=np.float64)
        if target.shape != x.shape:
            raise ValueError("shape")
        if not logits and ((x < 0) | (x > 1)).any():
            raise ValueError("probabilities")
        with np.errstate(all="ignore"):
            x = x.astype(np.float64)
            if logits:  # PyTorch's stable form, so that +-inf logits give what torch gives
                shift = np.maximum(-x, 0)
                return ((1 - target) * x + shift
                        + np.log(np.exp(-shift) + np.exp(-x - shift))).mean()
            return -(target * np.maximum(np.log(x), -100)
                     + (1 - target) * np.maximum(np.log(1 - x), -100)).mean()
    return reference


def one_hot_numpy(indices, classes):
    indices = np.asarray(indices)
    if classes == -1 and indices.size:  # PyTorch: one more than the largest index
        classes = int(indices.max()) + 1
    if indices.dtype.kind not in "iu" or not is_int(classes) or classes < 1:
        refuse()
    if (indices < 0).any() or (indices >= classes).any():
        raise ValueError("class")
    return np.eye(classes, dtype=np.int64)[indices]


def embedding_numpy(indices, weight):
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu" or not isinstance(weight, np.ndarray) or weight.ndim != 2:
        refuse()
    if (indices < 0).any() or (indices >= len(weight)).any():
        raise ValueError("index")
    return weight[indices]


PROBABILITIES = np.array([0.2, 0.9, 0.5, 0.1], np.float32)
SPECS += [
    Spec("F.gelu", F.gelu, [(T, lambda: mg.tensor(tensor_data(3, 4)))], strict_float(gelu_numpy),
         ("gelu",)),
    Spec("nn.GELU", layer_call(nn.GELU), [(T, lambda: mg.tensor(tensor_data(3, 4)))],
         strict_float(gelu_numpy), ("gelu", "GELU")),
    Spec("F.nll_loss", F.nll_loss, [(T, lambda: mg.tensor(tensor_data(4, 3))),
                                    ("labels", lambda: np.array([0, 2, 1, 1]))],
         nll_numpy, ("nll_loss",)),
    Spec("nn.NLLLoss", lambda x, t: nn.NLLLoss()(x, t),
         [(T, lambda: mg.tensor(tensor_data(4, 3))), ("labels", lambda: np.array([0, 2, 1, 1]))],
         nll_numpy, ("nll_loss", "NLLLoss")),
    Spec("F.binary_cross_entropy", F.binary_cross_entropy,
         [(T, lambda: mg.tensor(PROBABILITIES)), ("target", lambda: np.array([0, 1, 1, 0.0]))],
         bce_numpy(logits=False), ("binary_cross_entropy",)),
    Spec("nn.BCELoss", lambda x, t: nn.BCELoss()(x, t),
         [(T, lambda: mg.tensor(PROBABILITIES)), ("target", lambda: np.array([0, 1, 1, 0.0]))],
         bce_numpy(logits=False), ("binary_cross_entropy", "BCELoss")),
    Spec("F.binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
         [(T, lambda: mg.tensor(tensor_data(4))), ("target", lambda: np.array([0, 1, 1, 0.0]))],
         bce_numpy(logits=True), ("binary_cross_entropy_with_logits",)),
    Spec("nn.BCEWithLogitsLoss", lambda x, t: nn.BCEWithLogitsLoss()(x, t),
         [(T, lambda: mg.tensor(tensor_data(4))), ("target", lambda: np.array([0, 1, 1, 0.0]))],
         bce_numpy(logits=True), ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss")),
    Spec("F.one_hot", F.one_hot, [("labels", lambda: np.array([0, 2, 1, 1])),
                                  ("size", lambda: 3)], one_hot_numpy, ("one_hot",)),
    Spec("F.embedding", F.embedding, [("labels", lambda: np.array([0, 2, 1, 1])),
                                      ("weight", lambda: nn.Parameter(tensor_data(3, 2)))],
         embedding_numpy, ("embedding",)),
    Spec("nn.Embedding", lambda i: nn.Embedding(3, 2)(i),
         [("labels", lambda: np.array([0, 2, 1, 1]))],
         lambda i: np.zeros(np.shape(i) + (2,)) if embedding_numpy(i, np.zeros((3, 2)))
         is not None else None, ("embedding", "Embedding"), shape_only=True),
]


# Public names tested elsewhere, each with where and why.
SPECS += [
    # PyTorch habits (tests/test_pytorch_habits2.py has their own refusal tests too)
    Spec("F.silu", F.silu, [(T, lambda: mg.tensor(tensor_data(3, 4)))],
         strict_float(lambda x: x / (1 + np.exp(-x))), ("silu",)),
    Spec("nn.SiLU", layer_call(nn.SiLU), [(T, lambda: mg.tensor(tensor_data(3, 4)))],
         strict_float(lambda x: x / (1 + np.exp(-x))), ("silu",)),
    Spec("mg.eye", mg.eye, [("size", lambda: 3)],
         lambda n: np.eye(n, dtype=np.float32) if is_int(n) and 0 <= n <= 10**4 else refuse(),
         ("eye",)),
    Spec("mg.linspace", lambda n: mg.linspace(-1, 2, n), [("size", lambda: 4)],
         lambda n: np.linspace(-1, 2, n).astype(np.float32) if is_int(n) and 0 <= n <= 10**6
         else refuse(), ("linspace",)),
    Spec("Tensor.t", lambda x: x.t(), [(T, lambda: mg.tensor(tensor_data(2, 3)))],
         lambda x: x.T if isinstance(x, np.ndarray) and x.ndim <= 2 else refuse(), ("t:",)),
    Spec("Tensor.repeat", lambda x, n: x.repeat(n, 2),
         [(T, lambda: mg.tensor(tensor_data(2, 3))), ("size", lambda: 2)],
         lambda x, n: np.tile(x, (n, 2)) if is_int(n) and 0 <= n <= 10**4 and x.ndim <= 2
         else refuse(), ("repeat",)),
    Spec("Tensor.masked_fill", lambda x, v: x.masked_fill(mg.tensor([True, False, True]), v),
         [(T, lambda: mg.tensor(tensor_data(2, 3))), ("number", lambda: -1.5)],
         masked_fill_numpy, ("masked_fill",)),
    # round 12's orders, running sums and triangles, against PyTorch (NumPy without it)
    Spec("mg.flip", mg.flip, [(T, lambda: mg.tensor(tensor_data(2, 3))), ("axis", lambda: 1)],
         torch_any(lambda x, d: torch.flip(x, d if isinstance(d, list) else [int_only(d)]),
                   lambda x, d: np.flip(x, d if isinstance(d, list) else int_only(d))),
         ("flip",)),
    Spec("mg.roll", mg.roll, [(T, lambda: mg.tensor(tensor_data(2, 3))), ("size", lambda: 2),
                              ("axis", lambda: 1)],
         torch_any(lambda x, s, d: torch.roll(x, int_or_list(s), int_or_list(d, True)),
                   lambda x, s, d: np.roll(x, int_or_list(s), int_or_list(d, True))),
         ("roll",)),
    Spec("mg.cumsum", mg.cumsum, [(T, lambda: mg.tensor(tensor_data(2, 3))), ("axis", lambda: 1)],
         torch_any(lambda x, d: torch.cumsum(x, int_only(d)),
                   lambda x, d: np.cumsum(x, int_only(d))), ("cumsum",)),
    Spec("mg.logsumexp", mg.logsumexp, [(T, lambda: mg.tensor(tensor_data(2, 3))),
                                        ("axis", lambda: 1)],
         torch_any(lambda x, d: torch.logsumexp(x, d if isinstance(d, list) else int_only(d)),
                   None), ("logsumexp",)),
    Spec("mg.sort", lambda x, d: mg.sort(x, d).values,
         [(T, lambda: mg.tensor(tensor_data(2, 3))), ("axis", lambda: 1)],
         torch_any(lambda x, d: torch.sort(x, int_only(d)).values,
                   lambda x, d: np.sort(x, int_only(d))), ("sort",)),
    Spec("mg.argsort", mg.argsort, [(T, lambda: mg.tensor(tensor_data(2, 3))),
                                    ("axis", lambda: 1)],
         torch_any(lambda x, d: torch.argsort(x, dim=int_only(d), stable=True),
                   lambda x, d: np.argsort(x, int_only(d), kind="stable")), ("argsort",)),
    Spec("mg.topk", lambda x, k: mg.topk(x, k).values,
         [(T, lambda: mg.tensor(tensor_data(2, 3))), ("size", lambda: 2)],
         torch_any(lambda x, k: torch.topk(x, int_only(k)).values, None), ("topk",)),
    Spec("mg.tril", mg.tril, [(T, lambda: mg.tensor(tensor_data(2, 3))), ("size", lambda: 1)],
         torch_any(lambda x, k: torch.tril(x, int_only(k)),
                   lambda x, k: np.tril(x, int_only(k)) if x.ndim >= 2 else refuse()),
         ("tril",)),
    Spec("mg.triu", mg.triu, [(T, lambda: mg.tensor(tensor_data(2, 3))), ("size", lambda: 0)],
         torch_any(lambda x, k: torch.triu(x, int_only(k)),
                   lambda x, k: np.triu(x, int_only(k)) if x.ndim >= 2 else refuse()),
         ("triu",)),
    Spec("mg.repeat_interleave", mg.repeat_interleave,
         [(T, lambda: mg.tensor(tensor_data(2, 3))), ("size", lambda: 2)],
         torch_any(lambda x, n: torch.repeat_interleave(
             x, torch.tensor(n) if isinstance(n, list) else int_only(n)),
             lambda x, n: np.repeat(x.reshape(-1), n if isinstance(n, list) else int_only(n))),
         ("repeat_interleave",)),
]


def robust_loss_numpy(loss):
    """A reference for l1/smooth l1/huber: mse_numpy's argument rules, `loss` of the error."""
    def reference(x, target):
        mse_numpy(x, target)  # refuses what mse_loss refuses (non-float input, shapes)
        with np.errstate(all="ignore"):
            return loss(x - np.asarray(target, dtype=x.dtype)).mean()
    return reference


def normalize_numpy(x, dim):
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f" or not is_int(dim) \
            or not -x.ndim <= dim < x.ndim:
        refuse()
    with np.errstate(all="ignore"):
        return x / np.maximum(np.sqrt((x * x).sum(axis=dim, keepdims=True)), 1e-12)


def smooth_l1(d, beta=1.0):
    return np.where(np.abs(d) < beta, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)


# Round 12's PyTorch habits (tests/nn/test_pytorch_habits3_nn.py has their own refusal tests)
SPECS += [
    *[Spec(name, call, [(T, lambda: mg.tensor(tensor_data(4))),
                        ("target", lambda: tensor_data(4, seed=3))],
           robust_loss_numpy(loss), words)
      for name, call, loss, words in (
          ("F.l1_loss", F.l1_loss, np.abs, ("l1_loss",)),
          ("nn.L1Loss", lambda x, t: nn.L1Loss()(x, t), np.abs, ("l1_loss", "L1Loss")),
          ("F.smooth_l1_loss", F.smooth_l1_loss, smooth_l1, ("smooth_l1_loss",)),
          ("nn.SmoothL1Loss", lambda x, t: nn.SmoothL1Loss()(x, t), smooth_l1,
           ("smooth_l1_loss", "SmoothL1Loss")),
          ("F.huber_loss", lambda x, t: F.huber_loss(x, t, delta=2.0),
           lambda d: 2.0 * smooth_l1(d, 2.0), ("huber_loss",)),
          ("nn.HuberLoss", lambda x, t: nn.HuberLoss(delta=2.0)(x, t),
           lambda d: 2.0 * smooth_l1(d, 2.0), ("huber_loss", "HuberLoss")))],
    Spec("F.normalize", lambda x, d: F.normalize(x, dim=d),
         [(T, lambda: mg.tensor(tensor_data(3, 4))), ("axis", lambda: 1)],
         normalize_numpy, ("normalize",)),
]


# Specs whose only reference is PyTorch, when it is not installed: their names count as
# covered (their own refusal tests, tests/test_pytorch_habits3.py, run without torch), and
# they run wherever torch is (as in CI). A reference that refused everything instead made
# every valid call of them a failure without torch.
NEEDS_TORCH = {spec.name for spec in SPECS if spec.reference is None}
SPECS = [spec for spec in SPECS if spec.reference is not None]

SKIPPED = {
    # Exceptions and context managers: no data arguments to get wrong (tests/test_autograd.py).
    "mg.AnomalyError", "mg.GradcheckError", "mg.no_grad", "mg.enable_grad", "mg.detect_anomaly",
    "mg.is_grad_enabled", "mg.retain_grads", "mg.set_grad_enabled", "mg.inference_mode",
    # Checkpoints: tests/test_serialization.py, test_checkpoint_fuzz.py, test_checkpoint_crash.py.
    "mg.save", "mg.load",
    # Construction and seeding: tests/test_tensor.py (dtype rules, refusals of non-numbers).
    "mg.Tensor", "mg.tensor", "mg.from_numpy", "mg.randn", "mg.rand", "mg.arange",
    "mg.manual_seed", "mg.default_generator",
    # The PyTorch habits with their own refusal tests: tests/test_pytorch_habits2.py (randint
    # draws random numbers; device takes names, not data; einsum takes an equation string).
    # split and chunk: the same functions as x.split / x.chunk (tests/test_pytorch_habits2.py).
    "mg.randint", "mg.device", "mg.einsum", "mg.split", "mg.chunk",
    # Value (scalar engine, floats only): tests/test_value.py; gradcheck: tests/test_gradcheck.py;
    # matmul and where: tests/test_ops.py and test_tensor.py (broadcasting and dtype rules).
    "mg.Value", "mg.gradcheck", "mg.matmul", "mg.where",
    # Containers and modules without data arguments of their own: tests/nn/test_module.py,
    # test_module_names.py (names), test_layers.py.
    "nn.Module", "nn.Parameter", "nn.Sequential", "nn.Dropout", "F.dropout",
    # Each has its own refusal tests in tests/nn/ (test_conv.py, test_normalization*.py,
    # test_layers.py); fold_batchnorm needs a trained model pair (tests/nn/test_layers.py).
    "nn.AdaptiveAvgPool2d", "F.adaptive_avg_pool2d", "F.conv2d", "nn.BatchNorm2d",
    "nn.GroupNorm", "F.group_norm", "nn.fold_batchnorm",
    # Initialisers with distribution arguments: tests/nn/test_init.py checks PyTorch's messages
    # for each; lsuv_ needs a model and a batch: tests/nn/test_lsuv.py.
    "init.calculate_gain", "init.uniform_", "init.normal_", "init.trunc_normal_", "init.dirac_",
    "init.sparse_", "init.lsuv_", "init.LSUVRecord",
    # Containers of modules: tests/nn/test_containers.py; ParameterList (no data arguments:
    # its refusals of non-tensors) and F.pad (a pad tuple, not a kind of this table: its
    # refusals, checked against PyTorch's): tests/nn/test_pytorch_habits3_nn.py.
    "nn.ModuleList", "nn.ModuleDict", "nn.ParameterList", "F.pad",
    # Optimisers: tests/test_optim.py; datasets and loaders: tests/test_data.py.
    "optim.Optimizer", "optim.SGD", "optim.Adam", "optim.AdamW", "optim.RMSprop",
    "optim.Adagrad",  # tests/test_optim_adagrad.py
    "data.make_moons", "data.make_spirals", "data.batches", "data.DataLoader",
    "data.TensorDataset", "data.default_collate", "data.from_numpy",
    # random_split and Subset: tests/test_factories_habits.py.
    "data.random_split", "data.Subset",
    # The visualiser reads graphs and never computes: hostile labels, dtypes, roots and sizes
    # are tested in tests/viz/ (test_graph.py, test_explorer.py, test_recorder.py).
    "viz.Explorer", "viz.GradientFlowRecorder", "viz.GraphvizNotFoundError",
    "viz.GradientGraph", "viz.GraphvizTimeoutError",  # test_graph_options.py
    "viz.TrainingDiagnostics", "viz.draw_graph", "viz.explore", "viz.render", "viz.save",
} | NEEDS_TORCH
