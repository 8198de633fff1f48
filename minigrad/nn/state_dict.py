"""Saving and loading a module's state: `Module.state_dict` and `Module.load_state_dict`.

Split from `module.py` (which re-exports `IncompatibleKeys`) because the two walk the
module tree with rules of their own: every place of a shared module has its keys (as in
PyTorch, so checkpoints load into the PyTorch twin), and a refused state dict leaves the
model untouched (everything is checked before anything is written). The methods on
`Module` are one-line calls into the functions here.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from minigrad.tensor import Tensor, to_array

if TYPE_CHECKING:
    from minigrad.nn.module import Module


class StateDictKeysError(KeyError, RuntimeError):
    """What `Module.load_state_dict` raises (strict) for missing or unexpected keys. Both a
    KeyError (minigrad raised that before, and ``except KeyError`` code keeps working) and
    a RuntimeError (what PyTorch raises, so ``except RuntimeError`` written for PyTorch
    works too). Its text is the message as it is, without KeyError's quotes."""

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class IncompatibleKeys(NamedTuple):
    """What `Module.load_state_dict` returns, as PyTorch's: a pair that also has names,
    ``result.missing_keys`` and ``result.unexpected_keys`` (both empty when strict)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def saved_tensors(root: Module) -> dict[str, Tensor]:
    """The tensors a state dict holds, by key: every parameter and persistent buffer of
    `root` and its descendants under PyTorch's dotted names, parameters then buffers,
    module by module. Every place of a module used twice (Sequential(block, block)) has its
    keys, as in PyTorch: a checkpoint must load into the PyTorch twin, and a PyTorch one
    into this."""
    tensors: dict[str, Tensor] = {}
    for module_name, module in root.named_modules(remove_duplicate=False):
        prefix = f"{module_name}." if module_name else ""
        not_saved = module._non_persistent_buffers  # (an old pickle's: Module.__setstate__)
        for name, parameter in module._parameters.items():
            if parameter is not None:
                tensors[prefix + name] = parameter
        for name, buffer in module._buffers.items():
            if buffer is not None and name not in not_saved:
                tensors[prefix + name] = buffer
    return tensors


def state_dict_of(root: Module) -> OrderedDict[str, np.ndarray]:
    """`Module.state_dict()`: the arrays of `saved_tensors`, as copies."""
    return OrderedDict((key, tensor.data.copy()) for key, tensor in saved_tensors(root).items())


def load_state_dict_into(root: Module, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
    """Copy arrays into the parameters and buffers of the same names.

    Everything is checked before anything is written, so a refused state dict leaves the
    model exactly as it was. Returns ``(missing_keys, unexpected_keys)``, a named pair as
    in PyTorch (``.missing_keys``, ``.unexpected_keys``; only non-empty with
    ``strict=False``); strict, missing or unexpected keys raise `StateDictKeysError`
    (a KeyError and a RuntimeError). As in PyTorch, a BatchNorm's missing
    ``num_batches_tracked`` (a checkpoint from before PyTorch 0.4.1 had none) is not
    missing: the module keeps its own count (see `_counts_kept`).
    """
    if not isinstance(state_dict, Mapping):
        is_path = isinstance(state_dict, str | os.PathLike)
        fix = ("model.load_state_dict(minigrad.load(path))" if is_path
               else "pass model.state_dict() of a model of the same architecture")
        raise TypeError(f"load_state_dict: expected a mapping of names to arrays (what "
                        f"state_dict() returns), got {type(state_dict).__name__} "
                        f"{state_dict!r:.60}. Fix: {fix}.")
    targets = saved_tensors(root)
    # A tensor shared by several places is loaded once any of its keys is given: a
    # checkpoint saved before state_dict listed every place (only the first) still loads.
    given = {id(tensor) for key, tensor in targets.items() if key in state_dict}
    kept = _counts_kept(root, state_dict)
    missing = [key for key, tensor in targets.items()
               if key not in state_dict and id(tensor) not in given and key not in kept]
    unexpected = [key for key in state_dict if key not in targets]
    if strict and (missing or unexpected):
        nested = [key for key in unexpected if isinstance(state_dict[key], Mapping)]
        # The model's part is the one with the model's keys, wherever it sits in the
        # checkpoint ({'optimizer': ..., 'model': ...}): most keys in common first.
        nested.sort(key=lambda key: -len(set(missing).intersection(state_dict[key])))
        fix = (f"pass the model's part of the checkpoint, e.g. checkpoint[{nested[0]!r}]"
               if nested else "load a checkpoint of the same architecture, or pass "
               "strict=False to load the keys that match")
        raise StateDictKeysError(
            f"load_state_dict: the state dict does not match {type(root).__name__}: "
            f"missing keys {missing}, unexpected keys {unexpected}. Fix: {fix}.")
    new_values: dict[str, np.ndarray] = {}
    for key, target in targets.items():
        if key not in state_dict:
            continue
        value = state_dict[key]
        if not isinstance(value, Tensor) and hasattr(value, "detach"):
            value = value.detach().cpu().numpy()  # a torch.Tensor: PyTorch's state dict
        try:
            array = to_array(value.data if isinstance(value, Tensor) else value,
                             op="load_state_dict")
        except TypeError as error:
            raise TypeError(f"load_state_dict: '{key}' cannot be loaded: {error}") from None
        if array.shape != target.shape:
            raise ValueError(
                f"load_state_dict: '{key}' has shape {array.shape} in the state dict but "
                f"{target.shape} in the model. Fix: load a checkpoint of the same "
                "architecture."
            )
        new_values[key] = array.astype(target.dtype, copy=True)
    for key, array in new_values.items():
        target = targets[key]
        current = target.data
        if current.flags.writeable:
            # Into the tensor's own array, as PyTorch's param.copy_: a detach() view or a
            # reference to .data sees the loaded values, and the same array given back
            # records the write, so a graph that saved the old values refuses its backward.
            current[...] = array
            target.data = current
        else:  # e.g. a broadcast view: the tensor gets an array of its own
            target.data = array
    return IncompatibleKeys(missing, unexpected)


def _counts_kept(root: Module, state_dict: Mapping) -> set[str]:
    """The ``num_batches_tracked`` keys of `root`'s BatchNorm modules that the state dict
    lacks and that PyTorch does not count as missing: its ``_NormBase._load_from_state_dict``
    keeps the module's own count when the module's entry in the state dict's ``_metadata``
    has no version or one below 2 (version 2 added the buffer). So an old PyTorch
    checkpoint, or any plain dict without the key, loads; a current PyTorch state dict with
    the key deleted is still refused."""
    from minigrad.nn.normalization import _BatchNorm  # (normalization imports module.py)

    metadata = getattr(state_dict, "_metadata", None) or {}
    kept = set()
    for module_name, module in root.named_modules(remove_duplicate=False):
        if isinstance(module, _BatchNorm) and module._buffers.get("num_batches_tracked") \
                is not None:
            key = f"{module_name}.num_batches_tracked" if module_name else "num_batches_tracked"
            version = (metadata.get(module_name) or {}).get("version")
            if key not in state_dict and (version is None or version < 2):
                kept.add(key)
    return kept
