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


# The name of the anchor leaf (see `AnchoredHookPoint`), the label a drawing gives it.
ANCHOR_NAME = "backward-hook anchor"


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


class LinkedHookPoint(Function):
    """The identity on its first input, with a zero gradient for each of the others: the
    node an output's backward hooks listen on when the output must also *reach* other
    nodes in every pass that uses it (see `_route_outputs`):

    - this call's inputs that need a gradient but that the output does not depend on, so
      that each input hears from every pass and the hooks fire (with zeros for it, as
      PyTorch gives; it also becomes the input's gradient there, as in PyTorch);
    - the *anchor*, a scalar leaf shared by the outputs of a call that returned several
      tensors needing a gradient while none of its inputs needs one. Its gradient is
      complete once every output the loss used has sent its own, which is when the hooks
      must fire (an unused output never sends one, so no output can tell it is the last).
    """

    name = "backward_hook"

    def forward(self, x, *linked):
        self.linked = [(array.shape, array.dtype) for array in linked]
        return x

    def backward(self, grad_output):
        return (grad_output, *(np.zeros(shape, dtype) for shape, dtype in self.linked))


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
    if module._backward_hooks:
        output = _route_outputs(module, args, output)
    return output


def _route_outputs(module: Module, args: tuple, output: Any) -> Any:
    """Each tensor output that requires grad (the output, or the items of a tuple or list of
    outputs) through an identity node whose gradient the backward hooks receive."""
    several = isinstance(output, tuple | list)
    outputs = list(output) if several else [output]
    tensors = [item for item in outputs if isinstance(item, Tensor)]
    if not any(item.requires_grad for item in tensors):
        return output  # no gradient will come back through this call: no hook, as in PyTorch
    inputs = [a for a in args if isinstance(a, Tensor) and a.requires_grad]  # routed already
    anchor = None
    if not inputs and sum(item.requires_grad for item in tensors) > 1:
        # Only here: one output's hook cannot know whether the others will get a gradient.
        # (A leaf of its own, so it shows in a drawing: register_full_backward_hook says so.)
        anchor = Tensor(np.zeros((), np.float64), requires_grad=True, name=ANCHOR_NAME)
    # Each output is linked to the inputs it does not reach (usually none: no extra edge),
    # so that the hook fires in every pass, with zeros for those inputs, as PyTorch's does.
    # But only when some output reaches some input: if none does (a forward that ignores
    # its inputs, `self.fc(h.detach())`), no gradient can flow back through this call, and
    # PyTorch fires no hook and leaves the inputs' .grad alone; zeros there would, e.g.,
    # let AdamW's weight decay move weights that get no gradient.
    unreached = {id(item): _unreached(item, inputs) for item in tensors if item.requires_grad}
    if not any(len(missing) < len(inputs) for missing in unreached.values()):
        unreached = dict.fromkeys(unreached, [])
    routed = []
    for item in outputs:
        if isinstance(item, Tensor) and item.requires_grad:
            links = [anchor] if anchor is not None else unreached[id(item)]
            item = LinkedHookPoint.apply(item, *links) if links else HookPoint.apply(item)
        routed.append(item)
    _attach_backward_hooks(module, args, [item for item in routed if isinstance(item, Tensor)],
                           anchor)
    if not several:
        return routed[0]
    if hasattr(output, "_fields"):  # a named tuple
        return type(output)(*routed)
    return type(output)(routed)


def _unreached(output: Tensor, inputs: list[Tensor]) -> list[Tensor]:
    """The `inputs` (this call's routed inputs) that `output` does not depend on: a walk
    back through the nodes made since the inputs were, that is, through the forward."""
    if not inputs:
        return []
    oldest = min(node._seq for node in inputs)
    missing = {id(node): node for node in inputs}
    seen, stack = {id(output)}, [output]
    while stack and missing:
        node = stack.pop()
        if missing.pop(id(node), None) is not None:
            continue  # an input: what lies before it is not this call's
        for parent in node._parents:
            if parent.requires_grad and parent._seq >= oldest and id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return list(missing.values())


def _attach_backward_hooks(module: Module, args: tuple, outputs: list[Tensor],
                           anchor: Tensor | None) -> None:
    """Full backward hooks: ``hook(module, grad_input, grad_output)`` once the gradients
    of the module's tensor inputs are known (``None`` for inputs that need none: PyTorch
    gives zeros for those when some other input needs one, which would read as "this
    input's gradient is zero" where none was computed; `register_full_backward_hook`).
    ``grad_input`` has one entry per tensor argument, ``grad_output`` one per tensor output
    (``None`` for an output the loss did not use). Every input that needs a gradient gets
    one (zeros at least: `LinkedHookPoint`) in every pass that uses an output, so they fire
    once all have. With no input needing a gradient, they fire with the output's gradient,
    or, for several outputs (`anchor` given), when the anchor gets its own, after theirs.
    Return values are ignored (the gradients cannot be replaced here)."""
    inputs = [a for a in args if isinstance(a, Tensor)]
    n_inputs, n_outputs = len(inputs), len(outputs)
    waiting = sum(t.requires_grad for t in inputs)
    pending: dict[str, dict[int, Any]] = {"grad_output": {}, "grad_input": {}}
    # The closures below live in the inputs' hook lists, so none of them may refer to
    # an input (or to `inputs`): that would be a reference cycle, which only the
    # cyclic garbage collector frees — with it off, every step's graph would leak.

    def fire() -> None:
        grad_input = tuple(pending["grad_input"].get(i) for i in range(n_inputs))
        grad_output = tuple(pending["grad_output"].get(i) for i in range(n_outputs))
        # a second backward through the same graph (retain_graph=True) fires again
        pending["grad_input"], pending["grad_output"] = {}, {}
        for hook in list(module._backward_hooks):
            hook(module, grad_input, grad_output)

    fire_on_output = waiting == 0 and anchor is None  # one output, nothing else to wait for

    def make_output_hook(position: int) -> Callable[[np.ndarray], None]:
        def on_output(grad: np.ndarray) -> None:
            pending["grad_output"][position] = grad
            if fire_on_output:
                fire()
        return on_output

    def make_input_hook(position: int) -> Callable[[np.ndarray], None]:
        def on_input(grad: np.ndarray) -> None:
            # every output's gradient has arrived by now: the outputs were computed from it
            pending["grad_input"][position] = grad
            if len(pending["grad_input"]) == waiting:
                fire()
        return on_input

    for position, tensor in enumerate(outputs):
        if tensor.requires_grad:
            tensor.register_hook(make_output_hook(position))
    for position, tensor in enumerate(inputs):
        if tensor.requires_grad:
            tensor.register_hook(make_input_hook(position))
    if anchor is not None:
        anchor.register_hook(lambda grad: fire())
