"""minigrad.optim: SGD and Adam, shaped like torch.optim, updating flat buffers in place."""

from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD
