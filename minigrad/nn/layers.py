"""Layers: the building blocks of a network (PyTorch's names, arguments, shapes, defaults).

Each layer is a thin `Module` around a function of `nn.functional`, holding its
parameters and settings; the loss modules are in `nn/loss.py`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.nn import functional as F
from minigrad.nn.module import Module, Parameter
from minigrad.ops.conv import check_groups, conv_padding
from minigrad.ops.pooling import pool_arguments, refuse_unsupported
from minigrad.ops.windows import check_kernel_stride, pair
from minigrad.tensor import Tensor, default_generator, expect_tensor


def check_sizes(layer: str, **sizes: Any) -> None:
    """Layer sizes are positive ints: Linear(2.5, 3) must not round, and bool is not a size."""
    for name, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, int | np.integer):
            raise TypeError(f"{layer}: {name} must be an int, got {type(size).__name__} "
                            f"{size!r:.40}. Fix: pass a whole number, e.g. {layer}(2, 3).")
        if size <= 0:
            raise ValueError(f"{layer}: {name} must be positive, got {size}.")


def _uniform(shape: tuple[int, ...], bound: float) -> np.ndarray:
    return default_generator().uniform(-bound, bound, size=shape).astype(np.float32)


class Linear(Module):
    """y = x Wᵀ + b. Input ``(*, in_features)``, output ``(*, out_features)``.

    ``weight`` has shape ``(out_features, in_features)`` as in PyTorch. Default init is
    PyTorch's: weight and bias ~ U(±1/√in_features) (``kaiming_uniform_`` with a=√5).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        check_sizes("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features), np.float32))
        self.register_parameter("bias", Parameter(np.empty(out_features, np.float32)) if bias
                                else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight and bias ~ U(±1/√fan_in), fan_in = in_features."""
        bound = 1 / math.sqrt(self.in_features)
        self.weight.data = _uniform(self.weight.shape, bound)
        if self.bias is not None:
            self.bias.data = _uniform(self.bias.shape, bound)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Conv2d(Module):
    """2-D convolution, ``torch.nn.Conv2d``. Input ``(N, in_channels, H, W)`` (or unbatched
    ``(in_channels, H, W)``), output ``(N, out_channels, H_out, W_out)`` with
    H_out = ⌊(H + 2·padding - dilation·(k - 1) - 1) / stride⌋ + 1.

    ``weight``: ``(out_channels, in_channels / groups, kh, kw)``; ``bias``: ``(out_channels,)``.
    Default init is PyTorch's: both ~ U(±1/√fan_in), fan_in = in_channels / groups · kh·kw.
    `kernel_size`, `stride`, `dilation` and `padding` take an int or an (h, w) pair; padding
    may also be ``"same"`` (output size = input size, stride 1 only) or ``"valid"`` (none).
    ``groups=g`` makes g independent convolutions over C/g channels each.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1,
                 bias: bool = True) -> None:
        super().__init__()
        check_sizes("Conv2d", in_channels=in_channels, out_channels=out_channels)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.groups = check_groups("Conv2d", in_channels, out_channels, groups)
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = pair(stride, "stride", "Conv2d")
        self.dilation = pair(dilation, "dilation", "Conv2d")
        check_kernel_stride("Conv2d", self.kernel_size, self.stride, self.dilation)
        conv_padding(padding, self.kernel_size, self.stride, self.dilation, "Conv2d")  # checks
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding", "Conv2d")
        weight_shape = (out_channels, in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(np.empty(weight_shape, np.float32))
        self.register_parameter("bias", Parameter(np.empty(out_channels, np.float32)) if bias
                                else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight and bias ~ U(±1/√fan_in), fan_in = in_channels / groups ·
        kh·kw."""
        fan_in = self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        bound = 1 / math.sqrt(fan_in)
        self.weight.data = _uniform(self.weight.shape, bound)
        if self.bias is not None:
            self.bias.data = _uniform(self.bias.shape, bound)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.ndim != 4 or x.shape[1] != self.in_channels:
            self._check_input(x)  # the failure path (or an unbatched image): explain it
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def _check_input(self, x: Any) -> None:
        if isinstance(x, Tensor) and x.ndim not in (3, 4):
            raise ValueError(
                f"Conv2d: expected input of shape (N, {self.in_channels}, H, W), got {x.shape}. "
                f"Fix: reshape it, e.g. x.reshape(N, {self.in_channels}, H, W) for flattened "
                "images, or x.reshape(1, *x.shape) for one image.")
        if isinstance(x, Tensor) and x.shape[-3] != self.in_channels:
            raise ValueError(
                f"Conv2d: expected input of shape (N, {self.in_channels}, H, W) "
                f"(in_channels={self.in_channels}), got {x.shape} with {x.shape[-3]} channels. "
                "Fix: set in_channels to the input's channel count, or move the channels to axis "
                "1 with x.permute(0, 3, 1, 2) if the data is (N, H, W, C).")

    def extra_repr(self) -> str:
        # PyTorch's form: settings at their defaults are left out (bias=False only when false)
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        padding = self.padding
        if isinstance(padding, str) or any(padding):
            text += f", padding={padding}"
        dilation, groups = getattr(self, "dilation", 1), getattr(self, "groups", 1)
        if dilation not in (1, (1, 1)):
            text += f", dilation={dilation}"
        if groups != 1:
            text += f", groups={groups}"
        return text if self.bias is not None else text + ", bias=False"


class MaxPool2d(Module):
    """Max over kernel_size windows; `stride` defaults to `kernel_size`. PyTorch's
    signature and order (`dilation`, `return_indices`, `ceil_mode` only at their defaults)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        pool_arguments(kernel_size, stride, padding, "MaxPool2d")  # fail early, naming the argument
        refuse_unsupported("MaxPool2d", dilation=dilation, return_indices=return_indices,
                           ceil_mode=ceil_mode)
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, x: Tensor) -> Tensor:  # (options set after construction refused too)
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over kernel_size windows; `stride` defaults to `kernel_size`. PyTorch's
    signature and order: the 4th positional argument is `ceil_mode` (only False is
    supported, as is only ``divisor_override=None``), then `count_include_pad`."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        pool_arguments(kernel_size, stride, padding, "AvgPool2d")  # fail early, naming the argument
        refuse_unsupported("AvgPool2d", ceil_mode=ceil_mode, divisor_override=divisor_override)
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.divisor_override = ceil_mode, divisor_override
        self.count_include_pad = count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average-pool to a fixed ``output_size`` whatever the input's H and W:
    ``AdaptiveAvgPool2d(1)`` is global average pooling, ``(N, C, H, W) -> (N, C, 1, 1)``."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Flatten(Module):
    """Merge axes start_dim..end_dim: ``(N, C, H, W) -> (N, C·H·W)`` by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return expect_tensor(x, "Flatten").flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """While training, zero each element with probability `p` and scale the others by
    1/(1-p); in eval mode, the identity. `generator` (not in PyTorch) fixes the masks."""

    def __init__(self, p: float = 0.5, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}.")
        self.p, self.generator = p, generator

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class ReLU(Module):
    """max(x, 0), element-wise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope · x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """x·Φ(x), Φ the standard normal CDF; ``approximate='tanh'`` for the tanh approximation."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}.")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x·sigmoid(x), element-wise (also called swish)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(x)


class Tanh(Module):
    """tanh(x), element-wise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)), element-wise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Identity(Module):
    """Returns its input (a placeholder, e.g. where a normalisation layer is switched off)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x


class Softmax(Module):
    """Softmax along `dim` (required: ``Softmax(dim=1)`` for (N, C) scores)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim is None:
            name = type(self).__name__.lower().replace("logsoftmax", "log_softmax")
            raise TypeError(f"{name}: dim is required. Fix: {type(self).__name__}(dim=1) for "
                            "(N, C) scores, or dim=-1 for the last axis.")
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log(softmax(x)) along `dim`, computed stably."""

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.dim)
