"""Indexing errors name the op, the index, the shape and a fix that fits the mistake (a
float index is not "out of range"), and a ragged list index is refused by minigrad, not by
NumPy's array constructor."""

import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("index, fix", [
    (1.5, r"ints, slices.*x\.long\(\)"),
    (mg.tensor([0.0]), r"x\.long\(\)"),
    ([0.5], r"x\.long\(\)"),
    (5, "within its axis' length"),
    ((0, 0, 0), "at most one per axis"),
    (np.array([True, False]), "bool mask the shape"),
])
def test_an_index_error_gives_the_fix_for_its_kind(index, fix):
    x = mg.ones(3, 4, requires_grad=True)
    with pytest.raises(IndexError, match=rf"getitem: index .* shape \(3, 4\).*Fix: .*{fix}"):
        x[index]


def test_a_ragged_list_index_is_refused_naming_the_list():
    x = mg.ones(3, 4)
    with pytest.raises(IndexError, match=r"rows of different lengths.*Fix: .*x\[rows, cols\]"):
        x[[[0, 1], [0]]]
    with pytest.raises(IndexError, match=r"different lengths.*Fix") as refused:
        x[[[0, 1], [0]]] = 1.0
    assert str(refused.value).count("Fix:") == 1
    np.testing.assert_array_equal(x.data, np.ones((3, 4)))


def test_iterating_still_stops_at_the_end():
    rows = list(mg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert [row.tolist() for row in rows] == [[1.0, 2.0], [3.0, 4.0]]
