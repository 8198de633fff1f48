"""Fixes from the independent review of minigrad (data loader fast path, clip_grad_norm_ in
the gradients' dtype, the CLI's exit code for a missing optional package)."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad.data import DataLoader, TensorDataset


class _Augmented(TensorDataset):
    def __getitem__(self, index):
        x, y = super().__getitem__(index)
        return x * 0 + 100, y


class _Plain(TensorDataset):
    """A subclass that changes nothing about indexing: it keeps the fast path."""


def test_loader_goes_through_an_overridden_getitem():
    ds = _Augmented(np.ones((4, 2), np.float32), np.arange(4))
    assert ds[0][0].tolist() == [100, 100]
    xb, yb = next(iter(DataLoader(ds, batch_size=2)))
    np.testing.assert_array_equal(xb.numpy(), np.full((2, 2), 100, np.float32))
    np.testing.assert_array_equal(yb.numpy(), [0, 1])


def test_loader_goes_through_an_overridden_batch_method_only_with_getitem():
    class OwnBatch(TensorDataset):
        def _batch(self, index):
            raise AssertionError("a subclass's _batch is not the loader's fast path")

    ds = OwnBatch(np.ones((4, 2), np.float32), np.arange(4))
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 2) and yb.numpy().tolist() == [0, 1, 2, 3]


def test_a_subclass_that_does_not_override_getitem_keeps_the_fast_path(monkeypatch):
    calls = []
    original = TensorDataset._batch

    def counting(self, index):
        calls.append(len(index))
        return original(self, index)

    monkeypatch.setattr(TensorDataset, "_batch", counting)
    ds = _Plain(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
    batches = list(DataLoader(ds, batch_size=2))
    assert calls == [2, 2, 1]
    np.testing.assert_array_equal(batches[2][0].numpy(), [[8, 9]])
