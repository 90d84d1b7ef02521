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

How the average gets into backward, as in PyTorch: the parameters are grouped in buckets, last
parameters first (about the order backward reaches them), each with one flat buffer that DDP owns.
A post-accumulate-grad hook on every parameter copies its .grad into its bucket's buffer; once a
bucket holds all its gradients, its all-reduce starts (non-blocking) while backward goes on with
the other parameters. At the end of the pass (autograd.queue_callback) DDP waits for every bucket,
divides by the world size and hands each .grad the average. Buckets start in the same order on
every rank, as MPI requires: a bucket that is complete early waits for the ones before it.
"""

import warnings

from .. import autograd, backend
from .. import distributed as dist
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


class DistributedDataParallel(Module):
    """DistributedDataParallel(module, ...): module(*inputs) on this rank's inputs, with every
    parameter's gradient averaged over the ranks in backward (see the module docstring).

    At construction every rank takes rank 0's parameters and buffers (broadcast). In training, with
    broadcast_buffers=True, each forward first takes rank 0's buffers (BatchNorm's running
    statistics), as PyTorch; BatchNorm itself normalises with this rank's own batch, as PyTorch's
    BatchNorm under DDP (PyTorch's SyncBatchNorm is not here). Parameters are reduced in buckets of
    at most bucket_cap_mb megabytes (25; by default the first at most 1), last parameters first.
    A forward with gradients on arms the next backward pass to average; under `with ddp.no_sync():`
    it does not, and the gradients stay this rank's own (accumulated in .grad) until a backward
    after the block averages all of .grad, as PyTorch. Forward under mg.no_grad() makes no
    collective call, so one rank alone may sample.

    With gradient_as_bucket_view=True each .grad is a view into its bucket's buffer after the
    average (no copy out); else each .grad is an array of its own. A parameter that got no gradient
    in a pass that averaged others gets one: the average of the ranks' .grad (zero where none).
    With create_graph=True the averaged .grad is a graph node: this rank's gradient divided by the
    world size plus the other ranks' share, a constant.

    state_dict keys carry the "module." prefix, as PyTorch's DDP; save `ddp.module.state_dict()` for
    a checkpoint that a plain module loads.

    With find_unused_parameters=True each forward searches its graph for the parameters it did not
    use, so that their buckets start without waiting for them (else they are found at the end of
    backward, and the buckets from theirs on start only then).

    device_ids, output_device, dim, check_reduction and static_graph are taken for PyTorch scripts
    and change nothing here. process_group must be None (the default group)."""

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
        # As PyTorch's: by default the first bucket (the last layers) holds at most 1 MB, so that the
        # first all-reduce starts early in backward.
        self.first_bucket_bytes = 2 ** 20 if bucket_cap_mb is None else self.bucket_cap_mb * 2 ** 20
        self.find_unused_parameters, self.static_graph = find_unused_parameters, static_graph
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        self.world_size = dist.get_world_size()
        with autograd.no_grad():
            for tensor in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(tensor, src=0)
        self.reducer = Reducer(self.bucket_groups(), gradient_as_bucket_view)

    def bucket_groups(self):
        """The parameters that want a gradient, last first, in groups of at most bucket_cap_mb MB
        (the first group: first_bucket_bytes) of one dtype and device (each group is one all-reduce)."""
        groups, size = [], 0
        for p in reversed([p for p in self.module.parameters() if p.requires_grad]):
            nbytes = p.array.nbytes
            limit = self.first_bucket_bytes if len(groups) == 1 else self.bucket_cap_mb * 2 ** 20
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
        output = self.module(*inputs, **kwargs)
        if self.require_backward_grad_sync and self.world_size > 1:
            self.reducer.prepare_for_backward(self._unused_parameters(output) if self.find_unused_parameters else [])
        else:
            self.reducer.armed = False
        return output

    def _unused_parameters(self, output):
        """The parameters that `output` was not computed from (find_unused_parameters=True): their
        buckets need not wait for a gradient that never comes."""
        used = {id(t) for t in autograd.topological_order(list(_tensors_in(output)))}
        return [p for bucket in self.reducer.buckets for p in bucket.params if id(p) not in used]

    def _take_rank_0_buffers(self):
        with autograd.no_grad():
            for buffer in self.module.buffers():
                dist.broadcast(buffer, src=0)

    def no_sync(self):
        """`with ddp.no_sync():` backward passes after a forward inside keep this rank's own gradients."""
        return _NoSync(self)


class Bucket:
    """Parameters whose gradients are all-reduced together: one flat buffer, a view of it per
    parameter, the parameters whose gradient of this pass is in it, and the all-reduce under way."""

    def __init__(self, params):
        self.params = params
        xp = backend.array_module(params[0].array)
        self.buffer = Tensor._wrap(xp.zeros(sum(p.numel() for p in params), dtype=params[0].dtype), False)
        self.views, start = {}, 0
        for p in params:
            self.views[id(p)] = self.buffer.array[start:start + p.numel()].reshape(p.shape)
            start += p.numel()
        self.ready, self.work = set(), None

    def is_full(self):
        return len(self.ready) == len(self.params)


class Reducer:
    """The averaging of DDP's gradients during backward, through each parameter's
    post-accumulate-grad hook (PyTorch's Reducer, in Python)."""

    def __init__(self, groups, gradient_as_bucket_view):
        self.buckets = [Bucket(params) for params in groups]
        self.bucket_of = {id(p): bucket for bucket in self.buckets for p in bucket.params}
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.armed = False  # whether the next backward averages (a forward with gradients on arms it)
        for bucket in self.buckets:
            for p in bucket.params:
                p.register_post_accumulate_grad_hook(self.gradient_ready)

    def prepare_for_backward(self, unused):
        """Arm the next backward pass; `unused`: the parameters known to get no gradient in it."""
        if self.armed and not self.finish_queued:  # a forward before: unused only if unused by both
            before = {id(p) for p in self.unused}
            unused = [p for p in unused if id(p) in before]
        self.armed, self.finish_queued, self.started, self.unused = True, False, 0, unused
        for bucket in self.buckets:
            bucket.ready, bucket.work = set(), None

    def gradient_ready(self, p):
        """p's .grad of this pass is complete: into its bucket; start every bucket that can start."""
        if not self.armed:
            return
        if not self.finish_queued:  # the pass's first gradient
            autograd.queue_callback(self.finish)
            self.finish_queued = True
            for q in self.unused:
                self.put_in_bucket(q)
        self.put_in_bucket(p)
        self.start_full_buckets()

    def put_in_bucket(self, p):
        """p's .grad (zeros for None) into its bucket's buffer."""
        bucket = self.bucket_of[id(p)]
        if bucket.work is not None:
            raise RuntimeError(f"DistributedDataParallel: a parameter of shape {tuple(p.shape)} got its gradient "
                               f"after its bucket's all-reduce had started (find_unused_parameters found it unused)")
        bucket.views[id(p)][...] = 0 if p.grad is None else p.grad.array
        bucket.ready.add(id(p))

    def start_full_buckets(self):
        """Start the all-reduce of each full bucket, in bucket order (the same on every rank)."""
        while self.started < len(self.buckets) and self.buckets[self.started].is_full():
            bucket = self.buckets[self.started]
            bucket.work = dist.all_reduce(bucket.buffer, op=dist.ReduceOp.SUM, async_op=True)
            self.started += 1
        for bucket in self.buckets[:self.started]:
            bucket.work.is_completed()  # lets MPI move the started all-reduces on while backward computes

    def finish(self):
        """At the end of backward: the parameters that got no gradient in this pass put in their
        .grad (or zeros); every bucket is started, waited for, and each .grad becomes the average."""
        self.armed = False
        for bucket in self.buckets:
            for p in bucket.params:
                if id(p) not in bucket.ready:
                    self.put_in_bucket(p)
        self.start_full_buckets()
        size = dist.get_world_size()
        for bucket in self.buckets:
            bucket.work.wait()
            bucket.buffer.array /= size
            for p in bucket.params:
                self.set_average(p, bucket.views[id(p)], size)

    def set_average(self, p, average, size):
        if p.grad is not None and p.grad.grad_fn is not None:  # create_graph: recorded, others' share constant
            others = Tensor._wrap(average - p.grad.array / size, False)
            p.grad = p.grad / size + others
        elif self.gradient_as_bucket_view:
            p.grad = Tensor._wrap(average, False)
        elif p.grad is None:
            p.grad = Tensor._wrap(average.copy(), False)
        else:
            p.grad.array[...] = average


def _tensors_in(output):
    """The Tensors in a forward's output (a Tensor, or tuples, lists and dicts of them)."""
    if isinstance(output, Tensor):
        yield output
    elif isinstance(output, (tuple, list)):
        for item in output:
            yield from _tensors_in(item)
    elif isinstance(output, dict):
        for item in output.values():
            yield from _tensors_in(item)


class _NoSync:
    def __init__(self, ddp):
        self.ddp = ddp

    def __enter__(self):
        self.previous, self.ddp.require_backward_grad_sync = self.ddp.require_backward_grad_sync, False

    def __exit__(self, *exc_info):
        self.ddp.require_backward_grad_sync = self.previous
