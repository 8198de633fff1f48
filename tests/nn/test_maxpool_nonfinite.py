"""MaxPool2d's gradient when a window's maximum is NaN or -inf (reviewer's finding F1 of
round 13): backward used to find winners by ``padded == out``, which no NaN satisfies and
which a -inf padding cell satisfies in an all -inf window (its gradient then cropped away).
PyTorch's rule: the last NaN of a window, else the first greatest real element."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def pool_grad(x, **options):
    xm = mg.tensor(x, requires_grad=True)
    nn.MaxPool2d(**options)(xm).sum().backward()
    return np.asarray(xm.grad)


def test_nan_window_sends_its_gradient_to_the_nan():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    x[0, 0, 1, 0] = np.nan
    grad = pool_grad(x, kernel_size=2)
    np.testing.assert_array_equal(grad[0, 0, :2, :2], [[0, 0], [1, 0]])
    np.testing.assert_array_equal(grad[0, 0, :2, 2:], [[0, 0], [0, 1]])  # the usual case
    assert grad.sum() == 4


def test_several_nans_the_last_one_wins_as_in_pytorch():
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = np.nan
    np.testing.assert_array_equal(pool_grad(x, kernel_size=2)[0, 0], [[0, 0], [0, 1]])


def test_all_minus_inf_windows_never_give_the_gradient_to_padding():
    x = np.full((1, 1, 4, 4), -np.inf, np.float32)
    grad = pool_grad(x, kernel_size=2, padding=1)
    assert grad.sum() == 9  # one per window, each to its first real element
    np.testing.assert_array_equal(grad[0, 0], [[1, 1, 0, 1], [1, 1, 0, 1],
                                               [0, 0, 0, 0], [1, 1, 0, 1]])
    grad = pool_grad(np.full((1, 1, 4, 4), -np.inf), kernel_size=3, stride=1, padding=1)
    np.testing.assert_array_equal(grad[0, 0], [[4, 2, 2, 0], [2, 1, 1, 0],
                                               [2, 1, 1, 0], [0, 0, 0, 0]])


def test_minus_inf_next_to_a_finite_value_and_nan_next_to_minus_inf():
    x = np.array([[[[-np.inf, 2.0], [-np.inf, -np.inf]],
                   [[-np.inf, -np.inf], [np.nan, -np.inf]]]])
    grad = pool_grad(x, kernel_size=2)
    np.testing.assert_array_equal(grad[0], [[[0, 1], [0, 0]], [[0, 0], [1, 0]]])


def test_against_pytorch_with_nan_and_minus_inf_planted():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    for trial in range(300):
        kh, kw = rng.integers(1, 4, size=2)
        sh, sw = rng.integers(1, 4, size=2)
        ph, pw = rng.integers(0, kh // 2 + 1), rng.integers(0, kw // 2 + 1)
        h, w = rng.integers(kh, 8), rng.integers(kw, 8)
        # few distinct values: ties too
        x = rng.integers(-2, 3, size=(2, 2, h, w)).astype(np.float64)
        x[rng.random(x.shape) < rng.choice([0.0, 0.1, 0.3])] = np.nan
        x[rng.random(x.shape) < rng.choice([0.0, 0.3, 0.9])] = -np.inf
        if trial % 5 == 0:
            x[:] = -np.inf
        options = {"kernel_size": (int(kh), int(kw)), "stride": (int(sh), int(sw)),
                   "padding": (int(ph), int(pw))}
        xt = torch.tensor(x, requires_grad=True)
        out_t = torch.nn.functional.max_pool2d(xt, **options)
        upstream = rng.standard_normal(tuple(out_t.shape))
        out_t.backward(torch.tensor(upstream))
        xm = mg.tensor(x, requires_grad=True)
        out_m = nn.MaxPool2d(**options)(xm)
        np.testing.assert_array_equal(out_m.numpy(), out_t.detach().numpy())
        out_m.backward(mg.tensor(upstream))
        np.testing.assert_allclose(np.asarray(xm.grad), xt.grad.numpy(), rtol=1e-12,
                                   err_msg=f"{options}, x={x!r}")
