"""Optimisers take ``model.named_parameters()`` (reviewer's finding F8 of round 13), as
PyTorch >= 2.5 does: the tensors are optimised and the names kept in each group's
'param_names' (and so in ``state_dict()``); named and unnamed parameters mixed, within a
group or across groups, are refused as PyTorch refuses them."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def model():
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))


def train_one_step(net, optimizer):
    optimizer.zero_grad()
    net(mg.tensor(np.ones((2, 3), np.float32))).sum().backward()
    optimizer.step()


@pytest.mark.parametrize("kind", [mg.optim.SGD, mg.optim.Adam, mg.optim.AdamW])
def test_named_parameters_train_as_parameters_do(kind):
    named, plain = model(), model()
    named_optimizer = kind(named.named_parameters(), lr=0.1)
    plain_optimizer = kind(plain.parameters(), lr=0.1)
    group = named_optimizer.param_groups[0]
    assert group["param_names"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(p is q for p, q in zip(group["params"], named.parameters()))
    assert "param_names" not in plain_optimizer.param_groups[0]
    for _ in range(2):
        train_one_step(named, named_optimizer)
        train_one_step(plain, plain_optimizer)
    for p, q in zip(named.parameters(), plain.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    saved = named_optimizer.state_dict()
    assert saved["param_groups"][0]["param_names"] == group["param_names"]
    assert saved["param_groups"][0]["params"] == [0, 1, 2, 3]
    again = kind(model().named_parameters(), lr=0.1)
    again.load_state_dict(saved)
    assert again.param_groups[0]["param_names"] == group["param_names"]


def test_named_groups_with_their_own_settings():
    net = model()
    optimizer = mg.optim.SGD([{"params": net[0].named_parameters(), "lr": 0.5},
                              {"params": net[2].named_parameters()}], lr=0.1)
    assert [g["param_names"] for g in optimizer.param_groups] == [["weight", "bias"]] * 2
    assert [g["lr"] for g in optimizer.param_groups] == [0.5, 0.1]


def test_mixing_named_and_unnamed_is_refused():
    net = model()
    with pytest.raises(ValueError, match=r"^SGD: some parameters have names and some do not.*"
                                         r"Fix: pass model.named_parameters\(\)"):
        mg.optim.SGD([("w", net[0].weight), net[0].bias], lr=0.1)
    optimizer = mg.optim.SGD([net[0].weight], lr=0.1)
    with pytest.raises(ValueError, match="cannot add a group with names to an optimizer "
                                         "whose groups have none"):
        optimizer.add_param_group({"params": [("bias", net[0].bias)]})
    optimizer = mg.optim.SGD([("weight", net[0].weight)], lr=0.1)
    with pytest.raises(ValueError, match="cannot add a group without names to an optimizer "
                                         "whose groups have them"):
        optimizer.add_param_group({"params": [net[0].bias]})
    assert len(optimizer.param_groups) == 1
    with pytest.raises(TypeError, match="can only optimise Tensors, got tuple"):
        mg.optim.SGD([(net[0].weight,)], lr=0.1)  # not a (name, tensor) pair


def test_like_pytorch():
    torch = pytest.importorskip("torch")
    twin = torch.nn.Linear(3, 4)
    optimizer = torch.optim.Adam(twin.named_parameters(), lr=0.1)
    assert optimizer.param_groups[0]["param_names"] == ["weight", "bias"]
    assert optimizer.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    ours = mg.optim.Adam(nn.Linear(3, 4).named_parameters(), lr=0.1)
    assert ours.param_groups[0]["param_names"] == ["weight", "bias"]
    with pytest.raises(ValueError, match="should be with/without names"):
        torch.optim.SGD([("w", twin.weight), twin.bias], lr=0.1)
    with pytest.raises(ValueError, match="should be with/without names"):
        mg.optim.SGD([("w", ours.param_groups[0]["params"][0]),
                      ours.param_groups[0]["params"][1]], lr=0.1)


def test_loading_a_state_saved_without_names_keeps_this_optimisers_names():
    """PyTorch's load_state_dict keeps a group's param_names when the saved group has none,
    and takes the saved names when it has them."""
    weight = mg.nn.Parameter(mg.zeros(2))
    named = mg.optim.SGD([("w", weight)], lr=0.1)
    named.load_state_dict(mg.optim.SGD([weight], lr=0.1).state_dict())
    assert named.param_groups[0]["param_names"] == ["w"]
    unnamed = mg.optim.SGD([weight], lr=0.1)
    unnamed.load_state_dict(mg.optim.SGD([("w", weight)], lr=0.1).state_dict())
    assert unnamed.param_groups[0]["param_names"] == ["w"]
