"""How the cost of a training step scales: with the batch (16 -> 1024) and with depth
(2 -> 64 blocks), minigrad against hand-written NumPy and PyTorch CPU (when installed).

Batch scaling: tensor.py's MLP, 784-256-256-10, B = 16 ... 1024: cost per sample.
Depth scaling: B=128, 64 inputs, D blocks of Linear(256)-BatchNorm1d-ReLU, then Linear 10:
cost per block. A fixed per-op overhead shows as a cost per sample that falls with B;
a per-node cost as a constant cost per block.

    python benchmarks/scaling.py [--threads both] [--rounds 5] [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    compare,
    minigrad_step,
    numpy_cross_entropy,
    parser,
    setup,
    thread_limit,
    thread_modes,
)
from tensor import EPS, LR, MOMENTUM, torch_sgd_step  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn  # noqa: E402

BATCHES = [16, 32, 64, 128, 256, 512, 1024]
DEPTHS = [2, 4, 8, 16, 32, 64]


def layer_widths(n_in: int, width: int, depth: int, classes: int) -> list[tuple[int, int]]:
    return [(n_in, width)] + [(width, width)] * (depth - 1) + [(width, classes)]


def make_params(widths, rng) -> list[np.ndarray]:
    """PyTorch's layout and default init: per block W, b, γ, β; then the last W, b."""
    params = []
    for index, (fan_in, fan_out) in enumerate(widths):
        bound = 1 / np.sqrt(fan_in)
        params += [rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                   rng.uniform(-bound, bound, fan_out).astype(np.float32)]
        if index < len(widths) - 1:
            params += [np.ones(fan_out, np.float32), np.zeros(fan_out, np.float32)]
    return params


class DeepNumpyNet:
    """D blocks of Linear-BatchNorm-ReLU and a last Linear, forward and backward by hand."""

    def __init__(self, params, depth: int) -> None:
        self.params, self.depth = [p.copy() for p in params], depth
        self.running = [[np.zeros(len(params[4 * i + 2]), np.float32),
                         np.ones(len(params[4 * i + 2]), np.float32)] for i in range(depth)]

    def step(self, x, y) -> float:
        caches, a = [], x
        for block in range(self.depth):
            w, b, gamma, beta = self.params[4 * block:4 * block + 4]
            h = a @ w.T + b
            n = len(h)
            mean, var = h.mean(0), h.var(0)
            running = self.running[block]
            running[0] += MOMENTUM * (mean - running[0])
            running[1] += MOMENTUM * (var * (n / (n - 1)) - running[1])
            inv_std = 1 / np.sqrt(var + EPS)
            x_hat = (h - mean) * inv_std
            z = gamma * x_hat + beta
            caches.append((a, x_hat, inv_std, z))
            a = np.maximum(z, 0)
        w, b = self.params[-2:]
        logits = a @ w.T + b
        loss, grad = numpy_cross_entropy(logits, y)
        grads = [grad.T @ a, grad.sum(0)]
        grad = grad @ w
        for block in reversed(range(self.depth)):
            w, _, gamma, _ = self.params[4 * block:4 * block + 4]
            a_in, x_hat, inv_std, z = caches[block]
            grad = grad * (z > 0)
            n = len(grad)
            grad_gamma, grad_beta = (grad * x_hat).sum(0), grad.sum(0)
            grad_h = (gamma * inv_std / n) * (n * grad - grad_beta - x_hat * grad_gamma)
            grads = [grad_h.T @ a_in, grad_h.sum(0), grad_gamma, grad_beta] + grads
            if block:
                grad = grad_h @ w
        for param, gradient in zip(self.params, grads):
            param -= LR * gradient
        return loss


def minigrad_model(widths, params) -> nn.Sequential:
    layers: list[nn.Module] = []
    for fan_in, fan_out in widths[:-1]:
        layers += [nn.Linear(fan_in, fan_out), nn.BatchNorm1d(fan_out), nn.ReLU()]
    layers.append(nn.Linear(*widths[-1]))
    model = nn.Sequential(*layers)
    for parameter, value in zip(model.parameters(), params):
        parameter.data = value.copy()
    return model


def torch_model(widths, params):  # pragma: no cover - optional peer
    import torch

    layers: list = []
    for fan_in, fan_out in widths[:-1]:
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.BatchNorm1d(fan_out),
                   torch.nn.ReLU()]
    layers.append(torch.nn.Linear(*widths[-1]))
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for parameter, value in zip(model.parameters(), params):
            parameter.copy_(torch.from_numpy(value))
    return model


def cases_for(batch: int, n_in: int, width: int, depth: int, classes: int = 10):
    rng = np.random.default_rng(0)
    widths = layer_widths(n_in, width, depth, classes)
    params = make_params(widths, rng)
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    y = rng.integers(0, classes, batch)
    reference = DeepNumpyNet(params, depth)
    model = minigrad_model(widths, params)
    optimizer = mg.optim.SGD(model.parameters(), lr=LR)
    x_tensor = mg.tensor(x)

    def ours() -> float:
        return minigrad_step(model, optimizer, x_tensor, y)

    cases = {"NumPy": lambda: reference.step(x, y), "minigrad": ours}
    try:
        import torch
    except ImportError:
        pass
    else:
        step = torch_sgd_step(torch_model(widths, params), LR)
        x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)
        cases["PyTorch"] = lambda: step(x_torch, y_torch)
    first = {name: run() for name, run in cases.items()}
    for loss in first.values():
        assert abs(loss - first["NumPy"]) < 1e-3 * max(1.0, loss), first
    return cases


def table(title: str, unit: str, rows) -> None:
    print(f"\n{title}")
    names = list(rows[0][1])
    print(f"  {'':>6}" + "".join(f"{name + ' µs/' + unit:>22}" for name in names)
          + "".join(f"{'minigrad/' + name:>22}" for name in names if name != "minigrad"))
    for label, per_unit, ratios in rows:
        print(f"  {label:>6}" + "".join(f"{per_unit[name]:22.2f}" for name in names)
              + "".join(f"{ratios[name]:>22}" for name in names if name != "minigrad"))


def measure(cases, count: int, rounds: int):
    timings = compare(cases, "NumPy", rounds)
    per_unit = {name: timing.seconds / count * 1e6 for name, timing in timings.items()}
    ours = timings["minigrad"]
    ratios = {"NumPy": f"{ours.ratio:.2f} [{ours.ratio_min:.2f}-{ours.ratio_max:.2f}]"}
    if "PyTorch" in timings:
        ratios["PyTorch"] = f"{ours.seconds / timings['PyTorch'].seconds:.2f}"
    return per_unit, ratios


def main() -> None:
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--rounds", type=int, default=5)
    args = arguments.parse_args()
    setup(args)
    batches, depths = ([16, 64], [2, 4]) if args.quick else (BATCHES, DEPTHS)
    rounds = 2 if args.quick else args.rounds
    try:
        import torch  # noqa: F401
    except ImportError:
        print("  (PyTorch not installed: skipped; pip install torch)")
    for label, threads in thread_modes(args.threads):
        with thread_limit(threads):
            rows = []
            for batch in batches:
                per_unit, ratios = measure(cases_for(batch, 784, 256, 2), batch, rounds)
                rows.append((f"B={batch}", per_unit, ratios))
            table(f"{label}: batch scaling, 784-256-256-10 BN MLP (cost per sample; ratios: "
                  "to NumPy median of per-round [range], to PyTorch of medians)", "sample", rows)
            rows = []
            for depth in depths:
                per_unit, ratios = measure(cases_for(128, 64, 256, depth), depth, rounds)
                rows.append((f"D={depth}", per_unit, ratios))
            table(f"{label}: depth scaling, B=128, D x (Linear 256-BN-ReLU) + Linear 10 "
                  "(cost per block)", "block", rows)


if __name__ == "__main__":
    main()
