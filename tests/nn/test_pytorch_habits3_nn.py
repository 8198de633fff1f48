"""Round 12's PyTorch habits in nn: L1Loss, SmoothL1Loss, HuberLoss (and their F forms),
F.normalize, F.pad and ParameterList; gradients by gradcheck, values and gradients against
PyTorch where it is installed, and the refusals of bad input."""

import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

RNG = np.random.default_rng(12)


def leaf(array):
    return mg.tensor(np.array(array, dtype=np.float64), requires_grad=True)


# Errors of every size, none within 1e-3 of a kink (0, ±beta, ±delta) for finite differences
def _errors(shape, avoid=(0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0)):
    values = RNG.normal(scale=1.5, size=shape)
    for point in avoid:
        close = np.abs(values - point) < 1e-2
        values[close] += 0.05
    return values


LOSSES = [
    ("l1_loss", {}),
    ("smooth_l1_loss", {}),
    ("smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", {"beta": 0.0}),
    ("huber_loss", {}),
    ("huber_loss", {"delta": 2.0}),
]


# -- losses: gradients ------------------------------------------------------------------------


@pytest.mark.parametrize("name, options", LOSSES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_gradients_for_input_and_target_pass_gradcheck(name, options, reduction):
    x, t = leaf(_errors((3, 4))), leaf(np.zeros((3, 4)))
    fn = getattr(F, name)
    assert mg.gradcheck(lambda a, b: fn(a, b, reduction=reduction, **options), [x, t])


def test_l1_gradient_at_zero_error_is_zero_as_pytorch_sign():
    x = leaf([0.0, 1.0, -2.0])
    F.l1_loss(x, np.array([0.0, 0.0, 0.0])).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1 / 3, -1 / 3])


def test_smooth_l1_with_beta_zero_is_l1_value_and_gradient():
    x = leaf([0.0, 1.0, -3.0, 0.25])
    t = np.array([0.0, 0.0, 0.0, 0.0])
    loss = F.smooth_l1_loss(x, t, beta=0.0, reduction="sum")
    loss.backward()
    assert loss.item() == pytest.approx(4.25)
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, -1.0, 1.0])  # no 0/0 NaN


def test_huber_is_delta_times_smooth_l1_with_beta_delta():
    x, t = mg.tensor(_errors((5,))), np.zeros(5)
    huber = F.huber_loss(x, t, delta=2.0, reduction="none").data
    smooth = F.smooth_l1_loss(x, t, beta=2.0, reduction="none").data
    np.testing.assert_allclose(huber, 2.0 * smooth)


def test_modules_hold_their_settings_and_call_the_functions():
    x, t = mg.tensor(_errors((2, 3))), np.zeros((2, 3))
    assert repr(nn.SmoothL1Loss(beta=2.0)) == "SmoothL1Loss()"  # PyTorch shows no settings
    np.testing.assert_allclose(nn.SmoothL1Loss("sum", 0.5)(x, t).data,
                               F.smooth_l1_loss(x, t, reduction="sum", beta=0.5).data)
    np.testing.assert_allclose(nn.HuberLoss(delta=2.0)(x, t).data,
                               F.huber_loss(x, t, delta=2.0).data)
    np.testing.assert_allclose(nn.L1Loss(reduction="none")(x, t).data, np.abs(x.data))
    assert nn.SmoothL1Loss().beta == 1.0 and nn.HuberLoss().delta == 1.0
    assert nn.L1Loss().state_dict() == {}


# -- losses: against PyTorch ------------------------------------------------------------------


@pytest.mark.parametrize("name, options", LOSSES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_torch_values_and_gradients(name, options, reduction):
    torch = pytest.importorskip("torch")
    values = _errors((4, 3)).astype(np.float32)
    values[0, 0] = 0.0  # an exact zero error: the gradient there (sign(0) = 0)
    target = RNG.normal(size=(4, 3)).astype(np.float32)
    target[0, 0] = 0.0
    x, t = mg.tensor(values, requires_grad=True), mg.tensor(target, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    tt = torch.tensor(target, requires_grad=True)
    ours = getattr(F, name)(x, t, reduction=reduction, **options)
    theirs = getattr(torch.nn.functional, name)(tx, tt, reduction=reduction, **options)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-6, atol=1e-7)
    weights = RNG.normal(size=ours.shape).astype(np.float32)
    (ours * mg.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_loss_modules_convert_to_torch_with_their_settings():
    torch = pytest.importorskip("torch")
    from minigrad.nn.utils import to_torch

    smooth, huber = to_torch(nn.SmoothL1Loss("sum", beta=0.5)), to_torch(nn.HuberLoss(delta=3.0))
    assert isinstance(smooth, torch.nn.SmoothL1Loss) and smooth.beta == 0.5
    assert smooth.reduction == "sum"
    assert isinstance(huber, torch.nn.HuberLoss) and huber.delta == 3.0
    assert to_torch(nn.L1Loss("none")).reduction == "none"


# -- losses: refusals -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["l1_loss", "smooth_l1_loss", "huber_loss"])
def test_loss_refuses_mismatched_shapes_naming_both_and_the_fix(name):
    with pytest.raises(ValueError, match=rf"{name}: .*target of shape \(3, 1\).*input shape "
                                         r"\(3,\).*Fix"):
        getattr(F, name)(mg.tensor(np.zeros(3)), np.zeros((3, 1)))


@pytest.mark.parametrize("make", [lambda: nn.L1Loss("avg"), lambda: nn.SmoothL1Loss("avg"),
                                  lambda: nn.HuberLoss(reduction="avg"),
                                  lambda: F.l1_loss(mg.zeros(2), np.zeros(2), reduction="avg")])
def test_bad_reduction_is_refused(make):
    with pytest.raises(ValueError, match=r"reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        make()


def test_negative_beta_and_non_positive_delta_are_refused_with_the_fix():
    x = mg.zeros(2)
    with pytest.raises(ValueError, match=r"SmoothL1Loss: beta must be >= 0.*beta=-1.0.*Fix"):
        nn.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be >= 0"):
        F.smooth_l1_loss(x, np.zeros(2), beta=float("nan"))
    with pytest.raises(ValueError, match=r"HuberLoss: delta must be > 0.*delta=0.0"):
        nn.HuberLoss(delta=0.0)
    with pytest.raises(ValueError, match=r"huber_loss: delta must be > 0"):
        F.huber_loss(x, np.zeros(2), delta=-2)
    with pytest.raises(TypeError, match=r"huber_loss: delta must be a number, got str"):
        F.huber_loss(x, np.zeros(2), delta="1")


def test_integer_input_is_refused():
    with pytest.raises(TypeError, match=r"l1_loss: input must be floating point.*\.float\(\)"):
        F.l1_loss(mg.tensor(np.arange(3)), np.zeros(3))


# -- F.normalize ------------------------------------------------------------------------------


@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 0), (3.0, -1), (float("inf"), 1)])
def test_normalize_passes_gradcheck(p, dim):
    x = leaf(_errors((3, 4)))
    assert mg.gradcheck(lambda a: F.normalize(a, p=p, dim=dim), [x])


def test_normalize_keeps_a_zero_row_at_zero_with_the_eps_divisor_gradient():
    x = leaf([[3.0, 4.0], [0.0, 0.0]])
    y = F.normalize(x)
    np.testing.assert_allclose(y.data, [[0.6, 0.8], [0.0, 0.0]])
    (y * mg.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))).sum().backward()
    np.testing.assert_allclose(x.grad[1], [3e12, 4e12])  # 1/eps: the divisor is the constant


@pytest.mark.parametrize("p, dim, eps", [(2.0, 1, 1e-12), (1.0, 0, 1e-12), (2.0, -1, 0.5),
                                         (float("inf"), 1, 1e-12)])
def test_normalize_matches_torch(p, dim, eps):
    torch = pytest.importorskip("torch")
    values = _errors((3, 4))
    values[2] = 0.0  # a zero row
    values[1] *= 0.1  # a row whose 2-norm may be below eps=0.5
    x, tx = leaf(values), torch.tensor(values, requires_grad=True)
    ours, theirs = F.normalize(x, p=p, dim=dim, eps=eps), torch.nn.functional.normalize(
        tx, p=p, dim=dim, eps=eps)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = RNG.normal(size=values.shape)
    (ours * mg.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_normalize_refuses_a_dim_out_of_range_and_integers():
    with pytest.raises(ValueError, match=r"normalize: dim=1 is out of range for an input of "
                                         r"shape \(3,\).*Fix: e.g. dim=-1"):
        F.normalize(mg.zeros(3))
    with pytest.raises(ValueError, match=r"normalize: p='fro' is not supported"):
        F.normalize(mg.zeros(2, 2), p="fro")
    with pytest.raises(ValueError, match=r"normalize: p=-1 is not supported"):
        F.normalize(mg.zeros(2, 2), p=-1)
    with pytest.raises(TypeError, match=r"normalize: expected a floating-point input"):
        F.normalize(mg.tensor(np.ones((2, 2), np.int64)))


# -- F.pad ------------------------------------------------------------------------------------


def test_pad_order_is_last_axis_first_and_negative_amounts_crop():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(F.pad(x, (1, 0)).data, [[0, 0, 1, 2], [0, 3, 4, 5]])
    np.testing.assert_array_equal(F.pad(x, (0, 0, 1, 0), value=9.0).data,
                                  [[9, 9, 9], [0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(F.pad(x, (-1, 1)).data, [[1, 2, 0], [4, 5, 0]])
    assert F.pad(x, (-3, 0)).shape == (2, 0)  # cropped to nothing, as PyTorch


@pytest.mark.parametrize("mode, pad", [("constant", (1, 2, -1, 1)), ("constant", (2, -1)),
                                       ("reflect", (2, 1, 1, 2)), ("reflect", (-1, 2)),
                                       ("replicate", (3, 1, 0, 2)), ("replicate", (-1, 5)),
                                       ("circular", (3, 2, 1, 2)), ("circular", (-1, 3))])
def test_pad_passes_gradcheck(mode, pad):
    x = leaf(RNG.normal(size=(2, 3, 4)))
    assert mg.gradcheck(lambda a: F.pad(a, pad, mode=mode), [x])


@pytest.mark.parametrize("mode, pad, shape", [
    ("constant", (1, 2), (2, 3)), ("constant", (1, -1, 2, 0, 1, 1), (2, 3, 4)),
    ("constant", (-2, -1, 0, 3), (2, 3, 4)),
    ("reflect", (2, 1), (2, 3, 4)), ("reflect", (1, 2, 2, 0), (1, 2, 3, 4)),
    ("reflect", (-1, 2), (2, 4)), ("reflect", (1, 1, 1, 1, 1, 1), (1, 2, 3, 3, 3)),
    ("replicate", (3, 5), (2, 3)), ("replicate", (2, 0, 1, 3), (2, 3, 4)),
    ("replicate", (1, 1, 2, 2, 0, 1), (2, 3, 4, 5)),
    ("circular", (3, 4), (2, 3, 4)), ("circular", (1, 2, 3, 0), (1, 2, 3, 4)),
    ("circular", (-1, 2), (2, 4)), ("circular", (2, -1), (2, 4)),
    ("circular", (-1, 3), (2, 4)), ("reflect", (3, -2), (2, 4)),
    # crops that take an edge away: PyTorch crops first, then pads what is left
    ("replicate", (-4, 2), (2, 3)), ("reflect", (-3, 2), (2, 3)), ("circular", (-3, 0), (2, 3))])
def test_pad_matches_torch_values_and_gradients(mode, pad, shape):
    torch = pytest.importorskip("torch")
    values = RNG.normal(size=shape)
    x, tx = leaf(values), torch.tensor(values, requires_grad=True)
    value = {"value": 1.5} if mode == "constant" else {}
    ours, theirs = F.pad(x, pad, mode=mode, **value), torch.nn.functional.pad(
        tx, pad, mode=mode, **value)
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
    weights = RNG.normal(size=ours.shape)
    (ours * mg.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_pad_constant_value_follows_the_dtype_as_pytorch():
    x = mg.tensor(np.arange(3))
    out = F.pad(x, (1, 0), value=2.5)
    assert out.dtype == np.int64 and out.data.tolist() == [2, 0, 1, 2]


@pytest.mark.parametrize("value, dtype", [(float("inf"), np.int64), (float("nan"), np.int64),
                                          (300, np.uint8), (1e30, np.float16)])
def test_pad_refuses_a_value_the_dtype_cannot_hold_as_pytorch(value, dtype):
    # NumPy stored -2**63 for inf and NaN in int64 (and 0 for 300 in uint8, with a warning)
    with pytest.raises(ValueError, match=re.escape(f"pad: value={value!r} does not fit the "
                                                   f"input's dtype {np.dtype(dtype)}")):
        F.pad(mg.tensor(np.zeros(2, dtype)), (1, 0), value=value)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="without overflow"):
        torch.nn.functional.pad(torch.from_numpy(np.zeros(2, dtype)), (1, 0), value=value)


def test_pad_output_is_a_new_array_even_with_nothing_to_pad():
    x = mg.tensor(np.zeros((1, 2, 3)))
    for mode in ("constant", "reflect"):
        out = F.pad(x, (0, 0), mode=mode)
        assert not np.shares_memory(out.data, x.data)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: F.pad(x, (1,)), ValueError, r"pad: the pad tuple must have an even length"),
    (lambda x: F.pad(x, (1, 1) * 4), ValueError,
     r"pad: a pad tuple of length 8 pads 4 axes, but the input of 3 dimension\(s\)"),
    (lambda x: F.pad(x, (1.5, 1)), TypeError, r"pad: pad must be a tuple of ints, got float"),
    (lambda x: F.pad(x, 1), TypeError, r"pad: pad must be a tuple of ints"),
    (lambda x: F.pad(x, (-5, 0)), ValueError,
     r"pad: the input of shape \(1, 2, 3\) has size 3 along axis 2.*leave -2 elements"),
    (lambda x: F.pad(x, (1, 1), mode="bogus"), ValueError, r"pad: unknown mode 'bogus'"),
    (lambda x: F.pad(x, (1, 1), mode="reflect", value=2.0), ValueError,
     r"pad: mode 'reflect' takes no value"),
    (lambda x: F.pad(x, (3, 0), mode="reflect"), ValueError,
     r"pad: mode 'reflect' can add less than the axis's size.*size 3.*\(3, 0\)"),
    (lambda x: F.pad(x, (0, 4), mode="circular"), ValueError,
     r"pad: mode 'circular' can add at most the axis's size"),
    (lambda x: F.pad(x, (1,) * 6, mode="replicate"), ValueError,
     r"pad: mode 'replicate' pads the last 1, 2 or 3 axes.*length 6 and an input of shape "
     r"\(1, 2, 3\)"),
    (lambda x: F.pad(x.reshape(-1), (1, 1), mode="reflect"), ValueError,
     r"a pad of length 2 needs a 2-D or 3-D input"),
    (lambda x: F.pad(mg.zeros(1, 2, 0), (1, 1), mode="replicate"), ValueError,
     r"pad: mode 'replicate' needs elements to copy"),
    (lambda x: F.pad(x, (1, 1), value="a"), TypeError, r"pad: value must be a number"),
])
def test_pad_refusals_name_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call(mg.tensor(np.zeros((1, 2, 3))))


def test_pad_refusals_match_where_torch_refuses():
    """Every case refused above is refused by PyTorch too (minigrad's error is clearer)."""
    torch = pytest.importorskip("torch")
    x = torch.zeros(1, 2, 3)
    for args, kwargs in [(((1,),), {}), (((1, 1) * 4,), {}), (((-5, 0),), {}),
                         (((3, 0),), {"mode": "reflect"}), (((0, 4),), {"mode": "circular"}),
                         (((1,) * 6,), {"mode": "replicate"}),
                         (((1, 1),), {"mode": "reflect", "value": 2.0})]:
        with pytest.raises((RuntimeError, NotImplementedError)):
            torch.nn.functional.pad(x, *args, **kwargs)


# -- ParameterList ----------------------------------------------------------------------------


class Scales(nn.Module):
    def __init__(self):
        super().__init__()
        self.scales = nn.ParameterList([nn.Parameter(mg.ones(3)), mg.zeros(2, 2)])
        self.bias = nn.Parameter(mg.zeros(1))

    def forward(self, x):
        return x * self.scales[0] + self.bias


def test_parameter_list_registers_indexes_and_grows_as_a_list():
    plist = nn.ParameterList()
    assert len(plist) == 0 and list(plist) == []
    a, b, c = (nn.Parameter(mg.ones(i + 1)) for i in range(3))
    assert plist.append(a) is plist
    plist.extend([b])
    plist += [c]
    assert len(plist) == 3 and list(plist) == [a, b, c]
    assert plist[0] is a and plist[-1] is c
    assert [n for n, _ in plist.named_parameters()] == ["0", "1", "2"]
    part = plist[1:]
    assert isinstance(part, nn.ParameterList) and list(part) == [b, c]
    d = nn.Parameter(mg.zeros(5))
    plist[1] = d
    assert list(plist) == [a, d, c] and list(plist.state_dict()) == ["0", "1", "2"]
    with pytest.raises(IndexError, match=r"ParameterList: index 3 is out of range for 3"):
        plist[3]  # noqa: B018


def test_parameter_list_makes_a_tensor_a_parameter_and_refuses_other_things():
    plist = nn.ParameterList([mg.zeros(2)])
    assert isinstance(plist[0], nn.Parameter) and plist[0].requires_grad
    with pytest.raises(TypeError, match=r"ParameterList.append: expected a Parameter or a "
                                        r"Tensor, got float.*Fix"):
        plist.append(1.0)
    with pytest.raises(TypeError, match=r"ParameterList.extend: expected an iterable of "
                                        r"parameters, got a single Parameter.*append"):
        plist.extend(nn.Parameter(mg.zeros(2)))


def test_parameter_list_in_a_model_names_state_dict_optimizer_and_dtype():
    model = Scales()
    assert [n for n, _ in model.named_parameters()] == ["bias", "scales.0", "scales.1"]
    state = model.state_dict()
    assert list(state) == ["bias", "scales.0", "scales.1"]
    state["scales.1"] = np.full((2, 2), 7.0, np.float32)
    model.load_state_dict(state)
    np.testing.assert_array_equal(model.scales[1].data, np.full((2, 2), 7.0))
    optimizer = mg.optim.SGD(model.parameters(), lr=0.5)
    loss = (model.scales[0] * 2).sum() + model.scales[1].sum()
    loss.backward()
    optimizer.step()
    np.testing.assert_array_equal(model.scales[0].data, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(model.scales[1].data, np.full((2, 2), 6.5))
    model.double()
    assert model.scales[0].dtype == np.float64
    assert "(0): Parameter containing: [minigrad.float64 of size 3]" in repr(model)


def test_parameter_list_matches_torch_names_and_converts():
    torch = pytest.importorskip("torch")
    from minigrad.nn.utils import to_torch

    theirs = torch.nn.Module()
    theirs.scales = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(3)),
                                            torch.zeros(2, 2)])
    theirs.bias = torch.nn.Parameter(torch.zeros(1))
    ours = Scales()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    converted = to_torch(ours)
    assert isinstance(converted.scales, torch.nn.ParameterList) and len(converted.scales) == 2
    assert list(converted.state_dict()) == list(theirs.state_dict())
    np.testing.assert_array_equal(converted.scales[0].detach().numpy(), ours.scales[0].data)
    theirs.load_state_dict(ours.state_dict(as_torch=True))
