"""The bad-input suite (#11): hostile arguments for every public function and class.

Each entry of SPECS (tests/bad_input_specs.py) is one public callable with a valid call (each
argument tagged with its kind) and a reference: PyTorch where importable and it is the
natural oracle, else NumPy. Hypothesis replaces one argument by a hostile value of its kind
(wrong types, shapes and dtypes, NaN/Inf, empty and huge sizes). Every call must either

* be refused with a TypeError/ValueError whose message names the function (MemoryError too,
  for a shape too big for the machine), or
* be accepted with the reference's result (a reference that raises means the input was
  invalid, so accepting it is a silent wrong answer).

`test_every_public_name_is_covered` lists the namespaces programmatically: a new public
name fails it until it gets a spec or a commented entry in SKIPPED.
"""

from __future__ import annotations

import inspect
import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
from bad_input_specs import SKIPPED, SPECS, Spec, T
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.nn import init

COUNTS: Counter = Counter()
LEFT: list[str] = []


def public_names() -> set[str]:
    """Callables defined by minigrad in each public namespace (imports of typing etc. and
    helpers imported from elsewhere excluded)."""
    import minigrad.data as data
    import minigrad.optim as optim
    names = set()
    for prefix, module in (("mg", mg), ("nn", nn), ("F", F), ("init", init),
                           ("optim", optim), ("data", data), ("viz", mg.viz)):
        listed = getattr(module, "__all__", None) or dir(module)
        for name in listed:
            value = getattr(module, name, None)
            if (name.startswith("_") or not callable(value) or inspect.ismodule(value)
                    or not getattr(value, "__module__", "").startswith("minigrad")):
                continue
            if prefix == "F" and name in ("check_reduction", "dtype_mismatch", "expect_tensor",
                                          "pair", "Tensor"):
                continue  # helpers imported into functional.py, not part of F's API
            if prefix in ("data", "optim") and name in ("Tensor", "default_generator"):
                continue
            names.add(f"{prefix}.{name}")
    return names


def test_every_public_name_is_covered():
    specified = {spec.name for spec in SPECS}
    assert not specified & SKIPPED, "a name is both specified and skipped"
    covered = specified | SKIPPED
    missing = sorted(public_names() - covered)
    assert not missing, f"public names with no bad-input spec and no SKIPPED entry: {missing}"


# -- hostile values ------------------------------------------------------------------------------

def hostile_tensor(valid: mg.Tensor) -> st.SearchStrategy:
    data = valid.data
    return st.sampled_from([
        data, data.tolist(), None, "x", object(), {"a": 1},
        mg.tensor(data.astype(np.int64)), mg.tensor(data > 0), mg.tensor(data, dtype=np.float64),
        mg.tensor(np.full_like(data, np.nan)), mg.tensor(np.full_like(data, np.inf)),
        mg.tensor(np.zeros((0,) + data.shape[1:], np.float32)),
        mg.tensor(np.zeros(data.shape[:-1] + (0,), np.float32)),
        mg.tensor(np.float32(1.5)), mg.tensor(data[..., None]),
        mg.tensor(np.ones((1,) * 6, np.float32)),
    ])


HOSTILE = {
    "axis": st.sampled_from([None, 1.5, "0", 99, -99, True, [0], np.int64(0)]),
    "size": st.sampled_from([None, 2.5, "3", -1, 0, 10**12, True, np.int64(3), [2]]),
    "number": st.sampled_from([None, "a", float("nan"), float("inf"), -1e300, True,
                               np.float32(2), [1.0], mg.tensor(1.0)]),
    "dtype": st.sampled_from(["U3", object, None, "no-such-type", np.int32, bool, "float16",
                              np.dtype([("a", "f4")]), complex]),
    "labels": st.sampled_from([np.array([0, 2, 1, 3]), np.array([0.0, 2.0, 1.0, 1.0]),
                               np.array([0, 1]), np.array([[0], [2], [1], [1]]), [0, 2, 1, 1],
                               None, "0121", np.array([-1, 0, 0, 0])]),
    "target": st.sampled_from([np.zeros(3, np.float32), np.zeros((4, 1), np.float32), None,
                               "abcd", np.array([np.nan] * 4), [1, 2, 3, 4],
                               np.zeros(4, np.int64)]),
    "tensors": st.sampled_from([mg.zeros(2, 3), np.zeros((2, 3)), [], [mg.zeros(2, 3), "a"],
                                [mg.zeros(2, 3), mg.zeros(2, 4)], [mg.tensor(1.0)], None,
                                "ab", [mg.zeros(2, 3), np.ones((1, 3), np.float32)]]),
}


def plain(value: Any) -> Any:
    if isinstance(value, mg.Tensor):
        return value.data
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def words_of(spec: Spec) -> tuple[str, ...]:
    return spec.words or (spec.name.split(".")[-1],)


def check_one(spec: Spec, position: int, value: Any) -> None:
    args = [factory() for _, factory in spec.args]
    args[position] = value
    COUNTS["tried"] += 1
    label = f"{spec.name} with argument {position} = {value!r:.60}"
    try:
        result = spec.call(*args)
    except (TypeError, ValueError, MemoryError) as error:
        # MemoryError: a shape too big for this machine (PyTorch: "not enough memory").
        message = str(error)
        if any(word.lower() in message.lower() for word in words_of(spec)):
            COUNTS["refused clearly"] += 1
            return
        LEFT.append(f"{label}: unclear {type(error).__name__}: {message:.120}")
        return
    except Exception as error:  # noqa: BLE001 (what the suite exists to catch)
        LEFT.append(f"{label}: raw {type(error).__name__}: {error!s:.120}")
        return
    try:
        expected = spec.reference(*[plain(a) for a in args])
    except Exception:  # noqa: BLE001
        LEFT.append(f"{label}: accepted, but the reference refuses it")
        return
    got = plain(result)
    if got is expected:  # nn.Identity passes anything through, as PyTorch's does
        COUNTS["accepted correctly"] += 1
        return
    expected = np.asarray(expected)
    if spec.shape_only:
        ok = np.shape(got) == expected.shape and bool(np.isfinite(got).all()) == bool(
            np.isfinite(expected).all())
    else:
        ok = (np.shape(got) == expected.shape and np.allclose(
            np.asarray(got, dtype=np.float64), expected.astype(np.float64), rtol=1e-4,
            atol=1e-5, equal_nan=True))
    if ok:
        COUNTS["accepted correctly"] += 1
    else:
        LEFT.append(f"{label}: accepted with a wrong result {got!r:.60} != {expected!r:.60}")


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
@given(data=st.data())
def test_hostile_arguments_are_refused_clearly_or_computed_right(spec, data):
    position = data.draw(st.integers(0, len(spec.args) - 1), label="argument")
    kind, factory = spec.args[position]
    if kind in (T, "weight"):
        strategy = hostile_tensor(factory())
        if spec.name.startswith("Tensor.") and position == 0:  # `self` is always a Tensor
            strategy = strategy.filter(lambda value: isinstance(value, mg.Tensor))
    else:
        strategy = HOSTILE[kind]
    before = len(LEFT)
    check_one(spec, position, data.draw(strategy, label="value"))
    assert len(LEFT) == before, LEFT[-1]


def test_valid_calls_match_their_reference():
    """The table itself is right: every spec's valid call is accepted and matches."""
    for spec in SPECS:
        args = [factory() for _, factory in spec.args]
        before = len(LEFT)
        check_one(spec, 0, args[0])
        assert len(LEFT) == before, LEFT[-1]


def test_zz_report_counts():
    """Printed with ``pytest -s``: the figures for the issue's closing note."""
    print(f"\nbad-input suite: {COUNTS['tried']} inputs tried, {COUNTS['accepted correctly']} "
          f"accepted correctly, {COUNTS['refused clearly']} refused clearly, {len(LEFT)} left")
    for line in LEFT:
        print("LEFT:", line.replace("\n", " "))
    assert math.isfinite(COUNTS["tried"])
