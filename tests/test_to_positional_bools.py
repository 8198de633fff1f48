"""`Tensor.to` and `Module.to` with PyTorch's positional bools (non_blocking, copy).

A second review found that a bool with no dtype, device or tensor before it was taken as a
flag and silently ignored (`x.to(True)` returned x unchanged: PyTorch gives a bool tensor),
and that `Module.to` took `copy` positionally although it refuses the keyword, as PyTorch
does."""

import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("args", [(True,), (False,), (False, False), (True, mg.float64)])
def test_a_leading_bool_is_refused_with_the_fix(args):
    x = mg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"to: a bool .*Fix: x.to\(mg.bool\)"):
        x.to(*args)


def test_bools_after_a_dtype_or_device_are_non_blocking_and_copy():
    x = mg.tensor([1.0, 2.0])
    assert x.to(mg.float32, False) is x
    copied = x.to(mg.float32, False, True)
    assert copied is not x and copied.dtype == np.float32
    assert x.to("cpu", mg.float64, False, True).dtype == np.float64
    assert x.to(mg.bool).dtype == np.bool_


def test_module_to_refuses_copy_given_positionally():
    model = mg.nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Module.to: does not accept a copy argument"):
        model.to(mg.float64, True, True)
    assert model.weight.dtype == np.float32  # nothing converted
    assert model.to(mg.float64, True) is model  # non_blocking alone: accepted
    assert model.weight.dtype == np.float64
