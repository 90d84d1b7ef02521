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


# --- the demo's conditional GAN: MLPs at batch 64, with a projection discriminator ------------

class LabelledGenerator(mnn.Module):
    """G(seed, label): [seed, one-hot] -> 256 LeakyReLU(0.2); [h, one-hot] -> 512 BatchNorm
    LeakyReLU(0.2) -> 784 Tanh. The label enters twice, so no layer can lose it."""

    def __init__(self, classes=10, width=256):
        super().__init__()
        self.first = mnn.Sequential(mnn.Linear(100 + classes, width), mnn.LeakyReLU(0.2))
        self.rest = mnn.Sequential(mnn.Linear(width + classes, 2 * width), mnn.BatchNorm1d(2 * width),
                                   mnn.LeakyReLU(0.2), mnn.Linear(2 * width, 784), mnn.Tanh())

    def forward(self, seed, label):
        hidden = self.first(mg.cat([seed, label], dim=1))
        return self.rest(mg.cat([hidden, label], dim=1))


class ProjectionDiscriminator(mnn.Module):
    """D(image, label) = sigmoid(w . h + <E label, h>), h = features(image): 784 -> 512 -> 256,
    LeakyReLU(0.2) (Miyato & Koyama's projection discriminator). The label's embedding E is
    compared with the image's features, so D scores whether the image shows *that* digit."""

    def __init__(self, classes=10, width=256):
        super().__init__()
        self.features = mnn.Sequential(mnn.Linear(784, 2 * width), mnn.LeakyReLU(0.2),
                                       mnn.Linear(2 * width, width), mnn.LeakyReLU(0.2))
        self.score = mnn.Linear(width, 1)
        self.embed = mnn.Linear(classes, width, bias=False)  # one-hot @ E^T: a row of E per digit

    def forward(self, image, label):
        h = self.features(image)
        return (self.score(h) + (self.embed(label) * h).sum(dim=1, keepdim=True)).sigmoid()


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



# --- image to image: pix2pix and CycleGAN on 64x64 faces -----------------------------------
# Scaled from the papers' 256x256 networks to the 64x64 faces of gans/data/pairs.py. All use
# InstanceNorm: the pix2pix code's `--norm instance`, which is what the paper's BatchNorm at
# batch size 1 (with test-time statistics) amounts to, and CycleGAN's own choice. It has no
# running statistics, so a network computes the same in training and in eval mode, except for
# dropout. Conv biases are kept (with InstanceNorm the papers' code keeps them too).


def normal_init_(model):
    """The pix2pix and CycleGAN initialisation: conv weights ~ N(0, 0.02), conv biases 0."""
    for module in model.modules():
        if type(module).__name__ in ("Conv2d", "ConvTranspose2d"):
            mnn.init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                mnn.init.zeros_(module.bias)
    return model


class UNetGenerator(mnn.Module):
    """pix2pix's U-Net: an encoder-decoder whose decoder also sees each encoder level's output.

    (N, in_channels, 64, 64) -> (N, out_channels, 64, 64) in [-1, 1]. With levels=6, ngf=32:

        encoder  k4 s2 convs, 64 -> 32 -> 16 -> 8 -> 4 -> 2 -> 1 pixels,
                 32, 64, 128, 256, 256, 256 channels (ngf * 1, 2, 4, 8, 8, 8); each conv is followed
                 by InstanceNorm (not the first, nor the 1x1 innermost) and LeakyReLU(0.2) (ReLU innermost)
        decoder  k4 s2 transposed convs back up, 1 -> 2 -> ... -> 64 pixels, each followed by
                 InstanceNorm, Dropout(0.5) in the first three (the paper's only noise: pix2pix has
                 no z), ReLU; then concatenated with the encoder output of the same size (the skip)
        last     a transposed conv to out_channels at 64x64, Tanh

    The paper's 256x256 U-Net has 8 levels and ngf=64 (54 M parameters); this one has 6 levels,
    down to one pixel as the paper's, with half the channels: 7,312,579 parameters for 1 -> 3
    channels (7,313,603 for 3 -> 3).
    """

    def __init__(self, in_channels=1, out_channels=3, ngf=32, levels=6, dropout=0.5):
        super().__init__()
        channels = [ngf * min(2 ** level, 8) for level in range(levels)]
        downs = []
        for level, width in enumerate(channels):
            innermost = level == levels - 1
            layers = [mnn.Conv2d(in_channels if level == 0 else channels[level - 1], width, 4, 2, 1)]
            if 0 < level and not innermost:
                layers.append(mnn.InstanceNorm2d(width))
            layers.append(mnn.ReLU() if innermost else mnn.LeakyReLU(0.2))
            downs.append(mnn.Sequential(*layers))
        ups = []
        for level in reversed(range(1, levels)):  # from the innermost level outwards
            incoming = channels[level] if level == levels - 1 else 2 * channels[level]  # 2x: the skip
            width = channels[level - 1]
            layers = [mnn.ConvTranspose2d(incoming, width, 4, 2, 1), mnn.InstanceNorm2d(width)]
            if len(ups) < 3:
                layers.append(mnn.Dropout(dropout))
            layers.append(mnn.ReLU())
            ups.append(mnn.Sequential(*layers))
        self.downs, self.ups = mnn.ModuleList(downs), mnn.ModuleList(ups)
        self.outermost = mnn.Sequential(mnn.ConvTranspose2d(2 * channels[0], out_channels, 4, 2, 1), mnn.Tanh())

    def forward(self, x):
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        skips.pop()  # the innermost output goes on up, it is no skip
        for up in self.ups:
            x = mg.cat([skips.pop(), up(x)], dim=1)
        return self.outermost(x)


def patch_discriminator(in_channels, ndf=64, strided=1):
    """pix2pix's PatchGAN: a conv net whose output is a grid of scores, one per input patch (logits:
    no Sigmoid, for BCE-with-logits or CycleGAN's least squares).

    (N, in_channels, 64, 64) -> (N, 1, 30, 30) with the default strided=1: three k4 convs,

        ndf channels, stride 2, LeakyReLU(0.2)                 64 -> 32 pixels
        2 ndf channels, stride 1, InstanceNorm, LeakyReLU(0.2)  32 -> 31
        1 channel, stride 1                                    31 -> 30

    Each score sees a 16x16 patch (receptive_field): the paper's 70x70 PatchGAN gives 30x30 scores
    for 256x256 images, each seeing 27 % of the width; here 30x30 scores each see 25 %. strided=2
    and 3 add stride-2 convs (34x34 patches on a 14x14 grid; 70x70 on 6x6, the paper's network).
    For pix2pix D sees the pair: in_channels = input channels + output channels.
    Parameters (ndf=64): 137,409 for 4 input channels, 136,385 for 3; 664,001 for strided=2,
    2,765,761 for strided=3.
    """
    nn = mnn
    layers = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
    width = ndf
    for level in range(1, strided + 1):
        wider = ndf * min(2 ** level, 8)
        stride = 2 if level < strided else 1
        layers += [nn.Conv2d(width, wider, 4, stride, 1), nn.InstanceNorm2d(wider), nn.LeakyReLU(0.2)]
        width = wider
    layers.append(nn.Conv2d(width, 1, 4, 1, 1))
    return nn.Sequential(*layers)


def receptive_field(model):
    """The side of the input patch that one output pixel of a chain of convs sees:
    r = 1, then from the last conv back to the first r = (r - 1) * stride + kernel."""
    convs = [m for m in model.modules() if type(m).__name__ == "Conv2d"]
    size = 1
    for conv in reversed(convs):
        size = (size - 1) * conv.stride[0] + conv.kernel_size[0]
    return size


class ResidualBlock(mnn.Module):
    """x + F(x), F = reflect-pad 1, conv 3x3, InstanceNorm, ReLU, reflect-pad 1, conv 3x3, InstanceNorm."""

    def __init__(self, channels):
        super().__init__()
        self.body = mnn.Sequential(
            mnn.ReflectionPad2d(1), mnn.Conv2d(channels, channels, 3), mnn.InstanceNorm2d(channels), mnn.ReLU(),
            mnn.ReflectionPad2d(1), mnn.Conv2d(channels, channels, 3), mnn.InstanceNorm2d(channels))

    def forward(self, x):
        return x + self.body(x)


def resnet_generator(in_channels=3, out_channels=3, ngf=32, blocks=6):
    """CycleGAN's generator: down twice, residual blocks, up twice (Johnson et al.'s network).

    (N, in_channels, 64, 64) -> (N, out_channels, 64, 64) in [-1, 1]:

        reflect-pad 3, conv 7x7 -> ngf                 64x64   (c7s1-32)
        conv 3x3 stride 2 -> 2 ngf; -> 4 ngf           32, 16  (d64, d128)
        `blocks` residual blocks of 4 ngf channels     16x16   (R128 x 6)
        transposed conv 3x3 stride 2 -> 2 ngf; -> ngf  32, 64  (u64, u32)
        reflect-pad 3, conv 7x7 -> out_channels, Tanh  64x64   (c7s1-3)

    each conv but the last followed by InstanceNorm and ReLU. The paper uses ngf=64 with 6 blocks
    for 128x128 images and 9 for 256x256; here the images are 64x64, so half the channels and
    6 blocks: 1,965,059 parameters for 3 -> 3 channels.
    """
    nn = mnn
    return nn.Sequential(
        nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU(),
        nn.Conv2d(ngf, 2 * ngf, 3, 2, 1), nn.InstanceNorm2d(2 * ngf), nn.ReLU(),
        nn.Conv2d(2 * ngf, 4 * ngf, 3, 2, 1), nn.InstanceNorm2d(4 * ngf), nn.ReLU(),
        *[ResidualBlock(4 * ngf) for _ in range(blocks)],
        nn.ConvTranspose2d(4 * ngf, 2 * ngf, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(2 * ngf), nn.ReLU(),
        nn.ConvTranspose2d(2 * ngf, ngf, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(ngf), nn.ReLU(),
        nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh())
