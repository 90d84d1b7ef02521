"""gans.data.pattern: the book's 1010 pattern and its noise helpers."""

import numpy as np
import pytest

import minigrad as mg
from gans.data.pattern import generate_random, generate_random_seed, generate_real, generate_real_batch


def test_real_batch_ranges_and_means():
    batch = generate_real_batch(10_000)
    assert batch.shape == (10_000, 4) and batch.dtype == np.float32
    values = batch.numpy()
    high, low = values[:, [0, 2]], values[:, [1, 3]]
    assert high.min() >= 0.8 and high.max() <= 1.0
    assert low.min() >= 0.0 and low.max() <= 0.2
    # Uniform on an interval of 0.2: mean at its middle, standard deviation 0.2 / sqrt(12).
    np.testing.assert_allclose(high.mean(axis=0), [0.9, 0.9], atol=0.003)
    np.testing.assert_allclose(low.mean(axis=0), [0.1, 0.1], atol=0.003)
    np.testing.assert_allclose(values.std(axis=0), 0.2 / np.sqrt(12), rtol=0.03)
    # The whole interval is used, not just part of it.
    assert high.min() < 0.801 and high.max() > 0.999 and low.min() < 0.001 and low.max() > 0.199


def test_single_real_sample():
    for _ in range(200):
        sample = generate_real()
        assert sample.shape == (4,) and sample.dtype == np.float32
        a, b, c, d = sample.tolist()
        assert 0.8 <= a <= 1.0 and 0.0 <= b <= 0.2 and 0.8 <= c <= 1.0 and 0.0 <= d <= 0.2


def test_real_is_reproducible_under_manual_seed():
    mg.manual_seed(3)
    first = [generate_real().tolist() for _ in range(3)] + [generate_real_batch(5).tolist()]
    mg.manual_seed(3)
    again = [generate_real().tolist() for _ in range(3)] + [generate_real_batch(5).tolist()]
    assert first == again
    mg.manual_seed(4)
    assert generate_real().tolist() != first[0]


def test_single_sample_is_the_first_row_of_a_batch_of_one():
    mg.manual_seed(7)
    single = generate_real()
    mg.manual_seed(7)
    np.testing.assert_array_equal(single.numpy(), generate_real_batch(1).numpy()[0])


@pytest.mark.parametrize("size, shape", [(4, (4,)), ((3, 100), (3, 100))])
def test_generate_random_is_uniform_noise(size, shape):
    noise = generate_random(size)
    assert noise.shape == shape and noise.dtype == np.float32
    values = generate_random(10_000).numpy()
    assert values.min() >= 0.0 and values.max() < 1.0
    assert abs(values.mean() - 0.5) < 0.01


@pytest.mark.parametrize("size, shape", [(1, (1,)), ((16, 100), (16, 100))])
def test_generate_random_seed_is_standard_normal(size, shape):
    seed = generate_random_seed(size)
    assert seed.shape == shape and seed.dtype == np.float32
    values = generate_random_seed(100_000).numpy()
    assert abs(values.mean()) < 0.01 and abs(values.std() - 1.0) < 0.01
    assert values.min() < -3 and values.max() > 3   # tails, which a uniform would never reach


def test_noise_is_reproducible_under_manual_seed():
    mg.manual_seed(11)
    first = generate_random(5).tolist(), generate_random_seed(5).tolist()
    mg.manual_seed(11)
    assert (generate_random(5).tolist(), generate_random_seed(5).tolist()) == first
