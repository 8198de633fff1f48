"""Folding a BatchNorm into the Linear or Conv2d before it, for inference.

In evaluation mode BatchNorm uses fixed running statistics, so for each output channel c
it is an affine map, y = s_c·(z − μ_c) + β_c with s_c = γ_c/√(σ²_c + eps) (Ioffe & Szegedy
2015, §3.1 and Algorithm 2, step 11). The layer before it, z = W x + b, is affine too, and
two affine maps compose into one:

    W'_c = s_c · W_c          (row c of a Linear weight, filter c of a Conv2d weight)
    b'_c = s_c · (b_c − μ_c) + β_c

One layer then does the work of two, with no normalisation left at inference.
"""

from __future__ import annotations

import copy

import numpy as np

from minigrad.nn.layers import Conv2d, Linear
from minigrad.nn.module import Parameter
from minigrad.nn.normalization import BatchNorm1d, BatchNorm2d, _BatchNorm

_PAIRS = {Linear: BatchNorm1d, Conv2d: BatchNorm2d}


def fold_batchnorm(layer: Linear | Conv2d, bn: _BatchNorm) -> Linear | Conv2d:
    """A NEW layer equal, in evaluation mode, to ``bn(layer(x))``.

    ``layer``: a `Linear` followed by a `BatchNorm1d` on its ``(N, out_features)`` output, or
    a `Conv2d` followed by a `BatchNorm2d`. The new layer has the same settings (sizes,
    stride, padding) and always a bias; `layer` and `bn` are left unchanged. Only the
    running statistics are used, so the result matches ``bn.eval()``, not training mode.
    """
    expected = next((bn_type for layer_type, bn_type in _PAIRS.items()
                     if isinstance(layer, layer_type)), None)
    if expected is None or not isinstance(bn, expected):
        raise TypeError(f"fold_batchnorm: can fold a BatchNorm1d into a Linear or a BatchNorm2d "
                        f"into a Conv2d, got {type(layer).__name__} and {type(bn).__name__}.")
    out_channels = layer.weight.shape[0]
    if bn.num_features != out_channels:
        raise ValueError(f"fold_batchnorm: the {type(layer).__name__} has {out_channels} output "
                         f"channels but the {type(bn).__name__} normalises {bn.num_features}. "
                         "Fix: pass the BatchNorm that directly follows this layer.")
    if bn.running_mean is None:
        raise ValueError("fold_batchnorm: the BatchNorm has no running statistics "
                         "(track_running_stats=False), so even in eval it normalises with each "
                         "batch's own statistics, which no fixed layer can reproduce.")
    # In float64, then back to the layer's dtype: the fold itself adds no rounding error.
    mean = bn.running_mean.data.astype(np.float64)
    scale = 1 / np.sqrt(bn.running_var.data.astype(np.float64) + bn.eps)
    shift = np.zeros(out_channels)
    if bn.affine:
        scale = scale * bn.weight.data
        shift = bn.bias.data.astype(np.float64)
    bias = np.zeros(out_channels) if layer.bias is None else layer.bias.data.astype(np.float64)
    dtype = layer.weight.dtype
    per_channel = (out_channels,) + (1,) * (layer.weight.ndim - 1)

    folded = copy.deepcopy(layer)  # same class and settings; shares no array with `layer`
    folded.weight = Parameter((layer.weight.data * scale.reshape(per_channel)).astype(dtype))
    folded.register_parameter("bias", Parameter(((bias - mean) * scale + shift).astype(dtype)))
    return folded
