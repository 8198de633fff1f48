"""mg.nn.utils.to_torch and state_dict(as_torch=True): the PyTorch twin computes the same
outputs in train and eval mode, and one training step makes the same update."""

import sys

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


class Residual(nn.Module):
    """A user-defined module: children in a ModuleList and a ModuleDict, an own parameter,
    a plain attribute and a helper method, all used by forward."""

    def __init__(self, width, depth):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Sequential(nn.Linear(width, width), nn.LayerNorm(width))
                                     for _ in range(depth)])
        self.heads = nn.ModuleDict({"cls": nn.Linear(width, 3), "aux": nn.Linear(width, 2)})
        self.gain = nn.Parameter(np.array([1.5], np.float32))
        self.depth = depth

    def mix(self, x):
        return x * self.gain

    def forward(self, x):
        for block in self.blocks:
            x = self.mix(block(x).tanh()) + x
        return self.heads["cls"](x)


def cnn():
    mg.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, stride=1, padding=1, bias=False), nn.GroupNorm(2, 4), nn.GELU(),
        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 2 * 2, 8), nn.BatchNorm1d(8, momentum=None),
        nn.LeakyReLU(0.2), nn.Dropout(0.0), Residual(8, 2))


def torch_or_skip():
    return pytest.importorskip("torch")


def assert_same_state(model, torch_model, rtol=1e-12):
    theirs = torch_model.state_dict()
    ours = model.state_dict()
    assert list(ours) == list(theirs)
    for key, value in ours.items():
        assert str(value.dtype) == str(theirs[key].dtype).removeprefix("torch."), key
        np.testing.assert_allclose(value, theirs[key].numpy(), rtol=rtol, atol=1e-12,
                                   err_msg=key)


@pytest.mark.parametrize("training", [True, False])
def test_same_outputs_and_buffers_in_train_and_eval_mode(training):
    torch = torch_or_skip()
    model = cnn().to(mg.float64)
    model.train(training)
    torch_model = nn.utils.to_torch(model)
    assert_same_state(model, torch_model)
    assert [m.training for m in torch_model.modules()] == [training] * len(list(model.modules()))
    x = np.random.default_rng(1).normal(size=(5, 1, 8, 8))
    for _ in range(2):  # the second pass sees updated running statistics
        ours = model(mg.tensor(x))
        theirs = torch_model(torch.from_numpy(x))
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert_same_state(model, torch_model, rtol=1e-10)  # running stats, num_batches_tracked


def test_one_sgd_step_makes_the_same_update():
    torch = torch_or_skip()
    model = cnn().to(mg.float64)
    torch_model = nn.utils.to_torch(model)
    x = np.random.default_rng(2).normal(size=(6, 1, 8, 8))
    y = np.array([0, 1, 2, 2, 1, 0])
    optimizer = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch_optimizer = torch.optim.SGD(torch_model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        optimizer.zero_grad()
        F.cross_entropy(model(mg.tensor(x)), y, label_smoothing=0.1).backward()
        optimizer.step()
        torch_optimizer.zero_grad()
        torch.nn.functional.cross_entropy(torch_model(torch.from_numpy(x)),
                                          torch.from_numpy(y), label_smoothing=0.1).backward()
        torch_optimizer.step()
    assert_same_state(model, torch_model, rtol=1e-8)


def test_embedding_losses_and_mixed_modes():
    torch = torch_or_skip()
    mg.manual_seed(3)
    model = nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.Flatten(), nn.Linear(12, 3),
                          nn.Dropout(0.5))
    model[3].eval()  # only the dropout in eval mode
    torch_model = nn.utils.to_torch(model)
    assert torch_model.training and not torch_model[3].training and torch_model[0].padding_idx == 0
    tokens = np.array([[0, 3, 9], [4, 4, 0]])
    logits = model(mg.tensor(tokens))
    np.testing.assert_allclose(logits.data, torch_model(torch.from_numpy(tokens)).detach().numpy(),
                               rtol=1e-6)
    weight, target = np.array([1.0, 2.0, 0.5], np.float32), np.array([2, -100])
    for criterion in (nn.CrossEntropyLoss(weight=weight, label_smoothing=0.2), nn.NLLLoss(),
                      nn.MSELoss(reduction="sum")):
        torch_criterion = nn.utils.to_torch(criterion)
        if isinstance(criterion, nn.MSELoss):
            args = (logits, np.ones((2, 3), np.float32))
        else:
            args = (logits if isinstance(criterion, nn.CrossEntropyLoss)
                    else F.log_softmax(logits, dim=1), target)
        torch_args = [torch.from_numpy(np.asarray(a.data if isinstance(a, mg.Tensor) else a))
                      for a in args]
        assert criterion(*args).item() == pytest.approx(torch_criterion(*torch_args).item(),
                                                        rel=1e-6)


def test_state_dict_as_torch_loads_into_pytorch_and_back():
    torch = torch_or_skip()
    mg.manual_seed(4)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model(mg.randn(8, 3))  # running statistics and num_batches_tracked move
    state = model.state_dict(as_torch=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert state["1.num_batches_tracked"].dtype == torch.int64
    assert nn.utils.state_dict_to_torch(model.state_dict()).keys() == state.keys()
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                      torch.nn.ReLU(), torch.nn.Linear(4, 2))
    torch_model.load_state_dict(state)  # strict: every key and shape fits
    assert_same_state(model, torch_model)
    with torch.no_grad():  # and back: a PyTorch state dict loads into minigrad
        for parameter in torch_model.parameters():
            parameter.mul_(2)
    model.load_state_dict(torch_model.state_dict())
    assert_same_state(model, torch_model)


class TiedLanguageModel(nn.Module):
    """An output layer sharing the embedding's table (weight tying), and a block used twice."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(5, 3)
        self.block = nn.Linear(3, 3)
        self.body = nn.Sequential(self.block, nn.Tanh(), self.block)
        self.out = nn.Linear(3, 5, bias=False)
        self.out.weight = self.embed.weight

    def forward(self, tokens):
        return self.out(self.body(self.embed(tokens)))


def test_shared_modules_and_tied_parameters_stay_shared():
    torch = torch_or_skip()
    mg.manual_seed(5)
    model = TiedLanguageModel()
    torch_model = nn.utils.to_torch(model)
    assert torch_model.out.weight is torch_model.embed.weight
    assert torch_model.body[0] is torch_model.body[2] is torch_model.block
    assert len(list(torch_model.parameters())) == len(list(model.parameters())) == 3
    assert_same_state(model, torch_model)
    # one training step in each: the tied table gets both gradients and stays one table
    tokens = np.array([[0, 1, 4], [2, 2, 3]])
    optimizer = mg.optim.SGD(model.parameters(), lr=0.5)
    torch_optimizer = torch.optim.SGD(torch_model.parameters(), lr=0.5)
    F.cross_entropy(model(tokens).reshape(-1, 5), tokens.reshape(-1)).backward()
    torch.nn.functional.cross_entropy(torch_model(torch.from_numpy(tokens)).reshape(-1, 5),
                                      torch.from_numpy(tokens).reshape(-1)).backward()
    optimizer.step()
    torch_optimizer.step()
    assert_same_state(model, torch_model, rtol=1e-5)


def test_clear_errors():
    torch_or_skip()
    odd = type("Odd", (nn.Module,), {"__module__": "minigrad.nn.odd"})  # a layer with no twin
    with pytest.raises(TypeError, match=r"to_torch: cannot convert Odd \(at 'Sequential.1'\)"):
        nn.utils.to_torch(nn.Sequential(nn.ReLU(), odd()))

    class UsesFunctional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return F.relu(self.fc(x))

    torch_model = nn.utils.to_torch(UsesFunctional())
    import torch

    with pytest.raises(TypeError, match="to_torch: UsesFunctional.forward called a minigrad "
                                        "function on torch tensors"):
        torch_model(torch.zeros(1, 2))
    with pytest.raises(TypeError, match="to_torch: expected a minigrad nn.Module"):
        nn.utils.to_torch(torch_model)


def test_without_pytorch_the_error_names_pip_install_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ImportError, match="pip install torch"):
        nn.utils.to_torch(nn.Linear(2, 2))
    with pytest.raises(ImportError, match="pip install torch"):
        nn.Linear(2, 2).state_dict(as_torch=True)


def test_module_to_dtype():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = model[0].weight
    assert model.to(mg.float64) is model
    assert weight.dtype == np.float64 and model[0].weight is weight  # in place
    assert model[1].running_var.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64  # integer buffers keep their dtype
    model.to("float32")
    assert weight.dtype == np.float32
    assert model.to("cpu") is model
    with pytest.raises(TypeError, match="Module.to: only floating-point dtypes"):
        model.to(mg.long)


def test_frozen_parameters_stay_frozen_in_pytorch():
    # Fine-tuning with a frozen backbone, then converting: the built-in layers' PyTorch
    # parameters all required grad, so training there went on to change the frozen layers.
    pytest.importorskip("torch")
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), Residual(3, 1))
    model[0].requires_grad_(False)
    model[1].weight.requires_grad = False
    model[2].blocks.requires_grad_(False)
    model[2].gain.requires_grad = False
    converted = dict(nn.utils.to_torch(model).named_parameters())
    assert converted.keys() == dict(model.named_parameters()).keys()
    for name, parameter in model.named_parameters():
        assert converted[name].requires_grad == parameter.requires_grad, name


def test_silu_converts():
    """nn.SiLU (added with F.silu) has PyTorch's nn.SiLU as its counterpart: to_torch
    refused it as a module with no known equivalent."""
    torch = torch_or_skip()
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.SiLU(), nn.Linear(4, 2))
    torch_model = nn.utils.to_torch(model)
    assert isinstance(torch_model[1], torch.nn.SiLU)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(model(mg.tensor(x)).data,
                               torch_model(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
