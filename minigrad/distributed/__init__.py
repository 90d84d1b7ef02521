"""minigrad.distributed, as torch.distributed: processes that train one model together.

    import minigrad.distributed as dist

    dist.init_process_group(backend="mpi")      # under `mpiexec -n 4 python train.py`
    rank, world = dist.get_rank(), dist.get_world_size()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)    # t, a Tensor, becomes the sum over the ranks, in place
    dist.broadcast(t, src=0)                    # t becomes rank 0's t
    dist.all_gather(parts, t)                   # parts[i] becomes rank i's t
    dist.barrier()
    dist.destroy_process_group()

Each process is started by the MPI launcher (`mpiexec -n N`), on one machine or several; minigrad
moves no bytes itself: it calls MPI through mpi4py (backend="mpi", CPU tensors) or NCCL through
CuPy (backend="nccl", one GPU per rank, started over MPI). Install both MPI pieces with
`pip install -e ".[distributed]"`. minigrad.nn.parallel.DistributedDataParallel and
minigrad.utils.data.distributed.DistributedSampler are built on these.

As in PyTorch, every collective is called by every rank in the same order; async_op=True returns a
Work whose wait() finishes it. A collective that waits longer than `timeout` (init_process_group's,
30 minutes by default) for the other ranks raises a RuntimeError, and an uncaught exception on one
rank aborts the whole job (MPI_Abort): a rank that dies never leaves the others waiting forever.

Only the default group (all ranks) exists: `group` must be None or group.WORLD.
"""

import datetime

from .. import backend
from ..tensor import Tensor
from .backends import INSTALL_MPI, MPIGroup, NCCLGroup, Work, import_mpi

__all__ = ["ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast", "destroy_process_group",
           "get_backend", "get_rank", "get_world_size", "group", "init_process_group", "is_available",
           "is_initialized", "is_mpi_available", "is_nccl_available"]

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)
BACKENDS = {"mpi": MPIGroup, "nccl": NCCLGroup}

_group = None  # the default process group, once initialised


class ReduceOp:
    """How all_reduce combines the ranks' tensors: ReduceOp.SUM, AVG, MAX, MIN or PRODUCT."""

    SUM, AVG, MAX, MIN, PRODUCT = "SUM", "AVG", "MAX", "MIN", "PRODUCT"


class group:
    """dist.group.WORLD: the default group (all ranks), which None also means."""

    WORLD = None


def is_available():
    return True


def is_mpi_available():
    try:
        import_mpi()
    except RuntimeError:
        return False
    return True


def is_nccl_available():
    return backend.nccl() is not None


def is_initialized():
    return _group is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join the job's default process group. backend: "mpi" (the default) or "nccl". The ranks and the
    world size come from the MPI launcher; world_size and rank, when given, must agree with it.
    init_method and store are not needed (MPI's launcher plays their part) and must be left out."""
    global _group
    if _group is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    if name not in BACKENDS:
        raise ValueError(f"minigrad.distributed: unknown backend {backend!r}; use 'mpi' (CPU, "
                         f"{INSTALL_MPI}) or 'nccl' (GPU, CuPy)")
    if init_method not in (None, "env://") or store is not None:
        raise ValueError("minigrad.distributed: the MPI launcher (mpiexec) starts and connects the ranks; "
                         "leave init_method and store out")
    seconds = (timeout or DEFAULT_TIMEOUT).total_seconds()
    created = BACKENDS[name](seconds)
    for given, actual, what in [(world_size, created.size, "world_size"), (rank, created.rank, "rank")]:
        if given not in (-1, None) and given != actual:
            raise ValueError(f"init_process_group({what}={given}), but the MPI launcher gives {what} {actual}")
    _group = created


def destroy_process_group(group=None):
    global _group
    if _group is not None:
        _group.close()
    _group = None


def _default(group_):
    if group_ is not None:
        raise ValueError("minigrad.distributed has only the default group: pass group=None")
    if _group is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return _group


def get_backend(group=None):
    return _default(group).name


def get_rank(group=None):
    return _default(group).rank


def get_world_size(group=None):
    return _default(group).size


def _done(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


def _array_of(tensor):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"expected a minigrad Tensor, got {type(tensor).__name__}")
    tensor._version[0] += 1  # changed in place (when the collective finishes)
    return tensor.array


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """tensor becomes the reduction (op) of every rank's tensor, in place, on every rank."""
    if op not in (ReduceOp.SUM, ReduceOp.AVG, ReduceOp.MAX, ReduceOp.MIN, ReduceOp.PRODUCT):
        raise ValueError(f"unknown ReduceOp {op!r}")
    return _done(_default(group).all_reduce(_array_of(tensor), op), async_op)


def broadcast(tensor, src=0, group=None, async_op=False):
    """tensor becomes rank src's tensor, in place, on every rank."""
    process_group = _default(group)
    if not 0 <= src < process_group.size:
        raise ValueError(f"broadcast(src={src}): there are ranks 0 to {process_group.size - 1}")
    return _done(process_group.broadcast(_array_of(tensor), src), async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[i] becomes rank i's tensor, on every rank; tensor_list holds world_size tensors of
    tensor's shape and dtype."""
    process_group = _default(group)
    if len(tensor_list) != process_group.size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors, the world has "
                         f"{process_group.size} ranks")
    for t in tensor_list:
        if tuple(t.shape) != tuple(tensor.shape) or t.dtype != tensor.dtype:
            raise ValueError(f"all_gather: every tensor in tensor_list must have the shape {tuple(tensor.shape)} "
                             f"and dtype of the input, got {tuple(t.shape)} {t.dtype}")
    outs = [_array_of(t) for t in tensor_list]
    return _done(process_group.all_gather(outs, tensor.array), async_op)


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank has reached its barrier."""
    return _done(_default(group).barrier(), async_op)
