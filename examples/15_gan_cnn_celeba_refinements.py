"""Book chapter 15: the convolutional face GAN with GELU in place of LeakyReLU.

Same networks as chapter 14, every LeakyReLU(0.2) replaced by GELU (x times the normal CDF of x).

Run:  python examples/15_gan_cnn_celeba_refinements.py [--epochs 1] [--data-dir D] [--device cuda]
"""

from _common import parse, run

args = parse(__doc__.splitlines()[0])
summary, out = run("celeba-conv-gelu", args)
print(f"{summary['steps']} steps, {summary['seconds_per_epoch']} s per epoch, "
      f"peak host memory {summary['peak_host_memory_mb']} MB; samples in {out / 'samples'}")
