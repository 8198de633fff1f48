"""Writes into tensors: through an element picked by a 0-d tensor index, after many views
died, in-place subtraction with bools, numbers assigned to ``.data``, and through
``view`` (which never copies, so a write through it is never lost)."""

import gc

import numpy as np
import pytest

import minigrad as mg
from minigrad.tensor import _shared_data


def test_an_element_picked_by_a_0d_tensor_index_is_written_in_place_as_in_pytorch():
    # x[t.argmax()] was advanced indexing to NumPy (a 0-d integer array): a copy, so
    # x[i].fill_(7) changed nothing, silently. An int index selects a view.
    x = mg.zeros(3)
    i = mg.tensor([1.0, 5.0, 2.0]).argmax()
    x[i].fill_(7.0)
    np.testing.assert_array_equal(x.data, [0.0, 7.0, 0.0])
    rows = mg.zeros(2, 3)
    rows[mg.tensor(1)].fill_(7.0)
    np.testing.assert_array_equal(rows.data, [[0, 0, 0], [7, 7, 7]])
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (w[mg.tensor(2)] * 2).backward()  # the gradient still reaches that element
    np.testing.assert_array_equal(w.grad, [0.0, 0.0, 2.0])


def test_a_write_drops_the_views_that_died_since():
    # Every x[i] registers as sharing x's memory; after a loop over the elements the dead
    # entries stayed until the list grew to the next power of two, and every later write
    # (an optimiser's step) walked them all.
    t = mg.tensor([1.0, 2.0])
    for i in range(3000):
        t[i % 2]
    gc.collect()
    with mg.no_grad():
        t -= 0.5
    assert len(_shared_data.get(t)) < 10
    np.testing.assert_array_equal(t.data, [0.5, 1.5])


@pytest.mark.parametrize("write", [
    lambda f, m: f.__isub__(True),
    lambda f, m: f.sub_(True),
    lambda f, m: f.__isub__(m),
    lambda f, m: m.__isub__(m),
])
def test_in_place_subtraction_with_a_bool_is_refused_as_out_of_place(write):
    floats, mask = mg.tensor([1.0, 2.0]), mg.tensor([True, False])
    with pytest.raises(TypeError, match=r"sub: subtraction, the `-` operator, with a bool"):
        write(floats, mask)
    np.testing.assert_array_equal(floats.data, [1.0, 2.0])
    np.testing.assert_array_equal(mask.data, [True, False])


def test_a_number_assigned_to_a_0d_float_tensor_keeps_its_dtype():
    loss = mg.tensor(1.0)
    loss.data = 3  # an int: it made the tensor int64
    assert loss.dtype == np.float32 and loss.item() == 3.0


@pytest.mark.parametrize("operation", [lambda t: t * np.longdouble(2),
                                       lambda t: t - np.longdouble(1)])
def test_a_longdouble_is_refused_with_the_conversion(operation):
    # It is a real number: "a Tensor holds real numbers" was the wrong reason
    with pytest.raises(TypeError, match=r"^\w+: .*at most 64 bits .* Fix: convert it, "
                                        r"float\(value\)"):
        operation(mg.tensor([1.0]))


def test_in_place_refusals_give_a_fix_that_applies():
    # The hint said "t = t + x" for every operator, claimed PyTorch refuses these casts too
    # (it casts some), and told a float64 tensor to convert itself to float64.
    mask = mg.tensor(np.array([1, 2], np.uint8))
    with pytest.raises(TypeError, match=r"same-kind rule.*\(t = t & x\)\.$") as refused:
        mask &= mg.tensor(np.array([1, 2], np.int64))
    assert "(as in PyTorch)" not in str(refused.value)
    with pytest.raises(ValueError, match=r"\+=: 300 does not fit .* uint8.*astype\(np\.int64\)"):
        mask += 300
    wide = mg.tensor(np.array([1, 2], np.int64))
    with pytest.raises(ValueError, match=r"Fix: a number inside the dtype's range\.$"):
        wide += 2**70


# -- view never copies: a write through it reaches the original ----------------------------


def test_view_of_a_contiguous_tensor_shares_its_memory_and_writes():
    x = mg.zeros(2, 3)
    flat = x.view(-1)
    assert flat.shape == (6,) and np.shares_memory(flat.data, x.data)
    with mg.no_grad():
        flat[4] = 5.0
    assert x.tolist() == [[0.0, 0.0, 0.0], [0.0, 5.0, 0.0]]
    assert x.T.view(3, 1, 2).shape == (3, 1, 2)  # splitting an axis needs no copy, even here
    leaf = mg.tensor(np.arange(6.0), requires_grad=True)
    (leaf.view(2, 3) * mg.tensor([[1.0, 2.0, 3.0]])).sum().backward()
    np.testing.assert_array_equal(leaf.grad, [1.0, 2.0, 3.0, 1.0, 2.0, 3.0])


@pytest.mark.parametrize("x, make, shape", [(mg.zeros(2, 3), lambda x: x.T, (-1,)),
                                            (mg.zeros(2, 3), lambda x: x.permute(1, 0), (6,)),
                                            (mg.zeros(2, 4), lambda x: x[:, 1:], (6,))])
def test_view_that_would_need_a_copy_is_refused_naming_reshape(x, make, shape):
    # it was reshape: a silent copy, so writes through the "view" never reached x
    with pytest.raises(RuntimeError, match=r"view: a tensor of shape .* cannot be viewed as "
                                           r"shape \(.*\) without a copy\. Fix: \.reshape\("):
        make(x).view(*shape)
    assert make(x).reshape(*shape).shape == (6,)  # reshape copies
    with pytest.raises(ValueError, match=r"view: .*cannot reshape array of size 6"):
        mg.zeros(2, 3).view(4)  # a shape that does not fit is reshape's error


def test_view_refuses_as_pytorch_does():
    torch = pytest.importorskip("torch")
    for make, shape in [(lambda x: x.T, (-1,)), (lambda x: x.T, (4, 1, 2)),
                        (lambda x: x[:, ::2], (4,)), (lambda x: x[:, 1:], (6,)),
                        (lambda x: x[:, 1:], (2, 1, 3))]:
        theirs = make(torch.zeros(2, 4))
        ours = make(mg.zeros(2, 4))
        try:
            expected = tuple(theirs.view(*shape).shape)
        except RuntimeError:
            with pytest.raises(RuntimeError, match="Fix: .reshape"):
                ours.view(*shape)
        else:
            assert ours.view(*shape).shape == expected
