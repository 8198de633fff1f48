"""LSUV: layer-sequential unit-variance initialisation (Mishkin & Matas 2015, "All you need
is a good init", Algorithm 1). Exposed as ``minigrad.nn.init.lsuv_``.

Unlike the initialisers in `init.py`, LSUV looks at data: it runs the model on a batch and
rescales each layer's weight until that layer's output has unit variance.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any, NamedTuple

import numpy as np

from minigrad.autograd import no_grad
from minigrad.nn.embedding import Embedding
from minigrad.nn.init import _generator, _write, orthogonal_, zeros_
from minigrad.nn.module import Module, Parameter
from minigrad.nn.normalization import GroupNorm, LayerNorm, _BatchNorm
from minigrad.tensor import Tensor


class LSUVRecord(NamedTuple):
    """What `lsuv_` did to one layer."""

    name: str  # the layer's qualified name in the model, e.g. '0' or 'features.3'
    iterations: int  # how many times its weight was rescaled
    variance: float  # Var(layer output) on the batch after the last rescale


# A user's normalisation class by its name: "Norm", "Normalization" or "Normalisation" as a
# CamelCase word ('RMSNorm', 'L2Norm', 'LayerNormalization'), not the start of a longer word
# ('NormalizedLinear' is a Linear), and not the weight re-parametrisations 'WeightNorm' and
# 'SpectralNorm' ('WeightNormLinear' is a linear map, which LSUV must initialise).
_NORMALISATION_NAME = re.compile(r"(?<!Weight)(?<!Spectral)Norm(?:ali[sz]ation)?(?![a-z])")


def _is_normalisation(module: Module) -> bool:
    # BatchNorm/LayerNorm/GroupNorm scale a normalised signal; their weight is not a map
    # between layers (LayerNorm's can still have 2+ dims), so LSUV must leave it alone.
    # minigrad's own are known by their classes; a user's by a class name in its MRO.
    if isinstance(module, _BatchNorm | LayerNorm | GroupNorm):
        return True
    return any(_NORMALISATION_NAME.search(cls.__name__) for cls in type(module).__mro__)


def _layer_outputs(model: Module, x: Tensor, layers: dict[str, Module]) -> dict[str, np.ndarray]:
    """Run ``model(x)`` once without a graph; each layer's (first) output, in call order."""
    outputs: dict[str, np.ndarray] = {}

    def make_hook(name: str) -> Any:
        def hook(module: Module, inputs: tuple, output: Any) -> None:
            if name not in outputs:
                if not isinstance(output, Tensor):
                    raise TypeError(f"lsuv_: layer '{name}' returned a "
                                    f"{type(output).__name__}, not a Tensor.")
                outputs[name] = output.data
        return hook

    removers = [layer.register_forward_hook(make_hook(name)) for name, layer in layers.items()]
    try:
        with no_grad():
            model(x)
    finally:
        for remove in removers:
            remove()
    return outputs


def lsuv_(model: Module, x: Tensor, tol: float = 0.1, max_iter: int = 10,
          generator: np.random.Generator | None = None) -> list[LSUVRecord]:
    """Layer-sequential unit-variance initialisation (Mishkin & Matas 2015, Algorithm 1).

    1. Every layer with a weight of 2 or more dims (Linear ``(out, in)``, Conv2d
       ``(out, in, kh, kw)``) gets an orthonormal weight
       (`orthogonal_`, Saxe et al. 2013) and a zero bias. Algorithm 1 only rescales W; with
       a zero bias a layer's output is proportional to W, so one rescale brings its variance
       to 1 exactly.
    2. Layer by layer, in the order the forward pass of the batch `x` calls them: while
       abs(Var(output) − 1) >= `tol` and fewer than `max_iter` rescales were made, divide W
       by √Var(output). Var is taken over every element of the layer's output on `x`.

    The passes run without a graph and in eval mode (dropout off, BatchNorm's running
    statistics untouched); each module's train/eval mode is restored afterwards. A layer
    the forward pass never calls gets step 1 only and no record.

    Normalisation layers are skipped (their weight scales a normalised signal, it is not a
    map between layers): minigrad's BatchNorm1d/2d, LayerNorm and GroupNorm (and their
    subclasses), and any module with a class in its MRO whose name has "Norm",
    "Normalization" or "Normalisation" as a CamelCase word ('RMSNorm', 'L2Norm',
    'LayerNormalization'), except after "Weight" or "Spectral": 'WeightNormLinear' and
    'SpectralNormConv' re-parametrise a linear map and are initialised; 'NormalizedLinear' is
    a Linear too. An `Embedding` is skipped as well: its table is looked up, not multiplied
    (and its padding row must stay zero).

    Returns one `LSUVRecord(name, iterations, variance)` per layer, in forward order.
    """
    if not isinstance(model, Module):
        raise TypeError(f"lsuv_: model must be a minigrad Module, got {type(model).__name__}.")
    if not isinstance(x, Tensor):
        raise TypeError(f"lsuv_: x must be a Tensor (a batch of inputs), got "
                        f"{type(x).__name__}. Fix: wrap it with minigrad.tensor(...).")
    if not (isinstance(tol, numbers.Real) and 0 < tol < math.inf):
        raise ValueError(f"lsuv_: tol must be a positive number, got {tol!r}. Fix: e.g. tol=0.1.")
    if not isinstance(max_iter, numbers.Integral) or isinstance(max_iter, bool) or max_iter < 0:
        raise ValueError(f"lsuv_: max_iter must be a non-negative integer, got {max_iter!r}.")
    layers = {name: module for name, module in model.named_modules()
              if isinstance(getattr(module, "weight", None), Parameter)
              and module.weight.ndim >= 2 and not _is_normalisation(module)
              and not isinstance(module, Embedding)}  # a lookup table, not a linear map
    if not layers:
        raise ValueError(f"lsuv_: {type(model).__name__} has no layer with a weight of 2 or more "
                         "dimensions (such as Linear or Conv2d). Fix: pass a model that has one.")
    generator = _generator(generator, "lsuv_")
    for layer in layers.values():
        orthogonal_(layer.weight, generator=generator)
        if isinstance(getattr(layer, "bias", None), Tensor):
            zeros_(layer.bias)

    was_training = [(module, module.training) for module in model.modules()]
    model.eval()
    records = []
    try:
        outputs = _layer_outputs(model, x, layers)
        if not outputs:
            raise ValueError("lsuv_: model(x) called none of its Linear/Conv layers.")
        for name in list(outputs):  # dict order = the order the forward pass called them
            weight = layers[name].weight
            variance = float(np.var(outputs[name], dtype=np.float64))
            iterations = 0
            while not abs(variance - 1) < tol and iterations < max_iter:  # NaN enters, then raises
                if not (math.isfinite(variance) and variance > 0):
                    raise RuntimeError(f"lsuv_: the output of layer '{name}' has variance "
                                       f"{variance} on the batch, so it cannot be rescaled to 1. "
                                       "Fix: pass a batch x whose samples differ.")
                _write(weight, weight.data / math.sqrt(variance), "lsuv_")
                iterations += 1
                # One pass gives this layer's new variance and the next layers' current ones.
                outputs = _layer_outputs(model, x, layers)
                variance = float(np.var(outputs[name], dtype=np.float64))
            records.append(LSUVRecord(name, iterations, variance))
    finally:
        for module, training in was_training:
            module.training = training
    return records
