"""`Value.backward` skips nodes whose gradient is zero (a ReLU that is off, a hinge loss that
is met): what they would add to their parents is ±0.0, which changes no sum, unless a
local derivative is inf or nan, where 0 * inf = nan must still reach the parents."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value


def _same(x, y):
    return (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, rel=1e-12)


@pytest.mark.parametrize("make_infinite_derivative", [
    lambda x: x**0.5,  # d/dx at 0: inf
    lambda x: x.log(),  # d/dx at 0: inf
    lambda x: x / Value(0.0),  # d/dx: inf, d/d(denominator): nan
    lambda x: x * Value(float("nan")),  # d/dx: nan
])
def test_a_zero_gradient_times_an_infinite_derivative_is_nan_as_in_the_general_engine(
        make_infinite_derivative):
    results = []
    for engine in ("fast", "general"):
        x = Value(0.0)
        off = (make_infinite_derivative(x) * 0.0 - 1.0).relu()  # the ReLU is off: gradient 0
        root = off + x * 3.0
        if engine == "fast":
            root.backward()
        else:
            mg.autograd.backward(root, 1.0)
        results.append(x.grad)
    assert math.isnan(results[0]) and math.isnan(results[1])


def test_nodes_with_zero_gradient_pass_nothing_on_and_keep_zero():
    w, x = Value(2.0), Value(-3.0)
    product = w * x
    off = product.relu()  # -6: off
    on = (w * 5.0).relu()
    root = off + on
    root.backward()
    assert (off.grad, on.grad, product.grad) == (1.0, 1.0, 0.0)
    assert (x.grad, w.grad) == (0.0, 5.0)
    assert all(type(node.grad) is float for node in (w, x, product, off, on))


@pytest.mark.parametrize("seed", range(20))
def test_random_graphs_with_many_zero_gradients_match_the_general_engine(seed):
    # half the leaves negative: many ReLUs off; some nodes with inf/nan derivatives
    def graph():
        rng = np.random.default_rng(seed)
        nodes = [Value(float(v)) for v in rng.uniform(-1.5, 1.5, size=4)] + [Value(0.0)]
        for _ in range(60):
            first, second = (nodes[int(i)] for i in rng.integers(0, len(nodes), size=2))
            op = int(rng.integers(0, 5))
            nodes.append([first + second, first * second, (first - second).relu(),
                          first.relu() * second, abs(first.data) ** 0.5 * 0 + second.log()
                          if second.data == 0 else first * 0.5][op])
        return nodes

    fast, general = graph(), graph()
    fast[-1].backward()
    mg.autograd.backward(general[-1], 1.0)
    assert all(_same(a.grad, b.grad) for a, b in zip(fast, general))
    assert any(node.grad == 0 for node in fast if node._parents)  # the case under test
