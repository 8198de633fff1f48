"""Shared benchmark machinery: steady-state interleaved timing, thread settings, the BLAS
configuration and the machine's measured limits.

Method (every script): each case is warmed up, then timed in rounds; a round times every
case once (a sample = enough back-to-back calls to last ~10 ms), in an order rotated from
round to round, so that a change in machine load hits every case alike. A case's figure is
its median time per call, and its ratio to the reference is the median of the per-round
ratios, printed with their min–max. No garbage collection is forced inside or between
timed calls: what is measured is the steady state a training loop sees, collector included.

Threads: ``--threads 1`` limits BLAS/OpenMP (threadpoolctl) and PyTorch to one thread,
``--threads default`` leaves them alone, ``--threads both`` (the default) prints both.
JAX's thread pool is fixed when it starts, so JAX always runs with its default threads.

Allocator: importing common.py leaves glibc's malloc at its defaults (MINIGRAD_MALLOC is
set to "default" for minigrad versions that tuned it at import); ``--keep-freed-memory``
calls ``minigrad.allocator.keep_freed_memory()``, and every report prints which was used.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

os.environ.setdefault("MINIGRAD_MALLOC", "default")  # before minigrad is imported anywhere

SAMPLE_SECONDS = 0.01
_KEEP_FREED_MEMORY = False
_CLOCK = time.perf_counter


# -- command line ---------------------------------------------------------------------------


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark shares."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--quick", action="store_true",
                        help="a smoke run: few rounds, small sizes (figures not meaningful)")
    result.add_argument("--threads", choices=["1", "default", "both"], default="both",
                        help="BLAS/PyTorch threads: one, the default, or both in turn")
    result.add_argument("--keep-freed-memory", action="store_true",
                        help="call minigrad.allocator.keep_freed_memory() first")
    result.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall time (default), or this process's CPU time: steadier on a "
                             "loaded machine, but meaningful with one thread only")
    return result


def setup(args: argparse.Namespace) -> None:
    """Apply the allocator option and print where and how the figures are measured."""
    global _KEEP_FREED_MEMORY, _CLOCK
    _CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.keep_freed_memory:
        from minigrad import allocator

        _KEEP_FREED_MEMORY = bool(allocator.keep_freed_memory())
    print(machine())
    print(blas_config())
    print(f"clock: {'process CPU time' if args.clock == 'cpu' else 'wall time'}")


def thread_modes(choice: str) -> list[tuple[str, int | None]]:
    """(label, thread limit) pairs for ``--threads``."""
    modes = {"1": [("1 thread", 1)], "default": [("default threads", None)]}
    return modes.get(choice, modes["1"] + modes["default"])


@contextlib.contextmanager
def thread_limit(threads: int | None) -> Iterator[None]:
    """Limit NumPy's BLAS (and any OpenMP pool) and PyTorch to `threads`; None: no limit."""
    if threads is None:
        yield
        return
    torch = _optional("torch")
    torch_threads = torch.get_num_threads() if torch else None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("  (threadpoolctl not installed: BLAS threads not limited; pip install "
              "threadpoolctl)")
        limiter: contextlib.AbstractContextManager = contextlib.nullcontext()
    else:
        limiter = threadpool_limits(limits=threads)
    with limiter:
        if torch:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch:
                torch.set_num_threads(torch_threads)


def _optional(module: str):
    """The module if it is installed (imported once), else None."""
    try:
        return __import__(module)
    except ImportError:
        return None


# -- where the figures come from --------------------------------------------------------------


def machine() -> str:
    """One line: CPU, cores, Python, NumPy, PyTorch, and minigrad's allocator setting."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    torch = _optional("torch")
    malloc = ("keep_freed_memory() on" if _KEEP_FREED_MEMORY
              else "glibc defaults (keep_freed_memory() not called)")
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__}, PyTorch {torch.__version__ if torch else 'absent'}, "
            f"{platform.system()} {platform.release()}; malloc: {malloc}")


def blas_config() -> str:
    """The BLAS and OpenMP libraries loaded (kernel/core type, threads), and whether
    OPENBLAS_CORETYPE forces a kernel (it can make AVX-512 CPUs use AVX2 kernels)."""
    lines = [f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(not set)')}"]
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return lines[0] + "; threadpoolctl not installed, BLAS configuration unknown"
    for pool in threadpool_info():
        kernel = pool.get("architecture") or pool.get("threading_layer") or "?"
        lines.append(f"{pool.get('internal_api')} {pool.get('version')} ({pool.get('prefix')}): "
                     f"kernel {kernel}, {pool.get('num_threads')} threads")
    return "BLAS: " + "; ".join(lines)


# -- timing -----------------------------------------------------------------------------------


@dataclass
class Timing:
    """One case: median seconds per call, and its per-round ratio to the reference."""

    seconds: float
    ratio: float
    ratio_min: float
    ratio_max: float


def compare(cases: dict[str, Callable[[], object]], reference: str, rounds: int = 11,
            warmup: int = 3, between: Callable[[], object] | None = None) -> dict[str, Timing]:
    """Time `cases` in interleaved rounds (see the module docstring); ratios are to
    `reference`, which must be one of the cases. `between`, if given, runs before each
    sample, outside the timing (e.g. a garbage collection when the collector is off)."""
    calls = {}
    for name, run in cases.items():
        for _ in range(warmup):
            run()
        start = _CLOCK()
        run()
        once = _CLOCK() - start
        calls[name] = max(1, min(2000, round(SAMPLE_SECONDS / max(once, 1e-7))))
    names = list(cases)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            run, count = cases[name], calls[name]
            if between is not None:
                between()
            start = _CLOCK()
            for _ in range(count):
                run()
            samples[name].append((_CLOCK() - start) / count)
    result = {}
    for name in names:
        ratios = [ours / theirs for ours, theirs in zip(samples[name], samples[reference])]
        result[name] = Timing(statistics.median(samples[name]), statistics.median(ratios),
                              min(ratios), max(ratios))
    return result


def report(title: str, timings: dict[str, Timing], reference: str,
           bound: float | None = None, per: tuple[str, int] | None = None) -> None:
    """Print each case's time, its ratio to `reference` [min–max], optionally the time per
    unit (``per=("sample", batch)``) and the time over the machine-limit `bound`."""
    print(f"\n{title}")
    if bound:
        print(f"  machine-limit bound (matmul FLOPs at measured sgemm + elementwise bytes at "
              f"measured copy bandwidth): {bound * 1e3:.3f} ms")
    for name, timing in timings.items():
        line = f"  {name:<22} {timing.seconds * 1e3:9.3f} ms"
        if per:
            line += f"  {timing.seconds / per[1] * 1e6:9.2f} µs/{per[0]}"
        if name != reference:
            line += (f"  {timing.ratio:5.2f}x {reference} "
                     f"[{timing.ratio_min:.2f}–{timing.ratio_max:.2f}]")
        if bound:
            line += f"  {timing.seconds / bound:5.1f}x bound"
        print(line)


# -- the machine's limits ----------------------------------------------------------------------


class Limits:
    """The machine's measured limits under the current thread setting: the float32 matrix
    product rate (1024² sgemm), and the bandwidth of array copies of a given size (which
    depends on the size: arrays that fit in a cache copy faster than ones from memory)."""

    def __init__(self, repeats: int = 5) -> None:
        rng = np.random.default_rng(0)
        a = rng.standard_normal((1024, 1024), dtype=np.float32)
        b = rng.standard_normal((1024, 1024), dtype=np.float32)
        self.repeats = repeats
        self.sgemm_flops = 2 * 1024**3 / self._best(lambda: a @ b)
        self._bandwidths: dict[int, float] = {}
        self.dram_bandwidth = self.bandwidth(64 << 20)

    def _best(self, run: Callable[[], object], calls: int = 1) -> float:
        """Best time per call over `repeats` samples of at least 20 ms each (with the
        benchmark's clock: CPU time under ``--clock cpu``)."""
        start = _CLOCK()
        run()
        once = max(_CLOCK() - start, 1e-6)
        calls = max(calls, round(0.02 / once))
        best = float("inf")
        for _ in range(self.repeats):
            start = _CLOCK()
            for _ in range(calls):
                run()
            best = min(best, (_CLOCK() - start) / calls)
        return best

    def bandwidth(self, array_bytes: int) -> float:
        """Bytes/s read + written by a copy of an array of `array_bytes` (best of repeats)."""
        size = max(4096, int(array_bytes)) // 4 * 4
        if size not in self._bandwidths:
            source = np.ones(size // 4, np.float32)
            target = np.empty_like(source)
            calls = max(1, (8 << 20) // size)
            self._bandwidths[size] = 2 * size / self._best(lambda: np.copyto(target, source),
                                                           calls)
        return self._bandwidths[size]

    def bound(self, flops: float, bytes_moved: float, array_bytes: int) -> float:
        """Seconds a step needs at least: its matmul FLOPs at the sgemm rate, plus its
        elementwise traffic at the copy bandwidth of arrays of its activations' size."""
        return flops / self.sgemm_flops + bytes_moved / self.bandwidth(array_bytes)

    def __str__(self) -> str:
        return (f"measured sgemm {self.sgemm_flops / 1e9:.0f} GFLOP/s (1024x1024 float32), "
                f"copy bandwidth {self.dram_bandwidth / 1e9:.1f} GB/s (64 MiB arrays)")


def measure_limits() -> Limits:
    """The machine's limits, measured now (under the current thread setting)."""
    return Limits()


def numpy_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The hand-written references' loss: mean softmax cross-entropy of `logits` (N, C)
    against class indices `y` (N,), and its gradient with respect to the logits."""
    shifted = logits - logits.max(1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(1, keepdims=True)
    rows = np.arange(len(y))
    loss = float(np.log(total[:, 0]).mean() - shifted[rows, y].mean())
    grad_logits = exp / total
    grad_logits[rows, y] -= 1
    grad_logits /= len(y)
    return loss, grad_logits


def minigrad_step(model: Any, optimizer: Any, x: Any, y: np.ndarray) -> float:
    """One minigrad training step: cross-entropy, backward, optimiser step; the loss."""
    from minigrad.nn import functional as F

    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()
