"""Image-to-image data: CelebA faces as (edges -> photo) and (greyscale -> colour) pairs, 64x64.

Prints how many faces train and how many are held out (the last 10 %, rounded: 58 of the shared 558),
and draws the first held-out faces as their three versions: Canny edges | greyscale | photo.

Run:  python examples/19_image_pairs.py [--data-dir D] [--out runs/examples/image_pairs]
"""

from pathlib import Path

from _common import parse

from gans import plots
from gans.data.pairs import EDGE_SIGMA, FacePairs, UnpairedFaces
from gans.experiments import find_celeba_h5
from gans.registry import RunOptions

args = parse(__doc__.splitlines()[0])
out = args.out or Path("runs") / "examples" / "image_pairs"
out.mkdir(parents=True, exist_ok=True)
h5 = find_celeba_h5(RunOptions(out=out, data_dir=args.data_dir))

train, held_out = FacePairs(h5), FacePairs(h5, split="held_out")
print(f"{h5}: {len(train)} faces train, {len(held_out)} held out "
      f"({held_out.name_of(0)} to {held_out.name_of(len(held_out) - 1)})")
shown = range(min(6, len(held_out)))
edges, photos = held_out.__getitems__(shown)
grey = FacePairs(h5, task="grey", split="held_out").inputs(shown)
share = float((edges.numpy() == -1).mean())
print(f"Canny (sigma {EDGE_SIGMA}): {share:.1%} of the pixels of these faces are edges")
plots.save_translations({"edges": edges.numpy(), "greyscale": grey.numpy(), "photo": photos.numpy()},
                        out / "pairs.png", title="held-out faces, as pix2pix sees them")

unpaired = UnpairedFaces(h5, seed=args.seed)
inputs, photos = unpaired.__getitems__(range(6))
plots.save_translations({"edges": inputs.numpy(), "photo": photos.numpy(), "their real photo":
                         unpaired.true_targets(range(6)).numpy()}, out / "unpaired.png",
                        title="CycleGAN's piles: edges and photos of different faces")
print(f"figures: {out / 'pairs.png'}, {out / 'unpaired.png'}")
