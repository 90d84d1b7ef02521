"""minigrad.distributed, DistributedDataParallel and DistributedSampler.

The scripts in tests/distributed/ run under `mpiexec -n 2` (two processes on this machine, more
processes than cores allowed) as subprocesses with a deadline; they are skipped, with the reason,
where mpi4py or the MPI launcher is missing (`pip install -e ".[distributed]"`). The rest runs in
this process, without MPI."""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.distributed as dist
from minigrad.nn.parallel import DistributedDataParallel
from minigrad.utils.data import DistributedSampler

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "tests" / "distributed"


def launcher():
    """The mpiexec beside this Python (the mpich wheel puts it there), else the one on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def mpi_missing():
    if not dist.is_mpi_available():
        return 'mpi4py or its MPI library is missing: pip install -e ".[distributed]"'
    if launcher() is None:
        return 'no mpiexec found beside Python or on PATH: pip install -e ".[distributed]"'
    return None


needs_mpi = pytest.mark.skipif(mpi_missing() is not None, reason=str(mpi_missing()))


def run_mpi(script, *args, ranks=2, timeout=60):
    """Run tests/distributed/<script> on `ranks` processes; (exit status, output, seconds)."""
    command = [launcher()]
    version = subprocess.run([launcher(), "--version"], capture_output=True, text=True).stdout
    if "Open MPI" in version or "OpenRTE" in version:
        command.append("--oversubscribe")
    command += ["-n", str(ranks), sys.executable, str(SCRIPTS / script), *args]
    env = dict(os.environ, OMP_NUM_THREADS="1", MINIGRAD_NUM_THREADS="1")
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def run_ok(script, ranks=2):
    status, output, _ = run_mpi(script, ranks=ranks)
    assert status == 0, output[-3000:]
    return output


# --- under MPI ---------------------------------------------------------------------------------

@needs_mpi
def test_collectives_against_numpy():
    assert "OK collectives on 2 ranks" in run_ok("collectives.py")


@needs_mpi
def test_ddp_gan_training_equals_one_process():
    output = run_ok("ddp_gan.py")
    assert "OK mlp-gan: 4 Adam steps on 2 ranks" in output, output
    assert "OK dcgan: 4 Adam steps on 2 ranks" in output, output
    assert "OK no_sync accumulation equals one process" in output, output
    assert "OK gradient penalty through DDP equals one process" in output, output


@needs_mpi
def test_ddp_all_reduces_start_during_backward_and_equal_one_process():
    output = run_ok("ddp_overlap.py")
    assert "OK overlap: the first all-reduce started at event 1, before the last gradient" in output, output
    assert "OK overlapped buckets equal one process, with and without gradient_as_bucket_view and create_graph" \
        in output, output


@needs_mpi
def test_sampler_partition_across_ranks():
    assert "OK sampler on 2 ranks" in run_ok("sampler.py")


@needs_mpi
@pytest.mark.parametrize("how", ["exit", "raise", "hang"])
def test_a_rank_that_dies_ends_the_job(how):
    status, output, seconds = run_mpi("killed_rank.py", *([] if how == "exit" else [how]), timeout=60)
    assert status != 0, output
    assert "finished all steps" not in output
    assert seconds < 30, f"the job took {seconds:.0f} s to end after a rank died"
    if how == "raise":
        assert "this rank fails on purpose" in output
    if how == "hang":
        assert "waited more than 3 s for the other ranks" in output, output


PATTERN = ["-m", "gans", "train", "pattern-1010", "--distributed", "--no-progress"]


def mpi_command(*args, ranks=2):
    return [launcher(), "-n", str(ranks), sys.executable, *args]


@needs_mpi
def test_gans_train_distributed_and_resume(tmp_path):
    """Rank 0 alone writes the run folder; config.json has the world size and the global batch;
    --resume continues; the other rank's scratch folder is gone."""
    run, scratch = tmp_path / "run", tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch), OMP_NUM_THREADS="1")
    for epochs, steps in [("1", 20), ("2", 40)]:
        done = subprocess.run(mpi_command(*PATTERN, "--set", "iterations=40", "--out", str(run), "--epochs", epochs,
                                          *(["--resume"] if epochs == "2" else [])),
                              capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.count('"steps"') == 1, done.stdout  # rank 0 alone prints the summary
        summary = json.loads((run / "summary.json").read_text())
        assert summary["steps"] == steps  # 40 samples, 20 per rank, batch 1: 20 global steps an epoch
    config = json.loads((run / "config.json").read_text())
    assert (config["world_size"], config["batch_size"], config["global_batch_size"]) == (2, 1, 2)
    assert not (run / ".lock").exists() and list(scratch.iterdir()) == []


@needs_mpi
def test_gans_sigterm_stops_every_rank_after_one_step(tmp_path):
    run = tmp_path / "run"
    process = subprocess.Popen(mpi_command(*PATTERN, "--set", "iterations=10000000", "--out", str(run)), cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stdout:
            if "Ctrl-C saves a checkpoint" in line:
                break
        time.sleep(1)
        process.send_signal(signal.SIGTERM)  # to mpiexec, which passes it on to every rank
        _, errors = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 143, errors
    stopped = [line for line in errors.splitlines() if line.startswith("interrupted")]
    assert len(stopped) == 2 and "checkpoint saved to" in errors and "rank 1 stopped with rank 0" in errors, errors
    assert "Traceback" not in errors
    assert (run / "checkpoint.npz").exists() and not (run / ".lock").exists()


# --- in this process ---------------------------------------------------------------------------

def test_unknown_backend_says_what_to_use():
    with pytest.raises(ValueError, match=r"unknown backend 'gloo'.*'mpi'.*pip install -e"):
        dist.init_process_group(backend="gloo")
    assert not dist.is_initialized()


def test_missing_mpi4py_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if it were not installed
    with pytest.raises(RuntimeError, match=r'needs mpi4py.*pip install -e "\.\[distributed\]"'):
        dist.init_process_group(backend="mpi")
    assert not dist.is_mpi_available()
    assert not dist.is_initialized()


def test_nccl_without_cupy_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.raises(RuntimeError, match=r"backend='nccl' needs CuPy with NCCL.*pip install"):
        dist.init_process_group(backend="nccl")
    assert not dist.is_initialized() and not dist.is_nccl_available()


def test_minigrad_imports_without_mpi4py():
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import minigrad, minigrad.distributed as d, minigrad.nn.parallel, minigrad.utils.data.distributed\n"
            "assert minigrad.distributed is d and 'mpi4py' not in [m for m in sys.modules if sys.modules[m]]\n"
            "assert not d.is_mpi_available() and not d.is_initialized()\n"
            "print('imported')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0 and "imported" in done.stdout, done.stderr


def test_uninitialised_group_errors_as_pytorch():
    for call in (dist.get_rank, dist.get_world_size, lambda: dist.all_reduce(mg.ones(2)),
                 lambda: DistributedDataParallel(mg.nn.Linear(2, 2))):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            call()
    with pytest.raises(RuntimeError, match="Requires distributed package"):
        DistributedSampler(range(4))


# --- DistributedSampler against PyTorch's --------------------------------------------------------

class TorchOrderSampler(DistributedSampler):
    """Our sampler with torch's shuffled order (torch.randperm): then the partition must be torch's."""

    def order(self):
        import torch
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        return torch.randperm(len(self.dataset), generator=g).tolist() if self.shuffle else list(range(len(self.dataset)))


@pytest.mark.parametrize("n", [1, 2, 7, 10, 12, 13])
@pytest.mark.parametrize("replicas", [1, 2, 3, 5])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_partition_is_pytorchs(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for shuffle in (False, True):
        for rank in range(replicas):
            ours = DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=5, drop_last=drop_last)
            with_torch_order = TorchOrderSampler(range(n), replicas, rank, shuffle=shuffle, seed=5, drop_last=drop_last)
            theirs = TorchSampler(range(n), replicas, rank, shuffle=shuffle, seed=5, drop_last=drop_last)
            for epoch in (0, 1):
                for s in (ours, with_torch_order, theirs):
                    s.set_epoch(epoch)
                assert len(ours) == len(theirs) == ours.num_samples == theirs.num_samples
                assert ours.total_size == theirs.total_size
                assert list(with_torch_order) == list(theirs)
                if not shuffle:
                    assert list(ours) == list(theirs)
    del torch


def test_sampler_covers_every_sample_once_per_epoch():
    n, replicas = 23, 4
    for epoch in range(3):
        parts = []
        for rank in range(replicas):
            s = DistributedSampler(range(n), replicas, rank, seed=1)
            s.set_epoch(epoch)
            parts.append(list(s))
        every = [i for part in parts for i in part]
        assert len(every) == math.ceil(n / replicas) * replicas
        assert set(every) == set(range(n))
        assert all(len(p) == len(parts[0]) for p in parts)
    with pytest.raises(ValueError, match=r"Invalid rank 4, rank should be in the interval \[0, 3\]"):
        DistributedSampler(range(n), 4, 4)
