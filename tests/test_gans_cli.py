"""`python -m gans` end to end, in a subprocess, on a few iterations."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
                 "mnist-conditional", "celeba-mlp", "celeba-conv", "celeba-conv-gelu"):
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
    assert_one_line_error(gans("data", "celeba", "--zip", tmp_path / "missing.zip", "--out", out), "missing.zip",
                          code=1)
