"""A property test of `python -m gans`: whatever the command line, no traceback, and a documented
exit status (0 done, 1 diverged, 2 a mistake to fix in one line, 130 Ctrl-C).

Hypothesis draws command lines from every command, experiment and flag, with values that are
right, wrong or garbage, and paths that do not exist, are files, or cannot be written. Trainings
it draws are tiny (always an --epochs of at most 0.1 and a small train_limit or iterations), so
most examples end in an argument error and the whole file takes seconds. The CLI runs in-process
(gans.cli.main), its output captured. Run folders are shared between examples, so later examples
meet earlier runs: --resume into another experiment's run, sample and evaluate on real runs.
"""

import contextlib
import io
import os
import shutil
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from gans import cli
from gans.data import mnist
from gans.registry import EXPERIMENTS

EXIT_CODES = {0, 1, 2, 130}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, shared_data):
    """A working folder holding every kind of path the drawn command lines name (see OUTS and RUNS)."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "data" / "mnist").mkdir(parents=True)
    for real in (shared_data / "mnist").glob("*.gz"):
        (root / "data" / "mnist" / real.name).symlink_to(real)
    (root / "a-file").write_text("not a folder, not a checkpoint")
    (root / "empty").mkdir()
    (root / "junk-run").mkdir()
    (root / "junk-run" / "checkpoint.npz").write_bytes(b"PK\x03\x04" + bytes(40))
    with h5py.File(root / "small.h5", "w") as file:  # images too small for any crop
        file.create_dataset("images", data=np.zeros((20, 32, 32, 3), np.uint8))
    rng = np.random.default_rng(0)
    with h5py.File(root / "faces.h5", "w") as file:  # 12 random 'faces': 10 train, 2 held out
        file.create_dataset("images", data=rng.integers(0, 256, (12, 218, 178, 3), dtype=np.uint8))
    with zipfile.ZipFile(root / "notes.zip", "w") as archive:
        archive.writestr("a.txt", b"hello")
    (root / "faces").mkdir()
    from PIL import Image
    for k in range(2):
        Image.new("RGB", (178, 218), (k * 90, 20, 30)).save(root / "faces" / f"{k:06d}.png")
    pattern = ["train", "pattern-1010", "--set", "iterations=20", "--epochs", "0.1", "--no-progress", "--out"]
    for folder in ("runs/pattern", "runs/mislabelled"):
        assert cli.main([*pattern, str(root / folder)]) == 0
    mislabelled = mg.load(root / "runs/mislabelled/checkpoint.npz")
    mg.save({**mislabelled, "experiment": "mnist-mlp"}, root / "runs/mislabelled/checkpoint.npz")
    return root


def unwritable():
    """A folder this process cannot create files in, even as root (/sys), else a read-only one."""
    try:
        Path("/sys/minigrad-probe").touch()
    except OSError:
        return "/sys/run"
    return "/proc/run"


# Run folders. Trainings may write into runs/a and runs/b; runs/pattern holds a 1010-pattern run from the
# start, and runs/mislabelled a checkpoint whose experiment name does not match its weights. `evaluate`
# is not drawn on runs/a and runs/b: an MNIST run's first evaluation classifies 20,000 reference images.
BAD_PATHS = ["a-file", "empty", "junk-run", "missing/deeper", unwritable(), "/dev/null", ""]
OUTS = ["runs/a", "runs/b", "runs/pattern", *BAD_PATHS]
RUNS = ["runs/a", "runs/b", "runs/pattern", "runs/mislabelled", *BAD_PATHS]
EVALUATED = ["runs/pattern", "runs/mislabelled", *BAD_PATHS]
EPOCHS = ["0.01", "0.1"] * 4 + ["0", "-1", "nan", "inf", "lots", "1e-300", ""]  # mostly a training
NUMBERS = ["1", "2", "3", "0", "-1", "1.5", "x", "", "1e9"]
SETTINGS = ["train_limit=12", "train_limit=24", "train_limit=0", "train_limit=abc", "iterations=20",
            "iterations=-3", "test_limit=20", "frechet_every=x", "frechet_every=5", "h5=small.h5", "h5=faces.h5",
            "h5=a-file", "h5=missing.h5", "h5=notes.zip", "task=grey", "task=nonsense", "ablation=l1",
            "ablation=", "gamma=2", "gamma=0.5", "from_run=runs/a", "from_run=missing", "from_run=junk-run",
            "variants=baseline", "variants=nothing", "shuffle=false", "shuffle=maybe", "noequals", "=", "a=b=c",
            "trian_limit=5"]


def options(flags):
    """Optional flags, each drawn with one of its values, in any order."""
    return st.lists(st.sampled_from(sorted(flags)).flatmap(
        lambda flag: st.sampled_from(flags[flag]).map(lambda value: [flag] if value is None else [flag, value])),
        max_size=4).map(lambda chosen: [word for option in chosen for word in option])


def train_command():
    names = sorted(EXPERIMENTS) + ["no-such-gan", ""]
    flags = {"--batch-size": NUMBERS, "--seed": NUMBERS, "--device": ["cpu", "cuda", "tpu"],
             "--data-dir": ["data", "missing", "a-file"], "--resume": [None], "--set": SETTINGS,
             "--no-progress": [None], "--help": [None]}
    return st.tuples(st.sampled_from(names), st.sampled_from(EPOCHS), st.sampled_from(OUTS),
                     st.sampled_from(["12", "24"]), options(flags)).map(lambda drawn: tiny_training(*drawn))


def tiny_training(name, epochs, out, limit, extra):
    """`train NAME ...` that trains for seconds at most: --epochs 0.1 or less (or a wrong value), and the
    data shrunk to `limit` samples (the 1010 pattern: 20; classifiers: 20 test images too; the faces:
    faces.h5, 12 random ones). The drawn
    options come after these, so a drawn --set train_limit=abc still replaces the shrinking one."""
    known = getattr(EXPERIMENTS.get(name), "settings", {})
    shrink = {"train_limit": limit, "iterations": "20", "test_limit": "20", "h5": "faces.h5"}
    settings = [word for key, value in shrink.items() if key in known for word in ("--set", f"{key}={value}")]
    return ["train", name, "--epochs", epochs, "--out", out, "--data-dir", "data", *settings, *extra]


def run_commands():
    sample = st.tuples(st.just("sample"), st.sampled_from(RUNS), options({"--n": NUMBERS, "--seed": NUMBERS,
                                                         "--out": ["x.npz", "x.png", "missing/x.npz", "a-file",
                                                                   f"{unwritable()}/x.npz", "empty"]}))
    evaluate = st.tuples(st.just("evaluate"), st.sampled_from(EVALUATED), options({"--n": ["1", "3", "0", "x"],
                                                             "--data-dir": ["data", "missing", "a-file"],
                                                             "--no-progress": [None]}))
    return st.one_of(sample, evaluate).map(lambda drawn: [drawn[0], drawn[1], "--n", "3", *drawn[2]])


def data_command():
    return st.tuples(st.sampled_from(["notes.zip", "faces", "missing.zip", "a-file", "small.h5", ""]),
                     options({"--out": ["out.h5", "empty", "missing/out.h5", f"{unwritable()}/out.h5", "a-file"],
                              "--limit": NUMBERS, "--no-progress": [None]})
                     ).map(lambda drawn: ["data", "celeba", "--zip", drawn[0], "--no-progress", *drawn[1]])


def garbage():
    words = st.sampled_from(["list", "train", "sample", "evaluate", "data", "celeba", "--verbose", "-v", "--help",
                             "--set", "--epochs", "-x", "--", "runs/a", "pattern-1010", "é", "\x00"])
    return st.lists(st.one_of(words, st.text(max_size=6)), max_size=5)


COMMANDS = st.one_of(train_command(), train_command(), run_commands(), data_command(), garbage())


# What Python's default warning filters hide from a terminal user (python -W default shows them).
HIDDEN_IN_A_TERMINAL = (ResourceWarning, DeprecationWarning, PendingDeprecationWarning, ImportWarning)


def run_cli(argv):
    """(exit status, stdout, stderr) of `python -m gans ARGV`, run in-process. Warnings go to stderr,
    as they would in a terminal (pytest would otherwise collect them out of sight)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = cli.main(argv)
        except SystemExit as done:  # argparse: --help (0) or a usage error (2)
            code = done.code
    shown = "".join(f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}\n" for w in caught
                    if not issubclass(w.category, HIDDEN_IN_A_TERMINAL))
    if os.environ.get("GANS_FUZZ_LOG"):  # to see what the drawn command lines did
        with open(os.environ["GANS_FUZZ_LOG"], "a") as log:
            log.write(f"{code}\t{argv}\t{(shown + err.getvalue()).strip().splitlines()[-1:]}\n")
    return code, out.getvalue(), shown + err.getvalue()


@pytest.fixture(scope="module")
def offline(sandbox):
    """No downloads (a refused port for MNIST's mirrors), an empty cache, no $MINIGRAD_DATA, and the
    sandbox as the working folder (runs/ goes there)."""
    from helpers import closed_port
    saved = (list(mnist.MIRRORS), dict(os.environ), os.getcwd())
    mnist.MIRRORS[:] = [f"http://127.0.0.1:{closed_port()}/"]
    os.environ.pop("MINIGRAD_DATA", None)
    os.environ["XDG_CACHE_HOME"] = str(sandbox / "cache")
    os.chdir(sandbox)
    yield sandbox
    mnist.MIRRORS[:], environment, folder = saved
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(folder)


@settings(derandomize=True, max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(argv=COMMANDS)
def test_no_command_line_ends_in_a_traceback(offline, argv):
    mg.manual_seed(0)
    code, out, err = run_cli(argv)
    assert code in EXIT_CODES, (argv, code, err)
    assert "Traceback" not in err + out and "Warning" not in err, (argv, err)
    if code == 2:
        last = err.strip().splitlines()[-1] if err.strip() else ""
        assert "error:" in last, (argv, err)


def test_the_fuzz_sandbox_is_used(offline):
    """The drawn paths resolve in the sandbox, and a tiny training there works (exit 0)."""
    shutil.rmtree(offline / "runs" / "c", ignore_errors=True)
    code, out, err = run_cli(["train", "pattern-1010", "--set", "iterations=20", "--epochs", "0.1",
                              "--out", "runs/c", "--no-progress"])
    assert code == 0, err
    assert (offline / "runs" / "c" / "checkpoint.npz").is_file()


def test_an_empty_out_or_data_dir_is_refused_not_taken_for_the_current_folder(offline):
    for flag in ("--out", "--data-dir"):
        code, _, err = run_cli(["train", "pattern-1010", flag, "", "--set", "iterations=20", "--epochs", "0.1"])
        assert code == 2 and flag in err and "must not be empty" in err and len(err.strip().splitlines()) == 1
    assert not (offline / "checkpoint.npz").exists()
