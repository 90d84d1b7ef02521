"""torch.utils.data.sampler's names (the classes live in minigrad.data)."""

from ...data import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                     WeightedRandomSampler)
