# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Lesson 8 — BatchNorm in practice: regularisation, small batches, a smoother landscape
#
# Three more claims of the French note (see [docs/claims.md](../docs/claims.md) for what the
# sources say):
#
# | § | claim | experiment |
# |---|---|---|
# | 1 | B4 "a light regulariser, sometimes replacing dropout" | gap: neither, BN, dropout, both |
# | 2 | B5 "degrades with batches under 16" | batch 2…64: BN vs GroupNorm vs none |
# | 3 | B11 "reduces oscillations" | Santurkar et al.'s (2018) loss-landscape measurement |
#
# As in lesson 5, each experiment is preceded by its decision rule (`RULE — …`, from
# `_rules_08.py`) and followed by the verdict that rule chose from the measured numbers.
# Comparisons are **paired**: all settings run on the same seeds (same data split), and a
# difference counts only when the 95% interval of the per-seed differences excludes 0 —
# otherwise the verdict is "no difference".

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
from _common import QUICK, Results, pick, save_figure, seed_everything, seeds
from _rules_08 import B4, B5, B11, highest_error_reading, paired
from _train_bn import digits, evaluate, mlp, train, train_fresh

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

RESULTS = Results("08")
SEEDS = seeds(full=5, quick=3)
WIDTHS = [64, 100, 100, 100, 100, 10]
print(f"seeds {SEEDS}, quick mode: {QUICK}")

# %% [markdown]
# ## 1. BN as a regulariser, next to dropout (claim B4)
#
# A mini-batch's mean and variance depend on which other examples are in it, so BN adds
# noise to each example's activations during training; the paper (§3.4) calls it a
# regulariser and BN-Inception dropped dropout (§4.2.1); Wu & He (2018, §4.1) agree. We train
# the 4×100 ReLU MLP of lesson 5 four ways — neither, BN, dropout (p = 0.5 after each hidden
# ReLU), both — long enough to fit the training set, and measure the validation − training
# cross-entropy gap and the validation accuracy.

# %%
B4.announce()
B4_STEPS = pick(500, 200)
B4_LR = 0.3  # inside the plain net's stable range measured in lesson 5, so all four train
VARIANTS = {"neither": (None, 0.0), "BN": (nn.BatchNorm1d, 0.0), "dropout": (None, 0.5),
            "BN + dropout": (nn.BatchNorm1d, 0.5)}
b4 = {}
for name, (norm, dropout) in VARIANTS.items():
    rows = []
    for s in SEEDS:
        run = train_fresh(lambda n=norm, p=dropout: mlp(WIDTHS, n, dropout=p), s, B4_LR, B4_STEPS,
                          eval_every=B4_STEPS)
        x_train, y_train, x_val, y_val = digits(s)
        train_accuracy, train_loss = evaluate(run["model"], x_train, y_train)
        val_accuracy, val_loss = evaluate(run["model"], x_val, y_val)
        rows.append({"train_accuracy": train_accuracy, "val_accuracy": val_accuracy,
                     "train_loss": train_loss, "val_loss": val_loss,
                     "loss_gap": val_loss - train_loss})
    b4[name] = {key: [row[key] for row in rows] for key in rows[0]}
print(f"{'':13} {'train acc.':>10} {'val. acc.':>10} {'train CE':>9} {'val. CE':>8} "
      f"{'CE gap':>8}   (means over {len(SEEDS)} seeds)")
for name, r in b4.items():
    print(f"{name:13} {np.mean(r['train_accuracy']):10.3f} {np.mean(r['val_accuracy']):10.3f} "
          f"{np.mean(r['train_loss']):9.3f} {np.mean(r['val_loss']):8.3f} "
          f"{np.mean(r['loss_gap']):8.3f}")
RESULTS["B4"] = {"seeds": SEEDS, "steps": B4_STEPS, "lr": B4_LR, "dropout_p": 0.5, **b4}

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.0))
for k, name in enumerate(b4):
    for ax, key in ((axes[0], "val_accuracy"), (axes[1], "loss_gap")):
        mean, low, high = paired(b4[name][key], [0.0] * len(SEEDS))
        ax.errorbar([k], [mean], yerr=[[mean - low], [high - mean]], fmt="o", capsize=5,
                    color="tab:blue")
        ax.plot([k] * len(SEEDS), b4[name][key], ".", color="tab:gray")
for ax, label in zip(axes, ("validation accuracy", "validation − training cross-entropy")):
    ax.set(xticks=range(len(b4)), xticklabels=list(b4), ylabel=label,
           title=f"{label}: mean, 95% interval, seeds (grey)")
fig.suptitle(f"B4: 4×100 ReLU MLP after {B4_STEPS} steps, lr {B4_LR}", y=1.02)
save_figure(fig, "08_b4_regularisation.png")

B4.report(RESULTS, [f"{name}: CE gap {np.mean(r['loss_gap']):.3f}, val. acc. "
                    f"{np.mean(r['val_accuracy']):.3f}" for name, r in b4.items()],
          gap_bn=b4["BN"]["loss_gap"], gap_neither=b4["neither"]["loss_gap"],
          val_bn=b4["BN"]["val_accuracy"], val_dropout=b4["dropout"]["val_accuracy"])

# %% [markdown]
# A caveat no rule can remove: BN also changes the optimisation (lesson 5), so a smaller gap
# is not all regularisation; and dropout's strength depends on p, which we did not tune.
#
# ## 2. Batch size 2 … 64 (claim B5)
#
# Ioffe & Szegedy say nothing of a threshold; the evidence is Wu & He (2018, Table 2):
# ResNet-50 on ImageNet, BN's error by images per GPU 23.6 (32), 23.7 (16), 24.8 (8),
# 27.3 (4), 34.7 (2), while GroupNorm stays near 24. With small batches the statistics are
# noisy while training, and the running averages used at test time match them poorly.
#
# Ours: a 64-100-100-10 ReLU MLP with BN, GroupNorm (10 groups of 10) or nothing after each
# hidden Linear; the same number of examples seen for every batch size, the learning rate
# scaled with the batch (0.1·B/32, Goyal et al. 2017), BN evaluated with its running
# statistics. GroupNorm never looks across the batch, so it is the control: the rule asks
# whether BN's error grows *more* than GroupNorm's as the batch shrinks.

# %%
B5.announce()
BATCH_SIZES = pick([2, 4, 8, 16, 64], [4, 64])
EXAMPLES_SEEN = pick(1280, 640)
B5_SEEDS = SEEDS[:pick(4, 3)]
NORMS = {"none": None, "BatchNorm": nn.BatchNorm1d, "GroupNorm": lambda n: nn.GroupNorm(10, n)}
b5 = {name: {str(b): [] for b in BATCH_SIZES} for name in NORMS}
for name, norm in NORMS.items():
    for batch_size in BATCH_SIZES:
        steps = EXAMPLES_SEEN // batch_size
        for s in B5_SEEDS:
            run = train_fresh(lambda n=norm: mlp([64, 100, 100, 10], n), s, 0.1 * batch_size / 32,
                              steps, batch_size=batch_size, eval_every=steps)
            b5[name][str(batch_size)].append(100 * (1 - run["val_accuracy"][-1]))
print("validation error (%), mean over seeds, by batch size:")
print(f"{'':10} " + " ".join(f"{b:>6}" for b in BATCH_SIZES))
for name in NORMS:
    print(f"{name:10} " + " ".join(f"{np.mean(b5[name][str(b)]):6.1f}" for b in BATCH_SIZES))
largest = str(max(BATCH_SIZES))


def increase(name: str, b: int) -> np.ndarray:
    return np.array(b5[name][str(b)]) - np.array(b5[name][largest])


bn_minus_gn = {str(b): increase("BatchNorm", b) - increase("GroupNorm", b) for b in BATCH_SIZES}
RESULTS["B5"] = {"seeds": B5_SEEDS, "batch_sizes": BATCH_SIZES, "examples_seen": EXAMPLES_SEEN,
                 "error_percent": b5, "bn_minus_gn_increase": bn_minus_gn}

# %%
WU_HE_BN = {32: 23.6, 16: 23.7, 8: 24.8, 4: 27.3, 2: 34.7}  # Wu & He 2018, Table 2 (quoted)
fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
for name, colour in (("none", "tab:gray"), ("BatchNorm", "tab:blue"), ("GroupNorm", "tab:green")):
    errors = np.array([b5[name][str(b)] for b in BATCH_SIZES])
    axes[0].errorbar(BATCH_SIZES, errors.mean(axis=1), yerr=np.ptp(errors, axis=1) / 2,
                     color=colour, marker="o", capsize=3, label=name)
axes[1].plot(sorted(WU_HE_BN), [WU_HE_BN[b] for b in sorted(WU_HE_BN)], "o-", label="BatchNorm")
axes[1].axhline(24, color="tab:green", ls="--", label="GroupNorm: flat near 24")
for ax, title in zip(axes, ("(a) ours: MLP on 8×8 digits (mean, half range)",
                            "(b) Wu & He 2018, Table 2: ResNet-50, ImageNet (quoted)")):
    ax.set_xscale("log", base=2)
    ax.set(xlabel="batch size", ylabel="validation error (%)", title=title)
    ax.legend()
fig.suptitle("B5: error against batch size, BN evaluated with its running statistics", y=1.02)
save_figure(fig, "08_b5_batch_size.png")

B5.report(RESULTS, [f"{name}: " + ", ".join(f"{b}: {np.mean(b5[name][str(b)]):.1f}%"
                                             for b in BATCH_SIZES) for name in NORMS],
          batch_sizes=BATCH_SIZES, bn_minus_gn_increase=bn_minus_gn)

# %% [markdown]
# Reading panel (a): the un-normalised net is there as the reference whose error does not
# depend on the batch's statistics at all. It is also the slowest of the three to train
# (lesson 5 measured it needing several times BN's steps), and the budget here is short (the
# same examples seen for every size), so its error can be high at any size; whether it is the
# *highest* at a given size depends on how much BN suffers there. The run says which net is highest
# at each size:

# %%
print(highest_error_reading(b5))

# %% [markdown]
# With two examples, a batch's "variance" is one squared difference: each normalised
# feature is just ±1 in training, and the running averages the evaluation uses describe
# statistics the network never saw. Where the degradation starts depends on the model and
# the task, which is why the rule reports the batch sizes it found rather than assuming 16.
#
# ## 3. A smoother loss landscape (claim B11)
#
# The note says BN speeds convergence "by reducing oscillations". Santurkar et al. (2018,
# "How does batch normalization help optimization?") measured what BN changes: at points
# along the training trajectory, they step along the gradient by several step sizes and
# record (i) the **range of the loss** over those steps and (ii) how much the **gradient
# changes**, here as their "effective β-smoothness": the gradient change per distance moved,
# max ‖∇L(w − ηg) − ∇L(w)‖ / (η‖g‖). With BN both were smaller: a smoother, more
# predictable landscape, which lets a larger step be taken safely.
#
# Ours: the 4×100 ReLU MLP with and without BN, trained at lr 0.3 (where both train, lesson
# 5); every 20 steps, on a batch
# of 60 training examples, we move the weights to w − η·g for η = lr × {0.25, 0.5, 1, 2, 4}
# (g: the gradient at w), on a copy of the network, and record both measures.

# %%
B11.announce()
B11_STEPS = pick(200, 80)
B11_LR = 0.3
ETAS = [B11_LR * m for m in (0.25, 0.5, 1, 2, 4)]


def landscape_along_gradient(model: nn.Module, x: np.ndarray, y: np.ndarray
                             ) -> tuple[float, float]:
    """(loss range, effective β-smoothness) along −gradient, over the step sizes ETAS."""
    probe = copy.deepcopy(model)  # BN's running statistics and the weights stay untouched
    params = list(probe.parameters())

    def loss_and_grad() -> tuple[float, np.ndarray]:
        probe.zero_grad()
        loss = F.cross_entropy(probe(mg.tensor(x)), y)
        loss.backward()
        return loss.item(), np.concatenate([p.grad.ravel() for p in params])

    start = [p.data.copy() for p in params]
    loss0, grad0 = loss_and_grad()
    direction = [p.grad.copy() for p in params]
    losses, changes = [loss0], []
    for eta in ETAS:
        for p, w0, g in zip(params, start, direction):
            p.data[...] = w0 - eta * g
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grad = loss_and_grad()
        losses.append(loss)
        # effective beta-smoothness: gradient change per unit of distance moved
        changes.append(float(np.linalg.norm(grad - grad0) / (eta * np.linalg.norm(grad0))))
    return float(np.ptp(losses)), max(changes)


b11 = {"plain": [], "bn": []}
traces = {}
for variant in b11:
    for s in SEEDS:
        seed_everything(s)
        model = mlp(WIDTHS, nn.BatchNorm1d if variant == "bn" else None)
        x_train, y_train = digits(s)[:2]
        probe_rng = np.random.default_rng(s)
        trace = []

        def measure(step, loss, optimiser, model=model, trace=trace, x=x_train, y=y_train,
                    probe_rng=probe_rng):
            if step % 20 == 1:
                index = probe_rng.choice(len(x), 60, replace=False)
                trace.append((step, *landscape_along_gradient(model, x[index], y[index])))

        train(model, s, B11_LR, B11_STEPS, eval_every=B11_STEPS, on_step=measure)
        trace = np.array(trace)  # (points, 3): step, loss range, gradient change
        traces[(variant, s)] = trace
        b11[variant].append({"loss_range": float(trace[:, 1].mean()),
                             "grad_change": float(trace[:, 2].mean())})
b11_summary = {v: {k: [r[k] for r in rows] for k in ("loss_range", "grad_change")}
               for v, rows in b11.items()}
for variant, values in b11_summary.items():
    print(f"{variant:5}: mean loss range per seed {[round(x, 3) for x in values['loss_range']]}, "
          f"mean β-smoothness {[round(x, 3) for x in values['grad_change']]}")
RESULTS["B11"] = {"seeds": SEEDS, "steps": B11_STEPS, "lr": B11_LR, "etas": ETAS, **b11_summary}

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.0))
for (variant, s), trace in traces.items():
    colour = "tab:blue" if variant == "bn" else "tab:gray"
    label = ("with BN" if variant == "bn" else "without BN") if s == SEEDS[0] else None
    axes[0].plot(trace[:, 0], trace[:, 1], color=colour, label=label)
    axes[1].plot(trace[:, 0], trace[:, 2], color=colour, label=label)
axes[0].set(yscale="log", xlabel="step", ylabel="range of the loss along −g",
            title="(a) loss landscape (cf. Santurkar et al. Fig. 4a)")
axes[1].set(yscale="log", xlabel="step", ylabel="max ‖∇L(w − ηg) − ∇L(w)‖ / (η‖g‖)",
            title="(b) effective β-smoothness (cf. Fig. 4c)")
for ax in axes:
    ax.legend()
fig.suptitle(f"B11: along the gradient direction, η = lr × 0.25…4, lr {B11_LR}", y=1.02)
save_figure(fig, "08_b11_smoothness.png")

B11.report(RESULTS, [f"{v}: loss range {np.mean(x['loss_range']):.3g}, β-smoothness "
                     f"{np.mean(x['grad_change']):.3g} (means over seeds and training)"
                     for v, x in b11_summary.items()],
           loss_range_plain=b11_summary["plain"]["loss_range"],
           loss_range_bn=b11_summary["bn"]["loss_range"],
           grad_change_plain=b11_summary["plain"]["grad_change"],
           grad_change_bn=b11_summary["bn"]["grad_change"])

# %% [markdown]
# The measurement says *what* BN changes (how far the loss and the gradient move along a
# step), not *why*; Santurkar et al. also show that BN's benefit survives when noise is
# injected to *increase* internal covariate shift — their argument against the paper's own
# explanation. Our rule only reads the two measures. One thing to keep in mind when reading
# them: both are taken in parameter space, and a BN layer makes the loss invariant to the
# scale of the weights before it, so its gradient (and its change) scales as 1/‖W‖ — the
# measures depend on how large the weights happen to be, not only on the landscape's shape.
#
# ## Summary — the verdicts this run chose

# %%
for claim, chosen in RESULTS["verdicts"].items():
    print(f"{claim:4} {chosen['verdict'].upper():20} {chosen['why'][:120]}")

# %% [markdown]
# ## Exercises
#
# 1. *Predict, then run.* In §2, replace GroupNorm(10, n) by GroupNorm(1, n) (one group: the
#    LayerNorm of a vector). Will the B5 verdict change? Run the cell and read the rule.
# 2. Exercise `08` in `tutorials/exercises/`: GroupNorm from primitives (mean, var, reshape),
#    checked against `nn.GroupNorm` and by gradcheck (`python tutorials/check.py 08`).
