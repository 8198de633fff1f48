"""A CNN training step with BatchNorm2d: minigrad against a channels-last NumPy im2col
network written by hand, and PyTorch CPU (when installed).

(B, 1, S, S) images -> Conv 3x3 (16, padding 1) -> BatchNorm2d -> ReLU -> MaxPool 2
-> Conv 3x3 (32, padding 1) -> BatchNorm2d -> ReLU -> MaxPool 2 -> Linear 10,
cross-entropy, SGD (lr 0.01), float32, training mode; B=64, S = 8 and 28.
All three start from the same weights and must compute the same first loss.

The NumPy reference keeps images channels-last (N, H, W, C), the layout in which im2col
and BatchNorm need no transposes: the windows of a padded image reshape into a matrix
whose product with the weights is already (N·H·W, C_out), and per-channel statistics
reduce over the leading axes.

    python benchmarks/cnn.py [--sizes 8,28] [--threads both] [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    compare,
    measure_limits,
    minigrad_step,
    numpy_cross_entropy,
    parser,
    report,
    setup,
    thread_limit,
    thread_modes,
)
from tensor import torch_sgd_step  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn  # noqa: E402

BATCH, CLASSES, LR, EPS, MOMENTUM = 64, 10, 0.01, 1e-5, 0.1
CHANNELS = (1, 16, 32)


def minigrad_cnn(size: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * (size // 4) ** 2, CLASSES))


def torch_cnn(model: nn.Module, size: int):  # pragma: no cover - optional peer
    import torch

    tnn = torch.nn
    reference = tnn.Sequential(
        tnn.Conv2d(1, 16, 3, padding=1), tnn.BatchNorm2d(16), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(16, 32, 3, padding=1), tnn.BatchNorm2d(32), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(32 * (size // 4) ** 2, CLASSES))
    weights = {key: torch.from_numpy(np.array(value)) for key, value in model.state_dict().items()}
    reference.load_state_dict(weights)
    return torch_sgd_step(reference, LR)


class NumpyCNN:
    """The same network, channels-last, forward and backward by hand."""

    def __init__(self, model: nn.Sequential, size: int) -> None:
        conv1, bn1, conv2, bn2, linear = model[0], model[1], model[4], model[5], model[9]
        # Conv weights as (C·kh·kw, O) matrices, rows in the windows' (C, kh, kw) order.
        self.conv = [conv.weight.data.reshape(conv.out_channels, -1).T.copy()
                     for conv in (conv1, conv2)]
        self.conv_bias = [conv.bias.data.copy() for conv in (conv1, conv2)]
        self.gamma = [bn.weight.data.copy() for bn in (bn1, bn2)]
        self.beta = [bn.bias.data.copy() for bn in (bn1, bn2)]
        self.running = [[np.zeros(c, np.float32), np.ones(c, np.float32)] for c in (16, 32)]
        side = size // 4  # the linear layer reads (H, W, C) where minigrad reads (C, H, W)
        self.linear = (linear.weight.data.reshape(CLASSES, 32, side, side)
                       .transpose(0, 2, 3, 1).reshape(CLASSES, -1).copy())
        self.linear_bias = linear.bias.data.copy()

    @staticmethod
    def _conv_forward(x, weight, bias):
        n, h, w, c = x.shape
        padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        cols = sliding_window_view(padded, (3, 3), axis=(1, 2)).reshape(n * h * w, c * 9)
        return (cols @ weight + bias).reshape(n, h, w, -1), cols

    @staticmethod
    def _conv_backward(grad, cols, weight, x_shape, need_input_grad):
        n, h, w, c = x_shape
        rows = grad.reshape(n * h * w, -1)
        grad_weight, grad_bias = cols.T @ rows, rows.sum(0)
        if not need_input_grad:
            return None, grad_weight, grad_bias
        grad_cols = (rows @ weight.T).reshape(n, h, w, c, 3, 3)
        grad_padded = np.zeros((n, h + 2, w + 2, c), np.float32)
        for i in range(3):
            for j in range(3):
                grad_padded[:, i:i + h, j:j + w] += grad_cols[..., i, j]
        return grad_padded[:, 1:-1, 1:-1], grad_weight, grad_bias

    def _bn_forward(self, h, layer):
        rows = h.reshape(-1, h.shape[-1])  # channels-last: (N·H·W, C), a free view
        count = len(rows)
        mean, var = rows.mean(0), rows.var(0)
        running = self.running[layer]
        running[0] += MOMENTUM * (mean - running[0])
        running[1] += MOMENTUM * (var * (count / (count - 1)) - running[1])
        inv_std = 1 / np.sqrt(var + EPS)
        x_hat = (rows - mean) * inv_std
        return (self.gamma[layer] * x_hat + self.beta[layer]).reshape(h.shape), (x_hat, inv_std)

    def _bn_backward(self, grad, cache, layer):
        x_hat, inv_std = cache
        rows = grad.reshape(x_hat.shape)
        count = len(rows)
        grad_gamma, grad_beta = (rows * x_hat).sum(0), rows.sum(0)
        grad_h = (self.gamma[layer] * inv_std / count) * (
            count * rows - grad_beta - x_hat * grad_gamma)
        return grad_h.reshape(grad.shape), grad_gamma, grad_beta

    # 2x2 max pool as the maximum of four strided slices (continuous inputs: no ties).
    QUADRANTS = [(slice(i, None, 2), slice(j, None, 2)) for i in (0, 1) for j in (0, 1)]

    def _pool_forward(self, a):
        out = a[:, 0::2, 0::2].copy()
        for rows, cols in self.QUADRANTS[1:]:
            np.maximum(out, a[:, rows, cols], out=out)
        return out, (a, out)

    def _pool_backward(self, grad, cache):
        a, out = cache
        grad_a = np.empty_like(a)
        for rows, cols in self.QUADRANTS:
            np.multiply(grad, a[:, rows, cols] == out, out=grad_a[:, rows, cols])
        return grad_a

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        caches, a = [], x
        for layer in range(2):
            h, cols = self._conv_forward(a, self.conv[layer], self.conv_bias[layer])
            z, bn_cache = self._bn_forward(h, layer)
            r = np.maximum(z, 0)
            pooled, pool_cache = self._pool_forward(r)
            caches.append((a.shape, cols, bn_cache, z, pool_cache))
            a = pooled
        flat = a.reshape(len(a), -1)
        logits = flat @ self.linear.T + self.linear_bias
        loss, grad_logits = numpy_cross_entropy(logits, y)
        grad_linear, grad_linear_bias = grad_logits.T @ flat, grad_logits.sum(0)
        grad = (grad_logits @ self.linear).reshape(a.shape)
        updates = [(self.linear, grad_linear), (self.linear_bias, grad_linear_bias)]
        for layer in (1, 0):
            x_shape, cols, bn_cache, z, pool_cache = caches[layer]
            grad = self._pool_backward(grad, pool_cache) * (z > 0)
            grad, grad_gamma, grad_beta = self._bn_backward(grad, bn_cache, layer)
            grad, grad_weight, grad_bias = self._conv_backward(
                grad, cols, self.conv[layer], x_shape, need_input_grad=layer > 0)
            updates += [(self.gamma[layer], grad_gamma), (self.beta[layer], grad_beta),
                        (self.conv[layer], grad_weight), (self.conv_bias[layer], grad_bias)]
        for parameter, gradient in updates:
            parameter -= LR * gradient
        return loss


def flops_and_bytes(size: int) -> tuple[float, float]:
    """Matmul FLOPs of the step (convs: forward, dW, dx except for the first; the linear
    layer) and an estimate of its elementwise traffic: im2col and col2im (write + read of
    the column matrix), and 20 passes of 8 bytes over each conv output (bias, BatchNorm,
    ReLU, pool, forward and backward)."""
    pixels = [size * size, (size // 2) ** 2]
    flops = traffic = 0.0
    for layer, (c, o) in enumerate(zip(CHANNELS[:-1], CHANNELS[1:])):
        matmul = 2 * BATCH * pixels[layer] * o * c * 9
        flops += matmul * (2 if layer == 0 else 3)
        columns = 4 * BATCH * pixels[layer] * c * 9
        traffic += 2 * columns * (1 if layer == 0 else 2) + 20 * 8 * BATCH * pixels[layer] * o
    features = 32 * (size // 4) ** 2
    flops += 3 * 2 * BATCH * features * CLASSES
    return flops, traffic


def run_size(size: int, rounds: int, limits) -> dict:
    rng = mg.manual_seed(0)
    x = rng.standard_normal((BATCH, 1, size, size)).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    model = minigrad_cnn(size)
    reference = NumpyCNN(model, size)
    x_channels_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    optimizer = mg.optim.SGD(model.parameters(), lr=LR)
    x_tensor = mg.tensor(x)
    cases = {}
    try:
        import torch
    except ImportError:
        print("  (PyTorch not installed: skipped; pip install torch)")
    else:
        step = torch_cnn(model, size)
        x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)
        cases["PyTorch CPU"] = lambda: step(x_torch, y_torch)

    def ours() -> float:
        return minigrad_step(model, optimizer, x_tensor, y)

    cases = {"NumPy channels-last": lambda: reference.step(x_channels_last, y),
             "minigrad": ours, **cases}
    first = {name: run() for name, run in cases.items()}
    for loss in first.values():
        assert abs(loss - first["minigrad"]) < 1e-4, first
    timings = compare(cases, "NumPy channels-last", rounds)
    flops, traffic = flops_and_bytes(size)
    report(f"CNN step, B={BATCH} 1x{size}x{size}, (conv-BN-ReLU-maxpool) x2, linear; "
           f"{flops / 1e6:.0f} MFLOP, ~{traffic / 2**20:.0f} MiB elementwise", timings,
           "NumPy channels-last", bound=limits.bound(flops, traffic, 4 * BATCH * 16 * size**2))
    if "PyTorch CPU" in timings:
        ratio = timings["minigrad"].seconds / timings["PyTorch CPU"].seconds
        print(f"  minigrad / PyTorch CPU: {ratio:.2f}x (ratio of medians)")
    return timings


def main() -> None:
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--sizes", default="8,28")
    arguments.add_argument("--rounds", type=int, default=11)
    args = arguments.parse_args()
    setup(args)
    summary = []
    for label, threads in thread_modes(args.threads):
        with thread_limit(threads):
            limits = measure_limits()
            print(f"\n===== {label}: {limits}")
            for size in map(int, args.sizes.split(",")):
                if args.quick:
                    size = min(size, 8)
                timings = run_size(size, 3 if args.quick else args.rounds, limits)
                ours = timings["minigrad"]
                met = "met" if ours.ratio <= 1.1 else "NOT met"
                text = f"{ours.ratio:.3f}x NumPy channels-last (target <= 1.1: {met})"
                if "PyTorch CPU" in timings:
                    ratio = ours.seconds / timings["PyTorch CPU"].seconds
                    met = "met" if ratio <= 1.5 else "NOT met"
                    text += f", {ratio:.3f}x PyTorch (target <= 1.5: {met})"
                if args.quick:
                    text = "(quick run: no verdict)"
                summary.append(f"  {label:<16} {size}x{size}  {text}")
    print("\nsummary (ratios to NumPy: median of per-round ratios)")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
