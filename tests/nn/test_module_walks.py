"""Walking a model's parameters and buffers with PyTorch's options: ``recurse`` (this
module's own only) and ``remove_duplicate`` (a shared tensor at every place)."""

import pytest

from minigrad import nn


def shared_model(library):
    """A Linear and a BatchNorm1d each registered at two places, in both libraries."""
    shared, bn = library.Linear(2, 2), library.BatchNorm1d(2)
    return library.Sequential(shared, library.Sequential(shared, bn), bn)


def test_recurse_false_lists_only_the_modules_own_tensors():
    model = shared_model(nn)
    inner = model[1][1]  # the BatchNorm1d: its own weight and bias, its own three buffers
    assert [name for name, _ in inner.named_parameters(recurse=False)] == ["weight", "bias"]
    assert all(p is q for p, q in zip(inner.parameters(recurse=False), [inner.weight, inner.bias]))
    assert len(list(inner.buffers(recurse=False))) == 3
    # A container owns nothing itself: everything it holds belongs to its children.
    assert list(model.parameters(recurse=False)) == []
    assert list(model.named_buffers(recurse=False)) == []
    assert [name for name, _ in model[0].named_parameters("fc", recurse=False)] == [
        "fc.weight", "fc.bias"]


def test_remove_duplicate_false_lists_a_shared_tensor_at_every_place():
    model = shared_model(nn)
    once = [name for name, _ in model.named_parameters()]
    every = [name for name, _ in model.named_parameters(remove_duplicate=False)]
    assert once == ["0.weight", "0.bias", "1.1.weight", "1.1.bias"]
    assert every == ["0.weight", "0.bias", "1.0.weight", "1.0.bias", "1.1.weight", "1.1.bias",
                     "2.weight", "2.bias"]
    buffers = [name for name, _ in model.named_buffers(remove_duplicate=False)]
    assert buffers == [key for key in model.state_dict() if "running" in key or "tracked" in key]
    assert len(list(model.parameters())) == 4  # parameters() never repeats one


@pytest.mark.parametrize("options", [{}, {"recurse": False}, {"remove_duplicate": False},
                                     {"prefix": "model", "remove_duplicate": False}])
def test_names_match_pytorch(options):
    torch = pytest.importorskip("torch")
    ours, theirs = shared_model(nn), shared_model(torch.nn)
    for walk in ("named_parameters", "named_buffers"):
        assert ([name for name, _ in getattr(ours, walk)(**options)]
                == [name for name, _ in getattr(theirs, walk)(**options)])
