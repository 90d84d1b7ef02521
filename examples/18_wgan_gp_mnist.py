"""WGAN-GP on MNIST (Gulrajani et al., 2017): the Lipschitz constraint as a gradient penalty.

Instead of clipping the critic's weights, WGAN-GP adds 10 * E[(|grad_x C(x_hat)| - 1)^2] at random
points x_hat between real and generated images. The penalty is itself a gradient, so its gradient
with respect to the critic's weights is a second derivative: minigrad's
mg.autograd.grad(..., create_graph=True), exactly as the PyTorch code writes it (gans/wgan.py).
Adam 1e-4 with betas (0, 0.9), five critic steps per G step, no BatchNorm in the critic.

Run:  python examples/18_wgan_gp_mnist.py [--epochs 5] [--data-dir D]      (try --epochs 0.2 first)
"""

from _common import parse, run

from gans.evaluation import evaluate_run

args = parse(__doc__.splitlines()[0])
summary, out = run("wgan-gp", args)
metrics = evaluate_run(out, data_dir=args.data_dir)
print(f"classes covered: {metrics['classes_present']} of 10 (target 10), class KL {metrics['class_kl']:.3f} "
      f"(target <= 0.05), Fréchet distance {metrics['frechet_distance']:.1f} (the DCGAN's at 5 epochs: 100)")
print(f"sample grids: {out / 'samples'}   estimate, penalty and G loss: {out / 'loss.png'}")
