"""The appendices: ideal losses, and appendix D's recurrence against its closed form."""

import math

import numpy as np
import pytest

from gans.appendix import best_constant_output, closed_form_radius, equilibrium_losses, simultaneous_steps


def test_equilibrium_losses_are_ln2_and_a_quarter():
    losses = equilibrium_losses()
    assert losses["bce_real"] == pytest.approx(math.log(2), abs=1e-7)
    assert losses["bce_fake"] == pytest.approx(math.log(2), abs=1e-7)
    assert losses["mse_real"] == losses["mse_fake"] == 0.25


@pytest.mark.parametrize("loss, ideal", [("bce", math.log(2)), ("mse", 0.25)])
def test_gradient_descent_finds_the_half_way_answer(loss, ideal):
    d, value = best_constant_output(loss)
    assert d == pytest.approx(0.5, abs=1e-6)
    assert value == pytest.approx(ideal, abs=1e-9)


def test_simultaneous_steps_follow_the_closed_form():
    path = simultaneous_steps(0.6, 0.7, lr=0.1, steps=499)
    radius = np.hypot(path[:, 0], path[:, 1])
    np.testing.assert_allclose(radius, closed_form_radius(0.6, 0.7, 0.1, 499), rtol=1e-12)
    assert radius[0] == pytest.approx(0.922, abs=1e-3)
    assert radius[-1] == pytest.approx(11.04, abs=0.01)  # "from about 0.92 to about 11"


def test_each_step_rotates_by_the_same_angle():
    """x + iy is multiplied by (1 - 0.1i) each step: the angle turns back by atan(0.1)."""
    path = simultaneous_steps(0.6, 0.7, lr=0.1, steps=20)
    angles = np.unwrap(np.arctan2(path[:, 1], path[:, 0]))
    np.testing.assert_allclose(np.diff(angles), -math.atan(0.1), rtol=1e-12)


def test_the_books_last_point():
    x, y = simultaneous_steps(0.6, 0.7, lr=0.1, steps=499)[-1]
    assert (x, y) == (pytest.approx(1.95226, abs=1e-5), pytest.approx(10.86403, abs=1e-5))
