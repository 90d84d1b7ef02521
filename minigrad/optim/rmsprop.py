"""RMSprop (Hinton's lecture 6e), in the arithmetic order of torch.optim.RMSprop."""

from .. import backend, kernels
from .optimizer import Optimizer, check_number


class RMSprop(Optimizer):
    """At each step, with g = grad (-grad with maximize=True) + weight_decay * p:

        v <- alpha v + (1 - alpha) g^2                       (square_avg)
        centered:   m <- alpha m + (1 - alpha) g,  d = sqrt(v - m^2) + eps   (grad_avg)
        otherwise:  d = sqrt(v) + eps
        momentum:   b <- momentum b + g / d,  p <- p - lr b  (momentum_buffer)
        otherwise:  p <- p - lr g / d

    v, m and b live in flat buffers (every group keeps all three, so that any group may change
    its momentum or centering later), each line a few in-place array ops (or, with numba, all of it
    one compiled loop: kernels.rmsprop). capturable and foreach
    choose how PyTorch runs the update and are accepted and ignored.
    """
    state_names = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def check_hyper_parameters(self, group):
        for name in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            check_number("RMSprop", name, group[name])

    def one_pass_update(self, group):
        """update() as one compiled loop per parameter (kernels.rmsprop), where numba runs."""
        if kernels.rmsprop is None:
            return None

        def update(p, grad, state, step):
            kernels.rmsprop(p, grad, state["square_avg"], state["grad_avg"], state["momentum_buffer"], group["lr"],
                            group["alpha"], group["eps"], group["weight_decay"], group["momentum"], group["centered"],
                            group["maximize"])
        return update

    def update(self, p, g, scratch, state, step, group):
        xp = backend.array_module(p)
        alpha, momentum = group["alpha"], group["momentum"]
        if group["weight_decay"]:
            xp.multiply(p, group["weight_decay"], out=scratch)
            g += scratch
        square_avg = state["square_avg"]
        square_avg *= alpha                     # v = alpha v + (1 - alpha) g^2
        xp.multiply(g, g, out=scratch)
        scratch *= 1 - alpha
        square_avg += scratch
        if group["centered"]:
            grad_avg = state["grad_avg"]
            xp.subtract(g, grad_avg, out=scratch)   # m += (1 - alpha)(g - m)
            scratch *= 1 - alpha
            grad_avg += scratch
            xp.multiply(grad_avg, grad_avg, out=scratch)   # d = sqrt(v - m^2) + eps
            xp.subtract(square_avg, scratch, out=scratch)
            xp.sqrt(scratch, out=scratch)
        else:
            xp.sqrt(square_avg, out=scratch)    # d = sqrt(v) + eps
        scratch += group["eps"]
        xp.divide(g, scratch, out=scratch)      # g / d
        if momentum > 0:
            buffer = state["momentum_buffer"]
            buffer *= momentum                  # b = momentum b + g / d
            buffer += scratch
            xp.multiply(buffer, group["lr"], out=scratch)
        else:
            scratch *= group["lr"]
        p -= scratch
