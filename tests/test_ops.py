"""Every element-wise, matmul and reduction op: forward equals NumPy, and backward passes
`gradcheck` in float64 over hypothesis-drawn shapes (broadcasting both ways, size-1 axes,
0-d tensors). Inputs are drawn away from kinks (0 for relu/abs, ties for max/min, the
bounds of clip) so that central differences are valid."""

import math

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis.extra import numpy as hnp

import minigrad as mg

seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
# Two shapes that broadcast together, e.g. (3, 1) and (1, 4), (2, 3) and (), (3,) and (2, 3).
pair_shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


def leaf(array):
    return mg.tensor(np.array(array, dtype=np.float64), requires_grad=True)


def check(fn, numpy_fn, *arrays, **gradcheck_kwargs):
    """fn on tensors matches numpy_fn on arrays, and its backward passes gradcheck."""
    tensors = [leaf(a) for a in arrays]
    out = fn(*tensors)
    expected = numpy_fn(*[np.array(a, dtype=np.float64) for a in arrays])
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert mg.gradcheck(fn, tensors, **gradcheck_kwargs)
    for t, a in zip(tensors, arrays):
        assert t.grad.shape == np.shape(a) and t.grad.dtype == np.float64


def normal(rng, shape):
    return rng.normal(size=shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape)


def away_from_zero(rng, shape):
    return rng.uniform(0.2, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def odd_grid(rng, shape):
    """Odd multiples of 0.1 (plus < 0.01 noise): never within 0.08 of an even_grid value."""
    return (2 * rng.integers(-5, 5, size=shape) + 1) * 0.1 + rng.uniform(0, 0.01, size=shape)


def even_grid(rng, shape):
    return 2 * rng.integers(-5, 5, size=shape) * 0.1 + rng.uniform(0, 0.01, size=shape)


def distinct(rng, shape):
    """All values distinct and at least 0.09 apart: max/min have no ties."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.1 + rng.uniform(0, 0.01, size)).reshape(shape)


# -- binary element-wise ops -------------------------------------------------------------------

BINARY = {
    "add": (lambda a, b: a + b, np.add, normal, normal),
    "sub": (lambda a, b: a - b, np.subtract, normal, normal),
    "mul": (lambda a, b: a * b, np.multiply, normal, normal),
    "div": (lambda a, b: a / b, np.divide, normal, away_from_zero),
    "pow": (lambda a, b: a**b, np.power, positive, normal),
    "maximum": (mg.maximum, np.maximum, odd_grid, even_grid),
    "minimum": (mg.minimum, np.minimum, odd_grid, even_grid),
}


@pytest.mark.parametrize("name", BINARY)
@given(seed=seeds, shape_pair=pair_shapes)
def test_binary_op_broadcasts_and_passes_gradcheck(name, seed, shape_pair):
    fn, numpy_fn, make_a, make_b = BINARY[name]
    rng = np.random.default_rng(seed)
    shape_a, shape_b = shape_pair.input_shapes
    check(fn, numpy_fn, make_a(rng, shape_a), make_b(rng, shape_b))


@given(seed=seeds, shapes3=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
def test_where_passes_gradcheck_with_three_broadcast_shapes(seed, shapes3):
    rng = np.random.default_rng(seed)
    shape_c, shape_a, shape_b = shapes3.input_shapes
    condition = rng.random(shape_c) > 0.5
    check(lambda a, b: mg.where(condition, a, b), lambda a, b: np.where(condition, a, b),
          normal(rng, shape_a), normal(rng, shape_b))


def test_maximum_and_minimum_split_the_gradient_at_ties():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([1.0, 0.0, 5.0])
    mg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(b.grad, [0.5, 0.0, 1.0])
    a.grad = b.grad = None
    mg.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0.0, 1.0])


# -- unary element-wise ops --------------------------------------------------------------------

UNARY = {
    "neg": (lambda x: -x, np.negative, normal),
    "exp": (mg.exp, np.exp, normal),
    "log": (mg.log, np.log, positive),
    "sqrt": (mg.sqrt, np.sqrt, positive),
    "tanh": (lambda x: x.tanh(), np.tanh, normal),
    "sigmoid": (mg.sigmoid, lambda x: 1 / (1 + np.exp(-x)), normal),
    "relu": (mg.relu, lambda x: np.maximum(x, 0), away_from_zero),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda x: np.where(x > 0, x, 0.1 * x),
                   away_from_zero),
    "abs": (abs, np.abs, away_from_zero),
    # odd_grid values lie at least 0.04 from the bounds +-0.45
    "clip": (lambda x: x.clip(-0.45, 0.45), lambda x: np.clip(x, -0.45, 0.45), odd_grid),
    "clip_min_only": (lambda x: mg.clip(x, min=0.05), lambda x: np.maximum(x, 0.05), odd_grid),
    "square": (lambda x: x**2, np.square, normal),
    "cube": (lambda x: x**3, lambda x: x**3, normal),
    "reciprocal_power": (lambda x: x**-1, lambda x: 1 / x, away_from_zero),
    "int_numpy_exponent": (lambda x: x ** np.int64(2), np.square, normal),
    "sqrt_power": (lambda x: x**0.5, np.sqrt, positive),
    "fractional_power": (lambda x: x**1.5, lambda x: x**1.5, positive),
}


@pytest.mark.parametrize("name", UNARY)
@given(seed=seeds, shape=shapes)
def test_unary_op_passes_gradcheck(name, seed, shape):
    fn, numpy_fn, make = UNARY[name]
    check(fn, numpy_fn, make(np.random.default_rng(seed), shape))


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "neg"])
def test_unary_op_keeps_float32(name):
    x = mg.tensor([0.5, 1.5], requires_grad=True)
    out = UNARY[name][0](x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_sigmoid_is_finite_for_huge_inputs():
    x = leaf([-1000.0, 0.0, 1000.0])
    out = x.sigmoid()
    np.testing.assert_allclose(out.data, [0.0, 0.5, 1.0])
    out.sum().backward()
    assert np.isfinite(x.grad).all()


# -- matmul --------------------------------------------------------------------------------------


@st.composite
def matmul_shapes(draw):
    """Shapes (a, b) for every case numpy.matmul defines: 2-D, batched with broadcast batch
    axes, a 1-D operand on either side, both 1-D."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2,
                                                     max_side=3))
    batch_a, batch_b = batch.input_shapes
    case = draw(st.sampled_from(["2d", "batched", "vector_left", "vector_right", "vectors"]))
    if case == "2d":
        return (n, k), (k, m)
    if case == "batched":
        return batch_a + (n, k), batch_b + (k, m)
    if case == "vector_left":
        return (k,), batch_b + (k, m)
    if case == "vector_right":
        return batch_a + (n, k), (k,)
    return (k,), (k,)


@given(seed=seeds, shape_pair=matmul_shapes())
def test_matmul_passes_gradcheck_in_every_numpy_case(seed, shape_pair):
    rng = np.random.default_rng(seed)
    shape_a, shape_b = shape_pair
    check(lambda a, b: a @ b, np.matmul, normal(rng, shape_a), normal(rng, shape_b))


def test_matmul_shape_error_names_both_shapes():
    a, b = mg.zeros(2, 3), mg.zeros(4, 5)
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        a @ b
    with pytest.raises(ValueError, match=r"matmul.*\(2, 2, 3\).*\(3, 3, 4\)"):
        mg.zeros(2, 2, 3) @ mg.zeros(3, 3, 4)  # batch axes 2 and 3 do not broadcast
    with pytest.raises(ValueError, match=r"matmul.*\(\).*\(3,\)"):
        mg.matmul(mg.tensor(2.0), mg.zeros(3))


def test_matmul_with_arrays_on_either_side():
    w = mg.tensor(np.eye(2), requires_grad=True)
    x = np.array([[1.0, 2.0]])
    assert isinstance(x @ w, mg.Tensor)
    np.testing.assert_array_equal((x @ w).data, x)
    np.testing.assert_array_equal(mg.matmul(x, w).data, x)


# -- reductions ----------------------------------------------------------------------------------


@st.composite
def shape_axis_keepdims(draw):
    """A shape, an axis argument of every accepted form (None, int, tuple, negatives), keepdims."""
    shape = draw(shapes)
    ndim = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"])) if ndim else "none"
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-ndim, ndim - 1))
    else:
        axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
        axis = tuple(a - ndim if draw(st.booleans()) else a for a in axes)
    return shape, axis, draw(st.booleans())


def count_reduced(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes]))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
@given(seed=seeds, case=shape_axis_keepdims())
def test_reduction_passes_gradcheck(name, seed, case):
    shape, axis, keepdims = case
    rng = np.random.default_rng(seed)
    data = distinct(rng, shape) if name in ("amax", "amin") else normal(rng, shape)
    check(lambda x: getattr(x, name)(axis=axis, keepdims=keepdims),
          lambda x: getattr(np, name)(x, axis=axis, keepdims=keepdims), data)


@pytest.mark.parametrize("correction", [0, 1])
@given(seed=seeds, case=shape_axis_keepdims())
def test_var_passes_gradcheck(correction, seed, case):
    shape, axis, keepdims = case
    assume(count_reduced(shape, axis) > correction)
    check(lambda x: x.var(axis=axis, keepdims=keepdims, correction=correction),
          lambda x: np.var(x, axis=axis, keepdims=keepdims, ddof=correction),
          normal(np.random.default_rng(seed), shape))


def test_reductions_accept_pytorch_dim_and_keepdim():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    assert x.sum(dim=1, keepdim=True).shape == (2, 1)
    np.testing.assert_allclose(x.var(dim=0, unbiased=False).data, np.var(x.data, axis=0))
    np.testing.assert_allclose(x.var().data, np.var(x.data, ddof=1))  # unbiased by default


def test_max_splits_the_gradient_among_ties():
    x = leaf([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]])
    x.amax(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [1, 0, 0]])
    x.grad = None
    x.max().backward()  # the full reduction splits too (PyTorch's max())
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [0, 0, 0]])


def test_reduction_errors_name_the_op():
    x = mg.zeros(2, 3)
    with pytest.raises(ValueError, match="sum: axis 2 is out of range"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match="repeats an axis"):
        x.mean(axis=(1, -1))
    with pytest.raises(ValueError, match="var: 1 value"):
        mg.zeros(1, 3).var(axis=0)


def test_power_zero_has_zero_gradient_at_zero():
    # regression: 0 * 0^-1 gave NaN; x^0 is constant, so its derivative is 0 (as in PyTorch)
    x = leaf([0.0, 2.0])
    with np.errstate(all="ignore"):
        (x**0).sum().backward()
        np.testing.assert_array_equal(x.grad, [0.0, 0.0])
        x.grad = None
        (x ** mg.tensor([0.0, 0.0], dtype=np.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_power_gradient_in_the_exponent_is_nan_for_a_negative_base_as_in_pytorch():
    """d(a^b)/db = a^b ln a: NaN where a < 0 (it was a silent 0), 0 where a = 0 and b >= 0,
    -inf at a = 0 with b < 0: PyTorch 2.13's values (checked against it when installed)."""
    base = [-2.0, 0.0, 0.0, 0.0, 2.0, -1.5]
    power = [2.0, 0.0, 2.0, -1.0, 1.5, 0.5]
    a, b = leaf(base), leaf(power)
    with np.errstate(all="ignore"):  # 0 ** -1 and (-1.5) ** 0.5 in forward, as NumPy warns
        (a**b).sum().backward()
    expected_b = [np.nan, 0.0, 0.0, -np.inf, 2.0**1.5 * np.log(2.0), np.nan]
    np.testing.assert_allclose(b.grad, expected_b, rtol=1e-12)
    np.testing.assert_allclose(a.grad, [-4.0, 0.0, 0.0, -np.inf, 1.5 * 2.0**0.5, np.nan],
                               rtol=1e-12)
    # A NaN or inf arriving from above stays NaN where the mask puts 0 (as in PyTorch).
    a, b = leaf([0.0, 0.0, 0.0]), leaf([2.0, 0.0, 1.0])
    (a**b).backward(mg.tensor([np.nan, np.inf, np.nan], dtype=np.float64))
    assert np.isnan(b.grad).all()
    a, b = leaf(base), leaf(power)
    with np.errstate(all="ignore"):
        (a**b).sum().backward()
    try:
        import torch
    except ImportError:
        return
    ta = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(power, dtype=torch.float64, requires_grad=True)
    (ta**tb).sum().backward()
    np.testing.assert_allclose(b.grad, tb.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-12)


def test_integer_to_a_negative_integer_power_names_the_real_fix():
    # The message was NumPy's, followed by "Fix: make the shapes compatible".
    ints = mg.tensor([1, 2])
    for power in (lambda: ints ** -1, lambda: ints ** mg.tensor([-1, 2]), lambda: 2 ** -ints):
        with pytest.raises(ValueError, match=r"pow: integers to negative integer powers.*"
                                             r"Fix: convert the base to floats") as caught:
            power()
        assert "shapes compatible" not in str(caught.value)
    np.testing.assert_array_equal((ints ** 2).data, [1, 4])
    np.testing.assert_array_equal((ints.float() ** -1).data, [1.0, 0.5])


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
def test_zero_d_tensors_accept_axis_0_and_minus_1(name):
    # regression: axis=-1 was rejected for 0-d tensors (PyTorch accepts dim 0 and -1)
    x = leaf(1.5)
    for axis in (0, -1):
        check(lambda t, axis=axis: getattr(t, name)(axis=axis), lambda a: a, 1.5)
    with pytest.raises(ValueError, match=rf"{name.removeprefix('a')}: axis 1 is out of range"):
        getattr(x, name)(axis=1)


def test_backward_skips_the_gradient_of_inputs_that_do_not_need_one():
    """`Function.needs_input_grad` lets matmul-like ops skip work: the data fed to a first
    layer needs no gradient, and computing it would cost a whole matrix product."""
    from minigrad.nn import functional as F

    x = mg.randn(4, 3, dtype=np.float64)
    weight = mg.randn(2, 3, dtype=np.float64, requires_grad=True)
    out = F.linear(x, weight)
    assert out._op.needs_input_grad == (False, True)
    grad_x, grad_weight = out._op.backward(np.ones((4, 2)))
    assert grad_x is None and np.allclose(grad_weight, np.ones((2, 4)) @ x.data)
    product = mg.matmul(x, weight.T)
    assert product._op.backward(np.ones((4, 2)))[0] is None
    x.requires_grad_()
    out = F.linear(x, weight)
    assert out._op.needs_input_grad == (True, True)
    assert np.allclose(out._op.backward(np.ones((4, 2)))[0], np.ones((4, 2)) @ weight.data)


# -- std, norm, clone ------------------------------------------------------------------------


@pytest.mark.parametrize("correction", [0, 1])
@given(seed=seeds, case=shape_axis_keepdims())
def test_std_passes_gradcheck(correction, seed, case):
    shape, axis, keepdims = case
    assume(count_reduced(shape, axis) > correction)
    check(lambda x: x.std(axis, keepdim=keepdims, correction=correction),
          lambda x: np.std(x, axis=axis, keepdims=keepdims, ddof=correction),
          normal(np.random.default_rng(seed), shape))


def test_std_by_hand_and_its_pytorch_signatures():
    x = leaf([[1.0, 3.0], [2.0, 2.0]])
    np.testing.assert_allclose(x.std().data, np.sqrt(2 / 3))  # unbiased by default
    np.testing.assert_allclose(x.std(1, False).data, [1.0, 0.0])  # std(dim, unbiased)
    np.testing.assert_allclose(x.std(dim=0, correction=0, keepdim=True).data, [[0.5, 0.5]])
    x.std(1).sum().backward()  # row 2 has std 0: gradient 0 there, as in PyTorch (not NaN)
    np.testing.assert_allclose(x.grad, [[-1 / np.sqrt(2), 1 / np.sqrt(2)], [0.0, 0.0]])
    with pytest.raises(TypeError, match="std: pass either unbiased= or correction="):
        x.std(0, unbiased=True, correction=0)
    # var takes the same positional arguments as PyTorch's: (dim, unbiased, keepdim)
    np.testing.assert_allclose(x.var(1, False, True).data, [[1.0], [0.0]])


NORM_P = ["fro", 2, 1, 3, 0.5, float("inf"), -float("inf")]


def numpy_norm(x, p, dim, keepdim):
    """The vector p-norm of numpy arrays over `dim`, written from the definition."""
    magnitude = np.abs(x)
    if p == float("inf"):
        return magnitude.max(axis=dim, keepdims=keepdim)
    if p == -float("inf"):
        return magnitude.min(axis=dim, keepdims=keepdim)
    p = 2 if p == "fro" else p
    return (magnitude**p).sum(axis=dim, keepdims=keepdim) ** (1 / p)


@pytest.mark.parametrize("p", NORM_P)
@pytest.mark.parametrize("dim", [None, 1, (0, 2)])
def test_norm_passes_gradcheck(p, dim):
    data = away_from_zero(np.random.default_rng(3), (2, 3, 4))
    data += np.arange(24).reshape(data.shape) * 0.01 * np.sign(data)  # no ties for inf-norms
    keepdim = dim == 1
    check(lambda x: x.norm(p, dim=dim, keepdim=keepdim),
          lambda x: numpy_norm(x, p, dim, keepdim), data)


def test_norm_by_hand_zero_vector_and_errors():
    x = leaf([3.0, -4.0, 0.0])
    assert x.norm().item() == 5.0 and x.norm(1).item() == 7.0 and x.norm(0).item() == 2.0
    assert x.norm(float("inf")).item() == 4.0
    zero = leaf([0.0, 0.0])
    zero.norm().backward()  # 0/0: gradient 0, as in PyTorch
    np.testing.assert_array_equal(zero.grad, [0.0, 0.0])
    ties = leaf([1.0, -3.0, 3.0])
    ties.norm(float("inf")).backward()
    np.testing.assert_array_equal(ties.grad, [0.0, -0.5, 0.5])
    with pytest.raises(ValueError, match="norm: p='nuc' is not supported"):
        x.norm("nuc")
    with pytest.raises(TypeError, match="norm: expected a floating-point tensor"):
        mg.tensor([1, 2]).norm()


def test_std_and_norm_against_pytorch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(4).normal(size=(3, 4))
    data[1] = 0.5  # a constant row (std 0) and ...
    data[2, :2] = 0.0  # ... some exact zeros
    cases = [("std", (), {}), ("std", (1,), {"correction": 0}), ("std", (0, False, True), {}),
             ("var", (1, False), {}), ("var", (0,), {"keepdim": True}),
             ("norm", (), {}), ("norm", (1,), {"dim": 1}), ("norm", (0.5,), {"dim": 1}),
             ("norm", (float("inf"),), {"dim": 0, "keepdim": True}), ("norm", ("fro", (0, 1)), {})]
    for name, args, kwargs in cases:
        x, t = leaf(data), torch.tensor(data, requires_grad=True)
        ours, theirs = getattr(x, name)(*args, **kwargs), getattr(t, name)(*args, **kwargs)
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
        ours.sum().backward()
        theirs.sum().backward()
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{name}{args}{kwargs}")


def test_clone_is_a_differentiable_copy():
    x = leaf([1.0, 2.0])
    y = x.clone()
    assert y.data is not x.data and y.op_name == "clone"
    y.data[0] = 5.0
    assert x.data[0] == 1.0
    assert mg.gradcheck(lambda t: t.clone() * t, [x])


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_binary_loss_target_of_another_float_dtype_still_gets_its_gradient(name):
    # The target was converted into a new leaf, so its own .grad silently stayed None.
    loss_function = getattr(mg.nn.functional, name)
    x = mg.tensor([0.2, 0.7, 0.4], requires_grad=True)  # float32
    target64 = mg.tensor(np.array([0.1, 0.5, 0.9]), requires_grad=True)
    target32 = mg.tensor([0.1, 0.5, 0.9], requires_grad=True)
    loss_function(x, target64).backward()
    loss_function(x, target32).backward()
    assert target64.grad is not None and target64.grad.dtype == np.float64
    np.testing.assert_allclose(target64.grad, target32.grad, rtol=1e-6)


def test_nll_loss_with_zero_total_weight_puts_nan_only_at_the_targets_as_pytorch():
    # 'mean' over rows whose class weights are all 0 is 0/0. PyTorch's nll_loss gradient is
    # -w/0 = NaN at each counted row's target and 0 elsewhere; it was NaN on whole rows.
    z = mg.tensor(np.zeros((3, 3)), requires_grad=True)
    mg.nn.functional.nll_loss(z, np.array([2, 0, 2]), weight=np.array([1.0, 1.0, 0.0]),
                              ignore_index=0).backward()
    expected = np.zeros((3, 3))
    expected[[0, 2], 2] = np.nan
    np.testing.assert_array_equal(z.grad, expected)  # equal_nan: NaN where expected has it


def test_clamp_of_integers_with_a_float_bound_gives_floats_within_the_bounds():
    # The result was cast back to int64: clamp(min=0.5) left 0, below its own bound.
    counts = mg.tensor([0, 1, 2])
    np.testing.assert_array_equal(counts.clamp(min=0.5).data, [0.5, 1.0, 2.0])
    np.testing.assert_array_equal(counts.clamp(max=1.5).data, [0.0, 1.0, 1.5])
    assert counts.clamp(0, 1).dtype == np.int64  # integer bounds keep integers
    assert mg.tensor([0.0, 2.0]).clamp(np.float64(0.5)).dtype == np.float32


def test_a_number_that_does_not_fit_an_integer_tensor_is_a_clear_error():
    # NumPy 2 raised a bare OverflowError, neither a ValueError nor naming the op.
    small = mg.tensor(np.array([5], dtype=np.uint8))
    with pytest.raises(ValueError, match=r"add: the number 300 does not fit .* uint8.*Fix"):
        small + 300
    with pytest.raises(ValueError, match=r"mul: the number .* does not fit .* int64"):
        mg.tensor([1, 2]) * 2**70
    assert (small + 3).dtype == np.uint8 and (small + 3).item() == 8


# -- the dtypes of sum and mean of bools and integers, as in PyTorch --------------------------

INTEGER_DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32,
                  np.int64]


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
@pytest.mark.parametrize("name", ["mean", "var", "std"])
def test_mean_var_std_of_bools_and_integers_are_refused_as_in_pytorch(name, dtype):
    # they were float64 (NumPy's choice), behind the user's back
    x = mg.tensor(np.array([[1, 0, 1], [1, 1, 0]], dtype=dtype))
    with pytest.raises(TypeError, match=rf"{name}: cannot take the {name} of a tensor of dtype "
                                        rf"{np.dtype(dtype)} .*Fix: .*x\.float\(\)\.{name}\(\)"):
        getattr(x, name)()
    with pytest.raises(TypeError, match=rf"{name}: "):
        getattr(x, name)(dim=1)
    np.testing.assert_allclose(getattr(x.float(), name)().item(),
                               getattr(np.array([1, 0, 1, 1, 1, 0.0]), name)(
                                   **({} if name == "mean" else {"ddof": 1})), rtol=1e-6)


def test_an_accuracy_is_the_mean_of_a_float_mask():
    predictions, labels = mg.tensor([1, 2, 0, 2]), mg.tensor([1, 0, 0, 2])
    with pytest.raises(TypeError, match=r"\(pred == y\)\.float\(\)\.mean\(\)"):
        (predictions == labels).mean()
    accuracy = (predictions == labels).float().mean()
    assert accuracy.dtype == np.float32 and accuracy.item() == 0.75


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_sums_of_bools_and_integers_are_int64_as_in_pytorch(dtype):
    # a uint8 sum was uint64 (NumPy's choice): a difference of two counts wrapped around
    x = mg.tensor(np.array([[200, 100, 1], [255, 0, 7]]).astype(dtype))
    expected = np.array([[200, 100, 1], [255, 0, 7]]).astype(dtype).astype(np.int64)
    for args, kwargs in [((), {}), ((0,), {}), ((1,), {"keepdim": True}), (((0, 1),), {})]:
        total = x.sum(*args, **kwargs)
        assert total.dtype == np.int64, (args, kwargs)
        np.testing.assert_array_equal(
            total.data, expected.sum(axis=args[0] if args else None,
                                     keepdims=kwargs.get("keepdim", False)))
    small = mg.tensor(np.array([1, 2], dtype=dtype)).sum() if dtype is not np.bool_ else None
    if small is not None:
        assert (small - mg.tensor(np.array([5], dtype=dtype)).sum()).item() == -2
    assert mg.tensor(np.ones(3, np.float16)).sum().dtype == np.float16  # floats keep theirs


def test_sum_and_mean_dtypes_against_pytorch():
    torch = pytest.importorskip("torch")
    for dtype in INTEGER_DTYPES:
        data = np.array([3, 1, 2]).astype(dtype)
        theirs = torch.from_numpy(data)
        assert str(mg.tensor(data).sum().dtype) == str(theirs.sum().dtype).removeprefix("torch.")
        with pytest.raises(RuntimeError, match="could not infer output dtype"):
            theirs.mean()


def test_sigmoid_keeps_its_digits_for_negative_inputs():
    """(1 + tanh(x/2))/2 lost every digit below about -17 (float32: 0 at -20, so
    log(sigmoid) was -inf and BCE on a confidently wrong example sent no gradient).
    Checked against 1/(1 + e^-x) computed in Python floats."""
    points = [-100.0, -40.0, -20.0, -17.0, -1.0, 0.0, 1.0, 20.0, 100.0]
    for dtype, rtol in [(np.float32, 1e-6), (np.float64, 1e-14)]:
        x = mg.tensor(np.array(points, dtype=dtype), requires_grad=True)
        out = x.sigmoid()
        assert out.dtype == dtype
        exact = [1 / (1 + math.exp(-p)) for p in points]
        np.testing.assert_allclose(out.data, np.array(exact, dtype=dtype), rtol=rtol, atol=0)
        # d log(sigmoid(x))/dx = 1 - sigmoid(x), through 1/sigmoid(x): finite while that is
        # (from -40 up; sigmoid(-100) is a float32 subnormal, whose reciprocal overflows)
        x = mg.tensor(np.array(points[1:], dtype=dtype), requires_grad=True)
        x.sigmoid().log().sum().backward()
        np.testing.assert_allclose(x.grad, 1 - np.array(exact[1:]), rtol=rtol, atol=1e-7)
    assert np.isnan(mg.tensor([np.nan]).sigmoid().data).all()
