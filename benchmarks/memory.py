"""Memory of a training step: the peak a step adds over the memory held between steps,
minigrad against hand-written NumPy and PyTorch CPU; and no growth over a long run.

Two measurements, B=128 784-256-256-10 and B=512 1024-1024-1024-10 (tensor.py's MLP):

* **peak RSS per step**, each framework in a fresh process: after a warm-up step and
  ``zero_grad()`` (so that the parameters hold no gradient, as at the start of a step), the
  resident set is read, the kernel's high-water mark is reset (``/proc/self/clear_refs``),
  `--steps` steps run, and the step's peak is the high-water mark minus the resident set
  before. This sees every allocator (PyTorch's memory is invisible to tracemalloc). So
  that the resident set follows the memory in use, the children run with glibc's malloc
  told to map every block over 64 KiB separately and return it when freed
  (``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536:glibc.malloc.trim_threshold=0``);
  otherwise freed memory stays resident and the peak of a step is hidden in it.
* **traced peak per window** (minigrad and NumPy only), with `tracemalloc` (NumPy reports
  its buffers to it): the peak of each window of steps must stay flat, so nothing is kept
  from step to step.

    python benchmarks/memory.py [--steps 20] [--long-steps 300] [--quick]
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import parser, setup  # noqa: E402
from tensor import (  # noqa: E402
    SIZES,
    NumpyNet,
    make_params,
    minigrad_net,
    minigrad_step,
    torch_net,
)

import minigrad as mg  # noqa: E402

TARGET = 1.3  # minigrad's per-step peak over PyTorch's


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _make_step(framework: str, sizes):
    rng = np.random.default_rng(0)
    params = make_params(sizes, rng)
    batch, n_in, _, classes = sizes
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    y = rng.integers(0, classes, batch)
    if framework == "minigrad":
        model, optimizer = minigrad_net(params)
        x_tensor = mg.tensor(x)
        return lambda: minigrad_step(model, optimizer, x_tensor, y), optimizer.zero_grad
    if framework == "NumPy":
        reference = NumpyNet(params)
        return lambda: reference.step(x, y), lambda: None
    import torch

    step = torch_net(params)
    x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)
    return lambda: step(x_torch, y_torch), step.optimizer.zero_grad


def child(framework: str, size: str, steps: int) -> None:
    """Run in a fresh process: print the step's peak RSS over the resting RSS, in MiB."""
    step, zero_grad = _make_step(framework, SIZES[size])
    step()
    zero_grad()
    gc.collect()
    resting = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset VmHWM to the current resident set
    for _ in range(steps):
        step()
    peak = _status_kib("VmHWM")
    print(json.dumps({"resting": resting / 1024, "peak_over_resting": (peak - resting) / 1024}))


def peak_rss(framework: str, size: str, steps: int) -> dict | None:
    command = [sys.executable, __file__, "--child", framework, size, str(steps)]
    env = {**os.environ,
           "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536:glibc.malloc.trim_threshold=0"}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode:
        print(f"  {framework}: failed\n{result.stderr[-2000:]}")
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def window_peaks(step, steps: int, window: int) -> list[float]:
    """Peak traced MiB in each window of `window` steps."""
    gc.collect()
    tracemalloc.start()
    peaks = []
    for start in range(0, steps, window):
        tracemalloc.reset_peak()
        for _ in range(min(window, steps - start)):
            step()
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
    tracemalloc.stop()
    return peaks


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--steps", type=int, default=20)
    arguments.add_argument("--long-steps", type=int, default=300)
    arguments.add_argument("--window", type=int, default=50)
    args = arguments.parse_args()
    setup(args)
    frameworks = ["minigrad", "NumPy"]
    try:
        import torch  # noqa: F401
    except ImportError:
        print("  (PyTorch not installed: skipped; pip install torch)")
    else:
        frameworks.append("PyTorch")
    sizes = ["small"] if args.quick else ["medium", "large"]
    steps = 2 if args.quick else args.steps
    print(f"\npeak RSS a step adds over the resting RSS, MiB (fresh process each, {steps} steps)")
    for size in sizes:
        results = {name: peak_rss(name, size, steps) for name in frameworks}
        line = "  " + f"{size:<7}" + "".join(
            f"  {name} {result['peak_over_resting']:7.2f}" for name, result in results.items()
            if result)
        if results.get("PyTorch") and results.get("minigrad"):
            ratio = (results["minigrad"]["peak_over_resting"]
                     / max(results["PyTorch"]["peak_over_resting"], 1e-9))
            line += f"   minigrad / PyTorch {ratio:.2f}x (target <= {TARGET})"
        print(line)

    long_steps, window = (20, 10) if args.quick else (args.long_steps, args.window)
    sizes_medium = SIZES["small" if args.quick else "medium"]
    ours = window_peaks(_make_step("minigrad", sizes_medium)[0], long_steps, window)
    theirs = window_peaks(_make_step("NumPy", sizes_medium)[0], long_steps, window)
    print(f"\npeak traced memory per {window}-step window, MiB ({long_steps} steps, "
          f"B={sizes_medium[0]} {sizes_medium[1]}->{sizes_medium[2]}->{sizes_medium[2]}->"
          f"{sizes_medium[3]})")
    print("  minigrad:           " + " ".join(f"{p:6.2f}" for p in ours))
    print("  hand-written NumPy: " + " ".join(f"{p:6.2f}" for p in theirs))
    growth = ours[-1] - ours[0]
    print(f"  minigrad growth, last window - first: {growth:+.3f} MiB "
          f"({'no growth' if abs(growth) < 0.01 * ours[0] else 'GROWS'}); "
          f"peak / NumPy's peak: {max(ours) / max(theirs):.2f}x")


if __name__ == "__main__":
    main()
