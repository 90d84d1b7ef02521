"""gans.image_to_image: the pix2pix and CycleGAN objectives, their evaluation, their declarations.

The objectives are stepped by a tiny stand-in for the Trainer (nets, optimizers, next_batch(),
device), with small networks on random 64x64 batches; the real Trainer's exact resume is tested
once the objectives are registered. Real faces (shared_data) are used by the smoke tests only.
"""

import dataclasses
import math

import numpy as np
import pytest

import minigrad as mg
import gans.catalog  # noqa: F401 (registers every experiment)
from gans import image_to_image as i2i
from gans import plots
from gans.data.celeba import build_hdf5
from gans.data.pairs import FacePairs, UnpairedFaces
from gans.errors import UserError
from gans.registry import RunOptions


class FakeTrainer:
    """What an objective's step uses of the Trainer: nets, optimizers, next_batch(), device."""

    def __init__(self, objective, batches, seed=0):
        mg.manual_seed(seed)
        self.nets = objective.networks(None)
        self.optimizers = objective.optimizers(None, self.nets)
        self.batches, self.device = list(batches), "cpu"

    def next_batch(self):
        return self.batches.pop(0)


def random_pairs(count, in_channels=1, out_channels=3, batch=2, seed=1):
    rng = np.random.default_rng(seed)
    return [(mg.tensor(rng.uniform(-1, 1, (batch, in_channels, 64, 64)).astype(np.float32)),
             mg.tensor(rng.uniform(-1, 1, (batch, out_channels, 64, 64)).astype(np.float32)))
            for _ in range(count)]


def weights(net):
    return [p.numpy().copy() for p in net.parameters()]


def moved(before, net):
    return any(not np.array_equal(a, p.numpy()) for a, p in zip(before, net.parameters()))


def tiny_pix2pix(ablation="cgan+l1"):
    return i2i.Pix2Pix(ablation, ngf=4, ndf=4)


def tiny_cyclegan(**options):
    return i2i.CycleGAN(ngf=4, blocks=1, ndf=4, pool_size=3, **options)


# --- pix2pix ------------------------------------------------------------------------------

def test_pix2pix_step_returns_finite_statistics_and_moves_every_network():
    objective = tiny_pix2pix()
    trainer = FakeTrainer(objective, random_pairs(2))
    before = {name: weights(net) for name, net in trainer.nets.items()}
    stats = objective.step(trainer)
    assert len(stats) == len(objective.columns) == 5
    assert all(math.isfinite(value) for value in stats)
    assert set(trainer.nets) == {"generator", "discriminator"}
    assert all(moved(before[name], net) for name, net in trainer.nets.items())
    d_loss, g_gan, g_l1, d_real, d_fake = stats
    assert 0 < d_real < 1 and 0 < d_fake < 1
    assert objective.watched_loss(dict(zip(objective.columns, stats))) == pytest.approx(2 * d_loss)


def test_pix2pix_d_step_does_not_move_g_and_g_step_does_not_move_d():
    objective = tiny_pix2pix()
    trainer = FakeTrainer(objective, [])
    (inputs, targets), = random_pairs(1)
    G, D = trainer.nets["generator"], trainer.nets["discriminator"]
    g_before, d_before = weights(G), weights(D)
    objective.d_step(trainer, inputs, targets, G(inputs))
    assert not moved(g_before, G) and moved(d_before, D)
    assert all(p.grad is None for p in G.parameters())  # the fake was detached: no gradient reached G

    d_before = weights(D)
    D.zero_grad()
    objective.g_step(trainer, inputs, targets, G(inputs))
    assert moved(g_before, G) and not moved(d_before, D)
    assert all(p.grad is None for p in D.parameters())  # D was frozen: no gradient for its weights
    assert all(p.requires_grad for p in D.parameters())  # ... and is unfrozen afterwards


def test_pix2pix_l1_alone_has_no_discriminator():
    objective = tiny_pix2pix("l1")
    trainer = FakeTrainer(objective, random_pairs(1))
    assert set(trainer.nets) == {"generator"} and set(trainer.optimizers) == {"generator"}
    assert objective.columns == ("g_l1",) and objective.ideal is None
    stats = objective.step(trainer)
    assert len(stats) == 1 and math.isfinite(stats[0])


def test_pix2pix_cgan_alone_ignores_the_target_in_g_step_and_l1_alone_follows_it():
    (inputs, targets), = random_pairs(1)
    other_targets = mg.tensor(-targets.numpy())
    for ablation, target_matters in (("cgan", False), ("l1", True), ("cgan+l1", True)):
        results = []
        for target in (targets, other_targets):
            objective = tiny_pix2pix(ablation)
            trainer = FakeTrainer(objective, [], seed=3)
            G = trainer.nets["generator"]
            objective.g_step(trainer, inputs, target, G(inputs))
            results.append(weights(G))
        differs = any(not np.array_equal(a, b) for a, b in zip(*results))
        assert differs == target_matters, ablation


def test_pix2pix_refuses_an_unknown_ablation():
    with pytest.raises(UserError, match="ablation"):
        i2i.Pix2Pix("gan")


# --- CycleGAN -----------------------------------------------------------------------------

def test_cyclegan_step_returns_finite_statistics_and_moves_every_network():
    objective = tiny_cyclegan()
    trainer = FakeTrainer(objective, random_pairs(2, 3, 3, batch=1))
    trained = ["generator", "generator_ba", "discriminator_a", "discriminator_b"]
    before = {name: weights(trainer.nets[name]) for name in trained}
    stats = objective.step(trainer)
    assert len(stats) == len(objective.columns) == 6 and all(math.isfinite(v) for v in stats)
    assert all(moved(before[name], trainer.nets[name]) for name in trained)
    assert int(trainer.nets["pool_a"].stored.item()) == 1 and int(trainer.nets["pool_b"].stored.item()) == 1
    assert objective.watched_loss(dict(zip(objective.columns, stats))) == stats[1]


def test_cyclegan_g_step_leaves_the_ds_and_d_step_leaves_the_gs():
    objective = tiny_cyclegan()
    trainer = FakeTrainer(objective, [])
    (a, b), = random_pairs(1, 3, 3, batch=1)
    nets = trainer.nets
    gs, ds = ("generator", "generator_ba"), ("discriminator_a", "discriminator_b")
    before = {name: weights(nets[name]) for name in gs + ds}
    fake_b, fake_a, *_ = objective.g_step(trainer, a, b)
    assert all(moved(before[name], nets[name]) for name in gs)
    assert not any(moved(before[name], nets[name]) for name in ds)
    assert all(p.grad is None for name in ds for p in nets[name].parameters())

    before = {name: weights(nets[name]) for name in gs + ds}
    for name in gs:
        nets[name].zero_grad()
    objective.d_step(trainer, a, b, fake_a, fake_b)
    assert all(moved(before[name], nets[name]) for name in ds)
    assert not any(moved(before[name], nets[name]) for name in gs)
    assert all(p.grad is None for name in gs for p in nets[name].parameters())


def test_cyclegan_state_is_all_in_its_networks_and_optimizers():
    """Two runs, the second rebuilt from the first's state dicts (and RNG state) after one step,
    take the same second step: checkpointing networks and optimisers is enough to resume exactly."""
    batches = random_pairs(2, 3, 3, batch=1)
    objective = tiny_cyclegan()
    first = FakeTrainer(objective, batches)
    objective.step(first)
    nets = {name: {k: v.numpy().copy() for k, v in net.state_dict().items()} for name, net in first.nets.items()}
    optimizers = {name: opt.state_dict() for name, opt in first.optimizers.items()}
    rng = mg.backend.get_rng_state()
    expected = objective.step(first)

    resumed_objective = tiny_cyclegan()
    resumed = FakeTrainer(resumed_objective, batches[1:], seed=99)  # other initial weights, other RNG
    for name, net in resumed.nets.items():
        net.load_state_dict({k: mg.tensor(v) for k, v in nets[name].items()})
    for name, optimizer in resumed.optimizers.items():
        optimizer.load_state_dict(optimizers[name])
    mg.backend.set_rng_state(rng)
    assert resumed_objective.step(resumed) == expected


def test_cyclegan_identity_needs_both_domains_alike():
    with pytest.raises(UserError, match="channels"):
        i2i.CycleGAN(a_channels=1, b_channels=3)
    i2i.CycleGAN(a_channels=1, b_channels=3, identity=0)  # without the identity loss it is fine


def test_image_pool_fills_then_swaps_and_keeps_its_images_as_buffers():
    pool = i2i.ImagePool(2, (1, 2, 2))
    first = mg.full((2, 1, 2, 2), 1.0)
    np.testing.assert_array_equal(pool(first).numpy(), first.numpy())  # filling: passed on, stored
    assert int(pool.stored.item()) == 2
    seen = set()
    for k in range(2, 12):
        out = pool(mg.full((1, 1, 2, 2), float(k))).numpy()
        seen.add(float(out.ravel()[0]))
        assert len(set(out.ravel())) == 1
    assert seen - set(range(1, 12)) == set()  # always a real fake, new or old
    assert any(value < 11 for value in seen) and len(seen) > 1  # some were swapped for older ones
    assert set(pool.state_dict()) == {"images", "stored"}
    assert i2i.ImagePool(0, (1, 2, 2))(first).shape == first.shape


# --- evaluation ---------------------------------------------------------------------------

def test_identical_images_have_ssim_1_infinite_psnr_and_zero_l1():
    images = np.random.default_rng(0).uniform(-1, 1, (3, 3, 64, 64))
    metrics = i2i.image_metrics(images, images)
    assert metrics["ssim"] == pytest.approx(1.0)
    assert metrics["psnr"] == math.inf and metrics["l1"] == 0
    assert metrics["sharpness"] == metrics["sharpness_real"]


def test_metrics_on_a_known_difference():
    targets = np.full((2, 3, 64, 64), -1.0)            # black, 0 in [0, 1]
    outputs = np.full((2, 3, 64, 64), -0.8)            # 0.1 in [0, 1]: MSE 0.01, PSNR 20 dB
    metrics = i2i.image_metrics(outputs, targets)
    assert metrics["l1"] == pytest.approx(0.1)
    assert metrics["psnr"] == pytest.approx(20.0)
    assert metrics["sharpness"] == 0 and metrics["sharpness_real"] == 0  # flat images have no edges


def test_sharpness_falls_with_blur():
    from skimage.filters import gaussian
    rng = np.random.default_rng(0)
    photos = rng.uniform(0, 1, (2, 64, 64, 3))
    blurred = np.stack([gaussian(p, sigma=2, channel_axis=-1) for p in photos])
    assert i2i.sharpness(blurred) < 0.5 * i2i.sharpness(photos)


@pytest.fixture(scope="module")
def faces_h5(tmp_path_factory):
    """24 synthetic faces (each a different flat colour) as a CelebA HDF5 file."""
    from PIL import Image
    folder = tmp_path_factory.mktemp("flat_faces")
    for k in range(24):
        Image.fromarray(np.full((218, 178, 3), 10 * k, np.uint8)).save(folder / f"{k:06d}.png")
    build_hdf5(folder, folder.parent / "flat.h5", progress=False)
    return folder.parent / "flat.h5"


def test_the_mean_face_comes_from_training_faces_only(faces_h5):
    train = FacePairs(faces_h5)
    face = i2i.mean_face(train)
    assert face.shape == (3, 64, 64)
    training_grey = np.mean([10 * k for k in range(20)]) / 127.5 - 1  # faces 0..19 train, 20..23 held out
    np.testing.assert_allclose(face, training_grey, atol=1e-5)
    with pytest.raises(UserError, match="training faces only"):
        i2i.mean_face(train.held_out())
    assert np.allclose(i2i.mean_face(UnpairedFaces(faces_h5).pairs), face)


def test_evaluate_reports_the_model_beside_the_mean_face(faces_h5):
    train = FacePairs(faces_h5)
    G = i2i.Pix2Pix(ngf=4).networks()["generator"]
    report = i2i.evaluate(G, train.held_out(), train)
    assert report["faces"] == 4
    for name in ("model", "mean_face"):
        assert set(report[name]) == {"l1", "psnr", "ssim", "sharpness", "sharpness_real"}
    # a flat mean face against flat held-out faces: no edges, and a known L1
    assert report["mean_face"]["sharpness"] == 0
    held_grey = np.array([200, 210, 220, 230]) / 255
    assert report["mean_face"]["l1"] == pytest.approx(np.mean(np.abs(held_grey - 95 / 255)), abs=1e-4)
    with pytest.raises(UserError, match="held-out"):
        i2i.evaluate(G, train, train)


def test_translate_is_deterministic_and_leaves_the_mode_alone():
    G = i2i.Pix2Pix(ngf=4).networks()["generator"]
    inputs = mg.randn(3, 1, 64, 64)
    first, second = i2i.translate(G, inputs, batch_size=2), i2i.translate(G, inputs)
    np.testing.assert_allclose(first, second, atol=1e-6)  # eval mode: no dropout
    assert first.shape == (3, 3, 64, 64) and G.training


def test_translation_figure(tmp_path):
    rng = np.random.default_rng(0)
    columns = {"input": rng.uniform(-1, 1, (3, 1, 64, 64)), "L1 alone": rng.uniform(-1, 1, (3, 3, 64, 64)),
               "cGAN + L1": rng.uniform(-1, 1, (3, 3, 64, 64)), "real": rng.uniform(-1, 1, (3, 3, 64, 64))}
    path = plots.save_translations(columns, tmp_path / "rows.png", title="held-out faces")
    assert path.stat().st_size > 1000


# --- the declarations -------------------------------------------------------------------

def test_declarations_build_their_data_objectives_and_grids(faces_h5, tmp_path):
    options = RunOptions(out=tmp_path, extra={"h5": str(faces_h5), "task": "grey", "ablation": "l1"})
    pairs_ = i2i.PIX2PIX.dataset(options)
    assert isinstance(pairs_, FacePairs) and pairs_.task == "grey" and len(pairs_) == 20
    assert i2i.PIX2PIX.make_objective(options).ablation == "l1"
    unpaired = i2i.CYCLEGAN.dataset(options)
    assert isinstance(unpaired, UnpairedFaces) and unpaired.__getitems__([0])[0].shape == (1, 3, 64, 64)
    assert i2i.grid_inputs(pairs_, 16).shape == (4, 1, 64, 64)  # only 4 held-out faces here
    for experiment, data, channels in ((i2i.PIX2PIX, pairs_, 1), (i2i.CYCLEGAN, unpaired, 3)):
        objective = experiment.make_objective(RunOptions(out=tmp_path))
        inputs, labels = objective.grid_inputs(dataclasses.replace(experiment, grid_size=2), data)  # held-out inputs
        assert labels is None and inputs.shape == (2, channels, 64, 64)
        assert objective.networks(experiment)["generator"](inputs).shape == (2, 3, 64, 64)
        batch = objective.batch(experiment, data.__getitems__([0, 1]), "cpu")  # (inputs, targets), no labels
        assert [tuple(t.shape[1:]) for t in batch] == [tuple(inputs.shape[1:]), (3, 64, 64)]
    checks = i2i.PIX2PIX.settings
    assert checks["ablation"]("ablation", "cgan") == "cgan"
    with pytest.raises(UserError, match="one of"):
        checks["task"]("task", "depth")


def test_declarations_are_registered_experiments():
    from gans.registry import get_experiment
    for declaration in (i2i.PIX2PIX, i2i.CYCLEGAN):
        assert get_experiment(declaration.name) is declaration
        assert isinstance(declaration.make_objective(RunOptions(out=None)), i2i.ImageToImage)


def tiny_cyclegan_experiment():
    """The registered cyclegan, with networks small enough for a test (the same objective code)."""
    import dataclasses
    from gans.registry import get_experiment
    return dataclasses.replace(
        get_experiment("cyclegan"), objective=lambda options: i2i.CycleGAN(ngf=4, blocks=1, ndf=4, pool_size=3),
        batch_size=2, epochs=3, sample_every=4, log_every=1, checkpoint_every=2, grid_size=4)


def test_a_cyclegan_run_resumes_exactly(faces_h5, tmp_path):
    """Stopped after 3 of 6 steps and resumed in a fresh Trainer, a CycleGAN run ends exactly where an
    uninterrupted one does: all four networks, both image pools, both optimisers, the history."""
    import dataclasses
    from gans.training import Trainer
    experiment = tiny_cyclegan_experiment()
    extra = {"h5": str(faces_h5), "train_limit": 4}  # batch 2: 2 steps an epoch

    def options(out, **changes):
        return dataclasses.replace(RunOptions(out=tmp_path / out, progress=False, extra=extra), **changes)

    whole = Trainer(experiment, options("whole"))
    whole.fit()
    first = Trainer(experiment, options("split", epochs=1.5))  # mid-epoch
    first.fit()
    assert first.step == 3
    resumed = Trainer(experiment, options("split", resume=True))
    resumed.fit()
    assert resumed.step == whole.step == 6
    for name in whole.nets:
        for a, b in zip(whole.nets[name].state_dict().values(), resumed.nets[name].state_dict().values()):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert (tmp_path / "split" / "history.csv").read_text() == (tmp_path / "whole" / "history.csv").read_text()
    summary = (tmp_path / "whole" / "summary.json").read_text()
    assert '"held_out"' in summary and '"ssim"' in summary


# --- real faces: a smoke test --------------------------------------------------------------

@pytest.fixture(scope="module")
def real_h5(shared_data, tmp_path_factory):
    source = shared_data / "celeba" / "img_align_celeba_558.zip"
    if not source.is_file():
        pytest.skip(f"{source} not found")
    out = tmp_path_factory.mktemp("celeba") / "celeba558.h5"
    build_hdf5(source, out, progress=False)
    return out


def test_two_steps_of_each_on_real_faces(real_h5):
    paired, unpaired = FacePairs(real_h5), UnpairedFaces(real_h5)
    for objective, data in ((i2i.Pix2Pix(), paired), (i2i.CycleGAN(blocks=1), unpaired)):
        batches = [data.__getitems__([0]), data.__getitems__([1])]
        trainer = FakeTrainer(objective, batches)
        for _ in range(2):
            stats = objective.step(trainer)
            assert all(math.isfinite(value) for value in stats)
    report = i2i.evaluate(trainer.nets["generator"], unpaired.pairs.held_out(), unpaired.pairs, count=4)
    assert report["faces"] == 4 and 0 < report["mean_face"]["ssim"] < 1


# --- evaluate for `python -m gans evaluate`: progress, and the experiments' metrics -----------

class Counter:
    """Stands in for a tqdm bar: adds up what update() is given."""

    def __init__(self):
        self.n = 0

    def update(self, count):
        self.n += count


def test_translate_and_image_metrics_advance_a_bar_by_each_face():
    G = i2i.Pix2Pix(ngf=4).networks()["generator"]
    bar = Counter()
    outputs = i2i.translate(G, mg.randn(5, 1, 64, 64), batch_size=2, bar=bar)
    assert bar.n == 5 and outputs.shape == (5, 3, 64, 64)
    i2i.image_metrics(outputs, outputs, bar=bar)
    assert bar.n == 10


def test_evaluate_shows_its_progress_on_stderr_when_asked(faces_h5, capsys):
    train = FacePairs(faces_h5)
    G = i2i.Pix2Pix(ngf=4).networks()["generator"]
    quiet = i2i.evaluate(G, train.held_out(), train)
    assert capsys.readouterr().err == ""
    assert i2i.evaluate(G, train.held_out(), train, progress=True) == quiet
    assert "held-out faces" in capsys.readouterr().err


def test_both_declarations_measure_with_the_image_to_image_objective():
    for declaration in (i2i.PIX2PIX, i2i.CYCLEGAN):
        objective = declaration.make_objective(RunOptions(out=None))
        assert declaration.metrics is None and declaration.noise is None  # no MNIST metrics, no noise
        for hook in ("batch", "grid_inputs", "summarize", "sample", "evaluate"):
            assert getattr(type(objective), hook) is getattr(i2i.ImageToImage, hook)
