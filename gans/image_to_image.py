"""Image to image on the CelebA faces: pix2pix (paired) and CycleGAN (unpaired).

Both translate a face's edges (or its greyscale) into the colour photo, at 64x64
(gans/data/pairs.py). Neither draws noise: the generator's input is an image.

    pix2pix   (Isola et al. 2017) G is a U-Net, D a PatchGAN that judges (input, output) pairs,
              patch by patch. G's loss: the conditional GAN's plus 100 x the L1 distance to the
              real photo. `ablation` picks the paper's table 1: "l1" alone (blurry but right on
              average), "cgan" alone (sharp, may drift from the input), "cgan+l1".
    CycleGAN  (Zhu et al. 2017) two generators, edges -> photo (A -> B) and back (B -> A), two
              PatchGANs, least-squares GAN losses, and no pairs at all: instead, going there and
              back must give the input again (cycle loss, weight 10), and a generator given an
              image of its output domain should leave it alone (identity loss, weight 5).

Each is an Objective (gans/objectives.py), on the common ImageToImage: its batches are (input,
target) pairs, its sample grids show G's outputs for held-out inputs (there is no noise), and
`sample` and `evaluate` translate held-out faces. The one Trainer keeps data, logging,
checkpoints, resume and alarms. Everything a step needs lives in the networks and optimisers it
names, so a checkpoint of those is a checkpoint of the run (CycleGAN's pool of old fakes is a
module too).

Evaluation (`evaluate`, and `python -m gans evaluate RUN`) compares G's outputs for the held-out
faces with their real photos: L1, PSNR and SSIM (scikit-image's), sharpness against the real
photos', and the same numbers for the mean training face, the baseline any model must beat.
"""

import math

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import backend
from minigrad.nn import set_training_mode

from . import models
from .data.celeba import find_celeba_h5
from .data.pairs import TASKS, FacePairs, UnpairedFaces
from .errors import UserError
from .evaluation import check_memory, to_unit
from .experiments import GANExperiment
from .objectives import Objective, frozen
from .registry import ExperimentError, register, text, whole_number

ABLATIONS = ("l1", "cgan", "cgan+l1")


def adam_for(lr, betas, *nets):
    """One Adam over the weights of all `nets` (CycleGAN's two generators share one, as in its code)."""
    return mg.optim.Adam([p for net in nets for p in net.parameters()], lr=lr, betas=betas)


def mean_probability(scores):
    """The mean of sigmoid(scores), D's average belief that its inputs are real (no graph)."""
    return F.sigmoid(scores.detach()).mean().item()


# --- what both families share ----------------------------------------------------------

class ImageToImage(Objective):
    """What pix2pix and CycleGAN share: G translates images, so there is no noise.

    A batch is (inputs, targets), both moved to the device; the sample grids show G's outputs
    for the first held-out inputs (the same faces at every grid, never trained on); summary.json,
    `sample` and `evaluate` compare G's outputs for the held-out faces with their real photos.
    """

    def batch(self, experiment, batch, device):
        inputs, targets = batch
        return inputs.to(device), targets.to(device)

    def grid_inputs(self, experiment, dataset):
        return grid_inputs(dataset, experiment.grid_size), None

    def summarize(self, trainer):
        return summarize(trainer)

    def sample(self, run, n, seed=0, data_dir=None):
        """G's outputs for the first n held-out faces, beside their inputs and real photos."""
        G = run.networks()["generator"]
        held_out = paired_view(run.experiment.dataset(run.face_options(data_dir))).held_out()
        count = min(n, len(held_out))
        check_memory(count, (held_out.input_channels + 6) * 64 * 64 * 4, f"{count:,} held-out faces")
        inputs, targets = held_out.__getitems__(range(count))
        pixels = run.experiment.pixel_range
        return {"experiment": np.array(run.experiment.name), "samples": to_unit(translate(G, inputs), pixels),
                "inputs": to_unit(inputs.numpy(), pixels), "targets": to_unit(targets.numpy(), pixels)}

    def evaluate(self, run, n=None, data_dir=None, seed=0, progress=False):
        """L1, PSNR, SSIM and sharpness of G's outputs for the first n held-out faces (None: all),
        beside the mean training face's (the module's evaluate), as summary.json's "held_out"."""
        G = run.networks()["generator"]
        train = paired_view(run.experiment.dataset(run.face_options(data_dir)))
        held_out = train.held_out()
        count = len(held_out) if n is None else min(n, len(held_out))
        check_memory(count, (held_out.input_channels + 9) * 64 * 64 * 4, f"{count:,} held-out faces")
        return {"held_out": evaluate(G, held_out, train, count=count, progress=progress)}


# --- pix2pix ------------------------------------------------------------------------------

class Pix2Pix(ImageToImage):
    """pix2pix: a U-Net G(x) and a PatchGAN D(x, y), trained on pairs (x, y).

        D's loss  (BCE(D(x, y), 1) + BCE(D(x, G(x).detach()), 0)) / 2   halved, as the paper, to slow D
        G's loss  BCE(D(x, G(x)), 1) + l1_weight * mean |G(x) - y|

    with BCE on logits (D has no sigmoid), one D step then one G step on the same G(x); Adam
    2e-4, betas (0.5, 0.999) for both. ablation "l1" drops D altogether; "cgan" drops the L1 term.

    Statistics (columns): d_loss (as above), g_gan, g_l1 (mean |G(x) - y| on [-1, 1] pixels,
    reported in every ablation, a loss term only where it is one), d_real and d_fake (D's mean
    probability of "real" on real and generated pairs). With ablation "l1" only g_l1.
    """

    def __init__(self, ablation="cgan+l1", input_channels=1, output_channels=3, l1_weight=100.0, lr=2e-4,
                 betas=(0.5, 0.999), ngf=32, ndf=64, patch_strided=1):
        if ablation not in ABLATIONS:
            raise UserError(f"pix2pix: ablation must be one of {', '.join(ABLATIONS)}, got {ablation!r}")
        self.ablation, self.l1_weight, self.lr, self.betas = ablation, l1_weight, lr, betas
        self.input_channels, self.output_channels = input_channels, output_channels
        self.ngf, self.ndf, self.patch_strided = ngf, ndf, patch_strided
        self.adversarial = ablation != "l1"
        self.uses_l1 = ablation != "cgan"
        if self.adversarial:
            self.columns = ("d_loss", "g_gan", "g_l1", "d_real", "d_fake")
            self.plotted = ("d_loss", "g_gan")
            self.ideal = (math.log(2), "ideal BCE: ln 2 ≈ 0.693")
        else:
            self.columns = ("g_l1",)
            self.plotted, self.ideal = None, None

    def networks(self, experiment=None):
        nets = {"generator": models.normal_init_(
            models.UNetGenerator(self.input_channels, self.output_channels, self.ngf))}
        if self.adversarial:
            nets["discriminator"] = models.normal_init_(models.patch_discriminator(
                self.input_channels + self.output_channels, self.ndf, self.patch_strided))
        return nets

    def optimizers(self, experiment, nets):
        return {name: adam_for(self.lr, self.betas, net) for name, net in nets.items()}

    def step(self, trainer):
        inputs, targets = trainer.next_batch()
        fake = trainer.nets["generator"](inputs)
        if not self.adversarial:
            _, l1 = self.g_step(trainer, inputs, targets, fake)
            return (l1,)
        d_loss, d_real, d_fake = self.d_step(trainer, inputs, targets, fake)
        g_gan, l1 = self.g_step(trainer, inputs, targets, fake)
        return d_loss, g_gan, l1, d_real, d_fake

    def d_step(self, trainer, inputs, targets, fake):
        """D learns (x, y) -> real, (x, G(x)) -> fake; G(x) is detached, so this step leaves G alone."""
        D, optimizer = trainer.nets["discriminator"], trainer.optimizers["discriminator"]
        real_scores = D(mg.cat([inputs, targets], dim=1))
        fake_scores = D(mg.cat([inputs, fake.detach()], dim=1))
        loss = 0.5 * (F.binary_cross_entropy_with_logits(real_scores, mg.ones_like(real_scores))
                      + F.binary_cross_entropy_with_logits(fake_scores, mg.zeros_like(fake_scores)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item(), mean_probability(real_scores), mean_probability(fake_scores)

    def g_step(self, trainer, inputs, targets, fake):
        """G learns to fool D (on the pair with its input) and to be near the real photo in L1."""
        G, optimizer = trainer.nets["generator"], trainer.optimizers["generator"]
        l1 = F.l1_loss(fake, targets)
        loss, g_gan = 0.0, 0.0
        if self.uses_l1:
            loss = self.l1_weight * l1
        if self.adversarial:
            D = trainer.nets["discriminator"]
            with frozen(D):
                scores = D(mg.cat([inputs, fake], dim=1))
                gan = F.binary_cross_entropy_with_logits(scores, mg.ones_like(scores))
                loss = loss + gan
                g_gan = gan.item()
                self.descend(G, optimizer, loss)
        else:
            self.descend(G, optimizer, loss)
        return g_gan, l1.item()

    @staticmethod
    def descend(G, optimizer, loss):
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def watched_loss(self, stats):
        """D's BCE on real plus on fake (2 x d_loss): 2 ln 2 at the equilibrium, 0 when D is always right,
        the same scale as the classic GAN's."""
        return 2 * stats["d_loss"] if self.adversarial else None


# --- CycleGAN -----------------------------------------------------------------------------

class ImagePool(mg.nn.Module):
    """CycleGAN's history of generated images (Shrivastava et al. 2017): D learns from a mix of G's
    newest fakes and older ones, which damps the oscillation of G and D chasing each other.

    pool(fakes) -> a batch of the same shape: while the pool fills, each fake is stored and passed
    on; then each fake is passed on with probability 1/2, else swapped for a random stored one,
    which it replaces. size=0 passes every fake on. The stored images are buffers, so checkpoints
    keep them, and the coin flips come from minigrad's random numbers, which checkpoints keep too.
    """

    def __init__(self, size, image_shape):
        super().__init__()
        self.size = size
        self.register_buffer("images", mg.zeros(max(size, 1), *image_shape))
        self.register_buffer("stored", mg.tensor(0, dtype=mg.int64))

    def forward(self, fakes):
        if self.size == 0:
            return fakes.detach()
        batch = backend.to_numpy(fakes.detach().array).copy()
        images = self.images.array  # updated in place: the buffer's own array
        for i in range(len(batch)):
            stored = int(self.stored.item())
            if stored < self.size:
                images[stored] = backend.to_device(batch[i], self.images.device)
                self.stored.array[...] = stored + 1
            elif mg.rand(1).item() < 0.5:
                j = int(mg.randint(0, self.size, (1,)).item())
                old = backend.to_numpy(images[j]).copy()
                images[j] = backend.to_device(batch[i], self.images.device)
                batch[i] = old
        return mg.tensor(batch, device=fakes.device)


class CycleGAN(ImageToImage):
    """CycleGAN: G_AB (the "generator", edges -> photo) and G_BA, ResNet generators; D_A and D_B,
    PatchGANs on single images; least-squares GAN losses (LSGAN: MSE to 1 for real, 0 for fake).

        G's loss  MSE(D_B(G_AB(a)), 1) + MSE(D_A(G_BA(b)), 1)
                  + cycle_weight * (|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|)          (means, L1)
                  + identity * cycle_weight * (|G_AB(b) - b| + |G_BA(a) - a|)
        D's loss  (MSE(D_B(b), 1) + MSE(D_B(pool_B(G_AB(a))), 0)) / 2, and the same for D_A

    Per step: the generators' step first, then the discriminators' (on the same fakes, through
    the pools of 50 old ones), as the paper's code. Adam 2e-4, betas (0.5, 0.999): one for both
    generators, one for both discriminators. cycle_weight 10, identity 0.5: the paper's.

    Networks: generator, generator_ba, discriminator_a, discriminator_b, pool_a, pool_b.
    Statistics: d_a, d_b (the D losses above), g_ab, g_ba (each generator's GAN loss), cycle,
    identity (the unweighted sums of the L1 terms).
    """

    columns = ("d_a", "d_b", "g_ab", "g_ba", "cycle", "identity")
    plotted = ("d_a", "d_b", "g_ab", "g_ba")
    ideal = (0.25, "ideal least squares: 0.25")

    def __init__(self, a_channels=3, b_channels=3, cycle_weight=10.0, identity=0.5, lr=2e-4, betas=(0.5, 0.999),
                 ngf=32, blocks=6, ndf=64, patch_strided=1, pool_size=50, image_size=64):
        if identity and a_channels != b_channels:
            raise UserError(f"CycleGAN: the identity loss feeds each generator images of its output domain, "
                            f"so both domains need as many channels ({a_channels} and {b_channels}); "
                            f"use 3-channel inputs or identity=0")
        self.a_channels, self.b_channels = a_channels, b_channels
        self.cycle_weight, self.identity, self.lr, self.betas = cycle_weight, identity, lr, betas
        self.ngf, self.blocks, self.ndf, self.patch_strided = ngf, blocks, ndf, patch_strided
        self.pool_size, self.image_size = pool_size, image_size

    def networks(self, experiment=None):
        def generator(channels_in, channels_out):
            return models.normal_init_(models.resnet_generator(channels_in, channels_out, self.ngf, self.blocks))

        def discriminator(channels):
            return models.normal_init_(models.patch_discriminator(channels, self.ndf, self.patch_strided))

        size = self.image_size
        return {"generator": generator(self.a_channels, self.b_channels),
                "generator_ba": generator(self.b_channels, self.a_channels),
                "discriminator_a": discriminator(self.a_channels),
                "discriminator_b": discriminator(self.b_channels),
                "pool_a": ImagePool(self.pool_size, (self.a_channels, size, size)),
                "pool_b": ImagePool(self.pool_size, (self.b_channels, size, size))}

    def optimizers(self, experiment, nets):
        return {"generators": adam_for(self.lr, self.betas, nets["generator"], nets["generator_ba"]),
                "discriminators": adam_for(self.lr, self.betas, nets["discriminator_a"], nets["discriminator_b"])}

    def step(self, trainer):
        a, b = trainer.next_batch()
        fake_b, fake_a, gan_ab, gan_ba, cycle, identity = self.g_step(trainer, a, b)
        d_a, d_b = self.d_step(trainer, a, b, fake_a, fake_b)
        return d_a, d_b, gan_ab, gan_ba, cycle, identity

    def g_step(self, trainer, a, b):
        """Both generators, one Adam step; returns the fakes (for the D step) and the loss terms."""
        nets = trainer.nets
        G_ab, G_ba, D_a, D_b = nets["generator"], nets["generator_ba"], nets["discriminator_a"], nets["discriminator_b"]
        fake_b, fake_a = G_ab(a), G_ba(b)
        with frozen(D_a, D_b):
            scores_b, scores_a = D_b(fake_b), D_a(fake_a)
            gan_ab = F.mse_loss(scores_b, mg.ones_like(scores_b))
            gan_ba = F.mse_loss(scores_a, mg.ones_like(scores_a))
            cycle = F.l1_loss(G_ba(fake_b), a) + F.l1_loss(G_ab(fake_a), b)
            loss = gan_ab + gan_ba + self.cycle_weight * cycle
            identity = 0.0
            if self.identity:
                same = F.l1_loss(G_ab(b), b) + F.l1_loss(G_ba(a), a)
                loss = loss + self.identity * self.cycle_weight * same
                identity = same.item()
            optimizer = trainer.optimizers["generators"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return fake_b.detach(), fake_a.detach(), gan_ab.item(), gan_ba.item(), cycle.item(), identity

    def d_step(self, trainer, a, b, fake_a, fake_b):
        """Both discriminators, one Adam step: real -> 1, a fake from the pool -> 0."""
        nets = trainer.nets
        losses = []
        for D, real, pool, fake in ((nets["discriminator_a"], a, nets["pool_a"], fake_a),
                                    (nets["discriminator_b"], b, nets["pool_b"], fake_b)):
            real_scores, fake_scores = D(real), D(pool(fake))
            losses.append(0.5 * (F.mse_loss(real_scores, mg.ones_like(real_scores))
                                 + F.mse_loss(fake_scores, mg.zeros_like(fake_scores))))
        optimizer = trainer.optimizers["discriminators"]
        optimizer.zero_grad()
        (losses[0] + losses[1]).backward()
        optimizer.step()
        return losses[0].item(), losses[1].item()

    def watched_loss(self, stats):
        """D_B's loss: the discriminator of photos, the domain of the generator that is evaluated
        (0.25 at the equilibrium, 0 when D_B is always right)."""
        return stats["d_b"]


# --- evaluation on the held-out faces -----------------------------------------------------

def translate(G, inputs, batch_size=16, bar=None):
    """G's outputs for `inputs` (a Tensor or array (N, C, 64, 64)), in eval mode (no dropout; the
    norms are InstanceNorm, the same in both modes), as a float32 array (N, 3, 64, 64).
    bar: a tqdm bar to advance by each batch's size, or None."""
    inputs = inputs.numpy() if isinstance(inputs, mg.Tensor) else np.asarray(inputs, dtype=np.float32)
    device = next(iter(G.parameters())).device
    was_training = G.training
    set_training_mode(G, False)
    outputs = []
    try:
        with mg.no_grad():
            for i in range(0, len(inputs), batch_size):
                outputs.append(G(mg.tensor(inputs[i:i + batch_size], device=device)).numpy())
                if bar is not None:
                    bar.update(len(outputs[-1]))
    finally:
        set_training_mode(G, was_training)
    return np.concatenate(outputs) if outputs else np.zeros((0, 3, *inputs.shape[2:]), np.float32)


def to_photos(images):
    """(N, 3, H, W) in [-1, 1] -> (N, H, W, 3) float64 in [0, 1], the layout and range skimage expects."""
    return np.clip((np.asarray(images, dtype=np.float64).transpose(0, 2, 3, 1) + 1) / 2, 0, 1)


def sharpness(photos):
    """Mean gradient magnitude (skimage's Sobel filter on the greyscale image) per image, averaged:
    a blurry output has less of it than the real photos."""
    from skimage.color import rgb2gray
    from skimage.filters import sobel
    return float(np.mean([sobel(rgb2gray(photo)).mean() for photo in photos]))


def image_metrics(outputs, targets, bar=None):
    """How close outputs are to the real photos; both (N, 3, H, W) in [-1, 1].

        l1         mean |output - target| on [0, 1] pixels (the training L1 / 2)
        psnr       peak signal-to-noise ratio in dB, per image, averaged (inf for identical images)
        ssim       structural similarity per image (colour: channel_axis), averaged; 1 is identical
        sharpness  mean Sobel gradient magnitude of the outputs; sharpness_real of the targets

    bar: a tqdm bar to advance by one for each image measured, or None.
    """
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    outputs, targets = to_photos(outputs), to_photos(targets)
    psnr, ssim = [], []
    for output, target in zip(outputs, targets):
        with np.errstate(divide="ignore"):  # an identical pair has MSE 0: its PSNR is inf, not a warning
            psnr.append(peak_signal_noise_ratio(target, output, data_range=1.0))
        ssim.append(structural_similarity(target, output, channel_axis=-1, data_range=1.0))
        if bar is not None:
            bar.update(1)
    return {"l1": float(np.abs(outputs - targets).mean()), "psnr": float(np.mean(psnr)),
            "ssim": float(np.mean(ssim)), "sharpness": sharpness(outputs), "sharpness_real": sharpness(targets)}


def mean_face(train_pairs, batch_size=64):
    """The mean of the training photos, (3, 64, 64) in [-1, 1]: the best constant guess in L2, and
    the baseline a translation must beat. `train_pairs`: a FacePairs of the training split (for
    UnpairedFaces, its .pairs); held-out faces are refused, the baseline must not see them."""
    if train_pairs.split != "train":
        raise UserError(f"the mean face is made from training faces only, not from the {train_pairs.split!r} split")
    total = np.zeros((3, 64, 64), dtype=np.float64)
    for start in range(0, len(train_pairs), batch_size):
        total += train_pairs.targets(range(start, min(start + batch_size, len(train_pairs)))).numpy().sum(axis=0)
    return (total / len(train_pairs)).astype(np.float32)


def evaluate(G, held_out, train_pairs=None, baseline=None, count=None, progress=False):
    """G on the held-out pairs against their photos, next to the mean-face baseline:
    {"faces": N, "model": image_metrics, "mean_face": image_metrics}. `baseline` (a mean face)
    saves recomputing it; else it is made from `train_pairs`. `count`: the first held-out faces only
    (the whole CelebA holds out 20,269). progress: a tqdm bar on stderr."""
    from tqdm import tqdm
    if held_out.split != "held_out":
        raise UserError(f"evaluate on the held-out faces, not the {held_out.split!r} split")
    count = len(held_out) if count is None else min(count, len(held_out))
    inputs, targets = held_out.__getitems__(range(count))
    targets = targets.numpy()
    if baseline is None:
        baseline = mean_face(train_pairs)
    with tqdm(total=3 * count, disable=not progress, unit="face", desc="held-out faces", dynamic_ncols=True) as bar:
        outputs = translate(G, inputs, bar=bar)
        model = image_metrics(outputs, targets, bar=bar)
        baseline_metrics = image_metrics(np.broadcast_to(baseline, targets.shape), targets, bar=bar)
    return {"faces": count, "model": model, "mean_face": baseline_metrics}


def paired_view(dataset):
    """The FacePairs behind a training dataset (an UnpairedFaces keeps one as .pairs)."""
    return getattr(dataset, "pairs", dataset)


def grid_inputs(dataset, n):
    """The inputs of the first n held-out faces: what the sample grids show G's outputs for, in
    place of the fixed noise of the other GANs (the same faces at every grid, never trained on)."""
    held_out = paired_view(dataset).held_out()
    return held_out.inputs(range(min(n, len(held_out))))


def summarize(trainer, count=None):
    """For summary.json: the held-out evaluation of the run's generator, beside the mean face."""
    train = paired_view(trainer.dataset)
    report = evaluate(trainer.nets["generator"], train.held_out(), train, count=count)
    return {"held_out": {key: ({k: round(v, 4) for k, v in value.items()} if isinstance(value, dict) else value)
                         for key, value in report.items()}}


# --- the experiments ----------------------------------------------------------------------

def one_of(*choices):
    """A --set check: the value must be one of `choices`."""
    def check(name, value):
        if value not in choices:
            raise ExperimentError(f"--set {name}: must be one of {', '.join(choices)}, got {value!r}")
        return value
    return check


def face_pairs_data(unpaired=False):
    """(RunOptions) -> the training faces: FacePairs (pix2pix) or UnpairedFaces shuffled by --seed
    (CycleGAN), for --set task=edges|grey, from --set h5=FILE or the CelebA found as for the face GANs."""
    def make(options):
        path = options.extra.get("h5") or find_celeba_h5(options)
        task, limit = options.extra.get("task", "edges"), options.extra.get("train_limit")
        if unpaired:
            return UnpairedFaces(path, task, "train", input_channels=3, seed=options.seed, limit=limit)
        return FacePairs(path, task, "train", input_channels=1, limit=limit)
    return make


def pix2pix_objective(options):
    return Pix2Pix(ablation=options.extra.get("ablation", "cgan+l1"))


def cyclegan_objective(options):
    return CycleGAN()


SETTINGS = {"task": one_of(*TASKS), "h5": text, "train_limit": whole_number}

# No generator, discriminator, noise or optimisers here: the objectives build their own networks
# and optimisers, and G's input is an image.
PIX2PIX = GANExperiment(
    name="pix2pix",
    title="pix2pix: CelebA edges -> photo, 64x64 (--set task=grey: greyscale -> colour)",
    dataset=face_pairs_data(), objective=pix2pix_objective,
    batch_size=1, epochs=50, image_shape=(3, 64, 64), pixel_range=(-1.0, 1.0), grid_size=16, grid_columns=8,
    sample_every=2500, log_every=50, checkpoint_every=2500,
    settings={**SETTINGS, "ablation": one_of(*ABLATIONS)},
    notes="U-Net G, 30x30 PatchGAN D on (input, output); BCE + 100 L1; Adam 2e-4 (0.5, 0.999); batch 1, "
          "as the paper; --set ablation=l1|cgan|cgan+l1 (the paper's table 1). The last 58 of 558 faces are held out.",
)

CYCLEGAN = GANExperiment(
    name="cyclegan",
    title="CycleGAN: unpaired CelebA edges <-> photos, 64x64 (--set task=grey: greyscale <-> colour)",
    dataset=face_pairs_data(unpaired=True), objective=cyclegan_objective,
    batch_size=1, epochs=10, image_shape=(3, 64, 64), pixel_range=(-1.0, 1.0), grid_size=16, grid_columns=8,
    sample_every=1000, log_every=20, checkpoint_every=1000,
    settings=SETTINGS,
    notes="Two ResNet generators (6 blocks), two PatchGANs, least squares; cycle 10, identity 5; pools of 50 "
          "old fakes; Adam 2e-4 (0.5, 0.999); batch 1 as the paper. Edges and photos shuffled apart by --seed.",
)

register(PIX2PIX, CYCLEGAN)
