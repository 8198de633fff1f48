"""GradientFlowRecorder over several kept steps: every stored statistic equals NumPy's on
that step's tensors, in float32 and float64, with fused and composed BatchNorm, the batch
size changing, gradients handed over by the engine or recomputed."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.examples import BatchNormMLP
from minigrad.viz.recorder import STAT_NAMES, GradientFlowRecorder
from minigrad.viz.walk import walk

BINS = 12
_COLUMN = {name: i for i, name in enumerate(STAT_NAMES)}


def _hooked_backward(loss: mg.Tensor) -> dict[int, np.ndarray]:
    """Every node's gradient, caught by hooks while backward runs (independent of Flow)."""
    caught: dict[int, np.ndarray] = {}

    def catch(key: int):
        return lambda grad: caught.__setitem__(key, np.array(grad, copy=True))

    for node in walk(loss)[0]:
        if node.requires_grad:
            node.register_hook(catch(id(node)))
    loss.backward()
    return caught


def _histogram(array: np.ndarray) -> np.ndarray:
    return np.histogram(array, BINS, range=(array.min(), array.max()))[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("implementation", ["fused", "composed"])
def test_statistics_equal_numpy_at_every_kept_step(implementation, dtype):
    """The float64 scalar boxes (the loss, BatchNorm's constants) are where the shifted
    product of `Workspace` once binned all-equal values into the bin below np.histogram's."""
    mg.manual_seed(0)
    model = BatchNormMLP(2, 8, 3, implementation=implementation).to(dtype)
    recorder = GradientFlowRecorder(model, bins=BINS)
    optimiser = mg.optim.SGD(model.parameters(), lr=0.1)
    scalars = 0
    for step, batch in enumerate([16, 16, 10, 16, 7]):
        x = np.random.default_rng(step).normal(size=(batch, 2)).astype(dtype)
        loss = nn.CrossEntropyLoss()(model(mg.tensor(x)), np.arange(batch) % 3)
        # Hooks on even steps (their gradients to compare with); odd steps read what the
        # engine handed over.
        grads = _hooked_backward(loss) if step % 2 == 0 else None
        if grads is None:
            loss.backward()
        assert recorder.record(loss)
        stats = recorder.box_stats[-1]
        for i, node in enumerate(sorted(walk(loss)[0], key=lambda node: node._seq)):
            value = np.asarray(node.data, dtype=np.float64).ravel()
            assert str(node.data.dtype) == np.dtype(dtype).name
            scalars += value.size == 1 and dtype is np.float64
            np.testing.assert_allclose(stats[i, _COLUMN["value_mean"]], value.mean(),
                                       rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(stats[i, _COLUMN["value_std"]], value.std(),
                                       rtol=1e-9, atol=1e-12)
            np.testing.assert_array_equal(recorder.value_hist[-1][i], _histogram(value),
                                          err_msg=f"step {step} box {i} value")
            if grads is not None and id(node) in grads:
                grad = grads[id(node)].astype(np.float64).ravel()
                np.testing.assert_allclose(stats[i, _COLUMN["grad_norm"]],
                                           np.linalg.norm(grad), rtol=1e-9)
                np.testing.assert_array_equal(recorder.grad_hist[-1][i], _histogram(grad),
                                              err_msg=f"step {step} box {i} gradient")
        optimiser.step()
        optimiser.zero_grad()
    assert len(recorder) == 5
    if dtype is np.float64:
        assert scalars >= 5  # (at least the loss at each step)
