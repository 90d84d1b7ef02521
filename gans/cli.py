"""The command line: python -m gans list | train | sample | evaluate | data.

    python -m gans list
    python -m gans train EXPERIMENT [--epochs N] [--batch-size B] [--device cpu|cuda]
                                    [--data-dir D] [--out runs/NAME] [--seed S] [--resume]
                                    [--set KEY=VALUE ...] [--distributed]
    mpiexec -n N python -m gans train EXPERIMENT --distributed ...   (N processes, gans/distributed.py)
    python -m gans sample RUN [--n 64] [--seed S] [--data-dir D] [--out FILE.npz]
    python -m gans evaluate RUN [--n N] [--data-dir D] [--no-progress]
    python -m gans data celeba --zip img_align_celeba.zip [--limit 20000] --out celeba.h5

Exit status: 0 done; 2 a mistake to fix (an unknown experiment, a bad argument, a missing or
damaged file, a run folder that cannot be written or is in use), reported in one line on
stderr, never a traceback; 1 training diverged (NaN or infinite losses); 130 Ctrl-C; 143
SIGTERM (kill, timeout, a batch scheduler). After Ctrl-C or SIGTERM a training finishes its
step, saves a checkpoint (continue with --resume) and releases its run folder.
"""

import argparse
import json
import math
import sys
from pathlib import Path

from . import catalog  # noqa: F401 (registers every experiment)
from . import distributed, plots
from .data import celeba
from .evaluation import draw_samples, grid_columns, grid_images, measure_run, save_metrics, save_samples
from .errors import TrainingDiverged, TrainingInterrupted, UserError, exit_status, sigterm_raises
from .registry import EXPERIMENTS, ExperimentError, RunOptions, check_settings, get_experiment, settings_help
from .runs import RunLock, finite_or_none


class Parser(argparse.ArgumentParser):
    """argparse, but errors are one line: 'gans train: error: ...'."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more, got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not math.isfinite(value) or value <= 0:  # float() reads "nan" and "inf" too
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def some_path(text):
    """A path, not empty ('' would mean the current folder without saying so)."""
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    return Path(text)


def key_value(text):
    """'train_limit=1000' -> ('train_limit', 1000); whole numbers become ints, other numbers floats.
    Whether the key and value make sense is the experiment's to check (registry.check_settings)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    for kind in (int, float):
        try:
            return key, kind(value)
        except ValueError:
            pass
    return key, value


MAX_GRID = 256  # samples in one `sample` grid: more would draw each too small to see


def build_parser():
    parser = Parser(prog="python -m gans", description="The GAN book's experiments, on minigrad.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="COMMAND")

    listing = commands.add_parser("list", help="list the experiments")
    listing.add_argument("--verbose", "-v", action="store_true", help="also each experiment's --set settings")

    train = commands.add_parser("train", help="train an experiment into a run folder", add_help=False,
                                epilog="`train EXPERIMENT --help` also lists that experiment's --set settings.")
    train.add_argument("-h", "--help", action=TrainHelp, help="show this help (and, after EXPERIMENT, its --set "
                                                              "settings) and exit")
    train.add_argument("experiment", help="an experiment name from `python -m gans list`")
    train.add_argument("--epochs", type=positive_float, help="epochs (fractions allowed; default: the experiment's)")
    train.add_argument("--batch-size", type=positive_int, help="batch size (default: the experiment's)")
    train.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    train.add_argument("--data-dir", type=some_path,
                       help="folder holding mnist/ (else $MINIGRAD_DATA, else the cache)")
    train.add_argument("--out", type=some_path, help="run folder (default: runs/EXPERIMENT)")
    train.add_argument("--seed", type=non_negative_int, default=0)
    train.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--no-compile", action="store_true",
                       help="run every step eagerly (by default a classic GAN's steps at batch size 1, or "
                            "of networks without convolutions, are captured with mg.compile and replayed: the "
                            "same numbers, faster)")
    train.add_argument("--distributed", action="store_true",
                       help="one of the processes of `mpiexec -n N`: train together, each on its part of the data "
                            "(global batch: N x --batch-size; gans/distributed.py)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", type=key_value,
                       help="an experiment-specific setting, e.g. --set train_limit=1000 or "
                            "--set from_run=runs/mnist-book (repeatable)")

    sample = commands.add_parser("sample", help="draw a grid of samples from a trained run (image to image: "
                                                "held-out inputs, outputs and real photos)")
    sample.add_argument("run", type=Path, help="a run folder made by `train`")
    sample.add_argument("--n", type=positive_int, default=64,
                        help=f"how many samples, or held-out faces to translate (default 64; a grid shows at "
                             f"most {MAX_GRID})")
    sample.add_argument("--seed", type=non_negative_int, default=0)
    sample.add_argument("--data-dir", type=Path, help="image to image: the folder holding celeba/ (default: the "
                                                      "run's, then $MINIGRAD_DATA, then the cache)")
    sample.add_argument("--out", type=Path, metavar="FILE.npz",
                        help="write the samples to this .npz file instead of drawing a grid: samples (N, C, H, W) "
                             "float32 in [0, 1], labels for conditional runs, inputs and targets for image to "
                             "image, experiment (docs/experiments.md)")

    evaluate = commands.add_parser("evaluate", help="measure a trained run (mode coverage, Fréchet distance; "
                                                    "held-out L1, PSNR, SSIM; BEGAN's M_global and copy check)")
    evaluate.add_argument("run", type=Path, help="a run folder made by `train`")
    evaluate.add_argument("--n", type=positive_int,
                          help="samples to measure (default: MNIST 10000, BEGAN 256), or image to image the "
                               "first N held-out faces (default: all)")
    evaluate.add_argument("--data-dir", type=Path, help="the folder holding mnist/ or celeba/ (default: the run's, "
                                                        "then $MINIGRAD_DATA, then the cache; never downloaded)")
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bar")

    data = commands.add_parser("data", help="prepare datasets")
    datasets = data.add_subparsers(dest="dataset", required=True, parser_class=Parser, metavar="DATASET")
    celeba.add_cli_arguments(datasets.add_parser("celeba", help="build the CelebA HDF5 file from the zip"))
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    # SIGTERM (kill, timeout, a batch scheduler) stops like Ctrl-C: a training saves a checkpoint
    # after its step, and the run folder's lock is released (exit status 143; gans/errors.py).
    with sigterm_raises():
        return run_command(args)


def run_command(args):
    """Run the parsed command; its exit status (see the module docstring)."""
    try:
        if args.command == "list":
            return list_experiments(args.verbose)
        if args.command == "train":
            return train(args)
        if args.command == "sample":
            return sample(args)
        if args.command == "evaluate":
            return evaluate(args)
        if args.command == "data":
            return celeba.run_cli(args)
    except UserError as error:
        return one_line_error(error)
    except OSError as error:  # a path of the user's that cannot be read or written
        where = f": {error.filename}" if error.filename else ""
        return one_line_error(f"{error.strerror or error}{where}")
    except TrainingDiverged as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except TrainingInterrupted as error:  # Ctrl-C or SIGTERM, after the checkpoint
        print(f"\ninterrupted: {error}", file=sys.stderr)
        return exit_status(error)
    except KeyboardInterrupt as interruption:  # Ctrl-C, or SIGTERM (Terminated), outside the steps
        print("\ninterrupted", file=sys.stderr)
        return exit_status(interruption)


def one_line_error(error):
    """Print `error` on one line of stderr; exit status 2. (The MNIST not-found message lists where
    it looked, one place a line: that one keeps its lines.)"""
    print(f"error: {error}", file=sys.stderr)
    return 2


def list_experiments(verbose=False):
    width = max(len(name) for name in EXPERIMENTS)
    for name, experiment in sorted(EXPERIMENTS.items()):
        print(f"{name:<{width}}  {experiment.kind:<10}  {experiment.title}")
        if verbose:
            print("\n".join(settings_help(experiment)))
    return 0


class TrainHelp(argparse.Action):
    """-h/--help of `train`: the usual help and, when an experiment was named before it
    (`train pix2pix --help`), what `--set` may change in it, with defaults and meanings."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser.print_help()
        name = getattr(namespace, "experiment", None)
        print()
        if name in EXPERIMENTS:
            print(f"What --set may change in {name}:")
            print("\n".join(settings_help(EXPERIMENTS[name])))
        elif name is not None:
            print(f"There is no experiment {name!r}; `python -m gans list` names them.")
        else:
            print("Name an experiment (`train EXPERIMENT --help`) for its --set settings; "
                  "`python -m gans list --verbose` shows them all.")
        parser.exit()


def train(args):
    experiment = get_experiment(args.experiment)
    extra = check_settings(experiment, dict(args.set))
    out = args.out or Path("runs") / experiment.name
    options = RunOptions(out=out, epochs=args.epochs, batch_size=args.batch_size, device=args.device,
                         data_dir=args.data_dir, seed=args.seed, resume=args.resume, progress=not args.no_progress,
                         compile=not args.no_compile, extra=extra)
    # The lock comes first: it finds an unwritable folder before any work, and it keeps a
    # second training out of this folder while this one runs (gans/runs.py). Distributed: rank 0's.
    with distributed.session(args.distributed), distributed.lock(out, RunLock):
        if (out / "checkpoint.npz").exists() and not args.resume:
            raise ExperimentError(f"{out} already holds a run; pass --resume to continue it, or choose --out")
        try:
            summary = experiment.run(options)
        except RuntimeError as error:
            if "CUDA is not available" in str(error):
                raise ExperimentError(str(error)) from None
            raise
    print(json.dumps(finite_or_none(summary), indent=2))
    grids = sorted((out / "samples").glob("step_*.png")) if (out / "samples").is_dir() else []
    if grids:
        print(f"sample grid: {grids[-1]}")
    if (out / "loss.png").exists():
        print(f"loss plot:   {out / 'loss.png'}")
    print(f"run folder:  {out}")
    return 0


def sample(args):
    """A grid of samples in the run folder, or (--out) the samples in the documented .npz format."""
    if args.out is not None and args.out.suffix != ".npz":
        raise ExperimentError(f"--out {args.out}: the samples are written as .npz; name the file FILE.npz")
    if args.out is None and args.n > MAX_GRID:
        raise ExperimentError(f"--n {args.n}: a grid shows at most {MAX_GRID} samples (more would be too small "
                              f"to see); use --out FILE.npz for more")
    arrays = draw_samples(args.run, args.n, seed=args.seed, data_dir=args.data_dir)
    name, samples = str(arrays["experiment"]), arrays["samples"]
    if args.out is not None:
        save_samples(args.out, arrays)
        shapes = ", ".join(f"{key} {value.shape} {value.dtype}" for key, value in arrays.items() if key != "experiment")
        print(f"wrote {args.out}: {name}, {shapes}")
        return 0
    if samples.shape[2] == 1:  # one row of values (the 1010 pattern), not an image
        raise ExperimentError(f"{name} does not make images; use --out FILE.npz for its raw samples")
    images = grid_images(arrays)
    shape = images.shape[2:] if images.shape[1] == 1 else images.shape[1:]
    path = args.run / f"samples_{args.n}.png"
    if "inputs" in arrays:
        title = f"{name}: {len(samples)} held-out faces, each input | output | real photo"
    else:
        title = f"{name}: {len(samples)} samples (seed {args.seed})"
    plots.save_grid(images, path, shape, (0.0, 1.0), columns=grid_columns(arrays), title=title)
    print(f"wrote {path}")
    return 0


def evaluate(args):
    """Measure the run; print the metrics on stdout, then save them to RUN/metrics.json. A folder
    that cannot be written costs the file, not the metrics: they are printed first (exit status 2)."""
    results = measure_run(args.run, n=args.n, data_dir=args.data_dir, progress=not args.no_progress)
    print(json.dumps(finite_or_none(results), indent=2), flush=True)
    try:
        path = save_metrics(args.run, results)
    except OSError as error:
        return one_line_error(f"the metrics above could not be saved to {args.run / 'metrics.json'}: "
                              f"{error.strerror or error}")
    print(f"wrote {path}")
    return 0
