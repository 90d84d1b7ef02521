"""Adamax (Kingma & Ba, section 7.1): Adam with the infinity norm, in the arithmetic order of torch.optim.Adamax."""

from .. import backend
from .optimizer import Optimizer, check_number


class Adamax(Optimizer):
    """At step t, with g = grad (-grad with maximize=True) + weight_decay * p:

        m <- beta1 m + (1 - beta1) g                   (first moment, as Adam's)
        u <- max(beta2 u, |g| + eps)                   (exponentially weighted infinity norm)
        p <- p - lr / (1 - beta1^t) * m / u

    m and u live in flat buffers (state names exp_avg and exp_inf, as PyTorch's). foreach and
    capturable choose how PyTorch runs the update and are accepted and ignored.
    """
    state_names = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        betas = tuple(betas) if isinstance(betas, (list, tuple)) else betas  # anything else: refused below
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def check_hyper_parameters(self, group):
        for key in ("lr", "eps", "weight_decay"):
            check_number("Adamax", key, group[key])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adamax: betas must be a pair of numbers, got {betas!r}")
        for i, beta in enumerate(betas):
            check_number("Adamax", f"betas[{i}]", beta, below=1.0)

    def update(self, p, g, scratch, state, step, group):
        xp = backend.array_module(p)
        beta1, beta2 = group["betas"]
        m, u = state["exp_avg"], state["exp_inf"]
        if group["weight_decay"]:
            xp.multiply(p, group["weight_decay"], out=scratch)
            g += scratch
        xp.subtract(g, m, out=scratch)          # m += (1 - beta1)(g - m)
        scratch *= 1 - beta1
        m += scratch
        xp.abs(g, out=scratch)                  # u = max(beta2 u, |g| + eps)
        scratch += group["eps"]
        u *= beta2
        xp.maximum(u, scratch, out=u)
        xp.divide(m, u, out=scratch)            # p -= lr/(1 - beta1^t) * m / u
        scratch *= group["lr"] / (1 - beta1 ** step)
        p -= scratch
