"""Optimisers: each update against the formula computed by hand, state, errors, training."""

import tracemalloc

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


@pytest.mark.parametrize("optimizer_class, options", [(SGD, {"lr": 0.1, "momentum": 0.9}),
                                                      (Adam, {"lr": 0.01})])
def test_state_dict_resumes_the_same_trajectory(optimizer_class, options):
    _, first, p = run(optimizer_class, steps=1, **options)
    state = first.state_dict()
    assert set(state) == {"state", "param_groups"} and state["param_groups"][0]["params"] == [0]
    clone = parameter(p.data)
    second = optimizer_class([clone], **{**options, "lr": 123.0})
    second.load_state_dict(state)
    assert second.param_groups[0]["lr"] == options["lr"]
    for q, optimizer in ((p, first), (clone, second)):
        q.grad = GRADS[1].copy()
        optimizer.step()
    np.testing.assert_array_equal(clone.data, p.data)
    # The state dict holds copies: stepping did not change what was saved.
    key = next(iter(state["state"][0]))
    assert state["state"][0][key] is not first.state[p][key]


def test_load_state_dict_refuses_another_model_and_changes_nothing():
    _, optimizer, p = run(SGD, steps=1, lr=0.1, momentum=0.9)
    other = SGD([parameter([1.0]), parameter([2.0])], lr=0.1, momentum=0.9).state_dict()
    buffer = optimizer.state[p]["momentum_buffer"].copy()
    with pytest.raises(ValueError, match="same model"):
        optimizer.load_state_dict(other)
    wrong_shape = optimizer.state_dict()
    wrong_shape["state"][0]["momentum_buffer"] = np.zeros(3)
    wrong_shape["param_groups"][0]["lr"] = 5.0
    with pytest.raises(ValueError, match="momentum_buffer"):
        optimizer.load_state_dict(wrong_shape)
    np.testing.assert_array_equal(optimizer.state[p]["momentum_buffer"], buffer)
    assert optimizer.param_groups[0]["lr"] == 0.1


def test_invalid_arguments_are_refused():
    p = parameter([1.0])
    with pytest.raises(ValueError, match="learning rate"):
        SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero damp"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam([])
    with pytest.raises(TypeError, match="Tensors"):
        SGD([np.ones(2)], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match=r"appears twice in one parameter group.*Fix"):
        SGD([p, p], lr=0.1)  # the message said "more than one parameter group"


def test_every_set_of_parameters_is_refused_stricter_than_pytorch():
    # state_dict numbers parameters in order, and a set's order changes between runs: the
    # saved momentum of one parameter would be loaded into another. PyTorch refuses only a
    # `set` inside a parameter group; minigrad every set and frozenset (teaching reason in
    # _refuse_a_set's docstring), and the message says so.
    p, q = parameter([1.0]), parameter([2.0])
    with pytest.raises(TypeError, match="SGD: .*ordered collection.*PyTorch only inside a "
                                        "parameter group.*pass a list"):
        SGD({p, q}, lr=0.1)
    with pytest.raises(TypeError, match="SGD: .*ordered collection"):
        SGD(frozenset([p]), lr=0.1)
    with pytest.raises(TypeError, match="Adam: .*ordered collection"):
        Adam([{"params": {p, q}}])
    optimizer = SGD([p], lr=0.1)
    with pytest.raises(TypeError, match="ordered collection"):
        optimizer.add_param_group({"params": frozenset([q])})
    assert len(optimizer.param_groups) == 1
    assert len(SGD({p: 1, q: 2}.keys(), lr=0.1).param_groups[0]["params"]) == 2  # ordered


def test_where_pytorch_refuses_a_set_minigrad_does_too():
    torch = pytest.importorskip("torch")
    weight = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(TypeError, match="ordered collections"):
        torch.optim.SGD([{"params": {weight}}], lr=0.1)
    with pytest.raises(TypeError, match="ordered collection"):
        SGD([{"params": {parameter([1.0])}}], lr=0.1)


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


# -- errors (#11.11) ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_a_learning_rate_that_is_not_a_number_names_the_optimiser_and_argument(name):
    with pytest.raises(TypeError, match=rf"{name}: lr must be a number, got 'a' \(str\)\. Fix"):
        getattr(mg.optim, name)([parameter([1.0])], lr="a")
    with pytest.raises(ValueError, match=rf"{name}: invalid learning rate: lr=-1.*Fix"):
        getattr(mg.optim, name)([parameter([1.0])], lr=-1)
    with pytest.raises(ValueError, match=rf"{name}: invalid learning rate: lr=nan"):
        getattr(mg.optim, name)([parameter([1.0])], lr=float("nan"))


def test_a_parameter_group_setting_is_checked_too():
    with pytest.raises(ValueError, match="SGD: invalid learning rate: lr=-0.5"):
        SGD([{"params": [parameter([1.0])], "lr": -0.5}], lr=0.1)
    with pytest.raises(ValueError, match="RMSprop: invalid momentum value"):
        mg.optim.RMSprop([parameter([1.0])], momentum=-0.1)


def test_load_state_dict_of_the_wrong_kind_says_what_it_expected():
    optimizer = Adam([parameter([1.0])])
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: expected a dict with the keys "
                                         r"'state' and 'param_groups'.*got a dict with keys \[\]"):
        optimizer.load_state_dict({})
    model = nn.Linear(2, 1)
    with pytest.raises(ValueError, match=r"keys \['bias', 'weight'\].*not the model's"):
        optimizer.load_state_dict(model.state_dict())


# -- large parameters: updated block by block, without parameter-sized temporaries (#12) ------

BLOCKED_CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01}),
    # maximize=True negated the whole gradient first in SGD (a parameter-sized temporary)
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.01, "maximize": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "maximize": True}),
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "maximize": True}),
]


def trajectory(name, options, dtype=np.float32, steps=3, shape=(5, 7)):
    """Parameter values and optimiser state after each of `steps` steps, fixed gradients."""
    rng = np.random.default_rng(1)
    p = nn.Parameter(rng.standard_normal(shape).astype(dtype))
    optimizer = getattr(mg.optim, name)([p], **options)
    history = []
    for _ in range(steps):
        p.grad = rng.standard_normal(shape).astype(dtype)
        optimizer.step()
        history.append([p.data.copy(), *(np.copy(v) for v in optimizer.state.get(p, {}).values()
                                          if isinstance(v, np.ndarray))])
    return history


@pytest.mark.parametrize("name, options", BLOCKED_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_update_in_blocks_gives_exactly_the_whole_array_update(monkeypatch, name, options,
                                                                 dtype):
    whole = trajectory(name, options, dtype)  # 35 elements: one block
    from minigrad.optim import optimizer, sgd

    monkeypatch.setattr(optimizer, "BLOCK_SIZE", 8)  # 35 elements: 5 blocks, the last of 3
    monkeypatch.setattr(sgd, "BLOCK_SIZE", 8)
    in_blocks = trajectory(name, options, dtype)
    for step_whole, step_blocks in zip(whole, in_blocks):
        assert len(step_whole) == len(step_blocks)
        for expected, got in zip(step_whole, step_blocks):
            np.testing.assert_array_equal(got, expected)  # bit for bit, not approximately


def test_blocks_are_views_that_cover_the_arrays_or_the_arrays_whole():
    from minigrad.optim.optimizer import BLOCK_SIZE, blocks

    a = np.zeros((3, BLOCK_SIZE))  # three blocks
    b = np.ones((3, BLOCK_SIZE))
    views = blocks(a, b)
    assert len(views) == 3 and all(x.size == BLOCK_SIZE for pair in views for x in pair)
    for x, y in views:
        x += y
    assert (a == 1).all()
    small = np.zeros(10)
    assert blocks(small, small)[0][0] is small
    fortran = np.asfortranarray(a)  # flat views of it would be copies: kept whole
    assert blocks(fortran, b)[0][0] is fortran
    assert blocks(a, b[:1])[0][1].shape == (1, BLOCK_SIZE)  # shapes differ: whole, as given


def step_peak(optimizer):
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        optimizer.step()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name, options", BLOCKED_CASES)
def test_a_step_on_a_large_parameter_makes_no_parameter_sized_temporary(name, options):
    from minigrad.optim.optimizer import BLOCK_SIZE

    rng = np.random.default_rng(0)
    p = nn.Parameter(rng.standard_normal((1024, 1024)).astype(np.float32))  # 4 MiB
    p.grad = rng.standard_normal(p.shape).astype(np.float32)
    optimizer = getattr(mg.optim, name)([p], **options)
    optimizer.step()  # the first step creates the state (moments, buffers): kept, not temporary
    peak = step_peak(optimizer)
    # `p -= lr * g` on the whole array needs a 4 MiB temporary (Adam's formula three at once);
    # in blocks each temporary has BLOCK_SIZE elements, and at most a few are alive at once
    # (plain SGD: one).
    blocks_alive = 1 if options == {"lr": 0.1} and name == "SGD" else 5
    assert peak <= blocks_alive * BLOCK_SIZE * p.data.itemsize + 16384 < p.data.nbytes / 4
    assert p.data.flags.owndata  # updated in place, in the parameter's own array


@pytest.mark.parametrize("name, options", BLOCKED_CASES)
def test_a_graph_built_before_a_blocked_update_refuses_to_backpropagate(name, options):
    layer = nn.Linear(300, 200)  # a 60,000-element weight: updated in blocks
    loss = layer(mg.randn(4, 300)).sum()
    loss.backward(retain_graph=True)  # kept: the refusal below is the update's, not a freed graph's
    getattr(mg.optim, name)(layer.parameters(), **options).step()
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()


def test_a_failed_first_momentum_step_leaves_no_half_filled_buffer():
    """The first momentum step used to store an uninitialised buffer before filling it: a
    step that failed part-way left garbage that the next step used as momentum."""
    p = mg.nn.Parameter(mg.tensor(np.ones((3, 4), np.float32)))
    optimizer = SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.full((3, 4), "x", dtype=object)  # right shape, not numbers: fails mid-update
    with pytest.raises((TypeError, ValueError)):
        optimizer.step()
    assert optimizer.state.get(p, {}).get("momentum_buffer") is None
    p.data = np.ones((3, 4), np.float32)
    p.grad = np.full((3, 4), 2.0, np.float32)
    optimizer.step()
    np.testing.assert_array_equal(optimizer.state[p]["momentum_buffer"], p.grad)
    np.testing.assert_allclose(p.data, 1 - 0.1 * 2.0)


@pytest.mark.parametrize("make", [lambda p: SGD([p], lr=0.1),
                                  lambda p: SGD([p], lr=0.1, momentum=0.9),
                                  lambda p: Adam([p], lr=0.1)])
def test_a_hand_set_grad_of_another_shape_is_refused_before_anything_changes(make):
    """A (4,) gradient for a (3, 4) parameter used to broadcast into every row: a silently
    wrong update. Now step() refuses before it changes any parameter."""
    first = mg.nn.Parameter(mg.tensor(np.ones((2,), np.float32)))
    p = mg.nn.Parameter(mg.tensor(np.ones((3, 4), np.float32)))
    optimizer = make(p)
    optimizer.add_param_group({"params": [first]})
    first.grad = np.ones((2,), np.float32)
    p.grad = np.ones((4,), np.float32)
    with pytest.raises(ValueError, match=r"step: a parameter of shape \(3, 4\) has a .grad of "
                                         r"shape \(4,\)\. Fix"):
        optimizer.step()
    np.testing.assert_array_equal(p.data, np.ones((3, 4)))
    np.testing.assert_array_equal(first.data, np.ones(2))


@pytest.mark.parametrize("dtype, grad_dtype", [(np.float32, np.float32), (np.float64, np.float64),
                                               (np.float32, np.float64)])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_plain_sgd_on_a_large_parameter_gives_exactly_the_whole_array_update(dtype, grad_dtype,
                                                                            layout):
    # Plain SGD updates a parameter above BLOCK_SIZE block by block, with lr*grad written into
    # one scratch array; a hand-set .grad of another dtype, or a non-contiguous parameter
    # (kept whole by `blocks`), takes the plain formula.
    from minigrad.optim.optimizer import BLOCK_SIZE

    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, BLOCK_SIZE + 5)).astype(dtype)
    if layout == "transposed":
        data = data.T
    p = nn.Parameter(data)
    p.data = data  # the array itself, whatever its layout (Parameter copies)
    p.grad = rng.standard_normal(data.shape).astype(grad_dtype)
    expected = data - np.asarray(0.1 * p.grad, dtype=grad_dtype)
    SGD([p], lr=0.1).step()
    assert p.data is data  # in place
    np.testing.assert_array_equal(p.data, expected.astype(dtype))  # bit for bit


def test_one_plain_sgd_step_marks_every_parameter_written():
    # The plain update writes through Tensor._data and stamps the write itself (one creation
    # number for the step): a graph built before it refuses to backpropagate, a graph built
    # after it does not.
    layer = nn.Linear(3, 2)
    before = layer(mg.randn(4, 3)).sum()
    before.backward(retain_graph=True)  # kept: a second pass would work but for the step
    SGD(layer.parameters(), lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified"):
        before.backward()
    after = layer(mg.randn(4, 3)).sum()
    after.backward()  # no error
    assert all(p._version > before._seq for p in layer.parameters())
    assert all(p._version < after._seq for p in layer.parameters())


@pytest.mark.parametrize("optimizer", [
    lambda p: SGD(p, lr=0.1), lambda p: SGD(p, lr=0.1, momentum=0.9),
    lambda p: mg.optim.Adam(p, lr=0.1), lambda p: mg.optim.RMSprop(p, lr=0.1)])
@pytest.mark.parametrize("size", [10, 40_000])  # one array, or block by block
def test_step_refuses_what_it_cannot_update_before_changing_anything(optimizer, size):
    # Data made integer or read-only after the optimiser was built, or a Tensor put in .grad
    # by hand, ended in a NumPy error from deep inside the update; step now names the
    # problem and the fix, and changes nothing.
    def read_only(array):
        array.flags.writeable = False
        return array

    breakages = [
        (lambda p: setattr(p, "data", np.ones(size, np.int64)), TypeError,
         rf"step: a parameter of shape \({size},\) holds int64 values.*astype"),
        (lambda p: setattr(p, "data", read_only(np.ones(size, np.float32))), ValueError,
         rf"step: a parameter of shape \({size},\) holds a read-only array.*copy"),
        (lambda p: setattr(p, "grad", mg.tensor(np.ones(size, np.float32))), TypeError,
         r"grad of type Tensor.*p.grad = t.data"),
    ]
    for breakage, error, message in breakages:
        good = nn.Parameter(np.ones(3, np.float32))
        bad = nn.Parameter(np.ones(size, np.float32))
        opt = optimizer([good, bad])
        good.grad, bad.grad = np.ones(3, np.float32), np.ones(size, np.float32)
        breakage(bad)
        with pytest.raises(error, match=message):
            opt.step()
        np.testing.assert_array_equal(good.data, 1.0)  # nothing changed


def test_batchnorm_counts_batches_when_the_counter_was_set_to_a_scalar():
    # num_batches_tracked is counted in place in its array; set by hand to a NumPy or Python
    # scalar (the data setter accepts them) it must still count, not fail half-way through
    # the call after the running statistics were updated.
    for value in (np.int64(4), 4):
        bn = nn.BatchNorm1d(3)
        bn.num_batches_tracked.data = value
        bn(mg.randn(8, 3))
        assert int(bn.num_batches_tracked.data) == 5


def test_plain_sgd_of_a_large_float16_parameter_is_the_whole_array_formula():
    from minigrad.optim.optimizer import BLOCK_SIZE
    data = np.full(BLOCK_SIZE + 3, 1.0, np.float16)
    p = nn.Parameter(data)
    p.grad = np.full(data.shape, 0.25, np.float16)
    # lr is beyond float16's range: NumPy 1.x computes lr * grad in float32 (17,500, then
    # rounded once), NumPy 2 in float16 (inf); block by block must give what NumPy gives for
    # the whole array (a float16 scratch array for lr * grad rounded it on NumPy 1.x).
    with np.errstate(over="ignore"):
        expected = p.data - 70000.0 * p.grad
        SGD([p], lr=70000.0).step()
    np.testing.assert_array_equal(p.data, expected)


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


@pytest.mark.parametrize("name, options", [
    ("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True})])
def test_the_state_follows_a_model_cast_after_some_steps(name, options):
    # model.double() after a step: the moments stayed float32 and float64 gradients were
    # rounded into them silently. The state now follows, as load_state_dict's casts do.
    model = nn.Linear(3, 2)
    optimizer = getattr(mg.optim, name)(model.parameters(), **options)
    model(mg.randn(4, 3)).sum().backward()
    optimizer.step()
    model.double()
    reference_model = nn.Linear(3, 2).double()
    reference_model.load_state_dict(model.state_dict())
    reference = getattr(mg.optim, name)(reference_model.parameters(), **options)
    reference.load_state_dict(optimizer.state_dict())  # casts the state to float64
    grads = [np.full(p.shape, 1 + 1e-12) for p in model.parameters()]  # not a float32
    for parameters in (model.parameters(), reference_model.parameters()):
        for parameter, grad in zip(parameters, grads):
            parameter.grad = grad.copy()
    optimizer.step()
    reference.step()
    for state in optimizer.state.values():
        assert all(v.dtype == np.float64 for v in state.values() if isinstance(v, np.ndarray))
    for ours, theirs in zip(model.parameters(), reference_model.parameters()):
        np.testing.assert_array_equal(ours.data, theirs.data)
