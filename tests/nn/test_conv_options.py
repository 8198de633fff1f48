"""Conv2d's padding="same"/"valid", dilation and groups; the max pool's recomputed winner;
argument errors. Forward against naive loops, gradchecks, PyTorch as an optional oracle."""

from itertools import product

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


def leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def naive_conv2d(x, w, b, stride, padding, dilation, groups):
    """One loop per output element; padding ((top, bottom), (left, right))."""
    n, c, h, wd = x.shape
    o, group_channels, kh, kw = w.shape
    (sh, sw), ((top, bottom), (left, right)), (dh, dw) = stride, padding, dilation
    xp = np.zeros((n, c, h + top + bottom, wd + left + right))
    xp[:, :, top:top + h, left:left + wd] = x
    out_h = (h + top + bottom - dh * (kh - 1) - 1) // sh + 1
    out_w = (wd + left + right - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, out_h, out_w))
    per_group = o // groups
    for i, j, y, z in product(range(n), range(o), range(out_h), range(out_w)):
        first = (j // per_group) * group_channels
        patch = xp[i, first:first + group_channels,
                   y * sh:y * sh + dh * (kh - 1) + 1:dh, z * sw:z * sw + dw * (kw - 1) + 1:dw]
        out[i, j, y, z] = (patch * w[j]).sum() + (0.0 if b is None else b[j])
    return out


CASES = [  # (input shape, out channels, kernel, stride, padding, dilation, groups)
    ((2, 3, 7, 6), 4, (3, 3), 1, "same", 1, 1),
    ((2, 2, 6, 7), 2, (2, 4), 1, "same", 1, 1),  # even kernels: extra padding bottom/right
    ((1, 2, 8, 7), 3, (3, 2), 1, "same", (2, 3), 1),
    ((2, 3, 6, 6), 2, 3, 1, "valid", 1, 1),
    ((1, 2, 9, 8), 4, 3, (2, 1), 1, 2, 1),
    ((2, 4, 7, 6), 6, 3, 1, 1, 1, 2),
    ((2, 4, 6, 6), 4, 3, 2, (1, 0), 1, 4),  # depthwise
    ((1, 6, 7, 7), 3, (2, 3), 1, "same", 2, 3),
]


def padding_pairs(padding, kernel, dilation):
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    p = (padding, padding) if isinstance(padding, int) else padding
    return (p[0], p[0]), (p[1], p[1])


def as_pair(v):
    return (v, v) if isinstance(v, int) else v


@pytest.mark.parametrize("shape, out_channels, kernel, stride, padding, dilation, groups", CASES)
def test_conv2d_options_match_naive_loops_and_gradcheck(shape, out_channels, kernel, stride,
                                                        padding, dilation, groups):
    r = np.random.default_rng(hash((shape, out_channels)) % 2**32)
    kernel, stride, dilation = as_pair(kernel), as_pair(stride), as_pair(dilation)
    x = r.normal(size=shape)
    w = r.normal(size=(out_channels, shape[1] // groups, *kernel))
    b = r.normal(size=out_channels)
    out = F.conv2d(mg.tensor(x), mg.tensor(w), mg.tensor(b), stride, padding, dilation, groups)
    expected = naive_conv2d(x, w, b, stride, padding_pairs(padding, kernel, dilation), dilation,
                            groups)
    np.testing.assert_allclose(out.data, expected, atol=1e-12)
    if padding == "same":
        assert out.shape[2:] == shape[2:]
    assert mg.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups),
                        [leaf(x), leaf(w), leaf(b)])


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("shape, out_channels, kernel, stride, padding, dilation, groups", CASES)
def test_conv2d_options_match_pytorch(shape, out_channels, kernel, stride, padding, dilation,
                                      groups):
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(1)
    layer = nn.Conv2d(shape[1], out_channels, kernel, stride, padding, dilation, groups)
    reference = torch.nn.Conv2d(shape[1], out_channels, kernel, stride, padding, dilation,
                                groups, dtype=torch.float64)
    assert layer.weight.shape == tuple(reference.weight.shape)
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(layer.weight.data.astype(np.float64)))
        reference.bias.copy_(torch.from_numpy(layer.bias.data.astype(np.float64)))
    layer.weight.data = layer.weight.data.astype(np.float64)
    layer.bias.data = layer.bias.data.astype(np.float64)
    x = r.normal(size=shape)
    ours_x, theirs_x = leaf(x), torch.tensor(x, requires_grad=True)
    ours, theirs = layer(ours_x), reference(theirs_x)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), atol=1e-12)
    grad = r.normal(size=ours.shape)
    ours.backward(grad)
    theirs.backward(torch.tensor(grad))
    np.testing.assert_allclose(ours_x.grad, theirs_x.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(layer.weight.grad, reference.weight.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(layer.bias.grad, reference.bias.grad.numpy(), atol=1e-10)


def test_conv2d_module_shapes_init_and_repr():
    layer = nn.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2, bias=False)
    assert layer.weight.shape == (6, 2, 3, 3)
    assert np.abs(layer.weight.data).max() <= 1 / np.sqrt(2 * 9)  # fan_in = C/groups · k·k
    assert layer(mg.randn(1, 4, 9, 9)).shape == (1, 6, 9, 9)
    assert "padding=same" in layer.extra_repr()  # PyTorch prints it unquoted
    assert "groups=2" in layer.extra_repr() and "bias=False" in layer.extra_repr()


def test_conv2d_argument_errors_follow_pytorch():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv2d(mg.randn(1, 3, 5, 5), mg.randn(4, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="invalid padding string 'full'"):
        nn.Conv2d(3, 4, 3, padding="full")
    with pytest.raises(ValueError, match="in_channels must be divisible by groups, got "
                                         "in_channels=3 and groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive int"):
        nn.Conv2d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match=r"dilation must be >= 1"):
        nn.Conv2d(4, 4, 3, dilation=0)
    with pytest.raises(ValueError, match=r"groups=2 expects in_channels=4"):
        F.conv2d(mg.randn(1, 3, 5, 5), mg.randn(4, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"spanning \(5, 5\) pixels with dilation \(2, 2\)"):
        F.conv2d(mg.randn(1, 1, 4, 4), mg.randn(1, 1, 3, 3), dilation=2)


@pytest.mark.parametrize("shape", [(0, 3, 5, 5), (2, 3, 0, 5), (2, 0, 5, 5)])
def test_an_empty_input_is_a_clear_error(shape):
    weight = mg.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match=rf"conv2d: the input of shape \{shape}"[:-1] + r".*empty"):
        F.conv2d(mg.zeros(*shape), weight)
    with pytest.raises(ValueError, match="max_pool2d: the input of shape .* is empty"):
        F.max_pool2d(mg.zeros(*shape), 2)


def test_pool_modules_blame_the_argument_at_fault():
    with pytest.raises(ValueError, match=r"AvgPool2d: kernel_size must be >= 1, got "
                                         r"kernel_size=\(-1, -1\)"):
        nn.AvgPool2d(-1)
    with pytest.raises(ValueError, match=r"MaxPool2d: stride must be >= 1"):
        nn.MaxPool2d(2, stride=0)
    with pytest.raises(ValueError, match=r"avg_pool2d: kernel_size must be >= 1"):
        F.avg_pool2d(mg.randn(1, 1, 4, 4), 0)
    with pytest.raises(ValueError, match=r"padding must be >= 0"):
        nn.MaxPool2d(3, padding=-1)


# -- the max pool's winner, recomputed in backward ----------------------------------------------


def max_pool_with_winner_index(x, k, s, p):
    """The former implementation: forward records the offset of each window's first
    maximum (strict >), backward sends the gradient there."""
    n, c, h, w = x.shape
    xp = np.full((n, c, h + 2 * p, w + 2 * p), -np.inf)
    xp[:, :, p:p + h, p:p + w] = x
    out_h, out_w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = winner = None
    for offset, (i, j) in enumerate(product(range(k), range(k))):
        window = xp[:, :, i:i + s * (out_h - 1) + 1:s, j:j + s * (out_w - 1) + 1:s]
        if out is None:
            out, winner = window.copy(), np.zeros(window.shape, int)
        else:
            better = window > out
            out = np.where(better, window, out)
            winner = np.where(better, offset, winner)
    return out, winner


@pytest.mark.parametrize("k, s, p, h", [(2, 2, 0, 7), (2, 2, 0, 8), (3, 2, 1, 7), (3, 1, 1, 7),
                                        (2, 1, 0, 7), (3, 3, 0, 9)])
def test_max_pool_values_and_gradients_equal_the_winner_index_version_with_ties(k, s, p, h):
    # h = 8 and 9: windows tile the image exactly (backward writes instead of adding)
    r = np.random.default_rng(k * 10 + s)
    x = r.integers(-2, 3, size=(2, 3, h, 6)).astype(np.float64)  # many ties
    x[0, 0] = 1.0  # a whole channel tied
    out, winner = max_pool_with_winner_index(x, k, s, p)
    grad_out = r.normal(size=out.shape)
    expected = np.zeros((2, 3, h + 2 * p, 6 + 2 * p))
    out_h, out_w = out.shape[2:]
    for offset, (i, j) in enumerate(product(range(k), range(k))):
        expected[:, :, i:i + s * (out_h - 1) + 1:s, j:j + s * (out_w - 1) + 1:s] += (
            grad_out * (winner == offset))
    expected = expected[:, :, p:p + h, p:p + 6]
    ours_x = leaf(x)
    ours = F.max_pool2d(ours_x, k, s, p)
    np.testing.assert_array_equal(ours.data, out)
    ours.backward(grad_out)
    np.testing.assert_array_equal(ours_x.grad, expected)


def test_max_pool_gradients_match_pytorch_without_ties():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).normal(size=(2, 3, 9, 8))
    ours_x, theirs_x = leaf(x), torch.tensor(x, requires_grad=True)
    F.max_pool2d(ours_x, 3, 2, 1).sum().backward()
    torch.nn.functional.max_pool2d(theirs_x, 3, 2, 1).sum().backward()
    np.testing.assert_array_equal(ours_x.grad, theirs_x.grad.numpy())


# -- pooling arguments in PyTorch's order; the options minigrad lacks are refused --------------

IMAGE = np.arange(1.0, 26.0).reshape(1, 1, 5, 5)
# AvgPool2d(3, stride 2, padding 1) on IMAGE, padded zeros counted (count_include_pad=True):
# the corner window holds 1, 2, 6, 7 and five zeros
PADDED_MEANS = np.array([[16 / 9, 33 / 9, 28 / 9], [69 / 9, 117 / 9, 87 / 9],
                         [76 / 9, 123 / 9, 88 / 9]]).reshape(1, 1, 3, 3)


def test_the_fourth_positional_argument_of_avg_pool_is_ceil_mode_as_in_pytorch():
    # it was count_include_pad: AvgPool2d(3, 2, 1, False) silently left the padding out
    np.testing.assert_allclose(nn.AvgPool2d(3, 2, 1, False)(mg.tensor(IMAGE)).data, PADDED_MEANS)
    np.testing.assert_allclose(F.avg_pool2d(mg.tensor(IMAGE), 3, 2, 1, False).data, PADDED_MEANS)
    real_means = F.avg_pool2d(mg.tensor(IMAGE), 3, 2, 1, False, False).data
    np.testing.assert_allclose(real_means[0, 0, 0, 0], (1 + 2 + 6 + 7) / 4)
    assert not nn.AvgPool2d(3, 2, 1, False, True).ceil_mode
    with pytest.raises(ValueError, match=r"AvgPool2d: ceil_mode=True is not supported.*Fix: "
                                         r"leave ceil_mode=False"):
        nn.AvgPool2d(3, 2, 1, True)
    with pytest.raises(ValueError, match=r"avg_pool2d: ceil_mode=True is not supported"):
        F.avg_pool2d(mg.tensor(IMAGE), 3, 2, 1, True)
    with pytest.raises(ValueError, match=r"divisor_override=4 is not supported.*rescale"):
        nn.AvgPool2d(3, 2, 1, False, True, 4)
    with pytest.raises(ValueError, match=r"avg_pool2d: divisor_override=4 is not supported"):
        F.avg_pool2d(mg.tensor(IMAGE), 3, divisor_override=4)


def test_max_pool_takes_pytorchs_arguments_in_pytorchs_order():
    expected = F.max_pool2d(mg.tensor(IMAGE), 3, 2, 1).data
    np.testing.assert_array_equal(expected[0, 0], [[7, 9, 10], [17, 19, 20], [22, 24, 25]])
    # the module: (kernel_size, stride, padding, dilation, return_indices, ceil_mode)
    np.testing.assert_array_equal(nn.MaxPool2d(3, 2, 1, 1, False, False)(mg.tensor(IMAGE)).data,
                                  expected)
    # the function: (input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    np.testing.assert_array_equal(F.max_pool2d(mg.tensor(IMAGE), 3, 2, 1, (1, 1), False,
                                               False).data, expected)
    for arguments, name in [((3, 2, 1, 2), "dilation=2"), ((3, 2, 1, 1, True), "return_indices"),
                            ((3, 2, 1, 1, False, True), "ceil_mode")]:
        with pytest.raises(ValueError, match=rf"MaxPool2d: {name}.* is not supported"):
            nn.MaxPool2d(*arguments)
    for arguments, name in [((3, 2, 1, 2), "dilation=2"), ((3, 2, 1, 1, True), "ceil_mode"),
                            ((3, 2, 1, 1, False, True), "return_indices")]:
        with pytest.raises(ValueError, match=rf"max_pool2d: {name}.* is not supported"):
            F.max_pool2d(mg.tensor(IMAGE), *arguments)


def test_pool_arguments_in_pytorchs_order_against_pytorch():
    torch = pytest.importorskip("torch")
    image = torch.tensor(IMAGE)
    for arguments in [(3, 2, 1, False), (3, 2, 1, False, False), (3, 1, 1, False, True),
                      (2, None, 0, False)]:
        np.testing.assert_allclose(nn.AvgPool2d(*arguments)(mg.tensor(IMAGE)).data,
                                   torch.nn.AvgPool2d(*arguments)(image).numpy(), rtol=1e-12)
        np.testing.assert_allclose(F.avg_pool2d(mg.tensor(IMAGE), *arguments).data,
                                   torch.nn.functional.avg_pool2d(image, *arguments).numpy(),
                                   rtol=1e-12)
    np.testing.assert_allclose(PADDED_MEANS, torch.nn.AvgPool2d(3, 2, 1)(image).numpy(),
                               rtol=1e-12)
    for arguments in [(3, 2, 1, 1, False, False), (2, None, 0, 1)]:
        np.testing.assert_array_equal(nn.MaxPool2d(*arguments)(mg.tensor(IMAGE)).data,
                                      torch.nn.MaxPool2d(*arguments)(image).numpy())
        np.testing.assert_array_equal(F.max_pool2d(mg.tensor(IMAGE), *arguments).data,
                                      torch.nn.functional.max_pool2d(image, *arguments).numpy())


@pytest.mark.parametrize("make, option, value", [
    (lambda: nn.MaxPool2d(2), "ceil_mode", True),
    (lambda: nn.MaxPool2d(2), "dilation", 2),
    (lambda: nn.MaxPool2d(2), "return_indices", True),
    (lambda: nn.AvgPool2d(2), "ceil_mode", True),
    (lambda: nn.AvgPool2d(2), "divisor_override", 3),
])
def test_a_pooling_option_set_after_construction_is_refused_not_ignored(make, option, value):
    """PyTorch reads these attributes at every call (p.ceil_mode = True gives a 3x3 output
    from 5x5); minigrad ignored them, silently pooling as before. Now refused at the call."""
    pool = make()
    setattr(pool, option, value)
    with pytest.raises(ValueError, match=f"{option}=.* is not supported"):
        pool(mg.tensor(IMAGE))


def test_count_include_pad_set_after_construction_is_used():
    pool = nn.AvgPool2d(3, 2, 1)
    pool.count_include_pad = False
    np.testing.assert_allclose(pool(mg.tensor(IMAGE)).data,
                               F.avg_pool2d(mg.tensor(IMAGE), 3, 2, 1, False, False).data)
