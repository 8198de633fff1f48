"""Engine state per thread and per asyncio task: grad mode, anomaly mode, module scopes.

Each test makes the interpreter switch threads as often as it can
(`sys.setswitchinterval`), so that the threads really interleave inside every block.
"""

import asyncio
import threading

import numpy as np
import pytest
from _threads import run_in_threads, switch_threads_often

import minigrad as mg
from minigrad import autograd, nn
from minigrad.nn import functional as F


@pytest.fixture(autouse=True)
def threads_switch_often():
    with switch_threads_often():
        yield


def make_model():
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))


DATA = np.random.default_rng(1).standard_normal((200, 8, 4)).astype(np.float32)
TARGETS = np.random.default_rng(2).integers(0, 3, (200, 8))


def train(model, steps=200):
    optimizer = mg.optim.SGD(model.parameters(), lr=0.05)
    for step in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(mg.tensor(DATA[step])), mg.tensor(TARGETS[step]))
        loss.backward()
        optimizer.step()


def evaluate(model, outputs, steps=200):
    for step in range(steps):
        with mg.no_grad():
            out = model(mg.tensor(DATA[step]))
            assert not out.requires_grad
        outputs.append(out.data)


def test_training_beside_a_no_grad_evaluation_thread_matches_running_them_in_turn():
    trained_alone, evaluated_alone = make_model(), make_model()
    train(trained_alone)
    expected_outputs: list = []
    evaluate(evaluated_alone, expected_outputs)

    trained, evaluated = make_model(), make_model()
    outputs: list = []
    run_in_threads(lambda: train(trained), lambda: evaluate(evaluated, outputs))
    for (name, p), q in zip(trained.named_parameters(), trained_alone.parameters()):
        assert np.array_equal(p.data, q.data), f"{name} differs from the single-threaded run"
    assert all(np.array_equal(a, b) for a, b in zip(outputs, expected_outputs, strict=True))


def test_overlapping_no_grad_blocks_in_two_threads_leave_grad_mode_on_in_each():
    inside = threading.Barrier(2)
    seen_after = {}

    def worker(name):
        # Thread A enters first and leaves last in one order, first and first in the other:
        # with one process-wide flag, the last exit would restore the other thread's False.
        with mg.no_grad():
            inside.wait()
            assert not mg.is_grad_enabled()
            inside.wait()
        seen_after[name] = mg.is_grad_enabled()
        x = mg.tensor([1.0], requires_grad=True)
        assert (x * 2).requires_grad

    run_in_threads(lambda: worker("a"), lambda: worker("b"))
    assert seen_after == {"a": True, "b": True}
    assert mg.is_grad_enabled()


def test_no_grad_in_one_thread_does_not_switch_off_another_thread():
    entered, checked = threading.Event(), threading.Event()
    result = {}

    def evaluator():
        with mg.no_grad():
            entered.set()
            checked.wait(5)

    def trainer():
        entered.wait(5)
        x = mg.tensor([1.0], requires_grad=True)
        result["grad_enabled"] = mg.is_grad_enabled()
        result["records"] = (x * 2).requires_grad
        result["value_records"] = (mg.Value(1.0) * 2)._parents != ()
        checked.set()

    run_in_threads(evaluator, trainer)
    assert result == {"grad_enabled": True, "records": True, "value_records": True}


def test_module_scopes_never_leak_between_threads():
    entered, checked = threading.Event(), threading.Event()
    scopes = {}

    def inside_a_module():
        with autograd.module_scope("encoder", "Encoder"):
            entered.set()
            checked.wait(5)
            scopes["inside"] = (mg.tensor([1.0], requires_grad=True) * 2)._scope

    def outside():
        entered.wait(5)
        scopes["other thread"] = (mg.tensor([1.0], requires_grad=True) * 2)._scope
        scopes["other value"] = (mg.Value(1.0) + 1)._scope
        checked.set()

    run_in_threads(inside_a_module, outside)
    assert scopes["inside"].label() == "encoder (Encoder)"
    assert scopes["other thread"] is None and scopes["other value"] is None
    assert autograd.current_state().scope is None


def test_anomaly_mode_is_per_thread():
    entered, checked = threading.Event(), threading.Event()
    result = {}

    def debugging():
        with mg.detect_anomaly():
            entered.set()
            checked.wait(5)

    def other():
        entered.wait(5)
        with np.errstate(all="ignore"):
            result["log0"] = mg.log(mg.tensor([0.0], requires_grad=True)).data[0]  # no error
        checked.set()

    run_in_threads(debugging, other)
    assert result["log0"] == -np.inf


def test_grad_mode_is_per_asyncio_task():
    async def evaluating(started, release):
        with mg.no_grad():
            started.set()
            await release.wait()
            return mg.is_grad_enabled()

    async def training(started, release):
        await started.wait()
        x = mg.tensor([1.0], requires_grad=True)
        recorded = (x * 2).requires_grad and mg.is_grad_enabled()
        release.set()
        return recorded

    async def main():
        started, release = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(evaluating(started, release), training(started, release))

    in_no_grad, recorded = asyncio.run(main())
    assert in_no_grad is False and recorded is True
    assert mg.is_grad_enabled()


def test_no_grad_decorator_is_safe_when_called_from_two_threads_at_once():
    both_inside = threading.Barrier(2)

    @mg.no_grad()
    def evaluate_once():
        both_inside.wait()
        enabled = mg.is_grad_enabled()
        both_inside.wait()
        return enabled

    results = []
    run_in_threads(lambda: results.append(evaluate_once()),
                   lambda: results.append(evaluate_once()))
    assert results == [False, False]
    assert mg.is_grad_enabled()


def test_backward_passes_in_several_threads_add_up_in_shared_leaves():
    # Two read-add-store sequences interleaved and lost contributions (140 of 200 seen);
    # PyTorch locks each leaf's accumulation, so concurrent passes add up exactly.
    weight = mg.tensor(np.ones(200_000), requires_grad=True)
    fresh = mg.tensor(np.ones(3), requires_grad=True)  # first stores race as well

    def passes():
        for _ in range(25):
            (weight * 1.0).sum().backward()
            (fresh * 2.0).sum().backward()

    run_in_threads(passes, passes, passes, passes)
    np.testing.assert_array_equal(weight.grad[:3], [100.0, 100.0, 100.0])
    np.testing.assert_array_equal(fresh.grad, [200.0, 200.0, 200.0])
