"""`Module`, `Parameter` and `Sequential`: the containers every layer is built from.

A module owns parameters (tensors trained by the optimiser), buffers (state that is saved
but not trained, such as BatchNorm's running statistics) and child modules. Calling a
module runs its `forward` inside the module's *scope*: every node created there records
it, which is how the visualiser groups the graph by layer.

The Module's machinery is in four files, so that each reads on its own:

- here: registering parameters, buffers and children (PyTorch's rules for names and
  kinds), calling (`__call__`, the training hot path), walking the tree, modes, dtypes
  and the printed form;
- `hooks.py`: forward and full backward hooks (`RemovableHandle`, the path a call takes
  when hooks are registered);
- `state_dict.py`: `state_dict()` and `load_state_dict()` (`IncompatibleKeys`);
- `walk.py`: the non-recursive walks of the module tree behind `named_modules`, `train`,
  `named_parameters`/`named_buffers` and `apply`.

`RemovableHandle`, `IncompatibleKeys` and `Sequential` (from `containers.py`) can still be
imported from here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import engine_state
from minigrad.autograd import EngineState, Scope, current_state, set_state
from minigrad.nn import walk
from minigrad.nn.hooks import RemovableHandle, call_with_hooks
from minigrad.nn.state_dict import IncompatibleKeys, load_state_dict_into, state_dict_of
from minigrad.tensor import Tensor

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


def _internals() -> dict[str, Any]:
    """The state every Module starts with, before any attribute of its own."""
    return {"_parameters": OrderedDict(), "_buffers": OrderedDict(),
            "_non_persistent_buffers": set(),  # buffer names kept out of state_dict
            "_modules": OrderedDict(), "_forward_hooks": [], "_backward_hooks": [],
            "training": True, "_scope_name": ""}


class Module:
    """Base class of every layer and model. Subclasses set attributes and define `forward`.

    Assigning a `Parameter` or a `Module` to an attribute registers it; so does
    `register_buffer` for non-trained state. Names follow PyTorch, so a `state_dict()` has
    the keys and shapes PyTorch's equivalent model would.
    """

    def __init__(self) -> None:
        self.__dict__.update(_internals())  # (not through __setattr__, which needs them)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A module pickled before one of its internals existed (`_non_persistent_buffers`
        # came later) gets it with its fresh value, as PyTorch's Module.__setstate__ does:
        # without it, `del model.attr` and `register_buffer` raised AttributeError.
        self.__dict__.update(state)
        for name, value in _internals().items():
            self.__dict__.setdefault(name, value)

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
        self._non_persistent_buffers.discard(name)
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

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is not trained, saved in `state_dict` unless ``persistent=False``
        (PyTorch's option, for what is rebuilt rather than loaded, e.g. a causal mask)."""
        self._check_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(tensor)
        # the persistence first: a buffer in _buffers is in state_dict unless named here
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)
        self._buffers[name] = tensor
        object.__setattr__(self, name, tensor)

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
            return call_with_hooks(self, args, kwargs)  # hooks.py
        # The usual call, no hooks: the module's scope is entered inline, as
        # `autograd.module_scope` does, without its context-manager object and three method
        # calls: every module of every training step comes through here (~1 µs per call).
        # The Scope and the EngineState are built without their Python-level constructors
        # (NamedTuple's __new__, EngineState.__init__): same fields, two frames less per
        # call. (Reusing the state of the previous call was faster still, but the module
        # would then refer to itself through it: a reference cycle that only the cyclic GC
        # frees, so a dropped model would keep its parameters until a full collection.)
        previous = current_state()
        # (A state made without EngineState.__init__ must say itself that a mode other than
        # the default one now exists: scalar `Value` ops look for the scope only then. Read
        # before written: a store into a module's namespace is not specialised by CPython
        # 3.11, a read is.)
        if not engine_state.modes_entered:
            engine_state.modes_entered = True
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

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, inputs, output)`` after every forward; a returned value replaces
        the output. Returns a handle: ``handle.remove()`` (or ``handle()``) removes the hook."""
        self._forward_hooks.append(hook)
        return RemovableHandle(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` once the gradients with respect to the
        module's inputs are computed: one entry per tensor input (``None`` if it needs none)
        and per tensor output (the output, or a tuple/list of them; ``None`` for one the loss
        did not use). Returns a handle: ``handle.remove()`` (or ``handle()``) removes it.

        A tensor input that does not require grad (the data, a mask, indices) gets ``None``
        in ``grad_input``, like its ``.grad``. PyTorch 2.13 gives zeros there when another
        input requires grad (``None`` when none does); minigrad does not, on purpose: no
        gradient is computed for that input, and d(loss)/d(input) is seldom zero (for
        ``x * mask`` it is ``x * grad_output``), so zeros would look like an answer.

        A *list* of outputs is treated as a tuple (PyTorch 2.13 never calls the hooks of a
        module that returns a list). As in PyTorch, an input that requires grad but that the
        pass sends no gradient gets zeros, in ``grad_input`` and in its ``.grad``: an output
        is linked to the inputs it does not depend on, an extra edge in a drawing. If
        several outputs need a gradient and no input does, a scalar leaf named
        'backward-hook anchor' joins them to tell when the last has arrived: it shows in
        `mg.viz.draw_graph` and the recorder (gradient 0).
        """
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
        if remove_duplicate:
            return walk.modules_once(self, prefix)
        return walk.modules_every_place(self, prefix)

    def modules(self) -> Iterator[Module]:
        return (module for _, module in self.named_modules())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct children, each once, under its first name, as PyTorch:
        ``Sequential(lin, lin)`` has one child, '0' (`named_modules(remove_duplicate=False)`
        and the state dict still list every place)."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        return (module for _, module in self.named_children())

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name ('0.weight'), once, under its first name;
        ``recurse=False``: this module's own only; ``remove_duplicate=False``: a shared
        parameter at every place (PyTorch's options)."""
        return walk.named_members(self, "_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        return (parameter for _, parameter in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """Every buffer with its dotted name, as `named_parameters` (same options)."""
        return walk.named_members(self, "_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return (buffer for _, buffer in self.named_buffers(recurse=recurse))

    # -- modes and gradients --------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics, dropout on) or, with False, evaluation mode."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        walk.set_training(self, mode)  # PyTorch's order, without recursion
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
        ``model.apply(init_weights)``. A module shared by several parents is visited once per
        parent, as in PyTorch (a parent lists a child used twice once: `named_children`);
        a module registered inside itself is a ValueError (the walk would never end)."""
        for module in walk.post_order(self):  # checked for cycles before fn runs
            fn(module)
        return self

    def to_dtype(self, dtype: Any) -> Module:
        """Convert every floating-point parameter and buffer to `dtype`, as PyTorch's
        ``module._apply`` does, and return self.

        Parameters are converted in place: the Parameter objects stay the same (their
        arrays and gradients are replaced), so an optimiser built before still holds them.
        Buffers are *replaced* by converted copies: a buffer is often the caller's own tensor
        (``nn.CrossEntropyLoss(weight=w)`` keeps ``w``), and ``loss.double()`` must not
        change ``w``. A buffer already of `dtype` is kept (PyTorch's ``t.to(dtype)`` returns
        ``t``); integer buffers (``num_batches_tracked``) keep theirs. One difference, so
        that tied state stays tied as shared parameters do: a tensor registered as a buffer
        at several places becomes one converted tensor at all of them (PyTorch makes one
        per place).
        """
        dtype = np.dtype(dtype)
        for parameter in self.parameters():
            if parameter.dtype.kind == "f" and parameter.dtype != dtype:
                parameter.data = parameter.data.astype(dtype)
                # converted, not dropped, as in PyTorch: model.double() between backward()
                # and step() must not turn the step into a silent no-op
                if parameter.grad is not None:
                    parameter.grad = parameter.grad.astype(dtype)
        converted: dict[int, tuple[Tensor, Tensor]] = {}  # id -> (buffer, its copy)
        for module in self.modules():
            for name, buffer in list(module._buffers.items()):
                if buffer is None or buffer.dtype.kind != "f" or buffer.dtype == dtype:
                    continue
                if id(buffer) not in converted:
                    # Tensor.to, as PyTorch's: a buffer that requires grad (rare) stays in
                    # its graph through the cast
                    copy = buffer.to(dtype)
                    copy.name = buffer.name
                    converted[id(buffer)] = (buffer, copy)  # (the buffer kept alive: its id)
                copy = converted[id(buffer)][1]
                module._buffers[name] = copy
                object.__setattr__(module, name, copy)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """PyTorch's ``model.to(dtype)``: convert every floating-point parameter (in place)
        and buffer (replaced by a copy; see `to_dtype`) and return self. Integer buffers
        such as ``num_batches_tracked`` keep their dtype. Accepts what ``Tensor.to`` does
        (``mg.float64``, ``np.float32``, "float64", a tensor whose dtype to take, "cpu");
        the dtype must be floating point. A device alone (``model.to("cpu")``, ``"cpu:0"``,
        ``torch.device("cpu")``) changes nothing, as in PyTorch; ``non_blocking=`` is
        accepted (and changes nothing), ``copy=`` refused, as in PyTorch."""
        from minigrad.ops.convert import to as tensor_to

        if "copy" in kwargs or sum(isinstance(arg, bool) for arg in args) > 1:
            raise TypeError("Module.to: does not accept a copy argument (as in PyTorch: it "
                            "converts the module in place). Fix: drop copy=; "
                            "copy.deepcopy(model) first for a converted copy.")

        # Two probes tell "no dtype given" (each keeps its own) from a dtype (both take it).
        single, double = (tensor_to(Tensor(np.zeros(0, probe)), *args, **kwargs).dtype
                          for probe in (np.float32, np.float64))
        if single != double:
            return self
        if single.kind != "f":
            raise TypeError(f"Module.to: only floating-point dtypes are accepted, got {single}. "
                            "Fix: use mg.float32 or mg.float64 (integer data goes in the "
                            "inputs, not the parameters).")
        return self.to_dtype(single)

    def double(self) -> Module:
        """Floating parameters (in place) and buffers (replaced) to float64, what gradcheck
        needs; see `to_dtype`."""
        return self.to_dtype(np.float64)

    def float(self) -> Module:
        """Floating parameters (in place) and buffers (replaced) to float32, minigrad's
        default; see `to_dtype`."""
        return self.to_dtype(np.float32)

    # -- saving and loading ---------------------------------------------------------------

    def state_dict(self, as_torch: bool = False) -> OrderedDict[str, Any]:
        """Parameters and buffers by PyTorch's dotted names, as copies of their arrays;
        with ``as_torch=True`` as ``torch.Tensor`` s, ready for a PyTorch model's
        ``load_state_dict`` (needs PyTorch; see `nn.utils.state_dict_to_torch`)."""
        state = state_dict_of(self)
        if as_torch:
            from minigrad.nn.utils import state_dict_to_torch

            return state_dict_to_torch(state)
        return state

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the parameters and buffers of the same names (into their own
        arrays, as PyTorch's ``copy_``: views made with ``detach()`` see the new values).

        Everything is checked before anything is written, so a refused state dict leaves the
        model exactly as it was. Returns ``(missing_keys, unexpected_keys)``, a named pair as
        in PyTorch (``.missing_keys``, ``.unexpected_keys``; only non-empty with
        ``strict=False``). A path is refused: load the file first,
        ``model.load_state_dict(minigrad.load(path))``.
        """
        return load_state_dict_into(self, state_dict, strict)
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
from minigrad.nn.containers import Sequential  # noqa: E402

__all__ = ["IncompatibleKeys", "Module", "Parameter", "RemovableHandle", "Sequential"]
