"""nn.ModuleList and nn.ModuleDict: registered children, list/dict behaviour, PyTorch's
state_dict names and repr."""

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class Tower(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
        self.heads = nn.ModuleDict({"cls": nn.Linear(2, 3), "act": nn.ReLU()})

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.heads["cls"](self.heads["act"](x))


def test_children_are_registered_with_pytorchs_names():
    model = Tower()
    assert list(model.state_dict()) == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
        "layers.2.weight", "layers.2.bias", "heads.cls.weight", "heads.cls.bias"]
    assert len(list(model.parameters())) == 8
    model.eval()
    assert not model.layers[2].training and not model.heads["act"].training
    out = model(mg.randn(4, 2))
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_slicing_a_module_list_in_forward_keeps_the_layers_labels_in_drawings():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x):
            x = self.layers[0](x)
            for layer in self.layers[1:] + nn.ModuleList([]):  # a slice and a sum
                x = layer(x)
            return x

    model = Stack()
    model(mg.randn(1, 2))
    assert [layer._scope_name for layer in model.layers] == ["0", "1", "2"]
    assert list(model.layers[1:]._modules) == ["0", "1"]  # the new list's keys, as in PyTorch
    out = model(mg.randn(1, 2))
    assert out._scope.label() == "2 (Linear)"  # the last layer still drawn as itself, not '1'


def test_a_stored_slice_or_sum_of_module_lists_labels_its_layers_by_its_keys():
    # Restoring the old labels (right for a slice used inside forward) was wrong once the new
    # list was stored: drawings said '1', '2' where named_modules and state_dict say 0, 1.
    class Truncated(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
            self.layers = self.layers[1:]
            self.both = (nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
                         + nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)]))

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    model = Truncated()
    assert [layer._scope_name for layer in model.layers] == ["0", "1"]
    assert [layer._scope_name for layer in model.both] == ["0", "1", "2", "3"]
    assert [name for name, _ in model.named_modules()][1:4] == ["layers", "layers.0", "layers.1"]
    out = model(mg.randn(1, 2))
    assert out._scope.label() == "1 (Linear)"  # was "2 (Linear)"


def test_sequential_insert_out_of_range_is_an_index_error_as_in_pytorch():
    # insert(10, m) on 3 modules appended silently (list.insert's rule); PyTorch refuses.
    model = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1))
    for index in (10, 4, -4):
        with pytest.raises(IndexError, match=f"Sequential.insert: index {index} is out of "
                                             "range for 3"):
            model.insert(index, nn.ReLU())
    assert len(model) == 3
    model.insert(3, nn.Tanh()).insert(-4, nn.Identity())  # the ends are in range
    assert [type(m).__name__ for m in model] == ["Identity", "Linear", "ReLU", "Linear", "Tanh"]


def test_sequential_is_edited_like_pytorchs():
    # Replacing a head (model[-1] = ...) and deleting a layer raised "does not support item
    # assignment/deletion"; keys follow PyTorch (kept on assignment, renumbered on deletion).
    a, b, c, d = nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3), nn.Tanh()
    model = nn.Sequential(OrderedDict(fc=a, act=b, head=c))
    model[-1] = d
    assert list(model._modules.items()) == [("fc", a), ("act", b), ("head", d)]
    assert model(mg.randn(4, 2)).shape == (4, 2)
    del model[1]
    assert list(model._modules.items()) == [("0", a), ("1", d)]
    assert model.insert(1, b) is model and list(model) == [a, b, d]
    assert model.extend([c]) is model and list(model._modules) == ["0", "1", "2", "3"]
    assert model.pop() is c and model.pop(0) is a and list(model._modules.items()) == [
        ("0", b), ("1", d)]
    with pytest.raises(TypeError, match="Sequential: expected a Module, got function"):
        model[0] = lambda x: x
    with pytest.raises(IndexError):
        model[5] = a
    assert nn.Sequential is nn.module.Sequential  # its old home still imports it


def test_module_list_behaves_like_a_list():
    a, b, c, d = nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Identity()
    layers = nn.ModuleList([a, b])
    layers.append(c)
    assert list(layers) == [a, b, c] and len(layers) == 3 and layers[-1] is c
    layers.insert(1, d)
    assert list(layers) == [a, d, b, c] and list(layers._modules) == ["0", "1", "2", "3"]
    assert layers.pop(0) is a and list(layers) == [d, b, c]
    del layers[1]
    assert list(layers) == [d, c] and list(layers._modules) == ["0", "1"]
    layers[0] = a
    assert layers[0] is a
    sliced = layers[:1]
    assert isinstance(sliced, nn.ModuleList) and list(sliced) == [a]
    layers += [b]
    layers.extend([d])
    assert list(layers) == [a, c, b, d]
    assert list(layers + nn.ModuleList([c])) == [a, c, b, d, c]
    with pytest.raises(IndexError, match="ModuleList: index 4 is out of range for 4"):
        layers[4]
    with pytest.raises(TypeError, match="ModuleList.append: expected a Module, got function"):
        layers.append(lambda x: x)
    with pytest.raises(TypeError, match="use append"):
        layers.extend(nn.ReLU())


def test_module_dict_behaves_like_a_dict():
    heads = nn.ModuleDict([("a", nn.ReLU()), ("b", nn.Tanh())])
    assert heads.keys() == ["a", "b"] and list(heads) == ["a", "b"] and "a" in heads
    heads["c"] = nn.Identity()
    heads.update({"a": nn.Sigmoid()})  # replaces, keeps the position
    assert [type(m).__name__ for m in heads.values()] == ["Sigmoid", "Tanh", "Identity"]
    assert [k for k, _ in heads.items()] == ["a", "b", "c"]
    assert isinstance(heads.pop("b"), nn.Tanh) and len(heads) == 2
    del heads["a"]
    assert heads.keys() == ["c"]
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []
    with pytest.raises(KeyError, match=r"no module named 'x'; the keys are \[\]"):
        heads["x"]
    with pytest.raises(TypeError, match="keys must be strings"):
        heads[1] = nn.ReLU()
    with pytest.raises(KeyError, match="would hide the attribute or method"):
        heads["train"] = nn.ReLU()


def test_reprs_and_state_dicts_match_pytorch():
    torch = pytest.importorskip("torch")
    model = Tower()
    twin = torch.nn.Module()
    twin.layers = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)])
    twin.heads = torch.nn.ModuleDict({"cls": torch.nn.Linear(2, 3), "act": torch.nn.ReLU()})
    assert list(model.state_dict()) == list(twin.state_dict())
    assert repr(model.layers) == repr(twin.layers)  # "(0-2): 3 x Linear(...)"
    assert repr(model.heads) == repr(twin.heads)
    mixed = nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh(), nn.ReLU()])
    assert repr(mixed) == repr(torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.ReLU(),
                                                    torch.nn.Tanh(), torch.nn.ReLU()]))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    loaded = Tower()
    loaded.load_state_dict(twin.state_dict())
    np.testing.assert_array_equal(loaded.heads["cls"].weight.data,
                                  twin.heads.cls.weight.detach().numpy())
