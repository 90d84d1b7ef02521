"""Book 09: what a trained generator does with its seeds.

    interpolation   12 seeds on the straight line from seed1 to seed2, and their images
    arithmetic      the images of seed1, seed2, seed1 + seed2 and seed1 - seed2

Registered as the experiment "mnist-seeds": it trains the book 08 GAN (or takes an
existing run, --set from_run=runs/mnist-book) and saves both grids to its run folder.
"""

import dataclasses
from pathlib import Path

import numpy as np

import minigrad as mg

from . import plots
from .experiments import MNIST_BOOK
from .registry import ExperimentError, load_generator, register, text
from .runs import write_json


def interpolate(seed1, seed2, steps=12):
    """steps seeds evenly spaced from seed1 to seed2 (both included): (steps, *seed shape)."""
    weights = np.linspace(0.0, 1.0, steps, dtype=np.float32).reshape(-1, *([1] * seed1.ndim))
    return mg.tensor(seed1.numpy()[None] * (1 - weights) + seed2.numpy()[None] * weights)


def arithmetic(seed1, seed2):
    """The seeds seed1, seed2, seed1 + seed2, seed1 - seed2, stacked: (4, *seed shape)."""
    return mg.stack([seed1, seed2, seed1 + seed2, seed1 - seed2])


def seed_grids(G, experiment, out, seed=0, steps=12):
    """Draw two seeds, save interpolation.png and arithmetic.png in `out`; return their paths."""
    out = Path(out)
    mg.manual_seed(seed)
    seed1, seed2 = experiment.noise(2)
    with mg.no_grad():
        between = G(interpolate(seed1, seed2, steps)).numpy()
        combined = G(arithmetic(seed1, seed2)).numpy()
    shape, pixels = experiment.image_shape, experiment.pixel_range
    return (plots.save_grid(between, out / "interpolation.png", shape, pixels, columns=4,
                            title=f"{steps} steps from seed 1 (top left) to seed 2 (bottom right)"),
            plots.save_grid(combined, out / "arithmetic.png", shape, pixels, columns=4,
                            title="seed 1, seed 2, seed 1 + seed 2, seed 1 - seed 2"))


@dataclasses.dataclass
class SeedExperiment:
    name: str = "mnist-seeds"
    title: str = "Book 09: seed interpolation and arithmetic on a trained book 08 generator"
    kind: str = "analysis"
    base: object = dataclasses.field(default_factory=lambda: MNIST_BOOK)  # trained when no --set from_run
    settings: dict = dataclasses.field(default_factory=dict)  # --set keys: from_run, and the base's

    def __post_init__(self):
        self.settings = {"from_run": text, **self.base.settings}

    def run(self, options):
        out = Path(options.out)
        source = options.extra.get("from_run")
        if source is None:  # train the book 08 GAN first, into this run folder
            self.base.run(options)
            source = out
        elif options.resume:
            raise ExperimentError(f"{self.name}: --resume has nothing to continue with --set from_run "
                                  f"(the grids take seconds); run it without --resume")
        experiment, G = load_generator(source)
        out.mkdir(parents=True, exist_ok=True)
        paths = seed_grids(G, experiment, out, seed=options.seed)
        summary = {"experiment": self.name, "generator_run": str(source), "grids": [str(p) for p in paths]}
        write_json(out / "seeds.json", summary)
        return summary


MNIST_SEEDS = SeedExperiment()

register(MNIST_SEEDS)
