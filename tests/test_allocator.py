"""minigrad.allocator: glibc keeps freed memory only when asked; import changes nothing."""

import subprocess
import sys
from pathlib import Path

import pytest

import minigrad
from minigrad import allocator

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc setting")

# Allocate and free ~8 MB in 1 MB blocks, as a training step drops its graph, 20 times, and
# print the page faults this took. With glibc's defaults the memory goes back to the OS
# after each step and faults in again (~40,000 faults); kept, it is reused (almost none).
FAULTS_OF_20_STEPS = """
import resource, numpy as np
def step():
    blocks = [np.ones(1 << 18, np.float32) for _ in range(8)]
    del blocks
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def run_fresh(code: str) -> str:
    """Run `code` in a new interpreter that imports this same minigrad."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(minigrad.__file__).parents[1])}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True).stdout.strip()


# In a fresh interpreter's code: every function looked up on any loaded C library goes into
# `looked_up` (so a test can say mallopt was never called).
SPY_ON_C_CALLS = """looked_up = []
original = ctypes.CDLL.__getattr__
def spy(self, name):
    looked_up.append(name)
    return original(self, name)
ctypes.CDLL.__getattr__ = spy
"""


@linux_only
def test_import_minigrad_leaves_malloc_alone():
    # No call to mallopt at all: record every function looked up on any loaded C library.
    code = "import ctypes\n" + SPY_ON_C_CALLS + """import minigrad
print("mallopt" in looked_up, hasattr(minigrad, "MALLOC_TUNED"),
      minigrad.allocator.keeping_freed_memory())
"""
    assert run_fresh(code) == "False False False"
    # And the behaviour: after `import minigrad` a freed graph still goes back to the OS.
    assert int(run_fresh("import minigrad\n" + FAULTS_OF_20_STEPS)) > 10_000


@linux_only
def test_keep_freed_memory_stops_the_page_faults_of_a_freed_graph():
    code = ("from minigrad.allocator import keep_freed_memory, keeping_freed_memory\n"
            "assert keep_freed_memory() and keeping_freed_memory()\n" + FAULTS_OF_20_STEPS)
    assert int(run_fresh(code)) < 100


def test_elsewhere_it_reports_that_it_did_nothing(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert allocator.keep_freed_memory() is False


@linux_only
@pytest.mark.parametrize("arguments, error", [
    ("trim_threshold=(4 << 30) + 4096", ValueError),  # C int: would wrap to 4096 bytes
    ("trim_threshold=-1", ValueError),  # glibc would read it as 'keep everything, forever'
    ("mmap_threshold=-(1 << 20)", ValueError),
    ("mmap_threshold=True", TypeError),
    ("trim_threshold=1.5", TypeError),  # was ctypes' ArgumentError: 'wrong type'
    ("trim_threshold=__import__('numpy').bool_(True)", TypeError),
    ("trim_threshold=__import__('numpy').float64(1 << 20)", TypeError),
    ("mmap_threshold=__import__('numpy').int64(4 << 30)", ValueError),  # checked as a number
])
def test_thresholds_that_malloc_cannot_take_as_given_are_refused_before_any_change(arguments,
                                                                                    error):
    # In a fresh interpreter: without the check, the setting would change this process.
    code = "import ctypes\nfrom minigrad import allocator\n" + SPY_ON_C_CALLS + f"""try:
    allocator.keep_freed_memory({arguments})
except Exception as error:
    print(type(error).__name__, "mallopt" in looked_up, allocator.keeping_freed_memory())
    print(error)
"""
    lines = run_fresh(code).splitlines()
    assert lines[0] == f"{error.__name__} False False"
    assert "keep_freed_memory" in lines[1] and "Fix" in lines[1]


@linux_only
def test_thresholds_of_any_integer_type_reach_malloc_as_ints():
    # np.int64(1 << 20) was refused as 'not an int' (it worked before the range check came)
    code = """
import ctypes
import numpy as np
from minigrad import allocator
calls = []
class Spy:
    def __init__(self, function):
        self.function = function
    def __call__(self, *arguments):
        calls.append(arguments)
        return self.function(*arguments)
original = ctypes.CDLL.__getattr__
ctypes.CDLL.__getattr__ = lambda self, name: Spy(original(self, name))
print(allocator.keep_freed_memory(trim_threshold=np.int64(1 << 20),
                                  mmap_threshold=np.uint32(1 << 16)),
      allocator.keeping_freed_memory())
print([(type(size).__name__, parameter, size) for parameter, size in calls])
"""
    assert run_fresh(code).splitlines() == [
        "True True", f"[('int', -1, {1 << 20}), ('int', -3, {1 << 16})]"]
