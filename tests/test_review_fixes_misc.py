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


# -- clip_grad_norm_ in the gradients' dtype ------------------------------------------------

import math  # noqa: E402
import warnings  # noqa: E402

from minigrad import nn  # noqa: E402

_CASES = [  # (gradients as (values, dtype) per parameter, norm_type, max_norm)
    ([([6e4, 6e4], np.float16)], 2.0, 1.0),            # norm 84,853 > float16's 65,504
    ([([6e4], np.float16), ([6e4], np.float16)], 2.0, 1.0),
    ([([6e4, 6e4], np.float16)], 1.0, 1.0),
    ([([6e4, 6e4], np.float16)], 3.0, 1.0),
    ([([6e4, 6e4], np.float16)], math.inf, 1.0),       # inf-norm 6e4: finite, clipped
    ([([300.0, 400.0], np.float16)], 2.0, 1.0),
    ([([1e-5, 1e-5], np.float16)], 2.0, 1.0),
    ([([6e4], np.float16), ([6e4], np.float32)], 2.0, 1.0),  # fp16 part's norm is inf
    ([([3e4], np.float16), ([4e4, 1.0], np.float32)], 2.0, 1.0),
    ([([3e38, 3e38], np.float32)], 2.0, 1.0),          # norm beyond float32
    ([([1.0, 0.0, 2.0], np.float32), ([3.0], np.float32)], 0, 10.0),
    ([([1.0, -2.0], np.float64), ([3.0], np.float16)], 2.0, 0.5),
]


def _params(case):
    params = []
    for values, dtype in case:
        p = nn.Parameter(np.zeros(len(values), dtype))
        p.grad = np.array(values, dtype)
        params.append(p)
    return params


@pytest.mark.parametrize("case, norm_type, max_norm", _CASES)
def test_clip_grad_norm_matches_pytorch_in_the_gradients_dtype(case, norm_type, max_norm):
    torch = pytest.importorskip("torch")
    theirs = []
    for values, dtype in case:
        t = torch.zeros(len(values), dtype=getattr(torch, np.dtype(dtype).name),
                        requires_grad=True)
        t.grad = torch.tensor(np.array(values, dtype))
        theirs.append(t)
    mine = _params(case)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        total = nn.utils.clip_grad_norm_(mine, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert str(total.dtype) == str(expected.dtype)[6:]
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-3)
    for m, t in zip(mine, theirs):
        assert m.grad.dtype == t.grad.numpy().dtype
        np.testing.assert_allclose(m.grad, t.grad.numpy(), rtol=1e-3, atol=0)
    for m, t, (values, dtype) in zip(mine, theirs, case):
        m.grad, t.grad = np.array(values, dtype), torch.tensor(np.array(values, dtype))
    raised_by_torch = raised_by_mine = False
    try:
        torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type, error_if_nonfinite=True)
    except RuntimeError:
        raised_by_torch = True
    try:
        nn.utils.clip_grad_norm_(mine, max_norm, norm_type, error_if_nonfinite=True)
    except RuntimeError:
        raised_by_mine = True
    assert raised_by_mine == raised_by_torch


def test_clip_grad_norm_beyond_float16_returns_inf_and_zeroes_without_a_warning():
    p, = _params([([6e4, 6e4], np.float16)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        total = nn.utils.clip_grad_norm_([p], 1.0)
    assert total.dtype == np.float16 and total.item() == math.inf
    np.testing.assert_array_equal(p.grad, [0.0, 0.0])  # clipped by the norm it returns
    p.grad = np.array([6e4, 6e4], np.float16)
    with pytest.raises(RuntimeError, match=r"non-finite \(inf\).*Every gradient is finite.*"
                                           r"float16 up to 65504"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(p.grad, [6e4, 6e4])  # an error leaves them as they were


def test_clip_grad_norm_of_huge_finite_gradients_is_finite_and_clips():
    # PyTorch's sums of squares overflow here (it returns inf and zeroes the gradients);
    # the norms are finite in the dtype, so minigrad returns them and clips (documented).
    for value, dtype in [(1e20, np.float32), (1e200, np.float64)]:
        p, = _params([([value, value], dtype)])
        total = nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
        assert total.dtype == dtype
        np.testing.assert_allclose(total.item(), value * math.sqrt(2), rtol=1e-6)
        np.testing.assert_allclose(p.grad, [0.5 ** 0.5] * 2, rtol=1e-6)
    p, = _params([([1e-200, 1e-200], np.float64)])
    assert math.isclose(nn.utils.clip_grad_norm_([p], 1.0).item(), 1e-200 * math.sqrt(2))


def test_clip_grad_norm_zero_norm_counts_the_gradients_with_a_nonzero_element():
    a, b, c = _params([([1.0, 0.0, 2.0], np.float32), ([3.0], np.float32),
                       ([0.0], np.float32)])
    assert nn.utils.clip_grad_norm_([a, b, c], 10.0, norm_type=0).item() == 2.0  # as PyTorch


# -- the CLI's exit code for a missing optional package --------------------------------------

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_demo_log_dir_without_tensorboardx_exits_1_naming_the_install(tmp_path):
    """A missing optional package is work that cannot be done here (1), not a wrong command
    line (2, as it was). tensorboardX is made unimportable by a module of that name, first
    on the path, that raises ImportError (as a missing one does)."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "tensorboardX.py").write_text(
        'raise ImportError("No module named \'tensorboardX\'")\n')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(shim), str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "minigrad", "demo", "--steps", "2",
                           "--out", "out", "--log-dir", "runs"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("minigrad demo: --log-dir") and "tensorboardX" in done.stderr
    assert "pip install 'minigrad[tensorboard]'" in done.stderr
    assert "Traceback" not in done.stderr and "training" not in done.stdout
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()
