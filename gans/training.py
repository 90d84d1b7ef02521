"""The adversarial training loop: one loop for every GAN experiment.

What one training step does is the experiment's objective (gans/objectives.py): the
book's and the tutorial's GANs use ClassicGAN (D on real, D on the detached fake, G
through D); the WGANs bring their own (gans/wgan.py). The objective names the networks
and optimisers, takes batches and noise from the Trainer, and returns the step's
statistics, one per column of the history.

Around the steps the Trainer keeps, for every family: a tqdm bar, a loss history (CSV),
sample grids from a FIXED noise batch, the loss plot with the objective's ideal line,
atomic checkpoints (every network and optimiser) from which --resume continues exactly,
a mode-collapse alarm, an imbalance alarm (D's loss pinned near zero), and, when asked,
the Fréchet distance every few steps (`frechet_every`).

And it guards the run:
  - a loss that is not a finite number stops training at once (TrainingDiverged),
    naming the step; a checkpoint is only ever written with finite weights, so the
    last good one survives;
  - Ctrl-C, and SIGTERM (`kill`, `timeout`, a batch scheduler), stop after the
    current step and write a checkpoint first (TrainingInterrupted), so even a run
    stopped before its first regular checkpoint can be continued with --resume;
  - NumPy's overflow warnings of a diverging run are not printed: the finiteness
    checks above say what happened, in one line;
  - --resume refuses settings that differ from the run's (only the epochs may grow).
"""

import csv
import math
import resource
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from tqdm import tqdm

import minigrad as mg
from minigrad import backend
from minigrad.nn import set_training_mode

from . import distributed, metrics, plots
from .errors import TrainingDiverged, TrainingInterrupted, stop_signals_deferred
from .models import with_labels
from .registry import ExperimentError, read_checkpoint
from .runs import write_json

# The imbalance alarm ("one network overpowering the other"): it fires when the median of the
# objective's watched loss (D's, or the critic's) over the last IMBALANCE_ROWS history rows falls
# below IMBALANCE_LOSS. 0.1 is D's BCE loss, real + fake, when it gives real images 0.95 and fakes
# 0.05, against 2 ln 2 = 1.386 at the equilibrium. A median, not every row, because a batch-1
# run's rows are single noisy steps: book 14's D wins most steps (its loss 0.005-0.3, G's 8)
# with a few spikes, and no 20 rows in a row stay under a fixed bar. 20 rows are 4 % of a run
# logged in the default 500 rows: not a passing dip.
IMBALANCE_LOSS = 0.1
IMBALANCE_ROWS = 20

# Checkpoint keys of the classic GAN's optimisers, as written before objectives existed.
OPTIMIZER_KEYS = {"generator": "opt_g", "discriminator": "opt_d"}
# What else a checkpoint holds: no network may take one of these names.
RESERVED_KEYS = {"experiment", "settings", "step", "loader", "minigrad_rng", "fixed_noise", "history", "window",
                 "snapshots", "alarms", "frechet", "elapsed", "order", "position", "loader_rng"}


class Trainer:
    """Train one GANExperiment into a run folder (see module docstring)."""

    def __init__(self, experiment, options):
        self.experiment, self.options = experiment, options
        self.out = Path(options.out)
        self.device = backend.normalize_device(options.device)
        self.batch_size = options.batch_size or experiment.batch_size
        self.epochs = options.epochs if options.epochs is not None else experiment.epochs
        self.objective = experiment.make_objective(options)
        self.columns = tuple(self.objective.columns)
        self.frechet_every = options.extra.get("frechet_every", experiment.frechet_every)
        if self.frechet_every and experiment.metrics != "mnist":
            raise ExperimentError(f"{experiment.name}: the Fréchet distance needs MNIST metrics; "
                                  f"it has {experiment.metrics or 'none'}")
        checkpoint_path = self.out / "checkpoint.npz"
        state = None
        if options.resume:
            if not checkpoint_path.exists():
                raise ExperimentError(f"--resume: no checkpoint at {checkpoint_path}; train without --resume first")
            state = read_checkpoint(checkpoint_path, check_weights=False)  # load_state checks every entry
            self.check_same_experiment(state, checkpoint_path)  # first: the other settings are another's
            self.check_unchanged(state, checkpoint_path)

        mg.manual_seed(options.seed)
        self.nets = {name: net.to(self.device) for name, net in self.objective.networks(experiment).items()}
        clashes = sorted(set(self.nets) & RESERVED_KEYS)
        if "generator" not in self.nets or clashes:
            raise ValueError(f"{type(self.objective).__name__}.networks must name a 'generator' and may not use "
                             f"the checkpoint's own keys {clashes}")
        self.optimizers = self.objective.optimizers(experiment, self.nets)
        self.dataset = distributed.shard(experiment.dataset(options))  # this rank's part, if distributed
        batch_images = self.batch_size * self.objective.batches_per_step
        if len(self.dataset) < batch_images:
            raise ExperimentError(f"{experiment.name}: {len(self.dataset)} training samples are fewer than one "
                                  f"step's {batch_images} (batches of {self.batch_size}); use more samples or a "
                                  f"smaller --batch-size")
        # drop_last: every step sees a full batch, so the losses of all steps compare alike.
        self.loader = mg.data.DataLoader(self.dataset, batch_size=self.batch_size, shuffle=experiment.shuffle,
                                         drop_last=True, seed=options.seed)
        self.batches = iter(self.loader)
        # G's inputs for every sample grid, the same each time: fixed noise, or, image to image,
        # held-out images (the objective says which). The checkpoint keeps them as "fixed_noise".
        self.fixed_noise, self.fixed_labels = self.objective.grid_inputs(experiment, self.dataset)

        # Where training stands; all of it goes into the checkpoint.
        self.step = 0
        self.history = {"step": [], "epoch": []} | {c: [] for c in self.columns}
        self.window = []        # per-step stats not yet averaged into a history row
        self.snapshots = []     # (step, G(noise) values) for experiments that plot them
        self.alarms = []
        self.frechet = []       # {"step", "frechet_distance", "classes_present", "class_kl"} every frechet_every
        self.elapsed = 0.0
        self.alarm = self.make_alarm() if experiment.alarm_every else None
        self.diverged = None    # {"step", "reason"} once the losses stop being finite
        self.captured = {}      # steps captured by mg.compile (see compiled)
        self.convolutional = None  # whether a network has a convolution (see captures)
        if state is not None:
            self.load_state(state)
        distributed.wrap(self)  # when training on several processes (gans/distributed.py)

    # The classic GAN's names for its networks and optimisers (None where a family has no such one).
    @property
    def G(self):
        return self.nets["generator"]

    @property
    def D(self):
        return self.nets.get("discriminator")

    @property
    def opt_G(self):
        return self.optimizers.get("generator")

    @property
    def opt_D(self):
        return self.optimizers.get("discriminator")

    def settings(self):
        """What a resumed run must share with the run it continues (the epochs may grow)."""
        return {"batch_size": self.batch_size, "seed": self.options.seed, "extra": dict(self.options.extra),
                "epochs": self.epochs}

    def check_same_experiment(self, state, path):
        """Refuse to resume a run of another experiment, naming both."""
        if state["experiment"] != self.experiment.name:
            raise ExperimentError(f"--resume: the run in {path.parent} belongs to experiment {state['experiment']!r}, "
                                  f"not {self.experiment.name!r}; resume it with `train {state['experiment']}`, "
                                  f"or choose another --out")

    def check_unchanged(self, state, path):
        """Refuse to resume with other settings than the run's: the result would be neither run."""
        saved = state.get("settings")
        if saved is None:  # a checkpoint from before settings were saved: nothing to compare
            return
        wanted = self.settings()
        if not isinstance(saved, dict) or not set(wanted) <= set(saved) \
                or not isinstance(saved["epochs"], (int, float)) or isinstance(saved["epochs"], bool):
            raise ExperimentError(f"{path}: its 'settings' entry is damaged (expected {sorted(wanted)}, "
                                  f"found {saved!r:.80})")
        flags = {"batch_size": "--batch-size", "seed": "--seed", "extra": "--set"}
        for name, flag in flags.items():
            if wanted[name] != saved[name]:
                raise ExperimentError(f"--resume: {flag} differs from the run in {path.parent} "
                                      f"({name} was {saved[name]!r}, now {wanted[name]!r}); resume with the "
                                      f"run's settings, only --epochs may grow")
        if wanted["epochs"] < saved["epochs"]:
            raise ExperimentError(f"--resume: --epochs {wanted['epochs']:g} is fewer than the run's "
                                  f"{saved['epochs']:g}; --epochs may only grow")

    # --- one step, and what it takes from the Trainer --------------------------------------

    def train_step(self):
        """One training step of the experiment's objective; returns its statistics (one per column)."""
        return distributed.average(self.objective.step(self))

    def captures(self, batch):
        """Whether a step on `batch` runs through mg.compile (unless --no-compile): at batch size 1 (the
        book's steps: 0.5 of PyTorch's time captured, 0.7 eager), and at any batch size for networks
        without convolutions (the demo's step: 12.4 ms against 14.0 eager). A convolutional network at
        a larger batch runs eagerly: the products dominate (the DCGAN's step 2 % faster captured), and
        recording holds every array of a call until its end (its peak memory 676 MB instead of 433)."""
        if not self.options.compile:
            return False
        if batch.shape[0] == 1:
            return True
        if self.convolutional is None:  # (the networks' layers do not change: looked at once)
            self.convolutional = any(isinstance(module, (mg.nn.Conv2d, mg.nn.ConvTranspose2d))
                                     for net in self.nets.values() for module in net.modules())
        return not self.convolutional

    def compiled(self, update):
        """update (an objective's bound method) captured by mg.compile, made once per method."""
        key = (id(update.__self__), update.__func__)
        if key not in self.captured:
            self.captured[key] = mg.compile(update)
        return self.captured[key]

    def draw_noise(self, n):
        """Noise (and, for conditional GANs, random labels) from the CPU generator, moved to the device,
        so that a run is reproducible and resumable on any device."""
        z = self.experiment.noise(n).to(self.device)
        if not self.experiment.conditional:
            return z, None
        labels = mg.randint(0, self.experiment.num_classes, (n,))
        return z, self.experiment.encode_labels(labels).to(self.device)

    def next_batch(self):
        """The next real batch, on the device, as the objective takes it (Objective.batch: images and,
        for conditional GANs, one-hot labels). At the end of an epoch the loader starts the next
        one, in a new shuffled order."""
        try:
            batch = next(self.batches)
        except StopIteration:
            self.batches = iter(self.loader)
            batch = next(self.batches)
        return self.objective.batch(self.experiment, batch, self.device)

    # --- the run ------------------------------------------------------------------------

    def total_steps(self):
        steps_per_epoch = max(1, len(self.dataset) // (self.batch_size * self.objective.batches_per_step))
        return max(1, int(round(self.epochs * steps_per_epoch)))

    def fit(self):
        """Train to the requested number of epochs; returns the run summary.

        Raises TrainingDiverged when a loss stops being finite, TrainingInterrupted on Ctrl-C or
        SIGTERM (after writing a checkpoint)."""
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "samples").mkdir(exist_ok=True)
        exp, total = self.experiment, self.total_steps()
        log_every = exp.log_every or max(1, total // 500)
        started = time.perf_counter() - self.elapsed
        with stop_signals_deferred() as stop_requested, numeric_warnings_silenced():
            self.write_config()  # only now: the run really starts
            print(f"training {exp.name} into {self.out}, step {self.step} of {total} "
                  f"(Ctrl-C saves a checkpoint and stops)", flush=True)
            self.train_steps(total, log_every, started, stop_requested)
            self.elapsed = time.perf_counter() - started
            if not (exp.sample_every and self.step % exp.sample_every == 0):  # else already saved
                self.save_samples()
            self.save_checkpoint()  # also writes history.csv
            return self.write_summary()

    def train_steps(self, total, log_every, started, stop_requested):
        """Steps until `total`, with the logging, grids, alarms and checkpoints along the way."""
        exp = self.experiment
        with tqdm(total=total, initial=self.step, disable=not self.options.progress, unit="step",
                  desc=exp.name, dynamic_ncols=True) as bar:
            if self.step == 0:
                self.save_samples()
            while self.step < total:
                stats = self.train_step()
                self.step += 1
                if not all(math.isfinite(value) for value in stats):
                    self.elapsed = time.perf_counter() - started
                    self.stop_diverged(dict(zip(self.columns, stats)))
                self.window.append(stats)
                bar.update(1)
                if self.step % log_every == 0:
                    self.log_window(bar)
                if exp.sample_every and self.step % exp.sample_every == 0:
                    self.save_samples()
                if self.alarm is not None and self.step % exp.alarm_every == 0:
                    self.check_for_collapse(bar)
                if self.frechet_every and self.step % self.frechet_every == 0:
                    self.measure_frechet(bar)
                if exp.checkpoint_every and self.step % exp.checkpoint_every == 0 and self.step < total:
                    self.elapsed = time.perf_counter() - started
                    self.save_checkpoint()
                signal_number = distributed.agree_to_stop(stop_requested())
                if signal_number is not None and self.step < total:
                    self.elapsed = time.perf_counter() - started
                    self.save_checkpoint()
                    raise TrainingInterrupted(f"stopped at step {self.step} of {total}; checkpoint saved to "
                                              f"{self.out / 'checkpoint.npz'}; continue with --resume",
                                              signal_number)

    def stop_diverged(self, losses):
        """A loss is NaN or infinite: keep the last finite checkpoint, write the summary, stop."""
        bad = ", ".join(f"{name}={value}" for name, value in losses.items()
                        if not isinstance(value, float) or not math.isfinite(value))
        self.diverged = {"step": self.step, "reason": f"non-finite loss: {bad}"}
        self.write_summary()
        kept = self.out / "checkpoint.npz"
        kept = f"the last finite checkpoint is kept at {kept}" if kept.exists() else "no checkpoint was written"
        raise TrainingDiverged(f"training diverged at step {self.step}: {bad}; {kept}. "
                               f"Try a lower learning rate or another --seed.")

    def weights_are_finite(self):
        return all(bool(np.isfinite(backend.to_numpy(p.array)).all())
                   for model in self.nets.values() for p in model.parameters())

    def log_window(self, bar):
        """Average the steps since the last row into one history row, and show it on the bar."""
        row = self.window_row()
        self.window = []
        for key, value in row.items():
            self.history[key].append(value)
        bar.set_postfix({column: f"{row[column]:.3f}" for column in self.columns}, refresh=False)
        self.check_for_imbalance(bar)

    def window_row(self):
        means = np.mean(self.window, axis=0)
        images = self.step * self.batch_size * self.objective.batches_per_step
        row = {"step": self.step, "epoch": images / len(self.dataset)}
        row.update({column: float(value) for column, value in zip(self.columns, means)})
        return row

    def full_history(self):
        """The history, plus a last partial row for steps since the last full one. The partial row
        is only shown (CSV, plot), never saved as history: a resumed run must log the same rows."""
        if not self.window:
            return self.history
        row = self.window_row()
        return {key: values + [row[key]] for key, values in self.history.items()}

    # --- what a run leaves behind ---------------------------------------------------------

    def generate(self, noise, labels=None):
        """G's output for given noise, in eval mode (BatchNorm uses its running statistics)."""
        set_training_mode(self.G, False)
        with mg.no_grad():
            out = with_labels(self.G, noise.to(self.device), None if labels is None else labels.to(self.device))
        set_training_mode(self.G, True)
        return out

    def save_samples(self):
        exp = self.experiment
        samples = self.generate(self.fixed_noise, self.fixed_labels).numpy()
        if exp.image_shape is None:  # e.g. the 1010 pattern: keep the values for the history figure
            self.snapshots.append((self.step, samples.reshape(-1).tolist()))
            return
        path = self.out / "samples" / f"step_{self.step:07d}.png"
        plots.save_grid(samples, path, exp.image_shape, exp.pixel_range, columns=exp.grid_columns,
                        title=f"{exp.name}, step {self.step}", row_labels=exp.grid_row_labels())

    def check_for_collapse(self, bar):
        """Label a fixed batch of samples with the metrics classifier; warn if classes vanish."""
        noise = self.experiment.noise(self.alarm.samples, generator=self.alarm_noise_generator())
        labels = self.experiment.alarm_labels(self.alarm.samples)
        result = self.alarm.check(self.generate(noise, labels))
        self.alarms.append({"step": self.step, "classes_present": result.classes_present,
                            "class_kl": result.kl, "warnings": list(result.warnings)})
        for warning in result.warnings:
            bar.write(f"[step {self.step}] mode-collapse alarm: {warning}")

    def make_alarm(self):
        """The collapse alarm needs the metrics classifier; without it, train on and say so once."""
        try:
            return self.experiment.make_alarm()
        except (OSError, ValueError) as error:
            print(f"warning: mode-collapse alarm is off: {error}")
            return None

    def watched_losses(self, last=None):
        """The objective's watched loss for each history row, or for the `last` rows only (None
        where it watches nothing)."""
        rows = zip(*(self.history[c][-last if last else 0:] for c in self.columns))
        return [self.objective.watched_loss(dict(zip(self.columns, row))) for row in rows]

    def check_for_imbalance(self, bar):
        """Warn once when the watched loss's median over the last IMBALANCE_ROWS rows has just fallen
        below IMBALANCE_LOSS. The rule reads only the history, which the checkpoint keeps: a resumed
        run warns alike."""
        episodes = imbalance_episodes(self.history["step"][-IMBALANCE_ROWS - 1:],
                                      self.watched_losses(last=IMBALANCE_ROWS + 1))
        if episodes and episodes[-1]["from_step"] == self.step:
            bar.write(f"[step {self.step}] imbalance alarm: the discriminator's loss has a median below "
                      f"{IMBALANCE_LOSS} over the last {IMBALANCE_ROWS} history rows: it is overpowering "
                      f"the generator, which learns little from it now")

    def measure_frechet(self, bar):
        """The Fréchet distance of the metrics protocol (docs/metrics.md) on `frechet_samples`
        samples of always the same noise, recorded in summary.json and the checkpoint."""
        exp = self.experiment
        noise_generator = np.random.default_rng(54321)  # its own generator: the run's stays untouched

        def sample(count):
            return self.generate(exp.noise(count, generator=noise_generator), exp.alarm_labels(count))

        report = metrics.evaluate_generator(sample, n=exp.frechet_samples, pixel_range=exp.pixel_range,
                                            data_dir=self.options.data_dir)
        self.frechet.append({"step": self.step, "frechet_distance": report["frechet_distance"],
                             "classes_present": report["classes_present"], "class_kl": report["class_kl"]})
        bar.write(f"[step {self.step}] Fréchet distance {report['frechet_distance']:.1f} "
                  f"({exp.frechet_samples} samples), {report['classes_present']} classes")

    def alarm_noise_generator(self):
        """The alarm always looks at the same noise, drawn from its own generator (not the run's)."""
        return np.random.default_rng(12345)

    def write_config(self):
        config = {"experiment": self.experiment.name, "epochs": self.epochs, "batch_size": self.batch_size,
                  "device": self.device, "seed": self.options.seed,
                  "data_dir": str(Path(self.options.data_dir).resolve()) if self.options.data_dir else None,
                  "extra": self.options.extra} | distributed.config(self)
        write_json(self.out / "config.json", config)

    def write_history(self):
        history = self.full_history()
        with open(self.out / "history.csv", "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(history.keys())
            writer.writerows(zip(*history.values()))

    def write_summary(self):
        exp = self.experiment
        history = self.full_history()
        ideal, ideal_label = self.objective.ideal or (None, None)
        if history["step"]:
            plots.save_loss_plot(history, self.out / "loss.png", ideal, ideal_label, title=exp.title,
                                 columns=self.objective.plotted or self.columns)
        if self.snapshots:
            steps, values = zip(*self.snapshots)
            plots.save_pattern_history(steps, values, self.out / "pattern_history.png")
        last = {c: history[c][-1] for c in self.columns} if history["step"] else {}
        summary = {
            "experiment": exp.name, "steps": self.step, "epochs": self.epochs, "batch_size": self.batch_size,
            "device": self.device, "seconds": round(self.elapsed, 2),
            "seconds_per_epoch": round(self.elapsed / self.epochs, 2),  # elapsed carries over a resume
            "peak_host_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "peak_gpu_pool_mb": None if self.device == "cpu" else round(backend.gpu_memory_peak() / 2**20, 1),
            "last_logged": last,
            "alarms": sum(len(a["warnings"]) for a in self.alarms),
            "imbalance": {"rule": f"median of the watched loss over {IMBALANCE_ROWS} rows < {IMBALANCE_LOSS}",
                          "episodes": imbalance_episodes(self.history["step"], self.watched_losses())},
        }
        if self.frechet:
            summary["frechet"] = self.frechet
            series = {column: self.history[column] for column in self.columns}
            watched = self.watched_losses()
            if self.history["step"] and None not in watched:
                series["watched_loss"] = watched  # e.g. the classic D's whole loss, real + fake
            for key, late in (("frechet_rank_correlation", False), ("frechet_rank_correlation_late", True)):
                summary[key] = {name: rank_correlation_with_frechet(self.history["step"], values, self.frechet, late)
                                for name, values in series.items()}
        if self.diverged is not None:
            summary["diverged"] = self.diverged
        else:
            summary.update(self.objective.summarize(self))
        write_json(self.out / "summary.json", summary)  # strict JSON: a NaN becomes null
        if self.alarms:
            write_json(self.out / "alarms.json", self.alarms)
        return summary

    # --- checkpoints --------------------------------------------------------------------

    def save_checkpoint(self):
        """Everything needed to continue exactly: models, optimisers, position, random states.
        Never with weights that are not finite: the checkpoint it would replace is worth more."""
        if not self.weights_are_finite():
            self.diverged = {"step": self.step, "reason": "non-finite weights"}
            self.write_summary()
            raise TrainingDiverged(f"training diverged at step {self.step}: the weights are no longer finite "
                                   f"numbers; the last finite checkpoint in {self.out} is kept")
        networks = {name: distributed.unwrap(net).state_dict() for name, net in self.nets.items()}
        optimizers = {optimizer_key(name): opt.state_dict() for name, opt in self.optimizers.items()}
        mg.save({
            "experiment": self.experiment.name, "settings": self.settings(), **networks, **optimizers,
            "step": self.step, "loader": self.loader.state_dict(),
            "minigrad_rng": backend.get_rng_state(), "fixed_noise": self.fixed_noise,
            "history": self.history, "window": [list(w) for w in self.window],
            "snapshots": [list(s) for s in self.snapshots], "alarms": self.alarms, "frechet": self.frechet,
            "elapsed": self.elapsed,
        }, self.out / "checkpoint.npz")
        self.write_history()

    def load_state(self, state):
        """Continue from a checkpoint's state (see save_checkpoint). An entry that does not fit this
        experiment (a damaged or hand-edited checkpoint, another experiment's) is an ExperimentError
        naming it, and nothing of the run is half-loaded into the loop."""
        path = self.out / "checkpoint.npz"
        self.check_same_experiment(state, path)

        def entry(name, use):
            if name not in state:
                raise ExperimentError(f"{path} has no '{name}' entry: it is damaged, or not a checkpoint of "
                                      f"{self.experiment.name}")
            try:
                return use(state[name])
            except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as error:
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise ExperimentError(f"{path}: its '{name}' entry does not fit {self.experiment.name} "
                                      f"({reason})") from None

        for name, net in self.nets.items():
            entry(name, net.load_state_dict)
        for name, optimizer in self.optimizers.items():
            entry(optimizer_key(name), optimizer.load_state_dict)
        self.step = entry("step", lambda step: checked(step, is_count, "a whole number, 0 or more"))
        if "loader" in state:
            entry("loader", self.loader.load_state_dict)
        else:  # a checkpoint written before the Trainer used a DataLoader: the same three facts
            self.loader.load_state_dict({"order": entry("order", np.asarray), "position": entry("position", int),
                                         "generator": entry("loader_rng", dict)})
        self.batches = iter(self.loader)
        entry("minigrad_rng", backend.set_rng_state)
        self.fixed_noise = entry("fixed_noise", lambda noise: checked(
            noise, lambda t: isinstance(t, mg.Tensor) and t.shape == self.fixed_noise.shape,
            f"a Tensor of shape {tuple(self.fixed_noise.shape)}"))
        columns = ("step", "epoch", *self.columns)
        self.history = entry("history", lambda history: checked(
            {key: list(values) for key, values in history.items()},
            lambda h: list(h) == list(columns) and all(is_number(v) for values in h.values() for v in values),
            f"columns {', '.join(columns)} of numbers"))
        self.window = entry("window", lambda window: checked(
            [tuple(w) for w in window], lambda rows: all(len(w) == len(self.columns) and all(map(is_number, w))
                                                         for w in rows),
            f"rows of {len(self.columns)} numbers"))
        self.snapshots = entry("snapshots", lambda snapshots: [(int(step), list(values)) for step, values in snapshots])
        self.alarms = entry("alarms", lambda alarms: checked(
            list(alarms), lambda a: all(isinstance(x, dict) and is_number(x.get("class_kl")) for x in a),
            "a list of the alarm's checks"))
        self.frechet = entry("frechet", list) if "frechet" in state else []
        if self.alarm is not None and self.alarms:  # the alarm compares with its best check so far
            self.alarm.best_kl = min(a["class_kl"] for a in self.alarms)
        self.elapsed = entry("elapsed", lambda elapsed: checked(float(elapsed), math.isfinite, "a number of seconds"))


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def checked(value, test, expected):
    """`value` if test(value) holds; else a TypeError saying what was expected (load_state names the entry)."""
    if not test(value):
        raise TypeError(f"expected {expected}, found {value!r:.60}")
    return value


def optimizer_key(name):
    """The checkpoint key of the optimiser of network `name`."""
    return OPTIMIZER_KEYS.get(name, f"opt_{name}")


def imbalance_episodes(steps, watched, threshold=IMBALANCE_LOSS, rows=IMBALANCE_ROWS):
    """Each stretch of history rows at which the median of the watched loss over that row and the
    `rows` - 1 before it is below `threshold`, as {"from_step", "to_step", "rows", "max_median"}:
    from_step is the row where the alarm would fire. steps and watched are the history's columns;
    a window holding a None (nothing watched) never counts."""
    medians = [None] * len(watched)
    for i in range(rows - 1, len(watched)):
        window = watched[i - rows + 1:i + 1]
        if None not in window:
            medians[i] = float(np.median(window))
    episodes, start = [], None
    for i, median in enumerate(medians + [None]):  # the None closes a stretch that runs to the end
        if median is not None and median < threshold:
            start = i if start is None else start
            continue
        if start is not None:
            episodes.append({"from_step": int(steps[start]), "to_step": int(steps[i - 1]), "rows": i - start,
                             "max_median": max(medians[start:i])})
        start = None
    return episodes


def rank_correlation_with_frechet(steps, values, frechet, late=False):
    """Spearman's rank correlation between the Fréchet distances measured during a run and the
    mean of `values` (one per history row at `steps`) over the rows since the measurement before
    (None: under 3 pairs).

    late=True: over the last three quarters of the checks only. The first quarter is the warm-up:
    a WGAN's critic starts far from optimal (its clipped weights still growing) and its estimate
    climbs while the samples improve; a classic D's loss moves away from its first confident
    values. After it, the question is whether the statistic follows the samples' quality."""
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=np.float64)
    pairs, previous = [], 0
    for check in frechet:
        inside = (steps > previous) & (steps <= check["step"])
        if inside.any():
            pairs.append((values[inside].mean(), check["frechet_distance"]))
        previous = check["step"]
    if late:
        pairs = pairs[len(pairs) // 4:]
    if len(pairs) < 3:
        return None
    return metrics.rank_correlation(*zip(*pairs))


def describe_rank_correlation(summary, column, late=False):
    """The Spearman correlation of history column `column` with the Fréchet distances measured during
    a run (rank_correlation_with_frechet, from its summary.json), as text: "+0.83", or, where there is
    none, why not (a short run measures the distance fewer than the 3 times a correlation needs)."""
    key = "frechet_rank_correlation_late" if late else "frechet_rank_correlation"
    rho = (summary.get(key) or {}).get(column)
    if rho is not None:
        return f"{rho:+.2f}"
    checks = summary.get("frechet") or []
    if not checks:
        return (f"none: the run measured no Fréchet distance ({summary.get('steps', 0)} steps, ended before the "
                f"first measurement, or --set frechet_every was off)")
    needed = "3 of them after the first quarter" if late else "at least 3"
    return (f"none: a rank correlation needs {needed} Fréchet distances, and this run of "
            f"{summary.get('steps', 0)} steps measured {len(checks)} (one every {checks[0]['step']} steps); "
            f"train longer (--epochs)")


@contextmanager
def numeric_warnings_silenced():
    """Within the block, NumPy's "overflow / invalid value / divide by zero encountered" warnings
    are not printed.

    Why: a diverging run overflows everywhere at once, and each warning names a line of minigrad's
    source, before the one line that says what happened. The Trainer checks every step's losses and
    every checkpoint's weights for NaN and infinity itself (TrainingDiverged), so these say nothing
    more. A warnings filter, not np.errstate: that is per thread, and ops run in a thread pool."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"(overflow|invalid value|divide by zero|underflow) encountered",
                                category=RuntimeWarning)
        yield
