"""Module API: registration, tree walks, modes, hooks, scopes (load_state_dict: test_state_dict)."""

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class Block(nn.Module):
    """A custom module with its own parameter, a buffer and children."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(3, np.float32))
        self.register_buffer("count", mg.tensor(np.zeros((), np.int64)))
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 3))
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        return self.head(self.body(x * self.scale))


# -- the tree ----------------------------------------------------------------------------------


def test_named_parameters_modules_children_follow_pytorch_order():
    model = Block()
    assert [name for name, _ in model.named_parameters()] == [
        "scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias",
        "head.weight", "head.bias"]
    assert [name for name, _ in model.named_modules()] == [
        "", "body", "body.0", "body.1", "body.2", "head"]
    assert list(model.children()) == [model.body, model.head]
    assert [name for name, _ in model.named_buffers()] == ["count"]
    assert len(list(model.parameters())) == 7
    sequential = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    assert list(sequential.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert sequential[2] is list(sequential)[2] and len(sequential) == 3


def test_state_dict_holds_parameters_and_buffers_as_copies():
    model = Block()
    state = model.state_dict()
    assert list(state)[:2] == ["scale", "count"]  # own parameters, then own buffers, then children
    assert state["body.0.weight"].shape == (4, 3)  # Linear weight (out, in), as in PyTorch
    state["scale"][:] = 99
    assert (model.scale.data == 1).all()


def test_parameter_sharing_is_counted_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2


def test_a_module_used_twice_has_the_keys_of_every_place_in_state_dict():
    # PyTorch lists a shared module under each of its names in state_dict (named_modules
    # lists it once): a checkpoint must load into the PyTorch twin and a PyTorch one into this.
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [name for name, _ in model.named_modules()] == ["", "0", "1"]
    assert [name for name, _ in model.named_modules(remove_duplicate=False)] == [
        "", "0", "1", "2"]
    state = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)).state_dict()
    state = {key: np.full_like(value, 3.0) for key, value in state.items()}
    assert model.load_state_dict(state) == ([], [])  # strict: every key has its place
    assert (shared.weight.data == 3).all()
    # a checkpoint saved with the first place only (as minigrad did) still loads, strictly
    assert model.load_state_dict({"0.weight": state["0.weight"] * 2,
                                  "0.bias": state["0.bias"]}) == ([], [])
    assert (shared.weight.data == 6).all()


@pytest.mark.parametrize("value", [mg.tensor(np.ones(2), requires_grad=True), np.ones(2)])
def test_register_parameter_refuses_what_is_not_a_parameter(value):
    # It became a plain attribute: not trained, not saved, no error.
    model = nn.Module()
    with pytest.raises(TypeError, match=r"register_parameter: 'w' must be an nn.Parameter"):
        model.register_parameter("w", value)
    assert list(model.state_dict()) == [] and not hasattr(model, "w")
    model.register_parameter("w", nn.Parameter(np.ones(2)))
    assert list(model.state_dict()) == ["w"]


def test_a_buffer_registered_twice_is_listed_once_as_in_pytorch():
    model = Block()
    model.register_buffer("same_count", model.count)
    assert [name for name, _ in model.named_buffers()] == ["count"]
    assert list(model.state_dict())[:3] == ["scale", "count", "same_count"]  # saved under both


def test_a_module_that_contains_itself_is_not_entered_below_itself_so_the_walk_ends():
    model = nn.Sequential(nn.Linear(1, 1))
    model.add_module("again", model)
    assert list(model.state_dict()) == ["0.weight", "0.bias"]
    assert [name for name, _ in model.named_modules(remove_duplicate=False)] == ["", "0"]


def test_state_dict_of_a_shared_module_matches_pytorch():
    torch = pytest.importorskip("torch")
    shared, torch_shared = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    model = nn.Sequential(OrderedDict(a=shared, b=nn.Sequential(nn.Tanh(), shared)))
    twin = torch.nn.Sequential(OrderedDict(a=torch_shared,
                                           b=torch.nn.Sequential(torch.nn.Tanh(), torch_shared)))
    assert list(model.state_dict()) == list(twin.state_dict())
    twin.load_state_dict(model.state_dict(as_torch=True))  # strict in PyTorch too
    model.load_state_dict(twin.state_dict())


def test_del_unregisters_a_child_parameter_or_buffer():
    model = Block()
    del model.head, model.scale, model.count
    assert list(model.state_dict()) == ["body.0.weight", "body.0.bias", "body.2.weight",
                                        "body.2.bias"]
    assert len(list(model.parameters())) == 4 and "head" not in repr(model)
    assert not hasattr(model, "head")
    model.head = nn.Linear(3, 2)  # the name is free again
    assert list(model.state_dict())[-2:] == ["head.weight", "head.bias"]
    with pytest.raises(AttributeError):
        del model.not_an_attribute


def test_a_slice_of_a_sequential_keeps_the_children_names_as_in_pytorch():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    tail = model[1:]
    assert list(tail.state_dict()) == ["2.weight", "2.bias"]
    assert tail[-1] is model[2] and len(tail) == 2
    # slicing does not rename the children: the model is still drawn with its own names
    assert model[2](mg.randn(1, 3))._scope.label() == "2 (Linear)"
    assert [type(m).__name__ for m in model[::-1]] == ["Linear", "ReLU", "Linear"]


def test_a_buffer_or_child_is_not_silently_replaced_by_another_kind_of_value():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(TypeError, match=r"buffer 'running_mean'.*\.running_mean\.data"):
        bn.running_mean = np.zeros(3, np.float32)  # would have dropped it from state_dict()
    assert "running_mean" in bn.state_dict() and isinstance(bn.running_mean, mg.Tensor)
    bn.running_mean = mg.tensor(np.ones(3, np.float32))  # a Tensor stays the buffer
    assert (bn.state_dict()["running_mean"] == 1).all()
    model = Block()
    with pytest.raises(TypeError, match="child module 'head'"):
        model.head = mg.randn(3)
    assert "head.weight" in model.state_dict()
    model.head = None  # None is allowed, as in PyTorch
    assert "head.weight" not in model.state_dict()
    bn.running_var = nn.Parameter(np.ones(3, np.float32))  # a Parameter: now trained
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias", "running_var"]
    assert [name for name, _ in bn.named_buffers()] == ["running_mean", "num_batches_tracked"]


def test_train_and_eval_call_a_childs_own_train_as_pytorch_does():
    class FrozenNorm(nn.Module):  # a common pattern: keep a pretrained BatchNorm in eval
        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm1d(3)

        def train(self, mode=True):
            super().train(mode)
            self.bn.eval()
            return self

        def forward(self, x):
            return self.bn(x)

    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(FrozenNorm()))
    model.eval()
    assert model.train() is model
    assert model.training and model[1].training and model[1][0].training
    assert not model[1][0].bn.training  # obeyed: the running statistics stay put
    model[1].add_module("again", model)  # a cycle still ends
    model.eval()
    assert not any(module.training for module in model.modules())


def test_train_visits_children_in_pytorchs_order_so_a_shared_norm_ends_as_pytorchs():
    # train() visited the children last-registered first: a BatchNorm frozen by an override
    # and also registered at a later, plain place ended in eval mode (PyTorch: training).
    def build(nn_lib):
        class Freezer(nn_lib.Module):
            def __init__(self, bn):
                super().__init__()
                self.bn = bn

            def train(self, mode=True):
                super().train(mode)
                self.bn.eval()
                return self

        bn = nn_lib.BatchNorm1d(2)
        model = nn_lib.Sequential(Freezer(bn), bn, nn_lib.ReLU())
        model.eval()
        model.train()
        return bn.training

    assert build(nn) is True
    torch = pytest.importorskip("torch")
    assert build(torch.nn) is True


def test_train_eval_propagate_to_every_module():
    model = Block()
    assert model.training and model.body[1].training
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(TypeError, match="mode must be a bool"):
        model.train("no")


def test_zero_grad_clears_every_parameter():
    model = Block()
    model(mg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all((p.grad == 0).all() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_assignment_rules_match_pytorch():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign a Tensor to parameter 'weight'"):
        layer.weight = mg.zeros(2, 2)
    layer.bias = None  # a parameter set to None stays a (missing) parameter
    assert "bias" in layer._parameters and list(layer.state_dict()) == ["weight"]
    model = Block()
    model.count = mg.tensor(np.array(5))  # reassigning a buffer keeps it a buffer
    assert model.state_dict()["count"] == 5


def _assign_in_every_registry(nn_lib, parameter, tensor, linear):
    """Assign each kind of value to a parameter's, a buffer's and a child's name; what is
    registered where afterwards (or the error raised)."""
    class Holder(nn_lib.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("stat", tensor(np.zeros(3, np.float32)))
            self.weight = parameter(tensor(np.zeros(2, np.float32)))
            self.child = linear(1, 1)

    kinds = {"Parameter": lambda: parameter(tensor(np.ones(2, np.float32))),
             "Module": lambda: linear(2, 2), "Tensor": lambda: tensor(np.ones(2, np.float32)),
             "None": lambda: None, "ndarray": lambda: np.ones(2)}
    outcome = {}
    for name in ("weight", "stat", "child"):
        for kind, make in kinds.items():
            holder = Holder()
            try:
                setattr(holder, name, make())
            except TypeError:
                outcome[name, kind] = "TypeError"
                continue
            outcome[name, kind] = (list(holder._parameters), list(holder._buffers),
                                   list(holder._modules), list(holder.state_dict()))
    return outcome


def test_assigning_any_kind_of_value_to_a_registered_name_matches_pytorch():
    # A Module assigned to a buffer's name and a Parameter to a child's name raised TypeError;
    # PyTorch re-registers them (as a child, as a parameter).
    outcome = _assign_in_every_registry(nn, nn.Parameter, mg.tensor, nn.Linear)
    assert outcome["stat", "Module"] == (["weight"], [], ["child", "stat"],
                                         ["weight", "child.weight", "child.bias", "stat.weight",
                                          "stat.bias"])
    assert outcome["child", "Parameter"] == (["weight", "child"], ["stat"], [],
                                             ["weight", "child", "stat"])
    torch = pytest.importorskip("torch")
    expected = _assign_in_every_registry(torch.nn, torch.nn.Parameter, torch.from_numpy,
                                         torch.nn.Linear)
    assert outcome == expected


def test_apply_on_a_module_inside_itself_is_refused_instead_of_looping_forever():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    model[1].add_module("again", model)
    visited = []
    with pytest.raises(ValueError, match="Module.apply: a Sequential contains itself"):
        model.apply(visited.append)
    assert visited == []  # refused before fn ran on anything


def test_apply_visits_children_first_and_double_converts_in_place():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 1)))
    visited = []
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]  # post-order
    weight = model[0].weight
    model.double()
    assert model[0].weight is weight and weight.dtype == np.float64


def test_converting_the_dtype_converts_the_gradients_too_as_in_pytorch():
    model = nn.Linear(2, 1)
    model(mg.randn(3, 2)).sum().backward()
    grad = model.weight.grad.copy()
    model.double()  # between backward() and step(): the step must still happen
    assert model.weight.grad.dtype == np.float64
    np.testing.assert_array_equal(model.weight.grad, grad)
    model.float()
    assert model.bias.grad.dtype == np.float32


# -- hooks ----------------------------------------------------------------------------------


def test_forward_hooks_see_inputs_and_outputs_and_can_replace_or_be_removed():
    layer = nn.Linear(3, 2)
    seen = []
    remove = layer.register_forward_hook(lambda m, inputs, output: seen.append((m, inputs, output)))
    x = mg.randn(4, 3)
    out = layer(x)
    assert seen[0][0] is layer and seen[0][1][0] is x and seen[0][2] is out
    remove()
    layer(x)
    assert len(seen) == 1
    layer.register_forward_hook(lambda m, inputs, output: output * 0)
    assert (layer(x).data == 0).all()


def test_hook_handles_have_pytorchs_remove_method():
    layer = nn.Linear(3, 2)
    calls = []
    forward = layer.register_forward_hook(lambda *args: calls.append("forward"))
    backward = layer.register_full_backward_hook(lambda *args: calls.append("backward"))
    layer(mg.randn(4, 3, requires_grad=True)).sum().backward()
    assert calls == ["forward", "backward"]
    forward.remove()
    backward.remove()
    backward.remove()  # a second removal does nothing, as in PyTorch
    layer(mg.randn(4, 3, requires_grad=True)).sum().backward()
    assert calls == ["forward", "backward"]


def numeric_input_gradient(fn, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        grad[index] = (fn(plus) - fn(minus)) / (2 * eps)
    return grad


def test_full_backward_hook_gradients_agree_with_central_differences():
    mg.manual_seed(0)
    layer = nn.Sequential(nn.Linear(3, 4), nn.Tanh()).double()
    r = np.random.default_rng(1)
    x_data, weights = r.normal(size=(2, 3)), r.normal(size=(2, 4))
    calls = []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append((m, gi, go)))

    def loss_of(x_array):  # L = Σ weights ⊙ layer(x)
        with mg.no_grad():
            return float((layer(mg.tensor(x_array)).data * weights).sum())

    x = mg.tensor(x_data, requires_grad=True)
    (layer(x) * mg.tensor(weights)).sum().backward()
    assert len(calls) == 1
    module, grad_input, grad_output = calls[0]
    assert module is layer and len(grad_input) == 1 and len(grad_output) == 1
    np.testing.assert_allclose(grad_output[0], weights)  # dL/d output
    np.testing.assert_allclose(grad_input[0], numeric_input_gradient(loss_of, x_data), atol=1e-7)
    np.testing.assert_allclose(grad_input[0], x.grad)


def test_backward_hook_reports_only_the_gradient_through_the_module():
    layer = nn.Linear(2, 2).double()
    calls = []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append(gi[0]))
    x = mg.tensor(np.ones((1, 2)), requires_grad=True)
    (layer(x) + x).sum().backward()  # a residual connection around the layer
    through_layer = layer.weight.data.sum(axis=0, keepdims=True)  # d Σ(x Wᵀ) / dx
    np.testing.assert_allclose(calls[0], through_layer)
    np.testing.assert_allclose(x.grad, through_layer + 1)  # the skip path adds 1


def test_backward_hooks_fire_once_per_backward_and_do_not_pile_up():
    layer = nn.Linear(2, 1)
    calls = []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append(gi))
    x = mg.randn(3, 2, requires_grad=True)
    for _ in range(3):
        layer(x).sum().backward()
    assert len(calls) == 3
    assert not x._hooks  # no hook was left on the caller's tensor
    calls.clear()
    layer(mg.randn(3, 2)).sum().backward()  # input needs no gradient: grad_input is (None,)
    assert calls == [(None,)]


# -- scopes ---------------------------------------------------------------------------------------


class _Scaled(nn.Module):
    def forward(self, x):
        return (x * 2).relu()


def test_nodes_record_the_module_they_were_created_in():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 1)))
    hidden = model[0](mg.randn(4, 2))
    assert hidden._scope.label() == "0 (Linear)"
    out = model(mg.randn(4, 2))
    assert out._scope.qualified_name() == "2.0"
    labels = [s.label() for s in out._scope.path()]
    assert labels == ["Sequential", "2 (Sequential)", "0 (Linear)"]
    assert out._parents[0]._scope.qualified_name() == "1"  # its input: the ReLU's output
    # nodes made inside a module's own forward, one level down
    scaled = nn.Sequential(_Scaled())(mg.randn(2, 2, requires_grad=True))
    assert scaled._parents[0]._scope.qualified_name() == "0"
    assert mg.randn(1)._scope is None  # outside any module


def test_a_module_whose_forward_raises_leaves_the_outer_scope_and_grad_mode_in_force():
    # Module.__call__ enters the module's scope inline (no context manager): an error in
    # forward must still put the caller's engine state back, with and without hooks.
    from minigrad import autograd

    class Failing(nn.Module):
        def forward(self, x):
            assert autograd.current_state().scope.label() == "0 (Failing)"
            raise KeyError("inside forward")

    model = nn.Sequential(Failing())
    before = autograd.current_state()
    with pytest.raises(KeyError):
        model(mg.randn(2, 2))
    assert autograd.current_state() is before
    model[0].register_forward_hook(lambda module, inputs, output: None)
    with mg.no_grad(), pytest.raises(KeyError):
        model(mg.randn(2, 2))
    assert autograd.current_state() is before and autograd.is_grad_enabled()


def test_a_module_called_again_in_another_context_records_that_context():
    # Module.__call__ builds the state inside the module field by field: it must follow the
    # caller's state (parent scope, grad mode, anomaly mode) and the module's current name.
    from minigrad import autograd

    shared = nn.Linear(2, 2)
    first, second = nn.Sequential(shared), nn.Sequential(nn.ReLU(), shared)  # '0', then '1'
    x = mg.randn(3, 2)
    assert first(x)._scope.qualified_name() == "1"  # registered last under '1'
    assert second(x)._scope.path()[0].module is second
    assert first(x)._scope.path()[0].module is first  # same name, other parent: rebuilt
    with mg.no_grad():
        assert not shared(x).requires_grad
    assert shared(x).requires_grad  # grad mode back after no_grad()
    with autograd.detect_anomaly():
        assert shared(x)._where is not None
    assert shared(x)._where is None
    nn.Sequential(OrderedDict(fc=shared))  # registered again, under a new name
    assert shared(x)._scope.label() == "fc (Linear)"
    outer = autograd.current_state()
    assert shared(x)._scope.parent is None and autograd.current_state() is outer


def test_a_dropped_model_is_freed_at_once_not_by_the_cyclic_collector():
    # Module.__call__ must not leave the module referring to itself (e.g. through a cached
    # scope): its parameters would then wait for a full garbage collection.
    import gc
    import weakref

    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.ReLU())
    model(mg.randn(3, 2)).sum().backward()
    gone = weakref.ref(model[0].weight)
    enabled = gc.isenabled()
    gc.disable()
    try:
        del model
        assert gone() is None
    finally:
        if enabled:
            gc.enable()


def test_forward_gets_keyword_arguments_and_runs_in_the_module_scope():
    class Scaled(nn.Module):
        def forward(self, x, scale=1.0, *, shift=0.0):
            return x * scale + shift

    module = Scaled()
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = module(x, scale=3.0, shift=1.0)
    assert np.array_equal(out.data, [4.0, 7.0]) and out._scope.module is module
    assert np.array_equal(module(x).data, [1.0, 2.0])
    assert np.array_equal(module(x, 2.0).data, [2.0, 4.0])
