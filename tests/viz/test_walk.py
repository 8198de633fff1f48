"""`walk.Flow`: the visualiser recomputes every node's gradient from the root's `.grad`."""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.viz.walk import Flow


def test_flow_recomputes_intermediate_gradients_by_hand():
    rng = np.random.default_rng(0)
    x_data = rng.normal(size=(3, 4))
    w_data = rng.normal(size=(3, 4))
    x = mg.tensor(x_data, requires_grad=True)
    w = mg.tensor(w_data, requires_grad=True)
    product = x * w
    activated = product.tanh()
    scaled = activated * 3.0
    loss = scaled.sum()
    loss.backward(retain_graph=True)

    flow = Flow(loss)
    d_scaled = np.ones((3, 4))
    d_activated = 3.0 * d_scaled
    d_product = d_activated * (1 - np.tanh(x_data * w_data) ** 2)
    np.testing.assert_allclose(flow.of(scaled), d_scaled)
    np.testing.assert_allclose(flow.of(activated), d_activated)
    np.testing.assert_allclose(flow.of(product), d_product)
    np.testing.assert_allclose(flow.of(x), d_product * w_data)
    np.testing.assert_allclose(flow.of(w), d_product * x_data)
    sent = flow.sent(product)
    np.testing.assert_allclose(sent[0], d_product * w_data)
    np.testing.assert_allclose(sent[1], d_product * x_data)


def test_flow_sums_the_gradients_of_a_node_used_twice():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    loss = (y * y + y).sum()  # d/dy = 2y + 1
    loss.backward(retain_graph=True)
    np.testing.assert_allclose(Flow(loss).of(y), 2 * np.array([2.0, 4.0]) + 1)


def test_flow_is_empty_before_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    flow = Flow(loss)
    assert flow.of(loss) is None and flow.of(x) is None


def test_flow_of_a_value_graph_matches_micrograd_grads():
    a, b = mg.Value(-4.0), mg.Value(2.0)
    c = a * b + b ** 3
    g = c.relu() + (a / b).exp()
    g.backward()
    flow = Flow(g)
    for node in (a, b, c):
        assert abs(flow.of(node) - node.grad) < 1e-12


def _folded(loss: mg.Tensor, collapse: str) -> tuple[list[str], list[str]]:
    """The qualified names of the modules folded by `collapse`: in draw_graph's picture,
    and on explore's page."""
    from minigrad import viz
    from minigrad.viz.walk import describe

    picture = describe(loss, collapse=collapse)
    drawn = sorted(box.module.qualified_name() for box in picture.boxes
                   if box.module is not None)
    page = viz.explore(loss, collapse=collapse).document["panels"][0]
    explored = sorted(box["id"] for box in page["boxes"] if box["kind"] == "module")
    return drawn, explored


def test_a_pattern_that_is_a_full_path_folds_that_module_only():
    """On Sequential(Sequential(Linear, Tanh), Sequential(Linear, Tanh), Linear),
    collapse="0" folded the first block and also the first layer of the second (1.0, short
    name "0"); "1" the second block and the Tanh of the first (0.1)."""
    from minigrad import nn

    mg.manual_seed(0)
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.Tanh()),
                          nn.Sequential(nn.Linear(3, 3), nn.Tanh()), nn.Linear(3, 1))
    loss = model(mg.randn(4, 2)).sum()
    loss.backward(retain_graph=True)
    assert _folded(loss, "0") == (["0"], ["0"])
    assert _folded(loss, "1") == (["1"], ["1"])
    assert _folded(loss, "1.0") == (["1.0"], ["1.0"])


def test_a_pattern_that_is_no_full_path_folds_every_module_of_that_name():
    from minigrad import nn

    class TwoBlocks(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
            self.second = nn.Sequential(nn.Linear(3, 3), nn.Tanh())

        def forward(self, x: mg.Tensor) -> mg.Tensor:
            return self.second(self.first(x))

    mg.manual_seed(0)
    loss = TwoBlocks()(mg.randn(4, 2)).sum()
    loss.backward(retain_graph=True)
    assert _folded(loss, "0") == (["first.0", "second.0"], ["first.0", "second.0"])
    assert _folded(loss, "second.0") == (["second.0"], ["second.0"])
