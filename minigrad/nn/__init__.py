"""minigrad.nn: building blocks for networks, shaped like torch.nn.

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = nn.Sequential(nn.Linear(784, 200), nn.LeakyReLU(0.02),
                                       nn.LayerNorm(200), nn.Linear(200, 1), nn.Sigmoid())
        def forward(self, x):
            return self.model(x)
"""

from . import functional, init, utils
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .layers import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, ConstantPad2d, Conv2d, ConvTranspose2d,
                     Dropout, Dropout2d, Embedding, Flatten, Identity, InstanceNorm2d, LayerNorm, Linear, MaxPool2d,
                     PixelShuffle, PReLU, ReflectionPad2d, ReplicationPad2d, Unflatten, Upsample, View, ZeroPad2d)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module, ModuleList, Parameter, Sequential, set_training_mode
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .activation import (CELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, ReLU6,
                         SiLU, Softmax2d, Softmin, Softshrink, Softsign, Tanhshrink, Threshold)
from .layers import AdaptiveMaxPool2d, AvgPool1d, MaxPool1d
from .loss import (CosineEmbeddingLoss, CosineSimilarity, GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss,
                   MarginRankingLoss, PairwiseDistance, PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss)
from . import parallel
from .module import ModuleDict, ParameterDict, ParameterList
from .parallel import DataParallel, DistributedDataParallel
from .transformer import (MultiheadAttention, Transformer, TransformerDecoder, TransformerDecoderLayer,
                          TransformerEncoder, TransformerEncoderLayer)
