"""Tensor engine: one SGD training step of a BatchNorm MLP, minigrad against its peers.

Network: Linear-BatchNorm1d-ReLU-Linear-BatchNorm1d-ReLU-Linear, softmax cross-entropy,
SGD (lr 0.01), float32, in training mode (batch statistics, running statistics updated).
Peers, all from the same weights (their first losses are checked to agree):

    hand-written NumPy   forward and backward derived by hand: the floor minigrad's
                         overhead is measured against (the reference of every ratio)
    PyTorch CPU          when installed
    JAX (jit)            when installed: the whole step compiled by XLA (a reference point)
    HIPS autograd        when installed: NumPy traced by autograd (a reference point;
                         running statistics are not updated in it)

    python benchmarks/tensor.py [--sizes small,medium,large] [--threads both] [--quick]
    python benchmarks/tensor.py --steps-only N [--sizes small]   (for valgrind: N minigrad
        steps of the first size, nothing timed; instructions per step = the difference of
        two counts, e.g. N = 1200 and 200, divided by 1,000)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    Limits,
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

import minigrad as mg  # noqa: E402
from minigrad import nn  # noqa: E402

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
        loss, grad_logits = numpy_cross_entropy(logits, y)
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


def torch_sgd_step(model, lr: float):  # pragma: no cover - PyTorch is optional
    """A PyTorch training step on `model` (SGD, cross-entropy) as a function of (x, y)."""
    import torch

    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def step(x, y) -> float:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    step.optimizer, step.model = optimizer, model
    return step


def torch_net(params: list[np.ndarray]):  # pragma: no cover - optional peer
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


def functional_loss(xp, params, x, y):
    """The network as one function of its parameters, for JAX and HIPS autograd (`xp` is
    jax.numpy or autograd.numpy); returns the loss and the two layers' batch statistics."""
    w1, b1, g1, be1, w2, b2, g2, be2, w3, b3 = params

    def batch_norm(h, gamma, beta):
        mean, var = xp.mean(h, axis=0), xp.var(h, axis=0)
        return gamma * (h - mean) / xp.sqrt(var + EPS) + beta, (mean, var)

    z1, stats1 = batch_norm(xp.dot(x, w1.T) + b1, g1, be1)
    z2, stats2 = batch_norm(xp.dot(xp.maximum(z1, 0), w2.T) + b2, g2, be2)
    logits = xp.dot(xp.maximum(z2, 0), w3.T) + b3
    shifted = logits - xp.max(logits, axis=1, keepdims=True)
    log_total = xp.log(xp.sum(xp.exp(shifted), axis=1))
    loss = xp.mean(log_total - shifted[np.arange(len(y)), y])
    return loss, (stats1, stats2)


def jax_net(params: list[np.ndarray]):  # pragma: no cover - optional peer
    """The step as one jit-compiled JAX function; returns step(x, y) -> loss."""
    import jax
    import jax.numpy as jnp

    n = None

    @jax.jit
    def step(params, running, x, y):
        (loss, stats), grads = jax.value_and_grad(
            lambda p: functional_loss(jnp, p, x, y), has_aux=True)(params)
        params = [p - LR * g for p, g in zip(params, grads)]
        running = [(m + MOMENTUM * (mean - m), v + MOMENTUM * (var * n / (n - 1) - v))
                   for (m, v), (mean, var) in zip(running, stats)]
        return params, running, loss

    hidden = params[0].shape[0]
    state = {"params": [jnp.asarray(p) for p in params],
             "running": [(jnp.zeros(hidden), jnp.ones(hidden))] * 2}

    def run(x, y) -> float:
        nonlocal n
        n = x.shape[0]
        state["params"], state["running"], loss = step(state["params"], state["running"], x, y)
        return float(loss.block_until_ready())

    return run


def autograd_net(params: list[np.ndarray]):  # pragma: no cover - optional peer
    """The step traced by HIPS autograd each call; returns step(x, y) -> loss."""
    import autograd
    import autograd.numpy as anp

    value_and_grad = autograd.value_and_grad(lambda p, x, y: functional_loss(anp, p, x, y)[0])
    state = [p.copy() for p in params]

    def run(x, y) -> float:
        loss, grads = value_and_grad(state, x, y)
        for p, g in zip(state, grads):
            p -= LR * g
        return float(loss)

    return run


def peers(params: list[np.ndarray], x: np.ndarray, y: np.ndarray,
          names: tuple[str, ...] = ("PyTorch CPU", "JAX (jit)", "HIPS autograd")
          ) -> dict[str, object]:
    """The installed peers as step functions of no arguments; a note for each missing one."""
    modules = {"PyTorch CPU": "torch", "JAX (jit)": "jax", "HIPS autograd": "autograd"}
    cases = {}
    for name in names:
        try:
            __import__(modules[name])
        except ImportError:
            print(f"  ({name} not installed: skipped; pip install {modules[name]})")
            continue
        if name == "PyTorch CPU":
            import torch

            step, args = torch_net(params), (torch.from_numpy(x), torch.from_numpy(y))
        elif name == "JAX (jit)":
            import jax.numpy as jnp

            step, args = jax_net(params), (jnp.asarray(x), jnp.asarray(y))
        else:
            step, args = autograd_net(params), (x, y)
        cases[name] = (lambda step=step, args=args: step(*args))
    return cases


def flops_and_bytes(sizes: tuple[int, int, int, int]) -> tuple[float, float]:
    """The step's matmul FLOPs (forward 2·B·in·out per layer, backward twice that but no
    gradient for the data) and an estimate of its elementwise traffic: 17 passes (read +
    write, 4 bytes each) over every hidden activation, counted from NumpyNet's code (bias,
    BatchNorm, ReLU forward and backward), plus reading, updating and writing each parameter
    and its gradient (20 bytes)."""
    batch, n_in, hidden, classes = sizes
    layers = [(n_in, hidden), (hidden, hidden), (hidden, classes)]
    flops = sum(2 * batch * a * b * (2 if i == 0 else 3) for i, (a, b) in enumerate(layers))
    params = sum(a * b + b for a, b in layers) + 4 * hidden
    return flops, 17 * 8 * batch * hidden * 2 + 20 * params


TARGETS = {"small": (1.4, 1.0), "medium": (1.05, 1.0), "large": (1.03, 1.0)}


def run_size(name: str, rounds: int, limits: Limits | None = None,
             sizes: tuple[int, int, int, int] | None = None):
    sizes = sizes or SIZES[name]
    rng = np.random.default_rng(0)
    params = make_params(sizes, rng)
    batch, n_in, _, classes = sizes
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    y = rng.integers(0, classes, batch)

    reference = NumpyNet(params)
    model, optimizer = minigrad_net(params)
    x_tensor = mg.tensor(x)
    cases = {"hand-written NumPy": lambda: reference.step(x, y),
             "minigrad": lambda: minigrad_step(model, optimizer, x_tensor, y)}
    others = peers(params, x, y)
    first = {case: run() for case, run in {**cases, **others}.items()}
    for case, loss in first.items():  # same weights, same data: the same first loss
        assert abs(loss - first["hand-written NumPy"]) < 1e-4 * max(1.0, loss), (case, first)
    timings = compare({**cases, **others}, "hand-written NumPy", rounds)
    flops, traffic = flops_and_bytes(sizes)
    report(f"SGD step, B={batch} {n_in}->{sizes[2]}->{sizes[2]}->{classes} (Linear-BN-ReLU x2, "
           f"Linear, cross-entropy); {flops / 1e6:.1f} MFLOP, ~{traffic / 2**20:.1f} MiB "
           "elementwise", timings, "hand-written NumPy",
           bound=limits.bound(flops, traffic, 4 * batch * sizes[2]) if limits else None)
    if "PyTorch CPU" in timings:
        ours, theirs = timings["minigrad"], timings["PyTorch CPU"]
        print(f"  minigrad / PyTorch CPU: {ours.seconds / theirs.seconds:.2f}x "
              "(ratio of medians)")
    return timings


def verdicts(name: str, timings) -> str:
    numpy_target, torch_target = TARGETS[name]
    ours = timings["minigrad"]
    text = f"{ours.ratio:.3f}x NumPy (target <= {numpy_target}: " + (
        "met" if ours.ratio <= numpy_target else "NOT met") + ")"
    if "PyTorch CPU" in timings:
        ratio = ours.seconds / timings["PyTorch CPU"].seconds
        text += f", {ratio:.3f}x PyTorch (target <= {torch_target}: " + (
            "met" if ratio <= torch_target else "NOT met") + ")"
    return text


def steps_only(steps: int, sizes: tuple[int, int, int, int]) -> None:
    """`steps` minigrad training steps of the benchmark's network, same data each step, and
    nothing else: what an instruction count (valgrind) of the step measures."""
    rng = np.random.default_rng(0)
    model, optimizer = minigrad_net(make_params(sizes, rng))
    x = mg.tensor(rng.standard_normal((sizes[0], sizes[1])).astype(np.float32))
    y = rng.integers(0, sizes[3], sizes[0])
    for _ in range(steps):
        minigrad_step(model, optimizer, x, y)
    print(f"{steps} steps, B={sizes[0]}")


def main() -> None:
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--sizes", default="small,medium,large")
    arguments.add_argument("--rounds", type=int, default=11)
    arguments.add_argument("--steps-only", type=int, default=None, metavar="N",
                           help="only run N minigrad training steps (for valgrind), then stop")
    args = arguments.parse_args()
    if args.steps_only is not None:
        steps_only(args.steps_only, SIZES[args.sizes.split(",")[0]])
        return
    setup(args)
    rounds = 3 if args.quick else args.rounds
    summary = []
    for label, threads in thread_modes(args.threads):
        with thread_limit(threads):
            limits = measure_limits()
            print(f"\n===== {label}: {limits}")
            for name in args.sizes.split(","):
                sizes = SIZES[name]
                if args.quick:  # a smoke run: same code, small widths
                    sizes = (min(sizes[0], 64), min(sizes[1], 64), min(sizes[2], 64), sizes[3])
                timings = run_size(name, rounds if name != "large" else max(3, rounds // 2),
                                   limits, sizes)
                verdict = "(quick run: no verdict)" if args.quick else verdicts(name, timings)
                summary.append(f"  {label:<16} {name:<7} {verdict}")
    print("\nsummary (ratios: median of per-round ratios)")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
