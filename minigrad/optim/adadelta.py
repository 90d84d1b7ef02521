"""Adadelta (Zeiler), in the arithmetic order of torch.optim.Adadelta."""

from .. import backend
from .optimizer import Optimizer, check_number


class Adadelta(Optimizer):
    """At each step, with g = grad (-grad with maximize=True) + weight_decay * p:

        v <- rho v + (1 - rho) g^2                              (square_avg)
        d = sqrt(u + eps) / sqrt(v + eps) * g                   (the step, in the units of p)
        u <- rho u + (1 - rho) d^2                              (acc_delta)
        p <- p - lr d

    foreach and capturable choose how PyTorch runs the update and are accepted and ignored.
    """
    state_names = ("square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def check_hyper_parameters(self, group):
        for name in ("lr", "eps", "weight_decay"):
            check_number("Adadelta", name, group[name])
        check_number("Adadelta", "rho", group["rho"])
        if group["rho"] > 1:
            raise ValueError(f"Adadelta: rho must be in [0, 1], got {group['rho']}")

    def update(self, p, g, scratch, state, step, group):
        xp = backend.array_module(p)
        rho, eps = group["rho"], group["eps"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        if group["weight_decay"]:
            xp.multiply(p, group["weight_decay"], out=scratch)
            g += scratch
        square_avg *= rho                       # v = rho v + (1 - rho) g^2
        xp.multiply(g, g, out=scratch)
        scratch *= 1 - rho
        square_avg += scratch
        xp.add(square_avg, eps, out=scratch)    # g / sqrt(v + eps), kept in g
        xp.sqrt(scratch, out=scratch)
        g /= scratch
        xp.add(acc_delta, eps, out=scratch)     # d = sqrt(u + eps) * that
        xp.sqrt(scratch, out=scratch)
        scratch *= g
        acc_delta *= rho                        # u = rho u + (1 - rho) d^2
        xp.multiply(scratch, scratch, out=g)
        g *= 1 - rho
        acc_delta += g
        scratch *= group["lr"]                  # p -= lr d
        p -= scratch
