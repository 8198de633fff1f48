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


@pytest.mark.parametrize("dtype, native", [(">f4", np.float32), (">f8", np.float64),
                                           (">i4", np.int32), (">u2", np.uint16)])
def test_big_endian_data_becomes_the_same_numbers_in_native_byte_order(dtype, native):
    data = np.array([1, 2, 3], dtype=dtype)
    t = mg.tensor(data)
    assert t.dtype == native and t.dtype.isnative
    np.testing.assert_array_equal(t.data, [1, 2, 3])
    assert mg.tensor(data, dtype=dtype).dtype == native


def test_a_big_endian_batch_goes_through_a_float32_layer():
    batch = np.arange(6, dtype=">f4").reshape(2, 3)
    layer = mg.nn.Linear(3, 2)
    assert layer(mg.tensor(batch)).dtype == np.float32


def test_from_numpy_refuses_a_big_endian_array_with_the_fix():
    with pytest.raises(ValueError, match=r"byte order.*Fix: mg\.tensor\(array\)"):
        mg.from_numpy(np.ones(3, dtype=">f4"))
