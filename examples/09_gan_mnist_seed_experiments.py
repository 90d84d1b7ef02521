"""Book chapter 9: playing with the seeds of a trained generator.

Images from 12 seeds on the line between two random seeds, and from the sum and the difference
of two seeds. Give a trained book-08 run with --from (e.g. runs/mnist-book), or this script
trains one first (--epochs, default 1).

Run:  python examples/09_gan_mnist_seed_experiments.py [--from runs/mnist-book]
"""

import sys

from _common import parse, run

source = None
if "--from" in sys.argv:
    position = sys.argv.index("--from")
    source = sys.argv[position + 1]
    del sys.argv[position:position + 2]
args = parse(__doc__.splitlines()[0], epochs=1)
extra = {"from_run": source} if source else {}
summary, out = run("mnist-seeds", args, **extra)
print("grids:", ", ".join(summary["grids"]))
