"""``t.data = value`` stores a numeric array or refuses, as PyTorch's does (a list, a number
or a string was stored as it was and broke the next op far away; a tensor was stored inside
the tensor)."""

import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("value", [[3.0, 4.0], "ab", None, np.array(["a", "b"]),
                                   {"a": 1.0}])
def test_anything_but_numbers_is_refused_with_the_fix(value):
    t = mg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"data: .*numeric NumPy array.*Fix: "):
        t.data = value
    np.testing.assert_array_equal(t.data, [1.0, 2.0])


@pytest.mark.parametrize("number", [4, 2.5, True, np.int64(4)])
def test_a_number_becomes_a_0d_array(number):
    t = mg.tensor(1.0)
    t.data = number
    assert type(t.data) is np.ndarray and t.data.shape == () and t.data == number


def test_a_tensor_assigned_as_data_gives_its_array_and_shares_its_writes():
    target, source = mg.zeros(2), mg.tensor([1.0, 2.0])
    target.data = source
    assert type(target.data) is np.ndarray and target.data is source.data
    weight = mg.ones(2, requires_grad=True)
    loss = (weight * target).sum()
    source += 1  # the memory the graph saved: a write for target too
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()


def test_a_numpy_number_keeps_its_dtype_and_a_new_array_is_still_safe():
    t = mg.tensor(1.0, requires_grad=True)
    t.data = np.float32(3.0)
    assert t.data.shape == () and t.data.dtype == np.float32
    loss = t * 2
    t.data = np.array(5.0, np.float32)  # a new array: the graph keeps the old one
    loss.backward()
    assert t.grad == 2.0


@pytest.mark.parametrize("number", [0.0, 1, np.float32(2.0)])
def test_a_number_for_a_tensor_with_dimensions_is_refused_rather_than_making_it_0d(number):
    bias = mg.zeros(3, requires_grad=True)
    with pytest.raises(TypeError, match=r"data: .*shape \(3,\).*0-d.*Fix: .*fill_"):
        bias.data = number
    assert bias.shape == (3,)
    bias.data = np.ones((2, 2), np.float32)  # an array of another shape stays allowed
    assert bias.shape == (2, 2)
