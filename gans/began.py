"""BEGAN on the CelebA faces, 64x64: Berthelot, Schumm and Metz (2017), "BEGAN: Boundary Equilibrium
Generative Adversarial Networks".

D is an autoencoder, and its loss is how badly it reconstructs an image:

    L(v) = mean |v - D(v)|                                  (pixelwise L1, over the batch)

D learns to reconstruct real faces well and G's samples badly; G learns samples that D
reconstructs well:

    L_D = L(x) - k_t L(G(z))        L_G = L(G(z))

k_t in [0, 1] weighs how hard D pushes G's samples away. It is a proportional controller that
keeps the two losses at the ratio gamma = E[L(G(z))] / E[L(x)]:

    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1),      k_0 = 0, lambda_k = 0.001.

gamma is the "diversity ratio": lower values ask for sharper but less varied faces (the
paper's faces use 0.5). Because k balances D and G by construction, neither overpowers the
other, and the paper's measure of convergence falls as the samples improve:

    M_global = L(x) + |gamma L(x) - L(G(z))|

(how well D reconstructs real faces, plus how far the two losses are from their equilibrium).

Each step evaluates everything at the same weights, as the paper's simultaneous update: G's
step first (D frozen), then D's step on the same samples (detached) and the same real batch,
then k. Adam 1e-4, betas (0.5, 0.999); z uniform in [-1, 1]; images in [-1, 1].

The networks are the paper's, scaled for a CPU: h = 64 and n = 32 filters (the paper: 64 and
128). A step of batch 16 takes about 3 s on one CPU thread with n = 32, 1.4 s with n = 16 and
12 s with n = 64; with the paper's 128 it would be near 16 times 3 s (the convolutions grow
with n^2). The default 10 epochs (310 steps of the 500 training faces) take about 17 minutes.

Did G copy? On 500 training faces a GAN can memorise. `copy_check` compares the distance from
each sample to its nearest training face with the distances between training faces; the
run's summary.json records it, and nearest_faces.png shows the closest samples.
"""

import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.nn import set_training_mode

from . import plots
from .data.celeba import find_celeba_h5
from .data.pairs import FacePairs
from .evaluation import check_memory
from .experiments import GANExperiment, adam, rand_noise
from .objectives import Objective, frozen
from .registry import ExperimentError, register, text, whole_number

HIDDEN = 64         # h, the size of the embedding (the paper: 64)
FILTERS = 32        # n, the filters of the first scale (the paper: 128)
SCALES = 4          # 8, 16, 32 and 64 pixels
COPY_CHECK_SAMPLES = 256


# --- the networks ---------------------------------------------------------------------------

def decoder(hidden=HIDDEN, n=FILTERS):
    """h (N, hidden) -> an image (N, 3, 64, 64): BEGAN's decoder, which is also its generator.

    A Linear layer to n feature maps of 8x8, then at each scale (8, 16, 32, 64) two 3x3
    convolutions with ELU, nearest-neighbour upsampling x2 between scales, and a 3x3
    convolution to RGB. No tanh at the end, as in the paper: outputs may leave [-1, 1]
    (the sample grids clip them).
    """
    layers = [nn.Linear(hidden, n * 8 * 8), nn.Unflatten(1, (n, 8, 8))]
    for scale in range(SCALES):
        if scale > 0:
            layers.append(nn.Upsample(scale_factor=2))
        layers += [nn.Conv2d(n, n, 3, padding=1), nn.ELU(), nn.Conv2d(n, n, 3, padding=1), nn.ELU()]
    layers.append(nn.Conv2d(n, 3, 3, padding=1))
    return nn.Sequential(*layers)


def encoder(hidden=HIDDEN, n=FILTERS):
    """An image (N, 3, 64, 64) -> h (N, hidden): BEGAN's encoder.

    A 3x3 convolution to n channels, then at each scale (64, 32, 16, 8) two 3x3 convolutions,
    and between scales a 3x3 convolution of stride 2 that halves the image and adds n
    channels (n, 2n, 3n, 4n). Every convolution is followed by ELU. Last, a Linear layer from
    the 8x8x4n features to h, with no non-linearity (the boundary of encoder and decoder).
    """
    layers = [nn.Conv2d(3, n, 3, padding=1), nn.ELU()]
    for scale in range(SCALES):
        channels = (scale + 1) * n
        layers += [nn.Conv2d(channels, channels, 3, padding=1), nn.ELU(),
                   nn.Conv2d(channels, channels, 3, padding=1), nn.ELU()]
        if scale < SCALES - 1:
            layers += [nn.Conv2d(channels, channels + n, 3, stride=2, padding=1), nn.ELU()]
    layers += [nn.Flatten(), nn.Linear(8 * 8 * SCALES * n, hidden)]
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """BEGAN's discriminator: D(v) = decoder(encoder(v)), an image (N, 3, 64, 64) -> its reconstruction."""

    def __init__(self, hidden=HIDDEN, n=FILTERS):
        super().__init__()
        self.encoder = encoder(hidden, n)
        self.decoder = decoder(hidden, n)

    def forward(self, images):
        return self.decoder(self.encoder(images))


class Balance(nn.Module):
    """k_t, the weight of G's samples in D's loss. It lives in a buffer, so that a checkpoint keeps
    it and --resume continues with it (as CycleGAN's ImagePool keeps its images)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("k", mg.tensor(0.0, dtype=mg.float64))


def uniform_noise(size):
    """z uniform in [-1, 1), the paper's noise (from rand_noise's seeded uniform [0, 1))."""
    unit = rand_noise(size)

    def noise(n, generator=None):
        return unit(n, generator) * 2 - 1
    return noise


# --- the objective --------------------------------------------------------------------------

def reconstruction_loss(D, images):
    """L(v) = mean |v - D(v)|: how badly the autoencoder D reconstructs `images`."""
    return (images - D(images)).abs().mean()


def next_k(k, real_loss, fake_loss, gamma, lambda_k):
    """k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)."""
    return min(max(k + lambda_k * (gamma * real_loss - fake_loss), 0.0), 1.0)


def convergence(real_loss, fake_loss, gamma):
    """M_global = L(x) + |gamma L(x) - L(G(z))|."""
    return real_loss + abs(gamma * real_loss - fake_loss)


class BEGAN(Objective):
    """BEGAN's step (see the module docstring). Networks: generator, discriminator (an autoencoder)
    and balance (k).

    Columns: d_loss (L(x) - k L(G(z))), g_loss (L(G(z))), d_real (L(x)), k (after the step's
    update) and m_global.
    """

    columns = ("d_loss", "g_loss", "d_real", "k", "m_global")
    plotted = ("m_global", "d_real", "g_loss", "k")

    def __init__(self, gamma=0.5, lambda_k=0.001):
        self.gamma, self.lambda_k = gamma, lambda_k

    def networks(self, experiment):
        return {**super().networks(experiment), "balance": Balance()}

    def step(self, trainer):
        G, D, balance = trainer.nets["generator"], trainer.nets["discriminator"], trainer.nets["balance"]
        opt_G, opt_D = trainer.optimizers["generator"], trainer.optimizers["discriminator"]
        real, _ = trainer.next_batch()
        z, _ = trainer.draw_noise(real.shape[0])
        fake = G(z)
        k = balance.k.item()

        # 1. G: samples that D reconstructs well. D is frozen: this step moves G alone.
        with frozen(D):
            g_loss = reconstruction_loss(D, fake)
            opt_G.zero_grad()
            g_loss.backward()
            opt_G.step()

        # 2. D: reconstruct real faces well and the same samples badly (detached: G stays put),
        #    with D's weights as G's step saw them. The two terms of L_D are differentiated one
        #    after the other (their gradients add up in .grad), so that only one of D's two
        #    graphs, D's activations for a batch, is held at a time.
        opt_D.zero_grad()
        real_loss = reconstruction_loss(D, real)
        real_loss.backward()
        d_fake_loss = reconstruction_loss(D, fake.detach())
        (-k * d_fake_loss).backward()
        opt_D.step()

        # 3. k: push G's samples away harder while D reconstructs them better than gamma L(x).
        real_loss, fake_loss = real_loss.item(), g_loss.item()
        d_loss = real_loss - k * d_fake_loss.item()
        k = next_k(k, real_loss, fake_loss, self.gamma, self.lambda_k)
        balance.k.fill_(k)
        return d_loss, fake_loss, real_loss, k, convergence(real_loss, fake_loss, self.gamma)

    def watched_loss(self, stats):
        """None: k balances D and G by construction, so D cannot settle at a loss pinned near zero."""
        return None

    def summarize(self, trainer):
        """The copy check of summary.json, and nearest_faces.png (the module's summarize)."""
        return summarize(trainer)

    def evaluate(self, run, n=None, data_dir=None, seed=0, progress=False):
        """M_global and the copy check of n samples (default: the summary's 256, from the same z),
        by the module's evaluate, with the run's gamma and final k."""
        n = COPY_CHECK_SAMPLES if n is None else n
        check_memory(n, 3 * 64 * 64 * 4, f"{n:,} samples of 3x64x64")
        nets = run.networks(names=("generator", "discriminator", "balance"))
        faces = run.experiment.dataset(run.face_options(data_dir))
        return evaluate(nets["generator"], nets["discriminator"], faces, self.gamma, run.experiment.noise, n=n,
                        k=nets["balance"].k.item() if "balance" in nets else None, progress=progress)


# --- did G copy its training faces? ---------------------------------------------------------

def nearest(queries, faces, exclude_self=False):
    """For each query, the L2 distance in pixel space to its nearest face, and that face's index.

    queries (N, ...), faces (M, ...): arrays of images, compared as flat vectors. exclude_self:
    queries are the faces themselves (N = M), and each one's nearest OTHER face is wanted.
    The squared distances come from one matrix product, |a|^2 - 2 a.b + |b|^2; the distance to
    the nearest is then computed again directly, exactly (the expansion loses digits when a
    and b are close, and a copy must give 0). No temporary the size of the inputs is made
    beyond their float64 copies (one when queries is faces): the 500 training faces alone are
    49 MB in float64.
    """
    a = np.asarray(queries, dtype=np.float64).reshape(len(queries), -1)
    b = a if faces is queries else np.asarray(faces, dtype=np.float64).reshape(len(faces), -1)
    a_squared, b_squared = np.einsum("ij,ij->i", a, a), np.einsum("ij,ij->i", b, b)
    squared = a_squared[:, None] - 2 * a @ b.T + b_squared[None, :]
    if exclude_self:
        np.fill_diagonal(squared, np.inf)
    index = squared.argmin(axis=1)
    distance = np.array([np.linalg.norm(a[i] - b[j]) for i, j in enumerate(index)])
    return distance, index


def copy_check(samples, faces):
    """Did G memorise? Each sample's distance to its nearest training face, beside each training
    face's distance to its nearest other training face (how close two different real faces get).

    samples (N, 3, 64, 64), faces (M, 3, 64, 64) in [-1, 1]; distances are L2 over all 3x64x64
    values in that range.

    In L2 a blur is close to many faces: the mean training face is nearer its nearest face than
    most faces are to theirs (on the 500 training faces, 24.6 against a 5th percentile of 32.4).
    So a sample counts as a copy ("copies") only when it is closer to a training face than both
    the closest 5 % of training faces are to each other and the mean face is to its nearest face:
    nearer than any average could be. "distinct_nearest_faces" says how many different training
    faces the samples fall nearest to: a G that copies many faces spreads over many; blurry
    averages all fall nearest to the same few "central" faces. nearest_faces.png shows the pairs.
    """
    sample_distance, sample_index = nearest(samples, faces)
    face_distance, _ = nearest(faces, faces, exclude_self=True)
    mean_face_distance = float(nearest(np.mean(faces, axis=0, keepdims=True), faces)[0][0])
    threshold = min(float(np.percentile(face_distance, 5)), mean_face_distance)

    def spread(distances):
        return {"median": round(float(np.median(distances)), 4), "p5": round(float(np.percentile(distances, 5)), 4)}

    return {"samples": len(samples), "training_faces": len(faces),
            "sample_to_nearest_face": spread(sample_distance),
            "face_to_nearest_other_face": spread(face_distance),
            "mean_face_to_nearest_face": round(mean_face_distance, 4),
            "copy_threshold": round(threshold, 4),
            "copies": int((sample_distance < threshold).sum()),
            "distinct_nearest_faces": int(len(np.unique(sample_index)))}


def generate(G, noise, batch_size=32):
    """G's samples for `noise`, in eval mode, as a float32 array (in batches: 64x64 convolutions
    of hundreds of samples at once would take gigabytes)."""
    device = next(iter(G.parameters())).device
    set_training_mode(G, False)
    try:
        with mg.no_grad():
            return np.concatenate([G(noise[i:i + batch_size].to(device)).numpy()
                                   for i in range(0, len(noise), batch_size)])
    finally:
        set_training_mode(G, True)


def summarize(trainer, count=COPY_CHECK_SAMPLES, shown=8):
    """For summary.json: the copy check of `count` samples from fixed noise (its own generator, so
    every run and every resume checks the same z); and nearest_faces.png, the `shown` samples
    closest to a training face, each above that face."""
    noise = trainer.experiment.noise(count, generator=np.random.default_rng(2017))
    samples = generate(trainer.G, noise)
    faces = trainer.dataset.__getitems__(np.arange(len(trainer.dataset)))[0].numpy()
    distance, index = nearest(samples, faces)
    closest = np.argsort(distance)[:shown]
    title = f"{trainer.experiment.name}, step {trainer.step}: the samples nearest a training face"
    plots.save_nearest_faces(samples[closest], faces[index[closest]], distance[closest],
                             trainer.out / "nearest_faces.png", title=title)
    return {"copy_check": copy_check(samples, faces)}


def reconstruction_error(D, images, batch_size=32, bar=None):
    """L(v) over many images: mean |v - D(v)| over all of `images` (an array (N, 3, 64, 64)), in
    batches, in eval mode, without a graph. bar: a tqdm bar advanced by each batch's size, or None."""
    total = 0.0
    with mg.no_grad():
        for i in range(0, len(images), batch_size):
            batch = mg.tensor(images[i:i + batch_size])
            total += float((batch - D(batch)).abs().sum().item())
            if bar is not None:
                bar.update(len(batch))
    return total / images.size


def evaluate(G, D, faces, gamma, noise, n=COPY_CHECK_SAMPLES, k=None, progress=False):
    """A trained BEGAN measured once, for `python -m gans evaluate`: M_global over all the training
    faces and n samples, and the copy check of those samples.

    The samples come from the fixed z of summarize (its own generator, seed 2017), so with the
    default n the copy check is the one in summary.json. M_global = L(x) + |gamma L(x) - L(G(z))|
    with L(x) over every training face and L(G(z)) over the n samples (during training each
    history row averages it over single batches). faces: the run's training faces (FacePhotos);
    noise: the experiment's noise; k: the run's final k, reported beside them.
    """
    from tqdm import tqdm
    set_training_mode(D, False)
    z = noise(n, generator=np.random.default_rng(2017))
    real = faces.__getitems__(np.arange(len(faces)))[0].numpy()
    with tqdm(total=2 * n + len(real), disable=not progress, unit="image", desc="BEGAN", dynamic_ncols=True) as bar:
        samples = generate(G, z)
        bar.update(n)
        fake_loss = reconstruction_error(D, samples, bar=bar)
        real_loss = reconstruction_error(D, real, bar=bar)
    return {"samples": n, "training_faces": len(real), "gamma": gamma, "k": k,
            "d_real": real_loss, "g_loss": fake_loss, "m_global": convergence(real_loss, fake_loss, gamma),
            "copy_check": copy_check(samples, real)}


# --- the experiment -------------------------------------------------------------------------

class FacePhotos(mg.data.Dataset):
    """The photos of a FacePairs (its targets) alone, as the (images, labels) batches the Trainer
    reads: BEGAN learns faces, not a translation, so the pairs' inputs are never made."""

    def __init__(self, pairs):
        self.pairs = pairs

    def __len__(self):
        return len(self.pairs)

    def __getitems__(self, indices):
        return self.pairs.targets(indices), mg.zeros(len(indices), dtype=mg.int64)


def training_faces(options):
    """(RunOptions) -> the 64x64 training faces of the image-to-image experiments (gans/data/pairs.py:
    of the 558-face zip the first 500; the last 58 are held out), from --set h5=FILE or the CelebA
    found as for the other face GANs."""
    path = options.extra.get("h5") or find_celeba_h5(options)
    return FacePhotos(FacePairs(path, "grey", "train", limit=options.extra.get("train_limit")))


def fraction(name, value):
    """A number in (0, 1] (gamma)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ExperimentError(f"--set {name}: must be a number in (0, 1], got {value!r}")
    return float(value)


def began_objective(options=None):
    """BEGAN with --set gamma=G (default 0.5, the paper's faces)."""
    extra = options.extra if options is not None else {}
    return BEGAN(gamma=extra.get("gamma", 0.5))


BEGAN_FACES = GANExperiment(
    name="began",
    title="BEGAN on the CelebA faces, 64x64",
    generator=decoder, discriminator=Autoencoder, dataset=training_faces, noise=uniform_noise((HIDDEN,)),
    g_optimizer=adam(1e-4, (0.5, 0.999)), d_optimizer=adam(1e-4, (0.5, 0.999)),
    objective=began_objective,
    batch_size=16, epochs=10, image_shape=(3, 64, 64), pixel_range=(-1.0, 1.0), grid_size=64, grid_columns=8,
    sample_every=50, checkpoint_every=50,
    settings={"h5": text, "train_limit": whole_number, "gamma": fraction},
    notes=f"Autoencoder D, L1 reconstruction losses, k balanced at gamma = 0.5 (lambda_k 0.001); h = {HIDDEN}, "
          f"n = {FILTERS} (the paper: 64, 128); ELU; Adam 1e-4 (0.5, 0.999); batch 16. The last 58 of 558 faces "
          f"are held out.",
)

register(BEGAN_FACES)
