"""Book chapter 6: a GAN learns the 1010 pattern.

D (4 -> 3 -> 1, sigmoids) learns to tell the pattern [high, low, high, low] from G's output;
G (1 -> 3 -> 4, sigmoids), always fed the constant 0.5, learns to make the pattern. MSE loss,
SGD with lr 0.01, 10,000 steps of one sample. The book got G(0.5) = [0.94, 0.05, 0.94, 0.05]
and a discriminator loss that settles at 0.25.

Run:  python examples/06_gan_simple_pattern.py      (about 10 seconds)
"""

from _common import parse, run

args = parse(__doc__.splitlines()[0])
summary, out = run("pattern-1010", args)
print("G(0.5) =", summary["G(0.5)"], " (book: [0.94, 0.05, 0.94, 0.05])")
print("D loss over the last steps:", summary["d_loss_recent_mean"], " (ideal MSE at equilibrium: 0.25)")
print(f"figures: {out / 'loss.png'} and {out / 'pattern_history.png'} (G's output as training goes on)")
