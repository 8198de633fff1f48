"""BatchNorm: fused vs composed, forward + backward in training mode, against hand-written NumPy.

Each case runs one training-mode forward (batch statistics, running statistics updated)
and one backward with a fixed upstream gradient, and ends with dx, dγ and dβ computed:

    numpy (hand-written)    the textbook forward and backward in NumPy (the reference)
    numpy (fused's passes)  NumPy doing exactly what the fused op does, without the engine:
                            what is left between it and "minigrad fused" is engine overhead
    minigrad fused          nn.BatchNorm1d/2d(implementation="fused"): one op
    minigrad composed       nn.BatchNorm1d/2d(implementation="composed"): primitive ops

Before timing, every case is checked to produce the same output and gradients. After
timing, each case's minor page faults per call are counted: with glibc's default malloc,
memory freed at the end of a call may be handed back to the kernel and fault in again
(zeroed) on the next call, which can cost more than the arithmetic. Importing minigrad
asks glibc to keep freed memory (minigrad/allocator.py); run with MINIGRAD_MALLOC=default
to see the default allocator instead.

    python benchmarks/norm.py [--repeats 21] [--dtype float32]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import interleaved, machine, report  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn  # noqa: E402

SHAPES = [(128, 256), (1024, 1024), (64, 32, 16, 16)]
EPS, MOMENTUM = 1e-5, 0.1
REFERENCE = "numpy (hand-written)"


def numpy_textbook(x, gamma, beta, running_mean, running_var, grad_out):
    """Batch normalisation forward and backward as one would write it by hand in NumPy
    (Ioffe & Szegedy 2015, Algorithm 1 and the simplified backward)."""
    axes = (0, *range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    m = x.size // x.shape[1]
    gamma, beta = gamma.reshape(shape), beta.reshape(shape)
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred**2).mean(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(var + EPS)
    x_hat = centred * inv_std
    out = gamma * x_hat + beta
    running_mean[:] = (1 - MOMENTUM) * running_mean + MOMENTUM * mean.ravel()
    running_var[:] = (1 - MOMENTUM) * running_var + MOMENTUM * var.ravel() * m / (m - 1)
    grad_beta = grad_out.sum(axis=axes, keepdims=True)
    grad_gamma = (grad_out * x_hat).sum(axis=axes, keepdims=True)
    grad_x = (gamma * inv_std / m) * (m * grad_out - grad_beta - x_hat * grad_gamma)
    return out, grad_x, grad_gamma.ravel(), grad_beta.ravel()


def numpy_fused_passes(x, gamma, beta, running_mean, running_var, grad_out):
    """The fused op's own sequence of NumPy calls (minigrad/ops/normalization.py), inlined."""
    axes = (0, *range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    n, c = x.shape[:2]
    m = x.size // c
    mean = x.sum(axis=axes, keepdims=True)
    mean /= m
    centred = x - mean
    flat = centred.reshape(n, c, -1)
    var = np.einsum("ncl,ncl->c", flat, flat).reshape(shape) / m
    inv_std = 1 / np.sqrt(var + EPS)
    running_mean *= 1 - MOMENTUM
    running_mean += MOMENTUM * mean.ravel()
    running_var *= 1 - MOMENTUM
    running_var += (MOMENTUM * m / (m - 1)) * var.ravel()
    scale = gamma.reshape(shape) * inv_std
    out = centred * scale
    out += beta.reshape(shape)
    grad_beta = grad_out.sum(axis=axes, keepdims=True)
    grad_gamma = np.einsum("ncl,ncl->c", grad_out.reshape(n, c, -1), flat).reshape(shape)
    grad_gamma *= inv_std
    grad_x = centred * (grad_gamma * inv_std / -m)
    grad_x += grad_out
    grad_x -= grad_beta / m
    grad_x *= scale
    return out, grad_x, grad_gamma.ravel(), grad_beta.ravel()


def minigrad_case(x_data, grad_out, implementation):
    """A closure running one forward + backward of a minigrad BatchNorm module."""
    layer = (nn.BatchNorm1d if x_data.ndim < 4 else nn.BatchNorm2d)(
        x_data.shape[1], eps=EPS, momentum=MOMENTUM, implementation=implementation
    ).to_dtype(x_data.dtype)
    x = mg.Tensor(x_data, requires_grad=True)

    def run():
        x.grad = layer.weight.grad = layer.bias.grad = None  # zero_grad, as a training loop does
        out = layer(x)
        out.backward(grad_out)
        return out.data, x.grad, layer.weight.grad, layer.bias.grad

    return run


def numpy_case(function, x, grad_out):
    c = x.shape[1]
    gamma, beta = np.ones(c, x.dtype), np.zeros(c, x.dtype)
    running_mean, running_var = np.zeros(c, x.dtype), np.ones(c, x.dtype)
    return lambda: function(x, gamma, beta, running_mean, running_var, grad_out)


def _minor_page_faults() -> int:
    """Fresh pages the kernel has mapped into this process so far (0 where unknown)."""
    try:
        import resource
    except ImportError:  # not on Unix
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _repeat(run, calls: int, log: list[tuple[float, int]]):
    """`calls` back-to-back calls of `run` as one sample; logs its seconds and page faults."""
    def repeated():
        faults, start = _minor_page_faults(), time.perf_counter()
        for _ in range(calls):
            run()
        log.append((time.perf_counter() - start, _minor_page_faults() - faults))
    return repeated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--calls", type=int, default=None,
                        help="calls per timed sample (default: about 2M values' worth)")
    args = parser.parse_args()
    print(machine())
    rng = np.random.default_rng(0)
    summary = []
    for shape in SHAPES:
        x = (rng.standard_normal(shape) * 2 + 0.5).astype(args.dtype)
        grad_out = rng.standard_normal(shape).astype(args.dtype)
        cases = {
            REFERENCE: numpy_case(numpy_textbook, x, grad_out),
            "numpy (fused's passes)": numpy_case(numpy_fused_passes, x, grad_out),
            "minigrad fused": minigrad_case(x, grad_out, "fused"),
            "minigrad composed": minigrad_case(x, grad_out, "composed"),
        }
        expected = cases[REFERENCE]()
        tolerance = 1e-4 if args.dtype == "float32" else 1e-10
        for name, run in cases.items():  # same numbers everywhere, or the timing means nothing
            for got, want in zip(run(), expected):
                np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance, err_msg=name)
        # Each timed sample is `calls` back-to-back calls, so small shapes are measured in a
        # steady state rather than just after another case has flushed the caches.
        calls = args.calls or max(1, 2**21 // x.size)
        logs: dict[str, list[tuple[float, int]]] = {name: [] for name in cases}
        medians = interleaved({name: _repeat(run, calls, logs[name])
                               for name, run in cases.items()}, args.repeats)
        medians = {name: seconds / calls for name, seconds in medians.items()}
        report(f"BatchNorm forward + backward, training mode, {shape} {args.dtype} "
               f"(median of {args.repeats} samples of {calls} calls)", medians, REFERENCE)
        timed = {name: log[-args.repeats:] for name, log in logs.items()}  # not the warm-up
        print(f"  page faults per call ({x.nbytes // 4096} pages per array): " + ", ".join(
            f"{name} {np.mean([f for _, f in log]) / calls:.0f}" for name, log in timed.items()))
        # Fused and reference samples of the same round ran back to back: their ratio is
        # barely touched by load that drifts over seconds, unlike a ratio of medians.
        paired = np.array([f / r for (f, _), (r, _) in zip(timed["minigrad fused"],
                                                             timed[REFERENCE])])
        summary.append((shape, np.median(paired), *np.percentile(paired, [25, 75])))
    print("\nfused / hand-written NumPy, median of same-round ratios [quartiles] (target <= 1.2):")
    for shape, ratio, low, high in summary:
        verdict = "ok" if ratio <= 1.2 else "ABOVE TARGET"
        print(f"  {str(shape):<18} {ratio:5.2f}x  [{low:.2f}, {high:.2f}]  {verdict}")


if __name__ == "__main__":
    main()
