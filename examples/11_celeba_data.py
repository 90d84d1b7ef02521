"""Book chapter 11: a look inside the HDF5 faces.

Lists what the file holds, shows image 6 (the book's example) whole and as the 128x128 centre crop
that the convolutional GANs train on, and a grid of the first 24 faces. Reads either our layout or
the book's (a group img_align_celeba of datasets 0.jpg, 1.jpg, ...).

Run:  python examples/10_celeba_make_hdf5.py   (first, to make the file), then
      python examples/11_celeba_data.py [--h5 runs/examples/celeba/celeba.h5]
"""

import argparse
from pathlib import Path

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gans import plots  # noqa: E402
from gans.data.celeba import CelebADataset  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--h5", type=Path, default=Path("runs/examples/celeba/celeba.h5"))
args = parser.parse_args()
if not args.h5.exists():
    raise SystemExit(f"error: {args.h5} does not exist; make it with python examples/10_celeba_make_hdf5.py")

with h5py.File(args.h5, "r") as file:
    for name, item in file.items():
        print(f"{name}: {item}")

out = args.h5.parent
with CelebADataset(args.h5) as faces, CelebADataset(args.h5, crop=128) as crops:
    print(f"{len(faces)} images; image 6 has shape {tuple(faces[6].shape)}, values {faces[6].numpy().min():.2f}"
          f"..{faces[6].numpy().max():.2f}; its crop {tuple(crops[6].shape)}")
    figure, (whole, crop) = plt.subplots(1, 2, figsize=(8, 5))
    whole.imshow(faces[6].numpy())
    whole.set_title("image 6, 218x178")
    crop.imshow(crops[6].numpy())
    crop.set_title("centre crop, 128x128")
    figure.savefig(out / "image_6.png", dpi=100)
    count = min(24, len(faces))
    plots.save_grid(faces.__getitems__(list(range(count))).numpy(), out / "first_faces.png", (218, 178, 3),
                    columns=8, title=f"the first {count} faces")
print(f"figures: {out / 'image_6.png'}, {out / 'first_faces.png'}")
