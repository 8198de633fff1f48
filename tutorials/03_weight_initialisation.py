# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Lesson 3 — Weight initialisation: the signal and the gradient at init
#
# What the initial weights do to the signal going forward and the gradient coming back, and
# four claims of the note on initialisation checked against the papers (see
# [docs/claims.md](../docs/claims.md); lesson 7 takes the deep-network claims I5, I6, I3, I8):
#
# | | claim in the note | section |
# |---|---|---|
# | I7 | zero init causes symmetry | 1 |
# | I9 | plain random init makes the output variance change with depth | 2 |
# | I1 | Xavier/Glorot init has variance 1/n | 3 |
# | I2 | He init has variance 2/n, for ReLU | 4 |
#
# One name per init: **LeCun 1/n_in**, **Glorot/Xavier 2/(n_in+n_out)**, **He 2/n_in**.
# Each claim's decision rule is printed *before* its experiment; the run applies it to the
# numbers it measured. Nothing was tuned until it agreed.
#
# Data: the bundled 8×8 digits (1,300 train / 497 validation, standardised) and two-moons.
# Training: SGD, momentum 0.9, batches of 64 from `mg.data.DataLoader` (in `_train.train`).

# %%
import math

import _rules_03 as rules  # the decision rules, unit-tested on synthetic numbers
import matplotlib.pyplot as plt
import numpy as np
from _common import QUICK, Results, pick, save_figure, seeds
from _train import (
    FlowWatch,
    accuracy,
    digits_split,
    make_mlp,
    show_gradient_flow,
    train,
    weight_layers,
)
from _verdict import Rule

import minigrad as mg
from minigrad import nn
from minigrad.data import make_moons
from minigrad.nn import init
from minigrad.optim import SGD

RESULTS = Results("03")
print("quick mode" if QUICK else "full run")

# %% [markdown]
# ## 1. Zero or constant init: the symmetry problem (I7)
#
# If all the weights of a layer start equal, all its hidden units compute the same
# function of the input. They then receive the same gradient, take the same step, and
# are equal again after it: by induction, **they stay identical for ever**. A layer of 16
# units then behaves like a layer of one. With all weights zero it is worse: in a tanh
# network every hidden activation is tanh(0) = 0, so no weight gets a gradient at all
# and only the output bias learns.
#
# The experiment: a 2 → 16 → 2 tanh network on two-moons (200 points), trained full-batch
# with zero init, constant init (every weight 0.3), and the default random init. We record
# how different the 16 hidden units' incoming weights are at the end (max distance from
# their mean).
#
# **Rule, stated before the run:**

# %%
I7_RULE = Rule("I7", "zero init causes symmetry", rules.I7_STATEMENT, rules.decide_i7)
I7_RULE.announce()


def symmetry_run(seed: int, scheme: str, steps: int) -> dict:
    mg.manual_seed(seed)
    x, y = make_moons(200, noise=0.15, generator=np.random.default_rng(seed))
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    if scheme in ("zero", "constant"):
        for layer in weight_layers(model):
            init.constant_(layer.weight, 0.0 if scheme == "zero" else 0.3)
            init.zeros_(layer.bias)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        loss = nn.CrossEntropyLoss()(model(mg.tensor(x)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    w = model[0].weight.data  # (16, 2): one row per hidden unit
    spread = float(np.abs(w - w.mean(axis=0)).max())
    return {"spread": spread, "accuracy": accuracy(model, x, y), "model": model, "x": x, "y": y}


symmetry_steps = pick(600, 300)
symmetry = {scheme: [symmetry_run(s, scheme, symmetry_steps) for s in seeds()]
            for scheme in ("zero", "constant", "random")}

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharey=True)
grid_x, grid_y = np.meshgrid(np.linspace(-1.6, 2.6, 200), np.linspace(-1.2, 1.7, 150))
grid = mg.tensor(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype(np.float32))
for ax, (scheme, runs) in zip(axes, symmetry.items()):
    with mg.no_grad():
        scores = runs[0]["model"](grid).data
    ax.contourf(grid_x, grid_y, (scores[:, 1] > scores[:, 0]).reshape(grid_x.shape), levels=1,
                colors=["#cfe1f2", "#f9d5c4"])
    ax.scatter(*runs[0]["x"].T, c=runs[0]["y"], cmap="coolwarm", s=10, edgecolors="none")
    ax.set_title(f"{scheme} init: accuracy {runs[0]['accuracy']:.2f}\n"
                 f"hidden units differ by {runs[0]['spread']:.1e}")
fig.suptitle(f"2→16→2 tanh network on two-moons after {symmetry_steps} steps (seed 0)", y=1.04)
save_figure(fig, "03_symmetry.png")

# %% [markdown]
# **Verdict (I7):**

# %%
constant_spreads = [r["spread"] for r in symmetry["constant"]]
random_spreads = [r["spread"] for r in symmetry["random"]]
I7_RULE.report(RESULTS, [
    f"2-16-2 tanh MLP, two-moons (200 points), {symmetry_steps} full-batch SGD steps, "
    f"seeds {seeds()}",
    f"largest spread of the hidden units' weights: zero init "
    f"{max(r['spread'] for r in symmetry['zero']):.1e}, constant 0.3 {max(constant_spreads):.1e}"],
    constant_spreads=constant_spreads, random_spreads=random_spreads)
RESULTS["I7"] = {"seeds": seeds(), "constant_spreads": constant_spreads,
                 "random_spreads": random_spreads,
                 "zero_spreads": [r["spread"] for r in symmetry["zero"]]}

# %% [markdown]
# ## 2. Random init and depth: the signal shrinks or explodes (I9)
#
# Draw every weight from $N(0, \sigma^2)$. A unit adds up $n$ (the fan-in) inputs times
# weights, so the variance of its pre-activation is $n\,\sigma^2\,E[h^2]$, where $h$ is the
# previous layer's activation. Layer after layer, this factor *multiplies*: unless
# $n\sigma^2 E[h^2]/\mathrm{Var}(h) \approx 1$, the signal shrinks or grows geometrically with
# depth. The back-propagated gradient obeys the same kind of product, through $W^\top$.
#
# A *plain* random init uses one fixed σ whatever the layer's size — the "small random
# numbers" N(0, 0.01²) of many tutorials, or 0.05, 0.1. Next to them, σ = g/√n with a gain
# g (1 or 5/3 for tanh; 1, √2 = He, 2 for ReLU). 50 layers of 256 units, 64 digit images at
# the input (the first layer maps 64 → 256); for each layer, the variance of the
# activations (forward) and the std of the gradient of a random unit-variance loss with
# respect to them (backward).
#
# **Rule (I9), stated before the run:**

# %%
I9_RULE = Rule("I9", "plain random init makes the output variance change with depth",
               rules.I9_STATEMENT, rules.decide_i9)
I9_RULE.announce()


def propagate(x, weights, activation, labels=None):
    """Run h <- activation(h @ Wᵀ) through `weights` (no biases, as at init) and backpropagate.

    With `labels`, the last weight is a softmax output layer and the loss is cross-entropy
    (Glorot & Bengio's setting); without, the loss is sum(h_L · r), r ~ N(0, 1), which sends a
    unit-variance gradient into the last layer. Returns, per hidden layer, the activations h,
    the pre-activations s, dL/dh and dL/ds as NumPy arrays.
    """
    h = mg.tensor(x)
    hidden, pre, grads = [], [], {}
    tensors = [mg.tensor(w, requires_grad=True) for w in weights]
    for i, w in enumerate(tensors):
        s = h @ w.T
        if labels is not None and i == len(tensors) - 1:
            loss = nn.CrossEntropyLoss()(s, labels)
            break
        h = activation(s)
        # Hooks catch dL/ds and dL/dh as backward passes (only leaves keep .grad).
        s.register_hook(lambda grad, key=("ds", i): grads.__setitem__(key, grad))
        h.register_hook(lambda grad, key=("dh", i): grads.__setitem__(key, grad))
        pre.append(s)
        hidden.append(h)
    else:
        upstream = np.random.default_rng(0).standard_normal(h.shape).astype(np.float32)
        loss = (h * mg.tensor(upstream)).sum()
    loss.backward()
    return {"h": [t.data for t in hidden], "s": [t.data for t in pre],
            "dh": [grads["dh", i] for i in range(len(hidden))],
            "ds": [grads["ds", i] for i in range(len(pre))]}


FIXED = {f"σ={sigma}": (lambda n, sigma=sigma: sigma) for sigma in (0.01, 0.05, 0.1)}
SCALED = {"tanh": {"g=1": 1.0, "g=5/3": 5 / 3}, "ReLU": {"g=1": 1.0, "g=√2 (He)": math.sqrt(2),
                                                        "g=2": 2.0}}
x_batch, depth_runs = digits_split(0).x_train[:64], {}
for name, activation in (("tanh", mg.tanh), ("ReLU", mg.relu)):
    scaled = {k: (lambda n, g=g: g / math.sqrt(n)) for k, g in SCALED[name].items()}
    for label, std_of in {**FIXED, **scaled}.items():
        rng = np.random.default_rng(1)
        weights = [rng.normal(0.0, std_of(n_in), (256, n_in)).astype(np.float32)
                   for n_in in [64] + [256] * 49]
        stats = propagate(x_batch, weights, activation)
        depth_runs[name, label] = ([float(h.var()) for h in stats["h"]],
                                   [float(g.std()) for g in stats["dh"]])

fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), sharex=True)
for column, name in enumerate(("tanh", "ReLU")):
    for (net, label), (forward, backward) in depth_runs.items():
        if net == name:
            style = {"ls": "--" if label.startswith("σ") else "-", "label": label}
            axes[0, column].semilogy(range(1, 51), np.maximum(forward, 1e-40), **style)
            axes[1, column].semilogy(range(1, 51), np.maximum(backward, 1e-40), **style)
    axes[0, column].set_title(f"{name}: forward — variance of each layer's activations")
    axes[1, column].set(title=f"{name}: backward — std of dL/d(activations)", xlabel="layer")
    axes[0, column].legend(fontsize=7, ncol=2, title="-- fixed σ, — σ = g/√n")
fig.tight_layout()
save_figure(fig, "03_depth_signal.png")

# %% [markdown]
# **Verdict (I9)**, from the fixed-σ runs:

# %%
fixed_ratios = {f"{name} {label}": depth_runs[name, label][0][-1] / depth_runs[name, label][0][0]
                for name in ("tanh", "ReLU") for label in FIXED}
I9_RULE.report(RESULTS, [f"{k}: Var(layer 50) / Var(layer 1) = {v:.2g}"
                         for k, v in fixed_ratios.items()], variance_ratios=fixed_ratios)
he_run = depth_runs["ReLU", "g=√2 (He)"][0]
RESULTS["I9"] = {"variance_ratios": fixed_ratios, "relu_he_ratio": he_run[-1] / he_run[0]}

# %% [markdown]
# Why a fixed σ cannot work at every width: the factor per layer is $n\sigma^2$ times what
# the activation keeps ($1/2$ for ReLU; for tanh, less as it saturates). For ReLU only
# g = √2 keeps both passes steady. A saturated tanh net (large σ) can *look* steady — its
# activations sit near ±1 at any depth — but its backward pass tells another story: the
# gradient grows on its way down, because large weights amplify more than the small tanh′
# of saturated units attenuates (the "chaotic" regime of Poole et al. 2016).
#
# ## 3. Xavier / Glorot initialisation (I1)
#
# The note says Xavier init "uses a normal distribution with variance 1/n (n = number of
# input neurons)". Glorot & Bengio (2010) actually derive two conditions for a linear
# regime (tanh near 0): keep the forward variance, $n_{in}\,\mathrm{Var}(W) = 1$, and keep the
# backward variance, $n_{out}\,\mathrm{Var}(W) = 1$. They cannot both hold when
# $n_{in} \neq n_{out}$, so they take the compromise (their eq. 12)
# $\mathrm{Var}(W) = 2/(n_{in} + n_{out})$, realised as the uniform distribution (eq. 16)
# $U[\pm\sqrt 6/\sqrt{n_{in}+n_{out}}]$ — the "normalised initialisation". They compare it
# with the then-common "standard" $U[\pm 1/\sqrt n]$, whose variance is only $1/(3n)$.
#
# We repeat their measurement at init (5 tanh layers of 256 units, softmax output,
# cross-entropy): activations, back-propagated gradients $\partial L/\partial s$, and the
# singular values of the layer-to-layer Jacobians (paper: mean ≈ 0.5 standard, ≈ 0.8
# normalised).

# %%
def glorot_weights(sizes, scheme, rng):
    """'standard': U(±1/√fan_in); 'normalised': U(±√6/√(fan_in + fan_out)) (Glorot eq. 16)."""
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / math.sqrt(n_in) if scheme == "standard" else math.sqrt(6 / (n_in + n_out))
        weights.append(rng.uniform(-bound, bound, size=(n_out, n_in)).astype(np.float32))
    return weights


def mean_jacobian_singular_value(stats, weights, n_samples):
    """Mean singular value of J = ∂h^{i+1}/∂h^i = diag(1 - h^{i+1}²) W^{i+1}, over hidden
    layer pairs and `n_samples` inputs."""
    values = []
    for i in range(len(stats["h"]) - 1):
        derivative = 1 - stats["h"][i + 1][:n_samples] ** 2  # tanh' at each unit
        jacobians = derivative[:, :, None] * weights[i + 1][None]
        values.append(np.linalg.svd(jacobians.astype(np.float64), compute_uv=False).mean())
    return float(np.mean(values))


I1_RULE = Rule("I1", "Xavier/Glorot init has variance 1/n", rules.I1_STATEMENT, rules.decide_i1)
I1_RULE.announce()
glorot_sizes = [64] + [256] * 5 + [10]
glorot = {"standard": [], "normalised": []}
for seed in seeds():
    rng = np.random.default_rng(seed)
    split = digits_split(seed)
    x_train, y_train = split.x_train, split.y_train
    batch = slice(0, 256)
    for scheme in glorot:
        weights = glorot_weights(glorot_sizes, scheme, rng)
        stats = propagate(x_train[batch], weights, mg.tanh, labels=y_train[batch])
        glorot[scheme].append({
            "activation_std": [float(h.std()) for h in stats["h"]],
            "gradient_std": [float(g.std()) for g in stats["ds"]],
            "jacobian": mean_jacobian_singular_value(stats, weights, pick(16, 8)),
            "stats": stats if seed == seeds()[0] else None,
        })
for scheme, runs in glorot.items():
    print(f"{scheme:10s} seed {seeds()[0]}: activation std per layer "
          + " ".join(f"{v:.3f}" for v in runs[0]["activation_std"]) + "; dL/ds std "
          + " ".join(f"{v:.1e}" for v in runs[0]["gradient_std"]))

# %%
fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex="row")
bins_h = np.linspace(-1, 1, 81)
largest_std = max(g.std() for runs in glorot.values() for g in runs[0]["stats"]["ds"])
bins_g = np.linspace(-4 * largest_std, 4 * largest_std, 81)  # the same scale in both panels
for column, scheme in enumerate(glorot):
    stats = glorot[scheme][0]["stats"]
    for layer, (h, g) in enumerate(zip(stats["h"], stats["ds"]), start=1):
        axes[0, column].hist(h.ravel(), bins=bins_h, histtype="step", density=True,
                             label=f"layer {layer}")
        axes[1, column].hist(g.ravel(), bins=bins_g, histtype="step", density=True,
                             label=f"layer {layer}")
    axes[0, column].set(title=f"{scheme} init: activations tanh(s)", yscale="log")
    axes[1, column].set(title=f"{scheme} init: back-propagated gradients dL/ds", yscale="log")
    axes[0, column].legend(fontsize=8)
fig.suptitle(f"Glorot & Bengio's statistics at init: 5 tanh layers of 256 units (seed "
             f"{seeds()[0]}; density, log scale)")
fig.tight_layout()
save_figure(fig, "03_glorot_statistics.png")

# %% [markdown]
# What Glorot & Bengio expect: with the standard init the activations narrow layer after
# layer and the gradients with respect to the lower layers get smaller, since each layer
# multiplies both by roughly $n\,\mathrm{Var}(W) = 1/3$; with the normalised init both should
# stay similar across layers. Whether they do here is for the three checks of the rule to
# say, for each seed: (a) the standard init's mean Jacobian
# singular value is below the normalised init's by more than 0.1; (b) the spread of dL/ds
# across layers (largest std / smallest) is more than 1.5 times larger with the standard
# init; (c) the standard init's activation std shrinks by more than 25% from layer 1 to
# layer 5 while the normalised init's does not. And the variance itself, sampled:

# %%
def spread(values):  # largest / smallest std across layers: 1 means perfectly preserved
    return max(values) / min(values)


i1_rows = [{"activation_std": {k: run[k]["activation_std"] for k in run},
            "jacobian_singular_mean": {k: run[k]["jacobian"] for k in run},
            "gradient_std_ratio": {k: spread(run[k]["gradient_std"]) for k in run}}
           for run in ({"standard": a, "normalised": b}
                       for a, b in zip(glorot["standard"], glorot["normalised"]))]
checks_per_seed = [{
    "(a) Jacobian singular values": r["jacobian_singular_mean"]["standard"]
    < r["jacobian_singular_mean"]["normalised"] - 0.1,
    "(b) gradient spread": r["gradient_std_ratio"]["standard"]
    > 1.5 * r["gradient_std_ratio"]["normalised"],
    "(c) activation spread": r["activation_std"]["standard"][-1]
    < 0.75 * r["activation_std"]["standard"][0]
    and r["activation_std"]["normalised"][-1] > 0.75 * r["activation_std"]["normalised"][0],
} for r in i1_rows]
sample = mg.zeros(256, 64)  # a 64 -> 256 layer: fan_in 64, fan_out 256
xavier_variance = float(init.xavier_uniform_(sample).data.var())
jac = {s: [r["jacobian_singular_mean"][s] for r in i1_rows] for s in glorot}
ratios = {s: [r["gradient_std_ratio"][s] for r in i1_rows] for s in glorot}
I1_RULE.report(RESULTS, [
    f"64-256×5-10 tanh MLP at init, 256 digit images, seeds {seeds()}",
    f"mean singular value of the layer-to-layer Jacobians: standard "
    f"{np.mean(jac['standard']):.2f}, normalised {np.mean(jac['normalised']):.2f} "
    "(paper: ≈0.5 vs ≈0.8)",
    f"largest/smallest std of dL/ds across the 5 layers: standard "
    f"{np.mean(ratios['standard']):.1f}, normalised {np.mean(ratios['normalised']):.2f}",
    "activation std, layer 5 / layer 1: " + ", ".join(
        f"{s} {np.mean([r['activation_std'][s][-1] / r['activation_std'][s][0] for r in i1_rows]):.2f}"  # noqa: E501
        for s in glorot),
    "checks held per seed: " + "; ".join(
        ", ".join(k[:3] for k, v in c.items() if v) or "none" for c in checks_per_seed)],
    n_in=64, n_out=256, measured_variance=xavier_variance, checks_per_seed=checks_per_seed)
RESULTS["I1"] = {"seeds": seeds(), "per_seed": i1_rows, "checks_per_seed": checks_per_seed,
                 "xavier_variance_64_256": xavier_variance}

# %% [markdown]
# When check (c) fails, read the activation line of the verdict: if the normalised init's
# activations *also* shrink by more than 25% from layer 1 to 5, that is tanh being
# contractive (and the first layer's fan-in is 64, not 256), not the variance rule failing.
#
# ## 4. He initialisation for ReLU (I2)
#
# ReLU zeroes half of its inputs, so it halves the second moment: for the signal to keep
# its size, $\tfrac12\, n\,\mathrm{Var}(W) = 1$, i.e. $\mathrm{Var}(W) = 2/n$ with $n$ the
# fan-in ($k^2 c$ for a convolution) — He et al. 2015, eq. 10. With $\mathrm{Var}(W) = 1/n$
# (what they call "Xavier", the forward-only condition of the previous section) the
# signal's variance is halved at every layer: after 30 layers its std is $2^{-15}$ of what
# it was. He et al. (their Fig. 3) trained a 30-layer ReLU network both ways: theirs
# converged, the 1/n one did not learn at all.
#
# Our version: a 30-layer ReLU MLP, 64 units wide, on digits; only the weight variance
# differs. A plain 30-layer net is touchy about the learning rate, so the full run tries
# two and keeps each init's best.

# %%
def hidden_stds(model, x):  # std of each ReLU layer's output on the batch x
    stds, h = [], mg.tensor(x)
    with mg.no_grad():
        for module in model:
            h = module(h)
            if isinstance(module, nn.ReLU):
                stds.append(float(h.data.std()))
    return stds


I2_RULE = Rule("I2", "He init has variance 2/n, for ReLU", rules.I2_STATEMENT, rules.decide_i2)
I2_RULE.announce()
he_depth, he_width = 30, 64
he_lrs = pick([0.003, 0.01], [0.003])
he_steps = pick(300, 200)
he_target = 0.5  # "trains": five times chance (10 classes) on held-out digits
he_runs, flow_watches, NAMES = [], {}, {"he": "He 2/n_in", "one_over_n": "LeCun 1/n_in"}
for seed in seeds(3, 3):
    row = {"final_std": {}, "val_accuracy": {}, "curves": {}, "layer_std": {}}
    for scheme in ("he", "one_over_n"):
        for lr in he_lrs:
            mg.manual_seed(seed)
            split = digits_split(seed)
            model = make_mlp([64] + [he_width] * (he_depth - 1) + [10])
            for layer in weight_layers(model):
                init.zeros_(layer.bias)
                if scheme == "he":
                    init.kaiming_normal_(layer.weight, nonlinearity="relu")
                else:  # LeCun 1/n_in
                    init.normal_(layer.weight, 0.0, 1 / math.sqrt(layer.weight.shape[1]))
            if lr == he_lrs[0]:
                row["layer_std"][scheme] = hidden_stds(model, split.x_val)
                row["final_std"][scheme] = row["layer_std"][scheme][-1]
            shown = lr == he_lrs[0] and seed == seeds(3, 3)[0]  # one run per init is drawn
            watch = FlowWatch(model, title=NAMES[scheme]) if shown else None
            flow_watches.update({NAMES[scheme]: watch} if shown else {})
            log = train(model, split, he_steps, lr, seed=seed, after_backward=watch)
            row["curves"][scheme, lr] = log.curve
        row["val_accuracy"][scheme] = max(max(row["curves"][scheme, lr]) for lr in he_lrs)
    he_runs.append(row)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
first = he_runs[0]
for (scheme, label), colour in zip(NAMES.items(), ("C0", "C3")):
    axes[0].semilogy(np.arange(1, he_depth), first["layer_std"][scheme], color=colour,
                     label=label)
    for lr, style in zip(he_lrs, ("-", ":", "--")):
        curve = first["curves"][scheme, lr]
        axes[1].plot(np.arange(1, len(curve) + 1) * 25, curve, style, color=colour,
                     label=f"{label}, lr {lr}")
axes[0].set(xlabel="hidden layer", ylabel="std of the ReLU outputs",
            title="At init: the signal through 29 hidden layers")
axes[1].axhline(he_target, color="grey", lw=0.8, ls="-.", label=f"target {he_target}")
axes[1].set(xlabel="SGD step (batch 64, momentum 0.9)", ylabel="validation accuracy",
            ylim=(0, 1), title="Training the 30-layer ReLU MLP")
for ax in axes:
    ax.legend(fontsize=8)
fig.suptitle(f"He vs 1/n init, 30-layer ReLU MLP of width 64 on digits (seed {seeds(3, 3)[0]})",
             y=1.02)
save_figure(fig, "03_he_30_layers.png")

# %% [markdown]
# The gradient flow of both nets at their first step (the explorer when it is installed,
# else the graph): find the early layers going cold with LeCun 1/n_in.

# %%
flow_view = show_gradient_flow(flow_watches, "03_i2_gradient_flow", "30-layer ReLU MLP")

# %% [markdown]
# **Verdict (I2):**

# %%
I2_RULE.report(RESULTS, [
    f"{he_depth}-layer ReLU MLP, width {he_width}, digits, SGD momentum 0.9, batch 64, "
    f"{he_steps} steps, learning rates {he_lrs}, seeds {seeds(3, 3)}",
    "last hidden layer's activation std at init (input std 1): He "
    + ", ".join(f"{r['final_std']['he']:.2f}" for r in he_runs) + "; 1/n "
    + ", ".join(f"{r['final_std']['one_over_n']:.1e}" for r in he_runs),
    "best validation accuracy: He " + ", ".join(f"{r['val_accuracy']['he']:.3f}" for r in he_runs)
    + "; 1/n " + ", ".join(f"{r['val_accuracy']['one_over_n']:.3f}" for r in he_runs)
    + " (chance 0.1)"],
    final_std_ratios=[r["final_std"]["one_over_n"] / r["final_std"]["he"] for r in he_runs],
    he_accuracy=[r["val_accuracy"]["he"] for r in he_runs],
    one_over_n_accuracy=[r["val_accuracy"]["one_over_n"] for r in he_runs], target=he_target)
RESULTS["I2"] = {"seeds": seeds(3, 3), "target": he_target, "lrs": he_lrs, "flow_view": flow_view,
                 "per_seed": [{k: r[k] for k in ("final_std", "val_accuracy")} for r in he_runs]}


# %% [markdown]
# ## Summary
#
# Units that start equal stay equal (I7). A fixed σ multiplies the variance by the same
# factor at every layer (I9) unless σ is tied to the fan-in: Glorot/Xavier 2/(n_in+n_out)
# — the note's "1/n" is only its forward condition (I1) — and He 2/n_in for ReLU (I2).
#
# ## Exercises
#
# **1. Predict, then run.** A ReLU net with LeCun 1/n_in init halves the activations'
# second moment at every layer. After 30 layers, by what factor has the *standard
# deviation* shrunk? Compare with the measured He / 1/n ratio of section 4.

# %%
predicted = 2 ** (-29 / 2)  # 29 hidden ReLU layers, each halving the second moment
measured = [r["final_std"]["one_over_n"] / r["final_std"]["he"] for r in he_runs]
print(f"predicted std ratio after 29 ReLU layers: {predicted:.1e}; measured: "
      + ", ".join(f"{m:.1e}" for m in measured))
RESULTS["exercise_std_ratio"] = {"predicted": predicted, "measured": measured}

# %% [markdown]
# *Answer:* $2^{-29/2} \approx 4\times 10^{-5}$, to every printed digit: ReLU is positively
# homogeneous (relu(cx) = c·relu(x), c > 0), and with zero biases and the same seed the 1/n_in
# net *is* the He net with every weight divided by √2. Training is another matter.
#
# **2–3. Code to write** in `tutorials/exercises/03_init.py`, checked by
# `python tutorials/check.py 3`:
#
# 2. `kaiming_normal(shape, rng)` — He's init from the formula (checked statistically);
# 3. `glorot_uniform_bound(fan_in, fan_out)` and `relu_variance_factor(depth, sigma, width)` —
#    the formulas of sections 2 and 3.
