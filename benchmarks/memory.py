"""Memory of a training step: the peak a step adds over the memory held between steps,
minigrad against hand-written NumPy and PyTorch CPU; where minigrad's peak comes from; and
no growth over a long run.

B=128 784-256-256-10 and B=512 1024-1024-1024-10 (tensor.py's MLP, SGD):

* **peak RSS per step**, each framework in a fresh process: after a warm-up step and
  ``zero_grad()`` (so that the parameters hold no gradient, as at the start of a step), the
  resident set is read, the kernel's high-water mark is reset (``/proc/self/clear_refs``),
  `--steps` steps run, and the step's peak is the high-water mark minus the resident set
  before. This sees every allocator (PyTorch's memory is invisible to tracemalloc). So
  that the resident set follows the memory in use, the children run with glibc's malloc
  told to map every block over 64 KiB separately and return it when freed
  (``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536:glibc.malloc.trim_threshold=0``);
  otherwise freed memory stays resident and the peak of a step is hidden in it.
  Two ways of writing the step: **a step function** (the loss is a local variable, dropped
  when the step returns; the target is measured this way), and **a `for` loop**
  (``for ...: loss = loss_fn(model(x), y); loss.backward(); ...``), where the previous
  step's loss is still bound while the next forward pass runs. Here the memory before the
  loop is the reference (no graph alive).
  ``loss.backward()`` frees the graph during the pass, as PyTorch's does (intermediate
  results only the graph holds lose their data before it starts). Both styles are also
  measured with ``loss.backward(retain_graph=True)``, which keeps the graph so that it can
  be drawn after backward: its data then lives as long as the loss (in a loop, the previous
  step's graph overlaps the next one).
* **where minigrad's peak is** (`tracemalloc`, one step phase by phase): what the forward
  pass leaves alive (the graph: each node's data and what the ops saved), the peaks of
  backward and of the optimiser step, and the parameters' gradients; for the default step
  (which frees the graph) and with ``retain_graph=True``. With the graph kept, its data and
  the gradients are alive together at the end of backward: such a step's peak cannot be
  lower than their sum, printed as the floor (next to the peak the target allows; that
  one is in RSS, a different instrument, so compare loosely). Then the default step's
  backward op by op.
* **traced memory per window** (minigrad and NumPy only, `tracemalloc`, which NumPy reports
  its buffers to): the live memory after a full garbage collection at the end of each
  window must not grow, so nothing is kept from step to step. (The peak within each window
  is printed too; without the collection it creeps up by ~0.1 MiB and then stops: CPython's
  free lists of small objects fill, which tracemalloc counts as allocated.)

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
from minigrad.nn import functional as F  # noqa: E402

TARGET = 1.3  # minigrad's per-step peak over PyTorch's
KEEPING = "minigrad retain_graph=True"  # the same step, its graph kept (to draw it)
MiB = 2**20


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _data(sizes):
    rng = np.random.default_rng(0)
    params = make_params(sizes, rng)
    batch, n_in, _, classes = sizes
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    return params, x, rng.integers(0, classes, batch)


def _make_step(framework: str, sizes, style: str = "function"):
    """(step, forget): one training step, and what empties the state between steps (the
    gradients; in the loop style also the loss kept from the previous step)."""
    params, x, y = _data(sizes)
    if framework == "NumPy":
        reference = NumpyNet(params)
        return lambda: reference.step(x, y), lambda: None
    retain_graph = None  # backward()'s own default: free the graph
    if framework == KEEPING:
        model, optimizer = minigrad_net(params)
        x_tensor = mg.tensor(x)
        retain_graph = True
        if style == "function":
            def keeping_step() -> None:  # minigrad_step, with backward(retain_graph=True)
                optimizer.zero_grad()
                loss = F.cross_entropy(model(x_tensor), y)
                loss.backward(retain_graph=True)
                optimizer.step()

            return keeping_step, optimizer.zero_grad
        loss_fn = lambda: F.cross_entropy(model(x_tensor), y)  # noqa: E731
    elif framework == "minigrad":
        model, optimizer = minigrad_net(params)
        x_tensor = mg.tensor(x)
        if style == "function":
            return lambda: minigrad_step(model, optimizer, x_tensor, y), optimizer.zero_grad
        loss_fn = lambda: F.cross_entropy(model(x_tensor), y)  # noqa: E731
    else:
        import torch

        step = torch_net(params)
        x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)
        if style == "function":
            return lambda: step(x_torch, y_torch), step.optimizer.zero_grad
        model, optimizer = step.model, step.optimizer
        loss_fn = lambda: torch.nn.functional.cross_entropy(model(x_torch), y_torch)  # noqa: E731
    kept: list = [None]  # the variable `loss` of a for loop, alive from step to step

    def loop_step() -> None:
        optimizer.zero_grad()
        kept[0] = loss_fn()  # the previous step's loss (and graph) is released only here
        if retain_graph:
            kept[0].backward(retain_graph=True)
        else:  # PyTorch's backward has no None: its own default
            kept[0].backward()
        optimizer.step()

    def forget() -> None:
        optimizer.zero_grad()
        kept[0] = None

    return loop_step, forget


def child(framework: str, size: str, steps: int, style: str) -> None:
    """Run in a fresh process: print the step's peak RSS over the resting RSS, in MiB."""
    step, forget = _make_step(framework, SIZES[size], style)
    step()
    forget()
    gc.collect()
    resting = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset VmHWM to the current resident set
    for _ in range(steps):
        step()
    peak = _status_kib("VmHWM")
    print(json.dumps({"resting": resting / 1024, "peak_over_resting": (peak - resting) / 1024}))


def peak_rss(framework: str, size: str, steps: int, style: str) -> dict | None:
    command = [sys.executable, __file__, "--child", framework, size, str(steps), style]
    env = {**os.environ,
           "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536:glibc.malloc.trim_threshold=0"}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode:
        print(f"  {framework}: failed\n{result.stderr[-2000:]}")
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def graph_data_bytes(root) -> int:
    """Bytes of the data arrays of the graph's computed nodes (leaves excluded: parameters
    and inputs live between steps too), each array counted once."""
    seen, stack, arrays = {id(root)}, [root], {}
    while stack:
        node = stack.pop()
        if node._parents:
            arrays[id(node.data)] = node.data.nbytes
        for parent in node._parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return sum(arrays.values())


def _warm_model(sizes):
    """The benchmark's minigrad model after two training steps, its gradients set to None
    (as at the start of a step), and its batch: (model, optimizer, x, y)."""
    params, x, y = _data(sizes)
    model, optimizer = minigrad_net(params)
    x_tensor = mg.tensor(x)
    for _ in range(2):
        minigrad_step(model, optimizer, x_tensor, y)
    optimizer.zero_grad()
    gc.collect()
    return model, optimizer, x_tensor, y


def minigrad_phases(sizes, retain_graph: bool | None = None) -> dict[str, float]:
    """One minigrad step phase by phase under tracemalloc: MiB above the step's start
    (`retain_graph` is passed to ``loss.backward``)."""
    model, optimizer, x_tensor, y = _warm_model(sizes)
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]

        def since_start() -> tuple[float, float]:
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            return (current - start) / MiB, (peak - start) / MiB

        loss = F.cross_entropy(model(x_tensor), y)
        forward_end, forward_peak = since_start()
        graph_data = graph_data_bytes(loss)  # before backward, which may free the graph
        loss.backward(retain_graph=retain_graph)
        backward_end, backward_peak = since_start()
        optimizer.step()
        _, step_peak = since_start()
    finally:
        tracemalloc.stop()
    return {"forward end": forward_end, "forward peak": forward_peak,
            "backward end": backward_end, "backward peak": backward_peak,
            "step peak": step_peak, "graph data": graph_data / MiB,
            "gradients": sum(p.grad.nbytes for p in model.parameters()) / MiB}


def _function_classes(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_function_classes(sub)]
    return found


def backward_peaks(sizes, retain_graph: bool | None = None) -> list[tuple[str, float, float]]:
    """One minigrad step's backward op by op under tracemalloc: for each op's backward, in
    the order they run, its name, the MiB held (above the step's start) when it begins, and
    the peak while it runs. Each op class's `backward` is wrapped for the pass only."""
    from minigrad.ops import Function

    model, optimizer, x_tensor, y = _warm_model(sizes)
    log: list[tuple[str, float, float]] = []
    originals = {cls: cls.__dict__["backward"] for cls in set(_function_classes(Function))
                 if "backward" in cls.__dict__}

    def traced(cls, backward):
        def wrapper(self, grad_output):
            held, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            grads = backward(self, grad_output)
            log.append((cls.__name__, (held - start) / MiB,
                        (tracemalloc.get_traced_memory()[1] - start) / MiB))
            return grads
        return wrapper

    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        loss = F.cross_entropy(model(x_tensor), y)
        for cls, backward in originals.items():
            cls.backward = traced(cls, backward)
        loss.backward(retain_graph=retain_graph)
    finally:
        for cls, backward in originals.items():
            cls.backward = backward
        tracemalloc.stop()
    return log


def window_peaks(step, steps: int, window: int) -> tuple[list[float], list[float]]:
    """Peak traced MiB in each window of `window` steps, and the live traced MiB after a
    full collection at the end of each window."""
    gc.collect()
    tracemalloc.start()
    peaks, live = [], []
    for start in range(0, steps, window):
        tracemalloc.reset_peak()
        for _ in range(min(window, steps - start)):
            step()
        peaks.append(tracemalloc.get_traced_memory()[1] / MiB)
        gc.collect()  # also empties CPython's free lists (see the docstring)
        live.append(tracemalloc.get_traced_memory()[0] / MiB)
    tracemalloc.stop()
    return peaks, live


def print_rss(frameworks: list[str], sizes: list[str], steps: int, style: str) -> dict:
    title = {"function": "a step function (the loss dropped when it returns)",
             "loop": "a for loop (the previous step's loss alive until the next is computed)"}
    print(f"\npeak RSS a step adds over the resting RSS, MiB (fresh process each, {steps} "
          f"steps), steps written as {title[style]}")
    peaks = {}
    for size in sizes:
        results = {name: peak_rss(name, size, steps, style) for name in frameworks}
        line = "  " + f"{size:<7}" + "".join(
            f"  {name} {result['peak_over_resting']:7.2f}" for name, result in results.items()
            if result)
        if results.get("PyTorch"):
            peaks[size] = results["PyTorch"]["peak_over_resting"]
            target = f" (target <= {TARGET})" if style == "function" else ""
            for name in ("minigrad", KEEPING):
                if results.get(name):
                    ratio = results[name]["peak_over_resting"] / max(peaks[size], 1e-9)
                    line += f"   {name} / PyTorch {ratio:.2f}x{target}"
        print(line)
    return peaks


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
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
    others = frameworks[1:]  # NumPy, and PyTorch if installed
    torch_peaks = print_rss(["minigrad", KEEPING, *others], sizes, steps, "function")
    print_rss(["minigrad", KEEPING, *(name for name in others if name != "NumPy")], sizes,
              steps, "loop")

    print("\nwhere minigrad's peak is (tracemalloc, one step, MiB above the step's start)")
    for size in sizes:
        phases = minigrad_phases(SIZES[size])
        print(f"  {size:<7} forward leaves {phases['forward end']:.2f} (the graph; its nodes' "
              f"data: {phases['graph data']:.2f}); parameter gradients "
              f"{phases['gradients']:.2f}")
        target = (f"; the target asks for <= {TARGET * torch_peaks[size]:.2f} "
                  f"({TARGET} x PyTorch's peak RSS)" if torch_peaks.get(size) else "")
        print(f"  {'':<7} backward() (frees the graph): backward peak "
              f"{phases['backward peak']:.2f}, end {phases['backward end']:.2f}; optimiser "
              f"step peak {phases['step peak']:.2f}{target}")
        keeping = minigrad_phases(SIZES[size], retain_graph=True)
        floor = keeping["graph data"] + keeping["gradients"]
        print(f"  {'':<7} backward(retain_graph=True): backward peak "
              f"{keeping['backward peak']:.2f}, end {keeping['backward end']:.2f}; optimiser "
              f"step peak {keeping['step peak']:.2f}; its floor (nodes' data + gradients, "
              f"alive together while the graph is kept) {floor:.2f}, "
              f"{floor / keeping['backward peak']:.0%} of its traced peak")
        print(f"  {'':<7} backward() op by op (held when the op's backward starts -> peak "
              "while it runs):")
        print(f"  {'':<9}" + ", ".join(f"{name} {held:.2f} -> {peak:.2f}" for name, held, peak
                                       in backward_peaks(SIZES[size])))

    long_steps, window = (20, 10) if args.quick else (args.long_steps, args.window)
    sizes_medium = SIZES["small" if args.quick else "medium"]
    ours, ours_live = window_peaks(_make_step("minigrad", sizes_medium)[0], long_steps, window)
    theirs, _ = window_peaks(_make_step("NumPy", sizes_medium)[0], long_steps, window)
    print(f"\ntraced memory per {window}-step window, MiB ({long_steps} steps, "
          f"B={sizes_medium[0]} {sizes_medium[1]}->{sizes_medium[2]}->{sizes_medium[2]}->"
          f"{sizes_medium[3]})")
    print("  minigrad peak:           " + " ".join(f"{p:6.2f}" for p in ours))
    print("  minigrad live after gc:  " + " ".join(f"{p:6.2f}" for p in ours_live))
    print("  hand-written NumPy peak: " + " ".join(f"{p:6.2f}" for p in theirs))
    growth = ours_live[-1] - ours_live[0]
    print(f"  minigrad growth of live memory, last window - first: {growth:+.3f} MiB "
          f"({'no growth' if abs(growth) < 0.01 * ours[0] else 'GROWS'}); "
          f"peak / NumPy's peak: {max(ours) / max(theirs):.2f}x")


if __name__ == "__main__":
    main()
