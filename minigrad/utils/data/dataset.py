"""torch.utils.data.dataset's names (the classes live in minigrad.data)."""

from ...data import ConcatDataset, Dataset, Subset, TensorDataset, random_split
