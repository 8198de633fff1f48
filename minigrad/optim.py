"""Optimisers: update parameters from their ``.grad`` (PyTorch's update rules, exactly).

    optimizer = minigrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in batches:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

Parameters can be split into groups with their own settings, as in PyTorch:
``SGD([{"params": model[0].parameters(), "lr": 0.01}, {"params": model[2].parameters()}], lr=0.1)``.
Updates are made in place on each parameter's array, outside the graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.tensor import Tensor


class Optimizer:
    """Base class: holds ``param_groups`` (lists of parameters with their hyper-parameters)
    and per-parameter ``state`` (momentum buffers, moment estimates, step counts)."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or "
                            "dicts, got a single Tensor. Fix: pass [tensor] or model.parameters().")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list. "
                             "Fix: pass model.parameters() of a model that has parameters.")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters, with settings that override the defaults."""
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        for parameter in params:
            if not isinstance(parameter, Tensor):
                raise TypeError(f"{type(self).__name__}: can only optimise Tensors, got "
                                f"{type(parameter).__name__}.")
            if parameter.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}: can only optimise floating-point "
                                f"tensors, got dtype {parameter.dtype}.")
            if id(parameter) in existing:
                raise ValueError(f"{type(self).__name__}: some parameters appear in more than "
                                 "one parameter group.")
            existing.add(id(parameter))
        self.param_groups.append({**self.defaults, **group, "params": params})

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (``None``, or zeros with ``set_to_none=False``)."""
        for group in self.param_groups:
            for parameter in group["params"]:
                parameter.zero_grad(set_to_none)

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        for group in self.param_groups:
            for parameter in group["params"]:
                if parameter.grad is not None:
                    state = self.state.setdefault(parameter, {})
                    self._update(parameter, parameter.grad, group, state)

    def _update(self, parameter: Tensor, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
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
        state dict of another model or optimiser is refused and nothing changes."""
        name = type(self).__name__
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
        for saved, group in zip(groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} parameters, {settings}")
        return "\n".join(lines) + "\n)"


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, as ``torch.optim.SGD``:

        g = grad + weight_decay · p
        b = g on the first step, then momentum · b + (1 - dampening) · g
        g = g + momentum · b  (nesterov)   or   g = b  (plain momentum)
        p = p - lr · g

    (Sutskever et al. 2013 write momentum with lr inside the buffer; PyTorch's form above
    differs only when lr changes during training.)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False) -> None:
        _check(lr >= 0, f"SGD: invalid learning rate: {lr}")
        _check(momentum >= 0, f"SGD: invalid momentum value: {momentum}")
        _check(weight_decay >= 0, f"SGD: invalid weight_decay value: {weight_decay}")
        _check(not nesterov or (momentum > 0 and dampening == 0),
               "SGD: Nesterov momentum requires a momentum and zero dampening.")
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov})

    def _update(self, parameter, grad, group, state):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * parameter.data
        momentum = group["momentum"]
        if momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = np.array(grad, dtype=parameter.dtype)
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        parameter.data -= group["lr"] * grad


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1), as ``torch.optim.Adam``: with t the step count,

        g = grad + weight_decay · p          (L2 penalty added to the gradient)
        m = β1 m + (1 - β1) g,   v = β2 v + (1 - β2) g²
        p = p - lr · (m / (1 - β1^t)) / (√(v / (1 - β2^t)) + eps)

    The divisions by 1 - β^t undo the bias of m and v towards their zero start.
    ``amsgrad=True`` uses the running maximum of v (Reddi et al. 2018).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        _check(lr >= 0, f"Adam: invalid learning rate: {lr}")
        _check(eps >= 0, f"Adam: invalid epsilon value: {eps}")
        for i, beta in enumerate(betas):
            _check(0 <= beta < 1, f"Adam: invalid beta parameter at index {i}: {beta}")
        _check(weight_decay >= 0, f"Adam: invalid weight_decay value: {weight_decay}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad})

    def _update(self, parameter, grad, group, state):
        beta1, beta2 = group["betas"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * parameter.data
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(parameter.data)
            state["exp_avg_sq"] = np.zeros_like(parameter.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(parameter.data)
        state["step"] += 1
        step, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
        exp_avg *= beta1
        exp_avg += (1 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        denominator = np.sqrt(exp_avg_sq / bias_correction2) + group["eps"]
        parameter.data -= (group["lr"] / bias_correction1) * exp_avg / denominator
