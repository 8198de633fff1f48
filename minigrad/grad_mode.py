"""Grad mode and the other switches a block of code turns on or off: `no_grad`,
`enable_grad`, `set_grad_enabled` and `retain_grads` (PyTorch's names), each a context
manager and a decorator, each per thread and asyncio task.

`inference_mode` is `no_grad` under PyTorch's other name. Split out of
`minigrad.autograd`, which re-exports these names; `detect_anomaly` is in
`minigrad.anomaly`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from minigrad.engine_state import EngineState, _engine_state


class _Switch:
    """Base of the context managers that change one field of the engine state for a block:
    ``with no_grad(): ...`` or as a decorator, ``@no_grad()``. On exit the state from before
    the block is put back, even after an exception. Each ``with`` uses its own instance
    (the decorator makes a fresh one per call), so concurrent calls never share one."""

    __slots__ = ("previous",)

    def _changed(self, state: EngineState) -> EngineState:
        raise NotImplementedError

    def __enter__(self) -> None:
        self.previous = previous = _engine_state.get()
        _engine_state.set(self._changed(previous))

    def __exit__(self, *exc_info: Any) -> None:
        _engine_state.set(self.previous)

    def __call__(self, function: Callable) -> Callable:
        """Use as a decorator: the whole function runs inside the block. For a generator
        function, each step of the generator does (as in PyTorch): calling one only makes
        the generator object, so a block around the call alone would leave its body out."""
        make = self._fresh
        if inspect.isgeneratorfunction(function):
            return _generator_inside(function, make)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with make():
                return function(*args, **kwargs)

        return wrapper

    def _fresh(self) -> _Switch:
        raise NotImplementedError


def _generator_inside(function: Callable, make: Callable[[], _Switch]) -> Callable:
    """A generator function whose every step (``next``, ``send``, ``throw``, ``close``) runs
    inside a fresh block made by `make`; between steps the caller's state is back."""
    @functools.wraps(function)
    def generator(*args: Any, **kwargs: Any) -> Any:
        inner = function(*args, **kwargs)
        step, value = inner.send, None
        while True:
            try:
                with make():
                    item = step(value)
            except StopIteration as finished:
                return finished.value
            try:
                value = yield item
                step = inner.send
            except GeneratorExit:
                with make():
                    inner.close()
                raise
            except BaseException as error:  # thrown in by the caller: passed on
                step, value = inner.throw, error

    return generator


class _GradMode(_Switch):
    __slots__ = ("enabled",)

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _changed(self, state: EngineState) -> EngineState:
        return EngineState(self.enabled, state.anomaly, state.scope)

    def _fresh(self) -> _GradMode:
        return _GradMode(self.enabled)


def no_grad(function: Callable | None = None) -> Any:
    """Context manager (or decorator): operations inside record no graph (evaluation,
    weight updates). Affects only the calling thread or asyncio task. As a decorator it
    may be written with or without parentheses, as in PyTorch 2 (``@no_grad()``,
    ``@no_grad``)."""
    return _GradMode(False) if function is None else _GradMode(False)(function)


def enable_grad(function: Callable | None = None) -> Any:
    """Context manager (or decorator, with or without parentheses): turn graph recording
    back on inside `no_grad()`."""
    return _GradMode(True) if function is None else _GradMode(True)(function)


def inference_mode(mode: bool | Callable = True) -> Any:
    """PyTorch's ``inference_mode``: a context manager (or decorator, with or without
    parentheses) for evaluation. Here it is `no_grad()` (``inference_mode(False)``:
    `enable_grad()`, as in PyTorch). One difference: PyTorch marks the tensors made inside
    as *inference tensors*, which autograd then refuses to save (that is where its speed-up
    comes from); here they are ordinary tensors without a graph, usable later as constants,
    as tensors made under `no_grad()` are in both."""
    if callable(mode) and not isinstance(mode, bool):
        return _GradMode(False)(mode)
    if not isinstance(mode, bool | int):
        raise TypeError(f"inference_mode: mode must be a bool or a function to decorate, got "
                        f"{type(mode).__name__} {mode!r:.40}. Fix: e.g. inference_mode() or "
                        "inference_mode(False).")
    return _GradMode(not mode)


class set_grad_enabled(_GradMode):  # noqa: N801 (PyTorch's name; used like a function)
    """Turn graph recording on or off, as PyTorch's ``set_grad_enabled(mode)``: called
    alone it switches the mode at once (for the calling thread or asyncio task, until
    changed again); as ``with set_grad_enabled(is_training):`` (or a decorator) it also puts
    the previous mode back at the end of the block."""

    __slots__ = ()

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool | int):
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {type(mode).__name__} "
                            f"{mode!r:.40}. Fix: e.g. set_grad_enabled(False).")
        super().__init__(bool(mode))
        self.previous = previous = _engine_state.get()  # in force at once, as in PyTorch
        _engine_state.set(EngineState(self.enabled, previous.anomaly, previous.scope))

    def __enter__(self) -> None:
        # The mode was switched by the constructor; `previous` is what it replaced (the
        # state is read again in case something changed it in between).
        current = _engine_state.get()
        _engine_state.set(EngineState(self.enabled, current.anomaly, current.scope))

    def __call__(self, function: Callable) -> Callable:
        """As a decorator, the mode is the function's only: decorating puts the previous
        mode back (as PyTorch does), and each call switches and restores it."""
        _engine_state.set(self.previous)
        return super().__call__(function)

    def _fresh(self) -> _GradMode:
        return _GradMode(self.enabled)


_retain_all_grads: ContextVar[bool] = ContextVar("minigrad_retain_grads", default=False)


class retain_grads(_Switch):  # noqa: N801 (used like a function: `with retain_grads():`)
    """Context manager (or decorator): every ``backward()`` run inside stores ``.grad`` on
    *every* node of the graph, intermediate results included (micrograd's behaviour; by
    default a Tensor graph keeps only the leaves', the root's and ``retain_grad()``'s).

    It costs one gradient array per node for as long as the graph lives: use it to inspect
    a graph, not to train. Per thread and per asyncio task, like `no_grad`.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        self.previous = _retain_all_grads.get()  # type: ignore[assignment]  # the slot is shared
        _retain_all_grads.set(True)

    def __exit__(self, *exc_info: Any) -> None:
        _retain_all_grads.set(self.previous)  # type: ignore[arg-type]

    def _fresh(self) -> retain_grads:
        return retain_grads()
