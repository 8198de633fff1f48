"""Tensor engine: one SGD training step of a small BatchNorm MLP, three ways.

Network: Linear-BatchNorm1d-ReLU-Linear-BatchNorm1d-ReLU-Linear, softmax cross-entropy,
SGD (lr 0.01), float32, in training mode (batch statistics, running statistics updated).
It is timed in minigrad, in hand-written NumPy (forward and backward derived by hand, the
floor minigrad's overhead is measured against) and, when installed, in PyTorch on the CPU.

    python benchmarks/tensor.py [--repeats 15] [--sizes small,medium,large]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import interleaved, machine, report, torch_sgd_step  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn  # noqa: E402
from minigrad.nn import functional as F  # noqa: E402

SIZES = {  # name: (batch, input, hidden, classes)
    "small": (32, 2, 16, 2),
    "medium": (128, 784, 256, 10),
    "large": (512, 1024, 1024, 10),
}
EPS, MOMENTUM, LR = 1e-5, 0.1, 0.01


def make_params(sizes: tuple[int, int, int, int], rng: np.random.Generator) -> list[np.ndarray]:
    """Weights in PyTorch's layout: W (out, in), b, and BatchNorm's gamma, beta."""
    _, n_in, hidden, classes = sizes
    params = []
    for fan_in, fan_out, batchnorm in [(n_in, hidden, True), (hidden, hidden, True),
                                       (hidden, classes, False)]:
        bound = 1 / np.sqrt(fan_in)
        params += [rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                   rng.uniform(-bound, bound, fan_out).astype(np.float32)]
        if batchnorm:
            params += [np.ones(fan_out, np.float32), np.zeros(fan_out, np.float32)]
    return params


class NumpyNet:
    """The same network with forward and backward written out by hand in NumPy."""

    def __init__(self, params: list[np.ndarray]) -> None:
        self.params = [p.copy() for p in params]
        hidden = params[0].shape[0]
        self.running = [[np.zeros(hidden, np.float32), np.ones(hidden, np.float32)]
                        for _ in range(2)]

    def _bn_forward(self, h, gamma, beta, running):
        n = h.shape[0]
        mean = h.mean(0)
        var = h.var(0)
        running[0] += MOMENTUM * (mean - running[0])
        running[1] += MOMENTUM * (var * (n / (n - 1)) - running[1])
        inv_std = 1 / np.sqrt(var + EPS)
        x_hat = (h - mean) * inv_std
        return gamma * x_hat + beta, (x_hat, inv_std, gamma)

    @staticmethod
    def _bn_backward(grad, cache):
        x_hat, inv_std, gamma = cache
        n = grad.shape[0]
        grad_gamma = (grad * x_hat).sum(0)
        grad_beta = grad.sum(0)
        grad_h = (gamma * inv_std / n) * (n * grad - grad_beta - x_hat * grad_gamma)
        return grad_h, grad_gamma, grad_beta

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        w1, b1, g1, be1, w2, b2, g2, be2, w3, b3 = self.params
        h1 = x @ w1.T + b1
        z1, cache1 = self._bn_forward(h1, g1, be1, self.running[0])
        a1 = np.maximum(z1, 0)
        h2 = a1 @ w2.T + b2
        z2, cache2 = self._bn_forward(h2, g2, be2, self.running[1])
        a2 = np.maximum(z2, 0)
        logits = a2 @ w3.T + b3
        shifted = logits - logits.max(1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(1, keepdims=True)
        rows = np.arange(len(y))
        loss = float(np.log(total[:, 0]).mean() - shifted[rows, y].mean())

        grad_logits = exp / total
        grad_logits[rows, y] -= 1
        grad_logits /= len(y)
        grads_w3, grad_b3 = grad_logits.T @ a2, grad_logits.sum(0)
        grad_z2 = (grad_logits @ w3) * (z2 > 0)
        grad_h2, grad_g2, grad_be2 = self._bn_backward(grad_z2, cache2)
        grad_w2, grad_b2 = grad_h2.T @ a1, grad_h2.sum(0)
        grad_z1 = (grad_h2 @ w2) * (z1 > 0)
        grad_h1, grad_g1, grad_be1 = self._bn_backward(grad_z1, cache1)
        grad_w1, grad_b1 = grad_h1.T @ x, grad_h1.sum(0)
        grads = [grad_w1, grad_b1, grad_g1, grad_be1, grad_w2, grad_b2, grad_g2, grad_be2,
                 grads_w3, grad_b3]
        for param, grad in zip(self.params, grads):
            param -= LR * grad
        return loss


def minigrad_net(params: list[np.ndarray]) -> tuple[nn.Module, mg.optim.SGD]:
    hidden, n_in = params[0].shape
    classes = params[8].shape[0]
    model = nn.Sequential(nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                          nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                          nn.Linear(hidden, classes))
    for parameter, value in zip(model.parameters(), params):
        parameter.data = value.copy()
    return model, mg.optim.SGD(model.parameters(), lr=LR)


def minigrad_step(model: nn.Module, optimizer: mg.optim.SGD, x: mg.Tensor, y: np.ndarray) -> float:
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def torch_net(params: list[np.ndarray]):  # pragma: no cover - optional oracle
    import torch

    hidden, n_in = params[0].shape
    classes = params[8].shape[0]
    tnn = torch.nn
    model = tnn.Sequential(tnn.Linear(n_in, hidden), tnn.BatchNorm1d(hidden), tnn.ReLU(),
                           tnn.Linear(hidden, hidden), tnn.BatchNorm1d(hidden), tnn.ReLU(),
                           tnn.Linear(hidden, classes))
    with torch.no_grad():
        for parameter, value in zip(model.parameters(), params):
            parameter.copy_(torch.from_numpy(value))
    return torch_sgd_step(model, LR)


def run_size(name: str, repeats: int) -> dict[str, float]:
    sizes = SIZES[name]
    rng = np.random.default_rng(0)
    params = make_params(sizes, rng)
    batch, n_in, _, classes = sizes
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    y = rng.integers(0, classes, batch)

    reference = NumpyNet(params)
    model, optimizer = minigrad_net(params)
    x_tensor = mg.tensor(x)
    # Both start from the same weights: their first losses must agree.
    ours, theirs = minigrad_step(model, optimizer, x_tensor, y), reference.step(x, y)
    assert abs(ours - theirs) < 1e-4 * max(1.0, abs(theirs)), (ours, theirs)
    cases = {"minigrad": lambda: minigrad_step(model, optimizer, x_tensor, y),
             "hand-written NumPy": lambda: reference.step(x, y)}
    try:
        import torch
    except ImportError:
        pass
    else:
        step = torch_net(params)
        x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)
        cases["PyTorch CPU"] = lambda: step(x_torch, y_torch)
    medians = interleaved(cases, repeats, warmup=2)
    report(f"SGD step, B={batch} {n_in}->{sizes[2]}->{sizes[2]}->{classes} (Linear-BN-ReLU x2, "
           "Linear, cross-entropy)", medians, "hand-written NumPy")
    if "PyTorch CPU" in medians:
        print(f"  minigrad / PyTorch: {medians['minigrad'] / medians['PyTorch CPU']:.2f}")
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--sizes", default="small,medium,large")
    args = parser.parse_args()
    print(machine())
    for name in args.sizes.split(","):
        run_size(name, args.repeats if name != "large" else max(3, args.repeats // 3))


if __name__ == "__main__":
    main()
