"""minigrad/distributions: Categorical, OneHotCategorical, Normal, Bernoulli, Uniform, Independent,
kl_divergence and the argument checks.

Against PyTorch (float64, the same parameters): log_prob, entropy, cdf, mean, mode, variance,
enumerate_support and kl_divergence, and their gradients with respect to the parameters, to 1e-12.
Without PyTorch: sample shapes and dtypes, reproducibility under mg.manual_seed, empirical moments of
many draws within a bound derived from the standard error, gradcheck through log_prob, entropy,
rsample and kl_divergence, and the argument checks' errors.
"""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import distributions as D

TOLERANCE = dict(rtol=1e-12, atol=1e-12)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def uniform(*shape, low=0.0, high=1.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def both(torch, name, params, differentiable=True):
    """The distribution `name` in both frameworks from the same NumPy (or number) parameters; the tensor
    parameters require grad. Returns (ours, theirs, our parameter tensors, their parameter tensors)."""
    ours_params = {k: mg.tensor(v, requires_grad=differentiable) if isinstance(v, np.ndarray) else v
                   for k, v in params.items()}
    theirs_params = {k: torch.tensor(v, requires_grad=differentiable) if isinstance(v, np.ndarray) else v
                     for k, v in params.items()}
    ours = getattr(D, name)(**ours_params)
    theirs = getattr(torch.distributions, name)(**theirs_params)
    return ours, theirs, ours_params, theirs_params


def assert_same(got, expected, what=""):
    expected = expected.detach().numpy() if hasattr(expected, "detach") else np.asarray(expected)
    assert got.shape == expected.shape, what
    np.testing.assert_allclose(got.detach().numpy(), expected, **TOLERANCE, err_msg=what)


def assert_same_gradients(torch, got, expected, ours_params, theirs_params, seed=3):
    """d(sum(c * value))/d(parameter) in both, for a random cotangent c."""
    assert got.requires_grad == expected.requires_grad
    if not expected.requires_grad:  # e.g. a Normal's entropy when only loc is a tensor
        return
    cotangent = normal(*expected.shape, seed=seed)
    (got * mg.tensor(cotangent)).sum().backward(retain_graph=True)  # the parameters serve several checks
    (expected * torch.tensor(cotangent)).sum().backward(retain_graph=True)
    for name, param in ours_params.items():
        if isinstance(param, mg.Tensor) and param.requires_grad:
            theirs = theirs_params[name].grad
            if param.grad is None:  # not used (an entropy that does not depend on the mean)
                assert theirs is None or not theirs.numpy().any(), name
            else:
                np.testing.assert_allclose(param.grad.numpy(), theirs.numpy(), **TOLERANCE, err_msg=name)
            param.grad = None
            theirs_params[name].grad = None


# --- against PyTorch -----------------------------------------------------------------------

PROBABILITIES = uniform(3, 4, low=0.1, high=2.0, seed=1)  # unnormalised weights: Categorical normalises them

CATEGORICAL = {
    "probs": {"probs": PROBABILITIES},
    "logits": {"logits": normal(3, 4, seed=2)},
    "one_batch_dim_less": {"logits": normal(5, seed=3)},
    "zero_probability": {"probs": np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]])},
}


@pytest.mark.parametrize("name", ["Categorical", "OneHotCategorical"])
@pytest.mark.parametrize("case", CATEGORICAL, ids=list(CATEGORICAL))
def test_categoricals_match_torch(torch, name, case):
    ours, theirs, ours_params, theirs_params = both(torch, name, CATEGORICAL[case])
    assert ours.batch_shape == tuple(theirs.batch_shape) and ours.event_shape == tuple(theirs.event_shape)
    categories = theirs.probs.shape[-1]
    values = np.random.default_rng(4).integers(0, categories, (2,) + tuple(theirs.batch_shape))
    if case == "zero_probability":
        values[values == 0] = 1  # category 0 of the first row has probability 0: log_prob -inf, no gradient
    if name == "OneHotCategorical":
        values = np.eye(categories)[values]
    else:
        one = values.reshape(-1)[0]
        assert_same(ours.log_prob(mg.tensor(one)), theirs.log_prob(torch.tensor(one)),
                    "log_prob of one value, broadcast")
    for what in ("probs", "logits", "mean", "variance", "mode"):
        got, expected = getattr(ours, what), getattr(theirs, what)
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), **TOLERANCE, err_msg=what)
    got, expected = ours.log_prob(mg.tensor(values)), theirs.log_prob(torch.tensor(values))
    assert_same(got, expected, "log_prob")
    assert_same_gradients(torch, got, expected, ours_params, theirs_params)
    got, expected = ours.entropy(), theirs.entropy()
    assert_same(got, expected, "entropy")
    assert_same_gradients(torch, got, expected, ours_params, theirs_params)
    assert_same(ours.perplexity(), theirs.perplexity(), "perplexity")
    for expand in (True, False):
        support = ours.enumerate_support(expand)
        expected_support = theirs.enumerate_support(expand)
        assert support.dtype == {torch.int64: mg.int64, torch.float64: mg.float64}[expected_support.dtype]
        np.testing.assert_array_equal(support.numpy(), expected_support.numpy())


NORMAL = {
    "tensors": {"loc": normal(2, 3, seed=1), "scale": uniform(2, 3, low=0.5, high=2.0, seed=2)},
    "broadcast": {"loc": normal(2, 1, seed=1), "scale": uniform(3, low=0.5, high=2.0, seed=2)},
    "number_scale": {"loc": normal(3, seed=1), "scale": 1.5},
}


@pytest.mark.parametrize("case", NORMAL, ids=list(NORMAL))
def test_normal_matches_torch(torch, case):
    ours, theirs, ours_params, theirs_params = both(torch, "Normal", NORMAL[case])
    assert ours.batch_shape == tuple(theirs.batch_shape)
    x = normal(4, *theirs.batch_shape, seed=5)
    for what in ("log_prob", "cdf"):
        got, expected = getattr(ours, what)(mg.tensor(x)), getattr(theirs, what)(torch.tensor(x))
        assert_same(got, expected, what)
        assert_same_gradients(torch, got, expected, ours_params, theirs_params)
    got, expected = ours.entropy(), theirs.entropy()
    assert_same(got, expected, "entropy")
    assert_same_gradients(torch, got, expected, ours_params, theirs_params)
    for what in ("mean", "mode", "stddev", "variance"):
        assert_same(getattr(ours, what), getattr(theirs, what), what)


def test_number_parameters_give_default_dtype_scalars(torch):
    for name, params in [("Normal", {"loc": 0.5, "scale": 2.0}), ("Uniform", {"low": -1.0, "high": 3.0}),
                         ("Bernoulli", {"probs": 0.3}), ("Bernoulli", {"logits": -0.4})]:
        ours, theirs, _, _ = both(torch, name, params)
        assert repr(ours) == repr(theirs)
        assert ours.batch_shape == () and ours.sample().shape == ()
        assert ours.entropy().dtype == mg.float32
        np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(), rtol=1e-6)


BERNOULLI = {
    "probs": {"probs": uniform(2, 3, low=0.05, high=0.95, seed=1)},
    "logits": {"logits": normal(2, 3, seed=2)},
}


@pytest.mark.parametrize("case", BERNOULLI, ids=list(BERNOULLI))
def test_bernoulli_matches_torch(torch, case):
    ours, theirs, ours_params, theirs_params = both(torch, "Bernoulli", BERNOULLI[case])
    values = (uniform(4, 2, 3, seed=6) > 0.5).astype(np.float64)
    got, expected = ours.log_prob(mg.tensor(values)), theirs.log_prob(torch.tensor(values))
    assert_same(got, expected, "log_prob")
    assert_same_gradients(torch, got, expected, ours_params, theirs_params)
    got, expected = ours.entropy(), theirs.entropy()
    assert_same(got, expected, "entropy")
    assert_same_gradients(torch, got, expected, ours_params, theirs_params)
    for what in ("probs", "logits", "mean", "variance", "mode"):
        assert_same(getattr(ours, what), getattr(theirs, what), what)
    np.testing.assert_array_equal(ours.enumerate_support().numpy(), theirs.enumerate_support().numpy())


def test_bernoulli_mode_is_nan_at_one_half(torch):
    probs = np.array([0.2, 0.5, 0.7])
    np.testing.assert_array_equal(D.Bernoulli(mg.tensor(probs)).mode.numpy(),
                                  torch.distributions.Bernoulli(torch.tensor(probs)).mode.numpy())


def test_uniform_matches_torch(torch):
    low = uniform(2, 3, low=-2, high=0, seed=1)
    params = {"low": low, "high": low + uniform(2, 3, low=0.5, high=3, seed=2)}
    ours, theirs, ours_params, theirs_params = both(torch, "Uniform", params)
    x = low + uniform(4, 2, 3, low=0.01, high=0.49, seed=3)  # inside [low, high)
    for what in ("log_prob", "cdf"):
        got, expected = getattr(ours, what)(mg.tensor(x)), getattr(theirs, what)(torch.tensor(x))
        assert_same(got, expected, what)
        assert_same_gradients(torch, got, expected, ours_params, theirs_params)
    got, expected = ours.entropy(), theirs.entropy()
    assert_same(got, expected, "entropy")
    assert_same_gradients(torch, got, expected, ours_params, theirs_params)
    q = uniform(2, 3, seed=4)
    assert_same(ours.icdf(mg.tensor(q)), theirs.icdf(torch.tensor(q)), "icdf")
    for what in ("mean", "stddev", "variance"):
        assert_same(getattr(ours, what), getattr(theirs, what), what)
    outside = D.Uniform(0.0, 1.0, validate_args=False).log_prob(mg.tensor([-0.5, 0.0, 0.5, 1.0]))
    expected = torch.distributions.Uniform(0.0, 1.0, validate_args=False).log_prob(torch.tensor([-0.5, 0, 0.5, 1]))
    np.testing.assert_array_equal(outside.numpy(), expected.numpy())  # -inf outside, 0 on [0, 1)


def test_independent_matches_torch(torch):
    params = {"loc": normal(2, 3, 4, seed=1), "scale": uniform(2, 3, 4, low=0.5, high=2.0, seed=2)}
    ours_base, theirs_base, ours_params, theirs_params = both(torch, "Normal", params)
    ours, theirs = D.Independent(ours_base, 2), torch.distributions.Independent(theirs_base, 2)
    assert ours.batch_shape == (2,) and ours.event_shape == (3, 4) and ours.has_rsample
    x = normal(5, 2, 3, 4, seed=3)
    got, expected = ours.log_prob(mg.tensor(x)), theirs.log_prob(torch.tensor(x))
    assert_same(got, expected, "log_prob")
    assert_same_gradients(torch, got, expected, ours_params, theirs_params)
    assert_same(ours.entropy(), theirs.entropy(), "entropy")
    assert repr(ours) == repr(theirs)
    with pytest.raises(ValueError, match="Expected reinterpreted_batch_ndims <= len"):
        D.Independent(ours_base, 4)


def kl_pairs():
    """(name, p's parameters, q's parameters): the same support, so every KL is finite."""
    loc, scale = normal(2, 3, seed=1), uniform(2, 3, low=0.5, high=2, seed=2)
    probs = uniform(2, 4, low=0.1, high=1, seed=3)
    low = uniform(3, low=-1, high=0, seed=4)
    return [
        ("Normal", {"loc": loc, "scale": scale},
         {"loc": normal(2, 3, seed=5), "scale": uniform(3, low=1, high=3, seed=6)}),
        ("Categorical", {"probs": probs}, {"logits": normal(2, 4, seed=7)}),
        ("OneHotCategorical", {"logits": normal(2, 4, seed=8)}, {"probs": probs}),
        ("Bernoulli", {"probs": uniform(3, low=0.1, high=0.9, seed=9)}, {"logits": normal(3, seed=10)}),
        ("Uniform", {"low": low, "high": low + 1}, {"low": low - 0.5, "high": low + 2}),
    ]


@pytest.mark.parametrize("name, p_params, q_params", kl_pairs(), ids=[pair[0] for pair in kl_pairs()])
def test_kl_divergence_matches_torch(torch, name, p_params, q_params):
    ours_p, theirs_p, ours_p_params, theirs_p_params = both(torch, name, p_params)
    ours_q, theirs_q, ours_q_params, theirs_q_params = both(torch, name, q_params)
    got = D.kl_divergence(ours_p, ours_q)
    expected = torch.distributions.kl_divergence(theirs_p, theirs_q)
    assert_same(got, expected, "kl")
    assert (got.numpy() >= 0).all()
    assert_same_gradients(torch, got, expected, {**{"p" + k: v for k, v in ours_p_params.items()},
                                                 **{"q" + k: v for k, v in ours_q_params.items()}},
                          {**{"p" + k: v for k, v in theirs_p_params.items()},
                           **{"q" + k: v for k, v in theirs_q_params.items()}})


def test_kl_divergence_edge_cases_match_torch(torch):
    """+inf where q gives zero probability (or density) to what p can draw; 0 for equal distributions."""
    cases = [("Categorical", {"probs": np.array([0.5, 0.5, 0.0])}, {"probs": np.array([0.0, 0.5, 0.5])}),
             ("Bernoulli", {"probs": np.array([0.0, 1.0, 0.3])}, {"probs": np.array([0.5, 0.5, 0.0])}),
             ("Uniform", {"low": np.array([0.0, 0.0]), "high": np.array([1.0, 2.0])},
              {"low": np.array([-1.0, 0.5]), "high": np.array([2.0, 3.0])})]
    for name, p_params, q_params in cases:
        ours_p, theirs_p, _, _ = both(torch, name, p_params, differentiable=False)
        ours_q, theirs_q, _, _ = both(torch, name, q_params, differentiable=False)
        np.testing.assert_array_equal(D.kl_divergence(ours_p, ours_q).numpy(),
                                      torch.distributions.kl_divergence(theirs_p, theirs_q).numpy(), err_msg=name)
    p = D.Normal(mg.tensor([0.3, -1.0]), mg.tensor([1.0, 2.0]))
    np.testing.assert_allclose(D.kl_divergence(p, p).numpy(), 0.0, atol=1e-7)
    ours = D.kl_divergence(D.Independent(p, 1), D.Independent(D.Normal(mg.zeros(2), mg.ones(2)), 1))
    torch_p = torch.distributions.Normal(torch.tensor([0.3, -1.0]), torch.tensor([1.0, 2.0]))
    torch_q = torch.distributions.Normal(torch.zeros(2), torch.ones(2))
    theirs = torch.distributions.kl_divergence(torch.distributions.Independent(torch_p, 1),
                                               torch.distributions.Independent(torch_q, 1))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_validation_errors_match_torch(torch):
    """The same error type and message (up to how each framework prints a tensor)."""
    cases = [
        ("Normal", dict(loc=np.zeros(2), scale=np.array([1.0, -1.0]))),
        ("Normal", dict(loc=np.array([0.0, np.nan]), scale=np.ones(2))),
        ("Categorical", dict(probs=np.array([0.5, -0.25]))),
        ("Bernoulli", dict(probs=np.array([0.5, 1.5]))),
        ("Uniform", dict(low=np.array([1.0]), high=np.array([0.0]))),
    ]
    for name, params in cases:
        with pytest.raises(ValueError) as ours:
            getattr(D, name)(**{k: mg.tensor(v) for k, v in params.items()})
        with pytest.raises(ValueError) as theirs:
            getattr(torch.distributions, name)(**{k: torch.tensor(v) for k, v in params.items()})
        ours_message, theirs_message = (str(e.value).split(", but found")[0] for e in (ours, theirs))
        if name == "Uniform":  # the bound is a tensor, and mg prints a dtype as float64, not torch.float64
            ours_message = ours_message.replace("dtype=float64", "dtype=torch.float64")
        assert ours_message == theirs_message
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Categorical(probs=mg.ones(2), logits=mg.ones(2))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Bernoulli()
    with pytest.raises(ValueError, match="`logits` parameter must be at least one-dimensional."):
        D.Categorical(logits=mg.tensor(1.0))


def test_log_prob_checks_its_value_as_torch(torch):
    distributions = [(D.Categorical(probs=mg.ones(3)), torch.distributions.Categorical(probs=torch.ones(3)), [3]),
                     (D.Bernoulli(mg.tensor([0.5])), torch.distributions.Bernoulli(torch.tensor([0.5])), [0.5]),
                     (D.Uniform(0.0, 1.0), torch.distributions.Uniform(0.0, 1.0), [1.5]),
                     (D.OneHotCategorical(mg.ones(3)), torch.distributions.OneHotCategorical(torch.ones(3)),
                      [1.0, 1.0, 0.0])]
    for ours, theirs, value in distributions:
        with pytest.raises(ValueError, match="to be within the support"):
            ours.log_prob(mg.tensor(value))
        with pytest.raises(ValueError, match="to be within the support"):
            theirs.log_prob(torch.tensor(value))
    normal_ = D.Normal(mg.zeros(2), mg.ones(2))
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        normal_.log_prob(0.5)
    with pytest.raises(ValueError, match=r"Value is not broadcastable with batch_shape\+event_shape"):
        normal_.log_prob(mg.zeros(3))
    with pytest.raises(ValueError, match="The right-most size of value must match event_shape"):
        D.OneHotCategorical(mg.ones(3)).log_prob(mg.zeros(2))
    unchecked = D.Normal(mg.zeros(2), mg.tensor([1.0, -1.0]), validate_args=False)  # no error when told so
    assert unchecked.scale.numpy()[1] == -1.0


def test_default_validation_can_be_turned_off():
    D.Distribution.set_default_validate_args(False)
    try:
        D.Bernoulli(mg.tensor([2.0]))  # out of range, unchecked
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Bernoulli(mg.tensor([2.0]))


# --- sampling, without PyTorch ---------------------------------------------------------------

def draws(distribution, count, seed=0):
    mg.manual_seed(seed)
    return distribution.sample((count,))


def test_sample_shapes_and_dtypes():
    cases = [(D.Categorical(logits=mg.zeros(2, 3)), (5, 4, 2), mg.int64),
             (D.OneHotCategorical(probs=mg.ones(2, 3)), (5, 4, 2, 3), mg.float32),
             (D.Normal(mg.zeros(2, 3), 1.0), (5, 4, 2, 3), mg.float32),
             (D.Bernoulli(mg.full((3,), 0.5, dtype=mg.float64)), (5, 4, 3), mg.float64),
             (D.Uniform(mg.zeros(3), 1.0), (5, 4, 3), mg.float32),
             (D.Independent(D.Normal(mg.zeros(2, 3), 1.0), 1), (5, 4, 2, 3), mg.float32)]
    for distribution, shape, dtype in cases:
        sample = distribution.sample((5, 4))
        assert sample.shape == shape and sample.dtype == dtype and not sample.requires_grad
        assert bool(distribution.support.check(sample).all())
        assert distribution.sample().shape == shape[2:]
        assert distribution.sample(mg.Size([1])).shape == (1,) + shape[2:]


def test_samples_are_reproducible_under_manual_seed():
    for distribution in (D.Categorical(logits=mg.randn(3, 4)), D.Normal(mg.zeros(3), 2.0), D.Bernoulli(0.4),
                         D.Uniform(-1.0, 1.0), D.OneHotCategorical(probs=mg.ones(4))):
        first, second, other = draws(distribution, 50), draws(distribution, 50), draws(distribution, 50, seed=1)
        np.testing.assert_array_equal(first.numpy(), second.numpy())
        assert not np.array_equal(first.numpy(), other.numpy())


# Moments of n = 20000 draws: the sample mean's standard error is sigma / sqrt(n); the bound 5 standard
# errors is exceeded by chance with probability below 1e-6 per component, and the seed is fixed anyway.
COUNT = 20000


def within_five_standard_errors(samples, mean, variance):
    standard_error = np.sqrt(variance / COUNT)
    assert (np.abs(samples.mean(0) - mean) < 5 * standard_error).all(), (samples.mean(0), mean)


def test_categorical_frequencies():
    probs = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
    samples = draws(D.Categorical(probs=mg.tensor(probs)), COUNT).numpy()
    frequencies = np.stack([(samples == k).astype(float) for k in range(3)], axis=-1)
    within_five_standard_errors(frequencies, probs, probs * (1 - probs))
    one_hot = draws(D.OneHotCategorical(logits=mg.tensor(np.log(probs))), COUNT).numpy()
    within_five_standard_errors(one_hot, probs, probs * (1 - probs))


def test_continuous_and_bernoulli_moments():
    loc, scale = np.array([-1.0, 0.0, 3.0]), np.array([0.5, 1.0, 2.0])
    samples = draws(D.Normal(mg.tensor(loc), mg.tensor(scale)), COUNT).numpy()
    within_five_standard_errors(samples, loc, scale ** 2)
    within_five_standard_errors((samples - loc) ** 2, scale ** 2, 2 * scale ** 4)  # var of (x - mu)^2 is 2 sigma^4
    low, high = np.array([0.0, -2.0]), np.array([1.0, 4.0])
    samples = draws(D.Uniform(mg.tensor(low), mg.tensor(high)), COUNT).numpy()
    within_five_standard_errors(samples, (low + high) / 2, (high - low) ** 2 / 12)
    assert (samples >= low).all() and (samples < high).all()
    probs = np.array([0.1, 0.5, 0.9])
    samples = draws(D.Bernoulli(mg.tensor(probs)), COUNT).numpy()
    within_five_standard_errors(samples, probs, probs * (1 - probs))


# --- gradients, without PyTorch --------------------------------------------------------------

def test_rsample_is_differentiable_and_sample_is_not():
    """Normal: x = loc + eps scale, so dx/dloc = 1 and dx/dscale = eps = (x - loc) / scale; Uniform:
    x = low + u (high - low), so dx/dhigh = u and dx/dlow = 1 - u."""
    loc = mg.tensor([0.5, -1.0], dtype=mg.float64, requires_grad=True)
    scale = mg.tensor([2.0, 0.5], dtype=mg.float64, requires_grad=True)
    distribution = D.Normal(loc, scale)
    assert not distribution.sample().requires_grad
    x = distribution.rsample((3,))
    x.sum().backward()
    eps = (x.detach().numpy() - loc.detach().numpy()) / scale.detach().numpy()
    np.testing.assert_allclose(loc.grad.numpy(), [3.0, 3.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0), rtol=1e-12)
    low = mg.tensor(0.0, dtype=mg.float64, requires_grad=True)
    high = mg.tensor(2.0, dtype=mg.float64, requires_grad=True)
    x = D.Uniform(low, high).rsample((4,))
    x.sum().backward()
    u = x.detach().numpy() / 2.0
    np.testing.assert_allclose(high.grad.numpy(), u.sum(), rtol=1e-12)
    np.testing.assert_allclose(low.grad.numpy(), (1 - u).sum(), rtol=1e-12)


def test_gradcheck_through_log_prob_entropy_and_kl():
    loc = mg.tensor([0.3, -0.7], dtype=mg.float64, requires_grad=True)
    scale = mg.tensor([1.2, 0.6], dtype=mg.float64, requires_grad=True)
    x = mg.tensor([[0.1, 0.2], [-1.0, 2.0]], dtype=mg.float64)
    assert mg.gradcheck(lambda m, s: D.Normal(m, s).log_prob(x), (loc, scale))
    assert mg.gradcheck(lambda m, s: D.kl_divergence(D.Normal(m, s), D.Normal(0.0, 2.0)), (loc, scale))
    logits = mg.tensor([[0.2, -0.4, 1.0], [0.0, 0.5, -1.5]], dtype=mg.float64, requires_grad=True)
    categories = mg.tensor([2, 0])
    assert mg.gradcheck(lambda z: D.Categorical(logits=z).log_prob(categories), (logits,))
    assert mg.gradcheck(lambda z: D.Categorical(logits=z).entropy(), (logits,))
    assert mg.gradgradcheck(lambda z: D.Categorical(logits=z).entropy(), (logits,))
    probs = mg.tensor([0.2, 0.7], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda p: D.Bernoulli(p).entropy(), (probs,))
    assert mg.gradcheck(lambda p: D.Bernoulli(p).log_prob(mg.tensor([1.0, 0.0], dtype=mg.float64)), (probs,))


def test_score_function_gradient_points_to_the_rewarded_action():
    """REINFORCE in one step: raising log_prob of an action with positive reward raises its probability."""
    logits = mg.zeros(3, requires_grad=True)
    policy = D.Categorical(logits=logits)
    loss = -policy.log_prob(mg.tensor(1)) * 2.0
    loss.backward()
    assert logits.grad.numpy()[1] < 0 < logits.grad.numpy()[0]
    np.testing.assert_allclose(logits.grad.numpy(), [2 / 3, -4 / 3, 2 / 3], rtol=1e-6)


def test_normal_entropy_and_log_prob_are_the_formulas():
    distribution = D.Normal(mg.tensor(1.0, dtype=mg.float64), mg.tensor(2.0, dtype=mg.float64))
    np.testing.assert_allclose(distribution.entropy().numpy(), 0.5 + 0.5 * math.log(2 * math.pi) + math.log(2.0))
    np.testing.assert_allclose(distribution.log_prob(mg.tensor(3.0, dtype=mg.float64)).numpy(),
                               -0.5 - math.log(2.0) - 0.5 * math.log(2 * math.pi))
