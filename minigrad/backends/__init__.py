"""mg.backends, as torch.backends: the flags that GAN scripts set (cudnn.benchmark = True) and the
questions they ask (mps.is_available()). minigrad has neither cuDNN nor Metal, so the flags are
remembered but change nothing, and the questions answer False."""

from . import cudnn, mps  # noqa: F401
