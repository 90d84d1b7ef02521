"""Book chapter 12: a fully connected GAN on whole face images.

D flattens a 218x178x3 face (116,412 numbers) into 100 LeakyReLU-LayerNorm units and one sigmoid;
G grows 100 seed numbers through 300 units into 116,412 pixels. BCE, Adam 1e-4, one face per step.
The book trained 1 epoch of 20,000 faces on a T4 GPU in 9 min 45 s (peak GPU memory 1.09 GB).

Run:  python examples/12_gan_celeba.py [--epochs 1] [--data-dir D]     (CelebA: see example 10)
"""

from _common import parse, run

args = parse(__doc__.splitlines()[0])
summary, out = run("celeba-mlp", args)
print(f"{summary['steps']} steps, {summary['seconds_per_epoch']} s per epoch, "
      f"peak host memory {summary['peak_host_memory_mb']} MB; samples in {out / 'samples'}")
