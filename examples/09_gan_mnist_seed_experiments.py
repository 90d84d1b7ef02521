"""Book chapter 9: playing with the seeds of a trained generator.

Images from 12 seeds on the line between two random seeds, and from the sum and the difference
of two seeds. Give a trained book-08 run with --from (e.g. runs/mnist-book), or this script
trains one first (--epochs, default 1).

Run:  python examples/09_gan_mnist_seed_experiments.py [--from runs/mnist-book]
"""

from _common import parse, run

args = parse(__doc__.splitlines()[0], epochs=1, add_arguments=lambda parser: parser.add_argument(
    "--from", dest="from_run", help="a trained mnist-book run folder (else train one first)"))
extra = {"from_run": args.from_run} if args.from_run else {}
summary, out = run("mnist-seeds", args, **extra)
print("grids:", ", ".join(summary["grids"]))
