"""mg.save / mg.load: state dicts and nested structures in a .npz file, without pickle.

    mg.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 1200}, "ckpt.npz")
    checkpoint = mg.load("ckpt.npz")
    mg.save(model.state_dict(), buffer)          # or a binary file object (io.BytesIO, open(..., "wb"))

Format: a NumPy .npz (an uncompressed zip of .npy arrays) holding every array of the object
under the names a0, a1, ..., plus one JSON document, `__minigrad__`, that describes the
structure (dicts, lists, tuples, numbers, strings, None) and says where each array goes, and
for a tensor its device, whether it requires grad and whether it is an nn.Parameter.

Loading never runs code and never trusts the file: there is no pickle, each array's header is
checked against the bytes the file really holds before anything is allocated (so memory stays
within the file's size), and the manifest's nesting and types are checked. A damaged or hostile
file raises one ValueError that names it.

Writes to a path are atomic: the file is written under a temporary name in the same folder,
flushed to disk, and renamed over the target in one step. A crash mid-save leaves the previous
file as it was.
"""

import io
import json
import os
import tempfile
import zipfile

import numpy as np
from numpy.lib import format as npy_format

from . import backend, nn
from .tensor import Tensor

FORMAT = "minigrad-npz"
VERSION = 1
MANIFEST = "__minigrad__"
ZIP_MAGIC = b"PK\x03\x04"  # how every .npz (a zip archive) begins
MAX_DEPTH = 100            # dicts/lists/tuples nested deeper than this are refused, on save and on load
ARRAY_KINDS = "biufcSU"    # booleans, numbers and fixed-width strings; never Python objects
WHY_NO_PICKLE = ("mg.save writes no pickle, so it stores only Tensors, NumPy arrays, numbers, strings, None and "
                 "dicts/lists/tuples of them (see docs/differences.md)")


# --- saving ---------------------------------------------------------------------------------

def save(obj, f):
    """Write `obj` (nested dicts/lists/tuples of Tensors, arrays, numbers, strings) to `f`, a path
    (written atomically) or a binary file object open for writing."""
    arrays = {}
    tree = _encode(obj, arrays, {}, depth=0)
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[MANIFEST] = np.frombuffer(manifest.encode("utf-8"), dtype=np.uint8)
    if hasattr(f, "write"):
        np.savez(f, **arrays)
        return
    _save_atomically(arrays, os.fspath(f))


def _save_atomically(arrays, path):
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


def _encode(obj, arrays, names, depth):
    """obj -> a JSON-able tree; arrays are moved into `arrays` and referenced by name. The same
    Tensor or array twice is stored once (`names`: id -> name), and loads as one object, as torch."""
    if depth > MAX_DEPTH:
        raise ValueError(f"mg.save: the object is nested more than {MAX_DEPTH} deep")
    if isinstance(obj, Tensor) or backend.is_array(obj):
        if id(obj) not in names:
            array = backend.to_numpy(obj.array if isinstance(obj, Tensor) else obj)
            if array.dtype.kind not in ARRAY_KINDS or array.dtype.names is not None:
                raise TypeError(f"mg.save cannot store an array of dtype {array.dtype} (an array of Python "
                                f"objects would need pickle); use numeric, boolean or string arrays")
            names[id(obj)] = f"a{len(arrays)}"
            arrays[names[id(obj)]] = array
        node = {"array": names[id(obj)], "tensor": isinstance(obj, Tensor)}
        if isinstance(obj, Tensor):
            if obj.device != "cpu":
                node["device"] = str(obj.device)
            if obj.requires_grad:
                node["requires_grad"] = True
            if type(obj).__name__ == "Parameter":
                node["parameter"] = True
        return node
    if isinstance(obj, dict):
        return {"dict": [[_encode_key(k), _encode(v, arrays, names, depth + 1)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"tuple" if isinstance(obj, tuple) else "list": [_encode(v, arrays, names, depth + 1) for v in obj]}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if callable(getattr(obj, "state_dict", None)):  # a Module or an optimizer
        raise TypeError(f"mg.save cannot store a {type(obj).__name__} itself: {WHY_NO_PICKLE}; "
                        f"save its .state_dict() instead")
    raise TypeError(f"mg.save cannot store a {type(obj).__name__}: {WHY_NO_PICKLE}")


def _encode_key(key):
    if isinstance(key, np.generic):  # e.g. an index taken from an array
        key = key.item()
    if isinstance(key, (bool, int, float, str)) or key is None:
        return key
    raise TypeError(f"mg.save: dict keys must be strings or numbers, got {type(key).__name__}")


# --- loading --------------------------------------------------------------------------------

class DamagedFile(Exception):
    """Raised inside load for anything wrong with the file; load turns it into one ValueError."""


def load(f, map_location=None, *, weights_only=None):
    """Read what save() wrote, from a path or a binary file object.

    Tensors come back on the device they were saved from, unless `map_location` says otherwise:
    a device ('cpu', 'cuda', mg.device(...)), a dict from saved location to device
    ({'cuda:0': 'cpu'}), or a function (tensor_on_the_cpu, saved_location) -> a tensor or None.
    `weights_only` is accepted for PyTorch's sake: mg.load never unpickles anything, whatever it says.
    """
    name = _file_name(f)
    if hasattr(f, "read"):
        file, opened = f, False
    else:
        file, opened = open(os.fspath(f), "rb"), True
    try:
        file = _seekable(file)
        magic = file.read(len(ZIP_MAGIC))
        if magic != ZIP_MAGIC:  # np.load would take a text file for pickled data, or return a bare .npy array
            what = "it is empty" if not magic else "it is not a .npz (zip) archive"
            raise ValueError(f"cannot load {name}: {what}, so mg.save did not write it")
        file.seek(0)
        try:
            tree, arrays = _read(file, name)
            return _Decoder(arrays, map_location, name).decode(tree)
        except DamagedFile as error:
            raise ValueError(f"cannot load {name}: {error}") from None
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, TypeError, KeyError, IndexError,
                OverflowError, RecursionError, UnicodeDecodeError) as error:
            raise ValueError(f"cannot load {name}: it is truncated or not an mg.save file "
                             f"({type(error).__name__}: {_first_line(error)}). Re-create it, or restore a "
                             f"good copy.") from None
    finally:
        if opened:
            file.close()


def _file_name(f):
    if hasattr(f, "read"):
        name = getattr(f, "name", None)
        return name if isinstance(name, str) else f"the {type(f).__name__} given"
    return os.fspath(f)


def _first_line(error):
    lines = str(error).splitlines()
    return lines[0][:200] if lines else ""


def _seekable(file):
    """zipfile needs to seek; a pipe or socket is read whole into memory first."""
    try:
        if file.seekable():
            return file
    except AttributeError:
        pass
    return io.BytesIO(file.read())


def _read(file, name):
    """(the manifest's tree, {array name: ndarray}), every size checked before it is believed."""
    file.seek(0, io.SEEK_END)
    file_size = file.tell()
    file.seek(0)
    with zipfile.ZipFile(file) as archive:
        members = archive.infolist()
        declared = 0
        for member in members:
            if member.compress_type != zipfile.ZIP_STORED or member.compress_size != member.file_size:
                raise DamagedFile(f"its entry {member.filename!r} is compressed; mg.save writes uncompressed "
                                  f"archives only (np.savez, not np.savez_compressed)")
            declared += member.file_size
            if declared > file_size:
                raise DamagedFile(f"its entries claim {declared} bytes, more than the file's {file_size}")
        entries = {m.filename[:-len(".npy")]: m for m in members if m.filename.endswith(".npy")}
        if MANIFEST not in entries:
            raise DamagedFile(f"it is a .npz file but not one written by mg.save (no {MANIFEST} entry)")
        manifest = _read_array(archive, entries[MANIFEST])
        if manifest.dtype != np.uint8 or manifest.ndim != 1:
            raise DamagedFile(f"its {MANIFEST} entry is not an mg.save manifest")
        manifest = json.loads(manifest.tobytes().decode("utf-8"))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or "tree" not in manifest:
            raise DamagedFile(f"its {MANIFEST} entry is not an mg.save manifest")
        version = manifest.get("version")
        if version != VERSION or type(version) is not int:
            raise DamagedFile(f"it is in mg.save format version {version!r}, and this minigrad reads version "
                              f"{VERSION} only (was it written by a newer minigrad?)")
        arrays = {key: _read_array(archive, member) for key, member in entries.items() if key != MANIFEST}
    return manifest["tree"], arrays


def _read_array(archive, member):
    """One .npy entry, its header checked (dtype, shape, and a byte count equal to what the entry
    holds) before the array is allocated; nothing is unpickled."""
    with archive.open(member) as entry:
        try:
            version = npy_format.read_magic(entry)
        except ValueError as error:
            raise DamagedFile(f"its entry {member.filename!r} is not a .npy array ({_first_line(error)})") from None
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise DamagedFile(f"its entry {member.filename!r} is in .npy version {version}, which mg.load does "
                              f"not read")
        reader = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
        shape, fortran_order, dtype = reader(entry)
        if dtype.hasobject:
            raise DamagedFile(f"it holds pickled objects (entry {member.filename!r}), which mg.load refuses to read")
        if dtype.kind not in ARRAY_KINDS or dtype.names is not None or dtype.subdtype is not None:
            raise DamagedFile(f"its entry {member.filename!r} has dtype {dtype}, which mg.save never writes")
        header_bytes = entry.tell()
        count = 1
        for n in shape:
            if type(n) is not int or n < 0:
                raise DamagedFile(f"its entry {member.filename!r} has the shape {shape!r}")
            count *= n
        if dtype.itemsize == 0:  # a zero-width string would let any shape pass the size check below
            raise DamagedFile(f"its entry {member.filename!r} has the zero-width dtype {dtype}")
        needed = count * dtype.itemsize
        if needed != member.file_size - header_bytes:
            raise DamagedFile(f"its entry {member.filename!r} claims {needed} bytes of data for shape {shape} "
                              f"({dtype}) but holds {member.file_size - header_bytes}")
        array = np.empty(shape[::-1] if fortran_order else shape, dtype=dtype)
        _read_exactly(entry, memoryview(array.reshape(-1).view(np.uint8)) if needed else None, member)
        entry.read(1)  # at the end: the zip checks the entry's CRC here
    return array.T if fortran_order else array


def _read_exactly(entry, buffer, member):
    filled = 0
    size = 0 if buffer is None else len(buffer)
    while filled < size:
        got = entry.readinto(buffer[filled:])
        if not got:
            raise DamagedFile(f"its entry {member.filename!r} ends early (truncated)")
        filled += got


class _Decoder:
    """The inverse of _encode, checking every node of the tree (it came from the file)."""

    def __init__(self, arrays, map_location, name):
        self.arrays, self.map_location, self.name = arrays, map_location, name
        self.loaded = {}  # array name -> the object made from it (a name used twice gives one object)

    def decode(self, tree, depth=0):
        if depth > MAX_DEPTH:
            raise DamagedFile(f"its {MANIFEST} manifest is nested more than {MAX_DEPTH} deep")
        if not isinstance(tree, dict) or len(tree) == 0:
            what = "an empty object" if tree == {} else _kind(tree)
            raise DamagedFile(f"its {MANIFEST} manifest is malformed (a node is {what}, not a tagged object)")
        if "array" in tree:
            return self.array(tree)
        if "dict" in tree:
            pairs = self.sequence(tree, "dict")
            result = {}
            for pair in pairs:
                if not isinstance(pair, list) or len(pair) != 2 or not _is_key(pair[0]):
                    raise DamagedFile(f"its {MANIFEST} manifest is malformed (a dict entry is {_kind(pair)}, "
                                      f"not a [key, value] pair)")
                result[pair[0]] = self.decode(pair[1], depth + 1)
            return result
        if "list" in tree:
            return [self.decode(v, depth + 1) for v in self.sequence(tree, "list")]
        if "tuple" in tree:
            return tuple(self.decode(v, depth + 1) for v in self.sequence(tree, "tuple"))
        if "value" in tree:
            value = tree["value"]
            if value is not None and not isinstance(value, (bool, int, float, str)):
                raise DamagedFile(f"its {MANIFEST} manifest is malformed (a value is {_kind(value)})")
            return value
        raise DamagedFile(f"its {MANIFEST} manifest is malformed (a node has the keys {sorted(tree)[:5]})")

    @staticmethod
    def sequence(tree, key):
        if not isinstance(tree[key], list):
            raise DamagedFile(f"its {MANIFEST} manifest is malformed (a {key} holds {_kind(tree[key])}, not a list)")
        return tree[key]

    def array(self, tree):
        name = tree["array"]
        if not isinstance(name, str) or not isinstance(tree.get("tensor"), bool):
            raise DamagedFile(f"its {MANIFEST} manifest is malformed (an array node {_short(tree)})")
        if name not in self.arrays:
            raise DamagedFile(f"its {MANIFEST} manifest refers to an array {name!r} that the file does not hold "
                              f"(it holds {len(self.arrays)} arrays); the file was damaged or edited by hand")
        if name not in self.loaded:
            self.loaded[name] = self.tensor(tree) if tree["tensor"] else self.arrays[name]
        return self.loaded[name]

    def tensor(self, tree):
        location = tree.get("device", "cpu")
        if location not in ("cpu", "cuda") and not (isinstance(location, str) and location.startswith("cuda:")):
            raise DamagedFile(f"its {MANIFEST} manifest is malformed (a tensor's device is {_short(location)})")
        array = self.arrays[tree["array"]]
        if array.dtype.kind not in "biuf":
            raise DamagedFile(f"its {MANIFEST} manifest makes a tensor of dtype {array.dtype}")
        tensor = Tensor._wrap(array, False)
        tag = "cuda:0" if location == "cuda" else location  # PyTorch's name for where it was saved
        mapped = self.map_location
        if callable(mapped) and not isinstance(mapped, (str, dict)):
            moved = mapped(tensor, tag)
            tensor = tensor if moved is None else moved
            if not isinstance(tensor, Tensor):
                raise TypeError(f"map_location returned a {type(tensor).__name__}, not a Tensor or None")
        else:
            if isinstance(mapped, dict):
                mapped = mapped.get(tag, mapped.get(location, location))
            target = backend.Device(location if mapped is None else mapped).type
            if target == "cuda" and not backend.cuda_available():
                raise RuntimeError(f"cannot load {self.name}: it holds tensors saved on the GPU, and CUDA is not "
                                   f"available here; pass map_location='cpu' to load them on the CPU")
            tensor = tensor.to(target)
        if tree.get("requires_grad") is True and tensor.dtype.kind == "f":
            tensor.requires_grad_(True)
        if tree.get("parameter") is True:
            tensor = nn.Parameter(tensor, requires_grad=tensor.requires_grad)
        return tensor


def _is_key(key):
    return key is None or isinstance(key, (bool, int, float, str))


def _kind(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
