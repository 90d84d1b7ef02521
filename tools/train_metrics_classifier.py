"""Train the MNIST classifier that gans.metrics measures generators with, and save its weights.

Run:  python tools/train_metrics_classifier.py [--data-dir ROOT] [--out gans/weights/mnist_classifier.npz]

The recipe is fixed (docs/metrics.md): the small CNN of gans.metrics.MnistClassifier,
trained by minigrad itself with Adam on the 60,000 training images (pixels / 255, no
augmentation), batches of 64, seed 0, for 4 epochs at learning rates 2e-3, 1e-3, 3e-4
and 1e-4 (a step decay: big steps first, then smaller ones that settle the weights). It prints the
accuracy on the 10,000 test images after every epoch, and at the end the file's sha256,
which gans/metrics.py checks every time it loads the weights.

The output is an mg.save file (a .npz, no pickle) holding
    {"state_dict": ..., "test_accuracy": 0.99.., "test_correct": ..., "architecture": "...",
     "recipe": "...", "seed": 0, "train_seconds": ...}

About 2 to 5 minutes on 2 CPU cores. On a busy machine, OPENBLAS_NUM_THREADS=1 can be much
faster: BLAS threads that wait for each other waste the cores other programs need.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, uninstalled

import minigrad as mg  # noqa: E402
import minigrad.nn as nn  # noqa: E402
from gans import metrics  # noqa: E402
from gans.data.mnist import MNIST  # noqa: E402

BATCH_SIZE = 64
LEARNING_RATES = (2e-3, 1e-3, 3e-4, 1e-4)  # one per epoch: a step decay
SEED = 0
RECIPE = (f"Adam(betas=(0.9, 0.999)), cross-entropy, batch {BATCH_SIZE}, {len(LEARNING_RATES)} epochs "
          f"at learning rates {', '.join(f'{lr:g}' for lr in LEARNING_RATES)}; the 60,000 training "
          f"images as pixels / 255, shuffled each epoch, no augmentation; seed {SEED}")
REQUIRED_ACCURACY = 0.99


def test_accuracy(model, test):
    """(fraction, count) of the test images the model classifies correctly."""
    predicted, _ = metrics.classify(test.images, classifier=model, pixel_range=(0, 255))
    correct = int(np.sum(predicted == test.labels))
    return correct / len(test.labels), correct


def train(data_dir=None, seed=SEED, learning_rates=LEARNING_RATES):
    """Train a fresh MnistClassifier with the recipe. Returns (model, accuracy, correct, seconds)."""
    mg.manual_seed(seed)  # the initial weights
    train_set = MNIST(data_dir, train=True, flatten=False, scale="01")
    test_set = MNIST(data_dir, train=False, flatten=False, scale="01")
    loader = mg.data.DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True, seed=seed)

    model = metrics.MnistClassifier()
    optimiser = mg.optim.Adam(model.parameters(), lr=learning_rates[0])
    loss_function = nn.CrossEntropyLoss()
    print(model)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters; {RECIPE}")

    started = time.perf_counter()
    for epoch, learning_rate in enumerate(learning_rates, start=1):
        for group in optimiser.param_groups:
            group["lr"] = learning_rate
        model.train()
        losses = []
        for images, labels in loader:
            loss = loss_function(model(images), labels)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        model.eval()
        accuracy, _ = test_accuracy(model, test_set)
        print(f"epoch {epoch}: lr {learning_rate:g}, mean loss {np.mean(losses):.4f}, "
              f"test accuracy {accuracy:.4f}, {time.perf_counter() - started:.0f} s", flush=True)
    seconds = time.perf_counter() - started
    accuracy, correct = test_accuracy(model, test_set)
    return model, accuracy, correct, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="a folder holding MNIST (see gans.data.mnist.find_mnist)")
    parser.add_argument("--out", default=str(metrics.WEIGHTS_PATH), help="where to write the weights")
    args = parser.parse_args()

    model, accuracy, correct, seconds = train(args.data_dir)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    mg.save({"state_dict": model.state_dict(), "test_accuracy": accuracy, "test_correct": correct,
             "architecture": metrics.MnistClassifier.architecture, "recipe": RECIPE, "seed": SEED,
             "train_seconds": round(seconds, 1)}, out)

    print(f"test accuracy {accuracy:.4f} ({correct} of 10000), trained in {seconds:.0f} s")
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    print(f"sha256 {metrics.sha256_of(out)}")
    print("gans.metrics only loads the weights whose sha256 is WEIGHTS_SHA256 in gans/metrics.py: "
          "put the value above there (and the accuracy into docs/metrics.md) to adopt this file.")
    if accuracy < REQUIRED_ACCURACY:
        print(f"warning: the protocol asks for a test accuracy of at least {REQUIRED_ACCURACY}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
