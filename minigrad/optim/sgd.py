"""Stochastic gradient descent, as ``torch.optim.SGD``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim.optimizer import BLOCK_SIZE, Optimizer, blocks, check_number


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
                grad = parameter.grad
                if grad is None:
                    continue
                if grad.size <= BLOCK_SIZE:
                    parameter.data -= lr * grad
                    continue
                data = parameter.data
                for values, gradient in blocks(data, grad):  # no parameter-sized temporary
                    values -= lr * gradient
                parameter.data = data  # the same array back: records the in-place write
            return
        dampening, nesterov = group["dampening"], group["nesterov"]
        for parameter in group["params"]:
            grad = parameter.grad
            if grad is None:
                continue
            data = parameter.data
            if not momentum:
                for values, gradient in blocks(data, grad):
                    values -= lr * (gradient + weight_decay * values)
                parameter.data = data
                continue
            state = self.state.setdefault(parameter, {})
            first_step = state.get("momentum_buffer") is None
            # The first step fills a new buffer; it joins the state only once the whole
            # update has run, so a step that fails part-way never leaves it half-filled.
            buffer: np.ndarray = (np.empty(data.shape, parameter.dtype) if first_step
                                  else state["momentum_buffer"])
            for values, gradient, buffered in blocks(data, grad, buffer):
                if weight_decay:
                    gradient = gradient + weight_decay * values
                if first_step:
                    buffered[...] = gradient
                else:
                    buffered *= momentum
                    buffered += (1 - dampening) * gradient
                gradient = gradient + momentum * buffered if nesterov else buffered
                values -= lr * gradient
            state["momentum_buffer"] = buffer
            parameter.data = data
