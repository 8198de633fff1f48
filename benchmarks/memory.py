"""Memory over a long training run: peak traced memory per window of steps must not grow.

Trains the B=128 784-256-256-10 BatchNorm MLP of tensor.py for 1,000 SGD steps and records,
with `tracemalloc` (NumPy reports its array buffers to it), the peak memory of each window
of 100 steps. The reference is the hand-written NumPy network of tensor.py doing the same
steps: minigrad's extra memory is the graph (saved activations and gradients) it keeps
until the loss is dropped.

    python benchmarks/memory.py [--steps 1000]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine  # noqa: E402
from tensor import SIZES, NumpyNet, make_params, minigrad_net, minigrad_step  # noqa: E402

import minigrad as mg  # noqa: E402


def window_peaks(step, steps: int, window: int) -> list[float]:
    """Peak traced MiB in each window of `window` steps."""
    gc.collect()
    tracemalloc.start()
    peaks = []
    for start in range(0, steps, window):
        tracemalloc.reset_peak()
        for _ in range(min(window, steps - start)):
            step()
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
    tracemalloc.stop()
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--window", type=int, default=100)
    args = parser.parse_args()
    print(machine())
    sizes = SIZES["medium"]
    rng = np.random.default_rng(0)
    params = make_params(sizes, rng)
    batch, n_in, _, classes = sizes
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    y = rng.integers(0, classes, batch)
    model, optimizer = minigrad_net(params)
    x_tensor = mg.tensor(x)
    reference = NumpyNet(params)

    ours = window_peaks(lambda: minigrad_step(model, optimizer, x_tensor, y), args.steps,
                        args.window)
    theirs = window_peaks(lambda: reference.step(x, y), args.steps, args.window)
    print(f"\npeak traced memory per {args.window}-step window, MiB "
          f"(B={batch} {n_in}->{sizes[2]}->{sizes[2]}->{classes}, {args.steps} steps)")
    print("  minigrad:           " + " ".join(f"{p:6.2f}" for p in ours))
    print("  hand-written NumPy: " + " ".join(f"{p:6.2f}" for p in theirs))
    growth = ours[-1] - ours[0]
    print(f"  minigrad growth, last window - first: {growth:+.3f} MiB "
          f"({'no growth' if abs(growth) < 0.01 * ours[0] else 'GROWS'}); "
          f"peak / NumPy's peak: {max(ours) / max(theirs):.2f}x")


if __name__ == "__main__":
    main()
