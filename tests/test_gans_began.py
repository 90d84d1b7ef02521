"""gans.began: BEGAN's networks, its step and k, M_global, the copy check, exact resume, the declaration.

The objective is stepped by a tiny stand-in for the Trainer (nets, optimizers, next_batch(),
draw_noise()) with small networks (h = 8, n = 4) on random 64x64 batches; the real Trainer runs
the registered experiment with those small networks on random faces. Real faces (shared_data)
are read by one test only.
"""

import dataclasses
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

import minigrad as mg
from gans import began, plots
from gans.data.celeba import build_hdf5
from gans.data.pairs import FacePairs
from gans.experiments import adam
from gans.objectives import Objective
from gans.registry import ExperimentError, RunOptions, get_experiment
from gans.training import Trainer

HIDDEN, FILTERS = 8, 4


def tiny_generator():
    return began.decoder(HIDDEN, FILTERS)


def tiny_discriminator():
    return began.Autoencoder(HIDDEN, FILTERS)


TINY = SimpleNamespace(generator=tiny_generator, discriminator=tiny_discriminator,
                       g_optimizer=adam(1e-4, (0.5, 0.999)), d_optimizer=adam(1e-4, (0.5, 0.999)),
                       noise=began.uniform_noise((HIDDEN,)))


class FakeTrainer:
    """What BEGAN's step uses of the Trainer: nets, optimizers, next_batch(), draw_noise()."""

    def __init__(self, objective, batches, seed=0):
        mg.manual_seed(seed)
        self.nets = objective.networks(TINY)
        self.optimizers = objective.optimizers(TINY, self.nets)
        self.batches = list(batches)

    def next_batch(self):
        return self.batches.pop(0), None

    def draw_noise(self, n):
        return TINY.noise(n), None


def random_faces(count, batch=2, seed=1):
    rng = np.random.default_rng(seed)
    return [mg.tensor(rng.uniform(-1, 1, (batch, 3, 64, 64)).astype(np.float32)) for _ in range(count)]


def weights(net):
    return [p.numpy().copy() for p in net.parameters()]


def moved(before, net):
    return any(not np.array_equal(a, p.numpy()) for a, p in zip(before, net.parameters()))


# --- the networks ---------------------------------------------------------------------------

@pytest.mark.parametrize("hidden, n", [(HIDDEN, FILTERS), (began.HIDDEN, began.FILTERS)])
def test_generator_decodes_and_discriminator_reconstructs_64x64_faces(hidden, n):
    z = began.uniform_noise((hidden,))(2)
    assert z.shape == (2, hidden) and -1 <= z.numpy().min() and z.numpy().max() < 1
    with mg.no_grad():
        fake = began.decoder(hidden, n)(z)
        D = began.Autoencoder(hidden, n)
        assert D.encoder(fake).shape == (2, hidden)
        assert fake.shape == D(fake).shape == (2, 3, 64, 64)


def test_the_encoder_adds_n_channels_at_each_of_three_subsamplings():
    convolutions = [m for m in began.encoder(HIDDEN, FILTERS).modules() if type(m).__name__ == "Conv2d"]
    assert [c.out_channels for c in convolutions] == [4, 4, 4, 8, 8, 8, 12, 12, 12, 16, 16, 16]
    assert [c.stride for c in convolutions].count((2, 2)) == 3
    activations = [type(m).__name__ for m in began.decoder().modules() if type(m).__name__ in ("ELU", "Tanh")]
    assert activations == ["ELU"] * 8  # two per scale, and no tanh at the end (as the paper)


# --- the step, k and M_global ---------------------------------------------------------------

def test_a_step_returns_finite_statistics_and_moves_g_and_d():
    objective = began.BEGAN()
    trainer = FakeTrainer(objective, random_faces(1))
    before = {name: weights(trainer.nets[name]) for name in ("generator", "discriminator")}
    stats = objective.step(trainer)
    assert len(stats) == len(objective.columns) == 5 and all(math.isfinite(value) for value in stats)
    assert set(trainer.nets) == {"generator", "discriminator", "balance"}
    assert all(moved(before[name], trainer.nets[name]) for name in before)
    assert objective.watched_loss(dict(zip(objective.columns, stats))) is None


def test_k_follows_the_update_formula():
    # k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1), by hand:
    assert began.next_k(0.0, 0.4, 0.1, gamma=0.5, lambda_k=0.001) == pytest.approx(0.0001)  # 0.001 (0.2 - 0.1)
    assert began.next_k(0.3, 0.4, 0.3, gamma=0.5, lambda_k=0.1) == pytest.approx(0.29)       # 0.3 + 0.1 (-0.1)
    assert began.next_k(0.0, 0.1, 0.5, gamma=0.5, lambda_k=0.001) == 0.0                     # clipped at 0
    assert began.next_k(0.999, 1.0, 0.0, gamma=0.5, lambda_k=0.01) == 1.0                    # clipped at 1


def test_a_step_uses_k_and_updates_it_and_m_global_by_the_formulas():
    objective = began.BEGAN(gamma=0.5, lambda_k=0.01)
    trainer = FakeTrainer(objective, random_faces(1))
    trainer.nets["balance"].k.fill_(0.25)
    d_loss, g_loss, d_real, k, m_global = objective.step(trainer)
    # D's loss weighs the samples by the k of the step (D's reconstruction of the same samples, at
    # the same weights, is G's loss)
    assert d_loss == pytest.approx(d_real - 0.25 * g_loss, rel=1e-5)
    assert k == began.next_k(0.25, d_real, g_loss, 0.5, 0.01) == trainer.nets["balance"].k.item()
    assert k == pytest.approx(0.25 + 0.01 * (0.5 * d_real - g_loss))
    assert m_global == began.convergence(d_real, g_loss, 0.5) == d_real + abs(0.5 * d_real - g_loss)
    assert began.convergence(0.4, 0.1, gamma=0.5) == pytest.approx(0.5)  # 0.4 + |0.2 - 0.1|
    assert began.convergence(0.4, 0.2, gamma=0.5) == pytest.approx(0.4)  # at the equilibrium: L(x) alone


def test_k_stays_between_0_and_1_even_with_a_huge_gain():
    objective = began.BEGAN(lambda_k=50.0)
    trainer = FakeTrainer(objective, random_faces(4))
    ks = [objective.step(trainer)[3] for _ in range(4)]
    assert all(0.0 <= k <= 1.0 for k in ks) and 1.0 in ks  # random faces: L(x) is large, k is pushed up


# --- the copy check -------------------------------------------------------------------------

def test_nearest_by_hand():
    faces = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])
    distance, index = began.nearest(np.array([[3.0, 4.0], [0.0, 0.4]]), faces)
    np.testing.assert_array_equal(index, [1, 0])
    np.testing.assert_allclose(distance, [0.0, 0.4])
    distance, index = began.nearest(faces, faces, exclude_self=True)
    np.testing.assert_array_equal(index, [2, 2, 0])
    np.testing.assert_allclose(distance, [1.0, math.sqrt(18), 1.0])


def test_the_copy_check_counts_a_training_face_and_not_noise():
    rng = np.random.default_rng(0)
    faces = (0.2 * rng.standard_normal((3, 8, 8)) + 0.1 * rng.standard_normal((40, 3, 8, 8))).astype(np.float32)
    noise = rng.uniform(-1, 1, (9, 3, 8, 8)).astype(np.float32)
    samples = np.concatenate([faces[7:8], noise])
    report = began.copy_check(samples, faces)
    distance, index = began.nearest(samples, faces)
    assert distance[0] == 0.0 and index[0] == 7
    assert report["copies"] == 1 and report["samples"] == 10 and report["training_faces"] == 40
    assert report["copy_threshold"] == pytest.approx(
        min(report["face_to_nearest_other_face"]["p5"], report["mean_face_to_nearest_face"]), abs=1e-4)
    assert distance[1:].min() > report["face_to_nearest_other_face"]["median"]
    assert began.copy_check(noise, faces)["copies"] == 0
    mean_face = faces.mean(axis=0)
    assert report["mean_face_to_nearest_face"] == pytest.approx(
        min(np.linalg.norm(face - mean_face) for face in faces), abs=1e-4)
    assert began.copy_check(mean_face[None], faces)["copies"] == 0  # an average is near every face, but no copy
    blurs = mean_face[None] + 0.01 * rng.standard_normal((5, 3, 8, 8)).astype(np.float32)
    report = began.copy_check(blurs, faces)
    assert report["copies"] == 0 and report["distinct_nearest_faces"] == 1
    assert began.copy_check(faces[:6] + 0.001, faces)["distinct_nearest_faces"] == 6


def test_the_nearest_faces_figure(tmp_path):
    rng = np.random.default_rng(0)
    samples, faces = rng.uniform(-1, 1, (2, 8, 3, 64, 64))
    path = plots.save_nearest_faces(samples, faces, rng.uniform(0, 50, 8), tmp_path / "nearest.png", title="t")
    assert path.stat().st_size > 1000


# --- the Trainer: exact resume, summary -----------------------------------------------------

class RandomFaces(mg.data.Dataset):
    """Stand-in for the faces: 8 fixed random 64x64 images in [-1, 1], label 0."""

    def __init__(self):
        self.images = np.random.default_rng(3).uniform(-1, 1, (8, 3, 64, 64)).astype(np.float32)

    def __len__(self):
        return len(self.images)

    def __getitems__(self, indices):
        return mg.tensor(self.images[np.asarray(indices)]), mg.zeros(len(indices), dtype=mg.int64)


def tiny_began_experiment():
    """The registered began, with small networks, a fast k (lambda_k 0.1) and random faces."""
    return dataclasses.replace(
        get_experiment("began"), generator=tiny_generator, discriminator=tiny_discriminator, noise=TINY.noise,
        objective=lambda options: began.BEGAN(lambda_k=0.1), dataset=lambda options: RandomFaces(),
        batch_size=2, epochs=1, sample_every=3, log_every=1, checkpoint_every=3, grid_size=4)


def test_a_began_run_resumes_exactly(tmp_path):
    """Stopped after 2 of 4 steps and resumed in a fresh Trainer, a run ends exactly where an
    uninterrupted one does: G, D, k, both optimisers, the history."""
    experiment = tiny_began_experiment()

    def options(out, **changes):
        return dataclasses.replace(RunOptions(out=tmp_path / out, progress=False), **changes)

    whole = Trainer(experiment, options("whole"))
    whole.fit()
    first = Trainer(experiment, options("split", epochs=0.5))
    first.fit()
    assert first.step == 2 and first.nets["balance"].k.item() > 0
    resumed = Trainer(experiment, options("split", resume=True))
    assert resumed.nets["balance"].k.item() == first.nets["balance"].k.item()  # k came back from the checkpoint
    resumed.fit()
    assert resumed.step == whole.step == 4
    for name in ("generator", "discriminator", "balance"):
        for a, b in zip(whole.nets[name].state_dict().values(), resumed.nets[name].state_dict().values()):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert (tmp_path / "split" / "history.csv").read_text() == (tmp_path / "whole" / "history.csv").read_text()
    summary = json.loads((tmp_path / "whole" / "summary.json").read_text())
    assert summary["last_logged"]["k"] == whole.nets["balance"].k.item() > 0
    assert summary["copy_check"]["samples"] == began.COPY_CHECK_SAMPLES
    assert summary["copy_check"]["training_faces"] == 8
    assert (tmp_path / "whole" / "nearest_faces.png").exists()
    assert (tmp_path / "whole" / "samples" / "step_0000003.png").exists()


# --- the declaration and its data -----------------------------------------------------------

def test_began_is_registered_with_its_settings():
    from gans import catalog  # noqa: F401 (registers every experiment)
    experiment = get_experiment("began")
    assert experiment.batch_size == 16 and experiment.image_shape == (3, 64, 64)
    objective = experiment.make_objective(RunOptions(out=None))
    assert isinstance(objective, began.BEGAN) and objective.gamma == 0.5 and objective.lambda_k == 0.001
    assert type(objective).summarize is not Objective.summarize  # the copy check, in summary.json
    assert type(objective).evaluate is not Objective.evaluate    # M_global and the copy check
    assert experiment.make_objective(RunOptions(out=None, extra={"gamma": 0.7})).gamma == 0.7
    check = experiment.settings["gamma"]
    assert check("gamma", 1) == 1.0
    for bad in (0, 1.5, "high"):
        with pytest.raises(ExperimentError, match="gamma"):
            check("gamma", bad)


@pytest.fixture(scope="module")
def faces_h5(tmp_path_factory):
    """24 synthetic faces (each a different flat colour) as a CelebA HDF5 file: 20 train, 4 held out."""
    from PIL import Image
    folder = tmp_path_factory.mktemp("flat_faces")
    for k in range(24):
        Image.fromarray(np.full((218, 178, 3), 10 * k, np.uint8)).save(folder / f"{k:06d}.png")
    build_hdf5(folder, folder.parent / "flat.h5", progress=False)
    return folder.parent / "flat.h5"


def test_the_data_are_the_training_photos_of_the_face_pairs(faces_h5, tmp_path):
    faces = began.training_faces(RunOptions(out=tmp_path, extra={"h5": str(faces_h5)}))
    assert len(faces) == 20  # the last 4 are held out
    images, labels = faces.__getitems__([0, 19])
    np.testing.assert_array_equal(images.numpy(), FacePairs(faces_h5).targets([0, 19]).numpy())
    assert images.shape == (2, 3, 64, 64) and labels.numpy().tolist() == [0, 0]
    np.testing.assert_allclose(images.numpy()[1], 190 / 127.5 - 1, atol=1e-6)
    limited = began.training_faces(RunOptions(out=tmp_path, extra={"h5": str(faces_h5), "train_limit": 5}))
    assert len(limited) == 5


def test_the_real_faces(shared_data, tmp_path):
    if not (shared_data / "celeba" / "img_align_celeba_558.zip").is_file():
        pytest.skip("the CelebA sample zip is not in the shared data")
    faces = began.training_faces(RunOptions(out=tmp_path, data_dir=shared_data, progress=False))
    assert len(faces) == 500
    images, _ = faces.__getitems__(np.arange(4))
    assert images.shape == (4, 3, 64, 64) and -1 <= images.numpy().min() < images.numpy().max() <= 1


# --- evaluate: M_global over the training faces and the copy check, once -------------------

def test_evaluate_measures_m_global_and_repeats_the_summarys_copy_check(tmp_path):
    experiment = tiny_began_experiment()
    trainer = Trainer(experiment, RunOptions(out=tmp_path / "run", progress=False))
    summary = trainer.fit()
    G, D = trainer.nets["generator"], trainer.nets["discriminator"]
    report = began.evaluate(G, D, trainer.dataset, 0.5, TINY.noise, k=0.125)
    assert report["copy_check"] == summary["copy_check"]  # the same fixed z, the same 256 samples
    faces = RandomFaces().images
    with mg.no_grad():
        d_real = float((mg.tensor(faces) - D(mg.tensor(faces))).abs().mean().item())
        fakes = G(TINY.noise(began.COPY_CHECK_SAMPLES, generator=np.random.default_rng(2017)))
        g_loss = float((fakes - D(fakes)).abs().mean().item())
    assert report["d_real"] == pytest.approx(d_real, rel=1e-5) and report["g_loss"] == pytest.approx(g_loss, rel=1e-5)
    assert report["m_global"] == began.convergence(report["d_real"], report["g_loss"], 0.5)
    assert report["k"] == 0.125 and report["gamma"] == 0.5 and report["training_faces"] == 8
    assert began.evaluate(G, D, trainer.dataset, 0.5, TINY.noise, n=5)["copy_check"]["samples"] == 5


def test_reconstruction_error_is_the_mean_over_every_image_whatever_the_batches():
    D = tiny_discriminator()
    images = random_faces(1, batch=5)[0].numpy()
    with mg.no_grad():
        whole = float((mg.tensor(images) - D(mg.tensor(images))).abs().mean().item())
    assert began.reconstruction_error(D, images, batch_size=2) == pytest.approx(whole, rel=1e-5)
    assert get_experiment("began").metrics is None  # not the MNIST metrics: BEGAN.evaluate measures it
