"""Optimisers: arguments, parameter sets and gradients they refuse, with the fix, before
anything changes."""

import numpy as np
import pytest
from test_optim import parameter

import minigrad as mg
from minigrad import nn
from minigrad.optim import SGD, Adam


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
