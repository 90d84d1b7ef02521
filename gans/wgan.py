"""The Wasserstein GANs on MNIST: WGAN (Arjovsky et al., 2017) and WGAN-GP (Gulrajani et al., 2017).

A classic GAN's D says "real or fake" and its loss saturates once it is sure. A WGAN's critic
C gives a score instead, and  E[C(real)] - E[C(fake)]  estimates the Wasserstein-1 distance
between the data and G's samples, provided C is 1-Lipschitz. The critic is trained to make that
estimate large (its loss is the negative), several steps for each G step, so that G always
learns from a nearly optimal critic; G makes the estimate small:  g_loss = -E[C(G(z))].

The two papers differ in how they keep C 1-Lipschitz:
  - WGAN clips every critic weight to [-c, c] after each critic step (c = 0.01), with RMSprop;
  - WGAN-GP adds  lambda * E[(|grad_x C(x_hat)|_2 - 1)^2]  at points x_hat between real and fake
    samples (lambda = 10), with Adam (1e-4, betas (0, 0.9)). The penalty is a gradient, and its
    own gradient is a second derivative: mg.autograd.grad(..., create_graph=True).

This file is the family's objectives, critics and declarations; the Trainer is gans/training.py.
"""

import minigrad as mg
import minigrad.nn as mnn

from . import models
from .experiments import MNIST_SETTINGS, GANExperiment, adam, mnist_data, randn_noise, rmsprop
from .objectives import Objective
from .registry import register


class WGAN(Objective):
    """Arjovsky et al., Algorithm 1: n_critic critic steps with weight clipping, then one G step.

    Columns: "wasserstein", the critic's estimate E[C(real)] - E[C(fake)] (mean over the step's
    critic steps), and "g_loss" = -E[C(G(z))].
    """

    columns = ("wasserstein", "g_loss")

    def __init__(self, n_critic=5, clip=0.01):
        self.batches_per_step = n_critic  # each critic step takes a real batch of its own
        self.clip = clip

    def networks(self, experiment):
        return {"generator": experiment.generator(), "critic": experiment.discriminator()}

    def optimizers(self, experiment, nets):
        return {"generator": experiment.g_optimizer(nets["generator"].parameters()),
                "critic": experiment.d_optimizer(nets["critic"].parameters())}

    def step(self, trainer):
        G, critic = trainer.nets["generator"], trainer.nets["critic"]
        opt_G, opt_critic = trainer.optimizers["generator"], trainer.optimizers["critic"]

        critic_stats = []
        for _ in range(self.batches_per_step):
            real, _ = trainer.next_batch()
            z, _ = trainer.draw_noise(real.shape[0])
            with mg.no_grad():  # the critic's steps leave G alone: no graph through it
                fake = G(z)
            opt_critic.zero_grad()
            critic_loss, stats = self.critic_loss(critic, real, fake)
            critic_loss.backward()
            opt_critic.step()
            self.after_critic_step(critic)
            critic_stats.append(stats)

        z, _ = trainer.draw_noise(trainer.batch_size)
        g_loss = -critic(G(z)).mean()
        opt_G.zero_grad()
        g_loss.backward()
        opt_G.step()
        means = [sum(column) / len(column) for column in zip(*critic_stats)]
        return (*means, g_loss.item())

    def critic_loss(self, critic, real, fake):
        """(E[C(fake)] - E[C(real)], (the Wasserstein estimate,))."""
        estimate = critic(real).mean() - critic(fake).mean()
        return -estimate, (estimate.item(),)

    def after_critic_step(self, critic):
        """Clip every weight to [-c, c]: a crude way to keep the critic Lipschitz (the paper's words)."""
        for p in critic.parameters():
            p.data.clamp_(-self.clip, self.clip)

    def watched_loss(self, stats):
        """None: a critic's loss has no floor at zero, and training the critic to optimality is the
        method, not an imbalance; the imbalance alarm watches the classic families."""
        return None


class WGANGP(WGAN):
    """Gulrajani et al., Algorithm 1: WGAN with a gradient penalty instead of clipping.

    Columns: "wasserstein", "penalty" (E[(|grad C(x_hat)| - 1)^2], before the factor lambda) and
    "g_loss"; the critic's loss is -wasserstein + lambda * penalty.
    """

    columns = ("wasserstein", "penalty", "g_loss")

    def __init__(self, n_critic=5, penalty_weight=10.0):
        super().__init__(n_critic=n_critic, clip=None)
        self.penalty_weight = penalty_weight

    def critic_loss(self, critic, real, fake):
        estimate = critic(real).mean() - critic(fake).mean()
        penalty = gradient_penalty(critic, real, fake)
        return -estimate + self.penalty_weight * penalty, (estimate.item(), penalty.item())

    def after_critic_step(self, critic):
        pass  # the penalty does the clipping's job


def gradient_penalty(critic, real, fake, eps=None):
    """E[(|grad_x C(x_hat)|_2 - 1)^2] at x_hat = eps * real + (1 - eps) * fake, eps ~ U[0, 1] per sample.

    real, fake  (N, ...) batches; fake detached from G
    eps         (N, 1, ...) mixing weights; default: drawn from the run's seeded generator
    create_graph=True records the gradient's own graph, so that backward() of the penalty reaches
    the critic's weights (a second derivative). As PyTorch code writes it.
    """
    n = real.shape[0]
    if eps is None:
        eps = mg.rand(n, *([1] * (real.ndim - 1))).to(real.device)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad, = mg.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.view(n, -1).norm(2, dim=1) - 1) ** 2).mean()


# --- the critics: the tutorial DCGAN's discriminator without its Sigmoid --------------------------

def dcgan_critic(nn=mnn):
    """(N, 1, 28, 28) -> 14x14x112 -> 7x7x224 -> one score (N, 1, 1, 1): models.dcgan_discriminator with
    BatchNorm and bias-free convolutions as there, but no Sigmoid (WGAN, as the paper's DCGAN critic)."""
    return nn.Sequential(
        nn.Conv2d(1, 112, 4, 2, 1, bias=False), nn.BatchNorm2d(112), nn.LeakyReLU(0.2),
        nn.Conv2d(112, 224, 4, 2, 1, bias=False), nn.BatchNorm2d(224), nn.LeakyReLU(0.2),
        nn.Conv2d(224, 1, 7, bias=False))


def dcgan_critic_without_norm(nn=mnn):
    """The same shapes with neither BatchNorm nor Sigmoid, and biases in their place (WGAN-GP).
    The penalty is a per-sample gradient: BatchNorm would make each score depend on the whole
    batch, so Gulrajani et al. leave it out of the critic (their MNIST critic has no normalisation)."""
    return nn.Sequential(
        nn.Conv2d(1, 112, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(112, 224, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(224, 1, 7))


def dcgan_generator():
    return models.dcgan_init_(models.dcgan_generator())


# --- the declarations -------------------------------------------------------------------------------

MNIST_WGAN = dict(
    generator=dcgan_generator, dataset=mnist_data("pm1", flatten=False), noise=randn_noise((100, 1, 1)),
    batch_size=60, epochs=5, pixel_range=(-1.0, 1.0), sample_every=100, checkpoint_every=200,
    alarm_every=100, frechet_every=50, metrics="mnist", settings=MNIST_SETTINGS)

WGAN_CLIPPED = GANExperiment(
    name="wgan",
    title="WGAN on MNIST (weight clipping)",
    discriminator=lambda: models.dcgan_init_(dcgan_critic()),
    g_optimizer=rmsprop(5e-5), d_optimizer=rmsprop(5e-5), objective=WGAN(n_critic=5, clip=0.01),
    notes="DCGAN G; the DCGAN D without Sigmoid as critic; RMSprop 5e-5, clip 0.01, 5 critic steps per G step.",
    **MNIST_WGAN,
)

WGAN_GP = GANExperiment(
    name="wgan-gp",
    title="WGAN-GP on MNIST (gradient penalty)",
    discriminator=dcgan_critic_without_norm,
    g_optimizer=adam(1e-4, (0.0, 0.9)), d_optimizer=adam(1e-4, (0.0, 0.9)),
    objective=WGANGP(n_critic=5, penalty_weight=10.0),
    notes="DCGAN G; critic without BatchNorm or Sigmoid; Adam 1e-4 (0, 0.9), lambda 10, 5 critic steps per G step.",
    **MNIST_WGAN,
)

register(WGAN_CLIPPED, WGAN_GP)
