"""Initialisers refuse a read-only tensor (reviewer's finding F3 of round 13): on an expand
view of a parameter, ``_write`` used to give the view an array of its own, so
``ones_(w[0:1].expand(3, 4))`` left ``w`` unchanged without a word."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import init

CALLS = {
    "ones_": lambda t: init.ones_(t),
    "zeros_": lambda t: init.zeros_(t),
    "constant_": lambda t: init.constant_(t, 0.5),
    "uniform_": lambda t: init.uniform_(t),
    "normal_": lambda t: init.normal_(t),
    "trunc_normal_": lambda t: init.trunc_normal_(t),
    "eye_": lambda t: init.eye_(t),
    "xavier_uniform_": lambda t: init.xavier_uniform_(t),
    "xavier_normal_": lambda t: init.xavier_normal_(t),
    "kaiming_uniform_": lambda t: init.kaiming_uniform_(t),
    "kaiming_normal_": lambda t: init.kaiming_normal_(t),
    "orthogonal_": lambda t: init.orthogonal_(t),
    "sparse_": lambda t: init.sparse_(t, 0.5),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_an_expand_view_is_refused_naming_the_initialiser_and_the_fix(name):
    w = nn.Parameter(mg.zeros(3, 4))
    view = w[0:1].expand(3, 4)
    with pytest.raises(ValueError, match=rf"^{name}: .*view whose elements share memory"
                                         r".*expand.*clone\(\)"):
        CALLS[name](view)
    np.testing.assert_array_equal(w.data, 0)


def test_a_refusal_draws_no_random_numbers():
    mg.manual_seed(0)
    expected = init.normal_(mg.zeros(5)).data.copy()
    mg.manual_seed(0)
    with pytest.raises(ValueError):
        init.normal_(mg.zeros(1).expand(5))
    np.testing.assert_array_equal(init.normal_(mg.zeros(5)).data, expected)


def test_other_read_only_arrays_are_refused_too():
    array = np.zeros(3)
    array.flags.writeable = False
    with pytest.raises(ValueError, match=r"^ones_: .*read-only.*clone\(\)"):
        init.ones_(mg.from_numpy(array))
    np.testing.assert_array_equal(array, 0)


def test_the_fixes_the_message_suggests_work():
    w = nn.Parameter(mg.zeros(1, 4))
    init.ones_(w)  # the tensor it was expanded from
    np.testing.assert_array_equal(w.expand(3, 4).data, 1)
    copy = init.ones_(mg.zeros(1, 4).expand(3, 4).clone())
    np.testing.assert_array_equal(copy.data, 1)
    # fan computation only reads, so a view is fine there
    assert init._calculate_fan_in_and_fan_out(w.expand(3, 4)) == (4, 3)


def test_pytorch_refuses_the_random_initialisers_on_an_expand_view_too():
    # (its constant fills write through to the shared elements instead; minigrad refuses
    # those as well, by decision: one rule for every initialiser)
    torch = pytest.importorskip("torch")
    w = torch.nn.Parameter(torch.zeros(3, 4))
    with pytest.raises(RuntimeError, match="more than one element"):
        torch.nn.init.normal_(w[0:1].expand(3, 4))
