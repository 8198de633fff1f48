"""NumPy's conversion protocol: ``np.array(t)`` is a copy and ``np.asarray(t)`` (like
``t.numpy()``) shares the data, as for a torch tensor. Before, ``np.array(t)`` returned the
tensor's own array: writing to the "copy" changed the tensor, unseen by backward."""

import numpy as np
import pytest

import minigrad as mg


def test_np_array_of_a_tensor_is_a_copy_as_for_a_torch_tensor():
    weight = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (weight * weight).sum()
    snapshot = np.array(weight)
    snapshot[0] = 99.0
    np.testing.assert_array_equal(weight.data, [1.0, 2.0, 3.0])
    loss.backward()  # nothing was written: no refusal, the right gradient
    np.testing.assert_array_equal(weight.grad, [2.0, 4.0, 6.0])


def test_asarray_and_copy_false_share_the_data_like_numpy():
    t = mg.tensor([1.0, 2.0])
    assert np.asarray(t) is t.data and t.numpy() is t.data
    assert np.array(t, copy=False) is t.data
    assert np.array(t, copy=True) is not t.data


def test_a_dtype_change_copies_and_copy_false_refuses_it():
    t = mg.tensor([1.0, 2.0])
    converted = np.asarray(t, dtype=np.float64)
    assert converted.dtype == np.float64 and not np.shares_memory(converted, t.data)
    with pytest.raises(ValueError, match="copy=False.*Fix"):
        np.array(t, dtype=np.float64, copy=False)


def test_numpy_functions_on_tensors_still_read_their_values():
    t = mg.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(np.concatenate([t, t]), [1.0, 2.0, 3.0] * 2)
    assert np.array([t, t]).shape == (2, 3)
