"""nn.DataParallel on one device: the wrapper PyTorch scripts put around a model, passing through.

    model = nn.DataParallel(Net())        # model.module is the Net
    model(x)                              # = model.module(x)
    model.state_dict()                    # keys "module.fc.weight", ..., as PyTorch's DataParallel

minigrad runs a model on one device, so there is nothing to split across devices: the wrapper
calls its module as it is. Its state_dict keys carry the "module." prefix exactly as PyTorch's,
so checkpoints move between the two.
"""

import warnings

from .module import Module


class DataParallel(Module):
    """DataParallel(module, device_ids=None, output_device=None, dim=0): forward(*inputs) is
    module(*inputs). device_ids, output_device and dim are kept for code that reads them; more
    than one device id gives a warning, as minigrad uses one device."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel wraps a Module, got {type(module).__name__}")
        device_ids = [] if device_ids is None else list(device_ids)
        if len(device_ids) > 1:
            warnings.warn(f"DataParallel: minigrad runs a model on one device; device_ids={device_ids} gives no "
                          f"split of the batch (see docs/differences.md)", UserWarning, stacklevel=2)
        self.module = module
        self.device_ids = device_ids
        self.output_device = output_device if output_device is not None or not device_ids else device_ids[0]
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
