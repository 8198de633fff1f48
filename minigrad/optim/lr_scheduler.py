"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: call ``scheduler.step()`` once
per epoch (or per batch for OneCycleLR), after ``optimizer.step()``.

    optimizer = SGD(model.parameters(), lr=0.1)
    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, optimizer)
        scheduler.step()

Building a scheduler sets each group's ``lr`` to the schedule's value at step 0 and
remembers the starting value as ``group["initial_lr"]``; ``last_epoch`` counts the steps
taken. StepLR and MultiStepLR multiply the group's current ``lr`` (so schedulers can be
chained, as in PyTorch); the others compute it from the closed formula of their paper.

Resuming. PyTorch's recipe works as there: build the optimiser and the scheduler as for a
new run, then load the optimiser's state_dict, then the scheduler's (in that order: building
a scheduler writes each group's lr, and LambdaLR's would replace the loaded one). Building
with ``last_epoch=N`` instead (N = the index of the last epoch trained: the saved
scheduler's ``last_epoch`` minus one) sets each group's lr to the schedule's value at epoch
N + 1, computed from ``initial_lr`` whatever lr the group holds; ``step()`` goes on from
there. PyTorch's StepLR, MultiStepLR and LambdaLR give the same values when the group holds
the lr of epoch N (its CosineAnnealingLR, when it holds that of epoch N + 1); otherwise
PyTorch leaves the schedule, and minigrad does not follow it there, as that trains at a
wrong rate without a word: its StepLR and MultiStepLR multiply the held lr (a resume at a
milestone decays twice), and its CosineAnnealingLR keeps it and scales it by ratios of
cosines (up to ten times ``initial_lr``: tests/test_lr_scheduler.py). A schedule chained
with another is not rebuilt by ``last_epoch``: resume it with the state_dicts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from minigrad.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and writes `get_lr()` into each
    group's ``lr``; ``get_last_lr()`` returns the values last written."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an optimiser (e.g. minigrad.optim.SGD), got "
                            f"{type(optimizer).__name__}.")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        elif any("initial_lr" not in group for group in optimizer.param_groups):
            raise KeyError(f"{name}: last_epoch={last_epoch} resumes a schedule, but the "
                           "optimiser's groups have no 'initial_lr'. Fix: load the optimiser's "
                           "state_dict first, or start with last_epoch=-1.")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        if last_epoch == -1:
            self.step()
        else:  # resuming: see `_resumed_lr`
            self.last_epoch += 1
            self._set_lrs(self._resumed_lr())

    def get_lr(self) -> list[float]:
        """The learning rate of each group at step ``self.last_epoch``."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates the last `step` set, one per parameter group."""
        return self._last_lr

    def _resumed_lr(self) -> list[float]:
        """The learning rate each group gets when the scheduler is built with
        ``last_epoch=N >= 0``: the schedule's value at step N + 1, whatever lr the group
        holds. `get_lr` gives it for the schedules computed from ``initial_lr``; StepLR and
        MultiStepLR override this, as their `get_lr` multiplies the group's current lr."""
        return self.get_lr()

    def step(self) -> None:
        """Move the schedule on by one step (an epoch; a batch for OneCycleLR)."""
        self.last_epoch += 1
        self._set_lrs(self.get_lr())

    def _set_lrs(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimiser (save that with the optimiser's own state_dict)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from `state_dict`; the optimiser's own state is loaded separately."""
        self.__dict__.update(state_dict)

    def _per_group(self, value: Any, name: str) -> list[Any]:
        """A setting given once for all groups, or as one value per group."""
        groups = len(self.optimizer.param_groups)
        if isinstance(value, list | tuple):
            if len(value) != groups:
                raise ValueError(f"{type(self).__name__}: expected {groups} values of {name} "
                                 f"(one per parameter group), got {len(value)}.")
            return list(value)
        return [value] * groups


def _check_positive_int(scheduler: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{scheduler}: {name} must be a positive int, got {value!r}.")


class StepLR(LRScheduler):
    """Multiply the learning rate by `gamma` every `step_size` steps:
    ``lr = initial_lr · gamma^⌊epoch / step_size⌋``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        _check_positive_int("StepLR", "step_size", step_size)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        decay = self.last_epoch > 0 and self.last_epoch % self.step_size == 0
        return [group["lr"] * (self.gamma if decay else 1) for group in
                self.optimizer.param_groups]

    def _resumed_lr(self) -> list[float]:
        factor = self.gamma ** (self.last_epoch // self.step_size)
        return [base_lr * factor for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by `gamma` at each epoch listed in `milestones`:
    ``lr = initial_lr · gamma^(number of milestones ≤ epoch)``."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(milestones)  # a milestone listed twice decays twice
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        factor = self.gamma ** self.milestones.get(self.last_epoch, 0)
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _resumed_lr(self) -> list[float]:
        passed = sum(count for milestone, count in self.milestones.items()
                     if milestone <= self.last_epoch)
        return [base_lr * self.gamma ** passed for base_lr in self.base_lrs]


class LambdaLR(LRScheduler):
    """``lr = initial_lr · lr_lambda(epoch)``; `lr_lambda` is a function of the step count
    or a list of them, one per parameter group."""

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = self._per_group(lr_lambda, "lr_lambda")
        for function in self.lr_lambdas:
            if not callable(function):
                raise TypeError(f"LambdaLR: lr_lambda must be a function of the epoch, got "
                                f"{function!r}. Fix: lr_lambda=lambda epoch: 0.95 ** epoch.")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base_lr * function(self.last_epoch)
                for base_lr, function in zip(self.base_lrs, self.lr_lambdas)]

    def state_dict(self) -> dict[str, Any]:
        """Functions are not saved (as in PyTorch): rebuild the scheduler with them."""
        state = super().state_dict()
        state["lr_lambdas"] = [None] * len(self.lr_lambdas)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        lr_lambdas = self.lr_lambdas
        super().load_state_dict(state_dict)
        self.lr_lambdas = lr_lambdas


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing without restarts (Loshchilov & Hutter 2017, SGDR, eq. 5):

        lr = eta_min + (initial_lr - eta_min) · (1 + cos(π · epoch / T_max)) / 2

    from `initial_lr` at epoch 0 down to `eta_min` at ``T_max``, and back up after it (the
    cosine goes on, as in PyTorch). The closed formula is used; PyTorch computes the same
    values recursively from the previous lr (they differ by rounding only).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1) -> None:
        _check_positive_int("CosineAnnealingLR", "T_max", T_max)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            # Step 0 keeps each group's lr, as PyTorch's does: it is initial_lr for a new
            # schedule, and the lr reached when a scheduler is built again over a loaded
            # optimiser to resume (the closed formula would put it back to initial_lr for
            # the first epoch after the resume).
            return [group["lr"] for group in self.optimizer.param_groups]
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin 2018), as ``torch.optim.lr_scheduler.OneCycleLR``;
    call ``step()`` after every batch.

    The learning rate rises from ``max_lr / div_factor`` to `max_lr` over the first
    ``pct_start`` of the `total_steps`, then anneals to ``initial_lr / final_div_factor``;
    the momentum (SGD's ``momentum`` or Adam's β1) moves the opposite way between
    `max_momentum` and `base_momentum`. ``three_phase=True`` comes back down to the initial
    lr symmetrically before the final annealing. ``anneal_strategy`` is "cos" or "linear".
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85,
                 max_momentum: float | list[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: you must define either total_steps OR (epochs AND "
                                 "steps_per_epoch). Fix: OneCycleLR(optimizer, max_lr, "
                                 "total_steps=len(loader) * epochs).")
            _check_positive_int("OneCycleLR", "epochs", epochs)
            _check_positive_int("OneCycleLR", "steps_per_epoch", steps_per_epoch)
            total_steps = epochs * steps_per_epoch
        _check_positive_int("OneCycleLR", "total_steps", total_steps)
        if not 0 <= pct_start <= 1 or isinstance(pct_start, bool):
            raise ValueError(f"OneCycleLR: expected a float between 0 and 1 for pct_start, got "
                             f"{pct_start!r}.")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}.")
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        self.cycle_momentum = cycle_momentum
        up_end = float(pct_start * total_steps) - 1
        if three_phase:  # (end step, lr from, lr to, momentum from, momentum to)
            self._phases = [
                (up_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr",
                 "base_momentum", "max_momentum"),
                (total_steps - 1.0, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self._phases = [
                (up_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (total_steps - 1.0, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        groups = optimizer.param_groups
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"OneCycleLR: optimizer {type(optimizer).__name__} has no "
                                 "momentum to cycle. Fix: pass cycle_momentum=False.")
            self._use_beta1 = "betas" in optimizer.defaults
        if last_epoch == -1:
            for group, top in zip(groups, self._per_group(max_lr, "max_lr")):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
            if cycle_momentum:
                for group, low, high in zip(groups, self._per_group(base_momentum, "base_momentum"),
                                            self._per_group(max_momentum, "max_momentum")):
                    self._set_momentum(group, high)
                    group["base_momentum"], group["max_momentum"] = low, high
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict[str, Any], momentum: float) -> None:
        if self._use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def _anneal(self, start: float, end: float, fraction: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2 * (math.cos(math.pi * fraction) + 1)
        return (end - start) * fraction + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; the specified number of "
                             f"total steps is {self.total_steps}. Fix: raise total_steps (or "
                             "epochs), or stop calling step() after the last batch.")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, (end_step, lr_from, lr_to, momentum_from, momentum_to) in enumerate(
                    self._phases):
                if step <= end_step or i == len(self._phases) - 1:
                    fraction = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], fraction))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(
                            group[momentum_from], group[momentum_to], fraction))
                    break
                start_step = end_step
        return lrs
