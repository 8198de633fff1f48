"""Stochastic gradient descent, as ``torch.optim.SGD``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer, check_number


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
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov})

    def _check_settings(self, settings: dict[str, Any]) -> None:
        super()._check_settings(settings)
        for name in ("momentum", "dampening", "weight_decay"):
            check_number("SGD", name, settings[name], description=f"{name} value")
        if settings["nesterov"] and (settings["momentum"] <= 0 or settings["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening. "
                             "Fix: pass momentum=0.9 (say) and dampening=0, or nesterov=False.")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        if not momentum and not weight_decay:
            # Plain SGD keeps no state: the lean loop is most of the optimiser's cost on a
            # small model, so it skips the state look-ups below.
            for parameter in group["params"]:
                if parameter.grad is not None:
                    parameter.data -= lr * parameter.grad
            return
        for parameter in group["params"]:
            grad = parameter.grad
            if grad is None:
                continue
            if weight_decay:
                grad = grad + weight_decay * parameter.data
            if momentum:
                state = self.state.setdefault(parameter, {})
                buffer = state.get("momentum_buffer")
                if buffer is None:
                    buffer = state["momentum_buffer"] = np.array(grad, dtype=parameter.dtype)
                else:
                    buffer *= momentum
                    buffer += (1 - group["dampening"]) * grad
                grad = grad + momentum * buffer if group["nesterov"] else buffer
            parameter.data -= lr * grad
