"""minigrad.save / minigrad.load: round trips, atomic writes, refusals that change nothing."""

import os
import pickle
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
        assert archive.files == list(source.state_dict())


def test_any_key_names_dtypes_and_tensors_are_stored(tmp_path):
    state = {"file": np.arange(3), "allow_pickle": mg.tensor([1.5]), "step": 7,
             "flags": np.array([True, False]), "x.y.z": np.float64(2.5)}
    mg.save(state, str(tmp_path / "odd"))  # a str path, and no extension is added
    loaded = mg.load(tmp_path / "odd")
    assert list(loaded) == list(state)
    assert loaded["step"] == 7 and loaded["x.y.z"].dtype == np.float64
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
        mg.save({0: np.zeros(1)}, tmp_path / "x.npz")
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
