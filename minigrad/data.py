"""Datasets, samplers and batching, shaped like torch.utils.data.

    class Digits(mg.data.Dataset):          # subclass it, as the book does
        def __len__(self): ...
        def __getitem__(self, index): return image, label

    loader = mg.data.DataLoader(Digits(), batch_size=60, shuffle=True, seed=0)
    for images, labels in loader: ...       # batched tensors

A DataLoader asks its sampler which samples come next (SequentialSampler, or RandomSampler with
shuffle=True, or any sampler or iterable of indices given), groups them with a BatchSampler, reads
them from the dataset and collates them into a batch. Randomness comes from a NumPy Generator
(`generator=`, or `seed=`), else from minigrad's own generator, which mg.manual_seed() seeds.
"""

import bisect
import itertools
import math
import warnings

import numpy as np

from . import backend, creation
from .tensor import Tensor


class Dataset:
    """Something indexable with a length. Subclasses define __len__ and __getitem__."""

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        """dataset1 + dataset2 is their ConcatDataset."""
        return ConcatDataset([self, other])


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


class ConcatDataset(Dataset):
    """Datasets one after another: the samples of the first, then those of the second, ...

    cumulative_sizes[k] is the number of samples in datasets 0..k, so sample i is in the first
    dataset k with i < cumulative_sizes[k].
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index = len(self) + index
        k = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[k - 1] if k > 0 else 0
        return self.datasets[k][index - start]


def random_split(dataset, lengths, generator=None):
    """Split `dataset` into non-overlapping Subsets of the given lengths, in a random order.

    lengths are sample counts that add up to len(dataset), or fractions that add up to 1: each
    split gets floor(len * fraction) samples and the samples left over go one each to the first
    splits, as PyTorch. generator: a NumPy Generator (default: minigrad's own).
    """
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(int(math.floor(n * fraction)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.")
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    rng = generator if generator is not None else backend.generator("cpu")
    order = rng.permutation(n).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - length:end]) for end, length in zip(ends, lengths)]


# --- samplers: which samples, in which order ---------------------------------------------------

def _rng(generator):
    """The NumPy Generator to draw from: the given one, else minigrad's own (read at each use,
    so that mg.manual_seed() after building a sampler still decides its order)."""
    return generator if generator is not None else backend.generator("cpu")


class Sampler:
    """Something that yields dataset indices. Subclasses define __iter__ (and usually __len__)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in a random order.

    replacement=False: a fresh permutation of all indices (num_samples larger than the dataset
    takes whole permutations one after another). replacement=True: num_samples independent
    uniform draws, made lazily in chunks, so that num_samples may be huge (minGPT asks for 1e10).
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement, self._num_samples = data_source, replacement, num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, rng = len(self.data_source), _rng(self.generator)
        if self.replacement:
            for start in range(0, self.num_samples, 32):
                yield from rng.integers(0, n, size=min(32, self.num_samples - start)).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from rng.permutation(n).tolist()
            if self.num_samples % n:
                yield from rng.permutation(n).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        for i in _rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices in 0..len(weights)-1, index i drawn with probability weights[i] / sum(weights)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights = np.asarray(weights.numpy() if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(weights.shape)}")
        self.weights, self.num_samples, self.replacement, self.generator = weights, num_samples, replacement, generator

    def __iter__(self):
        p = self.weights / self.weights.sum()
        yield from _rng(self.generator).choice(len(p), size=self.num_samples, replace=self.replacement, p=p).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of batch_size (the last one shorter unless drop_last)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while True:
            batch = list(itertools.islice(indices, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


def _key(index):
    """A dataset key: NumPy integers become Python ints; anything else a sampler gives passes as is."""
    return int(index) if isinstance(index, np.integer) else index


def get_worker_info():
    """None: batches are always made in the calling process (as PyTorch's answer there)."""
    return None


class DataLoader:
    """Iterate over a dataset in batches.

    batch_size  samples per batch (None: single samples, not batched)
    shuffle     a new random order every epoch (a RandomSampler)
    sampler     which indices, in which order: a Sampler or any iterable of indices
                (not together with shuffle)
    batch_sampler
                yields whole lists of indices (not together with batch_size, shuffle,
                sampler or drop_last)
    drop_last   leave out a last, smaller batch
    seed / generator
                where shuffling takes its randomness: a seed (int) or a numpy Generator,
                so that the order is reproducible; by default minigrad's own generator,
                which mg.manual_seed() seeds
    collate_fn  turns a list of samples into a batch (default: `collate`)
    num_workers, pin_memory, timeout, worker_init_fn, multiprocessing_context, prefetch_factor,
    persistent_workers, pin_memory_device, in_order
                accepted so that PyTorch scripts run, and ignored: batches are always
                made in this process (they are array slices, already fast), and there is
                no pinned host memory to ask for

    Resuming mid-epoch: `state_dict()` gives where the loader stands (the current epoch's order,
    how many batches of it were given, and its own generator's state); a new loader given it by
    `load_state_dict()` continues exactly there: its next iteration gives the rest of that epoch,
    and the epochs after it shuffle as the first loader's would have. (When shuffling draws from
    minigrad's own generator, save that with mg's RNG state instead: the loader does not own it.)
    This holds for the loader's own sampling (shuffle=True or False), not for a sampler passed in.
    Every other iteration starts a fresh epoch, as PyTorch's does.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="", in_order=True,
                 seed=None):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if generator is None and seed is not None:
            generator = np.random.default_rng(seed)
        self.own_sampling = sampler is None and batch_sampler is None  # what state_dict can describe
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.shuffle = bool(shuffle)
        self.collate_fn = collate_fn or collate
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor, self.persistent_workers = worker_init_fn, prefetch_factor, persistent_workers
        self.order, self.position = None, 0  # the current epoch's order, and batches given from it
        self.resume_from = None              # (order, position) set by load_state_dict

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self):
        if not self.own_sampling:  # a sampler or batch sampler of the caller's: follow it
            self.order, self.position = None, 0
            for chosen in (self.batch_sampler if self.batch_sampler is not None else self.sampler):
                self.position += 1
                yield self.dataset[_key(chosen)] if self.batch_sampler is None else self.batch(chosen)
            self.position = 0
            return
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
        """The order of a new epoch: the sampler's indices (a fresh permutation when shuffling,
        else 0, 1, ..., n-1), as one array."""
        return np.fromiter(iter(self.sampler), dtype=np.int64, count=len(self.sampler))

    def batch(self, indices):
        """The samples at `indices`, collated; by the dataset's own batch read when it has one.

        minigrad's datasets give a whole batch from __getitems__; one written for PyTorch gives
        a list of samples, which is then collated as PyTorch does."""
        if hasattr(self.dataset, "__getitems__") and self.collate_fn is collate:
            samples = self.dataset.__getitems__(np.asarray(indices, dtype=np.int64))
            return self.collate_fn(samples) if isinstance(samples, list) else samples
        return self.collate_fn([self.dataset[_key(i)] for i in indices])

    def state_dict(self):
        """Where the loader stands: {"order", "position", "generator"} (see the class docstring)."""
        if not self.own_sampling:
            raise ValueError("DataLoader.state_dict: a loader that follows a sampler or batch_sampler passed "
                             "in cannot say where it stands; use shuffle=True/False to resume mid-epoch")
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
    first dim, Python numbers become a tensor (float64 or int64, as PyTorch), and tuples, lists and
    dicts are collated field by field."""
    first = samples[0]
    if isinstance(first, Tensor):
        xp = backend.array_module(first.array)
        return Tensor._wrap(xp.stack([s.array for s in samples]), False)
    if backend.is_array(first):
        xp = backend.array_module(first)
        return Tensor._wrap(xp.stack(samples), False)
    if isinstance(first, float):  # as PyTorch's default_collate: Python floats give float64
        return creation.tensor(list(samples), dtype=np.float64)
    if isinstance(first, (bool, int, np.number)):
        return creation.tensor(list(samples))  # ints -> int64, NumPy numbers keep their dtype
    if isinstance(first, dict):
        return {key: collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        fields = [collate(list(field)) for field in zip(*samples)]
        return tuple(fields) if isinstance(first, tuple) else fields
    if isinstance(first, str):
        return list(samples)
    raise TypeError(f"collate: don't know how to batch samples of type {type(first).__name__}")
