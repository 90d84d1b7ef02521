"""Under mpiexec: DistributedSampler's parts, taken from the process group, are disjoint and cover
the dataset every epoch (with padding when the size does not divide; cut with drop_last)."""

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad.utils.data import DataLoader, DistributedSampler, TensorDataset

dist.init_process_group(backend="mpi")
rank, world = dist.get_rank(), dist.get_world_size()
for n in (10, 11, 1):
    for drop_last in (False, True):
        dataset = TensorDataset(mg.arange(n))
        sampler = DistributedSampler(dataset, shuffle=True, seed=3, drop_last=drop_last)
        assert (sampler.num_replicas, sampler.rank) == (world, rank)
        orders = []
        for epoch in range(3):
            sampler.set_epoch(epoch)
            mine = [int(x) for (batch,) in DataLoader(dataset, batch_size=2, sampler=sampler) for x in batch.numpy()]
            assert mine == list(sampler) and len(mine) == len(sampler)
            parts = [mg.zeros(len(sampler), dtype=mg.int64) for _ in range(world)]
            dist.all_gather(parts, mg.tensor(np.array(mine, dtype=np.int64)))
            every = [i for step in zip(*[p.numpy().tolist() for p in parts]) for i in step]  # rank order
            if drop_last:
                assert len(set(every)) == len(every) == (n // world) * world, (n, every)
            else:
                assert set(every) == set(range(n)) and len(every) == -(-n // world) * world, (n, every)
            orders.append(every)
        assert n < 3 or orders[0] != orders[1], "set_epoch must change the order"
if rank == 0:
    print(f"OK sampler on {world} ranks")
dist.destroy_process_group()
