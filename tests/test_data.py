"""`minigrad.data`: generated data sets and mini-batching."""

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import minigrad as mg
from minigrad.data import batches, make_moons, make_spirals


@pytest.mark.parametrize("n_samples", [2, 7, 100])
def test_make_moons_shapes_dtypes_and_balance(n_samples):
    x, y = make_moons(n_samples, noise=0.1, generator=np.random.default_rng(0))
    assert x.shape == (n_samples, 2) and x.dtype == np.float32
    assert y.shape == (n_samples,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert abs(int((y == 0).sum()) - int((y == 1).sum())) <= 1


def test_make_moons_without_noise_lies_on_the_two_half_circles():
    x, y = make_moons(50, noise=0.0, generator=np.random.default_rng(0))
    upper = x[y == 0]
    lower = x[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, rtol=1e-6)
    assert upper[:, 1].min() >= -1e-6 and lower[:, 1].max() <= 0.5 + 1e-6  # two half circles


@pytest.mark.parametrize("n_samples, n_classes", [(300, 3), (10, 4), (5, 5)])
def test_make_spirals_shapes_dtypes_and_balance(n_samples, n_classes):
    x, y = make_spirals(n_samples, n_classes, generator=np.random.default_rng(0))
    assert x.shape == (n_samples, 2) and x.dtype == np.float32
    assert y.shape == (n_samples,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=n_classes)
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1
    assert np.abs(x).max() <= 1.0 + 1e-6  # radius grows from 0 to 1


@pytest.mark.parametrize("make", [make_moons, make_spirals])
def test_datasets_are_deterministic_given_a_generator(make):
    first = make(generator=np.random.default_rng(7))
    second = make(generator=np.random.default_rng(7))
    other = make(generator=np.random.default_rng(8))
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], other[0])
    mg.manual_seed(3)  # without a generator: the default one that manual_seed seeds
    third = make()
    mg.manual_seed(3)
    np.testing.assert_array_equal(third[0], make()[0])


def test_invalid_dataset_arguments():
    with pytest.raises(ValueError, match="make_moons"):
        make_moons(1)
    with pytest.raises(ValueError, match="make_spirals"):
        make_spirals(2, n_classes=3)


@given(n_rows=st.integers(1, 30), batch_size=st.integers(1, 12), shuffle=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_batches_cover_every_row_once(n_rows, batch_size, shuffle, seed):
    x = np.arange(n_rows * 2).reshape(n_rows, 2)
    y = np.arange(n_rows)
    seen = []
    for xb, yb in batches(x, y, batch_size, shuffle=shuffle, generator=np.random.default_rng(seed)):
        assert 1 <= len(yb) <= batch_size
        np.testing.assert_array_equal(xb, x[yb])  # rows stay paired with their labels
        seen.extend(yb.tolist())
    assert sorted(seen) == list(range(n_rows))
    if not shuffle:
        assert seen == list(range(n_rows))


def test_batches_drop_last_and_shuffle_reproducibly():
    x, y = np.zeros((10, 1)), np.arange(10)
    sizes = [len(yb) for _, yb in batches(x, y, 4, drop_last=True)]
    assert sizes == [4, 4]
    runs = [np.concatenate([yb for _, yb in batches(x, y, 3, generator=np.random.default_rng(1))])
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], y)  # shuffled
    with pytest.raises(ValueError, match="rows"):
        next(batches(x, y[:5], 2))
    with pytest.raises(ValueError, match="batch_size"):
        next(batches(x, y, 0))
