"""How good is a generator of MNIST digits? A fixed, documented protocol (docs/metrics.md).

    from gans import metrics
    report = metrics.evaluate_generator(lambda count: G(mg.randn(count, 100)), pixel_range=(0, 1))
    report["classes_present"], report["class_kl"], report["frechet_distance"]

Everything is measured through one small CNN classifier, trained by minigrad itself
(tools/train_metrics_classifier.py) and shipped as gans/weights/mnist_classifier.npz,
whose sha256 is checked every time it is loaded:

  - mode coverage:  how many of the ten digits the samples contain, and how far their
                    class histogram is from uniform (KL divergence, in nats);
  - Fréchet distance between the classifier's penultimate features of the samples and
                    of the MNIST test set (the FID recipe, with our classifier in place of
                    Inception), next to the floor of the test set against the training set;
  - conditional accuracy: for conditional GANs, how often the classifier agrees with the
                    class that was asked for;
  - CollapseAlarm:  a cheap check on 1,000 samples that a training loop runs now and then
                    to warn, in words, when digits go missing.

The classifier's input is (N, 1, 28, 28) float32 in [0, 1] (MNIST pixels / 255);
to_classifier_input() brings generator outputs, flat or not, in [0, 1] or [-1, 1], there.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import backend

from .data.download import file_digest
from .errors import UserError

# --- the protocol's constants (changing any of them changes every number it reports) ------

WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "mnist_classifier.npz"
# sha256 of the shipped weights file. tools/train_metrics_classifier.py prints the value
# for a file it writes; a new file means new numbers, so it must be changed here by hand.
WEIGHTS_SHA256 = "02d9aab8283c0dfa8d428fe66829bc0e2cd494bd1418bbc46e2dd3d134c96174"
REGENERATE = "python tools/train_metrics_classifier.py"

NUM_CLASSES = 10
DEFAULT_SAMPLES = 10_000        # samples drawn by evaluate_generator / evaluate_conditional
PRESENT_SHARE = 0.02            # a digit is "present" when at least 2% of samples are classified as it
REFERENCE_TRAIN_SAMPLES = 10_000  # training images compared with the test set for the FD floor
REFERENCE_SEED = 0              # which training images: rng(REFERENCE_SEED).choice(60000, 10000)

ALARM_SAMPLES = 1_000           # CollapseAlarm's default sample count
ALARM_KL_LIMIT = 0.1            # nats; a uniform spread over 9 digits is ln(10/9) = 0.105
ALARM_KL_RISE = 0.05            # nats above the best (lowest) KL seen so far in the run


# --- the classifier ---------------------------------------------------------------------

class MnistClassifier(nn.Module):
    """A LeNet-style CNN: (N, 1, 28, 28) in [0, 1] -> logits (N, 10).

        (x - 0.1307) / 0.3081                   standardised pixels (a fixed step, no weights)
        conv 1->16, 5x5 -> ReLU -> max-pool 2   (N, 16, 12, 12)
        conv 16->32, 5x5 -> ReLU -> max-pool 2  (N, 32, 4, 4) = 512 values
        linear 512->64 -> ReLU                  (N, 64)  the features: penultimate layer
        linear 64->10                           (N, 10)  the logits
    """

    architecture = ("(x - 0.1307) / 0.3081 | conv(1->16, k5) ReLU maxpool2 | conv(16->32, k5) ReLU maxpool2 | "
                    "flatten 512 | linear(512->64) ReLU [features] | linear(64->10) [logits]")
    feature_size = 64
    # The mean and standard deviation of MNIST's training pixels (in [0, 1]). The default
    # initialisation expects inputs of about zero mean and unit variance; raw pixels (mostly
    # 0, mean 0.13) train noticeably slower: 98.8% instead of 99.1% after the same 4 epochs.
    pixel_mean, pixel_std = 0.1307, 0.3081

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5)
        self.conv2 = nn.Conv2d(16, 32, 5)
        self.fc1 = nn.Linear(512, 64)
        self.fc2 = nn.Linear(64, 10)

    def features(self, x):
        """(N, 1, 28, 28) -> (N, 64): the penultimate activations, after their ReLU."""
        x = (x - self.pixel_mean) / self.pixel_std
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.relu(self.fc1(x.flatten(1)))

    def forward(self, x):
        """(N, 1, 28, 28) -> (N, 10) logits."""
        return self.fc2(self.features(x))


class WeightsChecksumError(UserError, ValueError):
    """The weights file is not the one the protocol was measured with."""


def sha256_of(path):
    """The sha256 of a file's bytes, as 64 hex digits."""
    return file_digest(path, "sha256")


def load_classifier(device="cpu", path=None):
    """The metrics classifier, in eval mode, on `device`.

    path  the weights file (default: the shipped WEIGHTS_PATH). Whatever the path, its
          sha256 must equal WEIGHTS_SHA256: every reported number depends on these weights.

    Raises WeightsChecksumError, saying how to restore or regenerate the file.
    """
    path = Path(path) if path is not None else WEIGHTS_PATH
    if not path.is_file():
        raise FileNotFoundError(f"the metrics classifier's weights are missing: {path}. "
                                f"Restore them (git checkout -- {_relative(WEIGHTS_PATH)}) or "
                                f"regenerate them with `{REGENERATE}`.")
    actual = sha256_of(path)
    if actual != WEIGHTS_SHA256:
        raise WeightsChecksumError(
            f"{path} has sha256 {actual}, but the metrics protocol expects {WEIGHTS_SHA256}: "
            f"the weights file was modified or corrupted. Restore the shipped file "
            f"(git checkout -- {_relative(WEIGHTS_PATH)}), or regenerate it with `{REGENERATE}` "
            f"and put the sha256 it prints into WEIGHTS_SHA256 in gans/metrics.py (new weights "
            f"give new numbers: results measured with the old ones are no longer comparable).")
    checkpoint = mg.load(path)
    # Building the network draws initial weights from minigrad's generator, and the file's replace
    # them. Give the draws back: loading the classifier (the collapse alarm does, once per process)
    # must not move a seeded run's random stream, or a run would depend on what ran before it.
    state = backend.get_rng_state()
    classifier = MnistClassifier()
    backend.set_rng_state(state)
    classifier.load_state_dict(checkpoint["state_dict"])
    classifier.test_accuracy = checkpoint["test_accuracy"]
    return classifier.to(device).eval()


def _relative(path):
    """`path` relative to the repository, for messages (absolute if it lies elsewhere)."""
    root = Path(__file__).resolve().parent.parent
    try:
        return path.relative_to(root)
    except ValueError:
        return path


_shared_classifiers = {}  # device -> the shipped classifier, loaded once per process


def shared_classifier(device="cpu"):
    """The shipped classifier on `device`, loaded (and checked) once per process."""
    device = backend.normalize_device(device)
    if device not in _shared_classifiers:
        _shared_classifiers[device] = load_classifier(device)
    return _shared_classifiers[device]


# --- bringing images into the classifier's convention -----------------------------------

def to_classifier_input(x, pixel_range=(0, 1)):
    """Generator outputs -> the classifier's input: a Tensor (N, 1, 28, 28), float32 in [0, 1].

    x            a Tensor or array of shape (N, 784), (N, 28, 28) or (N, 1, 28, 28)
    pixel_range  (black, white): the values x uses for background and full ink,
                 (0, 1) for sigmoid generators, (-1, 1) for tanh ones, (0, 255) for raw bytes

    Pixels are mapped linearly, p -> (p - black) / (white - black), and clipped to [0, 1]
    (an unbounded output layer may overshoot). The result is detached from any graph
    and stays on x's device.
    """
    data = x.array if isinstance(x, mg.Tensor) else np.asarray(x)
    if not (data.ndim == 2 and data.shape[1] == 784 or data.ndim == 3 and data.shape[1:] == (28, 28)
            or data.ndim == 4 and data.shape[1:] == (1, 28, 28)):
        raise ValueError(f"to_classifier_input: expected MNIST images of shape (N, 784), (N, 28, 28) "
                         f"or (N, 1, 28, 28), got {tuple(data.shape)}")
    black, white = pixel_range
    if not white > black:
        raise ValueError(f"to_classifier_input: pixel_range must be (black, white) with white > black, "
                         f"got {pixel_range}")
    xp = backend.array_module(data)
    images = (data.astype(np.float32) - np.float32(black)) / np.float32(white - black)
    images = xp.clip(images, 0, 1).astype(np.float32, copy=False)
    return mg.Tensor(images.reshape(-1, 1, 28, 28))


def classify(images, classifier=None, batch_size=1000, pixel_range=(0, 1), bar=None):
    """The classifier's verdict on every image, batch by batch, without building a graph.

    images      (N, 784), (N, 28, 28) or (N, 1, 28, 28), Tensor or array, in `pixel_range`
    classifier  default: the shipped one (shared_classifier())
    bar         a tqdm bar to advance by each batch's size, or None

    Returns (labels, features): labels int64 (N,), the predicted digits; features float64
    (N, 64), the penultimate activations (float64 so that Fréchet statistics lose nothing).
    """
    classifier = classifier if classifier is not None else shared_classifier()
    device = next(iter(classifier.parameters())).device
    inputs = to_classifier_input(images, pixel_range)
    labels, features = [], []
    with mg.no_grad():
        for start in range(0, len(inputs), batch_size):
            batch = inputs[start:start + batch_size].to(device)
            batch_features = classifier.features(batch)
            logits = classifier.fc2(batch_features)
            labels.append(backend.to_numpy(logits.argmax(dim=1).array).astype(np.int64))
            features.append(backend.to_numpy(batch_features.array).astype(np.float64))
            if bar is not None:
                bar.update(len(batch))
    if not labels:
        return np.zeros(0, dtype=np.int64), np.zeros((0, MnistClassifier.feature_size))
    return np.concatenate(labels), np.concatenate(features)


# --- mode coverage ----------------------------------------------------------------------

def class_histogram(labels):
    """int64 (10,): how many of `labels` (integers 0-9) fall on each digit."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=NUM_CLASSES)[:NUM_CLASSES]


def kl_to_uniform(histogram):
    """KL(p || uniform) = sum_k p_k ln(p_k / (1/10)) = ln 10 - H(p), in nats, p = histogram / total.

    0 for a perfectly even spread, ln 10 = 2.303 when every sample is one digit.
    Empty classes contribute 0 (the limit of p ln p as p -> 0).
    """
    counts = np.asarray(histogram, dtype=np.float64)
    shares = counts / counts.sum()
    occupied = shares[shares > 0]
    return float(np.sum(occupied * np.log(occupied * len(counts))))


class Coverage(NamedTuple):
    """How the samples spread over the ten digits."""
    classes_present: int       # digits with at least PRESENT_SHARE of the samples
    kl: float                  # KL(class histogram || uniform), nats
    histogram: np.ndarray      # int64 (10,) counts per predicted digit
    missing: tuple             # the digits that are not present, in order


def coverage(labels, present_share=PRESENT_SHARE):
    """Mode coverage of predicted labels (N,): which digits are present, and the KL to uniform.

    A digit is present when at least `present_share` of the samples (default 2%, a fifth of
    its fair share) are classified as it: a collapsed generator must not be credited with a
    digit because the classifier mistook a few of its samples for it. (On real test digits
    the classifier's worst confusion is 1.0%, fives read as threes; 2% is twice that.)
    """
    histogram = class_histogram(labels)
    if histogram.sum() == 0:
        raise ValueError("coverage: no samples")
    present = histogram >= present_share * histogram.sum()
    missing = tuple(int(digit) for digit in np.flatnonzero(~present))
    return Coverage(int(present.sum()), kl_to_uniform(histogram), histogram, missing)


# --- the Fréchet distance ---------------------------------------------------------------

class FeatureStatistics(NamedTuple):
    """The Gaussian a feature set is summarised by: mean (F,) and covariance (F, F), float64."""
    mean: np.ndarray
    cov: np.ndarray


def feature_statistics(features):
    """Mean (F,) and unbiased covariance (F, F) of features (N, F), in float64."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"feature_statistics: expected features (N, F) with N >= 2, got {features.shape}")
    return FeatureStatistics(features.mean(axis=0), np.cov(features, rowvar=False))


def _psd_sqrt(matrix):
    """The symmetric square root of a symmetric positive semi-definite matrix, via eigh.
    Eigenvalues a hair below zero (round-off on singular covariances) are clipped to 0."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T


def frechet_distance_from_statistics(mean_a, cov_a, mean_b, cov_b):
    """The Fréchet (2-Wasserstein) distance between N(mean_a, cov_a) and N(mean_b, cov_b):

        FD = |mean_a - mean_b|^2 + Tr(cov_a + cov_b - 2 (cov_a cov_b)^(1/2)).

    cov_a cov_b is not symmetric, but it is similar to the symmetric PSD matrix
    M = A cov_b A with A = cov_a^(1/2) (M = A^-1 (cov_a cov_b) A when A is invertible), so
    Tr (cov_a cov_b)^(1/2) = sum of sqrt(eigenvalues of M): two eigh calls, no complex
    numbers, and no scipy.linalg.sqrtm. It is never below zero; round-off is clipped.
    """
    mean_a, mean_b = np.asarray(mean_a, np.float64), np.asarray(mean_b, np.float64)
    cov_a, cov_b = np.atleast_2d(np.asarray(cov_a, np.float64)), np.atleast_2d(np.asarray(cov_b, np.float64))
    if mean_a.shape != mean_b.shape or cov_a.shape != cov_b.shape or cov_a.shape != (mean_a.size, mean_a.size):
        raise ValueError(f"frechet_distance: means {mean_a.shape}, {mean_b.shape} and covariances "
                         f"{cov_a.shape}, {cov_b.shape} do not describe Gaussians of one dimension")
    root_a = _psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    middle = (middle + middle.T) / 2  # symmetric in exact arithmetic; make it so for eigvalsh
    trace_sqrt = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(middle), 0, None)))
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt
    return float(max(distance, 0.0))


def frechet_distance(features_a, features_b):
    """The Fréchet distance between two feature sets (N, F) and (M, F), each summarised
    by its mean and covariance (see frechet_distance_from_statistics)."""
    return frechet_distance_from_statistics(*feature_statistics(features_a), *feature_statistics(features_b))


# --- the reference: the MNIST test set, and its distance to the training set ------------

class Reference(NamedTuple):
    """What generated samples are compared with."""
    test: FeatureStatistics   # features of the 10,000 MNIST test images
    floor: float              # FD(test set, 10,000 random training images): real against real


_references = {}  # (weights sha256, data folder) -> Reference, computed once per process


def reference(data_dir=None, classifier=None, progress=False):
    """The test-set feature statistics and the FD floor, computed once per process.

    data_dir    where to find MNIST (see gans.data.mnist.find_mnist)
    classifier  default: the shipped one; another classifier's reference is not cached
    progress    a tqdm bar on stderr while the 20,000 reference images are classified
    """
    from .data.mnist import find_mnist, read_mnist_idx  # here: the metrics' maths need no data

    folder = find_mnist(data_dir)
    key = (WEIGHTS_SHA256, str(folder))
    if classifier is None and key in _references:
        return _references[key]
    test_images, _ = read_mnist_idx(folder, train=False)
    train_images, _ = read_mnist_idx(folder, train=True)
    chosen = np.random.default_rng(REFERENCE_SEED).choice(len(train_images), REFERENCE_TRAIN_SAMPLES,
                                                           replace=False)
    with _bar(len(test_images) + len(chosen), progress, "MNIST reference") as bar:
        _, test_features = classify(test_images, classifier, pixel_range=(0, 255), bar=bar)
        _, train_features = classify(train_images[np.sort(chosen)], classifier, pixel_range=(0, 255), bar=bar)
    test = feature_statistics(test_features)
    floor = frechet_distance_from_statistics(*test, *feature_statistics(train_features))
    result = Reference(test, floor)
    if classifier is None:
        _references[key] = result
    return result


# --- rank correlation --------------------------------------------------------------------

def rank_correlation(a, b):
    """Spearman's rank correlation: the Pearson correlation of the ranks of a and b (tied values
    share their mean rank). +1: b rises whenever a does; -1: b falls whenever a rises.
    nan when either sequence is constant."""
    ranks_a, ranks_b = _ranks(a), _ranks(b)
    if len(ranks_a) != len(ranks_b) or len(ranks_a) < 2:
        raise ValueError(f"rank_correlation: needs two sequences of one length >= 2, got {len(ranks_a)} "
                         f"and {len(ranks_b)}")
    if ranks_a.std() == 0 or ranks_b.std() == 0:
        return float("nan")
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


def _ranks(values):
    """Ranks 1..n of values, ties given the mean of the ranks they span."""
    values = np.asarray(values, dtype=np.float64)
    ranks = np.empty(len(values))
    ranks[np.argsort(values, kind="stable")] = np.arange(1, len(values) + 1)
    _, tie_group = np.unique(values, return_inverse=True)
    return (np.bincount(tie_group, weights=ranks) / np.bincount(tie_group))[tie_group]


# --- conditional accuracy ---------------------------------------------------------------

def conditional_accuracy(images, requested_labels, classifier=None, batch_size=1000, pixel_range=(0, 1)):
    """The fraction of images that the classifier labels as the class they were asked for.

    images            (N, ...) as for classify
    requested_labels  (N,) integers 0-9 (Tensor, array or list)
    """
    requested = _labels_array(requested_labels)
    predicted, _ = classify(images, classifier, batch_size, pixel_range)
    if len(predicted) != len(requested):
        raise ValueError(f"conditional_accuracy: {len(predicted)} images but {len(requested)} labels")
    return float(np.mean(predicted == requested))


def _labels_array(labels):
    data = labels.array if isinstance(labels, mg.Tensor) else labels
    return np.asarray(backend.to_numpy(data) if backend.is_array(data) else data, dtype=np.int64).reshape(-1)


# --- evaluating a generator -------------------------------------------------------------

def _bar(total, progress, description):
    """A tqdm progress bar on stderr (a no-op one when progress is False)."""
    from tqdm import tqdm
    return tqdm(total=total, disable=not progress, unit="image", desc=description, dynamic_ncols=True)


def _summary(labels, features, data_dir, classifier, progress=False):
    """The coverage and Fréchet part of a report, as plain Python values (JSON-ready)."""
    spread = coverage(labels)
    ref = reference(data_dir, classifier, progress)
    return {
        "samples": int(len(labels)),
        "classes_present": spread.classes_present,
        "missing_classes": list(spread.missing),
        "class_kl": spread.kl,
        "histogram": [int(count) for count in spread.histogram],
        "present_share": PRESENT_SHARE,
        "frechet_distance": frechet_distance_from_statistics(*feature_statistics(features), *ref.test),
        "frechet_floor_test_vs_train": ref.floor,
        "classifier_sha256": WEIGHTS_SHA256,
    }


def evaluate_generator(sample_fn, n=DEFAULT_SAMPLES, pixel_range=(0, 1), batch_size=1000,
                       data_dir=None, classifier=None, progress=False):
    """Coverage and Fréchet distance of `n` samples of a generator.

    sample_fn    sample_fn(count) -> Tensor (count, 784) or (count, 1, 28, 28) of generator
                 outputs; called with at most `batch_size` at a time, under mg.no_grad()
                 (put the generator in the mode you want to measure, e.g. .eval(), first)
    pixel_range  the (black, white) values of the outputs: (0, 1) sigmoid, (-1, 1) tanh
    data_dir     where MNIST is, for the test-set reference (see find_mnist)
    progress     tqdm bars on stderr: the samples, then (once per process) the reference

    Returns a dict: samples, classes_present, missing_classes, class_kl, histogram (counts
    per digit), present_share, frechet_distance, frechet_floor_test_vs_train, classifier_sha256.
    """
    labels, features = [], []
    with mg.no_grad(), _bar(n, progress, "samples") as bar:
        for start in range(0, n, batch_size):
            count = min(batch_size, n - start)
            batch_labels, batch_features = classify(_checked(sample_fn(count), count), classifier,
                                                    batch_size, pixel_range, bar)
            labels.append(batch_labels)
            features.append(batch_features)
    return _summary(np.concatenate(labels), np.concatenate(features), data_dir, classifier, progress)


def evaluate_conditional(sample_fn, n=DEFAULT_SAMPLES, pixel_range=(0, 1), batch_size=1000,
                         data_dir=None, classifier=None, progress=False):
    """Conditional accuracy, coverage and Fréchet distance of a class-conditional generator.

    sample_fn  sample_fn(labels) -> Tensor of images, one per requested digit: labels is an
               int64 Tensor (count,) on the CPU. The n requests are balanced, digit i % 10
               for request i, and come at most `batch_size` at a time.

    Returns evaluate_generator's dict plus conditional_accuracy (overall) and
    conditional_accuracy_per_class (10 values: the accuracy on the requests for each digit).
    """
    requested = np.arange(n, dtype=np.int64) % NUM_CLASSES
    labels, features = [], []
    with mg.no_grad(), _bar(n, progress, "samples") as bar:
        for start in range(0, n, batch_size):
            wanted = requested[start:start + batch_size]
            images = _checked(sample_fn(mg.tensor(wanted, device="cpu")), len(wanted))
            batch_labels, batch_features = classify(images, classifier, batch_size, pixel_range, bar)
            labels.append(batch_labels)
            features.append(batch_features)
    labels = np.concatenate(labels)
    report = _summary(labels, np.concatenate(features), data_dir, classifier, progress)
    correct = labels == requested
    report["conditional_accuracy"] = float(correct.mean())
    report["conditional_accuracy_per_class"] = [float(correct[requested == digit].mean())
                                                for digit in range(NUM_CLASSES)]
    return report


def _checked(images, count):
    if len(images) != count:
        raise ValueError(f"the sampling function was asked for {count} samples and returned {len(images)}")
    return images


# --- the mode-collapse alarm ------------------------------------------------------------

@dataclass
class AlarmResult:
    """One check of the alarm. `warnings` is empty when all is well."""
    classes_present: int
    kl: float
    histogram: np.ndarray                  # int64 (10,) counts per predicted digit
    warnings: list = field(default_factory=list)
    missing: tuple = ()                    # the digits below PRESENT_SHARE

    def __bool__(self):
        """True when the alarm fired."""
        return bool(self.warnings)


class CollapseAlarm:
    """Warns, in words, when a generator's samples stop covering the ten digits.

        alarm = CollapseAlarm(samples=1000, pixel_range=(-1, 1))
        fixed_noise = mg.randn(alarm.samples, 100)        # the same noise at every check
        ...
        result = alarm.check(G(fixed_noise))
        for message in result.warnings: print(message)

    The rule, for every check of `samples` images (always the same number, so that checks
    compare alike: the KL of a finite sample is biased upwards by about 9 / (2 * samples)):
      1. missing digits: fewer than 10 digits present (each needs `present_share` of the
         samples), naming the missing ones;
      2. KL too high: KL(histogram || uniform) > kl_limit (default 0.1 nats, about the KL
         of a perfectly even spread over nine digits, ln(10/9) = 0.105);
      3. KL rising: KL > best + kl_rise, where best is the lowest KL of the earlier checks
         of this alarm (default rise 0.05 nats: the KL of batches of 1,000 real test digits
         varies between 0.001 and 0.012, so a rise of 0.05 is a trend, not chance).
    A check costs one classifier pass over the samples: about 0.3 s for 1,000 on 2 CPU cores.
    """

    def __init__(self, samples=ALARM_SAMPLES, pixel_range=(0, 1), classifier=None,
                 present_share=PRESENT_SHARE, kl_limit=ALARM_KL_LIMIT, kl_rise=ALARM_KL_RISE):
        self.samples, self.pixel_range = samples, pixel_range
        self.classifier = classifier if classifier is not None else shared_classifier()
        self.present_share, self.kl_limit, self.kl_rise = present_share, kl_limit, kl_rise
        self.best_kl = math.inf

    def check(self, images):
        """Classify `samples` images and compare their spread with the rule above.

        images  (samples, 784) or (samples, 1, 28, 28), in the alarm's pixel_range
        Returns an AlarmResult; its warnings are empty when all is well.
        """
        if len(images) != self.samples:
            raise ValueError(f"CollapseAlarm: built for {self.samples} samples per check, got {len(images)} "
                             f"(a fixed count keeps the checks comparable)")
        labels, _ = classify(images, self.classifier, batch_size=self.samples, pixel_range=self.pixel_range)
        spread = coverage(labels, self.present_share)
        warnings = []
        if spread.missing:
            names = ", ".join(str(digit) for digit in spread.missing)
            warnings.append(f"mode collapse: {len(spread.missing)} digit(s) missing ({names}): each is "
                            f"under {self.present_share:.1%} of {self.samples} samples; "
                            f"{spread.classes_present} of 10 present")
        if spread.kl > self.kl_limit:
            warnings.append(f"class imbalance: KL to uniform is {spread.kl:.3f} nats, above the limit "
                            f"{self.kl_limit} (histogram {spread.histogram.tolist()})")
        if spread.kl > self.best_kl + self.kl_rise:
            warnings.append(f"class imbalance rising: KL to uniform is {spread.kl:.3f} nats, up from "
                            f"its best {self.best_kl:.3f} by more than {self.kl_rise}")
        self.best_kl = min(self.best_kl, spread.kl)
        return AlarmResult(spread.classes_present, spread.kl, spread.histogram, warnings, spread.missing)
