"""Grad-mode decorators on generator functions: every step of the generator runs in the
mode, as in PyTorch (``@torch.no_grad()`` on an evaluation generator). Before, the mode was
on only while the generator object was made, and the body recorded graphs silently."""

import numpy as np
import pytest

import minigrad as mg


def test_a_no_grad_generator_records_no_graph_and_the_caller_keeps_its_mode():
    weight = mg.tensor([1.0, 2.0], requires_grad=True)

    @mg.no_grad()
    def predictions(batches):
        for batch in batches:
            yield batch * weight

    outputs = []
    for prediction in predictions([mg.ones(2), mg.zeros(2)]):
        outputs.append(prediction)
        assert mg.is_grad_enabled()  # between steps: the caller's mode
        assert (weight * 3).requires_grad
    assert [out.requires_grad for out in outputs] == [False, False]
    np.testing.assert_array_equal(outputs[0].data, [1.0, 2.0])


@pytest.mark.parametrize("switch, inside", [
    (mg.enable_grad, True), (lambda: mg.set_grad_enabled(True), True),
    (lambda: mg.set_grad_enabled(False), False), (mg.no_grad, False),
])
def test_every_grad_switch_applies_to_each_step_of_a_generator(switch, inside):
    x = mg.tensor([1.0], requires_grad=True)

    @switch()
    def steps():
        yield mg.is_grad_enabled(), (x * 2).requires_grad
        yield mg.is_grad_enabled(), (x * 2).requires_grad

    for outside in (True, False):
        with mg.set_grad_enabled(outside):
            for seen in steps():
                assert seen == (inside, inside)
                assert mg.is_grad_enabled() is outside


def test_send_throw_close_and_the_return_value_pass_through():
    closed = []

    @mg.no_grad()
    def echo():
        try:
            received = yield "ready"
            while received != "stop":
                try:
                    received = yield (received, mg.is_grad_enabled())
                except KeyError as error:
                    received = yield ("caught", str(error), mg.is_grad_enabled())
        finally:
            closed.append(mg.is_grad_enabled())
        return "finished"

    steps = echo()
    assert next(steps) == "ready"
    assert steps.send(1) == (1, False)
    assert steps.throw(KeyError("k")) == ("caught", "'k'", False)
    with pytest.raises(StopIteration) as stop:
        steps.send("stop")
    assert stop.value.value == "finished" and closed == [False]

    unfinished = echo()
    next(unfinished)
    unfinished.close()
    assert closed == [False, False] and mg.is_grad_enabled()


def test_an_error_inside_the_generator_reaches_the_caller_and_the_mode_is_restored():
    @mg.no_grad()
    def failing():
        yield 1
        raise ValueError("inside")

    steps = failing()
    next(steps)
    with pytest.raises(ValueError, match="inside"):
        next(steps)
    assert mg.is_grad_enabled()


def test_no_grad_and_enable_grad_decorate_without_parentheses_as_in_pytorch():
    x = mg.tensor([1.0], requires_grad=True)

    @mg.no_grad
    def evaluate(t):
        return (t * 2).requires_grad

    @mg.enable_grad
    def train(t):
        return (t * 2).requires_grad

    @mg.no_grad
    def steps():
        yield (x * 2).requires_grad

    assert evaluate(x) is False and list(steps()) == [False]
    with mg.no_grad():
        assert train(x) is True
    assert evaluate.__name__ == "evaluate" and mg.is_grad_enabled()
