"""torch.utils.data.distributed.DistributedSampler: each rank's own part of the dataset.

    sampler = DistributedSampler(dataset)              # num_replicas, rank: from minigrad.distributed
    loader = DataLoader(dataset, batch_size=64, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)                       # a new order every epoch, the same on all ranks
        for x, y in loader: ...

Every epoch, all ranks put the indices in the same order (shuffled with seed + epoch), pad it by
repeating its start up to a multiple of num_replicas (or, with drop_last, cut the tail), and rank r
takes positions r, r + num_replicas, r + 2 num_replicas, ...: the parts are disjoint and together
hold every sample once (plus the padding). This is PyTorch's partition, step for step; only the
shuffled order differs, as it comes from NumPy's generator (np.random.default_rng(seed + epoch))
instead of torch.randperm.
"""

import math

import numpy as np

from ... import distributed as dist
from ...data import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """DistributedSampler(dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            if not dist.is_initialized():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)  # whole rounds only
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def order(self):
        """All indices, in this epoch's order (the same on every rank)."""
        n = len(self.dataset)
        if self.shuffle:
            return np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        return list(range(n))

    def __iter__(self):
        indices = self.order()
        if not self.drop_last:  # pad with the first indices (again and again if needed)
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        assert len(indices) == self.total_size
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use the order of `epoch` from now on (call it before each epoch when shuffling)."""
        self.epoch = epoch
