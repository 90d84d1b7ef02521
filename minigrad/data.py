"""Datasets and batching, shaped like torch.utils.array.

    class Digits(mg.data.Dataset):          # subclass it, as the book does
        def __len__(self): ...
        def __getitem__(self, index): return image, label

    loader = mg.data.DataLoader(Digits(), batch_size=60, shuffle=True, seed=0)
    for images, labels in loader: ...       # batched tensors
"""

import math

import numpy as np

from . import backend
from .tensor import Tensor


class Dataset:
    """Something indexable with a length. Subclasses define __len__ and __getitem__."""

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Samples are the rows of the given tensors: dataset[i] = (t1[i], t2[i], ...)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        lengths = {len(t) for t in tensors}
        if len(lengths) != 1:
            raise ValueError(f"TensorDataset: tensors differ in their first dim: {[tuple(t.shape) for t in tensors]}")
        self.tensors = tensors

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(Tensor._wrap(t.array[index], False) for t in self.tensors)

    def __getitems__(self, indices):
        """A whole batch at once, by one fancy-indexing read per tensor."""
        if type(self).__getitem__ is not TensorDataset.__getitem__:  # a subclass changed what a sample is
            return collate([self[int(i)] for i in indices])
        return tuple(Tensor._wrap(t.array[indices], False) for t in self.tensors)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order: subset[i] = dataset[indices[i]]."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, np.asarray(indices, dtype=np.int64)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __getitems__(self, indices):
        """A batch by the underlying dataset's own batch read when it has one."""
        chosen = self.indices[np.asarray(indices, dtype=np.int64)]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(chosen)
        return collate([self.dataset[int(i)] for i in chosen])


class DataLoader:
    """Iterate over a dataset in batches.

    batch_size  samples per batch (None: single samples, not batched)
    shuffle     a new random order every epoch
    drop_last   leave out a last, smaller batch
    seed / generator
                where shuffling takes its randomness: a seed (int) or a numpy Generator,
                so that the order is reproducible; by default minigrad's own generator,
                which mg.manual_seed() seeds
    collate_fn  turns a list of samples into a batch (default: `collate`)
    num_workers, pin_memory
                accepted so that PyTorch scripts run, and ignored: batches are always
                made in this process (they are array slices, already fast), and there is
                no pinned host memory to ask for
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
                 generator=None, collate_fn=None, num_workers=0, pin_memory=False):
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        if generator is None and seed is not None:
            generator = np.random.default_rng(seed)
        self.generator = generator
        self.collate_fn = collate_fn or collate

    def __len__(self):
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            rng = self.generator if self.generator is not None else backend.generator("cpu")
            order = rng.permutation(n)
        else:
            order = np.arange(n)
        if self.batch_size is None:
            for i in order:
                yield self.dataset[int(i)]
            return
        for start in range(0, n, self.batch_size):
            indices = order[start:start + self.batch_size]
            if len(indices) < self.batch_size and self.drop_last:
                return
            if hasattr(self.dataset, "__getitems__") and self.collate_fn is collate:
                yield self.dataset.__getitems__(indices)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in indices])


def collate(samples):
    """Stack a list of samples into a batch: tensors and arrays are stacked along a new
    first dim, Python numbers become a tensor (float32 or int64), and tuples, lists and
    dicts are collated field by field."""
    first = samples[0]
    if isinstance(first, Tensor):
        xp = backend.array_module(first.array)
        return Tensor._wrap(xp.stack([s.array for s in samples]), False)
    if backend.is_array(first):
        xp = backend.array_module(first)
        return Tensor._wrap(xp.stack(samples), False)
    if isinstance(first, (bool, int, float, np.number)):
        return Tensor(list(samples))  # Python floats -> float32, ints -> int64
    if isinstance(first, dict):
        return {key: collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        fields = [collate(list(field)) for field in zip(*samples)]
        return tuple(fields) if isinstance(first, tuple) else fields
    if isinstance(first, str):
        return list(samples)
    raise TypeError(f"collate: don't know how to batch samples of type {type(first).__name__}")
