"""gans.classifiers: the book's MNIST classifiers (chapters 3, 4 and 13).

The default tests are tiny (synthetic batches, or a few hundred real images, seconds each).
The `slow` ones train the full progression and the CNN on all of MNIST, at the book's batch
size 1, and check the book's accuracies: pytest -m slow tests/test_gans_classifiers.py
"""

import json

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from gans import classifiers
from gans.classifiers import (CNN, CNN_EXPERIMENT, PROGRESSION, PROGRESSION_EXPERIMENT, accuracy,
                              cnn_classifier, mlp_classifier, train_classifier, train_step)
from gans.registry import EXPERIMENTS, ExperimentError, RunOptions

ALL_RECIPES = PROGRESSION + (CNN,)


def synthetic_batch(n, flatten=True, seed=0):
    """n random 'images' in [0, 1] and one-hot targets (n, 10)."""
    rng = np.random.default_rng(seed)
    shape = (n, 784) if flatten else (n, 1, 28, 28)
    images = mg.tensor(rng.random(shape, dtype=np.float32))
    targets = mg.tensor(np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)])
    return images, targets


# --- models ----------------------------------------------------------------------------------

@pytest.mark.parametrize("activation, layer_norm", [("sigmoid", False), ("leaky_relu", False),
                                                    ("leaky_relu", True)])
def test_mlp_classifier_maps_784_pixels_to_10_scores_in_0_1(activation, layer_norm):
    model = mlp_classifier(activation, layer_norm)
    images, _ = synthetic_batch(5)
    out = model(images)
    assert out.shape == (5, 10)
    assert ((out.numpy() > 0) & (out.numpy() < 1)).all()
    assert [p.shape for p in model.parameters()][:2] == [(200, 784), (200,)]
    kinds = [type(m).__name__ for m in model]
    assert kinds[1] == ("Sigmoid" if activation == "sigmoid" else "LeakyReLU")
    assert ("LayerNorm" in kinds) == layer_norm
    assert kinds[-1] == "Sigmoid"


def test_mlp_classifier_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="hidden_activation"):
        mlp_classifier("tanh")


def test_cnn_classifier_shapes_layer_by_layer():
    model = cnn_classifier()
    x, _ = synthetic_batch(3, flatten=False)
    shapes = []
    for layer in model:
        x = layer(x)
        shapes.append(x.shape)
    assert shapes[0] == (3, 10, 12, 12)    # (28 - 5) // 2 + 1 = 12
    assert shapes[3] == (3, 10, 5, 5)      # (12 - 3) // 2 + 1 = 5
    assert shapes[6] == (3, 250)
    assert shapes[-1] == (3, 10)


def test_cnn_classifier_runs_on_a_single_image_in_training_mode():
    """The book trains the CNN one image at a time: BatchNorm then normalises over 12x12 positions."""
    x, _ = synthetic_batch(1, flatten=False)
    assert cnn_classifier()(x).shape == (1, 10)


def test_recipes_follow_the_book():
    baseline, bce, leaky, adam, layer_norm = PROGRESSION
    assert (baseline.loss, baseline.optimiser, baseline.lr, baseline.epochs) == ("mse", "sgd", 0.01, 4)
    assert (bce.loss, bce.optimiser) == ("bce", "sgd")
    assert (leaky.loss, leaky.optimiser) == ("bce", "sgd")
    assert (adam.optimiser, adam.lr) == ("adam", 0.001)
    assert (layer_norm.epochs, layer_norm.book_accuracy) == (3, 0.9724)
    assert (CNN.epochs, CNN.book_accuracy, CNN.flatten) == (3, 0.9814, False)
    assert PROGRESSION_EXPERIMENT.shuffle and CNN_EXPERIMENT.shuffle  # the one stated deviation


# --- training and evaluation -------------------------------------------------------------------

@pytest.mark.parametrize("recipe", ALL_RECIPES, ids=lambda r: r.name)
def test_one_training_step_reduces_the_loss_on_a_tiny_batch(recipe):
    mg.manual_seed(0)
    model, loss_function, optimiser = recipe.build()
    images, targets = synthetic_batch(16, recipe.flatten)
    before = train_step(model, loss_function, optimiser, images, targets).item()
    with mg.no_grad():
        after = loss_function(model(images), targets).item()
    assert after < before


def test_train_classifier_counts_steps_and_records_every_tenth_loss():
    images, targets = synthetic_batch(40)
    dataset = mg.data.TensorDataset(images, targets)
    mg.manual_seed(0)
    model, loss_function, optimiser = PROGRESSION[-1].build()
    history = train_classifier(model, loss_function, optimiser, dataset, epochs=1.5, batch_size=1)
    assert history["step"] == [10, 20, 30, 40, 50, 60]   # 1.5 epochs of 40 images, one per step
    history = train_classifier(model, loss_function, optimiser, dataset, epochs=2, batch_size=8,
                               record_every=1)
    assert history["step"] == list(range(1, 11))          # 40 / 8 = 5 steps an epoch
    assert all(np.isfinite(history["loss"]))


class Echo(nn.Module):
    """A 'classifier' whose scores are its input: accuracy tests feed it one-hot rows."""

    def forward(self, x):
        return x


def test_accuracy_is_the_fraction_of_argmax_hits():
    labels = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=np.int64)
    scores = np.eye(10, dtype=np.float32)[labels]
    scores[:2] = np.eye(10, dtype=np.float32)[[0, 0]]      # two wrong answers
    dataset = mg.data.TensorDataset(mg.tensor(scores), mg.tensor(labels))
    assert accuracy(Echo(), dataset, batch_size=3) == 6 / 8
    assert accuracy(Echo(), dataset, book_style=True) == 6 / 8


def test_book_style_accuracy_leaves_batch_norm_statistics_and_mode_as_they_were():
    mg.manual_seed(0)
    model = cnn_classifier()
    images, targets = synthetic_batch(20, flatten=False)
    labels = mg.tensor(targets.numpy().argmax(axis=1))
    model(images)  # one training-mode pass, so that the running statistics are not the initial ones
    before = {name: buffer.numpy().copy() for name, buffer in model.named_buffers()}
    model.eval()
    accuracy(model, mg.data.TensorDataset(images, labels), book_style=True)
    for name, buffer in model.named_buffers():
        np.testing.assert_array_equal(buffer.numpy(), before[name])
    assert not model.training


def test_first_n_keeps_the_first_samples_only():
    images, targets = synthetic_batch(10)
    subset = mg.data.Subset(mg.data.TensorDataset(images, targets), range(4))
    assert len(subset) == 4
    batch = next(iter(mg.data.DataLoader(subset, batch_size=10)))
    np.testing.assert_array_equal(batch[0].numpy(), images.numpy()[:4])
    with pytest.raises(IndexError):
        subset[4]


# --- the registered experiments ----------------------------------------------------------------

def test_experiments_are_registered_as_classifiers():
    for name in ("classifier-progression", "cnn-classifier"):
        experiment = EXPERIMENTS[name]
        assert experiment.kind == "classifier" and experiment.title and callable(experiment.run)
    assert EXPERIMENTS["classifier-progression"] is PROGRESSION_EXPERIMENT
    assert EXPERIMENTS["cnn-classifier"] is CNN_EXPERIMENT


def tiny_options(tmp_path, data_dir, **changes):
    options = dict(out=tmp_path / "run", data_dir=data_dir, progress=False, epochs=1, seed=0,
                   extra={"train_limit": 300, "test_limit": 200})
    options.update(changes)
    return RunOptions(**options)


def test_tiny_progression_end_to_end_writes_one_row_per_variant(tmp_path, shared_data, capsys):
    summary = PROGRESSION_EXPERIMENT.run(tiny_options(tmp_path, shared_data))
    out = tmp_path / "run"
    saved = json.loads((out / "results.json").read_text())
    assert [row["variant"] for row in saved["rows"]] == [recipe.name for recipe in PROGRESSION]
    assert saved == json.loads(json.dumps(summary))
    for row in saved["rows"]:
        assert 0 <= row["accuracy"] <= 1
        assert (row["batch_size"], row["epochs"], row["train_images"], row["test_images"]) == (1, 1, 300, 200)
        assert row["train_seconds"] > 0
    assert saved["rows"][0]["book_accuracy"] == 0.88 and saved["rows"][-1]["book_accuracy"] == 0.9724
    assert saved["final_accuracy"] == saved["rows"][-1]["accuracy"]
    table = (out / "results.md").read_text()
    assert table.count("\n| ") == 1 + len(PROGRESSION)     # header and one line per variant
    assert "reduced run" in table
    assert (out / "losses.png").stat().st_size > 0
    assert "+ LayerNorm(200)" in capsys.readouterr().out   # the table is printed too


def test_tiny_progression_with_mini_batches_and_chosen_variants(tmp_path, shared_data):
    options = tiny_options(tmp_path, shared_data, batch_size=32, epochs=None,
                           extra={"train_limit": 256, "test_limit": 100, "variants": ["baseline", "layer_norm"]})
    rows = PROGRESSION_EXPERIMENT.run(options)["rows"]
    assert [(r["variant"], r["batch_size"], r["epochs"]) for r in rows] == [("baseline", 32, 4),
                                                                            ("layer_norm", 32, 3)]


def test_tiny_cnn_end_to_end(tmp_path, shared_data):
    summary = CNN_EXPERIMENT.run(tiny_options(tmp_path, shared_data))
    (row,) = summary["rows"]
    assert row["variant"] == "cnn" and 0 <= row["accuracy"] <= 1 and 0 <= row["accuracy_eval_mode"] <= 1
    assert "one image at a time" in row["measured"]  # trained at batch size 1: measured as the book


def test_a_cnn_trained_on_mini_batches_is_measured_in_eval_mode(tmp_path, shared_data):
    (row,) = CNN_EXPERIMENT.run(tiny_options(tmp_path, shared_data, batch_size=50))["rows"]
    assert row["measured"].startswith("eval mode") and row["accuracy"] == row["accuracy_eval_mode"]
    assert json.loads((tmp_path / "run" / "results.json").read_text())["target"] == 0.9814


def test_settings_from_the_command_line_arrive_as_text(tmp_path, shared_data):
    """`python -m gans train ... --set variants=a,b --set shuffle=false` passes strings."""
    options = tiny_options(tmp_path, shared_data, extra={"train_limit": 100, "test_limit": 50,
                                                         "variants": "bce, adam", "shuffle": "false"})
    rows = PROGRESSION_EXPERIMENT.run(options)["rows"]
    assert [(r["variant"], r["order"]) for r in rows] == [("bce", "file order"), ("adam", "file order")]
    with pytest.raises(ExperimentError, match="shuffle must be true or false"):
        PROGRESSION_EXPERIMENT.run(tiny_options(tmp_path, shared_data, extra={"shuffle": "sometimes"}))


def test_unknown_variant_is_a_user_error(tmp_path, shared_data):
    with pytest.raises(ExperimentError, match="unknown variant"):
        PROGRESSION_EXPERIMENT.run(tiny_options(tmp_path, shared_data, extra={"variants": ["dropout"]}))


def test_missing_mnist_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("gans.data.mnist.MIRRORS", [])      # nowhere to download from
    with pytest.raises(ExperimentError, match="MNIST was not found"):
        classifiers.load_mnist(tmp_path / "empty", progress=False)


# --- full runs: the book's numbers ---------------------------------------------------------------

@pytest.mark.slow
def test_full_progression_reaches_the_books_accuracy(tmp_path, shared_data):
    """All 60,000 training images, batch size 1, the book's epochs (about 5 minutes on 2 cores)."""
    summary = PROGRESSION_EXPERIMENT.run(RunOptions(out=tmp_path / "run", data_dir=shared_data, progress=False))
    accuracies = {row["variant"]: row["accuracy"] for row in summary["rows"]}
    assert all(row["test_images"] == 10000 for row in summary["rows"])
    assert accuracies["layer_norm"] >= 0.9724
    assert accuracies["baseline"] >= 0.85          # the book: 0.88
    assert accuracies["adam"] > accuracies["bce"]  # the refinements help


@pytest.mark.slow
def test_full_cnn_reaches_the_books_accuracy(tmp_path, shared_data):
    """All 60,000 training images, batch size 1, 3 epochs (about 1.5 minutes on 2 cores)."""
    summary = CNN_EXPERIMENT.run(RunOptions(out=tmp_path / "run", data_dir=shared_data, progress=False))
    assert summary["rows"][0]["test_images"] == 10000
    assert summary["final_accuracy"] >= 0.9814
