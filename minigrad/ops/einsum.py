"""``mg.einsum("ij,jk->ik", a, b)``: Einstein summation (PyTorch's and NumPy's ``einsum``).

The backward is einsum again. The output is a sum over products of one element of each
operand, so d(output)/d(operand i) is the product of the *other* operands: operand i's
gradient is ``einsum("<output>,<others>-><operand i>", grad_output, *others)``. Two cases
need more than that one call:

* a letter of operand i that appears nowhere else (``"ij->i"`` sums j away): every element
  along it received the same gradient, so the einsum is taken over the other letters and
  broadcast along it;
* a letter repeated within operand i (``"ii->i"``, a diagonal): only the diagonal elements
  were used, so the gradient is written onto the diagonal of zeros (through the writable
  view ``numpy.einsum("ii->i", zeros)`` gives).

Ellipses (``"...ij"``) are refused with the fix (name the axes), rather than half supported,
and so is a letter naming axes of different sizes where PyTorch would broadcast a size-1 one
(the fix: ``expand`` it first). NumPy's einsum does the work, with ``optimize`` on for two
or more operands, so that a product of matrices goes through BLAS.

Bools and integers follow PyTorch 2.13, which NumPy's einsum does not: one operand with a
letter summed away (``"ij->j"``, ``"i->"``, a trace ``"ii->"``) is a sum, so bools count and
integers add up in int64, as ``sum`` does (NumPy would give ``[True, True]`` for the counts
of a bool mask, and 44 for three hundred uint8 ones). With two or more operands PyTorch
multiplies and adds in the operands' dtype, as ``matmul`` does (int32 wraps around; so it
does here); a bool contraction there (``"i,i->"``) is refused, as in PyTorch, where NumPy
would give a logical "or" of the products. Without a sum (``"ij->ji"``, ``"i,j->ij"``) the
dtype is kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.ops.base import Function, ShapeError
from minigrad.ops.promotion import promoted_all
from minigrad.tensor import Tensor


def _unique(letters: str) -> str:
    return "".join(dict.fromkeys(letters))


class Einsum(Function):
    def forward(self, *arrays, inputs, output):
        self.arrays, self.inputs, self.output = arrays, inputs, output
        return np.einsum(f"{','.join(inputs)}->{output}", *arrays, optimize=len(arrays) > 1)

    def backward(self, grad_output):
        return tuple(self._gradient(i, grad_output) if needed else None
                     for i, needed in enumerate(self.needs_input_grad))

    def _gradient(self, i: int, grad_output: np.ndarray) -> np.ndarray:
        subscripts = self.inputs[i]
        others = [s for j, s in enumerate(self.inputs) if j != i]
        other_arrays = [a for j, a in enumerate(self.arrays) if j != i]
        available = set(self.output).union(*others)
        letters = _unique(subscripts)
        present = "".join(c for c in letters if c in available)
        equation = f"{','.join([self.output, *others])}->{present}"
        grad = np.einsum(equation, grad_output, *other_arrays,
                         optimize=bool(other_arrays))
        size = {c: n for c, n in zip(subscripts, self.arrays[i].shape)}
        if present != letters:  # letters summed in this operand only: broadcast along them
            grad = grad.reshape([size[c] if c in available else 1 for c in letters])
            grad = np.broadcast_to(grad, [size[c] for c in letters])
        if letters == subscripts:
            return np.array(grad, copy=True) if not grad.flags.owndata else grad
        full = np.zeros(self.arrays[i].shape, grad_output.dtype)  # a diagonal: only it was used
        np.einsum(f"{subscripts}->{letters}", full)[...] = grad
        return full


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sum of products over the letters of `equation`, as ``torch.einsum``: e.g.
    ``einsum("ij,jk->ik", a, b)`` is ``a @ b``, ``einsum("bij->bji", x)`` a transpose,
    ``einsum("ii->i", m)`` the diagonal. Without ``->`` the output has the letters that
    appear once, in alphabetical order. Operands may also be given as one list."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string such as 'ij,jk->ik', got "
                        f"{type(equation).__name__}. Fix: mg.einsum('ij,jk->ik', a, b).")
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: no operands. Fix: mg.einsum('ij,jk->ik', a, b).")
    tensors = []
    for position, operand in enumerate(operands):
        if not isinstance(operand, Tensor):
            raise TypeError(f"einsum: operand {position} is a {type(operand).__name__}, not a "
                            "Tensor. Fix: wrap it, mg.tensor(...).")
        tensors.append(operand)
    text = equation.replace(" ", "")
    if "." in text:
        raise ValueError(f"einsum: ellipses ('...') are not supported, in {equation!r}. Fix: "
                         "name every axis with a letter, e.g. 'bij,bjk->bik'.")
    left, arrow, output = text.partition("->")
    inputs = left.split(",")
    if len(inputs) != len(tensors):
        raise ValueError(f"einsum: {equation!r} has {len(inputs)} operand(s) but "
                         f"{len(tensors)} tensor(s) were given. Fix: one comma-separated "
                         "group of letters per tensor.")
    if not all(c.isascii() and c.isalpha() for c in left.replace(",", "") + output):
        raise ValueError(f"einsum: {equation!r}: subscripts must be letters a-z, A-Z, "
                         "separated by commas, with an optional '->' and output letters.")
    sizes: dict[str, int] = {}
    for position, (subscripts, tensor) in enumerate(zip(inputs, tensors)):
        if len(subscripts) != tensor.ndim:
            raise ShapeError(f"einsum: operand {position} has {tensor.ndim} dimension(s) "
                             f"(shape {tensor.shape}) but {len(subscripts)} letter(s) "
                             f"{subscripts!r} in {equation!r}. Fix: one letter per axis.")
        for letter, n in zip(subscripts, tensor.shape):
            if sizes.setdefault(letter, n) != n:
                raise ShapeError(f"einsum: letter {letter!r} stands for axes of sizes "
                                 f"{sizes[letter]} and {n} in {equation!r} (shapes "
                                 f"{', '.join(str(t.shape) for t in tensors)}). Fix: a letter "
                                 "must name axes of one size (PyTorch also stretches a size-1 "
                                 "axis there: expand it first, x.expand(...)).")
    if not arrow:
        counts = left.replace(",", "")
        output = "".join(sorted(c for c in sizes if counts.count(c) == 1))
    elif len(set(output)) != len(output) or not set(output) <= set(sizes):
        raise ValueError(f"einsum: the output {output!r} of {equation!r} must name each letter "
                         "at most once, and only letters of the operands.")
    promoted = promoted_all(tensors)
    kind = promoted[0].dtype.kind
    sums = len(set(output)) < len(sizes)  # a letter summed away
    if kind in "biu" and sums and len(promoted) == 1:  # a sum: int64, as mg.sum and PyTorch
        return Tensor._make(np.einsum(f"{inputs[0]}->{output}", promoted[0].data,
                                      dtype=np.int64), None, ())
    if kind == "b" and sums:
        raise TypeError(f"einsum: {equation!r} multiplies bool tensors and sums over "
                        f"{''.join(sorted(set(sizes) - set(output)))!r}, which PyTorch refuses "
                        "('bmm not implemented for Bool'; NumPy would give a logical or). Fix: "
                        "convert them first, e.g. mg.einsum(eq, a.long(), b.long()) for counts.")
    return Einsum.apply(*promoted, inputs=tuple(inputs), output=output)
