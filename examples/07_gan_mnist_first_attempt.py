"""Book chapter 7: a first MNIST GAN, and mode collapse.

G (1 -> 200 -> 784, sigmoids) turns one uniform random number into an image; D (784 -> 200 -> 1)
judges it. MSE loss, SGD, one image per step, one epoch. The book saw G make nearly the same
image whatever its seed: mode collapse. Here the metrics classifier counts how many digit
classes G's samples cover (a healthy generator covers all 10).

Run:  python examples/07_gan_mnist_first_attempt.py [--epochs 1] [--data-dir D]
"""

from _common import parse, run

from gans.evaluation import evaluate_run

args = parse(__doc__.splitlines()[0])
summary, out = run("mnist-first", args)
metrics = evaluate_run(out, data_dir=args.data_dir)
print(f"classes covered by 10,000 samples: {metrics['classes_present']} of 10 "
      f"(class KL to uniform: {metrics['class_kl']:.3f}; 0 is perfectly balanced)")
print(f"sample grids: {out / 'samples'}   loss plot: {out / 'loss.png'}")
