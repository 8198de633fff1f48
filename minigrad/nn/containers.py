"""`ModuleList` and `ModuleDict`: hold sub-modules in a list or a dict, registered;
`ParameterList`: the same for parameters.

A plain Python list of layers hides them from ``parameters()``, ``state_dict()``, ``train()``
and the optimiser; these containers register every element as a child, under its index
(``"layers.0.weight"``) or its key (``"heads.cls.weight"``) — PyTorch's state_dict names.
They have no ``forward``: the parent module decides how to call the elements.
`ParameterList` registers each parameter under its index, so a model's
``self.weights = nn.ParameterList(...)`` gives the keys ``"weights.0"``, ``"weights.1"``.
`Sequential` is the container that does have one: it calls its elements in order.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from minigrad.nn.module import Module, Parameter
from minigrad.tensor import Tensor


def _replace_in_place(container: Module, key: str, module: Module) -> None:
    """Register `module` under `key`, keeping the key's position if it exists
    (re-registration appends it at the end of the ordered registry)."""
    order = list(container._modules)
    container.add_module(key, module)
    if key in order:
        for later in order[order.index(key) + 1:]:
            container._modules.move_to_end(later)


def _view(modules: list[Module]) -> ModuleList:
    """A new ModuleList of `modules` (a slice, a sum) that leaves their scope labels as they
    are while it is only used (``for layer in self.layers[1:]`` inside a forward: the layers
    are still drawn as '1', '2', their names in the container that owns them). Once the new
    list is stored as a child (``self.layers = self.layers[1:]``), `Module.__setattr__`
    labels its modules by its keys, the names named_modules() and state_dict() then use."""
    labels = [module._scope_name for module in modules]
    view = ModuleList(modules)
    for module, label in zip(modules, labels):
        object.__setattr__(module, "_scope_name", label)
    object.__setattr__(view, "_labels_on_registration", True)
    return view


def _renumber(container: Module, modules: list[Module]) -> None:
    """Re-register `modules` under the keys '0', '1', ... (after an insert or delete)."""
    for key in list(container._modules):
        container._modules.pop(key)
        container.__dict__.pop(key, None)
    for position, module in enumerate(modules):
        container.add_module(str(position), module)


def _expect_module(module: Any, where: str) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{where}: expected a Module, got {type(module).__name__}. Fix: wrap "
                        "functions in a Module subclass (or use nn.Identity).")
    return module


def _position(index: Any, size: int, owner: str, items: str, bools: bool = True) -> int:
    """`index` of a list of `size` `items` as a position in ``[0, size)`` (negative ones
    count from the end); a TypeError for anything but an integer (an int, or a NumPy
    integer via ``operator.index``, as PyTorch; a bool only if `bools`), an IndexError
    naming `owner` when it is out of range."""
    try:
        if isinstance(index, bool) and not bools:
            raise TypeError
        index = operator.index(index)
    except TypeError:
        raise TypeError(f"{owner}: indices must be integers or slices, got "
                        f"{type(index).__name__}.") from None
    if not -size <= index < size:
        raise IndexError(f"{owner}: index {index} is out of range for {size} {items}.")
    return index % size


class ModuleList(Module):
    """A list of modules: ``self.blocks = nn.ModuleList([Block() for _ in range(4)])``, then
    ``for block in self.blocks: x = block(x)``. Indexing (negative too), slicing (a new
    ModuleList), ``len``, iteration, ``append``, ``extend``, ``insert``, ``pop``, ``del``,
    ``+=`` and ``+``, as for a list."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, index: int) -> int:
        return _position(index, len(self), "ModuleList", "module(s)")

    def _renumber(self, modules: list[Module]) -> None:
        _renumber(self, modules)

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return _view(modules[index])
        return modules[self._index(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        _replace_in_place(self, str(self._index(index)), _expect_module(module, "ModuleList"))

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[self._index(index)]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return _view([*self, *other])

    def append(self, module: Module) -> ModuleList:
        """Add `module` at the end; returns self."""
        self.add_module(str(len(self)), _expect_module(module, "ModuleList.append"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each module of `modules`; returns self."""
        if isinstance(modules, Module) and not isinstance(modules, ModuleList):
            raise TypeError("ModuleList.extend: expected an iterable of modules, got a single "
                            f"{type(modules).__name__}. Fix: use append.")
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert `module` before position `index` (as ``list.insert``)."""
        modules = list(self._modules.values())
        modules.insert(index, _expect_module(module, "ModuleList.insert"))
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at `index` (the last by default)."""
        module = self[index]
        del self[index]
        return module

    def __repr__(self) -> str:
        # PyTorch's compact form: a run of identical children prints once, "(0-2): 3 x Linear(...)"
        children = [(name, repr(module)) for name, module in self._modules.items()]
        if not children:
            return "ModuleList()"
        lines, start = [], 0
        while start < len(children):
            end = start
            while end + 1 < len(children) and children[end + 1][1] == children[start][1]:
                end += 1
            text = children[start][1].replace("\n", "\n  ")
            if end == start:
                lines.append(f"  ({children[start][0]}): {text}")
            else:
                lines.append(f"  ({children[start][0]}-{children[end][0]}): "
                             f"{end - start + 1} x {text}")
            start = end + 1
        return "ModuleList(\n" + "\n".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules by string key: ``self.heads = nn.ModuleDict({"cls": ..., "box": ...})``,
    then ``self.heads["cls"](x)``. Insertion order is kept; ``keys``, ``values``, ``items``,
    ``update``, ``pop``, ``clear``, ``in``, ``len``, iteration over the keys, as for a dict."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
                 ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict: no module named {key!r}; the keys are "
                           f"{list(self._modules)}.")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict: keys must be strings, got {type(key).__name__} "
                            f"{key!r}. Fix: use str(key).")
        if key not in self._modules and hasattr(self, key):
            raise KeyError(f"ModuleDict: the key {key!r} would hide the attribute or method of "
                           "the same name. Fix: choose another key.")
        _replace_in_place(self, key, _expect_module(module, "ModuleDict"))

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 (raises the clear KeyError for unknown keys)
        self._modules.pop(key)
        self.__dict__.pop(key, None)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> list[str]:
        return list(self._modules.keys())

    def values(self) -> list[Module]:
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        return list(self._modules.items())

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping or from (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping | ModuleDict) else modules
        for pair in pairs:
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise TypeError(f"ModuleDict.update: expected (key, module) pairs, got {pair!r}.")
            self[pair[0]] = pair[1]

    def pop(self, key: str) -> Module:
        """Remove and return the module under `key`."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in self.keys():
            del self[key]


def _as_parameter(value: Any, where: str) -> Parameter:
    """A Parameter as given; a plain Tensor becomes one (requiring grad), as PyTorch's
    ParameterList does. Anything else is refused: it would sit in the list untrained."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)  # (a copy of its values: minigrad's Parameter(tensor) copies)
    raise TypeError(f"{where}: expected a Parameter or a Tensor, got {type(value).__name__} "
                    f"{value!r:.40}. Fix: wrap the values, nn.Parameter(mg.tensor(values)) (a "
                    "number or array in a ParameterList would not be trained; PyTorch keeps "
                    "it as a plain attribute, minigrad refuses it).")


class ParameterList(Module):
    """A list of parameters, registered under '0', '1', ... (PyTorch's
    ``nn.ParameterList``): ``self.scales = nn.ParameterList([nn.Parameter(mg.ones(4)) for _
    in range(3)])`` puts them in ``parameters()``, ``named_parameters()`` ("scales.0"),
    ``state_dict()``, the optimiser and ``model.to(dtype)``, which a plain Python list would
    not. A Tensor that is not a Parameter is made one (requiring grad), as in PyTorch.
    Indexing (negative too), slicing (a new ParameterList of the same parameters), ``len``,
    iteration, ``append``, ``extend``, ``+=`` and assignment ``plist[i] = p``, as for a
    list."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, index: Any) -> int:
        return _position(index, len(self), "ParameterList", "parameter(s)", bools=False)

    def __getitem__(self, index: int | slice) -> Any:
        values = list(self._parameters.values())
        if isinstance(index, slice):
            return ParameterList(values[index])
        return values[self._index(index)]

    def __setitem__(self, index: int, value: Any) -> None:
        """Replace the parameter at `index` (its key, and its place in state_dict, stay)."""
        self.register_parameter(str(self._index(index)), _as_parameter(value, "ParameterList"))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(list(self._parameters.values()))

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        """Add `value` (a Parameter, or a Tensor made one) at the end; returns self."""
        self.register_parameter(str(len(self)), _as_parameter(value, "ParameterList.append"))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append each of `values`; returns self."""
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError(f"ParameterList.extend: expected an iterable of parameters, got "
                            f"{'a single ' if isinstance(values, Tensor) else ''}"
                            f"{type(values).__name__}. Fix: use append for one parameter, or "
                            "pass a list.")
        for value in list(values):
            self.append(value)
        return self

    def extra_repr(self) -> str:
        # PyTorch's form: one line per parameter, its dtype and size, not its values
        lines = []
        for key, parameter in self._parameters.items():
            size = "x".join(map(str, parameter.shape))
            lines.append(f"  ({key}): Parameter containing: [minigrad.{parameter.dtype} of size "
                         f"{size}]")
        return "\n" + "\n".join(lines) + "\n" if lines else ""


class Sequential(Module):
    """Modules applied one after another: ``Sequential(nn.Linear(2, 3), nn.ReLU())`` (keys
    '0', '1', ...) or ``Sequential(OrderedDict(fc=..., act=...))``. Like a list, as in
    PyTorch: ``model[0]``, ``model[1:]`` (a Sequential keeping the keys), ``len``,
    iteration, ``model[-1] = nn.Identity()``, ``del model[0]`` (renumbers), ``append``,
    ``extend``, ``insert``, ``pop``."""

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        items: list[tuple[str, Any]]
        if len(modules) == 1 and isinstance(modules[0], OrderedDict | dict):
            items = list(modules[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(modules)]
        for name, module in items:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: item {name} is a {type(module).__name__}, not a "
                                "Module. Fix: wrap functions in a Module subclass.")
            self.add_module(name, module)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            # The children keep their names, as in PyTorch: model[2:]'s state_dict keys are
            # the model's ('2.weight'), and the children's scope labels in drawings stay.
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[index]

    def __setitem__(self, index: int, module: Module) -> None:
        """Replace the module at `index`, under the same key (``model[-1] = new_head``)."""
        key = list(self._modules)[index]
        _replace_in_place(self, key, _expect_module(module, "Sequential"))

    def __delitem__(self, index: int | slice) -> None:
        """Remove the module(s) at `index`; the rest are renumbered '0', '1', ... as in
        PyTorch."""
        modules = list(self._modules.values())
        del modules[index]
        _renumber(self, modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add `module` at the end; returns self."""
        self.add_module(str(len(self)), _expect_module(module, "Sequential.append"))
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Append each module of `modules`; returns self."""
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert `module` before position `index` (``-len(self) <= index <= len(self)``,
        as in PyTorch: out of range is an IndexError, not an append); the modules are
        renumbered."""
        modules = list(self._modules.values())
        if not -len(modules) <= index <= len(modules):
            raise IndexError(f"Sequential.insert: index {index} is out of range for "
                             f"{len(modules)} module(s). Fix: use an index in "
                             f"[{-len(modules)}, {len(modules)}], or append.")
        modules.insert(index, _expect_module(module, "Sequential.insert"))
        _renumber(self, modules)
        return self

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at `index` (the last by default)."""
        module = self[index]
        del self[index]
        return module
