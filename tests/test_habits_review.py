"""Regressions found by the review of round 12's PyTorch habits (each compared with
PyTorch 2.13, which the oracle halves check where installed)."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.data import random_split

NAN = float("nan")


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf"), float("-inf")])
def test_normalize_keeps_a_nan_slice_nan(p):
    # A NaN norm failed `norm >= eps`, so the slice was divided by eps: [nan, 1] became
    # [nan, 1e12]. PyTorch's clamp_min keeps NaN: the whole slice is NaN.
    out = F.normalize(mg.tensor([[NAN, 1.0], [3.0, 4.0]]), p=p, dim=1)
    assert np.isnan(out.data[0]).all() and np.isfinite(out.data[1]).all()
    assert np.array_equal(F.normalize(mg.tensor([[0.0, 0.0]]), dim=1).data, [[0.0, 0.0]])


@pytest.mark.parametrize("loss", [F.l1_loss, lambda x, t: F.smooth_l1_loss(x, t, beta=0.0)])
def test_the_l1_slope_at_nan_is_pytorchs_sign_zero(loss):
    x = mg.tensor([NAN, 1.0, 0.0], requires_grad=True)
    value = loss(x, mg.tensor([0.0, 0.0, 0.0]))
    value.backward()
    assert np.isnan(value.item())  # the loss says NaN; the slope is sign(nan) = 0
    np.testing.assert_allclose(x.grad, [0.0, 1 / 3, 0.0])
    # smooth L1 with beta > 0 and Huber keep NaN, as PyTorch's do
    y = mg.tensor([NAN, 1.0], requires_grad=True)
    F.smooth_l1_loss(y, mg.tensor([0.0, 0.0])).backward()
    assert np.isnan(y.grad[0])


def test_the_l1_slopes_match_pytorch_at_nan():
    torch = pytest.importorskip("torch")
    for ours, theirs in ((F.l1_loss, torch.nn.functional.l1_loss),
                         (F.smooth_l1_loss, torch.nn.functional.smooth_l1_loss),
                         (F.huber_loss, torch.nn.functional.huber_loss)):
        x = mg.tensor([NAN, 1.0, -2.0], requires_grad=True)
        tx = torch.tensor([NAN, 1.0, -2.0], requires_grad=True)
        ours(x, mg.zeros(3)).backward()
        theirs(tx, torch.zeros(3)).backward()
        np.testing.assert_array_equal(x.grad, tx.grad.numpy())


@pytest.mark.parametrize("amounts, mode", [((-3, 2), "constant"), ((2, -3), "constant"),
                                           ((0, -3), "reflect"), ((-3, 0), "replicate")])
def test_pad_refuses_crops_pytorch_refuses(amounts, mode):
    # A constant pad of (-3, 2) on 2 columns returned one padded 0: PyTorch crops first
    # and refuses; reflect and replicate that leave an axis empty are refused too
    # ("input too small"), while circular may (PyTorch: an empty result)
    x = mg.tensor(np.ones((1, 2, 3), np.float32)) if mode != "constant" else mg.tensor(
        [[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"pad: .*\(-?\d, -?\d\)"):
        F.pad(x, amounts, mode=mode)
    assert F.pad(mg.tensor([[1.0, 2.0]]), (-2, 2)).tolist() == [[0.0, 0.0]]  # all cropped: ok
    assert F.pad(mg.tensor(np.ones((1, 2, 3))), (-3, 0), mode="circular").shape == (1, 2, 0)


def test_pad_crops_match_pytorch():
    torch = pytest.importorskip("torch")
    x = np.arange(6.0).reshape(1, 2, 3)
    for amounts, mode in (((-3, 2), "constant"), ((0, -3), "reflect"), ((-3, 0), "replicate"),
                          ((-4, 2), "replicate"), ((-3, 2), "reflect"), ((-3, 0), "circular")):
        try:
            theirs = torch.nn.functional.pad(torch.tensor(x), amounts, mode=mode).numpy()
        except RuntimeError:
            with pytest.raises(ValueError):
                F.pad(mg.tensor(x), amounts, mode=mode)
        else:
            np.testing.assert_array_equal(F.pad(mg.tensor(x), amounts, mode=mode).data, theirs)


def test_arange_refuses_a_bool_dtype():
    with pytest.raises(TypeError, match="arange: a bool dtype"):
        mg.arange(-3, 3, dtype=mg.bool)


def test_topk_of_a_0d_tensor():
    assert mg.tensor(4.0).topk(1).values.item() == 4.0
    with pytest.raises(ValueError, match="topk: k=0 of a 0-d tensor"):
        mg.tensor(4.0).topk(0)


def test_random_split_refuses_fractions_adding_up_to_a_little_more_than_1():
    # math.isclose accepted 1.0000000001, and the rounding then made 11 samples of 10;
    # PyTorch requires a sum of at most 1
    with pytest.raises(ValueError, match="their sum: 1.0000000001"):
        random_split(range(10), [0.7, 0.3000000001])
    assert [len(s) for s in random_split(range(10), [0.7, 0.29999999999])] == [8, 2]


@pytest.mark.parametrize("value, dtype", [(300, mg.uint8), (float("inf"), mg.int64),
                                          (1e40, mg.float32)])
def test_mg_pad_refuses_a_value_its_dtype_cannot_hold_as_f_pad_does(value, dtype):
    # mg.pad (NumPy's widths) stored 300 into uint8 as 44 and inf into int64 as -2**63:
    # the twin of F.pad's check, now one check and one constant-pad op for both
    x = mg.zeros(2, dtype=dtype)
    for pad in (lambda: mg.pad(x, 1, value=value), lambda: F.pad(x, (1, 1), value=value)):
        with pytest.raises(ValueError, match=r"pad: value=.* does not fit the input's dtype"):
            pad()
    assert mg.pad(mg.ones(2, dtype=mg.uint8), 1, value=255).tolist() == [255, 1, 1, 255]
