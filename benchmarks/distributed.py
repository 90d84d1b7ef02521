"""The DCGAN step (benchmarks/workloads.py, float32, global batch 60) on one machine: 1 process x 1
thread, 1 process x 2 threads, and 2 processes (mpiexec, DistributedDataParallel) x 1 thread, each
with half the batch. Prints the images per second of each, and the bytes all-reduced per step.

    python -m benchmarks.distributed [--steps 8]

The distributed step is the workload's own step: D on real, D on the detached fake (two backward
passes, each averaging D's gradients), then G through D (averaging G's gradients, and D's, which the
workload does not freeze). Needs the distributed extra (pip install -e ".[distributed]").
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = 60


def one_run(steps, warmup=2):
    """Run inside each process: time `steps` DCGAN steps; rank 0 prints a JSON line."""
    import minigrad as mg
    from benchmarks import workloads
    distributed = "--distributed" in sys.argv
    rank, world = 0, 1
    if distributed:
        import minigrad.distributed as dist
        from minigrad.nn.parallel import DistributedDataParallel as DDP
        dist.init_process_group(backend="mpi")
        rank, world = dist.get_rank(), dist.get_world_size()
    workload = workloads.dcgan(mg)
    part = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
    workload.real, workload.noise = workload.real[part], workload.noise[part]
    workload.ones, workload.zeros = workload.ones[part], workload.zeros[part]
    reduced = 0
    if distributed:
        workload.G, workload.D = DDP(workload.G), DDP(workload.D)
        count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
        reduced = 4 * (3 * count(workload.D) + count(workload.G))  # float32: D three times, G once
    for _ in range(warmup):
        workload.step()
    if distributed:
        dist.barrier()
    started = time.perf_counter()
    for _ in range(steps):
        workload.step()
    if distributed:
        dist.barrier()
    seconds = (time.perf_counter() - started) / steps
    if rank == 0:
        print(json.dumps({"ranks": world, "threads": mg.get_num_threads(), "ms_per_step": 1000 * seconds,
                          "images_per_s": BATCH / seconds, "bytes_all_reduced_per_step": reduced}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()
    python = [sys.executable, "-m", "benchmarks.distributed", "--one", str(args.steps)]
    mpiexec = str(Path(sys.executable).parent / "mpiexec")
    runs = [("1 rank x 1 thread", 1, python), ("1 rank x 2 threads", 2, python),
            ("2 ranks x 1 thread", 1, [mpiexec, "-n", "2", *python, "--distributed"])]
    print(f"| DCGAN step, global batch {BATCH}, float32 | ms/step | images/s | MB all-reduced/step |")
    print("|---|---|---|---|")
    for name, threads, command in runs:
        env = dict(os.environ, MINIGRAD_NUM_THREADS=str(threads), OMP_NUM_THREADS="1")
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
        if done.returncode != 0:
            print(f"| {name} | failed: {done.stderr.strip().splitlines()[-1:]} | | |")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {name} | {result['ms_per_step']:.0f} | {result['images_per_s']:.0f} | "
              f"{result['bytes_all_reduced_per_step'] / 1e6:.1f} |", flush=True)


if __name__ == "__main__":
    if "--one" in sys.argv:
        one_run(int(sys.argv[sys.argv.index("--one") + 1]))
    else:
        main()
