"""optim.Adagrad: PyTorch's update rule (against torch.optim.Adagrad where installed), its
eager state, state_dict round trips, groups, and the refusals of bad settings."""

import copy
import pickle

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.optim import Adagrad

RNG = np.random.default_rng(7)
GRADS = [RNG.normal(size=(3, 4)) for _ in range(6)]
P0 = RNG.normal(size=(3, 4))


def parameter(values, dtype=np.float64):
    return nn.Parameter(mg.tensor(np.array(values, dtype=dtype)))


def by_hand(p, grads, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
            eps=1e-10, maximize=False):
    """The rule of the docstring, written out in float64."""
    p, total = np.array(p, dtype=np.float64), np.full(np.shape(p), initial_accumulator_value)
    for step, grad in enumerate(grads, start=1):
        g = -grad if maximize else grad
        g = g + weight_decay * p
        total = total + g * g
        p = p - lr / (1 + (step - 1) * lr_decay) * g / (np.sqrt(total) + eps)
    return p


OPTIONS = [{}, {"lr": 0.1, "lr_decay": 0.05}, {"lr": 0.1, "weight_decay": 0.1},
           {"lr": 0.05, "lr_decay": 0.1, "weight_decay": 0.2, "initial_accumulator_value": 0.5,
            "eps": 1e-6}, {"lr": 0.1, "maximize": True, "weight_decay": 0.1}]


@pytest.mark.parametrize("options", OPTIONS)
def test_steps_follow_the_rule(options):
    p = parameter(P0)
    optimizer = Adagrad([p], **options)
    for grad in GRADS:
        p.grad = grad.copy()
        optimizer.step()
    np.testing.assert_allclose(p.data, by_hand(P0, GRADS, **options), rtol=1e-12)
    assert optimizer.state[p]["step"] == len(GRADS)


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trajectory_matches_torch(options, dtype):
    torch = pytest.importorskip("torch")
    p = parameter(P0, dtype)
    q = torch.nn.Parameter(torch.tensor(P0.astype(dtype)))
    ours, theirs = Adagrad([p], **options), torch.optim.Adagrad([q], **options)
    for grad in GRADS:
        p.grad = grad.astype(dtype)
        q.grad = torch.tensor(grad.astype(dtype))
        ours.step()
        theirs.step()
        tolerance = 1e-6 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(ours.state[p]["sum"], theirs.state[q]["sum"].numpy(),
                               rtol=1e-6 if dtype == np.float32 else 1e-13)
    assert ours.state[p]["step"] == int(theirs.state[q]["step"])


def test_a_model_trains_as_in_torch_with_groups():
    torch = pytest.importorskip("torch")
    from minigrad.nn.utils import to_torch

    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    twin = to_torch(model)
    x = RNG.normal(size=(8, 3))
    y = RNG.normal(size=(8, 1))
    groups = lambda m: [{"params": list(m[0].parameters()), "lr": 0.05, "lr_decay": 0.1},  # noqa: E731
                        {"params": list(m[2].parameters()), "weight_decay": 0.01}]
    ours, theirs = Adagrad(groups(model), lr=0.1), torch.optim.Adagrad(groups(twin), lr=0.1)
    for _ in range(5):
        for optimizer, net, xs, ys, mse in (
                (ours, model, mg.tensor(x), y, nn.functional.mse_loss),
                (theirs, twin, torch.tensor(x), torch.tensor(y), torch.nn.functional.mse_loss)):
            optimizer.zero_grad()
            mse(net(xs), ys).backward()
            optimizer.step()
    for (name, a), b in zip(model.state_dict().items(), twin.state_dict().values()):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-12, atol=1e-14, err_msg=name)


def test_state_is_made_for_every_parameter_at_construction_as_torch():
    p, unused = parameter(P0), parameter([1.0, 2.0])
    optimizer = Adagrad([p, unused], initial_accumulator_value=0.25)
    state = optimizer.state_dict()["state"]
    assert sorted(state) == [0, 1] and state[1]["step"] == 0
    np.testing.assert_array_equal(state[1]["sum"], [0.25, 0.25])
    p.grad = GRADS[0].copy()
    optimizer.step()  # `unused` has no gradient: skipped, its state untouched
    assert optimizer.state[unused]["step"] == 0 and optimizer.state[p]["step"] == 1
    np.testing.assert_array_equal(unused.data, [1.0, 2.0])


def test_state_dict_layout_matches_torch():
    torch = pytest.importorskip("torch")
    q = torch.nn.Parameter(torch.zeros(2))
    theirs = torch.optim.Adagrad([q], lr=0.1).state_dict()
    ours = Adagrad([parameter([0.0, 0.0])], lr=0.1).state_dict()
    assert set(ours["state"][0]) == set(theirs["state"][0])
    shared = {"lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps",
              "maximize", "params"}
    assert shared <= set(theirs["param_groups"][0]) and set(ours["param_groups"][0]) == shared
    for key in shared:
        assert ours["param_groups"][0][key] == theirs["param_groups"][0][key], key


def test_state_dict_round_trip_resumes_the_same_trajectory():
    p = parameter(P0)
    first = Adagrad([p], lr=0.1, lr_decay=0.05, weight_decay=0.1)
    for grad in GRADS[:3]:
        p.grad = grad.copy()
        first.step()
    saved = pickle.loads(pickle.dumps(first.state_dict()))
    clone = parameter(p.data)
    second = Adagrad([clone], lr=123.0)
    second.load_state_dict(saved)
    assert second.param_groups[0]["lr"] == 0.1 and second.param_groups[0]["lr_decay"] == 0.05
    for grad in GRADS[3:]:
        for q, optimizer in ((p, first), (clone, second)):
            q.grad = grad.copy()
            optimizer.step()
    np.testing.assert_array_equal(clone.data, p.data)
    np.testing.assert_allclose(p.data, by_hand(P0, GRADS, lr=0.1, lr_decay=0.05,
                                               weight_decay=0.1), rtol=1e-12)
    assert saved["state"][0]["step"] == 3  # the saved dict holds copies, not the live state
    assert saved["state"][0]["sum"] is not first.state[p]["sum"]


def test_load_state_dict_refuses_another_model_and_changes_nothing():
    p = parameter(P0)
    optimizer = Adagrad([p])
    other = Adagrad([parameter([1.0]), parameter([2.0])]).state_dict()
    with pytest.raises(ValueError, match="Adagrad.load_state_dict: .*same model"):
        optimizer.load_state_dict(other)
    wrong = optimizer.state_dict()
    wrong["state"][0]["sum"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"state 'sum' of parameter 0 has shape \(3,\)"):
        optimizer.load_state_dict(wrong)
    np.testing.assert_array_equal(optimizer.state[p]["sum"], np.zeros((3, 4)))


def test_a_group_added_later_starts_its_state_at_the_first_step_with_its_own_value():
    p, later = parameter(P0), parameter([1.0, -1.0])
    optimizer = Adagrad([p], lr=0.1)
    optimizer.add_param_group({"params": [later], "initial_accumulator_value": 1.0})
    assert later not in optimizer.state
    later.grad = np.array([1.0, 1.0])
    optimizer.step()
    np.testing.assert_array_equal(optimizer.state[later]["sum"], [2.0, 2.0])
    np.testing.assert_allclose(later.data, by_hand([1.0, -1.0], [np.ones(2)], lr=0.1,
                                                   initial_accumulator_value=1.0))


def test_the_state_follows_a_model_cast_and_a_deepcopy():
    model = nn.Linear(2, 1)
    optimizer = Adagrad(model.parameters(), lr=0.1)
    model.double()
    model(mg.tensor(np.ones((1, 2)))).sum().backward()
    optimizer.step()
    assert optimizer.state[model.weight]["sum"].dtype == np.float64
    twin = copy.deepcopy(optimizer)
    assert twin.state_dict()["state"][0]["step"] == 1


def test_a_parameter_list_is_optimised():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = nn.ParameterList([mg.ones(2), mg.ones(3)])

    model = Model()
    optimizer = Adagrad(model.parameters(), lr=0.5)
    (model.scales[0].sum() + 2 * model.scales[1].sum()).backward()
    optimizer.step()
    np.testing.assert_allclose(model.scales[0].data, [0.5, 0.5])
    np.testing.assert_allclose(model.scales[1].data, [0.5, 0.5, 0.5])
    assert sorted(optimizer.state_dict()["state"]) == [0, 1]


@pytest.mark.parametrize("option, value, message", [
    ("lr", -0.1, r"Adagrad: invalid learning rate: lr=-0.1, it must be >= 0.0. Fix"),
    ("lr_decay", -1, r"Adagrad: invalid lr_decay value: lr_decay=-1"),
    ("weight_decay", -0.5, r"Adagrad: invalid weight_decay value"),
    ("initial_accumulator_value", -1.0, r"Adagrad: invalid initial_accumulator_value value"),
    ("eps", -1e-10, r"Adagrad: invalid epsilon value"),
    ("lr", float("nan"), r"Adagrad: invalid learning rate"),
])
def test_bad_settings_are_refused(option, value, message):
    with pytest.raises(ValueError, match=message):
        Adagrad([parameter([1.0])], **{option: value})


def test_bad_settings_in_a_group_and_of_the_wrong_type_are_refused():
    with pytest.raises(ValueError, match=r"Adagrad: invalid lr_decay value"):
        Adagrad([{"params": [parameter([1.0])], "lr_decay": -0.1}])
    with pytest.raises(TypeError, match=r"Adagrad: lr must be a number, got '0.1'"):
        Adagrad([parameter([1.0])], lr="0.1")
    with pytest.raises(TypeError, match=r"Adagrad: optimizer parameters need to be in an "
                                        r"ordered collection"):
        Adagrad({parameter([1.0])})
