"""Normalisation ops: batch normalisation twice, and the composed steps every norm shares.

Batch normalisation (Ioffe & Szegedy 2015) is written here in two ways that compute the
same thing; tests/nn/test_normalization.py proves they agree to 1e-10 in float64.

* **Composed** (`standardize`, `batch_norm_composed`): built from primitive tensor ops, so
  the graph holds one named node per step of the paper's Algorithm 1 — ``mean``,
  ``centred``, ``squared``, ``var``, ``std``, ``x_hat``, then ``scaled`` and ``shifted``.
  The engine differentiates it; nothing here needs a hand-derived gradient.
* **Fused** (`BatchNormTrain`, `BatchNormEval`): one node each, with the analytic backward.
  Fewer passes over memory, fewer arrays kept alive: the fast path.

Shapes: ``x`` is ``(N, C)`` or ``(N, C, *)``; every statistic is per channel (axis 1), over
the M = N·∏(*) values of that channel. ``weight`` (γ) and ``bias`` (β) have shape ``(C,)``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.ops.base import Function
from minigrad.tensor import Tensor


# Cached: the fused ops ask for these on every call, with a handful of distinct arguments.
@functools.cache
def channel_axes(ndim: int) -> tuple[int, ...]:
    """The axes a per-channel statistic reduces over: all but axis 1."""
    return (0, *range(2, ndim))


@functools.cache
def channel_shape(ndim: int, channels: int) -> tuple[int, ...]:
    """Shape that makes a ``(C,)`` vector broadcast along axis 1: ``(1, C, 1, ...)``."""
    return (1, channels) + (1,) * (ndim - 2)


def update_running_stats(running_mean: np.ndarray, running_var: np.ndarray,
                         batch_mean: np.ndarray, batch_var: np.ndarray, count: int,
                         momentum: float) -> None:
    """In place: running ← (1 − momentum)·running + momentum·(batch statistic).

    `batch_var` is the biased variance that normalised the batch; the running variance
    receives the unbiased one, batch_var·M/(M − 1), as in Ioffe & Szegedy 2015, Algorithm 2
    (step 10) and PyTorch. Both implementations call this, so they cannot drift apart.
    """
    running_mean *= 1 - momentum
    running_mean += momentum * batch_mean.reshape(running_mean.shape)
    running_var *= 1 - momentum
    running_var += (momentum * count / (count - 1)) * batch_var.reshape(running_var.shape)


def _c_einsum() -> Callable[..., np.ndarray]:
    """NumPy's C einsum, which `np.einsum` calls when not asked to optimise: its Python
    wrapper and __array_function__ dispatcher cost ~1.3 µs a call, as much as the whole sum
    on a (32, 16) batch (BatchNorm sums twice per layer per step). Same function, same
    numbers; `np.einsum` itself if a NumPy version moves it."""
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):  # NumPy >= 2, 1.x
        try:
            return importlib.import_module(module).c_einsum
        except (ImportError, AttributeError):
            continue
    return np.einsum  # pragma: no cover


_einsum = _c_einsum()


def _channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ a·b per channel, without materialising the product a·b (einsum sums as it goes)."""
    if a.ndim == 2:  # (N, C): no reshapes, and einsum's 2-D loop is ~15% quicker
        return _einsum("nc,nc->c", a, b)
    n, c = a.shape[:2]
    return _einsum("ncl,ncl->c", a.reshape(n, c, -1), b.reshape(n, c, -1))


# --------------------------------------------------------------------------------------
# Fused: one op each, analytic backward
# --------------------------------------------------------------------------------------


class _FusedBatchNorm(Function):
    """Shared plumbing: γ and β are optional inputs, so `apply` receives x, then whichever
    of weight and bias exist (``has_weight``/``has_bias`` say which)."""

    def _unpack(self, x, affine, has_weight, has_bias):
        self.has_weight, self.has_bias = has_weight, has_bias
        weight = affine[0] if has_weight else None
        bias = affine[-1] if has_bias else None
        self.axes = channel_axes(x.ndim)
        self.shape = channel_shape(x.ndim, x.shape[1])
        self.dtype = x.dtype
        for array in affine:  # a loop, not np.result_type: this runs on every call
            if array.dtype != x.dtype:  # rare: promote like PyTorch
                self.dtype = np.result_type(x, *affine)
        return weight, bias

    def _grads(self, grad_x, grad_weight, grad_bias):
        """(dx, dγ, dβ), leaving out the parameters that were not given."""
        if self.has_weight and self.has_bias:  # the usual layer
            return grad_x, grad_weight, grad_bias
        return (grad_x, *([grad_weight] if self.has_weight else []),
                *([grad_bias] if self.has_bias else []))


class BatchNormTrain(_FusedBatchNorm):
    """y = γ·x̂ + β with x̂ = (x − μ_B)/√(σ²_B + eps), μ_B and σ²_B (biased) taken from the
    batch itself (Ioffe & Szegedy 2015, Algorithm 1). If running statistics are passed (as
    arrays), they are updated in place (see `update_running_stats`).

    Backward (obtained by differentiating through μ_B and σ²_B, paper §3; simplified):
        dx = γ·invstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)),   dγ = Σ dy·x̂,   dβ = Σ dy
    where every Σ runs over the M values of a channel.

    Speed and memory: x̂ = (x − μ_B)·invstd is never stored as an array of its own. The
    forward centres x into a new array, takes the variance from it, and turns that same
    array into the output (γ·invstd folded into one per-channel coefficient): one
    activation-sized allocation. The op keeps only x (which the graph holds anyway, as
    the node's input) and C-sized statistics; backward centres x again, into the array
    that becomes dx, so no activation-sized array is kept between forward and backward.
    """

    name = "batch_norm"

    def forward(self, x, *affine, has_weight, has_bias, eps, running_mean=None,
                running_var=None, momentum=0.1):
        weight, bias = self._unpack(x, affine, has_weight, has_bias)
        count = x.size // x.shape[1]
        # np.add.reduce is what x.sum() calls, minus a Python wrapper (~1 µs on small arrays)
        mean = np.add.reduce(x, axis=self.axes, keepdims=True)
        mean /= count  # (sum, then divide: what x.mean does, minus its Python overhead)
        centred = x - mean
        var = _channel_dot(centred, centred).reshape(self.shape) / count  # biased, two-pass
        inv_std = 1 / np.sqrt(var + eps)
        if running_mean is not None:
            update_running_stats(running_mean, running_var, mean, var, count, momentum)
        # A copy of γ·invstd (C values): an optimiser step edits γ's array in place.
        scale = inv_std if weight is None else weight.reshape(self.shape) * inv_std
        self.x, self.mean, self.inv_std, self.scale, self.count = x, mean, inv_std, scale, count
        if centred.dtype != self.dtype:  # float32 data with float64 γ: promote like PyTorch
            centred = centred.astype(self.dtype)
        out = np.multiply(centred, scale, out=centred)  # γ·x̂, in the centred array
        if bias is not None:
            out += bias.reshape(self.shape)
        return out

    def backward(self, grad_output):
        inv_std, count, shape = self.inv_std, self.count, self.shape
        # dγ and dβ as (C,) arrays of their own, not views of (1, C, ...) ones: the engine
        # hands a parameter an array it owns as its .grad, and copies a view.
        sum_dy = np.add.reduce(grad_output, axis=self.axes)  # = .sum(), faster
        x = self.x
        if grad_output.dtype is x.dtype or grad_output.dtype == x.dtype:
            grad_x = x - self.mean  # the centred input again (the mean has x's dtype)
        else:  # rare (float64 γ on float32 data): promote
            grad_x = np.subtract(x, self.mean, dtype=np.result_type(x, grad_output))
        sum_dy_x_hat = _channel_dot(grad_output, grad_x) * inv_std.reshape(-1)
        # dx = γ·invstd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M) with x̂ = centred·invstd, built in
        # the array that holds the centred values: five passes over memory, one new array.
        grad_x *= sum_dy_x_hat.reshape(shape) * inv_std / -count
        grad_x += grad_output
        grad_x -= sum_dy.reshape(shape) / count
        grad_x *= self.scale
        # The two sums dx needs are exactly dγ = Σ dy·x̂ and dβ = Σ dy.
        return self._grads(grad_x, sum_dy_x_hat, sum_dy)


class BatchNormEval(_FusedBatchNorm):
    """y = γ·(x − running_mean)/√(running_var + eps) + β: fixed statistics, so y is an
    affine function of x per channel (Ioffe & Szegedy 2015, Algorithm 2, step 11), computed
    as x·scale + shift with scale = γ/√(running_var + eps), shift = β − running_mean·scale.

    Backward: dx = dy·scale,  dγ = Σ dy·x̂,  dβ = Σ dy.
    """

    name = "batch_norm_eval"

    def forward(self, x, *affine, has_weight, has_bias, eps, running_mean, running_var):
        weight, bias = self._unpack(x, affine, has_weight, has_bias)
        # Copies in x's dtype: the buffers may be updated in place before backward runs.
        self.mean = running_mean.astype(x.dtype).reshape(self.shape)
        self.inv_std = 1 / np.sqrt(running_var.astype(x.dtype).reshape(self.shape) + eps)
        self.scale = self.inv_std if weight is None else weight.reshape(self.shape) * self.inv_std
        shift = -self.mean * self.scale
        if bias is not None:
            shift = shift + bias.reshape(self.shape)
        self.x = x
        out = np.multiply(x, self.scale, dtype=self.dtype)
        out += shift
        return out

    def backward(self, grad_output):
        grad_x = grad_output * self.scale
        grad_weight = grad_bias = None
        if self.has_weight:  # dγ = Σ dy·x̂, with x̂ rebuilt from x (not kept since forward)
            grad_weight = _channel_dot(grad_output, (self.x - self.mean) * self.inv_std)
        if self.has_bias:
            grad_bias = grad_output.sum(axis=self.axes)  # dβ = Σ dy
        return self._grads(grad_x, grad_weight, grad_bias)


# --------------------------------------------------------------------------------------
# Composed: primitive ops, one named node per step
# --------------------------------------------------------------------------------------


def _named(tensor: Tensor, name: str) -> Tensor:
    tensor.name = name
    return tensor


def standardize(x: Tensor, axes: tuple[int, ...], eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """x̂ = (x − mean)/√(var + eps) over `axes`, from primitive ops (Ioffe & Szegedy 2015,
    Algorithm 1, steps 1–3). Returns ``(x_hat, mean, var)``; ``var`` is the biased variance.

    Every intermediate tensor is named, so the graph drawing reads like the algorithm.
    BatchNorm, LayerNorm and GroupNorm differ only in `axes` (and in a reshape for groups).
    """
    mean = _named(x.mean(axis=axes, keepdims=True), "mean")
    centred = _named(x - mean, "centred")
    squared = _named(centred * centred, "squared")
    var = _named(squared.mean(axis=axes, keepdims=True), "var")
    std = _named((var + eps).sqrt(), "std")
    return _named(centred / std, "x_hat"), mean, var


def scale_and_shift(x_hat: Tensor, weight: Tensor | None, bias: Tensor | None,
                    shape: tuple[int, ...] | None = None) -> Tensor:
    """γ·x̂ + β (Algorithm 1, step 4), each step a named node. `shape`, if given, reshapes
    γ and β so they broadcast along the right axes (e.g. ``(1, C, 1, 1)``)."""
    out = x_hat
    if weight is not None:
        out = _named(out * (weight if shape is None else weight.reshape(shape)), "scaled")
    if bias is not None:
        out = _named(out + (bias if shape is None else bias.reshape(shape)), "shifted")
    return out


def batch_norm_composed(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                        weight: Tensor | None, bias: Tensor | None, use_batch_stats: bool,
                        momentum: float | None, eps: float) -> Tensor:
    """Batch normalisation from primitive ops (arguments already checked by `F.batch_norm`).

    With batch statistics, running statistics (if given) are updated in place exactly as
    the fused op does; otherwise they are constants of the graph.
    """
    axes = channel_axes(x.ndim)
    shape = channel_shape(x.ndim, x.shape[1])
    if use_batch_stats:
        x_hat, mean, var = standardize(x, axes, eps)
        if running_mean is not None:
            assert running_var is not None and momentum is not None  # F.batch_norm checked
            update_running_stats(running_mean.data, running_var.data, mean.data, var.data,
                                 x.numel() // x.shape[1], momentum)
    else:
        assert running_mean is not None and running_var is not None  # F.batch_norm checked
        # Constants in x's dtype (copies: the buffers may change before backward runs).
        mean = Tensor(running_mean.data.reshape(shape).astype(x.dtype), name="running_mean")
        var = Tensor(running_var.data.reshape(shape).astype(x.dtype), name="running_var")
        std = _named((var + eps).sqrt(), "std")
        x_hat = _named(_named(x - mean, "centred") / std, "x_hat")
    return scale_and_shift(x_hat, weight, bias, None if x.ndim == 2 else shape)


def batch_norm_fused(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                     weight: Tensor | None, bias: Tensor | None, use_batch_stats: bool,
                     momentum: float | None, eps: float) -> Tensor:
    """Batch normalisation as one fused node (arguments already checked by `F.batch_norm`)."""
    if use_batch_stats and running_mean is not None and running_var is not None \
            and weight is not None and bias is not None:  # training a usual layer, spelled out
        return BatchNormTrain.apply(x, weight, bias, has_weight=True, has_bias=True, eps=eps,
                                    running_mean=running_mean._data,
                                    running_var=running_var._data, momentum=momentum)
    affine = [t for t in (weight, bias) if t is not None]
    flags: dict[str, Any] = {"has_weight": weight is not None, "has_bias": bias is not None,
                             "eps": eps}
    if use_batch_stats:
        if running_mean is not None:
            assert running_var is not None  # F.batch_norm checked they come together
            flags.update(running_mean=running_mean.data, running_var=running_var.data,
                         momentum=momentum)
        return BatchNormTrain.apply(x, *affine, **flags)
    assert running_mean is not None and running_var is not None  # F.batch_norm checked
    return BatchNormEval.apply(x, *affine, running_mean=running_mean.data,
                               running_var=running_var.data, **flags)
