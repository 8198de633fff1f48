"""The habits of test_pytorch_habits2.py against PyTorch itself: the same call on the same
data gives the same values, shapes, dtypes and gradients (and both refuse the same inputs)."""

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

torch = pytest.importorskip("torch")


def pair(*shape, seed=0):
    data = np.random.default_rng(seed).normal(size=shape)
    return (mg.tensor(data, requires_grad=True),
            torch.tensor(data, requires_grad=True))


def same_outputs_and_gradients(mine_fn, torch_fn, *shapes):
    """mine_fn on minigrad tensors and torch_fn on torch tensors: equal outputs (a tensor or a
    tuple of them) and equal gradients for a fixed weighted sum of the outputs."""
    pairs = [pair(*shape, seed=i) for i, shape in enumerate(shapes)]
    mine = mine_fn(*[m for m, _ in pairs])
    theirs = torch_fn(*[t for _, t in pairs])
    mine = mine if isinstance(mine, tuple) else (mine,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(mine) == len(theirs)
    rng = np.random.default_rng(1)
    mine_loss, torch_loss = 0, 0
    for m, t in zip(mine, theirs):
        assert m.shape == tuple(t.shape)
        np.testing.assert_allclose(m.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
        weights = rng.uniform(0.5, 1.5, size=m.shape)
        mine_loss = mine_loss + (m * mg.tensor(weights)).sum()
        torch_loss = torch_loss + (t * torch.tensor(weights)).sum()
    mine_loss.backward()
    torch_loss.backward()
    for m, t in pairs:
        expected = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(m.shape) if m.grad is None else m.grad
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call, shapes", [
    (lambda x: x.t(), [(2, 3)]),
    (lambda x: x.t(), [(3,)]),
    (lambda x: x.mT, [(4, 2, 3)]),
    (lambda x: x.expand(2, -1, 4), [(3, 1)]),
    (lambda x: x.expand(5, 2, 3), [(3,)]),
    (lambda x: x.expand((2, 3)), [(2, 1)]),
    (lambda x, y: x.expand_as(y), [(1, 3), (4, 2, 3)]),
    (lambda x: x.repeat(2), [(3,)]),
    (lambda x: x.repeat(2, 1, 3), [(2, 3)]),
    (lambda x: x.repeat(1, 2), [(2, 3)]),
    (lambda x: x.repeat(0, 2), [(2, 3)]),
    (lambda x: x.chunk(3), [(7, 2)]),
    (lambda x: x.chunk(4, dim=1), [(2, 6)]),
    (lambda x: x.chunk(4, 0), [(5,)]),
    (lambda x: x.split(2), [(5, 2)]),
    (lambda x: x.split([1, 3, 0], dim=-1), [(2, 4)]),
    (lambda x: x.split((2, 2), 0), [(4,)]),
    (lambda x: x.narrow(1, -3, 2), [(2, 4)]),
    (lambda x, y: mg.einsum("ij,jk->ik", x, y) if isinstance(x, mg.Tensor)
     else torch.einsum("ij,jk->ik", x, y), [(2, 3), (3, 4)]),
])
def test_shape_habits_match_pytorch(call, shapes):
    same_outputs_and_gradients(call, call, *shapes)


EINSUMS = [
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("ij->ji", [(2, 3)]), ("ij->i", [(2, 3)]),
    ("ij->", [(2, 3)]), ("i,j->ij", [(2,), (3,)]), ("ij,j", [(2, 3), (3,)]),
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("iij,jk->ik", [(2, 2, 3), (3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]), ("ba,ca", [(2, 3), (4, 3)]),
    ("i j , j k -> i k", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUMS)
def test_einsum_matches_pytorch(equation, shapes):
    same_outputs_and_gradients(lambda *ts: mg.einsum(equation, *ts),
                               lambda *ts: torch.einsum(equation, *ts), *shapes)


@pytest.mark.parametrize("mask, value", [
    ([True, False, True], -1.5), ([[True], [False]], float("-inf")), ([False, False, False], 2),
    ([[[True, False, False], [False, True, True]]], 0.0), ([True, True, False], True),
])
def test_masked_fill_matches_pytorch(mask, value):
    mask = np.array(mask)

    def call(x):
        m = mg.tensor(mask) if isinstance(x, mg.Tensor) else torch.tensor(mask)
        return x.masked_fill(m, value)

    same_outputs_and_gradients(call, call, (2, 3))


def test_masked_fill_with_a_tensor_value_and_on_integers_matches_pytorch():
    mask = np.array([True, False, True])
    same_outputs_and_gradients(
        lambda x, v: x.masked_fill(mg.tensor(mask), v.sum()),
        lambda x, v: x.masked_fill(torch.tensor(mask), v.sum()), (2, 3), (2,))
    mine = mg.tensor(np.arange(3)).masked_fill(mg.tensor(mask), 0.7)
    theirs = torch.arange(3).masked_fill(torch.tensor(mask), 0.7)
    assert mine.tolist() == theirs.tolist() and str(mine.dtype) == "int64"


@pytest.mark.parametrize("make", [
    lambda x: x.new_zeros(2, 3), lambda x: x.new_zeros((2,)), lambda x: x.new_ones(3),
    lambda x: x.new_full((2, 2), 3), lambda x: x.new_tensor([1, 2]),
    lambda x: x.new_full((2,), 1.5), lambda x: x.new_empty(0, 2),
])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_new_factories_match_pytorch(make, dtype):
    mine = make(mg.tensor(np.zeros(2, dtype)))
    theirs = make(torch.zeros(2, dtype=getattr(torch, dtype)))
    assert mine.shape == tuple(theirs.shape) and str(mine.dtype) == str(theirs.dtype)[6:]
    if mine.data.size and "empty" not in str(make):
        np.testing.assert_array_equal(mine.data, theirs.numpy())


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "uint8", "int8", "int16",
                                   "int32", "int64", "bool", "uint16"])
def test_type_names_match_pytorch(dtype):
    mine = mg.tensor(np.zeros(2, dtype))
    theirs = torch.zeros(2, dtype=getattr(torch, dtype))
    assert mine.type() == theirs.type()
    converted = mg.zeros(2).type(theirs.type())
    assert str(converted.dtype) == str(torch.zeros(2).type(theirs.type()).dtype)[6:]
    assert str(mg.zeros(2).type(getattr(torch, dtype)).dtype) == dtype


def test_device_and_cpu_match_pytorch():
    mine, theirs = mg.zeros(2), torch.zeros(2)
    assert repr(mine.device) == repr(theirs.device) and str(mine.device) == str(theirs.device)
    assert mine.device.type == theirs.device.type and mine.device.index == theirs.device.index
    assert (mine.cpu() is mine) and (theirs.cpu() is theirs)
    for spec in ("cuda:1", "cuda", "cpu"):
        assert repr(mg.device(spec)) == repr(torch.device(spec))
        assert str(mg.device(spec)) == str(torch.device(spec))
    assert repr(mg.device("cuda", 0)) == repr(torch.device("cuda", 0))


@pytest.mark.parametrize("args", [(0, 1, 5), (-2, 3, 1), (0, 1, 0), (1, 0, 4), (0.5, 2.5, 7)])
def test_linspace_matches_pytorch(args):
    np.testing.assert_allclose(mg.linspace(*args).data, torch.linspace(*args).numpy(), rtol=1e-6)
    assert str(mg.linspace(*args).dtype) == "float32"
    np.testing.assert_array_equal(mg.linspace(0, 10, 5, dtype=mg.int64).data,
                                  torch.linspace(0, 10, 5, dtype=torch.int64).numpy())


@pytest.mark.parametrize("args", [(3,), (2, 3), (3, 1), (0,), (2, 0)])
def test_eye_matches_pytorch(args):
    mine, theirs = mg.eye(*args), torch.eye(*args)
    assert str(mine.dtype) == "float32" == str(theirs.dtype)[6:]
    np.testing.assert_array_equal(mine.data, theirs.numpy())


def test_randint_matches_pytorchs_signature_dtype_and_range():
    for args in [(10, (3, 4)), (-3, 2, (50,)), (0, 1, (5,))]:
        mine, theirs = mg.randint(*args), torch.randint(*args)
        assert mine.shape == tuple(theirs.shape) and str(mine.dtype) == str(theirs.dtype)[6:]
        low, high = (0, args[0]) if len(args) == 2 else args[:2]
        assert low <= mine.data.min() and mine.data.max() < high
    for bad in [(3, 3, (2,)), (3, 5, 2)]:
        with pytest.raises((RuntimeError, TypeError)):
            torch.randint(*bad)
        with pytest.raises((ValueError, TypeError)):
            mg.randint(*bad)


def test_silu_matches_pytorch():
    same_outputs_and_gradients(F.silu, torch.nn.functional.silu, (3, 4))
    same_outputs_and_gradients(lambda x: nn.SiLU()(x), lambda x: torch.nn.SiLU()(x), (5,))
    extreme = np.array([-100.0, -20.0, 0.0, 20.0, 100.0])
    same_outputs_and_gradients(lambda x: F.silu(x * mg.tensor(extreme)),
                               lambda x: torch.nn.functional.silu(x * torch.tensor(extreme)),
                               (5,))
    assert repr(nn.SiLU()) == repr(torch.nn.SiLU())


def _grads(seed, shapes, scale):
    rng = np.random.default_rng(seed)
    return [np.array(rng.normal(size=shape) * scale, np.float32) for shape in shapes]


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, "inf", math.inf, 0.5])
@pytest.mark.parametrize("scale, max_norm", [(10.0, 1.0), (0.01, 1.0), (1.0, 0.0)])
def test_clip_grad_norm_matches_pytorch(norm_type, scale, max_norm):
    grads = _grads(0, [(3, 4), (4,), ()], scale)
    mine = [nn.Parameter(np.zeros_like(g)) for g in grads]
    theirs = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for m, t, g in zip(mine, theirs, grads):
        m.grad, t.grad = g.copy(), torch.tensor(g.copy())
    total = nn.utils.clip_grad_norm_(mine, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, mg.Tensor) and total.shape == tuple(expected.shape)
    assert str(total.dtype) == str(expected.dtype)[6:]
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-5)
    for m, t in zip(mine, theirs):
        np.testing.assert_allclose(m.grad, t.grad.numpy(), rtol=1e-5, atol=1e-8)


def test_clip_grad_norm_non_finite_matches_pytorch():
    grads = [np.array([np.inf, 1.0], np.float32), np.array([2.0], np.float32)]
    mine = [nn.Parameter(np.zeros_like(g)) for g in grads]
    theirs = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for m, t, g in zip(mine, theirs, grads):
        m.grad, t.grad = g.copy(), torch.tensor(g.copy())
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(mine, 1.0, error_if_nonfinite=True)
    total = nn.utils.clip_grad_norm_(mine, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert total.item() == expected.item() == math.inf
    for m, t in zip(mine, theirs):
        np.testing.assert_array_equal(m.grad, t.grad.numpy())


def test_clip_grad_value_matches_pytorch():
    grads = _grads(2, [(3, 4), (5,)], 2.0)
    mine = [nn.Parameter(np.zeros_like(g)) for g in grads]
    theirs = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for m, t, g in zip(mine, theirs, grads):
        m.grad, t.grad = g.copy(), torch.tensor(g.copy())
    assert nn.utils.clip_grad_value_(mine, 0.7) is torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for m, t in zip(mine, theirs):
        np.testing.assert_array_equal(m.grad, t.grad.numpy())


@pytest.mark.parametrize("call", [
    lambda x: x.t() if x.ndim == 3 else None,
    lambda x: x.expand(2, 4, 4),
    lambda x: x.expand(4),
    lambda x: x.expand(-1, 2, 3, 4),
    lambda x: x.repeat(2, 2),
    lambda x: x.repeat(-1, 1, 1),
    lambda x: x.chunk(0),
    lambda x: x.split(0),
    lambda x: x.split([1, 2]),
    lambda x: x.narrow(0, 1, 5),
])
def test_both_refuse_the_same_shape_mistakes(call):
    with pytest.raises(RuntimeError):
        call(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError):
        call(mg.zeros(2, 3, 4))


def test_both_refuse_a_non_bool_mask():
    with pytest.raises(RuntimeError, match="boolean masks"):
        torch.zeros(3).masked_fill(torch.tensor([1, 0, 1]), 0.0)
    with pytest.raises(TypeError, match="boolean masks"):
        mg.zeros(3).masked_fill(mg.tensor([1, 0, 1]), 0.0)
