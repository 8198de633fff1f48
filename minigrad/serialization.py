"""Checkpoints: ``minigrad.save(obj, path)`` and ``minigrad.load(path, max_bytes=...)``.

``obj`` is a mapping: ``model.state_dict()``, or a nested checkpoint such as
``{"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 3}`` (dicts, lists and
tuples of Tensors, numeric arrays, numbers, strings, None and bools; see
`minigrad.checkpoint_tree`). It loads back with the same structure, keys, dtypes and values.

**Format** (version 1). A zip archive whose members are all *stored* (uncompressed):

* one ``.npy`` member per array (NumPy's own format, C order, no pickle), named after its
  key path: ``0.weight.npy``, ``model/0.weight.npy``, ``optimizer/state/0/momentum_buffer.npy``;
* ``minigrad-manifest.json``: the format name and version, the tree (numbers and strings
  inline, arrays as references) and, per member, its name, dtype, shape, size in bytes and
  SHA-256.

A flat ``state_dict`` checkpoint stays readable by ``numpy.load(path)`` without minigrad.

**Guarantees of `load`.** Nothing is unpickled and nothing is decompressed. Before reading
any data it checks, from the zip directory alone, that every member is stored, that its
declared size fits in the file and that the total fits in `max_bytes`; it then refuses any
member the manifest does not list (and any it lists that is missing), checks each ``.npy``
header against the manifest before allocating, and each member's SHA-256. Every refusal is a
`ValueError` naming the path; a file either loads exactly as saved or not at all, so
``model.load_state_dict(mg.load(path))`` never loads part of a model. PyTorch ``.pt`` files
and other pickles are recognised and refused with a pointer to the right tool. Only a
regular file is read: a FIFO, device or socket (``/dev/zero``, a named pipe) is refused
before it is opened, and again from the open handle (opened non-blocking, so a FIFO swapped
in between cannot block); the file size is taken from that handle, so a `save` landing
between the check and the open cannot make a valid file look truncated.

**Guarantees of `save`.** Keys that zip would change (NUL, ``/``, ``\\``) or that would collide
are refused before anything is written. The archive is written to a temporary file next to
`path` (``.NAME.minigrad-HOST-PID-RANDOM.tmp``), fsynced, renamed over `path` with
`os.replace` (atomic), and the folder is fsynced so the rename survives a power cut. A
`path` that is a symbolic link is followed, as ``open(path, "w")`` does. A failure
removes the temporary file; one left by a killed save of the same target (its process gone,
or older than a day) is removed by the next save. The file gets the permissions `open()`
would give it: those of the file it replaces, else 0o666 minus the umask. A file that
`open(path, "w")` could not write (read-only to this user) is refused with
`PermissionError`, not replaced. A FIFO, device or socket at `path` (or at the end of its
symbolic link) is refused with `ValueError`, not replaced: a rename would swap the node (as
root, ``/dev/null`` itself) for a regular file, and writing into it in place would not be
atomic, so refusing is the simple and safe choice.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import re
import secrets
import socket
import stat
import time
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from minigrad import checkpoint_tree
from minigrad.checkpoint_foreign import refuse_foreign_file

FORMAT_NAME = "minigrad-checkpoint"
FORMAT_VERSION = 1
MANIFEST = "minigrad-manifest.json"
DEFAULT_MAX_BYTES = 2**30  # 1 GiB of array data: far above minigrad's models, far below harm
MAX_MANIFEST_BYTES = 64 * 2**20
STALE_TEMPORARY_SECONDS = 24 * 3600  # a temp file this old is dead even if its PID is reused


# -- saving -------------------------------------------------------------------------------

class _HashingWriter:
    """Counts and hashes what `np.lib.format.write_array` writes into a zip member."""

    def __init__(self, member: IO[bytes]) -> None:
        self.member, self.sha256, self.size = member, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.member.write(data)


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _temporary_pattern(target_name: str) -> re.Pattern:
    return re.compile(r"\." + re.escape(target_name)
                      + r"\.minigrad-([0-9a-f]{8})-([0-9]+)-[0-9a-f]{8}\.tmp")


def _remove_stale_temporaries(directory: str, target_name: str, started: float) -> None:
    """Remove temp files of killed saves of this target: our exact name pattern, a regular
    file of ours, older than this save, and its process gone (or older than a day)."""
    pattern, host = _temporary_pattern(target_name), _host_tag()
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        candidate = os.path.join(directory, name)
        try:
            info = os.lstat(candidate)
            if not os.path.isfile(candidate) or os.path.islink(candidate):
                continue
            if hasattr(os, "getuid") and info.st_uid != os.getuid():
                continue
            if info.st_mtime >= started:
                continue
            dead = info.st_mtime < started - STALE_TEMPORARY_SECONDS
            if not dead and match.group(1) == host:
                dead = not _process_alive(int(match.group(2)))
            if dead:
                os.remove(candidate)
        except OSError:
            continue  # gone already, or not ours to remove: never fail a save over cleanup


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists but not ours, or unknowable: keep the file
    return True


def _writable(path: str) -> bool:
    """Could open(path, "w") write it? Asked for the effective user, as open() does."""
    if os.access in os.supports_effective_ids:
        return os.access(path, os.W_OK, effective_ids=True)
    return os.access(path, os.W_OK)


def _path_argument(function: str, path: Any) -> str:
    """`path` as a str (bytes paths decoded as the OS does); a file object or anything else
    that is not a path is refused, naming the fix."""
    if hasattr(path, "read") or hasattr(path, "write"):
        raise TypeError(f"{function}: takes a path, not a file object (got "
                        f"{type(path).__name__}): minigrad checks and writes checkpoints as files "
                        "on disk. Fix: pass a file name, e.g. 'checkpoint.npz'.")
    try:
        return os.fsdecode(path)  # str, bytes and os.PathLike; TypeError for anything else
    except TypeError:
        raise TypeError(f"{function}: path must be a str, bytes or os.PathLike file name, got "
                        f"{type(path).__name__}. Fix: pass a file name, e.g. "
                        "'checkpoint.npz'.") from None


def _kind_of_node(mode: int) -> str:
    """What a non-regular file is, in words, for an error message."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _fsync_directory(directory: str) -> None:
    if os.name == "nt":  # Windows cannot open a folder for fsync; NTFS journals renames
        return
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _write_archive(file: io.BufferedIOBase, tree: Any,
                   arrays: list[tuple[str, np.ndarray]]) -> None:
    members = []
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays:
            with archive.open(name, "w", force_zip64=True) as member:
                writer = _HashingWriter(member)
                np.lib.format.write_array(writer, array, allow_pickle=False)
            members.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape),
                            "bytes": writer.size, "sha256": writer.sha256.hexdigest()})
        manifest = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                    "members": members, "tree": tree}
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=True))


def save(obj: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write `obj` (a ``state_dict`` or a nested checkpoint mapping) to exactly `path`.

    No extension is added; ``.npz`` is a good choice. Keys keep their order. See the module
    docstring for the format and what is guaranteed after a crash.
    """
    arrays: list[tuple[str, np.ndarray]] = []
    path = _path_argument("save", path)
    if not path:  # (realpath('') is the working folder: it was refused as "'' is a folder")
        raise ValueError("save: the path is empty (''). Fix: give a file name, e.g. "
                         "'checkpoint.npz'.")
    tree = checkpoint_tree.flatten(obj, arrays)  # every refusal happens before any write
    # Through symbolic links, as open(path, "w") writes: renaming over a link would replace
    # the link itself, and the file it points to would keep the old checkpoint. (The
    # temporary file then sits next to that file, on its file system, as the rename needs.)
    absolute = os.path.realpath(path)
    directory, target_name = os.path.split(absolute)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: cannot write '{path}': the folder '{directory}' does "
                                "not exist. Fix: create it first, os.makedirs(folder, "
                                "exist_ok=True).")
    if os.path.isdir(absolute):
        raise IsADirectoryError(f"save: '{path}' is a folder. Fix: give a file name, "
                                f"e.g. '{os.path.join(path, 'checkpoint.npz')}'.")
    try:
        mode: int | None = os.stat(absolute).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        # os.replace would swap the node itself for a regular file (as root: /dev/null).
        raise ValueError(f"save: cannot write '{path}': it is {_kind_of_node(mode)}, not a "
                         "regular file, and save only replaces regular files (atomically). "
                         "Fix: give the path of a regular file, e.g. 'checkpoint.npz'.")
    if os.path.exists(absolute) and not _writable(absolute):
        # A rename would replace a file its owner protected from writing; open(path, "w")
        # and torch.save refuse it, and so does save.
        raise PermissionError(errno.EACCES, f"save: cannot write '{path}': the file is "
                              "read-only, so it is left as it is. Fix: save under another name, "
                              "or make the file writable first (chmod u+w) if it may be replaced.")
    started = time.time()
    _remove_stale_temporaries(directory, target_name, started)
    temporary = os.path.join(directory, f".{target_name}.minigrad-{_host_tag()}-{os.getpid()}-"
                                        f"{secrets.token_hex(4)}.tmp")
    try:
        # 0o666 through the umask, as open() would create it (mkstemp would force 0o600).
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as error:
        raise type(error)(error.errno, f"save: cannot write '{path}': {error.strerror}") \
            from error
    try:
        if os.path.exists(absolute) and hasattr(os, "fchmod"):
            os.fchmod(handle, os.stat(absolute).st_mode & 0o7777)  # open('w') keeps the mode
        with os.fdopen(handle, "wb") as file:
            _write_archive(file, tree, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, absolute)
    except BaseException:  # KeyboardInterrupt included: never leave a temporary file behind
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


# -- loading ------------------------------------------------------------------------------

class _Refused(Exception):
    """Internal: a reason to refuse the file, turned into one ValueError by `load`."""


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytearray:
    buffer = bytearray(info.file_size)
    with archive.open(info) as member:  # checks the local header's name and, at EOF, the CRC
        view, filled = memoryview(buffer), 0
        while filled < len(buffer):
            count = member.readinto(view[filled:])  # type: ignore[attr-defined]  # ZipExtFile has it
            if not count:
                raise _Refused(f"member '{info.filename}' is shorter than its declared size")
            filled += count
        if member.read(1):
            raise _Refused(f"member '{info.filename}' is longer than its declared size")
    return buffer


def _check_directory(archive: zipfile.ZipFile, file_size: int, max_bytes: int) -> None:
    """Sizes and compression from the zip directory alone, before reading any member."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise _Refused("a member name appears twice")
    total = 0
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED:
            raise _Refused(f"member '{info.filename}' is compressed; minigrad checkpoints store "
                           "members uncompressed (a small compressed member can expand to "
                           "gigabytes)")
        if info.flag_bits & 0x1:
            raise _Refused(f"member '{info.filename}' is encrypted")
        if (info.compress_size != info.file_size
                or info.header_offset + info.file_size > file_size):
            raise _Refused(f"member '{info.filename}' declares {info.file_size} bytes, which "
                           f"do not fit in the {file_size}-byte file")
        total += info.file_size
    if total > max_bytes:
        raise _Refused(f"its members declare {total} bytes, more than max_bytes={max_bytes}. "
                       "If you trust the file, pass a larger max_bytes=")


def _read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise _Refused(f"it has no {MANIFEST} (not written by minigrad.save, or by a version "
                       "before manifests). If you trust it, read it with numpy.load(path, "
                       "allow_pickle=False) and save it again with minigrad.save") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise _Refused(f"its manifest declares {info.file_size} bytes")
    try:
        manifest = json.loads(bytes(_read_member(archive, info)).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise _Refused(f"its manifest is not valid JSON ({type(error).__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise _Refused("its manifest is not a minigrad manifest")
    if manifest.get("version") != FORMAT_VERSION:
        raise _Refused(f"it uses format version {manifest.get('version')!r:.20}; this minigrad "
                       f"reads version {FORMAT_VERSION}. Fix: upgrade minigrad")
    members = manifest.get("members")
    if not isinstance(members, list):
        raise _Refused("its manifest has no member list")
    for entry in members:
        if (not isinstance(entry, dict) or not isinstance(entry.get("name"), str)
                or not entry["name"].endswith(".npy") or not isinstance(entry.get("dtype"), str)
                or not isinstance(entry.get("shape"), list)
                or not all(type(n) is int and n >= 0 for n in entry["shape"])
                or type(entry.get("bytes")) is not int or not isinstance(entry.get("sha256"), str)):
            raise _Refused(f"its manifest has a malformed member entry {entry!r:.100}")
    return manifest


def _read_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                entry: dict[str, Any]) -> np.ndarray:
    name = info.filename
    try:
        dtype = np.dtype(entry["dtype"])
    except TypeError:
        raise _Refused(f"the manifest gives '{name}' the unknown dtype {entry['dtype']!r:.40}")\
            from None
    if dtype.kind not in checkpoint_tree.ARRAY_KINDS or dtype.fields is not None:
        raise _Refused(f"the manifest gives '{name}' the non-numeric dtype {dtype}")
    shape = tuple(entry["shape"])
    data_bytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if info.file_size != entry["bytes"] or data_bytes > info.file_size:
        raise _Refused(f"member '{name}' has {info.file_size} bytes, the manifest says "
                       f"{entry['bytes']} for a {dtype} array of shape {shape}")
    buffer = _read_member(archive, info)  # the size was checked against max_bytes already
    if hashlib.sha256(buffer).hexdigest() != entry["sha256"]:
        raise _Refused(f"member '{name}' does not match its SHA-256 in the manifest")
    header = io.BytesIO(bytes(buffer[:min(len(buffer), 65536)]))
    try:
        version = np.lib.format.read_magic(header)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        header_shape, fortran_order, header_dtype = read_header(header)
    except (ValueError, OSError) as error:
        raise _Refused(f"member '{name}' is not a valid .npy array: {error}") from None
    if header_shape != shape or header_dtype != dtype or fortran_order:
        raise _Refused(f"member '{name}' holds a {header_dtype} array of shape {header_shape}, "
                       f"the manifest says {dtype} of shape {shape}")
    if header.tell() + data_bytes != len(buffer):
        raise _Refused(f"member '{name}' has {len(buffer) - header.tell()} bytes of data for "
                       f"a {dtype} array of shape {shape}")
    return np.frombuffer(buffer, dtype=dtype, offset=header.tell()).reshape(shape)


def _refuse_non_regular(path: str, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, f"load: '{path}' is a folder. Fix: give the path "
                                "of a checkpoint file written by minigrad.save.")
    if not stat.S_ISREG(mode):
        raise _Refused(f"it is {_kind_of_node(mode)}, not a regular file; reading one can "
                       "block or never end. Fix: give the path of a checkpoint file written by "
                       "minigrad.save")


def _open_regular_file(path: str) -> tuple[io.BufferedReader, int]:
    """Open `path` for reading if it is a regular file; return it and its size, taken from
    the open handle. Checked before opening (opening a FIFO blocks, a device may act on
    open), then again on the handle, in case the path changed in between: the open is
    non-blocking, so a FIFO swapped in cannot block it."""
    _refuse_non_regular(path, os.stat(path).st_mode)
    non_blocking = getattr(os, "O_NONBLOCK", 0)
    handle = os.open(path, os.O_RDONLY | non_blocking | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(handle)
        _refuse_non_regular(path, info.st_mode)
        if non_blocking:
            os.set_blocking(handle, True)
        return os.fdopen(handle, "rb"), info.st_size
    except BaseException:
        os.close(handle)
        raise


def _load_checked(path: str, max_bytes: int) -> OrderedDict[str, Any]:
    file, file_size = _open_regular_file(path)
    with file:
        refuse_foreign_file(file, path)
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            _check_directory(archive, file_size, max_bytes)
            manifest = _read_manifest(archive)
            listed = {entry["name"]: entry for entry in manifest["members"]}
            present = {info.filename: info for info in archive.infolist()}
            unknown = sorted(set(present) - set(listed) - {MANIFEST})
            missing = sorted(set(listed) - set(present))
            if unknown or missing or len(listed) != len(manifest["members"]):
                raise _Refused(f"its members do not match its manifest (not listed: "
                               f"{unknown[:5]}, missing: {missing[:5]})")
            arrays = [_read_array(archive, present[entry["name"]], entry)
                      for entry in manifest["members"]]
    try:
        return checkpoint_tree.unflatten(manifest.get("tree"), arrays)
    except checkpoint_tree.ManifestError as error:
        raise _Refused(f"its manifest's tree is invalid: {error}") from None


def load(path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES) -> OrderedDict[str, Any]:
    """Read a checkpoint written by `save`, with the structure it was saved with.

    `max_bytes` bounds the array data read (default 1 GiB); raise it for a larger
    checkpoint you trust. A truncated, corrupt, compressed, oversized or foreign file raises
    `ValueError` naming the path; a missing file raises `FileNotFoundError`. Nothing is
    unpickled, and nothing is returned unless every member checked out.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int | np.integer) or max_bytes < 0:
        raise TypeError(f"load: max_bytes must be a non-negative int (a number of bytes), "
                        f"got {max_bytes!r}.")
    path = _path_argument("load", path)
    try:
        return _load_checked(path, int(max_bytes))
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise  # already clear, and not a problem with the file's contents
    except _Refused as reason:
        raise ValueError(f"load: refused '{path}': {reason}.") from None
    except ValueError as error:
        if str(error).startswith("load: "):
            raise  # a foreign file, already explained
        raise _corrupt(path, error) from error
    except Exception as error:  # a damaged zip fails in many ways: BadZipFile, EOFError, ...
        raise _corrupt(path, error) from error


def _corrupt(path: str, error: Exception) -> ValueError:
    return ValueError(
        f"load: '{path}' is not a readable minigrad checkpoint (truncated or corrupt?): "
        f"{type(error).__name__}: {error}. Fix: save it again with minigrad.save(...), or "
        "restore it from a backup.")
