"""`python -m gans` end to end, in a subprocess, on a few iterations."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "gans" / "weights" / "mnist_classifier.npz"


def gans(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gans", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=300)


def assert_one_line_error(done, *words, code=2):
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in lines[0]


def test_list_names_every_experiment():
    done = gans("list")
    assert done.returncode == 0
    for name in ("pattern-1010", "mnist-first", "mnist-book", "mnist-mlp", "mnist-seeds", "dcgan",
                 "mnist-conditional", "celeba-mlp", "celeba-conv", "celeba-conv-gelu", "began"):
        assert name in done.stdout


def test_help_is_clear():
    done = gans("train", "--help")
    assert done.returncode == 0
    for option in ("--epochs", "--batch-size", "--device", "--data-dir", "--out", "--seed", "--resume"):
        assert option in done.stdout


def test_mistakes_get_one_line_errors(tmp_path):
    assert_one_line_error(gans("train", "no-such-experiment"), "unknown experiment", "no-such-experiment")
    assert_one_line_error(gans("sample", tmp_path / "missing"), "no checkpoint")
    assert_one_line_error(gans("evaluate", tmp_path / "missing"), "no checkpoint")
    assert_one_line_error(gans("train", "mnist-mlp", "--epochs", "lots"), "--epochs")
    assert_one_line_error(gans("train", "mnist-mlp", "--batch-size", "0"), "--batch-size")
    assert_one_line_error(gans("train", "mnist-mlp", "--device", "tpu"), "--device")
    assert_one_line_error(gans("frobnicate"), "invalid choice")
    assert_one_line_error(gans("train", "pattern-1010", "--out", tmp_path / "none", "--resume"), "no checkpoint")


def test_train_sample_evaluate_resume(tmp_path, shared_data):
    run = tmp_path / "run"
    common = ["--data-dir", shared_data, "--set", "train_limit=300", "--no-progress"]
    done = gans("train", "mnist-mlp", "--epochs", "1", "--out", run, *common)
    assert done.returncode == 0, done.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 5 and summary["batch_size"] == 60
    for name in ("checkpoint.npz", "history.csv", "loss.png", "config.json", "samples/step_0000000.png"):
        assert (run / name).exists(), name

    assert_one_line_error(gans("train", "mnist-mlp", "--out", run, *common), "--resume")
    done = gans("train", "mnist-mlp", "--epochs", "2", "--out", run, "--resume", *common)
    assert done.returncode == 0, done.stderr
    assert json.loads((run / "summary.json").read_text())["steps"] == 10

    done = gans("sample", run, "--n", "16")
    assert done.returncode == 0, done.stderr
    assert (run / "samples_16.png").exists()

    if not WEIGHTS.exists():
        pytest.skip("the metrics classifier's weights are not built yet")
    done = gans("evaluate", run, "--n", "500", "--data-dir", shared_data)
    assert done.returncode == 0, done.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["experiment"] == "mnist-mlp" and 1 <= metrics["classes_present"] <= 10


def test_pattern_run_evaluates_without_the_classifier(tmp_path):
    run = tmp_path / "pattern"
    assert gans("train", "pattern-1010", "--out", run, "--set", "iterations=200", "--no-progress").returncode == 0
    done = gans("evaluate", run)
    assert done.returncode == 0, done.stderr
    assert len(json.loads((run / "metrics.json").read_text())["G(0.5)"]) == 4


def test_data_celeba_builds_the_hdf5_file(tmp_path, shared_data):
    import h5py

    zip_path = shared_data / "celeba" / "img_align_celeba_558.zip"
    if not zip_path.exists():
        pytest.skip(f"the CelebA sample is not at {zip_path}")
    out = tmp_path / "faces.h5"
    done = gans("data", "celeba", "--zip", zip_path, "--limit", "5", "--out", out, "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "5" in done.stdout
    with h5py.File(out, "r") as file:
        assert file["images"].shape == (5, 218, 178, 3)
    assert_one_line_error(gans("data", "celeba", "--zip", tmp_path / "missing.zip", "--out", out), "missing.zip")


# --- every bad input: exit 2, one line on stderr, no traceback ------------------------------------

def _mnist_with(root, shared_data, name, content):
    """A data root whose mnist/ holds the real files (linked), but `name` replaced by `content`."""
    folder = root / "mnist"
    folder.mkdir(parents=True)
    for real in (shared_data / "mnist").glob("*.gz"):
        (folder / real.name).symlink_to(real)
    (folder / name).unlink()
    (folder / name).write_bytes(content)
    return root


def _labels_gz(shared_data):
    return (shared_data / "mnist" / "train-labels-idx1-ubyte.gz").read_bytes()


def _bad_crc(data):
    """A gzip whose CRC-32 trailer no longer matches its content."""
    crc = bytearray(data)
    crc[-8] ^= 0xFF
    return bytes(crc)


def _wrong_content(data):
    """A well-formed gzip of a well-formed idx file, but not MNIST's bytes (one label changed)."""
    import gzip
    raw = bytearray(gzip.decompress(data))
    raw[-1] = (raw[-1] + 1) % 10
    return gzip.compress(bytes(raw))


def _not_writable_folder(tmp_path):
    """A folder this process cannot create files in: a read-only one; as root (who may write
    anywhere on a normal file system) /sys, where even root cannot create files."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        (folder / "probe").touch()
    except PermissionError:
        return folder
    (folder / "probe").unlink()
    try:
        Path("/sys/minigrad-probe").touch()
    except OSError:
        return Path("/sys")
    pytest.skip("no folder here refuses writes")


def _wrong_layout_h5(path):
    import h5py
    with h5py.File(path, "w") as file:
        file.create_dataset("pixels", data=[[1.0, 2.0]])
    return path


def _truncated_checkpoint(run):
    run.mkdir()
    (run / "checkpoint.npz").write_bytes(b"PK\x03\x04" + bytes(40))  # a zip's first bytes, then nothing
    return run


BAD_INPUTS = {
    # name: (arguments, words the one line must hold); callables get (tmp_path, shared_data)
    "epochs nan": (["train", "pattern-1010", "--epochs", "nan"], ["--epochs"]),
    "epochs inf": (["train", "pattern-1010", "--epochs", "inf"], ["--epochs"]),
    "seed -1": (["train", "pattern-1010", "--seed", "-1"], ["--seed"]),
    "train_limit abc": (["train", "mnist-mlp", "--set", "train_limit=abc"], ["train_limit"]),
    "train_limit -5": (["train", "mnist-mlp", "--set", "train_limit=-5"], ["train_limit"]),
    "iterations 0": (["train", "pattern-1010", "--set", "iterations=0"], ["iterations"]),
    "misspelled key": (["train", "mnist-mlp", "--set", "trian_limit=5"], ["trian_limit", "valid: frechet_every, train_limit"]),
    "cnn-classifier resume": (["train", "cnn-classifier", "--resume"], ["--resume"]),
    "truncated mnist gz": (lambda t, d: ["--data-dir", _mnist_with(t / "d", d, "train-labels-idx1-ubyte.gz",
                                                                   _labels_gz(d)[:500])], ["truncated"]),
    "crc-bad mnist gz": (lambda t, d: ["--data-dir", _mnist_with(t / "d", d, "train-labels-idx1-ubyte.gz",
                                                                 _bad_crc(_labels_gz(d)))], ["CRC"]),
    "wrong-md5 mnist gz": (lambda t, d: ["--data-dir", _mnist_with(t / "d", d, "train-labels-idx1-ubyte.gz",
                                                                   _wrong_content(_labels_gz(d)))], ["checksum"]),
    "h5 missing": (lambda t, d: ["--h5", t / "missing.h5"], ["missing.h5"]),
    "h5 is a zip": (lambda t, d: ["--h5", d / "celeba" / "img_align_celeba_558.zip"], ["not an HDF5 file"]),
    "h5 wrong layout": (lambda t, d: ["--h5", _wrong_layout_h5(t / "other.h5")], ["not a CelebA HDF5 file"]),
    "truncated checkpoint, resume": (lambda t, d: ["--resume-from", _truncated_checkpoint(t / "run")],
                                     ["truncated"]),
    "truncated checkpoint, sample": (lambda t, d: ["sample", _truncated_checkpoint(t / "run")], ["truncated"]),
    "truncated checkpoint, evaluate": (lambda t, d: ["evaluate", _truncated_checkpoint(t / "run")], ["truncated"]),
    "read-only out": (lambda t, d: ["--out", _not_writable_folder(t)], ["cannot write"]),
    "out is a file": (lambda t, d: ["--out", _touch(t / "a-file")], ["it is a file"]),
}


def _touch(path):
    path.write_text("not a folder")
    return path


def _command(case, tmp_path, shared_data):
    """The full command line of a BAD_INPUTS case."""
    arguments, _ = BAD_INPUTS[case]
    if not callable(arguments):
        return [*arguments, "--out", tmp_path / "run", "--no-progress"]
    kind, value = arguments(tmp_path, shared_data)
    quick = ["--set", "train_limit=60", "--epochs", "1", "--no-progress"]
    if kind == "--data-dir":
        return ["train", "mnist-mlp", "--data-dir", value, "--out", tmp_path / "run", *quick]
    if kind == "--h5":
        return ["train", "celeba-conv", "--set", f"h5={value}", "--out", tmp_path / "run", *quick]
    if kind == "--resume-from":
        return ["train", "pattern-1010", "--out", value, "--resume", "--no-progress"]
    if kind == "--out":
        return ["train", "pattern-1010", "--set", "iterations=10", "--out", value, "--no-progress"]
    return [kind, value]  # sample / evaluate RUN


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_every_bad_input_is_one_line_and_exit_2(case, tmp_path, shared_data):
    if case == "h5 is a zip" and not (shared_data / "celeba" / "img_align_celeba_558.zip").exists():
        pytest.skip("the CelebA sample zip is not in the shared data")
    done = gans(*_command(case, tmp_path, shared_data))
    assert_one_line_error(done, *BAD_INPUTS[case][1])
    assert not (tmp_path / "run" / "config.json").exists(), "config.json written for a run that never started"


# --- the run folder: one training at a time; Ctrl-C keeps the run; resume keeps its settings -------

PATTERN = ["train", "pattern-1010", "--no-progress"]


def test_a_folder_in_use_by_a_living_training_is_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / ".lock").write_text(f"{os.getpid()}\n")  # this test process: alive, and not the training
    done = gans(*PATTERN, "--set", "iterations=10", "--out", run)
    assert_one_line_error(done, "in use by another training", f"pid {os.getpid()}")
    assert sorted(p.name for p in run.iterdir()) == [".lock"], "the refused training wrote into the folder"


def test_a_stale_lock_is_taken_over_and_removed_at_the_end(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True)
    run = tmp_path / "run"
    run.mkdir()
    (run / ".lock").write_text(finished.stdout)  # a training that was killed: its pid runs no more
    done = gans(*PATTERN, "--set", "iterations=10", "--out", run)
    assert done.returncode == 0, done.stderr
    assert (run / "checkpoint.npz").exists() and not (run / ".lock").exists()


# `python -m gans` as launched from a terminal, where Ctrl-C raises KeyboardInterrupt. A child
# inherits an ignored SIGINT (a test runner started in the background ignores it), and the run
# then rightly leaves it ignored (errors.stop_signals_deferred): so the child restores it.
AT_A_TERMINAL = ("-c", "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                       "runpy.run_module('gans', run_name='__main__', alter_sys=True)")


def test_ctrl_c_before_the_first_checkpoint_saves_one_and_exits_130(tmp_path):
    run = tmp_path / "run"
    process = subprocess.Popen([sys.executable, *AT_A_TERMINAL, *PATTERN, "--set", "iterations=10000000",
                                "--out", str(run)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        for line in process.stdout:  # the run says when it has started (and Ctrl-C is handled)
            if "Ctrl-C saves a checkpoint" in line:
                break
        assert not (run / "checkpoint.npz").exists()
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, errors
    assert "interrupted" in errors and "Traceback" not in errors and "--resume" in errors
    assert (run / "checkpoint.npz").exists() and not (run / ".lock").exists()
    assert not list(run.glob(".tmp-*")), "a temporary checkpoint was left behind"
    done = gans("sample", run, "--out", tmp_path / "pattern.npz")  # the checkpoint is whole
    assert done.returncode == 0, done.stderr


def test_resume_refuses_changed_settings_and_lets_the_epochs_grow(tmp_path):
    run = tmp_path / "run"
    assert gans(*PATTERN, "--set", "iterations=40", "--out", run).returncode == 0
    assert_one_line_error(gans(*PATTERN, "--set", "iterations=40", "--out", run, "--resume", "--seed", "3"),
                          "--seed", "only --epochs may grow")
    assert_one_line_error(gans(*PATTERN, "--set", "iterations=50", "--out", run, "--resume"), "--set")
    assert_one_line_error(gans(*PATTERN, "--set", "iterations=40", "--out", run, "--resume", "--epochs", "0.5"),
                          "--epochs")
    done = gans(*PATTERN, "--set", "iterations=40", "--out", run, "--resume", "--epochs", "2")
    assert done.returncode == 0, done.stderr
    assert json.loads((run / "summary.json").read_text())["steps"] == 80


def test_sample_writes_raw_samples_and_labels(tmp_path):
    import dataclasses

    from gans import catalog  # noqa: F401 (registers every experiment)
    from gans.registry import RunOptions, get_experiment
    from gans.training import Trainer

    class Digits(mg.data.Dataset):
        def __len__(self):
            return 4

        def __getitems__(self, indices):
            return mg.rand(len(indices), 784), mg.tensor(np.asarray(indices) % 10)

    experiment = dataclasses.replace(get_experiment("mnist-conditional"), dataset=lambda options: Digits(),
                                     alarm_every=0, sample_every=0, checkpoint_every=0)
    Trainer(experiment, RunOptions(out=tmp_path / "run", epochs=1, progress=False)).fit()
    done = gans("sample", tmp_path / "run", "--n", "12", "--out", tmp_path / "raw.npz")
    assert done.returncode == 0, done.stderr
    with np.load(tmp_path / "raw.npz") as saved:
        assert saved["samples"].shape == (12, 1, 28, 28) and saved["samples"].dtype == np.float32
        assert saved["labels"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert_one_line_error(gans("sample", tmp_path / "run", "--out", tmp_path / "raw.png"), ".npz")


# --- sample and evaluate on every experiment: image to image, BEGAN, the data a run recorded ------

def _import_experiments():
    from gans import catalog  # noqa: F401 (registers every experiment)


def checkpoint_run(run, name, extra=None, data_dir=None, k=None):
    """A run folder as `train` leaves it, made directly (no training): the registered experiment's
    freshly initialised networks in checkpoint.npz, and config.json. k: BEGAN's k, if not 0."""
    from gans.registry import RunOptions, get_experiment
    _import_experiments()
    extra = dict(extra or {})
    experiment = get_experiment(name)
    mg.manual_seed(7)
    nets = experiment.make_objective(RunOptions(out=run, extra=extra)).networks(experiment)
    if k is not None:
        nets["balance"].k.fill_(k)
    run.mkdir(parents=True)
    settings = {"batch_size": experiment.batch_size, "seed": 0, "extra": extra, "epochs": 1}
    mg.save({"experiment": name, "settings": settings, **{key: net.state_dict() for key, net in nets.items()}},
            run / "checkpoint.npz")
    (run / "config.json").write_text(json.dumps({"experiment": name, "data_dir": data_dir, "extra": extra}))
    return nets


@pytest.fixture(scope="module")
def flat_faces_h5(tmp_path_factory):
    """24 synthetic faces (a flat colour each, a darker square in the middle) as a CelebA HDF5 file:
    the first 20 train the image GANs, the last 4 are held out."""
    from PIL import Image

    from gans.data.celeba import build_hdf5
    folder = tmp_path_factory.mktemp("faces")
    for k in range(24):
        face = np.full((218, 178, 3), 10 * k, np.uint8)
        face[90:130, 70:110] = (5 * k, 200 - 5 * k, 100)
        Image.fromarray(face).save(folder / f"{k:06d}.png")
    build_hdf5(folder, folder.parent / "faces.h5", progress=False)
    return folder.parent / "faces.h5"


def unit(images):
    return np.clip((np.asarray(images) + 1) / 2, 0, 1)


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_sample_translates_held_out_faces(name, tmp_path, flat_faces_h5):
    from gans import image_to_image as i2i
    from gans.data.pairs import FacePairs
    run = tmp_path / "run"
    nets = checkpoint_run(run, name, {"h5": str(flat_faces_h5), "task": "grey"})
    done = gans("sample", run, "--n", "3")
    assert done.returncode == 0, done.stderr
    assert (run / "samples_3.png").stat().st_size > 1000

    done = gans("sample", run, "--n", "100", "--out", tmp_path / "faces.npz")  # only 4 are held out
    assert done.returncode == 0, done.stderr
    held_out = FacePairs(flat_faces_h5, "grey", input_channels=1 if name == "pix2pix" else 3).held_out()
    inputs, targets = held_out.__getitems__(range(4))
    with np.load(tmp_path / "faces.npz") as saved:
        assert str(saved["experiment"]) == name
        assert saved["inputs"].shape == (4, 1 if name == "pix2pix" else 3, 64, 64)
        for key in ("samples", "inputs", "targets"):
            assert saved[key].dtype == np.float32 and 0 <= saved[key].min() and saved[key].max() <= 1
        np.testing.assert_allclose(saved["inputs"], unit(inputs.numpy()), atol=1e-6)
        np.testing.assert_allclose(saved["targets"], unit(targets.numpy()), atol=1e-6)
        np.testing.assert_allclose(saved["samples"], unit(i2i.translate(nets["generator"], inputs)), atol=1e-5)


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_evaluate_measures_image_to_image_on_the_held_out_faces(name, tmp_path, flat_faces_h5):
    from gans import image_to_image as i2i
    from gans.data.pairs import FacePairs
    run = tmp_path / "run"
    nets = checkpoint_run(run, name, {"h5": str(flat_faces_h5), "task": "grey", "train_limit": 10})
    done = gans("evaluate", run)
    assert done.returncode == 0, done.stderr
    assert "held-out faces" in done.stderr and "12/12" in done.stderr  # a progress bar: 3 passes of 4 faces
    printed = json.loads(done.stdout[:done.stdout.rindex("}") + 1])
    saved = json.loads((run / "metrics.json").read_text())
    assert printed == saved and saved["experiment"] == name
    train = FacePairs(flat_faces_h5, "grey", input_channels=1 if name == "pix2pix" else 3, limit=10)
    expected = i2i.evaluate(nets["generator"], train.held_out(), train)  # the mean of the 10 training faces
    assert saved["held_out"]["faces"] == 4
    for which in ("model", "mean_face"):
        for key in ("l1", "psnr", "ssim", "sharpness", "sharpness_real"):
            assert saved["held_out"][which][key] == pytest.approx(expected[which][key], rel=1e-5, abs=1e-7)


def test_evaluate_measures_began_copies_and_m_global(tmp_path, flat_faces_h5):
    """The faces are found in the data folder the run recorded, relative to the run folder."""
    from gans import began
    from gans.data.pairs import FacePairs
    (tmp_path / "data" / "celeba").mkdir(parents=True)
    (tmp_path / "data" / "celeba" / "celeba.h5").symlink_to(flat_faces_h5)
    run = tmp_path / "runs" / "began"
    nets = checkpoint_run(run, "began", {"train_limit": 6}, data_dir="../../data", k=0.25)
    done = gans("evaluate", run, "--n", "3")  # ROOT/../../data is no folder: only the run's reading finds it
    assert done.returncode == 0, done.stderr
    result = json.loads((run / "metrics.json").read_text())
    assert result["experiment"] == "began" and result["gamma"] == 0.5 and result["k"] == 0.25
    assert result["samples"] == 3 and result["training_faces"] == 6
    assert result["m_global"] == pytest.approx(result["d_real"] + abs(0.5 * result["d_real"] - result["g_loss"]))
    faces = FacePairs(flat_faces_h5, "grey", limit=6).targets(range(6)).numpy()
    D = nets["discriminator"]
    with mg.no_grad():
        d_real = float((mg.tensor(faces) - D(mg.tensor(faces))).abs().mean().item())
    assert result["d_real"] == pytest.approx(d_real, rel=1e-4)
    z = began.uniform_noise((began.HIDDEN,))(3, generator=np.random.default_rng(2017))  # summary.json's z
    with mg.no_grad():
        samples = nets["generator"](z).numpy()
    assert result["copy_check"] == began.copy_check(samples, faces)


def test_sample_writes_one_format_for_every_experiment(tmp_path, flat_faces_h5):
    """samples (N, C, H, W) float32 in [0, 1] whatever the generator's range, labels when
    conditional, and the experiment's name."""
    nets = checkpoint_run(tmp_path / "mlp", "mnist-mlp")  # a tanh generator: pixels in [-1, 1]
    done = gans("sample", tmp_path / "mlp", "--n", "5", "--seed", "3", "--out", tmp_path / "mlp.npz")
    assert done.returncode == 0, done.stderr
    _import_experiments()
    from gans.registry import get_experiment
    mg.manual_seed(3)
    with mg.no_grad():
        expected = nets["generator"](get_experiment("mnist-mlp").noise(5)).numpy().reshape(5, 1, 28, 28)
    with np.load(tmp_path / "mlp.npz") as saved:
        assert sorted(saved.files) == ["experiment", "samples"] and str(saved["experiment"]) == "mnist-mlp"
        assert saved["samples"].dtype == np.float32
        np.testing.assert_allclose(saved["samples"], (expected + 1) / 2, atol=1e-6)

    checkpoint_run(tmp_path / "began", "began", {"h5": str(flat_faces_h5)})
    assert gans("sample", tmp_path / "began", "--n", "2", "--out", tmp_path / "began.npz").returncode == 0
    with np.load(tmp_path / "began.npz") as saved:
        assert saved["samples"].shape == (2, 3, 64, 64) and 0 <= saved["samples"].min() <= saved["samples"].max() <= 1


def test_channels_first_reads_every_image_layout():
    from gans.evaluation import channels_first
    faces = np.arange(2 * 218 * 178 * 3).reshape(2, 218, 178, 3)  # celeba-mlp: channels last
    np.testing.assert_array_equal(channels_first(faces, (218, 178, 3)), faces.transpose(0, 3, 1, 2))
    assert channels_first(np.zeros((2, 784)), (28, 28)).shape == (2, 1, 28, 28)
    assert channels_first(np.zeros((2, 3, 64, 64)), (3, 64, 64)).shape == (2, 3, 64, 64)
    assert channels_first(np.zeros((2, 4)), None).shape == (2, 1, 1, 4)  # the 1010 pattern: one row of values


def test_sample_refuses_a_huge_n_before_allocating(tmp_path):
    checkpoint_run(tmp_path / "mlp", "mnist-mlp")
    done = gans("sample", tmp_path / "mlp", "--n", "1000000000", "--out", tmp_path / "huge.npz")
    assert_one_line_error(done, "--n 1000000000", "GiB", "342,392")
    assert not (tmp_path / "huge.npz").exists()
    assert_one_line_error(gans("sample", tmp_path / "mlp", "--n", "1000"), "at most 256", "--out")


def _mnist_runner(port):
    """`python -m gans` with MNIST's download mirrors on a closed port (no network in a test)."""
    return ("-c", f"import runpy; from gans.data import mnist; mnist.MIRRORS[:] = ['http://127.0.0.1:{port}/']; "
                  f"runpy.run_module('gans', run_name='__main__', alter_sys=True)")


def test_evaluate_finds_mnist_where_the_run_recorded_it(tmp_path, shared_data, closed_port):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "mnist").symlink_to(shared_data / "mnist")
    run = tmp_path / "runs" / "mlp"
    checkpoint_run(run, "mnist-mlp", data_dir="../../data")
    (tmp_path / "elsewhere").mkdir()
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    environment.pop("MINIGRAD_DATA", None)

    def evaluate(*args):
        return subprocess.run([sys.executable, *_mnist_runner(closed_port), "evaluate", run, *args],
                              capture_output=True, text=True, cwd=tmp_path / "elsewhere", env=environment, timeout=300)

    done = evaluate("--n", "200")
    assert done.returncode == 0, done.stderr
    assert json.loads((run / "metrics.json").read_text())["samples"] == 200
    assert "200/200" in done.stderr and "20000/20000" in done.stderr  # progress: the samples, the reference
    assert not (tmp_path / "cache" / "minigrad").exists()

    (tmp_path / "data" / "mnist").unlink()  # the recorded folder no longer holds MNIST: one line, nothing made
    done = evaluate("--n", "200", "--no-progress")
    assert_one_line_error(done, "MNIST", str(run / "../../data"), "--data-dir")
    assert not (tmp_path / "cache" / "minigrad").exists()


def test_evaluate_prints_the_metrics_when_the_run_folder_is_read_only(tmp_path):
    run = tmp_path / "pattern"
    assert gans(*PATTERN, "--set", "iterations=20", "--out", run).returncode == 0
    run.chmod(0o555)
    try:
        (run / "probe").touch()
    except PermissionError:
        pass
    else:  # root writes anywhere: block metrics.json itself (a folder cannot be replaced by a file)
        (run / "probe").unlink()
        run.chmod(0o755)
        (run / "metrics.json").mkdir()
    try:
        done = gans("evaluate", run)
    finally:
        run.chmod(0o755)
    assert done.returncode == 2
    assert len(json.loads(done.stdout)["G(0.5)"]) == 4
    assert_one_line_error(done, "could not be saved", "metrics.json")


# --- training and the less-travelled commands: SIGTERM, --set help, resuming another's run --------

def test_sigterm_saves_a_checkpoint_releases_the_lock_and_exits_143(tmp_path):
    run = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "gans", *PATTERN, "--set", "iterations=10000000",
                                "--out", str(run)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        for line in process.stdout:  # the run says when it has started (and the signals are handled)
            if "Ctrl-C saves a checkpoint" in line:
                break
        process.send_signal(signal.SIGTERM)  # what kill, timeout and batch schedulers send
        _, errors = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 143, errors
    assert "Traceback" not in errors and "--resume" in errors
    assert (run / "checkpoint.npz").exists() and not (run / ".lock").exists()
    assert mg.load(run / "checkpoint.npz")["step"] >= 1
    done = gans("sample", run, "--out", tmp_path / "pattern.npz")  # the checkpoint is whole
    assert done.returncode == 0, done.stderr


def test_sigterm_before_the_training_loop_releases_the_lock(tmp_path):
    """SIGTERM while the experiment is still being set up (here: while its dataset is made)."""
    script = ("import os, signal, sys\n"
              "from gans import cli\n"
              "from gans.registry import EXPERIMENTS\n"
              "experiment = EXPERIMENTS['pattern-1010']\n"
              "def dataset(options):\n"
              "    os.kill(os.getpid(), signal.SIGTERM)\n"
              "experiment.dataset = dataset\n"
              "sys.exit(cli.main(sys.argv[1:]))\n")
    run = tmp_path / "run"
    done = subprocess.run([sys.executable, "-c", script, *PATTERN, "--out", str(run)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 143, done.stderr
    assert "Traceback" not in done.stderr and "interrupted" in done.stderr
    assert not run.exists(), "the lock (and the folder it made) were left behind"


def test_train_experiment_help_lists_its_settings_with_defaults_and_meanings():
    done = gans("train", "pix2pix", "--help")
    assert done.returncode == 0, done.stderr
    assert "--epochs" in done.stdout  # the usual help first
    lines = {line.split()[1].split("=")[0]: line for line in done.stdout.splitlines()
             if line.startswith("  --set ") and "KEY=VALUE" not in line}
    assert sorted(lines) == ["ablation", "h5", "task", "train_limit"]
    assert "(default: cgan+l1)" in lines["ablation"] and "l1, cgan or cgan+l1" in lines["ablation"]
    assert "(default: edges)" in lines["task"] and "grey" in lines["task"]

    done = gans("list", "--verbose")
    assert done.returncode == 0, done.stderr
    assert "--set frechet_every=N" in done.stdout and "(default: 50)" in done.stdout  # the WGANs measure every 50
    assert "--set gamma=" in done.stdout and "(default: 0.5)" in done.stdout          # BEGAN


def test_a_wrong_set_key_points_at_the_help():
    assert_one_line_error(gans("train", "mnist-mlp", "--set", "trian_limit=5"), "train mnist-mlp --help")


def test_resuming_another_experiments_run_says_so_first(tmp_path):
    run = tmp_path / "run"
    assert gans(*PATTERN, "--set", "iterations=20", "--out", run).returncode == 0
    done = gans("train", "pix2pix", "--out", run, "--resume", "--no-progress")
    assert_one_line_error(done, "'pattern-1010'", "'pix2pix'")
    assert "differs" not in done.stderr
