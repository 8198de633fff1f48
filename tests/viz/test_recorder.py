"""GradientFlowRecorder: its statistics are NumPy's on the recorded tensors, box identities
hold across steps, a changed structure is reported, memory does not grow with tensor size."""

from __future__ import annotations

import shutil
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.examples import BatchNormMLP, DeepMLP
from minigrad.viz.recorder import STAT_NAMES, GradientFlowRecorder, summarise
from minigrad.viz.walk import creation_order, walk

BINS = 12


def _batch(n: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)).astype(np.float32), np.arange(n) % 3


def _forward(model: nn.Module, n: int = 16, seed: int = 0) -> mg.Tensor:
    x, y = _batch(n, seed)
    return nn.CrossEntropyLoss()(model(mg.tensor(x)), y)


def _hooked_backward(loss: mg.Tensor) -> dict[int, np.ndarray]:
    """Every node's gradient, caught by hooks while backward runs (independent of Flow)."""
    caught: dict[int, np.ndarray] = {}
    nodes, _ = walk(loss)

    def catch(key: int):
        return lambda grad: caught.__setitem__(key, grad.copy())

    for node in nodes:
        if node.requires_grad:
            node.register_hook(catch(id(node)))
    loss.backward()
    return caught


def _column(name: str) -> int:
    return STAT_NAMES.index(name)


def test_statistics_equal_numpy_on_the_recorded_tensors():
    mg.manual_seed(0)
    model = DeepMLP(depth=3, batchnorm=True)
    loss = _forward(model)
    recorder = GradientFlowRecorder(model, bins=BINS)  # before backward: it keeps this pass
    grads = _hooked_backward(loss)
    assert recorder.record(loss)
    nodes, _ = walk(loss)
    by_seq = sorted(nodes, key=lambda node: node._seq)
    stats, grad_hist, value_hist = (recorder.box_stats[0], recorder.grad_hist[0],
                                    recorder.value_hist[0])
    checked = 0
    for i, node in enumerate(by_seq):
        value = np.asarray(node.data, dtype=np.float64)
        np.testing.assert_allclose(stats[i, _column("value_mean")], value.mean(), rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_allclose(stats[i, _column("value_std")], value.std(), rtol=1e-9,
                                   atol=1e-12)
        expected, _ = np.histogram(value, BINS, range=(value.min(), value.max()))
        np.testing.assert_array_equal(value_hist[i], expected)
        if id(node) not in grads:
            assert np.isnan(stats[i, _column("grad_rms")])
            continue
        grad = grads[id(node)].astype(np.float64)
        np.testing.assert_allclose(stats[i, _column("grad_rms")], np.sqrt(np.mean(grad ** 2)),
                                   rtol=1e-6)
        np.testing.assert_allclose(stats[i, _column("grad_norm")], np.linalg.norm(grad),
                                   rtol=1e-6)
        expected, _ = np.histogram(grad, BINS, range=(grad.min(), grad.max()))
        np.testing.assert_array_equal(grad_hist[i], expected)
        if node.op_name == "sigmoid":
            np.testing.assert_allclose(stats[i, _column("saturated")],
                                       np.mean(np.abs(2 * value - 1) > 0.97))
        checked += 1
    assert checked > 20
    # grad:data per parameter: std(grad) / std(data).
    for k, i in enumerate(recorder.structure.parameters):
        node = by_seq[i]
        data = np.asarray(node.data, dtype=np.float64)
        if data.std() > 0:
            np.testing.assert_allclose(recorder.grad_data[0][k],
                                       grads[id(node)].std() / data.std(), rtol=1e-5)


def test_arrow_norm_is_the_gradient_sent_along_it():
    """fc1's output feeds only bn1's mean and centring, so the two arrows out of it carry
    gradients that add up to its own gradient."""
    mg.manual_seed(1)
    model = BatchNormMLP(2, 6, 3, blocks=1)
    loss = _forward(model)
    recorder = GradientFlowRecorder(model)  # before backward: it keeps this pass
    grads = _hooked_backward(loss)
    recorder.record(loss)
    boxes = recorder.structure.boxes
    fc1 = next(i for i, box in enumerate(boxes) if box.id == "fc1:linear#0")
    out_arrows = [k for k, (s, _) in enumerate(recorder.structure.arrows) if s == fc1]
    assert len(out_arrows) == 2
    norms = recorder.arrow_norm[0][out_arrows]
    node = sorted(walk(loss)[0], key=lambda n: n._seq)[fc1]
    total = np.linalg.norm(grads[id(node)])
    assert np.all(norms > 0)
    # The two parts sum to the whole: |a + b| <= |a| + |b|, equality only when parallel.
    assert total <= norms.sum() * (1 + 1e-6)
    # The arrow into the loss from the last layer carries the whole gradient of its output.
    last = next(i for i, box in enumerate(boxes) if box.id == "fc2:linear#0")
    arrow = next(k for k, (s, _) in enumerate(recorder.structure.arrows) if s == last)
    last_node = sorted(walk(loss)[0], key=lambda n: n._seq)[last]
    np.testing.assert_allclose(recorder.arrow_norm[0][arrow],
                               np.linalg.norm(grads[id(last_node)]), rtol=1e-6)


def test_identities_are_stable_across_steps_and_every_is_honoured():
    mg.manual_seed(0)
    model = BatchNormMLP(2, 8, 3, blocks=2)
    optimiser = mg.optim.SGD(model.parameters(), lr=0.1)
    recorder = GradientFlowRecorder(model, every=3)
    kept = []
    for step in range(7):
        loss = _forward(model, seed=step)
        optimiser.zero_grad()
        loss.backward()
        kept.append(recorder.record(loss))
        optimiser.step()
    assert kept == [True, False, False, True, False, False, True]
    assert recorder.steps == [0, 3, 6] and len(recorder) == 3
    ids = [box.id for box in recorder.structure.boxes]
    assert len(set(ids)) == len(ids)
    for expected in ("fc1.weight", "bn2.bias", "bn1:mean#0", "bn1:mean#1", "act2:tanh#0",
                     ".:cross_entropy#0"):
        assert expected in ids
    # Each kept step is measured on that step's graph: the statistics change.
    rms = recorder.series("grad_rms")
    assert rms.shape == (3, len(ids)) and not np.allclose(rms[0], rms[1], equal_nan=True)


def test_update_ratio_with_and_without_the_optimiser():
    for pass_optimiser in (True, False):
        mg.manual_seed(0)
        model = BatchNormMLP(2, 8, 3, blocks=1, implementation="fused")
        optimiser = mg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        recorder = GradientFlowRecorder(model)
        expected = []
        for step in range(3):
            loss = _forward(model, seed=step)
            optimiser.zero_grad()
            loss.backward()
            recorder.record(loss, optimizer=optimiser if pass_optimiser else None)
            before = {name: p.data.copy() for name, p in model.named_parameters()}
            optimiser.step()
            expected.append({name: np.std(p.data - before[name]) / np.std(p.data)
                             for name, p in model.named_parameters()})
        names = [recorder.structure.boxes[i].id for i in recorder.structure.parameters]
        known = 3 if pass_optimiser else 2  # without it, the last step waits for a next call
        for k in range(known):
            for p, name in enumerate(names):
                np.testing.assert_allclose(recorder.update_data[k][p], expected[k][name],
                                           rtol=1e-5)
        if not pass_optimiser:
            assert np.isnan(recorder.update_data[2]).all()


def test_a_structure_change_is_reported():
    mg.manual_seed(0)
    model = BatchNormMLP(2, 8, 3, blocks=1)
    recorder = GradientFlowRecorder(model)
    loss = _forward(model)
    loss.backward()
    recorder.record(loss)
    model.bn1.implementation = "fused"  # one node instead of BatchNorm's steps
    loss = _forward(model)
    loss.backward()
    with pytest.raises(ValueError, match="differs from the one recorded first.*new recorder"):
        recorder.record(loss)
    assert len(recorder) == 1  # nothing mixed in


def test_bad_input():
    with pytest.raises(ValueError, match="every must be a whole number >= 1, got 0"):
        GradientFlowRecorder(every=0)
    with pytest.raises(ValueError, match="bins"):
        GradientFlowRecorder(bins=0)
    for wrong in (True, 2.5, "10"):
        with pytest.raises(ValueError, match="every must be a whole number"):
            GradientFlowRecorder(every=wrong)
    # A NumPy whole number (steps // 30 of one) is a whole number.
    counted = GradientFlowRecorder(every=np.int64(3), bins=np.int32(5))
    assert (counted.every, counted.bins) == (3, 5) and type(counted.every) is int
    # Names given as a generator of pairs are read once, when the recorder is made.
    mg.manual_seed(0)
    named = BatchNormMLP(2, 4, 3, blocks=1)
    by_pairs = GradientFlowRecorder((f"p{i}", p) for i, p in enumerate(named.parameters()))
    pairs_loss = _forward(named)
    pairs_loss.backward()
    by_pairs.record(pairs_loss)
    assert "p0" in [box.id for box in by_pairs.structure.boxes]
    recorder = GradientFlowRecorder()
    mg.manual_seed(0)
    loss = _forward(BatchNormMLP(2, 4, 3, blocks=1))
    with pytest.raises(ValueError, match="no gradient yet.*loss.backward"):
        recorder.record(loss)
    with pytest.raises(TypeError, match="expected the loss"):
        recorder.record(3.0)
    with pytest.raises(ValueError, match="no records.*record\\(loss\\)"):
        recorder.series("grad_rms")
    with pytest.raises(ValueError, match="unknown statistic"):
        loss.backward()
        recorder.record(loss)
        recorder.series("gradient")


def test_summarise_skips_non_finite_values_and_missing_arrays():
    arrays = [np.array([1.0, np.nan, 3.0, np.inf]), None, np.array([2.0, 2.0]), np.zeros(0),
              np.full(3, np.nan)]
    stats, counts = summarise(arrays, 4)
    # The size of an array with a NaN or inf is not finite (not that of its finite part);
    # the other statistics and the histogram are its finite part's.
    np.testing.assert_allclose(stats[0], [np.inf, np.inf, 2.0, 1.0, 1.0, 3.0])
    assert np.isnan(stats[1]).all() and np.isnan(stats[3]).all()
    assert (stats[4, :2] == np.inf).all() and np.isnan(stats[4, 2:]).all() and not counts[4].any()
    np.testing.assert_array_equal(counts[0], np.histogram([1.0, 3.0], 4, range=(1, 3))[0])
    np.testing.assert_array_equal(counts[2], np.histogram([2.0, 2.0], 4, range=(2, 2))[0])


def _recorded_bytes(batch: int, steps: int) -> tuple[int, GradientFlowRecorder]:
    """Memory the recorder holds after recording `steps` steps of the demo model's graph
    (one forward and backward pass, recorded `steps` times: the recorder cannot tell)."""
    mg.manual_seed(0)
    model = BatchNormMLP(2, 32, 3, implementation="fused")  # the demo's model
    x, y = _batch(batch)
    loss = nn.CrossEntropyLoss()(model(mg.tensor(x)), y)
    loss.backward(retain_graph=True)  # kept: each call recomputes its gradients from it
    tracemalloc.start()
    try:
        recorder = GradientFlowRecorder(model)
        baseline = tracemalloc.get_traced_memory()[0]
        for _ in range(steps):
            recorder.record(loss)
        held = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    return held, recorder


def test_memory_grows_with_steps_times_boxes_times_bins_only():
    held_small, recorder = _recorded_bytes(batch=8, steps=1000)
    boxes = len(recorder.structure.boxes)
    arrows = len(recorder.structure.arrows)
    params = len(recorder.structure.parameters)
    per_step = (boxes * (len(STAT_NAMES) * 8 + 2 * recorder.bins * 4) + arrows * 8
                + params * 16)
    # The arrays themselves, plus Python's per-array overhead (~100 bytes each, 6 per step).
    assert held_small < 1000 * (per_step + 1200) + 200_000, (held_small, per_step)
    # The same number of steps with batches 64 times larger holds about the same memory:
    # nothing grows with tensor sizes.
    held_large, _ = _recorded_bytes(batch=512, steps=200)
    held_small_200, _ = _recorded_bytes(batch=8, steps=200)
    assert held_large < held_small_200 * 1.1 + 50_000, (held_large, held_small_200)


def _assert_same_step(recorder: GradientFlowRecorder, k: int, reference: GradientFlowRecorder
                      ) -> None:
    np.testing.assert_allclose(recorder.box_stats[k], reference.box_stats[0], rtol=1e-12,
                               equal_nan=True)
    np.testing.assert_array_equal(recorder.grad_hist[k], reference.grad_hist[0])
    np.testing.assert_array_equal(recorder.value_hist[k], reference.value_hist[0])
    np.testing.assert_allclose(recorder.arrow_norm[k], reference.arrow_norm[0], rtol=1e-12,
                               equal_nan=True)
    np.testing.assert_allclose(recorder.grad_data[k], reference.grad_data[0], rtol=1e-12,
                               equal_nan=True)


def test_gradients_handed_over_by_backward_give_the_recomputed_statistics(monkeypatch):
    """The recorder reads the gradients backward handed over
    (minigrad.observers) instead of recomputing them: same numbers, no recomputation."""
    import minigrad.viz.recorder as recorder_module

    recomputed = []

    class CountingFlow(recorder_module.Flow):
        def __init__(self, root, *tool):
            recomputed.append(root)
            super().__init__(root, *tool)

    monkeypatch.setattr(recorder_module, "Flow", CountingFlow)
    mg.manual_seed(0)
    model = BatchNormMLP(2, 8, 3, blocks=2)  # composed BatchNorm: arrows that share a source
    optimiser = mg.optim.SGD(model.parameters(), lr=0.1)
    recorder = GradientFlowRecorder(model, every=2)
    for step in range(6):
        loss = _forward(model, seed=step)
        optimiser.zero_grad()
        loss.backward()
        if step % 2 == 0:  # a fresh recorder recomputes the same step from the root
            reference = GradientFlowRecorder(model)
            reference.record(loss)
        recorder.record(loss)
        if step % 2 == 0:
            _assert_same_step(recorder, step // 2, reference)
        optimiser.step()
    mine = [root for root in recomputed if root is not None]
    # The three references only: the recorder, made before the loop, reads every kept step
    # (the first too) from what backward handed over.
    assert len(mine) == 3


def test_interleaved_recorders_fall_back_to_recomputing_and_stay_right():
    mg.manual_seed(0)
    models = [BatchNormMLP(2, 6, 3, blocks=1), BatchNormMLP(2, 6, 3, blocks=1)]
    recorders = [GradientFlowRecorder(model) for model in models]
    for step in range(3):
        for model, recorder in zip(models, recorders):  # one step of each, in turn
            loss = _forward(model, seed=step)
            loss.backward()
            reference = GradientFlowRecorder(model)
            reference.record(loss)
            recorder.record(loss)
            _assert_same_step(recorder, step, reference)


def test_an_arrow_out_of_a_hooked_node_carries_what_was_sent_before_the_hook():
    mg.manual_seed(1)
    model = BatchNormMLP(2, 6, 3, blocks=1, implementation="fused")
    recorder = GradientFlowRecorder(model)
    for step in range(2):  # the second call reads the handed-over gradients
        loss = _forward(model, seed=step)
        fc1 = next(node for node in walk(loss)[0] if node.op_name == "linear"
                   and node._scope.name == "fc1")
        fc1.register_hook(lambda grad: grad * 3.0)
        loss.backward()
        recorder.record(loss)
    boxes = recorder.structure.boxes
    source = next(i for i, box in enumerate(boxes) if box.id == "fc1:linear#0")
    (arrow,) = [k for k, (s, _) in enumerate(recorder.structure.arrows) if s == source]
    # The box shows backward's gradient (after the hook: x3); the arrow what bn1 sent.
    np.testing.assert_allclose(recorder.arrow_norm[1][arrow] * 3.0,
                               recorder.box_stats[1][source, 1], rtol=1e-6)


def _refused_as_freed(recorder: GradientFlowRecorder, loss: mg.Tensor, call: int, kept: int,
                      why: str) -> None:
    """record(loss), a kept call (number `call`) on a graph backward() freed, raises an
    error naming the call, `why` (a pattern: the reason and the first fix) and the other
    fix, retain_graph=True; the call is counted and nothing more is kept (`kept` steps)."""
    with pytest.raises(RuntimeError, match=r"GradientFlowRecorder.record: this graph was "
                       rf"freed by backward\(\).*call {call} of record.*{why}.*"
                       r"retain_graph=True"):
        recorder.record(loss)
    assert len(recorder) == kept and recorder.calls == call + 1


def test_a_recorder_left_waiting_keeps_no_graph_alive():
    """A recorder asks for the next backward pass; if that pass is another model's (it
    stopped recording), it may hold that pass's gradients, never its graph. (A pass handed
    over keeps its graph through backward, which would free it otherwise; once the user
    drops that loss, every node of it goes.)"""
    import gc
    import weakref

    mg.manual_seed(0)
    first, second = BatchNormMLP(2, 6, 3, blocks=1), BatchNormMLP(2, 6, 3, blocks=1)
    recorder = GradientFlowRecorder(first)
    loss = _forward(first)
    loss.backward()
    recorder.record(loss)  # asks for the next pass
    other = _forward(second, seed=1)
    other.backward()  # ...which is the other model's: handed over, so its graph is kept
    computed = [weakref.ref(node) for node in walk(other)[0] if node._parents]
    assert len(computed) > 5
    del other
    gc.collect()
    assert all(ref() is None for ref in computed)
    # Back to the first model: this pass was watched by no one, so backward() freed it,
    # and the kept call says why and names the fix, instead of recording nothing silently.
    loss = _forward(first, seed=2)
    loss.backward()
    _refused_as_freed(recorder, loss, call=1, kept=1, why=r"was another graph's.*Fix: ")
    # It asked for the next pass all the same (its next call is kept): the loop goes on.
    loss = _forward(first, seed=3)
    loss.backward()
    assert recorder.record(loss) and recorder.steps == [0, 2]
    reference = GradientFlowRecorder(first)  # made after: recomputes, from the kept graph
    reference.record(loss)
    _assert_same_step(recorder, 1, reference)


def test_a_recorder_made_after_backward_names_the_fix_and_watches_the_next_pass():
    """backward() frees the graph unless someone watches the pass: a recorder made after
    it cannot read that step (an error names both fixes), and reads the next one."""
    from minigrad.versions import FREED_GRAPH

    mg.manual_seed(0)
    model = BatchNormMLP(2, 6, 3, blocks=1)
    # The first fix: backward(retain_graph=True) keeps the graph for a recorder made later.
    loss = _forward(model)
    loss.backward(retain_graph=True)
    late = GradientFlowRecorder(model, every=2)
    assert late.record(loss)  # recomputed from the kept graph (and its request withdrawn)
    assert np.nanmax(late.box_stats[0][:, STAT_NAMES.index("grad_rms")]) > 0
    # Without it, nobody watched the pass: freed.
    loss = _forward(model, seed=1)
    loss.backward()
    assert loss._parents[0]._parents is FREED_GRAPH
    recorder = GradientFlowRecorder(model)
    _refused_as_freed(recorder, loss, call=0, kept=0, why=r"the recorder was made after it\. "
                      r"Fix: make the recorder before the training loop")
    # The second fix, made by the recorder itself: it watches the next pass, kept for it.
    loss = _forward(model, seed=2)
    loss.backward()
    assert loss._parents[0]._parents is not FREED_GRAPH
    assert recorder.record(loss) and recorder.steps == [1]


def test_a_step_interrupted_in_backward_is_recorded_when_it_is_run_again():
    """Jupyter: KeyboardInterrupt during loss.backward() (here raised by a hook), then the
    cell run again. The stopped pass took the recorder's request and saw part of its
    gradients; the re-run's pass must be watched and recorded in full, with the step
    numbers of the calls made (the re-run was refused as freed by "another backward", and
    the refused call counted as a step)."""
    mg.manual_seed(0)
    model = BatchNormMLP(2, 6, 3, blocks=1)
    recorder = GradientFlowRecorder(model)
    for step in range(2):
        loss = _forward(model, seed=step)
        loss.backward()
        assert recorder.record(loss)
    loss = _forward(model, seed=2)
    hidden = loss._parents[0]

    def interrupt(grad):
        raise KeyboardInterrupt

    hidden.register_hook(interrupt)
    with pytest.raises(KeyboardInterrupt):
        loss.backward()
    loss = _forward(model, seed=2)  # the cell again
    loss.backward()
    assert recorder.record(loss)
    assert recorder.steps == [0, 1, 2]
    fresh = GradientFlowRecorder(model)  # the same step recorded by a recorder never stopped
    loss = _forward(model, seed=2)
    loss.backward()
    assert fresh.record(loss)
    np.testing.assert_allclose(recorder.box_stats[-1], fresh.box_stats[-1], rtol=1e-5,
                               equal_nan=True)


def test_only_the_steps_the_recorders_keep_keep_their_graph():
    """The recorder watches the pass of each kept call only (every > 1), so the other
    steps' graphs are freed by backward, as they are without a recorder, and their calls
    of record never read them. Two recorders each watch their own kept steps."""
    from minigrad.versions import FREED_GRAPH

    mg.manual_seed(0)
    model = BatchNormMLP(2, 6, 3, blocks=1)
    optimiser = mg.optim.SGD(model.parameters(), lr=0.1)
    every_second, every_third = GradientFlowRecorder(model, every=2), GradientFlowRecorder(
        model, every=3)
    graph_kept = []
    for step in range(7):
        loss = _forward(model, seed=step)
        optimiser.zero_grad()
        loss.backward()
        graph_kept.append(loss._parents[0]._parents is not FREED_GRAPH)
        assert every_second.record(loss, optimizer=optimiser) == (step % 2 == 0)
        assert every_third.record(loss) == (step % 3 == 0)
        optimiser.step()
    assert graph_kept == [step % 2 == 0 or step % 3 == 0 for step in range(7)]
    assert every_second.steps == [0, 2, 4, 6] and every_third.steps == [0, 3, 6]
    # Both read the steps they share from the same pass: the same numbers.
    weight = [box.id for box in every_second.structure.boxes].index("fc1.weight")
    np.testing.assert_allclose(every_second.series("grad_norm")[[0, 3], weight],
                               every_third.series("grad_norm")[[0, 2], weight], rtol=1e-12)
    assert np.isfinite(every_second.update_data[0]).all()


def test_the_plan_reads_the_recorded_graph_in_one_pass_and_refuses_any_other():
    """`Plan.read` (walk and check together) says what `walk` + `Plan.matches` say: the same
    nodes for the recorded graph, None for another edge, op, length or creation order."""
    from minigrad.viz.structure import Plan, structure

    def graph(variant: str) -> mg.Tensor:
        a = mg.tensor([1.0, -2.0], requires_grad=True)
        b = mg.tensor([3.0, 0.5], requires_grad=True)
        if variant == "order":  # the same ops and edges, created in the other order
            added = a + b
            product = a * b
            return (product * added).sum()
        product, added = a * b, a + b
        if variant == "rewired":
            return (product * a).sum()
        if variant == "other op":
            return (product - added).sum()
        if variant == "longer":
            return (product * added * 2.0).sum()
        return (product * added).sum()

    recorded = graph("same")
    nodes, parents = walk(recorded)
    plan = Plan(structure(recorded, None), nodes, parents)
    again = graph("same")
    assert plan.read(again) == walk(again)[0]
    for variant in ("order", "rewired", "other op", "longer"):
        root = graph(variant)
        assert not plan.matches(*walk(root)), variant
        assert plan.read(root) is None, variant
    freed = graph("same")
    freed.backward(retain_graph=False)  # its nodes' links are gone
    assert plan.read(freed) is None


@pytest.mark.parametrize("make_loss", [lambda w: w.tanh().sum(), lambda w: (w ** 2).sum(),
                                       lambda w: w.sum().exp()])
def test_a_freed_graph_shaped_like_the_recorded_one_is_refused(make_loss):
    # After a freeing backward a node's parents are one shared marker, a leaf: under a
    # one-parent op above one leaf it passed for the recorded leaf, and the marker's 0.0
    # was recorded as the parameter (no error). It must raise as a freed graph does.
    w = nn.Parameter(mg.tensor([-2.0, 1.0, 3.0]))
    recorder = GradientFlowRecorder(every=1)
    loss = make_loss(w)
    loss.backward()
    recorder.record(loss)  # plans the reading of this structure; asks for the next pass
    make_loss(w).backward()  # another backward in between takes that request...
    loss = make_loss(w)
    loss.backward()  # ...so this pass, watched by no one, frees its graph
    with pytest.raises(RuntimeError, match="freed by backward"):
        recorder.record(loss)
    assert len(recorder) == 1


def test_a_tree_shaped_graph_is_read_by_whole_lists_and_any_other_is_refused():
    """A recorded tree (every node used once) is read by appending parents (`_read_tree`):
    it gives what `walk` gives, and refuses a graph that uses a node twice even when the
    appended parents have the recorded length, counts and ops, and a freed graph."""
    from minigrad.viz.structure import Plan, structure

    def graph(variant: str) -> mg.Tensor:
        a = mg.tensor([1.0, -2.0], requires_grad=True)
        b = mg.tensor([3.0, 0.5], requires_grad=True)
        c = mg.tensor([0.25, 4.0], requires_grad=True)
        if variant == "shared":  # [sum, add, mul, a, a, b]: six entries, a node twice
            return (a * b + a).sum()
        if variant == "other op":
            return (a * b - c).sum()
        if variant == "order":  # c made last: the same tree, created in another order
            product = a * b
            c = mg.tensor([0.25, 4.0], requires_grad=True)
            return (c + product).sum()
        return (a * b + c).sum()

    recorded = graph("same")
    nodes, parents = walk(recorded)
    plan = Plan(structure(recorded, None), nodes, parents)
    assert plan.tree
    again = graph("same")
    assert plan.read(again) == walk(again)[0]
    for variant in ("shared", "other op", "order"):
        root = graph(variant)
        assert not plan.matches(*walk(root)), variant
        assert plan.read(root) is None, variant
    freed = graph("same")
    freed.backward(retain_graph=False)
    assert plan.read(freed) is None
    # The demo model's graph (fused BatchNorm) is a tree: its kept steps take this path.
    model = BatchNormMLP(2, 8, 3, implementation="fused")
    loss = _forward(model)
    assert Plan(structure(loss, model), *walk(loss)).tree


def test_a_value_graph_is_recorded_through_summarise_and_equals_its_numbers(monkeypatch):
    """A `Value` graph (floats, not arrays) takes `summarise`, not the workspace: the same
    stored numbers, gathered the same way (and its second step is read by the plan)."""
    from minigrad.viz.structure import Plan

    reads: list[bool] = []
    original = Plan.read

    def read(plan: Plan, root: object) -> list | None:
        found = original(plan, root)
        reads.append(found is not None)
        return found

    monkeypatch.setattr(Plan, "read", read)
    w, b = mg.Value(0.5), mg.Value(-1.0)
    recorder = GradientFlowRecorder(every=1, bins=BINS)
    for step in range(2):
        x = mg.Value(2.0 + step)
        loss = ((w * x + b).tanh() - 1.0) ** 2
        loss.backward()
        assert recorder.record(loss)
        walked, parents = walk(loss)
        made = creation_order(walked, parents)  # (a Value graph: by structure)
        nodes = sorted(walked, key=lambda node: made[walked.index(node)])
        stats = recorder.box_stats[step]
        for i, node in enumerate(nodes):
            assert stats[i, _column("value_mean")] == node.data
            assert stats[i, _column("value_std")] == 0.0
            np.testing.assert_allclose(stats[i, _column("grad_norm")], abs(node.grad))
            assert recorder.value_hist[step][i].sum() == recorder.grad_hist[step][i].sum() == 1
        tanh = next(i for i, node in enumerate(nodes) if node.op_name == "tanh")
        assert stats[tanh, _column("saturated")] == float(abs(nodes[tanh].data) > 0.97)
        w.grad = b.grad = 0.0
    assert reads == [True]  # the second step: read by the plan, not walked again


def test_the_first_step_shows_the_gradients_backward_used_after_a_hook():
    """A hook that scales a gradient changes what every earlier box receives. The first
    kept step must show that too (it once recomputed the pass without hooks: the first
    layer's weight showed a tenth of its .grad at step 0 and its .grad from step 1 on)."""
    mg.manual_seed(2)
    model = BatchNormMLP(2, 6, 3, blocks=1, implementation="fused")
    recorder = GradientFlowRecorder(model)  # made before the loop, as in the docs
    weight_norms = []
    for _ in range(2):
        loss = _forward(model, seed=0)  # the same batch: the same gradients each step
        output = next(node for node in walk(loss)[0] if node.op_name == "linear"
                      and node._scope.name == "fc1")
        output.register_hook(lambda grad: grad * 10.0)
        model.zero_grad()
        loss.backward()
        weight_norms.append(float(np.linalg.norm(model.fc1.weight.grad)))
        recorder.record(loss)
    weight = [box.id for box in recorder.structure.boxes].index("fc1.weight")
    for k in range(2):
        np.testing.assert_allclose(recorder.box_stats[k][weight, STAT_NAMES.index("grad_norm")],
                                   weight_norms[k], rtol=1e-5)
    np.testing.assert_allclose(recorder.box_stats[0], recorder.box_stats[1], rtol=1e-5,
                               equal_nan=True)


def test_a_gradient_that_is_not_finite_never_passes_for_a_small_one():
    """A box whose gradient holds an inf or NaN (training diverging) shows an infinite RMS
    and norm, as its arrows do, and the page carries it (JSON has no inf): it once showed
    the RMS of the finite part (0.5 for [inf, nan, 0.5]), or no gradient at all."""
    from minigrad.viz.explorer import explore
    from minigrad.viz.page import _rounded

    x = mg.tensor(np.array([0.0, 1.0, 4.0]), requires_grad=True, name="x")
    recorder = GradientFlowRecorder()  # before backward: it keeps this pass
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = (x.sqrt() * mg.tensor(np.array([1.0, np.nan, 2.0]))).sum()
        loss.backward()
    assert not np.isfinite(x.grad).all()
    with np.errstate(divide="ignore", invalid="ignore"):
        recorder.record(loss)
    ids = [box.id for box in recorder.structure.boxes]
    column = STAT_NAMES.index
    for box in ("x", ".:sqrt#0"):
        assert (recorder.box_stats[0][ids.index(box), [column("grad_rms"),
                                                       column("grad_norm")]] == np.inf).all()
    x_arrow = next(k for k, (s, _) in enumerate(recorder.structure.arrows) if s == ids.index("x"))
    assert recorder.arrow_norm[0][x_arrow] == np.inf
    assert _rounded(np.array([np.inf, -np.inf, np.nan, 0.123456])) == ["inf", "-inf", None,
                                                                       0.1235]
    if shutil.which("dot"):
        panel = explore(recorder).document["panels"][0]
        x_box = next(box for box in panel["boxes"] if box["name"] == "x")
        assert x_box["rms"] == ["inf"] and x_box["norm"] == ["inf"]


def test_a_recording_can_be_pickled_copied_and_continued():
    """A long recording is worth keeping: pickle and copy keep the records (they failed on
    the reading plan's local functions); a loaded recorder records the same graph on and
    refuses another."""
    import copy
    import pickle

    mg.manual_seed(0)
    model = BatchNormMLP(2, 6, 3, blocks=1)
    recorder = GradientFlowRecorder(model, every=2)
    optimiser = mg.optim.SGD(model.parameters(), lr=0.1)
    for step in range(4):
        loss = _forward(model, seed=step)
        optimiser.zero_grad()
        loss.backward()
        recorder.record(loss, optimizer=optimiser)
        optimiser.step()
    from minigrad.observers import observe_next_backward

    for load in (lambda: pickle.loads(pickle.dumps(recorder)), lambda: copy.deepcopy(recorder)):
        observe_next_backward(None)  # as in a new process: the original's request is not here
        loaded = load()  # (each made when it goes on recording, as a user would)
        assert loaded.steps == recorder.steps and loaded.calls == recorder.calls
        assert [box.id for box in loaded.structure.boxes] == [
            box.id for box in recorder.structure.boxes]
        for name in ("box_stats", "grad_hist", "value_hist", "arrow_norm", "update_data"):
            for mine, theirs in zip(getattr(loaded, name), getattr(recorder, name)):
                np.testing.assert_array_equal(mine, theirs)
        assert loaded.model is None  # not saved: the structure names the boxes
        # Its next call (4) is kept: it watches the next backward pass itself, which keeps
        # that pass's graph (backward() frees the others).
        loss = _forward(model, seed=9)
        loss.backward()
        assert loaded.record(loss)  # call 4: kept, on the recorded structure
        reference = GradientFlowRecorder(model)  # made after: recomputes from the kept graph
        reference.record(loss)
        _assert_same_step(loaded, 2, reference)
        assert not loaded.record(loss)  # call 5: only counts, and asks for the next pass
        deeper = _forward(BatchNormMLP(2, 6, 3, blocks=2), seed=0)
        deeper.backward()
        with pytest.raises(ValueError, match="differs from the one recorded first"):
            loaded.record(deeper)  # call 6: kept, and not the recorded graph
        assert len(loaded) == 3


def test_a_recorder_made_mid_training_does_not_cancel_another_recorders_request():
    """A recorder asks for the next backward pass when it is made; it once replaced the
    request of a recorder already waiting for that pass, whose step then was recomputed
    without the hook (a hook x0.1 on fc1.weight: a tenth of its .grad recorded)."""
    mg.manual_seed(0)
    model = BatchNormMLP(2, 6, 3, blocks=1)
    model.fc1.weight.register_hook(lambda grad: grad * 0.1)
    recorder = GradientFlowRecorder(model)
    weight_norms = []
    for step in range(3):
        loss = _forward(model, seed=step)
        model.zero_grad()
        loss.backward()
        weight_norms.append(float(np.linalg.norm(model.fc1.weight.grad)))
        recorder.record(loss)
        if step == 1:  # between its record and the next backward: both wait for that pass
            other = GradientFlowRecorder(model)
    weight = [box.id for box in recorder.structure.boxes].index("fc1.weight")
    np.testing.assert_allclose(recorder.series("grad_norm")[:, weight], weight_norms,
                               rtol=1e-5)
    assert other.calls == 0


def test_a_recording_of_a_model_with_a_lambda_hook_pickles_without_the_model():
    """The pickle once carried `model` (every parameter array, and its hooks: a lambda
    hook made pickling fail). Once the structure exists, the model is not read again."""
    import pickle

    mg.manual_seed(0)
    model = BatchNormMLP(2, 6, 3, blocks=1)
    model.fc1.weight.register_hook(lambda grad: grad * 0.1)
    model.fc1.weight.data[...] = 12345.678  # a value to look for in the pickle
    recorder = GradientFlowRecorder(model)
    loss = _forward(model)
    loss.backward()
    recorder.record(loss)
    saved = pickle.dumps(recorder)
    assert np.float32(12345.678).tobytes() not in saved
    loaded = pickle.loads(saved)
    assert loaded.model is None and recorder.model is model
    loss = _forward(model, seed=1)
    loss.backward()
    assert loaded.record(loss) and len(loaded) == 2
    assert loaded.structure.boxes[[b.id for b in loaded.structure.boxes].index(
        "fc1.weight")].name == "fc1.weight"


def test_copy_copy_of_a_recorder_has_records_of_its_own():
    """copy.copy shared the record lists: recording on the copy grew the original."""
    import copy

    mg.manual_seed(0)
    model = BatchNormMLP(2, 6, 3, blocks=1)
    recorder = GradientFlowRecorder(model)
    loss = _forward(model)
    loss.backward()
    recorder.record(loss)
    copied = copy.copy(recorder)
    assert copied.model is model
    loss = _forward(model, seed=1)
    loss.backward()
    copied.record(loss)
    assert recorder.steps == [0] and recorder.calls == 1 and len(recorder.box_stats) == 1
    assert copied.steps == [0, 1] and copied.calls == 2
    np.testing.assert_array_equal(copied.box_stats[0], recorder.box_stats[0])


def test_a_nan_gradient_on_an_arrow_out_of_a_node_with_several_consumers_is_exploding():
    """Such an arrow's norm is computed from what its target sent (not its source's whole
    gradient): a NaN there once gave a NaN norm, shown as 'no gradient', while the boxes
    showed inf."""
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    doubled = x * 2.0
    squared = doubled * doubled
    squared.register_hook(lambda grad: grad * np.nan)
    loss = squared.sum() + doubled.sum()  # `doubled` has two consumers
    recorder = GradientFlowRecorder()  # before backward: it sees the hook's NaN
    with np.errstate(invalid="ignore"):
        loss.backward()
        recorder.record(loss)
    boxes, arrows = recorder.structure.boxes, recorder.structure.arrows
    ids = [box.id for box in boxes]
    source = ids.index(".:mul#0")  # doubled
    target = ids.index(".:mul#1")  # squared
    (arrow,) = [k for k, pair in enumerate(arrows) if pair == (source, target)]
    assert recorder.box_stats[0][source, STAT_NAMES.index("grad_rms")] == np.inf
    assert recorder.arrow_norm[0][arrow] == np.inf
    no_gradient = [k for k, (s, _) in enumerate(arrows) if boxes[s].kind == "constant"]
    assert no_gradient and np.isnan(recorder.arrow_norm[0][no_gradient]).all()


def test_a_value_model_loaded_from_a_pickle_records_one_structure_at_every_step():
    """A Value leaf is numbered as it is made, so a parameter comes before every step's
    input; a loaded one must be too, or the first step's boxes are in another order than
    the next steps' (numbered when first drawn, after that step's input)."""
    import pickle

    w, b = pickle.loads(pickle.dumps((mg.Value(0.5), mg.Value(-1.0))))
    recorder = GradientFlowRecorder(every=1, bins=BINS)
    for step in range(3):
        x = mg.Value(2.0 + step)
        loss = ((w * x + b).tanh() - 1.0) ** 2
        loss.backward()
        assert recorder.record(loss)
    assert len(recorder.steps) == 3


def _value_steps(case: str, steps: int = 4) -> GradientFlowRecorder:
    """A scalar model trained `steps` steps, recorded at each; `case` adds what made a
    computed Value's creation number, given when first asked, differ between steps."""
    from minigrad.viz import draw_graph

    w, b = mg.Value(0.5), mg.Value(-1.0)
    if case == "made under no_grad":
        with mg.no_grad():
            w = mg.Value(0.5) * 1.0
    scale = mg.Value(2.0) * 2.0  # computed once, used by every step
    inputs = [mg.Value(v) / 4.0 for v in (1.0, 2.0)]  # normalised before the loop
    recorder = GradientFlowRecorder(every=1, bins=BINS)
    for step in range(steps):
        xs = [mg.Value(1.0 + step), *inputs]
        h = [(w * x * scale + b).tanh() for x in xs]
        if case == "drawn mid-forward" and step == 0:
            draw_graph(h[0], show_grad=False)
        loss = sum(((v - 1.0) ** 2 for v in h), mg.Value(0.0))
        loss.backward()
        if case == "drawn with gradients" and step == 2:
            draw_graph(loss)  # (the engine's topological order asks every node's number)
        assert recorder.record(loss)
    return recorder


@pytest.mark.parametrize("case", ["plain", "made under no_grad", "drawn mid-forward",
                                  "drawn with gradients"])
def test_a_value_graph_records_one_structure_whoever_asked_for_numbers_first(case):
    # Regression (found in review): a computed Value is numbered when first asked, and the
    # recorder ordered boxes by those numbers: nodes computed before the loop, a drawing
    # part-way through a step or one with gradients made a later step's order differ
    # ("the graph of call N differs"). A Value graph is now ordered by its structure.
    recorder = _value_steps(case)
    assert len(recorder.steps) == 4
    ids = [box.id for box in recorder.structure.boxes]
    assert len(set(ids)) == len(ids)
    if case != "made under no_grad":  # (there w is another box: a '*' made a leaf)
        # the same boxes in the same order as a recording where nothing asked first
        assert ids == [box.id for box in _value_steps("plain").structure.boxes]
