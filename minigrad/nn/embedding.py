"""`Embedding`: a lookup table of learned vectors, one row per token (or category) index."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.nn.module import Module, Parameter
from minigrad.ops.base import Function
from minigrad.tensor import Tensor, default_generator


class EmbeddingLookup(Function):
    """``weight[indices]``: rows of the table. Backward adds each output row's gradient into
    the row it came from (``np.add.at``: an index used twice gets both gradients); the
    padding row gets none, so it stays as it is (zero, by default) through training."""

    name = "embedding"

    def forward(self, weight, indices, padding_idx):
        # A copy of the indices: the caller's array (or Tensor data) may be refilled before
        # backward, which would send the gradient to other rows without a word.
        self.weight_shape, self.padding_idx = weight.shape, padding_idx
        self.indices = np.array(indices, copy=True)
        return weight[self.indices]

    def backward(self, grad_output):
        grad = np.zeros(self.weight_shape, grad_output.dtype)
        np.add.at(grad, self.indices.reshape(-1),
                  grad_output.reshape(-1, self.weight_shape[1]))
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        return (grad,)


def _checked_indices(input: Any, num_embeddings: int) -> np.ndarray:  # noqa: A002
    indices = input.data if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype}. "
                        "Fix: convert them with .long().")
    if indices.size and (indices.min() < 0 or indices.max() >= num_embeddings):
        raise ValueError(f"embedding: index out of range: values from {indices.min()} to "
                         f"{indices.max()} for a table of {num_embeddings} rows. Fix: make "
                         f"num_embeddings larger than the largest index.")
    return indices


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:  # noqa: A002
    """Rows of `weight` ``(num_embeddings, embedding_dim)`` at integer indices of any shape
    ``(*)``: output ``(*, embedding_dim)``. The ``padding_idx`` row receives no gradient."""
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise TypeError(f"embedding: weight must be a 2-D Tensor (num_embeddings, "
                        f"embedding_dim), got {type(weight).__name__} "
                        f"{getattr(weight, 'shape', '')}. Fix: nn.Parameter(array).")
    rows = weight.shape[0]
    indices = _checked_indices(input, rows)
    if padding_idx is not None:
        # Checked here, not only in the module: -10 on 5 rows wrapped to -5 and froze row 0,
        # and 7 failed inside backward with NumPy's IndexError.
        if (isinstance(padding_idx, bool) or not isinstance(padding_idx, int | np.integer)
                or not -rows <= padding_idx < rows):
            raise ValueError(f"embedding: padding_idx must be an int within num_embeddings "
                             f"(-{rows}..{rows - 1}), got {padding_idx!r}.")
        padding_idx = int(padding_idx) % rows
    return EmbeddingLookup.apply(weight, indices=indices, padding_idx=padding_idx)


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors of size ``embedding_dim``.

    Input: integer indices of any shape ``(*)``; output ``(*, embedding_dim)``. ``weight``
    ``(num_embeddings, embedding_dim)`` starts as N(0, 1) samples, as in PyTorch. The row
    ``padding_idx`` (negative counts from the end) starts at zero and gets no gradient, so a
    padding token maps to a zero vector throughout training.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None) -> None:
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Embedding: {name} must be a positive int, got {value!r}.")
        if padding_idx is not None:
            if (isinstance(padding_idx, bool) or not isinstance(padding_idx, int | np.integer)
                    or not -num_embeddings <= padding_idx < num_embeddings):
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings "
                                 f"(-{num_embeddings}..{num_embeddings - 1}), got {padding_idx}.")
            padding_idx = int(padding_idx) % num_embeddings  # PyTorch stores it non-negative
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), np.float32))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: N(0, 1), with the padding row set to zero."""
        shape = self.weight.shape
        # in the weight's own dtype: after model.double() it stays float64
        self.weight.data = default_generator().standard_normal(shape).astype(self.weight.dtype)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input: Any) -> Tensor:  # noqa: A002
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else text + f", padding_idx={self.padding_idx}"
