"""CycleGAN on CelebA faces: edges <-> photos learnt from unpaired piles.

Trains `cyclegan` on edges and photos shuffled apart (no edge map meets its own photo), then
evaluates the edges -> photo generator on the held-out faces, whose pairs it never saw, beside the
mean training face, and draws input | CycleGAN | real.

Run:  python examples/21_cyclegan_faces.py [--epochs 10] [--task edges|grey] [--data-dir D]
(The cyclegan experiment is registered once the Trainer steps with objectives: gans/image_to_image.py.)
"""

from pathlib import Path

from _common import parse, run

from gans import plots
from gans.image_to_image import evaluate, face_pairs_data, translate
from gans.registry import RunOptions, load_generator

args = parse(__doc__.splitlines()[0], add_arguments=lambda parser: parser.add_argument(
    "--task", choices=["edges", "grey"], default="edges", help="domain A: Canny edges or the greyscale face"))
args.out = args.out or Path("runs") / "examples" / f"cyclegan-{args.task}"
summary, out = run("cyclegan", args, task=args.task)
train = face_pairs_data(unpaired=True)(RunOptions(out=out, data_dir=args.data_dir, seed=args.seed,
                                                  extra={"task": args.task})).pairs
held_out = train.held_out()
_, G = load_generator(out)
report = evaluate(G, held_out, train)
for name, m in (("CycleGAN", report["model"]), ("mean face", report["mean_face"])):
    print(f"{name:10} L1 {m['l1']:.4f}  PSNR {m['psnr']:.2f} dB  SSIM {m['ssim']:.3f}  "
          f"sharpness {m['sharpness']:.4f} (real {m['sharpness_real']:.4f})")
inputs, targets = held_out.__getitems__(range(min(8, len(held_out))))
plots.save_translations({"input": inputs.numpy(), "CycleGAN": translate(G, inputs), "real": targets.numpy()},
                        out / "held_out.png", title=f"CycleGAN, {args.task} -> photo, held-out faces")
print(f"figure: {out / 'held_out.png'}")
