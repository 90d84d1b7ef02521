"""mg.backends.mps, as torch.backends.mps: Apple's Metal GPUs, which minigrad does not support."""


def is_available():
    return False


def is_built():
    return False
