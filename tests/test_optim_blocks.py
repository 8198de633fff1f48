"""Optimisers: large parameters are updated block by block, without parameter-sized
temporaries, giving exactly the whole-array update (#12)."""

import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.optim import SGD

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
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "maximize": True}),
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
