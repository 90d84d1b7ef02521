"""The book's appendices as small functions: ideal losses (why ln 2 and 0.25), and appendix D's
simultaneous gradient steps on f = x*y, whose iterates spiral outwards.
"""

import math

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

# --- the ideal losses ---------------------------------------------------------------------


def equilibrium_losses():
    """D's losses when it outputs 0.5 for everything (it can no longer tell real from fake).

    BCE: -ln(0.5) = ln 2 for a real target 1 and for a fake target 0 alike.
    MSE: (0.5 - 1)^2 = (0.5 - 0)^2 = 0.25.
    Returned as computed by minigrad's own loss functions.
    """
    half = mg.tensor([0.5])
    return {
        "bce_real": F.binary_cross_entropy(half, mg.tensor([1.0])).item(),
        "bce_fake": F.binary_cross_entropy(half, mg.tensor([0.0])).item(),
        "mse_real": F.mse_loss(half, mg.tensor([1.0])).item(),
        "mse_fake": F.mse_loss(half, mg.tensor([0.0])).item(),
    }


def best_constant_output(loss="bce", steps=2000, lr=0.1):
    """When real and fake look the same, D's best answer is one constant d for both. Find it by
    gradient descent on the average loss  L(d) = (loss(d, 1) + loss(d, 0)) / 2,  starting from 0.9.

    Returns (d, L(d)): d -> 0.5, and L -> ln 2 (BCE) or 0.25 (MSE).
    """
    loss_of = F.binary_cross_entropy if loss == "bce" else F.mse_loss
    real, fake = mg.tensor([1.0], dtype=mg.float64), mg.tensor([0.0], dtype=mg.float64)
    logit = mg.tensor([math.log(0.9 / 0.1)], dtype=mg.float64, requires_grad=True)  # d = sigmoid(logit)
    optimizer = mg.optim.SGD([logit], lr=lr)

    def average_loss():
        d = logit.sigmoid()
        return d, (loss_of(d, real) + loss_of(d, fake)) / 2

    for _ in range(steps):
        optimizer.zero_grad()
        average_loss()[1].backward()
        optimizer.step()
    d, average = average_loss()
    return d.item(), average.item()


# --- appendix D: simultaneous gradient descent and ascent on f = x * y -------------------


def simultaneous_steps(x0=0.6, y0=0.7, lr=0.1, steps=499):
    """As the book's appendix D: x tries to make f = x*y larger, y tries to make it smaller, both
    moving at once, each with the gradient at the current (old) point:

        x <- x + lr * df/dx = x + lr * y      (gradient ascent)
        y <- y - lr * df/dy = y - lr * x      (gradient descent)

    The gradients are taken by minigrad's autograd. Returns an array (steps + 1, 2) of (x, y).
    """
    x = mg.tensor(x0, dtype=mg.float64, requires_grad=True)
    y = mg.tensor(y0, dtype=mg.float64, requires_grad=True)
    path = [(x0, y0)]
    for _ in range(steps):
        x.grad = y.grad = None
        (x * y).backward()
        with mg.no_grad():  # both steps use the gradients of the same (old) point
            x += lr * x.grad
            y -= lr * y.grad
        path.append((x.item(), y.item()))
    return np.array(path)


def closed_form_radius(x0=0.6, y0=0.7, lr=0.1, steps=499):
    """Each step multiplies x + iy by (1 - i*lr), so the radius grows by sqrt(1 + lr^2) per step:
    r_n = r_0 (1 + lr^2)^(n/2). The iterates circle outwards instead of settling at (0, 0)."""
    return math.hypot(x0, y0) * (1 + lr * lr) ** (np.arange(steps + 1) / 2)
