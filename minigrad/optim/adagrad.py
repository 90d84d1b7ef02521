"""Adagrad (Duchi, Hazan & Singer), in the arithmetic order of torch.optim.Adagrad."""

from .. import backend
from .optimizer import Optimizer, check_number


class Adagrad(Optimizer):
    """At step t, with g = grad (-grad with maximize=True) + weight_decay * p:

        clr = lr / (1 + (t - 1) lr_decay)              (the decayed rate)
        s <- s + g^2                                   (sum, starting at initial_accumulator_value)
        p <- p - clr g / (sqrt(s) + eps)

    foreach and fused choose how PyTorch runs the update and are accepted and ignored.
    """
    state_names = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))

    def check_hyper_parameters(self, group):
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_number("Adagrad", name, group[name])

    def initial_state(self, group):
        return {"sum": group["initial_accumulator_value"]}

    def update(self, p, g, scratch, state, step, group):
        xp = backend.array_module(p)
        if group["weight_decay"]:
            xp.multiply(p, group["weight_decay"], out=scratch)
            g += scratch
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        total = state["sum"]
        xp.multiply(g, g, out=scratch)          # s += g^2
        total += scratch
        xp.sqrt(total, out=scratch)             # p -= clr g / (sqrt(s) + eps)
        scratch += group["eps"]
        xp.divide(g, scratch, out=scratch)
        scratch *= clr
        p -= scratch

