# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Lesson 4 — BatchNorm from the ground up
#
# Batch normalisation (Ioffe & Szegedy 2015) takes the activations of a layer, for a
# mini-batch of M examples, and for every feature (channel) separately
#
# 1. computes the batch **mean** μ = (1/M) Σᵢ xᵢ,
# 2. **centres** the values, xᵢ − μ,
# 3. computes the batch **variance** σ² = (1/M) Σᵢ (xᵢ − μ)² (biased: divided by M),
# 4. **normalises**, x̂ᵢ = (xᵢ − μ) / √(σ² + ε),
# 5. **scales** by a learned γ and 6. **shifts** by a learned β: yᵢ = γ x̂ᵢ + β.
#
# That is the paper's Algorithm 1 and the "two steps" of the French note. In this lesson we
# do each step by hand on a tiny batch, derive the backward pass by hand and check it
# against the engine, look at the graph minigrad builds and at how the gradient flows
# through it, compare minigrad's two implementations, and then study what happens at test
# time: evaluation mode, the running statistics, and their momentum (claim B7 of
# [docs/claims.md](../docs/claims.md)), and what a BN layer holds (B10).

# %%
from collections import OrderedDict

import numpy as np
from _common import QUICK, Results, pick, seed_everything, seeds, show_graph
from _plots_bn import plot_momentum, plot_running_statistics
from _rules_04 import B7, B10
from _train_bn import digits, evaluate, mlp, train

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

RESULTS = Results("04")
print(f"quick mode: {QUICK}")

# %% [markdown]
# ## 1. The forward pass, step by step
#
# A batch of M = 4 examples with 3 features each, in float64 so that every comparison
# below is exact to rounding.

# %%
rng = np.random.default_rng(4)
M, C = 4, 3
x_np = rng.normal(loc=[0.0, 5.0, -2.0], scale=[1.0, 3.0, 0.5], size=(M, C))
gamma_np = np.array([1.0, 0.5, 2.0])
beta_np = np.array([0.0, 1.0, -1.0])
eps = 1e-5

mean = x_np.mean(axis=0)                    # 1. one mean per feature
centred = x_np - mean                       # 2.
var = (centred**2).mean(axis=0)             # 3. biased: divided by M
invstd = 1 / np.sqrt(var + eps)
x_hat = centred * invstd                    # 4. mean 0, variance ~1 per feature
y_np = gamma_np * x_hat + beta_np           # 5.–6.
np.set_printoptions(precision=4, suppress=True)
print("x =\n", x_np)
print("mean =", mean, "  var =", var)
print("x_hat =\n", x_hat)
print("x_hat per feature: mean", x_hat.mean(axis=0), " variance", x_hat.var(axis=0))
print("y =\n", y_np)

# %% [markdown]
# minigrad's `F.batch_norm` in training mode must give exactly this. Without running
# statistics (None) it always uses the batch's own.

# %%
x = mg.tensor(x_np, requires_grad=True, name="x")
weight = mg.tensor(gamma_np, requires_grad=True, name="weight")
bias = mg.tensor(beta_np, requires_grad=True, name="bias")
y = F.batch_norm(x, None, None, weight, bias, training=True, eps=eps)
forward_error = float(np.abs(y.data - y_np).max())
print(f"max |minigrad - by hand| = {forward_error:.1e}")

# %% [markdown]
# ## 2. The backward pass, by hand
#
# Let the loss be L, and write dy = ∂L/∂y (one number per element, like y). The scale and
# shift are easy: y = γ x̂ + β, summed over the batch because γ and β are shared by it:
#
# $$\frac{\partial L}{\partial \beta} = \sum_i dy_i, \qquad
#   \frac{\partial L}{\partial \gamma} = \sum_i dy_i\,\hat x_i, \qquad
#   d\hat x_i = \gamma\, dy_i .$$
#
# x is harder, because every xᵢ reaches L along three paths: directly through its own x̂ᵢ,
# through the mean μ (which every x̂ uses), and through the variance σ². With
# s = 1/√(σ² + ε), the chain rule along each path (Ioffe & Szegedy 2015, §3) gives
#
# $$\frac{\partial L}{\partial \sigma^2} = -\tfrac12 s^3 \sum_j d\hat x_j (x_j - \mu),\qquad
#   \frac{\partial L}{\partial \mu} = -s \sum_j d\hat x_j
#   \;\;(\text{the } \sigma^2 \text{ term vanishes: } \textstyle\sum_j (x_j-\mu) = 0),$$
#
# $$\frac{\partial L}{\partial x_i} = \underbrace{s\, d\hat x_i}_{\text{direct}}
#   + \underbrace{\frac{\partial L}{\partial \sigma^2}\,\frac{2(x_i-\mu)}{M}}_{\text{variance path}}
#   + \underbrace{\frac{1}{M}\frac{\partial L}{\partial \mu}}_{\text{mean path}} .$$
#
# Substituting x_j − μ = x̂_j / s and collecting terms gives the compact form minigrad's
# fused op uses:
#
# $$dx = \frac{\gamma\, s}{M}\Big(M\,dy - \sum_j dy_j - \hat x \sum_j dy_j\,\hat x_j\Big).$$
#
# Read it as a projection: take the direct gradient γ·s·dy, then remove its mean over the
# batch and its component along x̂. That is exactly the part of the gradient that would
# shift the batch's mean or stretch its spread — which the normalisation would undo anyway.
# So Σᵢ dxᵢ = 0 for every feature, and Σᵢ dxᵢ x̂ᵢ = 0 up to a term of order ε/σ² (with ε > 0
# the x̂ have a variance slightly below 1: σ²/(σ² + ε)).

# %%
upstream = rng.standard_normal((M, C))      # dy: the gradient of an arbitrary loss
dbeta = upstream.sum(axis=0)
dgamma = (upstream * x_hat).sum(axis=0)
dx = gamma_np * invstd / M * (M * upstream - upstream.sum(axis=0)
                              - x_hat * (upstream * x_hat).sum(axis=0))

(y * mg.tensor(upstream)).sum().backward()  # L = Σ y·dy, so that ∂L/∂y = dy
backward_errors = {
    "dx": float(np.abs(x.grad - dx).max()),
    "dgamma": float(np.abs(weight.grad - dgamma).max()),
    "dbeta": float(np.abs(bias.grad - dbeta).max()),
}
for name, error in backward_errors.items():
    print(f"{name}: max |engine - by hand| = {error:.1e}")
print("sum_i dx_i         =", dx.sum(axis=0))
print("sum_i dx_i * x_hat =", (dx * x_hat).sum(axis=0))

# And both against central differences (mg.gradcheck raises if they disagree).
gradcheck_passed = mg.gradcheck(
    lambda x_, w_, b_: F.batch_norm(x_, None, None, w_, b_, training=True, eps=eps),
    [mg.tensor(x_np, requires_grad=True), mg.tensor(gamma_np, requires_grad=True),
     mg.tensor(beta_np, requires_grad=True)])
print("gradcheck:", gradcheck_passed)
RESULTS["forward_backward"] = {
    "forward_error": forward_error, **{f"{k}_error": v for k, v in backward_errors.items()},
    "sum_dx": float(np.abs(dx.sum(axis=0)).max()),
    "sum_dx_xhat": float(np.abs((dx * x_hat).sum(axis=0)).max()),
    "gradcheck": bool(gradcheck_passed),
}

# %% [markdown]
# ## 3. The graph, and the gradient along each edge
#
# minigrad has BatchNorm twice. `implementation="fused"` (the default) is one node whose
# backward is the formula above. `implementation="composed"` builds BN from primitive ops
# — mean, subtraction, square, mean, add ε, sqrt, division, scale, shift — so the graph
# shows every step. We put a composed `BatchNorm1d` in a model (so its nodes are grouped
# in a cluster named after it), run the same loss backward, and draw the graph: each
# box shows a value and its gradient; each arrow is as wide as the gradient that flows
# back along it, with its norm as the label. As in PyTorch, `backward()` frees the graph
# as it goes (each op drops what it saved once its gradient has passed, to save memory),
# so we pass `retain_graph=True` to keep it for drawing and for reading it below.

# %%
model = nn.Sequential(OrderedDict(bn=nn.BatchNorm1d(C, eps=eps, implementation="composed")))
model.double()
model.bn.weight.data[:] = gamma_np
model.bn.bias.data[:] = beta_np
x = mg.tensor(x_np, requires_grad=True, name="x")
y = model(x)
loss = (y * mg.tensor(upstream, name="dy (fixed)")).sum()
loss.name = "L"
with mg.retain_grads():  # keep every node's gradient (normally only the leaves' are kept)
    loss.backward(retain_graph=True)  # and keep the graph itself, to draw it
show_graph(mg.viz.draw_graph(loss, params=model, rankdir="TB", title="Composed BatchNorm1d: "
                             "values, gradients, and the gradient on every edge"),
           "04_batchnorm_graph")
print("same gradient as the fused formula:", float(np.abs(x.grad - dx).max()) < 1e-12)

# %% [markdown]
# Now read it node by node. Every node of the graph knows what gradient it sends to each
# parent: its vector-Jacobian product `node._vjp(node.grad)` (part of minigrad's node
# protocol; it is how the drawing sizes its arrows). `x` receives gradient along two edges:
# from `centred` (= x − mean) and from `mean`. And `centred` itself receives gradient from
# two consumers: from `x_hat` (the **direct** path, s·dx̂) and from `squared` (the
# **variance** path: the variance was computed from the centred values). The gradient the
# `mean` node sends to x is the **mean** path.

# %%
def nodes_by_name(root: mg.Tensor) -> dict[str, mg.Tensor]:
    """Every named node that `root` depends on (an explicit stack: no recursion)."""
    found, stack, seen = {}, [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.name:
            found[node.name] = node
        stack.extend(node._parents)
    return found


def sent(child: mg.Tensor, parent: mg.Tensor) -> np.ndarray:
    """The gradient `child` sends back to `parent` during backward (summed over the edges
    between them: `squared` = centred · centred uses `centred` twice)."""
    total = np.zeros_like(parent.data)
    for each_parent, grad in zip(child._parents, child._vjp(child.grad)):
        if each_parent is parent and grad is not None:
            total = total + grad
    return total


named = nodes_by_name(loss)
paths = {
    "direct (x_hat -> centred)": sent(named["x_hat"], named["centred"]),
    "variance (squared -> centred)": sent(named["squared"], named["centred"]),
    "mean (mean -> x)": sent(named["mean"], x),
}
total_norm = float(np.linalg.norm(x.grad))
print(f"{'path':32} {'norm':>8} {'/ direct':>9}")
for name, grad in paths.items():
    print(f"{name:32} {np.linalg.norm(grad):8.3f} "
          f"{np.linalg.norm(grad) / np.linalg.norm(paths['direct (x_hat -> centred)']):9.2f}")
print(f"{'total: dL/dx':32} {total_norm:8.3f} "
      f"{total_norm / np.linalg.norm(paths['direct (x_hat -> centred)']):9.2f}")
assembled = sum(paths.values())
print("direct + variance + mean == x.grad:", float(np.abs(assembled - x.grad).max()) < 1e-12)
per_feature_direct = np.linalg.norm(paths["direct (x_hat -> centred)"], axis=0)
per_feature_total = np.linalg.norm(x.grad, axis=0)
print("per feature, |dL/dx| / |direct|:", per_feature_total / per_feature_direct)
RESULTS["paths"] = {**{name: float(np.linalg.norm(g)) for name, g in paths.items()},
                    "total": total_norm,
                    "assembly_error": float(np.abs(assembled - x.grad).max())}

# %% [markdown]
# What the numbers say:
#
# * The three paths add up to the gradient the engine computed — the chain rule, edge by
#   edge, in the order the engine visits the nodes.
# * The mean and variance paths are not small corrections: they are of the same order as
#   the direct path (the printed ratios), and they point *against* it, so the total reaching
#   x is smaller than the direct gradient alone. They remove the components of the direct
#   gradient along the all-ones direction and along x̂ — the projection of §2. A gradient
#   that would move all examples together, or stretch them apart, is cancelled, because BN
#   would normalise such a change away.
# * In the drawing, this is the width of the `mean → x` and `squared → centred` arrows next
#   to the `x_hat → centred` arrow.
#
# ## 4. Composed and fused agree
#
# The two implementations must agree in value and gradient, in training and in evaluation
# mode. We check on a larger random batch in float64, and in float32.

# %%
def run_bn(implementation: str, x_data: np.ndarray, up: np.ndarray, training: bool) -> dict:
    """Forward and backward of a BatchNorm1d with fixed, non-trivial γ, β and running stats."""
    bn = nn.BatchNorm1d(x_data.shape[1], implementation=implementation)
    if x_data.dtype == np.float64:
        bn.double()
    bn.weight.data[:] = np.linspace(0.5, 2.0, x_data.shape[1])
    bn.bias.data[:] = np.linspace(-1.0, 1.0, x_data.shape[1])
    bn.running_mean.data[:] = 0.3
    bn.running_var.data[:] = 2.0
    bn.train(training)
    x_t = mg.tensor(x_data, requires_grad=True)
    out = bn(x_t)
    (out * mg.tensor(up.astype(x_data.dtype))).sum().backward()
    return {"y": out.data, "dx": x_t.grad, "dgamma": bn.weight.grad, "dbeta": bn.bias.grad,
            "running_mean": bn.running_mean.data.copy(), "running_var": bn.running_var.data.copy()}


agreement = {}
big = rng.normal(2.0, 3.0, size=(32, 8))
big_up = rng.standard_normal((32, 8))
for dtype in (np.float64, np.float32):
    for training in (True, False):
        composed = run_bn("composed", big.astype(dtype), big_up, training)
        fused = run_bn("fused", big.astype(dtype), big_up, training)
        worst = max(float(np.abs(composed[k] - fused[k]).max() / (np.abs(fused[k]).max() + 1e-30))
                    for k in composed)
        key = f"{np.dtype(dtype).name}_{'train' if training else 'eval'}"
        agreement[key] = worst
        print(f"{key:14}: largest relative difference composed vs fused = {worst:.1e}")
RESULTS["composed_vs_fused"] = agreement

# %% [markdown]
# In float64 the two agree to rounding; in float32 to float32's precision (~1e-7). Both
# update the running statistics identically too (they are among the compared arrays).
#
# ## 5. Training mode and evaluation mode
#
# In training mode an example's output depends on the other examples in its batch —
# μ and σ² are the batch's. At test time that would be absurd (a prediction should not
# change with its batch-mates, and a single example has no variance), so in evaluation
# mode BN uses fixed **running statistics** gathered during training (Algorithm 2).

# %%
bn = nn.BatchNorm1d(C)
first = rng.standard_normal((4, C)).astype(np.float32)
others = rng.standard_normal((4, C)).astype(np.float32) * 3
batch_a = first
batch_b = np.concatenate([first[:1], others[1:]])  # same example 0, different batch-mates
outputs = {}
for mode in ("train", "eval"):
    bn.train(mode == "train")
    with mg.no_grad():
        out_a = bn(mg.tensor(batch_a)).data[0]
        out_b = bn(mg.tensor(batch_b)).data[0]
    outputs[mode] = float(np.abs(out_a - out_b).max())
    print(f"{mode:5} mode: output for example 0 in two different batches differs by "
          f"{outputs[mode]:.3g}")
bn.train()
try:
    bn(mg.tensor(first[:1]))
    single_example_error = ""
except ValueError as error:
    single_example_error = str(error)
print("training mode, one example:", single_example_error)
bn.eval()
print("eval mode, one example:", bn(mg.tensor(first[:1])).data)
RESULTS["train_vs_eval"] = {"train_difference": outputs["train"],
                            "eval_difference": outputs["eval"],
                            "single_example_error": single_example_error}

# %% [markdown]
# ## 5b. Parameters and buffers (claim B10)
#
# The note: BN "introduces two additional parameters per layer (γ and β)". A layer holds
# what `parameters()` (trained by the optimiser) and `buffers()` (saved in the state dict,
# never trained) return. We count them on real layers.

# %%
B10.announce()
counts = {}
for layer in (nn.BatchNorm1d(100), nn.BatchNorm2d(32)):
    parameters = list(layer.parameters())
    buffers = [b for name, b in layer.named_buffers() if name != "num_batches_tracked"]
    counts[type(layer).__name__] = {
        "features": layer.num_features, "parameter_tensors": len(parameters),
        "parameter_values": sum(p.data.size for p in parameters),
        "buffer_values": sum(b.data.size for b in buffers)}
    print(f"{type(layer).__name__}({layer.num_features}): parameters "
          f"{[tuple(p.shape) for p in parameters]}, buffers "
          f"{[(name, tuple(b.shape)) for name, b in layer.named_buffers()]}")
RESULTS["B10"] = counts
B10.report(RESULTS, [f"{name}: {c}" for name, c in counts.items()], **counts["BatchNorm1d"])

# %% [markdown]
# (`num_batches_tracked`, one integer, is also a buffer: it only serves `momentum=None`.)
#
# ## 6. The running statistics and their momentum (claim B7)
#
# During training, after every batch, minigrad (like PyTorch) updates
#
# running_mean ← (1 − momentum)·running_mean + momentum·μ_B,
# running_var ← (1 − momentum)·running_var + momentum·σ²_B·M/(M − 1),
#
# starting from 0 and 1. The variance stored is the **unbiased** one, as in the paper's
# Algorithm 2 (m/(m−1)·Var). Beware the convention: PyTorch's momentum 0.1 is the weight
# of the *new* batch; Keras/TensorFlow's `momentum=0.99` is the weight of the *old* value.
# `momentum=None` gives a plain cumulative average.
#
# An exponential moving average with momentum m remembers about the last 1/m batches. So
# a small m averages away the batch-to-batch noise but needs many batches to forget its
# starting value; a large m forgets fast but keeps the noise of the last few batches. Here
# is a single feature whose batches (of 60) come from a distribution with mean 3 and
# variance 4.
#
# **Predict, then run.** After 10 batches, which momentum — 0.01, 0.1, 0.5 or None
# (cumulative) — has its running mean closest to 3, and which is furthest? Which one
# still jumps around after 300 batches? Write your answer down, then run the cell.

# %%
toy_batches = pick(300, 150)
toy = np.random.default_rng(7).normal(3.0, 2.0, size=(toy_batches, 60, 1)).astype(np.float32)
momenta_toy = [0.01, 0.1, 0.5, None]
trace = {}
for momentum in momenta_toy:
    bn = nn.BatchNorm1d(1, momentum=momentum)
    means, variances = [], []
    with mg.no_grad():
        for batch in toy:
            bn(mg.tensor(batch))
            means.append(float(bn.running_mean.data[0]))
            variances.append(float(bn.running_var.data[0]))
    trace[str(momentum)] = (means, variances)

plot_running_statistics(trace, toy_batches)
for momentum in momenta_toy:
    means, _ = trace[str(momentum)]
    tail = np.array(means[toy_batches // 2:])
    print(f"momentum {str(momentum):5}: running_mean after 10 batches {means[9]:.3f}, "
          f"over the second half: mean {tail.mean():.3f}, std {tail.std():.3f}")

# %% [markdown]
# With momentum 0.01 the running mean is still far from 3 after 10 batches (it started at
# 0); with 0.5 it gets there at once but keeps jumping with every batch. The cumulative
# average is both unbiased and smooth here — because this toy's distribution never changes.
# In a network it does: the layer's input moves as the weights are trained, so old batches
# describe a network that no longer exists.
#
# ### Does it matter for accuracy? (B7)
#
# A 64-100-100-100-100-10 ReLU MLP with BN, trained on the 8×8 digits with SGD (lr 0.1,
# batches of 60). Training never uses the running statistics, so the momentum does not
# change the trained weights at all: we train once per seed, record every batch's μ_B and
# σ²_B at each BN layer, and afterwards compute the running statistics any momentum would
# have produced — checking that for momentum 0.1 they equal the module's own buffers. Then
# we evaluate with each. As a reference, Algorithm 2's "population" statistics: the
# weights frozen, the averages over the whole training set (`momentum=None`, one pass).

# %%
B7.announce()
SEEDS = seeds(full=3, quick=3)
B7_STEPS = pick(400, 150)
MOMENTA = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]


def record_batch_statistics(module: nn.Module, inputs: tuple, store: tuple[list, list]) -> None:
    """Forward hook body: keep a training batch's mean and unbiased variance, as BN uses them."""
    if module.training:
        store[0].append(inputs[0].data.mean(axis=0))
        store[1].append(inputs[0].data.var(axis=0, ddof=1))


def ema(values: np.ndarray, start: np.ndarray, momentum: float) -> np.ndarray:
    running = start.astype(np.float64)
    for value in values:
        running = (1 - momentum) * running + momentum * value
    return running


b7 = []
for seed in SEEDS:
    seed_everything(seed)
    x_train, y_train, x_val, y_val = digits(seed)
    model = mlp([64, 100, 100, 100, 100, 10], nn.BatchNorm1d)
    bns = [m for m in model if isinstance(m, nn.BatchNorm1d)]
    batch_stats = {i: ([], []) for i in range(len(bns))}
    for i, layer in enumerate(bns):
        layer.register_forward_hook(
            lambda module, inputs, output, i=i, stats=batch_stats:
            record_batch_statistics(module, inputs, stats[i]))
    train(model, seed, lr=0.1, steps=B7_STEPS, eval_every=B7_STEPS)  # plain SGD, batches of 60
    own = [(layer.running_mean.data.copy(), layer.running_var.data.copy()) for layer in bns]
    replay_error = max(
        max(float(np.abs(ema(batch_stats[i][0], np.zeros(100), 0.1) - own[i][0]).max()),
            float(np.abs(ema(batch_stats[i][1], np.ones(100), 0.1) - own[i][1]).max()))
        for i in range(len(bns)))

    row = {"seed": seed, "replay_error": replay_error, "accuracy": {}, "mean_error": {}}
    for momentum in MOMENTA:
        for i, layer in enumerate(bns):
            means, variances = batch_stats[i]
            layer.running_mean.data = ema(means, np.zeros(100), momentum).astype(np.float32)
            layer.running_var.data = ema(variances, np.ones(100), momentum).astype(np.float32)
        row["accuracy"][str(momentum)] = evaluate(model, x_val, y_val)[0]
    # Algorithm 2: freeze the weights, average the statistics over the whole training set.
    for layer in bns:
        layer.reset_running_stats()
        layer.momentum = None
    model.train()
    with mg.no_grad():
        for start in range(0, len(x_train) - 59, 60):
            model(mg.tensor(x_train[start:start + 60]))
    row["accuracy"]["population"] = evaluate(model, x_val, y_val)[0]
    # How far the momentum-0.001 and momentum-1 statistics of the last BN are from these.
    population_mean = bns[-1].running_mean.data
    population_std = np.sqrt(bns[-1].running_var.data)
    for momentum in MOMENTA:
        estimate = ema(batch_stats[len(bns) - 1][0], np.zeros(100), momentum)
        row["mean_error"][str(momentum)] = float(np.mean(np.abs(estimate - population_mean)
                                                         / population_std))
    b7.append(row)
    print(f"seed {seed}: replaying momentum 0.1 reproduces the buffers to {replay_error:.1e}; "
          "val. accuracy by momentum: "
          + ", ".join(f"{k}: {v:.3f}" for k, v in row["accuracy"].items()))

# %%
plot_momentum(b7, MOMENTA, B7_STEPS)
RESULTS["B7"] = {"seeds": SEEDS, "steps": B7_STEPS, "momenta": MOMENTA, "per_seed": b7}

# %%
B7.report(RESULTS, [f"seed {row['seed']}: " + ", ".join(f"{k}: {v:.3f}" for k, v in
                                                      row["accuracy"].items()) for row in b7],
          accuracy={str(m): [row["accuracy"][str(m)] for row in b7] for m in MOMENTA},
          population=[row["accuracy"]["population"] for row in b7])

# %% [markdown]
# Reading panel (b): too low a momentum leaves the running statistics near their initial
# values (mean 0, variance 1) after a few hundred batches; momentum 1 (the last batch alone)
# is noisy. And whatever the verdict, Algorithm 2 needs no momentum at all: one pass over
# the training data with frozen weights and `momentum=None`.
#
# ## Exercises
#
# 1. *Predict, then run.* With batches of 6 instead of 60 in the B7 experiment, will the band
#    of working momenta grow or shrink? Change the `60`s in the training loop and rerun.
# 2. Exercise `04` in `tutorials/exercises/`: BatchNorm's backward pass as a `Function`,
#    checked by gradcheck and against the fused op (`python tutorials/check.py 04`).
#
# Next lesson: what BN buys in training.
