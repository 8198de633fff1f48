"""ModuleList and ParameterList take NumPy integers as indices (reviewer's finding F4 of
round 13), as PyTorch's containers and minigrad's Sequential do: ``_position`` required a
Python int. Bools stay as before (ModuleList: as 0/1; ParameterList: refused)."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


@pytest.mark.parametrize("integer", [np.int64, np.int32, np.uint8, np.intp])
def test_module_list_numpy_integers(integer):
    first, second, third = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    modules = nn.ModuleList([first, second, third])
    assert modules[integer(0)] is first and modules[integer(2)] is third
    if np.issubdtype(integer, np.signedinteger):
        assert modules[integer(-1)] is third
    replacement = nn.Identity()
    modules[integer(1)] = replacement
    assert modules[1] is replacement
    assert modules.pop(integer(1)) is replacement
    del modules[integer(0)]
    assert list(modules) == [third]
    with pytest.raises(IndexError, match="ModuleList: index 5 is out of range"):
        modules[integer(5)]


@pytest.mark.parametrize("integer", [np.int64, np.int16])
def test_parameter_list_numpy_integers(integer):
    params = nn.ParameterList([nn.Parameter(mg.zeros(1)), nn.Parameter(mg.ones(2))])
    assert params[integer(1)].shape == (2,)
    params[integer(0)] = nn.Parameter(mg.ones(3))
    assert params[0].shape == (3,)


def test_bools_and_non_integers_as_before():
    modules = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    assert modules[True] is modules[1]
    params = nn.ParameterList([nn.Parameter(mg.zeros(1)), nn.Parameter(mg.ones(2))])
    with pytest.raises(TypeError, match="ParameterList: indices must be integers or slices, "
                                        "got bool"):
        params[True]
    for bad in (1.0, np.float64(1.0), "1", np.bool_(True)):
        with pytest.raises(TypeError, match=f"ModuleList: indices must be integers or slices, "
                                            f"got {type(bad).__name__}"):
            modules[bad]
        with pytest.raises(TypeError, match="ParameterList: indices must be integers"):
            params[bad]


def test_like_pytorch():
    torch = pytest.importorskip("torch")
    modules = torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.Tanh()])
    assert isinstance(modules[np.int64(1)], torch.nn.Tanh)
    params = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(1))])
    assert params[np.int64(0)].shape == (1,)
