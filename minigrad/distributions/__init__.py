"""minigrad.distributions: probability distributions, as torch.distributions.

    from minigrad.distributions import Categorical, Normal, kl_divergence
    policy = Categorical(logits=scores)          # scores (N, K)
    action = policy.sample()                     # (N,) int64, from minigrad's generator (mg.manual_seed)
    loss = -(policy.log_prob(action) * reward).mean() - 0.01 * policy.entropy().mean()

    q = Normal(mu, sigma)
    z = q.rsample()                              # differentiable in mu and sigma (the reparameterisation trick)
    kl = kl_divergence(q, Normal(0.0, 1.0))

log_prob, entropy, rsample and kl_divergence are made of minigrad ops, so they are differentiable.
"""

from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical, OneHotCategorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Independent", "Normal", "OneHotCategorical", "Uniform",
           "constraints", "kl_divergence", "register_kl"]
