"""The verdict machinery of the tutorials (tutorials/_verdict.py), on synthetic numbers."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tutorials"))
from _tutorial_runner import all_rules  # noqa: E402
from _verdict import Rule, intervals_overlap, mean_interval  # noqa: E402


def _decide(ratio: float) -> tuple[str, str]:
    if ratio >= 10:
        return "reproduced", f"ratio {ratio:g} >= 10"
    return "not reproduced", f"ratio {ratio:g} < 10"


def test_a_rule_chooses_and_records_the_verdict(capsys):
    rule = Rule("X1", "ten times better", "reproduced if the ratio is >= 10", _decide)
    results: dict = {}
    assert rule.report(results, ["ratio 12"], ratio=12.0).verdict == "reproduced"
    assert rule.report(results, ratio=3.0).verdict == "not reproduced"
    recorded = results["verdicts"]["X1"]
    assert recorded["verdict"] == "not reproduced" and recorded["measured"] == {"ratio": 3.0}
    assert "RULE" not in capsys.readouterr().out  # announce() is a separate, earlier step


def test_a_rule_refuses_a_word_that_is_not_a_verdict():
    rule = Rule("X2", "claim", "rule", lambda **_: ("probably", "because"))
    with pytest.raises(ValueError, match="not one of"):
        rule(value=1)


def test_mean_interval_and_overlap():
    mean, low, high = mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and low < 2.0 < high
    assert math.isclose(high - mean, 4.302652729911275 * 1.0 / math.sqrt(3), rel_tol=1e-9)
    assert intervals_overlap((1, 0, 2), (2.5, 1.5, 3.5))
    assert not intervals_overlap((1, 0, 2), (5, 4, 6))
    assert mean_interval([1.0, math.inf])[2] == math.inf


# --------------------------------------------------------------------------------------
# The rule printed before an experiment names every verdict its decide function can choose
# --------------------------------------------------------------------------------------

def _verdicts_returned(function) -> set[str]:
    """The verdict words `function` can return: the first item of every returned tuple
    (a string, or either branch of a conditional expression)."""
    import ast
    import inspect
    import textwrap

    from _verdict import VERDICTS

    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
            first = node.value.elts[0]
            options = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            for option in options:
                assert isinstance(option, ast.Constant) and option.value in VERDICTS, \
                    f"{function.__name__}: a returned verdict that is not a literal word"
                found.add(option.value)
    return found


@pytest.mark.parametrize("claim, statement, decide", all_rules(),
                         ids=[claim for claim, _, _ in all_rules()])
def test_the_stated_rule_names_every_verdict_it_can_choose(claim, statement, decide):
    returned = _verdicts_returned(decide)
    assert returned, f"{claim}: no verdict found in {decide.__name__}"
    text = statement.lower()
    # "reproduced" inside "not reproduced" or "reproduced in part" does not count for it.
    plain = text.replace("not reproduced", "").replace("reproduced in part", "")
    named = {word for word in returned
             if (word == "reproduced" and "reproduced" in plain)
             or (word == "reproduced in part" and ("reproduced in part" in text
                                                   or "in part" in text))
             or (word not in ("reproduced", "reproduced in part") and word in text)}
    assert named == returned, (f"{claim}: the rule stated before the experiment never names "
                               f"{sorted(returned - named)}, which {decide.__name__} can choose")


# --------------------------------------------------------------------------------------
# The lessons' environment variables
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["1,a", "-3", " , ", "1.5", "2\u00b2", "3,3,3", "3, 03"])
def test_a_bad_seeds_variable_names_itself_and_the_fix(value, monkeypatch):
    """MINIGRAD_TUTORIAL_SEEDS=" , " gave no seeds at all (the lesson then failed far away,
    on an empty list), "1,a" int()'s bare message, "-3" a NumPy error at the first draw,
    "2²" (isdigit() is True for '²') int()'s bare message, and "3,3,3" ran one seed three
    times: zero-width intervals that the "measurably different" rules then compared."""
    import _common

    monkeypatch.setenv("MINIGRAD_TUTORIAL_SEEDS", value)
    with pytest.raises(ValueError, match=r"MINIGRAD_TUTORIAL_SEEDS=.*Fix: e\.g\."):
        _common.seeds()


def test_repeated_seeds_are_named(monkeypatch):
    import _common

    monkeypatch.setenv("MINIGRAD_TUTORIAL_SEEDS", "1,3,3")
    with pytest.raises(ValueError, match=r"seed\(s\) \[3\] appear more than once"):
        _common.seeds()


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_seeds_variable_means_the_defaults(value, monkeypatch):
    """Like an empty MINIGRAD_TUTORIAL_QUICK or MINIGRAD_TUTORIAL_OUT (documented in
    _common.py and tutorials/README.md): `MINIGRAD_TUTORIAL_SEEDS=` clears the override."""
    import _common

    monkeypatch.setenv("MINIGRAD_TUTORIAL_SEEDS", value)
    assert _common.seeds(full=4, quick=2) == list(range(2 if _common.QUICK else 4))


def test_the_seeds_variable_replaces_the_seeds(monkeypatch):
    import _common

    monkeypatch.setenv("MINIGRAD_TUTORIAL_SEEDS", "3, 4,5,")
    assert _common.seeds() == [3, 4, 5]
    monkeypatch.delenv("MINIGRAD_TUTORIAL_SEEDS")
    assert _common.seeds(full=4, quick=2) == list(range(2 if _common.QUICK else 4))


def test_a_nan_measurement_chooses_no_verdict():
    """A NaN (a diverged run, a failed measurement) used to fall through every comparison of
    a rule to its last verdict: B4 and B9 said "reproduced" from a NaN."""
    import _rules_08
    import _rules_09

    nan = math.nan
    with pytest.raises(ValueError, match=r"Rule B4: .*NaN at gap_bn\[1\]"):
        _rules_08.B4(gap_bn=[0.1, nan, 0.2], gap_neither=[0.3] * 3, val_bn=[0.9] * 3,
                     val_dropout=[0.9] * 3)
    with pytest.raises(ValueError, match=r"Rule B9: .*NaN at train_ratios\[1\]"):
        _rules_09.B9(train_ratios=[1.1, nan, 1.2], folded_ratios=[1.0] * 3)
    nested = Rule("X3", "claim", "rule", lambda steps: ("reproduced", "ok"))
    with pytest.raises(ValueError, match=r"NaN at steps\.CNN\.bn\[0\]"):
        nested(steps={"CNN": {"plain": [1.0], "bn": [nan]}})
    assert nested(steps={"CNN": {"bn": [math.inf]}}).verdict == "reproduced"  # inf is a value
    with pytest.raises(ValueError, match="NaN among the values"):
        mean_interval([1.0, nan])


def test_a_rule_reads_zero_dimensional_arrays():
    """A 0-d array (np.array(1.0); a scalar tensor's `.data`, e.g. a loss) made the NaN guard
    iterate it: `TypeError: iteration over a 0-d array`. A 0-d NaN is still refused."""
    import numpy as np

    rule = Rule("X4", "claim", "rule", lambda a: ("reproduced", f"a = {a}"))
    assert rule(a=np.array(1.0)).verdict == "reproduced"
    assert rule(a={"x": [np.array(2, dtype=np.int64)]}).verdict == "reproduced"
    with pytest.raises(ValueError, match=r"Rule X4: .*NaN at a\.x\[0\]"):
        rule(a={"x": [np.array(math.nan)]})
    with pytest.raises(ValueError, match=r"Rule X4: .*NaN at a\b"):
        rule(a=np.array(math.nan, dtype=np.float32))


def test_lessons_assign_whole_results_values():
    """`RESULTS` writes its file on assignment: a nested edit (RESULTS["a"]["b"] = 1, or
    RESULTS["a"].append(...)) changes memory only, and is lost unless another assignment
    follows (lesson 4 relied on one)."""
    import re

    tutorials = Path(__file__).resolve().parent.parent / "tutorials"
    nested = re.compile(r"RESULTS\[[^\]]+\](?:\[[^\]]+\]\s*=[^=]|\.(?:append|extend|update|"
                        r"setdefault|pop)\()")
    found = [f"{path.name}:{number}" for path in sorted(tutorials.glob("[0-9][0-9]_*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if nested.search(line)]
    assert not found, f"nested edits of RESULTS (assign the whole value instead): {found}"
