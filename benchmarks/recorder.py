"""The gradient-flow recorder and explorer page: what recording costs a training step, and
how large and slow to build the page is.

1. Overhead: a block of 10 training steps of the demo model (`BatchNormMLP` 2-32-32-3, fused
   BatchNorm, batch 64, SGD with momentum) with no recorder, recording every step, and
   recording every 10th step (and, for the cost of calls that are not kept, calling
   `record` at every step of a recorder with every=10**9, which keeps only its first); the
   blocks are timed in turn (interleaved) and each is given as a ratio to the unrecorded
   one, under each thread setting of ``--threads`` (``--clock cpu`` with one thread is the
   steadiest on a shared machine). The unrecorded block is the same training loop without
   the recorder. Targets (issue #10): <= 1.3x every step, <= 1.05x with every=10. Also
   printed: one kept call's cost, from the every-step block, the extra time of an every=10
   block against the 5% the target allows, and a floor: the NumPy passes
   that exact statistics of one kept step need (copy into float64, minimum, maximum, the
   values' sum, centred values and their squares, the gradients' squares, the histogram's
   bin numbers and their integer cast, np.bincount), run over the demo's arrays laid end to
   end as one contiguous array, warm, with no per-array work at all (timed in the same
   rounds, BLOCK passes per sample: its ratio is the floor's share of a training step).
2. Pages: build time and size of the demo's comparison page (two deep sigmoid networks,
   300 steps recorded every 10th, training not included) and of one step of a graph of
   about 10,000 boxes (a 625-layer BatchNorm network: its innermost modules are folded
   before layout, as explore's collapse="auto" does past 2,000 boxes).

    python benchmarks/recorder.py [--rounds 30] [--steps 300] [--depth 625] [--quick]
                                  [--clock cpu] [--threads 1]
    python benchmarks/recorder.py --kept-calls N   (under valgrind: one kept call's cost)
    python benchmarks/recorder.py --training-steps N [--every E]   (under valgrind: N
        training steps, recording every E-th (0: no recorder), one thread)
"""

from __future__ import annotations

import contextvars
import gc
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import compare, parser, report, setup, thread_limit, thread_modes  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn  # noqa: E402
from minigrad.data import make_spirals  # noqa: E402
from minigrad.examples import BatchNormMLP, DeepMLP, record_example  # noqa: E402
from minigrad.viz import GradientFlowRecorder, explore  # noqa: E402
from minigrad.viz.walk import Flow, walk  # noqa: E402

BLOCK = 10  # training steps per timed call


def training_block(every: int | None):
    """A function running BLOCK training steps of its own demo model (recording every
    `every`-th call of record when `every` is given)."""
    mg.manual_seed(0)
    generator = np.random.default_rng(0)
    x, y = make_spirals(300, n_classes=3, noise=0.2, generator=generator)
    model = BatchNormMLP(2, 32, 3, implementation="fused")
    criterion = nn.CrossEntropyLoss()
    optimiser = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    batches = [(mg.tensor(x[i:i + 64]), y[i:i + 64]) for i in range(0, 256, 64)]

    def steps() -> None:
        for step in range(BLOCK):
            xb, yb = batches[step % len(batches)]
            loss = criterion(model(xb), yb)
            optimiser.zero_grad()
            loss.backward()
            if recorder is not None:
                recorder.record(loss, optimizer=optimiser)
            optimiser.step()

    # Each case trains in a context of its own, as a training loop alone in its thread
    # would: the call before a kept one asks for the *next* backward pass of its context
    # (minigrad.observers), and in one shared context the next case's first backward took
    # that request whenever a kept call fell on the first step of a block (every kept call
    # with every=10), so the recorder recomputed those gradients and the other case paid
    # for handing them over. The recorder is made in that context too, so that it asks for
    # its own case's first backward pass, which that pass then keeps for the first kept
    # call (made outside, its request was in every later case's context, the first case to
    # run a backward took it, and backward() freed this case's first graph unread).
    context = contextvars.copy_context()
    recorder = context.run(GradientFlowRecorder, model, every=every) if every else None

    def run() -> None:
        context.run(steps)

    return run, recorder


def statistics_floor():
    """BLOCK times the NumPy passes exact statistics of one kept step need (module
    docstring), over the values and gradients of one step of the demo model laid end to end
    as one contiguous array: a lower bound for any implementation that makes these passes
    (a real one also works per array: row layout, broadcasts, per-array results)."""
    mg.manual_seed(0)
    x, y = make_spirals(300, n_classes=3, noise=0.2, generator=np.random.default_rng(0))
    model = BatchNormMLP(2, 32, 3, implementation="fused")
    loss = nn.CrossEntropyLoss()(model(mg.tensor(x[:64])), y[:64])
    loss.backward(retain_graph=True)  # walked and recomputed below: keep the graph
    nodes, _ = walk(loss)
    flow = Flow(loss)
    values = [np.asarray(node.data) for node in nodes]
    grads = [grad for grad in map(flow.of, nodes) if grad is not None]
    sizes = np.array([a.size for a in values + grads])
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    split = int(sizes[:len(values)].sum())  # values, then gradients
    buffer = np.empty(int(sizes.sum()))
    work = np.empty(split)
    index = buffer.view(np.intp)
    bins = GradientFlowRecorder().bins

    def passes() -> None:
        np.concatenate(values + grads, axis=None, out=buffer)
        low = np.minimum.reduceat(buffer, starts)
        high = np.maximum.reduceat(buffer, starts)
        np.subtract(buffer[:split], np.add.reduce(buffer[:split]) / split, out=work)
        np.dot(work, work)
        np.dot(buffer[split:], buffer[split:])
        first = low.min()
        np.subtract(buffer, first, out=buffer)
        np.multiply(buffer, bins / (high.max() - first), out=buffer)
        np.copyto(index, buffer, casting="unsafe")
        np.bincount(index, minlength=bins + 1)

    def block() -> None:
        for _ in range(BLOCK):
            passes()

    return block


def overhead(rounds: int, threads: str) -> None:
    plain, _ = training_block(None)
    every_step, recorder = training_block(1)
    every_tenth, _ = training_block(10)
    never, _ = training_block(10**9)  # the cost of calls that are not kept
    floor = "floor: the passes alone"
    timings = compare({"no recorder": plain, "record every step": every_step,
                       "record every 10th step": every_tenth, "calls never kept": never,
                       floor: statistics_floor()},
                      "no recorder", rounds, warmup=2)
    report(f"{BLOCK} training steps of the demo model ({rounds} interleaved rounds, "
           f"{threads}; the floor: {BLOCK} times the passes of one kept step)", timings,
           "no recorder")
    kept = (timings["record every step"].seconds - timings["no recorder"].seconds) / BLOCK
    print(f"  one kept call of record: {kept * 1e6:.0f} µs (an unrecorded step: "
          f"{timings['no recorder'].seconds / BLOCK * 1e6:.0f} µs)")
    # With every=10 a block holds one kept call and nine that only count: the block's extra
    # time is what one kept call costs inside such training (cold after nine steps), with
    # everything it brings along (the hand-over in backward, update:data, slower steps).
    tenth = timings["record every 10th step"].seconds - timings["no recorder"].seconds
    print(f"  every 10th step: {tenth * 1e6:.0f} µs more per block of {BLOCK} steps (the "
          f"target, 1.05x, allows {0.05 * timings['no recorder'].seconds * 1e6:.0f} µs)")
    share = timings[floor].ratio
    print(f"  exact statistics' passes alone: {timings[floor].seconds / BLOCK * 1e6:.0f} µs "
          f"per kept step, {share:.2f} of an unrecorded step: recording every step cannot "
          f"cost less than {1 + share:.2f}x, every 10th step {1 + share / 10:.3f}x")
    boxes = len(recorder.structure.boxes)
    held = sum(a.nbytes for series in (recorder.box_stats, recorder.grad_hist,
                                       recorder.value_hist, recorder.arrow_norm,
                                       recorder.grad_data, recorder.update_data)
               for a in series) / len(recorder)
    print(f"  recorder arrays: {held:,.0f} bytes per recorded step ({boxes} boxes, "
          f"{recorder.bins} bins)")


def page(label: str, build) -> None:
    start = time.perf_counter()
    explorer = build()
    seconds = time.perf_counter() - start
    boxes = sum(len(panel["boxes"]) for panel in explorer.document["panels"])
    print(f"  {label:<44} build {seconds:6.2f} s   page {len(explorer.html) / 1e6:6.2f} MB"
          f"   {boxes:,} boxes drawn")


def big_graph(depth: int):
    mg.manual_seed(0)
    model = DeepMLP(depth=depth, batchnorm=True)
    x = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
    loss = nn.CrossEntropyLoss()(model(mg.tensor(x)), np.arange(16) % 3)
    # Kept: the recorder, made afterwards, recomputes the gradients from the root (as this
    # benchmark has always timed it), which needs the graph.
    loss.backward(retain_graph=True)
    return loss


def kept_calls(calls: int) -> None:
    """`calls` kept calls of `record` alone (every=1) on one graph of the demo model after
    backward (no backward in between: each recomputes the gradients from the root), GC
    off: for an instruction count, the difference of two runs over the difference of
    their `calls` (see benchmarks/README.md, round 6)."""
    mg.manual_seed(0)
    x, y = make_spirals(300, n_classes=3, noise=0.2, generator=np.random.default_rng(0))
    model = BatchNormMLP(2, 32, 3, implementation="fused")
    recorder = GradientFlowRecorder(model)
    loss = nn.CrossEntropyLoss()(model(mg.tensor(x[:64])), y[:64])
    loss.backward()
    recorder.record(loss)  # the first kept call plans; the second warms the work arrays
    recorder.record(loss)
    gc.collect()
    gc.disable()
    for _ in range(calls):
        recorder.record(loss)
    gc.enable()


def training_steps(steps: int, every: int) -> None:
    """`steps` training steps of the demo model (`training_block`, BLOCK at a time, after
    one block of warm-up), recording every `every`-th (0: no recorder), one BLAS thread,
    GC off: for instruction counts, the difference of two runs over the difference of
    their `steps` (round 13: the kept call as training pays it, gradients handed over by
    backward, where `kept_calls` recomputes them)."""
    with thread_limit(1):
        run, _ = training_block(every or None)
        run()
        gc.collect()
        gc.disable()
        for _ in range(steps // BLOCK):
            run()
        gc.enable()


def main() -> None:
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--rounds", type=int, default=30)
    arguments.add_argument("--steps", type=int, default=300, help="demo page: training steps")
    arguments.add_argument("--depth", type=int, default=625, help="layers of the big graph")
    arguments.add_argument("--kept-calls", type=int, default=None,
                           help="only run this many kept calls (for valgrind), then stop")
    arguments.add_argument("--training-steps", type=int, default=None,
                           help="only run this many training steps (for valgrind), then stop")
    arguments.add_argument("--every", type=int, default=1,
                           help="with --training-steps: record every E-th step (0: none)")
    args = arguments.parse_args()
    if args.training_steps is not None:
        if args.training_steps < 0 or args.training_steps % BLOCK or args.every < 0:
            arguments.error(f"--training-steps must be a multiple of {BLOCK} (steps run in "
                            f"blocks of {BLOCK}) and --every at least 0 (0: no recorder)")
        training_steps(args.training_steps, args.every)
        return
    if args.kept_calls is not None:
        kept_calls(args.kept_calls)
        return
    setup(args)
    if args.quick:
        args.rounds, args.steps, args.depth = 3, 20, 20
    for label, threads in thread_modes(args.threads):
        with thread_limit(threads):
            overhead(args.rounds, label)

    print("\nexplorer pages (build = explore(...), layout included, training not)")
    recorders = record_example("deep-batchnorm", steps=args.steps, every=10)
    page(f"demo comparison ({args.steps} steps, every 10th)", lambda: explore(recorders))
    loss = big_graph(args.depth)
    recorder = GradientFlowRecorder()
    start = time.perf_counter()
    recorder.record(loss)
    recorded = time.perf_counter() - start
    print(f"  one record of the {len(recorder.structure.boxes):,}-box graph: {recorded:.2f} s")
    page(f"{len(recorder.structure.boxes):,}-box graph, one step", lambda: explore(recorder))


if __name__ == "__main__":
    main()
