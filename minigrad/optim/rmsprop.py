"""RMSprop, as ``torch.optim.RMSprop``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer, blocks, check_number, match_dtype


class RMSprop(Optimizer):
    """RMSprop (Hinton, Neural Networks for Machine Learning, lecture 6e), as
    ``torch.optim.RMSprop``:

        g = grad + weight_decay · p
        v = α v + (1 - α) g²                          (v starts at 0)
        centered:  a = α a + (1 - α) g,  v̂ = v - a²   (a variance instead of a second moment)
        d = √v̂ + eps
        momentum:  b = momentum · b + g / d,  p = p - lr · b
        otherwise: p = p - lr · g / d

    Unlike Adam there is no bias correction, so the first steps are larger (v is small).
    ``maximize=True`` (keyword only) climbs the objective: the gradient's sign is flipped first.
    """

    # the options PyTorch's __setstate__ gives a default, that minigrad has (Optimizer)
    LATE_OPTIONS = {"momentum": 0.0, "centered": False, "maximize": False}

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps,
                                  "weight_decay": weight_decay, "momentum": momentum,
                                  "centered": centered, "maximize": maximize})

    def _check_settings(self, settings: dict[str, Any]) -> None:
        super()._check_settings(settings)
        check_number("RMSprop", "eps", settings["eps"], description="epsilon value")
        check_number("RMSprop", "momentum", settings["momentum"], description="momentum value")
        check_number("RMSprop", "weight_decay", settings["weight_decay"],
                     description="weight_decay value")
        check_number("RMSprop", "alpha", settings["alpha"], description="alpha value")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum, centered = (group["weight_decay"], group["momentum"],
                                            group["centered"])
        maximize = group["maximize"]  # in every group (an older checkpoint's: False)
        for parameter in group["params"]:
            grad = parameter.grad
            if grad is None:
                continue
            data = parameter.data
            state = self.state.get(parameter)
            if not state:
                state = self.state[parameter] = {"step": 0, "square_avg": np.zeros_like(data)}
                if momentum > 0:
                    state["momentum_buffer"] = np.zeros_like(data)
                if centered:
                    state["grad_avg"] = np.zeros_like(data)
            elif state["square_avg"].dtype != data.dtype:  # the model was cast since
                match_dtype(state, data.dtype)
            state["step"] += 1
            extra = (([state["momentum_buffer"]] if momentum > 0 else [])
                     + ([state["grad_avg"]] if centered else []))
            for values, gradient, square_avg, *buffers in blocks(data, grad, state["square_avg"],
                                                                  *extra):
                if maximize:
                    gradient = -gradient
                if weight_decay:
                    gradient = gradient + weight_decay * values
                square_avg *= alpha
                square_avg += (1 - alpha) * gradient * gradient
                if centered:
                    grad_avg = buffers[-1]
                    # PyTorch's lerp, a + (1 - α)(g − a): it approaches a constant gradient
                    # from one side, where α·a + (1 − α)·g can step past it
                    step_to_gradient = gradient - grad_avg
                    step_to_gradient *= 1 - alpha
                    grad_avg += step_to_gradient
                    # Var = E[g²] − E[g]² >= 0, but rounding can take it just below 0 when the
                    # gradient barely varies, and √ of that is NaN, which poisons the weight.
                    # (One temporary array, updated in place: see BLOCK_SIZE.)
                    denominator = np.multiply(grad_avg, grad_avg, out=step_to_gradient)
                    np.subtract(square_avg, denominator, out=denominator)
                    np.maximum(denominator, 0, out=denominator)
                    np.sqrt(denominator, out=denominator)
                    denominator += eps
                else:
                    denominator = np.sqrt(square_avg) + eps
                if momentum > 0:
                    buffer = buffers[0]
                    buffer *= momentum
                    buffer += gradient / denominator
                    values -= lr * buffer
                else:
                    values -= lr * gradient / denominator
            parameter.data = data  # the same array back: records the in-place write
