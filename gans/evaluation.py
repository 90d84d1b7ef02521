"""`python -m gans sample` and `evaluate`: what a trained run's generator makes, and how good it is.

    draw_samples(run, n)         the generator's samples (or, image to image, its translations of
                                 held-out faces) as the arrays of the one `sample --out` format
    measure_run(run)             the run's metrics (docs/metrics.md, section 8), written nowhere

What a family samples and measures is its objective's (`sample` and `evaluate`, gans/objectives.py);
this module reads the run back (TrainedRun) and holds what they share: noise_samples and
measure_mnist, the defaults of every GAN drawn from noise.
    save_metrics(run, results)   ... written to RUN/metrics.json
    evaluate_run(run)            both (the examples call it)

The `sample --out` format (docs/experiments.md, "Sampling and evaluating a run"), for every
experiment: `samples` float32 (N, C, H, W) in [0, 1] (the generator's output range mapped there
and clipped), `labels` int64 (N,) for conditional runs, `inputs` and `targets` float32
(N, C, 64, 64) in [0, 1] for image to image (`samples` are then the outputs), and `experiment`,
the experiment's name.

The data a run needs (MNIST for the metrics' reference, the CelebA faces for the image GANs)
is looked for where the run found it: `--data-dir` when given, then the folder recorded in the
run's config.json (a relative path is read against the run folder, then against the current
folder, as `train` was given it), then the usual places ($MINIGRAD_DATA, the user cache).
Nothing is downloaded: data that is nowhere is one line of error, and nothing is created. (A
CelebA zip found there, with no HDF5 file built from it yet, is built once into the cache, as
`train` does.)
"""

import csv
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.nn import set_training_mode

from . import metrics
from .data.celeba import CelebAError, find_celeba_h5
from .data.download import cache_dir
from .data.mnist import MnistNotFoundError, find_mnist
from .models import with_labels
from .registry import ExperimentError, RunOptions, get_experiment, read_checkpoint
from .runs import write_json
from .training import rank_correlation_with_frechet

# `sample --out` holds every sample in memory before it writes them, and `evaluate` keeps what it
# measures (features, samples) until the end: past this size a mistyped --n would exhaust memory.
MAX_HELD_BYTES = 2 ** 30  # 1 GiB
SAMPLE_BATCH = 256        # samples per generator call (a DCGAN's activations for 256 are ~0.1 GB)


# --- the run: its networks, settings and data -------------------------------------------------

@dataclass
class TrainedRun:
    """A run folder read back: its experiment and the state its checkpoint holds."""
    folder: Path
    experiment: object
    state: dict

    @property
    def settings(self):
        return recorded_settings(self.state)

    def objective(self):
        """The run's objective, made with the run's --set values."""
        return self.experiment.make_objective(RunOptions(out=self.folder, extra=self.settings["extra"]))

    def networks(self, names=("generator",)):
        """{name: network} for the networks `names` that the checkpoint holds, its weights loaded,
        in eval mode, on the CPU."""
        nets = self.objective().networks(self.experiment)
        loaded = {}
        for name in names:
            if name in nets and name in self.state:
                nets[name].load_state_dict(self.state[name])
                loaded[name] = set_training_mode(nets[name], False)
        return loaded

    def face_options(self, data_dir=None):
        """RunOptions that rebuild the run's CelebA data (see face_options)."""
        return face_options(self.folder, self.state, data_dir)


def read_run(run):
    """The TrainedRun of a run folder; one line of error when it holds no run."""
    state = read_checkpoint(Path(run) / "checkpoint.npz")
    return TrainedRun(Path(run), get_experiment(state["experiment"]), state)


def recorded_settings(state):
    """The run's batch_size, seed and --set values, as its checkpoint recorded them."""
    settings = state.get("settings") or {}
    return {"seed": settings.get("seed", 0), "extra": dict(settings.get("extra") or {})}


def run_config(run):
    """The run's config.json as a dict ({} when there is none)."""
    path = Path(run) / "config.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ExperimentError(f"cannot read {path}: {error}".splitlines()[0]) from None


def recorded_paths(run, value):
    """Where a path the run recorded may be: itself when absolute; else against the run folder,
    then against the current folder (train records --data-dir and --set h5 as they were typed)."""
    path = Path(value).expanduser()
    return [path] if path.is_absolute() else [Path(run) / path, path]


def data_roots_for(run, data_dir=None):
    """The data roots to try, in order: `data_dir` (--data-dir), then the run's recorded --data-dir
    (both readings of a relative one). The usual places come after them."""
    roots = [Path(data_dir)] if data_dir is not None else []
    recorded = run_config(run).get("data_dir")
    return roots + (recorded_paths(run, recorded) if recorded else [])


def _usual_places():
    return [f"$MINIGRAD_DATA ({os.environ.get('MINIGRAD_DATA') or 'not set'})", f"the user cache {cache_dir()}"]


def find_mnist_for(run, data_dir=None):
    """The MNIST folder for the metrics' reference: in the data roots of data_roots_for, then the
    usual places; never downloaded. Raises ExperimentError (one line) when it is nowhere."""
    roots = data_roots_for(run, data_dir)
    for root in roots + [None]:
        try:
            return find_mnist(root, download=False)
        except MnistNotFoundError:
            continue
    places = ", ".join([str(root) for root in roots] + _usual_places())
    raise ExperimentError(f"MNIST, which the metrics compare the samples with, is in none of: {places}; "
                          f"pass --data-dir ROOT, a folder whose mnist/ holds its four .gz files")


def face_options(run, state, data_dir=None):
    """The RunOptions that rebuild a face run's data: its --set values, with the HDF5 file found
    (the recorded --set h5, else celeba/ under the data roots, then the usual places)."""
    settings = recorded_settings(state)
    extra = settings["extra"]
    if "h5" in extra:
        places = recorded_paths(run, extra["h5"])
        found = next((path for path in places if path.is_file()), None)
        if found is None:
            raise ExperimentError(f"the run was trained on --set h5={extra['h5']}, which is not at "
                                  f"{' nor '.join(str(p) for p in places)}")
    else:
        roots = data_roots_for(run, data_dir)
        found = None
        for root in roots + [None]:
            try:
                found = find_celeba_h5(RunOptions(out=run, data_dir=root, progress=False))
                break
            except CelebAError:
                continue
        if found is None:
            places = ", ".join([str(root) for root in roots] + _usual_places())
            raise ExperimentError(f"no CelebA faces found under {places}; pass --data-dir ROOT, a folder whose "
                                  f"celeba/ holds celeba.h5 or img_align_celeba*.zip")
    return RunOptions(out=Path(run), seed=settings["seed"], progress=False, extra={**extra, "h5": str(found)})


def check_memory(count, bytes_each, what):
    """Refuse, before anything is allocated, to hold more than MAX_HELD_BYTES."""
    total = count * bytes_each
    if total > MAX_HELD_BYTES:
        most = MAX_HELD_BYTES // bytes_each
        raise ExperimentError(f"--n {count}: {what} would take {total / 2 ** 30:,.1f} GiB of memory; at most "
                              f"{most:,} ({MAX_HELD_BYTES / 2 ** 30:g} GiB) are held at once, so that a mistyped "
                              f"--n cannot exhaust the machine; ask for fewer (several runs with other --seed "
                              f"values give more)")


# --- samples ----------------------------------------------------------------------------------

def to_unit(images, pixel_range):
    """Generator outputs in `pixel_range` -> float32 in [0, 1] (clipped: some outputs overshoot)."""
    low, high = pixel_range
    return np.clip((np.asarray(images, dtype=np.float32) - low) / (high - low), 0, 1).astype(np.float32)


def channels_first(images, image_shape):
    """(N, ...) generator outputs -> (N, C, H, W): image_shape (H, W) is grey, (H, W, 3) channels
    last, (C, H, W) channels first; None (not an image, e.g. the 1010 pattern) is one row of values."""
    images = np.asarray(images)
    if image_shape is None:
        return images.reshape(len(images), 1, 1, -1)
    if len(image_shape) == 2:
        return images.reshape(len(images), 1, *image_shape)
    if image_shape[-1] == 3 and image_shape[0] != 3:
        return images.reshape(len(images), *image_shape).transpose(0, 3, 1, 2)
    return images.reshape(len(images), *image_shape)


def draw_samples(run, n, seed=0, data_dir=None):
    """The arrays of `sample --out` (see the module docstring), as the run's objective draws them:
    n samples of the run's generator, or, image to image, its outputs for the first n held-out faces."""
    run = read_run(run)
    return run.objective().sample(run, n, seed=seed, data_dir=data_dir)


def noise_samples(run, n, seed=0):
    """n samples of a TrainedRun's generator from the experiment's noise (digit i % 10 for sample i
    of a conditional run), as the arrays of `sample --out`."""
    experiment = run.experiment
    G = run.networks()["generator"]
    with mg.no_grad():  # one sample first: its size says how much n of them take
        probe = with_labels(G, experiment.noise(1), experiment.alarm_labels(1)).numpy()
    check_memory(n, probe.size * 4, f"{n:,} samples of {probe.size:,} float32 values")
    mg.manual_seed(seed)
    samples = np.empty((n, *channels_first(probe, experiment.image_shape).shape[1:]), dtype=np.float32)
    digits = np.arange(n) % experiment.num_classes if experiment.conditional else None
    with mg.no_grad():
        for start in range(0, n, SAMPLE_BATCH):
            count = min(SAMPLE_BATCH, n - start)
            labels = experiment.encode_labels(digits[start:start + count]) if digits is not None else None
            images = with_labels(G, experiment.noise(count), labels).numpy()
            samples[start:start + count] = to_unit(channels_first(images, experiment.image_shape),
                                                   experiment.pixel_range)
    arrays = {"experiment": np.array(experiment.name), "samples": samples}
    if digits is not None:
        arrays["labels"] = digits.astype(np.int64)
    return arrays


def save_samples(path, arrays):
    """Write `arrays` to the .npz file `path`, atomically (a temporary file, then renamed), so that
    a failed write leaves no half-written file behind."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(temporary, "wb") as file:
            np.savez(file, **arrays)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def grid_images(arrays):
    """The images a sample grid draws, (M, C, H, W) in [0, 1]: the samples; image to image, each
    face's input (grey inputs drawn in colour), output and real photo side by side."""
    if "inputs" not in arrays:
        return arrays["samples"]
    inputs = arrays["inputs"]
    if inputs.shape[1] == 1:
        inputs = np.repeat(inputs, 3, axis=1)
    return np.stack([inputs, arrays["samples"], arrays["targets"]], axis=1).reshape(-1, *inputs.shape[1:])


def grid_columns(arrays):
    """Columns of the grid: about square; image to image, whole input | output | target triples."""
    count = len(arrays["samples"])
    if "inputs" not in arrays:
        return math.ceil(math.sqrt(count))
    return 3 * max(1, min(count, round(math.sqrt(count / 3))))


# --- metrics ----------------------------------------------------------------------------------

def measure_run(run, n=None, data_dir=None, seed=0, progress=False):
    """The run's metrics (docs/metrics.md, section 8), as its objective measures them, written
    nowhere. n: samples to measure (None: the experiment's own number); image to image, the first
    n held-out faces (None: all)."""
    run = read_run(run)
    results = run.objective().evaluate(run, n=n, data_dir=data_dir, seed=seed, progress=progress)
    return {"experiment": run.experiment.name, **results}


def measure_mnist(run, n=None, data_dir=None, seed=0, progress=False):
    """Coverage, Fréchet distance (and conditional accuracy) of n samples of a TrainedRun's
    generator (docs/metrics.md)."""
    experiment = run.experiment
    n = metrics.DEFAULT_SAMPLES if n is None else n
    check_memory(n, (metrics.MnistClassifier.feature_size + 1) * 8, f"the features of {n:,} samples")
    folder = find_mnist_for(run.folder, data_dir)  # before any work: a missing MNIST is one line, at once
    G = run.networks()["generator"]
    mg.manual_seed(seed)
    common = dict(n=n, pixel_range=experiment.pixel_range, data_dir=folder, progress=progress)
    if experiment.conditional:
        return metrics.evaluate_conditional(
            lambda labels: with_labels(G, experiment.noise(len(labels)), experiment.encode_labels(labels)), **common)
    return metrics.evaluate_generator(lambda count: G(experiment.noise(count)), **common)


def save_metrics(run, results):
    """Write the results of measure_run to RUN/metrics.json (strict JSON, atomically)."""
    path = Path(run) / "metrics.json"
    write_json(path, results)
    return path


def evaluate_run(run, n=None, data_dir=None, seed=0, progress=False):
    """measure_run, then save_metrics: the metrics of a trained run, also in RUN/metrics.json."""
    results = measure_run(run, n=n, data_dir=data_dir, seed=seed, progress=progress)
    save_metrics(run, results)
    return results


def frechet_trace(run, column, title=None):
    """A run's training statistic `column` (a history column, or "watched_loss": the loss the
    imbalance alarm watches, the classic D's real + fake) beside the Fréchet distances its Trainer
    measured (`frechet_every`), with their rank correlation over all the checks (rho) and over the
    last three quarters (rho_late, after the warm-up): one panel of plots.save_frechet_plot."""
    run = Path(run)
    summary = json.loads((run / "summary.json").read_text())
    if not summary.get("frechet"):
        raise ExperimentError(f"{run} has no Fréchet distances measured during training; train it with "
                              f"--set frechet_every=N")
    with open(run / "history.csv") as file:
        rows = list(csv.DictReader(file))
    if column == "watched_loss":
        objective = get_experiment(summary["experiment"]).make_objective()
        values = [objective.watched_loss({key: float(value) for key, value in row.items()}) for row in rows]
    elif rows and column in rows[0]:
        values = [float(row[column]) for row in rows]
    else:
        raise ExperimentError(f"{run}/history.csv has no column {column!r}")
    steps = [int(r["step"]) for r in rows]
    return {"title": title or summary["experiment"], "label": column, "steps": steps, "values": values,
            "frechet_steps": [c["step"] for c in summary["frechet"]],
            "frechet": [c["frechet_distance"] for c in summary["frechet"]],
            "rho": rank_correlation_with_frechet(steps, values, summary["frechet"]),
            "rho_late": rank_correlation_with_frechet(steps, values, summary["frechet"], late=True)}
