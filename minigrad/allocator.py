"""Keep freed memory in the process: one opt-in setting of glibc's `malloc`.

A training step builds a graph, then drops all of it at once: several megabytes of
activations and gradients freed together. With its default settings glibc hands such a
block back to the operating system (it "trims" the heap), and the next step, needing the
same memory again, takes a page fault on every 4 KiB page it touches. Measured by the
issue's audit: a B=64 CNN step 44 -> 25 ms and 11,665 -> 0 page faults per step with the
memory kept; no gain at B=128 on the MLP benchmark.

`keep_freed_memory` asks glibc to keep up to `trim_threshold` bytes of freed memory for
reuse and to serve blocks below `mmap_threshold` from that reusable heap (PyTorch gets the
same effect from its own caching allocator).

The trade-off, and why it is opt-in: the setting is **process-wide and cannot be undone**.
It changes how every library in the process allocates (NumPy, PyTorch, a notebook kernel,
a web server), and the process keeps up to `trim_threshold` bytes (256 MiB by default) of
freed memory instead of returning it, so its resident size stays higher (+52 MiB in the
audit). `import minigrad` therefore never calls it; a training script, minigrad's command
line and the benchmarks do. Elsewhere than Linux with glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import operator
import sys
from typing import Any

# mallopt parameter numbers, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_C_INT_MAX = 2**31 - 1  # mallopt(int param, int value)

_kept = False


def keep_freed_memory(trim_threshold: int = 256 << 20, mmap_threshold: int = 32 << 20) -> bool:
    """Tell glibc's malloc to keep freed memory for reuse, for the rest of the process (see
    the module docstring for the trade-off). Call it once, at the start of a training
    script. Returns True when the setting took effect, False where it does not apply."""
    global _kept
    # Checked before anything changes: ctypes would wrap a value outside a C int silently
    # (4 GiB + 4 KiB becomes 4 KiB), and glibc reads a negative threshold as a huge one.
    sizes = []
    for name, given in (("trim_threshold", trim_threshold), ("mmap_threshold", mmap_threshold)):
        value = _whole_number(name, given)
        if not 0 <= value <= _C_INT_MAX:
            raise ValueError(f"keep_freed_memory: {name}={value} is outside what malloc takes "
                             f"(0 to {_C_INT_MAX} bytes, a C int). Fix: pass a size in that "
                             "range, e.g. 256 << 20 for 256 MiB.")
        sizes.append(value)
    trim_threshold, mmap_threshold = sizes
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    applied = bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold)
                   and mallopt(_M_MMAP_THRESHOLD, mmap_threshold))
    _kept = _kept or applied
    return applied


def _whole_number(name: str, value: Any) -> int:
    """`value` as a Python int, if it is an integer of any type (operator.index: a NumPy
    integer too, as before the range check came), but not a bool."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(f"keep_freed_memory: {name} must be an int (a number of bytes), got "
                    f"{type(value).__name__} {value!r}. Fix: e.g. {name}=256 << 20.")


def keeping_freed_memory() -> bool:
    """True once `keep_freed_memory` has taken effect in this process."""
    return _kept
