"""Checks for lesson 04's exercises (``python tutorials/check.py 4``)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

import minigrad as mg
from _checks import expect
from minigrad import nn
from minigrad.nn import functional as F


def _problem(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.normal(2.0, 3.0, (6, 4)), rng.normal(1.0, 0.5, 4), rng.normal(0.0, 1.0, 4))


def check_forward(student: ModuleType) -> None:
    """BatchNormFunction's forward equals F.batch_norm in training mode"""
    x, gamma, beta = _problem(0)
    got = student.BatchNormFunction.apply(*(mg.tensor(a) for a in (x, gamma, beta)))
    expected = F.batch_norm(mg.tensor(x), None, None, mg.tensor(gamma), mg.tensor(beta),
                            training=True)
    error = float(np.abs(got.data - expected.data).max())
    expect(error < 1e-10, f"largest difference from F.batch_norm: {error:.3g}",
           "biased variance (divide by N, np.var's default); eps inside the square root; "
           "statistics over axis 0 (the batch), one per feature")


def check_gradcheck(student: ModuleType) -> None:
    """its backward passes mg.gradcheck (float64, all three inputs)"""
    tensors = [mg.tensor(a, requires_grad=True) for a in _problem(1)]
    weights = mg.tensor(np.random.default_rng(2).normal(size=(6, 4)))
    try:
        ok = mg.gradcheck(lambda x, g, b: (student.BatchNormFunction.apply(x, g, b)
                                           * weights).sum(), tensors)
    except NotImplementedError:
        raise
    except Exception as error:
        expect(False, f"gradcheck failed: {str(error).splitlines()[0]}",
               "dbeta = Σdy; dgamma = Σ(dy·x̂); dx = γ·s/N·(N·dy − Σdy − x̂·Σ(dy·x̂)) with "
               "s = 1/√(σ² + ε) — return them in the order of forward's inputs")
    expect(bool(ok), "gradcheck returned False", "compare your dx with lesson 04 §2")


_FORMULAS = {
    "dx": "compare your dx with lesson 04 §2: dx = γ·s/N·(N·dy − Σdy − x̂·Σ(dy·x̂)), "
          "s = 1/√(σ² + ε); the Σdy term is the path through the mean, the x̂·Σ(dy·x̂) term "
          "the path through the variance (sums over the batch, axis 0)",
    "dgamma": "dgamma = Σ over the batch (axis 0) of dy·x̂",
    "dbeta": "dbeta = Σ over the batch (axis 0) of dy",
}


def _returned_shapes(student: ModuleType, inputs: tuple[np.ndarray, ...],
                     upstream: np.ndarray) -> list[tuple[int, ...] | None]:
    """The shapes the student's backward returns, called on arrays: the engine sums a
    gradient of a broadcast shape back to its input's, so ``.grad`` cannot show them."""
    op = student.BatchNormFunction()
    op.needs_input_grad = (True,) * len(inputs)
    op.forward(*inputs)
    shapes = [None if grad is None else np.shape(grad) for grad in op.backward(upstream)]
    return shapes + [None] * (len(inputs) - len(shapes))  # (zip below must see all three)


def check_matches_the_fused_op(student: ModuleType) -> None:
    """its gradients equal those of minigrad's fused BatchNorm"""
    x, gamma, beta = _problem(3)
    upstream = np.random.default_rng(4).normal(size=x.shape)
    grads = []
    for build in (lambda t: student.BatchNormFunction.apply(*t),
                  lambda t: F.batch_norm(t[0], None, None, t[1], t[2], training=True)):
        tensors = [mg.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
        build(tensors).backward(mg.tensor(upstream))
        grads.append([t.grad for t in tensors])
    returned = _returned_shapes(student, (x, gamma, beta), upstream)
    for name, array, shape, mine, fused in zip(("dx", "dgamma", "dbeta"), (x, gamma, beta),
                                               returned, *grads):
        error = float(np.abs(mine - fused).max())
        if error < 1e-9:
            continue
        if shape != array.shape:  # e.g. dgamma of shape (N, C): summed by the engine, N-fold
            expect(False, f"{name} differs from the fused op by {error:.3g}: backward returned "
                   f"it with shape {shape}, its input has shape {array.shape}",
                   "each gradient has its input's shape: (N, C), (C,), (C,) — sum over the "
                   "batch axis (axis 0) for dgamma and dbeta")
        expect(False, f"{name} differs from the fused op by {error:.3g} (its shape "
               f"{array.shape} is right)", _FORMULAS[name])


def check_running_stats(student: ModuleType) -> None:
    """update_running_stats gives nn.BatchNorm1d's buffers after each of two training batches"""
    rng = np.random.default_rng(5)
    layer = nn.BatchNorm1d(5, momentum=0.3)
    mean, var = np.zeros(5), np.ones(5)  # a fresh layer's buffers
    # Two batches: after the first the old statistics are no longer 0 and 1, so an update
    # that drops or mistreats the old term shows.
    for batch, centre in enumerate((3.0, -1.0), start=1):
        x = rng.normal(centre, 2.0, (8, 5)).astype(np.float32)
        layer(mg.tensor(x))
        mean, var = student.update_running_stats(x.astype(np.float64), np.asarray(mean),
                                                 np.asarray(var), 0.3)
        expect(np.allclose(mean, layer.running_mean.data, atol=1e-5),
               f"after batch {batch}: running mean {np.round(mean, 4)}, BatchNorm1d has "
               f"{np.round(layer.running_mean.data, 4)}",
               "(1 − momentum)·old + momentum·batch mean")
        expect(np.allclose(var, layer.running_var.data, atol=1e-5),
               f"after batch {batch}: running var {np.round(var, 4)}, BatchNorm1d has "
               f"{np.round(layer.running_var.data, 4)}",
               "(1 − momentum)·old + momentum·batch variance, the UNBIASED one (ddof=1), "
               "Algorithm 2")
