"""pix2pix on CelebA faces: edges -> photo with L1 alone, cGAN alone and cGAN + L1 (the paper's ablation).

Trains `pix2pix --set ablation=l1`, `ablation=cgan` and `ablation=cgan+l1`, evaluates each on the held-out faces
(L1, PSNR, SSIM, sharpness against the real photos'), beside the mean training face, and draws
input | L1 alone | cGAN alone | cGAN + L1 | real for eight held-out faces. L1 alone should score well
on average and look blurry; the GAN term should bring the sharpness back towards the real photos';
the GAN term alone is sharp but need not match its input.

Run:  python examples/20_pix2pix_faces.py [--epochs 50] [--task edges|grey] [--data-dir D]
(The pix2pix experiment is registered once the Trainer steps with objectives: gans/image_to_image.py.)
"""

from pathlib import Path

from _common import parse, run

from gans import plots
from gans.image_to_image import evaluate, face_pairs_data, mean_face, translate
from gans.registry import RunOptions, load_generator

args = parse(__doc__.splitlines()[0], add_arguments=lambda parser: parser.add_argument(
    "--task", choices=["edges", "grey"], default="edges", help="the input: Canny edges or the greyscale face"))
base = args.out or Path("runs") / "examples" / f"pix2pix-{args.task}"
train = face_pairs_data()(RunOptions(out=base, data_dir=args.data_dir, extra={"task": args.task}))
held_out, baseline = train.held_out(), mean_face(train)
shown = range(min(8, len(held_out)))
inputs, targets = held_out.__getitems__(shown)
columns = {"input": inputs.numpy()}
print(f"{'':10} {'L1':>7} {'PSNR dB':>8} {'SSIM':>6} {'sharpness (real)':>18}")


def show(name, m):
    print(f"{name:10} {m['l1']:7.4f} {m['psnr']:8.2f} {m['ssim']:6.3f} {m['sharpness']:8.4f} ({m['sharpness_real']:.4f})")


for ablation, label in (("l1", "L1 alone"), ("cgan", "cGAN alone"), ("cgan+l1", "cGAN + L1")):
    args.out = base / ablation
    summary, out = run("pix2pix", args, task=args.task, ablation=ablation)
    _, G = load_generator(out)
    report = evaluate(G, held_out, baseline=baseline)
    show(label, report["model"])
    columns[label] = translate(G, inputs)
show("mean face", report["mean_face"])
columns["real"] = targets.numpy()
plots.save_translations(columns, base / "ablation.png", title=f"pix2pix, {args.task} -> photo, held-out faces")
print(f"figure: {base / 'ablation.png'}")
