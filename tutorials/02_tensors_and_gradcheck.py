# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Lesson 2 — Tensors: broadcasting, matrix products and gradcheck
#
# Lesson 1 worked on single numbers. Networks work on arrays: a `Tensor` is a node of the
# same graph that holds a NumPy array. The chain rule is unchanged; what is new is *shape*.
#
# 1. **Broadcasting** lets `x + b` add a bias row to every row of a batch. Its gradient is a
#    **sum** over the broadcast axes — we will see why.
# 2. **Matrix products**: for $C = AB$ the gradients are $dA = dC\,B^\top$ and
#    $dB = A^\top dC$; we derive the first and check it numerically.
# 3. **gradcheck** compares every backward rule with finite differences. We write an op
#    with a deliberately wrong backward and watch gradcheck catch it.

# %%
import inspect

import matplotlib.pyplot as plt
import numpy as np
from _common import Results, save_figure

import minigrad as mg
from minigrad.ops import Function

RESULTS = Results("02")
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Broadcasting, and why its gradient is a sum
#
# A batch `x` of shape (4, 3) plus a bias `b` of shape (3,): NumPy (and minigrad) *broadcast*
# `b`, i.e. act as if it were copied into each of the 4 rows. So `b[j]` is **used four
# times**, once per row. Lesson 1 showed what happens to a value used several times: the
# contributions from each use add up. Hence
#
# $$\frac{\partial L}{\partial b_j} = \sum_i \frac{\partial L}{\partial y_{ij}}, \qquad y = x + b.$$
#
# We check it with an arbitrary upstream gradient: take $L = \sum_{ij} G_{ij}\,y_{ij}$, so that
# $\partial L / \partial y = G$.

# %%
x = mg.tensor(rng.normal(size=(4, 3)), requires_grad=True, dtype=np.float64)
b = mg.tensor(rng.normal(size=(3,)), requires_grad=True, dtype=np.float64)
G = rng.normal(size=(4, 3))

y = x + b
loss = (y * mg.tensor(G)).sum()
loss.backward()
print("y.shape =", y.shape, "  b.grad.shape =", b.grad.shape)
print("b.grad          =", b.grad)
print("G.sum(axis=0)   =", G.sum(axis=0))
print("x.grad equals G:", np.allclose(x.grad, G))
bias_is_row_sum = bool(np.allclose(b.grad, G.sum(axis=0), rtol=0, atol=1e-12))

# %% [markdown]
# The same rule holds for any broadcast: an axis of length 1 that was stretched is summed
# over, keeping the length-1 axis, and leading axes that were added are summed away. An
# "outer sum" `u + v` with `u` of shape (4, 1) and `v` of shape (1, 3) broadcasts both:

# %%
u = mg.tensor(rng.normal(size=(4, 1)), requires_grad=True, dtype=np.float64)
v = mg.tensor(rng.normal(size=(1, 3)), requires_grad=True, dtype=np.float64)
(mg.tensor(G) * (u + v)).sum().backward()
errors = [
    np.abs(u.grad - G.sum(axis=1, keepdims=True)).max(),
    np.abs(v.grad - G.sum(axis=0, keepdims=True)).max(),
    np.abs(b.grad - G.sum(axis=0)).max(),
]
print("u.grad shape", u.grad.shape, "  v.grad shape", v.grad.shape)
print(f"largest difference from the sums: {max(errors):.2e}")
RESULTS["broadcast_grad_max_error"] = max(errors)
RESULTS["bias_grad_equals_row_sum"] = bias_is_row_sum

# %% [markdown]
# In minigrad no op un-broadcasts by hand: the engine sums each gradient back to its
# input's shape once, for every op (`sum_to_shape` in `minigrad/gradient_shapes.py`).
#
# ## 2. The gradient of a matrix product
#
# $C = AB$ with $A$ of shape $(n, k)$ and $B$ of shape $(k, m)$: $C_{ij} = \sum_p A_{ip} B_{pj}$.
# Given the upstream gradient $dC = \partial L/\partial C$ (shape $(n, m)$), the chain rule
# over every $C_{ij}$ that $A_{ip}$ enters:
#
# $$\frac{\partial L}{\partial A_{ip}} = \sum_j \frac{\partial L}{\partial C_{ij}}\,
# \frac{\partial C_{ij}}{\partial A_{ip}} = \sum_j dC_{ij}\,B_{pj} = (dC\,B^\top)_{ip}.$$
#
# A shape check makes it easy to remember: $dA$ must be $(n, k)$, and $dC\,B^\top$ is the
# only product of $dC$ $(n, m)$ and $B$ $(k, m)$ with that shape. By the same argument,
# $dB = A^\top dC$.

# %%
n, k, m = 5, 4, 3
A = mg.tensor(rng.normal(size=(n, k)), requires_grad=True, dtype=np.float64)
B = mg.tensor(rng.normal(size=(k, m)), requires_grad=True, dtype=np.float64)
dC = rng.normal(size=(n, m))

C = A @ B
C.backward(dC)  # backward with an explicit upstream gradient dL/dC
formula_A, formula_B = dC @ B.data.T, A.data.T @ dC
formula_error = max(np.abs(A.grad - formula_A).max(), np.abs(B.grad - formula_B).max())


def numeric_gradient(f, array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f() with respect to each element of `array`."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + eps
        plus = f()
        array[index] = original - eps
        minus = f()
        array[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def weighted_sum_of_C() -> float:  # L = sum(dC * C): its gradient with respect to C is dC
    return float((dC * (A.data @ B.data)).sum())


numeric_A = numeric_gradient(weighted_sum_of_C, A.data)
numeric_B = numeric_gradient(weighted_sum_of_C, B.data)
numeric_error = max(np.abs(A.grad - numeric_A).max(), np.abs(B.grad - numeric_B).max())
print(f"engine vs dC Bᵀ / Aᵀ dC:      max difference {formula_error:.2e}")
print(f"engine vs central differences: max difference {numeric_error:.2e}")
RESULTS["matmul_formula_vs_engine"] = formula_error
RESULTS["matmul_engine_vs_numeric"] = numeric_error

# %% [markdown]
# ## 3. gradcheck: central differences for every op
#
# `mg.gradcheck(fn, inputs)` automates what we just did: it reduces `fn(*inputs)` to
# $\sum w \cdot \text{output}$ with fixed random weights $w$ (an arbitrary upstream gradient,
# as our $G$ above: a plain sum would let a backward that ignores its incoming gradient
# pass), runs `backward` on that, perturbs every element of every input by $\pm\varepsilon$
# and compares.
# It insists on float64 inputs. Why? A central difference subtracts two nearly equal
# numbers: its *rounding* error grows like $\epsilon_{\text{machine}}/\varepsilon$ while its
# *truncation* error shrinks like $\varepsilon^2$. Let's measure both for $\tanh$ at 0.5:

# %%
point = 0.5
exact = 1 - np.tanh(point) ** 2
steps = np.logspace(-12, -1, 45)
errors_by_dtype = {}
for dtype in (np.float32, np.float64):
    x0 = dtype(point)
    errors_by_dtype[dtype.__name__] = [
        abs(float((np.tanh(x0 + dtype(h)) - np.tanh(x0 - dtype(h))) / dtype(2 * h)) - exact)
        for h in steps
    ]
best = {name: steps[int(np.argmin(e))] for name, e in errors_by_dtype.items()}
at_gradcheck_eps = int(np.argmin(np.abs(np.log10(steps) + 6)))  # the step closest to 1e-6
# gradcheck's own defaults (read from its signature, so the lesson follows the code).
defaults = inspect.signature(mg.gradcheck).parameters
atol, rtol = defaults["atol"].default, defaults["rtol"].default
tolerance = atol + rtol * abs(exact)  # what gradcheck accepts for this derivative
print(f"gradcheck's tolerance here: atol + rtol·|numeric| = {atol:g} + {rtol:g}·{exact:.2f} "
      f"= {tolerance:.1e}")
for name, e in errors_by_dtype.items():
    print(f"{name}: smallest error {min(e):.1e} (at eps = {best[name]:.0e}), "
          f"{min(e) / tolerance:.1e}× the tolerance; at eps = 1e-6: "
          f"{e[at_gradcheck_eps]:.1e}, {e[at_gradcheck_eps] / tolerance:.1e}× the tolerance")
RESULTS["central_difference"] = {
    "tolerance": tolerance,
    **{f"{name}_best_over_tolerance": min(e) / tolerance for name, e in errors_by_dtype.items()},
    **{f"{name}_at_1e-6_over_tolerance": e[at_gradcheck_eps] / tolerance
       for name, e in errors_by_dtype.items()},
}

fig, ax = plt.subplots(figsize=(6.4, 4.2))
for name, e in errors_by_dtype.items():
    ax.loglog(steps, np.maximum(e, 1e-17), "o-", ms=3, label=name)
ax.axvline(1e-6, color="grey", ls=":", label="gradcheck's eps = 1e-6")
ax.set_xlabel("step eps of the central difference")
ax.set_ylabel("|numeric − exact| derivative of tanh at 0.5")
ax.set_title("Central differences: rounding error (left) vs truncation error (right)")
ax.legend()
ax.grid(True, which="major", alpha=0.3)
save_figure(fig, "02_central_difference_error.png")

# %% [markdown]
# gradcheck accepts $|\text{analytic} - \text{numeric}| \le$ `atol` + `rtol`·|numeric|, the
# tolerance printed above; the printed ratios are error ÷ tolerance (above 1: rejected). In
# float32, at gradcheck's $\varepsilon = 10^{-6}$ the difference is mostly rounding noise, its
# error above that tolerance (for very small steps $x \pm \varepsilon$ rounds back to $x$ and
# the "derivative" is 0): a float32 gradcheck would reject a correct backward. At float32's
# best step the error is below the tolerance, so a float32 check *could* pass — but only
# near that one step, which depends on the function, the point and the dtype, and is not
# known in advance. In float64 at $\varepsilon = 10^{-6}$ the error is many orders of
# magnitude below the tolerance: any step near 1e-6 works, with room to spare.
#
# Every op in minigrad is checked this way. A few of them, combined:

# %%
def make(*shape):
    return mg.tensor(rng.normal(size=shape), requires_grad=True, dtype=np.float64)


weights = mg.tensor(rng.normal(size=(2, 5)))  # fixed: fn must be the same function each call
checks = {
    "tanh(x @ W + b)": (lambda x, W, b: (x @ W + b).tanh(), [make(4, 3), make(3, 2), make(2)]),
    "sigmoid(x) * log(1 + x²)": (lambda x: x.sigmoid() * (1 + x * x).log(), [make(3, 4)]),
    "softmax along rows": (lambda z: z.exp() / z.exp().sum(axis=1, keepdims=True) * weights,
                           [make(2, 5)]),
    "mean and var": (lambda x: x.mean(axis=0) * x.var(axis=0), [make(6, 3)]),
}
all_pass = True
for name, (fn, inputs) in checks.items():
    ok = mg.gradcheck(fn, inputs)
    all_pass = all_pass and ok
    print(f"gradcheck {name:28s} passed: {ok}")
RESULTS["gradcheck_correct_ops_pass"] = all_pass

# %% [markdown]
# ### A deliberately wrong op
#
# Adding an op to minigrad means subclassing `minigrad.ops.Function` with a `forward` and a
# `backward` on NumPy arrays. Here is a sigmoid whose author forgot a factor: the
# derivative of $\sigma(x)$ is $\sigma(x)\,(1 - \sigma(x))$, but this backward returns only
# $\sigma(x)$. Nothing crashes, training would even *run* — just with wrong gradients.

# %%
class ForgetfulSigmoid(Function):
    """sigmoid(x) with a WRONG backward (missing the factor 1 - sigmoid(x))."""

    def forward(self, x):
        self.s = 1 / (1 + np.exp(-x))
        return self.s

    def backward(self, grad_output):
        return (grad_output * self.s,)  # should be grad_output * s * (1 - s)


z = make(3, 4)
print("forward agrees with mg.sigmoid:",
      np.allclose(ForgetfulSigmoid.apply(z).data, z.sigmoid().data))
try:
    mg.gradcheck(lambda t: ForgetfulSigmoid.apply(t), [z])
    caught, message = False, "gradcheck passed"
except mg.GradcheckError as error:
    caught, message = True, str(error)
print("gradcheck caught the wrong backward:", caught)
print(message)
RESULTS["gradcheck_wrong_op_caught"] = caught
RESULTS["gradcheck_wrong_op_message"] = message

# %% [markdown]
# The error names the input, the element, and both numbers: the backward's value is off by
# the factor $1/(1-\sigma)$ we forgot. Fix the backward and the same call passes:

# %%
class Sigmoid(ForgetfulSigmoid):
    def backward(self, grad_output):
        return (grad_output * self.s * (1 - self.s),)


print("fixed op passes gradcheck:", mg.gradcheck(lambda t: Sigmoid.apply(t), [z]))

# %% [markdown]
# ## Summary
#
# * A broadcast value is used many times; its gradient is the **sum** over the broadcast
#   axes (the engine does that summing once for every op).
# * For $C = AB$: $dA = dC\,B^\top$, $dB = A^\top dC$ — the shapes alone almost force it.
# * `gradcheck` compares `backward` with central differences in float64 and names the
#   first element that disagrees: run it on every new op.

# %% [markdown]
# ## Exercises
#
# **1. Predict, then run.** A bias `b` of shape (3,) is added to a batch `x` of shape
# (5, 3), and the loss is the sum of all 15 entries of `x + b`. What is `b.grad`? And if the
# loss is the *mean* instead?

# %%
x = mg.tensor(np.ones((5, 3)))
b = mg.tensor(np.zeros(3), requires_grad=True)
(x + b).sum().backward()
grad_of_sum = b.grad.copy()
b.grad = None
(x + b).mean().backward()
print("sum:", grad_of_sum, "  mean:", b.grad)
RESULTS["exercise_bias_grad"] = {"sum": grad_of_sum.tolist(), "mean": b.grad.tolist()}

# %% [markdown]
# *Answer:* each entry of `b` is used 5 times (once per row), so `b.grad` is 5 everywhere
# for the sum, and 5/15 = 1/3 for the mean.
#
# **2–4. Code to write** in `tutorials/exercises/02_tensors.py`, checked by
# `python tutorials/check.py 2`: `matmul_backward` (dA, dB with NumPy), `bias_backward`
# (the sum over the broadcast axis), and a `Softplus` op as a `Function` subclass —
# stable at ±800 (finite, right values and gradients; the check judges those, not NumPy's
# warnings) and passing `mg.gradcheck`.
