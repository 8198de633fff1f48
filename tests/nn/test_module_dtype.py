"""`Module.to(dtype)` / `.double()` / `.float()`: parameters converted in place, buffers
replaced, as PyTorch's ``module._apply`` does.

A buffer is often the caller's own tensor (``nn.CrossEntropyLoss(weight=w)`` keeps ``w``):
converting it in place changed ``w`` behind the caller's back. Parameters keep their
identity, so an optimiser built before the conversion still trains the model."""

import copy
import pickle

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def test_double_leaves_the_callers_class_weights_untouched():
    w = mg.tensor(np.array([1.0, 2.0, 3.0], np.float32))
    pos = mg.tensor(np.array([0.5, 4.0], np.float32))
    ce, bce = nn.CrossEntropyLoss(weight=w), nn.BCEWithLogitsLoss(weight=w[:2], pos_weight=pos)
    assert ce.weight is w  # kept as given, as PyTorch does
    ce.double()
    bce.double()
    assert w.dtype == np.float32 and pos.dtype == np.float32
    np.testing.assert_array_equal(w.data, [1, 2, 3])
    assert ce.weight is not w and ce.weight.dtype == np.float64
    assert bce.pos_weight is not pos and bce.pos_weight.dtype == np.float64
    assert ce.state_dict()["weight"].dtype == np.float64
    logits = mg.tensor(np.random.default_rng(0).normal(size=(4, 3)), requires_grad=True)
    loss = ce(logits, np.array([0, 1, 2, 1]))
    assert loss.dtype == np.float64
    loss.backward()
    assert logits.grad.dtype == np.float64


def test_a_buffer_already_of_the_dtype_is_kept():
    w = mg.tensor(np.array([1.0, 2.0], np.float32))
    loss = nn.NLLLoss(weight=w).float()
    assert loss.weight is w  # PyTorch's t.to(dtype) returns t itself


def test_batch_norm_buffers_are_replaced_and_its_parameters_kept():
    for implementation in ("fused", "composed"):
        bn = nn.BatchNorm1d(3, implementation=implementation)
        weight, mean, var, count = (bn.weight, bn.running_mean, bn.running_var,
                                    bn.num_batches_tracked)
        bn.double()
        assert bn.weight is weight and weight.dtype == np.float64
        assert bn.running_mean is not mean and mean.dtype == np.float32
        assert bn.running_var is not var and bn.running_var.dtype == np.float64
        assert bn.num_batches_tracked is count and count.dtype == np.int64  # integer: kept
        buffers = dict(bn.named_buffers())
        assert buffers["running_mean"] is bn.running_mean  # attribute and registry agree
        bn(mg.tensor(np.arange(12.0).reshape(4, 3)))
        np.testing.assert_allclose(bn.running_mean.data, 0.1 * np.array([4.5, 5.5, 6.5]))
        assert bn.running_mean.dtype == np.float64 and int(bn.num_batches_tracked.data) == 1
        np.testing.assert_array_equal(mean.data, np.zeros(3))  # the old one saw no update
        state = bn.state_dict()
        np.testing.assert_array_equal(state["running_mean"], bn.running_mean.data)
        fresh = nn.BatchNorm1d(3, implementation=implementation).double()
        fresh.load_state_dict(state)
        np.testing.assert_array_equal(fresh.running_mean.data, bn.running_mean.data)
        assert fresh.running_mean.dtype == np.float64


def test_an_optimizer_built_before_double_still_updates_the_model():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    optimizers = [mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                  mg.optim.Adam(model.parameters(), lr=0.01)]
    model.double()
    before = [p.data.copy() for p in model.parameters()]
    x, y = mg.tensor(np.random.default_rng(1).normal(size=(8, 3))), np.arange(8) % 2
    for optimizer in optimizers:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    for old, parameter in zip(before, model.parameters()):
        assert parameter.dtype == np.float64
        assert not np.array_equal(old, parameter.data)


def test_a_buffer_registered_at_several_places_stays_one_tensor():
    mask = mg.tensor(np.ones(3, np.float32))

    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mask", mask, persistent=False)
            self.register_buffer("again", mask)

    model = nn.Sequential(Masked(), Masked()).double()
    converted = model[0].mask
    assert converted is not mask and converted.dtype == np.float64 and mask.dtype == np.float32
    assert model[0].again is converted and model[1].mask is converted
    assert model[1]._buffers["again"] is converted
    assert list(model.state_dict()) == ["0.again", "1.again"]  # persistence kept


def test_a_converted_model_pickles_copies_and_saves(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).double()
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert clone[1].running_var.dtype == np.float64
        assert clone[1].running_var is clone[1]._buffers["running_var"]
    mg.save(model.state_dict(), tmp_path / "model.mg")
    fresh = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).double()
    fresh.load_state_dict(mg.load(tmp_path / "model.mg"))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key], value)


def test_to_with_a_device_only_changes_nothing():
    # model.to("cpu") converted a float64 model to float32: the probe it read the dtype from
    # was float32, and a device alone kept that dtype.
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).double()
    mean = model[1].running_mean
    for call in (lambda: model.to("cpu"), lambda: model.to(device="cpu")):
        assert call() is model
        assert model[0].weight.dtype == np.float64 and model[1].running_mean is mean
    assert model.to("cpu", mg.float32) is model and model[0].weight.dtype == np.float32


# -- against PyTorch --------------------------------------------------------------------


def _identities(module_type, ns, to):
    """What stays the same object, and the dtypes, after a conversion, in either library."""
    w = ns.tensor([1.0, 2.0, 3.0])
    model = module_type(ns, w)
    loss, bn = model[0], model[1]
    weight, mean, count = bn.weight, bn.running_mean, bn.num_batches_tracked
    to(model)
    return {"class weight kept": loss.weight is w, "caller's weight dtype": str(w.dtype),
            "new weight dtype": str(loss.weight.dtype), "parameter kept": bn.weight is weight,
            "parameter dtype": str(weight.dtype), "running mean kept": bn.running_mean is mean,
            "old running mean dtype": str(mean.dtype),
            "count kept": bn.num_batches_tracked is count}


@pytest.mark.parametrize("conversion", ["double", "float", "to float64", "to cpu"])
def test_what_is_kept_and_what_is_replaced_matches_pytorch(conversion):
    torch = pytest.importorskip("torch")

    def build(ns, w):
        module = torch.nn if ns is torch else nn
        return module.Sequential(module.CrossEntropyLoss(weight=w), module.BatchNorm1d(3))

    def convert(ns):
        if conversion == "to float64":
            return lambda model: model.to(ns.float64)
        if conversion == "to cpu":
            return lambda model: model.to("cpu")
        return lambda model: getattr(model, conversion)()

    ours = _identities(build, mg, convert(mg))
    theirs = _identities(build, torch, convert(torch))
    theirs = {key: value.removeprefix("torch.") if isinstance(value, str) else value
              for key, value in theirs.items()}
    assert ours == theirs
