"""The modules a graph passed through, as its nodes' scopes record them.

Three questions the picture asks of them: which module a parameter should be drawn in
(`common_scope`), what a parameter is called (`owner_names`: asked of the module objects
themselves), and which modules to fold into one box (`collapse_names`, `check_patterns`,
`auto_level`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from minigrad.autograd import Scope


def common_scope(scopes: list[Scope | None]) -> Scope | None:
    """The innermost module that encloses all `scopes`."""
    paths = [scope.path() if scope is not None else [] for scope in scopes]
    prefix = paths[0]
    for path in paths[1:]:
        n = 0
        while n < min(len(prefix), len(path)) and prefix[n] == path[n]:
            n += 1
        prefix = prefix[:n]
    return prefix[-1] if prefix else None


def names_from(params: Any, caller: str = "draw_graph") -> dict[int, str]:
    """``params`` as {id(node): name}: a mapping, (name, node) pairs or a module; anything
    else is a TypeError naming `caller` (a list of tensors would pass for pairs: a tensor
    of two rows unpacks into two)."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = params.named_parameters()
    items = params.items() if isinstance(params, Mapping) else params
    wanted = (f"{caller}: the names (params=, model=) must be a module, a dict {{name: "
              f"tensor}} or (name, tensor) pairs; got {type(params).__name__}")
    fix = ". Fix: pass the model, or dict(model.named_parameters())."
    if hasattr(params, "parameters"):  # a model of its own making (micrograd's MLP)
        fix = (" (it has parameters() but no named_parameters(): not an nn.Module). Fix: "
               "name them yourself, e.g. {f'p{i}': p for i, p in "
               "enumerate(model.parameters())}.")
    try:
        items = list(items)
    except TypeError:
        raise TypeError(wanted + fix) from None
    for item in items:
        if (not isinstance(item, tuple) or len(item) != 2 or hasattr(item[0], "_parents")
                or not hasattr(item[1], "_parents")):
            shape = f" of shape {item.shape}" if hasattr(item, "shape") else ""
            raise TypeError(f"{wanted} holding a {type(item).__name__}{shape}{fix}")
    return {id(node): str(name) for name, node in items}


def owner_names(scopes: Iterable[Scope], wanted: set[int]) -> dict[int, str]:
    """Names for the parameters in `wanted` (ids), asked of the modules that own them.

    A parameter knows nothing of its module, but every module call records its module in
    the scope (`Scope.module`), so the modules of the drawn graph are at hand: the
    outermost first (``fc1.weight`` rather than ``weight``), each prefixed with its
    qualified name, until every wanted parameter is named.
    """
    names: dict[int, str] = {}
    for scope in sorted(scopes, key=lambda scope: len(scope.path())):
        if len(names) == len(wanted):
            break
        named_parameters = getattr(scope.module, "named_parameters", None)
        if named_parameters is None:
            continue
        prefix = scope.qualified_name()
        for name, parameter in named_parameters():
            if id(parameter) in wanted:
                names.setdefault(id(parameter), f"{prefix}.{name}" if prefix else name)
    return names


def user_label(node: Any, names: dict[int, str]) -> str:
    label = getattr(node, "name", None) or getattr(node, "label", None)
    return str(label) if label else names.get(id(node), "")


AUTO = "auto"
AUTO_COLLAPSE_BOXES = 100  # collapse="auto" folds modules when a picture has more boxes


def collapse_names(collapse: Any, caller: str) -> str | tuple[str, ...]:
    """`collapse` as `caller` (``draw_graph``, ``explore``) takes it: "auto", or the module
    names or types to fold, as a tuple (read once: a generator is not emptied by the check
    of the names). Anything else is a TypeError naming the fix: `set(3)` said only "'int'
    object is not iterable"."""
    if isinstance(collapse, str):
        return collapse if collapse == AUTO else (collapse,)
    usage = ("collapse='auto' (fold when the picture is large), collapse=() (never fold), or "
             "module names or types as strings, e.g. collapse='bn1' or "
             "collapse=['fc1', 'BatchNorm1d']")
    is_module = isinstance(collapse, type) or hasattr(collapse, "named_modules")
    if (is_module or isinstance(collapse, bool | bytes)
            or not isinstance(collapse, Iterable)):
        names: tuple[Any, ...] = (collapse,)  # (a Sequential is iterable: its layers)
    else:
        names = tuple(collapse)
    for name in names:
        if isinstance(name, str):
            continue
        if isinstance(name, type) or hasattr(name, "named_modules"):  # a class or a module
            type_name = name.__name__ if isinstance(name, type) else type(name).__name__
            got = f"the class {type_name}" if isinstance(name, type) else f"a {type_name} module"
            raise TypeError(f"{caller}: collapse takes module names or types as strings, got "
                            f"{got}. Fix: collapse={type_name!r} (every {type_name}), or the "
                            "module's name in the model, e.g. collapse='bn1'.")
        size = (" (to limit the picture's size, use max_nodes=)" if name is collapse and
                isinstance(name, int | float) and not isinstance(name, bool) else "")
        raise TypeError(f"{caller}: collapse takes module names or types as strings, got "
                        f"{type(name).__name__} {name!r:.60}{size}. Fix: {usage}.")
    return names


def all_scopes(scopes: list[Scope | None]) -> set[Scope]:
    """Every scope in use, with its enclosing ones."""
    found: set[Scope] = set()
    for scope in set(scopes):
        while scope is not None and scope not in found:
            found.add(scope)
            scope = scope.parent
    return found


def qualified_names(scopes: Iterable[Scope]) -> set[str]:
    """The qualified names of `scopes` and of the modules enclosing them (``features.bn1``,
    ``features``): what `matches` reads a pattern as first."""
    return {s.qualified_name() for scope in scopes for s in scope.path()}


def matches(scope: Scope, patterns: set[str], paths: set[str]) -> bool:
    """True when a collapse pattern names `scope`: its type (``BatchNorm1d``), its
    qualified name (``features.bn1``) or its own name (``bn1``, as `explore` reads it too:
    it may fold one module in each of several blocks).

    `paths`: the qualified names of the graph's modules (`qualified_names`). A pattern that
    is one of them names that module only: in ``Sequential(Sequential(..), Sequential(..))``
    "0" is the first block, not also the first layer of every block ("1.0")."""
    if scope.type_name in patterns or scope.qualified_name() in patterns:
        return True
    return bool(scope.name) and scope.name in patterns and scope.name not in paths


def check_patterns(patterns: set[str], in_use: set[Scope]) -> None:
    """Refuse collapse names that match no module of the graph, listing those that exist."""
    paths = qualified_names(in_use)
    unknown = sorted(pattern for pattern in patterns
                     if not any(matches(scope, {pattern}, paths) for scope in in_use))
    if unknown and not in_use:
        raise ValueError(
            f"draw_graph: collapse={', '.join(map(repr, unknown))}, but this graph has no "
            "modules to fold: none of its nodes was made inside an nn.Module's forward (a "
            "graph of Values, or of tensor operations written out). Fix: leave collapse "
            "out.")
    if unknown:
        modules = sorted({scope.label() if not scope.parent else
                          f"{scope.qualified_name()} ({scope.type_name})" for scope in in_use
                          if scope.qualified_name()})
        raise ValueError(
            f"draw_graph: collapse={', '.join(map(repr, unknown))} matches no module of this "
            f"graph. Its modules: {', '.join(modules) or 'none'}; types: "
            f"{', '.join(sorted({s.type_name for s in in_use})) or 'none'}. Fix: use one of "
            "these names or types.")


def fold_suggestion(clusters: Iterable[Scope | None]) -> str | None:
    """The module type whose folding saves the most boxes, for a hint that names a module
    the graph has (not one it may lack, as a fixed example would); None when folding none
    would help. `clusters`: the module of each drawn box not folded already.

    Folding a type leaves one box per call of it. Nested modules come first: an outermost
    one (the model: one box for everything shows nothing) only when none of them helps and
    the graph has several (the model and its loss module)."""
    paths = [cluster.path() for cluster in clusters if cluster is not None]
    best = _most_saved([path[1:] for path in paths])
    if best is None and len({path[0] for path in paths}) > 1:
        best = _most_saved(paths)
    return best


def _most_saved(paths: list[list[Scope]]) -> str | None:
    inside: dict[str, int] = {}  # boxes within a module of each type
    calls: dict[str, set[Scope]] = {}  # the calls that hold them (each type's outermost)
    for path in paths:
        outermost: dict[str, Scope] = {}
        for scope in path:
            outermost.setdefault(scope.type_name, scope)
        for type_name, scope in outermost.items():
            inside[type_name] = inside.get(type_name, 0) + 1
            calls.setdefault(type_name, set()).add(scope)
    saved = {name: inside[name] - len(calls[name]) for name in inside}
    best = min(saved, key=lambda name: (-saved[name], name), default=None)
    return best if best is not None and saved[best] > 0 else None


def auto_level(scopes: list[Scope | None], shown: list[int]) -> int | None:
    """The nesting depth at which to fold every module so the picture keeps at most
    `AUTO_COLLAPSE_BOXES` boxes (the deepest level that suffices), or None."""
    if len(shown) <= AUTO_COLLAPSE_BOXES:
        return None
    paths = [scope.path() if scope is not None else [] for scope in scopes]
    deepest = max((len(path) for path in paths), default=0)
    best = None
    for level in range(deepest, 0, -1):
        folded = {paths[i][level - 1] for i in shown if len(paths[i]) >= level}
        if level == 1 and len(folded) < 2:
            break  # folding the one outermost model into one box shows nothing
        best = level
        if sum(len(paths[i]) < level for i in shown) + len(folded) <= AUTO_COLLAPSE_BOXES:
            break
    return best  # when even this is too many, max_nodes caps the rest
