"""gans.metrics: the classifier and its weights, mode coverage, the Fréchet distance,
conditional accuracy, the evaluation reports and the collapse alarm.

Tests that need real MNIST take the `shared_data` fixture and skip, saying why, without it.
The classifier's verdict on the test set is computed once per module (about 2 s).
"""

import math
import shutil

import numpy as np
import pytest

import minigrad as mg
from gans import metrics
from gans.data.mnist import find_mnist, read_mnist_idx

# The KL to uniform of the test set's TRUE labels (980 zeros, 1135 ones, ..., 1009 nines):
# the test set is not exactly balanced, so a perfect classifier would measure this.
TEST_LABELS_KL = 0.0017367279262237713
# The FD floor (test set against 10,000 training images) measured with the shipped weights and
# written in docs/metrics.md. New weights give a new floor: update both.
DOCUMENTED_FLOOR = 1.966


@pytest.fixture(scope="module")
def mnist_test(shared_data):
    """The MNIST test set: images uint8 (10000, 28, 28), labels int64 (10000,)."""
    return read_mnist_idx(find_mnist(shared_data, download=False), train=False)


@pytest.fixture(scope="module")
def test_verdict(mnist_test):
    """The shipped classifier's (labels, features) for the whole test set."""
    images, _ = mnist_test
    return metrics.classify(images, pixel_range=(0, 255))


def random_images(rng, count, images, labels=None, digit=None):
    """`count` images drawn at random (with replacement), of one digit if asked, as uint8."""
    pool = np.flatnonzero(labels == digit) if digit is not None else np.arange(len(images))
    return images[rng.choice(pool, count)]


# --- the classifier and its weights ---------------------------------------------------------

def test_shipped_weights_are_small_documented_and_match_their_checksum():
    assert metrics.WEIGHTS_PATH.stat().st_size < 1_000_000
    assert metrics.sha256_of(metrics.WEIGHTS_PATH) == metrics.WEIGHTS_SHA256
    checkpoint = mg.load(metrics.WEIGHTS_PATH)
    assert checkpoint["test_accuracy"] >= 0.99
    assert checkpoint["test_correct"] == round(checkpoint["test_accuracy"] * 10000)
    assert checkpoint["seed"] == 0
    assert checkpoint["architecture"] == metrics.MnistClassifier.architecture
    assert set(checkpoint["state_dict"]) == set(metrics.MnistClassifier().state_dict())


def test_load_classifier_gives_an_eval_mode_network_with_logits_and_features():
    classifier = metrics.load_classifier()
    assert isinstance(classifier, metrics.MnistClassifier)
    assert not any(module.training for module in classifier.modules())
    x = mg.rand(3, 1, 28, 28)
    logits, features = classifier(x), classifier.features(x)
    assert logits.shape == (3, 10) and features.shape == (3, metrics.MnistClassifier.feature_size)
    assert features.numpy().min() >= 0  # taken after a ReLU
    np.testing.assert_allclose(classifier.fc2(features).numpy(), logits.numpy(), rtol=1e-6)


def test_loading_the_classifier_leaves_the_random_stream_alone():
    """A seeded run draws the same numbers whether or not the classifier was loaded before it
    (the collapse alarm loads it once per process, inside the first run)."""
    mg.manual_seed(7)
    expected = mg.randn(5).numpy()
    mg.manual_seed(7)
    metrics.load_classifier()
    np.testing.assert_array_equal(mg.randn(5).numpy(), expected)


def test_a_modified_weights_file_is_refused_with_advice(tmp_path):
    copy = tmp_path / "mnist_classifier.npz"
    shutil.copyfile(metrics.WEIGHTS_PATH, copy)
    metrics.load_classifier(path=copy)  # an exact copy is fine

    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, in the middle of the weights
    copy.write_bytes(bytes(data))
    with pytest.raises(metrics.WeightsChecksumError) as error:
        metrics.load_classifier(path=copy)
    message = str(error.value)
    assert metrics.WEIGHTS_SHA256 in message and "modified" in message
    assert "tools/train_metrics_classifier.py" in message and "git checkout" in message


def test_missing_weights_say_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_metrics_classifier"):
        metrics.load_classifier(path=tmp_path / "nothing.npz")


def test_classifier_reaches_the_documented_test_accuracy(mnist_test, test_verdict):
    _, labels = mnist_test
    predicted, features = test_verdict
    assert predicted.dtype == np.int64 and predicted.shape == (10000,)
    assert features.dtype == np.float64 and features.shape == (10000, 64)
    accuracy = np.mean(predicted == labels)
    assert accuracy >= 0.99
    # The very number written into the weights file (and docs/metrics.md) by the training script.
    assert accuracy == pytest.approx(mg.load(metrics.WEIGHTS_PATH)["test_accuracy"], abs=2e-4)


def test_classify_gives_the_same_answers_in_any_batch_size_and_input_form(mnist_test, test_verdict):
    images, _ = mnist_test
    flat_pm1 = mg.tensor(images[:300].reshape(300, 784) / 127.5 - 1)
    labels, features = metrics.classify(flat_pm1, batch_size=128, pixel_range=(-1, 1))
    np.testing.assert_array_equal(labels, test_verdict[0][:300])
    np.testing.assert_allclose(features, test_verdict[1][:300], rtol=1e-4, atol=1e-4)


# --- bringing generator outputs to the classifier ------------------------------------------

@pytest.mark.parametrize("shape", [(5, 784), (5, 28, 28), (5, 1, 28, 28)])
def test_to_classifier_input_shapes(shape):
    x = metrics.to_classifier_input(np.zeros(shape))
    assert isinstance(x, mg.Tensor) and x.shape == (5, 1, 28, 28) and x.dtype == np.float32


def test_to_classifier_input_maps_pixel_ranges_onto_0_1():
    values = np.array([-1.0, -0.5, 0.0, 1.0, 1.5])  # 1.5: an overshooting generator, clipped
    tanh_output = mg.tensor(np.resize(values, (2, 784)), requires_grad=True)
    x = metrics.to_classifier_input(tanh_output, pixel_range=(-1, 1))
    assert not x.requires_grad and x.grad_fn is None  # detached from the generator's graph
    np.testing.assert_allclose(x.numpy().reshape(2, 784)[0, :5], [0, 0.25, 0.5, 1, 1])

    sigmoid_output = np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(metrics.to_classifier_input(sigmoid_output).numpy(), sigmoid_output)
    raw = np.array([[0, 51, 255] * 261 + [0]], dtype=np.uint8)
    np.testing.assert_allclose(metrics.to_classifier_input(raw, (0, 255)).numpy().ravel()[:3], [0, 0.2, 1])


def test_to_classifier_input_rejects_what_is_not_mnist():
    with pytest.raises(ValueError, match="784"):
        metrics.to_classifier_input(np.zeros((5, 3, 28, 28)))
    with pytest.raises(ValueError, match="pixel_range"):
        metrics.to_classifier_input(np.zeros((5, 784)), pixel_range=(1, 0))


# --- mode coverage ------------------------------------------------------------------------

def test_kl_to_uniform_on_known_histograms():
    assert metrics.kl_to_uniform([7] * 10) == pytest.approx(0, abs=1e-15)
    assert metrics.kl_to_uniform([0, 0, 0, 42, 0, 0, 0, 0, 0, 0]) == pytest.approx(math.log(10))
    assert metrics.kl_to_uniform([5, 5, 0, 0, 0, 0, 0, 0, 0, 0]) == pytest.approx(math.log(5))
    shares = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3]) / 39
    assert metrics.kl_to_uniform(shares * 39) == pytest.approx(math.log(10) + np.sum(shares * np.log(shares)))


def test_a_digit_needs_its_minimum_share_to_be_present():
    # 1000 samples: digit 0 has 20 (2%, present), digit 1 has 19 (1.9%, missing), the rest share 961.
    labels = np.concatenate([np.zeros(20), np.ones(19), 2 + np.arange(961) % 8]).astype(np.int64)
    spread = metrics.coverage(labels)
    assert spread.classes_present == 9 and spread.missing == (1,)
    assert spread.histogram.tolist()[:3] == [20, 19, 121]
    assert metrics.coverage(labels, present_share=1 / 1000).classes_present == 10  # "at least one sample"


def test_the_test_set_covers_every_digit_almost_uniformly(test_verdict):
    spread = metrics.coverage(test_verdict[0])
    assert spread.classes_present == 10 and spread.missing == ()
    assert spread.kl < 0.01
    # What the classifier measures is what the true labels give, up to its few mistakes.
    assert spread.kl == pytest.approx(TEST_LABELS_KL, abs=3e-4)


def test_a_single_repeated_image_covers_one_digit(mnist_test):
    images, labels = mnist_test
    predicted, features = metrics.classify(np.repeat(images[:1], 500, axis=0), pixel_range=(0, 255))
    spread = metrics.coverage(predicted)
    assert spread.classes_present == 1 and spread.missing == tuple(d for d in range(10) if d != labels[0])
    assert spread.kl == pytest.approx(math.log(10), abs=1e-12)


# --- the Fréchet distance -----------------------------------------------------------------

def random_covariance(rng, size):
    factor = rng.normal(size=(size, size))
    return factor @ factor.T / size + 0.1 * np.eye(size)


def test_frechet_distance_of_identical_features_is_zero():
    features = np.random.default_rng(0).normal(size=(2000, 16)) * np.arange(1, 17)
    assert metrics.frechet_distance(features, features) == pytest.approx(0, abs=1e-8)
    # Dead features (always 0, as after a ReLU) make the covariance singular: still 0.
    features[:, :4] = 0
    assert metrics.frechet_distance(features, features.copy()) == pytest.approx(0, abs=1e-8)


def test_frechet_distance_matches_the_closed_form_for_commuting_covariances():
    # Same eigenvectors: (cov_a cov_b)^(1/2) = Q sqrt(D_a D_b) Q^T, so
    # FD = |mean_a - mean_b|^2 + sum (sqrt(d_a) - sqrt(d_b))^2.
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    d_a, d_b = rng.uniform(0.1, 4, 6), rng.uniform(0.1, 4, 6)
    mean_a, mean_b = rng.normal(size=6), rng.normal(size=6)
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((np.sqrt(d_a) - np.sqrt(d_b)) ** 2)
    distance = metrics.frechet_distance_from_statistics(mean_a, q * d_a @ q.T, mean_b, q * d_b @ q.T)
    assert distance == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_matches_the_eigenvalues_of_the_product_in_general():
    # Tr (cov_a cov_b)^(1/2) = sum of the square roots of the (real, positive) eigenvalues of
    # the non-symmetric product: another route to the same number.
    rng = np.random.default_rng(2)
    cov_a, cov_b = random_covariance(rng, 8), random_covariance(rng, 8)
    mean_a, mean_b = rng.normal(size=8), rng.normal(size=8)
    trace_sqrt = np.sum(np.sqrt(np.linalg.eigvals(cov_a @ cov_b).real))
    expected = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt
    assert metrics.frechet_distance_from_statistics(mean_a, cov_a, mean_b, cov_b) == pytest.approx(expected, rel=1e-9)
    # In one dimension it is (mu_a - mu_b)^2 + (sigma_a - sigma_b)^2.
    assert metrics.frechet_distance_from_statistics([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4 + 1)


def test_frechet_distance_of_samples_approaches_that_of_their_gaussians():
    rng = np.random.default_rng(3)
    cov_a, cov_b = random_covariance(rng, 4), random_covariance(rng, 4)
    mean_a, mean_b = np.zeros(4), np.array([1.0, -1.0, 0.5, 0.0])
    expected = metrics.frechet_distance_from_statistics(mean_a, cov_a, mean_b, cov_b)
    a = rng.multivariate_normal(mean_a, cov_a, 200_000)
    b = rng.multivariate_normal(mean_b, cov_b, 200_000)
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=0.02)


def test_frechet_distance_is_symmetric_and_grows_with_the_shift():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(500, 10)), rng.normal(size=(700, 10)) @ random_covariance(rng, 10)
    assert metrics.frechet_distance(a, b) == pytest.approx(metrics.frechet_distance(b, a), rel=1e-9)
    shift = np.full(10, 0.5)  # a pure shift of the mean adds |shift|^2 = 2.5
    assert metrics.frechet_distance(a, a + shift) == pytest.approx(2.5, rel=1e-9)


def test_frechet_floor_of_real_data_is_small_and_positive(shared_data, mnist_test, test_verdict):
    ref = metrics.reference(shared_data)
    assert ref is metrics.reference(shared_data)  # computed once per process
    assert ref.floor == pytest.approx(DOCUMENTED_FLOOR, abs=0.005)
    np.testing.assert_allclose(ref.test.mean, test_verdict[1].mean(axis=0), rtol=1e-9, atol=1e-12)
    # One digit's images are far from the whole test set: 50x the floor and more.
    images, labels = mnist_test
    _, ones = metrics.classify(images[labels == 1], pixel_range=(0, 255))
    assert metrics.frechet_distance_from_statistics(*metrics.feature_statistics(ones), *ref.test) > 50 * ref.floor


# --- conditional accuracy -----------------------------------------------------------------

def test_conditional_accuracy_of_real_images(mnist_test, test_verdict):
    images, labels = mnist_test[0][:3000], mnist_test[1][:3000]
    accuracy = np.mean(test_verdict[0][:3000] == labels)  # the classifier's accuracy on them
    assert metrics.conditional_accuracy(images, labels, pixel_range=(0, 255)) == pytest.approx(accuracy)
    shuffled = np.random.default_rng(0).permutation(labels)
    chance = metrics.conditional_accuracy(images, mg.tensor(shuffled), pixel_range=(0, 255))
    assert chance == pytest.approx(0.1, abs=0.015)


# --- evaluating generators ----------------------------------------------------------------

def test_evaluate_generator_on_a_generator_of_real_digits(shared_data, mnist_test):
    images, _ = mnist_test
    rng = np.random.default_rng(5)

    def sample_real(count):  # a perfect generator with a tanh output: real digits in [-1, 1]
        assert count <= 1000
        return mg.tensor(random_images(rng, count, images).reshape(count, 784) / 127.5 - 1)

    report = metrics.evaluate_generator(sample_real, n=3000, pixel_range=(-1, 1), data_dir=shared_data)
    assert report["samples"] == 3000 and sum(report["histogram"]) == 3000
    assert report["classes_present"] == 10 and report["missing_classes"] == []
    assert report["class_kl"] < 0.01
    floor = report["frechet_floor_test_vs_train"]
    assert floor == metrics.reference(shared_data).floor
    assert 0 < report["frechet_distance"] < 3 * floor  # 3,000 samples: a little above the floor
    assert report["classifier_sha256"] == metrics.WEIGHTS_SHA256


def test_evaluate_generator_on_a_collapsed_generator(shared_data, mnist_test):
    images, _ = mnist_test
    report = metrics.evaluate_generator(lambda count: mg.tensor(np.repeat(images[:1] / 255, count, axis=0)),
                                        n=1000, batch_size=400, data_dir=shared_data)
    assert report["classes_present"] == 1 and len(report["missing_classes"]) == 9
    assert report["class_kl"] == pytest.approx(math.log(10))
    assert report["frechet_distance"] > 50 * report["frechet_floor_test_vs_train"]


def test_evaluate_conditional_on_generators_that_obey_and_that_ignore_labels(shared_data, mnist_test):
    images, labels = mnist_test
    rng = np.random.default_rng(6)

    def obedient(requested):  # a real test image of each requested digit
        return mg.tensor(np.stack([random_images(rng, 1, images, labels, int(d))[0] for d in requested.numpy()]) / 255)

    report = metrics.evaluate_conditional(obedient, n=2000, data_dir=shared_data)
    assert report["conditional_accuracy"] >= 0.98
    assert len(report["conditional_accuracy_per_class"]) == 10
    assert min(report["conditional_accuracy_per_class"]) >= 0.95
    assert report["classes_present"] == 10 and report["histogram"] == pytest.approx([200] * 10, abs=8)

    def deaf(requested):
        return mg.tensor(random_images(rng, len(requested), images) / 255)

    report = metrics.evaluate_conditional(deaf, n=2000, data_dir=shared_data)
    assert report["conditional_accuracy"] == pytest.approx(0.1, abs=0.025)


def test_evaluate_rejects_a_sampler_that_returns_the_wrong_count():
    with pytest.raises(ValueError, match="asked for 10 samples and returned 3"):
        metrics.evaluate_generator(lambda count: mg.zeros(3, 784), n=10)


# --- the collapse alarm -------------------------------------------------------------------

def test_alarm_fires_on_a_collapsed_batch_naming_the_missing_digits(mnist_test):
    images, labels = mnist_test
    alarm = metrics.CollapseAlarm(samples=1000)
    sevens = random_images(np.random.default_rng(7), 1000, images, labels, digit=7) / 255
    result = alarm.check(sevens)
    assert result and result.classes_present == 1 and result.missing == (0, 1, 2, 3, 4, 5, 6, 8, 9)
    assert result.kl == pytest.approx(math.log(10), abs=0.1)
    assert any("0, 1, 2, 3, 4, 5, 6, 8, 9" in message for message in result.warnings)
    assert any("KL" in message for message in result.warnings)


def test_alarm_stays_quiet_on_real_digits(mnist_test):
    # (Its cost, ~0.3 s per check of 1,000 samples, is a number for docs/metrics.md, not a timed test.)
    images, _ = mnist_test
    alarm = metrics.CollapseAlarm(samples=1000, pixel_range=(-1, 1))
    for start in (0, 1000, 2000):
        batch = mg.tensor(images[start:start + 1000].reshape(1000, 784) / 127.5 - 1)
        result = alarm.check(batch)
        assert result.warnings == [] and not result
        assert result.classes_present == 10 and result.kl < 0.02


def test_alarm_warns_when_the_kl_rises_above_its_best(mnist_test):
    images, labels = mnist_test
    rng = np.random.default_rng(8)
    alarm = metrics.CollapseAlarm(samples=1000, kl_limit=10)  # only the rise rule can fire
    assert not alarm.check(images[:1000] / 255)
    # Two digits crowd out the others (KL about 0.5), but all ten are still present.
    crowded = np.concatenate([random_images(rng, 300, images, labels, digit=1),
                              random_images(rng, 300, images, labels, digit=8),
                              random_images(rng, 400, images)]) / 255
    result = alarm.check(crowded)
    assert result.classes_present == 10
    assert len(result.warnings) == 1 and "rising" in result.warnings[0]
    assert alarm.best_kl < 0.02


def test_alarm_insists_on_its_sample_count():
    alarm = metrics.CollapseAlarm(samples=1000)
    with pytest.raises(ValueError, match="1000 samples"):
        alarm.check(np.zeros((999, 784)))


# --- progress -------------------------------------------------------------------------------

def test_classify_advances_a_bar_by_each_batch():
    class Counter:
        n = 0

        def update(self, count):
            self.n += count

    bar = Counter()
    images = np.random.default_rng(0).uniform(0, 1, (25, 784)).astype(np.float32)
    labels, _ = metrics.classify(images, batch_size=10, bar=bar)
    assert bar.n == 25 and labels.shape == (25,)


def test_evaluate_generator_shows_progress_on_stderr_when_asked(shared_data, mnist_test, capsys):
    images, _ = mnist_test
    sample = lambda count: mg.tensor(images[:count].reshape(count, 784) / 255.0)  # noqa: E731
    quiet = metrics.evaluate_generator(sample, n=300, batch_size=100, data_dir=shared_data)
    assert capsys.readouterr().err == ""
    assert metrics.evaluate_generator(sample, n=300, batch_size=100, data_dir=shared_data, progress=True) == quiet
    assert "300/300" in capsys.readouterr().err
