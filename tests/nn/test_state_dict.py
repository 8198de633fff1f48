"""Module.state_dict / load_state_dict (minigrad/nn/state_dict.py): round trips, refusals
that leave the model as it was, strict=False, and writes that reach every view of a tensor."""

import numpy as np
import pytest
from test_module import Block  # the custom module of test_module.py (tests/nn is on the path)

import minigrad as mg
from minigrad import nn


def snapshot(model):
    return {name: array.copy() for name, array in model.state_dict().items()}


def assert_unchanged(model, before):
    after = model.state_dict()
    assert list(after) == list(before)
    for name in before:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)
        assert after[name].dtype == before[name].dtype


def test_load_state_dict_round_trip_copies_values():
    source, target = Block(), Block()
    target.load_state_dict(source.state_dict())
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    x = mg.randn(2, 3)
    np.testing.assert_array_equal(source(x).data, target(x).data)
    source.head.weight.data[:] = 5  # the target holds its own copies
    assert not (target.head.weight.data == 5).any()


def test_another_architecture_is_refused_naming_the_keys_and_nothing_changes():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    before = snapshot(model)
    other = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).state_dict()  # '1.weight', not '2.'
    with pytest.raises(KeyError, match=r"missing keys \['2.weight', '2.bias'\].*'1.weight'"):
        model.load_state_dict(other)
    assert_unchanged(model, before)
    incomplete = {k: v for k, v in model.state_dict().items() if k != "2.bias"}
    with pytest.raises(KeyError, match="2.bias"):
        model.load_state_dict(incomplete)
    assert_unchanged(model, before)


def test_a_tensor_of_the_wrong_shape_is_refused_naming_the_key_and_nothing_changes():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    before = snapshot(model)
    bad = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).state_dict()
    bad["2.weight"] = np.zeros((3, 4), np.float32)  # keys before it are valid and would load
    with pytest.raises(ValueError, match=r"'2.weight' has shape \(3, 4\).*\(2, 4\)"):
        model.load_state_dict(bad)
    assert_unchanged(model, before)
    bad["2.weight"] = np.array(["not", "numbers"])
    with pytest.raises(TypeError, match="'2.weight'"):
        model.load_state_dict(bad)
    assert_unchanged(model, before)


@pytest.mark.parametrize("bad, fix", [("model.npz", r"minigrad\.load\(path\)"),
                                      (None, "same architecture"),
                                      ([("0.weight", 1)], "same architecture")])
def test_what_is_not_a_state_dict_is_refused_before_anything_changes(bad, fix):
    # A path string was searched as text: its characters were reported as unexpected keys.
    model = nn.Sequential(nn.Linear(3, 4))
    before = snapshot(model)
    with pytest.raises(TypeError, match="load_state_dict: expected a mapping of names to "
                                        f"arrays.*{fix}"):
        model.load_state_dict(bad)
    assert_unchanged(model, before)


def test_a_whole_training_checkpoint_gets_a_hint_to_its_model_part():
    model = nn.Sequential(nn.Linear(3, 4))
    checkpoint = {"model": model.state_dict(), "step": 3}
    with pytest.raises(KeyError, match=r"Fix: pass the model's part of the checkpoint, e\.g\. "
                                       r"checkpoint\['model'\]"):
        model.load_state_dict(checkpoint)
    model.load_state_dict(checkpoint["model"])


def test_the_checkpoint_hint_names_the_part_with_the_models_keys_not_the_first_dict():
    # The first nested dict was suggested: checkpoint['optimizer'] for this checkpoint.
    layer = nn.Linear(2, 2)
    optimizer = mg.optim.SGD(layer.parameters(), lr=0.1)
    checkpoint = {"optimizer": optimizer.state_dict(), "model": layer.state_dict(), "epoch": 1}
    with pytest.raises(KeyError, match=r"e\.g\. checkpoint\['model'\]"):
        layer.load_state_dict(checkpoint)


def test_strict_false_loads_the_matching_keys_and_reports_the_rest():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    partial = {"0.weight": np.ones((4, 3)), "extra": np.zeros(1)}
    missing, unexpected = model.load_state_dict(partial, strict=False)
    assert missing == ["0.bias", "2.weight", "2.bias"] and unexpected == ["extra"]
    result = model.load_state_dict(partial, strict=False)  # PyTorch's named fields too
    assert result.missing_keys == missing and result.unexpected_keys == unexpected
    assert (model[0].weight.data == 1).all() and model[0].weight.dtype == np.float32


def test_loading_writes_into_the_tensors_own_arrays_as_pytorchs_copy():
    # PyTorch copies into each parameter (param.copy_): a detach() view, or a reference to
    # .data kept elsewhere, sees the loaded values. Replacing the arrays left them stale.
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    view, array = model[0].weight.detach(), model[1].running_mean.data
    loaded = {key: np.full_like(value, 0.5) for key, value in model.state_dict().items()}
    model.load_state_dict(loaded)
    assert (view.data == 0.5).all() and (array == 0.5).all()
    assert model[0].weight.data is view.data  # still one array, as before loading


def test_a_graph_made_before_loading_refuses_its_backward():
    # Its saved weights are gone (overwritten in place): as in PyTorch, backward raises
    # instead of mixing old and new values.
    model = nn.Linear(3, 2)
    loss = model(mg.randn(4, 3, requires_grad=True)).sum()
    model.load_state_dict({key: np.zeros_like(value) for key, value in
                           model.state_dict().items()})
    with pytest.raises(RuntimeError, match="modified by an inplace operation|in place"):
        loss.backward()


class Masked(nn.Module):
    """A layer with a buffer rebuilt at construction, not loaded (a causal mask)."""

    def __init__(self, size=3):
        super().__init__()
        self.fc = nn.Linear(size, size)
        self.register_buffer("mask", mg.tensor(np.tril(np.ones((size, size), np.float32))),
                             persistent=False)
        self.register_buffer("steps", mg.tensor(np.zeros((), np.int64)))

    def forward(self, x):
        return self.fc(x) * self.mask[-1]


def test_a_non_persistent_buffer_is_a_buffer_but_not_saved_or_loaded():
    model = nn.Sequential(Masked())
    assert [name for name, _ in model.named_buffers()] == ["0.mask", "0.steps"]
    assert list(model.state_dict()) == ["0.steps", "0.fc.weight", "0.fc.bias"]  # own first
    assert model.load_state_dict(model.state_dict()) == ([], [])  # strict: nothing missing
    with_mask = {**model.state_dict(), "0.mask": np.zeros((3, 3))}
    with pytest.raises(KeyError, match=r"unexpected keys \['0.mask'\]"):
        model.load_state_dict(with_mask)
    assert model.double()[0].mask.dtype == np.float64  # still converted with the model
    model[0].register_buffer("mask", model[0].mask)  # registered again, persistent: saved
    assert "0.mask" in model.state_dict()
    del model[0].steps
    assert list(model.state_dict()) == ["0.mask", "0.fc.weight", "0.fc.bias"]


def test_non_persistent_buffers_match_pytorch_and_convert():
    torch = pytest.importorskip("torch")

    class TorchMasked(torch.nn.Module):
        def __init__(self, size=3):
            super().__init__()
            self.fc = torch.nn.Linear(size, size)
            self.register_buffer("mask", torch.tril(torch.ones(size, size)), persistent=False)
            self.register_buffer("steps", torch.zeros((), dtype=torch.int64))

    ours = Masked()
    assert list(ours.state_dict()) == list(TorchMasked().state_dict())
    converted = nn.utils.to_torch(ours)
    assert list(converted.state_dict()) == list(ours.state_dict())
    assert [name for name, _ in converted.named_buffers()] == ["mask", "steps"]
