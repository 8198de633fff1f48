"""PyTorch's in-place methods (``add_``, ``sub_``, ``mul_``, ``div_``, ``clamp_``, ``fill_``,
``zero_``, ``copy_``): the same values as PyTorch outside the graph, writes recorded as for
``+=``, and a clear refusal inside the graph (minigrad keeps graphs immutable)."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

UPDATES = [
    lambda t, lib: t.add_(lib.tensor(np.array([0.5, -1.0, 2.0], np.float32)), alpha=-0.1),
    lambda t, lib: t.sub_(1, alpha=2),
    lambda t, lib: t.mul_(lib.tensor(np.float32(3.0))),
    lambda t, lib: t.div_(4),
    lambda t, lib: t.clamp_(min=1.5),
    lambda t, lib: t.clamp_(max=2.5).clamp_(min=-1, max=2),
    lambda t, lib: t.fill_(2.5),
    lambda t, lib: t.zero_(),
    lambda t, lib: t.copy_(lib.tensor(np.array([7, 8, 9]))),
    lambda t, lib: t.copy_(lib.tensor(np.float64(-3.5))),
]


def _update_or_error(update, array, library):
    t = library.tensor(array)
    try:
        assert update(t, library) is t
    except (TypeError, ValueError, RuntimeError):
        return None  # refused (an int tensor cannot hold div_'s result, in both libraries)
    return np.asarray(t.tolist()), str(t.dtype).split(".")[-1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("update", UPDATES)
def test_in_place_methods_match_pytorch_and_return_the_tensor(update, dtype):
    array = np.array([1, 2, 3], dtype)
    ours, theirs = (_update_or_error(update, array, library) for library in (mg, torch))
    assert (ours is None) == (theirs is None)
    if ours is not None:
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
        assert ours[1] == theirs[1] == np.dtype(dtype).name  # in place: the dtype is kept


SINGLE_ELEMENT_UPDATES = [
    lambda t, lib: t[1].add_(10), lambda t, lib: t[-1].zero_(), lambda t, lib: t[0].fill_(9),
    lambda t, lib: t[1].copy_(lib.tensor(5.0)), lambda t, lib: t[2].clamp_(max=0),
    lambda t, lib: t[1].mul_(4), lambda t, lib: t[np.int64(1)].sub_(1),
]


@pytest.mark.parametrize("update", SINGLE_ELEMENT_UPDATES)
def test_an_in_place_method_on_one_element_writes_into_the_tensor_as_in_pytorch(update):
    results = []
    for library in (mg, torch):
        t = library.tensor([1.0, 2.0, 3.0])
        update(t, library)
        results.append(t.tolist())
    assert results[0] == results[1]


def test_one_element_of_a_matrix_is_a_view_whose_write_is_recorded():
    matrix = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    weight = mg.ones(2, 2, requires_grad=True)
    loss = (matrix * weight).sum()
    element = matrix[0, 1]
    assert element.shape == () and element.item() == 2.0 and float(matrix[1, 0]) == 3.0
    element.zero_()
    assert matrix.tolist() == [[1.0, 0.0], [3.0, 4.0]]
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()  # the graph saved matrix, changed through its element


def test_fill_converts_the_number_to_the_dtype_as_pytorch_does():
    for array, value in [(np.array([1, 2]), 2.7), (np.array([1, 2]), -2.7),
                         (np.array([True, False]), 2), (np.array([False, True]), 0.5),
                         (np.array([1, 2], np.int8), True), (np.array([1.0, 2.0]), 3)]:
        ours, theirs = mg.tensor(array).fill_(value), torch.tensor(array).fill_(value)
        assert ours.tolist() == theirs.tolist()
        assert str(ours.dtype) == str(theirs.dtype).split(".")[-1]


@pytest.mark.parametrize("array, value", [(np.array([1, 2], np.uint8), 300),
                                          (np.array([1, 2]), float("nan")),
                                          (np.array([1, 2], np.int8), -128.5),
                                          (np.array([1.0, 2.0], np.float32), 1e40)])
def test_fill_refuses_a_number_outside_the_dtype_range_as_pytorch_does(array, value):
    with pytest.raises(RuntimeError, match="overflow"):
        torch.tensor(array).fill_(value)
    t = mg.tensor(array)
    with pytest.raises(ValueError, match=rf"fill_: .*does not fit .*{array.dtype}.*Fix"):
        t.fill_(value)
    assert t.tolist() == array.tolist()


@pytest.mark.parametrize("source", [None, np.array(["1", "2"]), "12", [1.0, 2.0],
                                    np.array([1j, 2]), np.array([1, None], dtype=object)])
def test_copy_refuses_a_source_that_is_not_numbers(source):
    t = mg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"copy_: source must be a Tensor.*Fix: .*mg\.tensor"):
        t.copy_(source)
    assert t.tolist() == [1.0, 2.0]


def test_a_manual_sgd_step_with_add_updates_the_parameter_under_no_grad():
    weight = mg.tensor([1.0, 2.0], requires_grad=True)
    (weight * weight).sum().backward()
    with mg.no_grad():
        weight.add_(weight.grad, alpha=-0.25)
        weight.grad = None
    np.testing.assert_allclose(weight.data, [0.5, 1.0])


def test_a_write_by_a_method_is_refused_at_backward_like_one_by_an_operator():
    x = mg.ones(3)
    weight = mg.ones(3, requires_grad=True)
    loss = (x * weight).sum()
    x[:2].mul_(3)  # through a view: a write to x too
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()


@pytest.mark.parametrize("method", [lambda t: t.add_(1), lambda t: t.zero_(),
                                    lambda t: t.fill_(0.0), lambda t: t.clamp_(min=0)])
def test_a_leaf_that_requires_grad_is_refused_while_recording(method):
    weight = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*Fix"):
        method(weight)
    np.testing.assert_array_equal(weight.data, [1.0, 1.0])


def test_a_tensor_in_the_graph_is_refused_rather_than_silently_left_unchanged():
    hidden = mg.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"add_: .*graph.*Fix: .*h = h \+ x"):
        hidden.add_(1)
    with pytest.raises(RuntimeError, match=r"copy_: .*Fix"):
        mg.zeros(2).copy_(hidden)
    np.testing.assert_array_equal(hidden.data, [2.0, 2.0])


def test_a_value_that_does_not_fit_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"mul_: .*shape \(3,\).*Fix"):
        mg.ones(3).mul_(mg.ones(2))
    with pytest.raises(TypeError, match=r"fill_: value must be a real number.*Fix"):
        mg.ones(3).fill_([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"clamp_: .*int64.*Fix"):
        mg.tensor([1, 2]).clamp_(min=1.5)
