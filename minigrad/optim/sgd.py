"""Stochastic gradient descent, as ``torch.optim.SGD``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.autograd import next_seq
from minigrad.optim.optimizer import BLOCK_SIZE, Optimizer, blocks, check_number, match_dtype
from minigrad.tensor import _shared_data, record_shared_write


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, as ``torch.optim.SGD``:

        g = grad + weight_decay · p          (with maximize=True: -grad + weight_decay · p)
        b = g on the first step, then momentum · b + (1 - dampening) · g
        g = g + momentum · b  (nesterov)   or   g = b  (plain momentum)
        p = p - lr · g

    (Sutskever et al. 2013 write momentum with lr inside the buffer; PyTorch's form above
    differs only when lr changes during training.) ``maximize=True`` (keyword only, as in
    PyTorch) climbs the objective instead: the gradient's sign is flipped first.
    """

    # the options PyTorch's __setstate__ gives a default, that minigrad has (Optimizer)
    LATE_OPTIONS = {"nesterov": False, "maximize": False}

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov,
                                  "maximize": maximize})

    def _check_settings(self, settings: dict[str, Any]) -> None:
        super()._check_settings(settings)
        for name in ("momentum", "dampening", "weight_decay"):
            check_number("SGD", name, settings[name], description=f"{name} value")
        if settings["nesterov"] and (settings["momentum"] <= 0 or settings["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening. "
                             "Fix: pass momentum=0.9 (say) and dampening=0, or nesterov=False.")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        maximize = group["maximize"]  # in every group (an older checkpoint's: False)
        if not momentum and not weight_decay:
            # p + lr·grad is p − (−lr)·grad exactly: a sign flip rounds nothing
            _plain_update(group["params"], -lr if maximize else lr)
            return
        dampening, nesterov = group["dampening"], group["nesterov"]
        for parameter in group["params"]:
            grad = parameter.grad
            if grad is None:
                continue
            data = parameter.data
            # (maximize negates each block, not `grad` here: that would be a parameter-sized
            # temporary, which the blocks exist to avoid)
            if not momentum:
                for values, gradient in blocks(data, grad):
                    if maximize:
                        gradient = -gradient
                    values -= lr * (gradient + weight_decay * values)
                parameter.data = data
                continue
            state = self.state.setdefault(parameter, {})
            first_step = state.get("momentum_buffer") is None
            if not first_step and state["momentum_buffer"].dtype != data.dtype:
                match_dtype(state, data.dtype)  # the model was cast since
            # The first step fills a new buffer; it joins the state only once the whole
            # update has run, so a step that fails part-way never leaves it half-filled.
            buffer: np.ndarray = (np.empty(data.shape, parameter.dtype) if first_step
                                  else state["momentum_buffer"])
            for values, gradient, buffered in blocks(data, grad, buffer):
                if maximize:
                    gradient = -gradient
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


def _plain_update(params: list[Any], lr: float) -> None:
    """p ← p − lr·grad for every parameter with a gradient (plain SGD keeps no state).

    The lean loop is most of the optimiser's cost on a small model. Each array is written
    in place (`Tensor._data`), and the write recorded as the `data` setter would: every
    parameter gets one creation number taken before the updates, later than any node that
    may have saved the old values, so their backward refuses (`Tensor._vjp`).

    A parameter larger than `BLOCK_SIZE` is updated block by block (no parameter-sized
    temporary: see `minigrad.optim.optimizer`), and lr·grad goes into one block-sized
    scratch array made once per step: a fresh temporary per block cost a malloc/free and a
    cold cache line each time (the B=128 benchmark step was ~1.5% slower for it). The
    blocks are sliced here rather than by `blocks`, which checks the layouts again and
    builds a tuple per block: through it, the optimiser step of the B=128 benchmark MLP
    took 8-12% longer (~6-10 µs of a ~90 µs step).
    """
    written_at = next_seq()
    scratch: np.ndarray | None = None
    shared = _shared_data._entries  # tensors sharing memory (views, detach): by id
    for parameter in params:
        grad = parameter.grad
        if grad is None:
            continue
        data = parameter._data
        size = grad.size
        if size <= BLOCK_SIZE:
            data -= lr * grad
        elif (grad.dtype is data.dtype and data.dtype.itemsize >= 4 and data.flags.c_contiguous
              and grad.flags.c_contiguous):  # the usual case (Optimizer.step checked shapes)
            # (float16 goes below: under NumPy 1.x, `lr * grad` is computed in float32, and
            # a float16 scratch array would round it first.)
            if scratch is None or scratch.dtype is not grad.dtype:
                scratch = np.empty(BLOCK_SIZE, grad.dtype)
            flat_data, flat_grad = data.reshape(-1), grad.reshape(-1)  # views: contiguous
            for start in range(0, size, BLOCK_SIZE):
                values = flat_data[start:start + BLOCK_SIZE]
                # lr·grad, the same numbers as `lr * grad`, without a new array
                values -= np.multiply(flat_grad[start:start + BLOCK_SIZE], lr,
                                      out=scratch[:values.size])
        else:  # a .grad set by hand in another dtype, or a non-contiguous array: rare
            for values, gradient in blocks(data, grad):
                values -= lr * gradient
        parameter._version = written_at
        if id(parameter) in shared:
            record_shared_write(parameter)
