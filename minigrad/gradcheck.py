"""Check backward against central differences: the test every op must pass."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from minigrad.tensor import Tensor
from minigrad.value import Value


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree; the message names the input and element."""


def _scalar_output(output: Any) -> float:
    if isinstance(output, Value):
        return output.data
    if isinstance(output, Tensor):
        return float(output.data.astype(np.float64).sum())
    raise TypeError(f"gradcheck: fn must return a Tensor or a Value, got {type(output).__name__}.")


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Tensor | Value], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare the gradients `backward` computes with central differences.

    ``fn(*inputs)`` may return a tensor of any shape: its sum is differentiated (so every
    output element is checked). Each input that requires grad is perturbed element by
    element: (f(x + eps) - f(x - eps)) / (2 eps). Use float64 inputs: in float32 the
    rounding error of the difference swamps the derivative. Returns True, or raises
    `GradcheckError` naming the input and the worst element.
    """
    inputs = list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Value) or x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad. Fix: pass tensors created with "
                         "requires_grad=True.")
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            raise TypeError(f"gradcheck: input of dtype {x.dtype}; central differences need "
                            "float64. Fix: create the inputs with dtype=np.float64.")
        x.grad = 0.0 if isinstance(x, Value) else None
    output = fn(*inputs)
    seed = 1.0 if isinstance(output, Value) else np.ones_like(output.data)
    if isinstance(output, Tensor):
        output.backward(seed)
    else:
        output.backward()

    for index in checked:
        x = inputs[index]
        if isinstance(x, Value):
            original = x.data
            x.data = original + eps
            plus = _scalar_output(fn(*inputs))
            x.data = original - eps
            minus = _scalar_output(fn(*inputs))
            x.data = original
            numeric, analytic = np.array([(plus - minus) / (2 * eps)]), np.array([x.grad])
        else:
            analytic = np.zeros(x.shape) if x.grad is None else np.asarray(x.grad, np.float64)
            numeric = np.zeros(x.shape)
            flat = x.data.reshape(-1)  # a view: perturbing it perturbs x
            numeric_flat = numeric.reshape(-1)
            for i in range(flat.size):
                original = flat[i]
                flat[i] = original + eps
                plus = _scalar_output(fn(*inputs))
                flat[i] = original - eps
                minus = _scalar_output(fn(*inputs))
                flat[i] = original
                numeric_flat[i] = (plus - minus) / (2 * eps)
        error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if (error > 0).any():
            worst = np.unravel_index(int(np.argmax(error)), error.shape) if error.ndim else ()
            raise GradcheckError(
                f"gradcheck: input {index} (shape {getattr(x, 'shape', ())}) element {worst}: "
                f"backward gives {analytic[worst]:.8g}, central differences give "
                f"{numeric[worst]:.8g} (atol={atol}, rtol={rtol})."
            )
    return True
