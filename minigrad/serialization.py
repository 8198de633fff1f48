"""Checkpoints: ``minigrad.save(model.state_dict(), path)`` and ``minigrad.load(path)``.

The file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays, one per key), readable by
plain ``numpy.load`` without minigrad. Two safety properties:

* Loading never unpickles (``allow_pickle=False``): a checkpoint from someone else cannot run
  code on your machine, unlike a pickle (which ``torch.load`` used by default before 2.6).
* Saving is atomic: the archive is written to a temporary file in the same directory,
  flushed to disk, then renamed over `path` with `os.replace` (atomic on POSIX and Windows).
  A crash mid-save leaves the previous checkpoint intact, never a half-written one.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from minigrad.tensor import Tensor


def save(state_dict: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write a mapping of names to arrays (Tensors, ndarrays or numbers) to `path`.

    The file is written exactly at `path` (no extension is added); ``.npz`` or ``.pt``-like
    names are up to you. Keys keep their order.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"save: expected a mapping of names to arrays such as "
                        f"model.state_dict(), got {type(state_dict).__name__}.")
    arrays: dict[str, np.ndarray] = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be strings, got {key!r}.")
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"save: '{key}' has dtype {array.dtype}; only numeric arrays can be "
                            "saved (nothing is pickled). Fix: store numbers or arrays.")
        arrays[key] = array
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".minigrad-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as file:
            with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
                for key, array in arrays.items():
                    # np.savez(**arrays) would reject keys such as 'file'; write the members
                    # ourselves, in the same format numpy.load reads.
                    with archive.open(key + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def load(path: str | os.PathLike) -> OrderedDict[str, np.ndarray]:
    """Read a checkpoint written by `save`: an ordered mapping of names to ndarrays.

    A truncated or corrupt file raises `ValueError` naming the path (a missing file raises
    `FileNotFoundError`). Nothing is unpickled.
    """
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a bare .npy array
            raise ValueError("it holds a single array, not named arrays")
        with archive:
            state: OrderedDict[str, np.ndarray] = OrderedDict()
            for key in archive.files:
                state[key] = archive[key]  # reading each member checks its CRC
            return state
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise  # already clear, and not a problem with the file's contents
    except Exception as error:  # a damaged zip fails in many ways: BadZipFile, EOFError, ...
        raise ValueError(
            f"load: '{path}' is not a readable minigrad checkpoint (truncated or corrupt?): "
            f"{error}. Fix: save it again with minigrad.save(model.state_dict(), path), or "
            "restore it from a backup.") from error
