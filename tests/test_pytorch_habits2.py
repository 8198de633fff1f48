"""PyTorch habits that were AttributeErrors: ``t()``, ``.mT``, ``expand``/``expand_as``,
``repeat``, ``narrow``/``chunk``/``split``, ``masked_fill``, ``new_*``, ``type``, ``device``,
``cpu``, ``mg.linspace``/``eye``/``randint``/``einsum``/``device``/``cuda``, ``nn.SiLU``/
``F.silu``, ``nn.utils.clip_grad_norm_``/``clip_grad_value_``.

Values and gradients here are checked against NumPy and `gradcheck`; the same calls are
compared with PyTorch itself in test_pytorch_habits2_torch.py."""

import math
import pickle

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


def leaf(*shape, seed=0):
    data = np.random.default_rng(seed).normal(size=shape)
    return mg.tensor(data, requires_grad=True)


# -- t() and .mT ---------------------------------------------------------------------------

def test_t_transposes_a_matrix_and_leaves_vectors_and_scalars():
    x = leaf(2, 3)
    np.testing.assert_array_equal(x.t().data, x.data.T)
    assert mg.gradcheck(lambda a: a.t(), [x])
    v = leaf(3)
    assert v.t().shape == (3,) and mg.tensor(2.0).t().shape == ()


def test_t_refuses_three_axes_naming_mT_and_transpose():
    with pytest.raises(ValueError, match=r"t: .*3.*\(2, 3, 4\).*mT.*transpose"):
        mg.zeros(2, 3, 4).t()


def test_mT_swaps_the_last_two_axes():
    x = leaf(4, 2, 3)
    assert x.mT.shape == (4, 3, 2)
    np.testing.assert_array_equal(x.mT.data, np.swapaxes(x.data, -1, -2))
    assert mg.gradcheck(lambda a: a.mT, [x])
    with pytest.raises(ValueError, match="mT: .*1-D"):
        _ = mg.zeros(3).mT


# -- expand, expand_as, repeat ----------------------------------------------------------------

def test_expand_stretches_size_one_axes_and_adds_leading_ones():
    x = leaf(3, 1)
    out = x.expand(2, -1, 4)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.data, np.broadcast_to(x.data, (2, 3, 4)))
    assert mg.gradcheck(lambda a: a.expand(2, -1, 4), [x])
    x.grad = None
    out.backward(np.ones((2, 3, 4)))
    np.testing.assert_array_equal(x.grad, np.full((3, 1), 8.0))  # summed over 2 x 4 copies
    assert x.expand((2, 3, 4)).shape == (2, 3, 4) and x.expand([3, 1]).shape == (3, 1)
    assert x.expand(3, 0).shape == (3, 0)


def test_expand_is_a_view_without_a_copy():
    x = mg.tensor(np.arange(3.0))
    out = x.expand(1000, 3)
    assert np.shares_memory(out.data, x.data) and out.data.strides[0] == 0


@pytest.mark.parametrize("sizes, message", [
    ((2, 4), r"expanded size \(4\) must match the existing size \(3\).*repeat"),
    ((3,), "at least one size per axis"),
    ((-1, 2, 3), "new leading axis.*-1 is not allowed"),
    ((2, -2), "sizes are >= 0"),
])
def test_expand_refusals_name_the_sizes_and_fix(sizes, message):
    with pytest.raises(ValueError, match=message):
        mg.zeros(2, 3).expand(*sizes)


def test_expand_refuses_non_integer_sizes():
    with pytest.raises(TypeError, match="expand: sizes must be ints"):
        mg.zeros(3).expand(2.0, 3)


def test_expand_as_takes_the_other_tensors_shape():
    x = leaf(1, 3)
    assert x.expand_as(mg.zeros(4, 2, 3)).shape == (4, 2, 3)
    assert mg.gradcheck(lambda a: a.expand_as(mg.zeros(4, 2, 3)), [x])
    with pytest.raises(TypeError, match="expand_as"):
        x.expand_as(np.zeros((2, 3)))


def test_repeat_tiles_like_numpy_tile_not_numpy_repeat():
    x = mg.tensor([1.0, 2.0])
    np.testing.assert_array_equal(x.repeat(2).data, [1.0, 2.0, 1.0, 2.0])  # not [1, 1, 2, 2]
    y = leaf(2, 3)
    for counts in [(2, 1), (1, 3), (2, 1, 2), (3, 2, 2, 1), (0, 1), (1, 1)]:
        out = y.repeat(*counts)
        np.testing.assert_array_equal(out.data, np.tile(y.data, counts))
        assert mg.gradcheck(lambda a, c=counts: a.repeat(*c), [y])
    assert y.repeat((2, 2)).shape == (4, 6)
    assert mg.tensor(3.0).repeat(2, 2).shape == (2, 2)


def test_repeat_gradient_adds_up_every_copy():
    x = leaf(2, 3)
    x.repeat(2, 3).backward(np.ones((4, 9)))
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 6.0))


def test_repeat_result_is_a_copy():
    x = mg.tensor([1.0, 2.0])
    assert not np.shares_memory(x.repeat(2).data, x.data)


@pytest.mark.parametrize("counts, error, message", [
    ((2,), ValueError, "cannot be smaller than the number of axes"),
    ((2, -1), ValueError, "counts must be >= 0"),
    ((2, 1.5), TypeError, "repeat: sizes must be ints"),
])
def test_repeat_refusals(counts, error, message):
    with pytest.raises(error, match=message):
        mg.zeros(2, 3).repeat(*counts)


def test_repeat_too_big_names_the_op():
    with pytest.raises(MemoryError, match="repeat: .*expand"):
        mg.zeros(2, 3).repeat(10**12, 1)


# -- narrow, chunk, split -------------------------------------------------------------------

def _sizes(pieces, axis=0):
    return [p.shape[axis] for p in pieces]


@pytest.mark.parametrize("size, chunks, expected", [
    (6, 3, [2, 2, 2]), (6, 4, [2, 2, 2]), (5, 4, [2, 2, 1]), (5, 2, [3, 2]), (1, 3, [1]),
    (3, 5, [1, 1, 1]), (0, 3, [0, 0, 0]), (7, 1, [7]),
])
def test_chunk_follows_pytorchs_uneven_rule(size, chunks, expected):
    pieces = mg.zeros(size, 2).chunk(chunks)
    assert isinstance(pieces, tuple) and _sizes(pieces) == expected


@pytest.mark.parametrize("size, split_size, expected", [
    (5, 2, [2, 2, 1]), (6, 3, [3, 3]), (2, 5, [2]), (0, 2, [0]), (0, 0, [0]),
    (5, [2, 3], [2, 3]), (5, [0, 5, 0], [0, 5, 0]), (4, (1, 1, 2), [1, 1, 2]),
])
def test_split_sizes(size, split_size, expected):
    pieces = mg.zeros(2, size).split(split_size, dim=1)
    assert isinstance(pieces, tuple) and _sizes(pieces, 1) == expected


def test_pieces_are_views_and_gradients_flow_back_to_their_places():
    x = leaf(5, 3)
    first, second, third = x.chunk(3)
    assert np.shares_memory(first.data, x.data)
    np.testing.assert_array_equal(np.concatenate([first.data, second.data, third.data]), x.data)
    assert mg.gradcheck(lambda a: mg.cat([p * (i + 1) for i, p in enumerate(a.chunk(3))]), [x])
    assert mg.gradcheck(lambda a: a.split([1, 2], dim=1)[1] * 2, [x])
    assert mg.gradcheck(lambda a: a.split(2, dim=-1)[0].exp(), [x])
    x.grad = None
    (x.chunk(2, dim=1)[1] * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, np.array([[0.0, 0.0, 3.0]] * 5))


def test_unused_pieces_get_no_gradient_but_zeros_in_the_input():
    x = leaf(4)
    a, _ = x.split(2)
    a.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 0.0, 0.0])


@pytest.mark.parametrize("call, error, message", [
    (lambda x: x.chunk(0), ValueError, "chunk: expects chunks to be greater than 0"),
    (lambda x: x.chunk(2.0), TypeError, "chunk: chunks must be an int"),
    (lambda x: x.chunk(2, dim=2), ValueError, "out of range"),
    (lambda x: x.split(0), ValueError, "split: split_size must be > 0"),
    (lambda x: x.split(-1), ValueError, "split_size must be > 0"),
    (lambda x: x.split([2, 2]), ValueError, r"add up to\s+5"),
    (lambda x: x.split([6, -1]), ValueError, "must be >= 0"),
    (lambda x: x.split(1.5), TypeError, "split: split_size must be an int"),
    (lambda x: mg.tensor(1.0).chunk(2), ValueError, "chunk: expects at least a 1-dimensional"),
    (lambda x: x.narrow(0, 4, 2), ValueError, "narrow: start 4 and length 2"),
])
def test_cutting_refusals(call, error, message):
    with pytest.raises(error, match=message):
        call(mg.zeros(5, 2))


def test_narrow():
    x = leaf(5, 3)
    np.testing.assert_array_equal(x.narrow(0, 1, 3).data, x.data[1:4])
    np.testing.assert_array_equal(x.narrow(1, -2, 2).data, x.data[:, 1:3])
    assert mg.gradcheck(lambda a: a.narrow(1, 1, 2), [x])


# -- masked_fill ----------------------------------------------------------------------------

def test_masked_fill_values_and_gradient():
    x = leaf(2, 3)
    mask = mg.tensor([True, False, True])  # broadcast over the rows
    out = x.masked_fill(mask, -1.5)
    np.testing.assert_array_equal(out.data, np.where(mask.data, -1.5, x.data))
    assert out.dtype == x.dtype
    assert mg.gradcheck(lambda a: a.masked_fill(mask, 0.0), [x])
    x.grad = None
    out.backward(np.ones((2, 3)))
    np.testing.assert_array_equal(x.grad, np.array([[0.0, 1.0, 0.0]] * 2))


def test_masked_fill_with_minus_infinity_before_softmax():
    scores = mg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    probs = F.softmax(scores.masked_fill(mg.tensor([[False, False, True]]), float("-inf")), 1)
    np.testing.assert_allclose(probs.data, [[1 / (1 + math.e), math.e / (1 + math.e), 0.0]],
                               rtol=1e-6)
    probs[0, 0].backward()
    assert np.isfinite(scores.grad).all() and scores.grad[0, 2] == 0


def test_masked_fill_mask_may_broadcast_the_result_and_value_may_be_a_0d_tensor():
    x = leaf(3)
    mask = mg.tensor(np.array([[True, False, False], [False, True, True]]))
    assert x.masked_fill(mask, 2.0).shape == (2, 3)
    value = mg.tensor(np.float64(5.0), requires_grad=True)
    assert mg.gradcheck(lambda a, v: a.masked_fill(mask, v), [x, value])
    value.grad = None
    x.masked_fill(mask, value).sum().backward()
    assert value.grad == 3.0  # the number of filled places


def test_masked_fill_keeps_the_tensors_dtype():
    labels = mg.tensor(np.array([1, 2, 3]))
    out = labels.masked_fill(mg.tensor([True, False, True]), 0.7)
    assert out.dtype == np.int64 and out.tolist() == [0, 2, 0]  # as PyTorch: truncated


@pytest.mark.parametrize("mask, value, error, message", [
    (np.array([1, 0, 1]), 0.0, TypeError, "only supports boolean masks.*int64.*bool"),
    (np.array([1.0, 0.0, 1.0]), 0.0, TypeError, "boolean masks"),
    ([True, False, True], 0.0, TypeError, "boolean masks.*list"),
    (np.array([True, False]), 0.0, ValueError, r"mask of shape \(2,\).*\(2, 3\)"),
    (np.array([True, False, True]), "x", TypeError, "value must be a number"),
    (np.array([True, False, True]), mg.tensor([1.0, 2.0]), ValueError, "0-dimensional value"),
])
def test_masked_fill_refusals(mask, value, error, message):
    mask = mg.tensor(mask) if isinstance(mask, np.ndarray) else mask
    with pytest.raises(error, match=message):
        mg.zeros(2, 3).masked_fill(mask, value)


@pytest.mark.parametrize("dtype, value", [(np.int64, float("-inf")), (np.int64, float("nan")),
                                          (np.uint8, 300), (np.uint8, -1), (np.float32, -1e300),
                                          (np.int8, 1e30)])
def test_masked_fill_refuses_values_the_dtype_cannot_hold(dtype, value):
    with pytest.raises(ValueError, match=f"masked_fill: .*{np.dtype(dtype)} without overflow"):
        mg.tensor(np.arange(3, dtype=dtype)).masked_fill(mg.tensor([True, False, True]), value)
    assert mg.zeros(3).masked_fill(mg.tensor([True, False, True]), -np.inf).data[0] == -np.inf


# -- new_*, type, device, cpu ---------------------------------------------------------------

def test_new_factories_take_self_dtype_unless_given():
    x = mg.tensor(np.zeros(2, np.float64))
    assert x.new_zeros(2, 3).dtype == np.float64 and x.new_zeros((2, 3)).shape == (2, 3)
    assert x.new_ones(4).tolist() == [1.0] * 4 and x.new_ones(4).dtype == np.float64
    full = x.new_full((2,), 3)
    assert full.dtype == np.float64 and full.tolist() == [3.0, 3.0]  # not int64, as mg.full
    assert x.new_empty(2, 2).shape == (2, 2) and x.new_empty(2, 2).dtype == np.float64
    made = x.new_tensor([1, 2])
    assert made.dtype == np.float64 and made.tolist() == [1.0, 2.0]
    assert x.new_zeros(2, dtype=mg.int64).dtype == np.int64
    assert x.new_ones(2, requires_grad=True).requires_grad
    source = mg.tensor([1.0, 2.0], requires_grad=True)
    copied = x.new_tensor(source)
    assert not copied.requires_grad and not np.shares_memory(copied.data, source.data)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: x.new_zeros(-1), ValueError, "new_zeros: expected a shape"),
    (lambda x: x.new_ones(2.5), ValueError, "new_ones"),
    (lambda x: x.new_full(3, 1.0), TypeError, "new_full: size must be a tuple"),
    (lambda x: x.new_full((3,), "a"), TypeError, "new_full: fill_value must be a number"),
    (lambda x: x.new_zeros(2, dtype="U3"), TypeError, "new_zeros: 'U3' is not a supported"),
])
def test_new_factory_refusals(call, error, message):
    with pytest.raises(error, match=message):
        call(mg.zeros(2))


@pytest.mark.parametrize("dtype, name", [
    (np.float32, "torch.FloatTensor"), (np.float64, "torch.DoubleTensor"),
    (np.float16, "torch.HalfTensor"), (np.int64, "torch.LongTensor"),
    (np.int32, "torch.IntTensor"), (np.int16, "torch.ShortTensor"), (np.int8, "torch.CharTensor"),
    (np.uint8, "torch.ByteTensor"), (np.bool_, "torch.BoolTensor"),
])
def test_type_names_are_pytorchs(dtype, name):
    x = mg.tensor(np.zeros(2, dtype))
    assert x.type() == name
    assert mg.zeros(2).type(name).dtype == dtype


def test_type_converts_and_keeps_the_graph_between_floats():
    x = leaf(3)
    y = x.type(mg.float32)
    assert y.dtype == np.float32 and y.requires_grad
    assert x.type(np.float64) is x and x.type("torch.DoubleTensor") is x
    with pytest.raises(TypeError, match="type: unknown tensor type 'torch.NoTensor'"):
        x.type("torch.NoTensor")
    with pytest.raises(TypeError, match="type: 'U3' is not a supported dtype"):
        x.type("U3")


def test_device_is_the_cpu_and_passes_where_device_strings_do():
    x = mg.zeros(2)
    assert x.device == "cpu" and x.device == mg.device("cpu") and str(x.device) == "cpu"
    assert repr(x.device) == "device(type='cpu')" and x.device.type == "cpu"
    assert x.device.index is None and hash(x.device) == hash("cpu")
    assert x.cpu() is x
    assert x.to(x.device) is x and x.to(mg.device("cpu")) is x
    model = nn.Linear(2, 2)
    assert model.to(mg.device("cpu")) is model
    device = mg.device("cuda" if mg.cuda.is_available() else "cpu")
    assert device == "cpu" and pickle.loads(pickle.dumps(device)) == device
    assert repr(mg.device("cuda:1")) == "device(type='cuda', index=1)"
    assert mg.device("cuda", 0) == "cuda:0" and mg.device("cuda", 0).index == 0
    with pytest.raises(ValueError, match="CPU only"):
        x.to(mg.device("cuda"))


@pytest.mark.parametrize("argument, error", [("tpu", ValueError), ("cuda:x", ValueError),
                                             (3, TypeError), (None, TypeError)])
def test_device_refusals(argument, error):
    with pytest.raises(error, match="device: "):
        mg.device(argument)


def test_cuda_is_not_available():
    assert mg.cuda.is_available() is False and mg.cuda.device_count() == 0


# -- linspace, eye, randint -----------------------------------------------------------------

def test_linspace():
    x = mg.linspace(0, 1, 5)
    assert x.dtype == np.float32 and x.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert mg.linspace(2, 3, 1).tolist() == [2.0] and mg.linspace(0, 1, 0).shape == (0,)
    assert mg.linspace(0, 10, 5, dtype=mg.int64).tolist() == [0, 2, 5, 7, 10]
    assert mg.linspace(0, 1, 3, dtype=mg.float64, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="linspace: steps must be"):
        mg.linspace(0, 1, -1)
    with pytest.raises(ValueError, match="linspace: steps"):
        mg.linspace(0, 1, 2.5)
    with pytest.raises(TypeError, match="linspace: start must be a number"):
        mg.linspace("0", 1, 3)


def test_eye():
    assert mg.eye(3).dtype == np.float32
    np.testing.assert_array_equal(mg.eye(3).data, np.eye(3))
    np.testing.assert_array_equal(mg.eye(2, 3).data, np.eye(2, 3))
    assert mg.eye(0).shape == (0, 0) and mg.eye(2, dtype=mg.int64).dtype == np.int64
    for bad in (-1, 2.0, True):
        with pytest.raises(ValueError, match="eye: n must be a whole number"):
            mg.eye(bad)
    with pytest.raises(MemoryError, match="eye: "):
        mg.eye(10**12)


def test_randint_draws_from_the_seeded_generator():
    mg.manual_seed(3)
    first = mg.randint(0, 10, (1000,))
    mg.manual_seed(3)
    again = mg.randint(10, (1000,))  # low defaults to 0
    assert first.dtype == np.int64 and first.shape == (1000,)
    np.testing.assert_array_equal(first.data, again.data)
    assert first.data.min() == 0 and first.data.max() == 9
    assert set(mg.randint(-2, 1, (200,)).tolist()) == {-2, -1, 0}
    assert mg.randint(5, size=(2, 3)).shape == (2, 3)
    generator = np.random.default_rng(0)
    expected = np.random.default_rng(0).integers(0, 4, (3,))
    np.testing.assert_array_equal(mg.randint(4, (3,), generator=generator).data, expected)
    assert mg.randint(0, 2, (3,), dtype=mg.uint8).dtype == np.uint8


@pytest.mark.parametrize("args, kwargs, error, message", [
    ((3, 3, (2,)), {}, ValueError, "low must be less than high"),
    ((3, 5, 2), {}, TypeError, "size a tuple"),
    ((5,), {}, TypeError, "randint: expected randint"),
    ((0.5, (2,)), {}, TypeError, "randint: high must be an int"),
    ((0, 5, (-1,)), {}, ValueError, "randint: expected a shape"),
])
def test_randint_refusals(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        mg.randint(*args, **kwargs)


# -- einsum ---------------------------------------------------------------------------------

EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ij->ji", [(2, 3)]),
    ("ij->i", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("i,i->", [(3,), (3,)]),
    ("ij,j", [(2, 3), (3,)]),  # implicit output: i
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),  # the trace
    ("iij,jk->ik", [(2, 2, 3), (3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("ijk,k->ij", [(2, 3, 2), (2,)]),
    ("ab,cd->abcd", [(2, 1), (1, 2)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUMS)
def test_einsum_values_and_gradients(equation, shapes):
    tensors = [leaf(*shape, seed=i) for i, shape in enumerate(shapes)]
    out = mg.einsum(equation, *tensors)
    np.testing.assert_allclose(out.data, np.einsum(equation, *[t.data for t in tensors]),
                               rtol=1e-12)
    assert mg.gradcheck(lambda *ts: mg.einsum(equation, *ts), tensors)
    assert mg.gradcheck(lambda *ts: mg.einsum(equation, list(ts)), tensors)


def test_einsum_only_computes_needed_gradients_and_promotes():
    w = leaf(3, 2)
    x = mg.tensor(np.ones((4, 3), np.float32))  # float32 data, float64 weight: float64
    out = mg.einsum("ni,io->no", x, w)
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad is None and w.grad.shape == (3, 2)


@pytest.mark.parametrize("call, error, message", [
    (lambda a, b: mg.einsum("...ij,jk", a, b), ValueError, "ellipses"),
    (lambda a, b: mg.einsum("ij,jk->ik", a), ValueError, "2 operand.*1 tensor"),
    (lambda a, b: mg.einsum("ij,kl->ik", a, b.t()), ValueError, None),  # fine: no error
    (lambda a, b: mg.einsum("ij,ik->jk", a, b), ValueError, "letter 'i' stands for axes"),
    (lambda a, b: mg.einsum("i,jk->ik", a, b), ValueError, "operand 0 has 2 dimension"),
    (lambda a, b: mg.einsum("ij,jk->iz", a, b), ValueError, "output 'iz'"),
    (lambda a, b: mg.einsum("ij,jk->ii", a, b), ValueError, "at most once"),
    (lambda a, b: mg.einsum("i1,jk->ik", a, b), ValueError, "letters"),
    (lambda a, b: mg.einsum("ij,jk->ik", a, b.data), TypeError, "operand 1 is a ndarray"),
    (lambda a, b: mg.einsum(3, a, b), TypeError, "einsum: the equation must be a string"),
    (lambda a, b: mg.einsum("ij"), ValueError, "einsum: no operands"),
])
def test_einsum_refusals(call, error, message):
    a, b = mg.zeros(2, 3), mg.zeros(3, 4)
    if message is None:
        assert call(a, b).shape == (2, 4)
        return
    with pytest.raises(error, match=message):
        call(a, b)


# -- SiLU -----------------------------------------------------------------------------------

def test_silu_values_gradient_and_extremes():
    x = leaf(3, 4)
    np.testing.assert_allclose(F.silu(x).data, x.data / (1 + np.exp(-x.data)), rtol=1e-12)
    assert mg.gradcheck(F.silu, [x])
    assert mg.gradcheck(lambda a: nn.SiLU()(a), [x])
    assert not hasattr(x, "silu")  # as torch.Tensor: F.silu or nn.SiLU only
    big = mg.tensor(np.array([-1000.0, 1000.0], np.float32), requires_grad=True)
    with np.errstate(over="raise", invalid="raise"):  # no overflow or NaN either way
        out = F.silu(big)
    np.testing.assert_array_equal(out.data, [-0.0, 1000.0])
    out.sum().backward()
    np.testing.assert_array_equal(big.grad, [0.0, 1.0])
    assert repr(nn.SiLU()) == "SiLU()"
    with pytest.raises(TypeError, match="silu: expected a floating-point input"):
        F.silu(mg.tensor([1, 2]))


# -- gradient clipping ----------------------------------------------------------------------

def _params_with_grads(*grads):
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros_like(np.asarray(g, np.float32)))
        p.grad = np.array(g, np.float32)
        params.append(p)
    return params


def test_clip_grad_norm_scales_all_gradients_together_and_returns_the_norm():
    a, b = _params_with_grads([3.0, 0.0], [[4.0]])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert isinstance(total, mg.Tensor) and total.shape == () and total.dtype == np.float32
    assert math.isclose(total.item(), 5.0, rel_tol=1e-6)
    np.testing.assert_allclose(a.grad, [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(b.grad, [[0.8]], rtol=1e-5)
    np.testing.assert_allclose(math.hypot(*a.grad, *b.grad.ravel()), 1.0, rtol=1e-5)


def test_clip_grad_norm_leaves_small_gradients_and_skips_params_without_grad():
    a, b = _params_with_grads([0.3, 0.4], [0.0])
    c = nn.Parameter(np.zeros(2, np.float32))  # no .grad
    total = nn.utils.clip_grad_norm_(iter([a, b, c]), 10.0)
    assert math.isclose(total.item(), 0.5, rel_tol=1e-6)
    np.testing.assert_allclose(a.grad, [0.3, 0.4], rtol=1e-6)
    assert c.grad is None
    assert nn.utils.clip_grad_norm_(c, 1.0).item() == 0.0  # one tensor, no gradient: 0
    assert nn.utils.clip_grad_norm_([], 1.0).item() == 0.0


def test_clip_grad_norm_other_norms():
    a, b = _params_with_grads([3.0, -7.0], [2.0])
    assert nn.utils.clip_grad_norm_([a, b], 100.0, norm_type="inf").item() == 7.0
    assert nn.utils.clip_grad_norm_([a, b], 100.0, norm_type=math.inf).item() == 7.0
    assert math.isclose(nn.utils.clip_grad_norm_([a, b], 100.0, norm_type=1).item(), 12.0)
    nn.utils.clip_grad_norm_([a, b], 1.0, norm_type=1)
    assert math.isclose(float(np.abs(a.grad).sum() + np.abs(b.grad).sum()), 1.0, rel_tol=1e-5)


def test_clip_grad_norm_with_a_model_after_backward():
    model = nn.Linear(3, 2)
    x = mg.tensor(np.full((4, 3), 100.0, np.float32))
    (model(x) ** 2).sum().backward()
    before = math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum())
                           for p in model.parameters()))
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    assert math.isclose(total.item(), before, rel_tol=1e-5)
    after = math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum())
                          for p in model.parameters()))
    assert math.isclose(after, 0.5, rel_tol=1e-4)


def test_clip_grad_norm_non_finite():
    a, = _params_with_grads([np.nan, 1.0])
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm.*non-finite"):
        nn.utils.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    assert math.isnan(nn.utils.clip_grad_norm_([a], 1.0).item())
    assert np.isnan(a.grad).all()  # scaled by NaN, as PyTorch


@pytest.mark.parametrize("call, message", [
    (lambda p: nn.utils.clip_grad_norm_(p, "1"), "clip_grad_norm_: max_norm must be a number"),
    (lambda p: nn.utils.clip_grad_norm_(p, 1.0, norm_type="l2"), "norm_type must be a number"),
    (lambda p: nn.utils.clip_grad_norm_([np.zeros(2)], 1.0), r"parameters\[0\] is a ndarray"),
    (lambda p: nn.utils.clip_grad_norm_(3, 1.0), "iterable of tensors"),
    (lambda p: nn.utils.clip_grad_value_(p, None), "clip_grad_value_: clip_value must be"),
])
def test_clipping_refusals(call, message):
    with pytest.raises(TypeError, match=message):
        call(_params_with_grads([1.0]))


def test_clip_grad_value_clamps_each_element_in_place():
    a, b = _params_with_grads([-3.0, 0.5, 2.0], [[0.1, -0.2]])
    grad = a.grad
    assert nn.utils.clip_grad_value_([a, b], 1.0) is None
    assert a.grad is grad  # in place
    np.testing.assert_array_equal(a.grad, [-1.0, 0.5, 1.0])
    np.testing.assert_allclose(b.grad, [[0.1, -0.2]])


def test_clipping_replaces_a_read_only_or_scalar_gradient_set_by_hand():
    a, b = nn.Parameter(np.zeros(3, np.float32)), nn.Parameter(np.zeros((), np.float32))
    a.grad = np.broadcast_to(np.float32(4.0), (3,))  # read-only
    b.grad = np.float32(3.0)  # a NumPy number, not an array
    total = nn.utils.clip_grad_norm_([a, b], 1.0)
    assert math.isclose(total.item(), math.sqrt(57.0), rel_tol=1e-6)
    np.testing.assert_allclose(a.grad, np.full(3, 4.0) / math.sqrt(57.0), rtol=1e-5)
    np.testing.assert_allclose(b.grad, 3.0 / math.sqrt(57.0), rtol=1e-5)
    a.grad = np.broadcast_to(np.float32(4.0), (3,))
    nn.utils.clip_grad_value_([a], 1.0)
    np.testing.assert_array_equal(a.grad, [1.0, 1.0, 1.0])
