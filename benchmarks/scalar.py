"""Scalar engine: one training step of micrograd's demo model, minigrad vs micrograd.

The model and step are micrograd's README demo: an MLP 2-16-16-1 on 100 two-moons points,
SVM hinge loss + 1e-4 * L2, plain SGD. Both engines start from the same weights and data,
and their first losses are checked to agree. micrograd is optional (`pip install
micrograd`); without it only minigrad is timed. Pure Python: ``--threads`` changes nothing.

Two settings, each against its target:

* **GC on** (the default: what a user sees), **each library in its own process.** micrograd's
  graph is garbage in reference cycles (a node's ``_backward`` closure refers to the node),
  so after its step several hundred thousand objects wait for a full collection of Python's
  cyclic garbage collector. In one process, a full collection that happens to fall in
  minigrad's step traverses micrograd's garbage, and minigrad pays for micrograd's cycles;
  no user runs both libraries at once. So each library runs in a fresh child process of
  its own (same imports, same data, same weights; nothing heavy such as PyTorch is
  imported there, since a big heap of long-lived objects slows every full collection), the
  rounds interleaved by asking the children in turn; a round's ratio is minigrad's time per
  step over micrograd's, as in common.py.
* **GC off in both** (engine speed), in one process, interleaved (common.compare). Between
  samples, outside the timing, the step's graph is dropped and a collection runs, in both:
  micrograd's graph can only be freed by that collection, so minigrad's (which reference
  counting frees as the step ends) is also freed there, not inside its timed step.

Two more lines, labelled, show the earlier methods: GC on in one process (minigrad also
collects micrograd's garbage), and GC off with minigrad freeing its graph inside the timing
while micrograd's waits for the untimed collection. ``--no-extras`` skips them.

    python benchmarks/scalar.py [--rounds 7] [--quick] [--clock cpu] [--no-extras]
    python benchmarks/scalar.py --anomaly-graph N [--anomaly]   (under valgrind: build a
        random scalar graph of N ops, and with --anomaly run its backward under
        detect_anomaly(), where the general engine numbers every node; the difference of
        the two runs is that backward's cost)
"""

from __future__ import annotations

import gc
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Timing, compare, parser, report, setup  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad.data import make_moons  # noqa: E402
from minigrad.examples import ScalarMLP  # noqa: E402

PROCESS_SAMPLE_SECONDS = 0.25  # a sample in a child: enough steps to average collections


def training_step(model, value_class, x, targets, keep: list | None = None) -> float:
    """micrograd's demo step: forward, hinge loss + L2, zero grads, backward, SGD. With
    `keep`, the loss node (and so the whole graph) is appended to it, to be freed later."""
    inputs = [list(map(value_class, row)) for row in x]
    scores = [model(row) for row in inputs]
    losses = [(1 + -t * s).relu() for t, s in zip(targets, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    loss = data_loss + reg_loss
    for p in model.parameters():
        p.grad = 0.0
    loss.backward()
    for p in model.parameters():
        p.data -= 0.01 * p.grad
    if keep is not None:
        keep.append(loss)
    return loss.data


def problem(points: int):
    """The data, minigrad's model and micrograd's (None without micrograd), same weights."""
    random.seed(1337)
    x, y = make_moons(points, noise=0.1, generator=mg.manual_seed(1337))
    ours = ScalarMLP(2, [16, 16, 1])
    try:
        from micrograd.nn import MLP
    except ImportError:
        return x.tolist(), (y * 2 - 1).tolist(), ours, None
    theirs = MLP(2, [16, 16, 1])
    for mine, other in zip(ours.parameters(), theirs.parameters()):
        other.data = mine.data
    return x.tolist(), (y * 2 - 1).tolist(), ours, theirs


def steps(points: int):
    """{library: one training step} for minigrad and, when installed, micrograd."""
    x, targets, ours, theirs = problem(points)
    result = {"minigrad Value": lambda keep=None: training_step(ours, mg.Value, x, targets,
                                                                keep)}
    if theirs is not None:
        from micrograd.engine import Value as MicrogradValue

        result["micrograd Value"] = lambda keep=None: training_step(
            theirs, MicrogradValue, x, targets, keep)
    return result


# -- GC on: each library in its own process ---------------------------------------------------


def child(library: str, points: int, clock: str, keep_freed_memory: bool) -> None:
    """A worker timing one library's step: prints its first loss and the time of a warm-up
    step, then, for each number of steps read from stdin, their time per step and the
    collections (generations 0, 1, 2) they triggered."""
    if keep_freed_memory:
        from minigrad import allocator

        allocator.keep_freed_memory()
    step = steps(points)[library]  # both children build both models: the same heap
    clock_function = time.process_time if clock == "cpu" else time.perf_counter
    print(repr(step()), flush=True)
    start = clock_function()
    step()
    print(clock_function() - start, flush=True)
    for line in sys.stdin:
        count = int(line)
        before = [generation["collections"] for generation in gc.get_stats()]
        start = clock_function()
        for _ in range(count):
            step()
        seconds = (clock_function() - start) / count
        after = [generation["collections"] for generation in gc.get_stats()]
        print(seconds, *((b - a) / count for a, b in zip(before, after)), flush=True)


def separate_processes(args, points: int, rounds: int) -> tuple[dict[str, Timing], dict]:
    """Time each library in a child process of its own, in interleaved rounds."""
    command = [sys.executable, str(Path(__file__).resolve()), "--points", str(points),
               "--clock", args.clock] + (["--keep-freed-memory"] if args.keep_freed_memory
                                         else [])
    names = ["minigrad Value", "micrograd Value"]
    children = {name: subprocess.Popen(command + ["--child", name], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True) for name in names}

    def answer(name: str) -> list[float]:
        line = children[name].stdout.readline()
        if not line:
            raise RuntimeError(f"the {name} worker process ended early (its error is above)")
        return [float(field) for field in line.split()]

    try:
        first_loss = {name: answer(name)[0] for name in names}
        assert abs(first_loss[names[0]] - first_loss[names[1]]) < 1e-9, first_loss
        once = {name: answer(name)[0] for name in names}
        calls = {name: max(1, round(PROCESS_SAMPLE_SECONDS / once[name])) for name in names}
        samples: dict[str, list[float]] = {name: [] for name in names}
        collections: dict[str, list[list[float]]] = {name: [] for name in names}
        for round_number in range(rounds):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:  # one child at a time
                children[name].stdin.write(f"{calls[name]}\n")
                children[name].stdin.flush()
                seconds, *per_generation = answer(name)
                samples[name].append(seconds)
                collections[name].append(per_generation)
    finally:
        for process in children.values():
            process.stdin.close()
            process.wait()
    timings = {}
    for name in names:
        ratios = [ours / theirs for ours, theirs in zip(samples[name], samples[names[1]])]
        timings[name] = Timing(statistics.median(samples[name]), statistics.median(ratios),
                               min(ratios), max(ratios))
    per_step = {name: [statistics.mean(column) for column in zip(*collections[name])]
                for name in names}
    return timings, per_step


def anomaly_graph(ops: int, backward: bool) -> None:
    """A seeded random graph of `ops` scalar ops (each node from two of the 150 nodes made
    just before it: products, sums, tanh), then, if `backward`, its backward pass under
    `detect_anomaly()`: the general engine, which orders the nodes by their creation
    numbers and gives the computed ones theirs first (round 13's instruction counts)."""
    import minigrad as mg

    rng = random.Random(0)
    nodes = [mg.Value(rng.random()) for _ in range(50)]
    for i in range(ops):
        a, b = (nodes[-1 - int(rng.random() * min(150, len(nodes)))] for _ in range(2))
        nodes.append((a * b + 0.5).tanh() if i % 3 else (a + b) * 0.5)
    gc.disable()
    if backward:
        with mg.detect_anomaly():
            nodes[-1].backward()


# -- the report --------------------------------------------------------------------------------


def main() -> None:
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--rounds", type=int, default=7)
    arguments.add_argument("--no-extras", action="store_true",
                           help="skip the two lines measured with the earlier methods")
    arguments.add_argument("--child", help="(internal) time this library in this process")
    arguments.add_argument("--points", type=int, help="(internal) the child's data size")
    arguments.add_argument("--anomaly-graph", type=int, metavar="N",
                           help="only build a random graph of N ops (for valgrind), then stop")
    arguments.add_argument("--anomaly", action="store_true",
                           help="with --anomaly-graph: its backward under detect_anomaly()")
    args = arguments.parse_args()
    if args.anomaly_graph is not None:
        anomaly_graph(args.anomaly_graph, args.anomaly)
        return
    if args.child:
        child(args.child, args.points, args.clock, args.keep_freed_memory)
        return
    setup(args)
    points = 20 if args.quick else 100
    rounds = 2 if args.quick else args.rounds
    cases = steps(points)
    title = f"one SGD step of micrograd's demo MLP (2-16-16-1, {points} points)"
    if len(cases) == 1:
        print("  (micrograd not installed: timing minigrad only; pip install micrograd)")
        report(title, compare(cases, "minigrad Value", rounds, warmup=1), "minigrad Value")
        return
    reference = "micrograd Value"
    ours_loss, theirs_loss = (step() for step in cases.values())
    assert abs(ours_loss - theirs_loss) < 1e-9, (ours_loss, theirs_loss)
    results = {}

    timings, collections = separate_processes(args, points, rounds)
    report(f"{title}, GC on (default), each library in its own process", timings, reference)
    for name, per_generation in collections.items():
        print(f"  {name}: collections per step (generation 0, 1, 2): "
              + ", ".join(f"{count:.2f}" for count in per_generation))
    results["GC on (default), separate processes"] = timings

    kept: list = []

    def drop_graphs_and_collect() -> None:
        kept.clear()
        gc.collect()

    gc.disable()
    try:
        timings = compare({name: lambda step=step: step(kept) for name, step in cases.items()},
                          reference, rounds, warmup=1, between=drop_graphs_and_collect)
        if not args.no_extras:
            earlier_gc_off = compare(cases, reference, rounds, warmup=1, between=gc.collect)
    finally:
        gc.enable()
    report(f"{title}, GC off in both, graphs freed between samples in both", timings,
           reference)
    results["GC off in both"] = timings
    if not args.no_extras:
        report(f"{title}, earlier method: GC off, minigrad frees its graph inside the timing",
               earlier_gc_off, reference)
        results["earlier: GC off, minigrad frees inside"] = earlier_gc_off
        timings = compare(cases, reference, rounds, warmup=1)
        report(f"{title}, earlier method: GC on, both in one process (minigrad's collections "
               f"also traverse micrograd's garbage)", timings, reference)
        results["earlier: GC on, one process"] = timings

    print("\nspeed-up over micrograd (1 / median per-round ratio [range]):")
    targets = {"GC on (default), separate processes": 5, "GC off in both": 3}
    for setting, setting_timings in results.items():
        ours_timing = setting_timings["minigrad Value"]
        target = f"(target >= {targets[setting]}x)" if setting in targets else "(for reference)"
        print(f"  {setting:<40} {1 / ours_timing.ratio:5.2f}x "
              f"[{1 / ours_timing.ratio_max:.2f}-{1 / ours_timing.ratio_min:.2f}] {target}")


if __name__ == "__main__":
    main()
