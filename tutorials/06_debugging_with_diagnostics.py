# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Lesson 6 — Debugging a network with the diagnostics
#
# A network that trains badly rarely says why. The loss just goes down slowly, or stalls.
# Karpathy's lecture "Building makemore, part 3" (2022) shows a routine that finds the
# cause in minutes: look, layer by layer, at
#
# * the **activations** — their mean, their std, and the share that is *saturated*
#   (for tanh, |y| > 0.97, where the slope 1 − y² is below 0.06 and almost no gradient
#   passes);
# * the **gradients** at each layer's output — they should neither shrink nor grow from
#   layer to layer;
# * the **grad:data ratio** of each weight, std(grad)/std(weight);
# * the **update:data ratio** of each weight at every optimiser step,
#   std(lr·grad)/std(weight): the lecture's rule of thumb is that about 1e-3 (−3 on a log10
#   scale) is healthy; far above, the learning rate is too high for that weight; far below,
#   it barely trains.
#
# `minigrad.viz.diagnostics.TrainingDiagnostics` records exactly these with hooks. In this
# lesson we break a deep tanh network on purpose, in the two classic ways, read the
# diagnosis off the numbers, and fix it — with the right gain, `calculate_gain('tanh')`
# = 5/3, or with BatchNorm. Two decision rules, printed before they are applied, say
# whether the diagnosis found both faults and whether the 1e-3 rule of thumb tells healthy
# from sick. (The notes' claims are in [docs/claims.md](../docs/claims.md); this lesson
# tests a tool and a rule of thumb, not a claim.)

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
from _common import QUICK, Results, pick, save_figure, seed_everything, seeds
from _rules_06 import DIAGNOSTICS, UPDATE_RATIO
from _train import forever
from _train_bn import digits

import minigrad as mg
from minigrad import nn
from minigrad.data import DataLoader, TensorDataset
from minigrad.viz.diagnostics import TrainingDiagnostics

RESULTS = Results("06")
SEEDS = seeds(full=3, quick=2)
print(f"seeds {SEEDS}, quick mode: {QUICK}")

# %% [markdown]
# ## 1. The patient
#
# Five hidden layers of 100 tanh units on the 8×8 digits (64 inputs, 10 classes), trained
# with plain SGD (lr 0.1, batches of 32), as in the lecture. Each hidden weight matrix is
# drawn from N(0, (a/√fan_in)²); the output layer uses a = 1 (no nonlinearity after it),
# and biases start at 0. We try four networks:
#
# | name | hidden-layer a | BatchNorm |
# |---|---|---|
# | too large | 5 | no |
# | too small | 0.1 | no |
# | gain 5/3 | `calculate_gain('tanh')` = 5/3 | no |
# | too large + BN | 5 | after each hidden Linear |
#
# Why 5/3? For a unit-variance input, N(0, 1/fan_in) weights keep the variance of the
# pre-activation at 1, but tanh squashes it: the output's variance is lower, and it
# shrinks further layer after layer. A gain a bit above 1 compensates. PyTorch's
# documentation lists 5/3 for tanh in a table, with no derivation: read it as a rule of
# thumb, not an exact constant.

# %%
DEPTH, WIDTH = 5, 100
LR, BATCH = 0.1, 32
STEPS = pick(600, 120)
TANH_GAIN = nn.init.calculate_gain("tanh")
CONFIGS = {
    "too large": (5.0, False),
    "too small": (0.1, False),
    "gain 5/3": (TANH_GAIN, False),
    "too large + BN": (5.0, True),
}
print(f"calculate_gain('tanh') = {TANH_GAIN:.4f}")


def tanh_mlp(gain: float, batchnorm: bool) -> nn.Sequential:
    """64 → 5 × [Linear(100) → (BatchNorm1d) → Tanh] → Linear(10), weights N(0, (gain/√fan_in)²)."""
    layers: list[nn.Module] = []
    fan_in = 64
    for _ in range(DEPTH):
        linear = nn.Linear(fan_in, WIDTH)
        nn.init.normal_(linear.weight, 0.0, gain / math.sqrt(fan_in))
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.BatchNorm1d(WIDTH)] if batchnorm else [linear]
        layers.append(nn.Tanh())
        fan_in = WIDTH
    output = nn.Linear(WIDTH, 10)
    nn.init.normal_(output.weight, 0.0, 1.0 / math.sqrt(WIDTH))
    nn.init.zeros_(output.bias)
    return nn.Sequential(*layers, output)


def hidden_weights(model: nn.Sequential) -> list[str]:
    """Names of the hidden Linear weights, in order ('0.weight', '2.weight', ...)."""
    return [name for name, p in model.named_parameters()
            if name.endswith("weight") and p.ndim == 2][:-1]


# %% [markdown]
# ## 2. Train, and record everything
#
# `TrainingDiagnostics(model, layers=("Tanh",))` hooks every Tanh (activations and the
# gradient at its output, from each training forward/backward) and every parameter
# (grad:data before each step, update:data across it, via `with diagnostics.step():`).
# We keep a copy of what it saw on the very first batch — the network at initialisation —
# and let it record the update ratios over the whole run.

# %%
def snapshot(diagnostics: TrainingDiagnostics, model: nn.Sequential) -> dict:
    """The per-layer numbers of the last forward/backward pass, as plain lists."""
    tanhs = list(diagnostics.layers.values())
    return {
        "activation_std": [r.std for r in tanhs],
        "saturation": [r.saturated for r in tanhs],
        "grad_std": [r.grad_std for r in tanhs],
        "grad_to_data": [diagnostics.parameters[n].grad_to_data for n in hidden_weights(model)],
        "activations": [r.output.copy() for r in tanhs],
        "gradients": [r.grad.copy() for r in tanhs],
    }


def run(name: str, seed: int) -> dict:
    gain, batchnorm = CONFIGS[name]
    rng = seed_everything(seed)
    x_train, y_train, x_val, y_val = digits(seed)
    batches = forever(DataLoader(TensorDataset(x_train, y_train), batch_size=BATCH, shuffle=True,
                                 drop_last=True, generator=rng))
    model = tanh_mlp(gain, batchnorm)
    optimiser = mg.optim.SGD(model.parameters(), lr=LR)
    criterion = nn.CrossEntropyLoss()
    diagnostics = TrainingDiagnostics(model, layers=("Tanh",))
    losses, at_init = [], None
    for step in range(STEPS):
        x_batch, y_batch = next(batches)
        loss = criterion(model(x_batch), y_batch)
        optimiser.zero_grad()
        loss.backward()
        with diagnostics.step():
            optimiser.step()
        losses.append(loss.item())
        if step == 0:
            at_init = snapshot(diagnostics, model)
            table_at_init = diagnostics.table()
    diagnostics.remove()
    model.eval()
    with mg.no_grad():
        accuracy = float((model(mg.tensor(x_val)).data.argmax(axis=1) == y_val).mean())
    # log10 update:data per hidden weight and step
    update_log10 = np.log10([diagnostics.parameters[n].update_to_data
                             for n in hidden_weights(model)])
    return {"init": at_init, "table_at_init": table_at_init, "table_at_end": diagnostics.table(),
            "losses": losses, "val_accuracy": accuracy, "update_log10": update_log10}


runs = {name: [run(name, s) for s in SEEDS] for name in CONFIGS}
print("Diagnostics of the 'too large' network at initialisation (first batch), seed",
      SEEDS[0], "— layers are named by their index in the Sequential: the Tanhs are 1, 3, 5, 7, 9")
print(runs["too large"][0]["table_at_init"])

# %% [markdown]
# ## 3. Reading the diagnosis
#
# The table above is what `print(diagnostics.table())` shows for one network. To compare
# the four, we collect the same numbers side by side (seed 0 in the figures, every seed in
# the printed summaries).

# %%
def layer_row(values: list[float], fmt: str) -> str:
    return " ".join(format(v, fmt) for v in values)


summary = {}
for name, per_seed in runs.items():
    init = [r["init"] for r in per_seed]
    summary[name] = {
        "saturation": np.mean([i["saturation"] for i in init], axis=0),
        "activation_std": np.mean([i["activation_std"] for i in init], axis=0),
        "grad_std": np.mean([i["grad_std"] for i in init], axis=0),
        "grad_to_data": np.mean([i["grad_to_data"] for i in init], axis=0),
        # the update ratio once training has settled: mean log10 over the last quarter
        "update_log10": np.mean([r["update_log10"][:, -STEPS // 4:].mean(axis=1)
                                 for r in per_seed], axis=0),
        "val_accuracy": [r["val_accuracy"] for r in per_seed],
    }
print("At initialisation, per tanh layer 1..5 (mean over seeds):")
for name, s in summary.items():
    print(f"\n{name}")
    print(f"  saturated (|y|>0.97) {layer_row(100 * s['saturation'], '7.1f')}  %")
    print(f"  activation std       {layer_row(s['activation_std'], '7.3f')}")
    print(f"  gradient std         {layer_row(s['grad_std'], '7.1e')}")
    print(f"  weight grad:data     {layer_row(s['grad_to_data'], '7.1e')}")
    print(f"  log10 update:data    {layer_row(s['update_log10'], '7.2f')}   (last quarter of "
          "training)")
    print(f"  validation accuracy after {STEPS} steps: "
          + ", ".join(f"{a:.3f}" for a in s["val_accuracy"]))

# %%
colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, DEPTH))
names = list(CONFIGS)


def histogram_grid(key: str, stat: str, stat_label: str, title: str, xlabel: str,
                   filename: str) -> None:
    """One panel per network: a histogram (as a line) per tanh layer, and the layers'
    values of statistic `stat` in the panel's title."""
    fig, axes = plt.subplots(1, len(names), figsize=(18, 4.2), layout="constrained")
    for ax, name in zip(axes, names):
        snapshot_ = runs[name][0]["init"]
        for layer, values in enumerate(snapshot_[key]):
            counts, edges = np.histogram(values.ravel(), bins=60)
            centres = (edges[:-1] + edges[1:]) / 2
            ax.plot(centres, counts / counts.sum(), color=colours[layer], lw=1.3,
                    label=f"layer {layer + 1}")
        values = snapshot_[stat]
        numbers = (" ".join(f"{v:.0%}" for v in values) if stat == "saturation" else
                   " ".join(f"{v:.0e}".replace("e-0", "e-") for v in values))
        ax.set_title(f"{name}\n{stat_label} 1→5: {numbers}", fontsize=10)
        ax.set(xlabel=xlabel)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
    axes[0].set_ylabel("share of values")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right center")
    fig.suptitle(title)
    save_figure(fig, filename)


histogram_grid("activations", "saturation", "saturated", "Tanh outputs at initialisation, "
               "per layer (seed 0): saturation piles up at ±1", "tanh output",
               "06_activations.png")
histogram_grid("gradients", "grad_std", "grad std", "Gradient at each Tanh output at "
               "initialisation (seed 0): note each panel's own x scale", "gradient",
               "06_gradients.png")

# %%
fig, axes = plt.subplots(1, len(names), figsize=(17, 3.8), sharey=True)
for ax, name in zip(axes, names):
    update_log10 = runs[name][0]["update_log10"]
    for layer, curve in enumerate(update_log10):
        ax.plot(np.arange(1, STEPS + 1), curve, color=colours[layer], lw=0.9,
                label=f"layer {layer + 1} weight")
    ax.axhline(-3, color="k", ls="--", lw=1, label="1e-3 (rule of thumb)")
    ax.set(title=name, xlabel="optimiser step")
axes[0].set_ylabel("log10 update:data")
axes[0].legend(fontsize=8, loc="lower left")
fig.suptitle(f"update:data ratio of each hidden weight over training, SGD lr {LR} (seed 0)", y=1.03)
save_figure(fig, "06_update_ratio.png")

fig, ax = plt.subplots(figsize=(7, 4))
for name, colour in zip(names, ("tab:red", "tab:orange", "tab:green", "tab:blue")):
    for i, r in enumerate(runs[name]):
        smooth = np.convolve(r["losses"], np.ones(20) / 20, mode="valid")
        ax.plot(np.arange(20, STEPS + 1), smooth, color=colour, lw=1.1,
                label=name if i == 0 else None)
ax.set(xlabel="optimiser step", ylabel="training loss (mean of 20 steps)", yscale="log",
       title="Training loss, one line per seed")
ax.legend()
save_figure(fig, "06_loss.png")

# %% [markdown]
# ### The diagnosis
#
# What to look for in the figures: two spikes at ±1 in a tanh histogram mean saturation (a
# saturated tanh passes almost no gradient); an activation std that falls layer after layer
# means the signal — and, on the way back, the gradient — vanishes; update:data ratios far
# below 1e-3 mean a layer that barely learns. The rules below turn that reading into numbers
# (`_rules_06.py`), stated before they are applied:

# %%
DIAGNOSTICS.announce()
UPDATE_RATIO.announce()

# %%
def healthy(s: dict) -> dict:
    """Karpathy's checks, as numbers: worst saturation, spread of activation and gradient
    std across layers (max/min), and the update ratios' distance from 1e-3 (in decades)."""
    return {
        "max_saturation": float(np.max(s["saturation"])),
        "activation_std_spread": float(np.max(s["activation_std"]) / np.min(s["activation_std"])),
        "grad_std_spread": float(np.max(s["grad_std"]) / np.min(s["grad_std"])),
        "update_log10_distance_from_-3": float(np.max(np.abs(s["update_log10"] + 3))),
        "mean_val_accuracy": float(np.mean(s["val_accuracy"])),
    }


per_seed = {name: [] for name in CONFIGS}
for name, seed_runs in runs.items():
    for r in seed_runs:
        init = r["init"]
        per_seed[name].append({
            "max_saturation": float(np.max(init["saturation"])),
            "min_saturation": float(np.min(init["saturation"])),
            "activation_std": init["activation_std"],
            "grad_std": init["grad_std"],
            "update_log10_last_quarter": r["update_log10"][:, -STEPS // 4:].mean(axis=1),
            "val_accuracy": r["val_accuracy"],
            "final_loss": float(np.mean(r["losses"][-20:])),
        })
checks = {name: healthy(s) for name, s in summary.items()}
print(f"{'':16} {'max sat.':>9} {'act. std max/min':>17} {'grad std max/min':>17} "
      f"{'|log10 upd + 3|':>16} {'val. acc.':>10}")
for name, c in checks.items():
    print(f"{name:16} {100 * c['max_saturation']:8.1f}% {c['activation_std_spread']:17.1f} "
          f"{c['grad_std_spread']:17.1f} {c['update_log10_distance_from_-3']:16.2f} "
          f"{c['mean_val_accuracy']:10.3f}")
RESULTS["diagnostics"] = {"seeds": SEEDS, "steps": STEPS, "lr": LR, "tanh_gain": TANH_GAIN,
                          "checks": checks, "per_seed": per_seed}

# %%
DIAGNOSTICS.report(RESULTS, [f"{n}: max saturation {c['max_saturation']:.0%}, activation "
                             f"std spread {c['activation_std_spread']:.1f}x"
                             for n, c in checks.items()], checks=checks)
UPDATE_RATIO.report(RESULTS, checks=checks)

# %% [markdown]
# **The loss curves (06_loss.png).** "too large + BN" can end with a *higher* training loss
# than "too large" while generalising better. The cell below measures which it is on this
# run — training loss and validation accuracy side by side — and says so only if the
# numbers show it.

# %%
last_loss = {n: float(np.mean([r["final_loss"] for r in per_seed[n]])) for n in CONFIGS}
last_accuracy = {n: checks[n]["mean_val_accuracy"] for n in CONFIGS}
print("final training loss (mean of the last 20 steps):",
      {n: round(v, 3) for n, v in last_loss.items()})
print("validation accuracy:", {n: round(v, 3) for n, v in last_accuracy.items()})
if (last_loss["too large"] < last_loss["too large + BN"]
        and last_accuracy["too large"] < last_accuracy["too large + BN"]):
    print("Measured: 'too large' ends with a lower training loss AND a lower validation "
          "accuracy than 'too large + BN': it fits its training batches better and generalises "
          "worse (overfitting), with the saturated features the table shows; BN's are not.")
else:
    print("Measured: on this run the too-large net does not end below 'too large + BN' with "
          "a worse validation accuracy; the curves need no special explanation here.")
RESULTS["loss_curves"] = {"final_loss": last_loss, "val_accuracy": last_accuracy}

# %% [markdown]
# What to remember: when a network trains badly, print the table before touching the
# learning rate. Saturation, vanishing activations and far-off update ratios each point
# to a different fix; the update ratio checks the learning rate against the weights' scale,
# not saturation.

# %% [markdown]
# ## Exercises
#
# **1. Predict, then run.** In the "too large" net the first Linear sees standardised
# pixels. Treat its pre-activation as Gaussian with standard deviation a·s, where s² is the
# inputs' mean second moment (weights N(0, (a/√64)²), 64 inputs). What share of the first
# Tanh's outputs is saturated (|tanh| > 0.97, i.e. |z| > atanh 0.97 ≈ 2.09) at a = 5? And at
# a = 5/3? Write your two numbers down, then run the cell: it prints the Gaussian prediction
# next to the share measured on a fresh network.

# %%
def first_layer_saturation(gain: float, seed: int) -> tuple[float, float]:
    """(Gaussian prediction, measured share) of saturated units in the first Tanh."""
    seed_everything(seed)
    x_train = digits(seed)[0]
    model = tanh_mlp(gain, batchnorm=False)
    with mg.no_grad():
        hidden = model[1](model[0](mg.tensor(x_train)))  # first Linear, then its Tanh
    spread = gain * math.sqrt(float(np.mean(x_train.astype(np.float64) ** 2)))
    predicted = 1.0 - math.erf(math.atanh(0.97) / (spread * math.sqrt(2.0)))
    return predicted, float(np.mean(np.abs(hidden.data) > 0.97))


saturation_exercise = {}
for label, gain in (("a = 5", 5.0), ("a = 5/3", TANH_GAIN)):
    predicted, measured = first_layer_saturation(gain, SEEDS[0])
    saturation_exercise[label] = {"predicted": predicted, "measured": measured}
    print(f"{label}: Gaussian prediction {predicted:.1%}, measured {measured:.1%}")
RESULTS["exercise_saturation"] = saturation_exercise

# %% [markdown]
# *Why the two can differ:* a pre-activation is a sum of only 64 products, many of them
# from pixels that are almost always 0, so it is not quite Gaussian; the prediction is a
# first estimate, and the table of section 2 is the measurement.
#
# **2. Predict, then run.** Plain SGD's update is lr × grad. If the learning rate is ten
# times larger, by how much should log10 of the update:data ratio of the first step change?
# Predict, then run: the cell takes one step from the same initial weights and batch at
# lr = 0.1 and lr = 1.0 and prints the change for every hidden layer.

# %%
def first_update_log10(lr: float, seed: int) -> np.ndarray:
    """log10 update:data of every hidden weight after one SGD step from a fixed start."""
    seed_everything(seed)
    x_train, y_train = digits(seed)[:2]
    model = tanh_mlp(TANH_GAIN, batchnorm=False)
    diagnostics = TrainingDiagnostics(model, layers=("Tanh",))
    optimiser = mg.optim.SGD(model.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()(model(mg.tensor(x_train[:BATCH])), y_train[:BATCH])
    loss.backward()
    with diagnostics.step():
        optimiser.step()
    diagnostics.remove()
    return np.log10([diagnostics.parameters[n].update_to_data for n in hidden_weights(model)])


change = (first_update_log10(1.0, SEEDS[0]) - first_update_log10(0.1, SEEDS[0])).ravel()
print("change of log10(update:data) per hidden layer for 10x the learning rate:",
      np.round(change, 3))
RESULTS["exercise_update_ratio_change"] = change

# %% [markdown]
# *Answer:* +1 in every layer, exactly: the first update is lr × grad, and grad does not
# depend on lr at the first step. Later in training it no longer holds — a larger rate
# changes the weights the gradients are taken at — which is why the table of section 3
# watches the ratio throughout training, not once.
