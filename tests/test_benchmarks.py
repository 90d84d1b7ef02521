"""benchmarks/run.py: the table it writes, and one real (tiny) run. No timing is asserted."""

import json

import numpy as np
import pytest

import minigrad as mg
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
    mine, compiled, theirs = result([8.0, 12.0, 10.0]), result([7.0, 9.0, 8.5]), result([10.0, 10.0, 20.0])
    rows = run.table({"mlp_gan": (mine, compiled, theirs)}, "cpu", peak=400.0)
    row = rows[2]
    # median 10 / median 10 = 1.00, the paired rounds 0.80, 1.20, 0.50; compiled 8.5 / 10 = 0.85
    # (0.70, 0.90, 0.425): the faster way is judged against the target
    assert "| **1.00** (0.50–1.20) | **0.85** (0.42–0.90) | ≤ 0.95 | yes |" in row
    # 2 GFLOP in 10 ms = 200 GFLOP/s, half of the 400 GFLOP/s peak
    assert "| 200 (50%) |" in row
    assert len(rows[0].split("|")) == len(row.split("|"))
    slow = run.table({"mlp_gan": (mine, result([9.6, 9.6, 9.6]), theirs)}, "cpu", peak=400.0)[2]
    assert "| ≤ 0.95 | **no** |" in slow


def test_table_on_cuda_has_no_sgemm_share_and_uses_the_cuda_target():
    mine, theirs = result([14.0]), result([10.0])
    row = run.table({"dcgan": (mine, None, theirs)}, "cuda", peak=400.0)[2]
    assert "(share" not in run.table({}, "cuda", 400.0)[0]
    assert "| **1.40** (1.40–1.40) |  | ≤ 1.5 | yes |" in row
    assert "%" not in row


def test_table_without_torch_and_with_a_failure():
    rows = run.table({"book_batch1": (result([2.0]), result([1.0]), None), "dcgan": (None, None, None)}, "cpu",
                     peak=100.0)
    assert "| 2.00 | 1.00 | (no torch) |" in rows[2]
    assert rows[3].startswith("| dcgan | failed |")
    assert all(len(r.split("|")) == len(rows[0].split("|")) for r in rows[2:])


def test_a_compiled_worker_replays_the_step_and_reports_its_first_calls(capsys):
    run.worker("book_batch1", "minigrad-compiled", "cpu", iterations=2, passes=1)
    measured = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert measured["replayed"] is True and measured["first_calls_ms"] > 0 and "parts" not in measured
    rows = run.capture_table({"book_batch1": (run.combine_rounds([dict(measured, first_calls_ms=9.0)]),
                                              run.combine_rounds([measured]), None)})
    assert rows[2].startswith("| book_batch1 | 9.0 | ")


def test_a_worker_times_a_real_workload(capsys):
    run.worker("book_batch1", "minigrad", "cpu", iterations=2, passes=1)
    measured = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert measured["ms"] > 0 and measured["memory_mb"] > 0
    # Batch 1, FLOPs = 2 x multiply-adds. G: 100x200 and 200x784 layers; D: 784x200 and 200x1.
    g1, g2, d1, d2 = 2 * 100 * 200, 2 * 200 * 784, 2 * 784 * 200, 2 * 200 * 1
    generator = (g1 + g2) * 3 + g2               # 3 forwards, weight grads, input grad of layer 2
    discriminator = (d1 + d2) * 6 + d2 * 2 + (d1 + d2)   # see Workload.matmul_flops
    assert measured["flops"] == generator + discriminator == 3_573_200


def test_the_critic_step_gives_pytorchs_penalty_and_gradients_from_the_same_weights():
    """The wgan_gp workload runs the same step in both frameworks: from the same critic weights and
    inputs, the penalty and every weight's gradient after the double backward agree."""
    torch = pytest.importorskip("torch")
    import minigrad as mg
    from benchmarks.workloads import WORKLOADS
    # Seeded: from some weights a pre-activation lies within rounding of LeakyReLU's kink (with torch
    # seed 4 one of about 1e-8 has opposite signs in the two frameworks) and gradients differ by ~1e-4.
    torch.manual_seed(0)
    mine, theirs = WORKLOADS["wgan_gp"](mg), WORKLOADS["wgan_gp"](torch)
    for name in ("real", "fake", "mix"):
        setattr(mine, name, mg.tensor(getattr(theirs, name).detach().numpy()))
    for a, b in zip(mine.D.parameters(), theirs.D.parameters()):
        a.data = mg.tensor(b.detach().numpy())
    mine.opt_D.step = theirs.opt_D.step = lambda: None  # compare the gradients the step leaves
    penalties = mine.step().item(), theirs.step().item()
    assert penalties[0] == pytest.approx(penalties[1], rel=1e-4)
    for a, b in zip(mine.D.parameters(), theirs.D.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=2e-3, atol=2e-5)


# --- threads, parts, peers ------------------------------------------------------------------------

def test_a_worker_reports_each_part_of_the_step(capsys):
    run.worker("book_batch1", "minigrad", "cpu", iterations=2, passes=1, threads=1)
    parts = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["parts"]
    assert set(parts) == {"forward", "backward", "optimiser"}
    assert all(ms > 0 for ms in parts.values())


def test_the_part_timer_sees_every_part_and_leaves_the_results_alone():
    import minigrad as mg
    from benchmarks.workloads import WORKLOADS, PartTimer
    losses = []
    for timed in (False, True):
        mg.manual_seed(0)
        workload = WORKLOADS["book_batch1"](mg)
        timer = PartTimer(workload) if timed else None
        losses.append([workload.step().item() for _ in range(2)])
    assert losses[0] == losses[1]
    assert set(timer.totals) == {"forward", "backward", "optimiser"}


def test_thread_environment_sets_every_pool():
    env = run.thread_environment(1)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MINIGRAD_NUM_THREADS"):
        assert env[name] == "1"
    assert "intra_op_parallelism_threads=1" in env["XLA_FLAGS"]
    assert "MINIGRAD_NUM_THREADS" not in run.thread_environment(None) or \
        run.thread_environment(None)["MINIGRAD_NUM_THREADS"] == __import__("os").environ["MINIGRAD_NUM_THREADS"]


def test_combine_rounds_takes_the_median_of_each_part():
    rounds = [{"ms": ms, "flops": 1, "memory_mb": 1, "parts": {"forward": ms, "backward": 1.0, "optimiser": 2.0}}
              for ms in (3.0, 1.0, 2.0)]
    assert run.combine_rounds(rounds)["parts"] == {"forward": 2.0, "backward": 1.0, "optimiser": 2.0}
    rows = run.parts_table({"mlp_gan": (run.combine_rounds(rounds), None, None)})
    assert rows[2] == "| mlp_gan | minigrad | 2.00 | 1.00 | 2.00 | 5.00 |"


def test_each_thread_count_writes_its_own_docs_section():
    assert run.section_name("cpu", None) == "cpu"
    assert run.section_name("cpu", 1) == "cpu:threads=1"
    assert run.section_name("peers", 2) == "peers:threads=2"


def test_a_new_thread_count_section_goes_right_after_its_default_section(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\n<!-- benchmark:cpu:start -->\nold\n<!-- benchmark:cpu:end -->\n\n"
                   "## Peer table\n\nprose\n")
    run.write_docs("cpu:threads=2", ["two threads"], doc)
    run.write_docs("cpu:threads=2", ["two threads, again"], doc)  # replaced in place, not added twice
    run.write_docs("cpu", ["new"], doc)
    run.write_docs("cuda", ["gpu"], doc)  # no default section to follow: at the end
    assert doc.read_text() == (
        "# Performance\n\n<!-- benchmark:cpu:start -->\nnew\n<!-- benchmark:cpu:end -->\n\n"
        "### The same, every framework on 2 threads\n\n"
        "<!-- benchmark:cpu:threads=2:start -->\ntwo threads, again\n<!-- benchmark:cpu:threads=2:end -->\n\n"
        "## Peer table\n\nprose\n\n"
        "<!-- benchmark:cuda:start -->\ngpu\n<!-- benchmark:cuda:end -->\n")


def test_peer_table_gives_ratios_to_pytorch_and_reports_a_missing_peer():
    results = {("PyTorch", "mlp_gan"): [{"ms": 10.0}, {"ms": 12.0}, {"ms": 11.0}],
               ("minigrad", "mlp_gan"): [{"ms": 5.5}, {"ms": 6.0}, {"ms": 5.0}],
               ("Chainer", "mlp_gan"): [{"missing": "ModuleNotFoundError: No module named 'chainer'"}]}
    rows = run.peer_table(results)
    assert rows[2].startswith("| PyTorch | 11.00 (10.00–12.00) | 1.00 |")
    assert rows[3].startswith("| minigrad | 5.50 (5.00–6.00) | 0.50 |")
    assert "| Chainer | missing |" in "\n".join(rows)
    assert "- missing: Chainer: ModuleNotFoundError: No module named 'chainer'" in rows
    results[("Chainer", "book_batch1")] = results[("Chainer", "mlp_gan")]  # missing from both: noted once
    assert sum(row.startswith("- missing: Chainer") for row in run.peer_table(results)) == 1


def test_a_peer_worker_never_fails(capsys):
    run.peer_worker("Chainer", "book_batch1", None)  # not importable here, one way or another
    assert "missing" in json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_the_network_spec_holds_the_models_layers_and_weights():
    from benchmarks import peers
    G, D, real, noise, lr, betas = peers.problem("book_batch1")
    assert [layer[0] for layer in G] == ["linear", "leaky_relu", "layer_norm", "linear", "sigmoid"]
    assert G[0][1].shape == (100, 200) and G[0][1].dtype == "float32"   # stored (in, out)
    assert real.shape == (1, 784) and noise.shape == (1, 100) and betas == (0.9, 0.999)
    G, D, *_ = peers.problem("mlp_gan")
    assert [layer[1] for layer in D if layer[0] == "dropout"] == [0.5, 0.5, 0.5]


def test_numpy_adam_matches_minigrads_adam():
    import numpy as np
    import minigrad as mg
    from benchmarks import peers
    rng = np.random.default_rng(0)
    value, grads = rng.standard_normal(50).astype(np.float32), rng.standard_normal((3, 50)).astype(np.float32)
    mine = mg.tensor(value.copy(), requires_grad=True)
    optimizer, theirs, adam = mg.optim.Adam([mine], lr=0.1, betas=(0.5, 0.999)), value.copy(), \
        peers.numpy_adam(0.1, (0.5, 0.999))
    for g in grads:
        mine.grad = mg.tensor(g)
        optimizer.step()
        adam([theirs], [g])
    np.testing.assert_allclose(theirs, mine.array, rtol=1e-6, atol=1e-7)


SLOW = pytest.mark.slow  # JAX and tinygrad compile for 15-30 s here


@pytest.mark.parametrize("peer", [pytest.param("JAX (jit)", marks=SLOW), pytest.param("JAX (no jit)", marks=SLOW),
                                  "HIPS autograd", "MyGrad", pytest.param("tinygrad", marks=SLOW)])
def test_each_installed_peer_does_the_same_batch1_steps_as_minigrad(peer):
    """No timing: from the same weights and inputs, two of the book's steps (batch 1, no dropout)
    move G's first weight as minigrad's workload does, for almost every element (a gradient
    near zero may round to either sign, and Adam's first steps follow that sign)."""
    import numpy as np
    import minigrad as mg
    from benchmarks import peers
    from benchmarks.workloads import WORKLOADS
    pytest.importorskip(peers.MODULE_OF[peer])
    try:
        step = peers.build(peer, "book_batch1")
    except Exception as error:  # e.g. tinygrad without a C compiler
        pytest.skip(f"{peer} cannot run here: {type(error).__name__}: {error}")
    mg.manual_seed(0)
    workload = WORKLOADS["book_batch1"](mg)
    start = workload.G[0].weight.array.T.copy()
    np.testing.assert_array_equal(step.generator_weight(), start)
    for _ in range(2):
        step()
        workload.step()
    ours, theirs = workload.G[0].weight.array.T - start, step.generator_weight() - start
    assert np.mean(np.isclose(theirs, ours, rtol=1e-2, atol=1e-6)) > 0.99


@pytest.mark.skipif(mg.cuda.is_available(), reason="this checks the message on a machine without a GPU")
def test_cuda_benchmark_without_a_gpu_says_so_in_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        run.main(["--device", "cuda", "--no-write"])
    assert stop.value.code == 2
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and "--device cuda needs CuPy and an NVIDIA GPU" in message
