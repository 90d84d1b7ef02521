"""The book's first GAN learns the "1010 pattern": four numbers, high-low-high-low.

    real = generate_real()              # e.g. tensor([0.93, 0.07, 0.85, 0.11])
    batch = generate_real_batch(64)     # (64, 4)
    noise = generate_random(4)          # the discriminator's fake inputs: uniform [0, 1)
    seed = generate_random_seed(1)      # the generator's input: standard normal

A real sample is [U(0.8, 1), U(0, 0.2), U(0.8, 1), U(0, 0.2)]. Everything draws from
minigrad's generator, so mg.manual_seed(s) makes the numbers reproducible. (The book draws
the pattern with Python's `random`, which torch.manual_seed does not seed.)
"""

import numpy as np

import minigrad as mg

# Each position is low + width * U(0, 1): positions 0 and 2 are "1" (high), 1 and 3 are "0".
PATTERN_LOW = np.array([0.8, 0.0, 0.8, 0.0], dtype=np.float32)
PATTERN_WIDTH = np.float32(0.2)


def generate_real_batch(n, device=None):
    """n real samples of the 1010 pattern: a float32 Tensor (n, 4).

    Row i is [U(0.8, 1), U(0, 0.2), U(0.8, 1), U(0, 0.2)], drawn independently.
    """
    uniform = mg.rand(n, 4, device=device)
    low = mg.tensor(PATTERN_LOW, device=uniform.device)
    return uniform * PATTERN_WIDTH + low


def generate_real(device=None):
    """One real sample of the 1010 pattern: a float32 Tensor (4,), as the book's generate_real().

    It takes the same random numbers as the first row of generate_real_batch(1)."""
    return generate_real_batch(1, device=device)[0]


def generate_random(size, device=None):
    """Uniform noise on [0, 1): a float32 Tensor of `size` (an int or a shape), as the book's
    generate_random(size), which feeds the discriminator fake inputs."""
    return mg.rand(size, device=device)


def generate_random_seed(size, device=None):
    """Standard normal noise: a float32 Tensor of `size` (an int or a shape), as the book's
    generate_random_seed(size), the generator's input."""
    return mg.randn(size, device=device)


def pattern_report(output):
    """G(0.5) and whether it is the 1010 pattern: [>= 0.8, <= 0.2, >= 0.8, <= 0.2]."""
    high = output[0] >= 0.8 and output[2] >= 0.8
    low = output[1] <= 0.2 and output[3] <= 0.2
    return {"G(0.5)": [round(float(v), 4) for v in output], "pattern_ok": bool(high and low)}
