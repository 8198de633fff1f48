"""The dtype of every binary op's result, and of the gradients it sends back, is PyTorch's:
checked against PyTorch itself for every pair of dtypes, 0-d and n-d operands, and Python
and NumPy numbers on either side (minigrad/ops/elementwise.py, `result_dtype`)."""

import itertools

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

DTYPES = ["float16", "float32", "float64", "int64", "int32", "uint8", "bool"]
OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": lambda a, b: a.maximum(b) if isinstance(a, mg.Tensor) else torch.maximum(a, b),
    "where": lambda a, b: (mg.where(np.array([True, False, True]), a, b)
                           if isinstance(a, mg.Tensor)
                           else torch.where(torch.tensor([True, False, True]), a, b)),
}
SHAPES = [((3,), (3,)), ((), (3,)), ((3,), ())]


def torch_dtype_name(tensor):
    return str(tensor.dtype).removeprefix("torch.")


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("shapes", SHAPES)
def test_tensor_pairs_promote_as_in_pytorch(op, shapes):
    function = OPS[op]
    mismatches = []
    for dtype_a, dtype_b in itertools.product(DTYPES, DTYPES):
        a = (np.arange(1, 4) if shapes[0] else np.array(2)).astype(dtype_a)
        b = (np.arange(2, 5) if shapes[1] else np.array(3)).astype(dtype_b)
        expected = function(torch.tensor(a), torch.tensor(b))
        result = function(mg.tensor(a), mg.tensor(b))
        if str(result.dtype) != torch_dtype_name(expected):
            mismatches.append((dtype_a, dtype_b, str(result.dtype), torch_dtype_name(expected)))
        np.testing.assert_allclose(result.data.astype(float),
                                   expected.numpy().astype(float), rtol=2e-3)
    assert not mismatches


NUMBERS = [2, 2.5, True, np.float64(2.5), np.int64(2), np.float32(2.0)]


@pytest.mark.parametrize("op", ["add", "mul", "div", "pow"])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "int32", "uint8"])
def test_python_and_numpy_numbers_promote_as_in_pytorch(op, dtype):
    function = OPS.get(op, lambda a, b: a**b)
    tensor = np.arange(1, 4).astype(dtype)
    for number in NUMBERS:
        for left in (False, True):
            if op == "pow" and left:
                continue
            pair = ((number, tensor) if left else (tensor, number))
            expected = function(*(torch.tensor(v) if v is tensor else v for v in pair))
            result = function(*(mg.tensor(v) if v is tensor else v for v in pair))
            assert str(result.dtype) == torch_dtype_name(expected), (number, left)


def test_an_integer_tensor_times_a_float_is_float32_like_a_pytorch_default():
    labels = mg.tensor(np.array([0, 1, 2]))
    assert (labels * 0.5).dtype == np.float32
    assert (labels / 2).dtype == np.float32
    assert (labels / labels.maximum(1)).dtype == np.float32
    assert (labels**0.5).dtype == np.float32
    assert (mg.tensor(np.array([True, False])) / 2).dtype == np.float32


@pytest.mark.parametrize("op", ["add", "mul", "div", "maximum", "where"])
def test_a_float64_scalar_tensor_does_not_widen_a_float32_batch_and_gradients_keep_dtypes(op):
    function = OPS[op]
    scale = np.float64(1.5)
    batch = np.array([0.5, 2.0, 3.0], np.float32)
    mg_scale, mg_batch = (mg.tensor(scale, requires_grad=True),
                          mg.tensor(batch, requires_grad=True))
    torch_scale, torch_batch = (torch.tensor(scale, requires_grad=True),
                                torch.tensor(batch, requires_grad=True))
    result, expected = function(mg_batch, mg_scale), function(torch_batch, torch_scale)
    assert result.dtype == np.float32 and torch_dtype_name(expected) == "float32"
    result.sum().backward()
    expected.sum().backward()
    assert mg_scale.grad.dtype == np.float64 and mg_batch.grad.dtype == np.float32
    np.testing.assert_allclose(mg_scale.grad, torch_scale.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(mg_batch.grad, torch_batch.grad.numpy(), rtol=1e-6)


def test_an_integer_mask_does_not_turn_a_float32_loss_into_float64():
    prediction = mg.tensor([0.5, 1.5, 2.5], requires_grad=True)
    mask = mg.tensor(np.array([1, 0, 1]))  # int64
    loss = ((prediction - mask) ** 2 * mask).mean()
    assert loss.dtype == np.float32
    loss.backward()
    assert prediction.grad.dtype == np.float32
    np.testing.assert_allclose(prediction.grad, 2 * (prediction.data - mask.data)
                               * mask.data / 3, rtol=1e-6)


@pytest.mark.parametrize("join", ["cat", "stack"])
@pytest.mark.parametrize("dtypes", [("int64", "float32"), ("float16", "int64"),
                                    ("uint8", "int8"), ("bool", "int32"), ("float32", "float64")])
def test_cat_and_stack_promote_as_in_pytorch(join, dtypes):
    arrays = [np.arange(3).astype(dtype) for dtype in dtypes]
    result = getattr(mg, join)([mg.tensor(a) for a in arrays])
    expected = getattr(torch, join)([torch.tensor(a) for a in arrays])
    assert str(result.dtype) == torch_dtype_name(expected)
    np.testing.assert_array_equal(result.data, expected.numpy())


def test_cat_of_a_float32_tensor_and_integers_keeps_float32_and_its_gradient():
    x = mg.tensor([0.5, 1.5], requires_grad=True)
    joined = mg.cat([x, mg.tensor(np.array([1, 2]))])
    assert joined.dtype == np.float32
    (joined * mg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("fill", [3, 3.0, True, np.float64(3.0), np.int32(3), np.bool_(True)])
def test_full_infers_its_dtype_from_the_fill_value_as_in_pytorch(fill):
    assert str(mg.full((2,), fill).dtype) == torch_dtype_name(torch.full((2,), fill))
    assert mg.full((2,), fill, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("bound", [1.5, np.float64(1.5)])
def test_clamping_integers_with_a_float_bound_gives_float32_as_in_pytorch(bound):
    labels = np.array([0, 1, 2, 3])
    result = mg.tensor(labels).clamp(min=bound)
    expected = torch.tensor(labels).clamp(min=bound)
    assert str(result.dtype) == torch_dtype_name(expected)
    np.testing.assert_array_equal(result.data, expected.numpy())


@pytest.mark.parametrize("operation", [
    lambda t: t * np.complex128(1j), lambda t: np.complex64(1) + t, lambda t: t ** np.complex64(1),
    lambda t: t.clamp(min=np.complex64(1)),  # (np.longdouble: test_engine_writes.py)
    lambda t: t + np.timedelta64(1, "s"), lambda t: t.maximum(np.datetime64("2020-01-01")),
    lambda t: mg.where(t > 1, t, 1j),
])
def test_a_number_a_tensor_cannot_hold_is_refused_with_the_fix(operation):
    with pytest.raises(TypeError, match=r"\w+: .*a Tensor holds real numbers\. Fix"):
        operation(mg.tensor([1.0, 2.0]))


MASK = np.array([True, False])


@pytest.mark.parametrize("subtraction", [
    lambda t: t(MASK) - t(MASK), lambda t: t(MASK) - t(np.array([1, 2])),
    lambda t: t(np.array([1.0, 2.0], np.float32)) - t(MASK), lambda t: t(MASK) - 1,
    lambda t: 1.5 - t(MASK), lambda t: t(np.array([1, 2])) - True, lambda t: True - t(MASK),
])
def test_subtraction_with_a_bool_operand_is_refused_as_in_pytorch(subtraction):
    with pytest.raises(RuntimeError, match="Subtraction.*bool"):
        subtraction(torch.tensor)
    with pytest.raises(TypeError, match=r"sub: .*bool.*Fix: .*`\^`.*`~`"):
        subtraction(mg.tensor)


@pytest.mark.parametrize("exponent", [2, np.int64(3), 0.5])
def test_a_mask_to_a_number_power_has_the_dtype_of_pytorch(exponent):
    ours, theirs = mg.tensor(MASK) ** exponent, torch.tensor(MASK) ** exponent
    assert str(ours.dtype) == str(theirs.dtype).split(".")[-1]
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("dtypes", [(np.int64, np.float32), (np.float32, np.float64),
                                    (np.float64, np.float32), (np.float32, np.bool_)])
def test_matmul_of_two_dtypes_is_refused_as_in_pytorch_rather_than_computed_in_float64(dtypes):
    a, b = np.ones((2, 3), dtypes[0]), np.ones((3, 2), dtypes[1])
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.tensor(a) @ torch.tensor(b)
    names = [np.dtype(d).name for d in dtypes]
    with pytest.raises(TypeError, match=rf"matmul: .*{names[0]} and {names[1]}.*Fix: .*astype"):
        mg.tensor(a) @ mg.tensor(b)
    assert (mg.tensor(a) @ mg.tensor(b.astype(dtypes[0]))).dtype == dtypes[0]
