"""benchmarks/run.py: the table it writes, and one real (tiny) run. No timing is asserted."""

import json

from benchmarks import run


def result(ms_rounds, memory_mb=10.0, flops=2e9):
    return run.combine_rounds([{"ms": ms, "flops": flops, "memory_mb": memory_mb}
                               for ms in ms_rounds])


def test_combine_rounds_takes_the_median_and_keeps_every_round():
    combined = result([30.0, 10.0, 20.0])
    assert combined["ms"] == 20.0
    assert min(combined["rounds_ms"]) == 10.0
    assert combined["rounds_ms"] == [30.0, 10.0, 20.0]


def test_combine_rounds_is_none_when_a_round_failed():
    assert run.combine_rounds([{"ms": 1.0, "flops": 1, "memory_mb": 1}, None]) is None
    assert run.combine_rounds([]) is None


def test_table_row_gives_the_ratio_of_medians_its_range_and_the_verdict():
    mine, theirs = result([8.0, 12.0, 10.0]), result([10.0, 10.0, 20.0])
    rows = run.table({"mlp_gan": (mine, theirs)}, "cpu", peak=400.0)
    row = rows[2]
    # median 10 / median 10 = 1.00; the paired rounds give 0.80, 1.20, 0.50
    assert "| **1.00** (0.50–1.20) | ≤ 0.8 | **no** |" in row
    # 2 GFLOP in 10 ms = 200 GFLOP/s, half of the 400 GFLOP/s peak
    assert "| 200 (50%) |" in row
    assert len(rows[0].split("|")) == len(row.split("|"))


def test_table_on_cuda_has_no_sgemm_share_and_uses_the_cuda_target():
    mine, theirs = result([14.0]), result([10.0])
    row = run.table({"dcgan": (mine, theirs)}, "cuda", peak=400.0)[2]
    assert "(share" not in run.table({}, "cuda", 400.0)[0]
    assert "| **1.40** (1.40–1.40) | ≤ 1.5 | yes |" in row
    assert "%" not in row


def test_table_without_torch_and_with_a_failure():
    rows = run.table({"book_batch1": (result([2.0]), None), "dcgan": (None, None)}, "cpu", peak=100.0)
    assert "(no torch)" in rows[2]
    assert rows[3].startswith("| dcgan | failed |")
    assert all(len(r.split("|")) == len(rows[0].split("|")) for r in rows[2:])


def test_a_worker_times_a_real_workload(capsys):
    run.worker("book_batch1", "minigrad", "cpu", iterations=2, passes=1)
    measured = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert measured["ms"] > 0 and measured["memory_mb"] > 0
    # Batch 1, FLOPs = 2 x multiply-adds. G: 100x200 and 200x784 layers; D: 784x200 and 200x1.
    g1, g2, d1, d2 = 2 * 100 * 200, 2 * 200 * 784, 2 * 784 * 200, 2 * 200 * 1
    generator = (g1 + g2) * 3 + g2               # 3 forwards, weight grads, input grad of layer 2
    discriminator = (d1 + d2) * 6 + d2 * 2 + (d1 + d2)   # see Workload.matmul_flops
    assert measured["flops"] == generator + discriminator == 3_573_200
