"""Module reprs as PyTorch prints them: nested, ``Linear(in_features=2, out_features=3,
bias=True)``, Conv2d's ``bias=False`` only when false; checked against the PyTorch twin."""

import pytest

from minigrad import nn

# Printed by PyTorch for arguments minigrad's layers do not have; left out on purpose, so a
# repr never shows an argument the constructor would refuse.
TORCH_ONLY = (", dilation=1, ceil_mode=False", ", inplace=False")


def every_layer():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 4, (3, 2), stride=2, bias=False),
        nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.AvgPool2d(2, 1, 1),
        nn.AdaptiveAvgPool2d(1), nn.GroupNorm(2, 4, affine=False), nn.Flatten(),
        nn.Linear(4, 8), nn.Linear(8, 8, bias=False), nn.BatchNorm1d(8, momentum=None),
        nn.LayerNorm(8), nn.LayerNorm(8, bias=False), nn.GELU("tanh"), nn.LeakyReLU(0.2),
        nn.Tanh(), nn.Sigmoid(), nn.Dropout(0.25), nn.Identity(), nn.Softmax(dim=1),
        nn.LogSoftmax(dim=-1), nn.ModuleList([nn.ReLU(), nn.ReLU()]),
        nn.ModuleDict({"head": nn.Linear(8, 2)}), nn.Embedding(5, 2, padding_idx=0),
        nn.CrossEntropyLoss(label_smoothing=0.1), nn.BCEWithLogitsLoss(), nn.MSELoss())


def test_by_hand():
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"
    assert repr(nn.Conv2d(1, 2, 3)) == "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.Conv2d(1, 2, 3, padding=1, bias=False)) == \
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)"
    assert repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU())) == (
        "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n)")
    assert repr(nn.BatchNorm1d(3)) == ("BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, "
                                       "bias=True, track_running_stats=True)")
    assert repr(nn.BatchNorm1d(3, implementation="composed")).endswith(
        "track_running_stats=True, implementation='composed')")  # minigrad's own argument
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"


def test_same_text_as_pytorch():
    pytest.importorskip("torch")
    model = every_layer()
    expected = repr(nn.utils.to_torch(model))
    for fragment in TORCH_ONLY:
        expected = expected.replace(fragment, "")
    assert repr(model) == expected
