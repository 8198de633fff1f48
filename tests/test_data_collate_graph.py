"""`default_collate` keeps the graph of samples that require grad, as PyTorch's does.

PyTorch batches tensors with ``torch.stack``, an op of the graph: a batch of a model's
outputs, or of trained inputs, passes the gradient back to each sample. minigrad stacked
their arrays into a constant batch, so such a loss trained nothing, silently; so did
`TensorDataset`, which kept only the arrays of its tensors."""

from collections import namedtuple

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import DataLoader, default_collate

Pair = namedtuple("Pair", "x label")


def _leaves(n=4, width=3, dtype=np.float32):
    rng = np.random.default_rng(0)
    return [mg.tensor(rng.normal(size=width).astype(dtype), requires_grad=True)
            for _ in range(n)]


def _upstream(shape):
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1


def test_a_batch_of_samples_that_require_grad_passes_the_gradient_to_each():
    samples = _leaves()
    batch = default_collate(samples)
    assert batch.requires_grad and batch.is_leaf is False
    assert batch.shape == (4, 3) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch.data, np.stack([s.data for s in samples]))
    upstream = _upstream(batch.shape)
    (batch * mg.tensor(upstream)).sum().backward()
    for row, sample in enumerate(samples):
        np.testing.assert_array_equal(sample.grad, upstream[row])


def test_samples_made_by_a_model_keep_their_graph_through_the_batch():
    model = mg.nn.Linear(3, 2)

    class Outputs:  # a data set whose samples are computed from trained parameters
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return model(mg.tensor(np.full(3, float(i), np.float32))), i % 2

    outputs, labels = next(iter(DataLoader(Outputs(), batch_size=4)))
    assert labels.requires_grad is False
    mg.nn.functional.cross_entropy(outputs, labels).backward()
    assert model.weight.grad is not None and np.abs(model.weight.grad).sum() > 0


def test_nested_fields_keep_their_graph_and_constants_stay_constant():
    samples = _leaves()
    tuples = default_collate([(s, np.float32(i)) for i, s in enumerate(samples)])
    dicts = default_collate([{"x": s, "y": np.ones(2, np.float32)} for s in samples])
    named = default_collate([Pair(s, i) for i, s in enumerate(samples)])
    assert isinstance(named, Pair)
    for graph_field, constant_field in ((tuples[0], tuples[1]), (dicts["x"], dicts["y"]),
                                        (named.x, named.label)):
        assert graph_field.requires_grad and graph_field.is_leaf is False
        assert not constant_field.requires_grad and constant_field.is_leaf
    (tuples[0].sum() + 2 * dicts["x"].sum() + 3 * named.x.sum()).backward()
    for sample in samples:
        np.testing.assert_array_equal(sample.grad, np.full(3, 6, np.float32))


def test_a_constant_sample_may_join_samples_that_require_grad():
    trained = _leaves(n=2)
    batch = default_collate([trained[0], np.zeros(3, np.float32), mg.ones(3), trained[1]])
    assert batch.requires_grad
    np.testing.assert_array_equal(batch.data[1:3], [[0, 0, 0], [1, 1, 1]])
    batch.sum().backward()
    for sample in trained:
        np.testing.assert_array_equal(sample.grad, np.ones(3, np.float32))


def test_constant_samples_and_no_grad_give_a_constant_batch_as_before():
    arrays = [np.full(2, i, np.float64) for i in range(3)]
    for samples in (arrays, [mg.tensor(a) for a in arrays]):
        batch = default_collate(samples)
        assert not batch.requires_grad and batch.is_leaf
        assert batch.dtype == np.float64
        np.testing.assert_array_equal(batch.data, np.stack(arrays))
    with mg.no_grad():
        batch = default_collate(_leaves())
    assert not batch.requires_grad and batch.is_leaf


def test_samples_that_require_grad_of_different_shapes_get_the_collate_error():
    samples = [mg.tensor(np.zeros(1, np.float32), requires_grad=True),
               mg.tensor(np.zeros(2, np.float32), requires_grad=True)]
    with pytest.raises(ValueError, match=r"default_collate: .*one shape.*\(1,\), \(2,\)"):
        default_collate(samples)


# -- against PyTorch --------------------------------------------------------------------


def test_values_and_gradients_match_pytorch_default_collate():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    rng = np.random.default_rng(1)
    values = [rng.normal(size=(2, 3)) for _ in range(5)]
    labels = list(range(5))
    mine = [mg.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    batch_mine = default_collate([{"x": m, "pair": (m * 2, y)} for m, y in zip(mine, labels)])
    batch_theirs = torch_collate([{"x": t, "pair": (t * 2, y)}
                                  for t, y in zip(theirs, labels)])
    for a, b in ((batch_mine["x"], batch_theirs["x"]),
                 (batch_mine["pair"][0], batch_theirs["pair"][0])):
        assert a.requires_grad == b.requires_grad is True
        assert str(a.dtype) == str(b.dtype).removeprefix("torch.")
        np.testing.assert_allclose(a.data, b.detach().numpy())
    np.testing.assert_array_equal(batch_mine["pair"][1].data, batch_theirs["pair"][1].numpy())
    upstream = rng.normal(size=(5, 2, 3))
    (batch_mine["x"] * mg.tensor(upstream) + batch_mine["pair"][0] ** 2).sum().backward()
    (batch_theirs["x"] * torch.tensor(upstream) + batch_theirs["pair"][0] ** 2).sum().backward()
    for m, t in zip(mine, theirs):
        np.testing.assert_allclose(m.grad, t.grad.numpy(), rtol=1e-12)


# -- TensorDataset of a tensor that requires grad ---------------------------------------------


def test_a_tensor_dataset_of_a_tensor_that_requires_grad_keeps_its_graph():
    # TensorDataset took such a tensor's array: every batch was a constant, silently.
    x = mg.tensor(np.arange(12.0).reshape(6, 2), requires_grad=True)
    labels = np.arange(6)
    dataset = mg.data.TensorDataset(x, labels)
    row, label = dataset[4]
    assert isinstance(row, mg.Tensor) and row.requires_grad and label == 4
    np.testing.assert_array_equal(row.data, [8, 9])
    for loader in (DataLoader(dataset, batch_size=4, shuffle=True),  # the loader's own path
                   DataLoader(dataset, batch_size=4, collate_fn=default_collate)):
        x.grad = None
        total = None
        for xb, yb in loader:
            assert xb.requires_grad and not yb.requires_grad
            batch_loss = (xb.sum(dim=1) * mg.tensor(yb.data.astype(np.float64))).sum()
            total = batch_loss if total is None else total + batch_loss
        total.backward()
        np.testing.assert_array_equal(x.grad, np.repeat(labels[:, None], 2, axis=1))


def test_a_tensor_dataset_of_constants_still_gives_arrays_and_constant_batches():
    dataset = mg.data.TensorDataset(mg.tensor(np.ones((3, 2), np.float32)), np.arange(3))
    assert all(isinstance(field, np.ndarray | np.generic) for field in dataset[0])
    xb, yb = next(iter(DataLoader(dataset, batch_size=3)))
    assert not xb.requires_grad and xb.dtype == np.float32


def test_tensor_dataset_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(2).normal(size=(5, 3))
    ours = mg.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    weights = np.arange(15.0).reshape(5, 3)
    for x, ns, loader_type, dataset_type in (
            (ours, mg, DataLoader, mg.data.TensorDataset),
            (theirs, torch, torch.utils.data.DataLoader, torch.utils.data.TensorDataset)):
        batches = list(loader_type(dataset_type(x), batch_size=2))
        total = sum(((xb ** 2) * ns.tensor(weights[2 * i:2 * i + len(xb)])).sum()
                    for i, (xb,) in enumerate(batches))
        total.backward()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12)
