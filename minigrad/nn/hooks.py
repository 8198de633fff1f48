"""Module hooks: the handles, the identity node backward hooks listen on, and the call
path a module takes when it has hooks.

Split from `module.py` (which re-exports `RemovableHandle`) so that file keeps to the
Module's own life: registering, calling, walking, modes. `Module.__call__` itself stays
there and does no extra work when no hook is registered: it hands over to
`call_with_hooks` only when the module's hook lists are non-empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import autograd
from minigrad.ops.base import Function
from minigrad.tensor import Tensor

if TYPE_CHECKING:
    from minigrad.nn.module import Module


class RemovableHandle:
    """What the ``register_*_hook`` methods return: ``handle.remove()`` (PyTorch's spelling)
    or ``handle()`` takes the hook away; removing twice does nothing."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    __call__ = remove


class HookPoint(Function):
    """The identity, as a node of its own: where a module's backward hooks listen."""

    name = "backward_hook"

    def forward(self, x):
        return x

    def backward(self, grad_output):
        return (grad_output,)


def call_with_hooks(module: Module, args: tuple, kwargs: dict) -> Any:
    """`Module.__call__` when the module has hooks: forward hooks after `forward`, and
    backward hooks attached around it."""
    if module._backward_hooks:
        # As PyTorch does, route each tensor input through an identity node: the gradient
        # that reaches it is then d(loss)/d(input) *through this module only* (not through
        # other uses of the same tensor), and its hooks live only as long as this call.
        args = tuple(HookPoint.apply(a) if isinstance(a, Tensor) and a.requires_grad else a
                     for a in args)
    with autograd.module_scope(module._scope_name, type(module).__name__, module):
        output = module.forward(*args, **kwargs)
    for hook in module._forward_hooks:
        replaced = hook(module, args, output)
        if replaced is not None:
            output = replaced
    if module._backward_hooks and isinstance(output, Tensor) and output.requires_grad:
        output = HookPoint.apply(output)
        _attach_backward_hooks(module, args, output)
    return output


def _attach_backward_hooks(module: Module, args: tuple, output: Tensor) -> None:
    """Full backward hooks: ``hook(module, grad_input, grad_output)`` once the gradients
    of the module's tensor inputs are known (``None`` for inputs that need none).
    ``grad_input`` has one entry per tensor argument, ``grad_output`` one per output.
    Return values are ignored (the gradients cannot be replaced here)."""
    inputs = [a for a in args if isinstance(a, Tensor)]
    n_inputs = len(inputs)
    waiting = sum(t.requires_grad for t in inputs)
    pending: dict[str, Any] = {"grad_output": None, "grad_input": {}}
    # The closures below live in the inputs' hook lists, so none of them may refer to
    # an input (or to `inputs`): that would be a reference cycle, which only the
    # cyclic garbage collector frees — with it off, every step's graph would leak.

    def fire() -> None:
        grad_input = tuple(pending["grad_input"].get(i) for i in range(n_inputs))
        pending["grad_input"] = {}  # a second backward through the same graph fires again
        for hook in list(module._backward_hooks):
            hook(module, grad_input, (pending["grad_output"],))

    def on_output(grad: np.ndarray) -> None:
        pending["grad_output"] = grad
        if waiting == 0:  # no input gradient to wait for
            fire()

    def make_input_hook(position: int) -> Callable[[np.ndarray], None]:
        def on_input(grad: np.ndarray) -> None:
            pending["grad_input"][position] = grad
            if len(pending["grad_input"]) == waiting:
                fire()
        return on_input

    output.register_hook(on_output)
    for position, tensor in enumerate(inputs):
        if tensor.requires_grad:
            tensor.register_hook(make_input_hook(position))

