"""What backward does with inputs that are not parameters: class targets, constants.

Losses keep their own copy of the class indices they need for backward.

A training loop that sums the losses of several micro-batches into one loss, reusing one
label buffer, refills that buffer between a loss's forward and the backward. The gradient
must still go to the classes the loss was computed with (PyTorch's losses save their own
target tensor). And the gradient an op computes for a constant operand is dropped before
any further work on it."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F


@pytest.mark.parametrize("loss_fn", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_refilling_the_label_buffer_after_forward_does_not_move_the_gradient(loss_fn, as_tensor):
    scores = np.array([[0.5, -1.0, 2.0], [0.0, 1.0, -0.5]])
    labels = np.array([0, 1])
    expected_x = mg.tensor(scores, requires_grad=True)
    loss_fn(expected_x, labels.copy()).backward()

    x = mg.tensor(scores, requires_grad=True)
    buffer = labels.copy()
    target = mg.from_numpy(buffer) if as_tensor else buffer
    loss = loss_fn(x, target)
    buffer[:] = 2  # the next micro-batch's labels, written into the same buffer
    loss.backward()
    np.testing.assert_array_equal(x.grad, expected_x.grad)


def test_the_ignored_rows_path_keeps_its_own_indices_too():
    scores = np.array([[0.5, -1.0, 2.0], [0.0, 1.0, -0.5], [1.0, 1.0, 1.0]])
    labels = np.array([0, -100, 1])
    expected_x = mg.tensor(scores, requires_grad=True)
    F.cross_entropy(expected_x, labels.copy(), weight=np.array([1.0, 2.0, 3.0])).backward()
    x = mg.tensor(scores, requires_grad=True)
    buffer = labels.copy()
    loss = F.cross_entropy(x, buffer, weight=np.array([1.0, 2.0, 3.0]))
    buffer[:] = 2
    loss.backward()
    np.testing.assert_array_equal(x.grad, expected_x.grad)


def test_a_constant_operand_gets_no_gradient_work_nor_warnings():
    """Backward drops the gradient an op computes for an input that does not require grad;
    summing it over broadcast axes first was wasted work, and with an inf gradient it warned
    'invalid value encountered' from inside NumPy (an error under warnings-as-errors)."""
    import warnings

    w = mg.tensor([1.0, -2.0, 4.0], requires_grad=True)
    constant = mg.tensor(np.float32(2.0))  # 0-d: its gradient would be summed to ()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (w * constant).sum().backward(gradient=mg.tensor(np.float32(np.inf)))
    assert np.all(np.isinf(w.grad)) and constant.grad is None


def test_anomaly_mode_does_not_blame_a_gradient_no_input_receives():
    """Under detect_anomaly, a non-finite gradient computed for a constant (and dropped) is
    not an anomaly: no tensor receives it."""
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    tiny = mg.tensor(np.float32(1e-30))  # d(x / b)/db = -x / b² overflows float32: -inf
    with mg.detect_anomaly():
        (x / tiny).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(2, 1 / np.float32(1e-30), np.float32))
