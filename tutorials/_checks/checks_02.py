"""Checks for lesson 2's exercises (``python tutorials/check.py 2``)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

import minigrad as mg
from _checks import expect


def check_matmul_backward(student: ModuleType) -> None:
    """matmul_backward gives the engine's dL/dA and dL/dB"""
    rng = np.random.default_rng(0)
    a, b, grad_c = rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=(3, 5))
    ta, tb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    (ta @ tb).backward(grad_c)
    grad_a, grad_b = student.matmul_backward(a, b, grad_c)
    for name, got, engine in (("dA", grad_a, ta.grad), ("dB", grad_b, tb.grad)):
        got = np.asarray(got)
        expect(got.shape == engine.shape, f"{name} has shape {got.shape}, expected "
               f"{engine.shape}", "dA has A's shape (n, k), dB has B's shape (k, m)")
        expect(np.allclose(got, engine, atol=1e-10), f"{name} differs from the engine's",
               "dA = dC Bᵀ and dB = Aᵀ dC (section 2 of the lesson)")


def check_bias_backward(student: ModuleType) -> None:
    """bias_backward sums the gradient over the broadcast (batch) axis"""
    grad_out = np.random.default_rng(1).normal(size=(6, 3))
    x, bias = mg.tensor(np.zeros((6, 3))), mg.tensor(np.zeros(3), requires_grad=True)
    (x + bias).backward(grad_out)
    got = np.asarray(student.bias_backward(grad_out))
    expect(got.shape == (3,) and np.allclose(got, bias.grad, atol=1e-12),
           f"got {got!r}, expected {bias.grad!r}",
           "the bias is used once per row: add up the rows' gradients")


def check_softplus(student: ModuleType) -> None:
    """Softplus: right values and gradients, stable at ±800, and passes mg.gradcheck"""
    x = np.array([-800.0, -3.0, 0.0, 2.5, 800.0])
    expected = np.logaddexp(0, x)
    # The values are judged, not NumPy's warnings: np.where(x > 0, a, b) computes both a and
    # b everywhere, so a right answer built with it warns about an overflow in the branch it
    # throws away. An overflow that reaches the result shows as inf or nan, and fails.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = np.asarray(student.Softplus.apply(mg.tensor(x)).data)
    expect(out.shape == x.shape, f"softplus of shape {x.shape} gave shape {out.shape}",
           "an elementwise op returns an array of its input's shape")
    broken = ~np.isfinite(out)
    expect(not broken.any(), f"softplus({x}) = {out}: not finite at x = {x[broken]}",
           "exp(800) overflows to inf, and log(1 + inf) is inf: compute log(1 + eˣ) as "
           "np.logaddexp(0, x), or as x + log1p(e⁻ˣ) where x > 0")
    expect(np.allclose(out, expected, rtol=1e-12), f"softplus({x}) = {out}, expected {expected}",
           "log(1 + exp(x)); np.logaddexp(0, x) avoids overflow")
    # The gradient at ±800 too: eˣ/(1 + eˣ) is inf/inf = nan at x = 800, and gradcheck's
    # inputs below are too small to see it. (An overflow that still gives the right value,
    # as 1/(1 + e⁻ˣ) does at −800, is accepted.)
    t = mg.tensor(x, requires_grad=True)
    sigmoid = 0.5 * (1 + np.tanh(0.5 * x))
    with np.errstate(over="ignore", invalid="ignore"):
        student.Softplus.apply(t).backward(np.ones_like(x))
    grad = np.asarray(t.grad)
    expect(np.allclose(grad, sigmoid, rtol=1e-12, atol=1e-12),
           f"gradient at x = {x}: {grad}, expected σ(x) = {sigmoid}",
           "d softplus/dx = σ(x); for large |x| compute it without overflow, "
           "e.g. 0.5·(1 + tanh(x/2))")
    t = mg.tensor(np.random.default_rng(2).normal(size=(4, 3)) * 3, requires_grad=True)
    try:
        mg.gradcheck(lambda v: student.Softplus.apply(v), [t])
    except mg.GradcheckError as error:
        expect(False, f"gradcheck: {str(error).splitlines()[0]}",
               "d softplus/dx = σ(x) = 1/(1 + e⁻ˣ); multiply by grad_output; return a tuple")
