"""minigrad.nn: building blocks for networks, shaped like torch.nn.

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = nn.Sequential(nn.Linear(784, 200), nn.LeakyReLU(0.02),
                                       nn.LayerNorm(200), nn.Linear(200, 1), nn.Sigmoid())
        def forward(self, x):
            return self.model(x)
"""

from . import functional, init
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .layers import (AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Dropout, Embedding, Flatten,
                     LayerNorm, Linear, MaxPool2d, Unflatten, View)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, ModuleList, Parameter, Sequential, set_training_mode
