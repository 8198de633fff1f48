# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Lesson 9 — BatchNorm in convolutional nets, and what it costs
#
# Two claims of the French note (sources in [docs/claims.md](../docs/claims.md)):
#
# * **B8** "BN works particularly well with CNNs and ResNets" — Ioffe & Szegedy's results are
#   on Inception, a CNN; He et al. (2016) put BN after every convolution of their ResNets.
# * **B9** "BN slightly increases the computational cost" — in training it adds a pass over
#   the activations, forward and backward; at inference it can be folded into the previous
#   layer (`nn.fold_batchnorm`), where it costs nothing.
#
# As in lessons 5 and 8, each rule is printed before its experiment and chooses the verdict
# from the measured numbers (`_rules_09.py`). The data: the 8×8 digits as 1×8×8 images.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from _common import QUICK, Results, pick, save_figure, seed_everything, seeds
from _rules_09 import B8, B9
from _train_bn import digits, highest_stable_lr, in_turn, log_grid, mlp, train_fresh
from _verdict import Rule

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

RESULTS = Results("09")
SEEDS = seeds(full=3, quick=2)
TARGET = 0.90
print(f"seeds {SEEDS}, quick mode: {QUICK}")


def images(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits split of lesson 5 as images (N, 1, 8, 8)."""
    x_train, y_train, x_val, y_val = digits(seed)
    return x_train.reshape(-1, 1, 8, 8), y_train, x_val.reshape(-1, 1, 8, 8), y_val


# %% [markdown]
# ## 1. A small CNN and a small residual CNN (claim B8)
#
# * **CNN**: conv 3×3 (1→16) → [BN] → ReLU → conv 3×3 stride 2 (16→32) → [BN] → ReLU →
#   Linear (512→10).
# * **ResCNN**: conv 3×3 (1→16) → [BN] → ReLU, then two residual blocks
#   x + conv → [BN] → ReLU → conv → [BN], each followed by a ReLU (He et al. 2016's basic
#   block), then 2×2 average pooling and a Linear (256→10).
#
# For each net, with and without `BatchNorm2d`, and each seed we scan a log grid of learning
# rates (one point per doubling, 0.05…25.6) as in lesson 5: the highest rate that reaches 90%
# within the budget, and the steps to 90% at the net's best rate.

# %%
B8.announce()


class ResidualBlock(nn.Module):
    """x ↦ ReLU(x + conv(ReLU(conv(x)))) with optional BatchNorm2d after each conv."""

    def __init__(self, channels: int, batchnorm: bool) -> None:
        super().__init__()
        norm = (lambda: nn.BatchNorm2d(channels)) if batchnorm else nn.Identity
        self.branch = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), norm(),
                                    nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1),
                                    norm())

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return F.relu(x + self.branch(x))


def make_net(kind: str, batchnorm: bool) -> nn.Sequential:
    def norm(channels: int) -> list[nn.Module]:
        return [nn.BatchNorm2d(channels)] if batchnorm else []

    if kind == "CNN":
        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), *norm(16), nn.ReLU(),
                             nn.Conv2d(16, 32, 3, stride=2, padding=1), *norm(32), nn.ReLU(),
                             nn.Flatten(), nn.Linear(512, 10))
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), *norm(16), nn.ReLU(),
                         ResidualBlock(16, batchnorm), ResidualBlock(16, batchnorm),
                         nn.AvgPool2d(2), nn.Flatten(), nn.Linear(256, 10))


BUDGET = pick(60, 30)
LR_GRID = pick(log_grid(0.05, 25.6, per_octave=1), log_grid(0.4, 3.2, per_octave=1))
_scan: dict[tuple, float] = {}


def steps_to_target(kind: str, batchnorm: bool, seed: int, lr: float) -> float:
    key = (kind, batchnorm, seed, lr)
    if key not in _scan:
        run = train_fresh(lambda: make_net(kind, batchnorm), seed, lr, BUDGET, stop_at=TARGET,
                          eval_every=10, data=images(seed))
        _scan[key] = run["steps_to"]
    return _scan[key]


b8_steps: dict = {}
b8_lr: dict = {}
for kind in ("CNN", "ResCNN"):
    b8_steps[kind], b8_lr[kind] = {}, {}
    for variant in ("plain", "bn"):
        highest, best = [], []
        for s in SEEDS:
            highest.append(highest_stable_lr(
                lambda lr, k=kind, bn=variant == "bn", s=s: np.isfinite(
                    steps_to_target(k, bn, s, lr)), LR_GRID))
            best.append(min(steps_to_target(kind, variant == "bn", s, lr) for lr in LR_GRID
                            if (kind, variant == "bn", s, lr) in _scan))
        b8_lr[kind][variant], b8_steps[kind][variant] = highest, best
        print(f"{kind:6} {variant:5}: highest stable lr {highest}; steps to {TARGET:.0%} at the "
              f"best lr {best}")
RESULTS["B8"] = {"seeds": SEEDS, "grid": LR_GRID, "budget": BUDGET, "steps_at_best": b8_steps,
                 "highest_stable_lr": b8_lr,
                 "scan": [[*key[:2], key[2], key[3], v] for key, v in _scan.items()]}

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.0))
for k, kind in enumerate(("CNN", "ResCNN")):
    for j, (variant, colour) in enumerate((("plain", "tab:gray"), ("bn", "tab:blue"))):
        x = 2 * k + j
        axes[0].plot([x] * len(SEEDS), b8_lr[kind][variant], "o", color=colour)
        found = np.array(b8_steps[kind][variant], float)
        axes[1].plot([x] * len(SEEDS), np.where(np.isfinite(found), found, 1.1 * BUDGET), "o",
                     color=colour)
labels = ["CNN", "CNN + BN", "ResCNN", "ResCNN + BN"]
axes[0].set(yscale="log", xticks=range(4), xticklabels=labels, ylabel="highest stable lr",
            title="(a) highest stable learning rate, one dot per seed")
axes[1].axhline(BUDGET, color="k", ls=":", lw=0.8)
axes[1].set(xticks=range(4), xticklabels=labels, ylabel=f"steps to {TARGET:.0%}",
            title="(b) steps to 90% at each net's best rate (above the line: never)")
save_figure(fig, "09_b8_cnns.png")

B8.report(RESULTS, [f"{kind} {v}: highest lr {b8_lr[kind][v]}, steps {b8_steps[kind][v]}"
                    for kind in b8_lr for v in ("plain", "bn")],
          steps=b8_steps, highest_lr=b8_lr)

# %% [markdown]
# ## 2. What BN costs: a training step, and inference before and after folding (claim B9)
#
# Timing on a shared machine is noisy, so we never compare two numbers measured at different
# moments: the plain and the BN net take turns, block after block, in the same process (which
# one goes first alternates), and each block gives one ratio; the rule reads the interval of
# those ratios. At inference we compare the plain CNN, the BN CNN in eval mode, and the BN
# CNN with every Conv2d → BatchNorm2d pair folded into one Conv2d (`nn.fold_batchnorm`), on
# the 497 validation images.

# %%
B9.announce()
REPEATS = pick(12, 4)
BLOCK = pick(10, 3)


def fold(model: nn.Sequential) -> nn.Sequential:
    """The same net with each Conv2d → BatchNorm2d (or Linear → BatchNorm1d) pair folded."""
    layers, modules, i = [], list(model), 0
    while i < len(modules):
        if i + 1 < len(modules) and isinstance(modules[i + 1], nn.BatchNorm1d | nn.BatchNorm2d):
            layers.append(nn.fold_batchnorm(modules[i], modules[i + 1]))
            i += 2
        else:
            layers.append(modules[i])
            i += 1
    return nn.Sequential(*layers)


def step_seconds(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    optimiser = mg.optim.SGD(model.parameters(), lr=0.01)
    start = time.perf_counter()
    for _ in range(BLOCK):
        loss = F.cross_entropy(model(mg.tensor(x)), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return (time.perf_counter() - start) / BLOCK


def inference_seconds(model: nn.Module, x: np.ndarray) -> float:
    model.eval()
    start = time.perf_counter()
    with mg.no_grad():
        for _ in range(BLOCK):
            model(mg.tensor(x))
    return (time.perf_counter() - start) / BLOCK


seed_everything(SEEDS[0])
x_train, y_train, x_val, y_val = images(SEEDS[0])
batch_x, batch_y = x_train[:60], y_train[:60]
nets = {"MLP": (mlp([64, 100, 100, 100, 100, 10]), mlp([64, 100, 100, 100, 100, 10],
                                                       nn.BatchNorm1d)),
        "CNN": (make_net("CNN", False), make_net("CNN", True))}
timings = {name: {"train_ratio": [], "inference_bn_ratio": [], "inference_folded_ratio": []}
           for name in nets}
for name, (plain, with_bn) in nets.items():
    x_batch = batch_x.reshape(60, -1) if name == "MLP" else batch_x
    x_eval = x_val.reshape(len(x_val), -1) if name == "MLP" else x_val
    for repeat in range(REPEATS):  # interleaved, and who goes first changes every block:
        # the first of a pair could pay for what the other leaves warm (caches, memory)
        plain.train()
        with_bn.train()
        train_time = {label: step_seconds(model, x_batch, batch_y)
                      for label, model in in_turn([("bn", with_bn), ("plain", plain)], repeat)}
        timings[name]["train_ratio"].append(train_time["bn"] / train_time["plain"])
        evaluated = [("plain", plain), ("bn", with_bn), ("folded", fold(with_bn))]
        infer_time = {label: inference_seconds(model, x_eval)
                      for label, model in in_turn(evaluated, repeat)}
        timings[name]["inference_bn_ratio"].append(infer_time["bn"] / infer_time["plain"])
        timings[name]["inference_folded_ratio"].append(infer_time["folded"]
                                                       / infer_time["plain"])
    with mg.no_grad():
        with_bn.eval()
        difference = float(np.abs(with_bn(mg.tensor(x_eval)).data
                                  - fold(with_bn)(mg.tensor(x_eval)).data).max())
    timings[name]["fold_max_abs_difference"] = difference
    print(f"{name}: BN/plain training step {np.median(timings[name]['train_ratio']):.2f}×, "
          f"inference BN/plain {np.median(timings[name]['inference_bn_ratio']):.2f}×, folded/"
          f"plain {np.median(timings[name]['inference_folded_ratio']):.2f}× (medians of "
          f"{REPEATS}); folded vs unfolded outputs differ by at most {difference:.1e}")
RESULTS["B9"] = {"repeats": REPEATS, "block": BLOCK, **timings}

# %%
fig, ax = plt.subplots(figsize=(9, 3.8))
for k, name in enumerate(nets):
    for j, key in enumerate(("train_ratio", "inference_bn_ratio", "inference_folded_ratio")):
        ax.plot([3 * k + j] * REPEATS, timings[name][key], "o", alpha=0.6,
                color=("tab:red", "tab:orange", "tab:green")[j])
ax.axhline(1, color="k", lw=0.8)
ax.set(xticks=range(6), xticklabels=[f"{n}\n{label}" for n in nets for label in
                                     ("train", "eval", "eval folded")],
       ylabel="time with BN / without", title="B9: BN's cost, one dot per interleaved block")
save_figure(fig, "09_b9_cost.png")

for name in nets:
    rule = Rule(f"B9-{name}", B9.note_says, B9.statement, B9.decide)  # one per architecture
    rule.report(RESULTS, [f"{name}: {REPEATS} interleaved blocks of {BLOCK} steps; machine "
                          "shared, so only same-process ratios are read"],
                train_ratios=timings[name]["train_ratio"],
                folded_ratios=timings[name]["inference_folded_ratio"])

# %% [markdown]
# Folding is exact up to float32 rounding (the printed difference): with fixed running
# statistics, BN is an affine map per channel, and an affine map after a convolution is
# another convolution (Ioffe & Szegedy §3.1). When reading the training ratio, keep in mind
# what it is made of here: a BN layer is a few extra array passes and a few more Python-level
# ops next to a small matrix product or convolution, so the ratio depends on the layer sizes
# and the batch (exercise 2), and a compiled framework would give other numbers.
#
# ## Summary — the verdicts this run chose

# %%
for claim, chosen in RESULTS["verdicts"].items():
    print(f"{claim:8} {chosen['verdict'].upper():20} {chosen['why'][:120]}")

# %% [markdown]
# ## Exercises
#
# 1. *Predict, then run.* Remove the first ReLU's BN only (keep the others). Which of B8's
#    four parts do you expect to change?
# 2. *Predict, then run.* With batch 600 instead of 60 in §2, will BN's training overhead
#    ratio go up or down? (Per-op overhead is fixed; array passes grow with the batch.)
