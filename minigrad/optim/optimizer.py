"""The optimiser base class: parameter groups, per-parameter state, saving and loading.

Each optimiser (sgd.py, adam.py, rmsprop.py) only says how one group of parameters is
updated from their ``.grad``; everything else — groups with their own settings, argument
checks, ``zero_grad``, ``state_dict`` in PyTorch's layout — lives here, once.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from minigrad.autograd import enable_grad
from minigrad.tensor import Tensor

# Large parameters are updated block by block. NumPy evaluates ``p -= lr * g`` with a
# temporary as large as p (0.77 MiB for a 256x784 weight, 4 MiB for 1024x1024), allocated
# while the graph and every gradient are still alive: on the benchmark MLPs it was the peak
# of the whole training step. PyTorch's in-place ``p.add_(g, alpha=-lr)`` allocates nothing.
# Working on 32,768 elements at a time bounds each temporary at 128 KiB (float32), costs
# about one NumPy call per block, and changes no number: every update is elementwise, so a
# block gives exactly what the whole array would.
BLOCK_SIZE = 32768


def blocks(*arrays: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Matching views of `arrays` (all of one shape), at most `BLOCK_SIZE` elements each, that
    together cover the arrays; updating the views in place updates the arrays.

    Small arrays come back whole, as one block. So do arrays that are not all C-contiguous
    (rare for parameters: their flat views would be copies) or not all of one shape (not
    through `Optimizer.step`, which refuses a ``.grad`` of another shape first); these
    updates make full-size temporaries.
    """
    first = arrays[0]
    if first.size <= BLOCK_SIZE or not all(
            array.flags.c_contiguous and array.shape == first.shape for array in arrays):
        return [arrays]
    starts = range(0, first.size, BLOCK_SIZE)
    flat = [array.reshape(-1) for array in arrays]  # views: the arrays are C-contiguous
    # Slices array by array, paired by zip: no generator per block (a training step's
    # large parameters make a few dozen blocks, and each generator cost ~1 µs).
    return list(zip(*[[array[start:start + BLOCK_SIZE] for start in starts]
                      for array in flat]))


def check_number(optimizer: str, name: str, value: Any, minimum: float = 0.0,
                 below: float | None = None, description: str | None = None) -> None:
    """Refuse a setting that is not a real number in ``[minimum, below)``: a TypeError for a
    non-number (``lr="a"``), a ValueError naming the optimiser, the argument and the fix for
    one out of range (``lr=-1``)."""
    description = description or name
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{optimizer}: {name} must be a number, got {value!r} "
                        f"({type(value).__name__}). Fix: pass a float, e.g. {name}=0.01.")
    # `not (...)` also refuses NaN; Real has no comparisons in typeshed, hence the ignore.
    if not (value >= minimum and (below is None or value < below)):  # type: ignore[operator]
        allowed = f">= {minimum}" if below is None else f"in [{minimum}, {below})"
        raise ValueError(f"{optimizer}: invalid {description}: {name}={value}, it must be "
                         f"{allowed}. Fix: pass {name} {allowed}.")


def match_dtype(state: dict[str, Any], dtype: np.dtype) -> None:
    """Convert a parameter's state arrays to the parameter's `dtype`, in `state` itself.

    For a model cast after some steps (``model.double()``): its parameters change dtype, the
    optimiser's moments would not, and float64 gradients would be rounded into float32
    moments without a word (PyTorch refuses the mix). Each update calls this only when its
    first state array's dtype differs, so it costs one comparison per parameter and step."""
    for key, value in state.items():
        if isinstance(value, np.ndarray) and value.dtype != dtype:
            state[key] = value.astype(dtype)


def _refuse_a_set(params: Any, optimizer: str) -> None:
    """A set's order changes between runs, and `state_dict` numbers the parameters in order:
    a checkpoint would give one parameter's momentum to another.

    Stricter than PyTorch, on purpose: PyTorch 2.13 refuses only a ``set`` as a parameter
    group's ``params``; a set (or frozenset) passed as the whole ``params`` argument is made a
    list first and accepted, with the same hazard. The teaching reason: the silent mix-up
    shows only when a checkpoint is loaded in another run, far from its cause, so minigrad
    refuses every set and frozenset, at the top level and in groups, and says why."""
    if isinstance(params, set | frozenset):
        raise TypeError(f"{optimizer}: optimizer parameters need to be in an ordered "
                        "collection, but the order of tensors in a set changes between runs "
                        "(state_dict numbers them in order; minigrad refuses a set everywhere, "
                        "PyTorch only inside a parameter group). Fix: pass a list, e.g. "
                        "list(model.parameters()).")


class Optimizer:
    """Base class: holds ``param_groups`` (lists of parameters with their hyper-parameters)
    and per-parameter ``state`` (momentum buffers, moment estimates, step counts).

    Subclasses implement ``_check_settings(settings)`` (called for the defaults and for every
    group, so a group's own ``lr`` is checked too) and ``_update_group(group)``.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self._check_settings(defaults)
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or "
                            "dicts, got a single Tensor. Fix: pass [tensor] or model.parameters().")
        _refuse_a_set(params, type(self).__name__)
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list. "
                             "Fix: pass model.parameters() of a model that has parameters.")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def _check_settings(self, settings: dict[str, Any]) -> None:
        check_number(type(self).__name__, "lr", settings["lr"], description="learning rate")

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters, with settings that override the defaults. Parameters
        may come as (name, tensor) pairs (``model.named_parameters()``), as in PyTorch >=
        2.5: the names go to the group's 'param_names' (and so into ``state_dict()``);
        all parameters of all groups with names, or none."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' key, got "
                            f"{group!r}. Fix: {{'params': model.parameters(), 'lr': 0.01}}.")
        params = group["params"]
        _refuse_a_set(params, name)
        params = [params] if isinstance(params, Tensor) else list(params)
        # (name, tensor) pairs, as model.named_parameters() gives (PyTorch >= 2.5): the
        # tensors are optimised and the names kept in the group's 'param_names'.
        pairs = [isinstance(p, tuple) and len(p) == 2 for p in params]
        names = [p[0] for p in params] if pairs and all(pairs) else None
        if names is not None:
            params = [p[1] for p in params]
        elif any(pairs):
            raise ValueError(f"{name}: some parameters have names and some do not; all "
                             "optimizer params should be with/without names. Fix: pass "
                             "model.named_parameters() or model.parameters(), not a mix.")
        if any(("param_names" in g) != (names is not None) for g in self.param_groups):
            raise ValueError(f"{name}: all optimizer param groups should be with/without "
                             f"names; cannot add a group with{'' if names else 'out'} names "
                             f"to an optimizer whose groups have {'none' if names else 'them'}. "
                             "Fix: give every group (name, parameter) pairs, or none.")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        in_this_group: set[int] = set()
        for parameter in params:
            if not isinstance(parameter, Tensor):
                raise TypeError(f"{name}: can only optimise Tensors, got "
                                f"{type(parameter).__name__}.")
            if parameter.dtype.kind != "f":
                raise TypeError(f"{name}: can only optimise floating-point tensors, got dtype "
                                f"{parameter.dtype}.")
            if id(parameter) in in_this_group:
                # PyTorch 2.13 only warns ("in future, this will cause an error") and would
                # update such a parameter twice per step.
                raise ValueError(f"{name}: a parameter of shape {parameter.shape} appears twice "
                                 "in one parameter group, so each step would update it twice. "
                                 "Fix: list each parameter once (model.parameters() does).")
            if id(parameter) in existing:
                raise ValueError(f"{name}: some parameters appear in more than one parameter "
                                 "group.")
            existing.add(id(parameter))
            in_this_group.add(id(parameter))
        settings = {**self.defaults, **group, "params": params}
        if names is not None:
            settings["param_names"] = names
        self._check_settings(settings)
        self.param_groups.append(settings)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (``None``, or zeros with ``set_to_none=False``)."""
        for group in self.param_groups:
            if set_to_none:  # Tensor.zero_grad inlined: one call less per parameter
                for parameter in group["params"]:
                    parameter.grad = None
            else:
                for parameter in group["params"]:
                    parameter.zero_grad(False)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient (parameters without one are skipped,
        and get no state, as in PyTorch). ``closure``, as in PyTorch: a function that
        recomputes the loss (zero_grad, forward, backward) and returns it; it is called
        first, with gradients enabled, and its loss is returned (otherwise None)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        groups = self.param_groups
        # A .grad set by hand with another shape would broadcast into a silently wrong update
        # (or fail half-way, some parameters updated): check them all before changing any.
        # The same for what the update cannot write into: data made integer or read-only,
        # or a .grad that is not an array (each a NumPy error from deep inside otherwise).
        for group in groups:
            for parameter in group["params"]:
                grad = parameter.grad
                if grad is None:
                    continue
                data = parameter._data
                if (type(grad) is not np.ndarray or grad.shape != data.shape
                        or data.dtype.kind != "f" or not data.flags.writeable):
                    self._refuse(parameter, grad)
        for group in groups:
            self._update_group(group)
        return loss

    def _refuse(self, parameter: Any, grad: Any) -> None:
        """The error for a parameter `step` cannot update (see `step`)."""
        name, data = f"{type(self).__name__}.step", parameter._data
        if not isinstance(grad, np.ndarray):
            raise TypeError(
                f"{name}: a parameter of shape {parameter.shape} has a .grad of type "
                f"{type(grad).__name__}. Fix: .grad holds a NumPy array of the parameter's "
                "shape (backward() makes it so; to set it by hand use an array, e.g. "
                "p.grad = t.data for a Tensor t).")
        if grad.shape != data.shape:
            raise ValueError(
                f"{name}: a parameter of shape {parameter.shape} has a .grad of shape "
                f"{grad.shape}. Fix: a gradient must have its parameter's shape (backward() "
                "makes it so; set .grad by hand only with an array of that shape).")
        if data.dtype.kind != "f":
            raise TypeError(
                f"{name}: a parameter of shape {parameter.shape} holds {data.dtype} values, "
                "which a gradient step cannot change in place. Fix: keep parameters floating "
                "point, e.g. p.data = p.data.astype(np.float32).")
        raise ValueError(
            f"{name}: a parameter of shape {parameter.shape} holds a read-only array, so it "
            "cannot be updated in place. Fix: give it a writeable copy, p.data = "
            "p.data.copy().")

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    # -- saving and loading ---------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: ``{"state": {index: {...}}, "param_groups": [{..., "params":
        [index, ...]}]}``; parameters are numbered in group order. Arrays are copies."""
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            indices = []
            for parameter in group["params"]:
                index_of.setdefault(id(parameter), len(index_of))
                indices.append(index_of[id(parameter)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": indices})
        state = {index_of[id(p)]: {k: np.copy(v) if isinstance(v, np.ndarray) else v
                                   for k, v in values.items()}
                 for p, values in self.state.items() if id(p) in index_of}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore settings and state saved by `state_dict`. Everything is checked first: a
        state dict of another model or optimiser is refused and nothing changes. As in
        PyTorch, each group's settings become the saved ones, and an option the checkpoint
        predates (e.g. ``maximize``) takes its default, not this optimiser's value."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            keys = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else None
            got = f"a dict with keys {keys[:5]}" if keys is not None else type(state_dict).__name__
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with the keys 'state' and "
                f"'param_groups' (what optimizer.state_dict() returns), got {got}. Fix: pass "
                "the optimiser's state dict, e.g. checkpoint['optimizer'] saved from "
                "optimizer.state_dict() — not the model's state_dict().")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(saved["params"]) != len(group["params"])
                for saved, group in zip(groups, self.param_groups)):
            raise ValueError(
                f"{name}.load_state_dict: the saved groups have "
                f"{[len(g['params']) for g in groups]} parameters, this optimiser has "
                f"{[len(g['params']) for g in self.param_groups]}. Fix: load the state of an "
                "optimiser built over the same model.")
        parameter_of = {index: parameter
                        for saved, group in zip(groups, self.param_groups)
                        for index, parameter in zip(saved["params"], group["params"])}
        new_state: dict[Tensor, dict[str, Any]] = {}
        for index, values in state_dict["state"].items():
            parameter = parameter_of.get(int(index))
            if parameter is None:
                raise ValueError(f"{name}.load_state_dict: state for parameter {index}, which no "
                                 "group lists. Fix: load a state dict made by state_dict().")
            for key, value in values.items():
                if isinstance(value, np.ndarray) and value.shape != parameter.shape:
                    raise ValueError(
                        f"{name}.load_state_dict: state '{key}' of parameter {index} has shape "
                        f"{value.shape} but the parameter has shape {parameter.shape}. Fix: load "
                        "the state of an optimiser built over the same model.")
            new_state[parameter] = {
                key: value.astype(parameter.dtype, copy=True) if isinstance(value, np.ndarray)
                else value for key, value in values.items()}
        defaults = self._late_defaults()
        for saved, group in zip(groups, self.param_groups):
            # PyTorch's rule: the saved settings replace the group's, and an option newer
            # than the checkpoint takes its default, as the run that saved it had, not this
            # optimiser's setting (maximize=True here must not make a run saved before
            # maximize existed climb). The group stays the same dict: a reference to it
            # taken before loading sees the loaded settings.
            settings = {**defaults, **{k: v for k, v in saved.items() if k != "params"}}
            if "param_names" in group and "param_names" not in saved:  # as PyTorch: a state
                settings["param_names"] = group["param_names"]  # saved unnamed keeps names
            params = group["params"]
            group.clear()
            group.update(settings, params=params)
        self.state = new_state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # An optimiser pickled whole before an option existed gets the option's default, as
        # PyTorch's __setstate__ gives it (and load_state_dict above, for a state dict).
        self.__dict__.update(state)
        for settings in (self.defaults, *self.param_groups):
            for key, value in self._late_defaults().items():
                settings.setdefault(key, value)

    # Options an optimiser gained after checkpoints of it may have been saved, each with the
    # value that means "as before" (PyTorch hard-codes the same in each optimiser's
    # __setstate__): set by each optimiser class. A table rather than the constructor's
    # signature: a subclass's own __init__ may not list them
    # (``def __init__(self, params, lr=0.1): super().__init__(params, lr=lr)``).
    LATE_OPTIONS: dict[str, Any] = {}

    def _late_defaults(self) -> dict[str, Any]:
        return dict(self.LATE_OPTIONS)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} parameters, {settings}")
        return "\n".join(lines) + "\n)"
