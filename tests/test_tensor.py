"""The Tensor class: shape ops and indexing (gradchecked over hypothesis shapes), dtype
rules, reflected operators, comparisons, factories and the errors users meet first."""

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from hypothesis.extra import numpy as hnp

import minigrad as mg

seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
nonscalar_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)


def leaf(array):
    return mg.tensor(np.array(array, dtype=np.float64), requires_grad=True)


def check(fn, numpy_fn, *arrays):
    """fn on tensors matches numpy_fn on arrays, and its backward passes gradcheck."""
    tensors = [leaf(a) for a in arrays]
    out = fn(*tensors)
    np.testing.assert_array_equal(out.data, numpy_fn(*[np.asarray(a) for a in arrays]))
    assert mg.gradcheck(fn, tensors)


# -- shape ops ---------------------------------------------------------------------------------


@given(seed=seeds, shape=shapes, target=st.sampled_from(["flat", "row", "reversed"]))
def test_reshape(seed, shape, target):
    size = int(np.prod(shape))
    new_shape = {"flat": (-1,), "row": (1, size), "reversed": shape[::-1]}[target]
    data = np.random.default_rng(seed).normal(size=shape)
    check(lambda x: x.reshape(new_shape), lambda x: x.reshape(new_shape), data)
    check(lambda x: x.reshape(*new_shape), lambda x: x.reshape(new_shape), data)


@given(seed=seeds, shape=nonscalar_shapes, data=st.data())
def test_transpose_permute_and_T(seed, shape, data):
    ndim = len(shape)
    dim0, dim1 = data.draw(st.integers(-ndim, ndim - 1)), data.draw(st.integers(-ndim, ndim - 1))
    order = data.draw(st.permutations(range(ndim)))
    x = np.random.default_rng(seed).normal(size=shape)
    check(lambda t: t.transpose(dim0, dim1), lambda a: np.swapaxes(a, dim0, dim1), x)
    check(lambda t: t.permute(*order), lambda a: np.transpose(a, order), x)
    check(lambda t: t.T, lambda a: a.T, x)


def test_permute_with_a_three_cycle():
    # a cycle is not its own inverse: backward must apply the inverse permutation
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    check(lambda t: t.permute(1, 2, 0), lambda a: np.transpose(a, (1, 2, 0)), x)
    check(lambda t: t.permute(2, 0, 1), lambda a: np.transpose(a, (2, 0, 1)), x)


@given(seed=seeds, shape=nonscalar_shapes, data=st.data())
def test_flatten(seed, shape, data):
    ndim = len(shape)
    start = data.draw(st.integers(0, ndim - 1))
    end = data.draw(st.integers(start, ndim - 1))
    merged = shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:]
    x = np.random.default_rng(seed).normal(size=shape)
    check(lambda t: t.flatten(start, end - ndim), lambda a: a.reshape(merged), x)
    check(lambda t: t.flatten(), lambda a: a.reshape(-1), x)


@given(seed=seeds, shape=shapes, data=st.data())
def test_squeeze_and_unsqueeze(seed, shape, data):
    ndim = len(shape)
    x = np.random.default_rng(seed).normal(size=shape)
    check(lambda t: t.squeeze(), np.squeeze, x)
    if ndim:
        axis = data.draw(st.integers(-ndim, ndim - 1))
        expected = np.squeeze(x, axis) if shape[axis] == 1 else x  # other sizes: left as is
        check(lambda t: t.squeeze(axis), lambda a: expected, x)
    new_axis = data.draw(st.integers(-ndim - 1, ndim))
    check(lambda t: t.unsqueeze(new_axis), lambda a: np.expand_dims(a, new_axis), x)


@given(seed=seeds, data=st.data())
def test_broadcast_to(seed, data):
    shape = data.draw(shapes)
    target = data.draw(hnp.broadcastable_shapes(shape, min_dims=len(shape), max_dims=4,
                                                max_side=3).map(
        lambda s: np.broadcast_shapes(s, shape)))
    x = np.random.default_rng(seed).normal(size=shape)
    check(lambda t: t.broadcast_to(target), lambda a: np.broadcast_to(a, target), x)


# -- indexing ---------------------------------------------------------------------------------


@st.composite
def basic_index(draw, shape):
    """A tuple of slices (any start/stop/step, negative steps too) and integers."""
    index = []
    for size in shape:
        if draw(st.booleans()):
            index.append(draw(st.integers(-size, size - 1)))
        else:
            start, stop = (draw(st.none() | st.integers(-size - 1, size + 1)) for _ in range(2))
            step = draw(st.sampled_from([None, 1, 2, -1, -2]))
            index.append(slice(start, stop, step))
    return tuple(index)


@given(seed=seeds, shape=nonscalar_shapes, data=st.data())
def test_basic_indexing(seed, shape, data):
    index = data.draw(basic_index(shape))
    x = np.random.default_rng(seed).normal(size=shape)
    check(lambda t: t[index], lambda a: a[index], x)
    check(lambda t: t[..., None, 0], lambda a: a[..., None, 0], x)


@given(seed=seeds, shape=nonscalar_shapes, data=st.data())
def test_integer_array_indexing_accumulates_repeated_indices(seed, shape, data):
    rows = data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=6))
    rows.append(rows[0])  # at least one repeat: its gradients must add up
    x = np.random.default_rng(seed).normal(size=shape)
    check(lambda t: t[rows], lambda a: a[rows], x)
    check(lambda t: t[mg.tensor(np.array(rows))], lambda a: a[rows], x)
    if len(shape) > 1:
        cols = data.draw(st.lists(st.integers(0, shape[1] - 1), min_size=len(rows),
                                  max_size=len(rows)))
        check(lambda t: t[rows, cols], lambda a: a[rows, cols], x)
        check(lambda t: t[1:, cols], lambda a: a[1:, cols], x)


def test_repeated_index_gradient_is_the_count():
    x = leaf([10.0, 20.0, 30.0])
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


def test_an_empty_index_list_selects_nothing_as_in_numpy():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    assert x[[]].shape == (0, 2) and x[:, []].shape == (2, 0)  # np.asarray([]) is float
    (x[[]].sum() + x[[1]].sum()).backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0], [1.0, 1.0]])


@given(seed=seeds, shape=nonscalar_shapes)
def test_boolean_mask_indexing(seed, shape):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    mask = rng.random(shape) > 0.5
    check(lambda t: t[mask], lambda a: a[mask], x)
    check(lambda t: t[mg.tensor(mask)], lambda a: a[mask], x)
    row_mask = rng.random(shape[0]) > 0.5
    check(lambda t: t[row_mask], lambda a: a[row_mask], x)


def test_iterating_a_tensor_yields_its_rows():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    rows = list(x)  # regression: out-of-range indexing must raise IndexError to end the loop
    assert [r.shape for r in rows] == [(2,), (2,)]
    (rows[0] * 2 + rows[1]).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2, 2], [1, 1]])
    with pytest.raises(IndexError, match=r"getitem.*\(2, 2\)"):
        x[2]
    with pytest.raises(TypeError, match="0-d"):
        iter(mg.tensor(1.0))


# -- joining and padding -------------------------------------------------------------------


@given(seed=seeds, shape=nonscalar_shapes, data=st.data())
def test_cat_and_stack(seed, shape, data):
    rng = np.random.default_rng(seed)
    ndim = len(shape)
    axis = data.draw(st.integers(-ndim, ndim - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    parts = [rng.normal(size=shape[:axis % ndim] + (n,) + shape[axis % ndim + 1:]) for n in sizes]
    check(lambda *ts: mg.cat(ts, axis=axis), lambda *arrays: np.concatenate(arrays, axis), *parts)
    same = [rng.normal(size=shape) for _ in sizes]
    new_axis = data.draw(st.integers(-ndim - 1, ndim))
    check(lambda *ts: mg.stack(ts, dim=new_axis), lambda *arrays: np.stack(arrays, new_axis),
          *same)


@given(seed=seeds, shape=nonscalar_shapes, data=st.data())
def test_pad(seed, shape, data):
    widths = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in shape)
    x = np.random.default_rng(seed).normal(size=shape)
    check(lambda t: mg.pad(t, widths, value=1.5),
          lambda a: np.pad(a, widths, constant_values=1.5), x)


def test_cat_error_names_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"cat.*\(2, 3\).*\(2, 4\)"):
        mg.cat([mg.zeros(2, 3), mg.zeros(2, 4)], axis=0)


# -- cast and dtype rules --------------------------------------------------------------------


def test_cast_passes_gradcheck_and_returns_gradient_in_input_dtype():
    x = leaf(np.random.default_rng(0).normal(size=(2, 3)))
    y = x.astype(np.float32)
    assert y.dtype == np.float32
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, 3.0)
    # float64 -> float32 -> float64 loses precision: a coarse eps and tolerance.
    assert mg.gradcheck(lambda t: (t.float() * t.float()).double(), [x], eps=1e-3, rtol=1e-2)
    assert mg.gradcheck(lambda t: t.double() * 2, [x])


def test_dtype_rules():
    assert mg.tensor(1.5).dtype == np.float32
    assert mg.tensor([[1.0, 2.0]]).dtype == np.float32
    assert mg.tensor(np.ones(2)).dtype == np.float64
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor([True, False]).dtype == np.bool_
    assert mg.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert mg.zeros(2).dtype == np.float32 and mg.randn(2, dtype=np.float64).dtype == np.float64
    assert mg.arange(3).dtype == np.int64 and mg.arange(0.0, 1.0, 0.5).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_and_bool_tensors_cannot_require_grad(dtype):
    with pytest.raises(TypeError, match="floating-point"):
        mg.tensor(np.zeros(2, dtype), requires_grad=True)
    with pytest.raises(TypeError):
        mg.tensor(np.zeros(2, dtype)).requires_grad_()


def test_an_integer_tensor_made_to_require_grad_by_hand_is_refused_at_backward():
    # `t.requires_grad = True` skips the constructor's check; its gradient, 2.5, was
    # silently rounded to 2 (PyTorch refuses integer tensors that require grad).
    t = mg.tensor([1, 2])
    t.requires_grad = True
    with pytest.raises(TypeError, match=r"backward: a tensor of dtype int64 .*requires grad.*"
                                        r"floating-point.*Fix"):
        (t * 2.5).sum().backward()
    assert t.grad is None


def test_requires_grad_false_is_refused_on_a_computed_tensor():
    # Switching it off would make backward skip y, so x silently got no gradient at all;
    # PyTorch refuses ("you can only change requires_grad flags of leaf variables").
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    loss = (y * y).sum()
    with pytest.raises(RuntimeError, match="requires_grad_.*leaf.*mul.*detach"):
        y.requires_grad_(False)
    assert y.requires_grad_() is y  # switching it on is harmless, as in PyTorch
    loss.backward()
    np.testing.assert_array_equal(x.grad, [8.0, 16.0])
    assert not x.detach().requires_grad_(False).requires_grad  # leaves may switch it off


@pytest.mark.parametrize("data", [["a", "b"], np.array([1, None], dtype=object), [1 + 2j],
                                  {"a": 1}])
def test_string_object_and_complex_data_raise_type_error(data):
    with pytest.raises(TypeError, match="tensor"):
        mg.tensor(data)


def test_unsupported_dtype_argument_raises_type_error():
    with pytest.raises(TypeError, match="not supported"):
        mg.tensor([1.0], dtype=str)


@pytest.mark.parametrize("number", [2, 2.5, True, np.float64(2.5), np.int64(3), np.float32(2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_scalar_never_changes_a_tensor_dtype(number, dtype):
    x = mg.tensor([1.0, 2.0], dtype=dtype, requires_grad=True)
    results = [x + number, number + x, x * number, number * x,
               x / number, number / x, x**number, mg.maximum(x, number), mg.where(x > 1, x, number),
               x.clip(0.0, number)]
    if number is True:  # PyTorch refuses subtraction with a bool: so does minigrad
        with pytest.raises(TypeError, match="sub: .*bool"):
            x - number
        with pytest.raises(TypeError, match="sub: .*bool"):
            number - x
    else:
        results += [x - number, number - x]
    assert all(isinstance(r, mg.Tensor) and r.requires_grad for r in results)
    assert all(r.dtype == dtype for r in results)
    sum(r.sum() for r in results).backward()
    assert x.grad.dtype == dtype


def test_binary_ops_follow_pytorch_promotion_between_tensors():
    a32, a64 = mg.ones(2), mg.ones(2, dtype=np.float64)
    assert (a32 + a64).dtype == np.float64
    # NumPy would give float64 for both: PyTorch keeps the float operand's dtype, and a 0-d
    # operand of the same category does not widen a tensor with dimensions
    assert (mg.tensor([1, 2]) * mg.tensor([1.0, 2.0])).dtype == np.float32
    assert (a32 * mg.tensor(np.float64(2.0))).dtype == np.float32


def test_reflected_ops():
    x = leaf([1.0, 2.0, 4.0])
    np.testing.assert_allclose((2 - x).data, [1, 0, -2])
    np.testing.assert_allclose((1 / x).data, [1, 0.5, 0.25])
    np.testing.assert_allclose((2**x).data, [2, 4, 16])
    np.testing.assert_allclose((3 * x).data, [3, 6, 12])
    np.testing.assert_allclose((1 + x).data, [2, 3, 5])
    out = np.array([1.0, 1.0, 1.0]) + x
    assert isinstance(out, mg.Tensor) and out.requires_grad  # ndarray + Tensor is a Tensor
    assert mg.gradcheck(lambda t: 2 - t, [x])
    assert mg.gradcheck(lambda t: 1 / t, [x])
    assert mg.gradcheck(lambda t: 2**t, [x])
    assert mg.gradcheck(lambda t: np.array([[1.0], [2.0]]) * t, [x])


def test_comparisons_give_bool_tensors_without_grad():
    x = leaf([1.0, 2.0, 3.0])
    other = mg.tensor([3.0, 2.0, 1.0])
    for result, expected in [(x < 2, [1, 0, 0]), (x <= 2, [1, 1, 0]), (x > other, [0, 0, 1]),
                             (x >= 2, [0, 1, 1]), (x == other, [0, 1, 0]), (x != 2, [1, 0, 1]),
                             (np.array([2.0, 2.0, 2.0]) < x, [0, 0, 1]), (2 < x, [0, 0, 1])]:
        assert isinstance(result, mg.Tensor)
        assert result.dtype == np.bool_ and not result.requires_grad
        np.testing.assert_array_equal(result.data, np.array(expected, dtype=bool))


def test_broadcast_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4,\)"):
        mg.zeros(2, 3) + mg.zeros(4)
    with pytest.raises(ValueError, match=r"mul.*\(3, 1\).*\(2, 4\)"):
        mg.zeros(3, 1) * mg.zeros(2, 4)


def test_permute_rejects_axes_that_are_not_a_permutation():
    x = mg.zeros(2, 3, 4)
    assert x.permute(-1, 0, 1).shape == (4, 2, 3)
    for bad in [(0, 1, 5), (0, 1), (0, 0, 1), (0, 1, 2, 3)]:
        with pytest.raises(ValueError, match="permute"):
            x.permute(*bad)


# -- factories and small API -------------------------------------------------------------------


def test_factories_and_manual_seed():
    assert mg.zeros(2, 3).shape == (2, 3) and mg.ones((2, 3)).shape == (2, 3)
    x = mg.full((2,), 7.0)
    np.testing.assert_array_equal(x.data, [7, 7])
    assert mg.zeros_like(x, dtype=np.float64).dtype == np.float64
    assert mg.ones_like(x).dtype == np.float32 and mg.ones_like(x).shape == (2,)
    mg.manual_seed(3)
    first = mg.randn(4).data, mg.rand(4).data
    mg.manual_seed(3)
    second = mg.randn(4).data, mg.rand(4).data
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert 0 <= first[1].min() and first[1].max() < 1
    with pytest.raises(ValueError, match="non-negative"):
        mg.zeros(-1)


def test_manual_seed_refuses_a_negative_or_non_integer_seed_and_names_the_fix():
    """manual_seed(-1) was NumPy's bare "expected non-negative integer" (PyTorch takes
    negative seeds; minigrad refuses them rather than map them silently)."""
    mg.manual_seed(np.int64(5))  # NumPy integers are whole numbers too
    expected = mg.randn(3).data
    mg.manual_seed(5)
    for bad, error in ((-1, ValueError), (1.5, TypeError), (2.0, TypeError),
                       ("3", TypeError), (None, TypeError), (True, TypeError)):
        with pytest.raises(error, match=r"manual_seed: the seed must be a whole number >= 0.*"
                                        r"Fix: .*manual_seed\("):
            mg.manual_seed(bad)
    np.testing.assert_array_equal(mg.randn(3).data, expected)  # the generator is kept
    with pytest.raises(ValueError, match=r"got -7\. Fix: use a seed >= 0, e\.g\. manual_seed\(7\)"):
        mg.manual_seed(-7)


def test_ragged_data_step_zero_and_bad_comparisons_are_clear_errors():
    # Each was NumPy's bare error, naming neither the function nor the fix.
    with pytest.raises(ValueError, match="tensor: .*inhomogeneous.*Fix: .*same length"):
        mg.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match="tensor: .*Fix"):
        mg.tensor([[1.0, 2.0], [3.0]], dtype=np.float64)
    with pytest.raises(ValueError, match="arange: step must be nonzero"):
        mg.arange(0, 5, 0)
    x = mg.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"<: cannot compare a tensor of shape \(2,\) with "
                                         r"shape \(3,\).*Fix"):
        _ = x < mg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"==: .*shape \(3,\)"):
        _ = x == np.ones(3)
    with pytest.raises(TypeError, match=">=: cannot compare a tensor of shape .* with str"):
        _ = x >= "1"
    np.testing.assert_array_equal((x > 1.5).data, [False, True])  # and valid ones still work


def test_float_int_and_index_of_one_element_tensors_as_in_pytorch():
    loss = (mg.tensor([1.5, 2.0], requires_grad=True) ** 2).sum()
    assert float(loss) == 6.25 and isinstance(float(loss), float)  # float(loss) in a log line
    assert int(mg.tensor([2.7])) == 2 and int(mg.tensor(True)) == 1
    assert [10, 20, 30][mg.tensor(1)] == 20 and list(range(mg.tensor(3))) == [0, 1, 2]
    with pytest.raises(ValueError, match="one-element"):
        float(mg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [1, 2][mg.tensor(0.0)]


def test_small_array_api():
    x = mg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert x.shape == (1, 3) and x.ndim == 2 and x.size() == (1, 3) and x.size(1) == 3
    assert x.numpy() is x.data and x.numel() == 3 and len(x) == 1
    assert x.sum().item() == 6.0
    d = x.detach()
    assert not d.requires_grad and d.data is x.data
    with pytest.raises(ValueError, match="item"):
        x.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x > 0)
    assert "requires_grad=True" in repr(x)


def test_op_results_and_factory_results_set_every_field():
    """Function.apply builds its nodes inline: every slot of Tensor must be set, as
    Tensor._node and Tensor() set them (a forgotten one is an AttributeError much later)."""
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    made = [x * 2, mg.tensor([1.0]) * 2, x.detach(), mg.Tensor._make(np.ones(2), None, ()), x]
    for tensor in made:
        for slot in mg.Tensor.__slots__:
            if slot != "__weakref__":
                getattr(tensor, slot)
    assert (x * 2)._hooks == () and (x * 2).requires_grad and not (mg.tensor([1.0]) * 2)._parents
