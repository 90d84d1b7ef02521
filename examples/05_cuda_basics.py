"""Book chapter 5: why the GPU matters — the same matrix product three ways.

A 600x600 matrix product by a Python triple loop, by minigrad on the CPU (NumPy's BLAS), and by
minigrad on the GPU (CuPy), printing how many times faster each is. The book measured about
15,000x for the vectorised CPU product over plain Python loops, and 177x for the GPU over the CPU.

Run:  python examples/05_cuda_basics.py [--size 600]     (the Python loop takes about a minute)
"""

import argparse
import time

import minigrad as mg


def best_time(function, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def python_matmul(a, b):
    n, k, m = len(a), len(b), len(b[0])
    out = [[0.0] * m for _ in range(n)]
    for i in range(n):
        row, out_row = a[i], out[i]
        for p in range(k):
            value, b_row = row[p], b[p]
            for j in range(m):
                out_row[j] += value * b_row[j]
    return out


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--size", type=int, default=600)
size = parser.parse_args().size

mg.manual_seed(0)
a, b = mg.rand(size, size), mg.rand(size, size)
lists = a.tolist(), b.tolist()

print(f"{size}x{size} matrix product")
python_seconds = best_time(lambda: python_matmul(*lists), repeats=1)
print(f"  Python triple loop:     {python_seconds * 1e3:10.1f} ms")
cpu_seconds = best_time(lambda: a @ b)
print(f"  minigrad on the CPU:    {cpu_seconds * 1e3:10.3f} ms   ({python_seconds / cpu_seconds:,.0f}x faster than Python)")

if mg.cuda.is_available():
    from minigrad import backend
    a_gpu, b_gpu = a.cuda(), b.cuda()

    def on_gpu():
        a_gpu @ b_gpu
        backend.synchronize()
    on_gpu()  # the first call compiles and allocates
    gpu_seconds = best_time(on_gpu)
    print(f"  minigrad on the GPU:    {gpu_seconds * 1e3:10.3f} ms   ({cpu_seconds / gpu_seconds:,.0f}x faster than the CPU)")
else:
    print("  minigrad on the GPU:    no GPU here (needs CuPy and an NVIDIA GPU: pip install \"minigrad[gpu]\")")
