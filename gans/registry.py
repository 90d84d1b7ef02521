"""The experiment registry: every entry of `python -m gans list`, and how to load a trained one.

An experiment is a small declaration. Whatever its kind (a GAN, a classifier
progression, ...), it has a name, a title, the `settings` that `--set KEY=VALUE` may
change, and a `run(options)` that trains it into `options.out` and returns a summary dict
of what it measured. GAN experiments are `GANExperiment`s (gans/experiments.py) trained by
the one adversarial loop in gans/training.py.

How experiments get here, the one way: each module that declares experiments ends with one
`register(...)` of its declarations, and gans/catalog.py, the one list of those modules,
imports them all. Whoever looks experiments up by name (the command line, the examples)
imports gans.catalog first.
"""

from dataclasses import dataclass, field
from pathlib import Path

import minigrad as mg
from minigrad.nn import set_training_mode

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
    compile: bool = True  # capture the steps that mg.compile can replay (--no-compile: every step eager)
    extra: dict = field(default_factory=dict)  # experiment-specific overrides (tests use them to shrink runs)


def register(*experiments):
    """Add experiments to the registry (names are unique)."""
    for experiment in experiments:
        if experiment.name in EXPERIMENTS:
            raise ValueError(f"two experiments named {experiment.name!r}")
        EXPERIMENTS[experiment.name] = experiment


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
            raise ExperimentError(f"--set {name}: {experiment.name} has no setting {name!r}; valid: {valid} "
                                  f"(see `python -m gans train {experiment.name} --help`)")
        checked[name] = known[name](name, value)
    return checked


# What each --set key means, and its default: {name: (meaning, default)}. A default may be a
# function of the experiment. An experiment may add or override entries in its own `setting_help`.
SETTING_HELP = {
    "train_limit": ("train on the first N samples only (quick tries, tests)", "all of them"),
    "test_limit": ("measure on the first N test images only", "all of them"),
    "frechet_every": ("measure the Fréchet distance every N steps, into summary.json",
                      lambda experiment: getattr(experiment, "frechet_every", 0) or "off"),
    "iterations": ("samples in one epoch of the 1010 pattern (one step each at batch size 1)", 10000),
    "h5": ("the CelebA HDF5 file (from `python -m gans data celeba`)",
           "one found under --data-dir, $MINIGRAD_DATA or the cache"),
    "task": ("what G learns: edges (edges -> photo) or grey (greyscale -> colour)", "edges"),
    "ablation": ("pix2pix's loss, as the paper's table 1: l1, cgan or cgan+l1", "cgan+l1"),
    "gamma": ("BEGAN's balance of G's and D's losses, a number in (0, 1]", 0.5),
    "from_run": ("take the generator of this run folder instead of training one", "train mnist-book first"),
    "variants": ("the recipes to run, comma-separated, e.g. baseline,layer_norm", "all of them"),
    "shuffle": ("true: a new order every epoch; false: the file's order, as the book",
                lambda experiment: str(getattr(experiment, "shuffle", True)).lower()),
}

PLACEHOLDERS = {whole_number: "N", text: "TEXT"}  # what `--set KEY=...` shows for a check; else VALUE


def settings_help(experiment):
    """Lines describing the experiment's --set keys: `KEY=N  meaning (default: ...)`, one a key."""
    known = getattr(experiment, "settings", {})
    if not known:
        return [f"{experiment.name} has no --set settings"]
    described = {**SETTING_HELP, **getattr(experiment, "setting_help", {})}
    forms = {name: f"{name}={PLACEHOLDERS.get(check, 'VALUE')}" for name, check in known.items()}
    width = max(len(form) for form in forms.values())
    lines = []
    for name in sorted(known):
        meaning, default = described.get(name, ("(undocumented)", None))
        default = default(experiment) if callable(default) else default
        lines.append(f"  --set {forms[name]:<{width}}  {meaning}" + ("" if default is None else f" (default: {default})"))
    return lines


# --- reading what a run left behind -------------------------------------------------------

# What loading a damaged or hostile file may raise, whatever its damage: mg.load turns what it
# recognises into ValueError; a structure nested too deep, or an array header asking for more
# memory than there is, may still surface as one of the others.
LOAD_ERRORS = (OSError, ValueError, TypeError, KeyError, IndexError, EOFError, RecursionError, MemoryError)


def read_checkpoint(path, check_weights=True):
    """The dict that a Trainer saved at `path`; a missing, damaged or mislabelled file is an ExperimentError.

    check_weights: also check that its 'generator' weights fit the generator of the experiment it
    names (a checkpoint renamed, or hand-edited, to another experiment would fail later, far from here).
    """
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"no checkpoint at {path}: is {path.parent} a run folder made by "
                              f"`python -m gans train`?")
    try:
        state = mg.load(path)
    except LOAD_ERRORS as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ExperimentError(f"cannot read the checkpoint {path}: {reason}") from None
    if not isinstance(state, dict) or "experiment" not in state or "generator" not in state:
        raise ExperimentError(f"{path} is not a checkpoint written by `python -m gans train`")
    if not isinstance(state["experiment"], str):
        raise ExperimentError(f"{path} is damaged: its 'experiment' entry should name an experiment, and is "
                              f"{state['experiment']!r:.60}")
    if check_weights:
        generator_of(state, path)
    return state


def generator_of(state, path):
    """(experiment, G): the generator of the experiment a checkpoint names, with the checkpoint's weights."""
    if state["experiment"] not in EXPERIMENTS:
        raise ExperimentError(f"{path} names experiment {state['experiment']!r:.60}, which this version does not "
                              f"know (see `python -m gans list`)")
    experiment = get_experiment(state["experiment"])
    if not hasattr(experiment, "make_objective"):
        raise ExperimentError(f"{path} names experiment {experiment.name}, which trains no generator")
    settings = state.get("settings", {})
    extra = settings.get("extra", {}) if isinstance(settings, dict) else None
    if not isinstance(extra, dict):
        raise ExperimentError(f"{path} is damaged: its 'settings' entry is {settings!r:.60}")
    try:
        G = experiment.make_objective(RunOptions(out=Path(path).parent, extra=extra)).networks(experiment)["generator"]
        G.load_state_dict(state["generator"])
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ExperimentError(f"the 'generator' weights in {path} do not fit experiment {experiment.name}'s "
                              f"generator, so the checkpoint is damaged or mislabelled ({reason})") from None
    return experiment, G


def load_generator(run_folder, device="cpu"):
    """(experiment, G) from a run folder's checkpoint, G in eval mode, for `sample` and `evaluate`."""
    path = Path(run_folder) / "checkpoint.npz"
    experiment, G = generator_of(read_checkpoint(path, check_weights=False), path)
    return experiment, set_training_mode(G.to(device), False)
