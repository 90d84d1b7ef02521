"""Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter), in the arithmetic order of torch.optim.Adam."""

import math

from .. import backend, kernels
from .optimizer import Optimizer, check_number


class Adam(Optimizer):
    """At step t, with g = grad (-grad with maximize=True) + weight_decay * p:

        m <- beta1 m + (1 - beta1) g                 (first moment)
        v <- beta2 v + (1 - beta2) g^2               (second moment)
        amsgrad:  v_max <- max(v_max, v), used for v below
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    decoupled_weight_decay=True (AdamW) leaves g = grad and shrinks the parameter instead, first:
    p <- p (1 - lr weight_decay).

    m and v live in flat buffers; on the CPU each line is two or three in-place array ops (or, with
    numba, all of it one compiled loop: kernels.adam), on a GPU all of it is one kernel (GPU_KERNEL). foreach, capturable and fused choose how PyTorch runs
    the update and are accepted and ignored.
    """
    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        betas = tuple(betas) if isinstance(betas, (list, tuple)) else betas  # anything else: refused below
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def group_state_names(self, group):
        return self.state_names if group["amsgrad"] else self.state_names[:2]

    def check_hyper_parameters(self, group):
        name = type(self).__name__
        for key in ("lr", "eps", "weight_decay"):
            check_number(name, key, group[key])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{name}: betas must be a pair of numbers, got {betas!r}")
        for i, beta in enumerate(betas):
            check_number(name, f"betas[{i}]", beta, below=1.0)

    # On a GPU the whole update is one kernel: each element of p, m, v and the gradient is read
    # once and written once, instead of once per array operation below (thirteen of them). The
    # same formula, in the same order; `lr` is lr / (1 - beta1^t) and `bias2_sqrt` sqrt(1 - beta2^t).
    GPU_KERNEL = ("T grad, T lr, T one_minus_beta1, T beta2, T one_minus_beta2, T bias2_sqrt, T eps, T weight_decay",
                  "T param, T exp_avg, T exp_avg_sq",
                  """
                  T g = grad;
                  if (weight_decay != 0) g += param * weight_decay;
                  exp_avg += (g - exp_avg) * one_minus_beta1;
                  exp_avg_sq = exp_avg_sq * beta2 + (g * g) * one_minus_beta2;
                  param -= (exp_avg / (sqrt(exp_avg_sq) / bias2_sqrt + eps)) * lr;
                  """,
                  "minigrad_adam")

    def update(self, p, g, scratch, state, step, group):
        xp = backend.array_module(p)
        beta1, beta2 = group["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        decoupled = group["decoupled_weight_decay"]
        if decoupled and group["weight_decay"]:
            p *= 1 - group["lr"] * group["weight_decay"]
        if backend.device_of(p) == "cuda" and not group["amsgrad"]:
            self.update_in_one_kernel(backend.elementwise_kernel(*self.GPU_KERNEL), p, g, m, v, step,
                                      dict(group, weight_decay=0.0) if decoupled else group)
            return
        if group["weight_decay"] and not decoupled:
            xp.multiply(p, group["weight_decay"], out=scratch)
            g += scratch
        xp.subtract(g, m, out=scratch)          # m += (1 - beta1)(g - m)
        scratch *= 1 - beta1
        m += scratch
        xp.multiply(g, g, out=scratch)          # v = beta2 v + (1 - beta2) g^2
        scratch *= 1 - beta2
        v *= beta2
        v += scratch
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"]
            xp.maximum(v_max, v, out=v_max)
            v = v_max
        xp.sqrt(v, out=scratch)                 # denominator sqrt(v)/sqrt(1 - beta2^t) + eps
        scratch /= math.sqrt(1 - beta2 ** step)
        scratch += group["eps"]
        xp.divide(m, scratch, out=scratch)      # p -= lr/(1 - beta1^t) * m / denominator
        scratch *= group["lr"] / (1 - beta1 ** step)
        p -= scratch

    def one_pass_update(self, group):
        """update() as one compiled loop per parameter (kernels.adam), where numba runs; amsgrad
        stays on update()."""
        if kernels.adam is None or group["amsgrad"]:
            return None

        def update(p, grad, state, step):
            kernels.adam(p, grad, state["exp_avg"], state["exp_avg_sq"], step, group["lr"], group["betas"],
                         group["eps"], group["weight_decay"], group["decoupled_weight_decay"], group["maximize"])
        update.takes_parts = True  # grad may be a tuple: the whole group in one call (FlatGroup.update_each)
        return update

    @staticmethod
    def update_in_one_kernel(kernel, p, g, m, v, step, group):
        """The update by GPU_KERNEL, compiled as `kernel`; its constants as scalars of p's dtype."""
        beta1, beta2 = group["betas"]
        constants = (group["lr"] / (1 - beta1 ** step), 1 - beta1, beta2, 1 - beta2,
                     math.sqrt(1 - beta2 ** step), group["eps"], group["weight_decay"])
        kernel(g, *map(p.dtype.type, constants), p, m, v)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p <- p (1 - lr weight_decay), then
    Adam's update of the plain gradient. As PyTorch, weight_decay defaults to 0.01."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         foreach=foreach, maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)
