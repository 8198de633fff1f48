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
(zeroed) on the next call, which can cost more than the arithmetic; compare with
``--keep-freed-memory`` (minigrad.allocator.keep_freed_memory()).

    python benchmarks/norm.py [--rounds 21] [--dtype float32] [--threads 1] [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import compare, parser, report, setup, thread_limit, thread_modes  # noqa: E402

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


def faults_per_call(run, calls: int = 20) -> float:
    before = _minor_page_faults()
    for _ in range(calls):
        run()
    return (_minor_page_faults() - before) / calls


def main() -> None:
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--rounds", type=int, default=21)
    arguments.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = arguments.parse_args()
    setup(args)
    rng = np.random.default_rng(0)
    summary = []
    shapes = [(16, 8), (4, 3, 4, 4)] if args.quick else SHAPES
    for label, threads in thread_modes(args.threads):
        with thread_limit(threads):
            print(f"\n===== {label}")
            for shape in shapes:
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
                for name, run in cases.items():  # same numbers everywhere, or no timing
                    for got, want in zip(run(), expected):
                        np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance,
                                                   err_msg=name)
                timings = compare(cases, REFERENCE, 3 if args.quick else args.rounds)
                report(f"BatchNorm forward + backward, training mode, {shape} {args.dtype}",
                       timings, REFERENCE)
                print(f"  page faults per call ({x.nbytes // 4096} pages per array): " + ", ".join(
                    f"{name} {faults_per_call(run):.0f}" for name, run in cases.items()))
                fused = timings["minigrad fused"]
                summary.append((label, shape, fused.ratio, fused.ratio_min, fused.ratio_max))
    print("\nfused / hand-written NumPy, median of per-round ratios [min-max] (target <= 1.2):")
    for label, shape, ratio, low, high in summary:
        verdict = "ok" if ratio <= 1.2 else "ABOVE TARGET"
        print(f"  {label:<16} {str(shape):<18} {ratio:5.2f}x  [{low:.2f}-{high:.2f}]  {verdict}")


if __name__ == "__main__":
    main()
