"""Distribution: the base class of every distribution, as torch.distributions.Distribution.

A distribution holds a batch of independent distributions (batch_shape), each over events of
event_shape. sample(sample_shape) draws sample_shape + batch_shape + event_shape values; log_prob(value)
gives one log density per event, of shape sample_shape + batch_shape.

    d = Normal(mg.zeros(3), mg.ones(3))     # batch_shape (3,), event_shape ()
    x = d.sample((100,))                    # (100, 3), from minigrad's generator (mg.manual_seed)
    d.log_prob(x)                           # (100, 3), differentiable in loc and scale

Arguments and values are checked against the constraints (constraints.py) unless validate_args=False
(Distribution.set_default_validate_args(False) turns checking off everywhere), as PyTorch.
"""

from functools import cached_property

from .. import autograd, ops
from ..legacy import Size
from ..tensor import Tensor
from . import constraints

__all__ = ["Distribution", "lazy_property"]

# A parameter computed from the other on first use (probs from logits, or logits from probs),
# then kept: functools.cached_property stores it in the instance's __dict__, as PyTorch's lazy_property.
lazy_property = cached_property


class Distribution:
    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Whether distributions check their arguments unless told otherwise (True to start, as PyTorch)."""
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()

    def _check_parameters(self):
        for param, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue  # depends on other parameters: cannot be checked alone
            if param not in self.__dict__ and isinstance(getattr(type(self), param, None), lazy_property):
                continue  # not given, and not computed yet
            value = getattr(self, param)
            if not bool(constraint.check(value).all()):
                raise ValueError(f"Expected parameter {param} ({type(value).__name__} of shape {tuple(value.shape)}) "
                                 f"of distribution {self!r} to satisfy the constraint {constraint!r}, but found "
                                 f"invalid values:\n{value}")

    # --- shapes ---------------------------------------------------------------------------

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=Size()):
        """sample_shape + batch_shape + event_shape: the shape of sample(sample_shape)."""
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    # --- what each distribution defines -------------------------------------------------------

    @property
    def arg_constraints(self):
        """{parameter name: the constraint it must satisfy}."""
        raise NotImplementedError

    @property
    def support(self):
        """The constraint that values (samples, log_prob's argument) satisfy."""
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self):
        return ops.sqrt(self.variance)

    def sample(self, sample_shape=Size()):
        """Draws of shape sample_shape + batch_shape + event_shape, outside the graph (no gradient)."""
        with autograd.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        """Reparameterised draws: a differentiable function of the parameters and independent noise."""
        raise NotImplementedError(f"{type(self).__name__} does not implement rsample")

    def sample_n(self, n):
        return self.sample(Size((n,)))

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def perplexity(self):
        """exp(entropy)."""
        return ops.exp(self.entropy())

    # --- checks -----------------------------------------------------------------------------

    def _validate_sample(self, value):
        """value must be a Tensor whose shape ends in event_shape and broadcasts with
        batch_shape + event_shape, and must lie in the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        actual = Size(value.shape)
        event_start = len(actual) - len(self._event_shape)
        if actual[event_start:] != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: {actual} vs {self._event_shape}.")
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: {actual} vs {expected}.")
        if not bool(self.support.check(value).all()):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) to be "
                             f"within the support ({self.support!r}) of the distribution {self!r}, but found "
                             f"invalid values:\n{value}")

    def __repr__(self):
        """Each given parameter: its value if it holds one number, else its shape."""
        shown = []
        for name in self.arg_constraints:
            if name in self.__dict__:
                value = self.__dict__[name]
                shown.append(f"{name}: {value if value.numel() == 1 else Size(value.shape)}")
        return f"{type(self).__name__}({', '.join(shown)})"
