"""minigrad.save / minigrad.load: round trips, atomic writes, refusals that change nothing."""

import hashlib
import io
import json
import os
import pickle
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def make_model(seed=0):
    mg.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))


def snapshot(model):
    return {name: array.copy() for name, array in model.state_dict().items()}


def assert_unchanged(model, before):
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


def test_state_dict_round_trips_through_save_and_load(tmp_path):
    source, target = make_model(0), make_model(1)
    path = tmp_path / "model.npz"
    mg.save(source.state_dict(), path)
    loaded = mg.load(path)
    assert list(loaded) == list(source.state_dict())  # order kept
    for name, array in source.state_dict().items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name], array)
    target.load_state_dict(loaded)
    x = mg.randn(2, 1, 4, 4)
    np.testing.assert_array_equal(target(x).data, source(x).data)
    # A plain NumPy archive: readable without minigrad, and without pickle.
    with np.load(path, allow_pickle=False) as archive:
        assert archive.files == [*source.state_dict(), "minigrad-manifest.json"]
        for name, array in source.state_dict().items():
            np.testing.assert_array_equal(archive[name], array)


def test_any_key_names_dtypes_and_tensors_are_stored(tmp_path):
    state = {"file": np.arange(3), "allow_pickle": mg.tensor([1.5]), "step": 7,
             "flags": np.array([True, False]), "x.y.z": np.float64(2.5)}
    mg.save(state, str(tmp_path / "odd"))  # a str path, and no extension is added
    loaded = mg.load(tmp_path / "odd")
    assert list(loaded) == list(state)
    assert loaded["step"] == 7 and type(loaded["step"]) is int  # a Python int stays one
    assert type(loaded["x.y.z"]) is np.float64  # a NumPy scalar stays a NumPy scalar
    np.testing.assert_array_equal(loaded["allow_pickle"], np.array([1.5], np.float32))
    assert loaded["flags"].dtype == np.bool_


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = make_model(0).state_dict()
    mg.save(old, path)
    assert os.listdir(tmp_path) == ["model.npz"]

    def fail_midway(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", fail_midway)
    with pytest.raises(OSError, match="disk full"):
        mg.save(make_model(1).state_dict(), path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["model.npz"]  # no half-written file left behind
    for name, array in mg.load(path).items():  # the previous checkpoint is intact
        np.testing.assert_array_equal(array, old[name])


def test_save_refuses_what_it_cannot_store_without_pickle(tmp_path):
    with pytest.raises(TypeError, match="'names' has dtype"):
        mg.save({"names": np.array(["a", "b"])}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be strings"):
        mg.save({0.5: np.zeros(1)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="mapping"):
        mg.save([np.zeros(1)], tmp_path / "x.npz")
    assert not os.listdir(tmp_path)


def test_a_truncated_file_is_refused_naming_the_path_and_the_model_is_unchanged(tmp_path):
    path = tmp_path / "model.npz"
    mg.save(make_model(1).state_dict(), path)
    data = path.read_bytes()
    model = make_model(0)
    before = snapshot(model)
    for size in (len(data) // 2, len(data) - 10, 10, 0):
        path.write_bytes(data[:size])
        with pytest.raises(ValueError, match=f"'{path}'.*truncated or corrupt"):
            model.load_state_dict(mg.load(path))
    assert_unchanged(model, before)


def test_corrupt_member_pickles_and_bare_arrays_are_refused(tmp_path):
    path = tmp_path / "model.npz"
    mg.save({"w": np.arange(100.0)}, path)
    data = bytearray(path.read_bytes())
    data[200] ^= 0xFF  # flip bits inside the array data: the zip's CRC check catches it
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="model.npz"):
        mg.load(path)
    pickled = tmp_path / "pickled.npz"
    pickled.write_bytes(pickle.dumps({"w": np.zeros(2)}))
    with pytest.raises(ValueError, match="pickled.npz"):
        mg.load(pickled)
    with zipfile.ZipFile(tmp_path / "objects.npz", "w") as archive:  # an object array inside
        with archive.open("w.npy", "w") as member:
            np.lib.format.write_array(member, np.array([{"a": 1}], dtype=object),
                                      allow_pickle=True)
    with pytest.raises(ValueError, match="objects.npz"):
        mg.load(tmp_path / "objects.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single.npy"):
        mg.load(tmp_path / "single.npy")
    with pytest.raises(FileNotFoundError):
        mg.load(tmp_path / "missing.npz")


def test_a_checkpoint_of_another_architecture_is_refused_naming_the_key(tmp_path):
    path = tmp_path / "other.npz"
    mg.save(nn.Sequential(nn.Linear(4, 3)).state_dict(), path)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    before = snapshot(model)
    with pytest.raises(KeyError, match=r"missing keys \['2.weight', '2.bias'\]"):
        model.load_state_dict(mg.load(path))
    assert_unchanged(model, before)
    mg.save(nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2)).state_dict(), path)
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(5, 4\)"):
        model.load_state_dict(mg.load(path))
    assert_unchanged(model, before)


# -- nested checkpoints (#11.7) ------------------------------------------------------------

def assert_same_tree(loaded, saved):
    """Same structure, container kinds, key types, scalar types and array bytes."""
    if isinstance(saved, dict):
        assert isinstance(loaded, dict) and list(loaded) == list(saved)
        for key in saved:
            assert type(next(k for k in loaded if k == key)) is type(key)
            assert_same_tree(loaded[key], saved[key])
    elif isinstance(saved, list | tuple):
        assert type(loaded) is type(saved) and len(loaded) == len(saved)
        for a, b in zip(loaded, saved):
            assert_same_tree(a, b)
    elif isinstance(saved, np.ndarray | mg.Tensor):
        array = saved.data if isinstance(saved, mg.Tensor) else saved
        assert isinstance(loaded, np.ndarray) and loaded.dtype == array.dtype
        np.testing.assert_array_equal(loaded, array)
    elif isinstance(saved, float) and saved != saved:
        assert type(loaded) is float and loaded != loaded
    else:
        assert type(loaded) is type(saved) and loaded == saved


def test_a_nested_training_checkpoint_round_trips_and_resumes_identically(tmp_path):
    model = make_model(0)
    optimizer = mg.optim.Adam(model.parameters(), lr=0.01)
    x = mg.randn(4, 1, 4, 4)
    for _ in range(2):
        optimizer.zero_grad()
        (model(x) ** 2).mean().backward()
        optimizer.step()
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": 2,
                  "note": "run 7 \x00 ünïcode", "best": float("nan"), "done": False,
                  "schedule": [1, 2.5, None, (True, "x")], "scale": np.float32(0.5)}
    mg.save(checkpoint, tmp_path / "run.ckpt")
    loaded = mg.load(tmp_path / "run.ckpt")
    assert_same_tree(loaded, checkpoint)
    assert type(loaded["scale"]) is np.float32
    assert list(loaded["optimizer"]["state"]) == [0, 1, 2, 3]  # integer keys stay integers

    resumed = make_model(1)
    resumed_optimizer = mg.optim.Adam(resumed.parameters(), lr=0.5)
    resumed.load_state_dict(loaded["model"])
    resumed_optimizer.load_state_dict(loaded["optimizer"])
    for net, opt in ((model, optimizer), (resumed, resumed_optimizer)):
        opt.zero_grad()
        (net(x) ** 2).mean().backward()
        opt.step()
    for (name, a), b in zip(model.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("value, message", [
    ({1, 2}, "is a set"), (b"raw", "is a bytes"), (1 + 2j, "is a complex"),
    (object(), "is a object"), (np.array([1 + 1j]), "dtype complex128"),
    (np.array(["a"]), "dtype <U1"), ({True: 1.0}, "keys must be strings"),
])
def test_save_refuses_what_a_checkpoint_cannot_hold_and_writes_nothing(tmp_path, value,
                                                                        message):
    with pytest.raises(TypeError, match=message):
        mg.save({"model": {"inner": value}}, tmp_path / "x.npz")
    assert not os.listdir(tmp_path)


def test_save_refuses_a_cyclic_checkpoint(tmp_path):
    cyclic = {"a": []}
    cyclic["a"].append(cyclic)
    with pytest.raises(ValueError, match="nesting deeper than 64 levels.*cyclic"):
        mg.save(cyclic, tmp_path / "x.npz")


# -- key names (#11.5) --------------------------------------------------------------------

@pytest.mark.parametrize("state, message", [
    ({"w\x00x": 0.0, "w\x00y": 1.0}, "zip cuts a name at a NUL byte"),
    ({"a": np.zeros(1), "a.npy": np.ones(1)}, "collides .* 'a.npy'"),
    ({"a.npy": np.zeros(1), "a": np.ones(1)}, "collides .* 'a.npy'"),
    ({"x": {0: np.zeros(1), "0": np.ones(1)}}, "collides"),
    ({"a/b": np.zeros(1)}, "'/' separates nesting levels"),
    ({"a\\b": np.zeros(1)}, "turns '\\\\' into '/'"),
    ({"\ud800": np.zeros(1)}, "lone surrogate"),
])
def test_keys_that_zip_would_change_or_mix_up_are_refused_before_writing(tmp_path, state,
                                                                         message):
    with pytest.raises(ValueError, match=message):
        mg.save(state, tmp_path / "x.npz")
    assert not os.listdir(tmp_path)


def test_a_non_npy_or_unlisted_member_is_refused_never_returned_as_bytes(tmp_path):
    path = tmp_path / "model.npz"
    mg.save({"w": np.arange(3.0)}, path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("notes.txt", b"hello")
    with pytest.raises(ValueError, match=r"not listed: \['notes.txt'\]"):
        mg.load(path)
    legacy = tmp_path / "legacy.npz"
    np.savez(legacy, w=np.arange(3.0))  # no manifest: an old minigrad file, or anyone's npz
    with pytest.raises(ValueError, match="no minigrad-manifest.json.*numpy.load"):
        mg.load(legacy)


# -- sizes and compression (#11.4) ---------------------------------------------------------

def test_compressed_members_are_refused_before_anything_is_decompressed(tmp_path):
    path = tmp_path / "bomb.npz"
    mg.save({"w": np.zeros(1)}, path)
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        # 40 MB of zeros deflate to ~40 kB; a real bomb would be gigabytes.
        archive.writestr("big.npy", b"\x00" * 40_000_000)
    assert path.stat().st_size < 100_000
    with pytest.raises(ValueError, match="is compressed"):
        mg.load(path)


def test_max_bytes_bounds_the_data_read_and_is_checked_first(tmp_path):
    path = tmp_path / "model.npz"
    mg.save({"w": np.zeros(1000, np.float32)}, path)
    with pytest.raises(ValueError, match="more than max_bytes=1000. If you trust the file"):
        mg.load(path, max_bytes=1000)
    assert mg.load(path, max_bytes=5000)["w"].shape == (1000,)
    assert mg.serialization.DEFAULT_MAX_BYTES == 2**30
    with pytest.raises(TypeError, match="max_bytes must be a non-negative int"):
        mg.load(path, max_bytes="1GB")


def rewrite_member(path, name, data, fix_manifest=True):
    """Replace one member's bytes; optionally make the manifest agree (a consistent liar)."""
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    members[name] = data
    if fix_manifest:
        manifest = json.loads(members["minigrad-manifest.json"])
        for entry in manifest["members"]:
            if entry["name"] == name:
                entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
        members["minigrad-manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)


def test_a_npy_header_that_lies_about_its_shape_is_refused_without_allocating(tmp_path):
    path = tmp_path / "lie.npz"
    mg.save({"w": np.zeros(4)}, path)
    with zipfile.ZipFile(path) as archive:
        member = archive.read("w.npy")
    lie = member.replace(b"(4,), }" + b" " * 8, b"(10000000000,)}")
    assert len(lie) == len(member)
    rewrite_member(path, "w.npy", lie)
    with pytest.raises(ValueError, match=r"refused .*lie.npz.*holds a float64 array of shape "
                                         r"\(10000000000,\), the manifest says"):
        mg.load(path)  # would need 80 GB if the header were believed
    rewrite_member(path, "w.npy", member[:-8])  # one element short, manifest made to agree
    with pytest.raises(ValueError, match="bytes, the manifest says|bytes of data"):
        mg.load(path)


# -- foreign files (#11.7) -----------------------------------------------------------------

def test_pytorch_checkpoints_are_recognised_synthetic(tmp_path):
    zipped = tmp_path / "model.pt"
    with zipfile.ZipFile(zipped, "w") as archive:  # torch.save's layout since PyTorch 1.6
        archive.writestr("model/data.pkl", pickle.dumps({}))
        archive.writestr("model/version", b"3\n")
    legacy = tmp_path / "legacy.pt"  # before 1.6: a pickle starting with torch's magic number
    legacy.write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps({}))
    for path in (zipped, legacy):
        with pytest.raises(ValueError, match="this is a PyTorch checkpoint; load it with torch "
                                             "and convert"):
            mg.load(path)


def test_a_real_pytorch_checkpoint_is_recognised(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 3).state_dict(), path)
    with pytest.raises(ValueError, match="this is a PyTorch checkpoint"):
        mg.load(path)
    torch.save(torch.nn.Linear(2, 3).state_dict(), tmp_path / "old.pt",
               _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="this is a PyTorch checkpoint"):
        mg.load(tmp_path / "old.pt")


# -- saving: permissions, folders, fsync, stale temporary files (#11.7) --------------------

def test_the_file_mode_follows_the_umask_like_open_and_keeps_an_existing_files_mode(tmp_path):
    for umask, expected in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
        old = os.umask(umask)
        try:
            path = tmp_path / f"model-{umask:o}.npz"
            mg.save({"w": np.zeros(1)}, path)
            with open(tmp_path / f"reference-{umask:o}", "w"):
                pass
        finally:
            os.umask(old)
        assert path.stat().st_mode & 0o777 == expected
        assert (tmp_path / f"reference-{umask:o}").stat().st_mode & 0o777 == expected
    path = tmp_path / "model-22.npz"
    os.chmod(path, 0o640)
    mg.save({"w": np.ones(1)}, path)  # overwriting keeps the mode, as open(path, "w") does
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_read_only_file_is_not_replaced(tmp_path):
    # A rename does not need write permission on the file it replaces: without the check,
    # a checkpoint its owner made read-only was silently overwritten. open(path, "w") and
    # torch.save refuse; so must save. (As root, permission checks pass: act as 'nobody'.)
    folder = tempfile.mkdtemp()  # under /tmp, which every user may traverse
    try:
        os.chmod(folder, 0o777)
        path = os.path.join(folder, "best.npz")
        mg.save({"w": np.ones(2)}, path)
        os.chmod(path, 0o444)
        act_as_nobody = hasattr(os, "geteuid") and os.geteuid() == 0
        if act_as_nobody:
            os.seteuid(65534)
        try:
            with pytest.raises(PermissionError, match="save: cannot write .*best.npz.* read-only"):
                mg.save({"w": np.zeros(2)}, path)
            assert sorted(os.listdir(folder)) == ["best.npz"]  # no temporary file either
        finally:
            if act_as_nobody:
                os.seteuid(0)
        np.testing.assert_array_equal(mg.load(path)["w"], np.ones(2))
    finally:
        shutil.rmtree(folder)


def test_a_missing_folder_is_named_as_the_user_wrote_it(tmp_path):
    path = tmp_path / "no-such-folder" / "model.npz"
    with pytest.raises(FileNotFoundError, match=r"save: cannot write '.*no-such-folder/model"
                                                r"\.npz': the folder .* does not exist") as info:
        mg.save({"w": np.zeros(1)}, path)
    assert ".tmp" not in str(info.value)
    with pytest.raises(IsADirectoryError, match="is a folder"):
        mg.save({"w": np.zeros(1)}, tmp_path)


def test_the_folder_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(source, target):
        events.append("rename")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    mg.save({"w": np.zeros(1)}, tmp_path / "model.npz")
    assert events == ["fsync file", "rename", "fsync folder"]


def dead_pid():
    import subprocess
    import sys
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid  # reaped: no process has this id (until the kernel reuses it)


def test_stale_temporary_files_of_the_same_target_are_removed_and_nothing_else(tmp_path):
    from minigrad.serialization import _host_tag
    host = _host_tag()
    dead, alive = dead_pid(), os.getppid()
    names = {
        f".model.npz.minigrad-{host}-{dead}-0123abcd.tmp": False,  # killed save: removed
        f".model.npz.minigrad-{host}-{alive}-0123abcd.tmp": True,  # a live save: kept
        f".model.npz.minigrad-0000beef-{dead}-0123abcd.tmp": True,  # other host: cannot tell
        f".other.npz.minigrad-{host}-{dead}-0123abcd.tmp": True,  # another target
        f".model.npz.minigrad-{host}-{dead}-0123abcd.tmp.keep": True,  # not our pattern
        ".minigrad-abc.tmp": True,  # old minigrad's name: its target is unknown
        "model.npz.bak": True,
    }
    an_hour_ago = os.path.getmtime(tmp_path) - 3600
    for name in names:
        (tmp_path / name).write_bytes(b"x" * 10)
        os.utime(tmp_path / name, (an_hour_ago, an_hour_ago))
    ancient = f".model.npz.minigrad-{host}-{alive}-fedcba98.tmp"  # a live PID, but two days old
    (tmp_path / ancient).write_bytes(b"x")
    os.utime(tmp_path / ancient, (an_hour_ago - 2 * 86400,) * 2)
    names[ancient] = False
    fresh = f".model.npz.minigrad-{host}-{dead}-99999999.tmp"  # newer than the save: kept
    (tmp_path / fresh).write_bytes(b"x")
    os.utime(tmp_path / fresh, (an_hour_ago + 7200,) * 2)  # (its clock may be ahead)
    names[fresh] = True

    mg.save({"w": np.zeros(1)}, tmp_path / "model.npz")
    for name, kept in names.items():
        assert (tmp_path / name).exists() == kept, name
    assert (tmp_path / "model.npz").exists()


# -- corruption in the zip directory (#11.6) -----------------------------------------------

def central_directory_range(data: bytes) -> range:
    end = data.rindex(b"PK\x05\x06")  # end-of-central-directory record (ours has no comment)
    start = int.from_bytes(data[end + 16:end + 20], "little")
    return range(start, len(data))


def test_every_single_byte_flip_in_the_zip_directory_is_refused_or_loads_exactly(tmp_path):
    path = tmp_path / "model.npz"
    state = make_model(1).state_dict()
    mg.save(state, path)
    data = path.read_bytes()
    model = make_model(0)
    before = snapshot(model)
    outcomes = {"refused": 0, "exact": 0}
    for position in central_directory_range(data):
        for flip in (0x01, 0xFF):
            damaged = bytearray(data)
            damaged[position] ^= flip
            path.write_bytes(bytes(damaged))
            try:
                loaded = mg.load(path)
            except ValueError:
                outcomes["refused"] += 1
                continue
            assert list(loaded) == list(state), position
            for name, array in state.items():
                assert loaded[name].dtype == array.dtype, (position, name)
                np.testing.assert_array_equal(loaded[name], array, err_msg=str(position))
            outcomes["exact"] += 1
    assert outcomes["refused"] > 100 and outcomes["exact"] > 100  # both kinds occur
    assert_unchanged(model, before)


# -- FIFOs, devices and sockets are never replaced, never read -----------------------------

def _run_isolated(code: str, *args: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter with a timeout: a load that blocks on a FIFO fails
    the test instead of hanging the suite."""
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=30, env=environment)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_save_refuses_a_fifo_or_device_and_leaves_it_in_place(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    link = tmp_path / "link.npz"
    os.symlink(fifo, link)
    for target in (fifo, link):
        with pytest.raises(ValueError, match=r"save: cannot write .*: it is a FIFO \(named pipe\)"
                                             r", not a regular file.*Fix: give the path of a "
                                             r"regular file"):
            mg.save({"w": np.zeros(1)}, target)
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["link.npz", "pipe.npz"]  # no temporary file left
    if os.geteuid() == 0:  # a private copy of /dev/null (as root, save once replaced the real one)
        device = tmp_path / "null"
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        with pytest.raises(ValueError, match="it is a character device"):
            mg.save({"w": np.zeros(1)}, device)
        assert stat.S_ISCHR(os.stat(device).st_mode)


LOAD_AND_REPORT = """
import sys, minigrad as mg
try:
    mg.load(sys.argv[1])
except ValueError as error:
    print(error)
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_load_refuses_a_fifo_or_device_without_blocking_or_reading_forever(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    result = _run_isolated(LOAD_AND_REPORT, str(fifo))
    assert re.search(r"load: refused '.*pipe\.npz': it is a FIFO \(named pipe\), not a regular "
                     r"file.*Fix: give the path of a checkpoint file", result.stdout), result
    for device in ("/dev/zero", "/dev/urandom"):
        if os.path.exists(device):
            result = _run_isolated(LOAD_AND_REPORT, device)
            assert "it is a character device, not a regular file" in result.stdout, result


SWAP_IN_A_FIFO_AFTER_THE_CHECK = """
import os, sys, numpy as np, minigrad as mg
path = sys.argv[1]
mg.save({"w": np.zeros(3)}, path)
real_stat = os.stat
def stat_then_swap(target, *args, **kwargs):
    result = real_stat(target, *args, **kwargs)
    if os.fspath(target) == path:
        os.stat = real_stat
        os.remove(path)
        os.mkfifo(path)      # the path becomes a FIFO between the check and the open
    return result
os.stat = stat_then_swap
try:
    mg.load(path)
except ValueError as error:
    print(error)
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_load_rechecks_the_open_handle_and_a_fifo_swapped_in_cannot_block_it(tmp_path):
    result = _run_isolated(SWAP_IN_A_FIFO_AFTER_THE_CHECK, str(tmp_path / "model.npz"))
    assert "it is a FIFO (named pipe), not a regular file" in result.stdout, result


def test_load_takes_the_size_from_the_open_file_so_a_save_in_between_is_no_corruption(
        tmp_path, monkeypatch):
    path = str(tmp_path / "model.npz")
    mg.save({"w": np.ones(10, np.float32)}, path)
    real_stat = os.stat

    def stat_then_another_process_saves(target, *args, **kwargs):
        result = real_stat(target, *args, **kwargs)
        if os.fspath(target) == path:
            monkeypatch.setattr(os, "stat", real_stat)
            mg.save({"w": np.ones(1000, np.float32)}, path)  # an atomic save lands here
        return result

    monkeypatch.setattr(os, "stat", stat_then_another_process_saves)
    assert mg.load(path)["w"].shape == (1000,)  # the file that was opened, read whole


def test_paths_may_be_bytes_and_file_objects_are_refused_naming_the_fix(tmp_path):
    path = os.fsencode(tmp_path / "model.npz")
    mg.save({"w": np.arange(3.0)}, path)
    np.testing.assert_array_equal(mg.load(path)["w"], np.arange(3.0))
    for function, call in (("save", lambda target: mg.save({"w": np.zeros(1)}, target)),
                           ("load", mg.load)):
        with pytest.raises(TypeError, match=rf"{function}: takes a path, not a file object "
                                            r"\(got BytesIO\).*Fix: pass a file name"):
            call(io.BytesIO())
        with pytest.raises(TypeError, match=rf"{function}: path must be a str, bytes or "
                                            r"os.PathLike file name, got int"):
            call(3)
