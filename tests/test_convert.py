"""Dtype names and conversions (minigrad/dtypes.py, minigrad/ops/convert.py)."""

import numpy as np
import pytest

import minigrad as mg


def test_dtype_constants_are_numpy_dtypes_with_pytorchs_meanings():
    assert mg.float32 == np.float32 and mg.float == np.float32  # torch.float is float32
    assert mg.double == mg.float64 == np.float64
    assert mg.long == mg.int64 == np.int64 and mg.int == np.int32  # torch.int is int32
    assert mg.half == np.float16 and mg.bool == np.bool_
    assert mg.zeros(2).dtype == mg.float32


def test_long_int_float_double_bool():
    x = mg.tensor([1.7, -2.2, 0.0], requires_grad=True)
    assert x.long().dtype == np.int64 and x.long().tolist() == [1, -2, 0]  # truncates, as torch
    assert x.int().dtype == np.int32 and not x.int().requires_grad
    assert x.float() is x  # already float32: the same tensor, as in PyTorch
    doubled = x.double()
    assert doubled.dtype == np.float64 and doubled.requires_grad
    doubled.sum().backward()
    assert x.grad.dtype == np.float32 and np.array_equal(x.grad, [1, 1, 1])
    assert x.bool().tolist() == [True, True, False]
    assert mg.tensor([1, 2]).float().dtype == np.float32
    assert x.dim() == 1 and mg.zeros(2, 3).dim() == 2 and mg.tensor(1.0).dim() == 0


@pytest.mark.parametrize("spec", [mg.float64, np.float64, "float64", float, np.dtype("f8")])
def test_to_accepts_every_spelling_of_a_dtype(spec):
    assert mg.tensor([1.0]).to(spec).dtype == np.float64


def test_to_tensor_device_copy_and_errors():
    x = mg.tensor([1.0, 2.0])
    assert x.to(mg.zeros(1, dtype=np.float64)).dtype == np.float64
    assert x.to("cpu") is x and x.to(device="cpu", dtype=mg.float32) is x
    copy = x.to(mg.float32, copy=True)
    assert copy is not x and copy.data is not x.data
    with pytest.raises(ValueError, match="to: minigrad runs on the CPU only"):
        x.to("cuda")
    with pytest.raises(TypeError, match="to: the dtype string 'float' is ambiguous"):
        x.to("float")
    with pytest.raises(TypeError, match=r"to: 'U3' is not a supported dtype"):
        x.to("U3")
    with pytest.raises(TypeError, match="to: .* is not a supported dtype"):
        x.to(object)


def test_conversions_against_pytorch():
    torch = pytest.importorskip("torch")
    data = np.array([1.7, -2.5, 0.0, 3.0], dtype=np.float32)
    for name in ("long", "int", "float", "double", "bool"):
        ours, theirs = getattr(mg.tensor(data), name)(), getattr(torch.tensor(data), name)()
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    for torch_dtype in (torch.float64, torch.long, torch.float, torch.int32, torch.bool):
        assert str(mg.tensor(data).to(torch_dtype).dtype) == str(torch_dtype)[6:]
