"""PyTorch's factory habits: `full(size=)`, `full_like`, `arange(end=)`, 0-d tensor ends,
the values a dtype cannot hold, `inference_mode`, and `data.random_split` / `Subset`."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import DataLoader, Subset, TensorDataset, random_split


def test_full_takes_pytorchs_size_keyword_and_a_0d_tensor_value():
    assert mg.full(size=(2, 3), fill_value=1.5).tolist() == [[1.5] * 3] * 2
    assert mg.full((2,), mg.tensor(3.0)).tolist() == [3.0, 3.0]
    assert mg.full((2,), 7).dtype == np.int64 and mg.full((2,), True).dtype == np.bool_
    with pytest.raises(TypeError, match="full: missing the shape"):
        mg.full()
    with pytest.raises(TypeError, match="full: the shape was given twice"):
        mg.full((2,), 1.0, size=(3,))


@pytest.mark.parametrize("value, dtype", [(1e40, None), (300, mg.uint8), (-1, mg.uint8),
                                          (127.5, mg.int8), (float("nan"), mg.int32),
                                          (float("inf"), mg.int64), (2**63, mg.int64)])
def test_full_and_full_like_refuse_a_value_the_dtype_cannot_hold(value, dtype):
    # Regression: full((2,), 1e40) was silently [inf, inf] and full((2,), 300, uint8) a
    # NumPy OverflowError from inside; PyTorch refuses both, naming the dtype
    with pytest.raises(ValueError, match=r"full: fill_value .* cannot be converted to \w+ "
                                         "without overflow"):
        mg.full((2,), value, dtype=dtype)
    like = mg.zeros(2, dtype=dtype or mg.float32)
    with pytest.raises(ValueError, match="full_like: fill_value .* without overflow"):
        mg.full_like(like, value)


def test_full_like_keeps_the_tensors_shape_and_dtype_unless_told():
    x = mg.zeros((2, 3), dtype=mg.int64)
    assert mg.full_like(x, 2.7).tolist() == [[2] * 3] * 2 and mg.full_like(x, 2.7).dtype == np.int64
    y = mg.full_like(x, 0.5, dtype=mg.float64, requires_grad=True)
    assert y.dtype == np.float64 and y.requires_grad and y.shape == (2, 3)
    with pytest.raises(TypeError, match="full_like: expected a Tensor|full_like"):
        mg.full_like([1, 2], 0.0)


def test_arange_takes_keywords_and_0d_tensors_as_pytorch():
    assert mg.arange(end=3).tolist() == [0, 1, 2]
    assert mg.arange(start=1, end=6, step=2).tolist() == [1, 3, 5]
    assert mg.arange(mg.tensor(3)).tolist() == [0, 1, 2]
    assert mg.arange(mg.tensor(3.5)).dtype == np.float32
    assert mg.arange(5, 0, -2).tolist() == [5, 3, 1] and mg.arange(0, 0).shape == (0,)


@pytest.mark.parametrize("args, message", [
    ((0, float("inf")), "end must be finite"), ((0, 1, float("nan")), "step must be finite"),
    ((2**70,), "more than memory holds"), ((10**400,), "end must be finite"),
    ((5, 0), "the other way than step=1"), ((0, 5, -1), "the other way than step=-1"),
    (("a",), "TypeError"), ((0, 5, 0), "step must be nonzero")])
def test_arange_refuses_ranges_it_cannot_make_clearly(args, message):
    # Regression: NumPy's "Maximum allowed size exceeded" / "cannot compute length", and
    # arange(5, 0) silently empty where PyTorch refuses
    error = TypeError if message == "TypeError" else ValueError
    with pytest.raises(error, match=None if error is TypeError else message) as caught:
        mg.arange(*args)
    assert str(caught.value).startswith("arange:")


def test_arange_needs_an_end():
    with pytest.raises(TypeError, match="arange: missing the end"):
        mg.arange()


def test_linspace_takes_0d_tensor_ends_and_refuses_others():
    assert mg.linspace(mg.tensor(0), mg.tensor(1.0), 3).tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(TypeError, match="linspace: start must be a number"):
        mg.linspace(mg.tensor([0.0]), 1, 3)


def test_the_factories_match_pytorch():
    torch = pytest.importorskip("torch")
    assert mg.arange(end=7).tolist() == torch.arange(end=7).tolist()
    assert mg.arange(0, 1, 0.25).tolist() == torch.arange(0, 1, 0.25).tolist()
    assert mg.full_like(mg.zeros(3, dtype=mg.int64), 2.7).tolist() == torch.full_like(
        torch.zeros(3, dtype=torch.int64), 2.7).tolist()
    for value, ours, theirs in ((300, mg.uint8, torch.uint8), (1e40, mg.float32, torch.float32),
                                (127.5, mg.int8, torch.int8)):
        with pytest.raises(RuntimeError):
            torch.full((2,), value, dtype=theirs)
        with pytest.raises(ValueError):
            mg.full((2,), value, dtype=ours)
    with pytest.raises(RuntimeError):
        torch.arange(5, 0)


def test_inference_mode_is_no_grad_and_false_turns_recording_on():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.inference_mode():
        assert not (w * 2).requires_grad and not mg.is_grad_enabled()
        with mg.inference_mode(False):
            assert (w * 2).requires_grad
    assert mg.is_grad_enabled()

    @mg.inference_mode
    def bare():
        return (w * 2).requires_grad

    @mg.inference_mode()
    def called():
        return (w * 2).requires_grad

    assert bare() is False and called() is False and mg.is_grad_enabled()
    with pytest.raises(TypeError, match="inference_mode: mode must be a bool"):
        mg.inference_mode("yes")


def test_random_split_by_sizes_and_fractions_as_pytorch():
    data = TensorDataset(np.arange(10.0), np.arange(10))
    mg.manual_seed(0)
    train, valid = random_split(data, [0.7, 0.3])
    assert isinstance(train, Subset) and (len(train), len(valid)) == (7, 3)
    assert sorted(train.indices + valid.indices) == list(range(10))  # no sample twice
    x, y = train[0]
    assert x == train.indices[0] and y == train.indices[0]
    # the remainder goes one each to the first subsets, in turn (PyTorch's rule)
    assert [len(s) for s in random_split(range(10), [0.33, 0.33, 0.34])] == [4, 3, 3]
    assert [len(s) for s in random_split(range(7), [0.5, 0.5])] == [4, 3]
    assert [len(s) for s in random_split(range(5), [2, 3])] == [2, 3]
    # reproducible from a generator, and from mg.manual_seed
    first = random_split(range(20), [10, 10], generator=np.random.default_rng(3))[0].indices
    again = random_split(range(20), [10, 10], generator=np.random.default_rng(3))[0].indices
    assert first == again
    batches = list(DataLoader(train, batch_size=4))
    assert [b[0].shape for b in batches] == [(4,), (3,)]
    assert sorted(np.concatenate([b[1].data for b in batches]).tolist()) == sorted(train.indices)


def test_random_split_sizes_match_pytorchs():
    torch = pytest.importorskip("torch")
    for n, lengths in ((10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]), (11, [0.1] * 10),
                       (3, [0.2, 0.8]), (100, [0.8, 0.1, 0.1])):
        theirs = [len(s) for s in torch.utils.data.random_split(range(n), lengths)]
        assert [len(s) for s in random_split(range(n), lengths)] == theirs


@pytest.mark.parametrize("lengths, error, message", [
    ([5, 6], ValueError, "adding up to the data set's 10 samples .* sum: 11"),
    ([0.5, 0.6], ValueError, "nor fractions adding up to 1 .their sum: 1.1"),
    ("ab", TypeError, "non-empty list"),
    ([], TypeError, "non-empty list"), ([-1, 11], ValueError, "number >= 0"),
    ([True, 9], ValueError, "number >= 0"), ([1.5, -0.5], ValueError, "number >= 0"),
    ([4.5, 5.5], ValueError, "neither whole sizes .* sum: 10")])
def test_random_split_refuses_lengths_that_do_not_split_the_data_set(lengths, error, message):
    with pytest.raises(error, match=message):
        random_split(range(10), lengths)


def test_subset_reads_lists_of_positions_and_shows_what_it_is():
    subset = Subset(list("abcdef"), [5, 0, 3])
    assert subset[0] == "f" and len(subset) == 3 and "3 of the 6 samples" in repr(subset)
    data = TensorDataset(np.arange(6.0))
    assert Subset(data, [4, 1])[[0, 1]][0].tolist() == [4.0, 1.0]
    assert math.isclose(sum(Subset(data, [2, 3])[i][0] for i in range(2)), 5.0)
