# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Lesson 7 — Deep networks: orthogonal init, LSUV, He vs Xavier, and 50-block ResNets
#
# Lesson 3 showed what one layer's init does to the signal. This lesson asks what it does to
# *training*, as the network gets deep, and tests four claims of the note on initialisation
# (see [docs/claims.md](../docs/claims.md)):
#
# | | claim in the note | section |
# |---|---|---|
# | I5 | orthogonal init helps very deep (> 50 layers) networks | 1 |
# | I6 | LSUV sets the weights layer by layer | 2 |
# | I3 | He init "improves CNN convergence by 30 %" | 3 |
# | I8 | adaptive / learnable inits and ultra-deep techniques greatly reduce training time | 4 |
#
# Each section states its decision rule before the experiment; the run applies it. Names:
# "LeCun 1/n_in", "Glorot/Xavier 2/(n_in+n_out)", "He 2/n_in". Data: the 8×8 digits.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
from _common import QUICK, Results, pick, save_figure, seeds
from _rules_07 import (
    I3_STATEMENT,
    I5_STATEMENT,
    I6_STATEMENT,
    I8_STATEMENT,
    decide_i3,
    decide_i5,
    decide_i6,
    decide_i8,
)
from _train import FlowWatch, digits_split, make_mlp, show_gradient_flow, spread, train
from _verdict import Rule

import minigrad as mg
from minigrad import nn
from minigrad.nn import init
from minigrad.optim import SGD

RESULTS = Results("07")
print("quick mode" if QUICK else "full run")

# %% [markdown]
# ## 1. Orthogonal init and depth (I5)
#
# Saxe, McClelland & Ganguli (2013) studied deep **linear** nets, where everything can be
# computed. A product of orthogonal matrices is orthogonal: every direction passes with gain
# exactly 1. A product of Gaussian $N(0, 1/n)$ matrices keeps the *average* gain near 1 but
# becomes more anisotropic with every factor — a few directions are amplified, most are
# crushed. First the spectra: singular values of products of 100 random 64×64 matrices.

# %%
def product_singular_values(depth: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    product = np.eye(64)
    for _ in range(depth):
        w = mg.zeros(64, 64, dtype=np.float64)
        if kind == "gaussian":
            init.normal_(w, 0.0, 1 / 8, generator=rng)  # N(0, 1/n), n = 64
        else:
            init.orthogonal_(w, generator=rng)
        product = w.data @ product
    return np.linalg.svd(product, compute_uv=False)


products = {(kind, depth): product_singular_values(depth, kind, np.random.default_rng(0))
            for kind in ("gaussian", "orthogonal") for depth in (1, 10, 100)}
for (kind, depth), values in products.items():
    print(f"{kind:10s} × {depth:3d}: log10 of largest/smallest singular value "
          f"{np.log10(values.max() / max(values.min(), 1e-300)):.1f}")

# %% [markdown]
# Does that change **how fast a deep net learns**? Saxe et al.'s result: with orthogonal
# init the learning time of a deep linear net hardly depends on depth, with scaled Gaussian
# init it grows. Our version: linear nets of depth 2…64 (64 → 32 → … → 32 → 10, no biases,
# no nonlinearity) classify 256 digits full-batch with cross-entropy; SGD with momentum
# 0.9 and learning rate lr/depth (so the end-to-end map moves at a comparable speed at every
# depth), lr from a small grid, keeping each net's best. Learning time = steps until the
# training loss is below 0.5 (cap: 200 steps).
#
# **Rule, stated before the run:**

# %%
I5_RULE = Rule("I5", "orthogonal init helps very deep (>50 layers) nets", I5_STATEMENT,
               decide_i5)
I5_RULE.announce()
DEPTHS = pick([2, 4, 8, 16, 32, 64], [2, 16, 64])
LINEAR_LRS = pick([0.03, 0.1, 0.3], [0.1, 0.3])
i5_seeds = seeds(3, 3)


def linear_learning_time(depth: int, kind: str, lr: float, seed: int) -> float:
    mg.manual_seed(seed)
    sizes = [64] + [32] * (depth - 1) + [10]
    model = nn.Sequential(*[nn.Linear(a, b, bias=False) for a, b in zip(sizes[:-1], sizes[1:])])
    for layer in model:
        if kind == "orthogonal":
            init.orthogonal_(layer.weight)
        else:
            init.normal_(layer.weight, 0.0, 1 / math.sqrt(layer.weight.shape[1]))
    split = digits_split(seed)
    x, y = mg.tensor(split.x_train[:256]), split.y_train[:256]
    optimizer = SGD(model.parameters(), lr=lr / depth, momentum=0.9)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging net overflows: that is data
        for step in range(1, 201):
            loss = nn.CrossEntropyLoss()(model(x), y)
            if not math.isfinite(loss.item()):
                return math.inf
            if loss.item() < 0.5:
                return float(step)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return math.inf


learning_time = {kind: {d: [min(linear_learning_time(d, kind, lr, s) for lr in LINEAR_LRS)
                            for s in i5_seeds] for d in DEPTHS}
                 for kind in ("orthogonal", "gaussian")}
for d in DEPTHS:
    print(f"depth {d:2d}: steps to loss 0.5 — orthogonal {spread(learning_time['orthogonal'][d])}"
          f", Gaussian {spread(learning_time['gaussian'][d])}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for depth, color in zip((1, 10, 100), ("C0", "C1", "C2")):
    axes[0].semilogy(np.sort(products["gaussian", depth])[::-1] + 1e-300, color=color,
                     label=f"Gaussian, {depth} factor(s)")
axes[0].semilogy(products["orthogonal", 100], "k--", label="orthogonal, 100 factors (all 1)")
axes[0].axhspan(1e-18, 1e-15, color="grey", alpha=0.2, label="float64 rounding")
axes[0].set(ylim=(1e-18, 1e3), xlabel="index (largest first)", ylabel="singular value",
            title="Products of random 64×64 matrices")
for kind, color in (("orthogonal", "C0"), ("gaussian", "C3")):
    values = np.array([[min(v, 200) for v in learning_time[kind][d]] for d in DEPTHS])
    axes[1].plot(DEPTHS, values.mean(axis=1), "-o", color=color, label=kind)
    axes[1].fill_between(DEPTHS, values.min(axis=1), values.max(axis=1), color=color, alpha=0.2)
axes[1].axhline(200, color="grey", ls=":", label="cap: never reached loss 0.5")
axes[1].set(xscale="log", xlabel="depth (linear layers)", ylabel="steps to loss 0.5",
            title=f"Deep linear nets: learning time ({len(i5_seeds)} seeds, best lr each)")
axes[1].set_xticks(DEPTHS, [str(d) for d in DEPTHS])
axes[1].minorticks_off()
for ax in axes:
    ax.legend(fontsize=8)
save_figure(fig, "07_i5_depth.png")

# %% [markdown]
# **Verdict:**

# %%
def log10_condition(values: np.ndarray) -> float:
    """log10(largest / smallest singular value); float64 floors the smallest near 1e-300."""
    return float(np.log10(values.max() / max(values.min(), 1e-300)))


conditions = {kind: log10_condition(products[kind, 100]) for kind in ("gaussian", "orthogonal")}
i5 = I5_RULE.report(RESULTS, [
    f"products of 100 matrices: log10 max/min singular value, Gaussian "
    f"{conditions['gaussian']:.0f}, orthogonal {conditions['orthogonal']:.1e}",
    *[f"depth {d}: orthogonal {spread(learning_time['orthogonal'][d])}, Gaussian "
      f"{spread(learning_time['gaussian'][d])} steps" for d in DEPTHS]],
    depths=DEPTHS, orthogonal=learning_time["orthogonal"], gaussian=learning_time["gaussian"])
RESULTS["I5"] = {"seeds": i5_seeds, "depths": DEPTHS, "learning_time": learning_time,
                 "orthogonal_log10_condition": conditions["orthogonal"],
                 "gaussian_log10_condition": conditions["gaussian"]}

# %% [markdown]
# ## 2. LSUV: layer-sequential unit variance (I6)
#
# Mishkin & Matas (2015, Algorithm 1): start from orthonormal weights, then, from the first
# layer to the last, run one batch of real data and divide the layer's weights by the std of
# its output until |Var − 1| < 0.1 (or a few iterations). No gain formula is needed: the
# data tell. `nn.init.lsuv_(model, x)` does it. We compare it with Glorot/Xavier, He and
# orthogonal (gain √2) on a 20-layer ReLU MLP of width 64, trained the same way for all
# (SGD, momentum 0.9, lr 0.003, batch 64).
#
# **Rule:**

# %%
I6_RULE = Rule("I6", "LSUV sets the weights layer by layer", I6_STATEMENT, decide_i6)
I6_RULE.announce()
SCHEMES = ("xavier", "he", "orthogonal", "lsuv")
lsuv_seeds, lsuv_steps = seeds(3, 2), pick(200, 60)
lsuv_rows = []
for seed in lsuv_seeds:
    split, row = digits_split(seed), {"accuracy": {}, "worst_variance_error": None}
    for scheme in SCHEMES:
        mg.manual_seed(seed)
        model = make_mlp([64] + [64] * 19 + [10])
        for layer in model:
            if isinstance(layer, nn.Linear):
                init.zeros_(layer.bias)
                {"xavier": init.xavier_uniform_, "he": init.kaiming_normal_,
                 "orthogonal": lambda w: init.orthogonal_(w, gain=math.sqrt(2)),
                 "lsuv": lambda w: None}[scheme](layer.weight)
        if scheme == "lsuv":
            records = init.lsuv_(model, mg.tensor(split.x_train[:256]))
            row["worst_variance_error"] = max(abs(r.variance - 1) for r in records)
        row["accuracy"][scheme] = train(model, split, lsuv_steps, 0.003, seed=seed,
                                        eval_every=lsuv_steps).final_accuracy
    lsuv_rows.append(row)
    print(f"seed {seed}: LSUV worst |Var − 1| {row['worst_variance_error']:.3f}; accuracy "
          f"after {lsuv_steps} steps: "
          + ", ".join(f"{k} {v:.3f}" for k, v in row["accuracy"].items()))

i6 = I6_RULE.report(RESULTS, [
    "accuracy after training: " + ", ".join(
        f"{k} {spread([r['accuracy'][k] for r in lsuv_rows])}" for k in SCHEMES)],
    worst_deviation_per_seed=[r["worst_variance_error"] for r in lsuv_rows])
RESULTS["I6"] = {"seeds": lsuv_seeds, "per_seed": lsuv_rows}

# %% [markdown]
# A prediction from arithmetic alone: Glorot/Xavier's variance 2/(64+64) = 1/64 is LeCun's
# 1/n_in, half of what ReLU needs, so at init the signal's variance halves at every layer
# (2⁻¹⁹ after 20 layers), while LSUV, He and orthogonal-√2 keep it. **Rule:** the prediction
# holds if Glorot/Xavier's median accuracy over the seeds is below the lowest median of the
# three others; otherwise it does not.

# %%
medians = {k: float(np.median([r["accuracy"][k] for r in lsuv_rows])) for k in SCHEMES}
others = min(v for k, v in medians.items() if k != "xavier")
print(f"median accuracy: Glorot/Xavier {medians['xavier']:.3f}, lowest of the others "
      f"{others:.3f} -> the prediction "
      + ("holds: Xavier trains worst here" if medians["xavier"] < others
         else "does not hold in this run"))

# %% [markdown]
# ## 3. He vs Glorot/Xavier on a small CNN: "30 % faster"? (I3)
#
# He et al. (2015) give no such figure. To state the claim unambiguously: **"30 % fewer
# steps" means a step ratio Xavier/He of 1/0.7 ≈ 1.43**; a ratio of 1.3 would be 23 % fewer.
# We measure steps to 90 % validation accuracy (checked every 10 steps) of a small ReLU CNN,
# conv(8) → conv(8) → pool → conv(16) → conv(16) → pool → linear, SGD momentum 0.9, lr 0.01.
#
# **Rule:**

# %%
I3_RULE = Rule("I3", "He init improves CNN convergence by 30%", I3_STATEMENT, decide_i3)
I3_RULE.announce()


def make_cnn(scheme: str) -> nn.Sequential:
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(64, 10))
    for layer in model:
        if isinstance(layer, nn.Conv2d | nn.Linear):
            (init.kaiming_normal_ if scheme == "he" else init.xavier_uniform_)(layer.weight)
            init.zeros_(layer.bias)
    return model


cnn_seeds = seeds(4, 2)
cnn_steps = {"he": [], "xavier": []}
for seed in cnn_seeds:
    for scheme in cnn_steps:
        mg.manual_seed(seed)
        log = train(make_cnn(scheme), digits_split(seed), pick(400, 200), 0.01, seed=seed,
                    eval_every=10, target=0.9, stop_at_target=True,
                    prepare=lambda x: x.reshape(x.shape[0], 1, 8, 8))
        cnn_steps[scheme].append(log.steps_to_target)
    print(f"seed {seed}: steps to 90% — He {cnn_steps['he'][-1]:.0f}, "
          f"Xavier {cnn_steps['xavier'][-1]:.0f}")

i3 = I3_RULE.report(RESULTS, [f"He {spread(cnn_steps['he'])}, Glorot/Xavier "
                              f"{spread(cnn_steps['xavier'])} steps to 90%"],
                    he=cnn_steps["he"], xavier=cnn_steps["xavier"])
RESULTS["I3"] = {"seeds": cnn_seeds, "steps": cnn_steps}

# %% [markdown]
# ## 4. Ultra-deep residual nets without normalisation (I8)
#
# The note's last claim has no source. The literature it gestures at: **Fixup** (Zhang,
# Dauphin & Ma 2019) trains 10,000-layer residual nets without normalisation by scaling each
# residual branch's inner layer by $L^{-1/(2m-2)}$ ($L$ branches of $m$ layers) and starting
# its last layer at zero; **SkipInit** (De & Smith 2020) and **ReZero** (Bachlechner et al.
# 2020) multiply each branch by a learnable scalar α that starts at 0. All three make every
# block the identity at init, so a 50-block net starts as a shallow one.
#
# Our net: Linear(64 → 32), then 50 blocks $x \mapsto x + \alpha\,W_2\,\mathrm{ReLU}(W_1 x)$,
# then Linear(32 → 10). Variants: **plain** (He init, α = 1), **BN** (BatchNorm after $W_1$
# and $W_2$, as in ResNets), **ReZero** (α learnable, 0 at init), **Fixup-style** ($W_1$ He
# × $L^{-1/2}$ since m = 2, $W_2 = 0$). For each: the learning rates of a small grid at
# which it trains (reaches 50 % validation accuracy without diverging), then steps to 80 %
# at its best rate, over seeds.
#
# **Rule:**

# %%
I8_RULE = Rule("I8", "adaptive/learnable inits greatly reduce training time on ultra-deep nets",
               I8_STATEMENT, decide_i8)
I8_RULE.announce()
BLOCKS, WIDTH = 50, 32


class Block(nn.Module):
    """x + α · W2 ReLU(W1 x), with the variant's init (and BN, for "bn")."""

    def __init__(self, variant: str) -> None:
        super().__init__()
        self.variant = variant
        self.inner, self.outer = nn.Linear(WIDTH, WIDTH), nn.Linear(WIDTH, WIDTH)
        for layer in (self.inner, self.outer):
            init.kaiming_normal_(layer.weight)
            init.zeros_(layer.bias)
        if variant == "bn":
            self.bn_inner, self.bn_outer = nn.BatchNorm1d(WIDTH), nn.BatchNorm1d(WIDTH)
        if variant == "rezero":
            self.alpha = nn.Parameter(np.zeros(1, np.float32))
        if variant == "fixup":  # Zhang et al. 2019: scale L^(-1/(2m-2)), last layer zero
            self.inner.weight.data *= BLOCKS ** (-1 / (2 * 2 - 2))
            init.zeros_(self.outer.weight)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        h = self.inner(x)
        h = self.bn_inner(h) if self.variant == "bn" else h
        h = self.outer(h.relu())
        h = self.bn_outer(h) if self.variant == "bn" else h
        return x + (self.alpha * h if self.variant == "rezero" else h)


def residual_mlp(variant: str) -> nn.Sequential:
    return nn.Sequential(nn.Linear(64, WIDTH), *[Block(variant) for _ in range(BLOCKS)],
                         nn.Linear(WIDTH, 10))


VARIANTS = {"plain": "plain (He)", "bn": "BN", "rezero": "ReZero α=0", "fixup": "Fixup-style"}
RES_LRS, res_seeds = pick([0.003, 0.01, 0.03, 0.1], [0.01, 0.1]), seeds(3, 2)
grid_steps, budget = pick(60, 30), pick(200, 80)
trains_at = {}
for variant in VARIANTS:  # which learning rates train (seed 0, short runs)
    trains_at[variant] = []
    for lr in RES_LRS:
        mg.manual_seed(res_seeds[0])
        with np.errstate(over="ignore", invalid="ignore"):
            log = train(residual_mlp(variant), digits_split(res_seeds[0]), grid_steps, lr,
                        eval_every=grid_steps)
        if not log.diverged and log.final_accuracy >= 0.5:
            trains_at[variant].append(lr)
    print(f"{VARIANTS[variant]:12s} trains at lr {trains_at[variant] or 'none of'} {RES_LRS}")

res_steps, watches = {}, {}
for variant in VARIANTS:
    best_lr = max(trains_at[variant], default=RES_LRS[0])
    res_steps[variant] = []
    for seed in res_seeds:
        mg.manual_seed(seed)
        model = residual_mlp(variant)
        watch = None
        if seed == res_seeds[0] and variant != "fixup":
            watch = watches[VARIANTS[variant]] = FlowWatch(model, every=20, title=VARIANTS[variant],
                                                           collapse="Block", rankdir="LR")
        with np.errstate(over="ignore", invalid="ignore"):
            log = train(model, digits_split(seed), budget, best_lr, seed=seed, eval_every=10,
                        target=0.8, stop_at_target=watch is None, after_backward=watch)
        res_steps[variant].append(log.steps_to_target)
    print(f"{VARIANTS[variant]:12s} lr {best_lr}: steps to 80% {spread(res_steps[variant])}")

# %% [markdown]
# The gradient flow of three of these nets at their first step (the explorer's page when it
# is installed, else one graph per net, one box per block): watch the plain net's gradient
# explode from the loss back towards the first blocks, and the ReZero net's flow straight
# through its identity blocks.

# %%
flow_shown = show_gradient_flow(watches, "07_i8_gradient_flow",
                                f"{BLOCKS}-block residual MLP: gradient flow")

# %% [markdown]
# **Verdict:**

# %%
i8 = I8_RULE.report(RESULTS, [f"{VARIANTS[v]}: trains at lr {trains_at[v]}, steps to 80% "
                              f"{spread(res_steps[v])}" for v in VARIANTS], steps=res_steps)
RESULTS["I8"] = {"seeds": res_seeds, "lrs": RES_LRS, "trains_at": trains_at,
                 "steps": res_steps, "flow_view": flow_shown}

# %% [markdown]
# Whatever the verdict, note what the plain net is: He init keeps a *plain* layer's variance,
# but a residual block *adds* its branch to its input, so the variance roughly doubles per
# block — 2⁵⁰ after 50 blocks. The techniques that rescue it all act on exactly that sum.
# So if the plain net trains at no rate of the grid, the comparison shows these inits make
# the deep net *trainable*, which is more than — and different from — "faster".
#
# ## Exercises
#
# **1. Predict, then run.** Method A needs 100 steps, method B 70. Is B "30 % faster"?
# What is the step ratio A/B, and what would "A needs 30 % more steps" mean?

# %%
steps_a, steps_b = 100, 70
print(f"B needs {1 - steps_b / steps_a:.0%} fewer steps; ratio A/B = {steps_a / steps_b:.2f}; "
      f"A needs {steps_a / steps_b - 1:.0%} more steps than B.")

# %% [markdown]
# *Answer:* 30 % fewer steps and 43 % more steps describe the same pair; a "30 %" figure
# without saying which is ambiguous — the verdict of section 3 prints both.
#
# **2–3. Code to write** in `tutorials/exercises/07_deep.py`, checked by
# `python tutorials/check.py 7`:
#
# 2. `random_orthogonal(n, rng)` — a uniformly random orthogonal matrix from the QR
#    decomposition of a Gaussian matrix (with the sign fix that makes it uniform);
# 3. `lsuv(weights, x)` — Mishkin & Matas' loop for a plain ReLU MLP given as a list of
#    weight matrices.
