"""Shared timing helpers for the benchmarks: interleaved repeats, medians, machine facts."""

from __future__ import annotations

import gc
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np


def machine() -> str:
    """One line describing where the figures were measured."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import minigrad

    malloc = ("keeps freed memory" if minigrad.allocator.keeping_freed_memory()
              else "default settings (MINIGRAD_MALLOC=default or not glibc)")
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__}, {platform.system()} {platform.release()}; malloc: {malloc}")


def torch_sgd_step(model, lr: float):  # pragma: no cover - PyTorch is optional
    """A PyTorch training step on `model` (SGD, cross-entropy), as a function of (x, y),
    returning the loss: the reference the minigrad steps are timed against."""
    import torch

    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def step(x, y) -> float:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def interleaved(cases: dict[str, Callable[[], object]], repeats: int,
                warmup: int = 1) -> dict[str, float]:
    """Median seconds per call of each case, timed in turn (a, b, a, b, ...) so that a
    change in machine load hits every case alike.

    A full garbage collection runs before each timed call, outside the timing, so no case
    pays for collecting the garbage another case left behind.
    """
    for _ in range(warmup):
        for run in cases.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, run in cases.items():
            gc.collect()
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def report(title: str, medians: dict[str, float], reference: str) -> None:
    """Print each case's median time and its ratio to `reference`."""
    print(f"\n{title}")
    base = medians.get(reference)
    for name, seconds in medians.items():
        ratio = f"{seconds / base:6.2f}x {reference}" if base else ""
        print(f"  {name:<28} {seconds * 1e3:10.3f} ms   {ratio}")
