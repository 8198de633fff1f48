"""Indexing errors name the op, the index, the shape and a fix that fits the mistake (a
float index is not "out of range"), and a ragged list index is refused by minigrad, not by
NumPy's array constructor. An int among advanced indices is placed as PyTorch places it,
in reads, gradients and writes."""

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg


@pytest.mark.parametrize("index, fix", [
    (1.5, r"ints, slices.*x\.long\(\)"),
    (mg.tensor([0.0]), r"x\.long\(\)"),
    ([0.5], r"x\.long\(\)"),
    (5, "within its axis' length"),
    ((0, 0, 0), "at most one per axis"),
    (np.array([True, False]), "bool mask the shape"),
])
def test_an_index_error_gives_the_fix_for_its_kind(index, fix):
    x = mg.ones(3, 4, requires_grad=True)
    with pytest.raises(IndexError, match=rf"getitem: index .* shape \(3, 4\).*Fix: .*{fix}"):
        x[index]


def test_a_ragged_list_index_is_refused_naming_the_list():
    x = mg.ones(3, 4)
    with pytest.raises(IndexError, match=r"rows of different lengths.*Fix: .*x\[rows, cols\]"):
        x[[[0, 1], [0]]]
    with pytest.raises(IndexError, match=r"different lengths.*Fix") as refused:
        x[[[0, 1], [0]]] = 1.0
    assert str(refused.value).count("Fix:") == 1
    np.testing.assert_array_equal(x.data, np.ones((3, 4)))


def test_iterating_still_stops_at_the_end():
    rows = list(mg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert [row.tolist() for row in rows] == [[1.0, 2.0], [3.0, 4.0]]


# -- ints among advanced indices: PyTorch's placement, not NumPy's ---------------------------
# NumPy counts an int as an advanced index, so in x[0, :, [1, 2]] the int and the list are
# "separated by a slice" and the list's axis goes first; PyTorch applies the int first (x[0])
# and only the advanced indices decide: x[0][:, [1, 2]]. Reads, gradients and writes follow it.

X = np.arange(24.0).reshape(2, 3, 4)
MASK4 = np.array([True, False, True, True])


@pytest.mark.parametrize("index, expected", [
    ((0, slice(None), [1, 2]), X[0][:, [1, 2]]),                      # (3, 2), NumPy: (2, 3)
    ((0, slice(1, 3), [1, 2]), [[5.0, 6.0], [9.0, 10.0]]),            # NumPy: the transpose
    ((0, Ellipsis, [1, 2]), X[0][:, [1, 2]]),
    ((0, slice(None), MASK4), X[0][:, [0, 2, 3]]),                    # (3, 3)
    ((0, slice(None), mg.tensor(MASK4)), X[0][:, [0, 2, 3]]),
    ((mg.tensor(0), slice(None), [1, 2]), X[0][:, [1, 2]]),           # a 0-d tensor is an int
    ((np.int64(-1), slice(None), mg.tensor([3, 0])), X[1][:, [3, 0]]),
    ((-1, None, slice(None), [1, 2]), X[1][None][:, :, [1, 2]]),      # (1, 3, 2)
    (([1], slice(None), 0), X[:, :, 0][[1], :]),                      # (1, 3)
    (([0, 1], slice(None), 2), X[:, :, 2]),                            # (2, 3), NumPy: (2, 3)
    (([0], 0, [1]), [X[0, 0, 1]]),                                    # adjacent once the int goes
    ((slice(None), [0, 1], Ellipsis, [0, 1]), [[0.0, 5.0], [12.0, 17.0]]),  # `...` spans no axis
    ((Ellipsis, [0, 1], slice(None), [0, 1]), X[[0, 1], :, [0, 1]]),  # a slice does separate
])
def test_an_int_among_advanced_indices_is_applied_first_as_in_pytorch(index, expected):
    x = mg.tensor(X, requires_grad=True)
    out = x[index]
    np.testing.assert_array_equal(out.data, expected)
    weights = np.arange(1.0, out.data.size + 1).reshape(out.shape)
    (out * mg.tensor(weights)).sum().backward()
    # each selected element gets its weight back, where a write of the weights puts them
    written = mg.zeros(*X.shape)
    written[index] = mg.tensor(weights)
    np.testing.assert_array_equal(x.grad, written.data)  # no index repeats here
    np.testing.assert_array_equal(written[index].data, weights)


def test_the_mixed_index_of_the_report_by_hand():
    x = mg.tensor(X, requires_grad=True)
    assert x[0, :, [1, 2]].shape == (3, 2)
    picked = x[0, 1:3, [1, 2]]
    np.testing.assert_array_equal(picked.data, [[5.0, 6.0], [9.0, 10.0]])
    (picked * mg.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    expected_grad = np.zeros((2, 3, 4))
    expected_grad[0, 1, 1:3] = [1.0, 2.0]
    expected_grad[0, 2, 1:3] = [3.0, 4.0]
    np.testing.assert_array_equal(x.grad, expected_grad)
    t = mg.zeros(2, 3, 4)
    t[0, 1:3, [1, 2]] = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(t.data, expected_grad)
    t[0, :, [1, 2]] += mg.ones(3, 2)  # a read, an in-place add and a write, all of shape (3, 2)
    expected_grad[0, :, 1:3] += 1.0
    np.testing.assert_array_equal(t.data, expected_grad)


def test_a_repeated_index_after_an_int_adds_its_gradients():
    x = mg.tensor(X, requires_grad=True)
    x[1, 1:, [0, 0, 3]].sum().backward()
    expected = np.zeros((2, 3, 4))
    expected[1, 1:, 0], expected[1, 1:, 3] = 2.0, 1.0
    np.testing.assert_array_equal(x.grad, expected)


SHAPE = (2, 3, 4, 5)


@st.composite
def mixed_indices(draw):
    """An index for SHAPE mixing ints (Python, NumPy, 0-d tensors, negative), slices, None,
    one `...`, integer lists (all of length 2, so they broadcast) and 1-D bool masks (two
    True, so they broadcast with the lists); `distinct` says no list repeats a value."""
    distinct = draw(st.booleans())
    ellipsis_at = draw(st.one_of(st.none(), st.integers(0, len(SHAPE))))
    ellipsis_length = draw(st.integers(0, len(SHAPE) - ellipsis_at)) if ellipsis_at is not None \
        else 0
    items, axis = [], 0
    while axis < len(SHAPE):
        if axis == ellipsis_at:
            items.append(Ellipsis)
            axis += ellipsis_length
            ellipsis_at = None
            continue
        if draw(st.integers(0, 5)) == 0:
            items.append(None)
        size = SHAPE[axis]
        kind = draw(st.sampled_from(["int", "int", "slice", "list", "list", "mask"]))
        if kind == "int":
            value = draw(st.integers(-size, size - 1))
            items.append(draw(st.sampled_from([value, np.int64(value), ("0-d", value)])))
        elif kind == "slice":
            start = draw(st.integers(0, size - 1))
            items.append(slice(start, draw(st.integers(start + 1, size))))
        elif kind == "list":
            items.append(draw(st.lists(st.integers(-size, size - 1), min_size=2, max_size=2,
                                       unique_by=(lambda i, n=size: i % n) if distinct else None)))
        else:
            chosen = draw(st.lists(st.integers(0, size - 1), min_size=2, max_size=2, unique=True))
            items.append(np.isin(np.arange(size), chosen))
        axis += 1
    if ellipsis_at is not None:
        items.append(Ellipsis)
    return tuple(items), distinct


def _as(library, index):
    """The index for minigrad (library=mg) or PyTorch: a ("0-d", i) item is a 0-d tensor."""
    def convert(item):
        if isinstance(item, tuple):
            return library.tensor(item[1])
        if isinstance(item, np.ndarray):
            return library.tensor(item)
        return item
    return tuple(convert(item) for item in index)


@given(mixed_indices())
@settings(max_examples=150)
def test_reads_gradients_and_writes_against_pytorch(drawn):
    torch = pytest.importorskip("torch")
    index, distinct = drawn
    data = np.arange(np.prod(SHAPE), dtype=np.float64).reshape(SHAPE)
    theirs = torch.tensor(data, requires_grad=True)
    try:
        torch_out = theirs[_as(torch, index)]
    except (IndexError, RuntimeError):
        ours = mg.tensor(data)
        with pytest.raises(IndexError):
            ours[_as(mg, index)]
        return
    ours = mg.tensor(data, requires_grad=True)
    out = ours[_as(mg, index)]
    np.testing.assert_array_equal(out.data, torch_out.detach().numpy(), err_msg=repr(index))
    weights = np.random.default_rng(0).normal(size=tuple(torch_out.shape))
    (torch_out * torch.tensor(weights)).sum().backward()
    (out * mg.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12, err_msg=repr(index))
    if distinct:  # with a repeated position, which write wins is not specified
        written_torch, written = torch.zeros(SHAPE, dtype=torch.float64), mg.tensor(np.zeros(SHAPE))
        written_torch[_as(torch, index)] = torch.tensor(weights)
        written[_as(mg, index)] = mg.tensor(weights)
        np.testing.assert_array_equal(written.data, written_torch.numpy(), err_msg=repr(index))


@pytest.mark.parametrize("index", [(1, True), (np.int64(1), np.True_), (1, mg.tensor(True))])
def test_an_int_for_every_axis_beside_a_bool_still_has_a_gradient_and_takes_writes(index):
    """x[1, True]: after the int, nothing but the bool is left, and the first step gave a
    NumPy scalar instead of a 0-d view: backward raised ("first operand must be array") and
    the write ("does not support item assignment"). PyTorch: gradient at x[1], x[1] = 99."""
    x = mg.tensor(np.arange(4.0), requires_grad=True)
    out = x[index]
    assert out.shape == (1,) and out.data.tolist() == [1.0]
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0, 0.0])
    y = mg.tensor(np.arange(4.0))
    y[index] = 99.0
    np.testing.assert_array_equal(y.data, [0.0, 99.0, 2.0, 3.0])
    grid = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    grid[(0, 1) + index[1:]].sum().backward()
    np.testing.assert_array_equal(grid.grad, [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
