"""gradcheck itself: it passes correct ops, catches a wrong backward and says exactly where,
refuses float32, and leaves the caller's tensors alone."""

import contextlib
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function, FusedFunction


@contextlib.contextmanager
def registry_restored():
    """Defining a Function subclass registers it in mg.autograd.OPS; the registry meta-test
    (test_registry.py) would then ask for a gradient test of these deliberately wrong ops.
    So the classes are defined inside the tests, and the registry is put back afterwards."""
    saved = dict(mg.autograd.OPS)
    try:
        yield
    finally:
        mg.autograd.OPS.clear()
        mg.autograd.OPS.update(saved)


@pytest.fixture
def restore_ops():
    with registry_restored():
        yield


@pytest.fixture
def wrong_square(restore_ops):
    """y = x^2 with a backward that is off by a factor 2 at flat position 1, and by 1% at position 3."""

    class WrongSquare(Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, grad):
            dx = 2 * self.x * grad.array
            dx.flat[1] *= 2.0
            dx.flat[3] *= 1.01
            return mg.Tensor._wrap(dx, False)

    return WrongSquare


def leaf(values, device, requires_grad=True):
    return mg.tensor(values, dtype=mg.float64, device=device, requires_grad=requires_grad)


# --- correct ops pass -------------------------------------------------------------------

def test_correct_ops_pass(device):
    x = leaf(np.linspace(-1, 1, 6).reshape(2, 3), device)
    w = leaf(np.linspace(0.5, 2, 12).reshape(3, 4), device)
    assert mg.gradcheck(lambda a, b: (a @ b).tanh().sum(), (x, w)) is True
    assert mg.gradcheck(lambda a, b: (a @ b).sigmoid(), (x, w)) is True          # non-scalar output
    assert mg.gradcheck(lambda a: a.exp() * a, x) is True                        # a single tensor
    assert mg.gradcheck(lambda a: a * 3, leaf(2.0, device)) is True              # a 0-d input


def test_inputs_that_need_no_grad_and_non_tensor_arguments(device):
    x = leaf([1.0, 2.0], device)
    c = leaf([3.0, 4.0], device, requires_grad=False)
    assert mg.gradcheck(lambda a, b, k: a * b * k, (x, c, 2.5)) is True


def test_an_empty_input_passes(device):
    assert mg.gradcheck(lambda a: a.sum() * 2, leaf(np.zeros((0, 3)), device)) is True


# --- a wrong backward is caught, and located ----------------------------------------------

def test_wrong_backward_raises_with_the_worst_element(device, wrong_square):
    x = leaf([1.0, 2.0, 3.0], device)
    y = leaf([[0.5, 1.5], [2.5, 3.5]], device)
    with pytest.raises(mg.GradcheckError) as caught:
        mg.gradcheck(lambda a, b: a.sum() + wrong_square.apply(b).sum(), (x, y))
    message = str(caught.value)
    assert "input 1" in message and "position (0, 1)" in message
    match = re.search(r"analytic (\S+), numeric (\S+)", message)
    analytic, numeric = float(match.group(1).rstrip(",")), float(match.group(2))
    # The output is a scalar, so gradcheck's cotangent is one number v (drawn from `seed`):
    # the true derivative at y[0, 1] = 1.5 is 2 * 1.5 * v, and the wrong backward doubles it.
    v = float(np.random.default_rng(0).standard_normal(()))
    assert numeric == pytest.approx(2 * 1.5 * v, rel=1e-6)
    assert analytic == pytest.approx(2 * 2 * 1.5 * v, rel=1e-9)


def test_wrong_backward_with_raise_exception_false_returns_false(device, wrong_square):
    y = leaf([0.5, 1.5, 2.5, 3.5], device)
    assert mg.gradcheck(lambda b: wrong_square.apply(b), y, raise_exception=False) is False


def test_a_gradient_that_changes_when_asked_for_alone_is_caught(device, restore_ops):
    """An op whose backward gives x's gradient right only when w's is asked for too: backward()
    and the central differences agree, and the pass that wants x alone (autograd.grad) does not."""

    class SkipsTooMuch(Function):
        """z = x * w."""

        def forward(self, x, w):
            return x * w

        def backward(self, grad):
            x, w = self.inputs
            if not self.needs_input_grad[1]:
                return grad * 0, None  # the bug: x's gradient lost with w's
            return grad * w if self.needs_input_grad[0] else None, grad * x

    x, w = leaf([1.0, 2.0], device), leaf([3.0, 5.0], device)
    with pytest.raises(mg.GradcheckError, match=r"input 0's gradient alone \(autograd.grad\) is -?0 at position \(1,\), but .* with every input's"):
        mg.gradcheck(lambda a, b: SkipsTooMuch.apply(a, b), (x, w))
    assert mg.gradcheck(lambda a, b: SkipsTooMuch.apply(a, b), (x, w), raise_exception=False) is False


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(mg.GradcheckError, AssertionError)


def test_a_small_error_passes_within_a_loose_rtol(device, restore_ops):
    class SlightlyOff(Function):
        def forward(self, x):
            return 3 * x

        def backward(self, grad):
            return grad * 3.0 * (1 + 1e-4)

    x = leaf([1.0, 2.0], device)
    assert mg.gradcheck(lambda a: SlightlyOff.apply(a), x) is True
    assert mg.gradcheck(lambda a: SlightlyOff.apply(a), x, rtol=1e-6, atol=1e-9, raise_exception=False) is False


def test_a_missing_gradient_counts_as_zero(device):
    x = leaf([1.0, 2.0], device)
    with pytest.raises(mg.GradcheckError, match="analytic 0"):
        mg.gradcheck(lambda a: a.detach() * 2, x)


def test_nan_gradient_is_a_failure(device, restore_ops):
    class NanBackward(Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, grad):
            return grad * np.nan

    with pytest.raises(mg.GradcheckError, match="analytic nan"):
        mg.gradcheck(lambda a: NanBackward.apply(a), leaf([1.0], device))


# --- what gradcheck refuses -------------------------------------------------------------------

def test_float32_inputs_are_refused(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    with pytest.raises(TypeError, match=r"input 0 is float32.*\.double\(\)"):
        mg.gradcheck(lambda a: a.sum(), x)


def test_no_input_requiring_grad_is_refused(device):
    with pytest.raises(ValueError, match="requires_grad"):
        mg.gradcheck(lambda a: a.sum(), leaf([1.0], device, requires_grad=False))


def test_the_function_must_return_a_tensor(device):
    with pytest.raises(TypeError, match="must return a Tensor"):
        mg.gradcheck(lambda a: 3.0, leaf([1.0], device))


def test_a_function_that_modifies_its_input_is_caught(device):
    def mutating(a):
        a.array[0] = 100.0
        return a * 2

    with pytest.raises(mg.GradcheckError, match="modified input 0 in place"):
        mg.gradcheck(mutating, leaf([1.0, 2.0], device))


# --- the caller's tensors are left alone ------------------------------------------------------------

def test_inputs_and_their_grads_are_untouched(device):
    x = leaf([1.0, 2.0, 3.0], device)
    w = leaf([0.5, -0.5, 2.0], device)
    (x * w).sum().backward()
    x_grad_before, w_grad_before = x.grad.numpy().copy(), w.grad.numpy().copy()
    x_data, w_data = x.array, w.array
    x_version, w_version = x._version[0], w._version[0]

    assert mg.gradcheck(lambda a, b: (a * b).exp().sum(), (x, w))

    assert x.array is x_data and w.array is w_data
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(w.numpy(), [0.5, -0.5, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), x_grad_before)
    np.testing.assert_array_equal(w.grad.numpy(), w_grad_before)
    assert (x._version[0], w._version[0]) == (x_version, w_version)


def test_inputs_without_grad_keep_none(device):
    x = leaf([1.0, 2.0], device)
    assert mg.gradcheck(lambda a: (a * a).sum(), x)
    assert x.grad is None


def test_test_local_ops_do_not_stay_in_the_registry():
    before = dict(mg.autograd.OPS)
    with registry_restored():
        class ThrowawayOp(Function):
            def forward(self, x):
                return x

        assert mg.autograd.OPS["ThrowawayOp"] is ThrowawayOp
    assert "ThrowawayOp" not in mg.autograd.OPS
    assert mg.autograd.OPS == before


def test_gradgradcheck_passes_and_checks_second_derivatives(device):
    x = leaf([0.3, -1.2, 2.0], device)
    assert mg.gradgradcheck(lambda a: (a * a * a).sum(), x)
    assert mg.gradgradcheck(lambda a: a.tanh() * 3.0, x)


def test_gradgradcheck_catches_a_recorded_backward_that_disagrees_with_the_fast_one(device):
    """gradcheck verifies the first-order pass (a fused op's closed form here); the recorded
    backward (the gradient of its definition) must agree."""
    with registry_restored():
        class Diverging(FusedFunction):
            saves_inputs = True

            def forward(self, x):
                return x * x

            def closed_form(self, grad):
                return grad * 2 * self.inputs[0].array

            def definition(self, x):
                return x * x * 1.25  # wrong, only when recorded

        x = leaf([0.5, 1.5], device)
        assert mg.gradcheck(lambda a: Diverging.apply(a), x)
        with pytest.raises(mg.GradcheckError, match="recorded with create_graph=True differ"):
            mg.gradgradcheck(lambda a: Diverging.apply(a), x)
        assert mg.gradgradcheck(lambda a: Diverging.apply(a), x, raise_exception=False) is False
