"""Does the loss say how good the samples are? A WGAN's Wasserstein estimate against a classic GAN's D loss.

Both runs must have measured the Fréchet distance during training (`frechet_every`, on by default for
wgan and wgan-gp; `--set frechet_every=N` for the others). The figure puts each run's statistic
beside its Fréchet distances, with Spearman's rank correlation of the two: near +1, the statistic
falls as the samples improve (the WGAN papers' claim for the estimate); near 0, it says nothing.
It is given over all the checks and over the last three quarters, after the warm-up (shaded), when a
WGAN's critic is still growing towards optimal and a classic D is leaving its first easy wins.

Run:  python examples/wgan_estimate_vs_frechet.py WGAN_RUN [GAN_RUN] [--out FIGURE.png]
      e.g. runs/examples/wgan-gp runs/dcgan
"""

import argparse
import json
from pathlib import Path

import gans.catalog  # noqa: F401 (registers every experiment: a classic run's trace looks up its objective)
from gans import plots
from gans.evaluation import frechet_trace

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("runs", type=Path, nargs="+", help="run folders: WGANs first, then classic GANs")
parser.add_argument("--out", type=Path, default=Path("wgan_estimate_vs_frechet.png"))
args = parser.parse_args()

panels = []
for run in args.runs:
    columns = json.loads((run / "summary.json").read_text())["last_logged"]
    column = "wasserstein" if "wasserstein" in columns else "watched_loss"  # classic: D's loss, real + fake
    panel = frechet_trace(run, column, title=run.name)
    late = len(panel["frechet"]) - len(panel["frechet"]) // 4
    print(f"{run}: Spearman rho({column}, Fréchet distance) = {panel['rho']:+.2f} over {len(panel['frechet'])} "
          f"checks, {panel['rho_late']:+.2f} over the last {late}")
    panels.append(panel)
print(f"wrote {plots.save_frechet_plot(panels, args.out)}")
