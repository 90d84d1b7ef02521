"""Book chapter 8: the improved MNIST GAN.

The book's fixes for chapter 7: BCE loss, LeakyReLU(0.02), LayerNorm, Adam (lr 1e-4), and a seed
of 100 normally distributed numbers. One image per step, as the book trains it.

Run:  python examples/08_gan_mnist.py [--epochs 4] [--data-dir D]
      (the book's 4 epochs are 240,000 steps: about 9 minutes on a 2-core CPU; try --epochs 0.5 first)
"""

from _common import parse, run

from gans.evaluation import evaluate_run

args = parse(__doc__.splitlines()[0])
summary, out = run("mnist-book", args)
metrics = evaluate_run(out, data_dir=args.data_dir)
print(f"classes covered: {metrics['classes_present']} of 10, class KL {metrics['class_kl']:.3f}, "
      f"Fréchet distance {metrics['frechet_distance']:.2f} (test vs train floor: "
      f"{metrics['frechet_floor_test_vs_train']:.2f})")
print(f"sample grids: {out / 'samples'}   loss plot: {out / 'loss.png'}")
