"""Loss ops: cross-entropy (fused with log-softmax), negative log-likelihood, and binary
cross-entropy on probabilities or on logits.

Each is one op with its analytic gradient: fusing the steps gives short, exact gradients and
never takes the log of a rounded-off probability. Arguments, reductions and edge cases follow
PyTorch: 'mean' divides by the total weight of the rows that count, so when every target is
``ignore_index`` the loss is 0/0 = NaN while the gradient is 0 (nothing was learned from
nothing) — one optimiser step after such a batch leaves the weights unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.engine_state import is_grad_enabled
from minigrad.ops.base import Function, ShapeError
from minigrad.ops.neural import _log_softmax
from minigrad.tensor import Tensor, expect_tensor

_REDUCTIONS = ("mean", "sum", "none")


_MODULES = {"cross_entropy": "CrossEntropyLoss", "nll_loss": "NLLLoss",
            "binary_cross_entropy": "BCELoss",
            "binary_cross_entropy_with_logits": "BCEWithLogitsLoss"}


def _refuse_trained_weight(value: Any, name: str, op: str) -> None:
    """A class weight that requires grad is refused at the call, as PyTorch refuses it ("not
    differentiable with respect to argument 'weight'"): these ops give the weight no
    gradient, so it would silently stay untrained. Under `no_grad` nothing is trained, so it
    is accepted there (as in PyTorch)."""
    if isinstance(value, Tensor) and value.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"{op}: {name} requires grad, but the loss has no gradient with respect to its "
            f"{name} (PyTorch refuses it too), so it would silently stay untrained. Fix: "
            f"pass {name}={name}.detach() (to the loss module: nn.{_MODULES[op]}({name}="
            f"{name}.detach())). To train the {name}, write the "
            "weighted loss out of tensor ops (from the losses of reduction='none').")


def check_reduction(reduction: Any, op: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}.")
    return reduction


# -- class-index losses ----------------------------------------------------------------------


class _ClassIndexLoss(Function):
    """Shared by cross_entropy and nll_loss: per-row losses over (M, C) scores and M class
    indices, each row weighted by ``row_weight`` (the weight of its class; 0 for ignored rows;
    None means all 1), then reduced. ``backward`` turns a per-row gradient into the input's."""

    def _reduce(self, losses, row_weight, reduction):
        self.row_weight, self.reduction = row_weight, reduction
        if reduction == "none":
            return losses
        if reduction == "sum":
            return np.asarray(losses.sum())
        if row_weight is None and len(losses):  # never 0/0: no need for np.errstate (~2 µs)
            self.total_weight = len(losses)
            return np.asarray(np.add.reduce(losses) / self.total_weight)
        self.total_weight = len(losses) if row_weight is None else row_weight.sum()
        with np.errstate(invalid="ignore", divide="ignore"):  # all rows ignored: NaN, as PyTorch
            return np.asarray(losses.sum() / self.total_weight)

    def _row_scale(self, grad_output):
        """d(reduced loss)/d(loss of each row): a scalar, or one value per row."""
        if self.reduction == "mean":
            return grad_output / self.total_weight
        return grad_output

    def _all_weight_zero_gradient(self, shape, dtype):
        """'mean' with total weight 0: PyTorch's gradient is 0 for ignored rows (they take no
        part) and 0/0 = NaN for rows whose class weight is 0."""
        counted = np.ones(shape[0], bool) if self.keep is None else self.keep
        return np.where(counted[:, None], np.full(shape, np.nan, dtype), np.zeros(shape, dtype))


class CrossEntropy(_ClassIndexLoss):
    """Fused log-softmax + negative log-likelihood over (M, C) logits and M class indices.

    loss_m = -w_m · log softmax(z_m)[t_m], w_m = weight[t_m] (0 for ignored rows); its
    gradient is w_m · (softmax(z_m) - onehot(t_m)). With label smoothing ε (Szegedy et al.
    2016, "Rethinking the Inception Architecture", §7) PyTorch adds ε/C of the loss against
    the uniform distribution: loss_m = (1-ε)·nll_m + (ε/C)·Σ_c weight_c·(-log p_mc), whose
    gradient adds (ε/C)·(p_m·Σ_c weight_c - weight).
    """

    name = "cross_entropy"

    def forward(self, logits, target, row_weight, reduction, label_smoothing=0.0,
                class_weight=None, keep=None):
        rows = np.arange(len(target))
        log_probs = _log_softmax(logits, axis=1)
        losses = -log_probs[rows, target]
        if row_weight is not None:
            losses *= row_weight
        self.probs, self.rows, self.target = np.exp(log_probs), rows, target
        self.smoothing, self.class_weight, self.keep = label_smoothing, class_weight, keep
        if label_smoothing:
            weighted = log_probs if class_weight is None else log_probs * class_weight
            uniform_loss = -weighted.sum(axis=1)
            if keep is not None:
                uniform_loss *= keep
            classes = logits.shape[1]
            losses = (1 - label_smoothing) * losses + (label_smoothing / classes) * uniform_loss
            reduced = self._reduce(losses, row_weight, reduction)
            if reduction == "mean" and self.total_weight == 0:
                # Every kept target's class weight is 0: the uniform part alone is > 0, so
                # the sum over 0 would be inf; PyTorch's NLL part is 0/0 = NaN, hence NaN.
                reduced = np.full_like(reduced, np.nan)
            return reduced
        return self._reduce(losses, row_weight, reduction)

    def backward(self, grad_output):
        if self.reduction == "mean" and self.total_weight == 0:
            return (self._all_weight_zero_gradient(self.probs.shape, self.probs.dtype),)
        grad = self.probs.copy()
        grad[self.rows, self.target] -= 1
        if self.row_weight is not None:
            grad *= self.row_weight[:, None]
        if self.smoothing:
            classes = grad.shape[1]
            if self.class_weight is None:
                uniform = self.probs * classes - 1
            else:
                uniform = self.probs * self.class_weight.sum() - self.class_weight
            if self.keep is not None:
                uniform *= self.keep[:, None]
            grad = (1 - self.smoothing) * grad + (self.smoothing / classes) * uniform
        if grad_output.ndim == 0:  # a reduced loss: one factor for every row
            # As a Python float: a quotient of two float32 values rounded once in float64
            # and once to float32 is the float32 quotient, so `grad` gets the same numbers
            # as with `grad_output / total_weight`, a ufunc call on a 0-d array (~1.5 µs).
            scale = float(grad_output)
            if self.reduction == "mean":
                scale /= float(self.total_weight)
            grad *= scale
            return (grad,)
        return (grad * self._row_scale(grad_output)[:, None],)


class NLLLoss(_ClassIndexLoss):
    """Negative log-likelihood of (M, C) log-probabilities: loss_m = -w_m · input[m, t_m].
    The gradient is -w_m at each row's target class and 0 elsewhere."""

    name = "nll_loss"

    def forward(self, log_probs, target, row_weight, reduction, keep=None):
        self.shape, self.rows, self.target, self.keep = log_probs.shape, np.arange(len(target)), \
            target, keep
        losses = -log_probs[self.rows, target]
        if row_weight is not None:
            losses = losses * row_weight
        return self._reduce(losses, row_weight, reduction)

    def backward(self, grad_output):
        dtype = grad_output.dtype
        if self.reduction == "mean" and self.total_weight == 0:
            # -w/0 at each counted row's target (NaN: w is 0 there), 0 everywhere else
            counted = np.ones(len(self.rows), bool) if self.keep is None else self.keep
            grad = np.zeros(self.shape, dtype)
            grad[self.rows, self.target] = np.where(counted, np.nan, 0)
            return (grad,)
        row_grad = -np.broadcast_to(self._row_scale(grad_output), self.rows.shape)
        if self.row_weight is not None:
            row_grad = row_grad * self.row_weight
        grad = np.zeros(self.shape, dtype)
        grad[self.rows, self.target] = row_grad
        return (grad,)


# Each native integer dtype -> the unsigned dtype of the same size, and the largest class
# count for which `_class_index_setup`'s one-reduction check holds: seen as unsigned, a
# negative index of a signed type is >= 2**(bits-1), so it exceeds the class count only when
# there are at most that many classes (int8 targets with 200 classes: -100 reads as 156).
_UNSIGNED = {np.dtype(f"{kind}{size}"): (np.dtype(f"u{size}"),
                                         2 ** (8 * size - 1) if kind == "i" else 2 ** (8 * size))
             for kind in "iu" for size in (1, 2, 4, 8)}


def _class_indices(target: Any, input_shape: tuple[int, ...], op: str) -> np.ndarray:
    """Validate the target: integer class indices of the right shape."""
    array = target.data if isinstance(target, Tensor) else np.asarray(target)
    expected = (input_shape[0],) + input_shape[2:] if len(input_shape) > 1 else ()
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must hold integer class indices, got dtype {array.dtype}. "
            "Fix: convert the labels with y.astype(np.int64) (class probabilities as targets "
            "are not supported).")
    if array.shape != expected:
        hint = ""
        if array.size == int(np.prod(expected)):
            hint = f" Fix: reshape the target with y.reshape{expected}."
        elif array.shape == input_shape:
            hint = " Fix: pass class indices (y.argmax(1)), not one-hot rows."
        raise ShapeError(
            f"{op}: input of shape {input_shape} needs a target of shape {expected} "
            f"(one class index per sample), got {array.shape}.{hint}")
    return array


def _class_index_setup(input: Tensor, target: Any, weight: Any, ignore_index: int,  # noqa: A002
                       op: str) -> dict[str, Any]:
    """Everything cross_entropy and nll_loss share: the (M, C) rows, the safe indices, the
    row weights and the mask of counted (not ignored) rows."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor of scores, got {type(input).__name__}.")
    if input.dtype.kind != "f":  # PyTorch: "not implemented for 'Long'"
        raise TypeError(f"{op}: the scores must be floating point, got dtype {input.dtype}. "
                        "Fix: pass the model's raw float scores (convert with .float()).")
    if input.ndim == 0:
        raise ShapeError(f"{op}: input must have a class axis: (N, C) scores, or (C,) for one "
                         "sample; got a 0-d tensor.")
    classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    # A copy: backward reads the indices, and the caller may refill its label buffer before
    # then (micro-batches summed into one loss): its gradient would go to the new classes.
    indices = _class_indices(target, input.shape, op).reshape(-1).copy()
    unsigned, most_classes = _UNSIGNED.get(indices.dtype, (indices.dtype, 0))
    if (weight is None and type(ignore_index) is int and ignore_index < 0 and indices.size
            and classes <= most_classes
            and np.maximum.reduce(indices.view(unsigned)) < classes):
        # The usual case, checked with one reduction instead of the seven array operations
        # below (~4 µs a step): every index is a valid class, so none is ignored or bad.
        # Seen as unsigned integers of the same size, negative indices are >= 2**(bits-1),
        # at least the class count here (see _UNSIGNED), so "max < classes" alone says
        # "all in [0, classes)".
        return {"target": indices, "row_weight": None, "class_weight": None, "keep": None,
                "rows": _rows(input, classes)}
    ignored = indices == ignore_index
    bad = (~ignored) & ((indices < 0) | (indices >= classes))
    if bad.any():
        raise ValueError(
            f"{op}: target holds class {indices[bad][0]} but the input has {classes} "
            f"classes (valid indices 0..{classes - 1}). Fix: check the labels and the size of "
            "the last layer (out_features must be the number of classes).")
    setup: dict[str, Any] = {"target": indices, "row_weight": None, "class_weight": None,
                             "keep": None}
    if weight is not None:
        _refuse_trained_weight(weight, "weight", op)
        class_weight = np.asarray(weight.data if isinstance(weight, Tensor) else weight,
                                  dtype=input.dtype)
        if class_weight.shape != (classes,):
            raise ShapeError(f"{op}: weight must have shape ({classes},), one value per class, "
                             f"got {class_weight.shape}.")
        setup["class_weight"] = class_weight
    if weight is not None or ignored.any():
        given_weight = setup["class_weight"]
        safe = np.where(ignored, 0, indices)
        per_row = np.ones(len(indices), input.dtype) if given_weight is None else \
            given_weight[safe]
        setup.update(target=safe, keep=~ignored,
                     row_weight=np.where(ignored, 0, per_row).astype(input.dtype))
    setup["rows"] = _rows(input, classes)
    return setup


def _rows(input: Tensor, classes: int) -> Tensor:  # noqa: A002
    """The scores with the class axis last and everything else flattened into rows: (M, C)."""
    if input.ndim == 2:
        return input
    if input.ndim == 1:
        return input.reshape(1, classes)
    return input.permute(0, *range(2, input.ndim), 1).reshape(-1, classes)


def _per_sample_shape(loss: Tensor, input: Tensor) -> Tensor:  # noqa: A002
    return loss.reshape((input.shape[0],) + input.shape[2:] if input.ndim > 1 else ())


def cross_entropy(input: Tensor, target: Any, weight: Any = None,  # noqa: A002
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits against class indices (PyTorch's ``F.cross_entropy``).

    ``input``: logits ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)`` (classes on axis 1).
    ``target``: integers in [0, C) of shape ``(N,)``, ``()`` or ``(N, d1, ...)``, as a Tensor
    or a NumPy array. ``weight``: optional ``(C,)`` class weights, constants (one that
    requires grad is refused, as in PyTorch: it gets no gradient). Targets equal to
    `ignore_index` add nothing (all ignored: 'mean' is NaN, the gradient 0, as in PyTorch).
    ``reduction``: 'mean' (weighted mean), 'sum' or 'none' (shape of the target).
    ``label_smoothing`` ε in [0, 1]: the target becomes (1-ε)·onehot + ε/C.
    """
    check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}.")
    setup = _class_index_setup(input, target, weight, ignore_index, "cross_entropy")
    extra = {}
    if label_smoothing:
        extra = {"label_smoothing": float(label_smoothing),
                 "class_weight": setup["class_weight"], "keep": setup["keep"]}
    elif setup["keep"] is not None:
        extra = {"keep": setup["keep"]}
    loss = CrossEntropy.apply(setup["rows"], target=setup["target"],
                              row_weight=setup["row_weight"], reduction=reduction, **extra)
    return _per_sample_shape(loss, input) if reduction == "none" else loss


def nll_loss(input: Tensor, target: Any, weight: Any = None,  # noqa: A002
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (PyTorch's ``F.nll_loss``): pass
    ``log_softmax(logits, dim=1)``, not probabilities. Shapes, ``weight``, ``ignore_index``
    and ``reduction`` as in `cross_entropy` (``cross_entropy = nll_loss ∘ log_softmax``)."""
    check_reduction(reduction, "nll_loss")
    setup = _class_index_setup(input, target, weight, ignore_index, "nll_loss")
    loss = NLLLoss.apply(setup["rows"], target=setup["target"], row_weight=setup["row_weight"],
                         reduction=reduction, keep=setup["keep"])
    return _per_sample_shape(loss, input) if reduction == "none" else loss


# -- binary losses ---------------------------------------------------------------------------


class BinaryCrossEntropy(Function):
    """-w·(t·log x + (1-t)·log(1-x)) element-wise, on probabilities x. As in PyTorch each log
    is clamped at -100, so x = 0 or 1 gives a large finite loss instead of inf, and the
    gradient w·(x - t) / max(x(1-x), 1e-12) stays finite. d/dt = w·(log(1-x) - log x)."""

    name = "binary_cross_entropy"

    def forward(self, x, target, weight=None):
        self.x, self.target, self.weight = x, target, weight
        with np.errstate(divide="ignore"):
            log_x, log_not_x = np.maximum(np.log(x), -100), np.maximum(np.log1p(-x), -100)
        self.log_ratio = log_not_x - log_x
        loss = -(target * log_x + (1 - target) * log_not_x)
        return loss if weight is None else loss * weight

    def backward(self, grad_output):
        grad = grad_output if self.weight is None else grad_output * self.weight
        x = self.x
        grad_x = grad * (x - self.target) / np.maximum(x * (1 - x), 1e-12)
        grad_target = grad * self.log_ratio if self.needs_input_grad[1] else None
        return grad_x, grad_target


class BinaryCrossEntropyWithLogits(Function):
    """Binary cross-entropy on logits z, computed stably: with p = pos_weight and
    l = 1 + (p-1)·t, loss = (1-t)·z + l·softplus(-z), where softplus(-z) = log(1+e^(-|z|)) +
    max(-z, 0) never overflows. d/dz = l·σ(z) - p·t (σ(z) - t without pos_weight);
    d/dt = p·softplus(-z) - softplus(z)."""

    name = "binary_cross_entropy_with_logits"

    def forward(self, z, target, weight=None, pos_weight=None):
        self.z, self.target, self.weight, self.pos_weight = z, target, weight, pos_weight
        softplus_tail = np.log1p(np.exp(-np.abs(z)))
        self.softplus_neg = softplus_tail + np.maximum(-z, 0)  # softplus(-z) = -log σ(z)
        self.softplus_pos = softplus_tail + np.maximum(z, 0)  # softplus(z) = -log(1-σ(z))
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
        loss = (1 - target) * z + log_weight * self.softplus_neg
        return loss if weight is None else loss * weight

    def backward(self, grad_output):
        grad = grad_output if self.weight is None else grad_output * self.weight
        z, t, p = self.z, self.target, self.pos_weight
        sigmoid = 0.5 * (1 + np.tanh(0.5 * z))  # σ(z) without overflow for large |z|
        if p is None:
            grad_z = grad * (sigmoid - t)
            grad_t = grad * -z  # softplus(-z) - softplus(z) = -z
        else:
            grad_z = grad * ((1 + (p - 1) * t) * sigmoid - p * t)
            grad_t = grad * (p * self.softplus_neg - self.softplus_pos)
        return grad_z, grad_t if self.needs_input_grad[1] else None


def _binary_setup(input: Tensor, target: Any, op: str) -> Tensor:  # noqa: A002
    expect_tensor(input, op)
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {input.dtype}. "
                        "Fix: convert it with .float().")
    if isinstance(target, Tensor) and target.requires_grad and target.dtype != input.dtype:
        target = target.astype(input.dtype)  # a cast in the graph: the gradient reaches it
    elif not isinstance(target, Tensor) or target.dtype != input.dtype:
        data = target.data if isinstance(target, Tensor) else target
        try:
            array = np.asarray(data, dtype=input.dtype)
        except (TypeError, ValueError):
            raise TypeError(f"{op}: target must be numbers (a Tensor or an array), got "
                            f"{type(data).__name__} {data!r:.40}.") from None
        target = Tensor(array)
    if target.shape != input.shape:
        raise ValueError(
            f"{op}: using a target of shape {target.shape} that is different from the input "
            f"shape {input.shape}. Fix: make them the same, e.g. target.reshape{input.shape} "
            "or output.reshape(-1) for one output per sample.")
    return target


def _constant(value: Any, input: Tensor, name: str, op: str) -> np.ndarray | None:  # noqa: A002
    if value is None:
        return None
    _refuse_trained_weight(value, name, op)
    array = np.asarray(value.data if isinstance(value, Tensor) else value, dtype=input.dtype)
    try:
        np.broadcast_shapes(array.shape, input.shape)
    except ValueError:
        raise ShapeError(f"{op}: {name} of shape {array.shape} does not broadcast against the "
                         f"input of shape {input.shape}. Fix: give it shape {input.shape[-1:]} "
                         "(one value per output) or the input's shape.") from None
    return array


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy between probabilities ``input`` (in [0, 1], e.g. after sigmoid)
    and ``target`` of the same shape (a Tensor or array; 0/1 labels or probabilities).
    ``weight`` (a constant, as in `cross_entropy`) broadcasts against the input. Prefer
    `binary_cross_entropy_with_logits` on
    raw scores: it is exact where sigmoid rounds to 0 or 1."""
    check_reduction(reduction, "binary_cross_entropy")
    target = _binary_setup(input, target, "binary_cross_entropy")
    if input.data.size and not ((input.data >= 0) & (input.data <= 1)).all():
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and "
                         "1. Fix: apply sigmoid first, or pass the raw scores to "
                         "binary_cross_entropy_with_logits.")
    if target.data.size and not ((target.data >= 0) & (target.data <= 1)).all():
        raise ValueError("binary_cross_entropy: all elements of target should be between 0 and "
                         "1 (labels or probabilities), as in PyTorch. Fix: check the targets.")
    weight = _constant(weight, input, "weight", "binary_cross_entropy")
    return _reduce(BinaryCrossEntropy.apply(input, target, weight=weight), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Any,  # noqa: A002
                                     weight: Any = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable op, on raw scores ``input``; ``target``
    of the same shape. ``pos_weight`` (broadcast along the last axis, one per class) scales
    the loss of positive targets: > 1 raises recall. ``weight`` broadcasts against the input.
    Both are constants (one that requires grad is refused, as in PyTorch)."""
    op = "binary_cross_entropy_with_logits"
    check_reduction(reduction, op)
    target = _binary_setup(input, target, op)
    loss = BinaryCrossEntropyWithLogits.apply(
        input, target, weight=_constant(weight, input, "weight", op),
        pos_weight=_constant(pos_weight, input, "pos_weight", op))
    return _reduce(loss, reduction)
