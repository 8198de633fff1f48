"""Writing statistics as TensorBoard event files, for any recorder in `minigrad.viz`.

TensorBoard (``tensorboard --logdir runs``) reads event files; minigrad writes them with
tensorboardX's `SummaryWriter`, a maintained writer that needs neither TensorFlow nor
PyTorch (``pip install 'minigrad[tensorboard]'``). Recorders take a ``log_dir`` argument,
named as in PyTorch's ``SummaryWriter(log_dir)``, and hand their numbers to `EventLog`:

    log = EventLog("runs/bn", caller="TrainingDiagnostics")
    log.step(3, scalars={"loss": 0.52}, histograms={"activations/act1": output})
    log.close()
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def _summary_writer(log_dir: Path, caller: str) -> Any:
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError(
            f"{caller}(log_dir=...): writing TensorBoard files needs the tensorboardX package. "
            "Fix: pip install 'minigrad[tensorboard]' (or pip install tensorboardX), or leave "
            "log_dir out."
        ) from None
    return SummaryWriter(logdir=str(log_dir))


class EventLog:
    """One TensorBoard run: scalars and histograms, written step by step into `log_dir`.

    Non-finite values are left out (TensorBoard cannot plot them) and counted in a scalar
    ``nonfinite/<tag>`` instead, so a NaN shows up as a number rather than a gap.
    """

    def __init__(self, log_dir: str | Path, caller: str = "EventLog") -> None:
        if not isinstance(log_dir, str | Path) or not str(log_dir):
            raise TypeError(f"{caller}: log_dir must be a folder path such as 'runs/bn', got "
                            f"{log_dir!r}.")
        self.log_dir = Path(log_dir)
        self._writer = _summary_writer(self.log_dir, caller)

    def step(self, step: int, scalars: Mapping[str, float] | None = None,
             histograms: Mapping[str, Any] | None = None) -> None:
        """Write `scalars` ({tag: number}) and `histograms` ({tag: array}) at `step`."""
        for tag, value in (scalars or {}).items():
            if value is not None and math.isfinite(value):
                self._writer.add_scalar(tag, float(value), global_step=step)
        for tag, values in (histograms or {}).items():
            if values is None:
                continue
            flat = np.asarray(values, dtype=np.float64).reshape(-1)
            finite = flat[np.isfinite(flat)]
            if finite.size < flat.size:
                self._writer.add_scalar(f"nonfinite/{tag}", flat.size - finite.size,
                                        global_step=step)
            if finite.size:
                self._writer.add_histogram(tag, finite, global_step=step, bins="auto")

    def flush(self) -> None:
        """Make everything written so far readable by TensorBoard."""
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
