"""What is on disk after `minigrad.save`: which file it replaces, and crash safety.

Crash test (#11.7): SIGKILL a process in the middle of `minigrad.save`, again and again.
Every time, the checkpoint on disk is a complete one (the previous, or the new one if the
kill came after the rename), and the next save removes the temporary file left behind.
"""

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import minigrad as mg

needs_sigkill = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

# The child saves ever newer versions of a ~24 MB checkpoint; every array holds the version.
CHILD = """
import sys
import numpy as np
import minigrad as mg
path = sys.argv[1]
version = int(sys.argv[2])
while True:
    version += 1
    checkpoint = {"version": version, "weights": np.full(3_000_000, version, np.float64),
                  "nested": {"bias": np.full(1000, version, np.float32)}}
    print(version, flush=True)
    mg.save(checkpoint, path)
"""


def complete_version(path):
    loaded = mg.load(path)
    version = loaded["version"]
    assert (loaded["weights"] == version).all() and loaded["weights"].shape == (3_000_000,)
    assert (loaded["nested"]["bias"] == version).all()
    return version


def temporaries(folder):
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


@needs_sigkill
def test_sigkill_mid_save_never_damages_the_checkpoint_and_temps_are_cleaned(tmp_path):
    path = tmp_path / "model.npz"
    mg.save({"version": 0, "weights": np.zeros(3_000_000), "nested": {"bias": np.zeros(
        1000, np.float32)}}, path)
    rng = random.Random(0)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    version, left_behind = 0, 0
    for _ in range(6):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(version)],
                                 stdout=subprocess.PIPE, env=environment, text=True)
        child.stdout.readline()  # the first save has started
        time.sleep(rng.uniform(0.0, 0.4))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        new_version = complete_version(path)  # loads, and loads a whole checkpoint
        assert new_version >= version
        version = new_version
        left_behind += len(temporaries(tmp_path))
        # The next save (here, from this process) removes what the killed one left behind.
        mg.save(mg.load(path), path)
        assert temporaries(tmp_path) == []
        assert complete_version(path) == version
    assert left_behind > 0  # the kills did land mid-save at least once


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_saving_to_a_symbolic_link_writes_the_file_it_points_to(tmp_path):
    # As open(path, "w"), numpy.save and torch.save do: 'latest.npz -> runs/3/model.npz'
    # stays a link and the run's file gets the new values (the atomic rename used to replace
    # the link itself with a new file, leaving the run's file stale).
    (tmp_path / "runs").mkdir()
    target, link = tmp_path / "runs" / "model.npz", tmp_path / "latest.npz"
    mg.save({"w": np.zeros(2)}, target)
    os.symlink(os.path.join("runs", "model.npz"), link)
    mg.save({"w": np.ones(2)}, link)
    assert os.path.islink(link)
    np.testing.assert_array_equal(mg.load(target)["w"], np.ones(2))
    assert temporaries(tmp_path) == [] and temporaries(tmp_path / "runs") == []
    os.symlink(os.path.join("runs", "new.npz"), tmp_path / "dangling.npz")  # no file there yet
    mg.save({"w": np.full(2, 3.0)}, tmp_path / "dangling.npz")
    assert os.path.islink(tmp_path / "dangling.npz")
    np.testing.assert_array_equal(mg.load(tmp_path / "runs" / "new.npz")["w"], np.full(2, 3.0))
