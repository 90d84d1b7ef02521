"""Shared bits of the chapter scripts: argument parsing and where runs go."""

import argparse
from pathlib import Path

from gans.cli import import_all_experiments
from gans.experiments import get_experiment
from gans.registry import RunOptions


def parse(description, epochs=None, add_arguments=None):
    """The common options; add_arguments(parser), if given, adds a script's own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=float, default=epochs, help="epochs (default: the book's)")
    parser.add_argument("--data-dir", type=Path, help="folder holding mnist/ (else $MINIGRAD_DATA, else the cache)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--out", type=Path, help="run folder")
    parser.add_argument("--seed", type=int, default=0)
    if add_arguments:
        add_arguments(parser)
    return parser.parse_args()


def run(name, args, **extra):
    """Train the registered experiment `name` and return (summary, run folder)."""
    import_all_experiments()
    out = args.out or Path("runs") / "examples" / name
    options = RunOptions(out=out, epochs=args.epochs, device=args.device, data_dir=args.data_dir,
                         seed=args.seed, extra=extra)
    return get_experiment(name).run(options), out
