"""Normalisation layers: BatchNorm1d/2d, LayerNorm, GroupNorm, and their functional forms.

All three subtract a mean and divide by a standard deviation; they differ only in which
values share the statistics (for an input of shape (N, C, H, W)):

    BatchNorm   per channel, over N, H, W    (Ioffe & Szegedy 2015)  — needs a batch
    LayerNorm   per sample, over the last axes given by normalized_shape (Ba et al. 2016)
    GroupNorm   per sample and group of C/G channels, over those channels and H, W
                (Wu & He 2018)

Batch normalisation comes in two implementations that compute the same numbers (see
minigrad/ops/normalization.py), chosen per module (``BatchNorm1d(..., implementation=)``,
or by assigning ``bn.implementation``) and per call (``F.batch_norm(..., implementation=)``):

* ``"composed"`` — primitive ops; the graph shows mean, centring, variance, normalisation,
  scale and shift as separate named nodes. The teaching view: draw it, step through it.
* ``"fused"`` — one op with the analytic backward. **The default**, because it is the one
  you train with: in benchmarks/norm.py it is 2-7x faster than the composed graph and on a
  par with hand-written NumPy, and it keeps one saved array instead of one (plus its
  gradient) per step. Trusting it costs nothing: the tests prove it equal to the composed
  version, values and gradients, to 1e-10 in float64.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from minigrad.nn.module import Module, Parameter
from minigrad.ops.normalization import (
    batch_norm_composed,
    batch_norm_fused,
    scale_and_shift,
    standardize,
)
from minigrad.tensor import Tensor, expect_tensor

IMPLEMENTATIONS = {"fused": batch_norm_fused, "composed": batch_norm_composed}


def _check_input(x: object, op: str, min_ndim: int = 1) -> Tensor:
    x = expect_tensor(x, op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}. Fix: "
                        "convert it with .float() (or .double()).")
    if x.ndim < min_ndim:
        raise ValueError(f"{op}: expected an input with at least {min_ndim} dimensions, got "
                         f"shape {x.shape}.")
    return x


def _check_eps(eps: float, op: str) -> None:
    if not isinstance(eps, Real) or not eps > 0:
        raise ValueError(f"{op}: eps must be a positive number, got {eps!r}. It keeps the "
                         "division finite when every value sharing a statistic is equal. "
                         "Fix: use a small positive value such as 1e-5.")


def _check_momentum(momentum: float | None, op: str) -> None:
    if momentum is not None and (not isinstance(momentum, Real) or not 0 <= momentum <= 1):
        raise ValueError(f"{op}: momentum must be in [0, 1] (the weight of the new batch in "
                         f"the running average) or None (a cumulative average), got "
                         f"{momentum!r}. Fix: the usual value is 0.1.")


def _check_implementation(implementation: str, op: str) -> None:
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"{op}: unknown implementation {implementation!r}. Fix: use one of "
                         f"{sorted(IMPLEMENTATIONS)}.")


def _check_vectors(op: str, shape: tuple[int, ...], x: Tensor, **tensors: Tensor | None) -> None:
    """Each given tensor must have `shape`, the size its role needs for input `x`."""
    for name, tensor in tensors.items():
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor or None, got "
                            f"{type(tensor).__name__}. Fix: wrap it, minigrad.tensor(array) "
                            "(running statistics are updated in place, so keep that Tensor).")
        if tensor is not None and tensor.shape != shape:
            raise ValueError(f"{op}: {name} has shape {tensor.shape}, but an input of shape "
                             f"{x.shape} needs shape {shape}. Fix: build the layer for this "
                             "input's sizes.")


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float | None = 0.1, eps: float = 1e-5, *,
               implementation: str = "fused") -> Tensor:
    """Batch normalisation of ``x`` of shape ``(N, C)`` or ``(N, C, *)``, per channel (axis 1).

    ``training=True``: normalise with the batch's mean and biased variance; if
    ``running_mean``/``running_var`` (shape ``(C,)``) are given, update their data in place:
    running ← (1 − momentum)·running + momentum·batch statistic, with the unbiased variance
    going into ``running_var``. ``training=False``: normalise with the running statistics and
    update nothing. Running statistics ``None`` → batch statistics are used in either mode.
    ``weight``/``bias`` (γ, β; shape ``(C,)``) are optional. Returns a tensor shaped like x.

    ``implementation="fused"`` (default) is one op with the analytic backward, the fast
    path; ``"composed"`` builds the result from primitive ops so the graph shows mean,
    centring, variance, normalisation, scale and shift as separate named nodes. Both give
    the same values and gradients (tested to 1e-10 in float64).

    The cumulative average (``momentum=None`` in the modules) needs the number of batches
    seen; the module keeps it and passes the factor 1/num_batches_tracked here as momentum.
    """
    op = "batch_norm"
    _check_input(x, op, min_ndim=2)
    _check_implementation(implementation, op)
    _check_eps(eps, op)
    _check_momentum(momentum, op)
    channels = x.shape[1]
    if x.numel() == 0:
        raise ValueError(f"{op}: the input of shape {x.shape} is empty, so there are no "
                         "statistics to normalise with. Fix: pass a non-empty batch.")
    _check_vectors(op, (channels,), x, running_mean=running_mean, running_var=running_var,
                   weight=weight, bias=bias)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: pass both running_mean and running_var, or neither.")
    use_batch_stats = training or running_mean is None
    if use_batch_stats and x.numel() // channels <= 1:
        if training:
            fix = ("use a batch of more than one sample, or evaluate with running statistics "
                   "(.eval())")
        else:  # eval mode without running statistics (track_running_stats=False)
            fix = ("there are no running statistics (track_running_stats=False), so even in "
                   "eval mode the batch's own statistics are used. Use a batch of more than one "
                   "sample, or build the layer with track_running_stats=True and train it")
        raise ValueError(f"{op}: Expected more than 1 value per channel when training, got input "
                         f"size {x.shape}. A variance needs at least two values. Fix: {fix}.")
    updates = training and running_mean is not None
    if updates and momentum is None:
        raise ValueError(f"{op}: momentum=None means a cumulative average, which needs the "
                         "number of batches seen. Fix: use nn.BatchNorm1d/2d(momentum=None), "
                         "or pass momentum=1/number_of_batches yourself.")
    return IMPLEMENTATIONS[implementation](x, running_mean, running_var, weight, bias,
                                           use_batch_stats, momentum, eps)


def layer_norm(x: Tensor, normalized_shape: int | tuple[int, ...], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Layer normalisation (Ba et al. 2016): each sample is normalised over its last
    ``len(normalized_shape)`` axes, which must equal ``normalized_shape``; biased variance.
    ``weight``/``bias`` have shape ``normalized_shape``. Returns a tensor shaped like x."""
    op = "layer_norm"
    normalized_shape = _as_shape(normalized_shape, op)
    _check_input(x, op, min_ndim=len(normalized_shape))
    _check_eps(eps, op)
    if tuple(x.shape[x.ndim - len(normalized_shape):]) != normalized_shape:
        raise ValueError(f"{op}: normalized_shape={list(normalized_shape)} must match the last "
                         f"dimensions of the input, but the input has shape {x.shape}. Fix: "
                         f"pass normalized_shape={x.shape[-len(normalized_shape):]} or reshape "
                         "the input.")
    _check_vectors(op, normalized_shape, x, weight=weight, bias=bias)
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    x_hat, _, _ = standardize(x, axes, eps)
    return scale_and_shift(x_hat, weight, bias)


def group_norm(x: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Group normalisation (Wu & He 2018): the C channels of ``x`` (shape ``(N, C, *)``) are
    split into ``num_groups`` groups of C/num_groups consecutive channels; each sample's group
    is normalised over its channels and positions (biased variance). ``weight``/``bias`` have
    shape ``(C,)``. One group is LayerNorm over (C, *); C groups is InstanceNorm."""
    op = "group_norm"
    _check_input(x, op, min_ndim=2)
    _check_eps(eps, op)
    channels = x.shape[1]
    _check_groups(num_groups, channels, op)
    _check_vectors(op, (channels,), x, weight=weight, bias=bias)
    grouped = x.reshape(x.shape[0], num_groups, -1)
    grouped.name = "grouped"
    x_hat, _, _ = standardize(grouped, (2,), eps)
    x_hat = x_hat.reshape(x.shape)
    x_hat.name = "ungrouped"
    return scale_and_shift(x_hat, weight, bias, (channels,) + (1,) * (x.ndim - 2))


def _as_shape(shape: int | tuple[int, ...] | list[int], op: str) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    if not shape or not all(isinstance(n, int | np.integer) and n > 0 for n in shape):
        raise ValueError(f"{op}: normalized_shape must be a positive integer or a non-empty "
                         f"sequence of them, got {shape!r}.")
    return tuple(int(n) for n in shape)


def _check_groups(num_groups: int, num_channels: int, op: str) -> None:
    if not isinstance(num_groups, int | np.integer) or num_groups <= 0:
        raise ValueError(f"{op}: num_groups must be a positive integer, got {num_groups!r}.")
    if num_channels % num_groups:
        raise ValueError(f"{op}: num_channels must be divisible by num_groups, got "
                         f"{num_channels} channels and {num_groups} groups. Fix: choose a "
                         f"number of groups that divides {num_channels}.")


# --------------------------------------------------------------------------------------
# Modules
# --------------------------------------------------------------------------------------


class _BatchNorm(Module):
    """Shared body of BatchNorm1d and BatchNorm2d (they differ only in the input check)."""

    expected_ndim: tuple[int, ...] = ()  # set by each subclass, with the hint below
    _shape_hint: str = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *,
                 implementation: str = "fused") -> None:
        super().__init__()
        name = type(self).__name__
        if not isinstance(num_features, int | np.integer) or num_features <= 0:
            raise ValueError(f"{name}: num_features must be a positive integer, got "
                             f"{num_features!r}.")
        _check_eps(eps, name)
        _check_momentum(momentum, name)
        _check_implementation(implementation, name)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.implementation = implementation
        if affine:
            self.weight = Parameter(np.ones(num_features, np.float32))
            self.bias = Parameter(np.zeros(num_features, np.float32))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, np.float32)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, np.float32)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buffer, None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen (dtypes kept)."""
        if self.track_running_stats:
            self.running_mean.data = np.zeros_like(self.running_mean.data)
            self.running_var.data = np.ones_like(self.running_var.data)
            self.num_batches_tracked.data = np.array(0, np.int64)

    def reset_parameters(self) -> None:
        """Running statistics reset; γ = 1, β = 0."""
        self.reset_running_stats()
        if self.affine:
            self.weight.data = np.ones_like(self.weight.data)
            self.bias.data = np.zeros_like(self.bias.data)

    def _check_input_dim(self, x: Tensor) -> None:
        if (type(x) is Tensor and x.ndim in self.expected_ndim
                and x.shape[1] == self.num_features and x.dtype.kind == "f"):
            return  # the usual case, checked cheaply; otherwise explain what is wrong
        name = type(self).__name__
        _check_input(x, name)
        if x.ndim not in self.expected_ndim:
            wanted = " or ".join(f"{n}D" for n in self.expected_ndim)
            raise ValueError(f"{name}: expected {wanted} input (got {x.ndim}D input of shape "
                             f"{x.shape}). Fix: {self._shape_hint}.")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: input of shape {x.shape} has {x.shape[1]} channels on "
                             f"axis 1, but the layer was built for num_features="
                             f"{self.num_features}. Fix: match the previous layer's output.")

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``x``; in training mode (with running statistics) update them."""
        self._check_input_dim(x)
        if not self.training and not self.track_running_stats and x.numel() // x.shape[1] <= 1:
            raise ValueError(
                f"{type(self).__name__}: Expected more than 1 value per channel, got input "
                f"size {x.shape}. This layer keeps no running statistics "
                "(track_running_stats=False), so even in eval mode it normalises with the "
                "batch's own mean and variance. Fix: use a batch of more than one sample, or "
                "build the layer with track_running_stats=True (the default) and train it.")
        tracking = self.training and self.track_running_stats
        momentum = self.momentum
        if tracking and momentum is None:  # cumulative average: this batch's weight is 1/k
            # (buffers set to None by hand, as PyTorch allows: no count, so no update)
            count = self.num_batches_tracked
            momentum = 0.0 if count is None else 1.0 / (int(count.data) + 1)
        use_batch_stats = self.training or not self.track_running_stats
        implementation = IMPLEMENTATIONS.get(self.implementation)
        if (use_batch_stats and self.track_running_stats and implementation is not None
                and x._data.size > x._data.shape[1]):
            # The hot path: the input was checked above and the layer's own settings and
            # buffers when it was built, so skip F.batch_norm's checks of them.
            out = implementation(x, self.running_mean, self.running_var, self.weight,
                                 self.bias, True, momentum, self.eps)
        else:
            out = batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                             training=use_batch_stats, momentum=momentum, eps=self.eps,
                             implementation=self.implementation)
        tracked = self.num_batches_tracked
        if tracking and tracked is not None:  # counted only once the batch was accepted
            # In place, as PyTorch's add_(1), through a Python int: `+= 1` on a 0-d array is
            # a ufunc call with scalar conversions (~2.5 µs, 0.2 µs this way).
            count = tracked.data
            if type(count) is np.ndarray and count.shape == () and count.flags.writeable:
                count[()] = count.item() + 1
                tracked.data = count  # the same array back: records the in-place write
            else:  # set by hand to a NumPy or Python scalar, or a read-only array
                tracked.data = np.asarray(count) + 1
        return out

    def extra_repr(self) -> str:
        text = (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine="
                f"{self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")
        if self.implementation != "fused":  # minigrad's own argument, shown when not default
            text += f", implementation={self.implementation!r}"
        return text


class BatchNorm1d(_BatchNorm):
    """Batch normalisation for ``(N, C)`` (features) or ``(N, C, L)`` (sequences) input.

    ``BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True, *, implementation="fused")``, PyTorch's semantics:
    parameters ``weight`` (ones) and ``bias`` (zeros), or None with ``affine=False``; buffers
    ``running_mean`` (zeros), ``running_var`` (ones), ``num_batches_tracked`` (int64 0), or
    None with ``track_running_stats=False`` (then batch statistics are used in eval too).
    ``momentum=None`` makes the running statistics a cumulative average.

    ``implementation="fused"`` (default, fast) or ``"composed"`` (one graph node per step of
    Ioffe & Szegedy's Algorithm 1, for drawing); same numbers, see the module docstring.
    """

    expected_ndim = (2, 3)
    _shape_hint = "pass (batch, features) or (batch, channels, length)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation for ``(N, C, H, W)`` input, per channel over N, H and W.

    Same arguments, parameters and buffers as `BatchNorm1d`.
    """

    expected_ndim = (4,)
    _shape_hint = "pass (batch, channels, height, width), e.g. a Conv2d output"


class LayerNorm(Module):
    """``LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True)``: normalise
    each sample over its last axes, which must equal ``normalized_shape``. Parameters
    ``weight`` (ones) and ``bias`` (zeros) of shape ``normalized_shape``. Uses no batch
    statistics, so training and evaluation behave the same."""

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True) -> None:
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape, "LayerNorm")
        _check_eps(eps, "LayerNorm")
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, np.float32))
            self.register_parameter(
                "bias", Parameter(np.zeros(self.normalized_shape, np.float32)) if bias else None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """``GroupNorm(num_groups, num_channels, eps=1e-5, affine=True)`` for ``(N, C, *)``
    input: statistics per sample and per group of C/num_groups channels. Parameters
    ``weight`` (ones) and ``bias`` (zeros) of shape ``(num_channels,)``. Independent of the
    batch size (Wu & He 2018), so training and evaluation behave the same."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True) -> None:
        super().__init__()
        _check_groups(num_groups, num_channels, "GroupNorm")
        _check_eps(eps, "GroupNorm")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = eps, affine
        if affine:
            self.weight = Parameter(np.ones(num_channels, np.float32))
            self.bias = Parameter(np.zeros(num_channels, np.float32))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, "GroupNorm", min_ndim=2)
        if x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: input of shape {x.shape} has {x.shape[1]} channels "
                             f"on axis 1, but the layer was built for num_channels="
                             f"{self.num_channels}. Fix: match the previous layer's output.")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
