"""mg.save with an empty path (reviewer's finding F9 of round 13) said "'' is a folder"
(the real path of '' is the working folder); now a ValueError that says the path is empty."""

import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("path", ["", b""], ids=["str", "bytes"])
def test_an_empty_path_is_a_clear_value_error(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"^save: the path is empty \(''\)\. Fix: give a file "
                                         r"name, e\.g\. 'checkpoint\.npz'\.$"):
        mg.save({"w": np.zeros(2)}, path)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_folder_is_still_a_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        mg.save({"w": np.zeros(2)}, tmp_path)
    mg.save({"w": np.zeros(2)}, tmp_path / "c.npz")
    np.testing.assert_array_equal(mg.load(tmp_path / "c.npz")["w"], 0)
