"""torch.utils.data.dataloader's names (the classes live in minigrad.data)."""

from ...data import DataLoader, collate, get_worker_info

default_collate = collate
