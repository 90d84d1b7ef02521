"""nn.DataParallel on one device, and nn.parallel.DistributedDataParallel across processes.

    model = nn.DataParallel(Net())        # model.module is the Net
    model(x)                              # = model.module(x)
    model.state_dict()                    # keys "module.fc.weight", ..., as PyTorch's DataParallel

minigrad runs a model on one device, so there is nothing to split across devices: the wrapper
calls its module as it is. Its state_dict keys carry the "module." prefix exactly as PyTorch's,
so checkpoints move between the two.

DistributedDataParallel (DDP) trains one model in several processes (minigrad.distributed),
each on its own part of every batch, as PyTorch's:

    dist.init_process_group("mpi")                       # under mpiexec -n N
    model = DDP(Net())                                    # every rank starts from rank 0's weights
    loss = loss_fn(model(x_of_this_rank), y_of_this_rank)
    loss.backward()                                       # .grad: the average over the ranks
    opt.step()                                            # the same step on every rank

How the average gets into backward: minigrad's autograd has no hooks on parameters, so during
forward DDP hands the module, in place of each parameter, a piece of one flat tensor per bucket:

    flat = AverageGradients(cat(p.reshape(-1) for p in bucket))    # an identity going forward
    weight, bias, ... = split(flat)                                 # what the module computes with

Backward reaches `flat` only once every piece's gradient is complete, and AverageGradients.backward
all-reduces that flat gradient (one collective per bucket) and divides by the world size; cat's
backward hands each parameter its slice. The parameters themselves are untouched, so optimisers
and state_dict see the module as it is.
"""

import warnings

from .. import autograd
from .. import distributed as dist
from ..autograd import Function
from ..ops.shape import cat, split
from ..tensor import Tensor
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


class AverageGradients(Function):
    """y = x going forward; going backward, the gradient averaged over the ranks of the default
    process group: dL/dx = (1/W) sum_r dL_r/dy_r, one all-reduce of the whole (flat) gradient.

    With one process (or no process group) backward is the identity. Differentiated again
    (create_graph=True), the gradient's own derivative is this rank's share, 1/W; the other ranks'
    parts enter as constants."""

    saves_inputs = False
    is_view = True  # y is x

    def forward(self, x):
        return x

    def backward(self, grad):
        size = dist.get_world_size() if dist.is_initialized() else 1
        if size == 1:
            return grad.reshape(grad.shape)
        total = grad.array.copy()
        dist.all_reduce(Tensor._wrap(total, False), op=dist.ReduceOp.SUM)
        others = Tensor._wrap((total - grad.array) / size, False)  # the other ranks' share
        return grad / size + others


class DistributedDataParallel(Module):
    """DistributedDataParallel(module, ...): module(*inputs) on this rank's inputs, with every
    parameter's gradient averaged over the ranks in backward (see the module docstring).

    At construction every rank takes rank 0's parameters and buffers (broadcast). In training, with
    broadcast_buffers=True, each forward first takes rank 0's buffers (BatchNorm's running
    statistics), as PyTorch; BatchNorm itself normalises with this rank's own batch, as PyTorch's
    BatchNorm under DDP (PyTorch's SyncBatchNorm is not here). Parameters are reduced in buckets of
    at most bucket_cap_mb megabytes (25), last parameters first. Under `with ddp.no_sync():` the
    gradients of the backward passes stay this rank's own (accumulated in .grad); the first forward
    after the block averages what they accumulated, and its backward adds the average of its own,
    so that .grad ends as in PyTorch: the average over the ranks of all that was accumulated.
    Forward under mg.no_grad() makes no collective call, so one rank alone may sample.

    state_dict keys carry the "module." prefix, as PyTorch's DDP; save `ddp.module.state_dict()` for
    a checkpoint that a plain module loads.

    device_ids, output_device, dim, process_group, find_unused_parameters, check_reduction,
    gradient_as_bucket_view and static_graph are taken for PyTorch scripts and change nothing here
    (an unused parameter gets a zero gradient). process_group must be None (the default group)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps a Module, got {type(module).__name__}")
        if process_group is not None:
            raise ValueError("DistributedDataParallel: minigrad.distributed has only the default group; "
                             "pass process_group=None")
        if not dist.is_initialized():
            raise ValueError("Default process group has not been initialized, please make sure to call "
                             "init_process_group.")
        self.module = module
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        self.find_unused_parameters, self.static_graph = find_unused_parameters, static_graph
        self.require_backward_grad_sync = True
        self.unsynced = False  # whether .grad holds gradients accumulated under no_sync
        self.world_size = dist.get_world_size()
        with autograd.no_grad():
            for tensor in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(tensor, src=0)

    def buckets(self):
        """The parameters that want a gradient, last first, in groups of at most bucket_cap_mb MB
        of one dtype and device (each group is one all-reduce)."""
        limit = self.bucket_cap_mb * 2 ** 20
        groups, size = [], 0
        for p in reversed([p for p in self.module.parameters() if p.requires_grad]):
            nbytes = p.array.nbytes
            if not groups or size + nbytes > limit or (p.dtype, p.device) != (groups[-1][0].dtype, groups[-1][0].device):
                groups.append([])
                size = 0
            groups[-1].append(p)
            size += nbytes
        return groups

    def forward(self, *inputs, **kwargs):
        if not autograd.is_grad_enabled():
            return self.module(*inputs, **kwargs)
        if self.broadcast_buffers and self.module.training and self.world_size > 1:
            self._take_rank_0_buffers()
        if not self.require_backward_grad_sync or self.world_size == 1:
            self.unsynced = self.world_size > 1
            return self.module(*inputs, **kwargs)
        if self.unsynced:
            self._average_accumulated_gradients()
        pieces = {}  # id(parameter) -> the piece of a flat tensor the module computes with
        for bucket in self.buckets():
            flat = AverageGradients.apply(cat([p.reshape(-1) for p in bucket]))
            for p, piece in zip(bucket, split(flat, [p.numel() for p in bucket])):
                pieces[id(p)] = piece.reshape(p.shape)
        swapped = [(m, name, p) for m in self.module.modules() for name, p in m._parameters.items()
                   if p is not None and id(p) in pieces]
        try:
            for m, name, p in swapped:
                m._parameters[name] = pieces[id(p)]
            return self.module(*inputs, **kwargs)
        finally:
            for m, name, p in swapped:
                m._parameters[name] = p

    def _take_rank_0_buffers(self):
        with autograd.no_grad():
            for buffer in self.module.buffers():
                dist.broadcast(buffer, src=0)

    def _average_accumulated_gradients(self):
        """Average over the ranks the .grad accumulated under no_sync (one all-reduce per bucket)."""
        self.unsynced = False
        with autograd.no_grad():
            for bucket in self.buckets():
                bucket = [p for p in bucket if p.grad is not None]
                if not bucket:
                    continue
                flat = cat([p.grad.reshape(-1) for p in bucket])
                dist.all_reduce(flat, op=dist.ReduceOp.AVG)
                start = 0
                for p in bucket:
                    p.grad.array[...] = flat.array[start:start + p.numel()].reshape(p.grad.shape)
                    start += p.numel()

    def no_sync(self):
        """`with ddp.no_sync():` backward passes inside keep this rank's own gradients (see the class)."""
        return _NoSync(self)


class _NoSync:
    def __init__(self, ddp):
        self.ddp = ddp

    def __enter__(self):
        self.previous, self.ddp.require_backward_grad_sync = self.ddp.require_backward_grad_sync, False

    def __exit__(self, *exc_info):
        self.ddp.require_backward_grad_sync = self.previous
