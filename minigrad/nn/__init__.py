"""minigrad.nn: building blocks for networks, shaped like torch.nn."""

from . import functional
