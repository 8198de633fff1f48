"""Optimisers: each update against the formula computed by hand (and PyTorch's), shared
behaviour, training. Saving and loading are in test_optim_state.py, refused arguments in
test_optim_errors.py, block-by-block updates of large parameters in test_optim_blocks.py."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.data import make_moons
from minigrad.optim import SGD, Adam


def parameter(values):
    # A copy: a Tensor shares a NumPy array it is given, and steps update in place.
    return nn.Parameter(np.array(values, dtype=np.float64))


P0 = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -0.25]])
GRADS = [np.array([[0.1, -0.2, 0.3], [1.0, 0.0, -2.0]]),
         np.array([[-0.3, 0.4, 0.05], [0.5, -1.0, 0.2]])]


def run(optimizer_class, steps=2, **options):
    """Apply `steps` updates with the fixed gradients; return the parameter after each."""
    p = parameter(P0)
    optimizer = optimizer_class([p], **options)
    history = []
    for grad in GRADS[:steps]:
        p.grad = grad.copy()
        optimizer.step()
        history.append(p.data.copy())
    return history, optimizer, p


# -- SGD ---------------------------------------------------------------------------------------


def test_sgd_plain_step_updates_in_place():
    (p1,), optimizer, p = run(SGD, steps=1, lr=0.1)
    np.testing.assert_allclose(p1, P0 - 0.1 * GRADS[0])
    array = p.data
    optimizer.step()
    assert p.data is array  # as in PyTorch: views of the parameter see the update


def test_sgd_weight_decay_adds_l2_to_the_gradient():
    (p1,), _, _ = run(SGD, steps=1, lr=0.1, weight_decay=0.01)
    np.testing.assert_allclose(p1, P0 - 0.1 * (GRADS[0] + 0.01 * P0))


@pytest.mark.parametrize("dampening", [0.0, 0.3])
def test_sgd_momentum_two_steps(dampening):
    lr, momentum = 0.1, 0.9
    (p1, p2), optimizer, p = run(SGD, lr=lr, momentum=momentum, dampening=dampening)
    buffer = GRADS[0]  # PyTorch: the first buffer is the gradient itself, undamped
    expected1 = P0 - lr * buffer
    buffer = momentum * buffer + (1 - dampening) * GRADS[1]
    expected2 = expected1 - lr * buffer
    np.testing.assert_allclose(p1, expected1)
    np.testing.assert_allclose(p2, expected2)
    np.testing.assert_allclose(optimizer.state[p]["momentum_buffer"], buffer)


def test_sgd_nesterov_with_weight_decay_two_steps():
    lr, momentum, decay = 0.05, 0.8, 0.1
    (p1, p2), _, _ = run(SGD, lr=lr, momentum=momentum, nesterov=True, weight_decay=decay)
    g1 = GRADS[0] + decay * P0
    buffer = g1
    expected1 = P0 - lr * (g1 + momentum * buffer)
    g2 = GRADS[1] + decay * expected1
    buffer = momentum * buffer + g2
    expected2 = expected1 - lr * (g2 + momentum * buffer)
    np.testing.assert_allclose(p1, expected1)
    np.testing.assert_allclose(p2, expected2)


# -- Adam --------------------------------------------------------------------------------------


def adam_by_hand(lr, beta1, beta2, eps, weight_decay=0.0, amsgrad=False):
    p, m, v, v_max, history = P0.copy(), np.zeros_like(P0), np.zeros_like(P0), np.zeros_like(P0), []
    for t, grad in enumerate(GRADS, start=1):
        g = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(p)
    return history


@pytest.mark.parametrize("options", [
    {},
    {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "betas": (0.5, 0.6), "amsgrad": True},
])
def test_adam_steps_1_and_2_match_the_bias_corrected_formula(options):
    history, optimizer, p = run(Adam, **options)
    lr = options.get("lr", 1e-3)
    beta1, beta2 = options.get("betas", (0.9, 0.999))
    expected = adam_by_hand(lr, beta1, beta2, options.get("eps", 1e-8),
                            options.get("weight_decay", 0.0), options.get("amsgrad", False))
    np.testing.assert_allclose(history[0], expected[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(history[1], expected[1], rtol=1e-12, atol=1e-15)
    assert optimizer.state[p]["step"] == 2


def test_adam_first_step_moves_each_weight_by_about_lr():
    # After bias correction, step 1 is lr · g / (|g| + eps): a sign step of size lr.
    (p1,), _, _ = run(Adam, steps=1, lr=0.01)
    moved = P0 - p1
    nonzero = GRADS[0] != 0
    np.testing.assert_allclose(moved[nonzero], 0.01 * np.sign(GRADS[0][nonzero]), rtol=1e-6)
    assert (moved[~nonzero] == 0).all()


# -- shared behaviour ----------------------------------------------------------------------------


def test_zero_grad_and_parameters_without_gradient_are_left_alone():
    a, b = parameter([1.0, 2.0]), parameter([3.0])
    optimizer = SGD([a, b], lr=0.5, momentum=0.9)
    a.grad = np.array([1.0, 1.0])
    optimizer.step()
    np.testing.assert_allclose(a.data, [0.5, 1.5])
    np.testing.assert_allclose(b.data, [3.0])
    assert b not in optimizer.state
    optimizer.zero_grad()
    assert a.grad is None
    a.grad = np.ones(2)
    optimizer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad, [0.0, 0.0])


def test_parameter_groups_have_their_own_settings():
    a, b = parameter([1.0]), parameter([1.0])
    optimizer = SGD([{"params": [a], "lr": 0.1}, {"params": b}], lr=1.0)
    a.grad, b.grad = np.ones(1), np.ones(1)
    optimizer.step()
    np.testing.assert_allclose([a.data[0], b.data[0]], [0.9, 0.0])
    assert optimizer.param_groups[1]["lr"] == 1.0 and optimizer.param_groups[0]["momentum"] == 0


# -- training --------------------------------------------------------------------------------------


@pytest.mark.parametrize("make_optimizer", [
    lambda params: Adam(params, lr=0.02),
    lambda params: SGD(params, lr=0.1, momentum=0.9),
])
def test_a_small_mlp_learns_two_moons(make_optimizer):
    mg.manual_seed(0)
    x_data, y = make_moons(200, noise=0.1, generator=np.random.default_rng(0))
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 2))
    optimizer, loss_fn = make_optimizer(model.parameters()), nn.CrossEntropyLoss()
    x = mg.tensor(x_data)
    with mg.no_grad():
        start_accuracy = (model(x).data.argmax(axis=1) == y).mean()
    for _ in range(300):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    with mg.no_grad():
        accuracy = (model(x).data.argmax(axis=1) == y).mean()
    assert accuracy >= 0.95, (start_accuracy, accuracy, loss.item())
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_zero_grad_to_zeros_keeps_missing_gradients_none():
    """Module.zero_grad and Optimizer.zero_grad share Tensor.zero_grad's rule."""
    model = mg.nn.Linear(2, 1)
    model(mg.ones(3, 2)).sum().backward()
    model.bias.grad = None
    optimizer = mg.optim.SGD(model.parameters(), lr=0.1)
    for zero_grad in (optimizer.zero_grad, model.zero_grad):
        zero_grad(set_to_none=False)
        assert np.array_equal(model.weight.grad, np.zeros((1, 2))) and model.bias.grad is None
    model.zero_grad()
    assert model.weight.grad is None


# -- AdamW and RMSprop ------------------------------------------------------------------------


def test_adamw_decays_the_weight_outside_the_moments():
    lr, decay, beta1, beta2, eps = 0.01, 0.1, 0.9, 0.999, 1e-8
    history, optimizer, p = run(mg.optim.AdamW, lr=lr, weight_decay=decay)
    expected, m, v = P0.copy(), np.zeros_like(P0), np.zeros_like(P0)
    for t, grad in enumerate(GRADS, start=1):
        expected = expected * (1 - lr * decay)
        m = beta1 * m + (1 - beta1) * grad  # the plain gradient: no decay term in m or v
        v = beta2 * v + (1 - beta2) * grad * grad
        expected = expected - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        np.testing.assert_allclose(history[t - 1], expected, rtol=1e-12)
    assert mg.optim.AdamW([parameter([1.0])]).defaults["weight_decay"] == 1e-2  # PyTorch's
    assert optimizer.state[p]["step"] == 2


@pytest.mark.parametrize("options", [{}, {"momentum": 0.9}, {"centered": True},
                                     {"centered": True, "momentum": 0.5, "weight_decay": 0.1,
                                      "alpha": 0.9}])
def test_rmsprop_two_steps_by_hand(options):
    lr, alpha, eps = 0.01, options.get("alpha", 0.99), 1e-8
    momentum, decay = options.get("momentum", 0.0), options.get("weight_decay", 0.0)
    history, optimizer, p = run(mg.optim.RMSprop, lr=lr, **options)
    expected = P0.copy()
    square, average, buffer = np.zeros_like(P0), np.zeros_like(P0), np.zeros_like(P0)
    for step, grad in enumerate(GRADS):
        g = grad + decay * expected
        square = alpha * square + (1 - alpha) * g * g
        average = alpha * average + (1 - alpha) * g
        variance = square - average**2 if options.get("centered") else square
        scaled = g / (np.sqrt(variance) + eps)
        buffer = momentum * buffer + scaled
        expected = expected - lr * (buffer if momentum else scaled)
        np.testing.assert_allclose(history[step], expected, rtol=1e-12)
    assert optimizer.state[p]["step"] == 2


def test_centered_rmsprop_with_a_steady_gradient_never_makes_nan():
    # E[g²] − E[g]² is 0 for a constant gradient; computed as α·a + (1−α)·g, E[g] hovered
    # around g, the difference went below 0 and √ made the weights NaN (float32, g = 0.1,
    # within 3000 steps). PyTorch's lerp form approaches g from below, never past it, and
    # a negative rounding error is clipped to 0.
    p = mg.tensor(np.zeros(3, np.float32), requires_grad=True)
    optimizer = mg.optim.RMSprop([p], lr=1e-3, centered=True)
    for _ in range(3000):
        p.grad = np.full(3, 0.1, np.float32)
        optimizer.step()
    assert np.isfinite(p.data).all() and (p.data < 0).all()
    assert (optimizer.state[p]["grad_avg"] <= np.float32(0.1)).all()


@pytest.mark.parametrize("name, options", [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    # maximize=True (PyTorch's keyword) on each update path: plain SGD, SGD with a state
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1,
                 "maximize": True}),
])
def test_optimisers_match_pytorch_for_five_steps(name, options):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(P0.shape) for _ in range(5)]
    ours = parameter(P0)
    theirs = torch.tensor(P0, requires_grad=True)
    ours_opt = getattr(mg.optim, name)([ours], **options)
    theirs_opt = getattr(torch.optim, name)([theirs], **options)
    for grad in grads:
        ours.grad = grad.copy()
        theirs.grad = torch.tensor(grad)
        ours_opt.step()
        theirs_opt.step()
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_batchnorm_counts_batches_when_the_counter_was_set_to_a_scalar():
    # num_batches_tracked is counted in place in its array; set by hand to a NumPy or Python
    # scalar (the data setter accepts them) it must still count, not fail half-way through
    # the call after the running statistics were updated.
    for value in (np.int64(4), 4):
        bn = nn.BatchNorm1d(3)
        bn.num_batches_tracked.data = value
        bn(mg.randn(8, 3))
        assert int(bn.num_batches_tracked.data) == 5


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_step_with_a_closure_recomputes_the_loss_and_returns_it_as_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = parameter(P0), torch.tensor(P0, requires_grad=True)
    ours_opt = getattr(mg.optim, name)([ours], lr=0.1)
    theirs_opt = getattr(torch.optim, name)([theirs], lr=0.1)

    def closure(p, optimizer):
        def recompute():
            optimizer.zero_grad()
            loss = (p * p * p).sum()
            loss.backward()
            return loss
        return recompute

    with mg.no_grad():  # the closure still gets a graph to differentiate
        for _ in range(3):
            ours_loss = ours_opt.step(closure(ours, ours_opt))
            theirs_loss = theirs_opt.step(closure(theirs, theirs_opt))
            assert ours_loss.item() == pytest.approx(theirs_loss.item(), rel=1e-12)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10)
    assert ours_opt.step() is None  # without a closure, as in PyTorch
