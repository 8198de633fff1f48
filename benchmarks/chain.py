"""Backward through a very long chain: a 1,000,000-op `Value` chain and a 100,000-op `Tensor`
chain, against the plain-Python (or NumPy) loop that computes the same derivative.

The chain is x -> x * c -> ... (n multiplications); d(out)/dx is the product of the factors.
micrograd cannot take part: its recursive topological sort overflows the stack far earlier.

    python benchmarks/chain.py [--length 1000000] [--quick]

(single passes, timed once: the point is that they run, and their cost per op)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import parser, setup  # noqa: E402

import minigrad as mg  # noqa: E402


def scalar_chain(length: int) -> tuple[float, float, float]:
    factor = 1.0 + 1e-7
    start = time.perf_counter()
    x = mg.Value(1.0)
    out = x
    for _ in range(length):
        out = out * factor
    built = time.perf_counter()
    out.backward()
    done = time.perf_counter()
    expected = factor**length
    assert abs(x.grad - expected) < 1e-6 * expected, (x.grad, expected)
    return built - start, done - built, x.grad


def plain_python_chain(length: int) -> float:
    """The same forward and derivative with plain floats: the floor for any scalar engine."""
    factor = 1.0 + 1e-7
    start = time.perf_counter()
    value, derivatives = 1.0, []
    for _ in range(length):
        derivatives.append(factor)
        value = value * factor
    grad = 1.0
    for local in reversed(derivatives):
        grad *= local
    return time.perf_counter() - start


def tensor_chain(length: int) -> tuple[float, float]:
    start = time.perf_counter()
    x = mg.ones(4, requires_grad=True)
    out = x
    for _ in range(length):
        out = out * 1.0
    built = time.perf_counter()
    out.sum().backward()
    done = time.perf_counter()
    assert np.allclose(x.grad, 1.0)
    return built - start, done - built


def main() -> None:
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--length", type=int, default=1_000_000)
    arguments.add_argument("--tensor-length", type=int, default=100_000)
    args = arguments.parse_args()
    setup(args)
    if args.quick:
        args.length, args.tensor_length = 20_000, 2_000
    forward, backward, _ = scalar_chain(args.length)
    floor = plain_python_chain(args.length)
    print(f"\nValue chain of {args.length:,} multiplications")
    print(f"  build {forward:.2f} s, backward {backward:.2f} s; "
          f"plain-Python floats, forward + derivative: {floor:.2f} s "
          f"(minigrad total {(forward + backward) / floor:.1f}x)")
    forward, backward = tensor_chain(args.tensor_length)
    print(f"\nTensor chain of {args.tensor_length:,} multiplications (shape (4,))")
    print(f"  build {forward:.2f} s, backward {backward:.2f} s "
          f"({(forward + backward) / args.tensor_length * 1e6:.1f} µs per op, both passes)")


if __name__ == "__main__":
    main()
