"""Time minigrad against PyTorch on the seed GANs, and write the table to docs/performance.md.

    python -m benchmarks.run                      # CPU, all workloads, torch too if installed
    python -m benchmarks.run --device cuda        # CuPy against PyTorch CUDA
    python -m benchmarks.run --workloads dcgan --iterations 20 --no-write

Each round runs in its own fresh Python process (warm-up iterations, then three timed
passes, of which it reports the median), so that one framework's threads, caches and memory never affect the
other's numbers. The two frameworks' rounds alternate, minigrad, PyTorch, minigrad, ...,
so that a slow spell of a shared machine hits both alike; the median round gives
ms/iteration, and the ratio's range over the paired rounds shows how steady it was.
Also reported: the matmul FLOPs per iteration and the rate they imply (FLOPs / time),
against a NumPy float32 matmul (sgemm) peak measured in the same run, and peak memory.
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"mlp_gan": 0.8, "dcgan": 1.2, "book_batch1": 0.7}
CUDA_TARGET = 1.5


def gpu_name():
    """The GPU's name (through CuPy, the backend's array module for 'cuda')."""
    from minigrad import backend
    return backend.array_module("cuda").cuda.runtime.getDeviceProperties(0)["name"].decode()


def worker(workload_name, framework, device, iterations, passes):
    """Runs in a child process: build one workload, time it, print one JSON line."""

    if framework == "torch":
        import torch as fw
    else:
        import minigrad as fw
    from benchmarks.workloads import WORKLOADS

    baseline_rss = _current_rss_kb()
    fw.manual_seed(0)
    workload = WORKLOADS[workload_name](fw, device)
    sync = _synchronizer(framework, device)
    for _ in range(max(3, iterations // 5)):
        workload.step()
    sync()
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        for _ in range(iterations):
            workload.step()
        sync()
        times.append((time.perf_counter() - start) / iterations)
    result = {
        "ms": statistics.median(times) * 1e3,
        "flops": workload.matmul_flops(),
        "memory_mb": _peak_memory_mb(workload, framework, device, baseline_rss),
    }
    print(json.dumps(result))


def _peak_memory_mb(workload, framework, device, baseline_rss):
    """Peak memory of the run so far, measured as MEMORY_NOTES says for this device."""
    if device == "cuda":
        if framework == "torch":
            import torch
            return torch.cuda.max_memory_allocated() / 2**20
        from minigrad import backend
        return backend.gpu_memory_peak() / 2**20
    if framework == "torch":
        return (_peak_rss_kb() - baseline_rss) / 1024
    tracemalloc.start()
    for _ in range(3):
        workload.step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


MEMORY_NOTES = {
    "cpu": "Memory: for minigrad the peak of NumPy's allocations over three iterations (tracemalloc); "
           "for PyTorch the growth of the process's peak RSS (tracemalloc cannot see PyTorch's allocator).",
    "cuda": "Memory: for minigrad the most the CuPy memory pool held (its total bytes, which include "
            "cached free blocks); for PyTorch torch.cuda.max_memory_allocated() (live tensors only).",
}


def _synchronizer(framework, device):
    if device != "cuda":
        return lambda: None
    if framework == "torch":
        import torch
        return torch.cuda.synchronize
    from minigrad import backend
    return lambda: backend.synchronize("cuda")


def _current_rss_kb():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))


def _peak_rss_kb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(workload, framework, device, iterations, passes):
    """Run `worker` in a fresh process and return its result (or None if it failed)."""
    command = [sys.executable, "-m", "benchmarks.run", "--worker", workload, framework, device,
               str(iterations), str(passes)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  {workload}/{framework} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


PASSES = 3  # timed passes per process


def combine_rounds(rounds):
    """One result from the rounds, each from its own process (None if any failed)."""
    if not rounds or any(r is None for r in rounds):
        return None
    return {"ms": statistics.median(r["ms"] for r in rounds),
            "rounds_ms": [r["ms"] for r in rounds], "flops": rounds[0]["flops"],
            "memory_mb": max(r["memory_mb"] for r in rounds)}


def sgemm_peak():
    """Best float32 matmul rate of NumPy's BLAS on 1024x1024 matrices, in GFLOP/s."""
    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    a @ a
    best = min(_time(lambda: a @ a) for _ in range(10))
    return 2 * 1024 ** 3 / best / 1e9


def _time(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def torch_available():
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0


def environment(device, with_torch):
    lines = [f"- machine: {_cpu_name()}, {os.cpu_count()} cores visible; Python {platform.python_version()}"]
    blas = _blas_name()
    lines.append(f"- NumPy {np.__version__} ({blas}); BLAS threads: "
                 f"{os.environ.get('OPENBLAS_NUM_THREADS') or os.environ.get('OMP_NUM_THREADS') or 'default (all cores)'}")
    if with_torch:
        info = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__, torch.get_num_threads())"],
                              capture_output=True, text=True).stdout.split()
        lines.append(f"- PyTorch {info[0]}, {info[1]} intra-op threads")
    if device == "cuda":
        lines.append(f"- GPU: {gpu_name()}")
    return lines


def _cpu_name():
    try:
        text = Path("/proc/cpuinfo").read_text()
        return re.search(r"model name\s*:\s*(.*)", text).group(1).strip()
    except (OSError, AttributeError):
        return platform.processor() or "unknown CPU"


def _blas_name():
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:
        return "BLAS unknown"


def table(results, device, peak):
    """The markdown table. The share of the NumPy sgemm peak is shown on the CPU only."""
    target_of = (lambda name: CUDA_TARGET) if device == "cuda" else TARGETS.get
    rate_header = "minigrad GFLOP/s" + (" (share of sgemm peak)" if device == "cpu" else "")
    rows = ["| workload | minigrad ms/iter | PyTorch ms/iter | minigrad ÷ PyTorch (range over rounds) | target | met? "
            f"| matmul GFLOP/iter | {rate_header} | PyTorch GFLOP/s | minigrad peak memory | PyTorch peak memory |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, (mine, theirs) in results.items():
        if mine is None:
            rows.append(f"| {name} | failed | | | | | | | | | |")
            continue
        gflop = mine["flops"] / 1e9
        rate = gflop / (mine["ms"] / 1e3)
        rate_cell = f"{rate:.0f}" + (f" ({rate / peak:.0%})" if device == "cpu" else "")
        ratio_cells, their_cells = "(no torch) | | | ", " | "
        if theirs:
            ratio = mine["ms"] / theirs["ms"]
            paired = [a / b for a, b in zip(mine["rounds_ms"], theirs["rounds_ms"])]
            target = target_of(name)
            ratio_cells = (f"{theirs['ms']:.2f} | **{ratio:.2f}** ({min(paired):.2f}–{max(paired):.2f}) | ≤ {target} | "
                           f"{'yes' if ratio <= target else '**no**'} ")
            their_cells = f"{gflop / (theirs['ms'] / 1e3):.0f} | {mine['memory_mb']:.0f} MB | {theirs['memory_mb']:.0f} MB"
        else:
            their_cells = f" | {mine['memory_mb']:.0f} MB | "
        rows.append(f"| {name} | {mine['ms']:.2f} | {ratio_cells}| {gflop:.3f} | {rate_cell} | {their_cells} |")
    return rows


def write_docs(device, lines):
    """Replace this device's section of docs/performance.md, keeping everything else."""
    path = ROOT / "docs" / "performance.md"
    start, end = f"<!-- benchmark:{device}:start -->", f"<!-- benchmark:{device}:end -->"
    block = "\n".join([start] + lines + [end])
    text = path.read_text() if path.exists() else "# Performance\n"
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--workloads", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--iterations", type=int, default=None, help="iterations per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true", help="time minigrad only")
    parser.add_argument("--no-write", action="store_true", help="print, but don't update docs/performance.md")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        name, framework, device, iterations, passes = args.worker
        return worker(name, framework, device, int(iterations), int(passes))

    with_torch = not args.no_torch and torch_available()
    if not with_torch and not args.no_torch:
        print("PyTorch is not installed: timing minigrad only (pip install torch to compare).")
    default_iterations = {"mlp_gan": 30, "dcgan": 6, "book_batch1": 200}
    results = {}
    for name in args.workloads:
        iterations = args.iterations or default_iterations[name]
        print(f"{name}: {args.rounds} rounds{', alternating with torch' if with_torch else ''} ...", flush=True)
        mine, theirs = [], []
        for _ in range(args.rounds):
            mine.append(measure(name, "minigrad", args.device, iterations, PASSES))
            if with_torch:
                theirs.append(measure(name, "torch", args.device, iterations, PASSES))
        results[name] = (combine_rounds(mine), combine_rounds(theirs) if with_torch else None)
    peak = sgemm_peak()
    lines = [f"Measured {time.strftime('%Y-%m-%d')} with `python -m benchmarks.run"
             f"{' --device cuda' if args.device == 'cuda' else ''}` (median of {args.rounds} rounds, "
             f"each in a fresh process, minigrad's and PyTorch's alternating; float32).", ""]
    lines += environment(args.device, with_torch)
    lines += [f"- NumPy sgemm peak (1024³ float32 matmul): {peak:.0f} GFLOP/s", ""]
    lines += table(results, args.device, peak)
    lines += ["", MEMORY_NOTES[args.device]]
    print("\n".join(lines))
    if not args.no_write:
        write_docs(args.device, lines)


if __name__ == "__main__":
    main()
