"""``repeat_interleave``: each element repeated in place (``numpy.repeat``), PyTorch's
counterpart of ``repeat``, which tiles the whole tensor: ``[1, 2].repeat_interleave(2)`` is
``[1, 1, 2, 2]`` where ``[1, 2].repeat(2)`` is ``[1, 2, 1, 2]``.

`repeats` is one count for every element, or one count per element along `dim` (a 1-d
integer tensor or list; a single-element one counts for all). With ``dim=None`` the
tensor is flattened first, as in PyTorch. The backward adds up the gradients of the copies
of each element (``np.add.at`` over the copies' source positions; a count of 0 gives 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.ops.base import Function, ShapeError
from minigrad.ops.reduce import single_axis
from minigrad.tensor import Tensor, expect_tensor


class RepeatInterleave(Function):
    name = "repeat_interleave"

    def forward(self, x, repeats, axis):
        self.input_shape, self.axis = x.shape, axis
        # which input position along `axis` each output position copies
        self.source = np.repeat(np.arange(x.shape[axis]), repeats)
        return np.repeat(x, repeats, axis=axis)

    def backward(self, grad_output):
        moved = np.moveaxis(grad_output, self.axis, 0)
        grad = np.zeros((self.input_shape[self.axis], *moved.shape[1:]), grad_output.dtype)
        np.add.at(grad, self.source, moved)
        return (np.moveaxis(grad, 0, self.axis),)


def _counts(repeats: Any, x: Tensor, axis: int, size: int) -> np.ndarray | int:
    """`repeats` as one int or an int64 array of `size` counts, or a clear error."""
    fix = "Fix: an int >= 0, or one whole count >= 0 per element along dim."
    if isinstance(repeats, int | np.integer) and not isinstance(repeats, bool):
        if repeats < 0:
            raise ShapeError(f"repeat_interleave: repeats must be >= 0, got {int(repeats)} "
                             f"(tensor of shape {x.shape}). {fix}")
        return int(repeats)
    if isinstance(repeats, Tensor):
        counts = repeats.data
    elif isinstance(repeats, list | tuple | np.ndarray):
        counts = np.asarray(repeats)
        if counts.size == 0 and not isinstance(repeats, np.ndarray):
            counts = counts.astype(np.int64)  # [] is float64 to NumPy
    else:
        raise TypeError(f"repeat_interleave: repeats must be an int or a 1-d integer tensor, "
                        f"got {type(repeats).__name__} {repeats!r:.40}. {fix}")
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeat_interleave: repeats must hold integers, got dtype "
                        f"{counts.dtype} (repeats of shape {counts.shape}). Fix: whole "
                        "counts, e.g. repeats.long() or mg.tensor([1, 2]).")
    if counts.ndim > 1:
        raise ShapeError(f"repeat_interleave: repeats must be 0-d or 1-d, got shape "
                         f"{counts.shape}. Fix: one count per element along dim, e.g. "
                         "repeats.flatten().")
    if (counts < 0).any():
        raise ShapeError(f"repeat_interleave: repeats must be >= 0, got {counts.tolist()!r:.80}."
                         f" {fix}")
    counts = counts.astype(np.int64).reshape(-1)
    if counts.size == 1:
        return int(counts[0])
    if counts.size != size:
        raise ShapeError(f"repeat_interleave: {counts.size} repeats for {size} elements along "
                         f"dim {axis} (tensor of shape {x.shape}): give one count per element "
                         "(or one count for all). Fix: check dim; with dim=None the tensor "
                         "is flattened first.")
    return counts


def repeat_interleave(x: Tensor, repeats: Any = None, dim: Any = None, *,
                      output_size: Any = None) -> Tensor:
    """``x.repeat_interleave(repeats, dim=None)``: each element of `x` repeated `repeats`
    times along `dim` (PyTorch's ``repeat_interleave``; ``numpy.repeat``). `repeats` is an
    int, or one count per element (a 1-d integer tensor or list); ``dim=None`` flattens
    first. ``mg.repeat_interleave(counts)`` alone repeats each index i counts[i] times, as in
    PyTorch. `output_size`, if given, must be the result's length along `dim`."""
    expect_tensor(x, "repeat_interleave")
    if repeats is None:  # torch.repeat_interleave(counts): indices 0..n-1, repeated
        if x.dtype.kind not in "iu" or x.ndim > 1:
            raise TypeError(f"repeat_interleave: called with one tensor (dtype {x.dtype}, "
                            f"shape {x.shape}), it must be a 1-d integer tensor of counts. "
                            "Fix: x.repeat_interleave(repeats, dim) to repeat x's elements.")
        return repeat_interleave(Tensor(np.arange(x.data.size, dtype=np.int64)), x, 0)
    if dim is None:
        x = x.reshape(-1)
        axis = 0
    else:
        if x.ndim == 0:
            raise ShapeError(f"repeat_interleave: a 0-d tensor has no dim {dim!r}. Fix: "
                             "dim=None (repeats the single element into a 1-d tensor).")
        axis = single_axis(dim, x.ndim, "repeat_interleave")
    counts = _counts(repeats, x, axis, x.shape[axis])
    total = int(np.sum(counts)) if isinstance(counts, np.ndarray) else counts * x.shape[axis]
    if output_size is not None and output_size != total:
        raise ShapeError(f"repeat_interleave: output_size={output_size!r} but the repeats "
                         f"give {total} elements along dim {axis}. Fix: drop output_size or "
                         "give the sum of the repeats.")
    try:
        return RepeatInterleave.apply(x, repeats=counts, axis=axis)
    except MemoryError as error:  # NumPy's message names neither the op nor the sizes
        raise MemoryError(f"repeat_interleave: not enough memory to repeat a tensor of shape "
                          f"{x.shape} to {total} elements along dim {axis}: {error}. Fix: "
                          "smaller repeats, or .expand(...) for a view that copies "
                          "nothing.") from None
