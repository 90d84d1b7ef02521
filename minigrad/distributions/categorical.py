"""Categorical and OneHotCategorical: one of K categories, drawn with the given probabilities."""

import numpy as np

from .. import creation, ops
from ..legacy import Size
from . import constraints
from .distribution import Distribution, lazy_property
from .utils import logits_to_probs, probs_to_logits

__all__ = ["Categorical", "OneHotCategorical"]


class Categorical(Distribution):
    """P(X = k) = probs[..., k], k in 0..K-1, as torch.distributions.Categorical.

    probs (..., K): non-negative weights, normalised to sum to 1 over the last dim; or logits (..., K):
    unnormalised log probabilities, normalised as logits - logsumexp(logits). Give one of them.
    batch_shape is the parameter's shape without its last dim; events are scalars (int64 samples).

        log_prob(k) = logits[..., k]                (the normalised logits)
        entropy     = -sum_k p_k log p_k
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - ops.logsumexp(logits, dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        batch_shape = Size(self._param.shape[:-1])
        super().__init__(batch_shape, validate_args=validate_args)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return Size(self._param.shape)

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return creation.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype, device=self.probs.device)

    @property
    def mode(self):
        return ops.argmax(self.probs, dim=-1)

    @property
    def variance(self):
        return creation.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype, device=self.probs.device)

    def sample(self, sample_shape=Size()):
        """int64 categories of shape sample_shape + batch_shape (mg.multinomial with replacement)."""
        sample_shape = Size(sample_shape)
        probs_2d = self.probs.detach().reshape(-1, self._num_events)
        samples_2d = ops.transpose(creation.multinomial(probs_2d, sample_shape.numel(), True), 0, 1)
        return samples_2d.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value):
        """The normalised logit of each value's category (value broadcast with batch_shape)."""
        if self._validate_args:
            self._validate_sample(value)
        value = ops.unsqueeze(value.long(), -1)
        value, log_pmf = ops.broadcast_tensors(value, self.logits)
        return ops.squeeze(ops.gather(log_pmf, -1, value[..., :1]), -1)

    def entropy(self):
        """-sum_k p_k log p_k (a zero-probability category adds 0: its logit is clamped to the
        dtype's most negative finite number, not -inf)."""
        logits = ops.clamp(self.logits, min=float(np.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        """0..K-1 as (K, 1, ..., 1), expanded to (K,) + batch_shape unless expand=False."""
        values = creation.arange(self._num_events, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = ops.expand(values, -1, *self._batch_shape)
        return values


class OneHotCategorical(Distribution):
    """A Categorical whose samples are one-hot vectors (event_shape (K,)), as
    torch.distributions.OneHotCategorical.

        log_prob(x) = log p_k where x is one-hot at k;   entropy as Categorical's;
        mean = probs;  variance = probs (1 - probs)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        probs = self._categorical.probs
        return ops.one_hot(ops.argmax(probs, dim=-1), probs.shape[-1]).to(probs.dtype)

    @property
    def variance(self):
        probs = self._categorical.probs
        return probs * (1 - probs)

    def sample(self, sample_shape=Size()):
        """One-hot vectors (probs' dtype) of shape sample_shape + batch_shape + (K,)."""
        probs = self._categorical.probs
        indices = self._categorical.sample(Size(sample_shape))
        return ops.one_hot(indices, self._categorical._num_events).to(probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(ops.argmax(value, dim=-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        """The K one-hot vectors as (K, 1, ..., 1, K), expanded to (K,) + batch_shape + (K,) unless expand=False."""
        n = self.event_shape[0]
        values = creation.eye(n, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((n,) + (1,) * len(self.batch_shape) + (n,))
        if expand:
            values = ops.expand(values, n, *self.batch_shape, n)
        return values
