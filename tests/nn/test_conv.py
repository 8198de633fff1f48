"""Conv2d and the pools: forward against naive loops written here, gradchecks, errors."""

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


def rng(seed=0):
    return np.random.default_rng(seed)


def leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


# -- naive references: one Python loop per output element, straight from the definitions ---


def naive_conv2d(x, w, b, stride, padding):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    out_h, out_w = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    out = np.zeros((n, o, out_h, out_w))
    for i in range(n):
        for j in range(o):
            for y in range(out_h):
                for z in range(out_w):
                    patch = xp[i, :, y * sh:y * sh + kh, z * sw:z * sw + kw]
                    out[i, j, y, z] = (patch * w[j]).sum() + (0.0 if b is None else b[j])
    return out


def naive_pool(x, k, s, p, reduce, pad_value, count_include_pad=True):
    n, c, h, w = x.shape
    xp = np.full((n, c, h + 2 * p, w + 2 * p), pad_value)
    xp[:, :, p:p + h, p:p + w] = x
    real = np.zeros((h + 2 * p, w + 2 * p))
    real[p:p + h, p:p + w] = 1
    out_h, out_w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.zeros((n, c, out_h, out_w))
    for y in range(out_h):
        for z in range(out_w):
            window = xp[:, :, y * s:y * s + k, z * s:z * s + k]
            if reduce == "max":
                out[:, :, y, z] = window.max(axis=(2, 3))
            else:
                count = k * k if count_include_pad else real[y * s:y * s + k, z * s:z * s + k].sum()
                out[:, :, y, z] = window.sum(axis=(2, 3)) / count
    return out


# -- convolution --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, out_channels, kernel, stride, padding, bias", [
    ((2, 3, 7, 5), 4, (3, 3), (1, 1), (0, 0), True),
    ((2, 3, 7, 5), 4, (3, 3), (2, 2), (1, 1), True),
    ((1, 2, 9, 8), 3, (3, 2), (2, 3), (2, 1), False),
    ((3, 1, 5, 5), 2, (5, 5), (1, 1), (0, 0), True),
    ((1, 4, 6, 7), 5, (1, 1), (1, 1), (0, 0), True),
])
def test_conv2d_matches_naive_loops(shape, out_channels, kernel, stride, padding, bias):
    r = rng(1)
    x = r.normal(size=shape)
    w = r.normal(size=(out_channels, shape[1], *kernel))
    b = r.normal(size=out_channels) if bias else None
    out = F.conv2d(mg.tensor(x), mg.tensor(w), None if b is None else mg.tensor(b),
                   stride=stride, padding=padding)
    np.testing.assert_allclose(out.data, naive_conv2d(x, w, b, stride, padding), atol=1e-12)


@given(h=st.integers(3, 8), w=st.integers(3, 8), k=st.integers(1, 3), s=st.integers(1, 3),
       p=st.integers(0, 2), c=st.integers(1, 3))
def test_conv2d_matches_naive_loops_property(h, w, k, s, p, c):
    r = rng(h * 100 + w)
    x, weight, b = r.normal(size=(2, c, h, w)), r.normal(size=(2, c, k, k)), r.normal(size=2)
    out = F.conv2d(mg.tensor(x), mg.tensor(weight), mg.tensor(b), stride=s, padding=p)
    np.testing.assert_allclose(out.data, naive_conv2d(x, weight, b, (s, s), (p, p)), atol=1e-12)


def test_conv2d_gradcheck_odd_sizes_stride_2_padding_1_several_channels():
    r = rng(2)
    x, w = leaf(r.normal(size=(2, 3, 7, 5))), leaf(r.normal(size=(4, 3, 3, 3)))
    b = leaf(r.normal(size=4))
    assert mg.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [x, w, b])


def test_conv2d_gradcheck_rectangular_kernel_no_bias():
    r = rng(3)
    x, w = leaf(r.normal(size=(1, 2, 6, 5))), leaf(r.normal(size=(3, 2, 2, 3)))
    assert mg.gradcheck(lambda x, w: F.conv2d(x, w, stride=(1, 2), padding=(1, 0)), [x, w])


def test_conv2d_module_gradcheck():
    mg.manual_seed(0)
    layer = nn.Conv2d(3, 2, kernel_size=3, stride=2, padding=1).double()
    x = leaf(rng(4).normal(size=(2, 3, 5, 7)))
    assert mg.gradcheck(lambda x, w, b: layer(x), [x, layer.weight, layer.bias])


def test_conv2d_skips_the_input_gradient_only_when_the_input_needs_none():
    r = rng(5)
    x, w = mg.tensor(r.normal(size=(1, 2, 5, 5))), leaf(r.normal(size=(3, 2, 3, 3)))
    F.conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad is not None
    x_leaf = leaf(x.data)
    F.conv2d(x_leaf, w).sum().backward()
    assert x_leaf.grad is not None and np.abs(x_leaf.grad).sum() > 0


def test_conv2d_unbatched_input_equals_a_batch_of_one():
    r = rng(6)
    x, w, b = r.normal(size=(2, 6, 6)), r.normal(size=(3, 2, 3, 3)), r.normal(size=3)
    single = F.conv2d(mg.tensor(x), mg.tensor(w), mg.tensor(b), padding=1)
    batch = F.conv2d(mg.tensor(x[None]), mg.tensor(w), mg.tensor(b), padding=1)
    assert single.shape == (3, 6, 6)
    np.testing.assert_allclose(single.data, batch.data[0])


def test_conv2d_layer_shapes_and_pytorch_default_init():
    mg.manual_seed(0)
    layer = nn.Conv2d(8, 16, kernel_size=5)
    assert layer.weight.shape == (16, 8, 5, 5) and layer.bias.shape == (16,)
    assert layer.weight.dtype == np.float32
    bound = 1 / math.sqrt(8 * 5 * 5)  # fan_in = in_channels · k · k
    weight = layer.weight.data
    assert np.abs(weight).max() <= bound and np.abs(layer.bias.data).max() <= bound
    # U(-a, a) has standard deviation a/√3; 3,200 samples pin it to within a few percent.
    assert abs(weight.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert abs(weight.mean()) < 0.05 * bound
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert nn.Conv2d(3, 4, 3, bias=False).bias is None
    out = layer(mg.randn(2, 8, 9, 9))
    assert out.shape == (2, 16, 5, 5)
    assert nn.Conv2d(3, 4, 3, stride=2, padding=1)(mg.randn(1, 3, 8, 7)).shape == (1, 4, 4, 4)


def test_conv2d_errors_name_the_shapes_and_the_fix():
    layer = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, H, W\).*\(2, 27\)"):
        layer(mg.randn(2, 27))
    with pytest.raises(ValueError, match=r"\(2, 5, 8, 8\) with 5 channels.*in_channels"):
        layer(mg.randn(2, 5, 8, 8))
    with pytest.raises(ValueError, match="does not fit"):
        layer(mg.randn(1, 3, 2, 2))
    with pytest.raises(ValueError, match=r"in_channels=3"):
        F.conv2d(mg.randn(1, 2, 5, 5), mg.randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match="4-D"):
        F.conv2d(mg.randn(1, 3, 5, 5), mg.randn(4, 3, 3))
    with pytest.raises(ValueError, match=r"bias must be a Tensor of shape \(4,\)"):
        F.conv2d(mg.randn(1, 3, 5, 5), mg.randn(4, 3, 3, 3), mg.randn(3))
    with pytest.raises(TypeError, match="stride must be an int or a pair"):
        nn.Conv2d(3, 4, 3, stride=1.5)
    with pytest.raises(ValueError, match=r"Conv2d: stride must be >= 1, got stride=\(0, 0\)"):
        nn.Conv2d(3, 4, 3, stride=0)


# -- pooling ------------------------------------------------------------------------------------


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0)])
def test_max_pool2d_matches_naive_loops_and_gradcheck(k, s, p):
    x = rng(7).normal(size=(2, 3, 7, 6))  # continuous values: no ties
    out = F.max_pool2d(mg.tensor(x), k, s, p)
    np.testing.assert_allclose(out.data, naive_pool(x, k, s, p, "max", -np.inf))
    assert mg.gradcheck(lambda x: F.max_pool2d(x, k, s, p), [leaf(x)])


@pytest.mark.parametrize("k, s, p, include", [(2, 2, 0, True), (3, 2, 1, True), (3, 2, 1, False),
                                               (3, 1, 1, False)])
def test_avg_pool2d_matches_naive_loops_and_gradcheck(k, s, p, include):
    x = rng(8).normal(size=(2, 3, 7, 6))
    out = F.avg_pool2d(mg.tensor(x), k, s, p, count_include_pad=include)
    np.testing.assert_allclose(out.data, naive_pool(x, k, s, p, "avg", 0.0, include), atol=1e-12)
    assert mg.gradcheck(lambda x: F.avg_pool2d(x, k, s, p, count_include_pad=include), [leaf(x)])


def test_max_pool2d_sends_the_gradient_to_the_first_maximum_of_a_tie():
    x = mg.tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[1.0, 0.0], [0.0, 0.0]]]])


def test_pool_modules_default_stride_is_the_kernel_size():
    x = mg.randn(2, 3, 8, 8)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.AvgPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.MaxPool2d(3, stride=1, padding=1)(x).shape == (2, 3, 8, 8)
    assert nn.MaxPool2d(2)(mg.randn(3, 8, 8)).shape == (3, 4, 4)  # unbatched


def test_pool_errors():
    with pytest.raises(ValueError, match="at most half the kernel size"):
        F.max_pool2d(mg.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="does not fit"):
        F.avg_pool2d(mg.randn(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match=r"4-D input \(N, C, H, W\).*\(4, 4\)"):
        nn.MaxPool2d(2)(mg.randn(4, 4))


def test_adaptive_avg_pool2d_global_and_pytorch_windows():
    x = rng(9).normal(size=(2, 3, 5, 7))
    out = nn.AdaptiveAvgPool2d(1)(mg.tensor(x))
    assert out.shape == (2, 3, 1, 1)
    np.testing.assert_allclose(out.data[..., 0, 0], x.mean(axis=(2, 3)))
    # PyTorch's adaptive windows: start = floor(i·H/out), end = ceil((i+1)·H/out).
    out = F.adaptive_avg_pool2d(mg.tensor(x), (2, 3))
    expected = np.zeros((2, 3, 2, 3))
    for i in range(2):
        for j in range(3):
            rows = slice(i * 5 // 2, math.ceil((i + 1) * 5 / 2))
            cols = slice(j * 7 // 3, math.ceil((j + 1) * 7 / 3))
            expected[:, :, i, j] = x[:, :, rows, cols].mean(axis=(2, 3))
    np.testing.assert_allclose(out.data, expected, atol=1e-12)
    assert mg.gradcheck(lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [leaf(x)])
    assert mg.gradcheck(lambda x: F.adaptive_avg_pool2d(x, 1), [leaf(x)])


def test_adaptive_avg_pool2d_none_keeps_that_side_as_pytorch():
    x = rng(10).normal(size=(2, 3, 5, 7))
    out = nn.AdaptiveAvgPool2d((None, 1))(mg.tensor(x))  # was a TypeError
    np.testing.assert_allclose(out.data[..., 0], x.mean(axis=3), atol=1e-12)
    out = F.adaptive_avg_pool2d(mg.tensor(x), [2, None])
    assert out.shape == (2, 3, 2, 7)
    np.testing.assert_allclose(out.data[:, :, 0], x[:, :, :3].mean(axis=2), atol=1e-12)


@pytest.mark.parametrize("output_size, error", [((0, None), ValueError), ([None, -2], ValueError),
                                                (0, ValueError), ((None, 1.5), TypeError),
                                                ((None, "1"), TypeError)])
def test_adaptive_avg_pool2d_refusals_show_the_size_as_passed_and_the_fix(output_size, error):
    # (0, None) was reported as 'got (0, 7)' (None already filled in), without a fix
    x = mg.tensor(rng(11).normal(size=(2, 3, 5, 7)))
    with pytest.raises(error, match=r"adaptive_avg_pool2d: output_size must .*got "
                                    + re.escape(repr(output_size)) + r".*Fix: .*None"):
        F.adaptive_avg_pool2d(x, output_size)


def test_a_small_cnn_runs_forward_and_backward():
    mg.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))
    loss = nn.CrossEntropyLoss()(model(mg.randn(5, 1, 12, 12)), np.array([0, 1, 2, 1, 0]))
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.shape == parameter.shape, name
        assert np.isfinite(parameter.grad).all()


def test_torch_oracle_conv2d_and_pools():
    torch = pytest.importorskip("torch")
    r = rng(10)
    x, w, b = r.normal(size=(2, 3, 7, 6)), r.normal(size=(4, 3, 3, 3)), r.normal(size=4)
    ours = F.conv2d(leaf(x), leaf(w), leaf(b), stride=2, padding=1)
    theirs = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b),
                                        stride=2, padding=1)
    np.testing.assert_allclose(ours.data, theirs.numpy(), atol=1e-10)
    theirs = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1)
    np.testing.assert_allclose(F.max_pool2d(mg.tensor(x), 3, 2, 1).data, theirs.numpy())
    theirs = torch.nn.functional.adaptive_avg_pool2d(torch.tensor(x), (4, 5))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(mg.tensor(x), (4, 5)).data, theirs.numpy(),
                               atol=1e-12)


@pytest.mark.parametrize("batch_last", [False, True])
@pytest.mark.parametrize("stride, padding, dilation, groups", [
    (1, 1, 1, 1), (2, (2, 1), 1, 2), ((1, 2), 0, 2, 1), (1, "same", (2, 1), 2)])
def test_conv2d_both_column_layouts_match_naive_loops_and_gradcheck(
        monkeypatch, batch_last, stride, padding, dilation, groups):
    # Conv2d picks its columns' layout by shape (per image, or batch last): force each one.
    from minigrad.ops.conv import Conv2d

    monkeypatch.setattr(Conv2d, "batch_last_pays", staticmethod(lambda *shape: batch_last))
    r = rng(7)
    x, w, b = r.normal(size=(3, 4, 6, 7)), r.normal(size=(6, 4 // groups, 3, 2)), r.normal(size=6)
    out = F.conv2d(leaf(x), leaf(w), leaf(b), stride, padding, dilation, groups)
    assert out._op.batch_last is batch_last
    if dilation == 1 and groups == 1:
        pad = (padding, padding) if isinstance(padding, int) else padding
        step = (stride, stride) if isinstance(stride, int) else stride
        np.testing.assert_allclose(out.data, naive_conv2d(x, w, b, step, pad), atol=1e-12)
    assert mg.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups),
                        [leaf(x), leaf(w), leaf(b)])
