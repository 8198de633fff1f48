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


# -- TensorDataset and DataLoader (torch.utils.data's behaviour) ---------------------------

from minigrad.data import DataLoader, TensorDataset  # noqa: E402


def test_tensor_dataset_indexes_rows_of_every_array():
    x = np.arange(12.0).reshape(6, 2)
    y = np.arange(6)
    ds = TensorDataset(x, mg.tensor(y))
    assert len(ds) == 6
    xi, yi = ds[4]
    np.testing.assert_array_equal(xi, x[4])
    assert yi == 4


def test_tensor_dataset_refuses_mismatched_or_bad_arrays():
    with pytest.raises(ValueError, match="different numbers of samples"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(TypeError, match="NumPy array or a Tensor"):
        TensorDataset([1, 2, 3])
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True),
                                                      (9, 3, False), (2, 5, False)])
def test_loader_batches_cover_the_data_in_order(n, batch_size, drop_last):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    batches_seen = list(loader)
    assert len(batches_seen) == len(loader)
    expected = n // batch_size if drop_last else -(-n // batch_size)
    assert len(loader) == expected
    for xb, yb in batches_seen:
        assert isinstance(xb, mg.Tensor) and isinstance(yb, mg.Tensor)
        assert xb.dtype == np.float32 and yb.dtype == y.dtype
        np.testing.assert_array_equal(xb.data, x[yb.data])
    seen = np.concatenate([yb.data for _, yb in batches_seen]) if batches_seen else np.array([])
    np.testing.assert_array_equal(seen, np.arange(len(seen)))
    if drop_last:
        assert all(len(yb.data) == batch_size for _, yb in batches_seen)


def test_shuffle_is_a_permutation_reproducible_with_a_generator_and_new_each_epoch():
    ds = TensorDataset(np.arange(50))
    loader = DataLoader(ds, batch_size=7, shuffle=True, generator=np.random.default_rng(3))
    first = np.concatenate([b.data for (b,) in loader])
    second = np.concatenate([b.data for (b,) in loader])
    assert sorted(first) == list(range(50)) and sorted(second) == list(range(50))
    assert not np.array_equal(first, second)  # a new order each epoch
    again = DataLoader(ds, batch_size=7, shuffle=True, generator=np.random.default_rng(3))
    np.testing.assert_array_equal(np.concatenate([b.data for (b,) in again]), first)


def test_shuffle_without_a_generator_follows_manual_seed():
    ds = TensorDataset(np.arange(20))
    mg.manual_seed(11)
    first = np.concatenate([b.data for (b,) in DataLoader(ds, batch_size=4, shuffle=True)])
    mg.manual_seed(11)
    second = np.concatenate([b.data for (b,) in DataLoader(ds, batch_size=4, shuffle=True)])
    np.testing.assert_array_equal(first, second)


def test_a_plain_dataset_is_collated_like_pytorch():
    class Squares:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float32), i

    (features, labels), *_ = list(DataLoader(Squares(), batch_size=3))
    np.testing.assert_array_equal(features.data, [[0, 0], [1, 1], [2, 4]])
    np.testing.assert_array_equal(labels.data, [0, 1, 2])
    custom = list(DataLoader(Squares(), batch_size=2, collate_fn=lambda items: len(items)))
    assert custom == [2, 2, 1]


def test_strings_named_tuples_and_dicts_are_collated_like_pytorch():
    from collections import namedtuple

    Sample = namedtuple("Sample", "image label")

    class Files:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return {"pixels": np.full(2, i, np.float32), "path": f"img{i}.png",
                    "pair": Sample(np.float32(i), i)}

    batch = next(iter(DataLoader(Files(), batch_size=2)))
    assert batch["path"] == ["img0.png", "img1.png"]  # text stays text, a list per batch
    np.testing.assert_array_equal(batch["pixels"].data, [[0, 0], [1, 1]])
    assert isinstance(batch["pair"], Sample)
    np.testing.assert_array_equal(batch["pair"].label.data, [0, 1])


def test_samples_that_cannot_be_stacked_get_a_clear_error():
    class Ragged:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.zeros(i + 1)

    with pytest.raises(ValueError, match=r"default_collate: .*one shape.*\(1,\), \(2,\)"):
        list(DataLoader(Ragged(), batch_size=2))

    class Nothing(Ragged):
        def __getitem__(self, i):
            return None

    with pytest.raises(TypeError, match="default_collate: .*NoneType.*collate_fn"):
        list(DataLoader(Nothing(), batch_size=2))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, None])
def test_loader_refuses_a_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=bad)


def test_loader_refuses_what_is_not_a_dataset():
    with pytest.raises(TypeError, match="TensorDataset"):
        DataLoader(42)
    with pytest.raises(TypeError, match="default_rng"):
        DataLoader(TensorDataset(np.zeros(3)), generator=0)


def test_training_with_the_loader_reduces_the_loss():
    import minigrad.nn.functional as F
    from minigrad import nn

    x, y = make_moons(128, noise=0.1, generator=np.random.default_rng(0))
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    optimizer = mg.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)

    def full_loss():
        with mg.no_grad():
            return F.cross_entropy(model(mg.tensor(x)), y).item()

    before = full_loss()
    for _ in range(20):
        for xb, yb in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
    assert full_loss() < 0.5 * before


@pytest.mark.parametrize("n, batch_size, drop_last, shuffle, message", [
    (0, 4, False, False, "the dataset is empty"), (0, 4, False, True, "the dataset is empty"),
    (0, 4, True, True, "the dataset is empty"),
    (2, 5, True, False, "drop_last=True drops the only batch"),
    (2, 5, True, True, "batch_size <= 2")])
def test_an_epoch_without_batches_is_a_clear_error(n, batch_size, drop_last, shuffle, message):
    # PyTorch yields nothing there; then `while step < steps: for b in loader` never ends
    # (minigrad.examples.record_training hung with batch_size > 300) and a `for epoch` loop
    # trains nothing without a word.
    loader = DataLoader(TensorDataset(np.zeros((n, 2), np.float32)), batch_size=batch_size,
                        drop_last=drop_last, shuffle=shuffle)
    assert len(loader) == 0  # len() still answers: code can check before iterating
    with pytest.raises(ValueError, match=message):
        next(iter(loader))
    plain = DataLoader([np.zeros(2)] * n, batch_size=batch_size, drop_last=drop_last)
    with pytest.raises(ValueError, match=message):
        list(plain)


def test_every_docstring_of_the_module_keeps_its_indentation():
    # A paragraph of DataLoader's docstring started at column 0: help() and IDEs showed the
    # rest of the docstring indented by four spaces, that paragraph not.
    import inspect

    import minigrad.data as data

    documented = [value for value in vars(data).values()
                  if (inspect.isclass(value) or inspect.isfunction(value))
                  and value.__module__ == data.__name__]
    documented += [member for cls in documented if inspect.isclass(cls)
                   for member in vars(cls).values() if inspect.isfunction(member)]
    checked = 0
    for obj in documented:
        if not obj.__doc__:
            continue
        header = inspect.getsource(obj).splitlines()[0]
        indent = " " * (len(header) - len(header.lstrip()) + 4)  # the body's indentation
        for line in obj.__doc__.splitlines()[1:]:
            assert not line.strip() or line.startswith(indent), (obj.__qualname__, line)
        checked += 1
    assert checked >= 5  # DataLoader, TensorDataset, the make_* functions, ...


@pytest.mark.parametrize("samples", [[(1, 2), (3, 4, 5)], [[1, 2, 3], [4, 5]], [(1, 2), (3,)]])
def test_collating_tuples_of_different_lengths_is_refused_not_truncated(samples):
    from minigrad.data import default_collate  # the loader calls it for these samples
    with pytest.raises(ValueError, match=r"default_collate: the samples of a batch are "
                                         r"tuples/lists of different lengths \[\d, \d\].*Fix: "
                                         r"return the same number of fields.*collate_fn="):
        default_collate(samples)


def test_a_loader_over_samples_of_different_lengths_is_refused():

    class Ragged:
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return (np.float32(index), index) if index != 1 else (np.float32(index), index, "x")

    with pytest.raises(ValueError, match=r"different lengths \[2, 3\]"):
        list(DataLoader(Ragged(), batch_size=2))


def test_pytorch_loader_options_are_accepted_off_and_refused_on_naming_the_fix():
    data = TensorDataset(np.arange(4.0))
    loader = DataLoader(data, 2, num_workers=0, pin_memory=False, sampler=None,
                        batch_sampler=None, timeout=0, worker_init_fn=None,
                        multiprocessing_context=None, prefetch_factor=None,
                        persistent_workers=False, pin_memory_device="")
    assert [batch[0].data.tolist() for batch in loader] == [[0.0, 1.0], [2.0, 3.0]]
    refused = {"num_workers": 2, "pin_memory": True, "sampler": [0, 1], "batch_sampler": [[0]],
               "timeout": 5, "worker_init_fn": print, "prefetch_factor": 2,
               "persistent_workers": True, "multiprocessing_context": "spawn",
               "pin_memory_device": "cuda"}
    for name, value in refused.items():
        with pytest.raises(TypeError, match=rf"DataLoader: {name}=.* is not implemented in "
                                            rf"minigrad \(only {name}=.* is accepted\): .*Fix: "):
            DataLoader(data, **{name: value})


def test_shuffle_and_drop_last_must_be_bools():
    """PyTorch's 4th positional argument is `sampler`: DataLoader(data, 2, False, order)
    set drop_last=order here (truthy), silently dropping the last batch."""
    data = TensorDataset(np.arange(5.0))
    with pytest.raises(TypeError, match=r"drop_last must be True or False, got list .*"
                                        r"Fix: pass drop_last=True or False by name"):
        DataLoader(data, 2, False, [4, 3, 2, 1, 0])
    with pytest.raises(TypeError, match="shuffle must be True or False"):
        DataLoader(data, 2, "yes")
    assert len(DataLoader(data, 2, False, True)) == 2  # API.md's positional order still works
    assert len(DataLoader(data, 2, np.True_, np.False_)) == 3
