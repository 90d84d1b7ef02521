"""mg.utils.data, as torch.utils.data: the same classes as minigrad.data, under PyTorch's path.

    from minigrad.utils.data import DataLoader, Dataset
    from minigrad.utils.data.dataloader import DataLoader     # PyTorch's submodule paths work too
    from minigrad.utils.data.sampler import RandomSampler
"""

from ...data import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler, Sampler,
                     SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                     WeightedRandomSampler, collate, get_worker_info, random_split)
from . import dataloader, dataset, distributed, sampler
from .distributed import DistributedSampler

default_collate = collate

__all__ = ["BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "RandomSampler", "Sampler",
           "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
           "default_collate", "get_worker_info", "random_split"]
