"""Modules through pickle and copy: a module pickled by an older minigrad, before one of
the Module's internals existed, still works in full (Module.__setstate__)."""

import copy
import pickle

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def old_pickle(model):
    """The bytes an older minigrad wrote: its modules had no `_non_persistent_buffers`
    (register_buffer's persistent=False came later)."""
    for module in model.modules():
        del module.__dict__["_non_persistent_buffers"]
    try:
        return pickle.dumps(model)
    finally:
        for module in model.modules():
            module.__dict__["_non_persistent_buffers"] = set()


def make_model():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    model.note = "kept"
    return model


def test_an_old_pickle_deletes_attributes_and_registers_buffers():
    # `del model.note` and register_buffer raised AttributeError: '_non_persistent_buffers'
    model = make_model()
    loaded = pickle.loads(old_pickle(model))
    assert all("_non_persistent_buffers" in m.__dict__ for m in loaded.modules())
    del loaded.note
    assert not hasattr(loaded, "note")
    loaded[1].register_buffer("mask", mg.ones(3), persistent=False)
    loaded[1].register_buffer("scale", mg.ones(3))
    keys = list(loaded.state_dict())
    assert "1.scale" in keys and "1.mask" not in keys
    assert keys == [*model.state_dict(), "1.scale"]
    del loaded[1].scale
    loaded.load_state_dict(model.state_dict())
    for (name, mine), theirs in zip(loaded.state_dict().items(), model.state_dict().values(),
                                    strict=True):
        np.testing.assert_array_equal(mine, theirs, err_msg=name)
    x = mg.randn(4, 2)
    np.testing.assert_array_equal(loaded(x).data, model(x).data)


def test_a_new_pickle_and_copies_keep_every_internal_as_it_was():
    model = make_model()
    model[1].register_buffer("mask", mg.ones(3), persistent=False)
    model.eval()
    for copied in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert copied[1]._non_persistent_buffers == {"mask"}
        assert "1.mask" not in copied.state_dict() and not copied.training
        assert copied[1]._non_persistent_buffers is not model[1]._non_persistent_buffers


def test_a_refused_buffer_registers_nothing():
    module = nn.Linear(2, 2)
    with pytest.raises(KeyError):
        module.register_buffer("weight", mg.ones(2), persistent=False)  # a parameter's name
    with pytest.raises(TypeError):
        module.register_buffer(3, mg.ones(2))
    assert module._buffers == {} and module._non_persistent_buffers == set()


def test_a_buffer_whose_persistence_cannot_be_recorded_is_not_registered():
    # The persistence is recorded first: a buffer registered without it would be saved in
    # state_dict although persistent=False was asked for.
    module = nn.Linear(2, 2)
    del module.__dict__["_non_persistent_buffers"]  # an internal missing, however it came
    with pytest.raises(AttributeError):
        module.register_buffer("mask", mg.ones(2), persistent=False)
    assert module._buffers == {} and "mask" not in module.__dict__
