"""`Function`: the one way to define a differentiable tensor operation.

An op is a small class with two methods on NumPy arrays, read side by side:

    class Mul(Function):
        def forward(self, a, b):
            self.a, self.b = a, b            # save what backward needs, on the op itself
            return a * b

        def backward(self, grad_output):
            return grad_output * self.b, grad_output * self.a   # one gradient per input

`Mul.apply(x, y)` does everything else, once for every op: it runs `forward` on the
arrays, turns NumPy's shape errors into messages that name the op and the shapes,
records the node unless `no_grad()` is active, and checks for NaN/Inf under
`detect_anomaly()`. During backward the engine calls `Tensor._vjp`, which sums
broadcast gradients back to each input's shape — so no op ever un-broadcasts by hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.autograd import current_state
from minigrad.tensor import Tensor, check_finite, sum_to_shape  # noqa: F401 (re-exported)


class ShapeError(ValueError):
    """A `ValueError` an op raises itself, already naming the op, the shapes and the fix."""


class Function:
    """Base class of every tensor op. Subclasses define `forward` and `backward`.

    ``name`` is what error messages and the graph visualiser call the op; it defaults to
    the lower-case class name.
    """

    name: str = ""
    # One bool per input, set before backward runs: an op may skip (return None for) the
    # gradient of an input that does not require one, e.g. a network's input data.
    needs_input_grad: tuple[bool, ...] = ()
    # Appended to NumPy's shape errors; ops whose errors mean something else override it.
    fix_hint: str = ("make the shapes compatible (NumPy broadcasting: trailing axes equal or "
                     "1), e.g. with reshape or unsqueeze.")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("name"):
            cls.name = cls.__name__.lower()

    def forward(self, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """Run the op on tensors and record it in the graph."""
        op = cls()
        try:
            data = op.forward(*[t._data for t in inputs], **params)
        except ShapeError:
            raise
        except ValueError as error:  # NumPy's own message, made to name the op and shapes
            shapes = " and ".join(str(t.shape) for t in inputs)
            raise ValueError(
                f"{cls.name}: cannot apply to inputs of shapes {shapes}: {error}. "
                f"Fix: {cls.fix_hint}"
            ) from None
        engine = current_state()  # grad mode, anomaly mode and scope, read once per op
        out = None
        if engine.grad_enabled:
            for tensor in inputs:  # a plain loop: `any(...)` costs a generator per op
                if tensor.requires_grad:
                    op.needs_input_grad = tuple([t.requires_grad for t in inputs])
                    out = Tensor._node(data, op, inputs, engine.scope)
                    break
        if out is None:  # nothing to differentiate: a constant, outside the graph
            out = Tensor._node(data, None, (), engine.scope)
        if engine.anomaly:
            out._where = autograd.user_frame()
            check_finite(out._data, cls.name, out._where, "forward", inputs, engine.scope)
        return out
