"""The nested structure of a checkpoint, as JSON for its manifest (see `minigrad.serialization`).

``save`` accepts a tree of containers and leaves; this module turns it into a JSON-ready
description whose array leaves point at archive members, and back. Supported:

* containers: mappings (keys ``str`` or ``int``; loaded as ``OrderedDict``), ``list``, ``tuple``;
* leaves: ``Tensor`` and numeric ``numpy.ndarray`` (stored as ``.npy`` members), NumPy numeric
  scalars (``np.float32(1.5)`` loads as ``np.float32(1.5)``), and ``None``, ``bool``, ``int``,
  ``float``, ``str`` (stored in the manifest itself).

Everything else (sets, bytes, objects, complex numbers, ...) is refused: loading must never
need pickle. Keys are checked here too, because array keys become zip member names and zip
would silently change some of them (a NUL cuts the name; ``\\`` turns into ``/`` on Windows).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from minigrad.tensor import Tensor

MAX_DEPTH = 64  # deeper nesting is certainly a mistake (or a hostile manifest)
ARRAY_KINDS = "biuf"  # bool, signed/unsigned integers, floats: what a Tensor holds
MAX_MEMBER_NAME_BYTES = 65535  # the zip format's 16-bit name length field


def describe_path(path: tuple) -> str:
    """A readable position in the tree: ``'optimizer' -> 'state' -> 0``."""
    return " -> ".join(repr(key) for key in path) if path else "the top level"


def check_key(key: Any, path: tuple) -> str:
    """The member-name segment for `key`, or a `TypeError`/`ValueError` saying why not."""
    where = describe_path(path + (key,))
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise TypeError(f"save: keys must be strings (or integers, as in an optimizer's state), "
                        f"got {key!r} of type {type(key).__name__} at {where}.")
    segment = str(key)
    for bad, why in (("\x00", "zip cuts a name at a NUL byte"),
                     ("/", "'/' separates nesting levels inside the archive"),
                     ("\\", "zip turns '\\' into '/' on Windows")):
        if bad in segment:
            raise ValueError(f"save: the key {key!r} at {where} contains {bad!r}: {why}, so it "
                             "would not load under the same name. Fix: rename the key.")
    try:
        segment.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"save: the key {key!r} at {where} is not valid Unicode (a lone "
                         "surrogate) and cannot be a file name. Fix: rename the key.") from None
    return segment


def as_array(value: Any) -> np.ndarray | None:
    """The array a leaf is stored as, or None when the leaf is not an array."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray | np.generic):
        return np.asarray(value)
    return None


def flatten(tree: Mapping, arrays: list[tuple[str, np.ndarray]]) -> dict[str, Any]:
    """Describe `tree` as JSON; append ``(member name, array)`` for every array leaf.

    Everything is checked before anything is written, so a refusal leaves no file behind.
    """
    if not isinstance(tree, Mapping):
        raise TypeError(f"save: expected a mapping of names to arrays such as "
                        f"model.state_dict() or {{'model': ..., 'step': 3}}, "
                        f"got {type(tree).__name__}.")
    members: set[str] = set()

    def node(value: Any, path: tuple, segments: tuple) -> Any:
        if len(path) > MAX_DEPTH:
            raise ValueError(f"save: nesting deeper than {MAX_DEPTH} levels at "
                             f"{describe_path(path[:3])} -> ... Is the structure cyclic?")
        array = as_array(value)
        if array is not None:
            if array.dtype.kind not in ARRAY_KINDS or array.dtype.fields is not None:
                raise TypeError(f"save: {describe_path(path)} has dtype {array.dtype}; only "
                                "numeric arrays can be saved (nothing is pickled). Fix: store "
                                "numbers or numeric arrays.")
            name = "/".join(segments) + ".npy"
            if name in members or name[:-4] in members or name + ".npy" in members:
                # numpy.load looks a key up with and without '.npy': 'a' and 'a.npy' would mix.
                raise ValueError(f"save: the entry at {describe_path(path)} collides with "
                                 f"another one as archive member '{name}' (keys such as 'a' "
                                 "and 'a.npy', or 0 and '0', in one mapping). Fix: rename one.")
            if len(name.encode("utf-8")) > MAX_MEMBER_NAME_BYTES:
                raise ValueError(f"save: the name at {describe_path(path)} is longer than the "
                                 f"{MAX_MEMBER_NAME_BYTES} bytes a zip member name may have.")
            members.add(name)
            arrays.append((name, array if array.flags.c_contiguous else array.copy(order="C")))
            return {"type": "array", "member": len(arrays) - 1,
                    "scalar": isinstance(value, np.generic)}
        if value is None or isinstance(value, bool | int | float | str):
            return value  # JSON keeps these exactly (floats by their shortest repr, NaN included)
        if isinstance(value, Mapping):
            items = []
            for key, item in value.items():
                segment = check_key(key, path)
                items.append([key, node(item, path + (key,), segments + (segment,))])
            return {"type": "dict", "items": items}
        if isinstance(value, list | tuple):
            items = [node(item, path + (index,), segments + (str(index),))
                     for index, item in enumerate(value)]
            return {"type": type(value).__name__, "items": items}
        raise TypeError(f"save: {describe_path(path)} is a {type(value).__name__}, which a "
                        "checkpoint cannot hold without pickle. Supported: Tensors, numeric "
                        "arrays, numbers, strings, None, bools, and dicts/lists/tuples of them.")

    return node(tree, (), ())


class ManifestError(ValueError):
    """The manifest does not describe a valid checkpoint tree."""


def unflatten(description: Any, arrays: list[np.ndarray]) -> Any:
    """Rebuild the tree; every array member must be used exactly once."""
    used = [False] * len(arrays)

    def node(value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ManifestError(f"nesting deeper than {MAX_DEPTH} levels")
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if not isinstance(value, dict):
            raise ManifestError(f"unexpected {type(value).__name__} in the tree")
        kind = value.get("type")
        if kind == "array":
            index, scalar = value.get("member"), value.get("scalar")
            if (isinstance(index, bool) or not isinstance(index, int)
                    or not 0 <= index < len(arrays) or used[index]
                    or not isinstance(scalar, bool)):
                raise ManifestError(f"bad array reference {value!r}")
            used[index] = True
            array = arrays[index]
            return array[()] if scalar else array
        items = value.get("items")
        if not isinstance(items, list):
            raise ManifestError(f"bad node {value!r:.80}")
        if kind == "dict":
            result: OrderedDict = OrderedDict()
            for pair in items:
                if (not isinstance(pair, list) or len(pair) != 2 or isinstance(pair[0], bool)
                        or not isinstance(pair[0], str | int) or pair[0] in result):
                    raise ManifestError(f"bad dict entry {pair!r:.80}")
                result[pair[0]] = node(pair[1], depth + 1)
            return result
        if kind in ("list", "tuple"):
            built = [node(item, depth + 1) for item in items]
            return built if kind == "list" else tuple(built)
        raise ManifestError(f"unknown node type {kind!r:.40}")

    tree = node(description, 0)
    if not isinstance(tree, OrderedDict):
        raise ManifestError("the top level is not a mapping")
    if not all(used):
        raise ManifestError("an array member is listed but not used in the tree")
    return tree
