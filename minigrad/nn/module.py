"""`Module`, `Parameter` and `Sequential`: the containers every layer is built from.

A module owns parameters (tensors trained by the optimiser), buffers (state that is saved
but not trained, such as BatchNorm's running statistics) and child modules. Calling a
module runs its `forward` inside the module's *scope*: every node created there records
it, which is how the visualiser groups the graph by layer.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from minigrad import autograd
from minigrad.autograd import EngineState, Scope, current_state, set_state
from minigrad.ops.base import Function
from minigrad.tensor import Tensor, to_array

_new_scope = tuple.__new__  # Scope(...) minus NamedTuple's Python-level __new__ (same tuple)
_new_state = object.__new__  # an EngineState whose three fields Module.__call__ sets


class Parameter(Tensor):
    """A tensor that a `Module` registers as trainable: it always requires grad."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None,
                 name: str | None = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What `Module.load_state_dict` returns, as PyTorch's: a pair that also has names,
    ``result.missing_keys`` and ``result.unexpected_keys`` (both empty when strict)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


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


class _HookPoint(Function):
    """The identity, as a node of its own: where a module's backward hooks listen."""

    name = "backward_hook"

    def forward(self, x):
        return x

    def backward(self, grad_output):
        return (grad_output,)


class Module:
    """Base class of every layer and model. Subclasses set attributes and define `forward`.

    Assigning a `Parameter` or a `Module` to an attribute registers it; so does
    `register_buffer` for non-trained state. Names follow PyTorch, so a `state_dict()` has
    the keys and shapes PyTorch's equivalent model would.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", [])
        object.__setattr__(self, "_backward_hooks", [])
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_scope_name", "")

    if TYPE_CHECKING:  # parameters, buffers and submodules are attributes set at run time
        def __getattr__(self, name: str) -> Any: ...

    # -- registration --------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning "
                               "attributes in __init__.")
        # PyTorch's rules, in PyTorch's order (nn.Module.__setattr__): a Parameter always
        # becomes a parameter, a Module always a child (wherever the name was registered
        # before); otherwise a registered name takes only its own kind or None, so that, say,
        # `bn.running_mean = np.zeros(3)` cannot silently drop the buffer from state_dict().
        # A name keeps its place in its registry when reassigned (state_dict order).
        if isinstance(value, Parameter):
            self._check_name("parameter", name)
            self._buffers.pop(name, None)
            self._modules.pop(name, None)
            self._parameters[name] = value
        elif name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to parameter "
                    f"'{name}' (a Parameter or None is expected). Fix: wrap it, "
                    f"{name} = nn.Parameter(...), or assign to .{name}.data to change the "
                    "values.")
            self._parameters[name] = None  # a known, absent parameter (bias=False)
        elif isinstance(value, Module):
            self._check_name("module", name)
            self._parameters.pop(name, None)
            self._buffers.pop(name, None)
            self._modules[name] = value
            # The name a child is registered under is its scope label ('0', 'bn1'); the
            # scope chain at call time gives the full path ('features.bn1').
            object.__setattr__(value, "_scope_name", name)
            if value.__dict__.pop("_labels_on_registration", False):  # a stored slice or sum
                for key, child in value._modules.items():
                    object.__setattr__(child, "_scope_name", key)
        elif name in self._modules:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to child "
                    f"module '{name}' (a Module or None is expected). Fix: use another attribute "
                    f"name, or del {name} first.")
            self._modules[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to buffer "
                    f"'{name}' (a Tensor or None is expected). Fix: assign to .{name}.data to "
                    f"change the values, or wrap it, {name} = minigrad.tensor(...).")
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        # ``del model.fc`` unregisters too, as in PyTorch: otherwise the deleted layer would
        # still be trained, saved in state_dict() and printed.
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def _check_name(self, kind: str, name: Any, registry: dict | None = None) -> None:
        """PyTorch's rules for registered names: a state_dict key joins names with '.', so a
        name with a '.' (or an empty one) would be ambiguous, e.g. child 'a.b' next to child
        'a' with its own 'b'. A NUL would be cut by zip when saving. With `registry`, the name
        must also not shadow another attribute (``add_module('forward', ...)``)."""
        owner = type(self).__name__
        if not isinstance(name, str):
            raise TypeError(f"{owner}: {kind} name should be a string, got "
                            f"{type(name).__name__} {name!r}.")
        # Messages without double quotes: KeyError shows its message with repr().
        for bad, shown in ((".", "'.'"), ("\x00", "a NUL character")):
            if bad in name:
                raise KeyError(f"{owner}: {kind} name cannot contain {shown}, got: {name!r} "
                               "(state_dict keys join names with '.'). Fix: use '_' instead, "
                               "or nest the modules.")
        if name == "":
            raise KeyError(f"{owner}: {kind} name cannot be an empty string. Fix: give it a "
                           "name, e.g. 'layer1'.")
        if registry is not None and name not in registry and hasattr(self, name):
            raise KeyError(f"{owner}: attribute '{name}' already exists. Fix: choose another "
                           f"name for the {kind}.")

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Register state that is saved in `state_dict` but not trained."""
        self._check_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(tensor)
        object.__setattr__(self, name, tensor)
        self._buffers[name] = tensor

    def register_parameter(self, name: str, parameter: Parameter | None) -> None:
        """Register a parameter; `None` records an absent one (e.g. ``bias=False``)."""
        self._check_name("parameter", name, self._parameters)
        if not isinstance(parameter, Parameter | None):  # it would become a plain attribute
            raise TypeError(
                f"{type(self).__name__}.register_parameter: '{name}' must be an nn.Parameter or "
                f"None, got {type(parameter).__name__}. Fix: wrap it, nn.Parameter(values) "
                "(a Tensor's values: nn.Parameter(tensor.data)).")
        self.__setattr__(name, parameter)
        if parameter is None:
            self._parameters[name] = None

    def add_module(self, name: str, module: Module | None) -> None:
        """Register `module` as a child called `name` (PyTorch's rules for the name)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module: {type(module).__name__} is not "
                            "a Module subclass.")
        self._check_name("module", name, self._modules)
        self.__setattr__(name, module)
        if module is None:  # a known, absent child, as in PyTorch
            self._modules[name] = None

    # -- calling ------------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._backward_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        # The usual call, no hooks: the module's scope is entered inline, as
        # `autograd.module_scope` does, without its context-manager object and three method
        # calls: every module of every training step comes through here (~1 µs per call).
        # The Scope and the EngineState are built without their Python-level constructors
        # (NamedTuple's __new__, EngineState.__init__): same fields, two frames less per
        # call. (Reusing the state of the previous call was faster still, but the module
        # would then refer to itself through it: a reference cycle that only the cyclic GC
        # frees, so a dropped model would keep its parameters until a full collection.)
        previous = current_state()
        state = _new_state(EngineState)
        state.grad_enabled = previous.grad_enabled
        state.anomaly = previous.anomaly
        state.scope = _new_scope(Scope, (self._scope_name, type(self).__name__, previous.scope,
                                         self))
        set_state(state)
        try:
            # Without `**kwargs` when there are none: passing them costs a new dict per call.
            return self.forward(*args, **kwargs) if kwargs else self.forward(*args)
        finally:
            set_state(previous)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        if self._backward_hooks:
            # As PyTorch does, route each tensor input through an identity node: the gradient
            # that reaches it is then d(loss)/d(input) *through this module only* (not through
            # other uses of the same tensor), and its hooks live only as long as this call.
            args = tuple(_HookPoint.apply(a) if isinstance(a, Tensor) and a.requires_grad else a
                         for a in args)
        with autograd.module_scope(self._scope_name, type(self).__name__, self):
            output = self.forward(*args, **kwargs)
        for hook in self._forward_hooks:
            replaced = hook(self, args, output)
            if replaced is not None:
                output = replaced
        if self._backward_hooks and isinstance(output, Tensor) and output.requires_grad:
            output = _HookPoint.apply(output)
            self._attach_backward_hooks(args, output)
        return output

    def _attach_backward_hooks(self, args: tuple, output: Tensor) -> None:
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
            for hook in list(self._backward_hooks):
                hook(self, grad_input, (pending["grad_output"],))

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

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, inputs, output)`` after every forward; a returned value replaces
        the output. Returns a handle: ``handle.remove()`` (or ``handle()``) removes the hook."""
        self._forward_hooks.append(hook)
        return RemovableHandle(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` once the gradients with respect to the
        module's inputs are computed. Returns a handle: ``handle.remove()`` (or ``handle()``)
        removes the hook."""
        self._backward_hooks.append(hook)
        return RemovableHandle(self._backward_hooks, hook)

    # -- walking the tree ---------------------------------------------------------------

    def named_modules(self, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every descendant, with dotted names ('' for the root).

        A module registered at several places is listed once, under its first name; with
        ``remove_duplicate=False`` it is listed at every place (PyTorch's option: a
        ``state_dict`` has the keys of every place, as PyTorch's does). A module that
        contains itself is never entered again below itself, so the walk always ends.
        """
        if not remove_duplicate:
            yield from self._named_modules_every_place(prefix)
            return
        stack = [(prefix, self)]
        seen = set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def _named_modules_every_place(self, prefix: str) -> Iterator[tuple[str, Module]]:
        """`named_modules(remove_duplicate=False)`: the same pre-order, shared modules at each
        place; a module is skipped only below itself (a cycle), where the walk would not end."""
        stack: list[tuple[str, Module, frozenset[int]]] = [(prefix, self, frozenset())]
        while stack:
            name, module, ancestors = stack.pop()
            if id(module) in ancestors:
                continue
            yield name, module
            below = ancestors | {id(module)}
            stack.extend(reversed([(f"{name}.{child_name}" if name else child_name, child, below)
                                   for child_name, child in module._modules.items()
                                   if child is not None]))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, parameter in module._parameters.items():
                if parameter is not None and id(parameter) not in seen:
                    seen.add(id(parameter))
                    yield (f"{module_name}.{name}" if module_name else name), parameter

    def parameters(self) -> Iterator[Parameter]:
        for _, parameter in self.named_parameters():
            yield parameter

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Every buffer once, under its first name (as `named_parameters`, and PyTorch)."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, buffer in module._buffers.items():
                if buffer is not None and id(buffer) not in seen:
                    seen.add(id(buffer))
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    def buffers(self) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers():
            yield buffer

    # -- modes and gradients --------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics, dropout on) or, with False, evaluation mode."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        # PyTorch calls child.train(mode) for every child, in registration order, depth
        # first, so a child that overrides train (say, to keep its BatchNorm in eval mode) is
        # obeyed, and a module shared between such a child and a plain place ends up as the
        # later place says. The same order here, without recursion (a pre-order walk): a child
        # with its own train() is called and looks after its subtree. A shared module is
        # visited at every place, as in PyTorch; only a module inside itself is skipped
        # (PyTorch would recurse until RecursionError).
        object.__setattr__(self, "training", mode)
        above = frozenset({id(self)})
        stack = [(child, above) for child in reversed(list(self.children()))]
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
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for parameter in self.parameters():
            parameter.zero_grad(set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for parameter in self.parameters():
            parameter.requires_grad = requires_grad
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn(module)`` on every descendant, then on this module (PyTorch's order):
        ``model.apply(init_weights)``. A module shared by several places is visited at each;
        a module registered inside itself is a ValueError (the walk would never end)."""
        # Post-order without recursion: a right-to-left pre-order, reversed. A shared module
        # is visited at every place, as in PyTorch; a module inside itself would make the walk
        # endless (PyTorch: RecursionError), so it is refused before fn is called at all.
        order: list[Module] = []
        stack: list[tuple[Module, frozenset[int]]] = [(self, frozenset())]
        while stack:
            module, ancestors = stack.pop()
            if id(module) in ancestors:
                raise ValueError(f"Module.apply: a {type(module).__name__} contains itself (a "
                                 "cycle of child modules), so the walk would never end. Fix: "
                                 "remove the module registered inside itself.")
            order.append(module)
            below = ancestors | {id(module)}
            stack.extend((child, below) for child in module.children())
        for module in reversed(order):
            fn(module)
        return self

    def to_dtype(self, dtype: Any) -> Module:
        """Convert every floating-point parameter and buffer to `dtype`, in place (the
        Parameter objects stay the same, so an optimiser built before still holds them)."""
        for tensor in (*self.parameters(), *self.buffers()):
            if tensor.dtype.kind == "f":
                tensor.data = tensor.data.astype(dtype)
                # converted, not dropped, as in PyTorch: model.double() between backward()
                # and step() must not turn the step into a silent no-op
                if tensor.grad is not None:
                    tensor.grad = tensor.grad.astype(dtype)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """PyTorch's ``model.to(dtype)``: cast every floating-point parameter and buffer in
        place (integer buffers such as ``num_batches_tracked`` keep their dtype) and return
        self. Accepts what ``Tensor.to`` does (``mg.float64``, ``np.float32``, "float64", a
        tensor whose dtype to take, "cpu"); the dtype must be floating point."""
        from minigrad.ops.convert import to as tensor_to

        target = tensor_to(Tensor(np.zeros(0, np.float32)), *args, **kwargs).dtype
        if target.kind != "f":
            raise TypeError(f"Module.to: only floating-point dtypes are accepted, got {target}. "
                            "Fix: use mg.float32 or mg.float64 (integer data goes in the "
                            "inputs, not the parameters).")
        return self.to_dtype(target)

    def double(self) -> Module:
        """Parameters and floating buffers to float64 (what gradcheck needs)."""
        return self.to_dtype(np.float64)

    def float(self) -> Module:
        """Parameters and floating buffers to float32 (minigrad's default)."""
        return self.to_dtype(np.float32)

    # -- saving and loading ---------------------------------------------------------------

    def state_dict(self, as_torch: bool = False) -> OrderedDict[str, Any]:
        """Parameters and buffers by PyTorch's dotted names, as copies of their arrays;
        with ``as_torch=True`` as ``torch.Tensor`` s, ready for a PyTorch model's
        ``load_state_dict`` (needs PyTorch; see `nn.utils.state_dict_to_torch`)."""
        if as_torch:
            from minigrad.nn.utils import state_dict_to_torch

            return state_dict_to_torch(self.state_dict())
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        # Every place of a module used twice (Sequential(block, block)) has its keys, as in
        # PyTorch: a checkpoint must load into the PyTorch twin, and a PyTorch one into this.
        for module_name, module in self.named_modules(remove_duplicate=False):
            prefix = f"{module_name}." if module_name else ""
            for name, parameter in module._parameters.items():
                if parameter is not None:
                    state[prefix + name] = parameter.data.copy()
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    state[prefix + name] = buffer.data.copy()
        return state

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the parameters and buffers of the same names.

        Everything is checked before anything is written, so a refused state dict leaves the
        model exactly as it was. Returns ``(missing_keys, unexpected_keys)``, a named pair as
        in PyTorch (``.missing_keys``, ``.unexpected_keys``; only non-empty with
        ``strict=False``).
        """
        if not isinstance(state_dict, Mapping):
            is_path = isinstance(state_dict, str | os.PathLike)
            fix = ("model.load_state_dict(minigrad.load(path))" if is_path
                   else "pass model.state_dict() of a model of the same architecture")
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays (what "
                            f"state_dict() returns), got {type(state_dict).__name__} "
                            f"{state_dict!r:.60}. Fix: {fix}.")
        targets: dict[str, Tensor] = {}
        for module_name, module in self.named_modules(remove_duplicate=False):  # as state_dict
            prefix = f"{module_name}." if module_name else ""
            for registry in (module._parameters, module._buffers):
                for name, tensor in registry.items():
                    if tensor is not None:
                        targets[prefix + name] = tensor
        # A tensor shared by several places is loaded once any of its keys is given: a
        # checkpoint saved before state_dict listed every place (only the first) still loads.
        given = {id(tensor) for key, tensor in targets.items() if key in state_dict}
        missing = [key for key, tensor in targets.items()
                   if key not in state_dict and id(tensor) not in given]
        unexpected = [key for key in state_dict if key not in targets]
        if strict and (missing or unexpected):
            nested = [key for key in unexpected if isinstance(state_dict[key], Mapping)]
            # The model's part is the one with the model's keys, wherever it sits in the
            # checkpoint ({'optimizer': ..., 'model': ...}): most keys in common first.
            nested.sort(key=lambda key: -len(set(missing).intersection(state_dict[key])))
            fix = (f"pass the model's part of the checkpoint, e.g. checkpoint[{nested[0]!r}]"
                   if nested else "load a checkpoint of the same architecture, or pass "
                   "strict=False to load the keys that match")
            raise KeyError(
                f"load_state_dict: the state dict does not match {type(self).__name__}: "
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
            targets[key].data = array
        return IncompatibleKeys(missing, unexpected)

    # -- display ------------------------------------------------------------------------

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        children = list(self._modules.items())
        if not children:
            return lines[0] + ")"
        for name, module in children:
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        return "\n".join(lines) + "\n)"


# Sequential lives with the other containers; importing it from here keeps working.
from minigrad.nn.containers import Sequential  # noqa: E402, F401
