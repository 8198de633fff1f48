"""Lesson 3's decision rules (I7, I9, I1, I2): pure functions of measured numbers, stated in
the lesson before its experiments and unit-tested on synthetic numbers in
tests/test_tutorials.py."""

from __future__ import annotations

I7_STATEMENT = (
    "REPRODUCED if, for every seed, the hidden units of the constant-initialised layer stay "
    "identical to float precision (spread < 1e-5) while randomly initialised ones differ "
    "(spread > 1e-2); NOT REPRODUCED otherwise.")

I9_STATEMENT = (
    "for fixed-scale inits N(0, σ²) (σ not derived from the fan-in) of tanh and ReLU nets of "
    "width 256: the activation variance 'changes with depth' when Var(layer 50) / Var(layer 1) "
    "is outside [1/2, 2]. REPRODUCED if it changes for every setting; REPRODUCED IN PART if "
    "for some; NOT REPRODUCED if for none.")

I1_STATEMENT = (
    "(i) the variance of Glorot's normalised init (nn.init.xavier_uniform_, sampled) on a "
    "64→256 layer is compared with 2/(n_in+n_out) and with the note's 1/n_in; (ii) Glorot & "
    "Bengio's statistics at init, 3 checks per seed (Jacobian singular values, gradient "
    "spread, activation spread; see below). CORRECTED if (i) matches 2/(n_in+n_out) within 5% "
    "and differs from 1/n_in by > 20% and at least one check of (ii) holds in every seed; "
    "REPRODUCED if (i) matches 1/n_in; NOT REPRODUCED if no check of (ii) holds.")

I2_STATEMENT = (
    "30-layer ReLU MLP, He 2/n_in vs LeCun 1/n_in. REPRODUCED if, for every seed, the last "
    "layer's activation std at init with 1/n_in is < 1% of He's AND He reaches the target "
    "accuracy at one of the learning rates tried while 1/n_in stays below target − 0.2 at all; "
    "REPRODUCED IN PART if only the signal part holds; NOT REPRODUCED otherwise.")


def decide_i7(constant_spreads: list[float], random_spreads: list[float]) -> tuple[str, str]:
    if max(constant_spreads) < 1e-5 and min(random_spreads) > 1e-2:
        return "reproduced", (f"constant init: units differ by at most "
                              f"{max(constant_spreads):.1e}; random init: at least "
                              f"{min(random_spreads):.2f}")
    return "not reproduced", (f"constant-init spread {max(constant_spreads):.1e}, random-init "
                              f"spread {min(random_spreads):.2g}")


def decide_i9(variance_ratios: dict[str, float]) -> tuple[str, str]:
    """`variance_ratios`: {setting: Var(last layer) / Var(first layer)}."""
    changing = [k for k, r in variance_ratios.items() if not 0.5 <= r <= 2.0]
    listed = ", ".join(f"{k} {r:.2g}" for k, r in variance_ratios.items())
    if len(changing) == len(variance_ratios):
        return "reproduced", f"the variance changes with depth in every setting ({listed})"
    if changing:
        steady = [k for k in variance_ratios if k not in changing]
        return "reproduced in part", (f"it stays within 2× for {', '.join(steady)} "
                                      f"({listed})")
    return "not reproduced", f"the variance stays within 2× in every setting ({listed})"


def decide_i1(n_in: int, n_out: int, measured_variance: float,
              checks_per_seed: list[dict[str, bool]]) -> tuple[str, str]:
    glorot, lecun = 2 / (n_in + n_out), 1 / n_in
    matches_glorot = abs(measured_variance / glorot - 1) < 0.05
    differs_from_note = abs(measured_variance / lecun - 1) > 0.2
    held = [sum(checks.values()) for checks in checks_per_seed]
    figures = (f"Var = {measured_variance:.5f} on a {n_in}→{n_out} layer: 2/(n_in+n_out) = "
               f"{glorot:.5f}, 1/n_in = {lecun:.5f}; Glorot's checks held per seed: {held}")
    if min(held) == 0:
        return "not reproduced", f"some seed reproduces none of the paper's statistics; {figures}"
    if abs(measured_variance / lecun - 1) < 0.05:
        return "reproduced", figures
    if matches_glorot and differs_from_note:
        return "corrected", ("Glorot/Xavier's variance is 2/(n_in+n_out); 1/n_in is only its "
                             f"forward condition; {figures}")
    return "not reproduced", figures


def decide_i2(final_std_ratios: list[float], he_accuracy: list[float],
              one_over_n_accuracy: list[float], target: float) -> tuple[str, str]:
    """Per seed: std(last layer, 1/n) / std(last layer, He); best accuracy of each."""
    signal = all(r < 1e-2 for r in final_std_ratios)
    training = all(h >= target and o < target - 0.2
                   for h, o in zip(he_accuracy, one_over_n_accuracy))
    figures = (f"std ratio 1/n : He at the last layer {max(final_std_ratios):.1e} (largest); "
               f"best accuracy He {min(he_accuracy):.2f}+, 1/n {max(one_over_n_accuracy):.2f}"
               f" at most (target {target})")
    if signal and training:
        return "reproduced", figures
    if signal:
        return "reproduced in part", "the signal vanishes with 1/n, but " + figures
    return "not reproduced", figures
