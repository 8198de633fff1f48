"""Weight initialisers: PyTorch's ``torch.nn.init`` (names, formulas, defaults, errors) and LSUV.

Every function fills a `Tensor` (or `Parameter`) **in place** and returns it. It writes the
tensor's own array (so its dtype and shape are kept, and ``detach()`` views see the new
values, as in PyTorch) and records no graph: initialising is not part of the model's
computation. A read-only array (an ``expand`` view, whose elements share memory) is refused
with a ValueError: giving the view a new array would leave the tensor it views unchanged.
Every random one takes ``generator``, a `numpy.random.Generator`; ``None`` uses minigrad's
default one, so ``minigrad.manual_seed(s)`` makes initialisation repeatable.

The variance-preserving schemes, and where their formulas come from:

* Glorot & Bengio 2010, "Understanding the difficulty of training deep feedforward neural
  networks", eq. 16: Var(W) = 2 / (fan_in + fan_out), i.e. U[±√6/√(fan_in + fan_out)]
  (`xavier_uniform_`, `xavier_normal_`).
* He et al. 2015, "Delving deep into rectifiers", eq. 10: Var(W) = 2 / fan_in for ReLU,
  with fan_in = k²·c for a convolution (`kaiming_uniform_`, `kaiming_normal_`).
* Saxe et al. 2013, "Exact solutions to the nonlinear dynamics of learning in deep linear
  neural networks": random orthogonal weights (`orthogonal_`).
* Mishkin & Matas 2015, "All you need is a good init", Algorithm 1: layer-sequential
  unit-variance initialisation driven by a batch of data (`lsuv_`, not in PyTorch).

A uniform distribution U(−bound, bound) has std = bound/√3, so every "uniform" variant uses
bound = √3·std of its "normal" twin.
"""

from __future__ import annotations

import math
import numbers
import warnings
from statistics import NormalDist
from typing import Any

import numpy as np

from minigrad.tensor import Tensor, default_generator

__all__ = [
    "LSUVRecord", "calculate_gain", "constant_", "dirac_", "eye_", "kaiming_normal_",
    "kaiming_uniform_", "lsuv_", "normal_", "ones_", "orthogonal_", "sparse_", "trunc_normal_",
    "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_",
]

# -- shared checks and the one place that writes -------------------------------------------


def _check_tensor(tensor: Any, op: str, random: bool = False, writes: bool = True) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a minigrad Tensor or Parameter, got "
                        f"{type(tensor).__name__}. Fix: wrap the array with minigrad.tensor(...).")
    if random and tensor.dtype.kind != "f":
        raise TypeError(f"{op}: random values need a floating-point tensor, got dtype "
                        f"{tensor.dtype} (shape {tensor.shape}). Fix: create it as float32/64.")
    if writes and not tensor.data.flags.writeable:  # before drawing any random numbers
        _refuse_read_only(tensor, op)
    return tensor


def _refuse_read_only(tensor: Tensor, op: str) -> None:
    """An initialiser cannot fill a read-only array in place. Giving the tensor a new array
    instead (as minigrad once did) silently leaves the tensor it is a view of unchanged:
    ``ones_(w[0:1].expand(3, 4))`` did not touch ``w``. PyTorch refuses the random
    initialisers on such a view (RuntimeError) but lets the constant ones (`ones_`, `zeros_`,
    `constant_`) write through to the shared elements; minigrad refuses them all alike."""
    if any(step == 0 and size > 1 for step, size in zip(tensor.data.strides, tensor.shape)):
        raise ValueError(f"{op}: the tensor (shape {tensor.shape}) is a view whose elements "
                         f"share memory (made by expand or broadcasting), so they cannot be "
                         f"written one by one. Fix: initialise the tensor it was expanded "
                         f"from, or initialise a copy: {op}(t.clone()).")
    raise ValueError(f"{op}: the tensor's array (shape {tensor.shape}) is read-only (e.g. "
                     f"from_numpy of a read-only NumPy array), so it cannot be filled in "
                     f"place. Fix: initialise a copy: {op}(t.clone()).")


def _generator(generator: np.random.Generator | None, op: str) -> np.random.Generator:
    if generator is None:
        return default_generator()  # looked up per call: manual_seed replaces it
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"{op}: generator must be a numpy.random.Generator or None, got "
                        f"{type(generator).__name__}. Fix: pass numpy.random.default_rng(seed).")
    return generator


def _write(tensor: Tensor, values: Any, op: str = "init") -> Tensor:
    """Copy `values` into the tensor's own array, converted to its dtype (a read-only
    array is refused: see `_refuse_read_only`)."""
    if not tensor.data.flags.writeable:
        _refuse_read_only(tensor, op)
    tensor.data[...] = values
    # The same array back records the in-place write (as PyTorch's version counter):
    # a graph that saved the old values then refuses its backward instead of silently
    # using the new ones.
    tensor.data = tensor.data
    return tensor


def _check_std(std: float, op: str) -> None:
    if not std >= 0:
        raise ValueError(f"{op}: std must be >= 0, got {std}. Fix: pass a non-negative std.")


# -- fans and gains -------------------------------------------------------------------------


def _calculate_fan_in_and_fan_out(tensor: Tensor, op: str = "init") -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape ``(out, in, *kernel)``.

    fan_in = in · receptive field and fan_out = out · receptive field, where the receptive
    field is the product of the kernel sizes (1 for a Linear weight ``(out, in)``).
    """
    _check_tensor(tensor, op, writes=False)
    if tensor.ndim < 2:
        raise ValueError(f"{op}: Fan in and fan out can not be computed for tensor with fewer "
                         f"than 2 dimensions (got shape {tensor.shape}). Fix: use a weight of "
                         "shape (out_features, in_features) or (out_channels, in_channels, "
                         "*kernel).")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str, op: str = "init") -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, op)
    return fan_in if mode == "fan_in" else fan_out


_GAIN_ONE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
             "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain (std multiplier) for a nonlinearity, PyTorch's table:

    linear, conv*, conv_transpose*, sigmoid → 1;  tanh → 5/3;  relu → √2;
    leaky_relu → √(2 / (1 + slope²)) with slope = `param` (default 0.01);  selu → 3/4.

    √2 for ReLU is He et al. 2015 (eq. 10: ReLU halves the second moment); the leaky form
    is their eq. 15 generalised. 5/3 (tanh) and 3/4 (selu) are PyTorch's values, from the
    table in its ``calculate_gain`` documentation, which derives neither. Of SELU's it says
    that 3/4 gives up the self-normalising fixed point for steadier gradients in rectangular
    layers: for a self-normalising network (Klambauer et al. 2017) use 'linear' (gain 1).
    """
    if nonlinearity in _GAIN_ONE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            negative_slope = float(param)
        else:
            raise ValueError(f"negative_slope {param} not a valid number. Fix: pass a float "
                             "such as 0.01 (or None for the default).")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}. Fix: use one of "
                     f"{', '.join(_GAIN_ONE)}, tanh, relu, leaky_relu, selu.")


# -- plain distributions and constants ------------------------------------------------------


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: np.random.Generator | None = None) -> Tensor:
    """Fill `tensor` (any shape) with samples of U(a, b)."""
    _check_tensor(tensor, "uniform_", random=True)
    if a > b:
        raise ValueError(f"uniform_: expects a <= b, but found a={a} > b={b}. Fix: swap them.")
    return _write(tensor, _generator(generator, "uniform_").uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: np.random.Generator | None = None) -> Tensor:
    """Fill `tensor` (any shape) with samples of N(mean, std²)."""
    _check_tensor(tensor, "normal_", random=True)
    _check_std(std, "normal_")
    return _write(tensor, _generator(generator, "normal_").normal(mean, std, size=tensor.shape))


def _standard_normal_cdf(z: float) -> float:
    # Φ(z) = erfc(−z/√2)/2: erfc keeps full relative precision far in the lower tail.
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


_standard_normal_quantile = np.frompyfunc(NormalDist().inv_cdf, 1, 1)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: np.random.Generator | None = None) -> Tensor:
    """Fill `tensor` (any shape) with N(mean, std²) truncated to [a, b] (absolute bounds).

    Exact inverse-CDF sampling: with α = (a−mean)/std and β = (b−mean)/std, draw
    p ~ U(Φ(α), Φ(β)) and return mean + std·Φ⁻¹(p). An interval in the upper tail is
    sampled as its mirror image in the lower tail, where Φ and Φ⁻¹ keep their precision, so
    the samples stay exact even when [a, b] lies several std away from the mean.
    """
    _check_tensor(tensor, "trunc_normal_", random=True)
    if not std > 0:
        raise ValueError(f"trunc_normal_: std must be > 0, got {std}. Fix: pass a positive std.")
    if not a < b:
        raise ValueError(f"trunc_normal_: expects a < b, got a={a}, b={b}. Fix: pass a < b.")
    alpha, beta = (a - mean) / std, (b - mean) / std
    mirrored = alpha > 0
    if mirrored:
        alpha, beta = -beta, -alpha
    cdf_alpha, cdf_beta = _standard_normal_cdf(alpha), _standard_normal_cdf(beta)
    if cdf_beta <= cdf_alpha:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] has probability 0 in double "
                         f"precision under N({mean}, {std}²). Fix: bring [a, b] closer to mean.")
    uniform = _generator(generator, "trunc_normal_").random(size=tensor.shape)
    p = cdf_alpha + uniform * (cdf_beta - cdf_alpha)
    tiny = np.finfo(np.float64).tiny
    p = np.clip(p, tiny, 1 - np.finfo(np.float64).eps)  # Φ⁻¹ is finite only inside (0, 1)
    z = np.clip(np.asarray(_standard_normal_quantile(p), dtype=np.float64), alpha, beta)
    samples = mean + std * (-z if mirrored else z)
    # Rounding (to float32, say) must not step outside [a, b].
    return _write(tensor, np.clip(samples.astype(tensor.dtype), a, b))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill `tensor` (any shape) with the value `val`."""
    if isinstance(val, Tensor) and val.data.size == 1:
        val = val.item()
    if not isinstance(val, int | float | np.number):  # None would fill NaN, a str would crash
        raise TypeError(f"constant_: val must be a number, got {type(val).__name__} "
                        f"{val!r:.40}. Fix: e.g. constant_(w, 0.0).")
    return _write(_check_tensor(tensor, "constant_"), val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill `tensor` (any shape) with ones."""
    return _write(_check_tensor(tensor, "ones_"), 1)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill `tensor` (any shape) with zeros."""
    return _write(_check_tensor(tensor, "zeros_"), 0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D `tensor` ``(rows, cols)`` with the identity (ones on the main diagonal),
    which keeps a Linear layer's inputs in its outputs."""
    _check_tensor(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported (eye_ got shape "
                         f"{tensor.shape}). Fix: pass a weight of shape (out, in).")
    rows, columns = tensor.shape
    return _write(tensor, np.eye(rows, columns))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a conv weight ``(out, in, *kernel)`` (3, 4 or 5 dims) with the Dirac delta.

    Within each of `groups` blocks of out/groups output channels, output channel d gets a
    one at input channel d and the kernel centre, so the convolution (padding 'same')
    passes its first min(out/groups, in) input channels through unchanged.
    """
    _check_tensor(tensor, "dirac_")
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"Only tensors with 3, 4, or 5 dimensions are supported (dirac_ got "
                         f"shape {tensor.shape}). Fix: pass a conv weight (out, in, *kernel).")
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"dirac_: groups must be a positive integer, got {groups!r}.")
    if tensor.shape[0] % groups != 0:
        raise ValueError(f"dim 0 must be divisible by groups (dirac_ got {tensor.shape[0]} "
                         f"output channels and groups={groups}). Fix: change groups.")
    out_per_group = tensor.shape[0] // groups
    min_dim = min(out_per_group, tensor.shape[1])
    group, channel = np.meshgrid(np.arange(groups), np.arange(min_dim), indexing="ij")
    centre = tuple(size // 2 for size in tensor.shape[2:])
    values = np.zeros(tensor.shape)
    values[(group * out_per_group + channel, channel, *centre)] = 1
    return _write(tensor, values)


# -- variance-preserving initialisers -------------------------------------------------------


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: np.random.Generator | None = None) -> Tensor:
    """Glorot & Bengio 2010, eq. 16: U(±√3·std) with std = gain·√(2/(fan_in + fan_out)).

    `tensor`: a weight ``(out, in)`` or ``(out, in, *kernel)``.
    """
    _check_tensor(tensor, "xavier_uniform_", random=True)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_uniform_")
    if tensor.data.size == 0:
        return tensor
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: np.random.Generator | None = None) -> Tensor:
    """Glorot & Bengio 2010 (variance of eq. 16): N(0, std²) with
    std = gain·√(2/(fan_in + fan_out)). `tensor`: ``(out, in)`` or ``(out, in, *kernel)``."""
    _check_tensor(tensor, "xavier_normal_", random=True)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_normal_")
    if tensor.data.size == 0:
        return tensor
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator=generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str, op: str) -> float | None:
    _check_tensor(tensor, op, random=True)
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode, op)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: np.random.Generator | None = None) -> Tensor:
    """He et al. 2015, eq. 10: U(±√3·std) with std = gain/√fan, gain = calculate_gain(
    nonlinearity, a). `a` is the negative slope of the leaky ReLU that follows (0: ReLU);
    `mode` 'fan_in' keeps the forward signal's variance, 'fan_out' the backward one.
    `tensor`: ``(out, in)`` or ``(out, in, *kernel)``.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator=generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: np.random.Generator | None = None) -> Tensor:
    """He et al. 2015, eq. 10: N(0, std²) with std = gain/√fan (see `kaiming_uniform_`)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator=generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0,
                generator: np.random.Generator | None = None) -> Tensor:
    """A random (semi-)orthogonal matrix times `gain` (Saxe et al. 2013).

    `tensor` ``(rows, *rest)`` is viewed as a matrix ``(rows, cols)``, cols = prod(rest)
    (a conv weight's kernel is flattened). The result has orthonormal columns
    (QᵀQ = gain²·I) if rows >= cols, else orthonormal rows (QQᵀ = gain²·I). Q comes from the
    QR decomposition of a Gaussian matrix; multiplying each column by the sign of diag(R)
    makes Q uniformly (Haar) distributed — without it QR's sign convention biases Q
    (Mezzadri 2007, "How to generate random matrices from the classical compact groups").
    """
    _check_tensor(tensor, "orthogonal_", random=True)
    if tensor.ndim < 2:
        raise ValueError(f"Only tensors with 2 or more dimensions are supported (orthogonal_ "
                         f"got shape {tensor.shape}). Fix: pass a weight (out, in, ...).")
    if tensor.data.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.data.size // rows
    gaussian = _generator(generator, "orthogonal_").standard_normal((rows, cols))
    if rows < cols:
        gaussian = gaussian.T  # QR a tall matrix: its Q then has orthonormal columns
    q, r = np.linalg.qr(gaussian)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, gain * q.reshape(tensor.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01,
            generator: np.random.Generator | None = None) -> Tensor:
    """Fill a 2-D `tensor` ``(rows, cols)`` with N(0, std²), then zero ceil(sparsity·rows)
    entries of every column, at rows drawn at random for each column (Martens 2010,
    "Deep learning via Hessian-free optimization", sparse initialisation)."""
    _check_tensor(tensor, "sparse_", random=True)
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported (sparse_ got shape "
                         f"{tensor.shape}). Fix: pass a weight of shape (out, in).")
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparse_: sparsity is the fraction of each column set to zero and "
                         f"must lie in [0, 1], got {sparsity}.")
    _check_std(std, "sparse_")
    generator = _generator(generator, "sparse_")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    values = generator.normal(0.0, std, size=(rows, cols))
    row_order = generator.permuted(np.tile(np.arange(rows)[:, None], (1, cols)), axis=0)
    values[row_order[:num_zeros], np.arange(cols)] = 0  # an independent permutation per column
    return _write(tensor, values)


# LSUV is built from the initialisers above, so its file is imported last.
from minigrad.nn.lsuv import LSUVRecord, lsuv_  # noqa: E402
