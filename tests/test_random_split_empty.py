"""random_split of an empty data set by fractions (reviewer's finding F6 of round 13): it
said the fractions did not add up to 1 "(their sum: 1)"; PyTorch returns empty subsets."""

import numpy as np
import pytest

from minigrad.data import TensorDataset, random_split

CASES = [[0.5, 0.5], [0.3, 0.7], [1.0], [0.5, 0.25, 0.25], [1, 0], [1], [0, 0]]


@pytest.mark.parametrize("lengths", CASES)
def test_an_empty_data_set_splits_into_empty_subsets(lengths):
    subsets = random_split([], lengths)
    assert [len(s) for s in subsets] == [0] * len(lengths)
    subsets = random_split(TensorDataset(np.zeros((0, 3))), lengths)
    assert [len(s) for s in subsets] == [0] * len(lengths)


def test_still_refused_and_unchanged():
    with pytest.raises(ValueError, match="neither whole sizes"):
        random_split([], [0.5, 0.6])
    with pytest.raises(ValueError, match="neither whole sizes"):
        random_split([], [1, 1])
    assert [len(s) for s in random_split(range(1), [1])] == [1]
    assert [len(s) for s in random_split(range(1), [1, 0])] == [1, 0]
    assert [len(s) for s in random_split(range(1), [0.5, 0.5])] == [1, 0]
    assert [len(s) for s in random_split(range(5), [2, 3])] == [2, 3]


@pytest.mark.filterwarnings("ignore:Length of split:UserWarning")  # torch, on empty splits
@pytest.mark.parametrize("total", [0, 1, 3])
@pytest.mark.parametrize("lengths", CASES + [[0.5, 0.6], [1, 1], [2, 1]])
def test_sizes_like_pytorch(total, lengths):
    torch = pytest.importorskip("torch")
    try:
        expected = [len(s) for s in torch.utils.data.random_split(range(total), lengths)]
    except ValueError:
        with pytest.raises(ValueError):
            random_split(range(total), lengths)
        return
    assert [len(s) for s in random_split(range(total), lengths)] == expected
