"""CycleGAN on CelebA faces: edges <-> photos learnt from unpaired piles.

Trains `cyclegan` on edges and photos shuffled apart (no edge map meets its own photo), then
evaluates the edges -> photo generator on the held-out faces, whose pairs it never saw, beside the
mean training face, and draws input | CycleGAN | real. With --pix2pix RUN (a finished pix2pix run on
the same task, e.g. examples/20's), that paired upper bound is measured and drawn beside it.

Run:  python examples/21_cyclegan_faces.py [--epochs 10] [--task edges|grey] [--pix2pix RUN] [--data-dir D]
(The cyclegan experiment is registered once the Trainer steps with objectives: gans/image_to_image.py.)
"""

from pathlib import Path

from _common import parse, run

from gans import plots
from gans.image_to_image import evaluate, face_pairs_data, translate
from gans.registry import RunOptions, load_generator



def add_arguments(parser):
    parser.add_argument("--task", choices=["edges", "grey"], default="edges",
                        help="domain A: Canny edges or the greyscale face")
    parser.add_argument("--pix2pix", type=Path, help="a finished pix2pix run folder to compare with")


args = parse(__doc__.splitlines()[0], add_arguments=add_arguments)
args.out = args.out or Path("runs") / "examples" / f"cyclegan-{args.task}"
summary, out = run("cyclegan", args, task=args.task)
train = face_pairs_data(unpaired=True)(RunOptions(out=out, data_dir=args.data_dir, seed=args.seed,
                                                  extra={"task": args.task})).pairs
held_out = train.held_out()
shown = range(min(8, len(held_out)))
inputs, targets = held_out.__getitems__(shown)
columns = {"input": inputs.numpy()}
compared = [("CycleGAN", out, held_out, train)]  # CycleGAN's domain A has 3 channels, pix2pix's input 1
if args.pix2pix:
    paired = face_pairs_data()(RunOptions(out=args.pix2pix, data_dir=args.data_dir, extra={"task": args.task}))
    compared.append(("pix2pix", args.pix2pix, paired.held_out(), paired))
for name, run_folder, faces, training_faces in compared:
    _, G = load_generator(run_folder)
    report = evaluate(G, faces, training_faces)
    columns[name] = translate(G, faces.__getitems__(shown)[0])
    m = report["model"]
    print(f"{name:10} L1 {m['l1']:.4f}  PSNR {m['psnr']:.2f} dB  SSIM {m['ssim']:.3f}  "
          f"sharpness {m['sharpness']:.4f} (real {m['sharpness_real']:.4f})")
m = report["mean_face"]
print(f"{'mean face':10} L1 {m['l1']:.4f}  PSNR {m['psnr']:.2f} dB  SSIM {m['ssim']:.3f}  sharpness {m['sharpness']:.4f}")
columns["real"] = targets.numpy()
plots.save_translations(columns, out / "held_out.png", title=f"CycleGAN, {args.task} -> photo, held-out faces")
print(f"figure: {out / 'held_out.png'}")
