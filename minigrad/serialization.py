"""mg.save / mg.load: state dicts and nested structures in a .npz file, without pickle.

    mg.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 1200}, "ckpt.npz")
    checkpoint = mg.load("ckpt.npz")

Format: a NumPy .npz (a zip of .npy arrays) holding every array of the object under
the names a0, a1, ..., plus one JSON document, `__minigrad__`, that describes the
structure (dicts, lists, tuples, numbers, strings, None) and says where each array
goes. Loading uses allow_pickle=False, so a file can never run code.

Writes are atomic: the file is written under a temporary name in the same folder,
flushed to disk, and renamed over the target in one step. A crash mid-save leaves
the previous file as it was.
"""

import json
import os
import tempfile
import zipfile

import numpy as np

from . import backend
from .tensor import Tensor

FORMAT = "minigrad-npz"
VERSION = 1
MANIFEST = "__minigrad__"
ZIP_MAGIC = b"PK\x03\x04"  # how every .npz (a zip archive) begins


def save(obj, path):
    """Write `obj` (nested dicts/lists/tuples of Tensors, arrays, numbers, strings) to `path` atomically."""
    arrays = {}
    tree = _encode(obj, arrays)
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[MANIFEST] = np.frombuffer(manifest.encode("utf-8"), dtype=np.uint8)

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    except OSError as error:
        raise _naming_the_target(error, path, folder) from None
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary file
        try:
            os.replace(temporary, path)
        except OSError as error:
            raise _naming_the_target(error, path, folder) from None
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _naming_the_target(error, path, folder):
    """The same kind of OSError, naming the user's path rather than the temporary file's."""
    if isinstance(error, FileNotFoundError):
        reason = f"the folder {folder} does not exist"
    elif isinstance(error, NotADirectoryError):
        reason = f"{folder} is not a folder"
    elif isinstance(error, IsADirectoryError):
        reason = "it is a folder"
    else:
        reason = f"{error.strerror} (mg.save writes a temporary file in {folder}, then renames it)"
    return type(error)(error.errno, f"mg.save cannot write {path}: {reason}")


def load(path, device=None):
    """Read what save() wrote. Tensors come back as Tensors (on `device`, default the CPU)."""
    path = os.fspath(path)
    with open(path, "rb") as file:
        magic = file.read(len(ZIP_MAGIC))
    if magic != ZIP_MAGIC:  # np.load would take a text file for pickled data, or return a bare .npy array
        what = "it is empty" if not magic else "it is not a .npz (zip) archive"
        raise ValueError(f"cannot load {path}: {what}, so mg.save did not write it")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if MANIFEST not in archive.files:
                raise ValueError(f"{path} is a .npz file but not one written by mg.save (no {MANIFEST} entry)")
            manifest = json.loads(archive[MANIFEST].tobytes().decode("utf-8"))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or "tree" not in manifest:
                raise ValueError(f"{path}: its {MANIFEST} entry is not an mg.save manifest")
            version = manifest.get("version")
            if version != VERSION:
                raise ValueError(f"cannot load {path}: it is in mg.save format version {version!r}, "
                                 f"and this minigrad reads version {VERSION} only (was it written by a newer "
                                 f"minigrad?)")
            arrays = {name: archive[name] for name in archive.files if name != MANIFEST}
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot load {path}: it is truncated or not an mg.save file ({error}). "
                         f"Re-create it, or restore a good copy.") from None
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise ValueError(f"cannot load {path}: it holds pickled objects, which mg.load refuses to read") from None
        raise
    try:
        return _decode(manifest["tree"], arrays, device, path)
    except (KeyError, TypeError, AttributeError, IndexError) as error:  # a damaged or hand-edited manifest
        raise ValueError(f"cannot load {path}: its {MANIFEST} manifest is malformed "
                         f"({type(error).__name__}: {error})") from None


def _encode(obj, arrays):
    """obj -> a JSON-able tree; arrays are moved into `arrays` and referenced by name."""
    if isinstance(obj, Tensor) or backend.is_array(obj):
        array = backend.to_numpy(obj.array if isinstance(obj, Tensor) else obj)
        if array.dtype.hasobject:  # np.savez would pickle it, and load() refuses pickles
            raise TypeError(f"mg.save cannot store an array of Python objects (dtype {array.dtype}); "
                            f"use numeric, boolean or string arrays")
        name = f"a{len(arrays)}"
        arrays[name] = array
        return {"array": name, "tensor": isinstance(obj, Tensor)}
    if isinstance(obj, dict):
        return {"dict": [[_encode_key(k), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"tuple" if isinstance(obj, tuple) else "list": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    raise TypeError(f"mg.save cannot store a {type(obj).__name__}; use Tensors, arrays, numbers, strings, "
                    f"and dicts/lists/tuples of them")


def _encode_key(key):
    if isinstance(key, np.generic):  # e.g. an index taken from an array
        key = key.item()
    if isinstance(key, (bool, int, float, str)) or key is None:
        return key
    raise TypeError(f"mg.save: dict keys must be strings or numbers, got {type(key).__name__}")


def _decode(tree, arrays, device, path):
    """The inverse of _encode; `path` only names the file in errors."""
    if "array" in tree:
        if tree["array"] not in arrays:
            raise ValueError(f"cannot load {path}: its {MANIFEST} manifest refers to an array {tree['array']!r} "
                             f"that the file does not hold (it holds {len(arrays)} arrays); the file was damaged "
                             f"or edited by hand")
        array = arrays[tree["array"]]
        return Tensor(array, device=device) if tree["tensor"] else array
    if "dict" in tree:
        return {key: _decode(value, arrays, device, path) for key, value in tree["dict"]}
    if "list" in tree:
        return [_decode(v, arrays, device, path) for v in tree["list"]]
    if "tuple" in tree:
        return tuple(_decode(v, arrays, device, path) for v in tree["tuple"])
    return tree["value"]
