"""Book chapter 16: a conditional GAN that draws the digit you ask for.

G gets a random seed AND a one-hot label; D judges an image together with the label it claims.
Each step: D on a real image with its real label (target 1); D on G(seed, random label) with that
same label (target 0); G with a fresh seed and a new random label (target 1). The grid has one row
per requested digit, 0 to 9; the metrics classifier measures how often G draws the digit asked for.

Run:  python examples/16_cgan_mnist.py [--epochs 12] [--data-dir D]      (try --epochs 1 first)
"""

from _common import parse, run

from gans.evaluation import evaluate_run

args = parse(__doc__.splitlines()[0])
summary, out = run("mnist-conditional", args)
metrics = evaluate_run(out, data_dir=args.data_dir)
print(f"conditional accuracy: {metrics['conditional_accuracy']:.3f} (the classifier agrees with the requested "
      f"digit on this share of {metrics['samples']} samples)")
print(f"grids (one row per digit): {out / 'samples'}")
