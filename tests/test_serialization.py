"""minigrad/serialization.py: mg.save / mg.load.

Round trips of everything a checkpoint holds; the file format (a .npz that np.load reads with
allow_pickle=False, no object arrays); clear errors for truncated and foreign files and for
objects that cannot be stored; and atomic writes, tested by SIGKILLing a process mid-save."""

import json
import math
import os
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from helpers import DEVICES


def roundtrip(obj, tmp_path, name="object.npz", **options):
    path = tmp_path / name
    mg.save(obj, path)
    return mg.load(path, **options)


def assert_same(loaded, original):
    """Equal structure, types, dtypes and values (Tensors stay Tensors, arrays stay arrays)."""
    if isinstance(original, mg.Tensor):
        assert type(loaded) is mg.Tensor
        assert loaded.dtype == original.dtype and loaded.shape == original.shape
        np.testing.assert_array_equal(loaded.numpy(), original.numpy())
    elif isinstance(original, np.ndarray):
        assert type(loaded) is np.ndarray and loaded.dtype == original.dtype and loaded.shape == original.shape
        np.testing.assert_array_equal(loaded, original)
    elif isinstance(original, dict):
        assert type(loaded) is dict and list(loaded) == list(original)
        for key, loaded_key in zip(original, loaded):
            assert type(loaded_key) is type(key)
            assert_same(loaded[key], original[key])
    elif isinstance(original, (list, tuple)):
        assert type(loaded) is type(original) and len(loaded) == len(original)
        for a, b in zip(loaded, original):
            assert_same(a, b)
    elif isinstance(original, float) and math.isnan(original):
        assert type(loaded) is float and math.isnan(loaded)
    else:
        assert type(loaded) is type(original) and loaded == original


# --- round trips ----------------------------------------------------------------------------

def test_nested_structures_round_trip(tmp_path):
    obj = {
        "tensor": mg.randn(3, 4),
        "double": mg.tensor([[1.5, -2.0]], dtype=mg.float64),
        "long": mg.tensor([1, 2, 3]),
        "scalar tensor": mg.tensor(2.5),
        "arrays": [np.arange(6, dtype=np.int32).reshape(2, 3), np.array([True, False]), np.zeros((0, 3)),
                   np.array(7, dtype=np.uint8), np.array(["a", "bc"]), np.float16([1, 2])],
        "tuple": (1, 2.5, "three", None, (True, False)),
        "numbers": [0, -1, 2 ** 62, 1.0 / 3, 1e-300, float("inf"), float("-inf"), float("nan"), True],
        "strings": ["", "naïve ünïcödé ✓", "quotes \" and \\ backslash", "__minigrad__"],
        "none": None,
        3: "an int key",
        -1: {"nested": {"deeper": [mg.ones(2), {}]}},
        2.5: "a float key",
        "empty": [[], (), {}],
    }
    loaded = roundtrip(obj, tmp_path)
    assert_same(loaded, obj)
    assert 3 in loaded and "3" not in loaded  # int keys stay ints


def test_numpy_scalars_are_stored_as_numbers(tmp_path):
    loaded = roundtrip({"f": np.float64(0.1), "i": np.int64(-3), "b": np.bool_(True), np.int64(7): "key"}, tmp_path)
    assert loaded == {"f": 0.1, "i": -3, "b": True, 7: "key"}
    assert type(loaded["i"]) is int and type(loaded["b"]) is bool and type(list(loaded)[3]) is int


def test_model_state_dict_round_trip(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 1))
    model.train()
    model(mg.randn(4, 1, 4, 4))  # running statistics and num_batches_tracked move
    loaded = roundtrip(model.state_dict(), tmp_path)
    assert list(loaded) == list(model.state_dict())
    assert loaded["1.num_batches_tracked"].dtype == np.int64 and loaded["1.num_batches_tracked"].item() == 1
    fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 1))
    fresh.load_state_dict(loaded)
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    model.eval(), fresh.eval()
    x = mg.randn(2, 1, 4, 4)
    np.testing.assert_array_equal(model(x).numpy(), fresh(x).numpy())


def test_optimizer_state_round_trip_continues_identically(tmp_path):
    def setup():
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).double()
        return model, mg.optim.Adam(model.parameters(), lr=0.01)

    def steps(model, optimizer, xs):
        for x in xs:
            optimizer.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            optimizer.step()
        return [p.numpy().copy() for p in model.parameters()]

    xs = [mg.randn(4, 3, dtype=mg.float64) for _ in range(6)]
    model, optimizer = setup()
    steps(model, optimizer, xs[:3])
    mg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}, tmp_path / "c.npz")
    expected = steps(model, optimizer, xs[3:])

    model, optimizer = setup()
    checkpoint = mg.load(tmp_path / "c.npz")
    assert checkpoint["epoch"] == 3 and list(checkpoint["optimizer"]["state"]) == [0, 1, 2, 3]
    assert checkpoint["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    for got, want in zip(steps(model, optimizer, xs[3:]), expected):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("device", DEVICES)
def test_tensors_load_on_the_requested_device(tmp_path, device):
    saved = {"t": mg.randn(2, 3, device=device), "a": np.arange(3)}
    loaded = roundtrip(saved, tmp_path, map_location=device)
    assert loaded["t"].device == device and type(loaded["a"]) is np.ndarray
    np.testing.assert_array_equal(loaded["t"].numpy(), saved["t"].numpy())
    assert roundtrip(saved, tmp_path)["t"].device == device  # where it was saved from, as torch
    assert roundtrip(saved, tmp_path, map_location="cpu")["t"].device == "cpu"


def test_saving_does_not_change_the_object(tmp_path):
    t = mg.randn(3, requires_grad=True)
    before = t.numpy().copy()
    mg.save({"t": t}, tmp_path / "x.npz")
    np.testing.assert_array_equal(t.numpy(), before)
    loaded = mg.load(tmp_path / "x.npz")["t"]
    assert loaded.requires_grad and loaded.is_leaf  # as torch
    assert not np.shares_memory(loaded.numpy(), t.numpy())


def test_path_can_be_a_string_without_the_npz_suffix(tmp_path):
    path = str(tmp_path / "checkpoint")
    mg.save([1, 2], path)
    assert os.listdir(tmp_path) == ["checkpoint"]  # exactly that name; np.savez would add .npz
    assert mg.load(path) == [1, 2]


def test_saving_again_replaces_the_file(tmp_path):
    mg.save({"v": 1}, tmp_path / "x.npz")
    mg.save({"v": 2}, tmp_path / "x.npz")
    assert mg.load(tmp_path / "x.npz") == {"v": 2}
    assert os.listdir(tmp_path) == ["x.npz"]


# --- the format ------------------------------------------------------------------------------------

def test_the_file_is_an_npz_without_pickles_or_object_arrays(tmp_path):
    path = tmp_path / "f.npz"
    mg.save({"w": mg.randn(2, 2), "meta": {"name": "run", "n": [1, 2]}}, path)
    assert zipfile.is_zipfile(path)
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["__minigrad__", "a0"]
        for name in archive.files:
            assert archive[name].dtype != object
        manifest = json.loads(archive["__minigrad__"].tobytes().decode("utf-8"))
        np.testing.assert_array_equal(archive["a0"], mg.load(path)["w"].numpy())
    assert manifest["format"] == "minigrad-npz" and manifest["version"] == 1
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"


# --- what cannot be saved ---------------------------------------------------------------------------

@pytest.mark.parametrize("obj, name", [
    ({"s": {1, 2}}, "set"),
    ([object()], "object"),
    ({"f": print}, "builtin_function_or_method"),
    ({"m": nn.Linear(1, 1)}, "Linear"),
    ({"c": 1 + 2j}, "complex"),
    ({"o": np.array([{"a": 1}, None], dtype=object)}, "array of Python objects"),
    ({(1, 2): "tuple key"}, "dict keys must be strings or numbers"),
])
def test_unsupported_objects_raise_type_error_and_write_nothing(tmp_path, obj, name):
    with pytest.raises(TypeError, match=name):
        mg.save(obj, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_a_failed_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / "x.npz"
    mg.save({"v": 1}, path)
    with pytest.raises(TypeError):
        mg.save({"v": 2, "bad": {1}}, path)
    assert mg.load(path) == {"v": 1} and os.listdir(tmp_path) == ["x.npz"]


def test_an_error_while_writing_removes_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "x.npz"
    mg.save({"v": 1}, path)

    def fails_halfway(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", fails_halfway)
    with pytest.raises(OSError, match="disk full"):
        mg.save({"v": 2}, path)
    assert os.listdir(tmp_path) == ["x.npz"]
    monkeypatch.undo()
    assert mg.load(path) == {"v": 1}


# --- what cannot be loaded ---------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        mg.load(tmp_path / "nothing.npz")


def test_truncated_files_raise_value_error(tmp_path):
    good = tmp_path / "good.npz"
    mg.save({"w": mg.randn(50, 50), "n": 3}, good)
    data = good.read_bytes()
    for cut in [0, 2, 10, 100, len(data) // 2, len(data) - 22, len(data) - 1]:
        bad = tmp_path / "bad.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="cannot load .*bad.npz"):
            mg.load(bad)


def test_a_corrupted_member_raises_value_error(tmp_path):
    path = tmp_path / "x.npz"
    mg.save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    data[200] ^= 0xFF  # inside the stored array: the zip's checksum no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated or not an mg.save file"):
        mg.load(path)


def test_foreign_files_raise_value_error(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.arange(3))
    with pytest.raises(ValueError, match="not one written by mg.save"):
        mg.load(tmp_path / "plain.npz")

    (tmp_path / "notes.txt").write_text("step 1200, loss 0.3\n")
    with pytest.raises(ValueError, match=r"notes.txt: it is not a .npz \(zip\) archive, so mg.save did not"):
        mg.load(tmp_path / "notes.txt")

    np.save(tmp_path / "array.npy", np.arange(3))  # a bare .npy, not an archive
    with pytest.raises(ValueError, match=r"not a .npz \(zip\) archive"):
        mg.load(tmp_path / "array.npy")

    np.save(tmp_path / "objects.npy", np.array([{"evil": 1}], dtype=object))  # a pickle inside
    with pytest.raises(ValueError, match="cannot load"):
        mg.load(tmp_path / "objects.npy")

    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="empty.npz: it is empty"):
        mg.load(tmp_path / "empty.npz")


def test_a_pickled_array_inside_an_mg_file_is_refused(tmp_path):
    """An mg.save file whose array entry was swapped for a pickled object array."""
    path = tmp_path / "x.npz"
    mg.save({"w": np.arange(3)}, path)
    with np.load(path) as archive:
        manifest = archive["__minigrad__"]
    np.savez(path, __minigrad__=manifest, a0=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickled objects"):
        mg.load(path)


# --- atomic writes: kill a writer mid-save ----------------------------------------------------------

# Saves version N, then starts saving N + 1 and stops inside mg.save at a chosen point: halfway
# through writing the archive, or with the temporary file complete but not yet renamed. It says
# where it is on stdout and waits there, so the test's SIGKILL always lands inside save().
WRITER = r"""
import os
import sys
import time
import numpy as np
import minigrad as mg

path, version, stop_at = sys.argv[1], int(sys.argv[2]), sys.argv[3]
big = np.full(8 * 2 ** 20 // 8, float(version))  # 8 MB
mg.save({"version": version, "big": big, "tail": [version, str(version)]}, path)
print("saved", flush=True)


def wait_for_the_kill(where):
    print("inside save: " + where, flush=True)
    time.sleep(600)


class HalfWrittenFile:
    # The file np.savez writes to, stopping once half of the big array is on disk.
    def __init__(self, file):
        self.file, self.room = file, big.nbytes // 2

    def write(self, data):
        if len(data) > self.room:
            self.file.write(data[:self.room])
            self.file.flush()
            wait_for_the_kill("writing")
        self.room -= len(data)
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)


if stop_at == "writing":
    real_savez = np.savez
    np.savez = lambda file, **arrays: real_savez(HalfWrittenFile(file), **arrays)
else:
    os.replace = lambda source, target: wait_for_the_kill("renaming")
big.fill(version + 1)
mg.save({"version": version + 1, "big": big, "tail": [version + 1, str(version + 1)]}, path)
"""


def check_complete(path, version):
    """The file at `path` is a whole save of `version`, with exactly its content."""
    checkpoint = mg.load(path)
    assert checkpoint["version"] == version
    big = checkpoint["big"]
    assert big.shape == (8 * 2 ** 20 // 8,) and big.dtype == np.float64
    assert big[0] == version and big[-1] == version and (big == version).all()
    assert checkpoint["tail"] == [version, str(version)]


@pytest.mark.parametrize("stop_at", ["writing", "renaming"])
def test_a_writer_killed_mid_save_leaves_the_previous_file_whole(tmp_path, stop_at):
    """SIGKILL a process inside mg.save (it reports when it is there, so no timing is involved):
    the path must still hold the previous save, whole.

    SIGKILL gives no chance to clean up, so the temporary file the writer was filling (".tmp-*.npz",
    beside the target) remains: half an archive, or a complete one that was never renamed."""
    path = tmp_path / "checkpoint.npz"
    package_root = os.path.dirname(os.path.dirname(mg.__file__))  # the writer imports this minigrad
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "7", stop_at],
                              stdout=subprocess.PIPE, text=True, cwd=package_root)
    try:
        assert writer.stdout.readline() == "saved\n"
        assert writer.stdout.readline() == f"inside save: {stop_at}\n"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    check_complete(path, 7)
    leftovers = sorted(name for name in os.listdir(tmp_path) if name != path.name)
    assert len(leftovers) == 1 and leftovers[0].startswith(".tmp-") and leftovers[0].endswith(".npz"), leftovers
    if stop_at == "writing":
        with pytest.raises(ValueError, match="truncated"):
            mg.load(tmp_path / leftovers[0])
    else:  # the next save was complete: only the rename was missing
        check_complete(tmp_path / leftovers[0], 8)


# --- errors that name the user's file ------------------------------------------------------------

def test_saving_into_a_missing_folder_names_the_path_not_the_temporary_file(tmp_path):
    """Formerly: FileNotFoundError: [Errno 2] No such file or directory: '.../.tmp-2hjgmmjh.npz'."""
    path = tmp_path / "no" / "such" / "folder" / "ckpt.npz"
    with pytest.raises(FileNotFoundError, match=rf"mg.save cannot write {path}: the folder "
                                                rf"{tmp_path / 'no' / 'such' / 'folder'} does not exist") as error:
        mg.save({"v": 1}, path)
    assert ".tmp-" not in str(error.value)
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match=rf"mg.save cannot write {tmp_path / 'file' / 'ckpt.npz'}: "
                                                 rf"{tmp_path / 'file'} is not a folder"):
        mg.save({"v": 1}, tmp_path / "file" / "ckpt.npz")
    (tmp_path / "a_folder").mkdir()
    with pytest.raises(IsADirectoryError, match=rf"mg.save cannot write {tmp_path / 'a_folder'}: it is a folder$"):
        mg.save({"v": 1}, tmp_path / "a_folder")
    assert sorted(os.listdir(tmp_path)) == ["a_folder", "file"]  # no temporary file left behind


def test_saving_into_a_read_only_folder_names_the_path(tmp_path, monkeypatch):
    """Simulated: the tests may run as root, who can write into a read-only folder."""
    def refuse(prefix, suffix, dir):
        raise PermissionError(13, "Permission denied", os.path.join(dir, prefix + "2hjgmmjh" + suffix))
    monkeypatch.setattr(mg.serialization.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match=rf"mg.save cannot write {tmp_path / 'ckpt.npz'}: Permission "
                                              rf"denied \(mg.save writes a temporary file in {tmp_path}") as error:
        mg.save({"v": 1}, tmp_path / "ckpt.npz")
    assert "2hjgmmjh" not in str(error.value)


def write_by_hand(path, manifest, **arrays):
    np.savez(path, __minigrad__=np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8), **arrays)


def test_a_manifest_that_refers_to_a_missing_array_names_the_file(tmp_path):
    """Formerly a bare KeyError: 'a7'."""
    path = tmp_path / "edited.npz"
    tree = {"dict": [["w", {"array": "a0", "tensor": True}], ["b", {"array": "a7", "tensor": True}]]}
    write_by_hand(path, {"format": "minigrad-npz", "version": 1, "tree": tree}, a0=np.zeros(3))
    with pytest.raises(ValueError, match=r"cannot load .*edited.npz: its __minigrad__ manifest refers to an "
                                         r"array 'a7' that the file does not hold \(it holds 1 arrays\)"):
        mg.load(path)
    for broken in [{"dict": 5}, {"list": [{"array": "a0"}]}, {"tuple": None}, ["value", 1]]:
        write_by_hand(path, {"format": "minigrad-npz", "version": 1, "tree": broken}, a0=np.zeros(3))
        with pytest.raises(ValueError, match=r"cannot load .*edited.npz: its __minigrad__ manifest is malformed"):
            mg.load(path)


def test_an_unknown_format_version_is_refused(tmp_path):
    """Formerly a file of version 99 loaded without a word."""
    path = tmp_path / "future.npz"
    mg.save({"v": 1}, path)
    with np.load(path) as archive:
        manifest = json.loads(archive["__minigrad__"].tobytes())
    for version in (99, 0, "1", None):
        write_by_hand(path, {**manifest, "version": version})
        with pytest.raises(ValueError, match=rf"cannot load .*future.npz: it is in mg.save format version "
                                             rf"{version!r}, and this minigrad reads version 1 only"):
            mg.load(path)
    write_by_hand(path, manifest)
    assert mg.load(path) == {"v": 1}


# --- file objects, map_location, what torch keeps -----------------------------------------------

def test_save_and_load_through_file_objects(tmp_path):
    import io
    obj = {"w": mg.randn(2, 3), "step": 7, "names": ("a", "b")}
    buffer = io.BytesIO()
    mg.save(obj, buffer)
    buffer.seek(0)
    assert_same(mg.load(buffer), obj)
    with open(tmp_path / "x.pt", "wb") as file:
        mg.save(obj, file)
    with open(tmp_path / "x.pt", "rb") as file:
        assert_same(mg.load(file), obj)
    assert_same(mg.load(tmp_path / "x.pt", weights_only=True), obj)
    assert_same(mg.load(str(tmp_path / "x.pt"), weights_only=False), obj)  # never unpickles either way


def test_parameters_requires_grad_and_shared_tensors_come_back_as_torch():
    import io
    torch = pytest.importorskip("torch")
    p, t, plain = nn.Parameter(mg.ones(2)), mg.ones(2, requires_grad=True), mg.tensor([1, 2])
    frozen = nn.Parameter(mg.ones(2), requires_grad=False)
    tp, tt, tplain = torch.nn.Parameter(torch.ones(2)), torch.ones(2, requires_grad=True), torch.tensor([1, 2])
    tfrozen = torch.nn.Parameter(torch.ones(2), requires_grad=False)
    ours, theirs = io.BytesIO(), io.BytesIO()
    mg.save({"p": p, "t": t, "i": plain, "f": frozen, "again": [p]}, ours)
    torch.save({"p": tp, "t": tt, "i": tplain, "f": tfrozen, "again": [tp]}, theirs)
    ours.seek(0), theirs.seek(0)
    got, want = mg.load(ours), torch.load(theirs)
    for key in ["p", "t", "i", "f"]:
        assert type(got[key]).__name__ == type(want[key]).__name__, key
        assert got[key].requires_grad == want[key].requires_grad and got[key].is_leaf, key
    assert (got["again"][0] is got["p"]) == (want["again"][0] is want["p"]) == True  # noqa: E712


def test_map_location_forms(tmp_path):
    path = tmp_path / "x.npz"
    mg.save({"t": mg.ones(2)}, path)
    for location in ["cpu", mg.device("cpu"), {"cpu": "cpu"}]:
        assert mg.load(path, map_location=location)["t"].device == "cpu"
    seen = []
    loaded = mg.load(path, map_location=lambda tensor, where: seen.append(where))
    assert seen == ["cpu"] and loaded["t"].tolist() == [1.0, 1.0]
    assert mg.load(path, map_location=lambda tensor, where: tensor * 2)["t"].tolist() == [2.0, 2.0]


def test_tensors_saved_on_the_gpu_need_map_location_without_one(tmp_path):
    if mg.cuda.is_available():
        pytest.skip("this machine has a GPU")
    path = tmp_path / "gpu.npz"
    tree = {"dict": [["w", {"array": "a0", "tensor": True, "device": "cuda"}]]}
    write_by_hand(path, {"format": "minigrad-npz", "version": 1, "tree": tree}, a0=np.ones(3, dtype=np.float32))
    with pytest.raises(RuntimeError, match="saved on the GPU.*map_location='cpu'"):
        mg.load(path)
    for location in ["cpu", {"cuda:0": "cpu"}]:
        assert mg.load(path, map_location=location)["w"].device == "cpu"


def test_a_module_or_an_optimizer_is_refused_with_the_reason():
    import io
    model = nn.Linear(2, 1)
    for obj, name in [(model, "Linear"), (mg.optim.SGD(model.parameters(), lr=0.1), "SGD")]:
        with pytest.raises(TypeError, match=rf"cannot store a {name} itself: mg.save writes no pickle.*"
                                            rf"docs/differences.md.*save its .state_dict\(\) instead"):
            mg.save(obj, io.BytesIO())
    with pytest.raises(TypeError, match=r"cannot store a function: mg.save writes no pickle"):
        mg.save({"f": lambda: 1}, io.BytesIO())


# --- hostile and damaged files: always one ValueError that names the file -------------------------

def npy_bytes(shape, descr="<f8", data=b"", fortran=False):
    """A .npy entry whose header says `shape` and `descr`, followed by `data` (whatever its size)."""
    header = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode("latin1")
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + data


def zip_of(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def manifest_bytes(tree):
    text = json.dumps({"format": "minigrad-npz", "version": 1, "tree": tree}).encode("utf-8")
    return npy_bytes((len(text),), "|u1", text)


def expect_value_error(path, match=""):
    with pytest.raises(ValueError, match=rf"cannot load {path}: .*{match}") as error:
        mg.load(path)
    assert "\n" not in str(error.value)


def test_a_manifest_nested_100000_deep_is_a_value_error(tmp_path):
    path = tmp_path / "deep.npz"
    text = '{"format": "minigrad-npz", "version": 1, "tree": ' + '{"list": [' * 100_000 + "]}" * 100_000 + "}"
    zip_of(path, {"__minigrad__.npy": npy_bytes((len(text),), "|u1", text.encode())})
    expect_value_error(path)
    nested = {"list": []}
    for _ in range(150):  # deep enough for our limit, shallow enough for json
        nested = {"list": [nested]}
    zip_of(path, {"__minigrad__.npy": manifest_bytes(nested)})
    expect_value_error(path, "nested more than 100 deep")
    deep = []
    for _ in range(150):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than 100 deep"):
        mg.save(deep, tmp_path / "never.npz")


def test_an_array_header_claiming_a_trillion_elements_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.npz"
    tree = {"array": "a0", "tensor": True}
    zip_of(path, {"__minigrad__.npy": manifest_bytes(tree), "a0.npy": npy_bytes((10 ** 12,), "<f8", b"\0" * 64)})
    expect_value_error(path, r"claims 8000000000000 bytes of data for shape \(1000000000000,\)")
    zip_of(path, {"__minigrad__.npy": manifest_bytes(tree), "a0.npy": npy_bytes((10 ** 6, 10 ** 6, 10 ** 6))})
    expect_value_error(path, "claims")
    zip_of(path, {"__minigrad__.npy": manifest_bytes(tree), "a0.npy": npy_bytes((-1,))})
    expect_value_error(path, "shape")
    for width_zero in ("|S0", "<U0"):  # 10^10 elements of 0 bytes "fit" in an empty entry
        zip_of(path, {"__minigrad__.npy": manifest_bytes(tree), "a0.npy": npy_bytes((10 ** 10,), width_zero)})
        expect_value_error(path, "zero-width dtype")


def test_entries_claiming_more_bytes_than_the_file_or_compressed_are_refused(tmp_path):
    path = tmp_path / "bomb.npz"
    zip_of(path, {"__minigrad__.npy": manifest_bytes({"value": 1}), "a0.npy": np.zeros(10 ** 6).tobytes()},
           compression=zipfile.ZIP_DEFLATED)
    expect_value_error(path, "compressed")
    good = tmp_path / "good.npz"
    mg.save({"w": np.arange(1000.0)}, good)
    data = bytearray(good.read_bytes())
    directory = data.rfind(b"PK\x01\x02")  # the central directory's entry for the last member: sizes at +20, +24
    data[directory + 20:directory + 28] = (2 ** 31).to_bytes(4, "little") * 2
    (tmp_path / "lying.npz").write_bytes(bytes(data))
    expect_value_error(tmp_path / "lying.npz")


def test_damaged_and_foreign_archives_are_value_errors(tmp_path):
    path = tmp_path / "x.npz"
    zip_of(path, {"a0.npy": npy_bytes((1,), "<f8", b"\0" * 8)})
    expect_value_error(path, "no __minigrad__ entry")
    zip_of(path, {"__minigrad__.npy": b"not a npy at all"})
    expect_value_error(path, "not a .npy array")
    zip_of(path, {"__minigrad__.npy": npy_bytes((3,), "<f8", b"\0" * 24)})
    expect_value_error(path, "not an mg.save manifest")
    zip_of(path, {"__minigrad__.npy": npy_bytes((2,), "|O", b"\0" * 16)})
    expect_value_error(path, "pickled objects")
    zip_of(path, {"__minigrad__.npy": npy_bytes((4,), "|u1", b"\xff\xfe{}")})
    expect_value_error(path, "truncated or not an mg.save file")
    good = tmp_path / "good.npz"
    mg.save({"w": mg.randn(30, 30), "n": [1, 2]}, good)
    data = good.read_bytes()
    for cut in range(4, len(data), 97):
        (tmp_path / "cut.npz").write_bytes(data[:cut])
        expect_value_error(tmp_path / "cut.npz")


@pytest.mark.parametrize("tree", [
    5, "text", [], {}, {"dict": [[["unhashable"], {"value": 1}]]}, {"dict": [["k"]]}, {"list": {"a": 1}},
    {"value": [1, 2]}, {"value": {"a": 1}}, {"array": 0, "tensor": True}, {"array": "a0", "tensor": "yes"},
    {"array": "a0", "tensor": True, "device": "tpu"}, {"array": "a0"}, {"nothing": 1},
])
def test_wrong_types_in_the_manifest_are_value_errors(tmp_path, tree):
    path = tmp_path / "edited.npz"
    zip_of(path, {"__minigrad__.npy": manifest_bytes(tree), "a0.npy": npy_bytes((1,), "<f8", b"\0" * 8)})
    expect_value_error(path, "manifest")


def test_a_hostile_file_object_is_named_too():
    import io
    buffer = io.BytesIO(b"PK\x03\x04 and nothing else")
    with pytest.raises(ValueError, match="cannot load the BytesIO given: it is truncated"):
        mg.load(buffer)
