"""Book chapter 10: CelebA faces into one HDF5 file.

Decodes the aligned CelebA JPEGs (218x178, RGB) from the official zip (or a folder of JPEGs) and
stores them as one chunked, gzip-compressed HDF5 dataset of shape (N, 218, 178, 3), one image per
chunk so that reading any image is fast. The book packed the first 20,000 of the 202,599 images.

CelebA must be downloaded by you (https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html, "Align&Cropped
Images", img_align_celeba.zip). Without --zip this script uses the 558-image sample in
../shared/data/celeba when it is there.

Run:  python examples/10_celeba_make_hdf5.py [--zip img_align_celeba.zip] [--limit 20000] [--out celeba.h5]
"""

import argparse
from pathlib import Path

from gans.data.celeba import CelebAError, build_hdf5

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--zip", type=Path, default=Path("../shared/data/celeba/img_align_celeba_558.zip"))
parser.add_argument("--limit", type=int, default=20000)
parser.add_argument("--out", type=Path, default=Path("runs/examples/celeba/celeba.h5"))
args = parser.parse_args()

args.out.parent.mkdir(parents=True, exist_ok=True)
try:
    report = build_hdf5(args.zip, args.out, limit=args.limit)
except CelebAError as error:
    raise SystemExit(f"error: {error}")
print(report.summary())
