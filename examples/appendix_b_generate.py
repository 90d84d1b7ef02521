"""Book appendix B: generating images from pixel probabilities.

If each pixel were independent, we could generate images by switching each pixel on with the
probability that it is on in the training data. The book shows this with a 3x3 toy: counts of
coloured pixels over 8 examples become probabilities, and each sample sets a pixel when a uniform
random number falls below its probability (ceil(p - u)). Done on real MNIST, every sample is a
blur of all digits at once: pixels are NOT independent, which is why we need a generator that
learns how pixels go together.

Run:  python examples/appendix_b_generate.py [--data-dir D]
"""

import argparse
from pathlib import Path

import numpy as np

from gans import plots

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-dir", type=Path)
args = parser.parse_args()
out = Path("runs/examples/appendix_b")
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)

counts = np.array([[6, 0, 1], [0, 7, 0], [2, 0, 1]], dtype=float)
probabilities = counts / 8
print("probabilities of each pixel being on:\n", probabilities)
samples = np.ceil(probabilities - rng.uniform(size=(24, 3, 3)))   # 1 with probability p
print(f"share of samples with each pixel on (24 samples):\n{samples.mean(axis=0).round(2)}")
plots.save_grid(samples, out / "toy_samples.png", (3, 3), columns=6, title="24 samples from the 3x3 probabilities")

try:
    from gans.data.mnist import MNIST
    mnist = MNIST(root=args.data_dir, train=True, download=False)
except FileNotFoundError as error:
    print(f"no MNIST here, skipping the MNIST part ({str(error).splitlines()[0]})")
else:
    on = (mnist.images > 127).mean(axis=0)                             # P(pixel on), (28, 28)
    digits = np.ceil(on[None] - rng.uniform(size=(24, 28, 28)))
    plots.save_grid(np.concatenate([on[None], digits]), out / "mnist_samples.png", (28, 28), columns=5,
                    title="P(pixel on) over MNIST (first), then samples from it")
    print(f"MNIST: the mean of the pixel probabilities is {on.mean():.3f}; see {out / 'mnist_samples.png'}")
print(f"figures in {out}")
