"""CelebA faces through HDF5, as in chapters 10-15 of *Make Your First GAN With PyTorch*.

The aligned CelebA set is 202,599 JPEGs of 178x218 pixels in one zip. Decoding a JPEG per
training step is slow, so the book decodes them once into an HDF5 file and reads that.

    build once    python -m gans data celeba --zip img_align_celeba.zip --limit 20000 --out celeba.h5
                  (or, in Python: build_hdf5("img_align_celeba.zip", "celeba.h5", limit=20000))
    then read     faces = CelebADataset("celeba.h5", crop=128)
                  faces[0]          # Tensor (128, 128, 3) float32 in [0, 1]
                  faces.plot_image(43)

Two layouts of HDF5 file can be read (`CelebADataset` tells them apart by itself):

    "stacked"  what `build_hdf5` writes. One dataset `images` of shape (N, 218, 178, 3), uint8,
               gzip-compressed in chunks of exactly one image, so reading image i decompresses
               only image i. Beside it `names` (N,): the file each image came from, e.g.
               b"img_align_celeba/000001.jpg". File attributes: layout, layout_version, source,
               count, skipped.
    "book"     what the book's notebook 10 writes (celeba_aligned_small.h5py): a group
               `img_align_celeba` holding one dataset per image, (218, 178, 3) uint8, named
               "0.jpg", "1.jpg", ... in the order the images were taken.

Choices a reader may want to know:
- Images are taken in sorted name order (000001.jpg, 000002.jpg, ...), so `limit=N` keeps the
  first N faces, as the book's first 20,000.
- A member that is not a readable image (a damaged JPEG, a text file) is skipped and counted.
- So is an image that is not 178x218: resizing would squash the face and undo the alignment the
  set is named for, and every image must have one shape to stack into one array. The official
  aligned set has no such image, so one is a sign of the wrong input.
- The file is written atomically: to a temporary file beside the target, renamed at the end.
"""

import io
import operator
import os
import sys
import time
import uuid
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from minigrad import backend
from minigrad.data import Dataset, collate
from minigrad.tensor import Tensor

from ..errors import UserError, exit_status, stop_if_requested, stop_signals_deferred
from .download import cache_dir, data_roots

HEIGHT, WIDTH = 218, 178
IMAGE_SHAPE = (HEIGHT, WIDTH, 3)           # height x width x RGB, as NumPy and Pillow lay it out

IMAGES = "images"                          # the stacked layout's (N, 218, 178, 3) dataset
NAMES = "names"                            # ... and its (N,) file names
BOOK_GROUP = "img_align_celeba"            # the book's group of per-image datasets
LAYOUT = "celeba-stacked"
LAYOUT_VERSION = 1
GZIP_LEVEL = 4                             # the book's 9 saves under 1% on these photos, and takes longer

EXPECTED_LAYOUTS = (f"a dataset '{IMAGES}' of shape (N, {HEIGHT}, {WIDTH}, 3) uint8, as "
                    f"`python -m gans data celeba` writes it, or the book's group '{BOOK_GROUP}' "
                    f"of per-image datasets '0.jpg', '1.jpg', ...")


class CelebAError(UserError):
    """A problem with the user's input or output files, in one line fit to print as it is."""


# --- the book's centre crop ------------------------------------------------------------------

def centre_crop_offsets(height, width, new_height, new_width):
    """(top, left): where a centred new_height x new_width window starts in a height x width image.

    The book's arithmetic, halves rounded down: top = height//2 - new_height//2. For CelebA's
    218x178 cropped to 128x128 that is (45, 25).
    """
    if not (0 < new_height <= height and 0 < new_width <= width):
        raise ValueError(f"cannot crop {new_height}x{new_width} out of an image of {height}x{width}")
    return height // 2 - new_height // 2, width // 2 - new_width // 2


def crop_centre(image, new_width, new_height):
    """The centre new_height x new_width of `image` (H, W, C), as the book's crop_centre(img, w, h).

    Note the argument order, width before height, kept from the book. Returns a view (no copy).
    """
    height, width = image.shape[:2]
    top, left = centre_crop_offsets(height, width, new_height, new_width)
    return image[top:top + new_height, left:left + new_width, :]


# --- building the HDF5 file ------------------------------------------------------------------

@dataclass
class BuildReport:
    """What build_hdf5 did.

    out       the HDF5 file written
    source    the zip or folder read
    count     images written
    skipped   (member name, reason) for every member left out
    seconds   wall time of the build
    """
    out: Path
    source: Path
    count: int
    skipped: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def skipped_count(self):
        return len(self.skipped)

    def summary(self):
        """A few lines for the terminal: what was written, and what was skipped and why."""
        size_mb = self.out.stat().st_size / 1e6
        lines = [f"wrote {self.count} images of {HEIGHT}x{WIDTH}x3 to {self.out} "
                 f"({size_mb:.1f} MB) in {self.seconds:.1f} s; skipped {self.skipped_count}"]
        shown = 10
        for name, reason in self.skipped[:shown]:
            lines.append(f"  skipped {name}: {reason}")
        if self.skipped_count > shown:
            lines.append(f"  ... and {self.skipped_count - shown} more")
        return "\n".join(lines)


def build_hdf5(source, out, limit=None, progress=True):
    """Decode the JPEGs of `source` into one HDF5 file `out`, in the stacked layout.

    source    the CelebA zip (img_align_celeba.zip), or a folder of JPEGs; every file in it is
              a candidate, taken in sorted name order
    out       the HDF5 file to write; an existing one is replaced only once the new one is complete
    limit     keep only the first `limit` images (skipped members do not count towards it)
    progress  show a tqdm progress bar

    Writes images (N, 218, 178, 3) uint8 and names (N,). Returns a BuildReport.
    Raises CelebAError when the source cannot be read or holds no usable image.
    """
    from tqdm import tqdm

    started = time.perf_counter()
    source, out = Path(source), Path(out)
    if limit is not None and limit < 1:
        raise CelebAError(f"--limit must be at least 1, got {limit}")
    if not out.parent.is_dir():
        raise CelebAError(f"cannot write {out}: the folder {out.parent} does not exist")
    if out.is_dir():
        raise CelebAError(f"cannot write {out}: it is a folder")
    if out.exists() and out.resolve() == source.resolve():
        raise CelebAError(f"cannot write {out}: it is the source itself")

    skipped = []
    with _open_source(source) as members:
        total = len(members.names) if limit is None else min(limit, len(members.names))
        # Write beside the target and rename at the end: a half-written file must never sit at
        # `out` looking complete, and a rename within one folder is atomic.
        temporary = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.partial"
        try:
            description = f"{source.name} -> {out.name}"
            # Ctrl-C and SIGTERM only set a flag (gans/errors.py), and the build stops at a safe
            # point, between two images: raised anywhere, KeyboardInterrupt often lands inside one of
            # h5py's weakref callbacks, where Python prints it and drops it ("Exception ignored in
            # ..."), and the build went on (6 of 8 tries).
            with stop_signals_deferred() as requested, \
                    tqdm(total=total, unit="img", desc=description, disable=not progress) as bar:
                count = _write_stacked(temporary, members, total, limit, skipped, bar, requested)
                if count == 0:
                    raise CelebAError(_nothing_usable(source, skipped))
                _flush_to_disk(temporary)
                stop_if_requested(requested)
                os.replace(temporary, out)
        except BaseException:               # KeyboardInterrupt too: never leave the temporary file
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
    return BuildReport(out=out, source=source, count=count, skipped=skipped,
                       seconds=time.perf_counter() - started)


def find_celeba_h5(options):
    """The CelebA HDF5 file to train on: one found under the data roots, else one built once from a
    zip found there, cached under a name that says what the zip holds (see zip_content_key)."""
    roots = [root for _, root in data_roots(options.data_dir) if root]
    folders = [Path(root) / "celeba" for root in roots] + [Path(root) for root in roots]
    for folder in folders:
        for name in ("celeba.h5", "celeba_aligned_small.h5py"):
            if (folder / name).is_file():
                return folder / name
    for folder in folders:
        zips = sorted(folder.glob("img_align_celeba*.zip")) if folder.is_dir() else []
        if zips:
            out = Path(cache_dir()) / "celeba" / f"{zips[0].stem}-{zip_content_key(zips[0])}.h5"
            if not out.is_file():
                out.parent.mkdir(parents=True, exist_ok=True)
                print(f"building {out} from {zips[0]} (once; later runs reuse it)")
                print(build_hdf5(zips[0], out, progress=options.progress).summary())
            return out
    raise CelebAError(
        "no CelebA data found. Download img_align_celeba.zip (the 'Align&Cropped Images' of CelebA, "
        "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html), then either put it in DATA/celeba/ and pass "
        "--data-dir DATA, or build the HDF5 file yourself with `python -m gans data celeba --zip "
        "img_align_celeba.zip --limit 20000 --out celeba.h5` and pass --set h5=celeba.h5. "
        f"Looked in: {', '.join(str(f) for f in folders)}")


def zip_content_key(path):
    """A name for what a zip holds, not what it is called: its size and a hash of its central
    directory (each member's name, CRC-32 and sizes), e.g. "1443490838-3f1c9a0b2e7d4c55".

    Why: a cache keyed by the file name alone would hand a 20,000-face build to a zip of 558
    faces that happens to share its name. The central directory is read without decompressing
    anything, so the key costs milliseconds even for the 1.4 GB zip, and any changed, added or
    removed image changes a CRC, a size or a name in it.
    """
    import hashlib

    path = Path(path)
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                digest.update(f"{info.filename}\0{info.CRC}\0{info.file_size}\0{info.compress_size}\n"
                              .encode("utf-8"))
    except (zipfile.BadZipFile, OSError) as error:
        raise CelebAError(f"cannot read {path}: not a zip file, or a truncated or damaged one ({error})") from None
    return f"{path.stat().st_size}-{digest.hexdigest()[:16]}"


def _write_stacked(path, members, capacity, limit, skipped, bar, stop_requested):
    """Decode members into a new HDF5 file at `path`; returns how many images it holds.
    stop_requested: from stop_signals_deferred; Ctrl-C or SIGTERM stop the build between two images."""
    import h5py

    names = []
    with h5py.File(path, "w") as file:
        # Sized for the most images we may write; shrunk at the end if some were skipped.
        images = file.create_dataset(IMAGES, shape=(capacity, *IMAGE_SHAPE), maxshape=(None, *IMAGE_SHAPE),
                                     dtype=np.uint8, chunks=(1, *IMAGE_SHAPE),
                                     compression="gzip", compression_opts=GZIP_LEVEL)
        for name in members.names:
            stop_if_requested(stop_requested)
            if limit is not None and len(names) == limit:
                break
            try:
                image = _decode_image(members.read(name))
            except _Unusable as problem:
                skipped.append((name, str(problem)))
                bar.set_postfix(skipped=len(skipped))
                continue
            images[len(names)] = image
            names.append(name)
            bar.update(1)
        images.resize(len(names), axis=0)

        encoded = [name.encode("utf-8") for name in names]
        width = max((len(e) for e in encoded), default=1)
        # Fixed-length byte strings: one plain (N,) array that any HDF5 tool shows as text.
        file.create_dataset(NAMES, data=np.array(encoded, dtype=f"S{width}"))
        file.attrs.update({"layout": LAYOUT, "layout_version": LAYOUT_VERSION, "source": members.label,
                           "count": len(names), "skipped": len(skipped)})
    return len(names)


def _nothing_usable(source, skipped):
    """The error message for a source without a single usable image."""
    if not skipped:
        return f"no image in {source}: it holds no files"
    by_reason = {}                          # the first three members, those with one reason together
    for name, reason in skipped[:3]:
        by_reason.setdefault(reason, []).append(name)
    examples = "; ".join(f"{', '.join(names)}: {reason}" for reason, names in by_reason.items())
    return f"no usable {WIDTH}x{HEIGHT} image in {source}: all {len(skipped)} files were skipped, e.g. {examples}"


def _flush_to_disk(path):
    """fsync, so that after the rename the file's bytes are on disk, not only in the OS cache."""
    with open(path, "rb+") as file:
        os.fsync(file.fileno())


class _Unusable(Exception):
    """This member is not a usable image; the message says why."""


def _decode_image(data):
    """JPEG (or any image Pillow reads) bytes -> uint8 array (218, 178, 3), or raise _Unusable."""
    from PIL import Image, UnidentifiedImageError

    stream = io.BytesIO(data)
    try:
        with Image.open(stream) as image:
            image.load()                    # decode now, so a truncated JPEG fails here
            if image.size != (WIDTH, HEIGHT):
                width, height = image.size
                raise _Unusable(f"it is {width}x{height}, not {WIDTH}x{HEIGHT}")
            return np.asarray(image.convert("RGB"))
    except UnidentifiedImageError:
        raise _Unusable("not a readable image (Pillow knows no image format that it is in)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        # Pillow names the file it read, here our in-memory copy (<_io.BytesIO object at 0x...>),
        # which says nothing: the caller names the member.
        reason = str(error).replace(f" {stream!r}", "").replace(repr(stream), "it")
        raise _Unusable(f"not a readable image ({reason})") from None


class _ZipMembers:
    """The files of a zip, by sorted name; read(name) -> bytes."""

    def __init__(self, path):
        self.label = path.name
        try:
            self.zip = zipfile.ZipFile(path)
        except FileNotFoundError:
            raise CelebAError(f"cannot read {path}: no such file") from None
        except zipfile.BadZipFile:
            raise CelebAError(f"cannot read {path}: not a zip file, or a truncated or damaged one") from None
        except OSError as error:
            raise CelebAError(f"cannot read {path}: {error.strerror or error}") from None
        self.names = sorted(info.filename for info in self.zip.infolist() if not info.is_dir())

    def read(self, name):
        try:
            return self.zip.read(name)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            # One damaged member (a bad CRC, say) costs one image, not the whole build.
            raise _Unusable(f"damaged inside the zip ({error})") from None

    def close(self):
        self.zip.close()


class _FolderMembers:
    """The files under a folder (any depth), by sorted relative path; read(name) -> bytes."""

    def __init__(self, path):
        self.label = path.name
        self.folder = path
        self.names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())

    def read(self, name):
        try:
            return (self.folder / name).read_bytes()
        except OSError as error:
            raise _Unusable(f"cannot read it ({error.strerror or error})") from None

    def close(self):
        pass


@contextmanager
def _open_source(path):
    """with _open_source(path) as members: members.names (sorted), members.read(name) -> bytes."""
    members = _FolderMembers(path) if path.is_dir() else _ZipMembers(path)
    try:
        yield members
    finally:
        members.close()


# --- the command line ------------------------------------------------------------------------

def add_cli_arguments(parser):
    """Add the options of `python -m gans data celeba` to an argparse parser."""
    parser.add_argument("--zip", "--folder", dest="source", required=True, metavar="PATH",
                        help="img_align_celeba.zip, or a folder of its JPEGs")
    parser.add_argument("--out", default="celeba.h5", metavar="FILE",
                        help="the HDF5 file to write (default: celeba.h5)")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="keep only the first N images (the book used 20000)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar")
    return parser


def run_cli(args):
    """Run the build for parsed arguments; print the report, or a one-line error (exit code 2)."""
    try:
        report = build_hdf5(args.source, args.out, limit=args.limit, progress=args.progress)
    except CelebAError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interruption:  # Ctrl-C (130) or SIGTERM (143)
        print(f"interrupted: nothing was written to {args.out}", file=sys.stderr)
        return exit_status(interruption)
    print(report.summary())
    return 0


# --- reading: the Dataset --------------------------------------------------------------------

class CelebADataset(Dataset):
    """CelebA faces from an HDF5 file (either layout), read lazily, one image per access.

    path            the HDF5 file
    crop            None (218x178), an int n (the centre n x n, the book's 128), or (height, width)
    scale           "01": value/255 in [0, 1], as the book; "pm1": value/127.5 - 1 in [-1, 1];
                    None: the raw uint8 pixels
    channels_first  False: (H, W, 3), as the book's dataset returns; True: (3, H, W), for conv nets
    layout          "auto" (detect), "stacked" or "book"
    device          where the tensors go (None: minigrad's default device)

    dataset[i] -> Tensor (H, W, 3) or (3, H, W); dataset.__getitems__(indices) -> (B, ...) batch.
    The file stays open until close() (or the end of a with-block).
    """

    def __init__(self, path, crop=None, scale="01", channels_first=False, layout="auto", device=None):
        import h5py

        if scale not in ("01", "pm1", None):
            raise ValueError(f"scale must be '01', 'pm1' or None, got {scale!r}")
        if layout not in ("auto", "stacked", "book"):
            raise ValueError(f"layout must be 'auto', 'stacked' or 'book', got {layout!r}")
        self.path, self.scale, self.channels_first, self.device = Path(path), scale, channels_first, device
        try:
            self._file = h5py.File(self.path, "r")
        except FileNotFoundError:
            raise CelebAError(f"cannot read {self.path}: no such file") from None
        except OSError as error:
            raise CelebAError(f"cannot read {self.path}: not an HDF5 file ({error})") from None
        try:
            self.layout = _detect_layout(self._file, self.path, layout)
            if self.layout == "stacked":
                self._images = self._file[IMAGES]
                self._names = self._file[NAMES] if NAMES in self._file else None
                self._length, height, width = self._images.shape[:3]
            else:
                self._group = self._file[BOOK_GROUP]
                self._names = _book_order(self._group)
                self._length = len(self._names)
                height, width = _book_image_size(self._group, self._names, self.path)
            self.crop_box = _crop_box(crop, height, width, self.path)
        except BaseException:
            self._file.close()
            raise
        self.crop = crop

    # --- the Dataset protocol ---

    def __len__(self):
        return self._length

    def __getitem__(self, index):
        """Image `index` as a Tensor (H, W, 3), or (3, H, W) with channels_first."""
        if isinstance(index, slice):
            return self.__getitems__(range(*index.indices(self._length)))
        return self._to_tensor(self.raw(index))

    def __getitems__(self, indices):
        """A batch of images as one Tensor (B, H, W, 3), or (B, 3, H, W); any order, repeats allowed."""
        if type(self).__getitem__ is not CelebADataset.__getitem__:
            # A subclass changed what a sample is (added a label, say): batch its samples instead.
            return collate([self[int(i)] for i in indices])
        return self._to_tensor(self.raw_batch(indices))

    # --- raw pixels ---

    def raw(self, index):
        """Image `index`, centre-cropped, as its stored uint8 array (H, W, 3)."""
        index = self._check_index(index)
        top, left, height, width = self.crop_box
        if self.layout == "stacked":
            # Slicing the h5py dataset reads one chunk: this one image, and nothing else.
            return self._images[index, top:top + height, left:left + width, :]
        return self._group[self._names[index]][top:top + height, left:left + width, :]

    def raw_batch(self, indices):
        """Images `indices`, centre-cropped, as a uint8 array (B, H, W, 3)."""
        if len(indices) == 0:
            _, _, height, width = self.crop_box
            return np.zeros((0, height, width, 3), dtype=np.uint8)
        # One read per image, not h5py's fancy indexing (images[[5, 9, 2]]): that needs sorted,
        # unique indices and, with one image per chunk, was ten times slower here (1 s for 100).
        return np.stack([self.raw(i) for i in indices])

    def name_of(self, index):
        """The file image `index` came from, e.g. 'img_align_celeba/000001.jpg' (or the book's '0.jpg')."""
        index = self._check_index(index)
        if self.layout == "book":
            return self._names[index]
        if self._names is None:
            return None
        name = self._names[index]
        return name.decode("utf-8") if isinstance(name, bytes) else str(name)

    @property
    def attrs(self):
        """The file's attributes as a dict (source, count, skipped, ... for the stacked layout)."""
        self._check_open()
        return {key: _plain(value) for key, value in self._file.attrs.items()}

    # --- showing one ---

    def plot_image(self, index, ax=None):
        """Show image `index` (cropped, as stored) with matplotlib, as the book does. Returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        ax.imshow(self.raw(index), interpolation="nearest")
        ax.set_title(self.name_of(index) or f"image {index}")
        ax.axis("off")
        return ax

    # --- opening and closing ---

    def close(self):
        """Close the HDF5 file; reading afterwards raises ValueError."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        state = "" if self._file is not None else ", closed"
        return (f"CelebADataset('{self.path}', {self._length} images, layout='{self.layout}', "
                f"crop={self.crop!r}, scale={self.scale!r}{state})")

    # --- helpers ---

    def _check_open(self):
        if self._file is None:
            raise ValueError(f"CelebADataset('{self.path}') is closed")

    def _check_index(self, index):
        self._check_open()
        index = operator.index(index)       # ints, NumPy ints, 0-d tensors; not 2.5
        if not -self._length <= index < self._length:
            # IndexError also ends `for image in dataset`, the way the book iterates.
            raise IndexError(f"image index {index} is out of range for {self._length} images")
        return index % self._length

    def _to_tensor(self, pixels):
        """uint8 pixels (..., H, W, 3) -> a Tensor scaled and laid out as asked."""
        if self.scale == "01":
            pixels = pixels.astype(np.float32) / np.float32(255)
        elif self.scale == "pm1":
            pixels = pixels.astype(np.float32) / np.float32(127.5) - np.float32(1)
        if self.channels_first:
            pixels = np.moveaxis(pixels, -1, -3)
        pixels = np.ascontiguousarray(pixels)
        device = self.device if self.device is not None else backend.get_default_device()
        return Tensor._wrap(backend.to_device(pixels, device), False)  # its own dtype (uint8 unscaled)


def _detect_layout(file, path, wanted):
    """'stacked' or 'book' for an open h5py File; CelebAError naming both layouts if neither fits."""
    import h5py

    images = file.get(IMAGES)
    stacked = (isinstance(images, h5py.Dataset) and images.ndim == 4 and images.shape[3] == 3
               and images.dtype == np.uint8)
    book = isinstance(file.get(BOOK_GROUP), h5py.Group)
    if wanted == "stacked" and stacked or wanted == "book" and book:
        return wanted
    if wanted == "auto" and (stacked or book):
        return "stacked" if stacked else "book"
    asked = "" if wanted == "auto" else f" in the '{wanted}' layout"
    raise CelebAError(f"{path} is not a CelebA HDF5 file{asked}: expected {EXPECTED_LAYOUTS}; "
                      f"found {_describe(file)}")


def _describe(file):
    """A short description of a file's top level, e.g. "dataset 'pixels' (10, 3) float64"."""
    import h5py

    parts = []
    for name, item in list(file.items())[:5]:
        if isinstance(item, h5py.Dataset):
            parts.append(f"dataset '{name}' {item.shape} {item.dtype}")
        else:
            parts.append(f"group '{name}' of {len(item)}")
    if len(file) > 5:
        parts.append(f"and {len(file) - 5} more")
    return ", ".join(parts) if parts else "an empty file"


def _book_order(group):
    """The book's dataset names in image order: by the number in the name ('2.jpg' before '10.jpg').

    The book names images '0.jpg', '1.jpg', ..., so index i is 'i.jpg', as its reader assumes.
    An earlier notebook kept the zip's names ('000001.jpg', ...); those sort right too.
    """
    def number_first(name):
        stem = name.split(".")[0]
        return (0, int(stem), name) if stem.isdigit() else (1, 0, name)
    return sorted(group.keys(), key=number_first)


class ImagesTooSmall(CelebAError, ValueError):
    """The file's images are smaller than the crop asked for (a ValueError too, as crop_centre's)."""


def _crop_box(crop, height, width, path="the file"):
    """(top, left, height, width) of the window to read, for crop = None, n or (height, width).
    Images smaller than the crop are an ImagesTooSmall error naming the size needed."""
    if crop is None:
        return 0, 0, height, width
    new_height, new_width = (crop, crop) if isinstance(crop, int) else crop
    if 0 < new_height and 0 < new_width and (new_height > height or new_width > width):
        raise ImagesTooSmall(f"{path} holds images of {height}x{width} pixels, too small for the centre "
                             f"{new_height}x{new_width} crop this needs: use images of at least "
                             f"{new_height}x{new_width} (CelebA's aligned faces are {HEIGHT}x{WIDTH})")
    top, left = centre_crop_offsets(height, width, new_height, new_width)
    return top, left, new_height, new_width


def _book_image_size(group, names, path):
    """(height, width) of the book layout's images, from its first one: (H, W, 3) uint8."""
    if not names:
        return IMAGE_SHAPE[:2]
    first = group[names[0]]
    if not hasattr(first, "shape") or len(first.shape) != 3 or first.shape[2] != 3 or first.dtype != np.uint8:
        found = f"{first.shape} {first.dtype}" if hasattr(first, "shape") else "a group"
        raise CelebAError(f"{path} is not a CelebA HDF5 file: its '{BOOK_GROUP}/{names[0]}' should be one image "
                          f"(height, width, 3) uint8, and is {found}")
    return first.shape[:2]


def _plain(value):
    """An HDF5 attribute as a plain Python value (bytes -> str, NumPy scalars -> numbers)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value.item() if isinstance(value, np.generic) else value

