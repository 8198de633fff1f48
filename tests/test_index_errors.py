"""An index out of range is named in the axes of the user's tensor (NumPy named an axis of
the intermediate array `split_index` made: ``x[0, [7]]`` said "axis 0"), and a uint8 index,
a mask to PyTorch and positions to NumPy, is refused with both fixes."""

import re
import warnings

import numpy as np
import pytest

import minigrad as mg

SHAPE = (2, 3, 4)


@pytest.mark.parametrize("index, bad, axis", [
    ((slice(None), 5), 5, 1),
    ((0, [7]), 7, 1),  # an int before an advanced index: NumPy said axis 0
    ((0, slice(None), [1, 9]), 9, 2),  # NumPy said axis 1
    (([0, 1], 0, [1, 9]), 9, 2),  # several advanced indices and an int
    ((0, [0, 2], [0, -5]), -5, 2),
    ((1, [0, 3]), 3, 1),
    ((None, 0, 3), 3, 1),  # None makes an axis of the result, not of x
    ((Ellipsis, 4), 4, 2),
    ((0, Ellipsis, [4]), 4, 2),
    (([2],), 2, 0),
    (-3, -3, 0),
])
def test_an_index_out_of_range_names_the_tensors_axis_its_length_and_the_index(
        index, bad, axis):
    x = mg.zeros(*SHAPE, requires_grad=True)
    length = SHAPE[axis]
    expected = (rf"^getitem: index {bad} in x\[.*\] is out of range for a tensor of shape "
                rf"\(2, 3, 4\): its axis {axis} has length {length} \(valid: {-length} to "
                rf"{length - 1}\)\. Fix: keep each index within its axis' length\.$")
    with pytest.raises(IndexError, match=expected):
        x[index]
    with pytest.raises(IndexError, match=expected.replace("getitem", "item assignment")):
        x.detach()[index] = 1.0


def test_the_message_shows_the_index_as_written():
    x = mg.zeros(3, 4)
    with pytest.raises(IndexError, match=re.escape("index 7 in x[0, [7]] is out")):
        x[0, [7]]
    with pytest.raises(IndexError, match=re.escape("index 5 in x[:, 1:3, 5]")):
        mg.zeros(2, 3, 4)[:, 1:3, 5]
    with pytest.raises(IndexError, match=r"axis 0 has length 0 \(no index is valid there\)"):
        mg.zeros(0, 4)[0]
    with pytest.raises(IndexError, match=r"x\[0, <bool mask of shape \(2,\)>\] does not fit "
                                         r"shape \(3, 4\): its bool mask of shape \(2,\) stands "
                                         r"for axis 1, of shape \(4,\)\. Fix: give a bool mask"):
        x[0, np.array([True, False])]


@pytest.mark.parametrize("index", [(slice(None), 5), (0, [7]), (0, slice(None), [1, 9]),
                                   ([0, 1], 0, [1, 9]), (None, 0, 3)])
def test_pytorch_raises_an_index_error_there_too(index):
    torch = pytest.importorskip("torch")
    with pytest.raises(IndexError):
        torch.zeros(SHAPE)[index]
    with pytest.raises(IndexError):
        np.zeros(SHAPE)[index]


def test_iterating_still_ends_with_the_index_error():
    assert len(list(mg.zeros(3, 2))) == 3


# -- uint8 indices --------------------------------------------------------------------------


@pytest.mark.parametrize("make, mask_fix, positions_fix", [
    (lambda a: mg.tensor(a), "idx.bool()", "idx.long()"),
    (lambda a: a, "idx.astype(bool)", "idx.astype(np.int64)"),
    (lambda a: [np.uint8(v) for v in a], "[bool(i) for i in idx]", "[int(i) for i in idx]"),
])
def test_a_uint8_index_is_refused_naming_both_readings_and_both_fixes(
        make, mask_fix, positions_fix):
    # It was read as positions (NumPy's reading): x[[1, 0, 1, 0, 0, 1]] is rows 1, 0, 1,
    # 0, 0, 1, where PyTorch selects rows 0, 2 and 5: the same code, other results, silently.
    x = mg.arange(6.0)
    index = make(np.array([1, 0, 1, 0, 0, 1], dtype=np.uint8))
    expected = (r"^indexing: a uint8 .* as an index is ambiguous: PyTorch reads it as a mask "
                r"\(deprecated\), NumPy as positions.*Fix: " + re.escape(mask_fix)
                + r" for a mask .*, or " + re.escape(positions_fix) + r" for positions\.$")
    with pytest.raises(TypeError, match=expected):
        x[index]
    with pytest.raises(TypeError, match=expected):
        mg.ones(2, 6)[0, index]  # one item of a tuple
    with pytest.raises(TypeError, match=expected):
        x[index] = 0.0
    np.testing.assert_array_equal(x.data, np.arange(6.0))  # nothing written


def test_the_fixes_give_each_reading():
    x = mg.arange(6.0)
    idx = mg.tensor(np.array([1, 0, 1, 0, 0, 1], dtype=np.uint8))
    assert x[idx.bool()].tolist() == [0.0, 2.0, 5.0]
    assert x[idx.long()].tolist() == [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    with pytest.raises(TypeError, match="uint8 tensor"):  # 0-d: a 0-d mask to PyTorch
        x[mg.tensor(np.array(3, dtype=np.uint8))]


def test_other_integer_indices_stay_positions():
    x = mg.arange(6.0)
    assert x[np.uint8(3)].item() == 3.0  # a scalar: an int to NumPy and PyTorch alike
    assert x[np.array([3, 1], dtype=np.int8)].tolist() == [3.0, 1.0]
    assert x[mg.tensor(np.array([3, 1], dtype=np.int32))].tolist() == [3.0, 1.0]
    assert x[np.array([5, 1], dtype=np.uint16)].tolist() == [5.0, 1.0]


def test_pytorch_reads_a_uint8_tensor_or_array_as_a_mask():
    """Why minigrad refuses: PyTorch's reading differs from NumPy's on the same index."""
    torch = pytest.importorskip("torch")
    data = np.array([1, 0, 1, 0, 0, 1], dtype=np.uint8)
    x = torch.arange(6.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "indexing with dtype torch.uint8 is now deprecated"
        assert x[torch.tensor(data)].tolist() == [0.0, 2.0, 5.0]
        assert x[data].tolist() == [0.0, 2.0, 5.0]
    assert np.arange(6.0)[data].tolist() == [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
