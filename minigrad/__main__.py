"""The command line: ``minigrad --version``, ``minigrad demo`` (also ``python -m minigrad``)."""

from __future__ import annotations

import argparse
import random
import sys
import time

import minigrad as mg
from minigrad.data import make_moons


class _Neuron:
    def __init__(self, n_inputs: int, nonlinear: bool = True) -> None:
        self.w = [mg.Value(random.uniform(-1, 1)) for _ in range(n_inputs)]
        self.b = mg.Value(0.0)
        self.nonlinear = nonlinear

    def __call__(self, x: list) -> mg.Value:
        activation = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return activation.relu() if self.nonlinear else activation

    def parameters(self) -> list[mg.Value]:
        return self.w + [self.b]


class ScalarMLP:
    """micrograd's MLP, on minigrad's `Value`: layers of neurons, ReLU but for the last."""

    def __init__(self, n_inputs: int, sizes: list[int]) -> None:
        widths = [n_inputs] + sizes
        self.layers = [[_Neuron(widths[i], nonlinear=i != len(sizes) - 1)
                        for _ in range(widths[i + 1])] for i in range(len(sizes))]

    def __call__(self, x: list) -> mg.Value:
        for layer in self.layers:
            x = [neuron(x) for neuron in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[mg.Value]:
        return [p for layer in self.layers for neuron in layer for p in neuron.parameters()]


def scalar_demo(steps: int = 30, seed: int = 1337) -> float:
    """Train micrograd's 2-16-16-1 MLP on 100 two-moons points (hinge loss + L2, SGD)."""
    random.seed(seed)
    mg.manual_seed(seed)
    x, y = make_moons(100, noise=0.1)
    targets = y * 2 - 1  # {-1, +1} for the hinge loss
    model = ScalarMLP(2, [16, 16, 1])
    accuracy = 0.0
    for step in range(steps):
        start = time.perf_counter()
        scores = [model(list(map(mg.Value, row))) for row in x.tolist()]
        losses = [(1 + -int(t) * s).relu() for t, s in zip(targets, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        loss = data_loss + reg_loss
        accuracy = sum((s.data > 0) == (t > 0) for t, s in zip(targets, scores)) / len(targets)
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        lr = 1.0 - 0.9 * step / steps
        for p in model.parameters():
            p.data -= lr * p.grad
        print(f"step {step:3d}  loss {loss.data:.4f}  accuracy {accuracy:.0%}  "
              f"({time.perf_counter() - start:.2f}s)")
    return accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minigrad", description=__doc__)
    parser.add_argument("--version", action="version", version=f"minigrad {mg.__version__}")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="train a small network and print its progress")
    demo.add_argument("--steps", type=int, default=30)
    args = parser.parse_args(argv)
    if args.command == "demo":
        scalar_demo(args.steps)
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
