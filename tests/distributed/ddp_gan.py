"""Under mpiexec: DDP training of two GANs equals one process, in float64, over several Adam steps.

- The MNIST MLP GAN (gans.models.mnist_generator/discriminator, LayerNorm): each of the W ranks
  trains on its part of every global batch; one process trains the same models on the whole
  global batch. The parameters agree to 1e-6 (relative) after every step.
- The DCGAN (gans.models.dcgan_*, BatchNorm): under DDP BatchNorm normalises with each rank's own
  batch (as in PyTorch, without SyncBatchNorm), so the one-process reference computes each rank's
  part of the loss with BatchNorm over that part, and averages: the same global batch, the same
  gradients.

Rank 0 runs the reference beside its DDP rank; a mismatch raises on rank 0, which aborts the job."""

import copy
import sys

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from gans import models
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel as DDP

STEPS, PER_RANK, TOLERANCE = 4, 3, 1e-6

dist.init_process_group(backend="mpi")
rank, world = dist.get_rank(), dist.get_world_size()
bce = nn.BCELoss()


def build(make_g, make_d, noise_shape, image_shape, seed):
    mg.manual_seed(seed + rank)  # different weights on each rank: DDP must take rank 0's
    G, D = make_g().double(), make_d().double()
    return G, D


def judge(D, images):
    return D(images).reshape(-1, 1)


def gan_step(G, D, opt_G, opt_D, real_parts, noise_parts):
    """One D step then one G step; the loss of each is the mean over the parts of each part's loss
    (one part per rank under DDP: the ranks' gradients are averaged)."""
    parts = len(real_parts)
    opt_D.zero_grad()
    loss_D = sum(bce(judge(D, real), mg.ones(len(real), 1, dtype=mg.float64)) +
                 bce(judge(D, G(noise).detach()), mg.zeros(len(real), 1, dtype=mg.float64))
                 for real, noise in zip(real_parts, noise_parts)) / parts
    loss_D.backward()
    opt_D.step()
    opt_G.zero_grad()
    loss_G = sum(bce(judge(D, G(noise)), mg.ones(len(noise), 1, dtype=mg.float64)) for noise in noise_parts) / parts
    loss_G.backward()
    opt_G.step()
    return loss_D.item(), loss_G.item()


def check(name, make_g, make_d, noise_shape, image_shape, reference_parts):
    """reference_parts: how many parts the one-process reference splits the global batch into
    (1: the whole batch at once; world: each rank's part on its own, for BatchNorm)."""
    G, D = build(make_g, make_d, noise_shape, image_shape, seed=7)
    ddp_G, ddp_D = DDP(G), DDP(D)
    if rank == 0:
        ref_G, ref_D = copy.deepcopy(G), copy.deepcopy(D)  # rank 0's weights, which DDP gave every rank
        ref_opt_G = mg.optim.Adam(ref_G.parameters(), lr=2e-3, betas=(0.5, 0.999))
        ref_opt_D = mg.optim.Adam(ref_D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_G = mg.optim.Adam(ddp_G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_D = mg.optim.Adam(ddp_D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    worst = 0.0
    for step in range(STEPS):
        data = np.random.default_rng(1000 + step)  # the global batch, the same on every rank
        real = mg.tensor(data.uniform(0, 1, (world * PER_RANK,) + image_shape))
        noise = mg.tensor(data.standard_normal((world * PER_RANK,) + noise_shape))
        mine = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
        losses = gan_step(ddp_G, ddp_D, opt_G, opt_D, [real[mine]], [noise[mine]])
        if rank == 0:
            chunks = [slice(i * len(real) // reference_parts, (i + 1) * len(real) // reference_parts)
                      for i in range(reference_parts)]
            gan_step(ref_G, ref_D, ref_opt_G, ref_opt_D, [real[c] for c in chunks], [noise[c] for c in chunks])
            for ours, theirs in [(G, ref_G), (D, ref_D)]:
                for (key, p), q in zip(ours.named_parameters(), theirs.parameters()):
                    error = np.abs(p.numpy() - q.numpy()).max() / max(np.abs(q.numpy()).max(), 1e-12)
                    worst = max(worst, error)
                    assert error < TOLERANCE, f"{name} step {step}: {key} differs by {error:.3g} (relative)"
    # every rank holds the same parameters
    for p in list(G.parameters()) + list(D.parameters()):
        copies = [mg.zeros_like(p) for _ in range(world)]
        dist.all_gather(copies, p.detach())
        for c in copies[1:]:
            np.testing.assert_array_equal(c.numpy(), copies[0].numpy())
    if rank == 0:
        print(f"OK {name}: {STEPS} Adam steps on {world} ranks x {PER_RANK} equal one process "
              f"(largest relative difference {worst:.2g}); losses {losses[0]:.4f} {losses[1]:.4f}")
        sys.stdout.flush()


check("mlp-gan", models.mnist_generator, models.mnist_discriminator, (100,), (784,), reference_parts=1)
check("dcgan", lambda: models.dcgan_init_(models.dcgan_generator()),
      lambda: models.dcgan_init_(models.dcgan_discriminator()), (100, 1, 1), (1, 28, 28), reference_parts=world)

# no_sync: two micro-batches accumulated (the first without averaging), then one step's gradients,
# equal to one process's on the global batch (each rank's two micro-batches)
mg.manual_seed(11 + rank)
D = models.mnist_discriminator().double()
ddp = DDP(D)
reference = copy.deepcopy(D)
data = np.random.default_rng(5)
x = mg.tensor(data.uniform(0, 1, (world * 2 * PER_RANK, 784)))
mine = [x[(2 * rank + k) * PER_RANK:(2 * rank + k + 1) * PER_RANK] for k in range(2)]
with ddp.no_sync():
    (ddp(mine[0]).mean() / 2).backward()
unaveraged = D[0].weight.grad.numpy().copy()
(ddp(mine[1]).mean() / 2).backward()
reference(x).mean().backward()
for (key, p), q in zip(D.named_parameters(), reference.parameters()):
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=key)
assert np.abs(unaveraged - D[0].weight.grad.numpy()).max() > 1e-6
if rank == 0:
    print("OK no_sync accumulation equals one process")

# WGAN-GP's critic loss: the gradient penalty differentiates D's input gradient (create_graph), and
# backward of that goes through DDP's averaging; equal to one process on the global batch
mg.manual_seed(13 + rank)
critic = nn.Sequential(nn.Linear(784, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1)).double()
ddp = DDP(critic)
reference = copy.deepcopy(critic)


def critic_loss(D, real, fake, mix):
    between = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (slope,) = mg.autograd.grad(D(between).sum(), between, create_graph=True)
    penalty = ((slope.pow(2).sum(dim=1) + 1e-12).sqrt() - 1).pow(2).mean()
    return D(fake).mean() - D(real).mean() + 10 * penalty


data = np.random.default_rng(9)
real, fake = (mg.tensor(data.uniform(0, 1, (world * PER_RANK, 784))) for _ in range(2))
mix = mg.tensor(data.uniform(0, 1, (world * PER_RANK, 1)))
mine = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
critic_loss(ddp, real[mine], fake[mine], mix[mine]).backward()
critic_loss(reference, real, fake, mix).backward()
for (key, p), q in zip(critic.named_parameters(), reference.parameters()):
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=key)
if rank == 0:
    print("OK gradient penalty through DDP equals one process")

# state_dict: the "module." prefix, as PyTorch's DDP; ddp.module's keys load into a plain module
G = models.mnist_generator().double()
ddp = DDP(G)
assert all(key.startswith("module.") for key in ddp.state_dict())
plain = models.mnist_generator().double()
plain.load_state_dict(ddp.module.state_dict())
plain.load_state_dict({k[len("module."):]: v for k, v in ddp.state_dict().items()})
dist.destroy_process_group()
