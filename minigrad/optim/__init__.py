"""minigrad.optim: SGD, Adam and RMSprop, shaped like torch.optim, updating flat buffers in place;
learning-rate schedules in minigrad.optim.lr_scheduler."""

from . import lr_scheduler
from .adam import Adam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
