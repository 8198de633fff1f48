"""The BatchNorm lessons (04, 05, 06, 08, 09): their decision rules on synthetic numbers, and
each lesson run once in quick mode (``lesson_results``), checking that every verdict recorded
is the one its rule gives on the recorded numbers, and the facts that hold whatever the
verdict (the hand-derived backward, the §3.3 identity, fold equality, parameter counts).
No test asserts that an experiment's outcome is a particular verdict."""

from __future__ import annotations

import math
import sys

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

from _tutorial_runner import TUTORIALS, lesson_results, restore_numbers  # noqa: E402

sys.path.insert(0, str(TUTORIALS))
import _rules_04  # noqa: E402
import _rules_05  # noqa: E402
import _rules_06  # noqa: E402
import _rules_08  # noqa: E402
import _rules_09  # noqa: E402

INF = math.inf

# --------------------------------------------------------------------------------------
# The rules, on synthetic numbers: each verdict flips where the stated rule says
# --------------------------------------------------------------------------------------


def test_rule_b10_flips() -> None:
    assert _rules_04.decide_b10(100, 2, 200, 200)[0] == "corrected"
    assert _rules_04.decide_b10(100, 2, 2, 0)[0] == "reproduced"
    assert _rules_04.decide_b10(100, 3, 300, 0)[0] == "not reproduced"


def test_rule_b7_flips() -> None:
    population = [0.98, 0.98]
    wide = {"0.01": [0.98, 0.98], "0.1": [0.98, 0.975], "1.0": [0.90, 0.9]}
    narrow = {"0.01": [0.90, 0.9], "0.1": [0.98, 0.975], "1.0": [0.90, 0.9]}
    assert _rules_04.decide_b7(wide, population)[0] == "reproduced in part"
    assert _rules_04.decide_b7(narrow, population)[0] == "reproduced"
    assert _rules_04.decide_b7({"0.1": [0.5, 0.5]}, population)[0] == "reproduced"


def test_rule_b1_lr_flips() -> None:
    assert _rules_05.decide_b1_lr([0.5, 0.5], [6.0, 8.0], 40)[0] == "reproduced"
    assert _rules_05.decide_b1_lr([0.5, 0.5], [2.0, 1.5], 40)[0] == "corrected"
    assert _rules_05.decide_b1_lr([0.5] * 3, [2.0, 2.0, 40.0], 40)[0] == "reproduced in part"
    assert _rules_05.decide_b1_lr([0.5, 0.5], [2.0, 0.4], 40)[0] == "not reproduced"
    assert _rules_05.decide_b1_lr([0.0, 0.5], [2.0, 2.0], 40)[0] == "not reproduced"


def test_rule_b1_steps_flips() -> None:
    assert _rules_05.decide_b1_steps([200, 300], [15, 20])[0] == "reproduced"
    assert _rules_05.decide_b1_steps([60, 70], [15, 20])[0] == "reproduced in part"
    assert _rules_05.decide_b1_steps([60, 10], [15, 20])[0] == "not reproduced"
    assert _rules_05.decide_b1_steps([60, 70], [15, INF])[0] == "not reproduced"
    assert _rules_05.decide_b1_steps([60, 20], [15, 20])[0] == "no difference"


def test_rule_b2_flips() -> None:
    assert _rules_05.decide_b2(1e-11, [0.9, 0.9], [0.1, 0.1])[0] == "reproduced"
    assert _rules_05.decide_b2(1e-11, [0.9, 0.05], [0.1, 0.1])[0] == "reproduced in part"
    assert _rules_05.decide_b2(1e-11, [0.1, 0.1], [0.5, 0.5])[0] == "not reproduced"
    assert _rules_05.decide_b2(1e-3, [0.9, 0.9], [0.1, 0.1])[0] == "not reproduced"


def test_rule_b3_flips() -> None:
    good = dict(plain_steps=[200, 220], bn_steps=[30, 30], plain_drift=[2, 2],
                bn_drift=[0.4, 0.5], plain_first_over_last=[0.05, 0.1],
                bn_first_over_last=[1.0, 1.2])
    assert _rules_05.decide_b3(**good)[0] == "reproduced"
    assert _rules_05.decide_b3(**{**good, "plain_first_over_last": [0.6, 0.7]})[0] \
        == "reproduced in part"
    assert _rules_05.decide_b3(**{**good, "bn_steps": [300, 300], "bn_drift": [3, 3],
                                  "bn_first_over_last": [0.01, 0.01]})[0] == "not reproduced"


def test_rules_06_flip() -> None:
    def check(saturation, spread, update):
        return {"max_saturation": saturation, "activation_std_spread": spread,
                "grad_std_spread": spread, "update_log10_distance_from_-3": update,
                "mean_val_accuracy": 0.9}

    checks = {"too large": check(0.8, 2, 2.0), "too small": check(0.0, 1e4, 2.0),
              "gain 5/3": check(0.05, 1.2, 0.5), "too large + BN": check(0.05, 1.2, 0.5)}
    assert _rules_06.decide_diagnostics(checks)[0] == "reproduced"
    assert _rules_06.decide_update_ratio(checks)[0] == "reproduced"
    partly = {**checks, "too large": check(0.8, 2, 0.5)}
    assert _rules_06.decide_update_ratio(partly)[0] == "reproduced in part"
    missed = {**checks, "too large": check(0.1, 2, 2.0)}
    assert _rules_06.decide_diagnostics(missed)[0] == "reproduced in part"
    blind = {**missed, "too small": check(0.0, 2, 2.0)}
    assert _rules_06.decide_diagnostics(blind)[0] == "not reproduced"


def test_rule_b4_flips() -> None:
    neither = [0.30, 0.32, 0.31, 0.29, 0.30]
    narrower = [0.10, 0.12, 0.11, 0.10, 0.09]
    acc = [0.97, 0.975, 0.97, 0.968, 0.972]
    assert _rules_08.decide_b4(narrower, neither, acc, acc)[0] == "reproduced"
    worse = [a - 0.05 for a in acc]
    assert _rules_08.decide_b4(narrower, neither, worse, acc)[0] == "reproduced in part"
    assert _rules_08.decide_b4([0.5, 0.52, 0.51, 0.5, 0.49], neither, acc, acc)[0] \
        == "not reproduced"
    noisy = [0.40, 0.20, 0.35, 0.25, 0.30]
    assert _rules_08.decide_b4(noisy, neither, acc, acc)[0] == "no difference"


def test_rule_b5_flips() -> None:
    sizes = [2, 4, 8, 16, 64]
    zero = [0.1, -0.1, 0.05, -0.05]
    up = [5.0, 6.0, 5.5, 6.5]
    exact = {"2": up, "4": up, "8": up, "16": zero, "64": [0.0] * 4}
    assert _rules_08.decide_b5(sizes, exact)[0] == "reproduced"
    assert _rules_08.decide_b5(sizes, {**exact, "8": zero})[0] == "reproduced in part"
    assert _rules_08.decide_b5(sizes, {str(b): zero for b in sizes})[0] == "not reproduced"


def test_08_panel_reading_says_only_what_was_measured() -> None:
    """Lesson 8 once said, by hand, that the un-normalised net has the highest error at every
    batch size; the committed full run has BN's above it at batch 2. The sentence is now chosen
    from the numbers."""
    import json

    committed = json.loads((TUTORIALS / "figures" / "08_results.json").read_text())
    errors = committed["B5"]["error_percent"]
    reading = _rules_08.highest_error_reading(errors)
    worst_at_2 = max(errors, key=lambda net: sum(errors[net]["2"]))
    assert ("at every batch size" in reading) == (worst_at_2 == "none"), reading
    same = {"none": {"4": [30.0, 31.0], "64": [29.0, 30.0]},
            "BatchNorm": {"4": [9.0, 9.5], "64": [5.0, 5.5]},
            "GroupNorm": {"4": [5.0, 5.2], "64": [5.5, 5.0]}}
    assert "at every batch size" in _rules_08.highest_error_reading(same)
    flipped = {**same, "BatchNorm": {"4": [40.0, 41.0], "64": [5.0, 5.5]}}
    reading = _rules_08.highest_error_reading(flipped)
    assert "at batch sizes 64" in reading and "BatchNorm at 4" in reading, reading


def test_rule_b11_flips() -> None:
    plain = [1.0, 1.2, 0.9]
    smaller = [0.3, 0.35, 0.28]
    larger = [3.0, 3.5, 2.8]
    assert _rules_08.decide_b11(plain, smaller, plain, smaller)[0] == "reproduced"
    assert _rules_08.decide_b11(plain, smaller, plain, [1.0, 1.1, 0.95])[0] \
        == "reproduced in part"
    assert _rules_08.decide_b11(plain, larger, plain, smaller)[0] == "not reproduced"
    assert _rules_08.decide_b11(plain, [1.1, 1.0, 1.0], plain, [0.9, 1.3, 0.85])[0] \
        == "no difference"


def test_rule_b8_flips() -> None:
    steps = {"CNN": {"plain": [20, 20], "bn": [10, 10]}, "ResCNN": {"plain": [30, 25],
                                                                   "bn": [15, 20]}}
    lrs = {"CNN": {"plain": [0.8, 0.8], "bn": [1.6, 1.6]}, "ResCNN": {"plain": [0.8, 0.8],
                                                                     "bn": [1.6, 3.2]}}
    assert _rules_09.decide_b8(steps, lrs)[0] == "reproduced"
    lower = {**lrs, "ResCNN": {"plain": [0.8, 1.6], "bn": [0.4, 0.8]}}
    assert _rules_09.decide_b8(steps, lower)[0] == "reproduced in part"
    flipped = {k: {"plain": v["bn"], "bn": v["plain"]} for k, v in steps.items()}
    flipped_lr = {k: {"plain": v["bn"], "bn": v["plain"]} for k, v in lrs.items()}
    assert _rules_09.decide_b8(flipped, flipped_lr)[0] == "not reproduced"


def test_rule_b9_flips() -> None:
    folded_free = [1.0, 0.98, 1.02, 1.01]
    assert _rules_09.decide_b9([1.1, 1.12, 1.09, 1.11], folded_free)[0] == "reproduced"
    assert _rules_09.decide_b9([1.1, 1.12, 1.09, 1.11], [1.5, 1.6, 1.55, 1.5])[0] \
        == "reproduced in part"
    assert _rules_09.decide_b9([2.0, 2.1, 1.9, 2.05], folded_free)[0] == "corrected"
    assert _rules_09.decide_b9([0.8, 1.3, 0.9, 1.2], folded_free)[0] == "no difference"
    assert _rules_09.decide_b9([0.8, 0.82, 0.79, 0.81], folded_free)[0] == "not reproduced"


# --------------------------------------------------------------------------------------
# Every recorded verdict is what its rule gives on the recorded numbers
# --------------------------------------------------------------------------------------

RULES = {"B10": _rules_04.B10, "B7": _rules_04.B7, "B1": _rules_05.B1_LR,
         "B1-steps": _rules_05.B1_STEPS, "B2": _rules_05.B2, "B3": _rules_05.B3,
         "diagnostics": _rules_06.DIAGNOSTICS, "update-ratio": _rules_06.UPDATE_RATIO,
         "B4": _rules_08.B4, "B5": _rules_08.B5, "B11": _rules_08.B11, "B8": _rules_09.B8,
         "B9-MLP": _rules_09.B9, "B9-CNN": _rules_09.B9}
EXPECTED_CLAIMS = {"04": {"B10", "B7"}, "05": {"B1", "B1-steps", "B2", "B3"},
                   "06": {"diagnostics", "update-ratio"}, "08": {"B4", "B5", "B11"},
                   "09": {"B8", "B9-MLP", "B9-CNN"}}
SCRIPTS = {"04": "04_batchnorm_from_scratch.py", "05": "05_what_batchnorm_buys.py",
           "06": "06_debugging_with_diagnostics.py", "08": "08_batchnorm_in_practice.py",
           "09": "09_batchnorm_cnns_and_cost.py"}


@pytest.mark.parametrize("lesson", sorted(SCRIPTS))
def test_every_verdict_is_the_one_its_rule_chooses(lesson: str) -> None:
    verdicts = lesson_results(SCRIPTS[lesson])["verdicts"]
    assert set(verdicts) == EXPECTED_CLAIMS[lesson]
    for claim, recorded in verdicts.items():
        rule = RULES[claim]
        assert recorded["rule"] == rule.statement
        again = rule(**restore_numbers(recorded["measured"]))
        # (the reason is not compared: the results file sorts dict keys, so its wording of
        # per-network lists may come out in another order)
        assert again.verdict == recorded["verdict"], (claim, again.why, recorded["why"])


# --------------------------------------------------------------------------------------
# Lesson 4: BatchNorm from the ground up (claim B7 of docs/claims.md)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lesson4() -> dict:
    return lesson_results("04_batchnorm_from_scratch.py")


def test_04_forward_and_hand_derived_backward_match_the_engine(lesson4: dict) -> None:
    r = lesson4["forward_backward"]
    assert r["forward_error"] < 1e-12  # the six steps by hand = F.batch_norm
    for key in ("dx_error", "dgamma_error", "dbeta_error"):  # the hand formula = the engine
        assert r[key] < 1e-12, key
    assert r["gradcheck"] is True
    # dx is orthogonal to the all-ones direction exactly, and to x̂ up to O(eps/var).
    assert r["sum_dx"] < 1e-12
    assert r["sum_dx_xhat"] < 1e-2


def test_04_gradient_paths_add_up_and_branches_cancel_part_of_direct(lesson4: dict) -> None:
    r = lesson4["paths"]
    assert r["assembly_error"] < 1e-12  # direct + variance + mean = dL/dx
    direct = r["direct (x_hat -> centred)"]
    # The branches are not negligible, and they remove part of the direct gradient.
    assert r["variance (squared -> centred)"] > 0.05 * direct
    assert r["mean (mean -> x)"] > 0.05 * direct
    assert r["total"] < direct


def test_04_composed_and_fused_agree_and_train_differs_from_eval(lesson4: dict) -> None:
    agreement = lesson4["composed_vs_fused"]
    assert agreement["float64_train"] < 1e-10 and agreement["float64_eval"] < 1e-10
    assert agreement["float32_train"] < 1e-5 and agreement["float32_eval"] < 1e-5
    r = lesson4["train_vs_eval"]
    assert r["train_difference"] > 1e-3  # batch-mates change an example's output in training
    assert r["eval_difference"] == 0.0  # ...but not in evaluation
    assert "more than 1 value per channel" in r["single_example_error"]


def test_04_B10_counts_and_B7_replay(lesson4: dict) -> None:
    counts = lesson4["B10"]
    assert counts["BatchNorm1d"] == {"features": 100, "parameter_tensors": 2,
                                     "parameter_values": 200, "buffer_values": 200}
    assert counts["BatchNorm2d"]["parameter_values"] == 64
    for row in lesson4["B7"]["per_seed"]:
        assert row["replay_error"] < 1e-5  # replaying momentum 0.1 gives the module's buffers


def test_05_identity_and_scan_facts() -> None:
    r = lesson_results(SCRIPTS["05"])
    assert r["B2"]["identity_error"]["1e-12"] < 1e-8  # §3.3: exact up to rounding when eps ~ 0
    assert r["B2"]["identity_error"]["1e-05"] > r["B2"]["identity_error"]["1e-12"]
    b1 = r["B1"]
    for variant in ("plain", "bn"):  # the best rate is one at which the net trained
        for lr, highest in zip(b1[variant]["best_lr"], b1[variant]["highest_stable_lr"]):
            assert lr <= highest
    assert len(r["B3"]["plain"]["drift"]) == len(r["B3"]["seeds"])


def test_06_gain_is_five_thirds() -> None:
    assert math.isclose(lesson_results(SCRIPTS["06"])["diagnostics"]["tanh_gain"], 5 / 3)


def test_06_exercises_answer_from_the_run() -> None:
    r = lesson_results(SCRIPTS["06"])
    # One SGD step is lr x grad with grad independent of lr: 10x the rate is +1 in log10.
    assert all(abs(change - 1.0) < 1e-5 for change in r["exercise_update_ratio_change"])
    # Exercise 1: the same seed draws the same weights, scaled by the gain, so every
    # pre-activation at a = 5 is 3x its value at a = 5/3: more units saturate, in the
    # measurement and in the Gaussian prediction.
    large, right = r["exercise_saturation"]["a = 5"], r["exercise_saturation"]["a = 5/3"]
    assert large["measured"] > right["measured"] and large["predicted"] > right["predicted"]


def test_09_folding_is_exact_at_inference() -> None:
    for name in ("MLP", "CNN"):
        assert lesson_results(SCRIPTS["09"])["B9"][name]["fold_max_abs_difference"] < 1e-4


@pytest.mark.parametrize("lesson,figures", [("04", 3), ("05", 3), ("06", 4), ("08", 3),
                                            ("09", 2)])
def test_figures_are_written_and_shown_inline(lesson: str, figures: int) -> None:
    results = lesson_results(SCRIPTS[lesson])
    assert len([f for f in results["_figures"] if f.startswith(lesson)]) >= figures
    if results["_notebook"] is not None:  # run as a notebook: figures displayed, not only saved
        shown = results["_notebook"]
        assert shown["image/png"] + shown["image/svg+xml"] >= figures
    if lesson == "05":  # the gradient-flow view: the explorer page, or graphs without it
        assert results["B3_flow_view"] in ("explorer", "draw_graph")
        if results["_notebook"] is not None and results["B3_flow_view"] == "explorer":
            assert results["_notebook"]["text/html"] >= 1


def test_09_timed_blocks_take_turns_going_first() -> None:
    """Lesson 9 timed the BN net before the plain one in every block (and the plain net first
    at inference): any cost of going first fell on one side of every ratio. `in_turn` rotates
    the order, so that each goes first equally often over the blocks."""
    from _train_bn import in_turn

    assert [in_turn(["bn", "plain"], block)[0] for block in range(4)] == ["bn", "plain"] * 2
    firsts = [in_turn(["plain", "bn", "folded"], block)[0] for block in range(12)]
    assert all(firsts.count(name) == 4 for name in ("plain", "bn", "folded"))
    assert sorted(in_turn(["a", "b", "c"], 5)) == ["a", "b", "c"]
    source = (TUTORIALS / "09_batchnorm_cnns_and_cost.py").read_text(encoding="utf-8")
    assert source.count("in_turn(") == 2  # the training pair and the three at inference
