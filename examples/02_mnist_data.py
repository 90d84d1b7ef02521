"""Book chapter 2: a first look at the MNIST data.

Run:  python examples/02_mnist_data.py [--data-dir ROOT] [--csv FILE]

Each MNIST image is 28 x 28 = 784 grey pixels from 0 (background) to 255 (ink), with the
digit it shows as its label. The book reads them from a CSV file, one image per row:
the label, then the 784 pixel values. This script does the same with the book's dataset
class (BookMnistDataset) when the CSV is at hand (ROOT/mnist_csv/mnist_train*.csv), and
otherwise reads the canonical idx files; then it prints the first rows and draws some
images with their labels, in the book's blue colour map.
"""

import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw into PNG files; no window needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gans.data.mnist import MNIST, BookMnistDataset, MnistNotFoundError, cache_dir  # noqa: E402

OUT = Path("runs/examples/02_mnist_data")


def find_csv(data_dir):
    """The book's training CSV under a data root (ROOT/mnist_csv/ or ROOT), or None."""
    roots = [data_dir, os.environ.get("MINIGRAD_DATA"), cache_dir()]
    for root in filter(None, roots):
        for folder in (Path(root) / "mnist_csv", Path(root)):
            found = sorted(folder.glob("mnist_train*.csv"))
            if found:
                return max(found, key=lambda path: path.stat().st_size)  # the full file over a sample
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder holding mnist/ or mnist_csv/")
    parser.add_argument("--csv", default=None, help="the book's mnist_train.csv (default: look under the data folder)")
    args = parser.parse_args()
    data_dir = args.data_dir

    csv = Path(args.csv) if args.csv else find_csv(data_dir)
    try:
        if csv is not None:
            dataset = BookMnistDataset(csv)
            source = f"the book's CSV {csv}"
        else:
            dataset = MNIST(data_dir, train=True)
            source = f"the idx files in {dataset.location}"
    except MnistNotFoundError as error:
        raise SystemExit(f"{error}\n\nNo MNIST data: pass --data-dir ROOT or --csv FILE.")
    images, labels = dataset.images, dataset.labels
    print(f"{len(dataset)} images from {source}")
    print(f"each image: {images.shape[1]} x {images.shape[2]} pixels, values {images.min()} to {images.max()}")

    # The book's df.head(): the first rows, label first, then the pixels (mostly 0, the background).
    print("\nthe first 5 rows: the label, then 784 pixels, mostly background (0):")
    for label, image in zip(labels[:5], images[:5]):
        pixels = image.reshape(-1)
        first_ink = np.flatnonzero(pixels)[0]
        print(f"  label {label}:  {np.count_nonzero(pixels)} pixels with ink; the first ones, from "
              f"pixel {first_ink}: {' '.join(map(str, pixels[first_ink:first_ink + 6]))} ...")
    counts = np.bincount(labels, minlength=10)
    print("\nimages of each digit:", ", ".join(f"{d}: {c}" for d, c in enumerate(counts)))

    OUT.mkdir(parents=True, exist_ok=True)
    # One image, as the book draws row 13 (the first row if there are fewer).
    row = 13 if len(dataset) > 13 else 0
    plt.figure(figsize=(4, 4))
    plt.title("label = " + str(labels[row]))
    plt.imshow(images[row], interpolation="none", cmap="Blues")
    plt.savefig(OUT / "one_image.png", dpi=100)
    plt.close()

    # A few more, each titled with its label.
    figure, axes = plt.subplots(3, 6, figsize=(9, 5))
    for index, ax in enumerate(axes.flat):
        ax.imshow(images[index], interpolation="none", cmap="Blues")
        ax.set_title(f"label = {labels[index]}", fontsize=9)
        ax.axis("off")
    figure.tight_layout()
    figure.savefig(OUT / "images.png", dpi=100)
    plt.close(figure)
    print(f"\nsaved {OUT / 'one_image.png'} (row {row}) and {OUT / 'images.png'} (the first 18)")


if __name__ == "__main__":
    main()
