"""`ValueType`, the class of `minigrad.value.Value`: why `Value` has no ``__init__``.

The ops make tens of thousands of nodes, each with `bare_constructor(Value)`: `type`'s own
C constructor bound to `Value`, which allocates a node and, for a class without an
``__init__`` of its own, runs no Python code. ``object.__new__(Value)``, the other way to
skip ``__init__``, builds and slices an argument tuple on every call: ~290 instructions more
per node, 5% of a scalar training step (cachegrind; benchmarks/README.md, "Scalar engine").
So ``Value(data, ...)`` runs `ValueType.__call__`, which does ``type.__call__``'s steps with
``Value._initialise`` where ``Value.__init__`` would run. A subclass may define ``__init__``
and call ``super().__init__(data, ...)`` as usual; ``Value.__init__`` itself is
``object.__init__``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")


class ValueType(type):
    """A class whose calls run ``_initialise(*args, **kwargs)`` on the new instance instead
    of ``__init__`` (which it must not define; a subclass may, see `__new__`)."""

    def __new__(mcls, name: str, bases: tuple, namespace: dict[str, Any], **kwargs: Any) -> Any:
        if "__init__" in namespace and any(isinstance(base, ValueType) for base in bases):
            bases = (*bases, _SuperInit)  # its __init__ may call super().__init__(data, ...)
        return super().__new__(mcls, name, bases, namespace, **kwargs)

    def __call__(cls: type[_T], *args: Any, **kwargs: Any) -> _T:
        new = cls.__new__
        node = object.__new__(cls) if new is object.__new__ else new(cls, *args, **kwargs)
        if isinstance(node, cls):  # as type.__call__: only an instance of cls is initialised
            if _has_own_init(cls):
                node.__init__(*args, **kwargs)  # type: ignore[misc]  # a subclass's own
            else:
                node._initialise(*args, **kwargs)  # type: ignore[attr-defined]
        return node

    @property
    def __signature__(cls) -> inspect.Signature:
        """What ``inspect.signature(Value)`` and ``help`` show: the arguments of
        ``_initialise``, or of a subclass's own ``__init__``."""
        init = cls.__init__ if _has_own_init(cls) else cls._initialise  # type: ignore[misc,attr-defined]
        parameters = list(inspect.signature(init).parameters.values())[1:]  # not self
        return inspect.Signature(parameters)


def bare_constructor(cls: type[_T]) -> Callable[[], _T]:
    """A function making an instance of `cls` (a `ValueType` class) with no slot set."""
    assert not _has_own_init(cls)  # else it would run
    return type.__call__.__get__(cls)


def _has_own_init(cls: type) -> bool:
    """Whether `cls` or a class between it and `object` defines ``__init__``."""
    return cls.__init__ is not object.__init__  # type: ignore[misc]


class _SuperInit:
    """The ``super().__init__(...)`` of a `ValueType` subclass that defines ``__init__``
    (added to its bases by `ValueType.__new__`): the class's ``_initialise``."""

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._initialise(*args, **kwargs)  # type: ignore[attr-defined]
