"""Issue #11 items 10 and 11: inputs PyTorch refuses are refused here too, with a message
that names the function, the argument and the fix (never a raw NumPy/Python error, never a
silent wrong answer). One case per reported input; each fails without its fix."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.nn import init


def x3d():
    return mg.randn(2, 3, 4)


@pytest.mark.parametrize("call, error, message", [
    (lambda: x3d().flatten(1, 0), ValueError, "flatten: start_dim 1 comes after end_dim 0"),
    (lambda: x3d().flatten(0.5), TypeError, "flatten: start_dim must be an int"),
    (lambda: x3d().unsqueeze(None), TypeError, "unsqueeze: dim must be an int, got NoneType"),
    (lambda: x3d().transpose(0, 1.0), TypeError, "transpose: dim1 must be an int"),
    (lambda: x3d().sum(axis=1.5), TypeError, "sum: axis must be an int"),
    (lambda: x3d().sum(axis=(0, 1.5)), TypeError, "sum: an axis must be an int, got float"),
    (lambda: x3d().sum(axis="1"), TypeError, "sum: axis must be an int or a tuple"),
    (lambda: x3d().reshape(2, 12.0), TypeError, "reshape: sizes must be ints"),
    (lambda: mg.cat(x3d()), TypeError, r"cat: expected a list or tuple of tensors, got a "
                                       r"Tensor. Fix: cat\(\[a, b\], dim=0\)"),
    (lambda: mg.stack(np.ones((2, 3))), TypeError, "stack: expected a list or tuple"),
    (lambda: mg.cat([x3d(), x3d()], axis=5), ValueError, "cat: axis 5 is out of range .* 3 "
                                                         "dimension"),
    (lambda: mg.cat([x3d(), x3d()], dim=-4), ValueError, "cat: axis -4 is out of range"),
    (lambda: mg.stack([x3d(), x3d()], dim=4), ValueError, "stack: axis 4 is out of range"),
    (lambda: mg.cat([mg.ones(2, 3), mg.ones(3, 3)], dim=1), ValueError,
     "cat: .* same size on every axis except the one they are joined on"),
    (lambda: mg.pad(x3d(), 1.5), TypeError, "pad: pad_width must be whole numbers"),
    (lambda: mg.pad(x3d(), 1, value="a"), TypeError, "pad: value must be a number"),
    (lambda: x3d().astype("U3"), TypeError, "astype: a Tensor holds numbers, so dtype 'U3'"),
    (lambda: x3d().astype(object), TypeError, "astype: a Tensor holds numbers"),
    (lambda: x3d().astype(None), TypeError, "astype: .* dtype None"),
    (lambda: x3d().astype("no-such-type"), TypeError, "astype: .*'no-such-type'"),
    (lambda: init.constant_(mg.zeros(3), None), TypeError, "constant_: val must be a number, "
                                                           "got NoneType"),
    (lambda: init.constant_(mg.zeros(3), "1"), TypeError, "constant_: val must be a number"),
    (lambda: mg.zeros(2).clip(0, "1"), TypeError, "clip: max must be a real number or None"),
])
def test_shape_and_argument_mistakes_are_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("function", [mg.relu, mg.exp, mg.log, mg.sqrt, mg.tanh, mg.sigmoid,
                                      mg.abs, F.relu, F.tanh, F.sigmoid, F.leaky_relu,
                                      lambda a: mg.maximum(a, 0), lambda a: mg.minimum(a, 0),
                                      lambda a: mg.clip(a, 0, 1)])
@pytest.mark.parametrize("grad_enabled", [True, False])
def test_functions_refuse_ndarrays_in_both_grad_modes_as_pytorch_does(function, grad_enabled):
    with mg.enable_grad() if grad_enabled else mg.no_grad():
        with pytest.raises(TypeError, match=r"expected a Tensor, got ndarray\. Fix: wrap the "
                                            r"data in minigrad\.tensor"):
            function(np.ones(3))


@pytest.mark.parametrize("layer, shape", [(lambda: nn.Linear(3, 2), (4, 3)),
                                          (lambda: nn.Conv2d(1, 2, 3), (1, 1, 5, 5))])
@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.int32, np.bool_])
def test_a_layer_refuses_an_input_of_another_dtype_instead_of_promoting_the_model(layer, shape,
                                                                                  dtype):
    module = layer()
    x = mg.tensor(np.ones(shape), dtype=dtype)
    mismatch = (rf"the input has dtype {np.dtype(dtype)} but the weight has dtype float32 "
                r"\(mat1 and mat2 must have the same dtype\)\. Fix: convert")
    if np.dtype(dtype).kind != "f" and isinstance(module, nn.Conv2d):
        mismatch = f"conv2d: expected a floating-point input, got dtype {np.dtype(dtype)}"
    with pytest.raises(TypeError, match=mismatch):
        module(x)
    assert all(p.dtype == np.float32 for p in module.parameters())
    assert module(x.astype(np.float32)).dtype == np.float32  # the fix works


def test_integer_inputs_to_losses_are_refused():
    with pytest.raises(TypeError, match="cross_entropy: the scores must be floating point, "
                                        "got dtype int64"):
        F.cross_entropy(mg.tensor(np.ones((2, 3), np.int64)), np.array([0, 1]))
    with pytest.raises(TypeError, match="mse_loss: input must be floating point"):
        F.mse_loss(mg.tensor(np.ones(3, np.int64)), mg.tensor(np.ones(3, np.int64)))
    # Integer *targets* are fine for mse_loss: they are converted to the input's dtype.
    loss = F.mse_loss(mg.tensor([1.0, 2.0]), np.array([1, 3]))
    assert loss.dtype == np.float32 and loss.item() == pytest.approx(0.5)


@pytest.mark.parametrize("arguments, error, message", [
    ((2.5, 3), TypeError, r"Linear: in_features must be an int, got float 2\.5"),
    ((2, "3"), TypeError, "Linear: out_features must be an int, got str"),
    ((True, 3), TypeError, "Linear: in_features must be an int, got bool"),
    ((0, 3), ValueError, "Linear: in_features must be positive"),
])
def test_linear_sizes_must_be_positive_ints(arguments, error, message):
    with pytest.raises(error, match=message):
        nn.Linear(*arguments)
    with pytest.raises(error, match=message.replace("Linear", "Conv2d").replace(
            "in_features", "in_channels").replace("out_features", "out_channels")):
        nn.Conv2d(*arguments, 3)


def test_batch_norm_refuses_ndarray_running_statistics():
    x = mg.randn(4, 3)
    for name, arguments in (("running_mean", (np.zeros(3), mg.ones(3))),
                            ("running_var", (mg.zeros(3), np.ones(3)))):
        with pytest.raises(TypeError, match=f"batch_norm: {name} must be a Tensor or None, got "
                                            "ndarray"):
            F.batch_norm(x, *arguments, training=True)
    with pytest.raises(TypeError, match="batch_norm: weight must be a Tensor or None"):
        F.batch_norm(x, None, None, weight=np.ones(3))


def test_zero_size_inputs_max_min_refused_clearly_softmax_empty_as_pytorch():
    empty = mg.zeros(0, 3, requires_grad=True)
    for reduce in ("max", "min"):
        with pytest.raises(ValueError, match=rf"{reduce}: cannot reduce an empty tensor of "
                                             r"shape \(0, 3\).*Fix") as info:
            getattr(empty, reduce)()
        assert "broadcasting" not in str(info.value)
    assert empty.max(axis=1).values.shape == (0,)  # no empty axis is reduced: fine
    for function in (F.softmax, F.log_softmax):
        for dim in (0, 1):
            out = function(empty, dim=dim)  # PyTorch returns an empty tensor
            assert out.shape == (0, 3) and out.dtype == np.float32
            out.sum().backward()
            assert empty.grad.shape == (0, 3)


def test_batchnorm_without_running_stats_in_eval_mode_does_not_say_call_eval():
    bn = nn.BatchNorm1d(3, track_running_stats=False).eval()
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel.*"
                                         r"track_running_stats=False") as info:
        bn(mg.randn(1, 3))
    assert ".eval()" not in str(info.value)
    trained = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"\.eval\(\)"):  # training mode: eval() is the fix
        trained(mg.randn(1, 3))
    trained.eval()
    assert trained(mg.randn(1, 3)).shape == (1, 3)


def test_what_the_bad_input_suite_found():
    # NumPy computes exp of a bool array in float16 (2.719); PyTorch gives float32.
    for dtype in (np.bool_, np.int8, np.int64):
        out = mg.exp(mg.tensor(np.ones(3, dtype)))
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.data, np.e, rtol=1e-7)
    with pytest.raises(TypeError, match="abs: not defined for a bool tensor"):
        mg.abs(mg.tensor([True, False]))
    with pytest.raises(TypeError, match="cat: item 1 is a str"):
        mg.cat([mg.zeros(2), "a"])
    with pytest.raises(TypeError, match="softmax: expected floating-point scores, got dtype "
                                        "int64"):
        F.softmax(mg.tensor([1, 2]), dim=0)
    with pytest.raises(ValueError, match="softmax: axis 1 is out of range"):
        F.softmax(mg.tensor(1.5), dim=1)
    with pytest.raises(TypeError, match="linear: weight and bias must be Tensors"):
        F.linear(mg.zeros(2, 3), np.zeros((4, 3), np.float32))
    with pytest.raises(TypeError, match="mse_loss: target must be numbers"):
        F.mse_loss(mg.zeros(4), "abcd")
    with pytest.raises(TypeError, match="maximum: cannot combine a Tensor with NoneType"):
        mg.maximum(mg.zeros(2), None)
    with pytest.raises(ValueError, match=r"zeros: expected a shape of non-negative integers, "
                                         r"got \(True,\)"):
        mg.zeros(True)
    with pytest.raises(MemoryError, match="zeros: not enough memory for this tensor"):
        mg.zeros(10**12, 10**6)


def test_what_the_bad_input_suite_found_in_the_round_2_names():
    with pytest.raises(TypeError, match="binary_cross_entropy: target must be numbers"):
        F.binary_cross_entropy(mg.tensor([0.5, 0.5]), "ab")
    with pytest.raises(ValueError, match="binary_cross_entropy: all elements of target should "
                                         "be between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([0.5, 0.5]), np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="embedding: weight must be a 2-D Tensor"):
        F.embedding(np.array([0, 1]), np.zeros((3, 2)))
    with pytest.raises(TypeError, match="gelu: expected a floating-point input"):
        F.gelu(mg.tensor([1, 2]))
    out = nn.GELU()(mg.tensor(1.5))  # a 0-d input: NumPy's frompyfunc returned a bare float
    assert out.shape == () and out.item() == pytest.approx(1.3998, abs=1e-4)
    with pytest.raises(ValueError, match="one_hot: 1000000000000 classes"):
        F.one_hot(np.array([0, 1]), 10**12)
    with pytest.raises(ValueError, match="max: axis 1 is out of range .* 0 dimension"):
        mg.tensor(1.5).max(dim=1)
