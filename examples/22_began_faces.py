"""BEGAN on CelebA faces, 64x64: an autoencoder as discriminator, kept in balance with G by k.

Trains `began` on the 500 training faces (the last 58 of the 558 are held out), then prints the
paper's convergence measure M_global over training and the copy check: is each sample closer to
a training face than two different training faces are to each other? On 500 faces a GAN can
memorise; nearest_faces.png shows the samples nearest a training face, each above that face.

Run:  python examples/22_began_faces.py [--epochs 10] [--gamma 0.5] [--data-dir D]   (try --epochs 0.2 first)
"""

import csv
from pathlib import Path

from _common import parse, run

args = parse(__doc__.splitlines()[0], add_arguments=lambda parser: parser.add_argument(
    "--gamma", type=float, default=0.5, help="the diversity ratio E[L(G(z))] / E[L(x)] that k keeps (paper: 0.5)"))
args.out = args.out or Path("runs") / "examples" / f"began-gamma{args.gamma:g}"
summary, out = run("began", args, gamma=args.gamma)

with open(out / "history.csv") as file:
    rows = list(csv.DictReader(file))
print("M_global over training (and k, the weight of G's samples in D's loss):")
shown = sorted(set(range(0, len(rows), max(1, len(rows) // 10))) | {len(rows) - 1})  # about 10 rows, and the last
for row in (rows[i] for i in shown):
    print(f"  step {int(row['step']):5d}  epoch {float(row['epoch']):5.2f}  M_global {float(row['m_global']):.4f}  "
          f"k {float(row['k']):.4f}")

check = summary["copy_check"]
sample, face = check["sample_to_nearest_face"], check["face_to_nearest_other_face"]
print("copy check, L2 distance over 3x64x64 values in [-1, 1]:")
print(f"  {check['samples']} samples to their nearest training face:   median {sample['median']:.2f}, "
      f"5th percentile {sample['p5']:.2f}")
print(f"  {check['training_faces']} training faces to their nearest other one: median {face['median']:.2f}, "
      f"5th percentile {face['p5']:.2f}")
print(f"  the mean training face (a blur, no copy) to its nearest face: {check['mean_face_to_nearest_face']:.2f}")
print(f"  copies (closer to a training face than {check['copy_threshold']:.2f}, the smaller of that 5th percentile "
      f"and the mean face's distance): {check['copies']} of {check['samples']}")
print(f"  different training faces the samples fall nearest to: {check['distinct_nearest_faces']} "
      f"(copies of many faces spread over many; blurs share a few): see nearest_faces.png")
print(f"samples: {out / 'samples'}   M_global, losses and k: {out / 'loss.png'}   "
      f"nearest faces: {out / 'nearest_faces.png'}")
