"""Under mpiexec: DDP's all-reduces start during backward, bucket by bucket, and still give the
gradients of one process on the global batch, in float64.

- Order: with one parameter per bucket (bucket_cap_mb=0), the log of events shows each bucket's
  all-reduce started as soon as its gradient was accumulated, before backward reached the first
  layers, and every wait after the last gradient (at the end of the pass).
- Values: .grad equals one process's on the global batch, with gradient_as_bucket_view False and
  True (then .grad is a view into DDP's bucket), over two steps, with .grad zeroed in place or set
  to None; a parameter no rank used gets a zero gradient, one only rank 0 used gets rank 0's
  gradient over the world size.

A failed check raises, which aborts the job (exit status not 0)."""

import copy

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel as DDP

PER_RANK = 4

dist.init_process_group(backend="mpi")
rank, world = dist.get_rank(), dist.get_world_size()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))
        self.rank_0_only = nn.Linear(6, 1)  # used on rank 0 alone
        self.never = nn.Linear(6, 1)        # used by no rank

    def forward(self, x, use_rank_0_only):
        out = self.body(x)
        return out + self.rank_0_only(x) if use_rank_0_only else out


# --- the order of events ----------------------------------------------------------------------

events = []
started_all_reduce = dist.all_reduce


def logged_all_reduce(tensor, *args, **kwargs):
    work = started_all_reduce(tensor, *args, **kwargs)
    events.append(("start", tensor.numel()))
    finish = work.wait

    def wait(*wait_args):
        events.append(("wait", tensor.numel()))
        return finish(*wait_args)
    work.wait = wait
    return work


mg.manual_seed(3 + rank)
net = Net().double()
ddp = DDP(net, bucket_cap_mb=0, find_unused_parameters=True)
assert all(len(bucket.params) == 1 for bucket in ddp.reducer.buckets)
for name, p in net.named_parameters():  # runs as the gradient arrives, before DDP's post-accumulate hook
    p.register_hook(lambda grad, name=name: events.append(("ready", name)))
dist.all_reduce = logged_all_reduce
x = mg.tensor(np.random.default_rng(rank).standard_normal((PER_RANK, 6)))
ddp(x, use_rank_0_only=False).pow(2).mean().backward()
dist.all_reduce = started_all_reduce

kinds = [kind for kind, _ in events]
ready = [what for kind, what in events if kind == "ready"]
body = [name for name, _ in net.named_parameters() if name.startswith("body")]
assert sorted(ready) == sorted(body), ready  # the unused layers are never ready in backward
assert ready[0].startswith("body.4") and ready[-1].startswith("body.0"), ready  # last layer first
first_start, last_ready = kinds.index("start"), len(kinds) - 1 - kinds[::-1].index("ready")
assert first_start < last_ready, f"no all-reduce started before the end of backward: {events}"
# the first gradient starts the buckets of the unused layers at once (they come first)
assert kinds[:5] == ["ready"] + ["start"] * 4, events
assert kinds.count("start") == kinds.count("wait") == len(ddp.reducer.buckets), events
assert min(i for i, kind in enumerate(kinds) if kind == "wait") > last_ready, events
if rank == 0:
    print(f"OK overlap: the first all-reduce started at event {first_start}, before the last gradient "
          f"(event {last_ready}) of {len(kinds)}")

# --- the values, against one process ------------------------------------------------------------

for as_view, find_unused in [(False, False), (True, True)]:
    mg.manual_seed(5 + rank)
    net = Net().double()
    ddp = DDP(net, bucket_cap_mb=0.0002, gradient_as_bucket_view=as_view, find_unused_parameters=find_unused)  # a few parameters a bucket
    assert 1 < len(ddp.reducer.buckets) < len(list(net.parameters()))
    reference = copy.deepcopy(net)  # rank 0's weights, given to every rank by DDP
    for step in range(2):
        data = np.random.default_rng(100 + step)
        x = mg.tensor(data.standard_normal((world * PER_RANK, 6)))
        mine = x[rank * PER_RANK:(rank + 1) * PER_RANK]
        net.zero_grad(set_to_none=step == 0)
        reference.zero_grad(set_to_none=step == 0)
        ddp(mine, use_rank_0_only=rank == 0).pow(2).mean().backward()
        loss = sum(reference(x[r * PER_RANK:(r + 1) * PER_RANK], use_rank_0_only=r == 0).pow(2).mean()
                   for r in range(world)) / world
        loss.backward()
        for (name, p), q in zip(net.named_parameters(), reference.parameters()):
            expected = np.zeros(q.shape) if q.grad is None else q.grad.numpy()  # `never`: None in one process
            np.testing.assert_allclose(p.grad.numpy(), expected, rtol=1e-12, atol=1e-15,
                                       err_msg=f"{name} step {step}")
            in_bucket = any(np.shares_memory(p.grad.array, bucket.buffer.array) for bucket in ddp.reducer.buckets)
            assert in_bucket == as_view, name
        assert not net.never.weight.grad.numpy().any() and np.abs(net.rank_0_only.weight.grad.numpy()).max() > 1e-3
        with mg.no_grad():
            for p in list(net.parameters()) + list(reference.parameters()):
                if p.grad is not None:
                    p -= 0.1 * p.grad

# create_graph=True: .grad is a graph node whose value is the average, and whose own derivative is
# this rank's share (1/W of this rank's second derivative)
mg.manual_seed(9)
net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
ddp = DDP(net)
reference, own = copy.deepcopy(net), copy.deepcopy(net)  # own: this rank's part alone, for .grad's derivative
x = mg.tensor(np.random.default_rng(7).standard_normal((world * PER_RANK, 3)))
mine = x[rank * PER_RANK:(rank + 1) * PER_RANK]
ddp(mine).pow(2).mean().backward(create_graph=True)
sum(reference(x[r * PER_RANK:(r + 1) * PER_RANK]).pow(2).mean() for r in range(world)).div(world).backward()
own(mine).pow(2).mean().backward(create_graph=True)
for (name, p), q, o in zip(net.named_parameters(), reference.parameters(), own.parameters()):
    assert p.grad.grad_fn is not None, name
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, atol=1e-15, err_msg=name)
weight = net[0].weight
(mine_second,) = mg.autograd.grad(weight.grad.sum(), weight)
(own_second,) = mg.autograd.grad(own[0].weight.grad.sum(), own[0].weight)
np.testing.assert_allclose(mine_second.numpy(), own_second.numpy() / world, rtol=1e-12)
if rank == 0:
    print("OK overlapped buckets equal one process, with and without gradient_as_bucket_view and create_graph")
dist.destroy_process_group()
