"""One training on several processes: `mpiexec -n N python -m gans train EXPERIMENT --distributed`.

Each of the N processes (ranks) runs the same Trainer on its own part of the data, and
DistributedDataParallel averages the gradients, so that every step is one step of the global
batch, N x --batch-size, and every rank holds the same weights:

  - the data: rank r trains on samples r, r + N, r + 2N, ... (N equal parts; the few left over
    are dropped), shuffled within its part every epoch; an epoch is one pass over all parts;
  - the networks: wrapped in DDP, which starts every rank from rank 0's weights;
  - the noise: each rank draws its own (rank 0 the run's; the others from seed, rank and step);
  - the losses of each step: averaged over the ranks, so the history is that of the global batch,
    and a loss that stops being finite stops every rank at the same step;
  - Ctrl-C or SIGTERM on any rank: the ranks agree after every step (one small all-reduce) and
    all stop after the same step; rank 0 saves the checkpoint, and every rank waits for it;
  - the run folder: rank 0 alone writes it (and holds its lock); the other ranks write theirs into
    a temporary folder that is deleted at the end (the same work at the same time, so no rank
    waits for rank 0's samples or checkpoints); config.json records world_size and
    global_batch_size. --resume reads the checkpoint on every rank.

The Trainer (gans/training.py) calls `shard`, `wrap`, `average`, `agree_to_stop`, `config` and
`unwrap`; each is the identity, or nothing, when no distributed training runs. The command line
(gans/cli.py) opens a `session`.
"""

import os
import shutil
import signal
import sys
import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.data import Subset

from .errors import TrainingDiverged, TrainingInterrupted, UserError

_state = {}  # while a session runs: "rank", "world", and "scratch" (rank > 0's run folder)


def active():
    return bool(_state)


def rank():
    return _state.get("rank", 0)


def world_size():
    return _state.get("world", 1)


@contextmanager
def session(enabled):
    """The process group of a `--distributed` training (nothing when not enabled)."""
    if not enabled:
        yield
        return
    import minigrad.distributed as dist
    try:
        dist.init_process_group(backend="mpi")
    except RuntimeError as error:
        raise UserError(f"--distributed: {error}") from None
    _state.update(rank=dist.get_rank(), world=dist.get_world_size())
    if rank() > 0:  # the others print nothing on stdout (their errors still reach stderr), to the end
        sys.stdout = open(os.devnull, "w")
        _state["scratch"] = Path(tempfile.mkdtemp(prefix=f"gans-rank{rank()}-"))
    try:
        yield
        dist.barrier()  # rank 0 has written the summary
    except TrainingInterrupted as error:
        dist.barrier()  # every rank stopped after the same step; rank 0 has saved the checkpoint
        if rank() > 0:  # its message would name the scratch folder
            raise TrainingInterrupted(f"rank {rank()} stopped with rank 0, which saved the checkpoint",
                                      error.signal_number) from None
        raise
    except TrainingDiverged:
        dist.barrier()
        raise
    finally:
        if "scratch" in _state:
            shutil.rmtree(_state["scratch"], ignore_errors=True)
        _state.clear()
        dist.destroy_process_group()


def lock(out, run_lock):
    """The run folder's lock: rank 0's alone."""
    return run_lock(out) if rank() == 0 else nullcontext()


# --- the Trainer's hooks --------------------------------------------------------------------------

def shard(dataset):
    """This rank's part of the dataset: samples rank, rank + N, ... (all parts of one size)."""
    if not active():
        return dataset
    per_rank = len(dataset) // world_size()
    return Subset(dataset, list(range(rank(), per_rank * world_size(), world_size())))


def wrap(trainer):
    """After the Trainer is built (and a checkpoint loaded): DDP around its networks, this rank's
    noise, and, for ranks other than 0, a scratch run folder and no progress bar."""
    if not active():
        return
    from minigrad.nn.parallel import DistributedDataParallel
    trainer.nets = {name: DistributedDataParallel(net) for name, net in trainer.nets.items()}
    trainer.options.compile = False  # DDP averages through gradient hooks, which a captured step cannot replay
    if rank() > 0:
        mg.manual_seed(trainer.options.seed + 1_000_003 * rank() + trainer.step)
        trainer.out = _state["scratch"]
        trainer.options.progress = False


def unwrap(net):
    """The module inside a DDP wrapper (checkpoints hold the plain module's keys)."""
    return getattr(net, "module", net) if active() else net


def average(stats):
    """The step's statistics averaged over the ranks (those of the global batch)."""
    if not active():
        return stats
    import minigrad.distributed as dist
    values = mg.tensor(np.asarray(stats, dtype=np.float64))
    dist.all_reduce(values, op=dist.ReduceOp.AVG)
    return tuple(float(v) for v in values.numpy())


def agree_to_stop(signal_number):
    """The signal that asked some rank to stop (None if none did): every rank stops after the same step."""
    if not active():
        return signal_number
    import minigrad.distributed as dist
    flag = mg.tensor(np.array([0 if signal_number is None else int(signal_number)], dtype=np.int64))
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return signal.Signals(int(flag.item())) if flag.item() else None


def config(trainer):
    """What config.json adds for a distributed run."""
    if not active():
        return {}
    return {"world_size": world_size(), "global_batch_size": world_size() * trainer.batch_size}

