"""The full training runs behind docs/experiments.md, with their targets.  pytest -m slow

Each run trains an experiment with its documented budget into runs/slow/<name> (kept, so that the
docs' figures and numbers come from exactly these runs), evaluates it, and checks the target. On a
2-core CPU the whole set takes several hours; a finished run folder is reused, not retrained
(delete it to retrain).
"""

import json
import math
from pathlib import Path

import pytest

import gans.catalog  # noqa: F401 (registers every experiment)
from gans.evaluation import evaluate_run, frechet_trace
from gans.registry import RunOptions, get_experiment

pytestmark = pytest.mark.slow
RUNS = Path(__file__).resolve().parent.parent / "runs" / "slow"

# Epochs of each documented run (None: the experiment's own default, the book's).
BUDGETS = {
    "pattern-1010": None,          # 10,000 steps of one sample
    "mnist-first": None,           # 1 epoch, batch 1
    "mnist-book": None,            # 4 epochs, batch 1
    "mnist-mlp": 30,               # batch 60
    "mnist-mlp-5": 5,              # the tutorial GAN at DCGAN's budget, for the Fréchet comparison
    "dcgan": 5,
    "dcgan-fd": 5,                 # the DCGAN again, with the Fréchet hook every 250 steps (20 checks)
    "wgan": 5,                     # 1,000 G steps of 5 critic batches
    "wgan-gp": 5,
    "mnist-conditional": None,     # 12 epochs, batch 1
    "celeba-mlp": 10,              # on the 558-image CelebA sample
    "celeba-conv": 4,
    "celeba-conv-gelu": 4,
}


# The image-to-image runs on the 500 training faces: run folder -> (experiment, settings, batch size,
# epochs). Short budgets: the papers' (200 epochs of pix2pix at batch 1) are days on 2 cores.
IMAGE_RUNS = {
    **{f"pix2pix-edges{budget}/{ablation}": ("pix2pix", {"task": "edges", "ablation": ablation}, 4, epochs)
       for budget, epochs in (("", 3), ("-10", 10)) for ablation in ("l1", "cgan", "cgan+l1")},
    **{f"pix2pix-grey/{ablation}": ("pix2pix", {"task": "grey", "ablation": ablation}, 4, 3)
       for ablation in ("l1", "cgan", "cgan+l1")},
    "cyclegan-edges": ("cyclegan", {"task": "edges"}, 1, 3),
    "cyclegan-edges-6": ("cyclegan", {"task": "edges"}, 1, 6),
    "began": ("began", {}, None, None),
    "celeba-conv-imbalance": ("celeba-conv", {}, None, 1),   # book 14, one epoch: D overpowers G
}
BUDGETS.update({name: epochs for name, (_, _, _, epochs) in IMAGE_RUNS.items()})


def trained(name, shared_data, **extra):
    """Train (or reuse) runs/slow/<name>, evaluate it, and return (summary, metrics)."""
    experiment_name, settings, batch_size, _ = IMAGE_RUNS.get(
        name, (name.removesuffix("-5").removesuffix("-fd"), {}, None, None))
    experiment = get_experiment(experiment_name)
    out = RUNS / name
    if not (out / "summary.json").exists():
        options = RunOptions(out=out, epochs=BUDGETS[name], batch_size=batch_size, data_dir=shared_data,
                             progress=False, extra={**settings, **extra})
        experiment.run(options)
    summary = json.loads((out / "summary.json").read_text())
    metrics = evaluate_run(out, data_dir=shared_data) if experiment.metrics else {}
    return summary, metrics


def test_book06_pattern(shared_data):
    summary, metrics = trained("pattern-1010", shared_data)
    assert metrics["pattern_ok"], metrics["G(0.5)"]
    assert abs(summary["d_loss_recent_mean"] - 0.25) < 0.05


def test_book07_collapses(shared_data):
    _, metrics = trained("mnist-first", shared_data)
    assert metrics["classes_present"] <= 5, "book 07 should show mode collapse"


def test_book08_improves_on_book07(shared_data):
    _, first = trained("mnist-first", shared_data)
    _, fixed = trained("mnist-book", shared_data)
    assert fixed["classes_present"] > first["classes_present"]
    assert fixed["class_kl"] < first["class_kl"]
    assert fixed["frechet_distance"] < first["frechet_distance"]


def test_tutorial_mlp_gan_covers_all_digits(shared_data):
    _, metrics = trained("mnist-mlp", shared_data)
    assert metrics["classes_present"] == 10 and metrics["class_kl"] <= 0.1
    assert metrics["frechet_distance"] > metrics["frechet_floor_test_vs_train"]


def test_dcgan_beats_the_mlp_gan_at_the_same_epochs(shared_data):
    _, mlp = trained("mnist-mlp-5", shared_data)
    _, dcgan = trained("dcgan", shared_data)
    assert dcgan["classes_present"] == 10 and dcgan["class_kl"] <= 0.1
    assert dcgan["frechet_distance"] < mlp["frechet_distance"]


@pytest.mark.xfail(reason="target missed and documented (docs/experiments.md, WGAN-GP): 10/10 classes, "
                          "but class KL 0.080 > 0.05 after 5 epochs, still falling", strict=False)
def test_wgan_gp_covers_all_digits_within_the_dcgan_budget(shared_data):
    _, metrics = trained("wgan-gp", shared_data)
    assert metrics["classes_present"] == 10 and metrics["class_kl"] <= 0.05


def test_wasserstein_estimate_tracks_the_frechet_distance_better_than_the_dcgan_loss(shared_data):
    """The WGAN paper's claim, measured: Spearman's rho between the critic's estimate and the FD
    during training, beside the same for the DCGAN's D loss (real + fake), over the last three
    quarters of the checks (after the warm-up; over all of them both are reported in the docs)."""
    trained("wgan", shared_data)
    trained("dcgan-fd", shared_data, frechet_every=250)
    rho_wgan = frechet_trace(RUNS / "wgan", "wasserstein")["rho_late"]
    rho_dcgan = frechet_trace(RUNS / "dcgan-fd", "watched_loss")["rho_late"]
    assert rho_wgan > 0.7 and rho_wgan > abs(rho_dcgan) + 0.3, (rho_wgan, rho_dcgan)


def test_conditional_gan_draws_the_requested_digit(shared_data):
    _, metrics = trained("mnist-conditional", shared_data)
    assert metrics["conditional_accuracy"] >= 0.9


def test_seed_experiments(shared_data):
    trained("mnist-book", shared_data)
    out = RUNS / "mnist-seeds"
    summary = get_experiment("mnist-seeds").run(RunOptions(out=out, extra={"from_run": str(RUNS / "mnist-book")},
                                                             progress=False))
    assert all(Path(p).exists() for p in summary["grids"])


@pytest.mark.parametrize("name", ["celeba-mlp", "celeba-conv", "celeba-conv-gelu"])
def test_face_gans_train_on_the_celeba_sample(shared_data, name):
    summary, _ = trained(name, shared_data)
    assert summary["steps"] == BUDGETS[name] * 558
    assert math.isfinite(summary["last_logged"]["g_loss"])
    assert (RUNS / name / "loss.png").exists()


def held_out(name, shared_data):
    return trained(name, shared_data)[0]["held_out"]


def test_pix2pix_gan_term_sharpens_what_l1_alone_blurs(shared_data):
    """Isola et al.'s ablation on the held-out faces: L1 alone is blurry but close to the photo,
    cGAN alone is sharp but does not follow the input, cGAN + L1 is both."""
    l1, cgan, both = (held_out(f"pix2pix-edges-10/{a}", shared_data) for a in ("l1", "cgan", "cgan+l1"))
    mean_face = l1["mean_face"]
    assert l1["model"]["l1"] < mean_face["l1"] and both["model"]["l1"] < mean_face["l1"]
    assert both["model"]["ssim"] > mean_face["ssim"] + 0.05
    assert both["model"]["sharpness"] > l1["model"]["sharpness"] + 0.01  # sharper than L1 alone
    assert cgan["model"]["l1"] > both["model"]["l1"] + 0.03            # the L1 term keeps it on the input


def test_pix2pix_colours_greyscale_faces(shared_data):
    both = held_out("pix2pix-grey/cgan+l1", shared_data)
    assert both["model"]["psnr"] > 20 and both["model"]["ssim"] > 0.75


def test_paired_pix2pix_bounds_unpaired_cyclegan(shared_data):
    """The same budget of images (3 epochs): pix2pix, which sees the pairs, is the upper bound."""
    pix2pix, cyclegan = held_out("pix2pix-edges/cgan+l1", shared_data), held_out("cyclegan-edges", shared_data)
    assert pix2pix["model"]["l1"] < cyclegan["model"]["l1"] and pix2pix["model"]["ssim"] > cyclegan["model"]["ssim"]


def test_began_converges_by_its_own_measure_and_does_not_copy(shared_data):
    """BEGAN's M_global falls over training, and no sample is a near-copy of a training face: none is
    closer to its nearest training face than the mean face is (a blur that close is an average)."""
    import csv
    summary, _ = trained("began", shared_data)
    with open(RUNS / "began" / "history.csv") as file:
        m_global = [float(row["m_global"]) for row in csv.DictReader(file)]
    tenth = max(1, len(m_global) // 10)
    assert sum(m_global[-tenth:]) / tenth < 0.9 * sum(m_global[:tenth]) / tenth
    check = summary["copy_check"]
    assert check["sample_to_nearest_face"]["p5"] > check["mean_face_to_nearest_face"] and check["copies"] == 0


def test_the_imbalance_alarm_catches_book_14s_discriminator_winning(shared_data):
    """The tutorial's closing warning, measured: on the CPU book 14's D wins (its loss near 0, G's
    near 8). The alarm must record it; the balanced DCGAN run must stay quiet."""
    summary, _ = trained("celeba-conv-imbalance", shared_data)
    assert summary["imbalance"]["episodes"], summary["imbalance"]
    dcgan, _ = trained("dcgan-fd", shared_data, frechet_every=250)
    assert dcgan["imbalance"]["episodes"] == []
