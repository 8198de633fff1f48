"""Keep freed memory in the process: one setting of glibc's `malloc`, made at import.

A training step builds a graph, then drops all of it at once: several megabytes of
activations and gradients freed together. With its default settings glibc hands such a
block back to the operating system (it "trims" the heap), and the next step, needing the
same memory again, takes a page fault on every 4 KiB page it touches. Measured on the
B=128 784-256-256-10 BatchNorm MLP of benchmarks/tensor.py: about 1,150 page faults per
step, and the step 2x slower than with the memory kept (benchmarks/README.md).

`keep_freed_memory` asks glibc to keep up to `trim_threshold` bytes of freed memory for
reuse and to serve blocks below `mmap_threshold` from that reusable heap (PyTorch gets the
same effect from its own caching allocator). It runs when minigrad is imported; set the
environment variable ``MINIGRAD_MALLOC=default`` to leave malloc alone. Elsewhere than
Linux with glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# mallopt parameter numbers, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(trim_threshold: int = 256 << 20, mmap_threshold: int = 32 << 20) -> bool:
    """Tell glibc's malloc to keep freed memory (see the module docstring).

    Returns True when the setting took effect, False where it does not apply.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold)
                and mallopt(_M_MMAP_THRESHOLD, mmap_threshold))


def configure_from_environment() -> bool:
    """Apply `keep_freed_memory` unless ``MINIGRAD_MALLOC=default`` is set."""
    if os.environ.get("MINIGRAD_MALLOC", "").lower() == "default":
        return False
    return keep_freed_memory()
