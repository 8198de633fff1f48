"""Run every tutorial lesson in quick mode and check the relations its verdicts state.

Each lesson is run once, top to bottom, as a reader would run it (``python tutorials/NN_x.py``)
in a subprocess with ``MINIGRAD_TUTORIAL_QUICK=1`` (smaller sizes, three seeds) and
``MPLBACKEND=Agg``, writing into a temporary folder. The lesson records its measured numbers
in ``RESULTS`` (see tutorials/_common.py); the test functions read them back with
``lesson_results("NN_name.py")`` and assert each verdict's relation, with a margin, for every
seed. Add a lesson: one ``test_NN_...`` function (or a few) per lesson, below the others.
"""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"


@functools.lru_cache(maxsize=None)
def lesson_results(script: str) -> dict:
    """Run ``tutorials/<script>`` in quick mode (once per test session) and return its
    RESULTS, read from ``<tmp>/NN_results.json``. Fails with the lesson's output if it crashes."""
    out_dir = Path(tempfile.mkdtemp(prefix="minigrad_tutorial_"))
    env = dict(os.environ, MINIGRAD_TUTORIAL_QUICK="1", MINIGRAD_TUTORIAL_OUT=str(out_dir),
               MPLBACKEND="Agg", PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1")
    env.pop("MINIGRAD_TUTORIAL_SEEDS", None)
    completed = subprocess.run([sys.executable, str(TUTORIALS / script)], cwd=TUTORIALS.parent,
                               env=env, capture_output=True, text=True, timeout=600)
    if completed.returncode != 0:
        pytest.fail(f"{script} failed (exit {completed.returncode}):\n"
                    f"{completed.stdout[-3000:]}\n{completed.stderr[-5000:]}")
    number = script.split("_", 1)[0]
    results = json.loads((out_dir / f"{number}_results.json").read_text())
    results["_figures"] = sorted(p.name for p in out_dir.glob("*.png"))
    return results


def num(value: float | str) -> float:
    """A recorded number (the recorder stores inf/nan as the strings "inf"/"nan")."""
    return float(value)


# --------------------------------------------------------------------------------------
# Lesson 1: autograd from scratch
# --------------------------------------------------------------------------------------


def test_01_autograd_from_scratch() -> None:
    r = lesson_results("01_autograd_from_scratch.py")
    hand, engine = r["by_hand"], r["engine"]
    assert hand.keys() == engine.keys() and len(hand) >= 5
    for name in hand:  # the backward pass by hand gives the engine's gradients
        assert math.isclose(hand[name], engine[name], rel_tol=1e-9, abs_tol=1e-12), name
    for name, numeric in r["numeric"].items():  # ...and both match central differences
        assert math.isclose(engine[name], numeric, rel_tol=1e-5, abs_tol=1e-7), name
    # Visiting the nodes out of topological order gives a wrong gradient somewhere.
    wrong = r["wrong_order"]
    assert any(not math.isclose(wrong[k], engine[k], abs_tol=1e-9) for k in wrong)
    assert r["topological_order_valid"] and not r["wrong_order_valid"]
    assert "01_expression_graph.png" in r["_figures"] or r.get("graph_drawn") is False


# --------------------------------------------------------------------------------------
# Lesson 2: tensors, broadcasting, matmul, gradcheck
# --------------------------------------------------------------------------------------


def test_02_tensors_broadcasting_gradcheck() -> None:
    r = lesson_results("02_tensors_and_gradcheck.py")
    # Broadcasting's gradient is a sum over the broadcast axes.
    assert r["broadcast_grad_max_error"] < 1e-12
    assert r["bias_grad_equals_row_sum"]
    # dA = dC Bᵀ and dB = Aᵀ dC, by the engine and by the formula, against central differences.
    assert r["matmul_formula_vs_engine"] < 1e-12
    assert r["matmul_engine_vs_numeric"] < 1e-6
    assert r["gradcheck_correct_ops_pass"] is True
    # The deliberately wrong op is caught, and the error names it.
    assert r["gradcheck_wrong_op_caught"] is True
    assert "backward gives" in r["gradcheck_wrong_op_message"]


# --------------------------------------------------------------------------------------
# Lesson 3: weight initialisation (claims I7, I1, I2, I5, I6, I3 of CLAIMS.md)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lesson3() -> dict:
    return lesson_results("03_weight_initialisation.py")


def test_03_I7_zero_init_keeps_units_identical(lesson3: dict) -> None:
    r = lesson3["I7"]
    assert len(r["seeds"]) >= 3
    for seed_result in r["per_seed"]:
        # Constant init: every hidden unit keeps the same weights after training...
        assert seed_result["constant_spread"] < 1e-5
        # ...while random init gives units that differ.
        assert seed_result["random_spread"] > 1e-2


def test_03_I1_glorot_statistics(lesson3: dict) -> None:
    r = lesson3["I1"]
    assert len(r["seeds"]) >= 3
    for s in r["per_seed"]:
        # Standard init U[±1/√n]: activation spread shrinks with depth, normalised init keeps it.
        std_standard, std_normalised = s["activation_std"]["standard"], s["activation_std"]["normalised"]
        assert std_standard[-1] < 0.75 * std_standard[0]
        assert std_normalised[-1] > 0.75 * std_normalised[0]
        # The mean singular value of the layer Jacobians: ~0.5 vs ~0.8 in the paper.
        assert s["jacobian_singular_mean"]["standard"] < s["jacobian_singular_mean"]["normalised"] - 0.1
        # Back-propagated gradients: spread across layers larger with standard init.
        assert s["gradient_std_ratio"]["standard"] > 1.5 * s["gradient_std_ratio"]["normalised"]


def test_03_I2_he_trains_30_layer_relu_and_one_over_n_does_not(lesson3: dict) -> None:
    r = lesson3["I2"]
    assert len(r["seeds"]) >= 3
    for s in r["per_seed"]:
        # Signal: the last layer's activation std collapses with Var = 1/n, not with He.
        assert s["final_std"]["one_over_n"] < 1e-2 * s["final_std"]["he"]
        # Training: He reaches the target accuracy, 1/n does not.
        assert s["val_accuracy"]["he"] >= r["target"]
        assert s["val_accuracy"]["one_over_n"] < r["target"] - 0.2


def test_03_I5_orthogonal_products_stay_isometric(lesson3: dict) -> None:
    r = lesson3["I5"]
    assert len(r["seeds"]) >= 3
    for s in r["per_seed"]:
        # All singular values of a product of orthogonal matrices are 1...
        assert s["orthogonal_log10_condition"] < 1e-6
        # ...those of a product of Gaussian matrices spread over many orders of magnitude.
        assert s["gaussian_log10_condition"] > 5
        # Deep tanh net: orthogonal (gain 1.1) keeps the gradient nearer to constant across
        # depth than a Gaussian of the same variance.
        assert s["tanh_grad_spread"]["orthogonal"] < s["tanh_grad_spread"]["gaussian"]


def test_03_I6_lsuv_gives_unit_variance_and_trains(lesson3: dict) -> None:
    r = lesson3["I6"]
    assert len(r["seeds"]) >= 3
    for s in r["per_seed"]:
        # LSUV: every layer's output variance within its tolerance of 1 at init.
        assert max(abs(v - 1.0) for v in s["lsuv_layer_variance"]) < 0.1 + 1e-6
        # Xavier's variance 1/avg(fan) halves the signal every ReLU layer: it vanishes.
        assert s["final_std"]["xavier"] < 1e-2 * s["final_std"]["lsuv"]
        for init in ("he", "orthogonal", "lsuv"):
            assert s["val_accuracy"][init] > s["val_accuracy"]["xavier"] + 0.2


def test_03_I3_reports_the_measured_ratio(lesson3: dict) -> None:
    r = lesson3["I3"]
    assert len(r["seeds"]) >= 3
    steps_he = [num(v) for v in r["steps_he"]]
    steps_xavier = [num(v) for v in r["steps_xavier"]]
    assert all(math.isfinite(v) for v in steps_he + steps_xavier)  # both reach the target
    # The ratio the lesson reports is the one these step counts give.
    ratio = sum(steps_xavier) / sum(steps_he)
    assert math.isclose(num(r["ratio_xavier_over_he"]), ratio, rel_tol=1e-9)
    # The verdict states whether 1.3x was reached; it must follow from the measurement.
    assert r["verdict"] == ("reproduced" if ratio >= 1.3 else "not reproduced")
