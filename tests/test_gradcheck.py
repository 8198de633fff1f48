"""`mg.gradcheck` itself: it passes correct ops and catches wrong ones."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.ops import Function


class WrongSquare(Function):
    """x ** 2 whose backward is right everywhere except at flat element 4."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad_output):
        grad = 2 * self.x * grad_output
        grad.reshape(-1)[4] *= 1.5
        return (grad,)


class WrongFlip(Function):
    """Reverses a vector; its backward forgets to reverse the gradient back. A gradcheck
    that differentiated plain sum(output) would seed backward with ones and miss this."""

    def forward(self, x):
        return x[::-1].copy()

    def backward(self, grad_output):
        return (grad_output,)


class NaNBackward(Function):
    def forward(self, x):
        return 3 * x

    def backward(self, grad_output):
        return (grad_output * np.nan,)


def leaf(array):
    return mg.tensor(np.array(array, dtype=np.float64), requires_grad=True)


def test_returns_true_for_a_correct_op_and_restores_the_inputs():
    x = leaf(np.random.default_rng(0).normal(size=(2, 3)))
    w = mg.tensor(np.random.default_rng(1).normal(size=(3, 2)))  # not checked: no grad
    before = x.data.copy()
    assert mg.gradcheck(lambda a, b: (a @ b).tanh(), [x, w]) is True
    np.testing.assert_array_equal(x.data, before)


def test_names_the_input_and_the_element_of_a_wrong_backward():
    x = leaf(np.arange(1.0, 7.0).reshape(2, 3))
    y = leaf([1.0])
    with pytest.raises(mg.GradcheckError, match=r"input 1 \(shape \(2, 3\)\) element \(1, 1\)"):
        mg.gradcheck(lambda a, b: a * 2 + WrongSquare.apply(b), [y, x])


def test_catches_a_gradient_sent_to_the_wrong_elements():
    with pytest.raises(mg.GradcheckError, match="input 0"):
        mg.gradcheck(WrongFlip.apply, [leaf([1.0, 2.0, 3.0])])


def test_catches_nan_gradients():
    # regression: NaN compared false with the tolerance and passed
    with pytest.raises(mg.GradcheckError, match="nan"):
        mg.gradcheck(NaNBackward.apply, [leaf([1.0, 2.0])])


def test_perturbs_non_contiguous_inputs():
    # regression: a reshape(-1) "view" of a Fortran-ordered array is a copy, so the
    # perturbation was lost and every numerical derivative came out as 0
    x = mg.tensor(np.asfortranarray(np.random.default_rng(0).normal(size=(2, 3))),
                  requires_grad=True)
    assert not x.data.flags.c_contiguous
    assert mg.gradcheck(lambda t: t * t, [x])


def test_rejects_float32_inputs():
    with pytest.raises(TypeError, match="float64"):
        mg.gradcheck(lambda t: t * 2, [mg.tensor([1.0], requires_grad=True)])


def test_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        mg.gradcheck(lambda t: t * 2, [mg.tensor(np.ones(2))])


def test_works_on_values_and_catches_a_wrong_value_derivative():
    x = mg.Value(1.3)
    assert mg.gradcheck(lambda v: (v * v).exp(), [x])

    def wrong_square(v):
        return mg.Value._result(v.data**2, (v,), (3 * v.data,), "bad")

    with pytest.raises(mg.GradcheckError, match=r"input 0 .*element \(0,\)"):
        mg.gradcheck(wrong_square, [x])


def test_tolerances_are_used():
    x = leaf([0.3, 0.4, 0.5, 0.6, 0.7])
    # element 4 is off by 50%: a relative tolerance of 60% lets it pass
    assert mg.gradcheck(WrongSquare.apply, [x], rtol=0.6)
    with pytest.raises(mg.GradcheckError, match=r"element \(4,\)"):
        mg.gradcheck(WrongSquare.apply, [x], rtol=0.1)


def test_a_custom_backward_with_the_wrong_number_of_gradients_is_refused():
    class TwoForOne(Function):
        def forward(self, a):
            return a * 2

        def backward(self, grad_output):
            return grad_output * 2, grad_output

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="twoforone: backward returned 2 gradient.*1 input.*Fix"):
        TwoForOne.apply(x).sum().backward()


def test_a_custom_backward_may_return_pytorchs_shapes_of_answer_but_not_a_tensor():
    # A bare array for a one-input op (PyTorch's Function allows it), a float for a 0-d input
    # or a nested list ended in a raw AttributeError inside the engine; a Tensor as well.
    class Cube(Function):
        answer = staticmethod(lambda gradient: gradient)

        def forward(self, x):
            self.x = x
            return x**3

        def backward(self, grad_output):
            return self.answer(3 * self.x**2 * grad_output)

    for answer in (lambda g: g, lambda g: [g.tolist()]):  # a list holds one per input
        Cube.answer = staticmethod(answer)
        x = mg.tensor([1.0, 2.0], requires_grad=True)
        Cube.apply(x).sum().backward()
        np.testing.assert_array_equal(x.grad, [3.0, 12.0])
        assert type(x.grad) is np.ndarray and x.grad.dtype == np.float32
    Cube.answer = staticmethod(float)
    scalar = mg.tensor(2.0, requires_grad=True)
    Cube.apply(scalar).backward()
    assert scalar.grad == 12.0
    Cube.answer = staticmethod(lambda g: (mg.tensor(g),))
    with pytest.raises(TypeError, match="cube: backward returned a Tensor.*Fix: return arrays"):
        Cube.apply(mg.tensor([1.0], requires_grad=True)).sum().backward()
