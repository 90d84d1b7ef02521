"""Every GAN experiment as a small declaration: models, data, loss, optimisers, hyper-parameters.

The training loop lives in gans/training.py; an experiment only says what to train.
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import minigrad as mg

from . import models
from .registry import EXPERIMENTS, ExperimentError, register  # noqa: F401 (EXPERIMENTS re-exported)


@dataclass
class GANExperiment:
    name: str
    title: str
    generator: Callable                 # () -> Module
    discriminator: Callable             # () -> Module
    dataset: Callable                   # (RunOptions) -> Dataset with __getitems__ -> (images, labels)
    noise: Callable                     # (n, generator=None) -> Tensor of n seeds, on the CPU
    g_optimizer: Callable               # (params) -> Optimizer
    d_optimizer: Callable
    loss: str = "bce"                   # "bce" or "mse" (the book's first GANs)
    batch_size: int = 1
    epochs: float = 1
    d_update: str = "separate"          # "separate": a D step after real and after fake (book); "joint"
    g_fresh_noise: bool = True          # new noise for the G step (book) or reuse the fake batch
    shuffle: bool = True
    conditional: bool = False
    num_classes: int = 10
    image_shape: tuple = (28, 28)       # how to draw one sample; None: not an image
    pixel_range: tuple = (0.0, 1.0)     # the generator's output range
    grid_size: int = 64
    grid_columns: int = None
    sample_every: int = 0               # steps between sample grids (0: start and end only)
    log_every: int = 0                  # steps per history row (0: about 500 rows per run)
    checkpoint_every: int = 0
    alarm_every: int = 0                # steps between mode-collapse checks (MNIST only; 0: off)
    metrics: str = None                 # "mnist", "pattern", or None
    notes: str = ""
    kind: str = field(default="gan", init=False)

    def run(self, options):
        from .training import Trainer
        return Trainer(self, options).fit()

    # --- labels, for conditional experiments ----------------------------------------------

    def encode_labels(self, labels):
        """Class indices (n,) -> one-hot float32 (n, num_classes), the book's label encoding."""
        indices = np.asarray(labels.numpy() if isinstance(labels, mg.Tensor) else labels, dtype=np.int64)
        one_hot = np.zeros((len(indices), self.num_classes), dtype=np.float32)
        one_hot[np.arange(len(indices)), indices] = 1.0
        return mg.tensor(one_hot)

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
        from .metrics import CollapseAlarm
        return CollapseAlarm()

    def to_classifier_input(self, samples):
        from .metrics import to_classifier_input
        return to_classifier_input(samples, self.pixel_range)

    def summarize(self, trainer):
        """Experiment-specific numbers for summary.json (the pattern GAN reports G(0.5))."""
        if self.metrics != "pattern":
            return {}
        output = trainer.generate(trainer.fixed_noise).numpy().reshape(-1)
        recent = trainer.history["d_loss_real"][-10:] + trainer.history["d_loss_fake"][-10:]
        return {"G(0.5)": [round(float(v), 4) for v in output],
                "pattern_ok": bool(output[0] >= 0.8 and output[1] <= 0.2 and output[2] >= 0.8 and output[3] <= 0.2),
                "d_loss_recent_mean": round(float(np.mean(recent)), 4)}


def get_experiment(name):
    if name not in EXPERIMENTS:
        known = ", ".join(sorted(EXPERIMENTS))
        raise ExperimentError(f"unknown experiment {name!r}; known: {known} (see `python -m gans list`)")
    return EXPERIMENTS[name]


# --- data ---------------------------------------------------------------------------------

def mnist_data(scale="01", flatten=True):
    """MNIST training images, flat 784 or (1, 28, 28), in [0,1] ("01") or [-1,1] ("pm1")."""
    def make(options):
        from .data.mnist import MNIST, MnistNotFoundError
        try:
            dataset = MNIST(root=options.data_dir, train=True, scale=scale, flatten=flatten,
                            progress=options.progress)
        except MnistNotFoundError as error:
            raise ExperimentError(str(error)) from error
        limit = options.extra.get("train_limit")
        return Subset(dataset, limit) if limit else dataset
    return make


class Subset(mg.data.Dataset):
    """The first `limit` samples of a dataset (tests and quick runs)."""

    def __init__(self, dataset, limit):
        self.dataset, self.limit = dataset, min(limit, len(dataset))

    def __len__(self):
        return self.limit

    def __getitem__(self, index):
        return self.dataset[index]

    def __getitems__(self, indices):
        return self.dataset.__getitems__(indices)


class PatternData(mg.data.Dataset):
    """The book's 1010 pattern, fresh random values for every sample (label 0). One 'epoch' is
    `length` samples: the book trains for 10,000 iterations of batch size 1."""

    def __init__(self, length=10000):
        self.length = length

    def __len__(self):
        return self.length

    def __getitems__(self, indices):
        from .data.pattern import generate_real_batch
        return generate_real_batch(len(indices)), mg.zeros(len(indices), dtype=mg.int64)


def randn_noise(size):
    def noise(n, generator=None):
        if generator is not None:
            return mg.tensor(generator.standard_normal((n, *size)).astype(np.float32))
        return mg.randn(n, *size)
    return noise


def rand_noise(size):
    def noise(n, generator=None):
        if generator is not None:
            return mg.tensor(generator.random((n, *size)).astype(np.float32))
        return mg.rand(n, *size)
    return noise


def constant_noise(value, size):
    def noise(n, generator=None):
        return mg.full((n, *size), value)
    return noise


def adam(lr, betas=(0.9, 0.999)):
    return lambda params: mg.optim.Adam(params, lr=lr, betas=betas)


def sgd(lr):
    return lambda params: mg.optim.SGD(params, lr=lr)


# --- the experiments ----------------------------------------------------------------------

register(GANExperiment(
    name="pattern-1010",
    title="Book 06: the 1010 pattern GAN",
    generator=models.pattern_generator, discriminator=models.pattern_discriminator,
    dataset=lambda options: PatternData(options.extra.get("iterations", 10000)),
    noise=constant_noise(0.5, (1,)),
    g_optimizer=sgd(0.01), d_optimizer=sgd(0.01), loss="mse",
    batch_size=1, epochs=1, image_shape=None, grid_size=1, sample_every=1000, log_every=10,
    metrics="pattern",
    notes="G's input is the constant 0.5; D learns to tell the 1010 pattern from G's output.",
))

register(GANExperiment(
    name="mnist-first",
    title="Book 07: the first MNIST GAN (mode collapse)",
    generator=models.mnist_first_generator, discriminator=models.mnist_first_discriminator,
    dataset=mnist_data("01"), noise=rand_noise((1,)),
    g_optimizer=sgd(0.01), d_optimizer=sgd(0.01), loss="mse",
    batch_size=1, epochs=1, sample_every=10000, log_every=100, checkpoint_every=20000,
    alarm_every=10000, metrics="mnist",
    notes="Seed rand(1), sigmoids, MSE and SGD: the generator collapses to one or a few digits.",
))

register(GANExperiment(
    name="mnist-book",
    title="Book 08: the improved MNIST GAN",
    generator=models.mnist_generator, discriminator=models.mnist_discriminator,
    dataset=mnist_data("01"), noise=randn_noise((100,)),
    g_optimizer=adam(1e-4), d_optimizer=adam(1e-4), loss="bce",
    batch_size=1, epochs=4, sample_every=20000, log_every=100, checkpoint_every=20000,
    alarm_every=20000, metrics="mnist",
    notes="LeakyReLU(0.02), LayerNorm, BCE, Adam 1e-4, seed randn(100); batch size 1 as in the book.",
))

register(GANExperiment(
    name="mnist-mlp",
    title="The tutorial MNIST GAN (MLPs, batch 60)",
    generator=models.tutorial_generator, discriminator=models.tutorial_discriminator,
    dataset=mnist_data("pm1"), noise=randn_noise((100,)),
    g_optimizer=adam(2e-4, (0.5, 0.999)), d_optimizer=adam(2e-4, (0.5, 0.999)), loss="bce",
    batch_size=60, epochs=50, d_update="joint", g_fresh_noise=False, pixel_range=(-1.0, 1.0),
    sample_every=1000, checkpoint_every=5000, alarm_every=1000, metrics="mnist",
    notes="Images in [-1, 1], Tanh output; one joint D step per batch, the G step reuses the fake batch.",
))

register(GANExperiment(
    name="dcgan",
    title="The tutorial DCGAN on MNIST",
    generator=lambda: models.dcgan_init_(models.dcgan_generator()),
    discriminator=lambda: models.dcgan_init_(models.dcgan_discriminator()),
    dataset=mnist_data("pm1", flatten=False), noise=randn_noise((100, 1, 1)),
    g_optimizer=adam(2e-4, (0.5, 0.999)), d_optimizer=adam(2e-4, (0.5, 0.999)), loss="bce",
    batch_size=60, epochs=5, d_update="joint", g_fresh_noise=False, pixel_range=(-1.0, 1.0),
    sample_every=500, checkpoint_every=1000, alarm_every=500, metrics="mnist",
    notes="BatchNorm, bias-free convolutions, N(0, 0.02) initialisation; sampling uses eval mode.",
))

