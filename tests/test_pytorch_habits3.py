"""PyTorch habits that were AttributeErrors, round 12: ``flip``, ``roll``, ``cumsum``,
``sort``/``argsort``/``topk``, ``tril``/``triu``, ``logsumexp``, ``repeat_interleave``
(as Tensor methods and ``mg.*`` functions).

Gradients are checked with `gradcheck`; values and gradients are compared with PyTorch
itself in the tests that ask for it (``pytest.importorskip("torch")`` inside them, so the
rest runs without torch)."""

import math

import numpy as np
import pytest

import minigrad as mg

NAN, INF = math.nan, math.inf
NEW_OPS = ["flip", "roll", "cumsum", "logsumexp", "sort", "argsort", "topk", "tril", "triu",
           "repeat_interleave"]


def leaf(*shape, seed=0):
    data = np.random.default_rng(seed).normal(size=shape)
    return mg.tensor(data, requires_grad=True)


def _torch():
    return pytest.importorskip("torch")


def test_every_op_is_a_method_a_function_and_exported():
    for name in NEW_OPS:
        assert callable(getattr(mg.Tensor, name)), name
        assert callable(getattr(mg, name)) and name in mg.__all__, name
        assert name in mg.ops.__all__, name


# -- gradients (gradcheck) ---------------------------------------------------------------------

@pytest.mark.parametrize("fn, shape", [
    (lambda a: a.flip(0), (3, 4)),
    (lambda a: a.flip(0, -1), (2, 3, 4)),
    (lambda a: mg.flip(a, [1]), (2, 3, 4)),
    (lambda a: a.roll(2), (3, 4)),
    (lambda a: a.roll((1, -2), (0, -1)), (3, 4)),
    (lambda a: mg.roll(a, 5, dims=1), (3, 4)),
    (lambda a: a.cumsum(0), (3, 4)),
    (lambda a: mg.cumsum(a, dim=-1), (2, 3, 4)),
    (lambda a: a.sort().values, (3, 5)),
    (lambda a: a.sort(0, descending=True).values, (4, 3)),
    (lambda a: mg.sort(a, dim=1, stable=True)[0], (2, 4, 3)),
    (lambda a: a.topk(2).values, (3, 5)),
    (lambda a: a.topk(3, dim=0, largest=False).values, (4, 3)),
    (lambda a: a.tril(), (4, 4)),
    (lambda a: a.triu(1), (2, 3, 5)),
    (lambda a: mg.tril(a, -1), (2, 5, 3)),
    (lambda a: a.logsumexp(1), (3, 4)),
    (lambda a: a.logsumexp((0, 2), keepdim=True), (2, 3, 4)),
    (lambda a: mg.logsumexp(a, -1), (5,)),
    (lambda a: a.repeat_interleave(2), (2, 3)),
    (lambda a: a.repeat_interleave(mg.tensor([0, 3, 1]), dim=1), (2, 3)),
    (lambda a: mg.repeat_interleave(a, [2, 1], dim=-2), (2, 3)),
])
def test_gradients_match_central_differences(fn, shape):
    assert mg.gradcheck(fn, [leaf(*shape)])


def test_sort_and_topk_gradients_go_to_the_elements_they_came_from():
    x = mg.tensor([3.0, 1.0, 2.0], requires_grad=True)
    x.sort(descending=True).values.backward(mg.tensor([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(x.grad, [10.0, 30.0, 20.0])
    x.grad = None
    x.topk(2, largest=False).values.backward(mg.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 2.0])


def test_cumsum_gradient_is_the_reversed_running_sum():
    x = leaf(4)
    x.cumsum(0).backward(mg.tensor([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [10.0, 9.0, 7.0, 4.0])


def test_repeat_interleave_gradient_adds_the_copies_and_zero_for_none():
    x = leaf(3)
    x.repeat_interleave(mg.tensor([2, 0, 3])).backward(mg.tensor([1.0, 2, 3, 4, 5]))
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 12.0])


# -- values -----------------------------------------------------------------------------------

def test_values_against_numpy():
    x = leaf(3, 4)
    np.testing.assert_array_equal(x.flip(0, 1).data, x.data[::-1, ::-1])
    np.testing.assert_array_equal(x.roll(1).data, np.roll(x.data, 1))
    np.testing.assert_array_equal(x.roll(-1, 1).data, np.roll(x.data, -1, 1))
    np.testing.assert_allclose(x.cumsum(1).data, np.cumsum(x.data, 1))
    np.testing.assert_array_equal(x.sort(0).values.data, np.sort(x.data, 0))
    np.testing.assert_array_equal(x.argsort().data, np.argsort(x.data, -1))
    np.testing.assert_array_equal(x.tril(1).data, np.tril(x.data, 1))
    np.testing.assert_array_equal(x.triu(-1).data, np.triu(x.data, -1))
    np.testing.assert_allclose(x.logsumexp(1).data, np.log(np.exp(x.data).sum(1)))
    np.testing.assert_array_equal(x.repeat_interleave(2, 0).data, np.repeat(x.data, 2, 0))
    np.testing.assert_array_equal(mg.tensor([1, 2]).repeat_interleave(2).data, [1, 1, 2, 2])


def test_sort_returns_a_named_tuple_of_values_and_int64_indices():
    result = mg.tensor([2.0, 0.5, 1.0]).sort()
    values, indices = result
    assert values is result.values and indices is result.indices
    np.testing.assert_array_equal(values.data, [0.5, 1.0, 2.0])
    assert indices.dtype == np.int64 and indices.tolist() == [1, 2, 0]
    top = mg.tensor([2.0, 0.5, 1.0]).topk(2)
    assert top.values.tolist() == [2.0, 1.0] and top.indices.tolist() == [0, 2]
    assert mg.tensor([2.0, 0.5]).argsort().dtype == np.int64


def test_ties_keep_input_order_in_both_directions_and_topk_takes_the_first():
    x = mg.tensor([3.0, 1.0, 3.0, 1.0, 2.0])
    assert x.sort().indices.tolist() == [1, 3, 4, 0, 2]
    assert x.sort(descending=True).indices.tolist() == [0, 2, 4, 1, 3]
    assert x.argsort(descending=True).tolist() == [0, 2, 4, 1, 3]
    assert x.topk(1).indices.tolist() == [0]
    assert x.topk(2, largest=False).indices.tolist() == [1, 3]
    # stable=False is stable too: the same result
    assert x.sort(stable=False).indices.tolist() == x.sort(stable=True).indices.tolist()


def test_nan_is_the_largest_value():
    x = mg.tensor([1.0, NAN, -INF, 0.0])
    assert x.sort().indices.tolist() == [2, 3, 0, 1]
    assert x.sort(descending=True).indices.tolist() == [1, 0, 3, 2]
    assert x.topk(1).indices.tolist() == [1] and math.isnan(x.topk(1).values.item())
    assert x.topk(1, largest=False).indices.tolist() == [2]


def test_flip_copies_and_accepts_int_tuple_list_and_no_dims():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    out = x.flip(1)
    out.data[0, 0] = 100.0
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    for flipped in (x.flip(0), x.flip((0,)), x.flip([0]), mg.flip(x, 0), mg.flip(x, (0,)),
                    x.flip(dims=[0]), mg.flip(x, dims=(0,))):
        assert flipped.tolist() == [[3.0, 4.0], [1.0, 2.0]]
    assert mg.flip(x, ()).tolist() == x.tolist()
    assert mg.tensor(5.0).flip(0).item() == 5.0


def test_roll_repeated_dims_add_up_and_none_rolls_the_flattened_tensor():
    x = mg.arange(6).reshape(2, 3)
    assert x.roll((1, 1), (1, 1)).tolist() == [[1, 2, 0], [4, 5, 3]]
    assert x.roll(1).tolist() == [[5, 0, 1], [2, 3, 4]]
    assert x.roll((1,)).tolist() == [[5, 0, 1], [2, 3, 4]]
    assert x.roll(-7, 0).tolist() == [[3, 4, 5], [0, 1, 2]]


@pytest.mark.parametrize("dtype, expected", [
    (mg.bool, np.int64), (mg.uint8, np.int64), (mg.int32, np.int64), (mg.int8, np.int64),
    (mg.float32, np.float32), (mg.float16, np.float16), (mg.float64, np.float64)])
def test_cumsum_dtypes(dtype, expected):
    out = mg.tensor([1, 1, 0, 1]).to(dtype).cumsum(0)
    assert out.dtype == expected and out.tolist() == [1, 2, 2, 3]


def test_cumsum_uint8_does_not_wrap_and_dtype_converts_first():
    assert mg.tensor([200, 100], dtype=mg.uint8).cumsum(0).tolist() == [200, 300]
    out = mg.tensor([1, 2]).cumsum(0, dtype=mg.float32)
    assert out.dtype == np.float32 and out.tolist() == [1.0, 3.0]


def test_zero_d_and_empty_tensors():
    s = mg.tensor(2.0, requires_grad=True)
    assert s.cumsum(0).shape == () and s.cumsum(-1).item() == 2.0
    assert s.sort().values.shape == () and s.sort().indices.shape == ()
    assert s.topk(1).values.item() == 2.0 and s.argsort().shape == ()
    assert s.logsumexp(0).item() == 2.0 and s.roll(3).item() == 2.0
    assert s.repeat_interleave(3).tolist() == [2.0, 2.0, 2.0]
    e = mg.zeros(0, 3)
    assert e.sort(0).values.shape == (0, 3) and e.sort(0).indices.dtype == np.int64
    assert e.topk(0, dim=0).values.shape == (0, 3) and e.topk(2, dim=1).values.shape == (0, 2)
    assert e.cumsum(0).shape == (0, 3) and e.flip(0).shape == (0, 3)
    assert e.roll(1, 0).shape == (0, 3) and e.tril().shape == (0, 3)
    assert e.repeat_interleave(2, 1).shape == (0, 6)
    assert e.logsumexp(1).shape == (0,)
    assert e.logsumexp(0).tolist() == [-INF, -INF, -INF]  # the log of an empty sum


def test_tril_triu_on_batches_bools_and_infinities():
    x = mg.ones(2, 3, 4)
    np.testing.assert_array_equal(x.tril(1).data, np.broadcast_to(np.tril(np.ones((3, 4)), 1),
                                                                  (2, 3, 4)))
    m = mg.ones(3, 3, dtype=mg.bool).triu(1)
    assert m.dtype == np.bool_ and m.tolist() == [[False, True, True], [False, False, True],
                                                   [False, False, False]]
    # zeros are put with where, not by multiplying: -inf * 0 would be NaN
    scores = mg.full((2, 2), -INF).tril()
    assert scores.tolist() == [[-INF, 0.0], [-INF, -INF]]
    assert mg.ones(2, 3).tril(5).tolist() == [[1.0] * 3] * 2
    assert mg.ones(2, 3).triu(-7).tolist() == [[1.0] * 3] * 2
    assert mg.ones(2, 3).tril(-5).tolist() == [[0.0] * 3] * 2


def test_logsumexp_is_stable_and_handles_infinities():
    big = mg.tensor([1000.0, 1000.0], requires_grad=True)
    out = big.logsumexp(0)
    assert out.item() == pytest.approx(1000.0 + math.log(2))
    out.backward()
    np.testing.assert_allclose(big.grad, [0.5, 0.5])
    # an attention row that is all masked: -inf, and a zero (not NaN) gradient
    masked = mg.tensor([[-INF, -INF], [0.0, 0.0]], requires_grad=True)
    out = masked.logsumexp(1)
    assert out.data[0] == -INF
    out.sum().backward()
    np.testing.assert_array_equal(masked.grad, [[0.0, 0.0], [0.5, 0.5]])
    # +inf: +inf, gradient NaN at the +inf element and 0 elsewhere (as PyTorch)
    up = mg.tensor([INF, 1.0, -INF], requires_grad=True)
    out = up.logsumexp(0)
    assert out.item() == INF
    out.backward()
    assert math.isnan(up.grad[0]) and up.grad[1:].tolist() == [0.0, 0.0]
    partly = mg.tensor([-INF, 2.0], requires_grad=True)
    partly.logsumexp(0).backward()
    assert partly.logsumexp(0).item() == 2.0 and partly.grad.tolist() == [0.0, 1.0]
    assert math.isnan(mg.tensor([NAN, 1.0]).logsumexp(0).item())


def test_logsumexp_keepdim_and_integer_input():
    x = leaf(2, 3, 4)
    assert x.logsumexp(1, keepdim=True).shape == (2, 1, 4)
    assert x.logsumexp((0, -1)).shape == (3,)
    out = mg.tensor([1, 2]).logsumexp(0)
    assert out.dtype == np.float32 and out.item() == pytest.approx(math.log(math.e + math.e**2))
    assert mg.tensor([True, False]).logsumexp(0).dtype == np.float32


def test_repeat_interleave_counts_and_dims():
    x = mg.tensor([[1, 2], [3, 4]])
    assert x.repeat_interleave(2).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert x.repeat_interleave(mg.tensor([1, 2]), 0).tolist() == [[1, 2], [3, 4], [3, 4]]
    assert x.repeat_interleave([1, 2], dim=-1).tolist() == [[1, 2, 2], [3, 4, 4]]
    assert x.repeat_interleave(mg.tensor([2]), 0).shape == (4, 2)  # one count for all
    assert x.repeat_interleave(mg.tensor(2), 1).shape == (2, 4)
    assert x.repeat_interleave(0, 1).shape == (2, 0)
    assert mg.repeat_interleave(mg.tensor([2, 0, 1])).tolist() == [0, 0, 2]
    assert x.repeat_interleave(2, dim=0, output_size=4).shape == (4, 2)


def test_integer_and_bool_tensors_keep_their_dtype():
    i = mg.tensor([[3, 1], [2, 5]])
    b = mg.tensor([True, False, True])
    for out in (i.flip(0), i.roll(1), i.sort().values, i.topk(1).values, i.tril(),
                i.repeat_interleave(2)):
        assert out.dtype == np.int64
    assert b.sort().values.tolist() == [False, True, True]
    assert b.sort().indices.tolist() == [1, 0, 2]
    assert b.flip(0).dtype == np.bool_ and b.repeat_interleave(2).dtype == np.bool_


# -- refusals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda x: x.flip(2), ValueError, r"flip: axis 2 is out of range.*2 dimension"),
    (lambda x: x.flip(0, 0), ValueError, "flip: .*repeats an axis"),
    (lambda x: x.flip(0.5), TypeError, "flip: an axis must be an int"),
    (lambda x: x.flip(0, dims=1), TypeError, "flip: dims given both"),
    (lambda x: x.roll((1, 2), 0), ValueError, r"roll: shifts \(1, 2\) and dims \(0,\).*same "
                                              "length"),
    (lambda x: x.roll((1, 2)), ValueError, "roll: 2 shifts.*dims=None.*Fix"),
    (lambda x: x.roll(1.5), TypeError, "roll: shifts must be ints"),
    (lambda x: x.roll(1, 3), ValueError, "roll: axis 3 is out of range"),
    (lambda x: mg.tensor(1.0).roll(1, 0), ValueError, "roll: a 0-d tensor.*dims=None"),
    (lambda x: x.cumsum(), TypeError, r"cumsum: dim is required.*\(2, 3\).*Fix"),
    (lambda x: x.cumsum(2), ValueError, r"cumsum: axis 2 is out of range.*\[-2, 1\]"),
    (lambda x: x.cumsum((0, 1)), TypeError, "cumsum: dim must be an int"),
    (lambda x: x.cumsum(0, dtype="text"), TypeError, "cumsum: .*not a supported dtype"),
    (lambda x: x.logsumexp(), TypeError, r"logsumexp: dim is required.*\(2, 3\)"),
    (lambda x: x.logsumexp(-3), ValueError, "logsumexp: axis -3 is out of range"),
    (lambda x: x.logsumexp(None), TypeError, "logsumexp: dim is required.*None"),
    (lambda x: x.bool().topk(1), TypeError, r"topk: not implemented for bool.*x\.int\(\)"),
    (lambda x: x.repeat_interleave(10**12), MemoryError, "repeat_interleave: not enough memory"),
    (lambda x: x.sort(2), ValueError, "sort: axis 2 is out of range"),
    (lambda x: x.sort(None), TypeError, "sort: dim must be an int"),
    (lambda x: x.sort(descending="yes"), TypeError, "sort: descending must be True or False"),
    (lambda x: x.argsort(-3), ValueError, "argsort: axis -3 is out of range"),
    (lambda x: x.topk(4), ValueError, r"topk: k=4 is out of range for dim -1 of size 3 .*"
                                      r"\(2, 3\).*0 <= k <= 3"),
    (lambda x: x.topk(-1), ValueError, "topk: k=-1 is out of range"),
    (lambda x: x.topk(1.0), TypeError, "topk: k must be an int"),
    (lambda x: x.topk(1, 5), ValueError, "topk: axis 5 is out of range"),
    (lambda x: x[0].tril(), ValueError, r"tril: .*at least 2 dimensions.*\(3,\).*Fix"),
    (lambda x: x.triu(0.5), TypeError, "triu: diagonal must be an int"),
    (lambda x: x.repeat_interleave(2.0), TypeError, "repeat_interleave: repeats must be an int"),
    (lambda x: x.repeat_interleave(-1), ValueError, "repeat_interleave: repeats must be >= 0"),
    (lambda x: x.repeat_interleave(mg.tensor([1, -1]), 0), ValueError, "must be >= 0"),
    (lambda x: x.repeat_interleave(mg.tensor([1.0, 2.0]), 0), TypeError,
     r"repeat_interleave: repeats must hold integers.*float.*\.long\(\)"),
    (lambda x: x.repeat_interleave(mg.tensor([True, False]), 0), TypeError, "integers"),
    (lambda x: x.repeat_interleave([1, 2, 3], 0), ValueError,
     r"repeat_interleave: 3 repeats for 2 elements along dim 0 .*\(2, 3\)"),
    (lambda x: x.repeat_interleave([1, 2]), ValueError, "2 repeats for 6 elements.*flattened"),
    (lambda x: x.repeat_interleave(mg.tensor([[1, 2]]), 0), ValueError, "0-d or 1-d"),
    (lambda x: x.repeat_interleave(2, 2), ValueError, "repeat_interleave: axis 2 is out"),
    (lambda x: x.repeat_interleave(True), TypeError, "repeats must be an int"),
    (lambda x: x.repeat_interleave(2, 0, output_size=5), ValueError, "output_size=5.*4"),
    (lambda x: mg.tensor(1.0).repeat_interleave(2, 0), ValueError, "0-d tensor.*dim=None"),
    (lambda x: mg.repeat_interleave(x), TypeError, "1-d integer tensor of counts"),
    (lambda x: mg.sort([3, 1]), TypeError, "sort: expected a Tensor"),
])
def test_bad_input_names_the_op_and_the_fix(call, error, message):
    with pytest.raises(error, match=message):
        call(mg.zeros(2, 3))


# -- against PyTorch --------------------------------------------------------------------------

def _same(mine, theirs):
    """Equal values (NaN where NaN), dtype and shape."""
    torch = _torch()
    theirs_np = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    assert mine.shape == tuple(theirs_np.shape)
    assert mine.dtype == theirs_np.dtype, (mine.dtype, theirs_np.dtype)
    np.testing.assert_allclose(mine.data, theirs_np, rtol=1e-10, atol=1e-12)


def _outputs(result):
    return tuple(result) if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("call, shape", [
    ("flip(0)", (3, 4)), ("flip(-1, 0)", (2, 3, 4)), ("flip([1])", (2, 3)),
    ("roll(2)", (3, 4)), ("roll(-1, -2)", (3, 4)), ("roll((1, 2), (0, 1))", (3, 4)),
    ("roll((3,))", (2, 2)),
    ("cumsum(0)", (3, 4)), ("cumsum(-1)", (2, 3, 4)), ("cumsum(0)", ()),
    ("sort()", (3, 5)), ("sort(0, descending=True)", (4, 3)), ("sort(-2, True)", (2, 4, 3)),
    ("sort(dim=0, stable=True)", (5,)),
    ("topk(2)", (3, 5)), ("topk(3, 0, largest=False)", (4, 3)), ("topk(0)", (2, 3)),
    ("tril()", (4, 4)), ("tril(1)", (2, 3, 5)), ("triu(-1)", (5, 3)), ("triu(diagonal=2)", (3, 4)),
    ("logsumexp(1)", (3, 4)), ("logsumexp(-1, keepdim=True)", (2, 3, 4)),
    ("logsumexp((0, 2))", (2, 3, 4)), ("logsumexp(0)", ()),
    ("repeat_interleave(2)", (2, 3)), ("repeat_interleave(3, dim=-1)", (2, 3)),
    ("sort(0)", (0, 3)), ("topk(0, 0)", (0, 3)), ("cumsum(1)", (2, 0)), ("flip(0)", (0, 2)),
    ("logsumexp(1)", (0, 3)),
])
def test_values_and_gradients_match_pytorch(call, shape):
    torch = _torch()
    data = np.random.default_rng(3).normal(size=shape)
    mine_in = mg.tensor(data, requires_grad=True)
    torch_in = torch.tensor(data, requires_grad=True)
    mine = _outputs(eval(f"mine_in.{call}"))
    theirs = _outputs(eval(f"torch_in.{call}"))
    assert len(mine) == len(theirs)
    for m, t in zip(mine, theirs):
        _same(m, t)
    weights = np.random.default_rng(4).uniform(0.5, 1.5, size=mine[0].shape)
    (mine[0] * mg.tensor(weights)).sum().backward()
    (theirs[0] * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(mine_in.grad, torch_in.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_functions_match_pytorchs_functions():
    torch = _torch()
    data = np.random.default_rng(5).normal(size=(3, 4))
    m, t = mg.tensor(data), torch.tensor(data)
    _same(mg.flip(m, (0, 1)), torch.flip(t, (0, 1)))
    _same(mg.roll(m, 1, 0), torch.roll(t, 1, 0))
    _same(mg.cumsum(m, 1), torch.cumsum(t, 1))
    _same(mg.logsumexp(m, 1), torch.logsumexp(t, 1))
    for mine, theirs in [(mg.sort(m, 0), torch.sort(t, 0)), (mg.topk(m, 2), torch.topk(t, 2))]:
        _same(mine.values, theirs.values)
        _same(mine.indices, theirs.indices)
    _same(mg.argsort(m, 1, descending=True), torch.argsort(t, 1, descending=True))
    _same(mg.tril(m, 1), torch.tril(t, 1))
    _same(mg.triu(m), torch.triu(t))
    _same(mg.repeat_interleave(m, 2, 0), torch.repeat_interleave(t, 2, 0))
    counts = np.array([2, 0, 1])
    _same(mg.repeat_interleave(mg.tensor(counts)),
          torch.repeat_interleave(torch.tensor(counts)))


def test_ties_and_nan_match_pytorchs_stable_sort():
    torch = _torch()
    data = np.array([[3.0, NAN, 1.0, 3.0, -INF, 1.0, NAN], [0.0, -0.0, 2.0, 2.0, 2.0, INF, 0.0]])
    m, t = mg.tensor(data), torch.tensor(data)
    for dim in (0, 1, -1):
        for descending in (False, True):
            mine = m.sort(dim, descending)
            theirs = t.sort(dim=dim, descending=descending, stable=True)
            _same(mine.values, theirs.values)
            _same(mine.indices, theirs.indices)
            _same(m.argsort(dim, descending),
                  t.argsort(dim=dim, descending=descending, stable=True))
    # topk: the values as PyTorch's; the indices are the first of ties (PyTorch's own tie
    # order is unspecified), i.e. the stable sort's first k
    for k in range(8):
        for largest in (True, False):
            mine = m.topk(k, 1, largest)
            _same(mine.values, t.topk(k, 1, largest).values)
            stable = t.sort(dim=1, descending=largest, stable=True).indices[:, :k]
            _same(mine.indices, stable)


def test_topk_unsorted_picks_pytorchs_elements_in_sorted_order():
    torch = _torch()
    data = np.random.default_rng(7).normal(size=(3, 6))
    mine = mg.tensor(data).topk(4, 1, True, False)
    theirs = torch.tensor(data).topk(4, 1, True, False)  # PyTorch's order: unspecified
    theirs_sorted = theirs.values.sort(dim=1, descending=True, stable=True)
    _same(mine.values, theirs_sorted.values)
    _same(mine.indices, theirs.indices.gather(1, theirs_sorted.indices))


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int32", "int64", "float16",
                                   "float32"])
def test_dtypes_match_pytorch(dtype):
    torch = _torch()
    data = np.array([[1, 0, 3], [2, 2, 0], [0, 1, 1]]).astype(dtype)
    m, t = mg.tensor(data), torch.from_numpy(data)
    _same(m.cumsum(0), t.cumsum(0))
    _same(m.flip(1), t.flip(1))
    _same(m.roll(1, 0), t.roll(1, 0))
    _same(m.tril(), t.tril())
    _same(m.triu(1), t.triu(1))
    _same(m.repeat_interleave(2, 1), t.repeat_interleave(2, 1))
    if dtype != "bool":  # PyTorch has no topk for bools
        _same(m.topk(2).values, t.topk(2).values)
    _same(m.sort(1).values, t.sort(1).values)
    _same(m.sort(0, stable=True).indices, t.sort(dim=0, stable=True).indices)
    if dtype.startswith("float") or dtype in ("int64", "bool"):
        _same(m.logsumexp(1), t.logsumexp(1))


def test_logsumexp_infinities_match_pytorch_except_the_all_masked_gradient():
    torch = _torch()
    for row in ([INF, 1.0], [INF, INF], [INF, -INF], [NAN, 1.0], [-INF, 2.0], [-INF, -INF]):
        m = mg.tensor(row, requires_grad=True)
        t = torch.tensor(row, requires_grad=True)
        mine, theirs = m.logsumexp(0), t.logsumexp(0)
        _same(mine, theirs)
        mine.backward()
        theirs.backward()
        if row == [-INF, -INF]:  # PyTorch 2.13: NaN; minigrad: 0 (cumulative.py's docstring)
            assert np.isnan(t.grad.numpy()).all() and m.grad.tolist() == [0.0, 0.0]
        else:
            np.testing.assert_array_equal(m.grad, t.grad.numpy())


def test_repeat_interleave_with_count_tensors_matches_pytorch():
    torch = _torch()
    data = np.random.default_rng(6).normal(size=(3, 2))
    for counts, dim in [([2, 0, 1], 0), ([3, 1], 1), ([2], 0), ([0, 0, 0], -2)]:
        m_in = mg.tensor(data, requires_grad=True)
        t_in = torch.tensor(data, requires_grad=True)
        mine = m_in.repeat_interleave(mg.tensor(counts), dim)
        theirs = t_in.repeat_interleave(torch.tensor(counts), dim)
        _same(mine, theirs)
        weights = np.arange(1.0, 1.0 + mine.data.size).reshape(mine.shape)
        (mine * mg.tensor(weights)).sum().backward()
        (theirs * torch.tensor(weights)).sum().backward()
        np.testing.assert_array_equal(m_in.grad, t_in.grad.numpy())


@pytest.mark.parametrize("call", [
    "flip(2)", "flip(0, 0)", "roll((1, 2), 0)", "roll((1, 2))", "cumsum(2)", "sort(2)",
    "topk(4)", "topk(-1)", "logsumexp(2)", "logsumexp(None)", "bool().topk(1)",
    "repeat_interleave(-1)",
    "repeat_interleave(torch_or_mg.tensor([1, 2, 3]), 0)",
    "repeat_interleave(torch_or_mg.tensor([1.0, 2.0]), 0)",
])
def test_pytorch_refuses_the_same_inputs(call):
    torch = _torch()
    for torch_or_mg, x in ((mg, mg.zeros(2, 3)), (torch, torch.zeros(2, 3))):
        with pytest.raises((ValueError, TypeError, IndexError, RuntimeError,
                            NotImplementedError)):
            eval(f"x.{call}", {"x": x, "torch_or_mg": torch_or_mg})
