"""nn.Embedding and F.embedding: lookup, PyTorch's init, the padding row, gradients."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


def test_lookup_shapes_and_init():
    mg.manual_seed(0)
    table = nn.Embedding(1000, 8, padding_idx=-1)
    assert table.padding_idx == 999 and table.weight.shape == (1000, 8)
    assert table.weight.dtype == np.float32
    np.testing.assert_array_equal(table.weight.data[999], np.zeros(8))
    others = table.weight.data[:999]
    assert abs(others.mean()) < 0.02 and abs(others.std() - 1) < 0.02  # N(0, 1), as PyTorch
    tokens = np.array([[1, 2, 999], [4, 4, 0]])
    out = table(mg.tensor(tokens))
    assert out.shape == (2, 3, 8)
    np.testing.assert_array_equal(out.data[0, 1], table.weight.data[2])
    assert table(np.array(5)).shape == (8,)  # a 0-d index gives one vector


def test_gradient_accumulates_repeats_and_skips_the_padding_row():
    table = nn.Embedding(4, 2, padding_idx=0)
    table.weight.data = np.arange(8, dtype=np.float32).reshape(4, 2)
    out = table(np.array([[1, 1, 0], [3, 0, 1]]))
    (out * mg.tensor(np.arange(12, dtype=np.float32).reshape(2, 3, 2))).sum().backward()
    # row 1 is used at positions (0,0), (0,1), (1,2): its gradient is the sum of their weights
    np.testing.assert_array_equal(table.weight.grad, [[0, 0], [0 + 2 + 10, 1 + 3 + 11],
                                                      [0, 0], [6, 7]])


def test_gradcheck():
    weight = mg.tensor(np.random.default_rng(1).normal(size=(5, 3)), requires_grad=True)
    indices = np.array([[0, 4, 4], [2, 1, 0]])
    assert mg.gradcheck(lambda w: F.embedding(indices, w), [weight])
    # with a padding row, that row's gradient is withheld on purpose; the others are unchanged
    weight.grad = None
    F.embedding(indices, weight).sum().backward()
    full = weight.grad.copy()
    weight.grad = None
    F.embedding(indices, weight, padding_idx=4).sum().backward()
    np.testing.assert_array_equal(weight.grad[:4], full[:4])
    np.testing.assert_array_equal(weight.grad[4], [0, 0, 0])


def test_errors():
    table = nn.Embedding(3, 2)
    with pytest.raises(ValueError, match="embedding: index out of range: values from 0 to 3"):
        table(np.array([0, 3]))
    with pytest.raises(TypeError, match=r"embedding: indices must be integers.*\.long\(\)"):
        table(mg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="Embedding: padding_idx must be within"):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(ValueError, match="Embedding: embedding_dim must be a positive int"):
        nn.Embedding(3, 0)
    with pytest.raises(ValueError, match="Embedding: padding_idx must be within"):
        nn.Embedding(3, 2, padding_idx=1.5)


@pytest.mark.parametrize("padding_idx", [-10, 7, 1.5, True])
def test_the_functional_form_checks_padding_idx_before_anything_is_computed(padding_idx):
    # -10 on 5 rows used to wrap to -5 and silently freeze row 0; 7 failed in backward.
    weight = mg.tensor(np.ones((5, 2)), requires_grad=True)
    with pytest.raises(ValueError, match=r"embedding: padding_idx must be an int within "
                                         r"num_embeddings \(-5\.\.4\)"):
        F.embedding(np.array([0, 1]), weight, padding_idx=padding_idx)
    F.embedding(np.array([0, 1]), weight, padding_idx=-5).sum().backward()
    np.testing.assert_array_equal(weight.grad[:2], [[0, 0], [1, 1]])  # -5 is row 0


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    table = nn.Embedding(6, 3, padding_idx=2)
    twin = torch.nn.Embedding(6, 3, padding_idx=2)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(table.weight.data))
    assert repr(table) == repr(twin) and repr(nn.Embedding(6, 3)) == repr(torch.nn.Embedding(6, 3))
    tokens = np.array([[2, 5, 5, 0], [1, 2, 3, 5]])
    weights = np.random.default_rng(2).normal(size=(2, 4, 3)).astype(np.float32)
    out = table(tokens)
    (out * mg.tensor(weights)).sum().backward()
    twin_out = twin(torch.from_numpy(tokens))
    (twin_out * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_array_equal(out.data, twin_out.detach().numpy())
    np.testing.assert_allclose(table.weight.grad, twin.weight.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_indices_changed_in_place_after_forward_do_not_move_the_gradient(as_tensor):
    # The lookup kept the caller's index array for backward: refilling it (a reused batch
    # buffer) between forward and backward sent the gradient to the new rows, silently.
    emb = nn.Embedding(5, 2)
    indices = np.array([0, 1, 1])
    given = mg.tensor(indices) if as_tensor else indices
    out = emb(given)
    (given.data if as_tensor else given)[:] = [3, 4, 4]
    out.sum().backward()
    expected = np.zeros((5, 2), np.float32)
    np.add.at(expected, [0, 1, 1], 1.0)
    np.testing.assert_array_equal(emb.weight.grad, expected)


def test_reset_parameters_keeps_the_weights_dtype():
    emb = nn.Embedding(4, 3, padding_idx=1).double()
    emb.reset_parameters()
    assert emb.weight.dtype == np.float64 and not emb.weight.data[1].any()
