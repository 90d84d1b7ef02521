"""minigrad/ops/loss.py: mse_loss, binary_cross_entropy (+ with logits), nll_loss, cross_entropy and the
rest of torch.nn.functional's losses, each with reduction "mean", "sum" or "none" and the legacy
size_average and reduce; minigrad/ops/distance.py: cosine_similarity and pairwise_distance."""

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import minigrad.nn.functional as F
from helpers import (DEVICES, arrays, away_from, check_gradients, floats, gradient_test_for, shapes,
                     shapes_broadcasting_to)

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
@given(input_target_weight(floats(0.05, 0.95), floats(0.01, 0.99)), REDUCTIONS)
def test_binary_cross_entropy_gradient(device, case, reduction):
    """Probabilities in [0.05, 0.95], away from the clamped logs; soft targets, differentiated too (inside
    (0, 1), so that the numerical derivative keeps them valid)."""
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
    check_gradients(lambda a, t: F.binary_cross_entropy_with_logits(a, t, w, reduction=reduction, pos_weight=pw),
                    x, target, device=device)


@gradient_test_for("NLLLoss")
@pytest.mark.parametrize("device", DEVICES)
@given(class_index_cases(), REDUCTIONS)
def test_nll_loss_gradient(device, case, reduction):
    logp, target, weight, ignore_index = case
    w = None if weight is None else mg.tensor(weight, device=device)
    t = mg.tensor(target, device=device)
    check_gradients(lambda a: F.nll_loss(a, t, w, ignore_index=ignore_index, reduction=reduction), logp, device=device)


@gradient_test_for("cross_entropy")
@pytest.mark.parametrize("device", DEVICES)
@given(class_index_cases(), REDUCTIONS)
def test_cross_entropy_gradient(device, case, reduction):
    logits, target, weight, ignore_index = case
    w = None if weight is None else mg.tensor(weight, device=device)
    t = mg.tensor(target, device=device)
    check_gradients(lambda a: F.cross_entropy(a, t, w, ignore_index=ignore_index, reduction=reduction), logits,
                    device=device)


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
    with pytest.raises(ValueError, match="'average' is not a valid value for reduction"):
        F.mse_loss(mg.zeros(2), mg.zeros(2), reduction="average")
    with pytest.raises(ValueError, match="'max' is not a valid value for reduction"):
        F.nll_loss(mg.zeros(2, 3), mg.tensor([0, 1]), reduction="max")
    with pytest.raises(ValueError, match="reduction must be one of"):
        mg.nn.SmoothL1Loss(reduction="max")


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


# --- the rest of torch.nn.functional's losses: gradients -------------------------------------------
#
# Inputs keep away from each loss's kinks (where the numerical derivative means nothing): the
# differences from the bounds of smooth_l1 and huber, the hinges of the margin losses.

@st.composite
def differences(draw, kinks, low=-3.0, high=3.0):
    """input and target whose difference stays 0.01 away from each of `kinks`."""
    shape = draw(shapes(max_dims=3))
    target = draw(arrays(shape))
    gap = draw(arrays(shape, away_from(kinks, low=low, high=high)))
    return target + gap, target


@gradient_test_for("smooth_l1_loss")
@settings(max_examples=15)
@given(st.sampled_from([0.0, 0.5, 1.0]).flatmap(lambda beta: st.tuples(st.just(beta),
                                                                        differences((-beta, 0.0, beta)))), REDUCTIONS)
def test_smooth_l1_loss_gradient(case, reduction):
    beta, (x, target) = case
    check_gradients(lambda a, t: F.smooth_l1_loss(a, t, reduction=reduction, beta=beta), x, target)


@gradient_test_for("huber_loss")
@settings(max_examples=15)
@given(differences((-0.7, 0.7)), REDUCTIONS, st.booleans())
def test_huber_loss_gradient(case, reduction, weighted):
    x, target = case
    weight = mg.tensor(np.linspace(0.5, 2.0, x.size).reshape(x.shape)) if weighted else None
    check_gradients(lambda a, t: F.huber_loss(a, t, reduction=reduction, delta=0.7, weight=weight), x, target)


@gradient_test_for("kl_div")
@settings(max_examples=15)
@given(input_target_weight(floats(-3.0, 1.0), floats(0.05, 2.0)), st.sampled_from(["mean", "sum", "none",
                                                                                    "batchmean"]), st.booleans())
def test_kl_div_gradient(case, reduction, log_target):
    x, target, _ = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reduction "mean" warns, as PyTorch
        check_gradients(lambda a, t: F.kl_div(a, t, reduction=reduction, log_target=log_target), x, target)


@st.composite
def vector_pairs(draw, min_dims=1):
    """x1, x2 of one shape (up to 3 dims), each vector along every dim of norm at least 0.1."""
    shape = draw(shapes(min_dims=min_dims, max_dims=3, min_side=2))
    elements = away_from((0.0,), distance=0.3)
    return draw(arrays(shape, elements)), draw(arrays(shape, elements))


@gradient_test_for("cosine_similarity")
@settings(max_examples=15)
@given(vector_pairs(), st.data())
def test_cosine_similarity_gradient(case, data):
    x1, x2 = case
    dim = data.draw(st.integers(-x1.ndim, x1.ndim - 1))
    check_gradients(lambda a, b: F.cosine_similarity(a, b, dim), x1, x2)


@gradient_test_for("pairwise_distance")
@settings(max_examples=15)
@given(vector_pairs(), st.sampled_from([1, 2, 3.5]), st.booleans())
def test_pairwise_distance_gradient(case, p, keepdim):
    """x1 - x2 is kept away from 0 (|.|'s kink for p = 1) by drawing x2 as x1 - gap."""
    x1, gap = case
    check_gradients(lambda a, b: F.pairwise_distance(a, b, p, keepdim=keepdim), x1, x1 - gap)


@gradient_test_for("cosine_embedding_loss")
@settings(max_examples=15)
@given(st.integers(1, 4), st.integers(2, 4), st.data(), REDUCTIONS)
def test_cosine_embedding_loss_gradient(rows, columns, data, reduction):
    x1, x2 = (data.draw(arrays((rows, columns), away_from((0.0,), distance=0.3))) for _ in range(2))
    target = data.draw(hnp.arrays(np.float64, (rows,), elements=st.sampled_from([1.0, -1.0])))
    cos = (x1 * x2).sum(1) / np.sqrt((x1 * x1).sum(1) * (x2 * x2).sum(1))
    assume(np.all(np.abs(cos - 0.1) > 0.01))  # the hinge of the y = -1 rows
    check_gradients(lambda a, b: F.cosine_embedding_loss(a, b, mg.tensor(target), margin=0.1,
                                                         reduction=reduction), x1, x2)


@gradient_test_for("margin_ranking_loss")
@settings(max_examples=15)
@given(hnp.array_shapes(min_dims=1, max_dims=1, max_side=5), st.data(), REDUCTIONS)
def test_margin_ranking_loss_gradient(shape, data, reduction):
    x1 = data.draw(arrays(shape))
    target = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([1.0, -1.0])))
    hinge = data.draw(arrays(shape, away_from((0.0,))))  # -y (x1 - x2) + margin, away from 0
    x2 = x1 + (hinge - 0.2) / target
    check_gradients(lambda a, b: F.margin_ranking_loss(a, b, mg.tensor(target), margin=0.2, reduction=reduction),
                    x1, x2)


@gradient_test_for("hinge_embedding_loss")
@settings(max_examples=15)
@given(st.data(), REDUCTIONS)
def test_hinge_embedding_loss_gradient(data, reduction):
    shape = data.draw(shapes(max_dims=3))
    x = data.draw(arrays(shape, away_from((0.5,))))
    target = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([1.0, -1.0])))
    check_gradients(lambda a: F.hinge_embedding_loss(a, mg.tensor(target), margin=0.5, reduction=reduction), x)


@gradient_test_for("soft_margin_loss")
@settings(max_examples=15)
@given(st.data(), REDUCTIONS)
def test_soft_margin_loss_gradient(data, reduction):
    shape = data.draw(shapes(max_dims=3))
    x = data.draw(arrays(shape, floats(-20.0, 20.0)))
    target = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([1.0, -1.0])))
    check_gradients(lambda a: F.soft_margin_loss(a, mg.tensor(target), reduction=reduction), x)


@gradient_test_for("poisson_nll_loss")
@settings(max_examples=15)
@given(st.data(), st.booleans(), st.booleans(), REDUCTIONS)
def test_poisson_nll_loss_gradient(data, log_input, full, reduction):
    """The rate is differentiated; the counts are data (Stirling's term switches on at t > 1)."""
    shape = data.draw(shapes(max_dims=3))
    x = data.draw(arrays(shape, floats(-2.0, 2.0) if log_input else floats(0.1, 3.0)))
    counts = data.draw(hnp.arrays(np.float64, shape, elements=st.integers(0, 5).map(float)))
    check_gradients(lambda a: F.poisson_nll_loss(a, mg.tensor(counts), log_input=log_input, full=full,
                                                 reduction=reduction), x)


@gradient_test_for("gaussian_nll_loss")
@settings(max_examples=15)
@given(st.data(), st.booleans(), REDUCTIONS)
def test_gaussian_nll_loss_gradient(data, full, reduction):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    x, target = data.draw(arrays(shape)), data.draw(arrays(shape))
    var_shape = data.draw(st.sampled_from([shape, shape[:-1], shape[:-1] + (1,)]))
    var = data.draw(arrays(var_shape, floats(0.1, 2.0)))
    check_gradients(lambda a, t, v: F.gaussian_nll_loss(a, t, v, full=full, reduction=reduction), x, target, var)


@settings(max_examples=15)
@given(class_index_cases(), REDUCTIONS, floats(0.05, 0.9))
def test_cross_entropy_label_smoothing_gradient(case, reduction, smoothing):
    logits, target, weight, ignore_index = case
    w = None if weight is None else mg.tensor(weight)
    check_gradients(lambda a: F.cross_entropy(a, mg.tensor(target), w, ignore_index=ignore_index,
                                              reduction=reduction, label_smoothing=smoothing), logits)


@settings(max_examples=15)
@given(st.data(), REDUCTIONS, st.sampled_from([0.0, 0.3]), st.booleans())
def test_cross_entropy_probability_targets_gradient(data, reduction, smoothing, weighted):
    """Logits and the target distributions are both differentiated."""
    shape = data.draw(st.sampled_from([(3,), (2, 3), (2, 4, 2)]))
    logits, target = data.draw(arrays(shape)), data.draw(arrays(shape, floats(0.0, 1.0)))
    w = mg.tensor(np.linspace(0.5, 1.5, shape[1 if len(shape) > 1 else 0])) if weighted else None
    check_gradients(lambda a, t: F.cross_entropy(a, t, w, reduction=reduction, label_smoothing=smoothing),
                    logits, target)


# --- against PyTorch: values, dtypes, shapes and gradients, every reduction, float32 and float64 -----

def _pytorch_cases(rng):
    """(name, call(F, *tensors), arrays, which arrays are differentiated): one table for both libraries."""
    x, y = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    positive, weight = rng.uniform(0.05, 2.0, size=(4, 5)), rng.uniform(0.5, 2.0, size=(4, 5))
    signs, row_signs = np.sign(rng.normal(size=(4, 5))), np.sign(rng.normal(size=4))
    counts = rng.poisson(2.0, size=(4, 5)).astype(float)
    logits, classes = rng.normal(size=(4, 3, 2)), rng.integers(0, 3, size=(4, 2))
    distributions = rng.dirichlet(np.ones(3), size=(4, 2)).transpose(0, 2, 1)
    class_weight = rng.uniform(0.5, 2.0, size=3)
    cases = []
    for r in ["mean", "sum", "none"]:
        cases += [
            (f"smooth_l1_{r}", lambda F, a, b, r=r: F.smooth_l1_loss(a, b, reduction=r, beta=0.6), (x, y), (0, 1)),
            (f"smooth_l1_beta0_{r}", lambda F, a, b, r=r: F.smooth_l1_loss(a, b, reduction=r, beta=0.0),
             (x, y), (0, 1)),
            (f"huber_{r}", lambda F, a, b, r=r: F.huber_loss(a, b, reduction=r, delta=0.6), (x, y), (0, 1)),
            (f"huber_weighted_{r}", lambda F, a, b, w, r=r: F.huber_loss(a, b, reduction=r, weight=w),
             (x, y, weight), (0, 1)),
            (f"mse_weighted_{r}", lambda F, a, b, w, r=r: F.mse_loss(a, b, reduction=r, weight=w),
             (x, y, weight), (0, 1)),
            (f"l1_weighted_{r}", lambda F, a, b, w, r=r: F.l1_loss(a, b, reduction=r, weight=w),
             (x, y, weight), (0, 1)),
            (f"kl_div_{r}", lambda F, a, b, r=r: F.kl_div(a, b, reduction=r), (x, positive), (0, 1)),
            (f"kl_div_log_target_{r}", lambda F, a, b, r=r: F.kl_div(a, b, reduction=r, log_target=True),
             (x, y), (0, 1)),
            (f"cosine_embedding_{r}", lambda F, a, b, t, r=r: F.cosine_embedding_loss(a, b, t, 0.2, reduction=r),
             (x, y, row_signs), (0, 1)),
            (f"margin_ranking_{r}", lambda F, a, b, t, r=r: F.margin_ranking_loss(a, b, t, 0.3, reduction=r),
             (x, y, signs), (0, 1)),
            (f"hinge_embedding_{r}", lambda F, a, t, r=r: F.hinge_embedding_loss(a, t, 0.7, reduction=r),
             (x, signs), (0,)),
            (f"soft_margin_{r}", lambda F, a, t, r=r: F.soft_margin_loss(a, t, reduction=r), (x * 10, signs), (0,)),
            (f"poisson_{r}", lambda F, a, t, r=r: F.poisson_nll_loss(a, t, reduction=r), (x, counts), (0,)),
            (f"poisson_rate_full_{r}", lambda F, a, t, r=r: F.poisson_nll_loss(a, t, False, True, reduction=r),
             (positive, counts), (0,)),
            (f"gaussian_{r}", lambda F, a, b, v, r=r: F.gaussian_nll_loss(a, b, v, full=True, reduction=r),
             (x, y, positive), (0, 1, 2)),
            (f"gaussian_shared_var_{r}", lambda F, a, b, v, r=r: F.gaussian_nll_loss(a, b, v, reduction=r),
             (x, y, positive[:, :1]), (0, 1, 2)),
            (f"cross_entropy_smoothing_{r}",
             lambda F, a, t, w, r=r: F.cross_entropy(a, t, w, ignore_index=1, reduction=r, label_smoothing=0.2),
             (logits, classes, class_weight), (0,)),
            (f"cross_entropy_smoothing_unweighted_{r}",
             lambda F, a, t, r=r: F.cross_entropy(a, t, reduction=r, label_smoothing=0.3), (logits, classes), (0,)),
            (f"cross_entropy_probabilities_{r}",
             lambda F, a, t, w, r=r: F.cross_entropy(a, t, w, reduction=r, label_smoothing=0.1),
             (logits, distributions, class_weight), (0, 1)),
        ]
    cases += [
        ("kl_div_batchmean", lambda F, a, b: F.kl_div(a, b, reduction="batchmean"), (x, positive), (0, 1)),
        ("cosine_similarity_dim0", lambda F, a, b: F.cosine_similarity(a, b, 0), (x, y), (0, 1)),
        ("cosine_similarity_broadcast", lambda F, a, b: F.cosine_similarity(a, b), (x, y[:1]), (0, 1)),
        ("cosine_similarity_tiny_norms", lambda F, a, b: F.cosine_similarity(a, b, 1, 1e-2), (x * 1e-4, y), (0, 1)),
        ("pairwise_distance", lambda F, a, b: F.pairwise_distance(a, b), (x, y), (0, 1)),
        ("pairwise_distance_p1_keepdim", lambda F, a, b: F.pairwise_distance(a, b, 1, keepdim=True), (x, y), (0, 1)),
        ("pairwise_distance_vectors", lambda F, a, b: F.pairwise_distance(a, b, 3.0), (x[0], y[0]), (0, 1)),
        ("cosine_embedding_one_pair", lambda F, a, b, t: F.cosine_embedding_loss(a, b, t), (x[0], y[0], np.array(-1.0)),
         (0, 1)),
    ]
    return cases


CASES = _pytorch_cases(np.random.default_rng(0))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loss_matches_pytorch(case, dtype):
    torch = pytest.importorskip("torch")
    name, call, arrays_, differentiated = case
    ours, theirs = [], []
    for i, array in enumerate(arrays_):
        array = np.asarray(array)
        array = array.astype(dtype) if array.dtype.kind == "f" else array
        ours.append(mg.tensor(array, requires_grad=i in differentiated))
        theirs.append(torch.tensor(array, requires_grad=i in differentiated))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, expected = call(F, *ours), call(torch.nn.functional, *theirs)
    assert out.shape == tuple(expected.shape) and str(out.dtype) == str(expected.dtype).replace("torch.", "")
    tolerance = 2e-5 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=tolerance, atol=tolerance)
    seed = np.random.default_rng(1).normal(size=out.shape).astype(dtype)
    out.backward(mg.tensor(seed))
    expected.backward(torch.tensor(seed))
    for i in differentiated:
        np.testing.assert_allclose(ours[i].grad.numpy(), theirs[i].grad.numpy(), rtol=tolerance * 10,
                                   atol=tolerance * 10, err_msg=f"gradient of input {i}")


@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss", "kl_div", "soft_margin_loss",
                                  "poisson_nll_loss", "mse_loss", "l1_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_of_empty_inputs_match_pytorch(name, reduction):
    """mean of nothing is NaN, the sum 0, and no reduction an empty result, as PyTorch."""
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = getattr(F, name)(mg.zeros(0, 3), mg.zeros(0, 3), reduction=reduction)
        expected = getattr(torch.nn.functional, name)(torch.zeros(0, 3), torch.zeros(0, 3), reduction=reduction)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_kl_div_target_gradient_is_zero_where_the_target_is_zero():
    """PyTorch's kl_div gives NaN there (0/0 in its xlogy rule); the limit, which we give, is 0."""
    x, t = mg.tensor([0.3, -0.2]), mg.tensor([0.0, 0.5], requires_grad=True)
    F.kl_div(x, t, reduction="sum").backward()
    assert t.grad.tolist() == pytest.approx([0.0, np.log(0.5) + 1 + 0.2])


# --- the legacy size_average and reduce, on every loss ------------------------------------------------

LEGACY = [(None, False), (True, False), (False, None), (False, True), (True, None), (None, True), (True, True),
          (False, False)]


def _legacy_cases():
    """Each loss that takes size_average and reduce: its name, and arrays to call it with."""
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    probabilities, signs = rng.uniform(0.1, 0.9, size=(3, 4)), np.sign(rng.normal(size=(3, 4)))
    return [
        ("mse_loss", "MSELoss", (x, y)), ("l1_loss", "L1Loss", (x, y)),
        ("binary_cross_entropy", "BCELoss", (probabilities, probabilities[::-1].copy())),
        ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss", (x, probabilities)),
        ("nll_loss", "NLLLoss", (x, np.array([0, 3, 1]))),
        ("cross_entropy", "CrossEntropyLoss", (x, np.array([0, 3, 1]))),
        ("smooth_l1_loss", "SmoothL1Loss", (x, y)), ("kl_div", "KLDivLoss", (x, probabilities)),
        ("cosine_embedding_loss", "CosineEmbeddingLoss", (x, y, signs[:, 0])),
        ("margin_ranking_loss", "MarginRankingLoss", (x, y, signs)),
        ("hinge_embedding_loss", "HingeEmbeddingLoss", (x, signs)),
        ("soft_margin_loss", "SoftMarginLoss", (x, signs)),
        ("poisson_nll_loss", "PoissonNLLLoss", (x, probabilities)),
    ]


@pytest.mark.parametrize("size_average, reduce", LEGACY)
@pytest.mark.parametrize("case", _legacy_cases(), ids=[c[0] for c in _legacy_cases()])
def test_legacy_size_average_and_reduce_as_pytorch(case, size_average, reduce):
    """Mapped as PyTorch's _Reduction.legacy_get_string, with its warning, in the function and the module."""
    torch = pytest.importorskip("torch")
    function, module, arrays_ = case
    ours, theirs = [mg.tensor(a) for a in arrays_], [torch.tensor(a) for a in arrays_]
    for call in [lambda lib, F: getattr(F, function)(*(ours if lib is mg else theirs), size_average=size_average,
                                                     reduce=reduce),
                 lambda lib, F: getattr(lib.nn, module)(size_average=size_average, reduce=reduce)(
                     *(ours if lib is mg else theirs))]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            expected = call(torch, torch.nn.functional)
        torch_warnings = [str(w.message) for w in caught if "deprecated" in str(w.message)]
        with pytest.warns(UserWarning) as ours_caught:
            out = call(mg, F)
        assert torch_warnings and torch_warnings[0] in [str(w.message) for w in ours_caught]
        assert out.shape == tuple(expected.shape)
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_legacy_reduction_mapping_and_warning_text():
    from minigrad.ops.loss import legacy_reduction
    with pytest.warns(UserWarning, match=r"^size_average and reduce args will be deprecated, please use "
                                         r"reduction='sum' instead\.$"):
        assert legacy_reduction(False, None) == "sum"
    assert legacy_reduction(None, None, emit_warning=False) == "mean"
    assert legacy_reduction(True, False, emit_warning=False) == "none"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert mg.nn.MSELoss(reduce=False).reduction == "none"


def test_kl_div_mean_warns_as_pytorch():
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both the batch size "
                                         "and the support size"):
        F.kl_div(mg.zeros(2, 3), mg.ones(2, 3))
    assert F.kl_div(mg.zeros(()), mg.ones(()), reduction="batchmean").item() == 0.0


# --- argument errors, as PyTorch -------------------------------------------------------------------

def test_new_loss_argument_errors():
    x = mg.zeros(2, 3)
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        F.mse_loss(x, x, weight=mg.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(x, mg.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(x, mg.ones(2, 3), ignore_index=1)
    with pytest.raises(RuntimeError, match="Expected floating point type for target with class probabilities"):
        F.cross_entropy(x, mg.ones(2, 3, dtype=mg.int64))
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 3 classes"):
        F.cross_entropy(x, mg.ones(2, 3), weight=mg.ones(2))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected"):
        F.cosine_embedding_loss(x, x, mg.ones(2, 3))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        F.cosine_embedding_loss(mg.zeros(3), mg.zeros(3), mg.ones(2))
    with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
        F.margin_ranking_loss(x, x, mg.ones(2))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, x, -mg.ones(2, 3))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, x, mg.ones(3, 2))
    assert F.gaussian_nll_loss(x, x, 1.0).item() == 0.0  # a float variance, as PyTorch


# --- binary_cross_entropy refuses a target outside [0, 1], as PyTorch ---------------------------------

@pytest.mark.parametrize("bad", [2.0, -0.5, float("nan"), float("inf")])
def test_binary_cross_entropy_target_outside_0_1(bad):
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([0.5, 0.5]), mg.tensor([bad, 1.0]))
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        mg.nn.BCELoss()(mg.tensor([0.5]), mg.tensor([bad]))


def test_mean_losses_of_empty_inputs_are_nan_silently():
    torch = pytest.importorskip("torch")
    for name in ("mse_loss", "l1_loss"):
        for shape in ((0,), (0, 3)):
            x, y = mg.zeros(shape, requires_grad=True), mg.zeros(shape)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                got = getattr(F, name)(x, y)
                got.backward()
            expected = getattr(torch.nn.functional, name)(torch.zeros(shape), torch.zeros(shape))
            assert np.isnan(got.item()) and np.isnan(expected.item())
            assert x.grad.shape == shape


def test_binary_cross_entropy_refuses_an_integer_target_as_torch():
    torch = pytest.importorskip("torch")
    for target in (np.array([1, 0]), np.array([True, False])):
        with pytest.raises(RuntimeError):
            torch.nn.functional.binary_cross_entropy(torch.tensor([0.5, 0.2]), torch.tensor(target))
        with pytest.raises(RuntimeError, match=r"Found dtype .* but expected float32"):
            F.binary_cross_entropy(mg.tensor([0.5, 0.2]), mg.tensor(target))
