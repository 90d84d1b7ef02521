"""Image-to-image pairs made from the CelebA faces: (edges -> photo) and (greyscale -> colour).

pix2pix learns a mapping from paired examples; CycleGAN from two unpaired piles. Both are
made here from the aligned faces of gans/data/celeba.py:

    pairs = FacePairs("celeba.h5", task="edges", split="train")
    inputs, targets = pairs.__getitems__([0, 1, 2])   # (3, 1, 64, 64), (3, 3, 64, 64) in [-1, 1]

    unpaired = UnpairedFaces("celeba.h5", task="edges", seed=0)   # for CycleGAN
    edges, photos = unpaired.__getitems__([0, 1])     # edges and photos of different faces
    unpaired.true_targets([0, 1])                     # the photos those edges came from

Each face is prepared the same way:

  1. the centre 128x128 of the aligned 218x178 face (the crop of book 14, from (45, 25)): the
     face from brow to chin, with a little hair and background;
  2. resized to 64x64 by Pillow's BOX filter: each pixel the mean of a 2x2 block, which at
     this exact factor of 2 neither aliases nor rings;
  3. the target: that colour photo, scaled to [-1, 1];
  4. the input, one of
       "edges"  Canny edges (skimage.feature.canny) of the greyscale face, drawn as a sketch:
                black lines (-1) on white (+1), as pix2pix's edges2shoes inputs;
       "grey"   the greyscale face itself (skimage.color.rgb2gray), in [-1, 1].
     with 1 channel, or the same channel three times (`input_channels=3`) where a network
     must take both domains (CycleGAN's identity loss feeds photos to the edges->photo G).

Why Canny's sigma is 1.5 (EDGE_SIGMA): at 64x64 an eye is 5-6 pixels wide. skimage's default
sigma of 1 also traces skin texture and single hair strands (17 % of the pixels of these faces
become edges); 2 already loses the mouth or an eye in some faces (11 %); 1.5 keeps eyes,
nostrils, mouth and the outline of face and hair (13 %). The hysteresis thresholds are
skimage's defaults (10 % and 20 % of the greyscale range).

The held-out faces: training never sees the LAST faces of the file. The rule, for a file of
n faces: training takes the first 90 %, rounded down to a whole ten, 10 * floor(0.9 n / 10);
the rest are held out. For the shared 558-face zip: 500 train, the last 58 (000501.jpg to
000558.jpg) held out. For the whole aligned CelebA (202,599 faces): 182,330 train, the last
20,269 (182331.jpg to 202599.jpg, 10.005 %) held out. For the book's first 20,000: 18,000 and
2,000. The split is by position in the file it is made from, so a model must be evaluated on
the held-out faces of the file it trained on (or of a file whose held-out faces contain those:
every subset of CelebA's first n faces holds out faces that the whole set trains on).
"""

import math
from pathlib import Path

import numpy as np

from minigrad import backend
from minigrad.data import Dataset
from minigrad.tensor import Tensor

from ..errors import UserError
from .celeba import CelebADataset

CROP = 128             # the centre crop of the aligned face (book 14's), before resizing
SIZE = 64              # the side of every input and target
EDGE_SIGMA = 1.5       # Canny's Gaussian, in pixels of the 64x64 image (see the module docstring)
TASKS = ("edges", "grey")
SPLITS = ("train", "held_out")


def split_sizes(count):
    """(training faces, held-out faces) for a file of `count` faces: the first 10 * floor(0.9 count / 10)
    train, the rest are held out. 558 -> (500, 58); 202,599 -> (182,330, 20,269)."""
    train = 10 * math.floor(0.9 * count / 10)
    return train, count - train


def face_64(raw_crop):
    """A uint8 (128, 128, 3) centre crop -> uint8 (64, 64, 3), each pixel the mean of a 2x2 block."""
    from PIL import Image
    return np.asarray(Image.fromarray(raw_crop).resize((SIZE, SIZE), Image.Resampling.BOX))


def greyscale(photo):
    """uint8 (H, W, 3) -> float (H, W) in [0, 1]: luminance, 0.2125 R + 0.7154 G + 0.0721 B (skimage)."""
    from skimage.color import rgb2gray
    return rgb2gray(photo)


def edges(photo, sigma=EDGE_SIGMA):
    """uint8 (H, W, 3) -> bool (H, W): Canny's edges of the greyscale image."""
    from skimage.feature import canny
    return canny(greyscale(photo), sigma=sigma)


def to_pm1(values, top):
    """Values in [0, top] -> float32 in [-1, 1]."""
    return (np.asarray(values, dtype=np.float32) * np.float32(2 / top) - np.float32(1)).astype(np.float32)


class FacePairs(Dataset):
    """Paired faces: (input, target) with input the edges (or greyscale) of the target photo.

    faces           a CelebA HDF5 file (gans/data/celeba.py's layout, or the book's), or an open
                    CelebADataset made with crop=128, scale=None (it is shared, not closed here)
    task            "edges" or "grey"
    split           "train" (the first faces) or "held_out" (the last ones; see split_sizes)
    input_channels  1, or 3 (the input's one channel repeated)
    edge_sigma      Canny's sigma
    limit           keep only the split's first `limit` faces (None: all)

    pairs.__getitems__(indices) -> (inputs (B, C, 64, 64), targets (B, 3, 64, 64)), float32 in
    [-1, 1]; pairs[i] -> one (input, target). Faces are prepared when read, never cached: ~2 ms each.
    """

    def __init__(self, faces, task="edges", split="train", input_channels=1, edge_sigma=EDGE_SIGMA, limit=None,
                 device=None):
        if task not in TASKS:
            raise UserError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
        if split not in SPLITS:
            raise UserError(f"split must be 'train' or 'held_out', got {split!r}")
        if input_channels not in (1, 3):
            raise UserError(f"input_channels must be 1 or 3, got {input_channels!r}")
        self.faces = open_faces(faces)
        self.task, self.split, self.input_channels = task, split, input_channels
        self.edge_sigma, self.device = edge_sigma, device
        train, held_out = split_sizes(len(self.faces))
        if train == 0 or held_out == 0:
            raise UserError(f"{len(self.faces)} faces are too few to hold some out: the rule keeps the first "
                            f"90 % (rounded down to a whole ten) for training; use at least 12 faces")
        # positions[i]: where sample i sits in the file. Every index below goes through it.
        self.positions = np.arange(train) if split == "train" else np.arange(train, train + held_out)
        self.positions = self.positions[:limit]

    def held_out(self):
        """The held-out faces of the same file, prepared the same way."""
        return FacePairs(self.faces, self.task, "held_out", self.input_channels, self.edge_sigma, device=self.device)

    def __len__(self):
        return len(self.positions)

    def __getitem__(self, index):
        inputs, targets = self.__getitems__([index])
        return inputs[0], targets[0]

    def __getitems__(self, indices):
        photos = self.photos(indices)
        return self.tensor(self.inputs_of(photos)), self.tensor(to_pm1(photos, 255).transpose(0, 3, 1, 2))

    def inputs(self, indices):
        """The inputs alone, (B, C, 64, 64)."""
        return self.tensor(self.inputs_of(self.photos(indices)))

    def targets(self, indices):
        """The target photos alone, (B, 3, 64, 64)."""
        return self.tensor(to_pm1(self.photos(indices), 255).transpose(0, 3, 1, 2))

    def photos(self, indices):
        """The 64x64 colour faces of samples `indices`, uint8 (B, 64, 64, 3)."""
        positions = [self.positions[int(i)] for i in indices]
        return np.stack([face_64(self.faces.raw(p)) for p in positions]) if positions else \
            np.zeros((0, SIZE, SIZE, 3), np.uint8)

    def inputs_of(self, photos):
        """uint8 photos (B, 64, 64, 3) -> the task's inputs, float32 (B, C, 64, 64) in [-1, 1]."""
        if self.task == "edges":
            # A sketch: an edge pixel is black (-1), the rest white (+1).
            channel = [np.where(edges(photo, self.edge_sigma), -1.0, 1.0) for photo in photos]
        else:
            channel = [greyscale(photo) * 2 - 1 for photo in photos]
        channel = np.asarray(channel, dtype=np.float32).reshape(len(photos), 1, SIZE, SIZE)
        return np.repeat(channel, self.input_channels, axis=1)

    def name_of(self, index):
        """The file sample `index` came from, e.g. 'img_align_celeba/000501.jpg'."""
        return self.faces.name_of(int(self.positions[int(index)]))

    def tensor(self, array):
        device = self.device if self.device is not None else backend.get_default_device()
        return Tensor._wrap(backend.to_device(np.ascontiguousarray(array), device), False)

    def __repr__(self):
        return (f"FacePairs({self.faces.path.name if hasattr(self.faces, 'path') else self.faces!r}, "
                f"task={self.task!r}, split={self.split!r}, {len(self)} faces)")


class UnpairedFaces(Dataset):
    """CycleGAN's data: the inputs and the photos of FacePairs, each pile shuffled on its own.

    Sample i is (input of face input_order[i], photo of face target_order[i]): two independent
    permutations of the split's faces, drawn from numpy's default_rng(seed), so the same seed
    gives the same piles. Training never learns which photo belongs to which input; evaluation
    may ask: true_targets(indices) are the photos the inputs at `indices` were made from.

    Arguments as FacePairs (input_channels 3 by default: CycleGAN's identity loss gives each
    generator images of its output domain), and `seed`.
    """

    def __init__(self, faces, task="edges", split="train", input_channels=3, seed=0, edge_sigma=EDGE_SIGMA,
                 limit=None, device=None):
        self.pairs = FacePairs(faces, task, split, input_channels, edge_sigma, limit, device)
        rng = np.random.default_rng(seed)
        self.input_order = rng.permutation(len(self.pairs))
        self.target_order = rng.permutation(len(self.pairs))
        self.seed = seed

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index):
        inputs, targets = self.__getitems__([index])
        return inputs[0], targets[0]

    def __getitems__(self, indices):
        indices = np.asarray(indices, dtype=np.int64)
        return self.pairs.inputs(self.input_order[indices]), self.pairs.targets(self.target_order[indices])

    def true_targets(self, indices):
        """The hidden pairing: the photos that the inputs at `indices` were made from."""
        return self.pairs.targets(self.input_order[np.asarray(indices, dtype=np.int64)])

    def faces_of(self, index):
        """(the pair index of sample `index`'s input, that of its photo): FacePairs indices."""
        return int(self.input_order[index]), int(self.target_order[index])


def open_faces(faces):
    """A CelebADataset of 128x128 raw crops: opened from a path, or the one given (checked)."""
    if isinstance(faces, (str, Path)):
        return CelebADataset(faces, crop=CROP, scale=None)
    box = getattr(faces, "crop_box", None)
    if box is None or tuple(box[2:]) != (CROP, CROP):
        raise UserError(f"FacePairs needs the faces' {CROP}x{CROP} centre crops: open them with "
                        f"CelebADataset(path, crop={CROP}, scale=None), or pass the path")
    return faces
