"""MNIST: 70,000 handwritten digits (60,000 to train on, 10,000 to test), each 28×28 grey
pixels (uint8, 0 = background, 255 = ink) with a label 0-9.

    from gans.data.mnist import MNIST
    train = MNIST(scale="pm1")                    # finds the files, or downloads them once
    images, labels = train[0]                     # (784,) float32 in [-1, 1], and the int 5
    loader = mg.data.DataLoader(train, batch_size=64, shuffle=True)
    for images, labels in loader: ...             # (64, 784) float32, (64,) int64

    book = BookMnistDataset("mnist_train.csv")    # the book's CSV dataset, as the book wrote it
    label, image_values, target = book[0]

Two formats are read:
  - the canonical idx files, gzip-compressed (read_idx / read_mnist_idx): a big-endian header
    (magic number, then one 4-byte size per dimension) followed by the raw bytes;
  - the book's CSV (read_mnist_csv): one image per row, `label,pixel0,...,pixel783`, no header.

Where the files come from (find_mnist): the first of
  1. `data_dir` (the --data-dir option),  2. $MINIGRAD_DATA,  3. the user cache
     ($XDG_CACHE_HOME/minigrad, else ~/.cache/minigrad)
that holds the four .gz files, in its `mnist/` folder, directly, or in torchvision's
`MNIST/raw/`. If none does, they are downloaded into the cache's `mnist/` folder from MIRRORS,
tried in order, as torchvision does (a download always goes to the cache, never to data_dir).

How files are checked:
  - a download is verified before it is renamed into the cache (see gans.data.download): its
    .gz md5 must be torchvision's, or the md5 of its decompressed bytes must be the canonical
    one (copies recompressed elsewhere differ in their .gz bytes but not in their content);
  - a file found on disk is verified lazily, every time it is loaded: the loader decompresses
    it anyway, and the md5 of the decompressed bytes then costs about 0.07 s for the 47 MB of
    training images. No marker files are written, so read-only folders work and a file
    changed later is still caught.

Memory: the dataset keeps the uint8 pixels (47 MB for the training set) and converts to
float32 only the images asked for, per sample or per batch; the whole set as float32 would
take 188 MB.
"""

import gzip
import hashlib
import math
import os
import shutil
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

import minigrad as mg
from minigrad.data import Dataset

from ..errors import UserError
from .download import ChecksumError, DownloadError, cache_dir, data_roots, download_with_mirrors, md5sum

# Base URLs, tried in order. Module-level so that tests (or users behind a proxy) can
# replace them: gans.data.mnist.MIRRORS[:] = ["http://my.mirror/mnist/"].
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]


class MnistFile(NamedTuple):
    """One of the four MNIST files, and how to recognise a good copy of it."""
    name: str
    md5: str      # md5 of the decompressed bytes: the same for every copy
    size: int     # size of the decompressed bytes
    gz_md5: str   # md5 of the .gz on the public mirrors (torchvision's well-known value)


FILES = {spec.name: spec for spec in [
    MnistFile("train-images-idx3-ubyte.gz", "6bbc9ace898e44ae57da46a324031adb", 47_040_016,
              "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    MnistFile("train-labels-idx1-ubyte.gz", "a25bea736e30d166cdddb491f175f624", 60_008,
              "d53e105ee54ea40749a09fcbcd1e9432"),
    MnistFile("t10k-images-idx3-ubyte.gz", "2646ac647ad5339dbf082846283269ea", 7_840_016,
              "9fb629c4189551a2d022fa330f9573f3"),
    MnistFile("t10k-labels-idx1-ubyte.gz", "27ae3e4e09519cfbb04c329615203637", 10_008,
              "ec29112dd5afa0611ce80d1b7f02629c"),
]}
TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (N, 28, 28)
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (N,)

# The idx format's third header byte names the element type; data are big-endian.
IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

GZIP_MAGIC = b"\x1f\x8b"


class IdxFormatError(UserError, ValueError):
    """A file that is not a valid (or complete) idx file."""


class MnistNotFoundError(UserError, FileNotFoundError):
    """MNIST is nowhere to be found, and could not (or may not) be downloaded."""


def _what_to_do(path):
    return (f"Delete {path} and run again to download a fresh copy, or point --data-dir "
            f"(or $MINIGRAD_DATA) at a folder holding a good copy of MNIST.")


# --- reading the idx format ------------------------------------------------------------

def read_idx(path, expected_magic=None, md5=None):
    """Read an idx file (gzip-compressed or not) into a NumPy array of its own shape and type.

    expected_magic  the magic number the file must start with (2051 images, 2049 labels)
    md5             the md5 its decompressed bytes must have (None: don't check)

    Returns a read-only array sharing memory with the decompressed bytes, e.g. uint8 of shape
    (60000, 28, 28) for the training images. Raises IdxFormatError for a truncated, corrupt
    or mislabelled file and ChecksumError for unexpected content, saying what to do.
    """
    path = Path(path)
    raw = _decompressed_bytes(path)
    if len(raw) < 4:
        raise IdxFormatError(f"{path} is too short to be an idx file ({len(raw)} bytes). "
                             + _what_to_do(path))
    magic, type_code, ndim = int.from_bytes(raw[:4], "big"), raw[2], raw[3]
    if expected_magic is not None and magic != expected_magic:
        raise IdxFormatError(f"{path} starts with magic number {magic}, but it should be "
                             f"{expected_magic} (2051 for images, 2049 for labels). "
                             + _what_to_do(path))
    if raw[:2] != b"\0\0" or type_code not in IDX_TYPES:
        raise IdxFormatError(f"{path} is not an idx file (magic number {magic}). " + _what_to_do(path))

    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise IdxFormatError(f"{path} is truncated inside its header. " + _what_to_do(path))
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_TYPES[type_code]
    expected_size = header_size + math.prod(shape) * dtype.itemsize
    if len(raw) != expected_size:
        problem = "truncated" if len(raw) < expected_size else "longer than its header says"
        raise IdxFormatError(f"{path} is {problem}: its header announces shape {shape}, i.e. "
                             f"{expected_size:,} bytes, but it holds {len(raw):,}. " + _what_to_do(path))

    if md5 is not None:
        actual = hashlib.md5(raw).hexdigest()
        if actual != md5:
            raise ChecksumError(str(path), f"{md5} (of the decompressed bytes)", actual,
                                advice=_what_to_do(path))
    return np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)


def _decompressed_bytes(path):
    """A file's bytes, gunzipped when it is gzip (recognised by its first two bytes, not its name)."""
    with open(path, "rb") as file:
        compressed = file.read(2) == GZIP_MAGIC
    if not compressed:
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as file:
            return file.read()
    except (EOFError, OSError, zlib.error) as error:  # EOFError: cut off; BadGzipFile is an OSError
        raise IdxFormatError(f"{path} is a truncated or corrupt gzip file ({error}). "
                             + _what_to_do(path)) from error


def read_mnist_idx(folder, train=True, verify=True):
    """Read MNIST's training (train=True) or test set from the folder holding the .gz files.

    verify  check the md5 of each file's decompressed bytes (about 0.07 s for the training set)

    Returns (images, labels): images uint8 (N, 28, 28), read-only; labels int64 (N,).
    N is 60000 for the training set and 10000 for the test set.
    """
    folder = Path(folder)
    images_name, labels_name = TRAIN_FILES if train else TEST_FILES
    images = read_idx(folder / images_name, IMAGES_MAGIC, FILES[images_name].md5 if verify else None)
    labels = read_idx(folder / labels_name, LABELS_MAGIC, FILES[labels_name].md5 if verify else None)
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise IdxFormatError(f"{folder}: images of shape {images.shape} and {len(labels)} labels "
                             f"are not an MNIST set of 28×28 images, one label each.")
    return images, labels.astype(np.int64)


# --- reading the book's CSV ------------------------------------------------------------

def read_mnist_csv(path):
    """Read the book's CSV format: one image per row, `label,pixel0,...,pixel783`, no header.

    Returns (images, labels): images uint8 (N, 28, 28), labels int64 (N,), the same arrays
    that read_mnist_idx gives for the same images. (np.loadtxt, not pandas: about 2 s for
    the full 60,000-row file.)
    """
    try:
        # int16 holds every label and pixel, at a quarter of int64's memory while parsing.
        table = np.loadtxt(path, delimiter=",", dtype=np.int16, ndmin=2)
    except ValueError as error:
        raise ValueError(f"{path} is not an MNIST CSV file (rows of label,pixel0,...,pixel783 "
                         f"as integers, no header): {error}") from error
    if table.shape[1] != 1 + 28 * 28:
        raise ValueError(f"{path}: expected 785 columns (label, then 784 pixels), "
                         f"found {table.shape[1]}")
    labels, pixels = table[:, 0], table[:, 1:]
    if labels.size and (labels.min() < 0 or labels.max() > 9 or pixels.min() < 0 or pixels.max() > 255):
        raise ValueError(f"{path}: labels must lie in 0..9 and pixels in 0..255")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.int64)


# --- finding (or downloading) the files ------------------------------------------------

def _mnist_folder_in(root, names=tuple(FILES)):
    """The folder under a data root that holds all the files `names`, or None. Accepted layouts:
    ROOT/mnist/ (as the shared data folder), ROOT itself, and torchvision's ROOT/MNIST/raw/."""
    root = Path(root).expanduser()
    for folder in (root / "mnist", root, root / "MNIST" / "raw"):
        if all((folder / name).is_file() for name in names):
            return folder
    return None


def find_mnist(data_dir=None, download=True, progress=True, names=tuple(FILES)):
    """The folder holding the MNIST .gz files `names` (default: all four; TRAIN_FILES or
    TEST_FILES for one set): found in data_dir, $MINIGRAD_DATA or the user cache (in that
    order), else downloaded into cache_dir() / "mnist".

    download  whether to download when the files are nowhere to be found
    progress  show a progress bar while downloading

    Only what is needed and missing is downloaded: a data folder without the test files still
    serves the training set, and a cache holding some files keeps them.

    Found files are not read here; read_mnist_idx verifies them when it loads them.
    Raises MnistNotFoundError, saying where it looked and the ways to provide the data.
    """
    for _, root in data_roots(data_dir):
        folder = _mnist_folder_in(root, names) if root is not None else None
        if folder is not None:
            return folder

    target = cache_dir() / "mnist"
    if not download:
        raise MnistNotFoundError(_not_found_message(data_dir, "Downloading is switched off."))
    try:
        for name in names:
            if (target / name).is_file():  # keep what an interrupted earlier run did get
                continue
            elsewhere = _file_in_roots(data_dir, name)
            if elsewhere is not None:  # a local copy beats a download (it is verified when read)
                _copy_atomically(elsewhere, target / name)
            else:
                download_with_mirrors(name, MIRRORS, target, verify=_download_verifier(FILES[name]),
                                      progress=progress)
    except DownloadError as error:
        raise MnistNotFoundError(_not_found_message(data_dir, f"Downloading failed: {error}")) from error
    return target


def _file_in_roots(data_dir, name):
    """The first copy of one MNIST file under the data roots (not the cache), or None."""
    for description, root in data_roots(data_dir):
        folder = _mnist_folder_in(root, [name]) if root is not None and description != "the user cache" else None
        if folder is not None:
            return folder / name
    return None


def _copy_atomically(source, destination):
    """Copy to a temporary name beside `destination`, then rename: never a half-copied file."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.copy")
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _download_verifier(spec):
    """Accept a downloaded .gz whose own md5 is torchvision's, or whose content is canonical."""
    def verify(path):
        gz_md5 = md5sum(path)
        if gz_md5 == spec.gz_md5:  # the mirrors' file, byte for byte: no need to decompress
            return
        try:
            with gzip.open(path, "rb") as file:
                content_md5 = hashlib.md5(file.read()).hexdigest()
        except (EOFError, OSError, zlib.error) as error:
            content_md5 = None
            actual = f"{gz_md5} (.gz, which does not decompress: {error})"
        else:
            actual = f"{content_md5} (decompressed)"
        if content_md5 != spec.md5:
            raise ChecksumError(spec.name, f"{spec.md5} (decompressed) or {spec.gz_md5} (.gz)", actual)
    return verify


def _not_found_message(data_dir, reason):
    looked = []
    for description, root in data_roots(data_dir):
        looked.append(f"  {description}: {root}" if root is not None else f"  {description}: (not set)")
    cache = cache_dir() / "mnist"
    return "\n".join([
        "MNIST was not found. " + reason,
        f"Looked for {', '.join(FILES)} (in ROOT/mnist/ or ROOT itself) in:",
        *looked,
        "Mirrors, in order: " + ", ".join(MIRRORS),
        "To provide the data, do one of:",
        "  - pass --data-dir ROOT, a folder whose mnist/ subfolder holds the four .gz files;",
        "  - set the environment variable MINIGRAD_DATA=ROOT (the same layout);",
        f"  - place (or download by hand) the four files into {cache}",
    ])


# --- the datasets --------------------------------------------------------------------

SCALES = ("01", "pm1")


class MNIST(Dataset):
    """MNIST as a minigrad Dataset: dataset[i] = (image, label).

    root      where to look first (the --data-dir option); see find_mnist
    train     the 60,000 training images (True) or the 10,000 test images (False)
    download  download into the user cache when the files are nowhere to be found
    scale     "01": pixels p/255 in [0, 1];  "pm1": p/127.5 - 1 in [-1, 1] (for tanh generators)
    flatten   images of shape (784,) (True) or (1, 28, 28) (False, for convolutions)
    one_hot   give a float32 target of 10 (1 at the label, 0 elsewhere) instead of the label
    source    "idx" (the .gz files) or "csv" (the book's CSV at csv_path);
              default: "csv" when csv_path is given, else "idx"

    Samples: image float32 Tensor (784,) or (1, 28, 28); label a Python int, or target a
    float32 Tensor (10,). Batches (through __getitems__, which DataLoader uses): images
    (B, 784) or (B, 1, 28, 28), labels int64 (B,) or targets float32 (B, 10).

    The raw data stay available for metrics and plots: `.images` uint8 (N, 28, 28), read-only,
    and `.labels` int64 (N,). Pixels become float32 only when a sample or batch is asked for.
    """

    def __init__(self, root=None, train=True, download=True, scale="01", flatten=True,
                 one_hot=False, source=None, csv_path=None, progress=True):
        if scale not in SCALES:
            raise ValueError(f"MNIST: scale must be one of {SCALES}, got {scale!r}")
        source = source or ("csv" if csv_path is not None else "idx")
        if source == "csv":
            if csv_path is None:
                raise ValueError("MNIST: source='csv' needs csv_path, the book's CSV file")
            self.images, self.labels = read_mnist_csv(csv_path)
            self.location = Path(csv_path)
        elif source == "idx":
            self.location = find_mnist(root, download=download, progress=progress,
                                       names=TRAIN_FILES if train else TEST_FILES)
            self.images, self.labels = read_mnist_idx(self.location, train=train)
        else:
            raise ValueError(f"MNIST: source must be 'idx' or 'csv', got {source!r}")
        self.train, self.source = train, source
        self.scale, self.flatten, self.one_hot = scale, flatten, one_hot

    def __len__(self):
        return len(self.labels)

    def __repr__(self):
        split = "train" if self.train else "test"
        return (f"MNIST({split}, {len(self)} images from {self.location}, scale={self.scale!r}, "
                f"flatten={self.flatten}, one_hot={self.one_hot})")

    def pixels(self, images):
        """uint8 images (..., 28, 28) as float32 in this dataset's scale and shape:
        (..., 784) when flattened, else (..., 1, 28, 28)."""
        values = images.astype(np.float32)
        if self.scale == "01":
            values /= 255
        else:  # dividing by 127.5 maps 0 and 255 exactly onto -1 and 1
            values /= 127.5
            values -= 1
        lead = images.shape[:-2]
        return values.reshape(lead + ((784,) if self.flatten else (1, 28, 28)))

    def targets(self, labels):
        """int64 labels (...) as what the dataset gives: themselves, or one-hot float32 (..., 10)."""
        return np.eye(10, dtype=np.float32)[labels] if self.one_hot else labels

    def __getitem__(self, index):
        index = int(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"MNIST index {index} is out of range for {len(self)} images")
        image = mg.from_numpy(self.pixels(self.images[index]))
        label = int(self.labels[index])
        return image, (mg.from_numpy(self.targets(label)) if self.one_hot else label)

    def __getitems__(self, indices):
        """A whole batch by one fancy-indexing read: (images, labels or targets), as tensors."""
        indices = np.asarray(indices, dtype=np.int64)
        images = mg.from_numpy(self.pixels(self.images[indices]))
        return images, mg.from_numpy(self.targets(self.labels[indices]))


class BookMnistDataset(Dataset):
    """The book's MnistDataset, read from its CSV without pandas; it behaves as the book's:

        label, image_values, target = dataset[i]

    label         the digit, a Python int
    image_values  float32 Tensor (784,), the pixels / 255, in [0, 1]
    target        float32 Tensor (10,), one-hot: 1 at the label
    """

    def __init__(self, csv_file):
        self.images, self.labels = read_mnist_csv(csv_file)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        label = int(self.labels[index])
        target = np.zeros(10, dtype=np.float32)
        target[label] = 1.0
        image_values = self.images[index].reshape(784).astype(np.float32) / 255.0
        return label, mg.from_numpy(image_values), mg.from_numpy(target)

    def plot_image(self, index):
        """Draw image `index` on the current matplotlib axes, titled with its label, as the
        book does. Returns the AxesImage."""
        import matplotlib.pyplot as plt  # imported here: only plotting needs matplotlib

        plt.title("label = " + str(int(self.labels[index])))
        return plt.imshow(self.images[index], interpolation="none", cmap="Blues")
