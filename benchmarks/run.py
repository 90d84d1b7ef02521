"""Time minigrad against PyTorch on the seed GANs, and write the table to docs/performance.md.

    python -m benchmarks.run                      # CPU, all workloads, torch too if installed
    python -m benchmarks.run --device cuda        # CuPy against PyTorch CUDA
    python -m benchmarks.run --workloads dcgan --iterations 20 --no-write
    python -m benchmarks.run --threads 1          # both frameworks on one core
    python -m benchmarks.run --peers              # also the peer table (JAX, MyGrad, ...)

Each round runs in its own fresh Python process (warm-up iterations, then three timed
passes, of which it reports the median), so that one framework's threads, caches and memory never affect the
other's numbers. The two frameworks' rounds alternate, minigrad, PyTorch, minigrad, ...,
so that a slow spell of a shared machine hits both alike; the median round gives
ms/iteration, and the ratio's range over the paired rounds shows how steady it was.
Also reported: the matmul FLOPs per iteration and the rate they imply (FLOPs / time),
against a NumPy float32 matmul (sgemm) peak measured in the same run, and peak memory;
the time of each part of a step (forward, backward, optimiser) for each framework; and,
with --peers, the same step in other frameworks (benchmarks/peers.py).

Threads: --threads N (default: every core) gives each worker process N threads for
everything: NumPy's BLAS and minigrad's pool (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
MINIGRAD_NUM_THREADS), torch.set_num_threads(N), and XLA's for JAX.
"""

import argparse
import contextlib
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
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"mlp_gan": 0.95, "dcgan": 1.15, "book_batch1": 0.5, "wgan_gp": 1.0}
FRAMEWORKS = ("minigrad", "minigrad-compiled", "torch")  # minigrad-compiled: the step through mg.compile
CUDA_TARGET = 1.5


def gpu_name():
    """The GPU's name (through CuPy, the backend's array module for 'cuda')."""
    from minigrad import backend
    return backend.array_module("cuda").cuda.runtime.getDeviceProperties(0)["name"].decode()


def worker(workload_name, framework, device, iterations, passes, threads=None):
    """Runs in a child process: build one workload, time it, print one JSON line."""

    if framework == "torch":
        import torch as fw
    else:
        import minigrad as fw
    if threads:
        fw.set_num_threads(threads)
    from benchmarks.workloads import WORKLOADS

    baseline_rss = _current_rss_kb()
    fw.manual_seed(0)
    workload = WORKLOADS[workload_name](fw, device)
    sync = _synchronizer(framework, device)
    compiled = framework == "minigrad-compiled"
    if compiled:  # calls 1-3: eager, then two recorded calls and the tape built (minigrad/compile.py)
        workload.step = fw.compile(workload.step)
    start = time.perf_counter()
    for _ in range(3):
        workload.step()
    sync()
    first_calls_ms = (time.perf_counter() - start) * 1e3
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
        "first_calls_ms": first_calls_ms,
        "flops": workload.matmul_flops(),
        "memory_mb": _peak_memory_mb(workload, framework, device, baseline_rss),
    }
    if compiled:
        result["replayed"] = workload.step.refused is None
    else:  # a replayed step has no parts to time
        result["parts"] = _parts_ms(workload, sync, iterations)
    print(json.dumps(result))


def _parts_ms(workload, sync, iterations):
    """ms per step in forward, backward and optimiser, from `iterations` more steps, each part timed."""
    from benchmarks.workloads import PartTimer
    timer = PartTimer(workload, sync)
    for _ in range(iterations):
        workload.step()
    parts = timer.ms_per_step(iterations)
    workload.part = lambda name: contextlib.nullcontext()
    return parts


def _peak_memory_mb(workload, framework, device, baseline_rss):
    """Peak memory of the run so far, measured as MEMORY_NOTES says for this device."""
    framework = "minigrad" if framework == "minigrad-compiled" else framework
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


def thread_environment(threads):
    """The environment of a worker process that may use `threads` threads (None: the defaults)."""
    env = dict(os.environ)
    if threads:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "MINIGRAD_NUM_THREADS"):
            env[name] = str(threads)
        if threads == 1:  # XLA (JAX) has its own pool: single-threaded Eigen
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
                                "intra_op_parallelism_threads=1").strip()
    return env


def measure(workload, framework, device, iterations, passes, threads=None):
    """Run `worker` in a fresh process and return its result (or None if it failed)."""
    command = [sys.executable, "-m", "benchmarks.run", "--worker", workload, framework, device,
               str(iterations), str(passes), str(threads or 0)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=thread_environment(threads))
    if done.returncode != 0:
        print(f"  {workload}/{framework} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


PASSES = 3  # timed passes per process


def combine_rounds(rounds):
    """One result from the rounds, each from its own process (None if any failed)."""
    if not rounds or any(r is None for r in rounds):
        return None
    combined = {"ms": statistics.median(r["ms"] for r in rounds),
                "rounds_ms": [r["ms"] for r in rounds], "flops": rounds[0]["flops"],
                "memory_mb": max(r["memory_mb"] for r in rounds)}
    if all("first_calls_ms" in r for r in rounds):
        combined["first_calls_ms"] = statistics.median(r["first_calls_ms"] for r in rounds)
    if any("replayed" in r for r in rounds):
        combined["replayed"] = all(r.get("replayed") for r in rounds)
    if all("parts" in r for r in rounds):
        combined["parts"] = {name: statistics.median(r["parts"][name] for r in rounds) for name in rounds[0]["parts"]}
    return combined


def sgemm_peak(threads=None):
    """Best float32 matmul rate of NumPy's BLAS on 1024x1024 matrices, in GFLOP/s (on `threads` threads)."""
    if threads:
        with threadpool_limits(limits=threads, user_api="blas"):
            return sgemm_peak()
    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    a @ a
    best = min(_time(lambda: a @ a) for _ in range(10))
    return 2 * 1024 ** 3 / best / 1e9


def _time(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def cuda_available():
    from minigrad import backend
    return backend.cuda_available()


def torch_available():
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0


def environment(device, with_torch, threads=None):
    lines = [f"- machine: {_cpu_name()} ({_cpu_flags()}), {os.cpu_count()} cores visible; "
             f"Python {platform.python_version()}"]
    lines.append(f"- NumPy {np.__version__} ({_blas_name()}; {_blas_kernel()}); threads for minigrad's pool "
                 f"(which cuts its matrix products; NumPy's BLAS held to one thread) and PyTorch: "
                 f"{threads or 'default (all cores)'}")
    if with_torch:
        info = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__, torch.get_num_threads())"],
                              capture_output=True, text=True, env=thread_environment(threads)).stdout.split()
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


def _cpu_flags():
    """The vector extensions the CPU reports (what NumPy's and the BLAS's kernels can use)."""
    try:
        flags = re.search(r"flags\s*:\s*(.*)", Path("/proc/cpuinfo").read_text()).group(1).split()
    except (OSError, AttributeError):
        return "flags unknown"
    wanted = ("avx512f", "avx512_bf16", "avx512_vnni", "avx2", "fma")
    return " ".join(flag for flag in wanted if flag in flags) or "no AVX"


def _blas_kernel():
    """The BLAS library's kernel as threadpoolctl reports it (e.g. OpenBLAS 'SkylakeX')."""
    blas = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    if not blas:
        return "kernel unknown"
    return f"{blas[0].get('internal_api')} kernel {blas[0].get('architecture')}"


def _blas_name():
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:
        return "BLAS unknown"


def table(results, device, peak):
    """The markdown table: for each workload (minigrad, minigrad compiled, PyTorch) results. The
    share of the NumPy sgemm peak is shown on the CPU only; a target is met when the faster of
    minigrad's two ways is within it."""
    target_of = (lambda name: CUDA_TARGET) if device == "cuda" else TARGETS.get
    rate_header = "minigrad GFLOP/s" + (" (share of sgemm peak)" if device == "cpu" else "")
    rows = ["| workload | minigrad ms/iter | compiled ms/iter | PyTorch ms/iter | minigrad ÷ PyTorch (range over rounds) "
            "| compiled ÷ PyTorch (range) | target | met? "
            f"| matmul GFLOP/iter | {rate_header} | PyTorch GFLOP/s | minigrad peak memory | PyTorch peak memory |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, (mine, compiled, theirs) in results.items():
        if mine is None:
            rows.append(f"| {name} | failed | | | | | | | | | | | |")
            continue
        gflop = mine["flops"] / 1e9
        rate = gflop / (mine["ms"] / 1e3)
        rate_cell = f"{rate:.0f}" + (f" ({rate / peak:.0%})" if device == "cpu" else "")
        compiled_cell = ("" if compiled is None else f"{compiled['ms']:.2f}"
                         + ("" if compiled.get("replayed", True) else " (eager: refused)"))
        if theirs:
            ratios = [_ratio_cell(result, theirs) for result in (mine, compiled)]
            best = min(result["ms"] for result in (mine, compiled) if result) / theirs["ms"]
            target = target_of(name)
            verdict = "yes" if best <= target else "**no**"
            rows.append(f"| {name} | {mine['ms']:.2f} | {compiled_cell} | {theirs['ms']:.2f} | {ratios[0]} | {ratios[1]} "
                        f"| ≤ {target} | {verdict} | {gflop:.3f} | {rate_cell} | {gflop / (theirs['ms'] / 1e3):.0f} "
                        f"| {mine['memory_mb']:.0f} MB | {theirs['memory_mb']:.0f} MB |")
        else:
            rows.append(f"| {name} | {mine['ms']:.2f} | {compiled_cell} | (no torch) | | | | | {gflop:.3f} | {rate_cell} "
                        f"| | {mine['memory_mb']:.0f} MB | |")
    return rows


def _ratio_cell(result, theirs):
    """'**median ratio** (lowest–highest ratio of the paired rounds)', or empty without a result."""
    if result is None:
        return ""
    paired = [a / b for a, b in zip(result["rounds_ms"], theirs["rounds_ms"])]
    return f"**{result['ms'] / theirs['ms']:.2f}** ({min(paired):.2f}–{max(paired):.2f})"


def cache_worker():
    """Runs in a child process: seconds to import minigrad, and ms for the first three book_batch1
    calls (where numba compiles its kernels, or loads them from its cache)."""
    start = time.perf_counter()
    import minigrad as fw
    from benchmarks.workloads import WORKLOADS
    imported = time.perf_counter() - start
    fw.manual_seed(0)
    workload = WORKLOADS["book_batch1"](fw)
    start = time.perf_counter()
    for _ in range(3):
        workload.step()
    print(json.dumps({"import_s": imported, "first_calls_ms": (time.perf_counter() - start) * 1e3,
                      "compiled_kernels": fw.kernels.COMPILED}))


def numba_cache_figures():
    """The first calls in a fresh process with numba's cache empty, then with it filled (a folder of
    its own, NUMBA_CACHE_DIR): what a new install pays once, and every later process."""
    import tempfile
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        figures = []
        for _ in range(2):
            done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--cache-worker"], cwd=ROOT, env=env,
                                  capture_output=True, text=True)
            if done.returncode != 0:
                return [f"(the cache measurement failed: {done.stderr.strip().splitlines()[-1:]})"]
            figures.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if not figures[0]["compiled_kernels"]:
        return ["numba is not in use (not installed, or MINIGRAD_KERNELS=numpy): no kernels to compile."]
    (cold, warm) = figures
    return ["| numba's cache | import minigrad (s) | book_batch1: first 3 calls (ms) |", "|---|---|---|",
            f"| empty (the kernels compiled) | {cold['import_s']:.2f} | {cold['first_calls_ms']:.0f} |",
            f"| filled (the kernels loaded) | {warm['import_s']:.2f} | {warm['first_calls_ms']:.0f} |"]


def capture_table(results):
    """What the first calls cost: an eager step's first three calls, and a compiled step's (call 1
    eager, calls 2 and 3 recorded, then the tape built)."""
    rows = ["| workload | minigrad: first 3 calls (ms) | compiled: first 3 calls (ms) | compiled: one replayed call (ms) |",
            "|---|---|---|---|"]
    for name, (mine, compiled, _) in results.items():
        if mine and compiled and "first_calls_ms" in compiled:
            rows.append(f"| {name} | {mine['first_calls_ms']:.1f} | {compiled['first_calls_ms']:.1f} "
                        f"| {compiled['ms']:.2f} |")
    return rows


def parts_table(results):
    """ms per step in each part, for each framework: where each spends its time."""
    rows = ["| workload | framework | forward | backward | optimiser | sum of parts |", "|---|---|---|---|---|---|"]
    for name, (mine, _, theirs) in results.items():
        for framework, result in (("minigrad", mine), ("PyTorch", theirs)):
            if result and "parts" in result:
                parts = result["parts"]
                cells = " | ".join(f"{parts[p]:.2f}" for p in ("forward", "backward", "optimiser"))
                rows.append(f"| {name} | {framework} | {cells} | {sum(parts.values()):.2f} |")
    return rows


def peer_table(peer_results):
    """Rows: peers; per step: median ms (range over rounds) and the ratio to PyTorch's median."""
    from benchmarks import peers
    header = "| framework | " + " | ".join(f"{step} ms/step (range) | ÷ PyTorch" for step in peers.STEPS) + " |"
    rows = [header, "|---" * (1 + 2 * len(peers.STEPS)) + "|"]
    reference = {step: peer_results.get(("PyTorch", step)) for step in peers.STEPS}
    notes = []
    for peer in peers.PEERS:
        cells = []
        for step in peers.STEPS:
            rounds = peer_results.get((peer, step)) or []
            times = [r["ms"] for r in rounds if "ms" in r]
            missing = [r["missing"] for r in rounds if "missing" in r]
            if times and not missing:
                ms = statistics.median(times)
                theirs = [r["ms"] for r in reference[step] or [] if "ms" in r]
                ratio = f"{ms / statistics.median(theirs):.2f}" if theirs else ""
                cells += [f"{ms:.2f} ({min(times):.2f}–{max(times):.2f})", ratio]
            else:
                cells += ["missing", ""]
                if missing and f"{peer}: {missing[0]}" not in notes:
                    notes.append(f"{peer}: {missing[0]}")
        rows.append(f"| {peer} | " + " | ".join(cells) + " |")
    return rows + ([""] + [f"- missing: {note}" for note in notes] if notes else [])


def peer_worker(peer, step, threads):
    """Runs in a child process: time one peer on one step, print one JSON line (never fails)."""
    from benchmarks import peers
    try:
        if threads and peer == "PyTorch":
            import torch
            torch.set_num_threads(threads)
        if threads and peer.startswith("minigrad"):
            import minigrad
            minigrad.set_num_threads(threads)
        result = {"ms": peers.time_peer(peer, step)}
    except Exception as error:  # a missing or broken peer is a row of the table, not a failure
        message = str(error).strip().splitlines()[0][:160] if str(error).strip() else ""
        result = {"missing": f"{type(error).__name__}: {message}"}
    print(json.dumps(result))


def measure_peers(rounds, threads):
    """{(peer, step): [result per round]}; the peers' rounds alternate, each in a fresh process."""
    from benchmarks import peers
    results = {}
    for round_index in range(rounds):
        for step in peers.STEPS:
            for peer in peers.PEERS:
                if round_index > 0 and any("missing" in r for r in results[(peer, step)]):
                    continue  # missing once is missing
                command = [sys.executable, "-m", "benchmarks.run", "--peer-worker", peer, step, str(threads or 0)]
                done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                      env=thread_environment(threads))
                lines = done.stdout.strip().splitlines()
                result = json.loads(lines[-1]) if done.returncode == 0 and lines else \
                    {"missing": f"the process failed: {done.stderr.strip().splitlines()[-1:] or ''}"}
                results.setdefault((peer, step), []).append(result)
                print(f"  {peer} {step}: {result}", flush=True)
    return results


def write_docs(device, lines, path=None):
    """Replace this section (a device, or "peers"; ":threads=N" for a thread count) of
    docs/performance.md, keeping everything else. A thread count's first run puts its section, under
    a heading of its own, right after the default section it varies; any other new section goes
    at the end."""
    path = path or ROOT / "docs" / "performance.md"
    start, end = f"<!-- benchmark:{device}:start -->", f"<!-- benchmark:{device}:end -->"
    block = "\n".join([start] + lines + [end])
    text = path.read_text() if path.exists() else "# Performance\n"
    base, _, threads = device.partition(":threads=")
    after = f"<!-- benchmark:{base}:end -->"
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    elif threads and after in text:
        cut = text.index(after) + len(after)
        heading = f"### The same, every framework on {'one thread' if threads == '1' else threads + ' threads'}"
        text = text[:cut] + f"\n\n{heading}\n\n{block}" + text[cut:]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--workloads", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--iterations", type=int, default=None, help="iterations per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true", help="time minigrad only")
    parser.add_argument("--no-write", action="store_true", help="print, but don't update docs/performance.md")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every framework in every worker (default: all cores)")
    parser.add_argument("--peers", action="store_true", help="also time the peer frameworks (benchmarks/peers.py)")
    parser.add_argument("--peers-only", action="store_true", help="only the peer table")
    parser.add_argument("--peer-rounds", type=int, default=3)
    parser.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    parser.add_argument("--peer-worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--cache-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cache_worker:
        return cache_worker()
    if args.worker:
        name, framework, device, iterations, passes, threads = args.worker
        return worker(name, framework, device, int(iterations), int(passes), int(threads) or None)
    if args.peer_worker:
        peer, step, threads = args.peer_worker
        return peer_worker(peer, step, int(threads) or None)
    if args.peers_only:
        return run_peers(args)
    if args.device == "cuda" and not cuda_available():
        parser.exit(2, "benchmarks.run: --device cuda needs CuPy and an NVIDIA GPU, and CuPy sees none here "
                       "(pip install \"minigrad[gpu]\" on a machine with one)\n")

    with_torch = not args.no_torch and torch_available()
    if not with_torch and not args.no_torch:
        print("PyTorch is not installed: timing minigrad only (pip install torch to compare).")
    default_iterations = {"mlp_gan": 30, "dcgan": 6, "book_batch1": 200, "wgan_gp": 10}
    results = {}
    for name in args.workloads:
        iterations = args.iterations or default_iterations[name]
        print(f"{name}: {args.rounds} rounds{', alternating with torch' if with_torch else ''} ...", flush=True)
        rounds = {framework: [] for framework in FRAMEWORKS}
        for _ in range(args.rounds):
            for framework in FRAMEWORKS[:2] + (FRAMEWORKS[2:] if with_torch else ()):
                rounds[framework].append(measure(name, framework, args.device, iterations, PASSES, args.threads))
        results[name] = tuple(combine_rounds(rounds[framework]) if rounds[framework] else None
                              for framework in FRAMEWORKS)
    peak = sgemm_peak(args.threads)
    lines = [f"Measured {time.strftime('%Y-%m-%d')} with `python -m benchmarks.run"
             f"{' --device cuda' if args.device == 'cuda' else ''}{f' --threads {args.threads}' if args.threads else ''}` "
             f"(median of {args.rounds} rounds, "
             f"each in a fresh process, minigrad's, minigrad's through mg.compile and PyTorch's alternating; "
             f"float32).", ""]
    lines += environment(args.device, with_torch, args.threads)
    lines += [f"- NumPy sgemm peak (1024³ float32 matmul): {peak:.0f} GFLOP/s", ""]
    lines += table(results, args.device, peak)
    lines += ["", MEMORY_NOTES[args.device], "",
              "Where each spends a step (ms, median over the rounds; each part timed around its calls, "
              "so the sum is a little above the untimed step):", ""]
    lines += parts_table(results)
    lines += ["", "What capture costs: the first three calls of a step, eager and through mg.compile (call 1 "
              "eager, calls 2 and 3 recorded and compared, the tape built; numba's kernels already compiled and "
              "cached, see below), and one replayed call after them:", ""]
    lines += capture_table(results)
    if args.device == "cpu":
        lines += ["", "numba's kernels are compiled on their first call and kept in its cache (`__pycache__`, or "
                  "`NUMBA_CACHE_DIR`), and numba itself is imported at the first kernel, so the first calls include "
                  "its import (about 0.2 s); a fresh process with the cache empty, then one with it filled:", ""]
        lines += numba_cache_figures()
    print("\n".join(lines))
    if not args.no_write:
        write_docs(section_name(args.device, args.threads), lines)
    if args.peers:
        run_peers(args)


def section_name(device, threads):
    """The docs section a run writes: one per device, and one per explicit thread count."""
    return device if not threads else f"{device}:threads={threads}"


def run_peers(args):
    """Time the peers and write their table (its own section of docs/performance.md)."""
    print(f"peers: {args.peer_rounds} rounds ...", flush=True)
    results = measure_peers(args.peer_rounds, args.threads)
    lines = [f"Measured {time.strftime('%Y-%m-%d')} with `python -m benchmarks.run --peers"
             f"{f' --threads {args.threads}' if args.threads else ''}` (median of {args.peer_rounds} rounds, each "
             f"in a fresh process, the peers alternating; warm-up and compilation excluded; threads: "
             f"{args.threads or 'default (all cores)'}).", ""] + peer_table(results)
    print("\n".join(lines))
    if not args.no_write:
        write_docs(section_name("peers", args.threads), lines)


if __name__ == "__main__":
    main()
