"""Adam and AdamW, as ``torch.optim.Adam`` and ``torch.optim.AdamW``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer, blocks, check_number, match_dtype


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1), as ``torch.optim.Adam``: with t the step count,

        g = grad + weight_decay · p          (L2 penalty added to the gradient)
        m = β1 m + (1 - β1) g,   v = β2 v + (1 - β2) g²
        p = p - lr · (m / (1 - β1^t)) / (√(v / (1 - β2^t)) + eps)

    The divisions by 1 - β^t undo the bias of m and v towards their zero start.
    ``amsgrad=True`` uses the running maximum of v (Reddi et al. 2018); ``maximize=True``
    (keyword only, as in PyTorch) climbs the objective: the gradient's sign is flipped first.
    """

    # the options PyTorch's __setstate__ gives a default, that minigrad has (Optimizer)
    LATE_OPTIONS = {"amsgrad": False, "maximize": False}

    decoupled_weight_decay = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad,
                                  "maximize": maximize})

    def _check_settings(self, settings: dict[str, Any]) -> None:
        name = type(self).__name__
        super()._check_settings(settings)
        check_number(name, "eps", settings["eps"], description="epsilon value")
        betas = settings["betas"]
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}. "
                            "Fix: betas=(0.9, 0.999).")
        for i, beta in enumerate(betas):
            check_number(name, f"betas[{i}]", beta, below=1.0,
                         description=f"beta parameter at index {i}")
        settings["betas"] = tuple(betas)
        check_number(name, "weight_decay", settings["weight_decay"],
                     description="weight_decay value")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay, amsgrad = (group["lr"], group["eps"], group["weight_decay"],
                                          group["amsgrad"])
        beta1, beta2 = group["betas"]
        maximize = group["maximize"]  # in every group (an older checkpoint's: False)
        decoupled = self.decoupled_weight_decay
        for parameter in group["params"]:
            grad = parameter.grad
            if grad is None:
                continue
            data = parameter.data
            state = self.state.get(parameter)
            if not state:
                state = self.state[parameter] = {
                    "step": 0, "exp_avg": np.zeros_like(data), "exp_avg_sq": np.zeros_like(data)}
                if amsgrad:
                    state["max_exp_avg_sq"] = np.zeros_like(data)
            elif state["exp_avg"].dtype != data.dtype:  # the model was cast since
                match_dtype(state, data.dtype)
            state["step"] += 1
            step = state["step"]
            step_size = lr / (1 - beta1**step)  # lr over the first moment's bias correction
            bias_correction2 = 1 - beta2**step
            moments = [state["exp_avg"], state["exp_avg_sq"]]
            if amsgrad:
                moments.append(state["max_exp_avg_sq"])
            for values, gradient, exp_avg, exp_avg_sq, *maximum in blocks(data, grad, *moments):
                if maximize:
                    gradient = -gradient
                if weight_decay and decoupled:
                    values *= 1 - lr * weight_decay  # AdamW: decay the weight itself
                elif weight_decay:
                    gradient = gradient + weight_decay * values
                exp_avg *= beta1
                exp_avg += (1 - beta1) * gradient
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * gradient * gradient
                if maximum:
                    np.maximum(maximum[0], exp_avg_sq, out=maximum[0])
                    exp_avg_sq = maximum[0]
                denominator = np.sqrt(exp_avg_sq / bias_correction2) + eps
                values -= step_size * exp_avg / denominator
            parameter.data = data  # the same array back: records the in-place write


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019, Algorithm 2), as
    ``torch.optim.AdamW``: the weight shrinks by itself, ``p = p · (1 - lr · weight_decay)``,
    and then takes Adam's step on the plain gradient — the decay does not pass through
    m and v, so it is not rescaled by √v. Note the default ``weight_decay=0.01``.
    """

    decoupled_weight_decay = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
