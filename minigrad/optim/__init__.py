"""minigrad.optim: SGD, Adam, AdamW, Adamax, RMSprop, Adagrad, Adadelta and LBFGS, shaped like torch.optim,
updating flat buffers in place; learning-rate schedules in minigrad.optim.lr_scheduler."""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
