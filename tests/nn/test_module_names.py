"""Registered names (#11.5): refused as PyTorch refuses them, so state_dict keys stay unique."""

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def test_a_dotted_module_name_is_refused_so_keys_cannot_collide():
    model = nn.Module()
    model.add_module("a", nn.Sequential())
    model.a.add_module("b", nn.Linear(2, 2))
    with pytest.raises(KeyError, match=r"module name cannot contain '\.', got: 'a\.b'.*Fix"):
        model.add_module("a.b", nn.Linear(2, 2))
    with pytest.raises(KeyError, match=r"cannot contain '\.'"):
        setattr(model, "a.c", nn.Linear(2, 2))  # the same rule for plain assignment
    with pytest.raises(KeyError, match="parameter name cannot contain"):
        model.register_parameter("w.x", nn.Parameter(np.zeros(1)))
    with pytest.raises(KeyError, match="buffer name cannot contain"):
        model.register_buffer("w.x", mg.zeros(1))
    assert len(list(model.parameters())) == len(model.state_dict()) == 2


@pytest.mark.parametrize("name, error, message", [
    ("", KeyError, "cannot be an empty string"),
    ("w\x00x", KeyError, "NUL"),
    (3, TypeError, "module name should be a string, got int"),
    ("forward", KeyError, "attribute 'forward' already exists"),
    ("training", KeyError, "attribute 'training' already exists"),
    ("weight", KeyError, "attribute 'weight' already exists"),
])
def test_add_module_refuses_names_as_pytorch_does(name, error, message):
    layer = nn.Linear(2, 2)
    before = list(layer.state_dict())
    with pytest.raises(error, match=message):
        layer.add_module(name, nn.ReLU())
    assert list(layer.state_dict()) == before and not list(layer.children())


def test_register_buffer_and_parameter_refuse_shadowing_another_attribute():
    layer = nn.Linear(2, 2)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        layer.register_buffer("weight", mg.zeros(2, 2))
    with pytest.raises(TypeError, match="not a Module subclass"):
        layer.add_module("extra", np.zeros(1))
    layer.register_parameter("bias", None)  # re-registering its own parameter stays allowed
    layer.register_buffer("extra", mg.zeros(1))
    layer.register_buffer("extra", mg.ones(1))
    assert list(layer.state_dict()) == ["weight", "extra"]


def test_sequential_names_follow_the_rule():
    assert list(nn.Sequential(nn.Linear(1, 1)).state_dict()) == ["0.weight", "0.bias"]
    with pytest.raises(KeyError, match=r"cannot contain '\.'"):
        nn.Sequential(OrderedDict({"a.b": nn.ReLU()}))
