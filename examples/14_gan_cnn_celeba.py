"""Book chapter 14: a convolutional GAN on 128x128 face crops.

D: three 8x8, stride-2 convolutions (256, 256, 3 channels; BatchNorm, LeakyReLU 0.2), then one
sigmoid unit. G mirrors it with transposed convolutions from a (3, 11, 11) start. Adam 1e-4, one
face per step. The book took about 18 minutes per epoch of 20,000 faces on a P100 GPU (and reports
about 16 on a T4), with 0.20 GB peak GPU memory.

Run:  python examples/14_gan_cnn_celeba.py [--epochs 1] [--data-dir D] [--device cuda]
"""

from _common import parse, run

args = parse(__doc__.splitlines()[0])
summary, out = run("celeba-conv", args)
print(f"{summary['steps']} steps, {summary['seconds_per_epoch']} s per epoch, "
      f"peak host memory {summary['peak_host_memory_mb']} MB; samples in {out / 'samples'}")
