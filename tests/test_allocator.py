"""minigrad.allocator: glibc keeps freed memory, unless the user opts out."""

import subprocess
import sys

import pytest

from minigrad import allocator

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc setting")


def _tuned_in_fresh_process(env_value: str | None) -> str:
    env = {"PATH": "/usr/bin:/bin"}
    if env_value is not None:
        env["MINIGRAD_MALLOC"] = env_value
    code = "import minigrad; print(minigrad.MALLOC_TUNED)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


@linux_only
def test_import_tunes_malloc_and_the_environment_opts_out():
    assert _tuned_in_fresh_process(None) == "True"
    assert _tuned_in_fresh_process("default") == "False"
    assert _tuned_in_fresh_process("DEFAULT") == "False"


@linux_only
def test_keep_freed_memory_stops_the_page_faults_of_a_freed_graph():
    """Allocate and free ~8 MB in 1 MB blocks, as a training step drops its graph; once
    memory is kept, doing it again takes (almost) no new page faults."""
    code = """
import resource, numpy as np
from minigrad.allocator import keep_freed_memory
keep_freed_memory()
def step():
    blocks = [np.ones(1 << 18, np.float32) for _ in range(8)]
    del blocks
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
    env = {"PATH": "/usr/bin:/bin", "MINIGRAD_MALLOC": "default"}
    faults = int(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                text=True, check=True).stdout)
    assert faults < 100  # 20 steps x 8 MB would be ~40,000 faults if the memory went back


def test_elsewhere_it_reports_that_it_did_nothing(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert allocator.keep_freed_memory() is False
