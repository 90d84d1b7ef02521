"""The networks of every experiment, each a small builder (or, for the conditional GAN, a class).

The builders take the `nn` module to build with (minigrad.nn by default). Because
minigrad's nn is shaped like torch.nn, the benchmark (benchmarks/workloads.py) builds the
very same models with torch.nn, so both frameworks time identical networks.
"""

import minigrad as mg
import minigrad.nn as mnn


def with_labels(model, inputs, labels=None):
    """model(inputs, labels) for a conditional model, model(inputs) for any other.

    The one place that knows the difference, so that the training loop, sampling and the
    metrics call every generator and discriminator alike. (The unconditional models are plain
    nn.Sequential, shared with the torch.nn builds of the benchmark, so they cannot take a
    second argument themselves; wrapping them would rename their weights in every checkpoint.)
    """
    return model(inputs) if labels is None else model(inputs, labels)

# --- book 06: the 1010 pattern GAN --------------------------------------------------------


def pattern_discriminator(nn=mnn):
    """4 -> 3 -> 1, sigmoids (book 06)."""
    return nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 1), nn.Sigmoid())


def pattern_generator(nn=mnn):
    """1 -> 3 -> 4, sigmoids (book 06); its input is the constant 0.5."""
    return nn.Sequential(nn.Linear(1, 3), nn.Sigmoid(), nn.Linear(3, 4), nn.Sigmoid())


# --- book 07: the first MNIST GAN (it collapses) ------------------------------------------


def mnist_first_discriminator(nn=mnn):
    """784 -> 200 -> 1, sigmoids, trained with MSE and SGD (book 07)."""
    return nn.Sequential(nn.Linear(784, 200), nn.Sigmoid(), nn.Linear(200, 1), nn.Sigmoid())


def mnist_first_generator(nn=mnn):
    """1 -> 200 -> 784, sigmoids; its seed is one uniform random number (book 07)."""
    return nn.Sequential(nn.Linear(1, 200), nn.Sigmoid(), nn.Linear(200, 784), nn.Sigmoid())


# --- book 08: the fixed MNIST GAN ---------------------------------------------------------


def mnist_discriminator(nn=mnn):
    """784 -> 200 LeakyReLU(0.02) LayerNorm -> 1 Sigmoid (book 08)."""
    return nn.Sequential(nn.Linear(784, 200), nn.LeakyReLU(0.02), nn.LayerNorm(200),
                         nn.Linear(200, 1), nn.Sigmoid())


def mnist_generator(nn=mnn):
    """100 -> 200 LeakyReLU(0.02) LayerNorm -> 784 Sigmoid; seed randn(100) (book 08)."""
    return nn.Sequential(nn.Linear(100, 200), nn.LeakyReLU(0.02), nn.LayerNorm(200),
                         nn.Linear(200, 784), nn.Sigmoid())


# --- the classic tutorial MNIST GAN (MLPs, images in [-1, 1]) -----------------------------


def tutorial_generator(nn=mnn):
    """100 -> 256 -> 512 -> 1024 -> 784, LeakyReLU(0.2), Tanh."""
    return nn.Sequential(
        nn.Linear(100, 256), nn.LeakyReLU(0.2),
        nn.Linear(256, 512), nn.LeakyReLU(0.2),
        nn.Linear(512, 1024), nn.LeakyReLU(0.2),
        nn.Linear(1024, 784), nn.Tanh())


def tutorial_discriminator(nn=mnn):
    """784 -> 1024 -> 512 -> 256 -> 1, LeakyReLU(0.2), Dropout(0.5), Sigmoid."""
    return nn.Sequential(
        nn.Linear(784, 1024), nn.LeakyReLU(0.2), nn.Dropout(0.5),
        nn.Linear(1024, 512), nn.LeakyReLU(0.2), nn.Dropout(0.5),
        nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.5),
        nn.Linear(256, 1), nn.Sigmoid())


# --- the classic DCGAN on MNIST (BatchNorm, no biases) ------------------------------------


def dcgan_generator(nn=mnn):
    """z (N, 100, 1, 1) -> 7x7x224 -> 14x14x112 -> 28x28x1 in [-1, 1]."""
    return nn.Sequential(
        nn.ConvTranspose2d(100, 224, 7, bias=False), nn.BatchNorm2d(224), nn.ReLU(),
        nn.ConvTranspose2d(224, 112, 4, 2, 1, bias=False), nn.BatchNorm2d(112), nn.ReLU(),
        nn.ConvTranspose2d(112, 1, 4, 2, 1, bias=False), nn.Tanh())


def dcgan_discriminator(nn=mnn):
    """(N, 1, 28, 28) -> 14x14x112 -> 7x7x224 -> 1 probability."""
    return nn.Sequential(
        nn.Conv2d(1, 112, 4, 2, 1, bias=False), nn.BatchNorm2d(112), nn.LeakyReLU(0.2),
        nn.Conv2d(112, 224, 4, 2, 1, bias=False), nn.BatchNorm2d(224), nn.LeakyReLU(0.2),
        nn.Conv2d(224, 1, 7, bias=False), nn.Sigmoid())


def dcgan_init_(model):
    """The DCGAN paper's initialisation: conv weights ~ N(0, 0.02); BatchNorm weight ~ N(1, 0.02), bias 0."""
    for module in model.modules():
        name = type(module).__name__
        if name in ("Conv2d", "ConvTranspose2d"):
            mnn.init.normal_(module.weight, 0.0, 0.02)
        elif name.startswith("BatchNorm"):
            mnn.init.normal_(module.weight, 1.0, 0.02)
            mnn.init.zeros_(module.bias)
    return model


# --- book 16: the conditional MNIST GAN ---------------------------------------------------


class ConditionalDiscriminator(mnn.Module):
    """D(image, label) = sigmoid(MLP([image, one-hot label])): 794 -> 200 LeakyReLU(0.02) LayerNorm -> 1."""

    def __init__(self, classes=10):
        super().__init__()
        self.model = mnn.Sequential(mnn.Linear(784 + classes, 200), mnn.LeakyReLU(0.02), mnn.LayerNorm(200),
                                    mnn.Linear(200, 1), mnn.Sigmoid())

    def forward(self, image, label):
        return self.model(mg.cat([image, label], dim=1))


class ConditionalGenerator(mnn.Module):
    """G(seed, label) = MLP([seed, one-hot label]): 110 -> 200 LeakyReLU(0.02) LayerNorm -> 784 Sigmoid."""

    def __init__(self, classes=10):
        super().__init__()
        self.model = mnn.Sequential(mnn.Linear(100 + classes, 200), mnn.LeakyReLU(0.02), mnn.LayerNorm(200),
                                    mnn.Linear(200, 784), mnn.Sigmoid())

    def forward(self, seed, label):
        return self.model(mg.cat([seed, label], dim=1))


# --- book 12: the MLP face GAN on whole 218x178 CelebA images ------------------------------

FACE_PIXELS = 218 * 178 * 3  # 116,412


def face_mlp_discriminator(nn=mnn):
    """(N, 218, 178, 3) -> flatten 116,412 -> 100 LeakyReLU LayerNorm -> 1 Sigmoid (book 12; PyTorch's
    default LeakyReLU slope 0.01, as the book uses)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(FACE_PIXELS, 100), nn.LeakyReLU(0.01), nn.LayerNorm(100),
                         nn.Linear(100, 1), nn.Sigmoid())


def face_mlp_generator(nn=mnn):
    """100 -> 300 LeakyReLU LayerNorm -> 116,412 Sigmoid, as (N, 218, 178, 3) (book 12)."""
    return nn.Sequential(nn.Linear(100, 300), nn.LeakyReLU(0.01), nn.LayerNorm(300),
                         nn.Linear(300, FACE_PIXELS), nn.Sigmoid(), nn.Unflatten(1, (218, 178, 3)))


# --- books 14 and 15: the convolutional face GAN on 128x128 crops --------------------------


def face_conv_discriminator(nn=mnn, activation=None):
    """(N, 3, 128, 128) -> 61 -> 27 -> 10 (k8 s2 convs, 256 channels) -> 300 -> 1 (book 14).
    `activation` makes a fresh activation layer: LeakyReLU(0.2) by default, GELU for book 15."""
    act = activation or (lambda: nn.LeakyReLU(0.2))
    return nn.Sequential(
        nn.Conv2d(3, 256, 8, stride=2), nn.BatchNorm2d(256), act(),
        nn.Conv2d(256, 256, 8, stride=2), nn.BatchNorm2d(256), act(),
        nn.Conv2d(256, 3, 8, stride=2), act(),
        nn.Flatten(), nn.Linear(3 * 10 * 10, 1), nn.Sigmoid())


def face_conv_generator(nn=mnn, activation=None):
    """100 -> 363 = (3, 11, 11) -> 28 -> 62 -> 128 (k8 s2 transposed convs, 256 channels), Sigmoid (book 14)."""
    act = activation or (lambda: nn.LeakyReLU(0.2))
    return nn.Sequential(
        nn.Linear(100, 3 * 11 * 11), act(), nn.Unflatten(1, (3, 11, 11)),
        nn.ConvTranspose2d(3, 256, 8, stride=2), nn.BatchNorm2d(256), act(),
        nn.ConvTranspose2d(256, 256, 8, stride=2), nn.BatchNorm2d(256), act(),
        nn.ConvTranspose2d(256, 3, 8, stride=2, padding=1), nn.BatchNorm2d(3), nn.Sigmoid())

