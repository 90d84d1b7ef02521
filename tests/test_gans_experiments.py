"""Every registered experiment: its networks fit together; tiny end-to-end runs of the conv GANs;
the conditional GAN's labels go where they should."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import gans.catalog  # noqa: F401 (registers every experiment)
from gans import metrics
from gans.experiments import ImagesWithoutLabels
from gans.registry import EXPERIMENTS, RunOptions, get_experiment
from gans.training import Trainer

# Image-to-image GANs (G translates images, no noise) have their own tests in test_gans_image_to_image.py.
GANS = sorted(name for name, e in EXPERIMENTS.items() if e.kind == "gan" and e.noise is not None)
# BEGAN's D is an autoencoder: its verdict is a reconstruction of its input. Its G, as the paper's,
# ends without tanh, so its samples may leave the pixel range (the grids clip them).
AUTOENCODER_D = {"began"}


@pytest.mark.parametrize("name", GANS)
def test_generator_output_fits_the_discriminator(name):
    experiment = get_experiment(name)
    mg.manual_seed(0)
    G, D = experiment.generator(), experiment.discriminator()
    noise = experiment.noise(2)
    labels = experiment.encode_labels([3, 7]) if experiment.conditional else None
    with mg.no_grad():
        fake = G(noise, labels) if labels is not None else G(noise)
        verdict = D(fake, labels) if labels is not None else D(fake)
    if name in AUTOENCODER_D:
        assert verdict.shape == fake.shape == (2, *experiment.image_shape)
        return
    assert verdict.shape == (2, 1) or verdict.shape == (2, 1, 1, 1)
    if experiment.objective is None:  # the classic GAN's D gives probabilities; a WGAN critic, scores
        assert np.all((verdict.numpy() > 0) & (verdict.numpy() < 1))
    if experiment.image_shape is not None:
        assert fake.numel() == 2 * int(np.prod(experiment.image_shape))
    low, high = experiment.pixel_range
    assert fake.numpy().min() >= low and fake.numpy().max() <= high


class RandomFaces(mg.data.Dataset):
    """Stand-in for CelebA: random (3, 128, 128) images."""

    def __len__(self):
        return 4

    def __getitems__(self, indices):
        return mg.rand(len(indices), 3, 128, 128)


class RandomDigits(mg.data.Dataset):
    """Stand-in for MNIST as the tutorial GAN reads it: 120 random flat images in [-1, 1]."""

    def __len__(self):
        return 120

    def __getitems__(self, indices):
        return mg.rand(len(indices), 784) * 2 - 1


def test_a_run_draws_the_same_numbers_whatever_ran_before_it_in_the_process(tmp_path, monkeypatch):
    """The collapse alarm loads the metrics classifier once per process, in the first run that has
    an alarm. That must not move the run's seeded random stream (its initial weights were drawn
    already; its noise and dropout come after), or a run would give other numbers as the first in
    a process (the CLI) than after another (a notebook, the slow tests)."""
    monkeypatch.setattr(metrics, "_shared_classifiers", {})  # as in a fresh process
    experiment = dataclasses.replace(get_experiment("mnist-mlp"),
                                     dataset=lambda options: ImagesWithoutLabels(RandomDigits()))
    assert experiment.alarm_every

    def first_steps(out):
        trainer = Trainer(experiment, RunOptions(out=out, epochs=1, progress=False))
        return [trainer.train_step() for _ in range(2)]
    first = first_steps(tmp_path / "first")  # loads the classifier
    assert metrics._shared_classifiers
    assert first_steps(tmp_path / "again") == first  # finds it loaded


@pytest.mark.parametrize("name", ["celeba-conv", "celeba-conv-gelu"])
def test_conv_face_gan_trains_end_to_end(tmp_path, name):
    experiment = dataclasses.replace(get_experiment(name), dataset=lambda options: ImagesWithoutLabels(RandomFaces()),
                                     grid_size=2, sample_every=0, checkpoint_every=0)
    summary = Trainer(experiment, RunOptions(out=tmp_path / name, epochs=0.5, progress=False)).fit()
    assert summary["steps"] == 2
    assert (tmp_path / name / "samples" / "step_0000002.png").exists()


def test_dcgan_trains_and_samples_in_eval_mode(tmp_path, shared_data):
    experiment = dataclasses.replace(get_experiment("dcgan"), sample_every=0, checkpoint_every=0, alarm_every=0)
    options = RunOptions(out=tmp_path / "dcgan", epochs=1, data_dir=shared_data, progress=False,
                         extra={"train_limit": 120})
    trainer = Trainer(experiment, options)
    trainer.fit()
    bn = next(m for m in trainer.G.modules() if type(m).__name__ == "BatchNorm2d")
    assert int(bn.num_batches_tracked.item()) == 2  # only training steps move the running statistics
    a = trainer.generate(trainer.fixed_noise[:3]).numpy()
    b = trainer.generate(trainer.fixed_noise[:3]).numpy()
    np.testing.assert_array_equal(a, b)  # eval mode: the running statistics, not the batch's
    assert int(bn.num_batches_tracked.item()) == 2


def test_conditional_grid_has_one_row_per_digit():
    experiment = get_experiment("mnist-conditional")
    labels = experiment.grid_labels().numpy().argmax(axis=1)
    rows = labels.reshape(10, experiment.grid_columns)
    assert (rows == np.arange(10)[:, None]).all()


def test_conditional_training_routes_labels(tmp_path):
    """D-fake gets the label G drew for; the G step draws its own label; the real step the data's."""
    experiment = get_experiment("mnist-conditional")
    seen = []

    class Spy(mg.nn.Module):
        def __init__(self, inner, role):
            super().__init__()
            self.inner, self.role = inner, role

        def forward(self, x, label):
            out = self.inner(x, label)
            seen.append((self.role, label.numpy().argmax(axis=1).tolist(), x if self.role == "D" else out))
            return out

    class Digits(mg.data.Dataset):
        def __len__(self):
            return 8

        def __getitems__(self, indices):
            return mg.rand(len(indices), 784), mg.tensor(np.asarray(indices) % 10)

    spied = dataclasses.replace(
        experiment, dataset=lambda options: Digits(), alarm_every=0, sample_every=0, checkpoint_every=0,
        generator=lambda: Spy(experiment.generator(), "G"), discriminator=lambda: Spy(experiment.discriminator(), "D"))
    trainer = Trainer(spied, RunOptions(out=tmp_path / "c", progress=False))
    seen.clear()
    real, labels = trainer.dataset.__getitems__(np.array([5]))
    trainer.next_batch = lambda: (real, experiment.encode_labels(labels))
    trainer.train_step()
    roles = [role for role, _, _ in seen]
    assert roles == ["D", "G", "D", "G", "D"]
    (_, real_label, _), (_, fake_label, fake), (_, d_fake_label, d_fake_input), (_, g_label, _), (_, d_g_label, _) = seen
    assert real_label == [5]
    assert d_fake_label == fake_label            # D judges the fake with the label G drew it for
    assert d_g_label == g_label                  # ... and in the G step with the G step's own label
    np.testing.assert_array_equal(d_fake_input.numpy(), fake.numpy())  # the detached fake, unchanged


@pytest.mark.parametrize("name", ["celeba-mlp", "celeba-conv", "pix2pix", "cyclegan", "began"])
def test_images_too_small_for_an_experiment_are_one_line_naming_the_size_needed(tmp_path, name):
    import h5py

    from gans.errors import UserError
    path = tmp_path / "small.h5"
    with h5py.File(path, "w") as file:
        file.create_dataset("images", data=np.zeros((20, 32, 32, 3), np.uint8))
    with pytest.raises(UserError) as error:
        get_experiment(name).dataset(RunOptions(out=tmp_path / "run", extra={"h5": str(path)}, progress=False))
    message = str(error.value)
    needed = "218x178" if name == "celeba-mlp" else "at least 128x128"
    assert "\n" not in message and "32x32" in message and needed in message, message



def test_the_estimate_against_frechet_example_runs_on_a_wgan_and_a_classic_run(tmp_path):
    """examples/wgan_estimate_vs_frechet.py on two small run folders: a WGAN's (its estimate is a
    history column) and a classic GAN's (its D loss comes from the experiment's objective, looked
    up by name), as a user runs it: in a fresh process."""
    steps = range(10, 210, 10)
    for name, columns in (("wgan", ["wasserstein", "g_loss"]), ("dcgan", ["d_loss_real", "d_loss_fake", "g_loss"])):
        run = tmp_path / name
        run.mkdir()
        frechet = [{"step": step, "frechet_distance": 1000.0 / step} for step in steps[4::5]]
        (run / "summary.json").write_text(json.dumps({"experiment": name, "frechet": frechet,
                                                      "last_logged": dict.fromkeys(columns, 0.5)}))
        rows = ["step,epoch," + ",".join(columns)] + [f"{s},{s / 100},{','.join([str(1 / s)] * len(columns))}"
                                                        for s in steps]
        (run / "history.csv").write_text("\n".join(rows) + "\n")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(root / "examples" / "wgan_estimate_vs_frechet.py"), str(tmp_path / "wgan"),
                           str(tmp_path / "dcgan"), "--out", str(tmp_path / "figure.png")],
                          capture_output=True, text=True, cwd=root)
    assert done.returncode == 0, done.stderr
    assert "rho(wasserstein, Fréchet distance) = +1.00" in done.stdout
    assert "rho(watched_loss, Fréchet distance) = +1.00" in done.stdout and (tmp_path / "figure.png").exists()
