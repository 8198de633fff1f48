"""The recorder's batched statistics (`minigrad.viz.statistics`) equal NumPy's, array by array,
whatever the sizes, and the workspace's memory stays bounded."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest

from minigrad.viz import statistics
from minigrad.viz.spreads import Spreads
from minigrad.viz.statistics import (
    HIGH,
    LOW,
    MEAN,
    NORM,
    RMS,
    STD,
    WORKSPACE_ELEMENTS,
    Workspace,
    summarise,
)

BINS = 7


def _arrays(rng: np.random.Generator) -> list[np.ndarray | None]:
    """Sizes that need no padding, some, or a whole row of it; an all-equal array; arrays
    whose first element is their minimum or maximum (the padding's bin is then an edge)."""
    ramp = np.linspace(-1.0, 2.0, 45)
    return [
        rng.normal(size=(64, 32)).astype(np.float32),
        rng.normal(size=(3,)).astype(np.float32),
        None,
        np.full((5, 2), 0.25, dtype=np.float32),
        ramp,  # first element = the minimum
        ramp[::-1].copy(),  # first element = the maximum
        np.zeros(0),
        rng.uniform(-3, 3, size=(7, 9, 2)),
        np.array(4.5),  # a 0-d array (a scalar loss)
        rng.integers(-5, 5, size=(33,)),
        rng.normal(size=(1000,)).astype(np.float32) * 1e-6 + 1.0,  # |mean| >> std
    ]


@pytest.mark.parametrize("width", [None, 32, 1024])
@pytest.mark.parametrize("moments, squares_from", [(11, 0), (6, 4), (0, 11)])
def test_workspace_equals_numpy_array_by_array(moments, squares_from, width, monkeypatch):
    if width is not None:  # rows of one width: more padding or less (see Workspace)
        monkeypatch.setattr(statistics, "ROWS", (width,))
    rng = np.random.default_rng(0)
    arrays = _arrays(rng)
    workspace = Workspace(BINS)
    for _ in range(2):  # the second call reuses the layout
        found = workspace.compute(arrays, moments, squares_from)
        assert found is not None
        stats, counts = found
        assert stats.shape == (len(arrays), 6) and counts.shape == (len(arrays), BINS)
        for i, array in enumerate(arrays):
            if array is None or array.size == 0:
                assert np.isnan(stats[i]).all() and not counts[i].any()
                continue
            a = np.asarray(array, dtype=np.float64).ravel()
            assert stats[i, LOW] == a.min() and stats[i, HIGH] == a.max()
            low, high = a.min(), a.max()
            expected, _ = np.histogram(a, BINS, range=(low, high))
            np.testing.assert_array_equal(counts[i], expected, err_msg=f"array {i}")
            if i < moments:
                np.testing.assert_allclose(stats[i, MEAN], a.mean(), rtol=1e-9, atol=1e-12)
                np.testing.assert_allclose(stats[i, STD], a.std(), rtol=1e-9, atol=1e-12)
            else:
                assert np.isnan(stats[i, [MEAN, STD]]).all()
            if i >= squares_from:
                np.testing.assert_allclose(stats[i, NORM], np.linalg.norm(a), rtol=1e-12)
                np.testing.assert_allclose(stats[i, RMS], np.sqrt(np.mean(a * a)), rtol=1e-12)
            else:
                assert np.isnan(stats[i, [RMS, NORM]]).all()
    if moments > 3:  # an all-equal array has std 0 exactly (grad:data divides by it)
        assert stats[3, STD] == 0.0


def test_workspace_and_summarise_agree():
    arrays = _arrays(np.random.default_rng(1))
    stats, counts = Workspace(BINS).compute(arrays, len(arrays), 0)
    reference, reference_counts = summarise(arrays, BINS)
    np.testing.assert_allclose(stats, reference, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(counts, reference_counts)


def test_workspace_declines_what_it_cannot_do_and_summarise_does_it():
    workspace = Workspace(BINS)
    with_nan = [np.array([1.0, np.nan, 3.0])]
    assert workspace.compute(with_nan, 1, 0) is None  # summarise skips non-finite elements
    assert workspace.compute([np.ones(WORKSPACE_ELEMENTS + 1)], 1, 0) is None
    assert workspace.compute([1.5, 2.5], 2, 0) is None  # a Value graph's floats
    assert workspace.compute([np.ones(3, dtype=complex)], 1, 0) is None
    # ... and a declined call leaves it ready for the next good one.
    stats, _ = workspace.compute([np.arange(4.0)], 1, 0)
    assert stats[0, MEAN] == 1.5


def test_workspace_memory_is_bounded_whatever_the_tensor_sizes():
    tracemalloc.start()
    try:
        workspace = Workspace(30)
        for size in (10, 1000, WORKSPACE_ELEMENTS // 2, 10 * WORKSPACE_ELEMENTS):
            workspace.compute([np.ones(size), np.ones(size)], 1, 1)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # Two work arrays of at most WORKSPACE_ELEMENTS float64, plus small layout arrays.
    assert held < 2 * 8 * WORKSPACE_ELEMENTS * 1.1 + 100_000, held


def test_spreads_give_the_update_ratio():
    rng = np.random.default_rng(2)
    before = [rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=5), np.ones(2)]
    spreads = Spreads()
    for _ in range(2):
        spreads.keep(before)
        after = [b + rng.normal(size=b.shape) * 0.1 for b in before]
        after[2] = np.ones(2)  # std(after) = 0: no ratio
        expected = [np.std(np.asarray(a, np.float64) - np.asarray(b, np.float64))
                    / np.std(np.asarray(a, np.float64)) for a, b in zip(after[:2], before[:2])]
        ratios = spreads.ratio(after)
        np.testing.assert_allclose(ratios[:2], expected, rtol=1e-9)
        assert np.isnan(ratios[2])


@pytest.mark.parametrize("centred", [32, 100, 4096])
def test_workspace_centres_a_few_rows_at_a_time_and_still_equals_numpy(centred, monkeypatch):
    """The centred values go through a small work array, a few rows at a time (chunks that
    end inside an array or between two): the std is the same, and the work array is small."""
    monkeypatch.setattr(statistics, "CENTRED_ELEMENTS", centred)
    monkeypatch.setattr(statistics, "ROWS", (32,))
    rng = np.random.default_rng(3)
    arrays = _arrays(rng) + [rng.normal(size=(40, 50)) * 3 + 7]
    workspace = Workspace(BINS)
    stats, counts = workspace.compute(arrays, len(arrays), 2)
    assert workspace.work.size <= max(centred, 32)
    for i, array in enumerate(arrays):
        if array is None or array.size == 0:
            continue
        a = np.asarray(array, dtype=np.float64).ravel()
        np.testing.assert_allclose(stats[i, MEAN], a.mean(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(stats[i, STD], a.std(), rtol=1e-9, atol=1e-12)
        if i >= 2:
            np.testing.assert_allclose(stats[i, NORM], np.linalg.norm(a), rtol=1e-12)
        expected, _ = np.histogram(a, BINS, range=(a.min(), a.max()))
        np.testing.assert_array_equal(counts[i], expected, err_msg=f"array {i}")


@pytest.mark.parametrize("bins", [1, 2, 12, 30])
def test_all_equal_arrays_land_in_numpys_bin_wherever_they_are_in_the_list(bins):
    """All-equal values sit on a bin edge when `bins` is even (np.histogram's range is one
    unit around them): the shifted product of the bin numbers must not round them into the
    bin below, for any position of the array in the list."""
    rng = np.random.default_rng(4)
    arrays = [np.full(int(rng.integers(1, 40)), value, dtype=np.float32)
              for value in np.round(rng.normal(size=60) * 4, 2)]
    arrays[::7] = [rng.normal(size=50) for _ in arrays[::7]]
    _, counts = Workspace(bins).compute(arrays, len(arrays), 0)
    for i, array in enumerate(arrays):
        a = np.asarray(array, dtype=np.float64)
        expected, _ = np.histogram(a, bins, range=(a.min(), a.max()))
        np.testing.assert_array_equal(counts[i], expected, err_msg=f"array {i}")


@pytest.mark.parametrize("bins", [1, 2, 12, 30])
def test_all_equal_float64_arrays_get_numpys_bin_in_workspace_and_summarise(bins):
    """float64 single values (a scalar loss box) and all-equal arrays: np.histogram's bin,
    which its own edges decide (the shifted product, and a division, put a few in a hundred
    of them in the bin below: [-5.980099459541756] with 30 bins)."""
    rng = np.random.default_rng(6)
    values = np.concatenate(([-5.980099459541756, 0.0, 1.0, 99999999.84854567],
                             rng.normal(size=200) * 10.0 ** rng.integers(-6, 9, 200)))
    for position in (0, 3):  # alone, or after arrays that spread (other bases)
        arrays = [rng.normal(size=8) for _ in range(position)]
        arrays += [np.full(1 + k % 3, value) for k, value in enumerate(values)]
        found = Workspace(bins).compute(arrays, len(arrays), 0)
        assert found is not None
        reference = summarise(arrays, bins)[1]
        for i, array in enumerate(arrays):
            expected, _ = np.histogram(array, bins, range=(array.min(), array.max()))
            np.testing.assert_array_equal(found[1][i], expected, err_msg=f"array {i}")
            np.testing.assert_array_equal(reference[i], expected, err_msg=f"array {i}")


def test_squares_that_overflow_give_the_finite_norm_without_a_warning():
    """Gradients around 1e200 (finite) have squares beyond float64: their norm and std are
    still finite (scaled, `statistics.unsquare`; they were inf, NumPy's), and the workspace
    says nothing at each step."""
    arrays = [np.array([1e200, -3e200, 2e200]), np.array([1.0, 2.0]), np.full(4, 1e250)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stats, _ = Workspace(BINS).compute(arrays, 3, 0)
    np.testing.assert_allclose(stats[[0, 2], NORM], [np.sqrt(14.0) * 1e200, 2e250], rtol=1e-14)
    np.testing.assert_allclose(stats[0, STD], np.std([1.0, -3.0, 2.0]) * 1e200, rtol=1e-14)
    np.testing.assert_allclose(stats[1, NORM], np.sqrt(5.0), rtol=1e-12)
    assert stats[2, STD] == 0.0


def test_bin_numbers_through_int32_or_straight_to_int64_count_the_same():
    """The bin numbers are narrowed to int32 in the work array when it holds them (a faster
    cast), else cast straight to int64: the two ways give the same histograms."""
    arrays = _arrays(np.random.default_rng(5))
    narrowed, straight = Workspace(BINS), Workspace(BINS)
    first = narrowed.compute(arrays, len(arrays), 0)
    assert narrowed.narrow is not None
    straight.compute(arrays, len(arrays), 0)
    straight.narrow = None
    second = straight.compute(arrays, len(arrays), 0)
    np.testing.assert_array_equal(first[1], second[1])
    np.testing.assert_array_equal(first[0], second[0])


@pytest.mark.parametrize("arrays", [
    [np.ones(2)] * 4 + [np.array([1e17])],  # huge all-equal: the shift rounds it away
    [np.ones(2)] * 4 + [np.array([3e19, 3e19])],
    [np.array([-5e307, 5e307])],  # a span whose scale and shift overflow
    [np.ones(3)] * 20 + [np.array([-2e306, 2e306])],
    [np.array([0.0, 1e-310]), np.ones(4)],  # a subnormal span: an infinite scale
])
def test_extreme_magnitudes_never_mix_or_lose_counts(arrays):
    # The workspace's shifted product cannot bin such values exactly: it must hand over to
    # summarise (None) rather than count them in the padding's bin, in another array's
    # bins or past the end (a ValueError from NumPy), as it did.
    found = Workspace(30).compute(arrays, len(arrays), 0)
    reference = summarise(arrays, 30)
    if found is not None:
        np.testing.assert_array_equal(found[1], reference[1])
    counts = (found or reference)[1]
    assert [int(c.sum()) for c in counts] == [a.size for a in arrays]


def test_one_workspace_used_from_two_threads_gives_each_its_own_answer():
    # The work arrays are shared: two threads filling them at once crashed the interpreter
    # (np.bincount's bin numbers changed under it). Run in a child process so that a crash
    # fails this test instead of ending the suite.
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import sys, threading
        import numpy as np
        from minigrad.viz.statistics import Workspace
        rng = np.random.default_rng(0)
        sizes = [int(s) for s in rng.integers(100, 3000, 20)]
        a = [rng.normal(size=s) for s in sizes]
        b = [rng.normal(size=s) * 100 + 50 for s in sizes]
        expected = [Workspace(30).compute(x, 20, 10) for x in (a, b)]
        shared, wrong = Workspace(30), [0, 0]
        expected = [(stats.copy(), counts.copy()) for stats, counts in expected]
        def run(k, arrays):
            for _ in range(300):
                try:
                    stats, counts = shared.compute(arrays, 20, 10)
                    stats, counts = stats.copy(), counts.copy()
                except Exception:
                    wrong[k] += 1
                    continue
                if not (np.allclose(stats, expected[k][0], equal_nan=True)
                        and np.array_equal(counts, expected[k][1])):
                    wrong[k] += 1
        threads = [threading.Thread(target=run, args=(k, x)) for k, x in enumerate((a, b))]
        [t.start() for t in threads]
        [t.join() for t in threads]
        print(wrong)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[0, 0]"
