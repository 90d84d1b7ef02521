"""The experiment registry: every entry of `python -m gans list`, and how to load a trained one.

An experiment is a small declaration. Whatever its kind (a GAN, a classifier
progression, ...), it has a name, a title, the `settings` that `--set KEY=VALUE` may
change, and a `run(options)` that trains it into `options.out` and returns a summary dict
of what it measured. GAN experiments are `GANExperiment`s (gans/experiments.py) trained by
the one adversarial loop in gans/training.py.
"""

from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError

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


class ExperimentError(UserError):
    """A user-facing problem (bad argument, missing run folder, ...): the CLI prints it in one line."""


def get_experiment(name):
    """The registered experiment `name`, or an ExperimentError listing the known names."""
    if name not in EXPERIMENTS:
        known = ", ".join(sorted(EXPERIMENTS))
        raise ExperimentError(f"unknown experiment {name!r}; known: {known} (see `python -m gans list`)")
    return EXPERIMENTS[name]


# --- the settings `--set KEY=VALUE` may change --------------------------------------------
# Each experiment lists its settings as {name: check}; a check takes the value as typed
# (a number when it looks like one) and returns it, or raises ExperimentError saying why not.


def whole_number(name, value):
    """A positive whole number: 1, 2, ... (train_limit, iterations, test_limit)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ExperimentError(f"--set {name}: must be a positive whole number, got {value!r}")
    return value


def text(name, value):
    """Any non-empty text (a file name, a list of variants)."""
    value = str(value)
    if not value:
        raise ExperimentError(f"--set {name}: must not be empty")
    return value


def check_settings(experiment, extra):
    """`extra` (from --set) with every value checked: an unknown key is refused, listing the valid ones."""
    known = getattr(experiment, "settings", {})
    checked = {}
    for name, value in extra.items():
        if name not in known:
            valid = ", ".join(sorted(known)) if known else "none"
            raise ExperimentError(f"--set {name}: {experiment.name} has no setting {name!r}; valid: {valid}")
        checked[name] = known[name](name, value)
    return checked


# --- reading what a run left behind -------------------------------------------------------

def read_checkpoint(path):
    """The dict that a Trainer saved at `path`; a missing or damaged file is an ExperimentError."""
    import minigrad as mg

    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"no checkpoint at {path}: is {path.parent} a run folder made by "
                              f"`python -m gans train`?")
    try:
        state = mg.load(path)
    except (OSError, ValueError) as error:
        raise ExperimentError(f"cannot read the checkpoint {path}: {error}".splitlines()[0]) from None
    if not isinstance(state, dict) or "experiment" not in state or "generator" not in state:
        raise ExperimentError(f"{path} is not a checkpoint written by `python -m gans train`")
    return state


def load_generator(run_folder, device="cpu"):
    """(experiment, G) from a run folder's checkpoint, G in eval mode, for `sample` and `evaluate`."""
    from minigrad.nn import set_training_mode

    state = read_checkpoint(Path(run_folder) / "checkpoint.npz")
    experiment = get_experiment(state["experiment"])
    options = RunOptions(out=Path(run_folder), extra=state.get("settings", {}).get("extra", {}))
    G = experiment.make_objective(options).networks(experiment)["generator"]
    G.load_state_dict(state["generator"])
    return experiment, set_training_mode(G.to(device), False)
