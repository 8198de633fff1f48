"""Optimisers: state_dict and load_state_dict (resuming, refusals, casts), and the state a
step leaves behind."""

import numpy as np
import pytest
import test_optim

import minigrad as mg
from minigrad import nn
from minigrad.optim import SGD, Adam

# The fixed parameter, gradients and stepping helper of test_optim.py (names as there)
GRADS, P0, parameter, run = test_optim.GRADS, test_optim.P0, test_optim.parameter, test_optim.run


@pytest.mark.parametrize("optimizer_class, options", [(SGD, {"lr": 0.1, "momentum": 0.9}),
                                                      (Adam, {"lr": 0.01})])
def test_state_dict_resumes_the_same_trajectory(optimizer_class, options):
    _, first, p = run(optimizer_class, steps=1, **options)
    state = first.state_dict()
    assert set(state) == {"state", "param_groups"} and state["param_groups"][0]["params"] == [0]
    clone = parameter(p.data)
    second = optimizer_class([clone], **{**options, "lr": 123.0})
    second.load_state_dict(state)
    assert second.param_groups[0]["lr"] == options["lr"]
    for q, optimizer in ((p, first), (clone, second)):
        q.grad = GRADS[1].copy()
        optimizer.step()
    np.testing.assert_array_equal(clone.data, p.data)
    # The state dict holds copies: stepping did not change what was saved.
    key = next(iter(state["state"][0]))
    assert state["state"][0][key] is not first.state[p][key]


def test_load_state_dict_refuses_another_model_and_changes_nothing():
    _, optimizer, p = run(SGD, steps=1, lr=0.1, momentum=0.9)
    other = SGD([parameter([1.0]), parameter([2.0])], lr=0.1, momentum=0.9).state_dict()
    buffer = optimizer.state[p]["momentum_buffer"].copy()
    with pytest.raises(ValueError, match="same model"):
        optimizer.load_state_dict(other)
    wrong_shape = optimizer.state_dict()
    wrong_shape["state"][0]["momentum_buffer"] = np.zeros(3)
    wrong_shape["param_groups"][0]["lr"] = 5.0
    with pytest.raises(ValueError, match="momentum_buffer"):
        optimizer.load_state_dict(wrong_shape)
    np.testing.assert_array_equal(optimizer.state[p]["momentum_buffer"], buffer)
    assert optimizer.param_groups[0]["lr"] == 0.1


def test_load_state_dict_of_the_wrong_kind_says_what_it_expected():
    optimizer = Adam([parameter([1.0])])
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: expected a dict with the keys "
                                         r"'state' and 'param_groups'.*got a dict with keys \[\]"):
        optimizer.load_state_dict({})
    model = nn.Linear(2, 1)
    with pytest.raises(ValueError, match=r"keys \['bias', 'weight'\].*not the model's"):
        optimizer.load_state_dict(model.state_dict())


def test_a_failed_first_momentum_step_leaves_no_half_filled_buffer():
    """The first momentum step used to store an uninitialised buffer before filling it: a
    step that failed part-way left garbage that the next step used as momentum."""
    p = mg.nn.Parameter(mg.tensor(np.ones((3, 4), np.float32)))
    optimizer = SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.full((3, 4), "x", dtype=object)  # right shape, not numbers: fails mid-update
    with pytest.raises((TypeError, ValueError)):
        optimizer.step()
    assert optimizer.state.get(p, {}).get("momentum_buffer") is None
    p.data = np.ones((3, 4), np.float32)
    p.grad = np.full((3, 4), 2.0, np.float32)
    optimizer.step()
    np.testing.assert_array_equal(optimizer.state[p]["momentum_buffer"], p.grad)
    np.testing.assert_allclose(p.data, 1 - 0.1 * 2.0)


@pytest.mark.parametrize("name, options", [
    ("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1})])
def test_the_state_follows_a_model_cast_after_some_steps(name, options):
    # model.double() after a step: the moments stayed float32 and float64 gradients were
    # rounded into them silently. The state now follows, as load_state_dict's casts do.
    model = nn.Linear(3, 2)
    optimizer = getattr(mg.optim, name)(model.parameters(), **options)
    model(mg.randn(4, 3)).sum().backward()
    optimizer.step()
    model.double()
    reference_model = nn.Linear(3, 2).double()
    reference_model.load_state_dict(model.state_dict())
    reference = getattr(mg.optim, name)(reference_model.parameters(), **options)
    reference.load_state_dict(optimizer.state_dict())  # casts the state to float64
    grads = [np.full(p.shape, 1 + 1e-12) for p in model.parameters()]  # not a float32
    for parameters in (model.parameters(), reference_model.parameters()):
        for parameter, grad in zip(parameters, grads):
            parameter.grad = grad.copy()
    optimizer.step()
    reference.step()
    for state in optimizer.state.values():
        assert all(v.dtype == np.float64 for v in state.values() if isinstance(v, np.ndarray))
    for ours, theirs in zip(model.parameters(), reference_model.parameters()):
        np.testing.assert_array_equal(ours.data, theirs.data)


def older_checkpoint(optimizer, *options):
    """`optimizer.state_dict()` as a version without `options` wrote it."""
    state = optimizer.state_dict()
    for group in state["param_groups"]:
        for option in options:
            del group[option]
    return state


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_an_option_newer_than_the_checkpoint_takes_its_default_as_in_pytorch(name):
    # load_state_dict merged the saved groups into the current ones, so maximize=True stayed
    # True for a checkpoint saved before maximize existed; PyTorch 2.13 gives it the default.
    saved_by = getattr(mg.optim, name)([parameter(P0)], lr=0.5)
    checkpoint = older_checkpoint(saved_by, "maximize")
    loading = getattr(mg.optim, name)([parameter(P0)], lr=0.1, maximize=True)
    loading.load_state_dict(checkpoint)
    (group,) = loading.param_groups
    assert group["maximize"] is False and group["lr"] == 0.5
    assert {k: v for k, v in group.items() if k != "params"} == {
        k: v for k, v in saved_by.param_groups[0].items() if k != "params"}
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], lr=0.1,
                                        maximize=True)
    old = older_checkpoint(getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)],
                                                      lr=0.5), "maximize")
    theirs.load_state_dict(old)
    assert theirs.param_groups[0]["maximize"] is False and theirs.param_groups[0]["lr"] == 0.5


def test_the_loaded_groups_are_the_saved_ones_in_the_same_dicts():
    # As PyTorch: a setting the checkpoint has replaces the current one; a key it lacks that
    # is no option of the optimiser (a scheduler's 'initial_lr') is not kept either.
    p = parameter(P0)
    optimizer = SGD([p], lr=0.1, momentum=0.9, maximize=True)
    group = optimizer.param_groups[0]
    mg.optim.lr_scheduler.StepLR(optimizer, step_size=2)
    assert group["initial_lr"] == 0.1
    optimizer.load_state_dict(older_checkpoint(SGD([parameter(P0)], lr=0.3), "nesterov"))
    assert optimizer.param_groups[0] is group and group["params"] == [p]
    assert group == {"lr": 0.3, "momentum": 0, "dampening": 0, "weight_decay": 0,
                     "nesterov": False, "maximize": False, "params": [p]}


def test_an_optimizer_pickled_before_an_option_existed_gets_its_default():
    import pickle

    p = parameter(P0)
    optimizer = Adam([p], lr=0.1, maximize=True)
    for settings in (optimizer.defaults, *optimizer.param_groups):
        del settings["maximize"]  # as an older minigrad pickled it
    loaded = pickle.loads(pickle.dumps(optimizer))
    assert loaded.defaults["maximize"] is False and loaded.param_groups[0]["maximize"] is False
    weight = loaded.param_groups[0]["params"][0]
    weight.grad = np.ones_like(P0)
    loaded.step()  # descends: the option's default
    assert (weight.data < P0).all()


def _custom(base):
    class Custom(base):  # a user's subclass whose __init__ lists no late option
        def __init__(self, params, lr=0.1):
            super().__init__(params, lr=lr)

    Custom.__qualname__ = Custom.__name__ = f"Custom{base.__name__}"  # picklable by name
    return Custom


CUSTOM = {name: _custom(getattr(mg.optim, name))
          for name in ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]}
CustomSGD, CustomAdam, CustomAdamW, CustomRMSprop, CustomAdagrad = CUSTOM.values()


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_a_subclass_with_its_own_init_loads_an_older_checkpoint_and_steps(name):
    # The late options' defaults came from the constructor's signature: a subclass whose
    # __init__ does not list maximize lost it on load (and on unpickling), and step() then
    # raised a bare KeyError. PyTorch hard-codes them; so does LATE_OPTIONS.
    import pickle

    Custom = CUSTOM[name]
    optimizer = Custom([parameter(P0)])
    optimizer.load_state_dict(older_checkpoint(Custom([parameter(P0)]), "maximize"))
    for settings in (optimizer.defaults, *optimizer.param_groups):
        settings.pop("maximize", None)  # as an older minigrad pickled it
    for loaded in (optimizer, pickle.loads(pickle.dumps(optimizer))):
        if loaded is optimizer:
            loaded.load_state_dict(older_checkpoint(Custom([parameter(P0)]), "maximize"))
        assert loaded.param_groups[0]["maximize"] is False
        weight = loaded.param_groups[0]["params"][0]
        weight.grad = np.ones_like(P0)
        loaded.step()  # descends
        assert (weight.data < P0).all()
