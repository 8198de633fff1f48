"""Full backward hooks on modules that return several tensors (a tuple, a list or a named
tuple), against PyTorch: the hook gets one gradient per tensor output (None for one the loss
did not use) and per tensor input. PyTorch 2.13 never calls the hooks of a module that
returns a list; minigrad treats a list as a tuple, and the test compares it so.
(The other hook tests are in test_module.py.)"""

from collections import namedtuple

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

Pair = namedtuple("Pair", "first second")
WEIGHT = np.array([[0.5, -1.0], [2.0, 0.25]])


def make_model(library, kind):
    class TwoOutputs(library.Module):
        def __init__(self):
            super().__init__()
            self.fc = library.Linear(2, 2, bias=False)

        def forward(self, x):
            y = self.fc(x)
            first, second = y.tanh(), y * 3
            if kind == "tuple":
                return first, second
            return [first, second] if kind == "list" else Pair(first, second)

    return TwoOutputs()


def run(library, kind, use_second, input_requires_grad):
    """(outputs' type, grad_input, grad_output) of every call of the hook, as arrays."""
    model = make_model(library, kind)
    calls = []

    def hook(module, grad_input, grad_output):
        as_array = [None if g is None else np.asarray(g.detach().numpy() if hasattr(g, "detach")
                                                      else g, dtype=np.float64)
                    for g in (*grad_input, *grad_output)]
        calls.append((len(grad_input), as_array))

    model.register_full_backward_hook(hook)
    x_values = np.array([[1.0, -2.0], [0.5, 0.3], [-1.0, 1.5]])
    if library is nn:
        model.fc.weight.data = WEIGHT.copy()
        model.double()
        x = mg.tensor(x_values, requires_grad=input_requires_grad)
    else:
        import torch
        model.double()
        with torch.no_grad():
            model.fc.weight.copy_(torch.tensor(WEIGHT))
        x = torch.tensor(x_values, requires_grad=input_requires_grad)
    outputs = model(x)
    loss = (outputs[0] * outputs[0]).sum()
    if use_second:
        loss = loss + outputs[1].sum()
    loss.backward()
    return type(outputs).__name__, calls


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # PyTorch's own note
@pytest.mark.parametrize("kind", ["tuple", "list", "namedtuple"])
@pytest.mark.parametrize("use_second", [True, False])
@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_backward_hooks_of_a_module_with_several_outputs_match_pytorch(kind, use_second,
                                                                       input_requires_grad):
    # They were never called at all: only a single Tensor output was routed to them.
    pytest.importorskip("torch")
    ours_type, ours = run(nn, kind, use_second, input_requires_grad)
    theirs_type, theirs = run(__import__("torch").nn, "tuple" if kind == "list" else kind,
                              use_second, input_requires_grad)
    assert ours_type == {"tuple": "tuple", "list": "list", "namedtuple": "Pair"}[kind]
    assert len(ours) == len(theirs) == 1
    assert ours[0][0] == theirs[0][0]
    for mine, reference in zip(ours[0][1], theirs[0][1], strict=True):
        if reference is None:
            assert mine is None
        else:
            np.testing.assert_allclose(mine, reference, rtol=1e-12)


def test_a_first_layer_with_several_outputs_fires_once_even_with_an_output_unused():
    # No input needs a gradient (the data): the hooks used to wait for an output gradient;
    # with two outputs, one unused, there is no count to wait for. They fire once, float32.
    model = make_model(nn, "tuple")
    calls = []
    model.register_full_backward_hook(lambda module, gi, go: calls.append((gi, go)))
    first, _ = model(mg.randn(4, 2))
    (first * first).sum().backward()
    assert len(calls) == 1
    (grad_input,), (grad_first, grad_second) = calls[0]
    assert grad_input is None and grad_second is None
    assert grad_first.shape == (4, 2) and grad_first.dtype == np.float32


def leaves_of(root):
    """Every leaf the backward pass from `root` reaches (an explicit stack, no recursion)."""
    seen, stack, leaves = {id(root)}, [root], []
    while stack:
        node = stack.pop()
        if not node._parents:
            leaves.append(node)
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return leaves


def test_a_hooked_layer_on_data_adds_no_leaf_to_the_graph():
    # The usual case (a first layer, or a whole model, on data): a scalar float64 'anchor'
    # leaf was added to every call, drawn as a '() float64' leaf with a vanishing gradient.
    layer = nn.Linear(3, 1)
    calls = []
    layer.register_full_backward_hook(lambda module, gi, go: calls.append((gi, go)))
    loss = layer(mg.randn(2, 3)).sum()
    assert {id(leaf) for leaf in leaves_of(loss)} == {id(layer.weight), id(layer.bias)}
    loss.backward(retain_graph=True)
    assert len(calls) == 1
    (grad_input,), (grad_output,) = calls[0]
    assert grad_input is None
    np.testing.assert_array_equal(grad_output, np.ones((2, 1), np.float32))
    pytest.importorskip("graphviz")
    source = mg.viz.draw_graph(loss).source
    assert "() float64" not in source and "anchor" not in source


def test_one_output_needing_a_gradient_among_several_needs_no_anchor():
    # max(dim) returns (values, indices): only the values can carry a gradient.
    class Max(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return self.fc(x).max(1)

    model = Max()
    calls = []
    model.register_full_backward_hook(lambda module, gi, go: calls.append(go))
    values, indices = model(mg.randn(2, 3))
    assert {id(leaf) for leaf in leaves_of(values.sum())} == {id(model.fc.weight),
                                                             id(model.fc.bias)}
    values.sum().backward()
    assert len(calls) == 1
    grad_values, grad_indices = calls[0]
    assert grad_indices is None
    np.testing.assert_array_equal(grad_values, np.ones(2, np.float32))


def test_several_outputs_on_data_take_one_named_anchor_leaf():
    # The remaining case (register_full_backward_hook's docstring): two outputs needing a
    # gradient and no input needing one. The extra leaf is named, so a drawing says what it is.
    from minigrad.nn.hooks import ANCHOR_NAME

    model = make_model(nn, "tuple")
    model.register_full_backward_hook(lambda module, gi, go: None)
    first, second = model(mg.randn(4, 2))
    loss = first.sum() + second.sum()
    extra = [leaf for leaf in leaves_of(loss) if leaf is not model.fc.weight]
    assert len(extra) == 1 and extra[0].name == ANCHOR_NAME and extra[0].shape == ()


def hooked_calls(library, module_class, passes):
    """The hook's (grad_input, grad_output) per call as lists of arrays/None, the input
    gradients and the number of passes, for `passes(outputs)` -> the losses to backpropagate,
    one pass each."""
    module, calls = module_class(library), []

    def as_arrays(grads):  # copies: a later pass may accumulate into the same memory
        return [None if g is None else np.array(g.detach().numpy() if hasattr(g, "detach")
                                                else g, np.float64) for g in grads]

    module.register_full_backward_hook(
        lambda m, gi, go: calls.append((as_arrays(gi), as_arrays(go))))
    if library is nn:
        inputs = [mg.tensor(np.arange(3.0) + i, requires_grad=True) for i in range(2)]
    else:
        import torch
        inputs = [torch.tensor(np.arange(3.0) + i, requires_grad=True) for i in range(2)]
    losses = passes(module(*inputs))
    for i, loss in enumerate(losses):
        loss.backward(retain_graph=i < len(losses) - 1)
    return calls, as_arrays([x.grad for x in inputs]), len(losses)


def unused_second_input(library):
    class Model(library.Module):
        def forward(self, x, y):  # y needs a gradient but the output does not depend on it
            return x * 2

    return Model()


def outputs_of_one_input_each(library):
    class Model(library.Module):
        def forward(self, x, y):
            return x * 2, y * 3

    return Model()


def assert_same_calls(ours, theirs):
    assert len(ours[0]) == len(theirs[0]) == ours[2]  # once per pass
    for (our_in, our_out), (their_in, their_out) in zip(ours[0], theirs[0]):
        for mine, reference in zip([*our_in, *our_out, *ours[1]],
                                   [*their_in, *their_out, *theirs[1]], strict=True):
            assert (mine is None) == (reference is None)
            if reference is not None:
                np.testing.assert_array_equal(mine, reference)


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("make, passes", [
    (unused_second_input, lambda out: [out.sum()]),
    (outputs_of_one_input_each, lambda outs: [outs[1].sum()]),
    (outputs_of_one_input_each, lambda outs: [outs[0].sum(), (outs[1] * outs[1]).sum()]),
])
def test_an_input_the_pass_sends_no_gradient_gets_zeros_and_the_hook_fires_as_pytorch(make,
                                                                                     passes):
    # The hook waited for every input needing a gradient, so it never fired in a pass that
    # sent none to one of them; PyTorch fires, with zeros for that input (its .grad too).
    torch = pytest.importorskip("torch")
    ours = hooked_calls(nn, make, passes)
    theirs = hooked_calls(torch.nn, make, passes)
    assert_same_calls(ours, theirs)


def test_a_hooked_layer_whose_output_uses_its_input_gets_no_zero_link():
    # The zero links join an output only to inputs it does not depend on: none here.
    from minigrad.nn.hooks import HookPoint

    layer = nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda module, gi, go: None)
    x = mg.randn(4, 3, requires_grad=True)
    out = layer(x)
    assert type(out._op) is HookPoint and len(out._parents) == 1
    assert {id(leaf) for leaf in leaves_of(out)} == {id(x), id(layer.weight), id(layer.bias)}


def output_of_no_input(library):
    class Model(library.Module):
        def __init__(self):
            super().__init__()
            make = mg.tensor if library is nn else __import__("torch").tensor
            self.w = library.Parameter(make(np.ones(3)))

        def forward(self, x, y):  # uses neither input: no gradient flows back through it
            return self.w * 2

    return Model()


def test_a_hooked_module_whose_outputs_reach_no_input_fires_nothing_as_pytorch():
    # No zero links then: they made the hook fire and put zeros in the inputs' .grad, where
    # PyTorch fires nothing and leaves .grad None (zeros let weight decay move weights).
    calls, grads, _ = hooked_calls(nn, output_of_no_input, lambda out: [out.sum()])
    assert calls == [] and grads == [None, None]
    torch = pytest.importorskip("torch")
    their_calls, their_grads, _ = hooked_calls(torch.nn, output_of_no_input,
                                               lambda out: [out.sum()])
    assert their_calls == [] and their_grads == [None, None]


def test_a_hook_on_a_stop_gradient_head_does_not_change_training():
    """A head trained on detached features, AdamW (weight decay), a do-nothing hook: the
    encoder gets no gradient with the hook as without it, so its weights do not move."""
    def train(hooked):
        mg.manual_seed(0)
        encoder, head = nn.Linear(3, 4), nn.Linear(4, 2)

        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = head

            def forward(self, h):
                return self.fc(h.detach())

        model = Head()
        if hooked:
            model.register_full_backward_hook(lambda *args: None)
        optimizer = mg.optim.AdamW([*encoder.parameters(), *head.parameters()], lr=0.1)
        before = encoder.weight.data.copy()
        model(encoder(mg.randn(5, 3))).sum().backward()
        optimizer.step()
        return encoder.weight.grad, encoder.weight.data - before

    for hooked in (False, True):
        grad, moved = train(hooked)
        assert grad is None and not moved.any(), hooked


def masked_product(library):
    class Model(library.Module):
        def forward(self, x, mask):
            return x * mask

    return Model()


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_an_input_needing_no_gradient_gets_none_where_pytorch_gives_zeros():
    # A documented difference (register_full_backward_hook's docstring): PyTorch 2.13 gives
    # zeros for the mask when x needs a gradient, though d(loss)/d(mask) = x is not zero.
    def calls_of(library):
        model, calls = masked_product(library), []
        model.register_full_backward_hook(lambda m, gi, go: calls.append(gi))
        make = mg.tensor if library is nn else __import__("torch").tensor
        x, mask = make([1.0, 2.0, 3.0], requires_grad=True), make([1.0, 0.0, 1.0])
        model(x, mask).sum().backward()
        assert mask.grad is None
        return calls

    [(grad_x, grad_mask)] = calls_of(nn)
    np.testing.assert_array_equal(grad_x, [1.0, 0.0, 1.0])
    assert grad_mask is None
    torch = pytest.importorskip("torch")
    [(their_grad_x, their_grad_mask)] = calls_of(torch.nn)
    np.testing.assert_array_equal(their_grad_x.numpy(), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(their_grad_mask.numpy(), [0.0, 0.0, 0.0])
