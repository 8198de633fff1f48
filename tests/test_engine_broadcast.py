"""Every binary op against PyTorch on random broadcastable shapes (0-d, size-1 and empty
axes included), in float32 and float64 and mixed: values, result dtype, and each input's
gradient and its dtype, with either operand a tensor, a Python number or a NumPy number."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minigrad as mg

torch = pytest.importorskip("torch")

OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "maximum": lambda a, b: a.maximum(b) if isinstance(a, mg.Tensor) else torch.maximum(a, b),
    "minimum": lambda a, b: a.minimum(b) if isinstance(a, mg.Tensor) else torch.minimum(a, b),
}
FLOATS = [np.float32, np.float64]


def positive(shape, dtype, seed):
    """Values in [0.5, 2): away from the kinks of maximum/minimum and from pow's 0 base."""
    return (np.random.default_rng(seed).uniform(0.5, 2.0, size=shape)).astype(dtype)


@settings(max_examples=80, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0,
                                            max_side=3),
       op=st.sampled_from(sorted(OPS)), dtypes=st.tuples(st.sampled_from(FLOATS),
                                                        st.sampled_from(FLOATS)),
       seed=st.integers(0, 2**16))
def test_binary_ops_and_their_gradients_match_pytorch(shapes, op, dtypes, seed):
    (shape_a, shape_b), out_shape = shapes.input_shapes, shapes.result_shape
    a, b = positive(shape_a, dtypes[0], seed), positive(shape_b, dtypes[1], seed + 1)
    mg_a, mg_b = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    torch_a, torch_b = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    result, expected = OPS[op](mg_a, mg_b), OPS[op](torch_a, torch_b)
    assert result.shape == tuple(expected.shape) == out_shape
    assert str(result.dtype) == str(expected.dtype).removeprefix("torch.")
    np.testing.assert_allclose(result.data, expected.detach().numpy(), rtol=1e-5)
    seed_grad = positive(out_shape, result.dtype, seed + 2)
    result.backward(seed_grad)
    expected.backward(torch.tensor(seed_grad))
    for ours, theirs in ((mg_a, torch_a), (mg_b, torch_b)):
        assert ours.grad.shape == tuple(theirs.grad.shape)
        assert ours.grad.dtype == theirs.grad.numpy().dtype
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-4, atol=1e-6)


NUMBERS = st.sampled_from([2, 0.5, 1.5, np.float64(0.75), np.float32(1.25), np.int64(3)])


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(0, 3), max_size=3).map(tuple),
       op=st.sampled_from(["add", "sub", "mul", "div", "pow"]), dtype=st.sampled_from(FLOATS),
       number=NUMBERS, number_first=st.booleans(), seed=st.integers(0, 2**16))
def test_a_number_on_either_side_matches_pytorch(shape, op, dtype, number, number_first, seed):
    data = positive(shape, dtype, seed)
    ours, theirs = mg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    if number_first:
        result, expected = OPS[op](number, ours), OPS[op](number, theirs)
    else:
        result, expected = OPS[op](ours, number), OPS[op](theirs, number)
    assert str(result.dtype) == str(expected.dtype).removeprefix("torch.")
    np.testing.assert_allclose(result.data, expected.detach().numpy(), rtol=1e-5)
    result.sum().backward()
    expected.sum().backward()
    assert ours.grad.dtype == dtype
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-4, atol=1e-6)
