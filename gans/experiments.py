"""The GAN experiment's declaration, and the classic GANs of the book and the tutorial declared with it.

A GANExperiment names its models, data, noise, optimisers and hyper-parameters; what its family
does differently (the training step, the batches it takes, the inputs of its sample grids, what
`sample` and `evaluate` report) is its objective's (gans/objectives.py). The one training loop
is gans/training.py. A new family is a declaration plus its objective, e.g. gans/wgan.py.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import minigrad as mg

from . import models
from .data.celeba import HEIGHT, WIDTH, CelebADataset, find_celeba_h5
from .data.mnist import MNIST
from .data.pattern import generate_real_batch, pattern_report
from .metrics import CollapseAlarm
from .objectives import ClassicGAN
from .registry import ExperimentError, RunOptions, register, text, whole_number
from .training import Trainer


@dataclass
class GANExperiment:
    name: str
    title: str
    dataset: Callable                   # (RunOptions) -> Dataset with __getitems__ -> a batch (images, labels)
    objective: object = field(default_factory=ClassicGAN)
                                        # what the family does (gans/objectives.py), or a function
                                        # (RunOptions) -> objective, for one that --set changes
    generator: Callable = None          # () -> Module (the objective's networks() builds it)
    discriminator: Callable = None      # () -> Module: D, or a WGAN's critic
    noise: Callable = None              # (n, generator=None) -> Tensor of n seeds, on the CPU
    g_optimizer: Callable = None        # (params) -> Optimizer
    d_optimizer: Callable = None
    batch_size: int = 1
    epochs: float = 1
    shuffle: bool = True
    num_classes: int = None             # a conditional GAN: G and D see one-hot labels of this many classes
    image_shape: tuple = (28, 28)       # how to draw one sample; None: not an image
    pixel_range: tuple = (0.0, 1.0)     # the generator's output range
    grid_size: int = 64
    grid_columns: int = None
    sample_every: int = 0               # steps between sample grids (0: start and end only)
    log_every: int = 0                  # steps per history row (0: about 500 rows per run)
    checkpoint_every: int = 0
    alarm_every: int = 0                # steps between mode-collapse checks (MNIST only; 0: off)
    frechet_every: int = 0              # steps between Fréchet distances (MNIST only; 0: off; --set frechet_every=N)
    frechet_samples: int = 2000         # samples per Fréchet distance during training (evaluate uses 10,000)
    metrics: str = None                 # "mnist": the MNIST metrics (alarms, Fréchet distance, evaluate); or None
    notes: str = ""
    settings: dict = field(default_factory=dict)  # what --set may change: {name: check} (gans/registry.py)
    kind: str = field(default="gan", init=False)

    def run(self, options):
        return Trainer(self, options).fit()

    def make_objective(self, options=None):
        """The objective the Trainer steps with: the declared one, or the one a function of the run's
        options (its --set values) makes."""
        if callable(self.objective) and not hasattr(self.objective, "step"):
            return self.objective(options if options is not None else RunOptions(out=None))
        return self.objective

    # --- labels, for conditional experiments ----------------------------------------------

    @property
    def conditional(self):
        return self.num_classes is not None

    def encode_labels(self, labels):
        """Class indices (n,) -> one-hot float32 (n, num_classes), the book's label encoding. (F.one_hot
        is looked up at each call: a captured step replays it on the labels it draws.)"""
        indices = labels if isinstance(labels, mg.Tensor) else mg.tensor(np.asarray(labels, dtype=np.int64))
        return mg.nn.functional.one_hot(indices.long(), self.num_classes).float()

    def grid_labels(self):
        """For a conditional grid: one row per class (grid_size / num_classes samples each)."""
        if not self.conditional:
            return None
        per_row = self.grid_size // self.num_classes
        return self.encode_labels(np.repeat(np.arange(self.num_classes), per_row))

    def grid_row_labels(self):
        return list(range(self.num_classes)) if self.conditional else None

    def alarm_labels(self, n):
        return self.encode_labels(np.arange(n) % self.num_classes) if self.conditional else None

    # --- metrics ------------------------------------------------------------------------

    def make_alarm(self):
        return CollapseAlarm(pixel_range=self.pixel_range)


class PatternGAN(ClassicGAN):
    """The book's 1010 pattern GAN: the classic step; its summary and `evaluate` report G(0.5)
    and whether it is the pattern (data/pattern.py's pattern_report)."""

    def summarize(self, trainer):
        output = trainer.generate(trainer.fixed_noise).numpy().reshape(-1)
        recent = trainer.history["d_loss_real"][-10:] + trainer.history["d_loss_fake"][-10:]
        recent_mean = round(float(np.mean(recent)), 4) if recent else None  # None: too short to log a row
        return {**pattern_report(output), "d_loss_recent_mean": recent_mean}

    def evaluate(self, run, n=None, data_dir=None, seed=0, progress=False):
        G = run.networks()["generator"]
        with mg.no_grad():
            return pattern_report(G(run.experiment.noise(1)).numpy().reshape(-1))  # its input is the constant 0.5


# --- data ---------------------------------------------------------------------------------

def mnist_data(scale="01", flatten=True):
    """MNIST training images, flat 784 or (1, 28, 28), in [0,1] ("01") or [-1,1] ("pm1")."""
    def make(options):
        dataset = MNIST(root=options.data_dir, train=True, scale=scale, flatten=flatten, progress=options.progress)
        limit = options.extra.get("train_limit")
        return mg.data.Subset(dataset, range(min(limit, len(dataset)))) if limit else dataset
    return make


class PatternData(mg.data.Dataset):
    """The book's 1010 pattern, fresh random values for every sample (label 0). One 'epoch' is
    `length` samples: the book trains for 10,000 iterations of batch size 1."""

    def __init__(self, length=10000):
        self.length = length

    def __len__(self):
        return self.length

    def __getitems__(self, indices):
        return generate_real_batch(len(indices)), mg.zeros(len(indices), dtype=mg.int64)


class ImagesWithoutLabels(mg.data.Dataset):
    """A dataset of images alone (CelebA), giving the (images, labels) pairs the Trainer reads."""

    def __init__(self, images):
        self.images = images

    def __len__(self):
        return len(self.images)

    def __getitems__(self, indices):
        return self.images.__getitems__(indices), mg.zeros(len(indices), dtype=mg.int64)


def celeba_data(crop=None, channels_first=False):
    """CelebA faces in [0, 1] from an HDF5 file: --set h5=FILE, else celeba/celeba.h5 (or the book's
    celeba_aligned_small.h5py) under --data-dir, $MINIGRAD_DATA or the cache; else one is built from
    a CelebA zip found in such a celeba/ folder (the build is cached)."""
    def make(options):
        path = options.extra.get("h5") or find_celeba_h5(options)
        dataset = CelebADataset(path, crop=crop, scale="01", channels_first=channels_first)
        if crop is None and tuple(dataset.crop_box[2:]) != (HEIGHT, WIDTH):  # whole faces, for an MLP
            height, width = dataset.crop_box[2:]
            dataset.close()
            raise ExperimentError(f"{path} holds images of {height}x{width} pixels; this experiment takes whole "
                                  f"{HEIGHT}x{WIDTH} faces (CelebA's aligned ones): build the file with "
                                  f"`python -m gans data celeba`")
        skipped = dataset.attrs.get("skipped") if dataset.layout == "stacked" else None
        if skipped is not None:  # files of the zip that were not usable images: say so in every run
            print(f"CelebA: {len(dataset)} faces from {path} ({skipped} files of {dataset.attrs.get('source')} "
                  f"were skipped when it was built)")
        limit = options.extra.get("train_limit")
        return ImagesWithoutLabels(mg.data.Subset(dataset, range(min(limit, len(dataset)))) if limit else dataset)
    return make


def randn_noise(size):
    """Seeds from the standard normal distribution, as torch.randn."""
    return _noise(size, "standard_normal", "randn")


def rand_noise(size):
    """Seeds uniform in [0, 1), as torch.rand."""
    return _noise(size, "random", "rand")


def _noise(size, numpy_method, factory):
    """noise(n, generator=None): n seeds of `size`, from a NumPy generator if one is given (fixed
    sample seeds), else from minigrad's seeded random numbers (mg.randn or mg.rand, looked up at
    each call, as a training step captured by mg.compile needs)."""
    def noise(n, generator=None):
        if generator is not None:
            return mg.tensor(getattr(generator, numpy_method)((n, *size)).astype(np.float32))
        return getattr(mg, factory)(n, *size)
    return noise


def constant_noise(value, size):
    def noise(n, generator=None):
        return mg.full((n, *size), value)
    return noise


def adam(lr, betas=(0.9, 0.999)):
    return lambda params: mg.optim.Adam(params, lr=lr, betas=betas)


def rmsprop(lr):
    return lambda params: mg.optim.RMSprop(params, lr=lr)


def sgd(lr):
    return lambda params: mg.optim.SGD(params, lr=lr)


# --- the experiments ----------------------------------------------------------------------

# train on the first N images only; measure the Fréchet distance every N steps
MNIST_SETTINGS = {"train_limit": whole_number, "frechet_every": whole_number}
CELEBA_SETTINGS = {"h5": text, "train_limit": whole_number}  # the HDF5 file; the first N faces

# The tutorial's step: one joint D step per batch; the G step reuses the fake batch.
TUTORIAL_STEP = ClassicGAN(loss="bce", d_update="joint", g_fresh_noise=False)

PATTERN_1010 = GANExperiment(
    name="pattern-1010",
    title="Book 06: the 1010 pattern GAN",
    generator=models.pattern_generator, discriminator=models.pattern_discriminator,
    dataset=lambda options: PatternData(options.extra.get("iterations", 10000)),
    noise=constant_noise(0.5, (1,)),
    g_optimizer=sgd(0.01), d_optimizer=sgd(0.01), objective=PatternGAN(loss="mse"),
    batch_size=1, epochs=1, image_shape=None, grid_size=1, sample_every=1000, log_every=10,
    settings={"iterations": whole_number},
    notes="G's input is the constant 0.5; D learns to tell the 1010 pattern from G's output.",
)

MNIST_FIRST = GANExperiment(
    name="mnist-first",
    title="Book 07: the first MNIST GAN (mode collapse)",
    generator=models.mnist_first_generator, discriminator=models.mnist_first_discriminator,
    dataset=mnist_data("01"), noise=rand_noise((1,)),
    g_optimizer=sgd(0.01), d_optimizer=sgd(0.01), objective=ClassicGAN(loss="mse"),
    batch_size=1, epochs=1, sample_every=10000, log_every=100, checkpoint_every=20000,
    alarm_every=10000, metrics="mnist",
    settings=MNIST_SETTINGS,
    notes="Seed rand(1), sigmoids, MSE and SGD: the generator collapses to one or a few digits.",
)

MNIST_BOOK = GANExperiment(
    name="mnist-book",
    title="Book 08: the improved MNIST GAN",
    generator=models.mnist_generator, discriminator=models.mnist_discriminator,
    dataset=mnist_data("01"), noise=randn_noise((100,)),
    g_optimizer=adam(1e-4), d_optimizer=adam(1e-4), objective=ClassicGAN(loss="bce"),
    batch_size=1, epochs=4, sample_every=20000, log_every=100, checkpoint_every=20000,
    alarm_every=20000, metrics="mnist",
    settings=MNIST_SETTINGS,
    notes="LeakyReLU(0.02), LayerNorm, BCE, Adam 1e-4, seed randn(100); batch size 1 as in the book.",
)

MNIST_MLP = GANExperiment(
    name="mnist-mlp",
    title="The tutorial MNIST GAN (MLPs, batch 60)",
    generator=models.tutorial_generator, discriminator=models.tutorial_discriminator,
    dataset=mnist_data("pm1"), noise=randn_noise((100,)),
    g_optimizer=adam(2e-4, (0.5, 0.999)), d_optimizer=adam(2e-4, (0.5, 0.999)), objective=TUTORIAL_STEP,
    batch_size=60, epochs=50, pixel_range=(-1.0, 1.0),
    sample_every=1000, checkpoint_every=5000, alarm_every=1000, metrics="mnist",
    settings=MNIST_SETTINGS,
    notes="Images in [-1, 1], Tanh output; one joint D step per batch, the G step reuses the fake batch.",
)

DCGAN = GANExperiment(
    name="dcgan",
    title="The tutorial DCGAN on MNIST",
    generator=lambda: models.dcgan_init_(models.dcgan_generator()),
    discriminator=lambda: models.dcgan_init_(models.dcgan_discriminator()),
    dataset=mnist_data("pm1", flatten=False), noise=randn_noise((100, 1, 1)),
    g_optimizer=adam(2e-4, (0.5, 0.999)), d_optimizer=adam(2e-4, (0.5, 0.999)), objective=TUTORIAL_STEP,
    batch_size=60, epochs=5, pixel_range=(-1.0, 1.0),
    sample_every=500, checkpoint_every=1000, alarm_every=500, metrics="mnist",
    settings=MNIST_SETTINGS,
    notes="BatchNorm, bias-free convolutions, N(0, 0.02) initialisation; sampling uses eval mode.",
)

MNIST_CONDITIONAL = GANExperiment(
    name="mnist-conditional",
    title="Book 16: the conditional MNIST GAN",
    generator=models.ConditionalGenerator, discriminator=models.ConditionalDiscriminator,
    dataset=mnist_data("01"), noise=randn_noise((100,)),
    g_optimizer=adam(1e-4), d_optimizer=adam(1e-4), objective=ClassicGAN(loss="bce"),
    batch_size=1, epochs=12, num_classes=10, grid_size=60, grid_columns=6,
    sample_every=60000, log_every=100, checkpoint_every=60000, alarm_every=60000, metrics="mnist",
    settings=MNIST_SETTINGS,
    notes="D sees [image, one-hot label]; the D-fake step and the G step each draw their own random label.",
)

MNIST_CGAN = GANExperiment(
    name="mnist-cgan",
    title="A conditional MNIST GAN that learns its labels in minutes (make demo)",
    generator=models.LabelledGenerator, discriminator=models.ProjectionDiscriminator,
    dataset=mnist_data("pm1"), noise=randn_noise((100,)),
    g_optimizer=adam(2e-4, (0.5, 0.999)), d_optimizer=adam(2e-4, (0.5, 0.999)),
    objective=ClassicGAN(loss="bce", d_update="joint", g_fresh_noise=True),
    batch_size=64, epochs=5, num_classes=10, pixel_range=(-1.0, 1.0),
    grid_size=100, grid_columns=10, sample_every=1000, checkpoint_every=1000, alarm_every=1000, metrics="mnist",
    settings=MNIST_SETTINGS,
    notes="Images in [-1, 1]; the label enters G twice and D by projection; batch 64, Adam 2e-4 (0.5, 0.999).",
)

CELEBA_MLP = GANExperiment(
    name="celeba-mlp",
    title="Book 12: the MLP face GAN (whole 218x178 images)",
    generator=models.face_mlp_generator, discriminator=models.face_mlp_discriminator,
    dataset=celeba_data(), noise=randn_noise((100,)),
    g_optimizer=adam(1e-4), d_optimizer=adam(1e-4), objective=ClassicGAN(loss="bce"),
    batch_size=1, epochs=1, image_shape=(218, 178, 3), grid_size=12, grid_columns=6,
    sample_every=2000, log_every=10, checkpoint_every=2000,
    settings=CELEBA_SETTINGS,
    notes="116,412 pixels in, fully connected; one face per step as the book.",
)

CELEBA_CONV = GANExperiment(
    name="celeba-conv",
    title="Book 14: the convolutional face GAN (128x128 crops)",
    generator=models.face_conv_generator, discriminator=models.face_conv_discriminator,
    dataset=celeba_data(crop=128, channels_first=True), noise=randn_noise((100,)),
    g_optimizer=adam(1e-4), d_optimizer=adam(1e-4), objective=ClassicGAN(loss="bce"),
    batch_size=1, epochs=1, image_shape=(3, 128, 128), grid_size=12, grid_columns=6,
    sample_every=1000, log_every=10, checkpoint_every=1000,
    settings=CELEBA_SETTINGS,
    notes="k8 s2 convolutions with BatchNorm and LeakyReLU(0.2); one face per step as the book.",
)

CELEBA_CONV_GELU = dataclasses.replace(
    CELEBA_CONV,
    name="celeba-conv-gelu",
    title="Book 15: the convolutional face GAN with GELU",
    generator=lambda: models.face_conv_generator(activation=mg.nn.GELU),
    discriminator=lambda: models.face_conv_discriminator(activation=mg.nn.GELU),
    notes="Book 14 with every LeakyReLU replaced by GELU.",
)

register(PATTERN_1010, MNIST_FIRST, MNIST_BOOK, MNIST_MLP, DCGAN, MNIST_CONDITIONAL, MNIST_CGAN,
         CELEBA_MLP, CELEBA_CONV, CELEBA_CONV_GELU)
