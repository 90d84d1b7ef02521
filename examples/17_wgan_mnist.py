"""WGAN on MNIST (Arjovsky et al., 2017): a critic instead of a discriminator.

The critic C scores images; E[C(real)] - E[C(fake)] estimates the Wasserstein distance between the
data and G's samples, as long as C stays Lipschitz, which the paper enforces by clipping every
critic weight to [-0.01, 0.01]. Five critic steps (RMSprop 5e-5) per G step. The paper's claim: this
estimate falls as the samples improve, which a classic GAN's D loss does not do. The run measures the
Fréchet distance every 50 steps to check it; the script prints the rank correlation of the two.

Run:  python examples/17_wgan_mnist.py [--epochs 5] [--data-dir D]      (try --epochs 0.2 first)
Then, beside a DCGAN run with the same hook (python -m gans train dcgan --set frechet_every=250):
      python examples/wgan_estimate_vs_frechet.py runs/examples/wgan runs/dcgan
"""

from _common import parse, run

from gans.evaluation import evaluate_run
from gans.training import describe_rank_correlation

args = parse(__doc__.splitlines()[0])
summary, out = run("wgan", args)
metrics = evaluate_run(out, data_dir=args.data_dir)
print(f"classes covered: {metrics['classes_present']} of 10, class KL {metrics['class_kl']:.3f}, "
      f"Fréchet distance {metrics['frechet_distance']:.1f}")
rho = describe_rank_correlation(summary, "wasserstein")  # or why there is none (a short run)
print(f"Spearman correlation of the Wasserstein estimate with the Fréchet distance during training: {rho}")
print(f"sample grids: {out / 'samples'}   estimate and losses: {out / 'loss.png'}")
