"""One call to PyTorch: ``torch_model = mg.nn.utils.to_torch(model)``.

The PyTorch model has the same structure (child names, so the same ``state_dict`` keys;
a module or parameter used at several places is one PyTorch object there too, so it stays tied),
the same weights and buffers (``num_batches_tracked`` included), the same dtype and the same
train/eval mode. PyTorch is optional: it is imported only when one of these is called.

What converts:
- minigrad's layers with a PyTorch twin (the table `_CONVERTERS` below: Linear, Conv2d, the
  normalisations, activations, pools, Flatten, Dropout, Embedding, the losses);
- the containers Sequential, ModuleList and ModuleDict, recursively, and ParameterList;
- your own Module subclasses: the PyTorch module gets the same children, parameters, buffers
  and plain attributes, and *your* ``forward`` (and other methods) run on it with torch
  tensors. That works when forward composes children and uses operators and tensor methods
  both libraries share (``self.fc(x).relu() + x``, ``x.flatten(1)``, ``x.max(1)``); a minigrad
  function (``F.relu``, ``mg.cat``) called on torch tensors raises a TypeError naming your
  module and the fix.
Any other minigrad layer raises a TypeError naming it, at conversion time.
Dropout draws its masks from each library's own generator, so in training mode the two
models agree only where no dropout is active (p = 0, or the dropout layers in eval mode).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from minigrad.nn import containers, embedding, layers, loss, normalization
from minigrad.nn.module import Module, Sequential
from minigrad.tensor import Tensor

_MINIGRAD_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# minigrad's own bookkeeping on every Module; not copied to the PyTorch module
_MODULE_INTERNALS = {"_parameters", "_buffers", "_modules", "_forward_hooks", "_backward_hooks",
                     "training", "_scope_name", "_non_persistent_buffers"}


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("minigrad.nn.utils: converting to PyTorch needs PyTorch, which is not "
                          "installed. Fix: pip install torch") from None
    return torch


def state_dict_to_torch(state_dict: Mapping[str, Any]) -> OrderedDict[str, Any]:
    """A minigrad ``state_dict()`` (NumPy arrays) as ``torch.Tensor`` s with the same names,
    shapes and dtypes, for ``torch_model.load_state_dict``. Same as
    ``model.state_dict(as_torch=True)``. (The other way needs nothing: minigrad's
    ``load_state_dict`` accepts a PyTorch state dict.)"""
    torch = _import_torch()
    converted: OrderedDict[str, Any] = OrderedDict()
    for key, value in state_dict.items():
        array = value.data if isinstance(value, Tensor) else value
        converted[key] = torch.from_numpy(np.array(array, copy=True))
    return converted


def _tensor(torch: Any, value: Any) -> Any:
    """An optional constant (class weights, pos_weight) as a torch tensor."""
    if value is None:
        return None
    return torch.from_numpy(np.array(value.data if isinstance(value, Tensor) else value))


def _conv2d(torch: Any, m: layers.Conv2d) -> Any:
    return torch.nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, stride=m.stride,
                           padding=m.padding, dilation=getattr(m, "dilation", 1),
                           groups=getattr(m, "groups", 1), bias=m.bias is not None)


def _batch_norm(torch_class_name: str) -> Callable[[Any, Any], Any]:
    def convert(torch: Any, m: Any) -> Any:
        return getattr(torch.nn, torch_class_name)(
            m.num_features, eps=m.eps, momentum=m.momentum, affine=m.affine,
            track_running_stats=m.track_running_stats)
    return convert


# minigrad class -> function(torch, module) building the PyTorch twin (weights come after)
_CONVERTERS: dict[type, Callable[[Any, Any], Any]] = {
    layers.Linear: lambda torch, m: torch.nn.Linear(m.in_features, m.out_features,
                                                    bias=m.bias is not None),
    layers.Conv2d: _conv2d,
    normalization.BatchNorm1d: _batch_norm("BatchNorm1d"),
    normalization.BatchNorm2d: _batch_norm("BatchNorm2d"),
    normalization.LayerNorm: lambda torch, m: torch.nn.LayerNorm(
        m.normalized_shape, eps=m.eps, elementwise_affine=m.elementwise_affine,
        bias=m.elementwise_affine and m.bias is not None),
    normalization.GroupNorm: lambda torch, m: torch.nn.GroupNorm(
        m.num_groups, m.num_channels, eps=m.eps, affine=m.affine),
    layers.ReLU: lambda torch, m: torch.nn.ReLU(),
    layers.Tanh: lambda torch, m: torch.nn.Tanh(),
    layers.Sigmoid: lambda torch, m: torch.nn.Sigmoid(),
    layers.Identity: lambda torch, m: torch.nn.Identity(),
    layers.LeakyReLU: lambda torch, m: torch.nn.LeakyReLU(m.negative_slope),
    layers.GELU: lambda torch, m: torch.nn.GELU(approximate=m.approximate),
    layers.SiLU: lambda torch, m: torch.nn.SiLU(),
    layers.Softmax: lambda torch, m: torch.nn.Softmax(dim=m.dim),
    layers.LogSoftmax: lambda torch, m: torch.nn.LogSoftmax(dim=m.dim),
    layers.Flatten: lambda torch, m: torch.nn.Flatten(m.start_dim, m.end_dim),
    layers.Dropout: lambda torch, m: torch.nn.Dropout(m.p),
    layers.MaxPool2d: lambda torch, m: torch.nn.MaxPool2d(m.kernel_size, m.stride, m.padding),
    layers.AvgPool2d: lambda torch, m: torch.nn.AvgPool2d(
        m.kernel_size, m.stride, m.padding, count_include_pad=m.count_include_pad),
    layers.AdaptiveAvgPool2d: lambda torch, m: torch.nn.AdaptiveAvgPool2d(m.output_size),
    embedding.Embedding: lambda torch, m: torch.nn.Embedding(
        m.num_embeddings, m.embedding_dim, padding_idx=m.padding_idx),
    loss.CrossEntropyLoss: lambda torch, m: torch.nn.CrossEntropyLoss(
        weight=_tensor(torch, m.weight), ignore_index=m.ignore_index, reduction=m.reduction,
        label_smoothing=m.label_smoothing),
    loss.NLLLoss: lambda torch, m: torch.nn.NLLLoss(
        weight=_tensor(torch, m.weight), ignore_index=m.ignore_index, reduction=m.reduction),
    loss.MSELoss: lambda torch, m: torch.nn.MSELoss(reduction=m.reduction),
    loss.L1Loss: lambda torch, m: torch.nn.L1Loss(reduction=m.reduction),
    loss.SmoothL1Loss: lambda torch, m: torch.nn.SmoothL1Loss(reduction=m.reduction,
                                                              beta=m.beta),
    loss.HuberLoss: lambda torch, m: torch.nn.HuberLoss(reduction=m.reduction, delta=m.delta),
    loss.BCELoss: lambda torch, m: torch.nn.BCELoss(weight=_tensor(torch, m.weight),
                                                    reduction=m.reduction),
    loss.BCEWithLogitsLoss: lambda torch, m: torch.nn.BCEWithLogitsLoss(
        weight=_tensor(torch, m.weight), reduction=m.reduction,
        pos_weight=_tensor(torch, m.pos_weight)),
}


def _is_minigrad_class(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "minigrad"


def _user_forward_class(module: Module) -> type | None:
    """The first user-defined class (not minigrad's) in the MRO that defines forward."""
    for cls in type(module).__mro__:
        if cls is Module:
            return None
        if not _is_minigrad_class(cls) and "forward" in cls.__dict__:
            return cls
    return None


def _from_minigrad_code(error: BaseException) -> bool:
    """Did `error` come from inside minigrad (a minigrad function given torch tensors)?"""
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename.startswith(_MINIGRAD_DIR):
            return True
        traceback = traceback.tb_next
    return False


def _torch_class_for(torch: Any, cls: type) -> Any:
    """A torch.nn.Module subclass carrying the methods of the user's class `cls` (and of its
    user-defined bases), so their forward runs on the PyTorch module."""
    namespace: dict[str, Any] = {"__module__": cls.__module__, "__doc__": cls.__doc__}
    skip = {"__init__", "__dict__", "__weakref__", "__module__", "__qualname__", "__doc__",
            "__setattr__", "__getattr__", "__delattr__", "__repr__", "__call__"}
    for base in reversed(cls.__mro__):
        if base is object or _is_minigrad_class(base):
            continue
        namespace.update({k: v for k, v in base.__dict__.items() if k not in skip})
    user_forward = namespace["forward"]

    def forward(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return user_forward(self, *args, **kwargs)
        except (TypeError, AttributeError, ValueError) as error:
            if not _from_minigrad_code(error):
                raise
            raise TypeError(
                f"to_torch: {cls.__name__}.forward called a minigrad function on torch tensors "
                f"({error}). The converted model runs your forward code with torch tensors. "
                "Fix: in forward, use child modules (nn.ReLU(), ...) or tensor methods "
                "(x.relu(), x.flatten(1)) that PyTorch has too, or convert this module by "
                "hand.") from error

    namespace["forward"] = forward
    return type(cls.__name__, (torch.nn.Module,), namespace)


class _Shared:
    """What was converted already, by the id of the minigrad object: a module or parameter
    used at several places (``Sequential(block, block)``, an output layer tied to the
    embedding) becomes ONE PyTorch object used at those places, so it stays tied."""

    def __init__(self) -> None:
        self.modules: dict[int, Any] = {}
        self.parameters: dict[int, Any] = {}

    def tie(self, module: Module, converted: Any) -> None:
        """Give `converted` the PyTorch parameter of every parameter of `module` that was
        converted before; remember the others, frozen where the minigrad one is (a PyTorch
        layer's parameters are built requiring grad)."""
        for name, parameter in module._parameters.items():
            if parameter is None:
                continue
            if id(parameter) in self.parameters:
                setattr(converted, name, self.parameters[id(parameter)])
            else:
                self.parameters[id(parameter)] = getattr(converted, name)
                self.parameters[id(parameter)].requires_grad_(parameter.requires_grad)


def _children_at_every_place(module: Module) -> list[tuple[str, Module]]:
    """A container's children at every place: named_children() lists a child used twice
    once (PyTorch's rule), but the twin of Sequential(lin, lin) needs '0' and '1'."""
    return [(name, child) for name, child in module._modules.items() if child is not None]


def _convert(torch: Any, module: Module, path: str, shared: _Shared) -> Any:
    if id(module) in shared.modules:
        return shared.modules[id(module)]
    if isinstance(module, Sequential) and type(module).forward is Sequential.forward:
        converted = torch.nn.Sequential(OrderedDict(
            (name, _convert(torch, child, f"{path}.{name}", shared)) for name, child in
            _children_at_every_place(module)))
    elif type(module) is containers.ModuleList:
        converted = torch.nn.ModuleList([_convert(torch, child, f"{path}.{name}", shared)
                                         for name, child in _children_at_every_place(module)])
    elif type(module) is containers.ModuleDict:
        converted = torch.nn.ModuleDict(OrderedDict(
            (name, _convert(torch, child, f"{path}.{name}", shared))
            for name, child in _children_at_every_place(module)))
    elif type(module) is containers.ParameterList:
        converted = torch.nn.ParameterList()  # (it counts appends: no register_parameter)
        for parameter in module._parameters.values():
            if id(parameter) not in shared.parameters:  # else tied to its first conversion
                shared.parameters[id(parameter)] = _torch_parameter(torch, parameter)
            converted.append(shared.parameters[id(parameter)])
    elif _user_forward_class(module) is not None:
        converted = _convert_custom(torch, module, path, shared)
    else:
        library_class = next((cls for cls in type(module).__mro__ if cls in _CONVERTERS), None)
        if library_class is None:
            raise TypeError(
                f"to_torch: cannot convert {type(module).__name__} (at '{path}'): it has no "
                "known PyTorch equivalent. Fix: replace it with a layer that converts (see "
                "minigrad/nn/utils/torch_bridge.py), or build that part in PyTorch by hand "
                "and copy the weights with model.state_dict(as_torch=True).")
        converted = _CONVERTERS[library_class](torch, module)
        state = module.state_dict()
        floating = [a.dtype for a in state.values() if a.dtype.kind == "f"]
        if floating:
            converted = converted.to(torch.from_numpy(np.zeros(0, floating[0])).dtype)
        converted.load_state_dict(state_dict_to_torch(state))
        shared.tie(module, converted)
    converted.training = module.training  # each node's own mode: a mixed tree stays mixed
    shared.modules[id(module)] = converted
    return converted


def _torch_parameter(torch: Any, parameter: Any) -> Any:
    """A copy of a minigrad parameter (or None) as a torch Parameter."""
    if parameter is None:
        return None
    return torch.nn.Parameter(torch.from_numpy(parameter.data.copy()),
                              requires_grad=parameter.requires_grad)


def _convert_custom(torch: Any, module: Module, path: str, shared: _Shared) -> Any:
    user_class = _user_forward_class(module)
    assert user_class is not None  # _convert calls this only for such modules
    torch_class = _torch_class_for(torch, user_class)
    converted = torch_class.__new__(torch_class)
    torch.nn.Module.__init__(converted)
    for name, child in module._modules.items():
        converted.add_module(name, None if child is None else
                             _convert(torch, child, f"{path}.{name}", shared))
    for name, parameter in module._parameters.items():
        converted.register_parameter(name, _torch_parameter(torch, parameter))
    shared.tie(module, converted)
    not_saved = getattr(module, "_non_persistent_buffers", ())
    for name, buffer in module._buffers.items():
        converted.register_buffer(name, None if buffer is None else
                                  torch.from_numpy(buffer.data.copy()),
                                  persistent=name not in not_saved)
    registered = set(module._modules) | set(module._parameters) | set(module._buffers)
    for name, value in vars(module).items():
        if name in _MODULE_INTERNALS or name in registered:
            continue
        if isinstance(value, Tensor):  # an unregistered constant tensor
            value = torch.from_numpy(value.data.copy())
        setattr(converted, name, value)
    return converted


def to_torch(model: Module) -> Any:
    """An equivalent ``torch.nn.Module``: same structure and state_dict names, weights and
    buffers (copies), dtype, and train/eval mode. See the module docstring for what
    converts; anything else raises a TypeError naming the layer. Needs PyTorch
    (``pip install torch``)."""
    torch = _import_torch()
    if not isinstance(model, Module):
        raise TypeError(f"to_torch: expected a minigrad nn.Module, got {type(model).__name__}.")
    return _convert(torch, model, type(model).__name__, _Shared())


__all__ = ["state_dict_to_torch", "to_torch"]
