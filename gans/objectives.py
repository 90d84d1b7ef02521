"""Training objectives: what one GAN family does, in training and after it.

The Trainer (gans/training.py) is the same for every family: it owns the data, the noise, the
history, sample grids, checkpoints, exact resume, the divergence and Ctrl-C guards and the
alarms. What differs from family to family is an Objective:

    class Objective:
        columns = ("d_loss", "g_loss")   # the statistics step() returns, in order (history.csv columns)
        batches_per_step = 1             # real batches one step takes (WGAN: its n_critic critic steps)
        ideal = None                     # (value, label): a reference line on the loss plot, or None
        plotted = None                   # the columns drawn on the loss plot (None: all of them)

        def networks(self, experiment)                 -> {name: Module}
        def optimizers(self, experiment, nets)         -> {name: Optimizer}
        def batch(self, experiment, batch, device)     -> what step() gets from trainer.next_batch()
        def grid_inputs(self, experiment, dataset)     -> (G's inputs, labels or None) for the sample grids
        def step(self, trainer)                        -> tuple of floats, one per column
        def watched_loss(self, stats)                  -> float or None
        def summarize(self, trainer)                   -> the family's own numbers for summary.json
        def sample(self, run, n, seed, data_dir)       -> the arrays of `python -m gans sample`
        def evaluate(self, run, n, data_dir, seed, progress) -> the metrics of `python -m gans evaluate`

Every method but `step` has a default here, right for a GAN that draws images from noise (and,
conditional, from labels); a family overrides what differs. Image to image (gans/image_to_image.py)
takes (input, target) batches and draws its grids from held-out inputs; BEGAN (gans/began.py)
reports a copy check; the WGANs (gans/wgan.py) differ in their step alone.

`networks` names every network the family trains; "generator" is the one the Trainer samples
grids from and that `python -m gans sample` / `evaluate` load. The checkpoint keeps every
network and every optimiser under its name. In `step`, take real batches with
`trainer.next_batch()` and noise with `trainer.draw_noise(n)`; networks and optimisers are
`trainer.nets[name]` and `trainer.optimizers[name]`.

`watched_loss(stats)` gets one history row, {column: value}, and returns the loss of the
discriminator (or critic) that the imbalance alarm watches: a loss that is 0 when D is always
right, so that "pinned near zero" means D has overpowered G. None: nothing to watch.

`sample` and `evaluate` get a TrainedRun (gans/evaluation.py): the run folder read back, with its
experiment, checkpoint and networks.

The classic GAN of the book and the tutorial is ClassicGAN; a family whose step differs (the
WGANs in gans/wgan.py) brings its own Objective in its own small file.
"""

import math
from contextlib import contextmanager

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import backend

from . import evaluation
from .models import with_labels
from .registry import ExperimentError


class Objective:
    """The default parts of an objective; a family overrides `step` and whatever else differs."""

    columns = ("d_loss", "g_loss")
    batches_per_step = 1
    ideal = None
    plotted = None

    # --- what it trains ---------------------------------------------------------------------

    def networks(self, experiment):
        """The experiment's generator and discriminator, freshly built."""
        return {"generator": experiment.generator(), "discriminator": experiment.discriminator()}

    def optimizers(self, experiment, nets):
        """One optimiser per network, made by the experiment's g_optimizer / d_optimizer."""
        return {"generator": experiment.g_optimizer(nets["generator"].parameters()),
                "discriminator": experiment.d_optimizer(nets["discriminator"].parameters())}

    # --- what it trains on ------------------------------------------------------------------

    def batch(self, experiment, batch, device):
        """One batch of the loader -> what `trainer.next_batch()` gives `step`: (images, labels) on
        the device, the labels one-hot for a conditional GAN, else None."""
        images, labels = batch
        labels = experiment.encode_labels(labels).to(device) if experiment.conditional else None
        return images.to(device), labels

    def grid_inputs(self, experiment, dataset):
        """(G's inputs, labels or None) that every sample grid is drawn from: the same seeds each time."""
        return experiment.noise(experiment.grid_size), experiment.grid_labels()

    # --- one step -----------------------------------------------------------------------------

    def step(self, trainer):
        raise NotImplementedError(f"{type(self).__name__} must define step(trainer)")

    def watched_loss(self, stats):
        return None

    # --- what a trained run makes ---------------------------------------------------------------

    def summarize(self, trainer):
        """The family's own numbers for summary.json, beside the Trainer's (none by default)."""
        return {}

    def sample(self, run, n, seed=0, data_dir=None):
        """The arrays of `python -m gans sample --out`: n samples of G from noise (digit i % 10 for
        sample i of a conditional GAN)."""
        return evaluation.noise_samples(run, n, seed=seed)

    def evaluate(self, run, n=None, data_dir=None, seed=0, progress=False):
        """The metrics of `python -m gans evaluate`: for an MNIST experiment, coverage, Fréchet
        distance (and conditional accuracy) of n samples (docs/metrics.md)."""
        if run.experiment.metrics != "mnist":
            raise ExperimentError(f"{run.experiment.name} has no metrics to evaluate (its samples are in "
                                  f"{run.folder}/samples)")
        return evaluation.measure_mnist(run, n=n, data_dir=data_dir, seed=seed, progress=progress)


@contextmanager
def frozen(*modules):
    """Within the block the modules' weights need no gradient: G's step goes through D, but must
    neither compute nor leave gradients for D's weights (the papers' code does the same)."""
    for module in modules:
        module.requires_grad_(False)
    try:
        yield
    finally:
        for module in modules:
            module.requires_grad_(True)


def finite(tensor):
    return bool(np.isfinite(backend.to_numpy(tensor.array)).all())


def _mean(tensor):
    """The tensor's mean as a Python float: what ndarray.mean gives (the sum / n, in its dtype),
    without its Python wrapper (read twice in every step)."""
    array = tensor.array
    return float(array.sum() / array.size)


LOSSES = {"bce": F.binary_cross_entropy, "mse": F.mse_loss}
IDEAL_LOSS = {"bce": (math.log(2), "ideal BCE: ln 2 ≈ 0.693"), "mse": (0.25, "ideal MSE: 0.25")}


class ClassicGAN(Objective):
    """The book's and the tutorial's GAN: D learns real -> 1, fake -> 0; G learns D(G(z)) -> 1.

    Each step does three things:

        1. D on a batch of real data, with target 1;
        2. D on G(z).detach(), with target 0  (detach: this step must not move G);
        3. G through D, with target 1  (the non-saturating generator loss).

    loss          "bce" or "mse" (the book's first GANs use MSE)
    d_update      "separate": one D optimiser step after (1) and another after (2), as the book's
                  D.train() does; "joint": both losses summed into one D step, as the tutorial does
    g_fresh_noise new noise for (3) (the book), or the fake batch of (2) again (the tutorial)
    """

    columns = ("d_loss_real", "d_loss_fake", "g_loss", "d_real", "d_fake")
    plotted = ("d_loss_real", "d_loss_fake", "g_loss")

    def __init__(self, loss="bce", d_update="separate", g_fresh_noise=True):
        self.loss, self.d_update, self.g_fresh_noise = loss, d_update, g_fresh_noise
        self.loss_function = LOSSES[loss]
        self.ideal = IDEAL_LOSS[loss]

    def step(self, trainer):
        """One D update (or two, book style) and one G update: captured by mg.compile where that helps
        (Trainer.captures: batch size 1, and networks without convolutions), else eagerly."""
        real, labels = trainer.next_batch()
        if not trainer.captures(real):
            stats = self.update(trainer, real, labels, checked=True)
            return self.diverged() if stats is None else self.statistics(stats)
        try:
            stats = trainer.compiled(self.update)(trainer, real, labels)
        except RuntimeError as error:  # a replayed step checks no values: BCE refuses D's NaN output itself
            if trainer.weights_are_finite() and "holds NaN" not in str(error):
                raise
            return self.diverged()
        return self.statistics(stats)

    def update(self, trainer, real, labels, checked=False):
        """The step's updates on one real batch: (loss_real, loss_fake, loss_g, D(real), D(fake)) as
        tensors; with `checked`, None as soon as D's output is not finite (a captured
        step reads no values: see step)."""
        G, D = trainer.nets["generator"], trainer.nets["discriminator"]
        opt_G, opt_D = trainer.optimizers["generator"], trainer.optimizers["discriminator"]
        loss_of = self.loss_function
        n = real.shape[0]

        # 1. D on real data, target 1.
        d_real = with_labels(D, real, labels)
        if checked and not finite(d_real):
            return None
        loss_real = loss_of(d_real, mg.ones_like(d_real))
        opt_D.zero_grad()
        loss_real.backward()
        if self.d_update == "separate":
            opt_D.step()

        # 2. D on generated data, detached so that this step leaves G alone; target 0.
        z, fake_labels = trainer.draw_noise(n)
        fake = with_labels(G, z, fake_labels)
        d_fake = with_labels(D, fake.detach(), fake_labels)
        if checked and not finite(d_fake):
            return None
        loss_fake = loss_of(d_fake, mg.zeros_like(d_fake))
        if self.d_update == "separate":
            opt_D.zero_grad()
        loss_fake.backward()
        opt_D.step()

        # 3. G through D, target 1: G improves when D takes its output for real.
        if self.g_fresh_noise:
            z, fake_labels = trainer.draw_noise(n)
            fake = with_labels(G, z, fake_labels)
        d_generated = with_labels(D, fake, fake_labels)
        if checked and not finite(d_generated):
            return None
        loss_g = loss_of(d_generated, mg.ones_like(d_generated))
        opt_G.zero_grad()
        loss_g.backward()
        opt_G.step()
        return loss_real.detach(), loss_fake.detach(), loss_g.detach(), d_real.detach(), d_fake.detach()

    @staticmethod
    def statistics(tensors):
        """The step's columns from update's tensors: the three losses, and D's mean output on real and fake."""
        loss_real, loss_fake, loss_g, d_real, d_fake = tensors
        return (loss_real.item(), loss_fake.item(), loss_g.item(), _mean(d_real), _mean(d_fake))

    def diverged(self):
        """The statistics of a step whose D gave NaN or infinity: BCE refuses such input (as PyTorch's
        does), so the step stops there and reports NaN losses, and the Trainer's guard stops the run."""
        return (math.nan,) * len(self.columns)

    def watched_loss(self, stats):
        """D's whole loss, real + fake: 2 ln 2 = 1.386 (BCE) at the equilibrium, 0 when D is always right."""
        return stats["d_loss_real"] + stats["d_loss_fake"]
