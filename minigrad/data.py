"""Datasets and batching, shaped like torch.utils.array.

    class Digits(mg.data.Dataset):          # subclass it, as the book does
        def __len__(self): ...
        def __getitem__(self, index): return image, label

    loader = mg.data.DataLoader(Digits(), batch_size=60, shuffle=True, seed=0)
    for images, labels in loader: ...       # batched tensors
"""

import math

import numpy as np

from . import backend, creation
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

    Resuming mid-epoch: `state_dict()` gives where the loader stands (the current epoch's order,
    how many batches of it were given, and its own generator's state); a new loader given it by
    `load_state_dict()` continues exactly there: its next iteration gives the rest of that epoch,
    and the epochs after it shuffle as the first loader's would have. (When shuffling draws from
    minigrad's own generator, save that with mg's RNG state instead: the loader does not own it.)
    Every other iteration starts a fresh epoch, as PyTorch's does.
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
        self.order, self.position = None, 0  # the current epoch's order, and batches given from it
        self.resume_from = None              # (order, position) set by load_state_dict

    def __len__(self):
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        if self.resume_from is not None:  # continue the epoch that load_state_dict described
            self.order, self.position = self.resume_from
            self.resume_from = None
        else:
            self.order, self.position = self.epoch_order(), 0
        if self.batch_size is None:
            while self.position < len(self.order):
                index = self.order[self.position]
                self.position += 1
                yield self.dataset[int(index)]
        else:
            while True:
                start = self.position * self.batch_size
                indices = self.order[start:start + self.batch_size]
                if len(indices) == 0 or (len(indices) < self.batch_size and self.drop_last):
                    break
                self.position += 1
                yield self.batch(indices)
        self.order, self.position = None, 0  # the epoch is over

    def epoch_order(self):
        """The order of a new epoch: a fresh permutation when shuffling, else 0, 1, ..., n-1."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        rng = self.generator if self.generator is not None else backend.generator("cpu")
        return rng.permutation(n)

    def batch(self, indices):
        """The samples at `indices`, collated; by the dataset's own batch read when it has one."""
        if hasattr(self.dataset, "__getitems__") and self.collate_fn is collate:
            return self.dataset.__getitems__(indices)
        return self.collate_fn([self.dataset[int(i)] for i in indices])

    def state_dict(self):
        """Where the loader stands: {"order", "position", "generator"} (see the class docstring)."""
        return {"order": None if self.order is None else np.array(self.order),
                "position": self.position,
                "generator": None if self.generator is None else self.generator.bit_generator.state}

    def load_state_dict(self, state):
        """Continue from `state` (from state_dict): the next iteration resumes that epoch."""
        if state["generator"] is not None:
            if self.generator is None:
                raise ValueError("DataLoader.load_state_dict: the state has a generator's state, "
                                 "but this loader has no generator of its own (pass seed= or generator=)")
            self.generator.bit_generator.state = state["generator"]
        if state["order"] is not None:
            self.resume_from = (np.asarray(state["order"]), int(state["position"]))
        self.order, self.position = None, 0


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
        return creation.tensor(list(samples))  # Python floats -> float32, ints -> int64
    if isinstance(first, dict):
        return {key: collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        fields = [collate(list(field)) for field in zip(*samples)]
        return tuple(fields) if isinstance(first, tuple) else fields
    if isinstance(first, str):
        return list(samples)
    raise TypeError(f"collate: don't know how to batch samples of type {type(first).__name__}")
