"""Scalar engine: one training step of micrograd's demo model, minigrad vs micrograd.

The model and step are micrograd's README demo: an MLP 2-16-16-1 on 100 two-moons points,
SVM hinge loss + 1e-4 * L2, plain SGD. Both engines start from the same weights and data.
micrograd is optional (`pip install micrograd`); without it only minigrad is timed.

Two settings: Python's cyclic garbage collector on (the default: what a user sees; an
engine whose nodes form reference cycles or are many objects pays for collections), and
off in both (a gc.collect() runs between samples, outside the timing): the engine's own
speed.

    python benchmarks/scalar.py [--rounds 7] [--quick]
"""

from __future__ import annotations

import gc
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import compare, parser, report, setup  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad.__main__ import ScalarMLP  # noqa: E402
from minigrad.data import make_moons  # noqa: E402


def training_step(model, value_class, x, targets):
    """micrograd's demo step: forward, hinge loss + L2, zero grads, backward, SGD."""
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
    return loss.data


def main() -> None:
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--rounds", type=int, default=7)
    args = arguments.parse_args()
    setup(args)
    random.seed(1337)
    x, y = make_moons(20 if args.quick else 100, noise=0.1, generator=mg.manual_seed(1337))
    x, targets = x.tolist(), (y * 2 - 1).tolist()
    ours = ScalarMLP(2, [16, 16, 1])
    cases = {"minigrad Value": lambda: training_step(ours, mg.Value, x, targets)}
    reference = "minigrad Value"
    try:
        from micrograd.engine import Value as MicrogradValue
        from micrograd.nn import MLP
    except ImportError:
        print("  (micrograd not installed: timing minigrad only; pip install micrograd)")
    else:
        theirs = MLP(2, [16, 16, 1])
        for mine, other in zip(ours.parameters(), theirs.parameters()):
            other.data = mine.data
        # Same weights, same data: the two steps must compute the same loss.
        ours_loss = training_step(ours, mg.Value, x, targets)
        theirs_loss = training_step(theirs, MicrogradValue, x, targets)
        assert abs(ours_loss - theirs_loss) < 1e-9, (ours_loss, theirs_loss)
        cases["micrograd Value"] = lambda: training_step(theirs, MicrogradValue, x, targets)
        reference = "micrograd Value"
    rounds = 2 if args.quick else args.rounds
    results = {}
    for setting in ("GC on (default)", "GC off in both"):
        if setting.startswith("GC off"):
            gc.disable()
        try:
            timings = compare(cases, reference, rounds, warmup=1,
                              between=gc.collect if setting.startswith("GC off") else None)
        finally:
            gc.enable()
        report(f"one SGD step of micrograd's demo MLP (2-16-16-1, {len(x)} points), "
               f"{setting}", timings, reference)
        results[setting] = timings
    if reference == "micrograd Value":
        print("\nspeed-up over micrograd (1 / median per-round ratio [range]):")
        for setting, target in (("GC on (default)", 5), ("GC off in both", 3)):
            ours_timing = results[setting]["minigrad Value"]
            print(f"  {setting:<16} {1 / ours_timing.ratio:.2f}x "
                  f"[{1 / ours_timing.ratio_max:.2f}-{1 / ours_timing.ratio_min:.2f}] "
                  f"(target >= {target}x)")


if __name__ == "__main__":
    main()
