"""Walking a tree of modules without recursion: the orders `Module.named_modules`,
`named_parameters`, `named_buffers`, `state_dict`, `Module.apply` and `Module.train` use.

Split from `module.py` so that the Module class reads as its interface, and the walks,
which differ mostly in how they treat a module registered at several places (or
inside itself), sit side by side here. Every walk uses an explicit stack: a model of
thousands of nested modules must not hit Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minigrad.nn.module import Module


def _named_children(name: str, module: Module) -> list[tuple[str, Module]]:
    """The registered children of `module` with their dotted names below `name`."""
    return [(f"{name}.{child_name}" if name else child_name, child)
            for child_name, child in module._modules.items() if child is not None]


def modules_once(root: Module, prefix: str = "") -> Iterator[tuple[str, Module]]:
    """Pre-order, each module once, under its first name: `named_modules()`. A module seen
    before (shared, or inside itself) is skipped, so the walk always ends."""
    stack = [(prefix, root)]
    seen = set()
    while stack:
        name, module = stack.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        yield name, module
        stack.extend(reversed(_named_children(name, module)))


def modules_every_place(root: Module, prefix: str = "") -> Iterator[tuple[str, Module]]:
    """`named_modules(remove_duplicate=False)`: the same pre-order, shared modules at each
    place; a module is skipped only below itself (a cycle), where the walk would not end."""
    stack: list[tuple[str, Module, frozenset[int]]] = [(prefix, root, frozenset())]
    while stack:
        name, module, ancestors = stack.pop()
        if id(module) in ancestors:
            continue
        yield name, module
        below = ancestors | {id(module)}
        stack.extend((child_name, child, below)
                     for child_name, child in reversed(_named_children(name, module)))


def named_members(root: Module, registry: str, prefix: str = "", recurse: bool = True,
                  remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
    """The parameters (`registry` '_parameters') or buffers ('_buffers') of `root` and, with
    `recurse`, of its descendants, with dotted names: `named_parameters`, `named_buffers`.
    A tensor registered at several places is listed once, under its first name, unless
    `remove_duplicate` is False (then every place of a shared module is walked too)."""
    if not recurse:
        modules: Iterable[tuple[str, Module]] = [(prefix, root)]
    elif remove_duplicate:
        modules = modules_once(root, prefix)
    else:
        modules = modules_every_place(root, prefix)
    seen = set()
    for module_name, module in modules:
        for name, tensor in getattr(module, registry).items():
            if tensor is None or (remove_duplicate and id(tensor) in seen):
                continue
            seen.add(id(tensor))
            yield (f"{module_name}.{name}" if module_name else name), tensor


def post_order(root: Module) -> list[Module]:
    """Every descendant, then `root` (PyTorch's order for `Module.apply`); a shared module at
    every place. A module inside itself is a ValueError, raised before the caller does
    anything: the walk would never end (PyTorch: RecursionError)."""
    # A right-to-left pre-order, reversed.
    order: list[Module] = []
    stack: list[tuple[Module, frozenset[int]]] = [(root, frozenset())]
    while stack:
        module, ancestors = stack.pop()
        if id(module) in ancestors:
            raise ValueError(f"Module.apply: a {type(module).__name__} contains itself (a "
                             "cycle of child modules), so the walk would never end. Fix: "
                             "remove the module registered inside itself.")
        order.append(module)
        below = ancestors | {id(module)}
        stack.extend((child, below) for child in module.children())
    order.reverse()
    return order


def set_training(root: Module, mode: bool) -> None:
    """`Module.train(mode)`'s walk: `root` and its descendants to training mode `mode`.

    PyTorch calls child.train(mode) for every child, in registration order, depth first,
    so a child that overrides train (say, to keep its BatchNorm in eval mode) is obeyed,
    and a module shared between such a child and a plain place ends up as the later place
    says. The same order here, without recursion (a pre-order walk): a child with its own
    train() is called and looks after its subtree. A shared module is visited at every
    place, as in PyTorch; only a module inside itself is skipped (PyTorch would recurse
    until RecursionError).
    """
    from minigrad.nn.module import Module  # (at call time: module.py imports this file)

    object.__setattr__(root, "training", mode)
    above = frozenset({id(root)})
    stack = [(child, above) for child in reversed(list(root.children()))]
    while stack:
        module, ancestors = stack.pop()
        if id(module) in ancestors:
            continue
        if type(module).train is not Module.train:
            module.train(mode)
            continue
        object.__setattr__(module, "training", mode)
        above = ancestors | {id(module)}
        stack.extend((child, above) for child in reversed(list(module.children())))
