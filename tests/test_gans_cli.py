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
# then rightly leaves it ignored (training.ctrl_c_stops_between_steps): so the child restores it.
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

    from gans.cli import import_all_experiments
    from gans.registry import RunOptions, get_experiment
    from gans.training import Trainer
    import_all_experiments()

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
        assert saved["samples"].shape == (12, 784) and saved["samples"].dtype == np.float32
        assert saved["labels"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert_one_line_error(gans("sample", tmp_path / "run", "--out", tmp_path / "raw.png"), ".npz")


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
              "cli.import_all_experiments()\n"
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
