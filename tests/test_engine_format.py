"""``f"{loss:.4f}"`` formats a 0-d tensor as its number, as in PyTorch (it raised
"unsupported format string passed to Tensor.__format__")."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("spec", [".4f", "", ">12.3e", "g", "+.1%"])
@pytest.mark.parametrize("value, dtype", [(0.123456, np.float32), (2.5, np.float64),
                                          (7, np.int64), (True, np.bool_)])
def test_a_0d_tensor_formats_as_its_number_like_pytorch(spec, value, dtype):
    if dtype is np.bool_ and spec in (">12.3e", "+.1%", ".4f", "g"):
        spec = ""  # a bool takes no numeric spec in Python either
    data = np.array(value, dtype=dtype)
    assert format(mg.tensor(data), spec) == format(torch.tensor(data), spec)


def test_a_loss_with_a_graph_formats_in_an_f_string():
    loss = (mg.tensor([0.5, 1.5], requires_grad=True) ** 2).mean()
    assert f"loss {loss:.4f}" == "loss 1.2500"


def test_a_tensor_with_dimensions_refuses_a_spec_with_the_fix_and_prints_without_one():
    t = mg.tensor([1.5, 2.5])
    with pytest.raises(TypeError, match=r"shape \(2,\).*Fix: .*item\(\)"):
        f"{t:.2f}"
    assert f"{t}" == str(t)
