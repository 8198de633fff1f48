"""Adagrad, as ``torch.optim.Adagrad``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer, blocks, check_number, match_dtype


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer 2011, "Adaptive Subgradient Methods"), as
    ``torch.optim.Adagrad``: with t the parameter's step count,

        g = grad + weight_decay · p
        s = s + g²                                (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) · lr_decay) · g / (√s + eps)

    Each weight's step shrinks with the sum of all its squared gradients so far: weights
    that are seldom updated (rare features) keep large steps, busy ones get small steps.
    The sum only grows, so the steps only shrink — RMSprop replaces it with a moving
    average for that reason.

    As in PyTorch, every parameter gets its state (``step`` 0 and ``sum``) when the optimiser
    is made, so ``state_dict()`` lists them all from the start; parameters without a
    gradient are skipped by ``step`` and keep step 0. One difference, on purpose: a group's
    own ``initial_accumulator_value`` is used for that group's parameters (PyTorch 2.13
    silently uses the constructor's value for every group). ``maximize=True`` (keyword
    only, as in PyTorch) climbs the objective: the gradient's sign is flipped first.
    """

    # the options PyTorch's __setstate__ gives a default, that minigrad has (Optimizer)
    LATE_OPTIONS = {"maximize": False}

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "eps": eps,
                                  "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "maximize": maximize})
        for group in self.param_groups:
            for parameter in group["params"]:
                self._initial_state(parameter, group)

    def _check_settings(self, settings: dict[str, Any]) -> None:
        super()._check_settings(settings)
        check_number("Adagrad", "lr_decay", settings["lr_decay"], description="lr_decay value")
        check_number("Adagrad", "weight_decay", settings["weight_decay"],
                     description="weight_decay value")
        check_number("Adagrad", "initial_accumulator_value",
                     settings["initial_accumulator_value"],
                     description="initial_accumulator_value value")
        check_number("Adagrad", "eps", settings["eps"], description="epsilon value")

    def _initial_state(self, parameter: Any, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[parameter] = {
            "step": 0,
            "sum": np.full_like(parameter.data, group["initial_accumulator_value"])}
        return state

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        for parameter in group["params"]:
            grad = parameter.grad
            if grad is None:
                continue
            data = parameter.data
            state = self.state.get(parameter)
            if not state:  # a group added later, or state loaded without this parameter
                state = self._initial_state(parameter, group)
            elif state["sum"].dtype != data.dtype:  # the model was cast since
                match_dtype(state, data.dtype)
            state["step"] += 1
            step_size = lr / (1 + (state["step"] - 1) * lr_decay)
            for values, gradient, total in blocks(data, grad, state["sum"]):
                if maximize:
                    gradient = -gradient
                if weight_decay:
                    gradient = gradient + weight_decay * values
                total += gradient * gradient
                values -= step_size * gradient / (np.sqrt(total) + eps)
            parameter.data = data  # the same array back: records the in-place write
