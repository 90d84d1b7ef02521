"""Under mpiexec: all_reduce (SUM, AVG, MAX), broadcast and all_gather against NumPy, float32 and float64.

Every rank draws every rank's array from the same seeds, so each knows what the others hold."""

import numpy as np

import minigrad as mg
import minigrad.distributed as dist

dist.init_process_group(backend="mpi")
rank, world = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "mpi"

for dtype in (np.float32, np.float64):
    for shape in [(5,), (3, 4), (2, 3, 4)]:
        arrays = [np.random.default_rng(100 * r + len(shape)).standard_normal(shape).astype(dtype)
                  for r in range(world)]
        stacked = np.stack(arrays)
        for op, expected in [(dist.ReduceOp.SUM, stacked.sum(0)), (dist.ReduceOp.AVG, stacked.sum(0) / world),
                             (dist.ReduceOp.MAX, stacked.max(0))]:
            t = mg.tensor(arrays[rank].copy())
            assert dist.all_reduce(t, op=op) is None
            assert t.dtype == dtype, t.dtype
            np.testing.assert_allclose(t.numpy(), expected.astype(dtype), rtol=1e-6 if dtype == np.float32 else 1e-15)
        # in place into a strided (non-contiguous) view: the tensor it views changes there
        big = mg.tensor(np.zeros(shape + (2,), dtype=dtype))
        view = big[..., 1]
        assert not view.array.flags.c_contiguous and view.array.base is not None
        big.array[..., 1] = arrays[rank]
        dist.all_reduce(view)
        np.testing.assert_array_equal(big.array[..., 0], 0)
        np.testing.assert_allclose(big.array[..., 1], stacked.sum(0), rtol=1e-6)
        for src in range(world):
            t = mg.tensor(arrays[rank].copy())
            dist.broadcast(t, src=src)
            np.testing.assert_array_equal(t.numpy(), arrays[src])
        parts = [mg.zeros(shape, dtype=mg.float32 if dtype == np.float32 else mg.float64) for _ in range(world)]
        dist.all_gather(parts, mg.tensor(arrays[rank]))
        for part, array in zip(parts, arrays):
            np.testing.assert_array_equal(part.numpy(), array)

# async_op: a Work to wait for
t = mg.tensor(np.full(3, float(rank + 1)))
work = dist.all_reduce(t, async_op=True)
work.wait()
np.testing.assert_array_equal(t.numpy(), np.full(3, world * (world + 1) / 2))
dist.barrier()
dist.destroy_process_group()
assert not dist.is_initialized()
if rank == 0:
    print(f"OK collectives on {world} ranks")
