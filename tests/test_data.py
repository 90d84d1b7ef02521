"""minigrad.data: Dataset, TensorDataset, DataLoader (batching, shuffling, collate)."""

import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import DataLoader, Dataset, TensorDataset, collate


def labels_of(loader):
    """The label batches of one epoch, as lists."""
    return [batch[1].tolist() for batch in loader]


@pytest.fixture
def dataset(device):
    features = mg.arange(20, device=device).reshape(10, 2).double()
    labels = mg.arange(10, device=device)
    return TensorDataset(features, labels)


class Squares(Dataset):
    """A Dataset written as the book writes one: __len__ and __getitem__ returning (input, label)."""

    def __init__(self, n=7):
        self.inputs = np.arange(n * 4, dtype=np.float32).reshape(n, 2, 2)
        self.labels = [i * i for i in range(n)]

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.inputs[index], self.labels[index]


# --- TensorDataset --------------------------------------------------------------------

def test_tensor_dataset_rows(dataset, device):
    assert len(dataset) == 10
    features, label = dataset[3]
    assert features.tolist() == [6.0, 7.0] and features.dtype == np.float64 and features.device == device
    assert label.item() == 3 and label.dtype == np.int64
    assert not features.requires_grad


def test_tensor_dataset_needs_equal_lengths():
    with pytest.raises(ValueError, match=r"first dim.*\(10, 2\).*\(3,\)"):
        TensorDataset(mg.zeros(10, 2), mg.zeros(3))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_dataset_base_class_says_what_to_define():
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]


# --- batching ----------------------------------------------------------------------------

def test_batches_in_order(dataset, device):
    batches = list(DataLoader(dataset, batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert labels_of(batches) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[1][0].tolist() == [[8.0, 9.0], [10.0, 11.0], [12.0, 13.0], [14.0, 15.0]]
    assert batches[0][0].device == device and batches[0][0].dtype == np.float64


def test_drop_last(dataset):
    loader = DataLoader(dataset, batch_size=4, drop_last=True)
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(loader) == 2


@pytest.mark.parametrize("batch_size, drop_last, expected", [
    (4, False, 3), (4, True, 2), (5, False, 2), (5, True, 2), (1, False, 10), (10, True, 1), (11, True, 0),
    (11, False, 1),
])
def test_len(dataset, batch_size, drop_last, expected):
    loader = DataLoader(dataset, batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == expected == len(list(loader))


def test_batch_size_none_gives_single_samples(dataset):
    samples = list(DataLoader(dataset, batch_size=None))
    assert len(samples) == 10
    assert samples[2][0].shape == (2,) and samples[2][1].item() == 2


def test_batch_size_must_be_positive(dataset):
    with pytest.raises(ValueError, match="positive integer value, but got batch_size=0"):
        DataLoader(dataset, batch_size=0)


# --- shuffling -------------------------------------------------------------------------------

def test_shuffle_is_a_permutation(dataset):
    (labels,) = labels_of(DataLoader(dataset, batch_size=10, shuffle=True, seed=0))
    assert sorted(labels) == list(range(10)) and labels != list(range(10))


def test_shuffle_reproducible_under_seed(dataset):
    first = DataLoader(dataset, batch_size=3, shuffle=True, seed=5)
    second = DataLoader(dataset, batch_size=3, shuffle=True, seed=5)
    assert [labels_of(first) for _ in range(3)] == [labels_of(second) for _ in range(3)]
    other = DataLoader(dataset, batch_size=3, shuffle=True, seed=6)
    assert labels_of(other) != labels_of(DataLoader(dataset, batch_size=3, shuffle=True, seed=5))


def test_shuffle_with_a_numpy_generator(dataset):
    first = labels_of(DataLoader(dataset, batch_size=10, shuffle=True, generator=np.random.default_rng(1)))
    again = labels_of(DataLoader(dataset, batch_size=10, shuffle=True, generator=np.random.default_rng(1)))
    assert first == again


def test_shuffle_reproducible_under_manual_seed(dataset):
    loader = DataLoader(dataset, batch_size=3, shuffle=True)
    mg.manual_seed(11)
    first = [labels_of(loader) for _ in range(2)]
    mg.manual_seed(11)
    assert [labels_of(loader) for _ in range(2)] == first
    mg.manual_seed(12)
    assert [labels_of(loader) for _ in range(2)] != first


def test_shuffle_differs_across_epochs(dataset):
    loader = DataLoader(dataset, batch_size=10, shuffle=True, seed=0)
    epochs = [labels_of(loader)[0] for _ in range(3)]
    assert epochs[0] != epochs[1] != epochs[2]
    assert all(sorted(e) == list(range(10)) for e in epochs)


def test_no_shuffle_is_the_same_every_epoch(dataset):
    loader = DataLoader(dataset, batch_size=4)
    assert labels_of(loader) == labels_of(loader)


# --- collate -----------------------------------------------------------------------------------

def test_collate_tensors(device):
    batch = collate([mg.tensor([1.0, 2.0], device=device), mg.tensor([3.0, 4.0], device=device)])
    assert isinstance(batch, mg.Tensor) and batch.shape == (2, 2) and batch.device == device
    assert batch.tolist() == [[1.0, 2.0], [3.0, 4.0]] and batch.dtype == np.float32


def test_collate_arrays_keep_their_dtype():
    batch = collate([np.ones(3), np.zeros(3)])
    assert batch.shape == (2, 3) and batch.dtype == np.float64
    assert collate([np.ones(2, dtype=np.uint8)] * 4).dtype == np.uint8


def test_collate_numbers():
    floats = collate([1.5, 2.5])  # float64, as PyTorch's default_collate (torch.tensor(batch, dtype=torch.float64))
    assert floats.dtype == np.float64 and floats.tolist() == [1.5, 2.5]
    ints = collate([1, 2, 3])
    assert ints.dtype == np.int64 and ints.tolist() == [1, 2, 3]
    assert collate([True, False]).dtype == np.bool_
    assert collate([np.int64(4), np.int64(5)]).dtype == np.int64


def test_collate_tuples_lists_dicts():
    images, labels = collate([(np.ones(2), 1), (np.zeros(2), 0)])
    assert images.shape == (2, 2) and labels.tolist() == [1, 0] and labels.dtype == np.int64
    as_list = collate([[1.0, 7], [2.0, 8]])
    assert isinstance(as_list, list) and as_list[0].tolist() == [1.0, 2.0] and as_list[1].tolist() == [7, 8]
    batch = collate([{"x": mg.ones(2), "y": 0.5, "name": "a"}, {"x": mg.zeros(2), "y": 1.5, "name": "b"}])
    assert set(batch) == {"x", "y", "name"}
    assert batch["x"].shape == (2, 2) and batch["y"].dtype == np.float64 and batch["name"] == ["a", "b"]
    (nested,) = collate([({"k": 1},), ({"k": 2},)])
    assert nested["k"].tolist() == [1, 2]


def test_collate_unknown_type():
    with pytest.raises(TypeError, match="object"):
        collate([object(), object()])


def test_user_dataset_subclass_as_the_book_writes_it():
    loader = DataLoader(Squares(), batch_size=3)
    assert len(loader) == 3
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(3, 2, 2), (3, 2, 2), (1, 2, 2)]
    assert batches[0][0].dtype == np.float32
    assert [b[1].tolist() for b in batches] == [[0, 1, 4], [9, 16, 25], [36]]
    assert batches[1][1].dtype == np.int64
    np.testing.assert_array_equal(batches[2][0].numpy()[0], Squares().inputs[6])


def test_user_dataset_shuffled():
    labels = sum((b[1].tolist() for b in DataLoader(Squares(), batch_size=2, shuffle=True, seed=3)), [])
    assert sorted(labels) == [i * i for i in range(7)]


def test_tensor_dataset_subclass_with_its_own_getitem():
    """A subclass that changes what a sample is must be read through its __getitem__."""

    class Doubled(TensorDataset):
        def __getitem__(self, index):
            (x,) = super().__getitem__(index)
            return x * 2, index

    loader = DataLoader(Doubled(mg.arange(4.0)), batch_size=2)
    batches = list(loader)
    assert [b[0].tolist() for b in batches] == [[0.0, 2.0], [4.0, 6.0]]
    assert [b[1].tolist() for b in batches] == [[0, 1], [2, 3]]


def test_custom_collate_fn(dataset):
    loader = DataLoader(dataset, batch_size=4, collate_fn=lambda samples: len(samples))
    assert list(loader) == [4, 4, 2]


def test_subset_picks_samples_in_order_and_batches_through_the_dataset():
    data = mg.data.TensorDataset(mg.arange(10) * 10, mg.arange(10))
    subset = mg.data.Subset(data, [7, 2, 5])
    assert len(subset) == 3
    assert subset[0][0].item() == 70 and subset[2][1].item() == 5
    images, labels = subset.__getitems__([2, 0])
    assert images.tolist() == [50, 70] and labels.tolist() == [5, 7]
    batches = [b[1].tolist() for b in mg.data.DataLoader(subset, batch_size=2)]
    assert batches == [[7, 2], [5]]


# --- resuming mid-epoch: state_dict / load_state_dict --------------------------------------

def _as_lists(batches):
    return [b[0].numpy().tolist() for b in batches]


@pytest.mark.parametrize("shuffle", [True, False])
def test_state_dict_resumes_mid_epoch_exactly(shuffle):
    dataset = mg.data.TensorDataset(mg.arange(10))
    whole = mg.data.DataLoader(dataset, batch_size=3, shuffle=shuffle, drop_last=True, seed=4)
    expected = _as_lists([b for _ in range(3) for b in whole])   # three epochs of 3 batches

    first = mg.data.DataLoader(dataset, batch_size=3, shuffle=shuffle, drop_last=True, seed=4)
    batches = iter(first)
    seen = [next(batches), next(batches)]                          # stop after 2 of 3 batches
    state = first.state_dict()
    assert state["position"] == 2

    resumed = mg.data.DataLoader(dataset, batch_size=3, shuffle=shuffle, drop_last=True, seed=99)
    resumed.load_state_dict(state)
    seen += list(resumed) + list(resumed) + list(resumed)          # the rest, then two more epochs
    assert _as_lists(seen) == expected


def test_a_new_iteration_starts_a_fresh_epoch():
    loader = mg.data.DataLoader(mg.data.TensorDataset(mg.arange(6)), batch_size=2)
    next(iter(loader))                                             # leave an epoch unfinished
    assert _as_lists(loader) == [[0, 1], [2, 3], [4, 5]]
    assert loader.state_dict()["order"] is None                    # a finished epoch leaves nothing to resume


def test_load_state_dict_needs_a_generator_of_its_own():
    dataset = mg.data.TensorDataset(mg.arange(6))
    state = mg.data.DataLoader(dataset, batch_size=2, shuffle=True, seed=1).state_dict()
    with pytest.raises(ValueError, match="no generator of its own"):
        mg.data.DataLoader(dataset, batch_size=2, shuffle=True).load_state_dict(state)


# --- samplers, as torch.utils.data -------------------------------------------------------------

from minigrad.data import (BatchSampler, ConcatDataset, RandomSampler, Sampler, SequentialSampler,  # noqa: E402
                           SubsetRandomSampler, WeightedRandomSampler, random_split)


def test_sequential_and_batch_sampler_as_pytorch():
    torch = pytest.importorskip("torch")
    for n, size, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (2, 5, True)]:
        ours = BatchSampler(SequentialSampler(range(n)), size, drop)
        theirs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(n)), size, drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("make, message", [
    (lambda: BatchSampler(range(4), 0, False), "batch_size should be a positive integer value, but got batch_size=0"),
    (lambda: BatchSampler(range(4), True, False), "batch_size should be a positive integer value, but got batch_size=True"),
    (lambda: BatchSampler(range(4), 2, 1), "drop_last should be a boolean value, but got drop_last=1"),
    (lambda: RandomSampler([]), "num_samples should be a positive integer value, but got num_samples=0"),
    (lambda: WeightedRandomSampler([1.0], 0), "num_samples should be a positive integer value, but got num_samples=0"),
    (lambda: WeightedRandomSampler([[1.0]], 1), r"weights should be a 1d sequence but given weights have shape \(1, 1\)"),
])
def test_sampler_errors_as_pytorch(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_random_sampler_replacement_must_be_a_bool():
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        RandomSampler(range(3), replacement=1)


def test_random_sampler_without_replacement_gives_whole_permutations():
    indices = list(RandomSampler(range(4), num_samples=10, generator=np.random.default_rng(0)))
    assert len(indices) == 10
    assert sorted(indices[:4]) == sorted(indices[4:8]) == [0, 1, 2, 3] and len(set(indices[8:])) == 2
    assert sorted(RandomSampler(range(7), generator=np.random.default_rng(1))) == list(range(7))


def test_random_sampler_with_replacement_draws_lazily():
    sampler = RandomSampler(range(5), replacement=True, num_samples=int(1e10), generator=np.random.default_rng(2))
    assert len(sampler) == 10**10
    first = list(itertools.islice(iter(sampler), 100))               # does not build 1e10 indices
    assert len(first) == 100 and set(first) <= set(range(5)) and len(set(first)) == 5


def test_random_sampler_follows_manual_seed_at_iteration():
    sampler = RandomSampler(range(20))
    mg.manual_seed(3)
    first = list(sampler)
    mg.manual_seed(3)
    assert list(sampler) == first and sorted(first) == list(range(20))


def test_subset_random_sampler_and_weighted_sampler():
    assert sorted(SubsetRandomSampler([5, 7, 9], generator=np.random.default_rng(0))) == [5, 7, 9]
    weighted = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 400, generator=np.random.default_rng(0)))
    assert set(weighted) == {1, 3} and 0.65 < weighted.count(3) / 400 < 0.85
    once = list(WeightedRandomSampler(mg.tensor([1.0, 1.0, 1.0]), 3, replacement=False,
                                      generator=np.random.default_rng(0)))
    assert sorted(once) == [0, 1, 2]


def test_sampler_base_class_says_what_to_define():
    with pytest.raises(NotImplementedError, match="must define __iter__"):
        iter(Sampler())


# --- DataLoader with samplers ------------------------------------------------------------------

def test_loader_follows_a_sampler(dataset):
    loader = DataLoader(dataset, batch_size=3, sampler=[9, 0, 4, 4, 2])
    assert labels_of(loader) == [[9, 0, 4], [4, 2]] and len(loader) == 2
    assert isinstance(DataLoader(dataset, shuffle=True).sampler, RandomSampler)
    assert isinstance(DataLoader(dataset).sampler, SequentialSampler)
    assert isinstance(DataLoader(dataset, batch_size=2).batch_sampler, BatchSampler)


def test_loader_follows_a_batch_sampler(dataset):
    loader = DataLoader(dataset, batch_sampler=[[1, 2], [8], [0, 0, 5]])
    assert labels_of(loader) == [[1, 2], [8], [0, 0, 5]] and len(loader) == 3 and loader.batch_size is None


def test_loader_with_a_random_sampler_with_replacement(dataset):
    sampler = RandomSampler(dataset, replacement=True, num_samples=int(1e10), generator=np.random.default_rng(0))
    batches = DataLoader(dataset, batch_size=4, sampler=sampler)
    first = next(iter(batches))
    assert first[0].shape == (4, 2) and all(0 <= label < 10 for label in first[1].tolist())


def test_loader_single_samples_from_a_sampler(dataset):
    samples = list(DataLoader(dataset, batch_size=None, sampler=[3, 1]))
    assert [s[1].item() for s in samples] == [3, 1]


@pytest.mark.parametrize("kwargs, message", [
    ({"sampler": [0], "shuffle": True}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive with batch_size"),
    ({"batch_sampler": [[0]], "drop_last": True}, "batch_sampler option is mutually exclusive"),
    ({"batch_size": None, "drop_last": True}, "batch_size=None option disables auto-batching"),
    ({"num_workers": -1}, "num_workers option should be non-negative"),
])
def test_loader_argument_errors_as_pytorch(dataset, kwargs, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=message):
        DataLoader(dataset, **kwargs)
    with pytest.raises(ValueError, match=message):
        torch.utils.data.DataLoader(list(range(10)), **kwargs)


def test_shuffling_an_empty_dataset_is_an_error_as_pytorch():
    empty = TensorDataset(mg.zeros(0, 2))
    with pytest.raises(ValueError, match="num_samples=0"):
        DataLoader(empty, batch_size=2, shuffle=True)
    assert list(DataLoader(empty, batch_size=2)) == []              # in order, nothing to give


def test_loader_accepts_pytorch_worker_options(dataset):
    loader = DataLoader(dataset, batch_size=5, num_workers=2, persistent_workers=True, prefetch_factor=2,
                        pin_memory=True, timeout=0, worker_init_fn=print, pin_memory_device="", in_order=True)
    assert labels_of(loader) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert mg.utils.data.get_worker_info() is None


def test_a_pytorch_style_getitems_list_is_collated(dataset):
    class Pairs(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return float(i), i

        def __getitems__(self, indices):                                 # PyTorch's: a list of samples
            return [self[int(i)] for i in indices]

    values, labels = next(iter(DataLoader(Pairs(), batch_size=3)))
    assert values.tolist() == [0.0, 1.0, 2.0] and labels.tolist() == [0, 1, 2]


def test_state_dict_refuses_a_sampler_passed_in(dataset):
    with pytest.raises(ValueError, match="cannot say where it stands"):
        DataLoader(dataset, sampler=[0, 1]).state_dict()


# --- ConcatDataset, random_split ---------------------------------------------------------------

def test_concat_dataset_as_pytorch():
    torch = pytest.importorskip("torch")
    parts = [list(range(3)), [], list(range(10, 14))]
    ours, theirs = ConcatDataset(parts), torch.utils.data.ConcatDataset(parts)
    assert len(ours) == len(theirs) == 7 and ours.cumulative_sizes == theirs.cumulative_sizes
    assert [ours[i] for i in range(-7, 7)] == [theirs[i] for i in range(-7, 7)]
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        ours[-8]
    with pytest.raises(AssertionError, match="should not be an empty iterable"):
        ConcatDataset([])
    both = TensorDataset(mg.arange(2)) + TensorDataset(mg.arange(5, 8))
    assert isinstance(both, ConcatDataset) and [both[i][0].item() for i in range(5)] == [0, 1, 5, 6, 7]


def test_random_split_counts_and_fractions_as_pytorch():
    torch = pytest.importorskip("torch")
    data = list(range(10))
    for lengths in ([3, 7], [0.3, 0.7], [0.25, 0.25, 0.5], [1 / 3] * 3):
        ours = random_split(data, lengths, generator=np.random.default_rng(0))
        theirs = torch.utils.data.random_split(data, lengths)
        assert [len(s) for s in ours] == [len(s) for s in theirs]
        assert sorted(x for s in ours for x in (s[i] for i in range(len(s)))) == data
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(data, [3, 3])
    for split in (random_split, torch.utils.data.random_split):
        with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
            split(data, [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(list(range(2)), [0.9, 0.1])


def test_pytorch_submodule_paths():
    from minigrad.utils.data.dataloader import DataLoader as PathLoader
    from minigrad.utils.data.dataset import Subset as PathSubset
    from minigrad.utils.data.sampler import RandomSampler as PathSampler
    assert PathLoader is DataLoader and PathSubset is mg.data.Subset and PathSampler is RandomSampler
    assert mg.utils.data.default_collate is collate and mg.utils.data.WeightedRandomSampler is WeightedRandomSampler
