"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay."""

from .. import backend
from .optimizer import Optimizer, check_number


class SGD(Optimizer):
    """p <- p - lr * d, where (as torch.optim.SGD):

        g = grad (-grad with maximize=True) + weight_decay * p
        b = g on the first step, then b = momentum * b + (1 - dampening) * g
        d = g + momentum * b  (nesterov),  b  (momentum),  g  (plain)

    Every group keeps a momentum buffer, so that any group may set (or later change) its momentum.
    foreach and fused choose how PyTorch runs the update and are accepted and ignored.
    """
    state_names = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def check_hyper_parameters(self, group):
        for name in ("lr", "momentum", "weight_decay"):
            check_number("SGD", name, group[name])
        check_number("SGD", "dampening", group["dampening"], minimum=float("-inf"))
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")

    def update(self, p, g, scratch, state, step, group):
        xp = backend.array_module(p)
        momentum = group["momentum"]
        if group["weight_decay"]:
            xp.multiply(p, group["weight_decay"], out=scratch)
            g += scratch
        if momentum:
            buffer = state["momentum_buffer"]
            if step == 1:
                buffer[...] = g
            else:
                buffer *= momentum
                xp.multiply(g, 1 - group["dampening"], out=scratch)
                buffer += scratch
            if group["nesterov"]:
                xp.multiply(buffer, momentum, out=scratch)
                g += scratch
            else:
                g = buffer
        xp.multiply(g, group["lr"], out=scratch)
        p -= scratch
