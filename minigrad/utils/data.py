"""mg.utils.data, as torch.utils.data: the same classes as minigrad.data, under PyTorch's path.

    from minigrad.utils.data import DataLoader, Dataset
"""

from ..data import DataLoader, Dataset, Subset, TensorDataset, collate

default_collate = collate

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate"]
