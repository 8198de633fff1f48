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

import functools
from operator import attrgetter
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.autograd import current_state, next_seq
from minigrad.tensor import (  # noqa: F401 (sum_to_shape: re-exported)
    Tensor,
    check_finite,
    share_views,
    sum_to_shape,
)

_new_tensor = object.__new__
# In C: a comprehension such as `[t._data for t in inputs]` costs a Python frame per op.
_array_of = attrgetter("_data")
_requires_grad_of = attrgetter("requires_grad")
_ONE_INPUT_NEEDS_GRAD = (True,)


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
    # True when backward reads the op's own output array (the node's data): an in-place
    # write to that output before backward must then be refused, as for a saved input.
    saves_output: bool = False
    # Appended to NumPy's shape errors; ops whose errors mean something else override it.
    fix_hint: str = ("make the shapes compatible (NumPy broadcasting: trailing axes equal or "
                     "1), e.g. with reshape or unsqueeze.")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("name"):
            cls.name = cls.__name__.lower()
        # A user's own op gets its backward's results checked (minigrad's ops are trusted:
        # no cost on their hot path). PyTorch habits, a bare array for one input, a float,
        # a Tensor, otherwise end in a raw AttributeError deep inside the engine.
        if "backward" in cls.__dict__ and not cls.__module__.startswith("minigrad."):
            cls.backward = _checked_backward(cls.__dict__["backward"])  # type: ignore[method-assign]

    def forward(self, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """Run the op on tensors and record it in the graph."""
        op = cls()
        try:
            # Up to three inputs and no settings (most ops) are passed by hand: `*map(...)`
            # builds a map object and a tuple it then resizes, and `**params` a new dict
            # per call (together ~20% of the instructions of recording a cheap op).
            if params:
                data = op.forward(*map(_array_of, inputs), **params)
            elif len(inputs) == 1:
                data = op.forward(inputs[0]._data)
            elif len(inputs) == 2:
                data = op.forward(inputs[0]._data, inputs[1]._data)
            elif len(inputs) == 3:  # a linear layer: x, weight, bias
                data = op.forward(inputs[0]._data, inputs[1]._data, inputs[2]._data)
            else:
                data = op.forward(*map(_array_of, inputs))
        except ShapeError:
            raise
        except ValueError as error:  # NumPy's own message, made to name the op and shapes
            shapes = " and ".join(str(t.shape) for t in inputs)
            raise ValueError(
                f"{cls.name}: cannot apply to inputs of shapes {shapes}: {error}. "
                f"Fix: {cls.fix_hint}"
            ) from None
        engine = current_state()  # grad mode, anomaly mode and scope, read once per op
        # The new node, built here rather than through Tensor._node (same fields): this
        # runs for every op of every step, and a call costs as much as a few of these lines.
        out = _new_tensor(Tensor)
        out._data = data if type(data) is np.ndarray else np.asarray(data)
        out.grad = None
        out.requires_grad = False
        out.name = None
        out._op = None
        out._parents = ()
        if engine.grad_enabled:
            for tensor in inputs:  # a plain loop: `any(...)` costs a generator per op
                if tensor.requires_grad:
                    if len(inputs) == 1:
                        op.needs_input_grad = _ONE_INPUT_NEEDS_GRAD
                    elif len(inputs) == 2:  # by hand, as the arrays above
                        op.needs_input_grad = (inputs[0].requires_grad, inputs[1].requires_grad)
                    elif len(inputs) == 3:
                        op.needs_input_grad = (inputs[0].requires_grad, inputs[1].requires_grad,
                                               inputs[2].requires_grad)
                    else:
                        op.needs_input_grad = tuple(map(_requires_grad_of, inputs))
                    out.requires_grad = True
                    out._op = op
                    out._parents = inputs
                    break
        # Otherwise nothing to differentiate: a constant, outside the graph.
        out._seq = next_seq()
        out._scope = engine.scope
        out._hooks = ()
        out._where = None
        out._retains_grad = False
        out._version = 0
        # A view of an input (reshape, transpose, indexing...) or an input's own array (an
        # identity op): writes to it or to the input are writes to both.
        if out._data.base is not None or (inputs and out._data is inputs[0]._data):
            share_views(out, inputs)
        if engine.anomaly:
            out._where = autograd.user_frame()
            check_finite(out._data, cls.name, out._where, "forward", inputs, engine.scope)
        return out


def _checked_backward(backward: Any) -> Any:
    """`backward` of a user-defined op, with its results made a tuple of arrays (or None),
    one per input: a single result for a one-input op is wrapped, numbers and nested lists
    become arrays, and a Tensor is refused with the fix."""
    @functools.wraps(backward)
    def checked(self: Function, grad_output: np.ndarray) -> tuple[np.ndarray | None, ...]:
        grads = backward(self, grad_output)
        if isinstance(grads, np.ndarray | np.generic | Tensor | int | float):
            grads = (grads,)  # one input: PyTorch's Function may return its gradient bare
        checked_grads = []
        for position, grad in enumerate(grads):
            if isinstance(grad, Tensor):
                raise TypeError(
                    f"{self.name}: backward returned a Tensor for input {position}; an op's "
                    "backward works on NumPy arrays. Fix: return arrays (grad.data), computed "
                    "from grad_output and what forward saved.")
            if grad is not None and type(grad) is not np.ndarray:
                try:  # the engine casts it to the input's dtype
                    grad = np.asarray(grad)
                    if grad.dtype.kind not in "biuf":
                        raise TypeError
                except (TypeError, ValueError):
                    raise TypeError(f"{self.name}: backward returned {type(grad).__name__} "
                                    f"{grad!r:.40} for input {position}. Fix: return one NumPy "
                                    "array (or None) per input of forward.") from None
            checked_grads.append(grad)
        return tuple(checked_grads)

    return checked
