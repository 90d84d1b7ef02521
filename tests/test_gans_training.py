"""The adversarial Trainer on tiny models: what each step updates, detach, exact resume, run outputs."""

import csv
import dataclasses
import json

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from gans.experiments import GANExperiment, adam, randn_noise
from gans.objectives import ClassicGAN
from gans.registry import ExperimentError, RunOptions, get_experiment
from gans.training import Trainer


class TinyData(mg.data.Dataset):
    """40 random 'images' of 6 values in [0, 1] with labels 0..3."""

    def __init__(self, n=40):
        rng = np.random.default_rng(7)
        self.images = rng.random((n, 6)).astype(np.float32)
        self.labels = np.arange(n) % 4

    def __len__(self):
        return len(self.images)

    def __getitems__(self, indices):
        return mg.tensor(self.images[indices]), mg.tensor(self.labels[indices])


def tiny_generator():
    return nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.BatchNorm1d(8), nn.Linear(8, 6), nn.Sigmoid())


def tiny_discriminator():
    return nn.Sequential(nn.Linear(6, 8), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(8, 1), nn.Sigmoid())


def tiny_experiment(loss="bce", d_update="joint", g_fresh_noise=False, **changes):
    """A tiny classic GAN; loss, d_update and g_fresh_noise are its ClassicGAN's."""
    experiment = GANExperiment(
        name="pattern-1010",  # a registered name, so that checkpoints can be loaded back
        title="tiny", generator=tiny_generator, discriminator=tiny_discriminator,
        dataset=lambda options: TinyData(), noise=randn_noise((3,)),
        g_optimizer=adam(1e-2, (0.5, 0.999)), d_optimizer=adam(1e-2, (0.5, 0.999)),
        objective=ClassicGAN(loss, d_update, g_fresh_noise), batch_size=8, epochs=3, image_shape=(2, 3),
        grid_size=4, sample_every=5, log_every=1, checkpoint_every=4)
    return dataclasses.replace(experiment, **changes)


def options(tmp_path, **changes):
    return dataclasses.replace(RunOptions(out=tmp_path / "run", progress=False), **changes)


def parameters(module):
    return [p.numpy().copy() for p in module.parameters()]


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("d_update", ["joint", "separate"])
def test_each_step_updates_only_its_network_and_detach_keeps_gradients_out_of_g(tmp_path, d_update):
    trainer = Trainer(tiny_experiment(d_update=d_update, g_fresh_noise=d_update == "separate"), options(tmp_path))
    g_before, d_before = parameters(trainer.G), parameters(trainer.D)
    seen = []

    def spy(name, optimizer):
        real_step = optimizer.step

        def step():
            seen.append((name, parameters(trainer.G), parameters(trainer.D),
                         [p.grad is None for p in trainer.G.parameters()]))
            real_step()
        optimizer.step = step

    spy("D", trainer.opt_D)
    spy("G", trainer.opt_G)
    trainer.train_step()

    names = [s[0] for s in seen]
    assert names == (["D", "D", "G"] if d_update == "separate" else ["D", "G"])
    for name, g_now, d_now, g_grads_none in seen:
        if name == "D":
            assert same(g_now, g_before), "a D step ran after G had moved"
            assert all(g_grads_none), "gradients reached G through the detached fake batch"
    d_at_g_step = seen[-1][2]
    assert not same(d_at_g_step, d_before), "D did not move in its own steps"
    assert same(parameters(trainer.D), d_at_g_step), "the G step moved D"
    assert not same(parameters(trainer.G), g_before), "G did not move in its step"


def read_history(folder):
    with open(folder / "history.csv") as file:
        return list(csv.DictReader(file))


def test_resume_continues_exactly(tmp_path):
    # log_every=2 with a stop at step 7: the unfinished history window must survive the checkpoint.
    experiment = tiny_experiment(log_every=2)
    whole = Trainer(experiment, options(tmp_path, out=tmp_path / "whole"))
    whole.fit()

    # Stop mid-epoch (7 steps of 5 per epoch), then resume in a fresh Trainer to the same end.
    first = Trainer(experiment, options(tmp_path, out=tmp_path / "split", epochs=1.4))
    first.fit()
    assert first.step == 7 and first.loader.state_dict()["position"] == 2
    resumed = Trainer(experiment, options(tmp_path, out=tmp_path / "split", resume=True))
    assert resumed.step == 7
    resumed.fit()

    assert resumed.step == whole.step == 15
    assert read_history(tmp_path / "split") == read_history(tmp_path / "whole")
    assert same(parameters(resumed.G), parameters(whole.G))
    assert same(parameters(resumed.D), parameters(whole.D))
    for a, b in zip(resumed.G.buffers(), whole.G.buffers()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_run_leaves_its_outputs(tmp_path):
    summary = Trainer(tiny_experiment(), options(tmp_path)).fit()
    run = tmp_path / "run"
    for name in ("checkpoint.npz", "history.csv", "loss.png", "summary.json", "config.json"):
        assert (run / name).exists(), name
    grids = sorted(p.name for p in (run / "samples").iterdir())
    assert grids == ["step_0000000.png", "step_0000005.png", "step_0000010.png", "step_0000015.png"]
    assert summary["steps"] == 15 and json.loads((run / "summary.json").read_text())["steps"] == 15
    rows = read_history(run)
    assert [int(r["step"]) for r in rows] == list(range(1, 16))
    assert all(0 < float(r["d_real"]) < 1 for r in rows)


def test_fixed_noise_gives_the_same_samples_when_nothing_changed(tmp_path):
    trainer = Trainer(tiny_experiment(), options(tmp_path))
    a = trainer.generate(trainer.fixed_noise).numpy()
    b = trainer.generate(trainer.fixed_noise).numpy()
    np.testing.assert_array_equal(a, b)
    assert trainer.G.training, "sampling must put G back in training mode"


def test_resume_without_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(ExperimentError, match="no checkpoint"):
        Trainer(tiny_experiment(), options(tmp_path, resume=True))


def test_book_batch_size_one(tmp_path):
    trainer = Trainer(tiny_experiment(batch_size=1, d_update="separate", g_fresh_noise=True,
                                      generator=lambda: nn.Sequential(nn.Linear(3, 6), nn.Sigmoid())),
                      options(tmp_path, epochs=0.25))
    summary = trainer.fit()
    assert summary["steps"] == 10 and summary["batch_size"] == 1


def test_pattern_gan_learns_the_1010_pattern_in_a_short_run(tmp_path):
    """Book 06 with its real settings (10,000 steps take ~8 s); the book got [0.94, 0.05, 0.94, 0.05]."""
    mg.manual_seed(0)
    summary = get_experiment("pattern-1010").run(options(tmp_path))
    a, b, c, d = summary["G(0.5)"]
    assert a >= 0.8 and b <= 0.2 and c >= 0.8 and d <= 0.2
    assert abs(summary["d_loss_recent_mean"] - 0.25) < 0.05
    assert (tmp_path / "run" / "pattern_history.png").exists()


class TurnsNaN(TinyData):
    """TinyData whose batches become NaN from the `bad`-th batch on: D's loss is NaN at that step."""

    def __init__(self, bad):
        super().__init__()
        self.bad, self.batches = bad, 0

    def __getitems__(self, indices):
        self.batches += 1
        images, labels = super().__getitems__(indices)
        return (images * float("nan") if self.batches >= self.bad else images), labels


def strict_json(path):
    """json.loads that refuses NaN and Infinity, as every other JSON reader does."""
    def refuse(constant):
        raise ValueError(f"{path} holds {constant}, which is not JSON")
    return json.loads(path.read_text(), parse_constant=refuse)


def test_divergence_stops_at_its_step_and_keeps_the_finite_checkpoint(tmp_path):
    from gans.errors import TrainingDiverged

    trainer = Trainer(tiny_experiment(dataset=lambda options: TurnsNaN(bad=6)), options(tmp_path))
    with pytest.raises(TrainingDiverged, match="diverged at step 6"):
        trainer.fit()
    run = tmp_path / "run"
    checkpoint = mg.load(run / "checkpoint.npz")
    assert checkpoint["step"] == 4  # the last regular checkpoint (every 4 steps), not replaced
    assert all(np.isfinite(value.numpy()).all() for value in checkpoint["generator"].values())
    summary = strict_json(run / "summary.json")
    assert summary["diverged"]["step"] == 6 and "d_loss_real" in summary["diverged"]["reason"]
    strict_json(run / "config.json")


def test_a_checkpoint_is_never_written_with_non_finite_weights(tmp_path):
    from gans.errors import TrainingDiverged

    trainer = Trainer(tiny_experiment(), options(tmp_path))
    trainer.out.mkdir(parents=True)
    next(trainer.G.parameters()).array[...] = float("inf")
    with pytest.raises(TrainingDiverged, match="no longer finite"):
        trainer.save_checkpoint()
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


@pytest.mark.parametrize("batch_size", [8, 1])  # eager (D's output checked), and captured (BCE refuses its NaN)
def test_diverged_training_exits_1_with_one_line(tmp_path, monkeypatch, capsys, batch_size):
    from gans import cli
    from gans.registry import EXPERIMENTS

    def generator():  # no BatchNorm: it needs more than one sample
        return nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 6), nn.Sigmoid())
    diverging = tiny_experiment(name="tiny-nan", dataset=lambda options: TurnsNaN(bad=2), batch_size=batch_size,
                                generator=generator)
    monkeypatch.setitem(EXPERIMENTS, "tiny-nan", diverging)
    code = cli.main(["train", "tiny-nan", "--out", str(tmp_path / "run"), "--no-progress"])
    errors = capsys.readouterr().err.strip()
    assert code == 1 and "diverged at step 2" in errors and len(errors.splitlines()) == 1
    strict_json(tmp_path / "run" / "summary.json")


# --- SIGTERM, numeric warnings, resuming another experiment's run, hostile checkpoints -------------

class SendsSigterm(TinyData):
    """TinyData that sends this process SIGTERM while its `at`-th batch is read."""

    def __init__(self, at):
        super().__init__()
        self.at, self.batches = at, 0

    def __getitems__(self, indices):
        import signal
        self.batches += 1
        if self.batches == self.at:
            signal.raise_signal(signal.SIGTERM)
        return super().__getitems__(indices)


def test_sigterm_finishes_the_step_saves_a_checkpoint_and_resumes_exactly(tmp_path):
    import signal

    from gans.errors import TrainingInterrupted, exit_status, sigterm_raises

    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        pytest.skip("SIGTERM is handled by someone else in this process")
    experiment = tiny_experiment(log_every=2)
    whole = Trainer(experiment, options(tmp_path, out=tmp_path / "whole"))
    whole.fit()

    stopped = Trainer(tiny_experiment(log_every=2, dataset=lambda options: SendsSigterm(at=3)),
                      options(tmp_path, out=tmp_path / "split"))
    with sigterm_raises(), pytest.raises(TrainingInterrupted, match="stopped at step 3 of 15") as interruption:
        stopped.fit()
    assert interruption.value.signal_number == signal.SIGTERM and exit_status(interruption.value) == 143
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # the handlers are put back
    assert mg.load(tmp_path / "split" / "checkpoint.npz")["step"] == 3

    resumed = Trainer(experiment, options(tmp_path, out=tmp_path / "split", resume=True))
    resumed.fit()
    assert read_history(tmp_path / "split") == read_history(tmp_path / "whole")
    assert same(parameters(resumed.G), parameters(whole.G))


def test_stop_signals_deferred_takes_over_only_the_default_handlers():
    import signal

    from gans.errors import raise_terminated, stop_signals_deferred

    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is handled by someone else in this process")
    mine = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: mine.append(signum))
    try:
        with stop_signals_deferred() as requested:
            assert requested() is None
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGTERM)           # the caller's own handler: left alone
            assert requested() == signal.SIGINT and mine == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        signal.signal(signal.SIGTERM, raise_terminated)   # the command line's: taken over
        with stop_signals_deferred() as requested:
            signal.raise_signal(signal.SIGTERM)
            assert requested() == signal.SIGTERM
        assert signal.getsignal(signal.SIGTERM) is raise_terminated
    finally:
        signal.signal(signal.SIGTERM, previous)


class Explodes(TinyData):
    """TinyData scaled to 1e30 (and SGD at 1e30 below): every matmul overflows at once."""

    def __getitems__(self, indices):
        images, labels = super().__getitems__(indices)
        return images * 1e30, labels


def test_a_diverging_run_prints_no_numpy_warnings(tmp_path):
    import warnings

    from gans.errors import TrainingDiverged
    from gans.experiments import sgd

    experiment = tiny_experiment(dataset=lambda options: Explodes(), g_optimizer=sgd(1e30), d_optimizer=sgd(1e30))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TrainingDiverged, match="diverged at step 1"):
            Trainer(experiment, options(tmp_path)).fit()
        np.ones(2, np.float32) * np.float32(1e38) * np.float32(1e38)  # outside the run: still warned
    messages = [str(w.message) for w in caught]
    assert messages == ["overflow encountered in multiply"], messages


def test_resuming_another_experiments_run_names_both_experiments(tmp_path):
    Trainer(tiny_experiment(epochs=0.2), options(tmp_path)).fit()   # a 'pattern-1010' checkpoint
    other = tiny_experiment(name="mnist-mlp", batch_size=4)          # also a different batch size
    with pytest.raises(ExperimentError) as error:
        Trainer(other, options(tmp_path, resume=True))
    message = str(error.value)
    assert "'pattern-1010'" in message and "'mnist-mlp'" in message and "--batch-size" not in message


def hostile_checkpoint(tmp_path, **changes):
    """A real tiny run's checkpoint with some entries replaced; returns the run folder."""
    Trainer(tiny_experiment(epochs=0.2), options(tmp_path)).fit()
    path = tmp_path / "run" / "checkpoint.npz"
    state = mg.load(path)
    state.update(changes)
    mg.save(state, path)
    return tmp_path / "run"


@pytest.mark.parametrize("changes, words", [
    ({"experiment": "mnist-mlp"}, ["mnist-mlp", "do not fit"]),
    ({"generator": "not a state dict"}, ["generator"]),
    ({"generator": {"0.weight": np.zeros(3, np.float32)}}, ["generator"]),
    ({"experiment": 7}, ["experiment"]),
    ({"experiment": "no-such-experiment"}, ["no-such-experiment"]),
    ({"step": "seven"}, ["step"]),
    ({"opt_g": [1, 2]}, ["opt_g"]),
    ({"history": {"step": 3}}, ["history"]),
])
def test_a_hostile_checkpoint_is_an_experiment_error_for_sample_and_resume(tmp_path, changes, words):
    from gans import catalog  # noqa: F401 (registers every experiment)
    from gans.registry import load_generator

    run = hostile_checkpoint(tmp_path, **changes)
    if set(changes) & {"experiment", "generator"}:  # what `sample` and `evaluate` read
        with pytest.raises(ExperimentError) as error:
            load_generator(run)
        assert "\n" not in str(error.value) and all(word in str(error.value) for word in words), error.value
    with pytest.raises(ExperimentError) as error:      # what --resume reads: all of it
        Trainer(tiny_experiment(), options(tmp_path, resume=True))
    assert "\n" not in str(error.value) and words[0] in str(error.value), error.value


@pytest.mark.parametrize("error", [ValueError("nested too deep"), TypeError("bad header"), RecursionError("deep"),
                                   MemoryError("huge array")])
def test_any_error_from_loading_a_checkpoint_is_one_line(tmp_path, monkeypatch, error):
    from gans.registry import read_checkpoint

    (tmp_path / "checkpoint.npz").write_bytes(b"PK\x03\x04")

    def load(path):
        raise error
    monkeypatch.setattr(mg, "load", load)
    with pytest.raises(ExperimentError, match="cannot read the checkpoint") as raised:
        read_checkpoint(tmp_path / "checkpoint.npz")
    assert "\n" not in str(raised.value)


def test_a_short_run_says_why_it_has_no_rank_correlation():
    from pathlib import Path

    from gans.training import describe_rank_correlation, rank_correlation_with_frechet

    checks = [{"step": 50, "frechet_distance": 90.0}, {"step": 100, "frechet_distance": 80.0}]
    rho = rank_correlation_with_frechet([25, 50, 75, 100], [1.0, 2.0, 3.0, 4.0], checks)
    short = {"steps": 100, "frechet": checks, "frechet_rank_correlation": {"wasserstein": rho}}
    text = describe_rank_correlation(short, "wasserstein")
    assert rho is None and "None" not in text
    assert "at least 3" in text and "measured 2" in text and "every 50 steps" in text and "--epochs" in text
    assert "measured no Fréchet distance" in describe_rank_correlation({"steps": 20}, "wasserstein")
    assert describe_rank_correlation({"frechet_rank_correlation": {"wasserstein": -0.8312}}, "wasserstein") == "-0.83"
    example = (Path(__file__).resolve().parent.parent / "examples" / "17_wgan_mnist.py").read_text()
    assert "describe_rank_correlation(summary" in example   # what example 17 prints


@pytest.mark.parametrize("loss, d_update, fresh", [("bce", "joint", False), ("mse", "separate", True)])
def test_a_captured_step_trains_exactly_as_the_eager_one(tmp_path, loss, d_update, fresh):
    # at batch size 1, where the Trainer captures: dropout's masks and the noise drawn inside the step replay
    def generator():  # no BatchNorm: the book's steps are at batch size 1
        return nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 6), nn.Sigmoid())
    runs = {}
    for compiled in (True, False):
        trainer = Trainer(tiny_experiment(loss, d_update, fresh, generator=generator, batch_size=1, epochs=0.5,
                                          sample_every=7, checkpoint_every=9, log_every=3),
                          options(tmp_path / str(compiled), compile=compiled))
        trainer.fit()
        runs[compiled] = trainer
    captured, eager = runs[True], runs[False]
    tapes = [case for step in captured.captured.values() for case in step.cases.values()]
    assert len(tapes) == 1 and type(tapes[0]).__name__ == "Tape"  # replayed from call 4 on
    assert not eager.captured
    assert captured.history == eager.history
    for name in ("generator", "discriminator"):
        assert same(parameters(captured.nets[name]), parameters(eager.nets[name]))
        assert same([b.numpy() for b in captured.nets[name].buffers()], [b.numpy() for b in eager.nets[name].buffers()])


def test_a_convolutional_step_at_a_larger_batch_runs_eagerly_and_an_mlps_is_captured(tmp_path):
    # Trainer.captures: a convolution at batch 8 runs eagerly (its products dominate, a tape's memory
    # does not pay); the MLPs' step at batch 8 is captured, and trains as the eager one does
    def conv_discriminator():
        return nn.Sequential(nn.Unflatten(1, (1, 2, 3)), nn.Conv2d(1, 4, 2), nn.LeakyReLU(0.2), nn.Flatten(),
                             nn.Linear(8, 1), nn.Sigmoid())
    conv = Trainer(tiny_experiment(discriminator=conv_discriminator), options(tmp_path / "conv"))
    for _ in range(4):
        conv.train_step()
    assert not conv.captured
    runs = {}
    for compiled in (True, False):
        trainer = Trainer(tiny_experiment(), options(tmp_path / str(compiled), compile=compiled))
        runs[compiled] = [trainer.train_step() for _ in range(6)], trainer
    (captured_stats, captured), (eager_stats, eager) = runs[True], runs[False]
    tapes = [case for step in captured.captured.values() for case in step.cases.values()]
    assert len(tapes) == 1 and type(tapes[0]).__name__ == "Tape"
    assert captured_stats == eager_stats
    for name in ("generator", "discriminator"):
        assert same(parameters(captured.nets[name]), parameters(eager.nets[name]))


def test_a_captured_step_whose_weights_diverged_reports_nan_not_a_traceback(tmp_path):
    def generator():
        return nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 6), nn.Sigmoid())
    trainer = Trainer(tiny_experiment(generator=generator, batch_size=1), options(tmp_path))
    for _ in range(4):  # call 4 replays the tape
        assert all(np.isfinite(trainer.train_step()))
    with mg.no_grad():
        next(trainer.D.parameters()).fill_(float("nan"))
    stats = trainer.train_step()  # BCE refuses D's NaN output inside the replay
    assert len(stats) == len(trainer.columns) and all(np.isnan(stats))
