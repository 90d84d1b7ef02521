"""The experiment registry: every entry of `python -m gans list`.

An experiment is a small declaration. Whatever its kind (a GAN, a classifier
progression, ...), it has a name, a title, and a `run(options)` that trains it into
`options.out` and returns a summary dict of what it measured. GAN experiments are
`GANExperiment`s (gans/experiments.py) trained by the one adversarial loop in
gans/training.py.
"""

from dataclasses import dataclass, field
from pathlib import Path

EXPERIMENTS = {}


@dataclass
class RunOptions:
    """What `python -m gans train` passes to an experiment; None means the experiment's default."""
    out: Path
    epochs: float = None
    batch_size: int = None
    device: str = "cpu"
    data_dir: Path = None
    seed: int = 0
    resume: bool = False
    progress: bool = True
    extra: dict = field(default_factory=dict)  # experiment-specific overrides (tests use them to shrink runs)


def register(experiment):
    """Add an experiment to the registry (names are unique)."""
    if experiment.name in EXPERIMENTS:
        raise ValueError(f"two experiments named {experiment.name!r}")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


class ExperimentError(Exception):
    """A user-facing problem (bad argument, missing run folder, ...): the CLI prints it in one line."""


def get_experiment(name):
    """The registered experiment `name`, or an ExperimentError listing the known names."""
    if name not in EXPERIMENTS:
        known = ", ".join(sorted(EXPERIMENTS))
        raise ExperimentError(f"unknown experiment {name!r}; known: {known} (see `python -m gans list`)")
    return EXPERIMENTS[name]
