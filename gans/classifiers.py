"""Book chapters 3, 4 and 13: a network that classifies MNIST digits, and how each refinement helps.

Before any GAN, the book trains a plain classifier: an image of 784 pixel values in [0, 1]
goes in, 10 numbers come out, one per digit, and the largest one is the answer. The target
is one-hot: 1 at the true digit, 0 elsewhere. The book trains on one image at a time
(batch size 1), in the file's order, and scores the fraction of the 10,000 test images
whose largest output is at the true digit.

Chapter 3 builds the first version, then chapter 4 improves it one change at a time:

    1. baseline      784 -> 200 Sigmoid -> 10 Sigmoid, MSE loss, SGD(lr=0.01), 4 epochs  (book: 0.88)
    2. + BCE         the loss becomes binary cross-entropy
    3. + LeakyReLU   the hidden activation becomes LeakyReLU(0.02)
    4. + Adam        the optimiser becomes Adam (lr=0.001)
    5. + LayerNorm   LayerNorm(200) after the hidden activation, 3 epochs          (book: 0.9724)

Chapter 13 then replaces the first layers by two convolutions (book: 0.9814).

The order, our one deviation from the book: the book walks the training images in the file's
order every epoch; we draw a new random order every epoch. The book's order comes back with
extra={"shuffle": False} (`python -m gans train classifier-progression --set shuffle=false`).
In the book's order the results match the book's within the spread between seeds, but that
spread straddles the book's numbers: the final MLP scores 0.9699-0.9728 (book 0.9724), the CNN
0.9785-0.9810 (book 0.9814). Reshuffled, they score about half a point higher: the final MLP
0.9762-0.9786 at every seed tried, the CNN 0.9812-0.9856 (0.9856 at the default seed 0).
docs/classifiers.md has the runs.

    python -m gans train classifier-progression    # the whole progression, printing the table
    python -m gans train cnn-classifier            # book 13

Every change is cumulative: row k has every change of rows 2..k. Each row trains a freshly
initialised model from the same seed on the same data, so the rows differ only by their change.
"""

import os
import platform
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

import minigrad as mg
import minigrad.nn as mnn
from minigrad import backend
from minigrad.nn import set_training_mode

from . import plots
from .data.mnist import MNIST, MnistNotFoundError
from .registry import ExperimentError, RunOptions, register, text, whole_number
from .runs import write_json

# --- models --------------------------------------------------------------------------------


def mlp_classifier(hidden_activation="sigmoid", layer_norm=False, nn=mnn):
    """The book's classifier: (N, 784) pixels -> (N, 10) scores in (0, 1).

        h = act(x W1^T + b1)          W1: (200, 784)    act: Sigmoid or LeakyReLU(0.02)
        h = LayerNorm(h)              only when layer_norm (book 04's last refinement)
        y = sigmoid(h W2^T + b2)      W2: (10, 200)

    The output stays a sigmoid in every variant: BCE needs values in (0, 1).
    `nn` is the module to build with (minigrad.nn, or torch.nn for comparisons).
    """
    activations = {"sigmoid": nn.Sigmoid, "leaky_relu": partial(nn.LeakyReLU, 0.02)}
    if hidden_activation not in activations:
        raise ValueError(f"hidden_activation must be one of {sorted(activations)}, got {hidden_activation!r}")
    layers = [nn.Linear(784, 200), activations[hidden_activation]()]
    if layer_norm:
        layers.append(nn.LayerNorm(200))
    layers += [nn.Linear(200, 10), nn.Sigmoid()]
    return nn.Sequential(*layers)


def cnn_classifier(nn=mnn):
    """Book 13's convolutional classifier: (N, 1, 28, 28) images -> (N, 10) scores in (0, 1).

        Conv2d(1 -> 10, 5x5, stride 2)   (N, 10, 12, 12)   then LeakyReLU(0.02), BatchNorm2d(10)
        Conv2d(10 -> 10, 3x3, stride 2)  (N, 10, 5, 5)     then LeakyReLU(0.02), BatchNorm2d(10)
        Flatten                          (N, 250)
        Linear(250 -> 10), Sigmoid       (N, 10)

    (A convolution with kernel k and stride s maps a side of n pixels to floor((n - k) / s) + 1.)
    """
    return nn.Sequential(
        nn.Conv2d(1, 10, kernel_size=5, stride=2), nn.LeakyReLU(0.02), nn.BatchNorm2d(10),
        nn.Conv2d(10, 10, kernel_size=3, stride=2), nn.LeakyReLU(0.02), nn.BatchNorm2d(10),
        nn.Flatten(), nn.Linear(250, 10), nn.Sigmoid())


# --- recipes: what one row of a table trains -----------------------------------------------

LOSSES = {"mse": mnn.MSELoss, "bce": mnn.BCELoss}
OPTIMISERS = {"sgd": mg.optim.SGD, "adam": mg.optim.Adam}


@dataclass(frozen=True)
class Recipe:
    """One classifier as the book trains it: model, loss, optimiser and epochs."""
    name: str                      # short id: "baseline", "bce", ...
    change: str                    # what this row adds, as the table shows it
    architecture: str              # the network in one line
    model: Callable                # () -> Module
    loss: str                      # "mse" or "bce"
    optimiser: str                 # "sgd" or "adam"
    lr: float
    epochs: float                  # the book's number of epochs
    book_accuracy: float = None    # what the book's notebook prints (None: the notebooks don't say)
    flatten: bool = True           # images as (784,) vectors, or (1, 28, 28) for convolutions

    def build(self, device="cpu"):
        """(model, loss function, optimiser), freshly initialised from the current random state."""
        model = self.model().to(device)
        return model, LOSSES[self.loss](), OPTIMISERS[self.optimiser](model.parameters(), lr=self.lr)

    def optimiser_text(self):
        return f"{'SGD' if self.optimiser == 'sgd' else 'Adam'}(lr={self.lr:g})"


PROGRESSION = (
    Recipe("baseline", "book 03 baseline", "784-200 Sigmoid-10 Sigmoid",
           partial(mlp_classifier, "sigmoid"), "mse", "sgd", 0.01, epochs=4, book_accuracy=0.88),
    Recipe("bce", "+ BCE loss", "784-200 Sigmoid-10 Sigmoid",
           partial(mlp_classifier, "sigmoid"), "bce", "sgd", 0.01, epochs=3),
    Recipe("leaky_relu", "+ LeakyReLU(0.02) hidden", "784-200 LeakyReLU-10 Sigmoid",
           partial(mlp_classifier, "leaky_relu"), "bce", "sgd", 0.01, epochs=3),
    Recipe("adam", "+ Adam optimiser", "784-200 LeakyReLU-10 Sigmoid",
           partial(mlp_classifier, "leaky_relu"), "bce", "adam", 0.001, epochs=3),
    Recipe("layer_norm", "+ LayerNorm(200) = book 04", "784-200 LeakyReLU LayerNorm-10 Sigmoid",
           partial(mlp_classifier, "leaky_relu", True), "bce", "adam", 0.001, epochs=3, book_accuracy=0.9724),
)

CNN = Recipe("cnn", "book 13 CNN", "conv5x5/2(10) LReLU BN-conv3x3/2(10) LReLU BN-250-10 Sigmoid",
             cnn_classifier, "bce", "adam", 0.001, epochs=3, book_accuracy=0.9814, flatten=False)


# --- data ----------------------------------------------------------------------------------

def load_mnist(data_dir=None, flatten=True, train_limit=None, test_limit=None, progress=True):
    """(train, test): MNIST pixels / 255 in [0, 1], as the book scales them.

    train  gives (images, one-hot targets (B, 10)): what the loss compares the outputs with
    test   gives (images, labels (B,)): what the accuracy compares the argmax with
    Images are (B, 784) when flatten, else (B, 1, 28, 28). Raises ExperimentError when MNIST
    cannot be found (the message says where it looked and how to provide it).
    """

    try:
        train = MNIST(data_dir, train=True, scale="01", flatten=flatten, one_hot=True, progress=progress)
        test = MNIST(data_dir, train=False, scale="01", flatten=flatten, one_hot=False, progress=progress)
    except MnistNotFoundError as error:
        raise ExperimentError(str(error)) from error
    if train_limit:
        train = mg.data.Subset(train, range(min(int(train_limit), len(train))))
    if test_limit:
        test = mg.data.Subset(test, range(min(int(test_limit), len(test))))
    return train, test


# --- training and evaluation ---------------------------------------------------------------

def train_step(model, loss_function, optimiser, images, targets):
    """One step of the book's Classifier.train(): forward, loss, zero_grad, backward, step.
    Returns the loss (a 0-dim Tensor, computed before the update)."""
    outputs = model(images)
    loss = loss_function(outputs, targets)
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    return loss


def train_classifier(model, loss_function, optimiser, dataset, epochs=1, batch_size=1, shuffle=False,
                     seed=0, device="cpu", progress=False, record_every=10, description=None):
    """Train for `epochs` passes over `dataset` (a fraction allowed: 0.5 is half an epoch).

    The book walks the training set in its file order (shuffle=False), one image per step.
    With batch_size B each step averages the loss over B images, so an epoch is
    ceil(N / B) steps. Returns the loss history {"step": [...], "loss": [...]}, one entry
    every `record_every` steps, as the book's `progress` list (it records every 10th loss).
    """
    loader = mg.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, seed=seed)
    total = max(1, round(epochs * len(loader)))
    history = {"step": [], "loss": []}
    step = 0
    set_training_mode(model, True)
    with tqdm(total=total, disable=not progress, unit="step", desc=description, dynamic_ncols=True,
              mininterval=0.5) as bar:
        while step < total:
            for images, targets in loader:
                loss = train_step(model, loss_function, optimiser, images.to(device), targets.to(device))
                step += 1
                if step % record_every == 0:  # .item() waits for the GPU: not on every step
                    history["step"].append(step)
                    history["loss"].append(loss.item())
                bar.update(1)
                if step == total:
                    break
    return history


def accuracy(model, dataset, batch_size=1000, device="cpu", book_style=False):
    """The fraction of images whose largest output is at the true label: mean(argmax(y) == label).

    dataset gives (images, labels) with class-index labels. By default the model runs in eval
    mode (BatchNorm normalises with its running statistics), in batches, without gradients.

    book_style=True measures as the book's notebook does: one image at a time, the model left in
    training mode, so BatchNorm normalises each test image by its own statistics. (The running
    statistics that this updates are put back afterwards.) It only differs for BatchNorm models.
    """
    was_training = model.training
    if book_style:
        saved = [(buffer, buffer.array.copy()) for buffer in model.buffers()]
        set_training_mode(model, True)
        batch_size = 1
    else:
        set_training_mode(model, False)
    correct = 0
    with mg.no_grad():
        for images, labels in mg.data.DataLoader(dataset, batch_size=batch_size):
            predicted = model(images.to(device)).argmax(dim=1)
            correct += int((predicted.numpy() == labels.numpy()).sum())
    if book_style:
        for buffer, data in saved:
            buffer.array = data
    set_training_mode(model, was_training)
    return correct / len(dataset)


def has_batch_norm(model):
    return any(type(m).__name__.startswith("BatchNorm") for m in model.modules())


# --- the experiments -----------------------------------------------------------------------

@dataclass
class ClassifierExperiment:
    """A list of recipes trained one after the other into one table (see the module docstring).

    run(options) uses: options.epochs (None: each recipe's book epochs), options.batch_size
    (None: 1, the book's), data_dir, seed, device, progress, and options.extra:
        train_limit, test_limit   use only the first n training / test images (tests)
        variants                  names of the recipes to run, a list or "a,b" (default: all)
        shuffle                   false: the file's order every epoch, as the book (default: self.shuffle)
    (From the command line: --set variants=baseline,layer_norm --set shuffle=false.)
    It writes results.json, results.md (the table) and losses.png into options.out.
    """
    name: str
    title: str
    recipes: tuple
    target: float                  # the book's final accuracy, which the last row should reach
    shuffle: bool = True           # a new training order every epoch (see "order" in the module docstring)
    kind: str = "classifier"
    # What --set may change: {name: check} (gans/registry.py).
    settings: dict = field(default_factory=lambda: {"train_limit": whole_number, "test_limit": whole_number,
                                                    "variants": text, "shuffle": text})

    def run(self, options: RunOptions) -> dict:
        if options.resume:
            raise ExperimentError(f"{self.name}: --resume has nothing to continue: a classifier run keeps no "
                                  f"checkpoint (each row trains in minutes); run it again without --resume")
        out = Path(options.out)
        out.mkdir(parents=True, exist_ok=True)
        extra = dict(options.extra or {})
        device = backend.normalize_device(options.device)
        batch_size = options.batch_size or 1
        recipes = self.select(extra.get("variants"))
        shuffle = as_flag(extra.get("shuffle", self.shuffle), "shuffle")

        rows, histories, data = [], {}, {}
        for number, recipe in enumerate(recipes, 1):
            if recipe.flatten not in data:  # MLPs read (784,) vectors, the CNN (1, 28, 28) images
                data[recipe.flatten] = load_mnist(options.data_dir, recipe.flatten, extra.get("train_limit"),
                                                  extra.get("test_limit"), options.progress)
            train, test = data[recipe.flatten]
            epochs = options.epochs if options.epochs is not None else recipe.epochs

            mg.manual_seed(options.seed)  # every row starts from the same random state
            model, loss_function, optimiser = recipe.build(device)
            started = time.perf_counter()
            history = train_classifier(model, loss_function, optimiser, train, epochs, batch_size,
                                       shuffle=shuffle, seed=options.seed,
                                       device=device, progress=options.progress,
                                       description=f"{number}/{len(recipes)} {recipe.name}")
            train_seconds = time.perf_counter() - started
            started = time.perf_counter()
            score, eval_mode_score, measured = self.score(model, test, device, batch_size)
            eval_seconds = time.perf_counter() - started

            histories[recipe.name] = history
            recent = history["loss"][-100:]
            rows.append({
                "number": number, "variant": recipe.name, "change": recipe.change,
                "architecture": recipe.architecture, "loss": recipe.loss.upper(),
                "optimiser": recipe.optimiser_text(), "epochs": epochs, "batch_size": batch_size,
                "order": "shuffled every epoch" if shuffle else "file order",
                "accuracy": score, "measured": measured, "accuracy_eval_mode": eval_mode_score,
                "book_accuracy": recipe.book_accuracy,
                "train_seconds": round(train_seconds, 1), "eval_seconds": round(eval_seconds, 2),
                "train_images": len(train), "test_images": len(test),
                "final_loss": round(float(np.mean(recent)), 5) if recent else None,
            })
            print(f"{recipe.name}: test accuracy {score:.4f} after {format_seconds(train_seconds)} of training",
                  flush=True)

        summary = {
            "experiment": self.name, "title": self.title, "device": device, "batch_size": batch_size,
            "seed": options.seed, "machine": machine_description(device), "rows": rows,
            "final_accuracy": rows[-1]["accuracy"], "target": self.target,
            "target_met": rows[-1]["accuracy"] >= self.target,
            "seconds": round(sum(r["train_seconds"] + r["eval_seconds"] for r in rows), 1),
        }
        table = markdown_table(rows)
        write_json(out / "results.json", summary)
        (out / "results.md").write_text(f"# {self.title}\n\n{summary['machine']}, seed {options.seed}\n\n"
                                        f"{table}\n")
        plots.save_progress_plot(histories, out / "losses.png")
        print(f"\n{self.title}\n\n{table}\n\nwrote {out / 'results.json'}, results.md and losses.png")
        return summary

    @staticmethod
    def score(model, test, device, batch_size):
        """(accuracy, eval-mode accuracy or None, how it was measured).

        Without BatchNorm, training and eval mode compute the same function: one measure.
        With BatchNorm, it depends on how the model was trained. At batch size 1 each training
        image was normalised by its own statistics (over its 12x12 or 5x5 positions), so the
        function that was trained is that one: we measure as the book's notebook does, one test
        image at a time in training mode. Eval mode would normalise with running averages of
        those per-image statistics instead, a function the network never saw (it is reported
        too). With mini-batches the training used batch statistics, whose average eval mode uses.
        """
        eval_mode = accuracy(model, test, device=device)
        if not has_batch_norm(model):
            return eval_mode, None, "eval mode"
        if batch_size == 1:
            return (accuracy(model, test, device=device, book_style=True), eval_mode,
                    "one image at a time, BatchNorm on each image's own statistics (as the book)")
        return eval_mode, eval_mode, "eval mode (BatchNorm running statistics)"

    def select(self, names):
        if not names:
            return self.recipes
        if isinstance(names, str):  # --set variants=a,b
            names = [name.strip() for name in names.split(",") if name.strip()]
        known = {recipe.name: recipe for recipe in self.recipes}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ExperimentError(f"{self.name}: unknown variant(s) {unknown}; known: {list(known)}")
        return tuple(known[name] for name in names)


def as_flag(value, name):
    """True/False from a bool, a number, or text such as "false", "no", "0" (from --set key=value)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ExperimentError(f"{name} must be true or false, got {value!r}")
    return bool(value)


def format_seconds(seconds):
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def markdown_table(rows):
    """The rows as a markdown table: one line per variant, the book's accuracy beside ours."""
    lines = ["| # | change | network | loss | optimiser | epochs | batch | order | test accuracy | book | train time |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        book = f"{row['book_accuracy']:.4f}" if row["book_accuracy"] is not None else "—"
        ours = f"{row['accuracy']:.4f}"
        if row["accuracy_eval_mode"] is not None and row["accuracy_eval_mode"] != row["accuracy"]:
            ours += f" (eval mode: {row['accuracy_eval_mode']:.4f})"
        lines.append(f"| {row['number']} | {row['change']} | {row['architecture']} | {row['loss']} | "
                     f"{row['optimiser']} | {row['epochs']:g} | {row['batch_size']} | {row['order']} | "
                     f"{ours} | {book} | {format_seconds(row['train_seconds'])} |")
    limited = {(row["train_images"], row["test_images"]) for row in rows} - {(60000, 10000)}
    if limited:
        train, test = limited.pop()
        lines.append(f"\n(a reduced run: {train} training and {test} test images, not MNIST's 60,000 and 10,000)")
    return "\n".join(lines)


def machine_description(device):
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    text = f"{cores}-core CPU ({platform.machine()}, Python {platform.python_version()}, NumPy {np.__version__})"
    if os.environ.get("OPENBLAS_NUM_THREADS"):  # it changes the speed, and the rounding, of matmuls
        text += f", OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}"
    return text if device == "cpu" else f"{text}, device {device}"


PROGRESSION_EXPERIMENT = ClassifierExperiment(
    "classifier-progression", "Book 03-04: the MNIST classifier, one refinement at a time",
    PROGRESSION, target=0.9724)

CNN_EXPERIMENT = ClassifierExperiment(
    "cnn-classifier", "Book 13: the convolutional MNIST classifier", (CNN,), target=0.9814)

register(PROGRESSION_EXPERIMENT, CNN_EXPERIMENT)
