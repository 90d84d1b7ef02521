"""mg.backends.cudnn, as torch.backends.cudnn: settable flags with no effect.

minigrad does not call cuDNN (its convolutions are matrix products, in NumPy or CuPy), so
`benchmark`, `deterministic` and `enabled` keep what a script sets, with PyTorch's defaults,
and is_available() is False.
"""

benchmark = False
deterministic = False
enabled = True
allow_tf32 = True


def is_available():
    """False: minigrad never uses cuDNN."""
    return False


def version():
    """None: there is no cuDNN library behind minigrad (as torch without one)."""
    return None
