"""Losses keep their own copy of the class indices they need for backward.

A training loop that sums the losses of several micro-batches into one loss, reusing one
label buffer, refills that buffer between a loss's forward and the backward. The gradient
must still go to the classes the loss was computed with (PyTorch's losses save their own
target tensor)."""

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
