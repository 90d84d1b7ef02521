"""The three benchmark workloads, written once for both frameworks.

minigrad's API is shaped like PyTorch's, so each model (from gans/models.py) and each
training step below is built from whichever framework is passed in (`fw`: minigrad or
torch): the same code runs on both, and both do exactly the same work.

    mlp_gan      the tutorial MNIST GAN (MLPs, batch 60)
    dcgan        the tutorial DCGAN (BatchNorm, bias-free convs, batch 60)
    book_batch1  the book's MNIST GAN, one sample per step, as the book runs it
    wgan_gp      a WGAN-GP critic step: the DCGAN critic without its norms, its gradient penalty
                 differentiated through the first backward pass (create_graph), batch 60
"""

import contextlib
import time
from collections import defaultdict

import numpy as np

from gans import models

PARTS = ("forward", "backward", "optimiser")
_UNTIMED = contextlib.nullcontext()


def mlp_gan(fw, device="cpu"):
    G, D = models.tutorial_generator(fw.nn), models.tutorial_discriminator(fw.nn)
    return Workload(fw, G, D, noise_shape=(60, 100), data_shape=(60, 784), lr=2e-4, betas=(0.5, 0.999), device=device)


def dcgan(fw, device="cpu"):
    G, D = models.dcgan_generator(fw.nn), models.dcgan_discriminator(fw.nn)
    return Workload(fw, G, D, noise_shape=(60, 100, 1, 1), data_shape=(60, 1, 28, 28), lr=2e-4, betas=(0.5, 0.999),
                    device=device)


def book_batch1(fw, device="cpu"):
    G, D = models.mnist_generator(fw.nn), models.mnist_discriminator(fw.nn)
    return BookWorkload(fw, G, D, noise_shape=(100,), data_shape=(784,), lr=1e-4, betas=(0.9, 0.999),
                        device=device)


def wgan_gp(fw, device="cpu"):
    D = models.dcgan_discriminator(fw.nn)  # a critic: no BatchNorm (the penalty is per sample), no Sigmoid
    critic = fw.nn.Sequential(*[layer for layer in D if type(layer).__name__ in ("Conv2d", "LeakyReLU")])
    return CriticWorkload(fw, models.dcgan_generator(fw.nn), critic, noise_shape=(60, 100, 1, 1),
                          data_shape=(60, 1, 28, 28), lr=1e-4, betas=(0.5, 0.9), device=device)


WORKLOADS = {"mlp_gan": mlp_gan, "dcgan": dcgan, "book_batch1": book_batch1, "wgan_gp": wgan_gp}


class Workload:
    """The tutorial's iteration: D on real (target 1), D on detached fake (target 0),
    one D step; then G through D (target 1), one G step. Adam for both, BCE."""

    def __init__(self, fw, G, D, noise_shape, data_shape, lr, betas, device="cpu"):
        self.fw, self.G, self.D, self.device = fw, G.to(device), D.to(device), device
        self.opt_G = fw.optim.Adam(G.parameters(), lr=lr, betas=betas)
        self.opt_D = fw.optim.Adam(D.parameters(), lr=lr, betas=betas)
        self.criterion = fw.nn.BCELoss()
        rng = np.random.default_rng(0)
        # Inputs are made once: the benchmark times the networks, not the random number generator.
        self.real = self.tensor(rng.uniform(-1, 1, data_shape))
        self.noise = self.tensor(rng.standard_normal(noise_shape))
        batch = data_shape[0] if len(data_shape) > 1 else 1
        self.ones, self.zeros = self.tensor(np.ones(batch)), self.tensor(np.zeros(batch))
        self.part = lambda name: _UNTIMED  # PartTimer replaces it to time the parts of a step

    def tensor(self, array):
        return self.fw.tensor(np.asarray(array, dtype=np.float32), device=self.device)

    def step(self):
        G, D, criterion, part = self.G, self.D, self.criterion, self.part
        with part("optimiser"):
            self.opt_D.zero_grad()
        with part("forward"):
            loss = criterion(D(self.real).view(-1), self.ones)
        with part("backward"):
            loss.backward()
        with part("forward"):
            fake = G(self.noise)
            loss = criterion(D(fake.detach()).view(-1), self.zeros)
        with part("backward"):
            loss.backward()
        with part("optimiser"):
            self.opt_D.step()
            self.opt_G.zero_grad()
        with part("forward"):
            loss = criterion(D(fake).view(-1), self.ones)
        with part("backward"):
            loss.backward()
        with part("optimiser"):
            self.opt_G.step()
        return loss

    generator_forwards = 1  # the fake batch is made once and reused for the G step

    def matmul_flops(self):
        """Multiply-add FLOPs (x2) of every Linear/Conv in one iteration: forward passes,
        weight gradients, and input gradients wherever the layer's input needs one."""
        g = layer_flops(self.fw, self.G, self.noise)
        d = layer_flops(self.fw, self.D, self.G(self.noise).detach())
        generator = sum(g) * (self.generator_forwards + 1) + (sum(g) - g[0])  # forwards, weight grads, input grads
        discriminator = (sum(d) * 3 * 2                  # 3 forwards and 3 weight-gradient passes
                         + (sum(d) - d[0]) * 2           # on real and detached fake, layer 1 needs no input grad
                         + sum(d))                       # the G step needs every input grad
        return generator + discriminator


class BookWorkload(Workload):
    """The book's loop, one sample at a time: D.train(real, 1); D.train(G(z).detach(), 0);
    G.train(D, z, 1) - three optimiser steps, each after its own backward."""

    generator_forwards = 2  # G(z) runs again for the G step

    def step(self):
        G, D, criterion, part = self.G, self.D, self.criterion, self.part
        for on_real in (True, False):
            with part("forward"):
                inputs, target = (self.real, self.ones) if on_real else (G(self.noise).detach(), self.zeros)
                loss = criterion(D(inputs), target)
            self.train(self.opt_D, loss)
        with part("forward"):
            loss = criterion(D(G(self.noise)), self.ones)
        self.train(self.opt_G, loss)
        return loss

    def train(self, optimizer, loss):
        with self.part("optimiser"):
            optimizer.zero_grad()
        with self.part("backward"):
            loss.backward()
        with self.part("optimiser"):
            optimizer.step()

class CriticWorkload(Workload):
    """One WGAN-GP critic step (Gulrajani et al. 2017, Algorithm 1, lambda = 10): the critic's
    estimate on real and on fake, plus the penalty (|dC/dx_hat| - 1)^2 at points x_hat between them;
    the penalty's gradient runs through the first backward pass (create_graph=True). The fake batch
    and the mixing weights are made once: the step times the critic."""

    def __init__(self, fw, G, D, noise_shape, data_shape, lr, betas, device="cpu"):
        super().__init__(fw, G, D, noise_shape, data_shape, lr, betas, device)
        with fw.no_grad():
            self.fake = G(self.noise)
        self.mix = self.tensor(np.random.default_rng(1).uniform(size=(data_shape[0],) + (1,) * (len(data_shape) - 1)))

    def step(self):
        fw, D, part = self.fw, self.D, self.part
        with part("optimiser"):
            self.opt_D.zero_grad()
        with part("forward"):
            x_hat = (self.mix * self.real + (1 - self.mix) * self.fake).requires_grad_(True)
            estimate = D(self.fake).mean() - D(self.real).mean()
            scores = D(x_hat).sum()
        with part("backward"):
            slopes, = fw.autograd.grad(scores, x_hat, create_graph=True)
            penalty = ((slopes.reshape(len(slopes), -1).norm(2, dim=1) - 1) ** 2).mean()
            (estimate + 10 * penalty).backward()
        with part("optimiser"):
            self.opt_D.step()
        return penalty

    def matmul_flops(self):
        """Three critic forwards; the two weight-gradient passes of the estimate; the penalty's first
        backward (input gradients) and its double backward (about two passes: weight and input
        gradients of the recorded backward, and of the forward again through it)."""
        d = layer_flops(self.fw, self.D, self.real)
        return sum(d) * 3 + sum(d) * 2 + (sum(d) - d[0]) + sum(d) * 2 + (sum(d) - d[0]) * 2


class PartTimer:
    """Adds up, per part of a step (forward, backward, optimiser), the time spent in it.

        timer = PartTimer(workload, sync)   # sync waits for the device (a no-op on the CPU)
        workload.step(); ...
        timer.ms_per_step(steps)            # {"forward": ms, "backward": ms, "optimiser": ms}
    """

    def __init__(self, workload, sync=lambda: None):
        self.sync, self.totals = sync, defaultdict(float)
        workload.part = self.part

    @contextlib.contextmanager
    def part(self, name):
        self.sync()
        start = time.perf_counter()
        yield
        self.sync()
        self.totals[name] += time.perf_counter() - start

    def ms_per_step(self, steps):
        return {name: self.totals[name] / steps * 1e3 for name in PARTS}


def layer_flops(fw, model, x):
    """FLOPs of each Linear/Conv/ConvTranspose forward in a Sequential, for input x."""
    flops = []
    with fw.no_grad():
        for layer in model:
            name = type(layer).__name__
            out = layer(x)
            if name == "Linear":
                flops.append(2 * out.numel() * layer.in_features)
            elif name == "Conv2d":
                kh, kw = layer.kernel_size
                flops.append(2 * out.numel() * layer.in_channels * kh * kw)
            elif name == "ConvTranspose2d":
                kh, kw = layer.kernel_size
                flops.append(2 * x.numel() * layer.out_channels * kh * kw)
            x = out
    return flops
