"""A small CNN training step with BatchNorm2d, minigrad vs PyTorch CPU (when installed).

B=32 images 1x28x28 -> Conv 3x3 (16) -> BatchNorm2d -> ReLU -> MaxPool 2 -> Conv 3x3 (32)
-> BatchNorm2d -> ReLU -> global average pool -> Linear 10, cross-entropy, SGD (lr 0.01).
Both frameworks start from the same weights and must compute the same first loss.

    python benchmarks/cnn.py [--repeats 11]
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

BATCH, CLASSES, LR = 32, 10, 0.01


def minigrad_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, CLASSES))


def torch_cnn(model: nn.Module):  # pragma: no cover - optional reference
    import torch

    tnn = torch.nn
    reference = tnn.Sequential(
        tnn.Conv2d(1, 16, 3, padding=1), tnn.BatchNorm2d(16), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(16, 32, 3, padding=1), tnn.BatchNorm2d(32), tnn.ReLU(),
        tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(32, CLASSES))
    weights = {key: torch.from_numpy(value.copy()) for key, value in model.state_dict().items()}
    reference.load_state_dict(weights)
    return torch_sgd_step(reference, LR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    print(machine())
    rng = mg.manual_seed(0)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    model = minigrad_cnn()
    optimizer = mg.optim.SGD(model.parameters(), lr=LR)
    x_tensor = mg.tensor(x)

    def ours() -> float:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x_tensor), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    cases = {}
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: timing minigrad only (pip install torch==2.13.0)")
    else:
        step = torch_cnn(model)
        x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)
        first_theirs = step(x_torch, y_torch)
        first_ours = ours()
        assert abs(first_ours - first_theirs) < 1e-4, (first_ours, first_theirs)
        cases["PyTorch CPU"] = lambda: step(x_torch, y_torch)
    cases["minigrad"] = ours
    medians = interleaved(cases, args.repeats, warmup=2)
    report("CNN step, B=32 1x28x28, conv16-BN-ReLU-pool-conv32-BN-ReLU-GAP-Linear10",
           medians, "PyTorch CPU" if "PyTorch CPU" in medians else "minigrad")


if __name__ == "__main__":
    main()
