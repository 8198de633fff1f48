"""load_state_dict and PyTorch checkpoints (reviewer's finding F5 of round 13): a BatchNorm
state dict without ``num_batches_tracked`` (PyTorch before 0.4.1) loads, the module keeping
its own count, as PyTorch does; missing or unexpected keys raise an error that is both a
KeyError (as minigrad raised) and a RuntimeError (as PyTorch raises)."""

from collections import OrderedDict

import numpy as np
import pytest

from minigrad import nn


def old_checkpoint(model):
    return {key: value for key, value in model.state_dict().items()
            if not key.endswith("num_batches_tracked")}


def test_a_batchnorm_checkpoint_without_num_batches_tracked_loads():
    source = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Sequential(nn.BatchNorm2d(2)))
    source[1].running_mean.data[...] = 7
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Sequential(nn.BatchNorm2d(2)))
    model[1].num_batches_tracked.data = np.array(5, np.int64)
    result = model.load_state_dict(old_checkpoint(source))
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(model[1].running_mean.data, 7)
    assert model[1].num_batches_tracked.item() == 5  # its own, as PyTorch keeps it
    assert model[2][0].num_batches_tracked.item() == 0
    assert model[1].num_batches_tracked.dtype == np.int64
    bn = nn.BatchNorm2d(2)  # the root itself
    assert bn.load_state_dict(old_checkpoint(nn.BatchNorm2d(2))).missing_keys == []
    # not strict: not reported missing either (PyTorch fills it before comparing)
    assert model.load_state_dict(old_checkpoint(source), strict=False).missing_keys == []


def test_only_batchnorm_counts_and_versioned_state_dicts_are_still_checked():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    state = old_checkpoint(model)
    del state["0.bias"]
    with pytest.raises(KeyError, match=r"missing keys \['0.bias'\]"):
        model.load_state_dict(state)
    # a current PyTorch state dict (its _metadata says version 2) lacking the key: refused,
    # as PyTorch refuses it
    versioned = OrderedDict(old_checkpoint(model))
    versioned._metadata = {"": {}, "0": {}, "1": {"version": 2}}
    with pytest.raises(RuntimeError, match=r"missing keys \['1.num_batches_tracked'\]"):
        model.load_state_dict(versioned)
    versioned._metadata = {"1": {"version": 1}}
    model.load_state_dict(versioned)


def test_key_errors_are_key_and_runtime_errors_with_a_readable_text():
    from minigrad.nn.state_dict import StateDictKeysError

    model = nn.Linear(2, 2)
    for state in ({}, {**model.state_dict(), "extra": np.zeros(1)}):
        with pytest.raises(KeyError):
            model.load_state_dict(state)
        with pytest.raises(RuntimeError) as caught:
            model.load_state_dict(state)
        assert isinstance(caught.value, StateDictKeysError)
        assert str(caught.value).startswith("load_state_dict: the state dict does not match "
                                            "Linear")  # no KeyError quotes
    assert issubclass(StateDictKeysError, KeyError) and issubclass(StateDictKeysError,
                                                                   RuntimeError)


def test_like_pytorch():
    torch = pytest.importorskip("torch")
    twin = torch.nn.BatchNorm1d(3)
    twin.num_batches_tracked.fill_(5)
    old = {k: v for k, v in torch.nn.BatchNorm1d(3).state_dict().items()
           if k != "num_batches_tracked"}
    twin.load_state_dict(old)
    assert twin.num_batches_tracked.item() == 5
    bn = nn.BatchNorm1d(3)
    bn.num_batches_tracked.data = np.array(5, np.int64)
    bn.load_state_dict(old)  # torch tensors, as they are
    assert bn.num_batches_tracked.item() == 5
    current = torch.nn.BatchNorm1d(3).state_dict()
    del current["num_batches_tracked"]
    with pytest.raises(RuntimeError):
        twin.load_state_dict(current)
    with pytest.raises(RuntimeError):
        bn.load_state_dict(current)
    with pytest.raises(RuntimeError, match="Missing key"):
        torch.nn.Linear(2, 2).load_state_dict({})
    with pytest.raises(RuntimeError, match="missing keys"):
        nn.Linear(2, 2).load_state_dict({})
