"""minigrad.ops.special: erf (the array function and the differentiable op)."""

import math

import numpy as np
import pytest
from hypothesis import given

from helpers import DEVICES, arrays, check_gradients, gradient_test_for, shapes
from minigrad import backend
from minigrad.ops.special import erf, erf_array


# --- erf ------------------------------------------------------------------------------

ERF_POINTS = [0.0, -0.0, 1e-8, -1e-8, 1e-300, 0.1, 0.5, 1.0, 1.5, 2.0, 2.4999, -2.4999, 2.5, -2.5,
              2.5000001, 3.0, 4.0, 5.0, 6.0, -6.0, 10.0, 27.0, 30.0, -30.0]


def test_erf_matches_math_erf_in_float64(device):
    xs = np.concatenate([ERF_POINTS, np.linspace(-7, 7, 2001), np.linspace(2.45, 2.55, 101)])
    got = backend.to_numpy(erf_array(backend.to_device(xs, device)))
    expected = np.array([math.erf(v) for v in xs])
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14)
    at_30, at_minus_30 = got[ERF_POINTS.index(30.0)], got[ERF_POINTS.index(-30.0)]
    assert got[1] == 0 and at_30 == 1.0 and at_minus_30 == -1.0


def test_erf_of_infinities_and_nan():
    got = erf_array(np.array([np.inf, -np.inf, np.nan]))
    assert got[0] == 1.0 and got[1] == -1.0 and np.isnan(got[2])


def test_erf_keeps_float32(device):
    xs = backend.to_device(np.array(ERF_POINTS, dtype=np.float32), device)
    got = erf_array(xs)
    assert got.dtype == np.float32 and got.shape == xs.shape
    expected = np.array([math.erf(float(v)) for v in backend.to_numpy(xs)])
    np.testing.assert_allclose(backend.to_numpy(got), expected, rtol=1e-6, atol=1e-7)


def test_erf_of_a_0d_array_and_a_matrix():
    assert float(erf_array(np.array(0.5))) == pytest.approx(math.erf(0.5), rel=1e-15)
    grid = np.array([[0.25, -1.0], [3.0, 0.0]])
    np.testing.assert_allclose(erf_array(grid), np.vectorize(math.erf)(grid), rtol=1e-15)


def test_erf_float32_over_a_dense_grid():
    """float32 is computed in float32 with fewer terms: within 1e-6 (about 8 float32 ulp) everywhere."""
    xs = np.linspace(-7, 7, 100001).astype(np.float32)
    expected = np.array([math.erf(float(v)) for v in xs])
    assert np.abs(erf_array(xs).astype(np.float64) - expected).max() < 1e-6


@gradient_test_for("Erf")
@pytest.mark.parametrize("device", DEVICES)
@given(arrays(shapes()))
def test_erf_gradient(device, x):
    check_gradients(lambda a: erf(a), x, device=device)
