"""Tensor reprs as PyTorch prints them (minigrad/display.py): by hand, and character for
character against PyTorch when it is installed."""

import numpy as np
import pytest

import minigrad as mg

CASES = {
    "floats": np.array([1.5, -2.25, 3.0], np.float32),
    "whole floats": np.array([1.0, -2.0, 300.0], np.float32),
    "zeros": np.zeros((2, 3), np.float32),
    "wide range": np.array([1e-5, 1.0, 3e4], np.float32),
    "tiny": np.array([1e-5, 2e-5], np.float32),
    "huge whole": np.array([1e9, 1.0], np.float32),
    "non-finite": np.array([np.nan, np.inf, -np.inf, 1.5], np.float32),
    "non-finite whole": np.array([np.nan, 2.0], np.float32),
    "scalar": np.array(3.25, np.float32),
    "int scalar": np.array(7),
    "ints": np.array([[1, -20], [300, 4]]),
    "int32": np.array([1, 2], np.int32),
    "bools": np.array([True, False]),
    "float64": np.array([0.1, 0.2]),
    "float16": np.array([0.5, 1.5], np.float16),
    "3-d": np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32),
    "long row wraps": np.linspace(-1, 1, 30, dtype=np.float32),
    "summarised": np.arange(2000, dtype=np.float32).reshape(40, 50) / 7,
    "summarised 1-d": np.arange(1500),
    "empty": np.zeros(0, np.float32),
    "empty 2-d": np.zeros((0, 3), np.float32),
    "empty int": np.zeros(0, np.int64),
}


def test_by_hand():
    x = mg.tensor([1.0, 2.5], requires_grad=True)
    assert repr(x) == "tensor([1.0000, 2.5000], requires_grad=True)"
    assert repr(mg.tensor([1.0, 2.5], requires_grad=True) * 2) == \
        "tensor([2., 5.], grad_fn=<MulBackward>)"
    assert repr(mg.tensor([[1, 2], [3, 4]])) == "tensor([[1, 2],\n        [3, 4]])"
    assert repr(mg.tensor([0.5], dtype=np.float64)) == "tensor([0.5000], dtype=minigrad.float64)"
    assert repr(mg.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(mg.nn.Parameter(np.ones(2, np.float32))) == \
        "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
    assert repr(mg.tensor(3.0).detach()) == "tensor(3.)"


@pytest.mark.parametrize("name", CASES)
def test_same_text_as_pytorch(name):
    torch = pytest.importorskip("torch")
    data = CASES[name]
    expected = repr(torch.from_numpy(data.copy())).replace("torch.", "minigrad.")
    assert repr(mg.tensor(data)) == expected


def test_suffixes_match_pytorch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(1).normal(size=(3, 7)).astype(np.float64)
    ours = (mg.tensor(data, requires_grad=True) * 2).sum(1)
    theirs = (torch.tensor(data, requires_grad=True) * 2).sum(1)
    assert repr(ours) == repr(theirs).replace("torch.", "minigrad.").replace(
        "SumBackward1", "SumBackward")
    leaf = mg.tensor(data[:, :6], requires_grad=True)  # a long line: the suffixes wrap
    assert repr(leaf) == repr(torch.tensor(data[:, :6], requires_grad=True)).replace(
        "torch.", "minigrad.")
