"""Shared bits of the chapter scripts: argument parsing and where runs go."""

import argparse
import json
from pathlib import Path

import gans.catalog  # noqa: F401 (registers every experiment)
from gans.registry import RunOptions, get_experiment


def parse(description, epochs=None, add_arguments=None):
    """The common options; add_arguments(parser), if given, adds a script's own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=float, default=epochs, help="epochs (default: the book's)")
    parser.add_argument("--data-dir", type=Path, help="folder holding mnist/ (else $MINIGRAD_DATA, else the cache)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--out", type=Path, help="run folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, help="batch size (default: the experiment's)")
    parser.add_argument("--reuse", action="store_true",
                        help="use a finished run folder (one with summary.json) instead of training it again")
    if add_arguments:
        add_arguments(parser)
    return parser.parse_args()


def run(name, args, **extra):
    """Train the registered experiment `name` and return (summary, run folder).

    With --reuse, a run folder that already holds a finished run's summary.json is returned as it is
    (its config.json says how it was trained); any other folder is trained."""
    out = args.out or Path("runs") / "examples" / name
    if getattr(args, "reuse", False) and (out / "summary.json").exists():
        print(f"reusing the finished run in {out} (see its config.json)")
        return json.loads((out / "summary.json").read_text()), out
    options = RunOptions(out=out, epochs=args.epochs, batch_size=getattr(args, "batch_size", None),
                         device=args.device, data_dir=args.data_dir, seed=args.seed, extra=extra)
    return get_experiment(name).run(options), out
