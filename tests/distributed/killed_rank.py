"""Under mpiexec: the last rank dies mid-training (os._exit(1); an uncaught exception with `raise`
as the argument; with `hang`, it stops answering), while the others wait for it in an all_reduce.
The job must end with a non-zero status, not hang (the test gives it a deadline; with `hang`, the
collective's own 3 s timeout ends it)."""

import datetime
import os
import sys
import time

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group(backend="mpi", timeout=datetime.timedelta(seconds=3))
rank, world = dist.get_rank(), dist.get_world_size()
model = DDP(nn.Linear(4, 1).double())
opt = mg.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    if step == 3 and rank == world - 1:
        if sys.argv[1:] == ["raise"]:
            raise RuntimeError("this rank fails on purpose")
        if sys.argv[1:] == ["hang"]:
            time.sleep(120)
        os._exit(1)
    opt.zero_grad()
    x = mg.tensor(np.random.default_rng(step).standard_normal((8, 4)))
    model(x).pow(2).mean().backward()
    opt.step()
print(f"rank {rank} finished all steps although a rank died", flush=True)
