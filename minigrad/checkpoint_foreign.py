"""Recognise checkpoints of other tools, so `minigrad.load` can say what they are.

Reading a PyTorch file as bytes or as 'corrupt' would leave the user guessing; naming it
tells them the fix. Nothing here unpickles: the checks look at magic bytes and zip names.
"""

from __future__ import annotations

import zipfile
from typing import BinaryIO

# torch.save before PyTorch 1.6 wrote pickles that start with this number, pickled as a
# protocol-2 LONG1 (torch/serialization.py, MAGIC_NUMBER).
TORCH_LEGACY_MAGIC = b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
PICKLE_PROTOCOL_OPCODE = b"\x80"  # every pickle of protocol 2 or newer starts with PROTO

TORCH_ADVICE = ("this is a PyTorch checkpoint; load it with torch and convert: "
                "sd = torch.load(path, weights_only=True); "
                "minigrad.save({k: v.numpy() for k, v in sd.items()}, 'model.npz')")


def _is_torch_zip(names: list[str]) -> bool:
    """torch.save (1.6+) writes a zip holding ``<prefix>/data.pkl`` and ``<prefix>/version``;
    TorchScript archives hold ``<prefix>/constants.pkl``."""
    return any(name == "data.pkl" or name.endswith(("/data.pkl", "/constants.pkl"))
               for name in names)


def refuse_foreign_file(file: BinaryIO, path: str) -> None:
    """Raise `ValueError` if `file` is a PyTorch checkpoint or a pickle; else return."""
    start = file.read(64)
    if start.startswith(PICKLE_PROTOCOL_OPCODE) or start[:1] in (b"(", b"}", b"]"):
        if TORCH_LEGACY_MAGIC in start:
            raise ValueError(f"load: '{path}': {TORCH_ADVICE}.")
        raise ValueError(f"load: '{path}' is a Python pickle, which minigrad never loads "
                         "(unpickling runs code from the file). Fix: if you trust it, "
                         "unpickle it yourself and save the arrays with minigrad.save.")
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return  # not a readable zip: the checkpoint reader reports it
    if _is_torch_zip(names):
        raise ValueError(f"load: '{path}': {TORCH_ADVICE}.")
