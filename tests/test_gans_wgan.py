"""The WGAN family (gans/wgan.py) on tiny sizes: each objective's step, the gradient penalty against
PyTorch, exact resume, and the Fréchet-distance hook on a two-step MNIST run."""

import dataclasses

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import gans.catalog  # noqa: F401 (registers every experiment)
from gans.experiments import adam, rmsprop
from gans.registry import RunOptions, get_experiment
from gans.training import Trainer
from gans.wgan import WGAN, WGANGP, gradient_penalty
from tests.test_gans_training import options, parameters, read_history, same, tiny_experiment



def tiny_critic(nn=nn):
    return nn.Sequential(nn.Linear(6, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))


def tiny_wgan(objective, **changes):
    optimiser = rmsprop(5e-3) if type(objective) is WGAN else adam(1e-3, (0.0, 0.9))
    return tiny_experiment(objective=objective, discriminator=tiny_critic, g_optimizer=optimiser,
                           d_optimizer=optimiser, **changes)


def counting_batches(trainer):
    calls = []
    real_next_batch = trainer.next_batch

    def next_batch():
        calls.append(1)
        return real_next_batch()
    trainer.next_batch = next_batch
    return calls


def test_wgan_step_clips_the_critic_and_takes_n_critic_batches(tmp_path):
    trainer = Trainer(tiny_wgan(WGAN(n_critic=3, clip=0.01)), options(tmp_path))
    assert set(trainer.nets) == {"generator", "critic"} and trainer.D is None
    g_before, c_before = parameters(trainer.G), parameters(trainer.nets["critic"])
    batches = counting_batches(trainer)
    wasserstein, g_loss = trainer.train_step()
    assert len(batches) == 3
    for p in trainer.nets["critic"].parameters():
        assert np.abs(p.numpy()).max() <= 0.01
    assert not same(parameters(trainer.nets["critic"]), c_before)
    assert not same(parameters(trainer.G), g_before)
    assert np.isfinite(wasserstein) and np.isfinite(g_loss)
    # 40 samples, batches of 8, 3 batches a step: 1 step per epoch, 3 epochs
    assert trainer.total_steps() == 3


def test_wgan_gp_step_moves_both_networks_and_reports_its_penalty(tmp_path):
    trainer = Trainer(tiny_wgan(WGANGP(n_critic=2)), options(tmp_path))
    g_before, c_before = parameters(trainer.G), parameters(trainer.nets["critic"])
    batches = counting_batches(trainer)
    _, penalty, _ = trainer.train_step()
    assert len(batches) == 2 and penalty > 0
    assert not same(parameters(trainer.nets["critic"]), c_before) and not same(parameters(trainer.G), g_before)
    assert np.abs(np.concatenate([p.ravel() for p in parameters(trainer.nets["critic"])])).max() > 0.01  # no clip


def test_the_critic_steps_leave_g_alone(tmp_path):
    """Only the last optimiser step of a WGAN step may move G: spy on G's optimiser."""
    trainer = Trainer(tiny_wgan(WGANGP(n_critic=3)), options(tmp_path))
    g_before = parameters(trainer.G)
    seen = []
    critic_step = trainer.optimizers["critic"].step

    def spy():
        seen.append(same(parameters(trainer.G), g_before))
        critic_step()
    trainer.optimizers["critic"].step = spy
    trainer.train_step()
    assert seen == [True, True, True]


@pytest.mark.parametrize("make_critic, shape", [
    (lambda nn: nn.Sequential(nn.Linear(6, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1)), (5, 6)),
    (lambda nn: nn.Sequential(nn.Conv2d(1, 3, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(3, 1, 4)), (4, 1, 8, 8)),
])
def test_gradient_penalty_and_its_gradient_match_pytorch(make_critic, shape):
    torch = pytest.importorskip("torch")
    mg.manual_seed(4)
    critic = make_critic(nn).double()
    theirs = make_critic(torch.nn).double()
    theirs.load_state_dict({name: torch.from_numpy(t.numpy().copy()) for name, t in critic.state_dict().items()})
    rng = np.random.default_rng(5)
    real, fake = rng.standard_normal(shape), rng.standard_normal(shape)
    eps = rng.uniform(size=(shape[0],) + (1,) * (len(shape) - 1))

    penalty = gradient_penalty(critic, mg.tensor(real), mg.tensor(fake), eps=mg.tensor(eps))
    penalty.backward()

    # The textbook PyTorch code (Gulrajani et al.'s, as everyone writes it).
    r, f, e = (torch.from_numpy(a) for a in (real, fake, eps))
    x_hat = (e * r + (1 - e) * f).requires_grad_(True)
    grad, = torch.autograd.grad(theirs(x_hat).sum(), x_hat, create_graph=True)
    expected = ((grad.view(len(grad), -1).norm(2, dim=1) - 1) ** 2).mean()
    expected.backward()

    np.testing.assert_allclose(penalty.item(), expected.item(), rtol=1e-10)
    # The critic's input gradient does not depend on its biases: their penalty gradient is 0, and
    # an engine may leave it unset (None) rather than fill it with zeros.
    for (name, p), q in zip(critic.named_parameters(), theirs.parameters()):
        ours = p.grad.numpy() if p.grad is not None else np.zeros(p.shape)
        expected_grad = q.grad.numpy() if q.grad is not None else np.zeros(tuple(q.shape))
        np.testing.assert_allclose(ours, expected_grad, rtol=1e-8, atol=1e-12, err_msg=name)
        if not name.endswith("bias"):
            assert np.abs(ours).max() > 1e-6, name


@pytest.mark.parametrize("objective", [WGAN(n_critic=2), WGANGP(n_critic=2)], ids=["wgan", "wgan-gp"])
def test_wgan_resume_continues_exactly(tmp_path, objective):
    # 40 samples, batches of 8, 2 batches a step: 2 steps an epoch (the 5th batch ends the epoch
    # unused); 3 epochs = 6 steps, split after 3 (mid-epoch) with an unfinished history window.
    experiment = tiny_wgan(objective, log_every=2, checkpoint_every=0)
    whole = Trainer(experiment, options(tmp_path, out=tmp_path / "whole"))
    whole.fit()
    Trainer(experiment, options(tmp_path, out=tmp_path / "split", epochs=1.5)).fit()
    resumed = Trainer(experiment, options(tmp_path, out=tmp_path / "split", resume=True))
    assert resumed.step == 3
    resumed.fit()
    assert resumed.step == whole.step == 6
    assert read_history(tmp_path / "split") == read_history(tmp_path / "whole")
    for name in ("generator", "critic"):
        assert same(parameters(resumed.nets[name]), parameters(whole.nets[name])), name
    state = mg.load(tmp_path / "split" / "checkpoint.npz")
    assert {"generator", "critic", "opt_g", "opt_critic"} <= set(state)


def small_mnist_generator():
    return nn.Sequential(nn.Flatten(), nn.Linear(100, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))


def small_mnist_critic():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 1))


def test_wgan_gp_on_mnist_trains_two_steps_with_the_frechet_hook(tmp_path, shared_data):
    """The wgan-gp declaration (data, noise, objective) with one-layer networks, on 300 MNIST images in
    batches of 30: two steps of 5 critic batches each, a Fréchet distance after each. (The real
    networks fit together: test_gans_experiments.py; their step costs seconds.)"""
    name = "wgan-gp"
    experiment = dataclasses.replace(get_experiment(name), generator=small_mnist_generator,
                                     discriminator=small_mnist_critic, frechet_samples=200, sample_every=0,
                                     checkpoint_every=0, alarm_every=0)
    run = RunOptions(out=tmp_path / name, data_dir=shared_data, progress=False, epochs=1, batch_size=30,
                     extra={"train_limit": 300, "frechet_every": 1})
    summary = Trainer(experiment, run).fit()
    assert summary["steps"] == 2
    assert [check["step"] for check in summary["frechet"]] == [1, 2]
    assert all(check["frechet_distance"] > 0 for check in summary["frechet"])
    assert set(summary["frechet_rank_correlation"]) == set(experiment.objective.columns)
