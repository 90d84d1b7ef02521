"""minigrad/ops/loss.py: mse_loss, binary_cross_entropy (+ with logits), nll_loss, cross_entropy,
each with reduction "mean", "sum" or "none"."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import minigrad.nn.functional as F
from helpers import DEVICES, arrays, check_gradients, floats, gradient_test_for, shapes, shapes_broadcasting_to

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


@st.composite
def input_target_weight(draw, input_elements, target_elements, weight_elements=floats(0.1, 2.0)):
    """input and target of one shape, and an optional constant weight that broadcasts to it."""
    shape = draw(shapes())
    x, target = draw(arrays(shape, input_elements)), draw(arrays(shape, target_elements))
    weight = draw(st.none() | arrays(shapes_broadcasting_to(shape), weight_elements))
    return x, target, weight


@st.composite
def class_index_cases(draw):
    """Scores (C,), (N, C) or (N, C, d); in-range class targets, some equal to ignore_index
    (which may itself be a class); optional positive class weights. At least one target counts."""
    classes = draw(st.integers(1, 4))
    layout = draw(st.sampled_from(["single", "batch", "spatial"]))
    if layout == "single":
        shape, target_shape = (classes,), ()
    else:
        n = draw(st.integers(1, 4))
        extra = (draw(st.integers(1, 3)),) if layout == "spatial" else ()
        shape, target_shape = (n, classes) + extra, (n,) + extra
    scores = draw(arrays(shape))
    target = draw(hnp.arrays(np.int64, target_shape, elements=st.integers(0, classes - 1)))
    ignore_index = draw(st.sampled_from([-100, 0, classes - 1]))
    ignored = draw(hnp.arrays(np.bool_, target_shape))
    target = np.where(ignored & (ignore_index == -100), -100, target)
    if (target == ignore_index).all():  # "mean" divides by the weight of the counted targets
        ignore_index = -100
        target = np.where(target == -100, 0, target)
    weight = draw(st.none() | arrays((classes,), floats(0.1, 2.0)))
    return scores, np.asarray(target), weight, ignore_index


# --- gradients ----------------------------------------------------------------------------

@gradient_test_for("mse_loss")
@pytest.mark.parametrize("device", DEVICES)
@given(input_target_weight(floats(), floats()), REDUCTIONS)
def test_mse_loss_gradient(device, case, reduction):
    x, target, _ = case
    check_gradients(lambda a, t: F.mse_loss(a, t, reduction=reduction), x, target, device=device)


@gradient_test_for("BinaryCrossEntropy")
@pytest.mark.parametrize("device", DEVICES)
@given(input_target_weight(floats(0.05, 0.95), floats(0.0, 1.0)), REDUCTIONS)
def test_binary_cross_entropy_gradient(device, case, reduction):
    """Probabilities in [0.05, 0.95], away from the clamped logs; soft targets, differentiated too."""
    p, target, weight = case
    w = None if weight is None else mg.tensor(weight, device=device)
    check_gradients(lambda a, t: F.binary_cross_entropy(a, t, weight=w, reduction=reduction), p, target,
                    device=device)


@gradient_test_for("BinaryCrossEntropyWithLogits")
@pytest.mark.parametrize("device", DEVICES)
@given(input_target_weight(floats(-6.0, 6.0), floats(0.0, 1.0)), REDUCTIONS, st.data())
def test_binary_cross_entropy_with_logits_gradient(device, case, reduction, data):
    x, target, weight = case
    pos_weight = data.draw(st.none() | arrays(shapes_broadcasting_to(x.shape), floats(0.2, 3.0)))
    w = None if weight is None else mg.tensor(weight, device=device)
    pw = None if pos_weight is None else mg.tensor(pos_weight, device=device)
    check_gradients(lambda a, t: F.binary_cross_entropy_with_logits(a, t, w, reduction, pw), x, target,
                    device=device)


@gradient_test_for("NLLLoss")
@pytest.mark.parametrize("device", DEVICES)
@given(class_index_cases(), REDUCTIONS)
def test_nll_loss_gradient(device, case, reduction):
    logp, target, weight, ignore_index = case
    w = None if weight is None else mg.tensor(weight, device=device)
    t = mg.tensor(target, device=device)
    check_gradients(lambda a: F.nll_loss(a, t, w, ignore_index, reduction), logp, device=device)


@gradient_test_for("cross_entropy")
@pytest.mark.parametrize("device", DEVICES)
@given(class_index_cases(), REDUCTIONS)
def test_cross_entropy_gradient(device, case, reduction):
    logits, target, weight, ignore_index = case
    w = None if weight is None else mg.tensor(weight, device=device)
    t = mg.tensor(target, device=device)
    check_gradients(lambda a: F.cross_entropy(a, t, w, ignore_index, reduction), logits, device=device)


# --- known values -------------------------------------------------------------------------

def test_mse_loss_reductions():
    x = mg.tensor([1.0, 2.0, 4.0], requires_grad=True)
    t = mg.tensor([1.0, 0.0, 1.0])
    np.testing.assert_array_equal(F.mse_loss(x, t, reduction="none").numpy(), [0.0, 4.0, 9.0])
    assert F.mse_loss(x, t, reduction="sum").item() == 13.0
    loss = F.mse_loss(x, t)
    assert loss.item() == pytest.approx(13 / 3)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 4 / 3, 2.0])  # 2 (x - t) / n


def test_binary_cross_entropy_known_values():
    p = mg.tensor([0.5, 0.9], dtype=mg.float64, requires_grad=True)
    y = mg.tensor([1.0, 0.0], dtype=mg.float64)
    np.testing.assert_allclose(F.binary_cross_entropy(p, y, reduction="none").numpy(), [np.log(2), -np.log(0.1)])
    loss = F.binary_cross_entropy(p, y)
    assert loss.item() == pytest.approx((np.log(2) - np.log(0.1)) / 2)
    loss.backward()
    np.testing.assert_allclose(p.grad.numpy(), [-1.0, 5.0])  # (p - y) / (p (1 - p)) / 2
    weighted = F.binary_cross_entropy(p, y, weight=mg.tensor([2.0, 0.0], dtype=mg.float64), reduction="sum")
    assert weighted.item() == pytest.approx(2 * np.log(2))


def test_binary_cross_entropy_of_saturated_probabilities_is_100():
    """log(0) is clamped at -100, as PyTorch: a confident wrong answer costs 100, not inf."""
    p = mg.tensor([0.0, 1.0, 0.0, 1.0], dtype=mg.float64, requires_grad=True)
    y = mg.tensor([1.0, 0.0, 0.0, 1.0], dtype=mg.float64)
    losses = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_array_equal(losses.numpy(), [100.0, 100.0, 0.0, 0.0])
    losses.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()
    np.testing.assert_array_equal(p.grad.numpy(), [-1e12, 1e12, 0.0, 0.0])  # (p - y) / max(p (1 - p), 1e-12)
    assert F.binary_cross_entropy(mg.tensor([0.0]), mg.tensor([1.0])).item() == 100.0  # float32 too


@pytest.mark.parametrize("device", DEVICES)
def test_binary_cross_entropy_with_logits_at_huge_logits(device):
    for dtype in (mg.float32, mg.float64):
        x = mg.tensor([-1e4, 1e4, -1e4, 1e4, 0.0], dtype=dtype, device=device, requires_grad=True)
        y = mg.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype, device=device)
        losses = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        losses.sum().backward()
        np.testing.assert_allclose(losses.numpy(), [1e4, 1e4, 0.0, 0.0, np.log(2)], rtol=1e-6)
        np.testing.assert_allclose(x.grad.numpy(), [-1.0, 1.0, 0.0, 0.0, -0.5])  # sigmoid(x) - y


def test_binary_cross_entropy_with_logits_pos_weight():
    """pos_weight multiplies the positive term: L = -[pw y ln s + (1 - y) ln(1 - s)]."""
    x = mg.tensor([0.0, 0.0], dtype=mg.float64, requires_grad=True)
    y = mg.tensor([1.0, 0.0], dtype=mg.float64)
    losses = F.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=mg.tensor([3.0], dtype=mg.float64))
    np.testing.assert_allclose(losses.numpy(), [3 * np.log(2), np.log(2)])
    losses.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.5, 0.5])


def test_binary_cross_entropy_with_logits_matches_binary_cross_entropy_of_sigmoid():
    x = mg.tensor([-2.0, -0.5, 0.3, 1.7], dtype=mg.float64)
    y = mg.tensor([0.0, 1.0, 0.25, 1.0], dtype=mg.float64)
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, y).item(),
                               F.binary_cross_entropy(F.sigmoid(x), y).item(), rtol=1e-12)


LOGP = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]))


def test_nll_loss_reductions_and_gradient():
    logp = mg.tensor(LOGP, requires_grad=True)
    target = mg.tensor([0, 2, 1])
    picked = -np.log([0.5, 0.7, 0.3])
    np.testing.assert_allclose(F.nll_loss(logp, target, reduction="none").numpy(), picked)
    np.testing.assert_allclose(F.nll_loss(logp, target, reduction="sum").item(), picked.sum())
    loss = F.nll_loss(logp, target)
    np.testing.assert_allclose(loss.item(), picked.mean())
    loss.backward()
    np.testing.assert_allclose(logp.grad.numpy(), [[-1 / 3, 0, 0], [0, 0, -1 / 3], [0, -1 / 3, 0]])


def test_nll_loss_ignore_index_and_class_weights():
    logp = mg.tensor(LOGP, requires_grad=True)
    target = mg.tensor([0, -100, 1])
    loss = F.nll_loss(logp, target)  # the mean over the two counted targets
    np.testing.assert_allclose(loss.item(), -(np.log(0.5) + np.log(0.3)) / 2)
    loss.backward()
    np.testing.assert_allclose(logp.grad.numpy(), [[-0.5, 0, 0], [0, 0, 0], [0, -0.5, 0]])
    # ignore_index can be a class; "mean" divides by the summed weights of the counted targets
    weight = mg.tensor([1.0, 2.0, 4.0], dtype=mg.float64)
    weighted = F.nll_loss(logp, mg.tensor([0, 2, 1]), weight=weight, ignore_index=2)
    np.testing.assert_allclose(weighted.item(), -(np.log(0.5) + 2 * np.log(0.3)) / 3)
    none = F.nll_loss(logp, mg.tensor([0, 2, 1]), ignore_index=2, reduction="none")
    np.testing.assert_allclose(none.numpy(), [-np.log(0.5), 0.0, -np.log(0.3)])


def test_cross_entropy_known_values():
    logits = mg.tensor([[0.0, 0.0], [1.0, 3.0]], dtype=mg.float64, requires_grad=True)
    loss = F.cross_entropy(logits, mg.tensor([0, 1]))
    expected = (np.log(2) + np.log1p(np.exp(-2.0))) / 2
    np.testing.assert_allclose(loss.item(), expected)
    loss.backward()
    softmax = np.array([[0.5, 0.5], [1 / (1 + np.e ** 2), 1 / (1 + np.e ** -2)]])
    np.testing.assert_allclose(logits.grad.numpy(), (softmax - np.eye(2)) / 2)  # (softmax - onehot) / N


def test_cross_entropy_over_spatial_dims_and_a_single_sample():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 3, 4))
    target = rng.integers(0, 3, size=(2, 4))
    loss = F.cross_entropy(mg.tensor(logits), mg.tensor(target), reduction="none")
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -np.take_along_axis(log_softmax, target[:, None, :], axis=1)[:, 0, :]
    assert loss.shape == (2, 4)
    np.testing.assert_allclose(loss.numpy(), expected)
    single = F.cross_entropy(mg.tensor([0.0, 0.0, 0.0], dtype=mg.float64), mg.tensor(1))
    np.testing.assert_allclose(single.item(), np.log(3))


# --- errors -------------------------------------------------------------------------------

def test_loss_input_and_target_shapes_must_match():
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(4,\) differs from input shape \(4, 1\)"):
        F.mse_loss(mg.zeros(4, 1), mg.zeros(4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: target shape \(3,\) differs"):
        F.binary_cross_entropy(mg.full((2,), 0.5), mg.zeros(3))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: target shape \(2, 1\) differs"):
        F.binary_cross_entropy_with_logits(mg.zeros(2), mg.zeros(2, 1))


def test_binary_cross_entropy_input_outside_0_1():
    with pytest.raises(RuntimeError, match=r"all elements of input should be between 0 and 1.* 0.5 to 1.5"):
        F.binary_cross_entropy(mg.tensor([0.5, 1.5]), mg.tensor([1.0, 0.0]))
    with pytest.raises(RuntimeError, match=r"all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([-0.1]), mg.tensor([1.0]))


def test_nll_loss_target_out_of_range():
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.nll_loss(mg.zeros(2, 3), mg.tensor([0, 3]))
    with pytest.raises(IndexError, match="target -1 is out of bounds for 3 classes"):
        F.cross_entropy(mg.zeros(2, 3), mg.tensor([-1, 0]))


def test_nll_loss_needs_integer_targets_of_the_right_shape():
    with pytest.raises(TypeError, match="expected class-index targets .*got float32"):
        F.nll_loss(mg.zeros(2, 3), mg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"input \(2, 3\) needs target of shape \(2,\), got \(2, 1\)"):
        F.cross_entropy(mg.zeros(2, 3), mg.tensor([[0], [1]]))


def test_unknown_reduction():
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.mse_loss(mg.zeros(2), mg.zeros(2), reduction="average")
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.nll_loss(mg.zeros(2, 3), mg.tensor([0, 1]), reduction="max")


def test_binary_cross_entropy_refuses_nan_and_inf_as_pytorch():
    """NaN compares False with everything, so a plain `min < 0 or max > 1` test lets it through."""
    for bad in ([float("nan"), 0.5], [0.5, float("inf")], [float("-inf"), 0.5]):
        with pytest.raises(RuntimeError, match=r"binary_cross_entropy: all elements of input should be "
                                               r"between 0 and 1, but input of shape \(2,\) holds"):
            F.binary_cross_entropy(mg.tensor(bad), mg.tensor([1.0, 0.0]))
    with pytest.raises(RuntimeError, match="holds NaN"):
        mg.nn.BCELoss()(mg.tensor([[0.2, float("nan")]]), mg.tensor([[1.0, 0.0]]))
    assert F.binary_cross_entropy(mg.zeros(0), mg.zeros(0), reduction="sum").item() == 0
    assert F.binary_cross_entropy(mg.tensor([0.0, 1.0]), mg.tensor([0.0, 1.0])).item() == 0
# --- l1_loss -------------------------------------------------------------------------------------

@st.composite
def l1_cases(draw):
    """input and target at least 0.01 apart everywhere (|d| has a kink where they are equal)."""
    shape = draw(shapes())
    target = draw(arrays(shape))
    gap = draw(arrays(shape, st.one_of(floats(0.01, 2.0), floats(-2.0, -0.01))))
    return target + gap, target


@gradient_test_for("l1_loss")
@pytest.mark.parametrize("device", DEVICES)
@given(l1_cases(), REDUCTIONS)
def test_l1_loss_gradient(device, case, reduction):
    check_gradients(lambda x, y: F.l1_loss(x, y, reduction=reduction), *case, device=device)


def test_l1_loss_values_and_checks():
    x, y = mg.tensor([1.0, -2.0, 3.0]), mg.tensor([0.5, 0.0, 3.0])
    assert F.l1_loss(x, y).item() == pytest.approx(2.5 / 3)
    assert F.l1_loss(x, y, reduction="sum").item() == pytest.approx(2.5)
    assert F.l1_loss(x, y, reduction="none").tolist() == [0.5, 2.0, 0.0]
    assert mg.nn.L1Loss(reduction="sum")(x, y).item() == pytest.approx(2.5)
    with pytest.raises(ValueError, match="target shape"):
        F.l1_loss(x, mg.zeros(3, 1))
    with pytest.raises(ValueError, match="reduction"):
        F.l1_loss(x, y, reduction="max")
