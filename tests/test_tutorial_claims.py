"""docs/claims.md against the committed results of the last full runs
(tutorials/figures/NN_results.json): every claim B1–B11, I1–I9 is stated, names the lesson
that tests it, and quotes the verdict that lesson recorded — which is the verdict today's
rule chooses from the recorded numbers."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
sys.path.insert(0, str(TUTORIALS))

from _tutorial_runner import all_rules, restore_numbers  # noqa: E402
from _verdict import VERDICTS  # noqa: E402

CLAIMS = [f"B{n}" for n in range(1, 12)] + [f"I{n}" for n in range(1, 10)]


def _sections() -> dict[str, str]:
    """claims.md's text under each "### B1 — ..." heading."""
    text = (ROOT / "docs" / "claims.md").read_text(encoding="utf-8")
    parts = re.split(r"^### ([BI]\d+) — ", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def _recorded() -> dict[str, tuple[str, dict]]:
    """{claim as recorded (B1, B1-steps, B9-MLP, ...): (lesson number, its record)}."""
    found = {}
    for path in sorted((TUTORIALS / "figures").glob("[0-9][0-9]_results.json")):
        for claim, record in json.loads(path.read_text()).get("verdicts", {}).items():
            found[claim] = (path.name[:2], record)
    return found


def _base(claim: str) -> str:
    return claim.split("-")[0]


def test_every_claim_has_a_section_and_a_recorded_verdict() -> None:
    sections, recorded = _sections(), _recorded()
    assert sorted(sections) == sorted(CLAIMS)
    missing = [c for c in CLAIMS if not any(_base(r) == c for r in recorded)]
    assert not missing, f"no committed results file records {missing}"


@pytest.mark.parametrize("claim", CLAIMS)
def test_claims_md_names_the_lesson_and_quotes_its_verdict(claim: str) -> None:
    section = _sections()[claim]
    records = {name: value for name, value in _recorded().items() if _base(name) == claim}
    lessons = {int(lesson) for lesson, _ in records.values()}
    named = {int(n) for n in re.findall(r"\*\*Experiment\.\*\* Lesson (\d+)", section)}
    assert named == lessons, (f"{claim}: claims.md names lesson {named}, the results are of "
                              f"{lessons}")
    verdict_line = section[section.index("- **Verdict"):].split("\n- ")[0]
    quoted = {word for word in re.findall(r"\*\*([a-z ]+)\*\*", verdict_line) if word in VERDICTS}
    recorded = {record["verdict"] for _, record in records.values()}
    assert quoted == recorded, (f"{claim}: claims.md quotes {quoted}, the committed run "
                                f"recorded {recorded}")


def _decide(claim: str):
    import _rules_03
    import _rules_04
    import _rules_05
    import _rules_06
    import _rules_07
    import _rules_08
    import _rules_09
    import _rules_10

    by_claim = {"B1": _rules_05.decide_b1_lr, "B1-steps": _rules_05.decide_b1_steps,
                "B9-MLP": _rules_09.decide_b9, "B9-CNN": _rules_09.decide_b9,
                "update-ratio": _rules_06.decide_update_ratio,
                "diagnostics": _rules_06.decide_diagnostics}
    if claim in by_claim:
        return by_claim[claim]
    name = f"decide_{claim.lower()}"
    for module in (_rules_03, _rules_04, _rules_05, _rules_07, _rules_08, _rules_09, _rules_10):
        if hasattr(module, name):
            return getattr(module, name)
    raise KeyError(claim)


@pytest.mark.parametrize("claim", sorted(_recorded()))
def test_the_committed_verdict_is_what_the_rule_chooses_today(claim: str) -> None:
    pytest.importorskip("scipy")  # the rules' confidence intervals (the tutorials extra)
    _, record = _recorded()[claim]
    measured = restore_numbers(record["measured"])
    if claim == "I5":  # its decide function reads depths as numbers, JSON keys are strings
        for kind in ("orthogonal", "gaussian"):
            measured[kind] = {int(depth): steps for depth, steps in measured[kind].items()}
    verdict, why = _decide(claim)(**measured)
    assert verdict == record["verdict"], (claim, why, record["why"])


def _statements() -> dict[str, str]:
    """{claim: the rule statement today's code prints before the experiment}."""
    return {claim: statement for claim, statement, _ in all_rules()}


@pytest.mark.parametrize("claim", sorted(_recorded()))
def test_the_committed_rule_text_is_todays(claim: str) -> None:
    """A results file records the rule as it was printed; once a rule's wording changes, the
    committed file quotes a rule no lesson states any more: regenerate it
    (``python tutorials/make_figures.py NN``)."""
    _, record = _recorded()[claim]
    statements = _statements()
    if claim not in statements and _base(claim) not in statements:
        pytest.skip(f"{claim} is not one of the claims' rules (a lesson's own check)")
    today = statements.get(claim, statements.get(_base(claim)))
    assert record["rule"] == today, (
        f"{claim}: tutorials/figures/ records an older text of its rule; regenerate it with "
        f"python tutorials/make_figures.py {_recorded()[claim][0]}")


def _intervals(text: str) -> list[str]:
    """Every "[low, high]" in `text`, with typographic minus signs made ASCII."""
    return re.findall(r"\[[-+]?\d[\d.]*, [-+]?\d[\d.]*\]", text.replace("−", "-"))


@pytest.mark.parametrize("claim", CLAIMS)
def test_claims_md_quotes_the_recorded_intervals(claim: str) -> None:
    """A confidence interval quoted in a verdict is the one the committed run printed, digit for
    digit (an interval copied from an older run is a stale number)."""
    section = _sections()[claim]
    verdict_line = section[section.index("- **Verdict"):].split("\n- ")[0]
    quoted = _intervals(" ".join(verdict_line.split()))
    printed = {interval for name, (_, record) in _recorded().items() if _base(name) == claim
               for interval in _intervals(record["why"])}
    stale = [interval for interval in quoted if interval not in printed]
    assert not stale, (f"{claim}: claims.md quotes {stale}, which the committed run did not "
                       f"print (it printed {sorted(printed)})")


def _run_date(lesson: int) -> str | None:
    """The UTC date of the run in ``tutorials/figures/NN_results.json``: the day of the commit
    that last changed it, or the file's own date while it has uncommitted changes. None outside
    a git checkout, in a shallow clone (whose history stops short) or without git."""
    import datetime
    import os
    import subprocess

    path = f"tutorials/figures/{lesson:02d}_results.json"
    try:
        shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=ROOT,
                                 capture_output=True, text=True, check=True).stdout.strip()
        if shallow != "false":  # a shallow clone: every file's last commit is the newest one
            return None
        changed = subprocess.run(["git", "status", "--porcelain", "--", path], cwd=ROOT,
                                 capture_output=True, text=True, check=True).stdout.strip()
        if changed:
            stamp = (ROOT / path).stat().st_mtime
            return datetime.datetime.fromtimestamp(stamp, datetime.UTC).date().isoformat()
        return subprocess.run(["git", "log", "-1", "--format=%ad",
                               "--date=format-local:%Y-%m-%d", "--", path], cwd=ROOT,
                              capture_output=True, text=True, check=True,
                              env=dict(os.environ, TZ="UTC")).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


@pytest.mark.parametrize("claim", CLAIMS)
def test_claims_md_dates_the_committed_run(claim: str) -> None:
    """"full run of <date>" is the day the committed results were made: B8 still said
    2026-12-01 after lesson 9 had been regenerated (same numbers) on 2026-12-02."""
    section = _sections()[claim]
    verdict_line = " ".join(section[section.index("- **Verdict"):].split("\n- ")[0].split())
    quoted = set(re.findall(r"full run[^)]*?(\d{4}-\d\d-\d\d)", verdict_line))
    lessons = {int(n) for n in re.findall(r"\*\*Experiment\.\*\* Lesson (\d+)", section)}
    dates = {_run_date(lesson) for lesson in lessons}
    if None in dates:
        pytest.skip("not a full git checkout (none, or a shallow clone): the date of the "
                    "committed results is unknown")
    assert quoted == dates, (f"{claim}: claims.md dates its verdict {sorted(quoted)}, the "
                             f"committed results of lesson {sorted(lessons)} are of "
                             f"{sorted(dates)}: quote the run the numbers come from")
