"""``~``, ``&``, ``|`` and ``^`` on bool masks (bitwise on integers), as in PyTorch: the
usual ``x[~mask]`` and ``(x > 0) & (x < 1)`` work, outside the graph like comparisons, and
gradients flow through the indexing they select with."""

import operator

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

MASK = np.array([True, False, True, False])
OTHER = np.array([False, False, True, True])
INTEGERS = np.array([1, 2, 6, 7])


@pytest.mark.parametrize("expression", [
    lambda m, n, i: ~m, lambda m, n, i: m & n, lambda m, n, i: m | n, lambda m, n, i: m ^ n,
    lambda m, n, i: True & m, lambda m, n, i: m | False, lambda m, n, i: m ^ True,
    lambda m, n, i: ~i, lambda m, n, i: i & 3, lambda m, n, i: 4 | i, lambda m, n, i: m & i,
])
def test_logical_and_bitwise_operators_match_pytorch(expression):
    result = expression(mg.tensor(MASK), mg.tensor(OTHER), mg.tensor(INTEGERS))
    expected = expression(torch.tensor(MASK), torch.tensor(OTHER), torch.tensor(INTEGERS))
    assert isinstance(result, mg.Tensor) and not result.requires_grad
    assert str(result.dtype) == str(expected.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(result.data, expected.numpy())


def test_indexing_with_an_inverted_and_combined_mask_sends_the_gradient_back():
    data = np.array([0.5, 2.0, -1.0, 3.0], np.float32)
    x = mg.tensor(data, requires_grad=True)
    reference = torch.tensor(data, requires_grad=True)
    for tensor in (x, reference):
        positive = tensor > 0
        (tensor[~positive | (tensor > 2.5)] ** 2).sum().backward()
    np.testing.assert_allclose(x.grad, reference.grad.numpy())


@pytest.mark.parametrize("expression", [
    lambda m, f: f & m, lambda m, f: m | f, lambda m, f: ~f, lambda m, f: m & 1.5,
])
def test_floats_are_refused_with_the_fix(expression):
    with pytest.raises(TypeError, match=r"[&|~].*Fix"):
        expression(mg.tensor(MASK), mg.tensor([1.0, 0.0, 1.0, 0.0]))


def test_shapes_that_do_not_broadcast_name_the_operator_and_the_shapes():
    with pytest.raises(ValueError, match=r"&: .*shape \(4,\).*\(3,\)"):
        mg.tensor(MASK) & mg.tensor(np.array([True, False, True]))


@pytest.mark.parametrize("call", [
    lambda t: t.any(), lambda t: t.all(), lambda t: t.any(1), lambda t: t.all(-1),
    lambda t: t.any(0, keepdim=True), lambda t: t.any(dim=(0, 1)), lambda t: (t > 0).all(),
])
@pytest.mark.parametrize("data", [np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),
                                  np.array([[True, True], [True, False]]), np.zeros((2, 0))])
def test_any_and_all_match_pytorch(call, data):
    result, expected = call(mg.tensor(data)), call(torch.tensor(data))
    assert result.dtype == np.bool_ and not result.requires_grad
    assert result.shape == tuple(expected.shape)
    np.testing.assert_array_equal(result.data, expected.numpy())


def test_any_reads_as_a_python_bool_in_an_if():
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    assert (x < 0).any() and not (x > 5).all()


DTYPES = ["int64", "int32", "uint8", "int8", "bool"]


@pytest.mark.parametrize("symbol", ["&", "|", "^"])
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((), (3,)), ((3,), ())])
@pytest.mark.parametrize("dtype_a", DTYPES)
@pytest.mark.parametrize("dtype_b", DTYPES)
def test_bitwise_result_dtypes_follow_pytorch_promotion(symbol, shapes, dtype_a, dtype_b):
    a = (np.array([1, 0, 3]) if shapes[0] else np.array(1)).astype(dtype_a)
    b = (np.array([1, 2, 0]) if shapes[1] else np.array(3)).astype(dtype_b)
    combine = {"&": lambda x, y: x & y, "|": lambda x, y: x | y, "^": lambda x, y: x ^ y}[symbol]
    ours, theirs = combine(mg.tensor(a), mg.tensor(b)), combine(torch.tensor(a), torch.tensor(b))
    assert str(ours.dtype) == str(theirs.dtype).split(".")[-1]
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("expression", [lambda m: m & 300, lambda m: 300 | m,
                                        lambda m: m ^ -1])
def test_a_number_the_dtype_cannot_hold_names_the_operator_and_the_fix(expression):
    with pytest.raises(ValueError, match=r"^[&|^]: .*does not fit .*uint8.*Fix"):
        expression(mg.tensor(np.array([1, 2], np.uint8)))


@pytest.mark.parametrize("in_place", [operator.iand, operator.ior, operator.ixor])
def test_in_place_bitwise_operators_write_into_the_mask_as_in_pytorch(in_place):
    seen = []
    for library in (mg, torch):
        mask = library.tensor(MASK)
        alias = mask
        mask = in_place(mask, library.tensor(OTHER))  # what `mask &= other` runs
        assert mask is alias  # the same tensor, changed in place
        seen.append(alias.tolist())
    assert seen[0] == seen[1]


def test_in_place_bitwise_operators_refuse_as_the_others_do():
    with pytest.raises(TypeError, match=r"&=: .*float32.*Fix"):
        weights = mg.ones(2)
        weights &= mg.tensor([True, False])
    small = mg.tensor(np.array([1, 2], np.uint8))
    with pytest.raises(ValueError, match=r"\|=: .*does not fit .*uint8.*Fix"):
        small |= 300
    with pytest.raises(TypeError, match=r"\^=: .*float32.*Fix"):
        small ^= mg.tensor([1.0, 2.0])  # a float operand: refused, as in PyTorch
    assert small.tolist() == [1, 2]
