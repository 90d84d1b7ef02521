"""Objectives (gans/objectives.py): the classic step is the Trainer's old step, bit for bit; any family
plugs into the Trainer; the imbalance alarm; checkpoints keep every network and optimiser."""

import dataclasses
import json

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from gans.objectives import ClassicGAN, Objective
from gans.training import IMBALANCE_LOSS, IMBALANCE_ROWS, Trainer, imbalance_episodes, rank_correlation_with_frechet
from tests.test_gans_training import options, parameters, same, tiny_experiment


def old_train_step(trainer):
    """The Trainer's step before objectives existed (gans/training.py at 9a18ca1), kept word for word
    but for where it reads its three settings (then the experiment's, now the objective's)."""
    exp, G, D = trainer.objective, trainer.G, trainer.D
    loss_of = {"bce": mg.nn.functional.binary_cross_entropy, "mse": mg.nn.functional.mse_loss}[exp.loss]
    from gans.models import with_labels
    real, labels = trainer.next_batch()
    n = real.shape[0]
    d_real = with_labels(D, real, labels)
    loss_real = loss_of(d_real, mg.ones_like(d_real))
    trainer.opt_D.zero_grad()
    loss_real.backward()
    if exp.d_update == "separate":
        trainer.opt_D.step()
    z, fake_labels = trainer.draw_noise(n)
    fake = with_labels(G, z, fake_labels)
    d_fake = with_labels(D, fake.detach(), fake_labels)
    loss_fake = loss_of(d_fake, mg.zeros_like(d_fake))
    if exp.d_update == "separate":
        trainer.opt_D.zero_grad()
    loss_fake.backward()
    trainer.opt_D.step()
    if exp.g_fresh_noise:
        z, fake_labels = trainer.draw_noise(n)
        fake = with_labels(G, z, fake_labels)
    d_generated = with_labels(D, fake, fake_labels)
    loss_g = loss_of(d_generated, mg.ones_like(d_generated))
    trainer.opt_G.zero_grad()
    loss_g.backward()
    trainer.opt_G.step()
    return (loss_real.item(), loss_fake.item(), loss_g.item(),
            float(d_real.array.mean()), float(d_fake.array.mean()))


@pytest.mark.parametrize("loss, d_update, g_fresh_noise", [("bce", "joint", False), ("bce", "separate", True),
                                                           ("mse", "separate", False)])
def test_classic_objective_is_the_old_step_exactly(tmp_path, loss, d_update, g_fresh_noise):
    experiment = tiny_experiment(loss=loss, d_update=d_update, g_fresh_noise=g_fresh_noise)
    # One after the other: both draw noise and dropout masks from minigrad's one seeded generator.
    new = Trainer(experiment, options(tmp_path, out=tmp_path / "new"))
    assert isinstance(new.objective, ClassicGAN) and new.columns == ClassicGAN.columns
    new_stats = [new.train_step() for _ in range(7)]  # past the end of an epoch (5 steps)
    old = Trainer(experiment, options(tmp_path, out=tmp_path / "old"))
    old_stats = [old_train_step(old) for _ in range(7)]
    assert new_stats == old_stats
    assert same(parameters(new.G), parameters(old.G)) and same(parameters(new.D), parameters(old.D))


def test_classic_checkpoint_keeps_its_old_keys(tmp_path):
    trainer = Trainer(tiny_experiment(epochs=0.4), options(tmp_path))
    trainer.fit()
    state = mg.load(tmp_path / "run" / "checkpoint.npz")
    assert {"generator", "discriminator", "opt_g", "opt_d"} <= set(state)


class Pinned(Objective):
    """A family with its own networks, two optimisers under new names and a D loss pinned near 0
    from step `pinned_from` on: the alarm must fire once, when most of the last IMBALANCE_ROWS rows
    are pinned."""

    columns = ("critic_loss", "g_loss")

    def __init__(self, pinned_from):
        self.pinned_from = pinned_from

    def networks(self, experiment):
        return {"generator": experiment.generator(), "judge": nn.Sequential(nn.Linear(6, 1))}

    def optimizers(self, experiment, nets):
        return {"generator": mg.optim.SGD(nets["generator"].parameters(), lr=0.01),
                "judge": mg.optim.Adam(nets["judge"].parameters(), lr=0.01)}

    def step(self, trainer):
        real, _ = trainer.next_batch()
        z, _ = trainer.draw_noise(real.shape[0])
        loss = ((trainer.nets["judge"](real) - trainer.nets["judge"](trainer.nets["generator"](z))) ** 2).mean()
        for optimizer in trainer.optimizers.values():
            optimizer.zero_grad()
        loss.backward()
        for optimizer in trainer.optimizers.values():
            optimizer.step()
        pinned = trainer.step + 1 >= self.pinned_from
        return (0.001 if pinned else 1.0, loss.item())

    def watched_loss(self, stats):
        return stats["critic_loss"]


def test_a_new_family_plugs_in_and_the_imbalance_alarm_fires_once(tmp_path, capsys):
    experiment = tiny_experiment(objective=Pinned(pinned_from=16), epochs=8, checkpoint_every=0)  # 40 steps
    summary = Trainer(experiment, options(tmp_path)).fit()
    printed = capsys.readouterr().out + capsys.readouterr().err
    assert printed.count("imbalance alarm") == 1
    # pinned from step 16: the 20 rows up to step 26 are the first with 11 pinned, a pinned median
    assert f"[step 26] imbalance alarm: the discriminator's loss has a median below {IMBALANCE_LOSS} " \
           f"over the last {IMBALANCE_ROWS} history rows" in printed
    episodes = summary["imbalance"]["episodes"]
    assert episodes == [{"from_step": 26, "to_step": 40, "rows": 15, "max_median": 0.001}]
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["imbalance"]["episodes"] == episodes
    state = mg.load(tmp_path / "run" / "checkpoint.npz")
    assert {"generator", "judge", "opt_g", "opt_judge"} <= set(state)


class Translator(Objective):
    """A family without noise: G maps the batch's labels (as a 6-value image) to images; its batches,
    grids and summary come from its own hooks, which the Trainer must use."""

    columns = ("l2",)

    def networks(self, experiment):
        return {"generator": nn.Sequential(nn.Linear(6, 6))}

    def optimizers(self, experiment, nets):
        return {"generator": mg.optim.SGD(nets["generator"].parameters(), lr=0.1)}

    def batch(self, experiment, batch, device):
        images, labels = batch  # (inputs, targets): the label spread over 6 values, and the image
        return labels.float().view(-1, 1).expand(-1, 6).to(device) / 4, images.to(device)

    def grid_inputs(self, experiment, dataset):
        return mg.full((experiment.grid_size, 6), 0.5), None

    def step(self, trainer):
        inputs, targets = trainer.next_batch()
        loss = ((trainer.nets["generator"](inputs) - targets) ** 2).mean()
        trainer.optimizers["generator"].zero_grad()
        loss.backward()
        trainer.optimizers["generator"].step()
        return (loss.item(),)

    def summarize(self, trainer):
        return {"grid_mean": round(float(trainer.generate(trainer.fixed_noise).numpy().mean()), 6)}


def test_a_family_brings_its_own_batches_grid_inputs_and_summary(tmp_path):
    experiment = tiny_experiment(objective=Translator(), noise=None, epochs=1)
    trainer = Trainer(experiment, options(tmp_path))
    assert np.array_equal(trainer.fixed_noise.numpy(), np.full((4, 6), 0.5, np.float32)) and trainer.fixed_labels is None
    inputs, targets = trainer.next_batch()
    assert inputs.shape == targets.shape == (8, 6) and set(np.unique(inputs.numpy()) * 4) <= {0, 1, 2, 3}
    summary = trainer.fit()
    expected = trainer.generate(mg.full((4, 6), 0.5)).numpy().mean()
    assert summary["grid_mean"] == pytest.approx(expected, abs=1e-6) and "l2" in summary["last_logged"]
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["grid_mean"] == summary["grid_mean"]


def test_the_default_hooks_are_those_of_a_gan_drawn_from_noise(tmp_path):
    experiment = tiny_experiment(num_classes=4)
    objective = ClassicGAN()
    inputs, labels = objective.grid_inputs(experiment, None)
    assert inputs.shape == (4, 3) and labels.shape == (4, 4)  # noise (3 values), one-hot labels of 4 classes
    images, one_hot = objective.batch(experiment, (mg.zeros(2, 6), mg.tensor([1, 3])), "cpu")
    assert images.shape == (2, 6) and one_hot.numpy().tolist() == [[0, 1, 0, 0], [0, 0, 0, 1]]
    assert objective.batch(tiny_experiment(), (mg.zeros(2, 6), mg.tensor([1, 3])), "cpu")[1] is None
    assert objective.summarize(None) == {}


def test_resume_with_a_new_family_restores_every_network_and_optimiser(tmp_path):
    experiment = tiny_experiment(objective=Pinned(pinned_from=100), log_every=2)
    whole = Trainer(experiment, options(tmp_path, out=tmp_path / "whole"))
    whole.fit()
    Trainer(experiment, options(tmp_path, out=tmp_path / "split", epochs=1.4)).fit()
    resumed = Trainer(experiment, options(tmp_path, out=tmp_path / "split", resume=True))
    resumed.fit()
    for name in ("generator", "judge"):
        assert same(parameters(resumed.nets[name]), parameters(whole.nets[name])), name
    assert (tmp_path / "split" / "history.csv").read_text() == (tmp_path / "whole" / "history.csv").read_text()


def test_imbalance_episodes_on_a_fake_history():
    steps = list(range(10, 310, 10))                     # 30 rows
    watched = [1.2] * 10 + [0.01] * 15 + [1.0] * 4 + [None]
    # the window of 20 rows ending at row i holds i - 9 lows up to row 24, then 15: its median is
    # 0.01 once they are 11 or more, at rows 20..28 (row 29's window holds the None)
    episodes = imbalance_episodes(steps, watched)
    assert [(e["from_step"], e["to_step"]) for e in episodes] == [(210, 290)]
    assert episodes[0]["rows"] == 9 and episodes[0]["max_median"] == 0.01
    assert imbalance_episodes(steps, watched, threshold=0.01) == []       # below, not at
    assert imbalance_episodes(steps, watched, rows=31) == []              # fewer rows than a window
    assert imbalance_episodes(steps, [0.0] * 30)[0]["to_step"] == 300    # a stretch to the end counts
    assert imbalance_episodes(steps, [None] * 30) == []                   # nothing watched


def test_imbalance_fires_on_a_noisy_winning_discriminator_and_not_on_dips():
    rng = np.random.default_rng(0)
    steps = list(range(1, 201))
    # book 14: D wins most single steps (loss 0.005-0.08) with one step in three a spike (0.2-0.8)
    winning = [rng.uniform(0.2, 0.8) if i % 3 == 0 else rng.uniform(0.005, 0.08) for i in steps]
    assert imbalance_episodes(steps, winning)[0]["from_step"] == 20   # as soon as there is a window
    # a balanced D (around 2 ln 2) with a deep dip one step in three never fires
    balanced = [0.01 if i % 3 == 0 else rng.uniform(0.9, 1.6) for i in steps]
    assert imbalance_episodes(steps, balanced) == []


def test_imbalance_alarm_is_quiet_for_a_balanced_classic_run(tmp_path):
    summary = Trainer(tiny_experiment(), options(tmp_path)).fit()
    assert summary["imbalance"]["episodes"] == []


def test_frechet_rank_correlation_pairs_each_check_with_the_rows_before_it():
    history = {"step": [1, 2, 3, 4, 5, 6], "w": [5.0, 7.0, 4.0, 2.0, 1.0, 1.0]}
    frechet = [{"step": 2, "frechet_distance": 90.0}, {"step": 4, "frechet_distance": 50.0},
               {"step": 6, "frechet_distance": 20.0}]
    # means 6, 3, 1 against 90, 50, 20: the same order
    assert rank_correlation_with_frechet(history["step"], history["w"], frechet) == pytest.approx(1.0)
    assert rank_correlation_with_frechet(history["step"], history["w"], frechet[:2]) is None  # under 3 pairs


def test_rank_correlation_matches_scipy():
    from gans.metrics import rank_correlation
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=40), rng.normal(size=40)
    a[5] = a[6] = a[7]  # ties
    assert rank_correlation(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)
    assert rank_correlation([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)


def test_frechet_every_refuses_an_experiment_without_mnist_metrics(tmp_path):
    from gans.registry import ExperimentError
    with pytest.raises(ExperimentError, match="needs MNIST metrics"):
        Trainer(dataclasses.replace(tiny_experiment(), frechet_every=2), options(tmp_path))
