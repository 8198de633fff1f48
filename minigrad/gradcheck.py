"""Check backward against central differences: the test every op must pass."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad.autograd import no_grad
from minigrad.tensor import Tensor
from minigrad.value import Value


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree; the message names the input and element."""


def _projection_weights(output: Any) -> np.ndarray | float:
    """Fixed, unequal weights w for the scalar sum(w * output) that gradcheck differentiates.

    Plain sum(output) would seed backward with ones, and a backward that puts the right
    numbers in the wrong places (a wrong transpose, a misrouted gather) would still pass.
    """
    if isinstance(output, Value):
        return 1.0
    if isinstance(output, Tensor):
        return np.random.default_rng(0).uniform(0.5, 1.5, size=output.shape)
    raise TypeError(f"gradcheck: fn must return a Tensor or a Value, got {type(output).__name__}.")


def _scalar_output(output: Any, weights: np.ndarray | float) -> float:
    if isinstance(output, Value):
        return output.data
    if isinstance(output, Tensor):
        return float((output.data.astype(np.float64) * weights).sum())
    raise TypeError(f"gradcheck: fn must return a Tensor or a Value, got {type(output).__name__}.")


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Tensor | Value], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare the gradients `backward` computes with central differences.

    ``fn(*inputs)`` returns a `Value` or a tensor of any shape; a tensor output is reduced to
    sum(w * output) with fixed random weights w of its shape, so every output element and
    every route of the gradient is checked. Each input that requires grad is perturbed
    element by element: (f(x + eps) - f(x - eps)) / (2 eps). Use float64 inputs: in float32
    the rounding error of the difference swamps the derivative. An element passes when
    ``|analytic - numeric| <= atol + rtol * |numeric|``. Returns True, or raises
    `GradcheckError` naming the input and the worst element. Resets the inputs' ``.grad``.
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
    weights = _projection_weights(output)
    if isinstance(output, Tensor):
        output.backward(np.asarray(weights, dtype=output.dtype))
    else:
        output.backward()

    for index in checked:
        x = inputs[index]
        with no_grad():  # the perturbed evaluations need no graph
            numeric, analytic = _numeric_and_analytic(fn, inputs, x, weights, eps)
        if analytic.shape != numeric.shape:
            raise GradcheckError(f"gradcheck: input {index} has shape {numeric.shape} but backward "
                                 f"gave it a gradient of shape {analytic.shape}.")
        # `not (error <= 0)` also catches NaN in either gradient, which `error > 0` would pass.
        error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if not (error <= 0).all():
            failed = np.where(error <= 0, -np.inf, np.nan_to_num(error, nan=np.inf))
            worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(failed)), error.shape))
            raise GradcheckError(
                f"gradcheck: input {index} (shape {getattr(x, 'shape', ())}) element {worst}: "
                f"backward gives {analytic[worst]:.8g}, central differences give "
                f"{numeric[worst]:.8g} (atol={atol}, rtol={rtol})."
            )
    return True


def _numeric_and_analytic(fn: Callable[..., Any], inputs: list, x: Tensor | Value,
                          weights: np.ndarray | float,
                          eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of sum(weights * fn(*inputs)) with respect to each element of
    `x`, and the gradient backward left in ``x.grad``, both as float64 arrays."""
    if isinstance(x, Value):
        original = x.data
        x.data = original + eps
        plus = _scalar_output(fn(*inputs), weights)
        x.data = original - eps
        minus = _scalar_output(fn(*inputs), weights)
        x.data = original
        return np.array([(plus - minus) / (2 * eps)]), np.array([x.grad])
    analytic = np.zeros(x.shape) if x.grad is None else np.asarray(x.grad, np.float64)
    numeric = np.zeros(x.shape)
    # Index x.data itself: a reshaped "flat view" would silently be a copy for a
    # non-contiguous array, and perturbing the copy would leave f unchanged.
    for position in np.ndindex(x.shape):
        element = x.data[position]
        x.data[position] = element + eps
        plus = _scalar_output(fn(*inputs), weights)
        x.data[position] = element - eps
        minus = _scalar_output(fn(*inputs), weights)
        x.data[position] = element
        numeric[position] = (plus - minus) / (2 * eps)
    return numeric, analytic
